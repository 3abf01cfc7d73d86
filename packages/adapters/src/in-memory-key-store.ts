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
import { checkedKeys, checkedSubjects, keyCopy } from "./key-checks.js";
import type { KeyLookup, KeyStore } from "./key-store.js";

export const createInMemoryKeyStore = (): KeyStore => {
  // A subject's key, or null once forgotten (its tombstone); no entry: never had one.
  const keys = new Map<string, Uint8Array | null>();

  const lookup = (subjects: Iterable<string>): KeyLookup => {
    const found = new Map<string, Uint8Array | null>();
    for (const subject of subjects) {
      const key = keys.get(subject);
      if (key !== undefined) found.set(subject, key === null ? null : keyCopy(key));
    }
    return found;
  };

  return {
    async find(subjects) {
      return lookup(checkedSubjects(subjects));
    },

    async create(given) {
      const checked = checkedKeys(given);
      for (const [subject, key] of checked) if (!keys.has(subject)) keys.set(subject, key);
      return lookup(checked.keys());
    },

    async forget(subjects) {
      for (const subject of checkedSubjects(subjects)) {
        keys.get(subject)?.fill(0);
        keys.set(subject, null);
      }
    },

    async close() {},
  };
};
