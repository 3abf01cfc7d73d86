/**
 * Issue 12 through the host API, over a store that seals personal data:
 * erasing a closed account, retention runs, and a retention run's append
 * condition (returns never make it conflict; a patron's choice does).
 */
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { makePolicy } from "@linked-accounts/domain";
import { ERASED, type Policy, declarations, initialLibraryState, matchesQuery } from "@linked-accounts/domain/internal";
import { manualClock } from "./clock.js";
import { AppendConditionError, type EventStore, type NewEvent, type RecordedEvent } from "./event-store.js";
import { createInMemoryEventStore } from "./in-memory-store.js";
import { createLinkedAccounts } from "./linked-accounts.js";
import type { SealingEventStore } from "./personal-data.js";
import { scryptSharePhrases } from "./share-phrases.js";

// Cheap scrypt so the suite is quick.
const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });
const DAY_MS = 24 * 60 * 60 * 1000;
const START = "2026-01-01T09:00:00.000Z";
const TITLE = "Whakapapa: a patron's own borrowing";

const right = async <A>(outcome: Promise<E.Either<{ code: string; message: string }, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`expected success, got ${result.left.code}: ${result.left.message}`);
  return result.right;
};
const leftCode = async (outcome: Promise<E.Either<{ code: string; message: string }, unknown>>) => {
  const result = await outcome;
  if (E.isRight(result)) throw new Error("expected a refusal, got success");
  return result.left.code;
};
const all = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const e of store.readAll()) events.push(e);
  return events;
};
/** Every byte the log keeps, as text: what an export or a backup would copy. */
const logText = async (store: SealingEventStore): Promise<string> => {
  const rows: unknown[] = [];
  for await (const e of store.log.readAll()) rows.push(e);
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
};
const titleOf = (events: ReadonlyArray<RecordedEvent>, loanId: string) => {
  const checkout = events.find((e) => e.type === "ItemCheckedOut" && e.data.loanId === loanId);
  return checkout?.type === "ItemCheckedOut" ? checkout.data.title : undefined;
};

const setUp = (store: EventStore = createInMemoryEventStore(), policy?: Policy, clock = manualClock(START)) => {
  const library = createLinkedAccounts({ store, clock, phrases, ...(policy === undefined ? {} : { policy }) });
  return { clock, library, desk: library.staff("desk-1"), system: library.system() };
};

/** A store whose every append goes through `before` first (another host's doing, between a command's read and its append). */
const interleaved = (inner: SealingEventStore, before: (events: ReadonlyArray<NewEvent>) => Promise<void>) => {
  const attempts: string[] = [];
  const store: EventStore = {
    ...inner,
    read: (q, o) => inner.read(q, o),
    readAll: (o) => inner.readAll(o),
    head: () => inner.head(),
    append: async (events, condition) => {
      await before(events);
      try {
        const result = await inner.append(events, condition);
        attempts.push(`${events[0]!.type}: appended`);
        return result;
      } catch (error) {
        attempts.push(`${events[0]!.type}: ${error instanceof AppendConditionError ? "conflict" : "failed"}`);
        throw error;
      }
    },
  };
  return { store, attempts };
};

describe("eraseAccount over a sealing store", () => {
  it("once the account is closed, its barcode and what it borrowed read [erased], and the log holds neither", async () => {
    const store = createInMemoryEventStore();
    const { desk } = setUp(store);
    await right(desk.registerAccount({ accountId: "alice", barcode: "A0000001", minor: false }));
    const loan = await right(desk.recordCheckout({ accountId: "alice", itemId: "item-77", title: TITLE, dueAt: "2026-01-20T09:00:00.000Z" }));
    await right(desk.recordReturn({ accountId: "alice", loanId: loan.loanId }));
    expect(await leftCode(desk.eraseAccount({ accountId: "alice" }))).toBe("account-open");

    // Before: readable through the store, sealed in the log.
    const before = await all(store);
    expect(before.find((e) => e.type === "AccountRegistered")?.data).toMatchObject({ barcode: "A0000001" });
    expect(titleOf(before, loan.loanId)).toBe(TITLE);

    await right(desk.closeAccount({ accountId: "alice" }));
    const erased = await right(desk.eraseAccount({ accountId: "alice" }));
    expect(erased.events).toMatchObject([{ type: "AccountErased", data: { accountId: "alice" } }]);

    const after = await all(store);
    expect(after.find((e) => e.type === "AccountRegistered")?.data).toMatchObject({ accountId: "alice", barcode: ERASED });
    expect(after.find((e) => e.type === "ItemCheckedOut")?.data).toMatchObject({ loanId: loan.loanId, itemId: ERASED, title: ERASED });
    const text = await logText(store);
    for (const secret of ["A0000001", TITLE, "Whakapapa", "item-77"]) expect(text, secret).not.toContain(secret);
    expect(text).toContain("alice"); // ids stay: the audit

    // Erasing again changes nothing; the barcode is free for a new patron.
    expect((await right(desk.eraseAccount({ accountId: "alice" }))).events).toEqual([]);
    await right(desk.registerAccount({ accountId: "alice-2", barcode: "A0000001", minor: false }));
  });
});

