/**
 * Issue 12, retention exactly: with a manual clock, a run with a retention of
 * 30 days forgets the details of the loans returned and holds closed at least
 * 30 days before it (100 days, exactly 30), and of no other (29 days, 10 days,
 * still out, still open): their titles, items and branches read `[erased]` in
 * the store and in the read models, their keys are gone, and what a patron and
 * its manager see of current loans and open holds is unchanged.
 */
import { describe, expect, it } from "vitest";
import { type RecordedEvent, createInMemoryEventStore, createLinkedAccounts, manualClock, scryptSharePhrases } from "@linked-accounts/adapters";
import {
  type DomainEvent,
  type LibraryState,
  ERASED,
  evolveLibrary,
  initialLibraryState,
} from "@linked-accounts/domain/internal";
import { createInMemoryCheckpointStore } from "./checkpoint.js";
import { foldEvents } from "./projection.js";
import { linkedLoansOf, readModelsProjection } from "./read-models.js";
import { createRunner } from "./runner.js";
import { appendAsCommand, must } from "./test-support.js";

const DAY = 86_400_000;

/**
 * What `system().applyRetention({ retentionDays })` decides and appends, until
 * it lands: every loan returned and hold closed at least `retentionDays` before
 * now, not yet forgotten, of an account neither erased nor keeping its history.
 */
const dueForForgetting = (state: LibraryState, nowMs: number, retentionDays: number): DomainEvent[] => {
  const cutoff = nowMs - retentionDays * DAY;
  const forgottenAt = new Date(nowMs).toISOString();
  const due: DomainEvent[] = [];
  for (const [accountId, c] of state.circulation.entries()) {
    if (c.keepsHistory || state.linking.accounts.get(accountId)?.erased === true) continue;
    for (const l of c.loans.values())
      if (l.returnedAt !== null && !l.detailsForgotten && Date.parse(l.returnedAt) <= cutoff)
        due.push({ type: "LoanDetailsForgotten", data: { loanId: l.loanId, accountId, retentionDays, forgottenAt } });
    for (const h of c.holds.values())
      if (h.closedAt !== null && !h.detailsForgotten && Date.parse(h.closedAt) <= cutoff)
        due.push({ type: "HoldDetailsForgotten", data: { holdId: h.holdId, accountId, retentionDays, forgottenAt } });
  }
  return due;
};

const all = async (store: { readAll(): AsyncIterable<RecordedEvent> }): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
};

const withoutPosition = <A extends { position: bigint }>(x: A) => ({ ...x, position: 0n });

