/**
 * Command handling against the real stores, from several host processes at
 * once: distinct pairs never refuse each other (R16), unrelated appends never
 * refuse a connect, a manager's action is never stored after the revocation
 * that ended its grant (R13), and a PostgreSQL backend killed mid-command loses
 * and duplicates nothing (R15).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import pg from "pg";
import { type DomainEvent, initialLinkingState, tagsOf } from "@linked-accounts/domain/internal";
import { afterAll, describe, expect, it } from "vitest";
import { manualClock } from "./clock.js";
import { postgresServer, slowInsertsMarked } from "./contract/postgres-server.js";
import { sampleMetadata } from "./contract/sample-events.js";
import type { EventStore, RecordedEvent } from "./event-store.js";
import { createLinkedAccounts } from "./linked-accounts.js";
import { createPostgresEventStore } from "./postgres-store.js";
import { scryptSharePhrases } from "./share-phrases.js";
import { createSqliteEventStore } from "./sqlite-store.js";

const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });
const HOST = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "fixtures", "host.js");

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

/** Appends decided facts directly (tagged as the handler tags them), in batches: fast set-up. */
const seed = async (store: EventStore, events: ReadonlyArray<DomainEvent>) => {
  const tagged = events.map((event) => ({ ...event, metadata: sampleMetadata(), tags: tagsOf(event, initialLinkingState) }));
  for (let i = 0; i < tagged.length; i += 500) await store.append(tagged.slice(i, i + 500));
};

const at = "2026-03-03T09:00:00.000Z";
const registered = (accountId: string, barcode: string, minor = false): DomainEvent => ({
  type: "AccountRegistered",
  data: { accountId, barcode, minor, registeredAt: at },
});

/** Runs a host process to its end; resolves to its stdout lines. */
const host = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<string[]>; said: (line: string) => Promise<void> } => {
  const child = spawn(process.execPath, [HOST, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiting: Array<() => void> = [];
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of waiting.splice(0)) wake();
  });
  /** Resolves once the process has printed `line`. */
  const said = async (line: string): Promise<void> => {
    while (!out.split("\n").includes(line)) {
      if (child.exitCode !== null) throw new Error(`host ${args[1]} ended before saying ${line}: ${err}`);
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<string[]>((resolve, reject) =>
    child.on("exit", (code) => {
      for (const wake of waiting.splice(0)) wake();
      if (code === 0) resolve(out.trim().split("\n"));
      else reject(new Error(`host ${args[1]} exited ${code}: ${err}`));
    }),
  );
  return { child, done, said };
};

const summary = (lines: ReadonlyArray<string>) => {
  const [, accepted, refused] = (lines.find((l) => l.startsWith("done")) ?? "done -1 -1").split(" ");
  return { accepted: Number(accepted), refused: Number(refused), refusals: lines.filter((l) => l.startsWith("refused")) };
};

/** Registers issuers and connectors of `pairs` pairs and issues each issuer a phrase; returns the phrases. */
const pairsWithPhrases = async (store: EventStore, prefix: string, pairs: number): Promise<string[]> => {
  await seed(
    store,
    Array.from({ length: pairs }, (_, i) => [registered(`issuer-${prefix}-${i}`, `I${prefix}${i}`.toUpperCase()), registered(`connector-${prefix}-${i}`, `K${prefix}${i}`.toUpperCase())]).flat(),
  );
  const library = createLinkedAccounts({ store, phrases });
  const issued = await Promise.all(
    Array.from({ length: pairs }, (_, i) => must(library.patron(`issuer-${prefix}-${i}`).issueSharePhrase({ direction: "one-way" }))),
  );
  return issued.map((p) => p.phrase);
};

/** Links `pairs` manager → child pairs and lends each child a book, as seeded facts. */
const linkedPairsWithLoans = (prefix: string, pairs: number): DomainEvent[] =>
  Array.from({ length: pairs }, (_, i): DomainEvent[] => [
    registered(`manager-${prefix}-${i}`, `M${prefix}${i}`.toUpperCase()),
    registered(`child-${prefix}-${i}`, `C${prefix}${i}`.toUpperCase(), true),
    {
      type: "AccountConnected",
      data: {
        linkId: `link-${prefix}-${i}`,
        phraseId: `phrase-${prefix}-${i}`,
        issuerAccountId: `manager-${prefix}-${i}`,
        connectedAccountId: `child-${prefix}-${i}`,
        direction: "one-way",
        connectedAt: at,
      },
    },
    {
      type: "ItemCheckedOut",
      data: {
        loanId: `loan-${prefix}-${i}`,
        accountId: `child-${prefix}-${i}`,
        itemId: "item-1",
        title: "The Very Hungry Caterpillar",
        format: "physical",
        checkedOutAt: at,
        dueAt: "2026-12-01T00:00:00.000Z",
      },
    },
  ]).flat();

/** The specification every real store meets, given how a host process opens it. */
const underLoad = (openStore: () => Promise<EventStore>, spec: (label: string) => string) => {
  it("connects 64 distinct pairs at once from two host processes with no refusal (R16)", async () => {
    const store = await openStore();
    const prefix = "c64";
    const issued = await pairsWithPhrases(store, prefix, 64);
    const env = { PHRASES: JSON.stringify(issued) };
    const [a, b] = [host([spec(prefix), "connect", prefix, "0", "32"], env), host([spec(prefix), "connect", prefix, "32", "32"], env)];
    const [outA, outB] = await Promise.all([a.done, b.done]);
    expect([summary(outA), summary(outB)]).toEqual([
      { accepted: 32, refused: 0, refusals: [] },
      { accepted: 32, refused: 0, refusals: [] },
    ]);
    expect((await all(store)).filter((e) => e.type === "AccountConnected" && e.data.issuerAccountId.startsWith(`issuer-${prefix}-`))).toHaveLength(64);
    await store.close();
  });

  it("connects while another process appends unrelated linking events continuously, with no refusal", async () => {
    const store = await openStore();
    const prefix = "churn";
    const issued = await pairsWithPhrases(store, prefix, 24);
    const stop = path.join(os.tmpdir(), `linked-accounts-stop-${process.pid}-${Date.now()}`);
    const churn = host([spec(prefix), "churn", prefix, stop]);
    await churn.said("churning");
    const library = createLinkedAccounts({ store, phrases });
    const outcomes = [];
    // One after another, each while the other process keeps appending.
    for (let i = 0; i < 24; i++)
      outcomes.push(await library.patron(`connector-${prefix}-${i}`).connectAccount({ barcode: `I${prefix}${i}`, phrase: issued[i]! }));
    writeFileSync(stop, "");
    const churned = Number((await churn.done).at(-1)?.split(" ")[1]);
    rmSync(stop, { force: true });
    expect(outcomes.filter(E.isLeft)).toEqual([]);
    expect(churned).toBeGreaterThan(0);
    await store.close();
  });

  it("never stores a manager's renewal after the revocation that ended its grant: 1,000 races between two processes (R13)", async () => {
    const store = await openStore();
    const prefix = "race";
    const pairs = 1000;
    await seed(store, linkedPairsWithLoans(prefix, pairs));
    const [renew, revoke] = [host([spec(prefix), "renew", prefix, String(pairs)]), host([spec(prefix), "revoke", prefix, String(pairs)])];
    const [renewed, revoked] = await Promise.all([renew.done, revoke.done]);
    expect(summary(revoked)).toMatchObject({ accepted: pairs, refused: 0 });
    const renewals = summary(renewed);
    // A renewal either won (stored before the revocation) or lost and was refused on fresh links.
    expect(renewals.refusals.every((l) => l.endsWith(" not-authorised"))).toBe(true);
    expect(renewals.accepted + renewals.refused).toBe(pairs);

    const events = await all(store);
    const revokedAt = new Map<string, bigint>();
    for (const e of events) if (e.type === "LinkRevoked") revokedAt.set(e.data.linkId, e.position);
    const late = events.filter(
      (e) => e.type === "LoanRenewed" && e.position > (revokedAt.get(e.data.loanId.replace("loan-", "link-")) ?? Number.MAX_SAFE_INTEGER),
    );
    expect(late).toEqual([]);
    expect(events.filter((e) => e.type === "LoanRenewed" && e.data.loanId.startsWith(`loan-${prefix}-`))).toHaveLength(renewals.accepted);
    expect(new Set(events.map((e) => e.metadata.eventId)).size).toBe(events.length);
    await store.close();
  });
};

describe("command handling on SQLite, several host processes on one file", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "linked-accounts-handling-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (label: string) => path.join(dir, `${label}.sqlite`);
  let current = "";
  underLoad(
    async () => {
      current = `run-${Math.random().toString(36).slice(2)}`;
      return createSqliteEventStore({ path: file(current) });
    },
    () => `sqlite:${file(current)}`,
  );
});

