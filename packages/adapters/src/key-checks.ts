/**
 * What every key store checks before it touches its storage, so that a refused
 * call stores nothing and every store refuses the same things with the same
 * words: a subject is a non-empty string of at most 300 characters (room for a
 * tag's prefix and an id, and a bound on what a caller can make a store keep),
 * a key is a `Uint8Array` of exactly `KEY_BYTES` bytes.
 */
import { KEY_BYTES, KeyStoreError } from "./key-store.js";

/** The longest subject a store accepts, in UTF-16 code units (JavaScript's `length`). */
export const MAX_SUBJECT_LENGTH = 300;

/** A subject as an error message shows it: quoted, and cut when long. */
const shown = (subject: string): string =>
  subject.length <= 60 ? JSON.stringify(subject) : `${JSON.stringify(subject.slice(0, 60))}… (${subject.length} characters)`;

const checkSubject = (subject: unknown, index: number): string => {
  if (typeof subject !== "string") throw new KeyStoreError(`subject at index ${index} is a ${typeof subject}, not a string`);
  if (subject.length === 0) throw new KeyStoreError(`subject at index ${index} is empty`);
  if (subject.length > MAX_SUBJECT_LENGTH)
    throw new KeyStoreError(`subject ${shown(subject)} is longer than ${MAX_SUBJECT_LENGTH} characters`);
  return subject;
};

/** The subjects, each checked, without repeats (in first-seen order); throws `KeyStoreError` naming the first bad one. */
export const checkedSubjects = (subjects: ReadonlyArray<string>): string[] => {
  if (!Array.isArray(subjects)) throw new KeyStoreError("subjects must be an array of strings");
  return [...new Set(subjects.map(checkSubject))];
};

/**
 * The keys, each checked and copied (so a caller changing its array afterwards
 * changes nothing stored); throws `KeyStoreError` naming the first subject whose
 * key is not `KEY_BYTES` bytes.
 */
export const checkedKeys = (keys: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> => {
  if (typeof (keys as Partial<Iterable<unknown>> | null)?.[Symbol.iterator] !== "function")
    throw new KeyStoreError("keys must be a Map from subject to key");
  const checked = new Map<string, Uint8Array>();
  let index = 0;
  for (const [subject, key] of keys) {
    checkSubject(subject, index++);
    if (!(key instanceof Uint8Array)) throw new KeyStoreError(`the key of subject ${shown(subject)} is not a Uint8Array`);
    if (key.length !== KEY_BYTES)
      throw new KeyStoreError(`the key of subject ${shown(subject)} is ${key.length} bytes long; a key is ${KEY_BYTES} bytes`);
    checked.set(subject, Uint8Array.from(key));
  }
  return checked;
};

/** The subject a subject belongs to (`account:A1` for `account:A1/loan:L1`), or null for one that belongs to none. */
export const ownerOf = (subject: string): string | null => {
  const slash = subject.indexOf("/");
  return slash > 0 ? subject.slice(0, slash) : null;
};

/** A key as handed out: a plain `Uint8Array` of its own (not a driver's Buffer, not the store's copy). */
export const keyCopy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/**
 * A lookup answered in one row, as the SQL key stores answer it: `positions`,
 * the positions in `subjects` (counted from `first`) of the subjects found,
 * comma-separated, each followed by `+` (it has a key) or `-` (a tombstone);
 * `hex`, the keys of the `+` ones end to end, in hex. Adds each to `found`.
 */
export const foundInOneRow = (
  found: Map<string, Uint8Array | null>,
  subjects: ReadonlyArray<string>,
  positions: string | null,
  hex: string | null,
  first: 0 | 1,
): void => {
  if (positions === null || positions === "") return;
  const entries = positions.split(",");
  const bytes = Buffer.from(hex ?? "", "hex");
  let keys = 0;
  for (const entry of entries) if (entry.endsWith("+")) keys++;
  if (bytes.length !== keys * KEY_BYTES) throw new Error(`the lookup answered ${keys} keys in ${bytes.length} bytes`);
  let at = 0;
  for (const entry of entries) {
    const subject = subjects[Number(entry.slice(0, -1)) - first];
    if (subject === undefined) throw new Error(`the lookup answered a position it was not asked for: ${entry}`);
    if (entry.endsWith("-")) found.set(subject, null);
    else {
      found.set(subject, keyCopy(bytes.subarray(at, at + KEY_BYTES)));
      at += KEY_BYTES;
    }
  }
};
