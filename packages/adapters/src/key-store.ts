/**
 * The key store port: where each data subject's key is kept, so that forgetting
 * the key erases that subject's personal fields everywhere they were ever
 * copied (crypto-shredding). A subject is named like a tag: `account:A1`, or
 * `library:…` for the library's own secrets. A subject may belong to another:
 * `account:A1/loan:L1` (a name with a `/`) belongs to `account:A1` (the part
 * before its first `/`), so one of a patron's loans can be forgotten alone,
 * and forgetting the patron forgets all of them.
 *
 * A key is 32 random bytes, created once and never changed. Forgetting leaves a
 * tombstone: a forgotten subject reads `null` from then on and is never given a
 * key again, nor is any subject belonging to it, so nothing new is ever sealed
 * under a name that was erased.
 *
 * Stores beside each event store implement it (in memory, a table in SQLite, a
 * table in PostgreSQL); a host's KMS can implement it too, and passes the
 * contract suite in `./contract/key-store.ts`.
 */

/** What a key store answers for a subject: its key, `null` once forgotten; absent when it never had one. */
export type KeyLookup = ReadonlyMap<string, Uint8Array | null>;

export interface KeyStore {
  /** The keys of these subjects: a key, `null` when forgotten, no entry when none was ever created. */
  find(subjects: ReadonlyArray<string>): Promise<KeyLookup>;
  /**
   * Stores each given key for a subject that has none yet, all in one go, and
   * answers what is stored afterwards for every subject given: the given key,
   * another process's key when it created one first, or `null` when the
   * subject, or the subject it belongs to, was forgotten (a tombstone stays;
   * nothing is created).
   */
  create(keys: ReadonlyMap<string, Uint8Array>): Promise<KeyLookup>;
  /**
   * Forgets these subjects' keys for good, and the keys of every subject
   * belonging to them, leaving tombstones (also for a subject that never had a
   * key). Idempotent. When it resolves, the key bytes are gone from the store's
   * tables.
   */
  forget(subjects: ReadonlyArray<string>): Promise<void>;
  /** Releases connections and handles the key store opened itself. */
  close(): Promise<void>;
}

/** A key store's own failure: a key of the wrong length, an unreachable database. */
export class KeyStoreError extends Error {
  override readonly name = "KeyStoreError";
}

/** Every key is this long: AES-256. */
export const KEY_BYTES = 32;
