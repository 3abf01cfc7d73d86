/**
 * Before any test file runs: when PG_TEST_URL is not set, try to start the
 * machine's PostgreSQL with scripts/postgres.sh (which needs root and a local
 * PostgreSQL 15) and hand its URL to the tests. When that is not possible the
 * PostgreSQL suites say they skipped, and under CI=true they fail instead.
 */
import { execFileSync } from "node:child_process";

export default function startPostgres(): void {
  if (process.env.PG_TEST_URL) return;
  try {
    const out = execFileSync("bash", ["scripts/postgres.sh"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    const url = /export PG_TEST_URL=(\S+)/.exec(out)?.[1];
    if (url !== undefined) process.env.PG_TEST_URL = url;
  } catch {
    console.warn("scripts/postgres.sh could not start PostgreSQL here; set PG_TEST_URL to run the PostgreSQL suites.");
  }
}
