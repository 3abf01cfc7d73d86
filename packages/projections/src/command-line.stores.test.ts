/**
 * The command line on real stores: `sqlite:PATH` and `postgres://…`, and `export`
 * of a store. The stores come from @linked-accounts/adapters.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { EventStore } from "@linked-accounts/adapters";
import { createPostgresEventStore, createPostgresKeyStore } from "@linked-accounts/adapters/postgres";
import { createSqliteEventStore, createSqliteKeyStore } from "@linked-accounts/adapters/sqlite";
import type { EventEnvelope } from "@linked-accounts/domain/internal";
import { main } from "./command-line.js";
import { readExport } from "./ndjson.js";
import { exportText, referenceStory } from "./test-support.js";

type Store = Pick<EventStore, "append" | "close">;
const inCi = process.env["CI"] === "true";

const run = async (argv: string[]) => {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, { stdin: Readable.from([""]), stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
};

const story = referenceStory();
/**
 * Appends the story in its order, one event per append, each tagged first with
 * the stream the story names (its export label); a revocation also with its
 * link's accounts, whose keys seal its reason; a registration with its barcode.
 */
const fill = async (store: Store) => {
  const parties = new Map<string, string[]>();
  for (const { position: _p, stream, ...event } of story) {
    const e = event as EventEnvelope;
    if (e.type === "AccountConnected") parties.set(e.data.linkId, [`account:${e.data.issuerAccountId}`, `account:${e.data.connectedAccountId}`]);
    const extra = e.type === "LinkRevoked" ? (parties.get(e.data.linkId) ?? []) : e.type === "AccountRegistered" ? [`barcode:${e.data.barcode}`] : [];
    await store.append([{ ...e, tags: [stream, ...extra] }]);
  }
};

/** The story's personal values: none may be in an export in the clear. */
const personal = ["parent00001", "child00001", "partner00001", "The Bone People", "Potiki", "item-loan1", "item-hold1", "Central"];

/**
 * An export of a store is what its log keeps: every event with personal fields
 * sealed, barcode tags hashed, nothing personal in the clear. Read back with the
 * store's keys it is the story again (with the tags it was stored under).
 */
