/**
 * The PostgreSQL event store (`pg`).
 *
 * Appends run in parallel. What keeps an append's condition exact is a set of
 * transaction-scoped advisory locks scoped to what it touches, taken in key
 * order (so no two appends wait on each other in a cycle): shared on every tag
 * and type it writes and on "any event"; exclusive on what its condition reads:
 * one tag of each item naming tags (every event matching the item carries that
 * tag), each type of an item of types alone, "any event" for an item matching
 * everything. Two appends conflict only when one writes what the other's
 * condition reads; then the second waits for the first to commit, and its check
 * (a statement whose snapshot is taken after its locks) sees it. Nothing
 * matching the condition can be stored between the check and the insert.
 *
 * Why `readAll` never skips or repeats an event (the sequence-gap trap): with
 * appends in parallel, a transaction can draw position 10, another draw 11 and
 * commit first; a reader that read 11 and moved on would never see 10. So every
 * append also holds a gate lock shared, from before it draws a position until
 * its commit is visible (PostgreSQL releases a transaction's locks only after
 * that: xact.c, ProcArrayEndTransaction before ResourceOwnerRelease), and a read
 * fixes its horizon by taking the gate alone for a moment (`read_horizon`):
 * once it has it, every position drawn so far is committed or rolled back, so
 * the last stored position ends a prefix of the position order that no later
 * commit can add to. Reads (`read`, `readAll`) go no further than the horizon
 * fixed when they began, and fix a new one only when they reach it; `head` is
 * the horizon. A read near the end therefore waits for the appends in flight
 * (one append's time), and a long replay takes the gate once per horizon, not
 * per page. Positions may have gaps (a rolled-back append consumes identity
 * values) but a read never sees them filled later.
 *
 * The whole append (locks, condition, insert, commit) is one statement of one
 * round trip, a PL/pgSQL function called in autocommit mode through a named
 * (prepared) statement, so locks are held only for the server's own work. The
 * client computes the lock keys (`lockKeys`) and hands them over sorted; the
 * server only takes them. `bench` measures what that costs.
 * Every process appending to one schema must run a version with the same
 * migrations: an append of an older release does not hold the gate.
 *
 * Tags are a `text[]` column with a GIN index: "carries every tag of T" is
 * `tags @> T`, answered from the index. Its pending list (new entries not yet
 * sorted into it, scanned whole by every search) is kept to 64 kB, so a
 * condition checked right after many appends stays an index lookup. Types have a b-tree on (type, position).
 * Every query is SQL of a fixed shape per query shape, its values parameters.
 *
 * Its network: every client carries an 'error' listener for its whole life, so a
 * connection that dies (idle or busy) never crashes the process; the query in
 * flight fails instead. Connect, statement and lock timeouts bound every wait on
 * the server, and a client-side query timeout bounds a server that accepts TCP
 * and never answers. An append whose connection is lost before the answer came
 * fails with `AppendFailedError("unknown")`: its transaction committed whole or
 * not at all.
 *
 * The schema (tables, function, version) is created and migrated by the store
 * itself, in one transaction under a session-independent advisory lock, so
 * several processes starting at once migrate it exactly once.
 */
import { createHash, hash } from "node:crypto";
import pg from "pg";
import type { Query } from "@linked-accounts/domain/internal";
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
import { createKeysCtes, createKeysValues, createOwnerlessKeysCte, openPostgresKeyStore } from "./postgres-key-store.js";
import { keyCopy } from "./key-checks.js";
import { type StoredEvent, fromStored, toStoredBatch } from "./mapper.js";

/** How long the store waits on the server, in ms; every field has a default. */
export interface PostgresTimeouts {
  /** Opening a connection (TCP, TLS, authentication); default 5,000. */
  readonly connectTimeoutMs?: number;
  /** One statement on the server (`statement_timeout`); default 10,000. */
  readonly statementTimeoutMs?: number;
  /** Waiting for the append lock or any other lock (`lock_timeout`); default 5,000. */
  readonly lockTimeoutMs?: number;
  /**
   * Waiting for the server's answer to one query, measured by the client: what
   * stops a server that accepts TCP and never answers. Default: the statement
   * timeout plus 2,000, so a live server's own timeout answers first.
   */
  readonly queryTimeoutMs?: number;
}

/**
 * `readOnly`: open an existing store for reading only (audits): no migration,
 * appends refused. With a host's own `pool`, the connect and statement timeouts
 * are the pool's own; the lock and query timeouts are applied per query.
 */
export type PostgresEventStoreOptions = (
  | { readonly connectionString: string; readonly schema?: string; readonly readOnly?: boolean }
  | { readonly pool: pg.Pool; readonly schema?: string; readonly readOnly?: boolean }
) &
  PostgresTimeouts;

export const DEFAULT_SCHEMA = "linked_accounts";
const DEFAULT_BATCH = 1000;
/** The SQLSTATE `append_events` raises when the append's condition does not hold. */
const CONDITION_FAILED = "LA409";
/** The SQLSTATE migration 2 raises for a schema holding events of the stream layout. */
const STREAM_LAYOUT_HOLDS_EVENTS = "LA426";
/**
 * Up to how many positions after a condition's position the append walks the
 * events there one by one, by a statement planned once per session; further,
 * it asks a query planned for its values (the tag index, or the walk).
 */
const TAIL_WALK = 200;

