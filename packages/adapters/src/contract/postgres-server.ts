/**
 * The PostgreSQL server a test suite runs against: PG_TEST_URL, checked once.
 * Without a reachable server a suite skips, saying so in one line; under
 * CI=true it registers one failing test instead, so a CI run that could not
 * reach its database never passes by skipping.
 */
import pg from "pg";
import { it } from "vitest";

export type PostgresServer = { readonly url: string; readonly skip: false } | { readonly reason: string; readonly skip: true };

export const postgresServer = async (suite: string): Promise<PostgresServer> => {
  const url = process.env.PG_TEST_URL;
  let reason: string | undefined;
  if (url === undefined || url === "") reason = "PG_TEST_URL is not set";
  else {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
    } catch (error) {
      reason = `cannot connect to PG_TEST_URL (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (reason === undefined && url !== undefined) return { url, skip: false };
  if (process.env.CI === "true")
    it(`${suite}: reaches the PostgreSQL server named by PG_TEST_URL (required in CI)`, () => {
      throw new Error(`${suite} cannot run in CI: ${reason}. Run scripts/postgres.sh and export PG_TEST_URL.`);
    });
  else console.log(`${suite} skipped: ${reason} (run \`eval "$(scripts/postgres.sh)"\` to start one).`);
  return { reason: reason ?? "unknown", skip: true };
};

/**
 * Test-only: inside the PostgreSQL store's schema, make the insert of every event
 * whose correlation id is `marker` sleep for `seconds` before it commits, so a
 * test can act while an append is half done. Drop it with
 * `DROP TRIGGER slow_<marker> ON <schema>.events`.
 */
export const slowInsertsMarked = async (
  admin: { query(sql: string): Promise<unknown> },
  schema: string,
  marker: string,
  seconds: number,
): Promise<void> => {
  const name = `slow_${marker.replace(/[^a-z0-9_]/g, "_")}`;
  await admin.query(`
    CREATE FUNCTION ${schema}.${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.metadata->>'correlationId' = '${marker.replace(/'/g, "''")}' THEN PERFORM pg_sleep(${Number(seconds)}); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER ${name} BEFORE INSERT ON ${schema}.events FOR EACH ROW EXECUTE FUNCTION ${schema}.${name}();`);
};
