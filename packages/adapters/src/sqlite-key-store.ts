/**
 * The SQLite key store (better-sqlite3): the subjects' keys in a table of their
 * own, `personal_keys`, in the same file as the SQLite event store, so that a
 * host backs up, moves and deletes one file. The event store keeps its layout's
 * version in `PRAGMA user_version`; this store never reads or writes it: its
 * one table is created `IF NOT EXISTS`, whoever opens the file first.
 *
 * A key is `BLOB` of `KEY_BYTES`; a tombstone is the row with `key` NULL and
 * `forgotten_at` set. The table has rowids on purpose: a `WITHOUT ROWID` table
 * is a b-tree of whole rows, whose interior pages keep copies of some rows
 * (keys included) as dividers, and an update of the row does not touch them;
 * a rowid table's interior pages hold rowids only, and its index on `subject`
 * holds subjects and rowids, so a key's bytes live in one leaf cell. A subject
 * belonging to another (`account:A1/loan:L1`) keeps that owner in `owner`
 * (indexed), so forgetting a patron forgets their loans' and holds' keys in the
 * same transaction. Each `create` is one `BEGIN IMMEDIATE` transaction
 * (insert what is missing, then read back what is stored), so two processes
 * creating a key for one subject at once agree on the first one stored. A key is
 * synced to disk before `create` returns (`synchronous = FULL`): a key lost to a
 * power cut after something was sealed under it would lose that data for good.
 * The SQLite event store's own key store stores new keys inside its append's
 * transaction instead (`openSqliteKeyStore`'s `createNow`): a key and the events
 * sealed under it are kept, or lost to a power cut, together.
 *
 * Erasure is of bytes, not only of rows. The store's connection runs with
 * `PRAGMA secure_delete = ON`, so SQLite overwrites a forgotten key's old cell
 * with zeros rather than leaving it in the page's free space; and after each
 * `forget` it checkpoints the write-ahead log into the file and truncates it, so
 * the log's older copies of the page go too. That checkpoint is best effort: a
 * reader of another connection on an older snapshot (an event store paging
 * through a read) makes it report busy, and the older frames then stay in the
 * `-wal` file until a later checkpoint overwrites or truncates it. A host that
 * must be sure runs `PRAGMA wal_checkpoint(TRUNCATE)` once no one is reading
 * (closing the file's last connection does too); `VACUUM` alone is not enough,
 * as it rewrites the file through the log. Copies made outside SQLite (backups,
 * the file system's own) are the host's to expire.
 */
import Database from "better-sqlite3";
import { checkedKeys, checkedSubjects, foundInOneRow, ownerOf } from "./key-checks.js";
import { type KeyLookup, type KeyStore, KeyStoreError } from "./key-store.js";

/**
 * A better-sqlite3 connection (`new Database(path)`), described by the members
 * the key store uses rather than by better-sqlite3's own type: a host's
 * declarations then typecheck without `@types/better-sqlite3`, which the
 * SQLite entry does not ask a host to install.
 */
export interface SqliteConnection {
  readonly name: string;
  readonly open: boolean;
  readonly readonly: boolean;
  readonly inTransaction: boolean;
  pragma(source: string, options?: { readonly simple?: boolean }): unknown;
  prepare(source: string): unknown;
  exec(source: string): unknown;
  transaction(fn: (...args: never[]) => unknown): unknown;
}

/**
 * `path`: the file (the event store's), or `":memory:"`; `readOnly` opens an
 * existing file for reading only (audits: `create` and `forget` refused);
 * `busyTimeoutMs` is how long a write waits for another process's lock (default
 * 5,000). `database`: a connection the host opened (on the event store's file);
 * the key store sets `secure_delete` on it and never closes it.
 */
export type SqliteKeyStoreOptions =
  | { readonly path: string; readonly readOnly?: boolean; readonly busyTimeoutMs?: number }
  | { readonly database: SqliteConnection };

const TABLE = `
  CREATE TABLE IF NOT EXISTS personal_keys (
    subject      TEXT PRIMARY KEY,
    key          BLOB CHECK (key IS NULL OR length(key) = 32),
    created_at   TEXT NOT NULL,
    forgotten_at TEXT,
    owner        TEXT,
    CHECK ((key IS NULL) = (forgotten_at IS NOT NULL))
  );
  CREATE INDEX IF NOT EXISTS personal_keys_owner ON personal_keys (owner) WHERE owner IS NOT NULL;
`;

/** SQLite's clock, to the millisecond, as ISO 8601 text (what the event store's timestamps look like). */
const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

