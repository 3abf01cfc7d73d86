/**
 * The loans fold of the command line: what `loansFor` can show (loans not
 * returned, and holds), folded in place, with the domain's `evolveCirculation`
 * semantics. A returned loan is kept only as its id (a later checkout with the
 * same id is ignored, as the domain ignores it), so memory follows the loans
 * that are out, not every loan there ever was.
 */
import { type CirculationState, ERASED, type Hold, type Id, type Loan, initialCirculationState, isLinkingEvent } from "@linked-accounts/domain/internal";
import type { LinkedLoansState } from "./linked-loans.js";
import type { PositionedEvent } from "./projection.js";

/** `account NUL id`: ids never hold a NUL. */
const keyOf = (accountId: Id, id: Id): string => `${accountId}\u0000${id}`;
const accountOfKey = (key: string): Id => key.slice(0, key.indexOf("\u0000"));

export class OpenLoans {
  private applied = 0;
  // Two maps for every account's loans and holds rather than two per account: most
  // accounts have few, and a map apiece would cost more than what they hold.
  /** `null`: returned (kept so that a later checkout with the same id is ignored, as the domain does). */
  private readonly loans = new Map<string, Loan | null>();
  private readonly holds = new Map<string, Hold>();

  evolve(event: PositionedEvent): void {
    this.applied = Number(event.position);
    if (isLinkingEvent(event)) return;
    const { loans, holds } = this;
    switch (event.type) {
      case "ItemCheckedOut": {
        const { loanId, accountId, itemId, title, format, checkedOutAt, dueAt } = event.data;
        const key = keyOf(accountId, loanId);
        if (!loans.has(key)) loans.set(key, { loanId, itemId, title, format, checkedOutAt, dueAt, returned: false, returnedAt: null, detailsForgotten: false });
        return;
      }
      case "LoanRenewed": {
        // A returned loan's due date no longer shows anywhere.
        const key = keyOf(event.data.accountId, event.data.loanId);
        const loan = loans.get(key);
        if (loan) loans.set(key, { ...loan, dueAt: event.data.dueAt });
        return;
      }
      case "ItemReturned": {
        const key = keyOf(event.data.accountId, event.data.loanId);
        if (loans.has(key)) loans.set(key, null);
        return;
      }
      case "HoldPlaced": {
        const { holdId, accountId, itemId, title, pickupBranch, placedAt } = event.data;
        const key = keyOf(accountId, holdId);
        if (!holds.has(key)) holds.set(key, { holdId, itemId, title, pickupBranch, placedAt, status: "active", suspendedUntil: null, closedAt: null, detailsForgotten: false });
        return;
      }
      case "HoldCancelled":
        return updateHold(holds, keyOf(event.data.accountId, event.data.holdId), (h) => ({ ...h, status: "cancelled", suspendedUntil: null, closedAt: h.closedAt ?? event.data.cancelledAt }));
      case "HoldSuspended":
        return updateHold(holds, keyOf(event.data.accountId, event.data.holdId), (h) => ({ ...h, status: "suspended", suspendedUntil: event.data.until }));
      case "HoldResumed":
        return updateHold(holds, keyOf(event.data.accountId, event.data.holdId), (h) => ({ ...h, status: "active", suspendedUntil: null }));
      case "HoldPickupBranchChanged":
        return updateHold(holds, keyOf(event.data.accountId, event.data.holdId), (h) => ({ ...h, pickupBranch: event.data.pickupBranch }));
      case "HoldFulfilled":
        return updateHold(holds, keyOf(event.data.accountId, event.data.holdId), (h) => ({ ...h, status: "fulfilled", suspendedUntil: null, closedAt: h.closedAt ?? event.data.fulfilledAt }));
      case "HoldDetailsForgotten":
        return updateHold(holds, keyOf(event.data.accountId, event.data.holdId), (h) => ({ ...h, itemId: ERASED, title: ERASED, pickupBranch: ERASED, detailsForgotten: true }));
      // Only returned loans are forgotten, and returned loans are not kept here;
      // the reading-history choice changes no loan.
      case "LoanDetailsForgotten":
      case "ReadingHistoryChosen":
        return;
    }
  }

  /** The state `loansFor` reads, holding these accounts only (their loans not returned), in the domain's order. */
  stateFor(ids: Iterable<Id>): LinkedLoansState {
    const loans = new Map<Id, Map<Id, Loan>>();
    const holds = new Map<Id, Map<Id, Hold>>();
    for (const id of ids) {
      loans.set(id, new Map());
      holds.set(id, new Map());
    }
    for (const [key, loan] of this.loans) if (loan !== null) loans.get(accountOfKey(key))?.set(loan.loanId, loan);
    for (const [key, hold] of this.holds) holds.get(accountOfKey(key))?.set(hold.holdId, hold);
    const accounts = new Map<Id, CirculationState>();
    for (const [id, l] of loans) accounts.set(id, l.size === 0 && holds.get(id)!.size === 0 ? initialCirculationState : { loans: l, holds: holds.get(id)!, keepsHistory: false }); // the view never asks about retention
    return { applied: this.applied, accounts };
  }
}

const updateHold = (holds: Map<string, Hold>, key: string, f: (h: Hold) => Hold): void => {
  const hold = holds.get(key);
  if (hold !== undefined) holds.set(key, f(hold));
};
