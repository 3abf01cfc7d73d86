/**
 * Issue 12, a patron's reading history is theirs: erasing a closed account,
 * choosing to keep one's reading history, and retention runs. Given events,
 * when a command, then events or an error.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyRetention } from "./commands/apply-retention.js";
import { chooseReadingHistory } from "./commands/choose-reading-history.js";
import { eraseAccount } from "./commands/erase-account.js";
import { declarationOf } from "./commands/index.js";
import { fold, libraryDecider } from "./decider.js";
import type { DomainEvent, EventOf } from "./events.js";
import { type LibraryState, initialLibraryState } from "./library-state.js";
import { accountIdByBarcode } from "./linking-state.js";
import { ERASED } from "./personal.js";
import { defaultPolicy, makePolicy } from "./policy.js";
import { type Query, matchesQuery, selectsWithin } from "./query.js";
import { tagsOf } from "./tags.js";
import {
  START_MS,
  accountClosed,
  asAccount,
  asStaff,
  asSystem,
  at,
  barcodeOf,
  checkedOut,
  command,
  connected,
  holdPlaced,
  phraseIssued,
  registered,
} from "./testing/fixtures.js";
import { validHistory } from "./testing/history.js";
import { given } from "./testing/scenario.js";

const numRuns = Number(process.env.FC_RUNS ?? 200);

/** Minutes. */
const DAY = 24 * 60;
const DAY_MS = DAY * 60_000;

const returned = (loanId: string, accountId: string, minutes: number): EventOf<"ItemReturned"> => ({
  type: "ItemReturned",
  data: { loanId, accountId, returnedAt: at(minutes) },
});
const holdFulfilled = (holdId: string, accountId: string, minutes: number): EventOf<"HoldFulfilled"> => ({
  type: "HoldFulfilled",
  data: { holdId, accountId, fulfilledAt: at(minutes) },
});
const holdCancelled = (holdId: string, accountId: string, minutes: number): EventOf<"HoldCancelled"> => ({
  type: "HoldCancelled",
  data: { holdId, accountId, cancelledBy: accountId, cancelledAt: at(minutes) },
});
const holdSuspended = (holdId: string, accountId: string, minutes: number): EventOf<"HoldSuspended"> => ({
  type: "HoldSuspended",
  data: { holdId, accountId, until: at(minutes + 400 * DAY), suspendedBy: accountId, suspendedAt: at(minutes) },
});
const erased = (accountId: string, minutes = 0): EventOf<"AccountErased"> => ({ type: "AccountErased", data: { accountId, erasedAt: at(minutes) } });
const chose = (accountId: string, keep: boolean, minutes = 0): EventOf<"ReadingHistoryChosen"> => ({
  type: "ReadingHistoryChosen",
  data: { accountId, keep, chosenAt: at(minutes) },
});
const loanForgotten = (loanId: string, accountId: string, minutes = 0): EventOf<"LoanDetailsForgotten"> => ({
  type: "LoanDetailsForgotten",
  data: { loanId, accountId, retentionDays: 30, forgottenAt: at(minutes) },
});
/** A loan checked out at minute 0 and returned at minute `returnedAtMinutes`. */
const loanReturned = (loanId: string, accountId: string, returnedAtMinutes: number) => [
  checkedOut(loanId, accountId),
  returned(loanId, accountId, returnedAtMinutes),
];

const erase = (accountId: string, actor = asStaff, minutes = 1) => command("EraseAccount", actor, { accountId }, minutes);
const choose = (accountId: string, keep: boolean, actor = asAccount(accountId), minutes = 1) =>
  command("ChooseReadingHistory", actor, { accountId, keep }, minutes);
const retention = (minutes: number, fields: { retentionDays?: number | null; limit?: number } = {}, actor = asSystem) =>
  command("ApplyRetention", actor, { retentionDays: fields.retentionDays ?? null, limit: fields.limit ?? 500 }, minutes);

/** What a retention decision forgot, as `loan:id` / `hold:id`, in the order decided. */
const forgotten = (events: ReadonlyArray<DomainEvent>): string[] =>
  events.map((e) =>
    e.type === "LoanDetailsForgotten" ? `loan:${e.data.loanId}` : e.type === "HoldDetailsForgotten" ? `hold:${e.data.holdId}` : `other:${e.type}`,
  );

