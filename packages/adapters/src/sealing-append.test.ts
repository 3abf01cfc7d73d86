/**
 * A store whose keys are a table beside its events stores a new key in the
 * transaction of the append that needs it (personal-data.ts,
 * `AppendCreatingKeys`). What must hold, on every engine: a refused or failed
 * append stores no key; a key once stored is never replaced, and a writer that
 * proposed another (racing, or not having met the subject) seals again under
 * the one stored; nothing is created beneath a forgotten subject.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ERASED } from "@linked-accounts/domain/internal";
import { postgresServer } from "./contract/postgres-server.js";
import { accountRegistered, itemCheckedOut, sampleMetadata } from "./contract/sample-events.js";
import { AppendConditionError, AppendFailedError, type NewEvent, type RecordedEvent } from "./event-store.js";
import { createInMemoryEventStore } from "./in-memory-store.js";
import type { PersonalDataOptions, SealingEventStore } from "./personal-data.js";
import { createPostgresEventStore } from "./postgres-store.js";
import { createSqliteEventStore } from "./sqlite-store.js";

const collect = async <T>(events: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const event of events) out.push(event);
  return out;
};

const registered = (n: number): NewEvent => {
  const event = accountRegistered(n);
  return { ...event, tags: [`account:account-${n}`, `barcode:B${String(n).padStart(9, "0")}`] };
};
const checkout = itemCheckedOut;
const holdPlaced = (accountId: string, holdId: string, pickupBranch: string): NewEvent => ({
  type: "HoldPlaced",
  data: { holdId, accountId, itemId: `item-of-${holdId}`, title: "A held title", pickupBranch, placedAt: "2026-03-03T09:00:00.000Z" },
  metadata: sampleMetadata(),
  tags: [`hold:${holdId}`, `account:${accountId}`],
});
const branchChanged = (accountId: string, holdId: string, pickupBranch: string): NewEvent => ({
  type: "HoldPickupBranchChanged",
  data: { holdId, accountId, pickupBranch, changedBy: accountId, changedAt: "2026-03-04T09:00:00.000Z" },
  metadata: sampleMetadata(),
  tags: [`hold:${holdId}`, `account:${accountId}`],
});
const revoked = (linkId: string, a: string, b: string, reason: string): NewEvent => ({
  type: "LinkRevoked",
  data: { linkId, revokedBy: { kind: "staff", staffId: "desk-1" }, reason, revokedAt: "2026-03-04T00:00:00.000Z" },
  metadata: sampleMetadata(),
  tags: [`link:${linkId}`, `account:${a}`, `account:${b}`],
});

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** One engine's store, made empty; and, where the engine is shared by processes, more stores on the same data (their caches cold). */
interface Opened {
  readonly store: SealingEventStore;
  /** Another store on the same events and keys: another process's. */
  readonly again?: (personalData?: PersonalDataOptions) => Promise<SealingEventStore>;
  /** Makes the database refuse the insert of any event of this account (a constraint failing mid-append). */
  readonly refuseEventsOf?: (accountId: string) => Promise<void>;
}
interface Engine {
  readonly name: string;
  readonly skip?: string;
  /** A store of this process alone: no second process opens it, no database refuses an insert (the tests of those are not run). */
  readonly thisProcessOnly?: true;
  open(personalData?: PersonalDataOptions): Promise<Opened>;
}

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-sealing-append-"));
let files = 0;

const server = await postgresServer("Sealing append tests (PostgreSQL)");
const url = server.skip ? undefined : server.url;
const schemas: string[] = [];
const admin = url === undefined ? undefined : new pg.Pool({ connectionString: url, max: 2 });
admin?.on("error", () => undefined);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (admin === undefined) return;
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