/** Migrations, in order; the schema records how many it has run. Never edit one that shipped: add the next. */
const migrations = (schema: string): ReadonlyArray<string> => [
  // 1: the stream layout (streams and expected revisions), as shipped.
  `
  CREATE TABLE ${schema}.events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream   text   NOT NULL,
    revision bigint NOT NULL,
    type     text   NOT NULL,
    data     jsonb  NOT NULL,
    metadata jsonb  NOT NULL,
    CONSTRAINT events_stream_revision UNIQUE (stream, revision)
  );

  CREATE FUNCTION ${schema}.append_to_stream(p_stream text, p_expected text, p_events jsonb)
  RETURNS TABLE (next_expected_revision bigint, last_position bigint)
  LANGUAGE plpgsql AS $fn$
  DECLARE
    v_current bigint;
    v_last bigint;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('linked-accounts:append:${schema}', 0));
    SELECT max(e.revision) INTO v_current FROM ${schema}.events e WHERE e.stream = p_stream;
    IF NOT (CASE p_expected
              WHEN 'any' THEN true
              WHEN 'no-stream' THEN v_current IS NULL
              WHEN 'stream-exists' THEN v_current IS NOT NULL
              ELSE coalesce(v_current = p_expected::bigint, false)
            END) THEN
      RAISE EXCEPTION USING
        ERRCODE = 'LA409',
        MESSAGE = 'wrong expected revision for stream ' || p_stream,
        DETAIL = coalesce(v_current::text, 'no-stream');
    END IF;
    WITH inserted AS (
      INSERT INTO ${schema}.events (stream, revision, type, data, metadata)
      SELECT p_stream, coalesce(v_current, -1) + e.ord, e.value->>'type', e.value->'data', e.value->'metadata'
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord)
      ORDER BY e.ord
      RETURNING events.position
    )
    SELECT max(inserted.position) INTO v_last FROM inserted;
    RETURN QUERY SELECT coalesce(v_current, -1) + jsonb_array_length(p_events), v_last;
  END
  $fn$;
  `,
  // 2: tags, append conditions and parallel appends. Events of the stream layout carry no tags, and
  // which tags an event needs is the domain's knowledge, not the store's: a schema
  // still holding such events is refused (nothing changes) rather than shown empty.
  `
  DO $do$
  DECLARE v_count bigint;
  BEGIN
    SELECT count(*) INTO v_count FROM ${schema}.events;
    IF v_count > 0 THEN
      RAISE EXCEPTION USING
        ERRCODE = '${STREAM_LAYOUT_HOLDS_EVENTS}',
        MESSAGE = 'schema ${schema} holds ' || v_count || ' events of the stream layout (store version 1), which carry no tags; '
          || 're-tag them with the library''s import before opening it with this version; nothing was changed';
    END IF;
  END
  $do$;
  DROP FUNCTION ${schema}.append_to_stream(text, text, jsonb);
  DROP TABLE ${schema}.events;

  CREATE TABLE ${schema}.events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type     text   NOT NULL,
    data     jsonb  NOT NULL,
    metadata jsonb  NOT NULL,
    tags     text[] NOT NULL
  );
  CREATE INDEX events_tags ON ${schema}.events USING gin (tags);
  CREATE INDEX events_type ON ${schema}.events (type, position);

  -- The whole append in one statement; see the comment at the top of postgres-store.ts.
  -- p_condition: null, or {"after": bigint|null, "items": [{"tags": [text], "types": [text]|null}]}.
  -- Appends run in parallel: the one lock every append once took is a gate all
  -- appends hold shared (readers take it alone, for a moment, to fix a horizon),
  -- with locks scoped to what an append writes (shared) and what its condition
  -- reads (exclusive).
  CREATE FUNCTION ${schema}.append_events(p_events jsonb, p_condition jsonb, p_lock_timeout text)
  RETURNS bigint
  LANGUAGE plpgsql AS $fn$
  DECLARE
    v_after bigint;
    v_item jsonb;
    v_tags text[];
    v_types text[];
    v_hit bigint;
    v_conflict bigint;
    v_last bigint;
    v_key bigint;
    v_exclusive boolean;
  BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout, true);
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('linked-accounts:append:${schema}', 0));
    -- Scoped locks, taken in key order (so two appends never wait on each other in a
    -- cycle), each in the stronger mode asked: shared for every tag and type written
    -- and for "any event"; exclusive for what the condition reads: one tag of each
    -- item with tags (an event matching the item carries it), the types of an item
    -- of types alone, "any event" for an item matching everything.
    FOR v_key, v_exclusive IN
      SELECT k, bool_or(x) FROM (
        SELECT hashtextextended('linked-accounts:tag:${schema}:' || t, 0) AS k, false AS x
          FROM jsonb_array_elements(p_events) e, jsonb_array_elements_text(e->'tags') t
        UNION ALL
        SELECT hashtextextended('linked-accounts:type:${schema}:' || (e->>'type'), 0), false FROM jsonb_array_elements(p_events) e
        UNION ALL
        SELECT hashtextextended('linked-accounts:any:${schema}', 0), false
        UNION ALL
        SELECT CASE
                 WHEN jsonb_array_length(i->'tags') > 0 THEN hashtextextended('linked-accounts:tag:${schema}:' || (i->'tags'->>0), 0)
                 ELSE hashtextextended('linked-accounts:any:${schema}', 0)
               END, true
          FROM jsonb_array_elements(coalesce(p_condition->'items', '[]')) i
          WHERE jsonb_array_length(i->'tags') > 0 OR jsonb_typeof(i->'types') IS DISTINCT FROM 'array'
        UNION ALL
        SELECT hashtextextended('linked-accounts:type:${schema}:' || t, 0), true
          FROM jsonb_array_elements(coalesce(p_condition->'items', '[]')) i, jsonb_array_elements_text(i->'types') t
          WHERE jsonb_array_length(i->'tags') = 0 AND jsonb_typeof(i->'types') = 'array'
      ) keys GROUP BY k ORDER BY k
    LOOP
      IF v_exclusive THEN PERFORM pg_advisory_xact_lock(v_key); ELSE PERFORM pg_advisory_xact_lock_shared(v_key); END IF;
    END LOOP;
    IF p_condition IS NOT NULL THEN
      v_after := coalesce((p_condition->>'after')::bigint, 0);
      FOR v_item IN SELECT value FROM jsonb_array_elements(p_condition->'items') LOOP
        v_tags := ARRAY(SELECT jsonb_array_elements_text(v_item->'tags'));
        v_types := CASE WHEN jsonb_typeof(v_item->'types') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(v_item->'types')) END;
        IF cardinality(v_tags) > 0 AND v_types IS NULL THEN
          EXECUTE 'SELECT position FROM ${schema}.events WHERE tags @> $1 AND position > $2 ORDER BY position + 0 LIMIT 1'
            INTO v_hit USING v_tags, v_after;
        ELSIF cardinality(v_tags) > 0 THEN
          EXECUTE 'SELECT position FROM ${schema}.events WHERE tags @> $1 AND concat(type) = ANY ($2) AND position > $3 ORDER BY position + 0 LIMIT 1'
            INTO v_hit USING v_tags, v_types, v_after;
        ELSIF v_types IS NULL THEN
          EXECUTE 'SELECT position FROM ${schema}.events WHERE position > $1 ORDER BY position LIMIT 1'
            INTO v_hit USING v_after;
        ELSE
          EXECUTE 'SELECT position FROM ${schema}.events WHERE type = ANY ($1) AND position > $2 ORDER BY position LIMIT 1'
            INTO v_hit USING v_types, v_after;
        END IF;
        v_conflict := least(v_conflict, v_hit);
      END LOOP;
      IF v_conflict IS NOT NULL THEN
        RAISE EXCEPTION USING
          ERRCODE = '${CONDITION_FAILED}',
          MESSAGE = 'append condition failed',
          DETAIL = v_conflict::text;
      END IF;
    END IF;
    WITH inserted AS (
      INSERT INTO ${schema}.events (type, data, metadata, tags)
      SELECT e.value->>'type', e.value->'data', e.value->'metadata', ARRAY(SELECT jsonb_array_elements_text(e.value->'tags'))
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord)
      ORDER BY e.ord
      RETURNING events.position
    )
    SELECT max(inserted.position) INTO v_last FROM inserted;
    RETURN v_last;
  END
  $fn$;

  -- The read horizon: once no append is in flight (the gate taken alone), every
  -- position drawn so far is committed or rolled back, so the last one stored ends
  -- a prefix of the position order that no later commit can add to.
  CREATE FUNCTION ${schema}.read_horizon(p_lock_timeout text)
  RETURNS bigint
  LANGUAGE plpgsql AS $fn$
  DECLARE
    v_head bigint;
  BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout, true);
    PERFORM pg_advisory_xact_lock(hashtextextended('linked-accounts:append:${schema}', 0));
    SELECT max(position) INTO v_head FROM ${schema}.events;
    RETURN coalesce(v_head, 0);
  END
  $fn$;
  `,
  // 3: the tag index's pending list bounded to 64 kB, PostgreSQL's least (the default is 4 MB).
  // A GIN index files new entries in an unsorted pending list until it outgrows the limit,
  // and every search scans the whole list: an append's condition check, which runs after
  // every append's insert, scanned up to 4 MB of entries each time. Inserts still go
  // through the list (cheap, in bulk); the insert that outgrows it moves it into the index.
  `
  ALTER INDEX ${schema}.events_tags SET (gin_pending_list_limit = 64);
  `,
  // 4: the append takes its lock keys from the client, computed there (see lockKeys) rather than
  // by scanning the events' JSON twice on the server; its condition is checked by a statement
  // planned once per session when the events after its position are few (the usual case: a
  // decision on a fresh read), and by a query planned for its values otherwise; and the events
  // come as [type, data, metadata, tags] with the tags as an array literal (see arrayLiteral),
  // inserted without a subquery per row. The old function goes: an append of an older release
  // fails on the missing function, instead of taking locks under other keys.
  `
  DROP FUNCTION ${schema}.append_events(jsonb, jsonb, text);

  -- p_events: [[type, data, metadata, tags as a text[] literal], ...].
  -- p_locks, p_exclusive: the lock keys in ascending order, and for each whether it is
  -- taken exclusive (what the condition reads) or shared (what the events write).
  -- p_items: null (no condition), or the condition's items, [[tags literal, types literal or null], ...];
  -- p_after: the condition's position (0: from the start).
  CREATE FUNCTION ${schema}.append_events(
    p_events jsonb, p_locks bigint[], p_exclusive boolean[], p_items jsonb, p_after bigint, p_lock_timeout text)
  RETURNS bigint
  LANGUAGE plpgsql AS $fn$
  DECLARE
    v_i integer;
    v_head bigint;
    v_item jsonb;
    v_tags text[];
    v_types text[];
    v_hit bigint;
    v_conflict bigint;
    v_last bigint;
  BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout, true);
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('linked-accounts:append:${schema}', 0));
    FOR v_i IN 1 .. coalesce(cardinality(p_locks), 0) LOOP
      IF p_exclusive[v_i] THEN PERFORM pg_advisory_xact_lock(p_locks[v_i]); ELSE PERFORM pg_advisory_xact_lock_shared(p_locks[v_i]); END IF;
    END LOOP;
    IF p_items IS NOT NULL THEN
      -- Nothing stored after the position: nothing can match (the locks are held, and each
      -- statement's snapshot is taken after them).
      SELECT max(position) INTO v_head FROM ${schema}.events;
      IF v_head > p_after THEN
        FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
          v_tags := (v_item->>0)::text[];
          v_types := (v_item->>1)::text[];
          IF v_head - p_after <= ${TAIL_WALK} THEN
            -- A few events since the position: walk them in position order (the primary key's
            -- range; neither the tag nor the type index can serve this shape), a plan made once.
            SELECT position INTO v_hit FROM ${schema}.events
              WHERE position > p_after AND (tags @> v_tags) IS TRUE AND (v_types IS NULL OR concat(type) = ANY (v_types))
              ORDER BY position LIMIT 1;
          ELSIF cardinality(v_tags) > 0 AND v_types IS NULL THEN
            EXECUTE 'SELECT position FROM ${schema}.events WHERE tags @> $1 AND position > $2 ORDER BY position + 0 LIMIT 1'
              INTO v_hit USING v_tags, p_after;
          ELSIF cardinality(v_tags) > 0 THEN
            EXECUTE 'SELECT position FROM ${schema}.events WHERE tags @> $1 AND concat(type) = ANY ($2) AND position > $3 ORDER BY position + 0 LIMIT 1'
              INTO v_hit USING v_tags, v_types, p_after;
          ELSIF v_types IS NULL THEN
            SELECT min(position) INTO v_hit FROM ${schema}.events WHERE position > p_after;
          ELSE
            EXECUTE 'SELECT position FROM ${schema}.events WHERE type = ANY ($1) AND position > $2 ORDER BY position LIMIT 1'
              INTO v_hit USING v_types, p_after;
          END IF;
          v_conflict := least(v_conflict, v_hit);
        END LOOP;
        IF v_conflict IS NOT NULL THEN
          RAISE EXCEPTION USING
            ERRCODE = '${CONDITION_FAILED}',
            MESSAGE = 'append condition failed',
            DETAIL = v_conflict::text;
        END IF;
      END IF;
    END IF;
    WITH inserted AS (
      INSERT INTO ${schema}.events (type, data, metadata, tags)
      SELECT e.value->>0, e.value->1, e.value->2, (e.value->>3)::text[]
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord)
      ORDER BY e.ord
      RETURNING events.position
    )
    SELECT max(inserted.position) INTO v_last FROM inserted;
    RETURN v_last;
  END
  $fn$;
  `,
  // 5: the append plans its statements once per session. PostgreSQL plans a statement of a
  // function afresh for its values while that looks cheaper than the plan for any values, and
  // the walk of the events after a condition's position always looked so (a range of a few
  // positions against a third of the table): it was planned at every append that walked,
  // about 0.1 ms of the server's time each, for the one plan there is (the primary key's range).
  `
  ALTER FUNCTION ${schema}.append_events(jsonb, bigint[], boolean[], jsonb, bigint, text) SET plan_cache_mode = force_generic_plan;
  `,
];

