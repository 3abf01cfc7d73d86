/**
 * The in-memory twin of the key stores, beside the in-memory event store: for
 * tests, examples and hosts that keep nothing. It refuses what the real stores
 * refuse (the checks are shared) and copies key bytes in and out, so a caller
 * changing an array it gave or got changes nothing stored, as with a database.
 *
 * Forgetting drops the store's only reference to the key's bytes and zeroes
 * them first: nothing the store holds keeps them, though the JavaScript heap
 * may hold copies a caller made.
 */
import { checkedKeys, checkedSubjects, keyCopy, ownerOf } from "./key-checks.js";
import type { KeyLookup, KeyStore } from "./key-store.js";

export const createInMemoryKeyStore = (): KeyStore => openInMemoryKeyStore().store;

/**
 * The in-memory key store, and `createNow`: `create` done at once (no await),
 * for the in-memory event store to run between its append's condition check
 * and its push. It answers null when every key was stored as given, else what
 * is stored for the subjects given.
 */
export const openInMemoryKeyStore = (): { store: KeyStore; createNow: (keys: ReadonlyMap<string, Uint8Array>) => KeyLookup | null } => {
  // A subject's key, or null once forgotten (its tombstone); no entry: never had one.
  const keys = new Map<string, Uint8Array | null>();
  // The subjects belonging to each subject that has any.
  const belonging = new Map<string, Set<string>>();

  const lookup = (subjects: Iterable<string>): KeyLookup => {
    const found = new Map<string, Uint8Array | null>();
    for (const subject of subjects) {
      const key = keys.get(subject);
      if (key !== undefined) found.set(subject, key === null ? null : keyCopy(key));
    }
    return found;
  };

  /** Stores each key for a subject that has none yet; whether every one was stored as given. */
  const store = (checked: ReadonlyMap<string, Uint8Array>): boolean => {
    let all = true;
    for (const [subject, key] of checked) {
      if (keys.has(subject)) {
        all = false;
        continue;
      }
      const owner = ownerOf(subject);
      // Nothing is created beneath a forgotten subject: a tombstone instead.
      const gone = owner !== null && keys.get(owner) === null;
      if (gone) all = false;
      keys.set(subject, gone ? null : key);
      if (owner !== null) {
        const own = belonging.get(owner);
        if (own === undefined) belonging.set(owner, new Set([subject]));
        else own.add(subject);
      }
    }
    return all;
  };

  const createNow = (given: ReadonlyMap<string, Uint8Array>): KeyLookup | null => {
    const checked = checkedKeys(given);
    return store(checked) ? null : lookup(checked.keys());
  };

  const keyStore: KeyStore = {
    async find(subjects) {
      return lookup(checkedSubjects(subjects));
    },

    async create(given) {
      const checked = checkedKeys(given);
      store(checked);
      return lookup(checked.keys());
    },

    async forget(subjects) {
      const drop = (subject: string): void => {
        keys.get(subject)?.fill(0);
        keys.set(subject, null);
      };
      // Checked subjects come without repeats.
      for (const subject of checkedSubjects(subjects)) {
        drop(subject);
        // And every subject belonging to it.
        for (const own of belonging.get(subject) ?? []) drop(own);
        belonging.delete(subject);
      }
    },

    async close() {},
  };
  return { store: keyStore, createNow };
};