const engines: Engine[] = [
  { name: "in memory", thisProcessOnly: true, open: async (personalData) => ({ store: createInMemoryEventStore(personalData) }) },
  {
    name: "SQLite",
    open: async (personalData) => {
      const path = join(dir, `store-${++files}.sqlite`);
      const store = createSqliteEventStore({ path, ...(personalData === undefined ? {} : { personalData }) });
      return {
        store,
        again: async (more) => createSqliteEventStore({ path, ...(more === undefined ? {} : { personalData: more }) }),
        refuseEventsOf: async (accountId) => {
          const raw = new Database(path);
          raw.exec(
            `CREATE TRIGGER refuse_${accountId.replace(/\W/g, "_")} BEFORE INSERT ON events WHEN json_extract(NEW.data, '$.accountId') = '${accountId}'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
          );
          raw.close();
        },
      };
    },
  },
  {
    name: "PostgreSQL",
    ...(url === undefined ? { skip: "no PostgreSQL server" } : {}),
    open: async (personalData) => {
      const schema = `sealing_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
      schemas.push(schema);
      const open = (more?: PersonalDataOptions) =>
        createPostgresEventStore({ connectionString: url!, schema, ...(more === undefined ? {} : { personalData: more }) });
      return {
        store: await open(personalData),
        again: open,
        refuseEventsOf: async (accountId) => {
          const name = `refuse_${accountId.replace(/\W/g, "_")}`;
          await admin!.query(`
            CREATE FUNCTION ${schema}.${name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.data->>'accountId' = '${accountId}' THEN RAISE EXCEPTION 'refused by the test'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER ${name} BEFORE INSERT ON ${schema}.events FOR EACH ROW EXECUTE FUNCTION ${schema}.${name}();`);
        },
      };
    },
  },
];

/** What each event of a store reads, in order: its type and personal fields. */
const personal = (event: RecordedEvent): string => {
  const data = event.data as Record<string, unknown>;
  const fields = ["barcode", "title", "pickupBranch", "reason"].filter((f) => f in data).map((f) => `${f}=${String(data[f])}`);
  return `${event.type} ${fields.join(" ")}`;
};

for (const engine of engines)
  describe.skipIf(engine.skip !== undefined)(`${engine.name}: a new key is stored by the append that needs it`, () => {
    /** A test of a store shared with another process or a database, for the engines that have one. */
    const itShared = engine.thisProcessOnly === true ? () => undefined : it;
    it("stores no key for an append whose condition is refused, and the key with the events once appended", async () => {
      const { store } = await engine.open();
      await store.append([registered(0)]);
      const condition = { failIfEventsMatch: { items: [{ tags: ["account:account-0"] }] }, after: null };
      expect(await rejection(store.append([registered(1), checkout("account-1", "loan-1", "Refused")], condition))).toBeInstanceOf(AppendConditionError);
      expect([...(await store.keys.find(["account:account-1", "account:account-1/loan:loan-1"])).keys()]).toEqual([]);
      expect(await store.head()).toBe(1n);

      await store.append([registered(1), checkout("account-1", "loan-1", "Kept")]);
      const found = await store.keys.find(["account:account-1", "account:account-1/loan:loan-1"]);
      expect([...found.values()].map((key) => key?.length)).toEqual([32, 32]);
      expect((await collect(store.readAll())).map(personal)).toEqual(["AccountRegistered barcode=B000000000", "AccountRegistered barcode=B000000001", "ItemCheckedOut title=Kept"]);
      await store.close();
    });

    itShared("stores no key for an append the database fails midway", async () => {
      const { store, refuseEventsOf } = await engine.open();
      if (refuseEventsOf === undefined) throw new Error(`${engine.name} has no database to refuse an insert`);
      await store.append([registered(0)]);
      await refuseEventsOf("account-9");
      // The first event's insert is accepted, the second's refused: the whole append rolls back, its keys too.
      const error = await rejection(store.append([registered(2), checkout("account-9", "loan-9", "Never stored")]));
      expect(error).toBeInstanceOf(AppendFailedError);
      expect(error).toMatchObject({ outcome: "not-appended" });
      expect([...(await store.keys.find(["account:account-2", "account:account-9/loan:loan-9"])).keys()]).toEqual([]);
      expect(await store.head()).toBe(1n);
      await store.close();
    });

    it("seals under the key stored, never one of its own, when its cache does not know a subject that has a key", async () => {
      // keyCacheMs 0: every append proposes new keys for every subject, so each one here after the first meets a key stored.
      const { store } = await engine.open({ keyCacheMs: 0 });
      await store.append([registered(1), registered(2), holdPlaced("account-1", "hold-1", "Central")]);
      const before = await store.keys.find(["account:account-1", "account:account-2", "account:account-1/hold:hold-1"]);
      await store.append([branchChanged("account-1", "hold-1", "Riverside")]);
      await store.append([revoked("link-1", "account-1", "account-2", "Asked to at the desk")]);
      // And one new key beside a known one, in one batch: the new one is kept for the second try.
      await store.append([branchChanged("account-1", "hold-1", "Hillside"), holdPlaced("account-2", "hold-2", "Central")]);
      const after = await store.keys.find(["account:account-1", "account:account-2", "account:account-1/hold:hold-1"]);
      expect([...after.entries()]).toEqual([...before.entries()]);
      expect((await collect(store.readAll())).map(personal)).toEqual([
        "AccountRegistered barcode=B000000001",
        "AccountRegistered barcode=B000000002",
        "HoldPlaced title=A held title pickupBranch=Central",
        "HoldPickupBranchChanged pickupBranch=Riverside",
        "LinkRevoked reason=Asked to at the desk",
        "HoldPickupBranchChanged pickupBranch=Hillside",
        "HoldPlaced title=A held title pickupBranch=Central",
      ]);
      await store.close();
    });

    it("stores a registration of an account the key store has forgotten, its personal fields born erased", async () => {
      const { store } = await engine.open();
      await store.append([registered(1)]);
      // Forgotten in the key store behind this store's back: its cache has never met the account, so it proposes a key.
      await store.keys.forget(["account:account-7"]);
      await store.append([registered(7)]);
      expect((await collect(store.readAll())).map(personal)).toEqual(["AccountRegistered barcode=B000000001", `AccountRegistered barcode=${ERASED}`]);
      expect([...(await store.keys.find(["account:account-7"])).entries()]).toEqual([["account:account-7", null]]);
      await store.close();
    });

    itShared("agrees on one key per account when two processes register the same new accounts at once: every event opens as written", async () => {
      const { store: a, again } = await engine.open();
      if (again === undefined) throw new Error(`${engine.name} cannot be opened by another process`);
      const b = await again();
      const rounds = 40;
      // Keys of subjects belonging to no other, alone in their appends (the PostgreSQL store's lean statement).
      await Promise.all(Array.from({ length: rounds }, (_, i) => Promise.all([a, b].map((store) => store.append([registered(200 + i)])))));
      const reader = await again();
      const read = (await collect(reader.readAll())).map(personal);
      expect(read.sort()).toEqual(Array.from({ length: rounds }, (_, i) => `AccountRegistered barcode=B${String(200 + i).padStart(9, "0")}`).flatMap((line) => [line, line]).sort());
      await Promise.all([a.close(), b.close(), reader.close()]);
    }, 60_000);

    itShared("seals a part of two accounts under the key derived from theirs when another process made them", async () => {
      const { store, again } = await engine.open();
      if (again === undefined) throw new Error(`${engine.name} cannot be opened by another process`);
      await store.append([registered(1), registered(2)]);
      // A second process, its cache empty: it proposes keys for both accounts, finds them stored, and derives again.
      const other = await again();
      await other.append([revoked("link-1", "account-1", "account-2", "Moved away")]);
      await other.append([revoked("link-2", "account-2", "account-1", "Moved back")]);
      const reader = await again();
      expect((await collect(reader.readAll())).map(personal).slice(2)).toEqual(["LinkRevoked reason=Moved away", "LinkRevoked reason=Moved back"]);
      await Promise.all([store.close(), other.close(), reader.close()]);
    });

    itShared("agrees on one key per subject when two processes create the same subjects at once: every event opens as written", async () => {
      const { store: a, again } = await engine.open();
      if (again === undefined) throw new Error(`${engine.name} cannot be opened by another process`);
      const b = await again();
      const rounds = 40;
      // Each round, both register the same new account and check out the same new loan of it, all rounds in flight at once.
      await Promise.all(
        Array.from({ length: rounds }, (_, i) =>
          Promise.all(
            [a, b].map((store, w) => store.append([registered(100 + i), checkout(`account-${100 + i}`, `loan-${i}`, `Title ${i} by ${w}`)])),
          ),
        ),
      );
      const reader = await again();
      const read = (await collect(reader.readAll())).map(personal);
      expect(read).toHaveLength(4 * rounds);
      for (let i = 0; i < rounds; i++) {
        expect(read.filter((line) => line === `AccountRegistered barcode=B${String(100 + i).padStart(9, "0")}`)).toHaveLength(2);
        expect(read.filter((line) => line.startsWith(`ItemCheckedOut title=Title ${i} by `)).sort()).toEqual([`ItemCheckedOut title=Title ${i} by 0`, `ItemCheckedOut title=Title ${i} by 1`]);
      }
      await Promise.all([a.close(), b.close(), reader.close()]);
    }, 60_000);

    itShared("creates no key beneath an account forgotten while another process checks out to it, in 10 races", async () => {
      const { store: a, again } = await engine.open();
      if (again === undefined) throw new Error(`${engine.name} cannot be opened by another process`);
      const b = await again();
      for (let round = 0; round < 10; round++) {
        const accountId = `account-${round}`;
        await a.append([registered(round)]);
        const loans = Array.from({ length: 20 }, (_, i) => `loan-${round}-${i}`);
        // One by one and in one batch, all in flight while the account's key is forgotten.
        await Promise.all([
          a.keys.forget([`account:${accountId}`]),
          ...loans.slice(0, 10).map((loan) => b.append([checkout(accountId, loan, `Borrowed ${loan}`)])),
          b.append(loans.slice(10).map((loan) => checkout(accountId, loan, `Borrowed ${loan}`))),
        ]);
        const found = await a.keys.find([`account:${accountId}`, ...loans.map((loan) => `account:${accountId}/loan:${loan}`)]);
        // Whatever was created before the forget was forgotten with it; whatever came after was never made.
        expect([...found.values()].filter((key) => key !== null)).toEqual([]);
        expect(found.size).toBe(21);
      }
      // Every checkout was stored, and reads [erased]: none sealed under a key that lived on.
      const reader = await again();
      const titles = (await collect(reader.read({ items: [{ types: ["ItemCheckedOut"] }] }))).map((e) => (e.data as { title: string }).title);
      expect(titles).toHaveLength(200);
      expect(new Set(titles)).toEqual(new Set([ERASED]));
      await Promise.all([a.close(), b.close(), reader.close()]);
    }, 60_000);
  });
