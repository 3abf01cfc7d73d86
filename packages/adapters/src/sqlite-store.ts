/**
 * The SQLite event store (better-sqlite3): the embedded default, no server.
 *
 * Two tables. `events` holds each event (its tags too, as read back), and
 * `position` is an AUTOINCREMENT rowid, so positions only grow and are never
 * reused, even after the newest rows are deleted. `event_tags (tag, position)`
 * is the tag index: one row per tag of each event, its primary key ordered by
 * tag then position, so "the events carrying tag T from position P on" is one
 * range of one b-tree, already in position order. An item with several tags
 * walks the first tag's range and probes the others by key; types are found
 * through an index on `(type, position)`.
 *
 * Each append is one `BEGIN IMMEDIATE` transaction: IMMEDIATE takes the write
 * lock before the condition is read, so no other connection or process can
 * store an event between the check and the insert, and SQLite's journal makes
 * the batch all-or-nothing even when the process is killed mid-append (the WAL
 * frames of an uncommitted transaction are ignored on the next open).
 */
import Database from "better-sqlite3";
import type { Query, QueryItem } from "@linked-accounts/domain/internal";
import {
  type AppendCondition,
  AppendConditionError,
  AppendFailedError,
  type AppendResult,
  type EventLog,
  type NewEvent,
  type ReadAllOptions,
  type ReadOptions,
  type StoredEnvelope,
} from "./event-store.js";
import { keysetPages } from "./keyset-pages.js";
import { type KeysNotStored, type PersonalDataOptions, type SealingEventStore, sealingStore } from "./personal-data.js";
import { createInMemoryKeyStore } from "./in-memory-key-store.js";
import type { KeyLookup } from "./key-store.js";
import { type SqliteConnection, openSqliteKeyStore } from "./sqlite-key-store.js";
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
  /** How long an append waits for another process's write lock before failing, in ms; default 5,000. */
  readonly busyTimeoutMs?: number;
}

/**
 * A row as read: `[position, type, data, metadata, tags]`, the statements in
 * raw mode (an array per row costs less to build than an object with named
 * fields, a tenth of reading a row).
 */
type Row = readonly [position: bigint, type: string, data: string, metadata: string, tags: string];

/** The layout's version, kept in `PRAGMA user_version`. Version 1 (streams and revisions) never set it. */
const SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    type     TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    metadata TEXT    NOT NULL,
    tags     TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
  CREATE TABLE IF NOT EXISTS event_tags (
    tag      TEXT    NOT NULL,
    position INTEGER NOT NULL REFERENCES events (position),
    PRIMARY KEY (tag, position)
  ) WITHOUT ROWID;
  PRAGMA user_version = ${SCHEMA_VERSION};
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
  fromStored({ type: row[1], data: parseColumn(row[2]), metadata: parseColumn(row[3]), tags: parseColumn(row[4]) }, row[0]);

/**
 * A database of the stream layout (version 1) is migrated only while it is
 * empty: its events carry no tags, and which tags an event needs is the
 * domain's knowledge, not the store's. A store holding version-1 events is
 * refused rather than shown as empty.
 */
const migrateFromStreams = (db: Database.Database): void => {
  const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('events')").all();
  if (!columns.some((c) => c.name === "stream")) return;
  const { n } = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM events").get()!;
  if (n > 0)
    throw new Error(
      `This SQLite file holds ${n} events of the stream layout (store version 1), which carry no tags. ` +
        "Re-tag them with the library's import before opening it with this version; nothing was changed.",
    );
  db.exec("DROP TABLE events");
};