/** Decides `c` on only the events its query selects, read until it settles, as the command handler does. */
const decideOnBoundary = (events: ReadonlyArray<DomainEvent>, c: Parameters<ReturnType<typeof libraryDecider>["decide"]>[0]) => {
  const decider = libraryDecider();
  const declaration = declarationOf(c.type);
  const log: Array<{ event: DomainEvent; tags: ReadonlyArray<string> }> = [];
  let whole: LibraryState = initialLibraryState;
  for (const event of events) {
    log.push({ event, tags: tagsOf(event, whole.linking) });
    whole = decider.evolve(whole, event);
  }
  let query: Query = declaration.reads(c, initialLibraryState, defaultPolicy);
  for (let round = 0; round < 5; round++) {
    const state = fold(decider, log.filter((t) => matchesQuery(query, { type: t.event.type, tags: t.tags })).map((t) => t.event));
    const next = declaration.reads(c, state, defaultPolicy);
    if (selectsWithin(next, query)) return declaration.decide(c, state, defaultPolicy);
    query = { items: [...query.items, ...next.items] };
  }
  throw new Error("boundary did not settle");
};

describe("eraseAccount", () => {
  it("refuses an account never registered", () => {
    expect(given([]).when(erase("ghost")).error).toBe("account-not-found");
  });
  it("refuses an open account: close it first", () => {
    const g = given([registered("alice")]);
    const outcome = g.when(erase("alice"));
    expect(outcome.error).toBe("account-open");
    expect(E.isLeft(outcome.decision) && outcome.decision.left.message).toMatch(/close it before erasing/);
  });
  it("erases a closed account: its barcode reads [erased] and finds no one", () => {
    const g = given([registered("alice"), accountClosed("alice")]);
    const outcome = g.when(erase("alice"));
    expect(outcome.events).toEqual([{ type: "AccountErased", data: { accountId: "alice", erasedAt: at(1) } }]);
    const account = outcome.after.linking.accounts.get("alice")!;
    expect(account).toMatchObject({ erased: true, barcode: ERASED, closed: true });
    expect(accountIdByBarcode(outcome.after.linking, barcodeOf("alice"))).toBeUndefined();
    expect(accountIdByBarcode(g.state.linking, barcodeOf("alice"))).toBe("alice");
  });
  it("erases only after closing: the same request is refused, then accepted once the account is closed", () => {
    const history: DomainEvent[] = [registered("alice"), checkedOut("loan1", "alice")];
    expect(given(history).when(erase("alice")).error).toBe("account-open");
    const closing = given(history).when(command("CloseAccount", asAccount("alice"), { accountId: "alice" }, 1));
    expect(closing.events.map((e) => e.type)).toEqual(["AccountClosed"]);
    expect(given([...history, ...closing.events]).when(erase("alice", asStaff, 2)).events.map((e) => e.type)).toEqual(["AccountErased"]);
  });
  it("erasing again changes nothing", () => {
    const g = given([registered("alice"), accountClosed("alice"), erased("alice")]);
    const outcome = g.when(erase("alice"));
    expect(outcome.error).toBeUndefined();
    expect(outcome.events).toEqual([]);
  });
  it("the library's system may erase too, a patron never, not even their own closed account", () => {
    const g = given([registered("alice"), registered("bob"), accountClosed("alice")]);
    expect(g.when(erase("alice", asSystem)).events.map((e) => e.type)).toEqual(["AccountErased"]);
    expect(g.when(erase("alice", asAccount("alice"))).error).toBe("not-authorised");
    expect(g.when(erase("alice", asAccount("bob"))).error).toBe("not-authorised");
    expect(eraseAccount.actors).toEqual(["staff", "system"]);
  });
  it("its boundary reads the erasure, so a repeat decides the same on what it reads as on the whole library", () => {
    const history = [registered("alice"), accountClosed("alice"), erased("alice")];
    expect(decideOnBoundary(history, erase("alice"))).toEqual(E.right([]));
  });
  it("an erased account's barcode is free again, and a registration's boundary reads the erasure that freed it", () => {
    const history = [registered("alice"), accountClosed("alice"), erased("alice")];
    const register = command("RegisterAccount", asStaff, { accountId: "alice2", barcode: barcodeOf("alice"), minor: false }, 2);
    expect(given(history).when(register).events.map((e) => e.type)).toEqual(["AccountRegistered"]);
    expect(decideOnBoundary(history, register)).toEqual(given(history).when(register).decision);
    // Before the erasure it is still taken.
    expect(given(history.slice(0, 2)).when(register).error).toBe("barcode-taken");
  });
});

