/**
 * One account's loans and holds, and deciding what may happen to them (R5):
 * a manager acts on existing loans and holds; new holds and eCheckouts are only
 * ever the account's own doing.
 */
import * as E from "fp-ts/lib/Either.js";
import type { Id, IsoTime } from "./codec.js";
import { type DomainError, domainError } from "./errors.js";
import type { CirculationEvent, LoanFormat } from "./events.js";
import { ERASED } from "./personal.js";

export interface Loan {
  readonly loanId: Id;
  readonly itemId: Id;
  readonly title: string;
  readonly format: LoanFormat;
  readonly checkedOutAt: IsoTime;
  readonly dueAt: IsoTime;
  readonly returned: boolean;
  /** When it came back, or null while out: retention counts from here. */
  readonly returnedAt: IsoTime | null;
  /** A retention run forgot its item and title (they read `[erased]`). */
  readonly detailsForgotten: boolean;
}

export type HoldStatus = "active" | "suspended" | "cancelled" | "fulfilled";

export interface Hold {
  readonly holdId: Id;
  readonly itemId: Id;
  readonly title: string;
  readonly pickupBranch: string;
  readonly placedAt: IsoTime;
  readonly status: HoldStatus;
  readonly suspendedUntil: IsoTime | null;
  /** When it was fulfilled or cancelled, or null while open: retention counts from here. */
  readonly closedAt: IsoTime | null;
  /** A retention run forgot its item, title and branch (they read `[erased]`). */
  readonly detailsForgotten: boolean;
}

/** The circulation state of one account. */
export interface CirculationState {
  readonly loans: ReadonlyMap<Id, Loan>;
  readonly holds: ReadonlyMap<Id, Hold>;
  /** The patron chose to keep their reading history past the retention period. */
  readonly keepsHistory: boolean;
}

export const initialCirculationState: CirculationState = { loans: new Map(), holds: new Map(), keepsHistory: false };

const withLoan = (s: CirculationState, loan: Loan): CirculationState => ({
  ...s,
  loans: new Map(s.loans).set(loan.loanId, loan),
});
const withHold = (s: CirculationState, hold: Hold): CirculationState => ({
  ...s,
  holds: new Map(s.holds).set(hold.holdId, hold),
});
const updateLoan = (s: CirculationState, id: Id, f: (l: Loan) => Loan): CirculationState => {
  const loan = s.loans.get(id);
  return loan === undefined ? s : withLoan(s, f(loan));
};
const updateHold = (s: CirculationState, id: Id, f: (h: Hold) => Hold): CirculationState => {
  const hold = s.holds.get(id);
  return hold === undefined ? s : withHold(s, f(hold));
};

/** Folds one event of this account. Total: an event about an unknown loan or hold changes nothing. */
export const evolveCirculation = (s: CirculationState, event: CirculationEvent): CirculationState => {
  switch (event.type) {
    case "ItemCheckedOut": {
      const { loanId, itemId, title, format, checkedOutAt, dueAt } = event.data;
      return s.loans.has(loanId) ? s : withLoan(s, { loanId, itemId, title, format, checkedOutAt, dueAt, returned: false, returnedAt: null, detailsForgotten: false });
    }
    case "LoanRenewed":
      return updateLoan(s, event.data.loanId, (l) => ({ ...l, dueAt: event.data.dueAt }));
    case "ItemReturned":
      return updateLoan(s, event.data.loanId, (l) => ({ ...l, returned: true, returnedAt: l.returnedAt ?? event.data.returnedAt }));
    case "HoldPlaced": {
      const { holdId, itemId, title, pickupBranch, placedAt } = event.data;
      return s.holds.has(holdId)
        ? s
        : withHold(s, { holdId, itemId, title, pickupBranch, placedAt, status: "active", suspendedUntil: null, closedAt: null, detailsForgotten: false });
    }
    case "HoldCancelled":
      return updateHold(s, event.data.holdId, (h) => ({
        ...h,
        status: "cancelled",
        suspendedUntil: null,
        closedAt: h.closedAt ?? event.data.cancelledAt,
      }));
    case "HoldSuspended":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, status: "suspended", suspendedUntil: event.data.until }));
    case "HoldResumed":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, status: "active", suspendedUntil: null }));
    case "HoldPickupBranchChanged":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, pickupBranch: event.data.pickupBranch }));
    case "HoldFulfilled":
      return updateHold(s, event.data.holdId, (h) => ({
        ...h,
        status: "fulfilled",
        suspendedUntil: null,
        closedAt: h.closedAt ?? event.data.fulfilledAt,
      }));
    case "ReadingHistoryChosen":
      return s.keepsHistory === event.data.keep ? s : { ...s, keepsHistory: event.data.keep };
    case "LoanDetailsForgotten":
      return updateLoan(s, event.data.loanId, (l) => ({ ...l, itemId: ERASED, title: ERASED, detailsForgotten: true }));
    case "HoldDetailsForgotten":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, itemId: ERASED, title: ERASED, pickupBranch: ERASED, detailsForgotten: true }));
  }
};

export const findLoan = (s: CirculationState, c: { loanId: Id; accountId: Id }): E.Either<DomainError, Loan> => {
  const loan = s.loans.get(c.loanId);
  if (loan === undefined) return E.left(domainError("loan-not-found", `Account ${c.accountId} has no loan ${c.loanId}.`));
  if (loan.returned) return E.left(domainError("loan-returned", `Loan ${c.loanId} was already returned.`));
  return E.right(loan);
};

export const findOpenHold = (s: CirculationState, c: { holdId: Id; accountId: Id }): E.Either<DomainError, Hold> => {
  const hold = s.holds.get(c.holdId);
  if (hold === undefined) return E.left(domainError("hold-not-found", `Account ${c.accountId} has no hold ${c.holdId}.`));
  if (hold.status === "cancelled" || hold.status === "fulfilled")
    return E.left(domainError("hold-closed", `Hold ${c.holdId} was already ${hold.status}.`));
  return E.right(hold);
};

/** A suspension whose `until` has passed no longer holds the hold back. */
export const isSuspended = (hold: Hold, nowMs: number): boolean =>
  hold.status === "suspended" && hold.suspendedUntil !== null && nowMs < Date.parse(hold.suspendedUntil);