/** Opens (and creates or migrates, if needed) the store's database. */
const open = (options: SqliteEventStoreOptions): Database.Database => {
  const busyTimeout = options.busyTimeoutMs ?? 5000;
  if (options.readOnly === true) {
    const db = new Database(options.path, { readonly: true, fileMustExist: true });
    db.pragma(`busy_timeout = ${Number(busyTimeout)}`);
    return db;
  }
  const db = new Database(options.path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.durability === "normal" ? "NORMAL" : "FULL"}`);
    // Other processes may hold the write lock for a moment; wait rather than fail.
    db.pragma(`busy_timeout = ${Number(busyTimeout)}`);
    db.transaction(() => {
      if ((db.pragma("user_version", { simple: true }) as number) < SCHEMA_VERSION) migrateFromStreams(db);
      db.exec(SCHEMA);
    }).immediate();
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
};

/**
 * The SQL selecting the positions of the events matching `items` from a
 * position on, in order, at most a number of them: one sub-select per item,
 * each index-driven and limited, their union ordered and limited again.
 * Values are always parameters; only the shape (how many types and tags) is
 * written into the SQL.
 */
const positionsMatching = (items: ReadonlyArray<QueryItem>): { sql: string; params: (from: bigint, limit: number) => unknown[] } | undefined => {
  // An item with `types: []` matches nothing; `tags: []` asks for no tag.
  const live = items.filter((item) => item.types === undefined || item.types.length > 0);
  if (live.length === 0) return undefined;
  const parts = live.map((item) => {
    const types = item.types ?? [];
    const tags = [...new Set(item.tags ?? [])];
    const inTypes = `(${types.map(() => "?").join(", ")})`;
    if (tags.length === 0)
      return {
        sql: `SELECT position FROM events WHERE position >= ?${types.length > 0 ? ` AND type IN ${inTypes}` : ""} ORDER BY position LIMIT ?`,
        params: (from: bigint, limit: number) => [from, ...types, limit],
      };
    const [first, ...others] = tags;
    return {
      sql:
        `SELECT t.position FROM event_tags t WHERE t.tag = ? AND t.position >= ?` +
        others.map(() => " AND EXISTS (SELECT 1 FROM event_tags o WHERE o.tag = ? AND o.position = t.position)").join("") +
        (types.length > 0 ? ` AND EXISTS (SELECT 1 FROM events e WHERE e.position = t.position AND e.type IN ${inTypes})` : "") +
        " ORDER BY t.position LIMIT ?",
      params: (from: bigint, limit: number) => [first, from, ...others, ...types, limit],
    };
  });
  return {
    sql: `SELECT position FROM (${parts.map((p) => `SELECT position FROM (${p.sql})`).join(" UNION ")}) ORDER BY position LIMIT ?`,
    params: (from, limit) => [...parts.flatMap((p) => p.params(from, limit)), limit],
  };
};

const COLUMNS = "position, type, data, metadata, tags";

/**
 * The SQLite store: its personal data sealed under keys kept in the same file
 * (table `personal_keys`, through the store's own connection), or in
 * `personalData.keys`.
 */
export const createSqliteEventStore = (options: SqliteEventStoreOptions & { readonly personalData?: PersonalDataOptions }): SealingEventStore => {
  const log = createSqliteLog(options);
  if (options.personalData?.keys !== undefined) return sealingStore(log, options.personalData.keys, { ...options.personalData, ownsKeys: false });
  // A file from before sealing, opened to read only, has no key table and nothing sealed: no keys to find.
  if (options.readOnly === true && !hasKeyTable(log.database)) return sealingStore(log, createInMemoryKeyStore(), { ...options.personalData, ownsKeys: true });
  // Its own key table, on its own connection: a new key is stored in the transaction of the append that needs it.
  const { store: keys, createNow } = openSqliteKeyStore({ database: log.database });
  return sealingStore(log, keys, {
    ...options.personalData,
    ownsKeys: true,
    ...(createNow === undefined ? {} : { appendCreatingKeys: (events, condition, newKeys) => log.appendWith(events, condition, () => createNow(newKeys)) }),
  });
};

const hasKeyTable = (db: SqliteConnection): boolean =>
  (db as Database.Database).prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'personal_keys'").get() !== undefined;

/**
 * The log underneath the SQLite store: events as kept, personal fields sealed;
 * its connection; and `appendWith`, its append with `createKeys` run in the
 * same transaction after the condition check: when that answers what is stored
 * instead of null (a key it could not store as given), the transaction commits
 * the keys it stored and no event.
 */
export const createSqliteLog = (
  options: SqliteEventStoreOptions,
): EventLog & {
  readonly database: SqliteConnection;
  appendWith(events: ReadonlyArray<NewEvent<StoredEnvelope>>, condition: AppendCondition | undefined, createKeys: () => KeyLookup | null): Promise<AppendResult | KeysNotStored>;
} => {
  const db = open(options);
  db.defaultSafeIntegers(true);
  const insert = db.prepare<[string, string, string, string]>("INSERT INTO events (type, data, metadata, tags) VALUES (?, ?, ?, ?)");
  const insertTag = options.readOnly === true ? undefined : db.prepare<[string, bigint]>("INSERT INTO event_tags (tag, position) VALUES (?, ?)");
  const pageOfAll = db.prepare<[bigint, number], Row>(`SELECT ${COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`).raw(true);
  const lastPosition = db.prepare<[], { head: bigint | null }>("SELECT max(position) AS head FROM events");

  // One prepared statement per query shape, kept for the store's life (shapes are few: a command's queries).
  const statements = new Map<string, Database.Statement<unknown[], unknown>>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], unknown>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  /** The same, returning rows as arrays (`Row`): its own statement, as `raw` changes a statement for good. */
  const rawStatements = new Map<string, Database.Statement<unknown[], unknown>>();
  const rowsOf = (sql: string) => {
    let statement = rawStatements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], unknown>(sql).raw(true);
      rawStatements.set(sql, statement);
    }
    return statement;
  };

  /** Up to `limit` events matching `query` from `from` on, in position order. */
  const pageOfQuery = (query: Query, from: bigint, limit: number): Row[] => {
    const matching = positionsMatching(query.items);
    if (matching === undefined) return [];
    const sql = `SELECT ${COLUMNS} FROM events WHERE position IN (${matching.sql}) ORDER BY position`;
    return rowsOf(sql).all(...matching.params(from, limit)) as Row[];
  };

  /** The first event after `condition.after` matching its query, or undefined. */
  const firstConflict = (condition: AppendCondition): bigint | undefined => {
    const matching = positionsMatching(condition.failIfEventsMatch.items);
    if (matching === undefined) return undefined;
    const row = prepared(matching.sql).get(...matching.params((condition.after ?? 0n) + 1n, 1)) as { position: bigint } | undefined;
    return row?.position;
  };

  type Appended = AppendResult | KeysNotStored;
  /** `createKeys` runs after the check: when it answers what is stored, the keys it stored commit and no event. */
  const append = db.transaction((batch: ReadonlyArray<StoredEvent>, condition: AppendCondition | undefined, createKeys?: () => KeyLookup | null): Appended => {
    if (condition !== undefined) {
      const conflict = firstConflict(condition);
      if (conflict !== undefined) throw new AppendConditionError(condition, BigInt(conflict));
    }
    const stored = createKeys?.() ?? null;
    if (stored !== null) return { stored };
    let position = 0n;
    for (const event of batch) {
      const info = insert.run(event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), JSON.stringify(event.tags));
      position = BigInt(info.lastInsertRowid);
      for (const tag of event.tags) insertTag!.run(tag, position);
    }
    return { position };
  });

  const appendWith = async (
    events: ReadonlyArray<NewEvent<StoredEnvelope>>,
    condition: AppendCondition | undefined,
    createKeys?: () => KeyLookup | null,
  ): Promise<AppendResult | KeysNotStored> => {
    const batch = toStoredBatch(events);
    if (options.readOnly === true) throw new AppendFailedError("not-appended", new Error(`the SQLite store ${options.path} was opened readonly`));
    try {
      return append.immediate(batch, condition, createKeys);
    } catch (error) {
      if (error instanceof AppendConditionError) throw error;
      // SQLite rolled the transaction back: nothing of the batch was stored, nor any key.
      throw new AppendFailedError("not-appended", error);
    }
  };

  return {
    database: db,
    appendWith,
    async append(events, condition) {
      return (await appendWith(events, condition)) as AppendResult;
    },

    // Paged, so a long read never holds a read transaction open (which would stop
    // WAL checkpoints) and other work interleaves between pages.
    read(query: Query, readOptions?: ReadOptions) {
      return keysetPages({
        fetch: (from, size) => pageOfQuery(query, from, size),
        keyOf: (row) => row[0],
        from: readOptions?.from ?? 1n,
        pageSize: DEFAULT_BATCH,
        map: decode,
        ...(readOptions?.limit === undefined ? {} : { maxCount: readOptions.limit }),
      });
    },

    readAll(readOptions?: ReadAllOptions) {
      return keysetPages({
        fetch: (from, size) => pageOfAll.all(from, size),
        keyOf: (row) => row[0],
        from: readOptions?.from ?? 1n,
        pageSize: readOptions?.batchSize ?? DEFAULT_BATCH,
        map: decode,
      });
    },

    async head() {
      return BigInt(lastPosition.get()?.head ?? 0n);
    },

    async close() {
      db.close();
    },
  };
};

/**
 * Test-only: writes `row` at the end of the SQLite store at `path` through a
 * connection of its own, unchecked, as an older writer or a hand edit would
 * have left it (for the contract's decode-failure tests).
 */
export const plantStoredSqliteEvent = (path: string, row: StoredEvent): void => {
  const raw = new Database(path);
  try {
    raw.pragma("busy_timeout = 5000");
    raw.transaction(() => {
      const { lastInsertRowid } = raw
        .prepare("INSERT INTO events (type, data, metadata, tags) VALUES (?, ?, ?, ?)")
        .run(row.type, JSON.stringify(row.data), JSON.stringify(row.metadata), JSON.stringify(row.tags));
      for (const tag of row.tags) raw.prepare("INSERT INTO event_tags (tag, position) VALUES (?, ?)").run(tag, lastInsertRowid);
    }).immediate();
  } finally {
    raw.close();
  }
};