describe("applyRetention over a sealing store", () => {
  /** alice borrowed two books; one came back 100 days before the run, the other 10. */
  const history = async (store: SealingEventStore, policy?: Policy) => {
    const { clock, library, desk, system } = setUp(store, policy);
    await right(desk.registerAccount({ accountId: "alice", barcode: "A0000001", minor: false }));
    const old = await right(desk.recordCheckout({ accountId: "alice", itemId: "item-old", title: "The Old Book", dueAt: "2026-02-01T09:00:00.000Z" }));
    const recent = await right(desk.recordCheckout({ accountId: "alice", itemId: "item-new", title: "The New Book", dueAt: "2026-02-01T09:00:00.000Z" }));
    await right(desk.recordReturn({ accountId: "alice", loanId: old.loanId }));
    clock.advance(90 * DAY_MS);
    await right(desk.recordReturn({ accountId: "alice", loanId: recent.loanId }));
    clock.advance(10 * DAY_MS);
    return { clock, library, desk, system, old: old.loanId, recent: recent.loanId };
  };

  it("with 30 days' retention forgets exactly the loan returned 100 days ago: its title reads [erased], the other's does not", async () => {
    const store = createInMemoryEventStore();
    const { system, old, recent } = await history(store);
    const run = await right(system.applyRetention({ retentionDays: 30 }));
    expect(run.forgotten).toBe(1);
    expect(run.events).toMatchObject([{ type: "LoanDetailsForgotten", data: { loanId: old, accountId: "alice", retentionDays: 30 } }]);
    const events = await all(store);
    expect(titleOf(events, old)).toBe(ERASED);
    expect(titleOf(events, recent)).toBe("The New Book");
    expect(events.find((e) => e.type === "AccountRegistered")?.data).toMatchObject({ barcode: "A0000001" });
    const text = await logText(store);
    expect(text).not.toContain("The Old Book");
    expect(text).not.toContain("The New Book"); // sealed, though not forgotten
    // The host loops until a run forgets nothing.
    expect((await right(system.applyRetention({ retentionDays: 30 }))).forgotten).toBe(0);
  });

  it("takes the policy's retentionDays when the run names none, and keeps the history of a patron who chose to", async () => {
    const store = createInMemoryEventStore();
    const { library, system, old } = await history(store, makePolicy({ retentionDays: 30 }));
    await right(library.patron("alice").chooseReadingHistory({ accountId: "alice", keep: true }));
    expect((await right(system.applyRetention({}))).forgotten).toBe(0);
    await right(library.patron("alice").chooseReadingHistory({ accountId: "alice", keep: false }));
    expect((await right(system.applyRetention({}))).forgotten).toBe(1);
    expect(titleOf(await all(store), old)).toBe(ERASED);
  });

  it("succeeds at its first append while returns are stored between its read and its append", async () => {
    const inner = createInMemoryEventStore();
    const { clock, desk, old } = await history(inner);
    const others = await Promise.all(
      ["bob", "carol", "dave"].map(async (accountId, i) => {
        await right(desk.registerAccount({ accountId, barcode: `B000000${i}`, minor: false }));
        return right(desk.recordCheckout({ accountId, itemId: `item-${accountId}`, title: "Busy Library", dueAt: "2026-05-01T09:00:00.000Z" }));
      }),
    );
    // Each return is something the run read (the whole library's returns); only its narrower condition lets it through.
    const reads = declarations.applyRetention.reads(undefined as never, initialLibraryState, makePolicy());
    expect(matchesQuery(reads, { type: "ItemReturned", tags: ["loan:x", "account:bob"] })).toBe(true);

    let pending = [...others];
    const { store, attempts } = interleaved(inner, async (events) => {
      if (!events.some((e) => e.type === "LoanDetailsForgotten")) return;
      // Another host's returns land after the run read, concurrently.
      const now = pending;
      pending = [];
      await Promise.all(now.map((loan, i) => right(desk.recordReturn({ accountId: ["bob", "carol", "dave"][i]!, loanId: loan.loanId }))));
    });
    const { system } = setUp(store, undefined, clock);
    const run = await right(system.applyRetention({ retentionDays: 30 }));
    expect(run.forgotten).toBe(1);
    expect(attempts).toEqual(["LoanDetailsForgotten: appended"]);
    const events = await all(inner);
    expect(events.filter((e) => e.type === "ItemReturned")).toHaveLength(5);
    expect(titleOf(events, old)).toBe(ERASED);
  });

  it("runs alongside many returns at once, none refused and nothing forgotten twice", async () => {
    const inner = createInMemoryEventStore();
    const { clock, desk, old } = await history(inner);
    const loans = [];
    for (let i = 0; i < 20; i++) {
      await right(desk.registerAccount({ accountId: `p${i}`, barcode: `P${100000 + i}`, minor: false }));
      loans.push(await right(desk.recordCheckout({ accountId: `p${i}`, itemId: `item-${i}`, title: "Busy", dueAt: "2026-05-01T09:00:00.000Z" })));
    }
    // Returns and runs alike through one host on the same store.
    const { store, attempts } = interleaved(inner, async () => {});
    const host = setUp(store, undefined, clock);
    const system = host.system;
    const outcomes = await Promise.all([
      system.applyRetention({ retentionDays: 30 }),
      ...loans.map((loan, i) => host.desk.recordReturn({ accountId: `p${i}`, loanId: loan.loanId })),
      system.applyRetention({ retentionDays: 30 }),
    ]);
    expect(outcomes.filter(E.isLeft)).toEqual([]);
    const forgotten = (await all(inner)).filter((e) => e.type === "LoanDetailsForgotten");
    expect(forgotten.map((e) => e.data)).toMatchObject([{ loanId: old }]);
    expect(attempts.filter((a) => a === "ItemReturned: appended")).toHaveLength(20);
    // The two runs may race each other (one forgetting, the other then finding it forgotten), never a return.
    expect(attempts.filter((a) => a.endsWith("conflict")).every((a) => a.startsWith("LoanDetailsForgotten"))).toBe(true);
  });

  it("decides again when a patron chooses to keep their history between its read and its append", async () => {
    const inner = createInMemoryEventStore();
    const { library, desk, old } = await history(inner);
    await right(desk.registerAccount({ accountId: "bob", barcode: "B0000001", minor: false }));
    const bobs = await right(desk.recordCheckout({ accountId: "bob", itemId: "item-bob", title: "Bob's Book", dueAt: "2026-06-01T09:00:00.000Z" }));
    // Returned at day 100, like alice's two: all three are due to a run at day 200.
    await right(desk.recordReturn({ accountId: "bob", loanId: bobs.loanId }));
    let chooseFirst = true;
    const { store, attempts } = interleaved(inner, async (events) => {
      if (chooseFirst && events.some((e) => e.type === "LoanDetailsForgotten")) {
        chooseFirst = false;
        await right(library.patron("alice").chooseReadingHistory({ accountId: "alice", keep: true }));
      }
    });
    const clock = manualClock(new Date(Date.parse(START) + 200 * DAY_MS));
    const system = createLinkedAccounts({ store, clock, phrases, retry: { minDelayMs: 1, maxDelayMs: 2 } }).system();
    const run = await right(system.applyRetention({ retentionDays: 30 }));
    // The first decision forgot alice's two loans and bob's; alice's choice refused it; the second forgot bob's only.
    expect(attempts).toEqual(["LoanDetailsForgotten: conflict", "LoanDetailsForgotten: appended"]);
    expect(run.forgotten).toBe(1);
    expect(run.events).toMatchObject([{ type: "LoanDetailsForgotten", data: { loanId: bobs.loanId, accountId: "bob" } }]);
    const events = await all(inner);
    expect(titleOf(events, old)).toBe("The Old Book");
    expect(titleOf(events, bobs.loanId)).toBe(ERASED);
  });
});
