/**
 * The PostgreSQL event store (`pg`).
 *
 * Why `readAll` never skips or repeats an event (the sequence-gap trap): with a
 * plain sequence, a transaction can take position 10, another take 11 and commit
 * first, and a reader that saw 11 and moves on never sees 10. Here every append
 * first takes one transaction-scoped advisory lock per schema, so appends are
 * serialised: positions are drawn, and commits become visible, in lock order.
 * PostgreSQL releases a transaction's locks only after its commit is visible to
 * every new snapshot (xact.c: ProcArrayEndTransaction before ResourceOwnerRelease),
 * so whatever a reader's snapshot sees is a prefix of the position order: reading
 * on from "last position + 1" is always complete. Positions may have gaps (a
 * rolled-back append consumes sequence values) but never out-of-order arrivals.
 * The cost: appends do not run in parallel. The whole append (lock, revision
 * check, insert, commit) is one statement of one round trip, a PL/pgSQL function
 * called in autocommit mode, so the lock is held only for the server's own work;
 * `bench` measures what that costs.
 *
 * The schema (table, function, version) is created and migrated by the store
 * itself, in one transaction under a session-independent advisory lock, so
 * several processes starting at once migrate it exactly once.
 */
import pg from "pg";
import {
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
} from "./event-store.js";
import { keysetPages } from "./keyset-pages.js";
import { fromStored, toStoredBatch } from "./mapper.js";

/** `readOnly`: open an existing store for reading only (audits): no migration, appends refused. */
export type PostgresEventStoreOptions =
  | { readonly connectionString: string; readonly schema?: string; readonly readOnly?: boolean }
  | { readonly pool: pg.Pool; readonly schema?: string; readonly readOnly?: boolean };

export const DEFAULT_SCHEMA = "linked_accounts";
const DEFAULT_BATCH = 1000;
/** The SQLSTATE `append_to_stream` raises when the expected revision does not hold. */
const WRONG_EXPECTED_REVISION = "LA409";

/**
 * A failed append whose cause is the database, not the events: a dropped
 * connection, a terminated backend, a timeout. `outcome` says what is known:
 * - `"not-appended"`: PostgreSQL reported the error, so the transaction rolled
 *   back and nothing of the batch was stored;
 * - `"unknown"`: the connection was lost before an answer came, so the batch was
 *   stored whole or not at all; read the stream to know which.
 */
export class AppendFailedError extends Error {
  override readonly name = "AppendFailedError";
  constructor(
    readonly stream: string,
    readonly outcome: "not-appended" | "unknown",
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      outcome === "not-appended"
        ? `Append to stream ${stream} failed and was rolled back, nothing was appended: ${reason}`
        : `Append to stream ${stream} lost its connection before PostgreSQL answered (${reason}); the batch was stored whole or not at all: read the stream to know which.`,
      { cause },
    );
  }
}

