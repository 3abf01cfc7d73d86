/**
 * The PostgreSQL key store (`pg`): the subjects' keys in `<schema>.personal_keys`,
 * in the event store's schema by default, so a host backs up and restores one
 * schema. A key is `bytea` of `KEY_BYTES`; a tombstone is the row with `key`
 * NULL and `forgotten_at` set.
 *
 * The table is created on first use, by whichever process gets there first:
 * `CREATE SCHEMA` and `CREATE TABLE ... IF NOT EXISTS` are not safe against
 * each other across sessions (two at once can both find nothing and one then
 * fails on the catalog's unique index), so they run in one transaction holding
 * the transaction advisory lock the event store migrates under
 * (`linked-accounts:migrate:<schema>`, see postgres-store.ts): an event store
 * and a key store opening one new schema at once take turns too.
 *
 * `create` is one statement: insert what is missing (`ON CONFLICT DO NOTHING`)
 * and answer it, with the rows that were there already. A statement sees the
 * table as it was when it began, so a key another session was inserting at
 * that moment is in neither half (the insert waited for that session to commit
 * and then skipped the subject); those few subjects are read again by a second
 * statement, which sees the other session's key. Inserts and tombstones are
 * written in one order of subjects everywhere, so two batches never wait on
 * each other in a cycle.
 *
 * The PostgreSQL event store's append stores new keys with the same insert
 * (`createKeysCtes`, or `createOwnerlessKeysCte` when no subject belongs to
 * another), in the statement that appends the events sealed under them, so
 * both commit or neither.
 *
 * A subject belonging to another (`account:A1/loan:L1`) keeps that owner in
 * `owner` (indexed). `forget` is one transaction of two statements: the
 * tombstones, then every key belonging to a forgotten subject. `create` locks the
 * owners it names first (see `createKeysCtes`), so a key created beneath a subject
 * (one with a row) while it is forgotten is forgotten with it or never made.
 *
 * Erasure: `forget` sets the keys to NULL; from its commit no query sees them. The old row version stays in the table's pages until
 * (auto)vacuum reclaims it, and the server's write-ahead log, its replicas'
 * and its backups keep it as long as they are kept: a host bounds how long by
 * its vacuum settings and its retention of WAL and backups.
 */
import pg from "pg";
import { checkedKeys, checkedSubjects, foundInOneRow, keyCopy, ownerOf } from "./key-checks.js";
import { type KeyLookup, type KeyStore, KeyStoreError } from "./key-store.js";
import { DEFAULT_SCHEMA } from "./postgres-store.js";

/**
 * `connectionString`: the store opens a pool of its own (closed by `close`),
 * with the event store's default timeouts. `pool`: a host's pool, its timeouts
 * its own, left open by `close`. `schema`: default "linked_accounts", the event
 * store's.
 */
export type PostgresKeyStoreOptions = ({ readonly connectionString: string } | { readonly pool: pg.Pool }) & { readonly schema?: string };

/** What postgres-store.ts accepts as a schema name: an unquoted lower-case identifier, written into the SQL as it is. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Swallows a client's 'error' event: the query in flight, if any, fails on its own (as in postgres-store.ts). */
const ignore = (): void => undefined;
const guard = (client: pg.PoolClient | pg.Client): void => {
  if (!client.listeners("error").includes(ignore)) client.on("error", ignore);
};

interface Row {
  readonly subject: string;
  readonly key: Buffer | null;
}

/** Subjects in the one order every statement writes them in (UTF-16 code units, as JavaScript sorts). */
const inOrder = (subjects: Iterable<string>): string[] => [...subjects].sort();

/**
 * `create`'s insert, as the common table expressions `given` (the subjects,
 * keys and owners given in parameters `$first`, `$first+1`, `$first+2`),
 * `owners` and `inserted` (what it stored: a key, or a tombstone beneath a
 * forgotten subject), for `create` and for the event store's append that
 * stores new keys in its own statement (postgres-store.ts).
 *
 * The owners of the subjects given are locked (FOR SHARE) before anything is
 * inserted: a `forget` of one of them waits for this statement's commit and
 * then forgets what it created, or went first and this statement sees its
 * tombstone and creates tombstones beneath it.
 */
