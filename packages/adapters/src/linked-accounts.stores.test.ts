/**
 * Command handling against the real stores: two hosts racing on one pair over a
 * SQLite file and over PostgreSQL, and a PostgreSQL backend killed mid-command.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as E from "fp-ts/lib/Either.js";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { manualClock } from "./clock.js";
import { postgresServer, slowInsertsMarked } from "./contract/postgres-server.js";
import type { EventStore, RecordedEvent } from "./event-store.js";
import { type LinkedAccounts, createLinkedAccounts } from "./linked-accounts.js";
import { createPostgresEventStore } from "./postgres-store.js";
import { scryptSharePhrases } from "./share-phrases.js";
import { createSqliteEventStore } from "./sqlite-store.js";

const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });
const staff = { kind: "staff", staffId: "desk-1" } as const;
const as = (accountId: string) => ({ kind: "account", accountId }) as const;
const clock = manualClock("2026-03-03T09:00:00.000Z");

const must = async <A>(outcome: Promise<E.Either<{ code: string; message: string }, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`${result.left.code}: ${result.left.message}`);
  return result.right;
};

const all = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const e of store.readAll()) events.push(e);
  return events;
};

/**
 * Two hosts, each with its own store handle on the same database, race to
 * connect, renew and revoke on one pair. Afterwards: one link, one revocation,
 * every accepted renewal stored exactly once, no event id twice, and both hosts
 * agree that the grant is gone.
 */
const race = async (openStore: () => Promise<EventStore>) => {
  const [storeA, storeB] = [await openStore(), await openStore()];
  const hostA = createLinkedAccounts({ store: storeA, clock, phrases });
  const hostB = createLinkedAccounts({ store: storeB, clock, phrases });
  await must(hostA.registerAccount({ actor: staff, accountId: "parent", barcode: "P0000001", minor: false }));
  await must(hostB.registerAccount({ actor: staff, accountId: "child", barcode: "C0000001", minor: true }));
  await must(hostA.recordCheckout({ actor: staff, accountId: "child", loanId: "loan-1", itemId: "i1", title: "Book", format: "physical", dueAt: "2026-03-20T00:00:00.000Z" }));
  const issued = await must(hostA.issueSharePhrase({ actor: as("parent"), direction: "two-way" }));

  const connects = await Promise.all(
    [hostA, hostB, hostA, hostB].map((h) => h.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: issued.phrase })),
  );
  expect(connects.every(E.isRight)).toBe(true);
  const renew = (h: LinkedAccounts, day: number) =>
    h.renewLoan({ actor: as("parent"), accountId: "child", loanId: "loan-1", dueAt: `2026-04-${String(day).padStart(2, "0")}T00:00:00.000Z` });
  const linkId = connects.flatMap((c) => (E.isRight(c) && c.right.linkId !== null ? [c.right.linkId] : []))[0]!;
  const outcomes = await Promise.all([
    renew(hostA, 1),
    renew(hostB, 2),
    hostA.revokeLink({ actor: as("child"), linkId }),
    renew(hostA, 3),
    hostB.revokeLink({ actor: as("parent"), linkId }),
    renew(hostB, 4),
  ]);

  const events = await all(storeA);
  expect(events.filter((e) => e.type === "AccountConnected")).toHaveLength(1);
  expect(events.filter((e) => e.type === "LinkRevoked")).toHaveLength(1);
  const accepted = [0, 1, 3, 5].filter((i) => E.isRight(outcomes[i]!)).length;
  expect(events.filter((e) => e.type === "LoanRenewed")).toHaveLength(accepted);
  for (const i of [0, 1, 3, 5]) {
    const o = outcomes[i]!;
    // Refused only because the link was gone, or because a later due date won the race.
    if (E.isLeft(o)) expect(["not-authorised", "due-date-not-later"]).toContain(o.left.code);
  }
  const ids = events.map((e) => e.metadata.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  const positions = events.map((e) => e.position);
  expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
  expect(await hostA.canManage("parent", "child")).toBe(false);
  expect(await hostB.canManage("parent", "child")).toBe(false);
  await Promise.all([storeA.close(), storeB.close()]);
};

describe("command handling on SQLite", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "linked-accounts-handling-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps every event exactly once when two hosts race on one pair (one file, two connections)", async () => {
    const file = path.join(dir, "race.sqlite");
    await race(async () => createSqliteEventStore({ path: file }));
  });
});

const server = await postgresServer("Command handling on PostgreSQL");

describe.skipIf(server.skip)("command handling on PostgreSQL", () => {
  const url = server.skip ? "" : server.url;
  const schemas: string[] = [];
  const schema = (label: string) => {
    const name = `test_handling_${label}_${process.pid}_${schemas.length}`;
    schemas.push(name);
    return name;
  };
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on("error", () => undefined);
  afterAll(async () => {
    for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await admin.end();
  });

  it("keeps every event exactly once when two hosts race on one pair (two pools)", async () => {
    const name = schema("race");
    await race(() => createPostgresEventStore({ connectionString: url, schema: name }));
  });

  it("loses and duplicates nothing when the backend is killed mid-append, and a retry appends once", async () => {
    const name = schema("killed");
    const applicationName = `la_victim_${process.pid}`;
    const pool = new pg.Pool({ connectionString: url, application_name: applicationName, max: 4 });
    pool.on("error", () => undefined);
    const store = await createPostgresEventStore({ pool, schema: name });
    const host = createLinkedAccounts({ store, clock, phrases });
    await must(host.registerAccount({ actor: staff, accountId: "parent", barcode: "P0000001", minor: false }));
    await must(host.registerAccount({ actor: staff, accountId: "child", barcode: "C0000001", minor: false }));
    const issued = await must(host.issueSharePhrase({ actor: as("parent"), direction: "one-way" }));
    // Test-only: an insert whose correlation id says so sleeps inside the append's transaction.
    await slowInsertsMarked(admin, name, "sleep-here", 30);

    const command = { actor: as("child"), barcode: "P0000001", phrase: issued.phrase, commandId: "connect-killed" };
    // Settled into a value at once, so its rejection is never left unhandled while we poll.
    const pending = host.connectAccount({ ...command, correlationId: "sleep-here" }).then(
      () => new Error("the append was not interrupted"),
      (error: unknown) => error,
    );
    let victim: number | undefined;
    for (let i = 0; i < 200 && victim === undefined; i++) {
      const found = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'PgSleep'",
        [applicationName],
      );
      victim = found.rows[0]?.pid;
      if (victim === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(victim).toBeDefined();
    await admin.query("SELECT pg_terminate_backend($1)", [victim]);
    const failure = await pending;
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/terminating connection|connection/i);
    expect((await all(store)).filter((e) => e.type === "AccountConnected")).toHaveLength(0);

    // The host retries the same command: it is appended once, and a third send changes nothing.
    const retried = await must(host.connectAccount(command));
    const again = await must(host.connectAccount(command));
    expect(retried.linkId).not.toBeNull();
    expect(again.position).toBe(retried.position);
    const after = await all(store);
    expect(after.filter((e) => e.type === "AccountConnected")).toHaveLength(1);
    expect(new Set(after.map((e) => e.metadata.eventId)).size).toBe(after.length);
    await store.close();
    await pool.end();
  });
});
