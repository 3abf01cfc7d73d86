/**
 * The SQLite event store (better-sqlite3): the embedded default, no server.
 *
 * One table. `position` is an AUTOINCREMENT rowid, so positions only grow and are
 * never reused, even after the newest rows are deleted; `(stream, revision)` is
 * unique, so two writers can never both own one revision. Each append is one
 * `BEGIN IMMEDIATE` transaction: SQLite's journal makes it all-or-nothing even
 * when the process is killed mid-append (the WAL frames of an uncommitted
 * transaction are ignored on the next open), and IMMEDIATE takes the write lock
 * before the revision is read, so another process cannot slip in between.
 */
import Database from "better-sqlite3";
import {
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
} from "./event-store.js";
import { expectationHolds } from "./expected-revision.js";
import { keysetPages } from "./keyset-pages.js";
import { type StoredEvent, fromStored, toStoredBatch } from "./mapper.js";

export interface SqliteEventStoreOptions {
  /** A file path, or `":memory:"` for a store that lives as long as the process. */
  readonly path: string;
  /**
   * `"full"` (default): a returned append survives power loss (the WAL is synced
   * on every commit). `"normal"`: it survives the process dying but the last
   * commits may be lost on power loss; faster. Atomicity holds in both.
   */
  readonly durability?: "full" | "normal";
  /** Open an existing store for reading only (audits): no schema change, appends refused. */
  readonly readOnly?: boolean;
}

interface Row {
  readonly position: number | bigint;
  readonly stream: string;
  readonly revision: number | bigint;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream   TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    type     TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    metadata TEXT    NOT NULL,
    UNIQUE (stream, revision)
  );
`;

const DEFAULT_BATCH = 1000;

/** A column as JSON, or the raw text when it is not JSON: the codec then says what is wrong. */
const parseColumn = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const decode = (row: Row) =>
  fromStored(
    { type: row.type, data: parseColumn(row.data), metadata: parseColumn(row.metadata) },
    { stream: row.stream, revision: BigInt(row.revision), position: BigInt(row.position) },
  );

/** Opens (and creates, if needed) the store's database with its schema. */
const open = (options: SqliteEventStoreOptions): Database.Database => {
  if (options.readOnly === true) {
    const db = new Database(options.path, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    return db;
  }
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${options.durability === "normal" ? "NORMAL" : "FULL"}`);
  // Other processes may hold the write lock for a moment; wait rather than fail.
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  return db;
};

export const createSqliteEventStore = (options: SqliteEventStoreOptions): EventStore => {
  const db = open(options);
  const lastRevision = db.prepare<[string], { revision: number | bigint | null }>(
    "SELECT max(revision) AS revision FROM events WHERE stream = ?",
  );
  const insert = db.prepare<[string, number | bigint, string, string, string]>(
    "INSERT INTO events (stream, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)",
  );
  const pageOfAll = db.prepare<[number | bigint, number], Row>(
    "SELECT position, stream, revision, type, data, metadata FROM events WHERE position >= ? ORDER BY position LIMIT ?",
  );
  const pageOfStream = db.prepare<[string, number | bigint, number], Row>(
    "SELECT position, stream, revision, type, data, metadata FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?",
  );

  const append = db.transaction(
    (stream: string, batch: ReadonlyArray<StoredEvent>, expected: ExpectedRevision): AppendResult => {
      const found = lastRevision.get(stream)?.revision;
      const current = found === null || found === undefined ? undefined : BigInt(found);
      if (!expectationHolds(expected, current)) throw new ConcurrencyError(stream, expected, current ?? "no-stream");
      let revision = current ?? -1n;
      let position = 0n;
      for (const event of batch) {
        revision += 1n;
        const info = insert.run(stream, revision, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
        position = BigInt(info.lastInsertRowid);
      }
      return { nextExpectedRevision: revision, position };
    },
  );

  return {
    async appendToStream(stream, events, appendOptions) {
      const batch = toStoredBatch(stream, events);
      return append.immediate(stream, batch, appendOptions?.expectedRevision ?? "any");
    },

    // Paged, so a long read never holds a read transaction open (which would stop
    // WAL checkpoints) and other work interleaves between pages.
    async *readStream(stream: string, readOptions?: ReadStreamOptions) {
      const pages = keysetPages({
        fetch: (from, size) => pageOfStream.all(stream, from, size),
        keyOf: (row) => BigInt(row.revision),
        from: readOptions?.fromRevision ?? 0n,
        pageSize: DEFAULT_BATCH,
        ...(readOptions?.maxCount === undefined ? {} : { maxCount: readOptions.maxCount }),
      });
      for await (const row of pages) yield decode(row);
    },

    async *readAll(readOptions?: ReadAllOptions) {
      const pages = keysetPages({
        fetch: (from, size) => pageOfAll.all(from, size),
        keyOf: (row) => BigInt(row.position),
        from: readOptions?.fromPosition ?? 1n,
        pageSize: readOptions?.batchSize ?? DEFAULT_BATCH,
      });
      for await (const row of pages) yield decode(row);
    },

    async close() {
      db.close();
    },
  };
};
