/**
 * `pnpm bench`: every benchmark of the project, one after the other, printing
 * figures as they come and writing them all to bench/results/ as JSON with the
 * machine and Node.js version. Performance is measured here, never asserted in
 * tests. `pnpm bench domain stores` runs only the named parts (`portal`: the
 * patron portal under 50 concurrent signed-in clients; `personal-data`: what
 * sealing personal data costs to read and append, and an erasure's time). The first part,
 * `calibration`, times plain arithmetic and allocation on this machine, so the
 * rest can be read against it.
 *
 * PostgreSQL figures need a server: set PG_TEST_URL (scripts/postgres.sh starts
 * the local one and prints it); without it those figures are skipped, and the
 * results file says so.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createPostgresEventStore } from "@linked-accounts/adapters/postgres";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { benchCalibration } from "./calibration.js";
import { benchCommands } from "./commands.js";
import { benchDomain } from "./domain.js";
import { benchPersonalData } from "./personal-data.js";
import { benchPortal } from "./portal.js";
import { benchProjections } from "./projections.js";
import { benchStores } from "./stores.js";

const pgUrl = process.env.PG_TEST_URL;
/** Every PostgreSQL schema the bench creates starts with this (BENCH_SCHEMA_PREFIX, default "bench"), so runs sharing a server never meet. */
const schemaPrefix = process.env.BENCH_SCHEMA_PREFIX ?? "bench";
if (!/^[a-z_][a-z0-9_]{0,20}$/.test(schemaPrefix)) throw new RangeError(`BENCH_SCHEMA_PREFIX must match /^[a-z_][a-z0-9_]{0,20}$/`);
const requested = new Set(process.argv.slice(2));
const wanted = (name: string) => requested.size === 0 || requested.has(name);

const temp = mkdtempSync(path.join(os.tmpdir(), "linked-accounts-bench-"));
const pgSchemas: string[] = [];

const parts: Record<string, () => Promise<Record<string, unknown>>> = {
  calibration: () => benchCalibration(),
  domain: () => benchDomain(),
  stores: () => benchStores(pgUrl === undefined ? { schemaPrefix } : { pgUrl, schemaPrefix }),
  commands: () =>
    benchCommands({
      dir: temp,
      ...(pgUrl === undefined
        ? {}
        : {
            postgres: {
              url: pgUrl,
              schema: (label: string) => {
                const schema = `${schemaPrefix}_commands_${label}_${process.pid}_${pgSchemas.length}`;
                pgSchemas.push(schema);
                return schema;
              },
            },
          }),
    }),
  projections: () => benchProjections(pgUrl === undefined ? { schemaPrefix } : { pgUrl, schemaPrefix }),
  "personal-data": () => benchPersonalData(pgUrl === undefined ? { schemaPrefix } : { pgUrl, schemaPrefix }),
  portal: () => {
    let n = 0;
    const stores = [{ name: "sqlite", open: async () => createSqliteEventStore({ path: path.join(temp, `portal-${n++}.sqlite`) }) }];
    if (pgUrl !== undefined)
      stores.push({
        name: "postgres",
        open: async () => {
          const schema = `bench_portal_${process.pid}_${n++}`;
          pgSchemas.push(schema);
          return createPostgresEventStore({ connectionString: pgUrl, schema });
        },
      });
    return benchPortal(stores);
  },
};

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  node: process.version,
  machine: {
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  },
  postgres: pgUrl === undefined ? "skipped: PG_TEST_URL is not set" : "measured",
};

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(", ");
results.loadAverageAtStart = os.loadavg();
console.log(`load average (1, 5, 15 min) at start: ${load()} on ${os.cpus().length} CPUs`);
try {
  for (const [name, run] of Object.entries(parts)) {
    if (!wanted(name)) continue;
    console.log(`\n== ${name}`);
    results[name] = await run();
  }
} finally {
  if (pgUrl !== undefined && pgSchemas.length > 0) {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    for (const schema of pgSchemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  rmSync(temp, { recursive: true, force: true });
}

results.finishedAt = new Date().toISOString();
results.loadAverageAtEnd = os.loadavg();
console.log(`\nload average (1, 5, 15 min) at end: ${load()}`);
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "results");
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${String(results.startedAt).replace(/[:.]/g, "-")}.json`);
const json = JSON.stringify(results, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
writeFileSync(file, `${json}\n`);
writeFileSync(path.join(dir, "latest.json"), `${json}\n`);
console.log(`\nFigures written to ${path.relative(process.cwd(), file)} and bench/results/latest.json`);