describe("chooseReadingHistory", () => {
  it("refuses an account never registered, and a closed one", () => {
    expect(given([]).when(choose("ghost", true, asStaff)).error).toBe("account-not-found");
    const closed = given([registered("alice"), accountClosed("alice")]);
    expect(closed.when(choose("alice", true)).error).toBe("account-closed");
    expect(closed.when(choose("alice", true, asStaff)).error).toBe("account-closed");
  });
  it("a patron chooses to keep their history, and to stop keeping it", () => {
    const g = given([registered("alice")]);
    const keep = g.when(choose("alice", true));
    expect(keep.events).toEqual([{ type: "ReadingHistoryChosen", data: { accountId: "alice", keep: true, chosenAt: at(1) } }]);
    expect(keep.after.circulation.get("alice")?.keepsHistory).toBe(true);
    const stop = given([registered("alice"), ...keep.events]).when(choose("alice", false, asAccount("alice"), 2));
    expect(stop.events).toEqual([{ type: "ReadingHistoryChosen", data: { accountId: "alice", keep: false, chosenAt: at(2) } }]);
    expect(stop.after.circulation.get("alice")?.keepsHistory).toBe(false);
  });
  it("choosing what is already chosen changes nothing; never having chosen is not keeping", () => {
    expect(given([registered("alice")]).when(choose("alice", false)).events).toEqual([]);
    expect(given([registered("alice"), chose("alice", true)]).when(choose("alice", true)).events).toEqual([]);
    expect(given([registered("alice"), chose("alice", true), chose("alice", false)]).when(choose("alice", false)).events).toEqual([]);
    expect(given([registered("alice"), chose("alice", true), chose("alice", false)]).when(choose("alice", true)).events).toHaveLength(1);
  });
  it("staff record the choice at the desk on the patron's behalf", () => {
    const outcome = given([registered("alice")]).when(choose("alice", true, asStaff));
    expect(outcome.events).toEqual([{ type: "ReadingHistoryChosen", data: { accountId: "alice", keep: true, chosenAt: at(1) } }]);
  });
  it("another account may not choose for a patron, not even one managing it (R5); nor may the system", () => {
    const history = [registered("alice"), registered("bob"), phraseIssued("P1", "alice", "one-way"), connected("L1", "P1", "alice", "bob", "one-way")];
    const g = given(history);
    // alice manages bob, yet the choice is bob's alone.
    expect(g.when(choose("bob", true, asAccount("alice"))).error).toBe("self-service-only");
    expect(g.when(choose("alice", true, asAccount("bob"))).error).toBe("self-service-only");
    expect(g.when(choose("alice", true, asSystem)).error).toBe("not-authorised");
    expect(chooseReadingHistory.actors).toEqual(["account", "staff"]);
  });
  it("its boundary reads the account's earlier choices and facts", () => {
    const reads = chooseReadingHistory.reads(choose("alice", true), initialLibraryState, defaultPolicy);
    expect(reads.items).toContainEqual({ types: ["ReadingHistoryChosen"], tags: ["account:alice"] });
    expect(reads.items).toContainEqual(expect.objectContaining({ types: expect.arrayContaining(["AccountRegistered", "AccountClosed"]), tags: ["account:alice"] }));
    const history = [registered("alice"), chose("alice", true)];
    expect(decideOnBoundary(history, choose("alice", true))).toEqual(E.right([]));
  });
});

