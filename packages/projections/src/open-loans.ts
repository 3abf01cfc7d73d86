/**
 * The loans fold of the command line: what `loansFor` can show (loans not
 * returned, and holds), folded in place, with the domain's `evolveCirculation`
 * semantics. A returned loan is kept only as its id (a later checkout with the
 * same id is ignored, as the domain ignores it), so memory follows the loans
 * that are out, not every loan there ever was.
 */
import { type Hold, type Id, type Loan, initialCirculationState, isLinkingEvent } from "@linked-accounts/domain";
import type { LinkedLoansState } from "./linked-loans.js";
import type { PositionedEvent } from "./projection.js";

interface AccountCirculation {
  /** `null`: returned. */
  readonly loans: Map<Id, Loan | null>;
  readonly holds: Map<Id, Hold>;
}

export class OpenLoans {
  private applied = 0;
  private readonly accounts = new Map<Id, AccountCirculation>();

  evolve(event: PositionedEvent): void {
    this.applied = Number(event.position);
    if (isLinkingEvent(event)) return;
    const id = event.data.accountId;
    let a = this.accounts.get(id);
    if (a === undefined) {
      a = { loans: new Map(), holds: new Map() };
      this.accounts.set(id, a);
    }
    const { loans, holds } = a;
    switch (event.type) {
      case "ItemCheckedOut": {
        const { loanId, itemId, title, format, checkedOutAt, dueAt } = event.data;
        if (!loans.has(loanId)) loans.set(loanId, { loanId, itemId, title, format, checkedOutAt, dueAt, returned: false });
        return;
      }
      case "LoanRenewed": {
        // A returned loan's due date no longer shows anywhere.
        const loan = loans.get(event.data.loanId);
        if (loan) loans.set(loan.loanId, { ...loan, dueAt: event.data.dueAt });
        return;
      }
      case "ItemReturned":
        if (loans.has(event.data.loanId)) loans.set(event.data.loanId, null);
        return;
      case "HoldPlaced": {
        const { holdId, itemId, title, pickupBranch, placedAt } = event.data;
        if (!holds.has(holdId)) holds.set(holdId, { holdId, itemId, title, pickupBranch, placedAt, status: "active", suspendedUntil: null });
        return;
      }
      case "HoldCancelled":
        return updateHold(holds, event.data.holdId, (h) => ({ ...h, status: "cancelled", suspendedUntil: null }));
      case "HoldSuspended":
        return updateHold(holds, event.data.holdId, (h) => ({ ...h, status: "suspended", suspendedUntil: event.data.until }));
      case "HoldResumed":
        return updateHold(holds, event.data.holdId, (h) => ({ ...h, status: "active", suspendedUntil: null }));
      case "HoldPickupBranchChanged":
        return updateHold(holds, event.data.holdId, (h) => ({ ...h, pickupBranch: event.data.pickupBranch }));
      case "HoldFulfilled":
        return updateHold(holds, event.data.holdId, (h) => ({ ...h, status: "fulfilled", suspendedUntil: null }));
    }
  }

  /** The state `loansFor` reads, holding these accounts only (their loans not returned). */
  stateFor(ids: Iterable<Id>): LinkedLoansState {
    const accounts = new Map<Id, LinkedLoansState["accounts"] extends Map<Id, infer C> ? C : never>();
    for (const id of ids) {
      const a = this.accounts.get(id);
      if (a === undefined) {
        accounts.set(id, initialCirculationState);
        continue;
      }
      const loans = new Map<Id, Loan>();
      for (const [loanId, loan] of a.loans) if (loan !== null) loans.set(loanId, loan);
      accounts.set(id, { loans, holds: new Map(a.holds) });
    }
    return { applied: this.applied, accounts };
  }
}

const updateHold = (holds: Map<Id, Hold>, id: Id, f: (h: Hold) => Hold): void => {
  const hold = holds.get(id);
  if (hold !== undefined) holds.set(id, f(hold));
};