const expectSealedExport = async (stdout: string, keysArg: string) => {
  const lines = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  const events = lines.filter((line) => "position" in line);
  expect(events).toHaveLength(story.length);
  for (const line of events) {
    const withPersonal = ["AccountRegistered", "ItemCheckedOut", "HoldPlaced", "LinkRevoked"].includes(line.type);
    expect(line.data.sealed !== undefined, line.type).toBe(withPersonal);
    expect(line.tags.some((tag: string) => tag.startsWith("barcode:")), line.type).toBe(false);
  }
  expect(events.filter((line) => line.tags.some((tag: string) => tag.startsWith("barcode-hmac:")))).toHaveLength(3);
  for (const value of personal) expect(stdout, value).not.toContain(value);
  // Read back with the keys: the events of the story, in the clear.
  const file = join(dir, `read-back-${Math.random().toString(36).slice(2)}.ndjson`);
  writeFileSync(file, stdout);
  const timeline = await run(["timeline", "child", "--json", "--from", file, "--keys", keysArg]);
  expect(timeline.stderr).toBe("");
  const doc = JSON.parse(timeline.stdout);
  expect(doc.events.find((e: { type: string }) => e.type === "ItemCheckedOut").data).toMatchObject({ itemId: "item-loan1", title: "The Bone People" });
  expect(doc.events.find((e: { type: string }) => e.type === "AccountRegistered").data.barcode).toBe("child00001");
  // By barcode too: the tags were hashed, the barcode read back from the opened event.
  expect((await run(["who-can-manage", "child00001", "--json", "--from", file, "--keys", keysArg])).status).toBe(0);
  return file;
};
const dir = mkdtempSync(join(tmpdir(), "linked-accounts-cli-stores-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/**
 * Store positions need not be 1..n: compare everything but the positions. A store
 * also exports each event's tags (here, the story's stream name), which the story has not.
 */
const withoutPositions = (ndjson: string) =>
  ndjson
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((line) => "position" in line) // not the header and trailer
    .map(({ tags, ...line }) => {
      if (tags !== undefined) expect(tags[0]).toEqual(line.stream);
      return { ...line, position: 0 };
    });

/** The export read back (opened with `keys`), as the story's export lines are. */
const openedExport = async (file: string, keys: import("@linked-accounts/adapters").KeyStore) => {
  const events = [];
  for await (const event of readExport(createReadStream(file), { keys })) events.push(event);
  await keys.close();
  return withoutPositions(exportText(events));
};

describe("linked-accounts on sqlite:PATH", () => {
  it("answers from the store and exports it, personal fields sealed as the store keeps them", async () => {
    const path = join(dir, "story.sqlite");
    const store = createSqliteEventStore({ path });
    await fill(store);
    await store.close();
    const grants = await run(["grants", "--json", "--from", `sqlite:${path}`]);
    expect(grants.stderr).toBe("");
    expect(JSON.parse(grants.stdout).grants).toEqual([
      { manager: "parent", account: "child", linkIds: ["link-pc"] },
      { manager: "partner", account: "child", linkIds: ["link-cp"] },
    ]);
    const exported = await run(["export", `sqlite:${path}`]);
    expect(exported.status).toBe(0);
    expect(exported.stdout.trimEnd().split("\n").at(-1)).toMatch(/^\{"trailer":\{"events":14,"sha256":"[0-9a-f]{64}"\}\}$/);
    const file = await expectSealedExport(exported.stdout, `sqlite:${path}`);
    const opened = await openedExport(file, createSqliteKeyStore({ path, readOnly: true }));
    expect(opened.map(({ type, data, metadata }) => ({ type, data, metadata }))).toEqual(withoutPositions(exportText(story)).map(({ type, data, metadata }) => ({ type, data, metadata })));
  });

  it("a missing SQLite file is no answer, and creates nothing", async () => {
    const r = await run(["grants", "--from", `sqlite:${join(dir, "missing.sqlite")}`]);
    expect(r).toMatchObject({ status: 1, stdout: "" });
    expect(r.stderr).toContain("No SQLite store at");
  });
});

const pgUrl = process.env["PG_TEST_URL"];
const pgProblem = pgUrl === undefined || pgUrl === "" ? "PG_TEST_URL is not set" : undefined;
if (pgProblem !== undefined && !inCi) console.log(`command-line.stores.test.ts: skipping postgres:// tests: ${pgProblem}`);

describe.skipIf(pgProblem !== undefined && !inCi)("linked-accounts on postgres://", () => {
  const schema = `projections_cli_${process.pid}`;
  afterAll(async () => {
    if (pgProblem !== undefined) return;
    const pool = new pg.Pool({ connectionString: pgUrl! });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}_sealed" CASCADE`);
    await pool.end();
  });

  it("answers from the store (schema chosen in the URL) and exports it", async () => {
    expect(pgProblem).toBeUndefined();
    const store = await createPostgresEventStore({ connectionString: pgUrl!, schema });
    await fill(store);
    await store.close();
    const url = `${pgUrl}${pgUrl!.includes("?") ? "&" : "?"}schema=${schema}`;
    const who = await run(["who-can-manage", "child", "--json", "--from", url]);
    expect(who.stderr).toBe("");
    expect(JSON.parse(who.stdout).managers).toEqual([
      { manager: "parent", linkIds: ["link-pc"] },
      { manager: "partner", linkIds: ["link-cp"] },
    ]);
    const exported = await run(["export", url]);
    const file = await expectSealedExport(exported.stdout, url);
    // Sealed again into a new schema (from the export, with the store's keys): the same answers, nothing personal in its rows.
    const target = `${pgUrl}${pgUrl!.includes("?") ? "&" : "?"}schema=${schema}_sealed`;
    const sealed = await run(["seal", "--from", file, "--keys", url, "--to", target, "--json"]);
    expect(sealed.stderr).toBe("");
    expect(JSON.parse(sealed.stdout)).toMatchObject({ events: 14, sealed: 7, to: `PostgreSQL (schema ${schema}_sealed)` });
    expect((await run(["who-can-manage", "child", "--json", "--from", target])).stdout).toBe(who.stdout);
    const pool = new pg.Pool({ connectionString: pgUrl! });
    const rows = (await pool.query<{ row: string }>(`SELECT t::text AS row FROM "${schema}_sealed".events t`)).rows.map((r) => r.row).join("\n");
    await pool.end();
    expect(rows).toContain("link-pc");
    for (const value of personal) expect(rows, value).not.toContain(value);
    expect((await run(["seal", "--from", file, "--keys", url, "--to", target])).status).toBe(2);
    const opened = await openedExport(file, createPostgresKeyStore({ connectionString: pgUrl!, schema }));
    expect(opened.map(({ type, data, metadata }) => ({ type, data, metadata }))).toEqual(withoutPositions(exportText(story)).map(({ type, data, metadata }) => ({ type, data, metadata })));
  });
});
