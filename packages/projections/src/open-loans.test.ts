import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DomainEvent } from "@linked-accounts/domain/internal";
import { fixtures } from "@linked-accounts/domain/testing";
import { evolveLinkedLoans, initialLinkedLoans } from "./linked-loans.js";
import { OpenLoans } from "./open-loans.js";
import { history } from "./test-support.js";

const accounts = ["a", "b"];
const loanIds = ["l1", "l2", "l3"];
const holdIds = ["h1", "h2", "h3"];
const at = fc.integer({ min: 0, max: 1000 }).map((m) => fixtures.at(m));

/** Circulation events over a few ids, so that they meet: renewals after returns, checkouts reusing an id, holds resumed after cancelling. */
const circulationEvent: fc.Arbitrary<DomainEvent> = fc
  .record({ kind: fc.integer({ min: 0, max: 8 }), accountId: fc.constantFrom(...accounts), loanId: fc.constantFrom(...loanIds), holdId: fc.constantFrom(...holdIds), at, title: fc.constantFrom("A", "B") })
  .map(({ kind, accountId, loanId, holdId, at, title }): DomainEvent => {
    switch (kind) {
      case 0:
        return { type: "ItemCheckedOut", data: { loanId, accountId, itemId: "i", title, format: "physical", checkedOutAt: at, dueAt: at } };
      case 1:
        return { type: "LoanRenewed", data: { loanId, accountId, dueAt: at, renewedBy: accountId, renewedAt: at } };
      case 2:
        return { type: "ItemReturned", data: { loanId, accountId, returnedAt: at } };
      case 3:
        return { type: "HoldPlaced", data: { holdId, accountId, itemId: "i", title, pickupBranch: "Central", placedAt: at } };
      case 4:
        return { type: "HoldCancelled", data: { holdId, accountId, cancelledBy: accountId, cancelledAt: at } };
      case 5:
        return { type: "HoldSuspended", data: { holdId, accountId, until: at, suspendedBy: accountId, suspendedAt: at } };
      case 6:
        return { type: "HoldResumed", data: { holdId, accountId, resumedBy: accountId, resumedAt: at } };
      case 7:
        return { type: "HoldPickupBranchChanged", data: { holdId, accountId, pickupBranch: title, changedBy: accountId, changedAt: at } };
      default:
        return { type: "HoldFulfilled", data: { holdId, accountId, fulfilledAt: at } };
    }
  });

describe("OpenLoans (the command line's loans fold)", () => {
  it("shows exactly the loans not returned and the holds that the linked-loans fold shows, for any history", () => {
    fc.assert(
      fc.property(fc.array(circulationEvent, { maxLength: 40 }), (events) => {
        const positioned = history(events.map((e) => [e, "a"] as const));
        const full = initialLinkedLoans();
        const open = new OpenLoans();
        for (const e of positioned) {
          evolveLinkedLoans(full, e);
          open.evolve(e);
        }
        const mine = open.stateFor(accounts);
        for (const id of accounts) {
          const theirs = full.accounts.get(id);
          const ours = mine.accounts.get(id)!;
          expect([...ours.loans.values()]).toEqual([...(theirs?.loans.values() ?? [])].filter((l) => !l.returned));
          expect([...ours.holds.values()]).toEqual([...(theirs?.holds.values() ?? [])]);
        }
        expect(mine.applied).toBe(full.applied);
      }),
    );
  });
});