describe("applyRetention", () => {
  // Under a 30-day retention, a run at day 100 forgets what came back at or before day 70.
  const policy = makePolicy({ retentionDays: 30 });
  const NOW = 100 * DAY;
  const CUTOFF = 70 * DAY;

  it("forgets exactly the loans returned at or before the cutoff, and not one returned after it", () => {
    const g = given(
      [
        registered("alice"),
        ...loanReturned("before", "alice", CUTOFF - 1),
        ...loanReturned("exactly", "alice", CUTOFF),
        ...loanReturned("after", "alice", CUTOFF + 1),
      ],
      policy,
    );
    const outcome = g.when(retention(NOW));
    expect(outcome.events).toEqual([
      { type: "LoanDetailsForgotten", data: { loanId: "before", accountId: "alice", retentionDays: 30, forgottenAt: at(NOW) } },
      { type: "LoanDetailsForgotten", data: { loanId: "exactly", accountId: "alice", retentionDays: 30, forgottenAt: at(NOW) } },
    ]);
    const loans = outcome.after.circulation.get("alice")!.loans;
    expect(loans.get("before")).toMatchObject({ detailsForgotten: true, title: ERASED, itemId: ERASED });
    expect(loans.get("after")).toMatchObject({ detailsForgotten: false, title: "The Bone People" });
    expect(applyRetention.outcome(retention(NOW), outcome.events)).toEqual(E.right({ forgotten: 2 }));
  });
  it("forgets fulfilled and cancelled holds by when they closed", () => {
    const g = given(
      [
        registered("alice"),
        holdPlaced("h-fulfilled", "alice"),
        holdFulfilled("h-fulfilled", "alice", CUTOFF - 5),
        holdPlaced("h-cancelled", "alice"),
        holdCancelled("h-cancelled", "alice", CUTOFF),
        holdPlaced("h-late", "alice"),
        holdCancelled("h-late", "alice", CUTOFF + 1),
      ],
      policy,
    );
    const outcome = g.when(retention(NOW));
    expect(forgotten(outcome.events)).toEqual(["hold:h-fulfilled", "hold:h-cancelled"]);
    expect(outcome.events[0]).toEqual({
      type: "HoldDetailsForgotten",
      data: { holdId: "h-fulfilled", accountId: "alice", retentionDays: 30, forgottenAt: at(NOW) },
    });
    expect(outcome.after.circulation.get("alice")!.holds.get("h-fulfilled")).toMatchObject({ pickupBranch: ERASED, detailsForgotten: true });
  });
  it("never forgets an open loan or an active or suspended hold, however old", () => {
    const g = given(
      [registered("alice"), checkedOut("open-loan", "alice"), holdPlaced("active", "alice"), holdPlaced("suspended", "alice"), holdSuspended("suspended", "alice", 1)],
      policy,
    );
    const outcome = g.when(retention(NOW * 10));
    expect(outcome.error).toBeUndefined();
    expect(outcome.events).toEqual([]);
    expect(applyRetention.outcome(retention(NOW), outcome.events)).toEqual(E.right({ forgotten: 0 }));
  });
  it("forgets nothing already forgotten", () => {
    const g = given([registered("alice"), ...loanReturned("loan1", "alice", 1), loanForgotten("loan1", "alice", 40 * DAY)], policy);
    expect(g.when(retention(NOW)).events).toEqual([]);
  });
  it("keeps the history of a patron who chose to keep it, and forgets it again once they stop", () => {
    const history = [registered("alice"), registered("bob"), ...loanReturned("a1", "alice", 1), ...loanReturned("b1", "bob", 1), chose("alice", true)];
    expect(forgotten(given(history, policy).when(retention(NOW)).events)).toEqual(["loan:b1"]);
    expect(forgotten(given([...history, chose("alice", false, 2)], policy).when(retention(NOW)).events)).toEqual(["loan:a1", "loan:b1"]);
  });
  it("skips an erased account: its key is forgotten already, and every item with it", () => {
    const history = [registered("alice"), registered("bob"), ...loanReturned("a1", "alice", 1), ...loanReturned("b1", "bob", 1), accountClosed("alice", 2), erased("alice", 3)];
    expect(forgotten(given(history, policy).when(retention(NOW)).events)).toEqual(["loan:b1"]);
  });
  it("forgets the oldest first, loans and holds together, ties by id, at most `limit` a run", () => {
    const history = [
      registered("alice"),
      registered("bob"),
      ...loanReturned("l-b", "bob", 30),
      ...loanReturned("l-a", "alice", 30),
      holdPlaced("h-c", "alice"),
      holdCancelled("h-c", "alice", 10),
      ...loanReturned("l-z", "alice", 20),
      ...loanReturned("l-new", "alice", 50),
    ];
    const all = forgotten(given(history, policy).when(retention(NOW)).events);
    expect(all).toEqual(["hold:h-c", "loan:l-z", "loan:l-a", "loan:l-b", "loan:l-new"]);
    const first = given(history, policy).when(retention(NOW, { limit: 3 }));
    expect(forgotten(first.events)).toEqual(all.slice(0, 3));
    // The next run goes on from there, and the one after forgets nothing.
    const second = given([...history, ...first.events], policy).when(retention(NOW + 1, { limit: 3 }));
    expect(forgotten(second.events)).toEqual(all.slice(3));
    expect(given([...history, ...first.events, ...second.events], policy).when(retention(NOW + 2, { limit: 3 })).events).toEqual([]);
  });
  it("takes the policy's retention unless the run names its own, and records which in each event", () => {
    const history = [registered("alice"), ...loanReturned("loan1", "alice", 0)];
    // 10 days after the return: under the default 90, nothing; under a run of 10 days, the loan.
    expect(given(history).when(retention(10 * DAY)).events).toEqual([]);
    expect(given(history).when(retention(90 * DAY)).events).toMatchObject([{ data: { loanId: "loan1", retentionDays: 90 } }]);
    expect(given(history).when(retention(10 * DAY, { retentionDays: 10 })).events).toMatchObject([{ data: { loanId: "loan1", retentionDays: 10 } }]);
    expect(given(history).when(retention(10 * DAY - 1, { retentionDays: 10 })).events).toEqual([]);
  });
  it("is the library's system's to run, not the desk's nor a patron's", () => {
    const g = given([registered("alice"), ...loanReturned("loan1", "alice", 0)], policy);
    expect(g.when(retention(NOW, {}, asStaff)).error).toBe("not-authorised");
    expect(g.when(retention(NOW, {}, asAccount("alice"))).error).toBe("not-authorised");
    expect(applyRetention.actors).toEqual(["system"]);
  });
  it("input: retentionDays from 1 to 36,500 and limit from 1 to 1,000 (default 500), nothing else", () => {
    const make = (i: object) => {
      const decoded = applyRetention.input.decode(i);
      if (E.isLeft(decoded)) throw new Error(`refused ${JSON.stringify(i)}`);
      return applyRetention.make(decoded.right, { common: { commandId: "c1", actor: asSystem, now: at(0) }, newId: () => "x" });
    };
    expect(make({})).toMatchObject({ retentionDays: null, limit: 500 });
    expect(make({ retentionDays: 36_500, limit: 1000 })).toMatchObject({ retentionDays: 36_500, limit: 1000 });
    for (const bad of [{ retentionDays: 0 }, { retentionDays: 36_501 }, { retentionDays: 1.5 }, { limit: 0 }, { limit: 1001 }, { limit: "5" }, { days: 3 }])
      expect(E.isLeft(applyRetention.input.decode(bad)), JSON.stringify(bad)).toBe(true);
  });
  it("the policy's retentionDays: 90 by default, a whole number of days from 1 to 36,500", () => {
    expect(defaultPolicy.retentionDays).toBe(90);
    expect(makePolicy().retentionDays).toBe(90);
    expect(makePolicy({ retentionDays: 1 }).retentionDays).toBe(1);
    expect(makePolicy({ retentionDays: 36_500 }).retentionDays).toBe(36_500);
    for (const bad of [0, -1, 1.5, 36_501, Number.NaN]) expect(() => makePolicy({ retentionDays: bad })).toThrow(/policy\.retentionDays/);
  });
  it("reads the whole library's returns and choices, but its append is conditional only on what could overturn it", () => {
    const c = retention(NOW);
    const reads = applyRetention.reads(c, initialLibraryState, defaultPolicy);
    const condition = applyRetention.condition!(c);
    expect(reads.items.every((item) => item.tags === undefined)).toBe(true);
    expect(selectsWithin(condition, reads)).toBe(true);
    const selects = (q: Query, type: string) => matchesQuery(q, { type, tags: ["loan:x", "hold:x", "account:alice"] });
    for (const type of ["ItemCheckedOut", "ItemReturned", "HoldPlaced", "HoldFulfilled", "HoldCancelled", "AccountRegistered"]) {
      expect(selects(reads, type), type).toBe(true);
      expect(selects(condition, type), type).toBe(false);
    }
    for (const type of ["LoanDetailsForgotten", "HoldDetailsForgotten", "ReadingHistoryChosen", "AccountErased"]) {
      expect(selects(reads, type), type).toBe(true);
      expect(selects(condition, type), type).toBe(true);
    }
  });
});

