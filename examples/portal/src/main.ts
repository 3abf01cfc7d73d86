/**
 * `pnpm portal`: the patron portal with the demo library, on an embedded
 * SQLite file under the data directory, or on PostgreSQL when given a URL.
 *
 *   pnpm portal [--port 3000] [--data-dir examples/portal/data] [--database-url postgres://…]
 *
 * Environment: PORT, PORTAL_DATA_DIR, DATABASE_URL (`?schema=NAME` picks the schema), PORTAL_COOKIE_SECRET.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { type EventStore, createPostgresEventStore, createSqliteEventStore } from "./library.js";
import { createPortal } from "./portal.js";
import { DEMO_PATRONS, DEMO_STAFF, seedDemo } from "./seed.js";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "data-dir": { type: "string" },
    "database-url": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("pnpm portal [--port 3000] [--data-dir DIR] [--database-url postgres://USER:PASSWORD@HOST/DB]");
  process.exit(0);
}

const port = Number(values.port ?? process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port: expected 0 to 65535, got ${values.port ?? process.env.PORT}`);
const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
const dataDir = path.resolve(values["data-dir"] ?? process.env.PORTAL_DATA_DIR ?? "examples/portal/data");

let store: EventStore;
let where: string;
if (databaseUrl !== undefined && databaseUrl !== "") {
  // `?schema=NAME` on the URL picks the schema (default linked_accounts), as the audit command line reads it.
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  store = await createPostgresEventStore({ connectionString: url.toString(), ...(schema === undefined ? {} : { schema }) });
  where = `PostgreSQL at ${databaseUrl.replace(/\/\/[^@]*@/, "//…@")}`;
} else {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "portal.sqlite");
  store = createSqliteEventStore({ path: file });
  where = `SQLite file ${path.relative(process.cwd(), file).startsWith("..") ? file : path.relative(process.cwd(), file)}`;
}

const portal = createPortal({ store, ...(process.env.PORTAL_COOKIE_SECRET ? { cookieSecret: process.env.PORTAL_COOKIE_SECRET } : {}) });
const { created } = await seedDemo(portal);

const server = serve({ fetch: portal.app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`The patron portal is at http://127.0.0.1:${info.port}/ (events in the ${where}${created ? ", demo data just added" : ""}).`);
  console.log("Demo sign-ins (barcode / PIN):");
  for (const p of Object.values(DEMO_PATRONS)) console.log(`  ${p.name.padEnd(14)} ${p.barcode} / ${p.pin}${p.minor ? "  (a child)" : ""}`);
  console.log(`  Staff desk: /desk/sign-in with ${DEMO_STAFF.id} / ${DEMO_STAFF.pin}`);
  console.log("Stop it with Ctrl-C.");
});

const stop = async () => {
  server.close();
  await portal.close();
  await store.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