const hasTable = (db: Database.Database): boolean =>
  db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'personal_keys'").get() !== undefined;

/** Opens the connection (or takes the host's), makes the table if it may, and turns on `secure_delete`. */
const open = (options: SqliteKeyStoreOptions): { db: Database.Database; own: boolean; readOnly: boolean; where: string } => {
  if ("database" in options) {
    // What a host can pass here is a better-sqlite3 connection (see SqliteConnection).
    const db = options.database as unknown as Database.Database;
    const where = `on the host's connection to ${db.name}`;
    if (!db.open) throw new KeyStoreError(`the SQLite key store cannot start ${where}: the connection is closed`);
    try {
      db.pragma("secure_delete = ON");
      if (!db.readonly) db.exec(TABLE);
      else if (!hasTable(db)) throw new KeyStoreError(`the SQLite file ${db.name} has no personal_keys table: no key was ever created in it`);
    } catch (error) {
      if (error instanceof KeyStoreError) throw error;
      throw new KeyStoreError(`the SQLite key store cannot start ${where}: ${(error as Error).message}`, { cause: error });
    }
    return { db, own: false, readOnly: db.readonly, where };
  }
  const where = `in ${options.path}`;
  const readOnly = options.readOnly === true;
  let db: Database.Database;
  try {
    db = readOnly ? new Database(options.path, { readonly: true, fileMustExist: true }) : new Database(options.path);
  } catch (error) {
    throw new KeyStoreError(`the SQLite key store cannot open ${options.path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    // Other processes (the event store's too) may hold the write lock for a moment; wait rather than fail.
    db.pragma(`busy_timeout = ${Number(options.busyTimeoutMs ?? 5000)}`);
    db.pragma("secure_delete = ON");
    if (readOnly) {
      if (!hasTable(db)) throw new KeyStoreError(`the SQLite file ${options.path} has no personal_keys table: no key was ever created in it`);
    } else {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.exec(TABLE);
    }
  } catch (error) {
    db.close();
    if (error instanceof KeyStoreError) throw error;
    throw new KeyStoreError(`the SQLite key store cannot start ${where}: ${(error as Error).message}`, { cause: error });
  }
  return { db, own: true, readOnly, where };
};

/** How many subjects one lookup statement asks for. */
const LOOKUP_BATCH = 500;

/** A key as better-sqlite3 binds it: a Buffer over the same bytes (no copy). */
const blob = (key: Uint8Array): Buffer => Buffer.from(key.buffer, key.byteOffset, key.byteLength);

export const createSqliteKeyStore = (options: SqliteKeyStoreOptions): KeyStore => openSqliteKeyStore(options).store;

/**
 * The SQLite key store, and `createNow`: `create`'s inserts without a
 * transaction of their own, for the event store to run inside its append's
 * transaction on the same connection (so a new key and the events sealed under
 * it commit together). It answers null when every key was stored as given, else
 * what is stored for the subjects given; undefined on a read-only connection.
 */
export const openSqliteKeyStore = (
  options: SqliteKeyStoreOptions,
): { store: KeyStore; createNow: ((keys: ReadonlyMap<string, Uint8Array>) => KeyLookup | null) | undefined } => {
  const { db, own, readOnly, where } = open(options);
  // Up to LOOKUP_BATCH subjects in one statement (a JSON array of them), answered in one row: the
  // positions found, each marked `+` (a key) or `-` (a tombstone), and those keys end to end in hex. A
  // read that opens a page of events looks its keys up in one go, and one row is far cheaper to hand
  // over than a row and a Buffer per key.
  const select = db
    .prepare<[string], [string | null, string | null]>(
      `SELECT group_concat(j.key || CASE WHEN p.key IS NULL THEN '-' ELSE '+' END, ','), group_concat(hex(p.key), '')
       FROM json_each(?) j JOIN personal_keys p ON p.subject = j.value`,
    )
    .raw();
  // A subject belonging to a forgotten one is born a tombstone.
  const insert = readOnly
    ? undefined
    : db.prepare<[{ subject: string; key: Buffer; owner: string | null }]>(
        `INSERT INTO personal_keys (subject, key, created_at, owner)
         SELECT @subject, @key, ${NOW}, @owner WHERE NOT EXISTS (SELECT 1 FROM personal_keys WHERE subject = @owner AND key IS NULL)
         ON CONFLICT (subject) DO NOTHING`,
      );
  const bornForgotten = readOnly
    ? undefined
    : db.prepare<[string, string]>(
        `INSERT INTO personal_keys (subject, key, created_at, forgotten_at, owner) VALUES (?, NULL, ${NOW}, ${NOW}, ?) ON CONFLICT (subject) DO NOTHING`,
      );
  // A tombstone keeps the moment the subject was first forgotten.
  const tombstone = readOnly
    ? undefined
    : db.prepare<[string, string | null]>(
        `INSERT INTO personal_keys (subject, key, created_at, forgotten_at, owner) VALUES (?, NULL, ${NOW}, ${NOW}, ?)
         ON CONFLICT (subject) DO UPDATE SET key = NULL, forgotten_at = coalesce(forgotten_at, excluded.forgotten_at)`,
      );
  const forgetBelonging = readOnly
    ? undefined
    : db.prepare<[string]>(`UPDATE personal_keys SET key = NULL, forgotten_at = ${NOW} WHERE owner = ? AND key IS NOT NULL`);

  const lookup = (subjects: ReadonlyArray<string>): KeyLookup => {
    const found = new Map<string, Uint8Array | null>();
    for (let i = 0; i < subjects.length; i += LOOKUP_BATCH) {
      const batch = subjects.slice(i, i + LOOKUP_BATCH);
      const [positions, hex] = select.get(JSON.stringify(batch)) ?? [null, null];
      foundInOneRow(found, batch, positions, hex, 0);
    }
    return found;
  };
  // One read transaction, so the answer is one moment of the table.
  const find = db.transaction((subjects: ReadonlyArray<string>) => lookup(subjects));
  /** Stores each key for a subject that has none yet (a tombstone beneath a forgotten subject); whether every one was stored as given. */
  const store = (keys: ReadonlyMap<string, Uint8Array>): boolean => {
    let all = true;
    for (const [subject, key] of keys) {
      const owner = ownerOf(subject);
      if (insert!.run({ subject, key: blob(key), owner }).changes === 0) {
        all = false;
        if (owner !== null) bornForgotten!.run(subject, owner);
      }
    }
    return all;
  };
  const create = db.transaction((keys: ReadonlyMap<string, Uint8Array>) => {
    store(keys);
    return lookup([...keys.keys()]);
  });
  const forget = db.transaction((subjects: ReadonlyArray<string>) => {
    for (const subject of subjects) {
      tombstone!.run(subject, ownerOf(subject));
      forgetBelonging!.run(subject);
    }
  });

  /** Runs `work`, turning the driver's failures into a `KeyStoreError` saying what failed where. */
  const attempt = <A>(what: string, work: () => A): A => {
    try {
      return work();
    } catch (error) {
      throw new KeyStoreError(`the SQLite key store ${where} could not ${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  const refuseWrites = (what: string): void => {
    if (readOnly) throw new KeyStoreError(`the SQLite key store ${where} was opened read-only: it cannot ${what}`);
  };

  const createNow = readOnly
    ? undefined
    : (keys: ReadonlyMap<string, Uint8Array>): KeyLookup | null => {
        if (!db.inTransaction) throw new KeyStoreError(`the SQLite key store ${where}: createNow runs inside a transaction`);
        const checked = checkedKeys(keys);
        return store(checked) ? null : lookup([...checked.keys()]);
      };

  const keyStore: KeyStore = {
    async find(subjects) {
      const checked = checkedSubjects(subjects);
      return attempt(`find the keys of ${checked.length} subjects`, () => find(checked));
    },

    async create(keys) {
      const checked = checkedKeys(keys);
      refuseWrites("create keys");
      if (checked.size === 0) return new Map();
      // IMMEDIATE: the write lock is taken before anything is read, so no other
      // process stores a key between this one's insert and its read back.
      return attempt(`create keys for ${checked.size} subjects`, () => create.immediate(checked));
    },

    async forget(subjects) {
      const checked = checkedSubjects(subjects);
      refuseWrites("forget keys");
      if (checked.length === 0) return;
      attempt(`forget the keys of ${checked.length} subjects`, () => forget.immediate(checked));
      // Best effort, and not part of what `forget` promises: the rows are
      // tombstones already. A reader on an older snapshot makes the checkpoint
      // report busy (after the busy timeout) and leaves older frames in the log;
      // inside a host's open transaction it cannot run at all. Either is fine: the
      // next checkpoint copies the zeroed pages over. Without WAL it does nothing.
      if (!db.inTransaction) {
        try {
          db.pragma("wal_checkpoint(TRUNCATE)");
        } catch {
          // See above: a checkpoint that could not run is not a failed forget.
        }
      }
    },

    async close() {
      if (own && db.open) db.close();
    },
  };
  return { store: keyStore, createNow };
};