describe("applyRetention over random histories", () => {
  /** The naive filter: every loan and hold of the history due at `cutoffMs`, oldest first, by id, from the events alone. */
  const naiveDue = (events: ReadonlyArray<DomainEvent>, cutoffMs: number): string[] => {
    const closedAt = new Map<string, { at: number; account: string; id: string; kind: string }>();
    const gone = new Set<string>();
    const keeps = new Map<string, boolean>();
    const erasedAccounts = new Set<string>();
    for (const e of events) {
      if (e.type === "ItemReturned" && !closedAt.has(`loan:${e.data.loanId}`))
        closedAt.set(`loan:${e.data.loanId}`, { at: Date.parse(e.data.returnedAt), account: e.data.accountId, id: e.data.loanId, kind: "loan" });
      if (e.type === "HoldFulfilled" && !closedAt.has(`hold:${e.data.holdId}`))
        closedAt.set(`hold:${e.data.holdId}`, { at: Date.parse(e.data.fulfilledAt), account: e.data.accountId, id: e.data.holdId, kind: "hold" });
      if (e.type === "HoldCancelled" && !closedAt.has(`hold:${e.data.holdId}`))
        closedAt.set(`hold:${e.data.holdId}`, { at: Date.parse(e.data.cancelledAt), account: e.data.accountId, id: e.data.holdId, kind: "hold" });
      if (e.type === "LoanDetailsForgotten") gone.add(`loan:${e.data.loanId}`);
      if (e.type === "HoldDetailsForgotten") gone.add(`hold:${e.data.holdId}`);
      if (e.type === "ReadingHistoryChosen") keeps.set(e.data.accountId, e.data.keep);
      if (e.type === "AccountErased") erasedAccounts.add(e.data.accountId);
    }
    return [...closedAt.entries()]
      .filter(([key, c]) => c.at <= cutoffMs && !gone.has(key) && keeps.get(c.account) !== true && !erasedAccounts.has(c.account))
      .sort(([, a], [, b]) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0))
      .map(([key]) => key);
  };

  it("a run forgets exactly what the naive filter finds, oldest first; a run right after forgets nothing more unless the limit cut the first short", () => {
    let cutShort = 0;
    let forgotAny = 0;
    fc.assert(
      fc.property(
        validHistory({ personalData: true, minMoves: 60, maxMoves: 200 }),
        fc.integer({ min: 0, max: 12 * DAY_MS }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 100 }),
        (h, laterMs, retentionDays, percent) => {
          const events = h.events.map(({ metadata: _, ...e }) => e as DomainEvent);
          const lastMs = h.commands.length === 0 ? START_MS : Date.parse(h.commands[h.commands.length - 1]!.now);
          const nowMs = lastMs + laterMs;
          const due = naiveDue(events, nowMs - retentionDays * DAY_MS);
          // A limit from a fraction of what is due: over 80 percent, never less than all of it.
          const limit = Math.max(1, Math.ceil((due.length * percent) / 80));
          const run = () => ({ ...retention(0, { retentionDays, limit }), now: new Date(nowMs).toISOString() });
          const first = given(events, h.policy).when(run());
          expect(first.error).toBeUndefined();
          expect(forgotten(first.events)).toEqual(due.slice(0, limit));
          const second = given([...events, ...first.events], h.policy).when(run());
          expect(forgotten(second.events)).toEqual(due.slice(limit, 2 * limit));
          if (due.length > limit) cutShort += 1;
          if (due.length > 0) forgotAny += 1;
        },
      ),
      { numRuns },
    );
    // The property means something only if runs forgot, and some were cut short by the limit.
    expect(forgotAny).toBeGreaterThan(numRuns / 8);
    expect(cutShort).toBeGreaterThan(0);
  });
});