export const createKeysCtes = (table: string, first: number): string => `
    given AS (
      SELECT g.subject, g.key, g.owner, g.ord
      FROM unnest($${first}::text[], $${first + 1}::bytea[], $${first + 2}::text[]) WITH ORDINALITY AS g(subject, key, owner, ord)
    ), owners AS (
      SELECT p.subject, p.key FROM ${table} p WHERE p.subject IN (SELECT owner FROM given) ORDER BY p.subject FOR SHARE
    ), inserted AS (
      INSERT INTO ${table} (subject, key, forgotten_at, owner)
      SELECT g.subject, CASE WHEN gone THEN NULL ELSE g.key END, CASE WHEN gone THEN now() END, g.owner
      FROM (SELECT given.*, EXISTS (SELECT 1 FROM owners o WHERE o.subject = given.owner AND o.key IS NULL) AS gone FROM given) g
      ORDER BY g.ord
      ON CONFLICT (subject) DO NOTHING
      RETURNING subject, key
    )`;

/**
 * What `createKeysCtes` does for keys whose subjects belong to no other
 * (`account:A1`, not `account:A1/loan:L1`), as the one common table expression
 * `inserted` (subjects and keys in parameters `$first`, `$first+1`, as
 * `createKeysValues` gives them): with no owner to lock or to find forgotten,
 * the insert alone, in the same order of subjects. A forgotten subject's
 * tombstone is a row like any other: nothing is stored for it.
 */
export const createOwnerlessKeysCte = (table: string, first: number): string => `
    inserted AS (
      INSERT INTO ${table} (subject, key)
      SELECT g.subject, g.key FROM unnest($${first}::text[], $${first + 1}::bytea[]) WITH ORDINALITY AS g(subject, key, ord)
      ORDER BY g.ord
      ON CONFLICT (subject) DO NOTHING
      RETURNING subject, key
    )`;

/** `createKeysCtes`' parameters for these keys: subjects in the one order every statement writes them in, keys, owners. */
export const createKeysValues = (keys: ReadonlyMap<string, Uint8Array>): [string[], Uint8Array[], Array<string | null>] => {
  const subjects = inOrder(keys.keys());
  return [subjects, subjects.map((s) => keys.get(s)!), subjects.map(ownerOf)];
};

export const createPostgresKeyStore = (options: PostgresKeyStoreOptions): KeyStore => openPostgresKeyStore(options).store;

/**
 * The PostgreSQL key store, its table's name (schema-qualified), and `ready`:
 * resolves once the table exists (creating it on first call), for a statement
 * of the event store's that writes the table.
 */