describe("retention, exactly", () => {
  it("a 30-day run forgets loans returned and holds closed 100 and exactly 30 days ago, not 29 or 10 days ago, nor any still out or open", async () => {
    const store = createInMemoryEventStore();
    const now = Date.parse("2026-06-01T09:00:00.000Z");
    const clock = manualClock(new Date(now - 150 * DAY));
    const library = createLinkedAccounts({ store, clock, phrases: scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } }) });
    const desk = library.staff("desk-1");
    const reader = library.patron("reader");
    await must(desk.registerAccount({ accountId: "reader", barcode: "RDR4410", minor: false }));
    await must(desk.registerAccount({ accountId: "guardian", barcode: "GRD5520", minor: false }));
    // The guardian manages the reader: what the guardian sees of the reader's loans must not change either.
    const issued = await must(library.patron("guardian").issueSharePhrase({ direction: "one-way" }));
    await must(reader.connectAccount({ barcode: "GRD5520", phrase: issued.phrase }));
    expect(await library.patron("guardian").canManage("reader")).toBe(true);

    const dueAt = new Date(now + 60 * DAY).toISOString();
    const loans: Record<string, string> = {};
    for (const title of ["Returned 100 days ago", "Returned 30 days ago", "Returned 29 days ago", "Returned 10 days ago", "Still out"])
      loans[title] = (await must(desk.recordCheckout({ accountId: "reader", itemId: `item-${Object.keys(loans).length}`, title, dueAt }))).loanId;
    const holds: Record<string, string> = {};
    for (const title of ["Fulfilled 100 days ago", "Cancelled 10 days ago", "Still open"])
      holds[title] = (await must(reader.placeHold({ itemId: `hold-item-${Object.keys(holds).length}`, title, pickupBranch: "Central" }))).holdId;

    clock.set(new Date(now - 100 * DAY));
    await must(desk.recordReturn({ accountId: "reader", loanId: loans["Returned 100 days ago"]! }));
    await must(desk.recordHoldFulfilled({ accountId: "reader", holdId: holds["Fulfilled 100 days ago"]! }));
    clock.set(new Date(now - 30 * DAY));
    await must(desk.recordReturn({ accountId: "reader", loanId: loans["Returned 30 days ago"]! }));
    clock.set(new Date(now - 29 * DAY));
    await must(desk.recordReturn({ accountId: "reader", loanId: loans["Returned 29 days ago"]! }));
    clock.set(new Date(now - 10 * DAY));
    await must(desk.recordReturn({ accountId: "reader", loanId: loans["Returned 10 days ago"]! }));
    await must(reader.cancelHold({ accountId: "reader", holdId: holds["Cancelled 10 days ago"]! }));
    clock.set(new Date(now));

    // The host's read models, caught up before the run.
    const runner = createRunner({ source: store, projection: readModelsProjection, checkpoints: createInMemoryCheckpointStore() });
    await runner.catchUp();
    const before = { reader: linkedLoansOf(runner.state(), "reader"), guardian: linkedLoansOf(runner.state(), "guardian") };
    expect(before.guardian.accounts.map((a) => [a.accountId, a.loans.map((l) => l.title), a.holds.map((h) => h.title)])).toEqual([
      ["guardian", [], []],
      ["reader", ["Still out"], ["Still open"]],
    ]);

    // The run: one line, `library.system().applyRetention({ retentionDays: 30 })` once the command lands.
    const applyRetention = async (retentionDays: number) => {
      const state = (await all(store)).reduce<LibraryState>((s, e) => evolveLibrary(s, e), initialLibraryState);
      const due = dueForForgetting(state, clock.now().getTime(), retentionDays);
      await appendAsCommand(store, due, { kind: "system" }, clock.now());
      return due.length;
    };
    expect(await applyRetention(30)).toBe(3);

    // In the store: exactly the older ones read [erased].
    const events = await all(store);
    const titles = Object.fromEntries(events.flatMap((e) => (e.type === "ItemCheckedOut" ? [[e.data.loanId, [e.data.itemId, e.data.title]]] : [])));
    expect(Object.entries(loans).map(([title, id]) => [title, titles[id]![1]])).toEqual([
      ["Returned 100 days ago", ERASED],
      ["Returned 30 days ago", ERASED],
      ["Returned 29 days ago", "Returned 29 days ago"],
      ["Returned 10 days ago", "Returned 10 days ago"],
      ["Still out", "Still out"],
    ]);
    expect(titles[loans["Returned 100 days ago"]!]![0]).toBe(ERASED);
    const placed = Object.fromEntries(events.flatMap((e) => (e.type === "HoldPlaced" ? [[e.data.holdId, e.data]] : [])));
    expect(Object.entries(holds).map(([title, id]) => [title, placed[id]!.title, placed[id]!.pickupBranch])).toEqual([
      ["Fulfilled 100 days ago", ERASED, ERASED],
      ["Cancelled 10 days ago", "Cancelled 10 days ago", "Central"],
      ["Still open", "Still open", "Central"],
    ]);
    // Their keys (each kept beneath the account's) are gone; the others' and the account's are there.
    const subjects = [
      ...Object.values(loans).map((id) => `account:reader/loan:${id}`),
      ...Object.values(holds).map((id) => `account:reader/hold:${id}`),
      "account:reader",
    ];
    const keys = await store.keys.find(subjects);
    expect(subjects.map((s) => keys.get(s) instanceof Uint8Array)).toEqual([false, false, true, true, true, false, true, true, true]);
    expect(subjects.map((s) => keys.get(s) === null)).toEqual([true, true, false, false, false, true, false, false, false]);
    expect(await library.patron("reader").canManage("reader")).toBe(true);

    // In the read models, caught up or rebuilt: the same; current loans and open holds unchanged for both viewers.
    await runner.catchUp();
    const rebuilt = foldEvents(readModelsProjection, events);
    for (const models of [runner.state(), rebuilt]) {
      expect(withoutPosition(linkedLoansOf(models, "reader"))).toEqual(withoutPosition(before.reader));
      expect(withoutPosition(linkedLoansOf(models, "guardian"))).toEqual(withoutPosition(before.guardian));
      const circulation = models.loans.accounts.get("reader")!;
      expect(Object.entries(loans).map(([title, id]) => [title, circulation.loans.get(id)!.title, circulation.loans.get(id)!.detailsForgotten])).toEqual([
        ["Returned 100 days ago", ERASED, true],
        ["Returned 30 days ago", ERASED, true],
        ["Returned 29 days ago", "Returned 29 days ago", false],
        ["Returned 10 days ago", "Returned 10 days ago", false],
        ["Still out", "Still out", false],
      ]);
      expect(Object.entries(holds).map(([title, id]) => [title, circulation.holds.get(id)!.title])).toEqual([
        ["Fulfilled 100 days ago", ERASED],
        ["Cancelled 10 days ago", "Cancelled 10 days ago"],
        ["Still open", "Still open"],
      ]);
    }

    // A second run the same day forgets nothing more.
    expect(await applyRetention(30)).toBe(0);
    expect((await all(store)).length).toBe(events.length);
  });
});