/** Migrations, in order; the schema records how many it has run. Never edit one that shipped: add the next. */
const migrations = (schema: string): ReadonlyArray<string> => [
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

  -- The whole append in one statement; see the comment at the top of postgres-store.ts.
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
        ERRCODE = '${WRONG_EXPECTED_REVISION}',
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
];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates or migrates the store's schema; safe to run from many processes at once. */
const migrate = async (pool: pg.Pool, schema: string): Promise<void> => {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // Transaction-scoped: released by COMMIT or ROLLBACK, even if this process dies.
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`linked-accounts:migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_version (version integer NOT NULL)`);
    const found = await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_version`);
    const current = found.rows[0]?.version ?? 0;
    const steps = migrations(schema);
    for (const step of steps.slice(current)) await client.query(step);
    if (found.rows.length === 0) await client.query(`INSERT INTO ${schema}.schema_version VALUES ($1)`, [steps.length]);
    else if (current < steps.length) await client.query(`UPDATE ${schema}.schema_version SET version = $1`, [steps.length]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
};

interface Row {
  readonly position: string;
  readonly stream: string;
  readonly revision: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

const decode = (row: Row) =>
  fromStored(row, { stream: row.stream, revision: BigInt(row.revision), position: BigInt(row.position) });

const expectedAsText = (expected: ExpectedRevision): string => (typeof expected === "bigint" ? expected.toString() : expected);

const isDatabaseError = (error: unknown): error is pg.DatabaseError => error instanceof pg.DatabaseError;

export const createPostgresEventStore = async (options: PostgresEventStoreOptions): Promise<EventStore> => {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  const ownPool = "connectionString" in options;
  const pool = ownPool ? new pg.Pool({ connectionString: options.connectionString }) : options.pool;
  // An idle client whose backend goes away emits "error" on the pool; unheard, it
  // would crash the process. The next query gets a fresh connection.
  if (ownPool) pool.on("error", () => undefined);
  try {
    if (options.readOnly === true) await pool.query(`SELECT version FROM ${schema}.schema_version`);
    else await migrate(pool, schema);
  } catch (error) {
    if (ownPool) await pool.end();
    throw error;
  }

  const appendQuery = `SELECT next_expected_revision, last_position FROM ${schema}.append_to_stream($1, $2, $3::jsonb)`;
  const pageOfAll = `SELECT position, stream, revision, type, data, metadata FROM ${schema}.events
                     WHERE position >= $1 ORDER BY position LIMIT $2`;
  const pageOfStream = `SELECT position, stream, revision, type, data, metadata FROM ${schema}.events
                        WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`;

  return {
    async appendToStream(stream, events, appendOptions): Promise<AppendResult> {
      if (options.readOnly === true) throw new Error(`This PostgreSQL store (schema ${schema}) was opened read-only.`);
      const batch = toStoredBatch(stream, events);
      const expected = appendOptions?.expectedRevision ?? "any";
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw new AppendFailedError(stream, "not-appended", error);
      }
      let result: pg.QueryResult<{ next_expected_revision: string; last_position: string }>;
      try {
        result = await client.query({
          name: `linked-accounts-append-${schema}`,
          text: appendQuery,
          values: [stream, expectedAsText(expected), JSON.stringify(batch)],
        });
        client.release();
      } catch (error) {
        const conflict = isDatabaseError(error) && (error.code === WRONG_EXPECTED_REVISION || error.code === "23505");
        // A conflict leaves the session healthy: keep the connection (pool.query
        // would drop it, and reconnecting costs more than the append). Anything
        // else may have broken it: let the pool discard it.
        client.release(conflict ? undefined : (error as Error));
        if (isDatabaseError(error) && error.code === WRONG_EXPECTED_REVISION) {
          const actual = error.detail === "no-stream" || error.detail === undefined ? "no-stream" : BigInt(error.detail);
          throw new ConcurrencyError(stream, expected, actual);
        }
        // Cannot happen while appends are serialised; kept so a broken invariant still reads as a conflict.
        if (conflict) throw new ConcurrencyError(stream, expected, undefined);
        throw new AppendFailedError(stream, isDatabaseError(error) ? "not-appended" : "unknown", error);
      }
      const row = result.rows[0];
      if (row === undefined) throw new AppendFailedError(stream, "unknown", new Error("append_to_stream returned no row"));
      return { nextExpectedRevision: BigInt(row.next_expected_revision), position: BigInt(row.last_position) };
    },

    async *readStream(stream: string, readOptions?: ReadStreamOptions) {
      const pages = keysetPages({
        fetch: async (from, size) => (await pool.query<Row>(pageOfStream, [stream, from.toString(), size])).rows,
        keyOf: (row) => BigInt(row.revision),
        from: readOptions?.fromRevision ?? 0n,
        pageSize: DEFAULT_BATCH,
        ...(readOptions?.maxCount === undefined ? {} : { maxCount: readOptions.maxCount }),
      });
      for await (const row of pages) yield decode(row);
    },

    // Keyset pages, each its own snapshot: sound because every snapshot sees a
    // prefix of the position order (see the top of this file).
    async *readAll(readOptions?: ReadAllOptions) {
      const pages = keysetPages({
        fetch: async (from, size) => (await pool.query<Row>(pageOfAll, [from.toString(), size])).rows,
        keyOf: (row) => BigInt(row.position),
        from: readOptions?.fromPosition ?? 1n,
        pageSize: readOptions?.batchSize ?? DEFAULT_BATCH,
      });
      for await (const row of pages) yield decode(row);
    },

    async close() {
      if (ownPool) await pool.end();
    },
  };
};