/** A prepared statement's name, from its text (so one name never stands for two texts). */
const statementName = (text: string): string => `linked-accounts-${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A query with the client-side timeout `pg` takes per query (its types leave it out). */
type TimedQuery = { readonly text: string; readonly values?: unknown[]; readonly name?: string; readonly query_timeout: number };
const timed = <R extends pg.QueryResultRow>(db: pg.Pool | pg.PoolClient, query: TimedQuery): Promise<pg.QueryResult<R>> =>
  db.query<R>(query as unknown as pg.QueryConfig);

/** Swallows a client's 'error' event: the query in flight, if any, fails on its own. */
const ignore = (): void => undefined;
const guard = (client: pg.PoolClient | pg.Client): void => {
  if (!client.listeners("error").includes(ignore)) client.on("error", ignore);
};

/** Creates or migrates the store's schema; safe to run from many processes at once. */
const migrate = async (pool: pg.Pool, schema: string, queryTimeout: number): Promise<void> => {
  const client = await pool.connect();
  guard(client);
  const run = (text: string, values?: unknown[]) => timed(client, { text, query_timeout: queryTimeout, ...(values && { values }) });
  let broken: Error | undefined;
  try {
    await run("BEGIN");
    // Transaction-scoped: released by COMMIT or ROLLBACK, even if this process dies.
    await run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`linked-accounts:migrate:${schema}`]);
    await run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await run(`CREATE TABLE IF NOT EXISTS ${schema}.schema_version (version integer NOT NULL)`);
    const found = await run(`SELECT version FROM ${schema}.schema_version`);
    const current = (found.rows[0] as { version: number } | undefined)?.version ?? 0;
    const steps = migrations(schema);
    for (const step of steps.slice(current)) await run(step);
    if (found.rows.length === 0) await run(`INSERT INTO ${schema}.schema_version VALUES ($1)`, [steps.length]);
    else if (current < steps.length) await run(`UPDATE ${schema}.schema_version SET version = $1`, [steps.length]);
    await run("COMMIT");
  } catch (error) {
    broken = error as Error;
    await run("ROLLBACK").catch(() => undefined);
    if (error instanceof pg.DatabaseError && error.code === STREAM_LAYOUT_HOLDS_EVENTS) throw new Error(error.message, { cause: error });
    throw error;
  } finally {
    client.release(broken);
  }
};

/**
 * A row as read: its position, and the rest as one JSON text (`[type, data,
 * metadata, tags]`) parsed once here. The server writes the JSON (its jsonb
 * columns are already JSON); `pg` would otherwise parse each jsonb column
 * separately and the tags through its array parser, which costs more than
 * the rest of reading.
 */
interface Row {
  readonly position: string;
  readonly doc: string;
}

const decode = (row: Row) => {
  const [type, data, metadata, tags] = JSON.parse(row.doc) as [string, unknown, unknown, unknown];
  return fromStored({ type, data, metadata, tags }, BigInt(row.position));
};

async function* nothing(): AsyncGenerator<never> {}

const isDatabaseError = (error: unknown): error is pg.DatabaseError => error instanceof pg.DatabaseError;

/** What an append's failure is thrown as: its condition refused, or the database failed (saying whether anything may be stored). */
const appendFailure = (error: unknown, condition: AppendCondition | undefined, lockTimeout: number): Error => {
  if (isDatabaseError(error) && error.code === CONDITION_FAILED)
    return new AppendConditionError(condition!, error.detail === undefined ? undefined : BigInt(error.detail));
  if (isDatabaseError(error) && error.code === "55P03")
    return new AppendFailedError(
      "not-appended",
      new Error(`another session held the append lock for longer than the lock timeout (${lockTimeout} ms): ${error.message}`, { cause: error }),
    );
  // PostgreSQL answered with an error: the transaction rolled back. No answer
  // (a lost connection, the client's query timeout): it may have committed.
  return new AppendFailedError(isDatabaseError(error) ? "not-appended" : "unknown", error);
};

/** An item as the append function and the read SQL take it: tags (maybe none) and types (null: any). */
interface NormalItem {
  readonly tags: ReadonlyArray<string>;
  readonly types: ReadonlyArray<string> | null;
}
/**
 * A `text[]` literal of `values`, each element quoted with `"` and `\` escaped
 * (PostgreSQL's array syntax): how an append hands the server an event's tags
 * and an item's tags and types inside its JSON, cast there with `::text[]`.
 */
const arrayLiteral = (values: ReadonlyArray<string>): string => {
  let literal = "{";
  for (let i = 0; i < values.length; i++) literal += `${i === 0 ? "" : ","}"${values[i]!.replace(/[\\"]/g, "\\$&")}"`;
  return `${literal}}`;
};

/**
 * The advisory lock key of `name`: the first 8 bytes of its SHA-256 (UTF-8), a
 * signed big-endian integer; in SQL,
 * `('x' || left(encode(sha256(convert_to(name, 'UTF8')), 'hex'), 16))::bit(64)::bigint`.
 * Every process appending to one schema must derive keys alike (migration 4's
 * append refuses the calls of older releases).
 */
const lockKey = (name: string): bigint => hash("sha256", name, "buffer").readBigInt64BE(0);

/**
 * The locks an append takes after the gate (see the top of this file), in
 * ascending key order, each in the stronger mode asked: shared for every tag
 * and type its events write and for "any event"; exclusive for what its
 * condition reads: one tag of each item with tags (every event matching the
 * item carries it), each type of an item of types alone, "any event" for an
 * item matching everything. Keys are strings for `pg` (a `bigint[]` parameter).
 */
const lockKeys = (
  schema: string,
  anyKey: bigint,
  batch: ReadonlyArray<StoredEvent>,
  items: ReadonlyArray<NormalItem>,
): { keys: string[]; exclusive: boolean[] } => {
  // Each name once, whatever the number of events naming it: true when exclusive.
  const tags = new Map<string, boolean>();
  const types = new Map<string, boolean>();
  let anyExclusive = false;
  for (const event of batch) {
    if (!types.has(event.type)) types.set(event.type, false);
    for (const tag of event.tags) if (!tags.has(tag)) tags.set(tag, false);
  }
  for (const item of items) {
    if (item.tags.length > 0) tags.set(item.tags[0]!, true);
    else if (item.types === null) anyExclusive = true;
    else for (const type of item.types) types.set(type, true);
  }
  const locks: Array<{ key: bigint; exclusive: boolean }> = [{ key: anyKey, exclusive: anyExclusive }];
  for (const [tag, exclusive] of tags) locks.push({ key: lockKey(`linked-accounts:tag:${schema}:${tag}`), exclusive });
  for (const [type, exclusive] of types) locks.push({ key: lockKey(`linked-accounts:type:${schema}:${type}`), exclusive });
  locks.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const keys: string[] = [];
  const exclusive: boolean[] = [];
  let last: bigint | undefined;
  for (const lock of locks) {
    // Two names of one key (a hash collision) are one lock, in the stronger mode.
    if (lock.key === last) exclusive[exclusive.length - 1] ||= lock.exclusive;
    else {
      keys.push(lock.key.toString());
      exclusive.push(lock.exclusive);
      last = lock.key;
    }
  }
  return { keys, exclusive };
};

/** Drops items that match nothing (`types: []`); says whether some item matches everything. */
const normalise = (query: Query): { items: ReadonlyArray<NormalItem>; everything: boolean } => {
  const items = query.items
    .filter((item) => item.types === undefined || item.types.length > 0)
    .map((item) => ({ tags: [...new Set(item.tags ?? [])], types: item.types === undefined ? null : [...item.types] }));
  return { items, everything: items.some((item) => item.tags.length === 0 && item.types === null) };
};

const COLUMNS = "position, json_build_array(type, data, metadata, tags)::text AS doc";

/**
 * The SQL of one page of a query: one OR-ed predicate per item, each value a
 * parameter ($1 is the first position, $2 the page size, $3 the last position
 * to read: the read horizon). When every item names
 * tags, `ORDER BY position + 0` makes the planner find them through the GIN
 * index and sort, rather than walk the primary key hoping to meet them.
 */
const queryPage = (
  schema: string,
  items: ReadonlyArray<NormalItem>,
): { text: string; values: (from: bigint, size: number, horizon: bigint) => unknown[] } => {
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length + 3}`;
  };
  const predicates = items.map((item) => {
    const parts = [
      ...(item.tags.length > 0 ? [`tags @> ${param(item.tags)}::text[]`] : []),
      // With tags, the types are checked on the rows the GIN index found: \`concat(type)\`
      // keeps the planner off the type index, which would walk every event of those types.
      ...(item.types !== null ? [`${item.tags.length > 0 ? "concat(type)" : "type"} = ANY (${param(item.types)}::text[])`] : []),
    ];
    return `(${parts.join(" AND ")})`;
  });
  const allTagged = items.every((item) => item.tags.length > 0);
  return {
    text: `SELECT ${COLUMNS} FROM ${schema}.events WHERE position >= $1 AND position <= $3 AND (${predicates.join(" OR ")})
           ORDER BY position${allTagged ? " + 0" : ""} LIMIT $2`,
    values: (from, size, horizon) => [from.toString(), size, horizon.toString(), ...values],
  };
};

/**
 * Test-only: writes `row` at the end of the store in `schema` through `db`,
 * unchecked, as an older writer or a hand edit would have left it (for the
 * contract's decode-failure tests).
 */
export const plantStoredPostgresEvent = async (
  db: { query(text: string, values: unknown[]): Promise<unknown> },
  schema: string,
  row: StoredEvent,
): Promise<void> => {
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`schema must match ${SCHEMA_NAME}`);
  await db.query(`INSERT INTO ${schema}.events (type, data, metadata, tags) VALUES ($1, $2, $3, $4)`, [
    row.type,
    JSON.stringify(row.data),
    JSON.stringify(row.metadata),
    [...row.tags],
  ]);
};

/**
 * The PostgreSQL store: its personal data sealed under keys kept in the same
 * schema (table `personal_keys`, through the store's pool), or in
 * `personalData.keys`.
 */
export const createPostgresEventStore = async (
  options: PostgresEventStoreOptions & { readonly personalData?: PersonalDataOptions },
): Promise<SealingEventStore> => {
  const log = await createPostgresLog(options);
  if (options.personalData?.keys !== undefined) return sealingStore(log, options.personalData.keys, { ...options.personalData, ownsKeys: false });
  // Its own key table, through its own pool: a new key is stored by the statement of the append that needs it.
  const keyTable = openPostgresKeyStore({ pool: log.pool, schema: options.schema ?? DEFAULT_SCHEMA });
  return sealingStore(log, keyTable.store, {
    ...options.personalData,
    ownsKeys: true,
    appendCreatingKeys: (events, condition, keys) => log.appendWith(events, condition, keys, keyTable),
  });
};

/** The key table `appendWith` stores new keys in: its name and the promise it exists (see postgres-key-store.ts). */
interface KeyTable {
  readonly table: string;
  readonly ready: () => Promise<void>;
}

/**
 * The log underneath the PostgreSQL store: events as kept, personal fields
 * sealed; its pool; and `appendWith`, its append storing new keys in the key
 * table in the same statement, first: when a key cannot be stored as given,
 * the statement appends nothing, keeps the keys it stored, and answers what is
 * stored (for keys of subjects belonging to no other: nothing, see
 * `ownerlessKeyedAppendQuery`).
 */
export const createPostgresLog = async (
  options: PostgresEventStoreOptions,
): Promise<
  EventLog & {
    readonly pool: pg.Pool;
    appendWith(
      events: ReadonlyArray<NewEvent<StoredEnvelope>>,
      condition: AppendCondition | undefined,
      keys: ReadonlyMap<string, Uint8Array>,
      table: KeyTable,
    ): Promise<AppendResult | KeysNotStored>;
  }
> => {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  const connectTimeout = options.connectTimeoutMs ?? 5000;
  const statementTimeout = options.statementTimeoutMs ?? 10_000;
  const lockTimeout = options.lockTimeoutMs ?? 5000;
  const queryTimeout = options.queryTimeoutMs ?? statementTimeout + 2000;
  const ownPool = "connectionString" in options;
  const pool = ownPool
    ? new pg.Pool({
        connectionString: options.connectionString,
        connectionTimeoutMillis: connectTimeout,
        statement_timeout: statementTimeout,
        lock_timeout: lockTimeout,
        query_timeout: queryTimeout,
      })
    : options.pool;
  // An idle client whose backend goes away emits "error" on the pool, a busy one
  // on itself; unheard, either would crash the process. Every client gets a
  // listener as it connects (and, for a host's pool, as the store checks it out).
  const onPoolError = (): void => undefined;
  pool.on("error", onPoolError);
  pool.on("connect", guard);
  const detach = () => {
    pool.off("error", onPoolError);
    pool.off("connect", guard);
  };
  try {
    // Read-only: the schema must exist already; nothing is created or migrated.
    if (options.readOnly === true) await timed(pool, { text: `SELECT version FROM ${schema}.schema_version`, query_timeout: queryTimeout });
    else await migrate(pool, schema, queryTimeout);
  } catch (error) {
    if (ownPool) await pool.end().catch(() => undefined);
    else detach();
    throw error;
  }

  /** The append: one expression of its parameters $1-$6 (`appendValues`), the last position stored (wrapped by `keyedAppendQuery`). */
  const appendCall = `${schema}.append_events($1::jsonb, $2::bigint[], $3::boolean[], $4::jsonb, $5::bigint, $6)`;
  const appendQuery = `SELECT ${appendCall} AS last_position`;
  /**
   * New keys (parameters $7-$9) stored before the append in the same statement,
   * so both commit or neither; the append runs only when every key was stored
   * as given, and otherwise the statement answers what is stored (the
   * statement's snapshot: a key another session stored meanwhile is in
   * neither half, as in the key store's `create`).
   */
  const keyedAppendQuery = (table: string): string => `
    /* ${schema}.append_events after new keys in ${table}: named first, as pg_stat_activity shows only the start of a long statement */
    WITH ${createKeysCtes(table, 7)},
    made AS (SELECT count(*) FILTER (WHERE key IS NOT NULL) = cardinality($7::text[]) AS all_stored FROM inserted),
    stored AS (SELECT subject, key FROM inserted UNION ALL SELECT p.subject, p.key FROM ${table} p JOIN given USING (subject))
    SELECT CASE WHEN made.all_stored THEN ${appendCall} END AS last_position,
           CASE WHEN NOT made.all_stored THEN ARRAY(SELECT subject FROM stored ORDER BY subject) END AS subjects,
           CASE WHEN NOT made.all_stored THEN ARRAY(SELECT key FROM stored ORDER BY subject) END AS keys
    FROM made`;
  /**
   * The same for keys whose subjects belong to no other (a new account's, the
   * usual case): the key insert alone (see `createOwnerlessKeysCte`), about
   * half the server's work of the statement above, beside the plain append's.
   * When a key was not stored as given, it answers nothing more: the caller
   * asks the key store what is stored (another writer's key, or a tombstone:
   * rare).
   */
  const ownerlessKeyedAppendQuery = (table: string): string => `
    /* ${schema}.append_events after new keys of subjects belonging to no other in ${table} */
    WITH ${createOwnerlessKeysCte(table, 7)}
    SELECT CASE WHEN (SELECT count(*) FROM inserted) = cardinality($7::text[]) THEN ${appendCall} END AS last_position`;
  const pageOfAll = `SELECT ${COLUMNS} FROM ${schema}.events WHERE position >= $1 AND position <= $3 ORDER BY position LIMIT $2`;
  /** The read horizon (see the top of this file): every position up to it is settled. */
  const horizon = async (): Promise<bigint> => {
    const text = `SELECT ${schema}.read_horizon($1) AS h`;
    const [row] = (await timed<{ h: string }>(pool, { text, values: [`${lockTimeout}ms`], query_timeout: queryTimeout })).rows;
    return BigInt(row?.h ?? 0);
  };
  /**
   * Pages up to the horizon, fixed when the read starts and moved on when the read
   * reaches it: a read ends at a horizon, never past an append still in flight.
   */
  const upToHorizon = (page: (from: bigint, size: number, horizon: bigint) => Promise<Row[]>) => {
    let known: bigint | undefined;
    return async (from: bigint, size: number): Promise<Row[]> => {
      if (known === undefined || from > known) known = await horizon();
      return from > known ? [] : page(from, size, known);
    };
  };
  /**
   * The page of everything is a named (prepared) statement, parsed and planned
   * once per connection; a query's pages are not (their best plan depends on the
   * tags asked for, which a generic plan would not know).
   */
  const pageOfAllName = statementName(pageOfAll);
  const rows = async (text: string, values: unknown[]): Promise<Row[]> =>
    (await timed<Row>(pool, { ...(text === pageOfAll ? { name: pageOfAllName } : {}), text, values, query_timeout: queryTimeout })).rows;

  const anyKey = lockKey(`linked-accounts:any:${schema}`);
  /** The append's parameters after its SQL's $1: the events, the lock keys and their modes, the condition. */
  const appendValues = (batch: ReadonlyArray<StoredEvent>, condition: AppendCondition | undefined): unknown[] => {
    const items = condition === undefined ? undefined : normalise(condition.failIfEventsMatch).items;
    const { keys, exclusive } = lockKeys(schema, anyKey, batch, items ?? []);
    return [
      JSON.stringify(batch.map((event) => [event.type, event.data, event.metadata, arrayLiteral(event.tags)])),
      keys,
      exclusive,
      items === undefined ? null : JSON.stringify(items.map((item) => [arrayLiteral(item.tags), item.types === null ? null : arrayLiteral(item.types)])),
      (condition?.after ?? 0n).toString(),
      `${lockTimeout}ms`,
    ];
  };

  /** A named statement, prepared once per connection. */
  type Statement = { readonly name: string; readonly text: string };

  /**
   * Runs one append statement on a client of its own, given the batch validated
   * (`values`: its parameters; `first`: what must be ready before a client is
   * taken), and answers its rows.
   */
  const appendStatement = async <R extends pg.QueryResultRow>(
    events: ReadonlyArray<NewEvent<StoredEnvelope>>,
    condition: AppendCondition | undefined,
    statement: Statement,
    values: (batch: ReadonlyArray<StoredEvent>) => unknown[],
    first?: () => Promise<void>,
  ): Promise<R[]> => {
    const batch = toStoredBatch(events);
    if (options.readOnly === true) throw new AppendFailedError("not-appended", new Error(`this PostgreSQL store (schema ${schema}) was opened read-only`));
    let client: pg.PoolClient;
    try {
      await first?.();
      client = await pool.connect();
    } catch (error) {
      throw new AppendFailedError("not-appended", error);
    }
    guard(client);
    try {
      const { rows: answer } = await timed<R>(client, { ...statement, values: values(batch), query_timeout: queryTimeout });
      client.release();
      return answer;
    } catch (error) {
      const refused = isDatabaseError(error) && error.code === CONDITION_FAILED;
      // A refusal leaves the session healthy: keep the connection (reconnecting
      // costs more than the append). Anything else may have broken it: let the
      // pool discard it.
      client.release(refused ? undefined : (error as Error));
      throw appendFailure(error, condition, lockTimeout);
    }
  };

  const plainAppend: Statement = { name: `linked-accounts-append-${schema}`, text: appendQuery };
  const named = (text: string): Statement => ({ name: statementName(text), text });
  /** The keyed append's statements, for the one key table a store writes. */
  let keyed: { readonly table: string; readonly any: Statement; readonly ownerless: Statement } | undefined;
  /** Runs one keyed append statement (see `keyedAppendQuery` and `ownerlessKeyedAppendQuery`). */
  const appendWith = async (
    events: ReadonlyArray<NewEvent<StoredEnvelope>>,
    condition: AppendCondition | undefined,
    keys: ReadonlyMap<string, Uint8Array>,
    { table, ready }: KeyTable,
  ): Promise<AppendResult | KeysNotStored> => {
    if (keyed?.table !== table) keyed = { table, any: named(keyedAppendQuery(table)), ownerless: named(ownerlessKeyedAppendQuery(table)) };
    const [subjects, newKeys, owners] = createKeysValues(keys);
    const ownerless = owners.every((owner) => owner === null);
    const [row] = await appendStatement<{ last_position: string | null; subjects?: string[] | null; keys?: Array<Buffer | null> | null }>(
      events,
      condition,
      ownerless ? keyed.ownerless : keyed.any,
      (batch) => [...appendValues(batch, condition), subjects, newKeys, ...(ownerless ? [] : [owners])],
      ready,
    );
    if (row?.last_position != null) return { position: BigInt(row.last_position) };
    if (ownerless && row !== undefined) return { stored: new Map() };
    if (row?.subjects == null || row.keys == null) throw new AppendFailedError("unknown", new Error("the keyed append returned neither a position nor the keys stored"));
    const stored = new Map<string, Uint8Array | null>();
    row.subjects.forEach((subject, i) => {
      const key = row.keys![i];
      stored.set(subject, key === null || key === undefined ? null : keyCopy(key));
    });
    return { stored };
  };

  return {
    pool,
    appendWith,
    async append(events, condition): Promise<AppendResult> {
      const [row] = await appendStatement<{ last_position: string | null }>(events, condition, plainAppend, (batch) => appendValues(batch, condition));
      const last = row?.last_position;
      if (last === undefined || last === null) throw new AppendFailedError("unknown", new Error("append_events returned no position"));
      return { position: BigInt(last) };
    },

    // Keyset pages, each its own snapshot: sound because every snapshot sees a
    // prefix of the position order (see the top of this file). Each row is decoded
    // as it is yielded, in the one generator that reads the pages.
    read(query: Query, readOptions?: ReadOptions) {
      const { items, everything } = normalise(query);
      if (items.length === 0) return nothing();
      const page = everything
        ? { text: pageOfAll, values: (from: bigint, size: number, until: bigint) => [from.toString(), size, until.toString()] }
        : queryPage(schema, items);
      return keysetPages({
        fetch: upToHorizon((from, size, until) => rows(page.text, page.values(from, size, until))),
        keyOf: (row) => BigInt(row.position),
        from: readOptions?.from ?? 1n,
        pageSize: DEFAULT_BATCH,
        map: decode,
        ...(readOptions?.limit === undefined ? {} : { maxCount: readOptions.limit }),
      });
    },

    readAll(readOptions?: ReadAllOptions) {
      return keysetPages({
        fetch: upToHorizon((from, size, until) => rows(pageOfAll, [from.toString(), size, until.toString()])),
        keyOf: (row) => BigInt(row.position),
        from: readOptions?.from ?? 1n,
        pageSize: readOptions?.batchSize ?? DEFAULT_BATCH,
        map: decode,
      });
    },

    async head() {
      return horizon();
    },

    async close() {
      if (ownPool) await pool.end();
      else detach();
    },
  };
};