const server = await postgresServer("Command handling on PostgreSQL");

describe.skipIf(server.skip)("command handling on PostgreSQL, several host processes on one database", () => {
  const url = server.skip ? "" : server.url;
  const schemas: string[] = [];
  const schema = () => {
    const name = `test_handling_${process.pid}_${schemas.length}`;
    schemas.push(name);
    return name;
  };
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on("error", () => undefined);
  afterAll(async () => {
    for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await admin.end();
  });

  underLoad(
    () => createPostgresEventStore({ connectionString: url, schema: schema() }),
    () => `postgres:${schemas.at(-1)}@${url}`,
  );

  it("loses and duplicates nothing when the backend is killed mid-append, and a retry appends once", async () => {
    const name = schema();
    const applicationName = `la_victim_${process.pid}`;
    const pool = new pg.Pool({ connectionString: url, application_name: applicationName, max: 4 });
    pool.on("error", () => undefined);
    const store = await createPostgresEventStore({ pool, schema: name });
    const library = createLinkedAccounts({ store, clock: manualClock(at), phrases });
    await must(library.staff("desk-1").registerAccount({ accountId: "parent", barcode: "P0000001", minor: false }));
    await must(library.staff("desk-1").registerAccount({ accountId: "child", barcode: "C0000001", minor: false }));
    const issued = await must(library.patron("parent").issueSharePhrase({ direction: "one-way" }));
    // Test-only: an insert whose correlation id says so sleeps inside the append's transaction.
    await slowInsertsMarked(admin, name, "sleep-here", 30);

    const command = { barcode: "P0000001", phrase: issued.phrase, commandId: "connect-killed" };
    const child = library.patron("child");
    // Settled into a value at once, so its rejection is never left unhandled while we poll.
    const pending = child.connectAccount({ ...command, correlationId: "sleep-here" }).then(
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
    expect((failure as Error).message).toMatch(/terminat|connection/i);
    expect((await all(store)).filter((e) => e.type === "AccountConnected")).toHaveLength(0);

    // The host retries the same command: it is appended once, and a third send changes nothing.
    const retried = await must(child.connectAccount(command));
    const again = await must(child.connectAccount(command));
    expect(retried.linkId).not.toBeNull();
    expect(again.freshness).toBe(retried.freshness);
    const after = await all(store);
    expect(after.filter((e) => e.type === "AccountConnected")).toHaveLength(1);
    expect(new Set(after.map((e) => e.metadata.eventId)).size).toBe(after.length);
    await store.close();
    await pool.end();
  });
});