export const openPostgresKeyStore = (options: PostgresKeyStoreOptions): { store: KeyStore; table: string; ready: () => Promise<void> } => {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  const table = `${schema}.personal_keys`;
  const ownPool = "connectionString" in options;
  const pool = ownPool
    ? new pg.Pool({
        connectionString: options.connectionString,
        connectionTimeoutMillis: 5000,
        statement_timeout: 10_000,
        lock_timeout: 5000,
        query_timeout: 12_000,
      })
    : options.pool;
  // An idle client whose backend goes away emits "error" on the pool, a busy one
  // on itself; unheard, either would crash the process.
  pool.on("error", ignore);
  pool.on("connect", guard);

  /** Runs `work` in one transaction on a client of its own: committed when it resolves, rolled back when it throws. */
  const inTransaction = async (work: (client: pg.PoolClient) => Promise<void>): Promise<void> => {
    const client = await pool.connect();
    guard(client);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
    } catch (error) {
      broken = error as Error;
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release(broken);
    }
  };

  /**
   * Creates the schema and table if missing, once per store (again after a
   * failure). When both are there already, the catalog says so and nothing more
   * is run: `CREATE INDEX IF NOT EXISTS` locks the table before it looks, so it
   * would wait for every transaction writing the table (an append storing keys).
   */
  const present = async (): Promise<boolean> => {
    const { rows } = await pool.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS ok", [
      table,
      `${schema}.personal_keys_owner`,
    ]);
    return rows[0]?.ok === true;
  };
  let ready: Promise<void> | undefined;
  const ensure = (): Promise<void> =>
    (ready ??= present().then(async (ok) => {
      if (!ok) await create();
    }).catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));
  const create = (): Promise<void> =>
    inTransaction(async (client) => {
      // Transaction-scoped: released by COMMIT or ROLLBACK, even if this process dies.
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`linked-accounts:migrate:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${table} (
          subject      text PRIMARY KEY,
          key          bytea CHECK (key IS NULL OR octet_length(key) = 32),
          created_at   timestamptz NOT NULL DEFAULT now(),
          forgotten_at timestamptz,
          owner        text,
          CHECK ((key IS NULL) = (forgotten_at IS NOT NULL))
        )`);
      await client.query(`CREATE INDEX IF NOT EXISTS personal_keys_owner ON ${table} (owner) WHERE owner IS NOT NULL`);
    });

  let closed = false;
  /** Runs `work` once the table exists, turning every failure into a `KeyStoreError` saying what failed where. */
  const attempt = async <A>(what: string, work: () => Promise<A>): Promise<A> => {
    if (closed) throw new KeyStoreError(`the PostgreSQL key store (schema ${schema}) could not ${what}: it was closed`);
    try {
      await ensure();
      return await work();
    } catch (error) {
      if (error instanceof KeyStoreError) throw error;
      throw new KeyStoreError(`the PostgreSQL key store (schema ${schema}) could not ${what}: ${(error as Error).message}`, { cause: error });
    }
  };

  const rows = async (text: string, values: unknown[]): Promise<Row[]> => (await pool.query<Row>(text, values)).rows;
  const lookup = (found: ReadonlyArray<Row>): Map<string, Uint8Array | null> =>
    new Map(found.map((row) => [row.subject, row.key === null ? null : keyCopy(row.key)]));
  // One row for the whole lookup (see foundInOneRow): a row and a Buffer per key cost more to hand
  // over than the lookup itself. Each subject is found through the primary key (the LIMIT keeps the
  // planner from turning the lookup into a hash join over the whole table, which it prefers while the
  // table is small). Prepared once per connection.
  const findQuery = {
    name: `linked-accounts-keys-find-${schema}`,
    text: `
      SELECT string_agg(u.ord || CASE WHEN p.key IS NULL THEN '-' ELSE '+' END, ',') AS positions, string_agg(encode(p.key, 'hex'), '') AS hex
      FROM unnest($1::text[]) WITH ORDINALITY AS u(subject, ord)
      CROSS JOIN LATERAL (SELECT k.key FROM ${table} k WHERE k.subject = u.subject LIMIT 1) p`,
  };
  const find = async (subjects: ReadonlyArray<string>): Promise<Map<string, Uint8Array | null>> => {
    const [row] = (await pool.query<{ positions: string | null; hex: string | null }>({ ...findQuery, values: [subjects] })).rows;
    const found = new Map<string, Uint8Array | null>();
    foundInOneRow(found, subjects, row?.positions ?? null, row?.hex ?? null, 1);
    return found;
  };

  // The insert (see createKeysCtes), answered with the rows that were there already.
  const createQuery = `
    WITH ${createKeysCtes(table, 1)}
    SELECT subject, key FROM inserted
    UNION ALL
    SELECT p.subject, p.key FROM ${table} p JOIN given USING (subject)`;
  // A tombstone keeps the moment the subject was first forgotten.
  const forgetQuery = `
    INSERT INTO ${table} AS p (subject, key, forgotten_at, owner)
    SELECT u.subject, NULL, now(), u.owner FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(subject, owner, ord) ORDER BY u.ord
    ON CONFLICT (subject) DO UPDATE SET key = NULL, forgotten_at = coalesce(p.forgotten_at, excluded.forgotten_at)`;
  // A statement of its own, after the tombstones: its snapshot sees what a
  // \`create\` that held one of them committed meanwhile.
  const forgetBelongingQuery = `UPDATE ${table} SET key = NULL, forgotten_at = now() WHERE owner = ANY ($1::text[]) AND key IS NOT NULL`;

  const store: KeyStore = {
    async find(subjects): Promise<KeyLookup> {
      const checked = checkedSubjects(subjects);
      if (checked.length === 0) return new Map();
      return attempt(`find the keys of ${checked.length} subjects`, () => find(checked));
    },

    async create(keys): Promise<KeyLookup> {
      const checked = checkedKeys(keys);
      if (checked.size === 0) return new Map();
      const values = createKeysValues(checked);
      const [subjects] = values;
      return attempt(`create keys for ${subjects.length} subjects`, async () => {
        const answered = lookup(await rows(createQuery, values));
        // Created by another session after this statement began (see the top of this file): read them again.
        const raced = subjects.filter((s) => !answered.has(s));
        if (raced.length > 0) for (const [subject, key] of await find(raced)) answered.set(subject, key);
        const lost = subjects.find((s) => !answered.has(s));
        if (lost !== undefined) throw new KeyStoreError(`the PostgreSQL key store (schema ${schema}) stored no row for subject ${JSON.stringify(lost)}`);
        return answered;
      });
    },

    async forget(subjects) {
      const checked = inOrder(checkedSubjects(subjects));
      if (checked.length === 0) return;
      await attempt(`forget the keys of ${checked.length} subjects`, () =>
        inTransaction(async (client) => {
          await client.query(forgetQuery, [checked, checked.map(ownerOf)]);
          await client.query(forgetBelongingQuery, [checked]);
        }),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      pool.off("error", ignore);
      pool.off("connect", guard);
      if (ownPool) await pool.end();
    },
  };
  return { store, table, ready: ensure };
};
