/**
 * One account's loans and holds, and deciding what may happen to them (R5):
 * a manager acts on existing loans and holds; new holds and eCheckouts are only
 * ever the account's own doing.
 */
import * as E from "fp-ts/lib/Either.js";
import type { Id, IsoTime } from "./codec.js";
import type { CirculationCommand, CommandOf } from "./commands.js";
import { type Action, authorize } from "./access.js";
import { type DomainError, domainError } from "./errors.js";
import type { CirculationEvent, LoanFormat } from "./events.js";
import type { LinkingState } from "./linking-state.js";

export interface Loan {
  readonly loanId: Id;
  readonly itemId: Id;
  readonly title: string;
  readonly format: LoanFormat;
  readonly checkedOutAt: IsoTime;
  readonly dueAt: IsoTime;
  readonly returned: boolean;
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
}

/** The circulation state of one account. */
export interface CirculationState {
  readonly loans: ReadonlyMap<Id, Loan>;
  readonly holds: ReadonlyMap<Id, Hold>;
}

export const initialCirculationState: CirculationState = { loans: new Map(), holds: new Map() };

/** What a circulation command is decided against: the account's own state and the link state. */
export interface CirculationContext {
  readonly circulation: CirculationState;
  readonly linking: LinkingState;
}

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
      return s.loans.has(loanId) ? s : withLoan(s, { loanId, itemId, title, format, checkedOutAt, dueAt, returned: false });
    }
    case "LoanRenewed":
      return updateLoan(s, event.data.loanId, (l) => ({ ...l, dueAt: event.data.dueAt }));
    case "ItemReturned":
      return updateLoan(s, event.data.loanId, (l) => ({ ...l, returned: true }));
    case "HoldPlaced": {
      const { holdId, itemId, title, pickupBranch, placedAt } = event.data;
      return s.holds.has(holdId)
        ? s
        : withHold(s, { holdId, itemId, title, pickupBranch, placedAt, status: "active", suspendedUntil: null });
    }
    case "HoldCancelled":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, status: "cancelled", suspendedUntil: null }));
    case "HoldSuspended":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, status: "suspended", suspendedUntil: event.data.until }));
    case "HoldResumed":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, status: "active", suspendedUntil: null }));
    case "HoldPickupBranchChanged":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, pickupBranch: event.data.pickupBranch }));
    case "HoldFulfilled":
      return updateHold(s, event.data.holdId, (h) => ({ ...h, status: "fulfilled", suspendedUntil: null }));
  }
};

type Decision = E.Either<DomainError, ReadonlyArray<CirculationEvent>>;

/** The account id an actor's action is recorded under (`renewedBy`, `cancelledBy`, …). */
const actingAccount = (c: CirculationCommand): Id | undefined =>
  c.actor.kind === "account" ? c.actor.accountId : undefined;

const findLoan = (s: CirculationState, c: { loanId: Id; accountId: Id }): E.Either<DomainError, Loan> => {
  const loan = s.loans.get(c.loanId);
  if (loan === undefined) return E.left(domainError("loan-not-found", `Account ${c.accountId} has no loan ${c.loanId}.`));
  if (loan.returned) return E.left(domainError("loan-returned", `Loan ${c.loanId} was already returned.`));
  return E.right(loan);
};

const findOpenHold = (s: CirculationState, c: { holdId: Id; accountId: Id }): E.Either<DomainError, Hold> => {
  const hold = s.holds.get(c.holdId);
  if (hold === undefined) return E.left(domainError("hold-not-found", `Account ${c.accountId} has no hold ${c.holdId}.`));
  if (hold.status === "cancelled" || hold.status === "fulfilled")
    return E.left(domainError("hold-closed", `Hold ${c.holdId} was already ${hold.status}.`));
  return E.right(hold);
};

/** A suspension whose `until` has passed no longer holds the hold back. */
const isSuspended = (hold: Hold, nowMs: number): boolean =>
  hold.status === "suspended" && hold.suspendedUntil !== null && nowMs < Date.parse(hold.suspendedUntil);

const actionOf = (c: CirculationCommand): Action => {
  switch (c.type) {
    case "RecordCheckout":
      return c.format === "digital" ? "e-checkout" : "checkout";
    case "RenewLoan":
      return "renew-loan";
    case "RecordReturn":
      return "return";
    case "PlaceHold":
      return "place-hold";
    case "CancelHold":
      return "cancel-hold";
    case "SuspendHold":
      return "suspend-hold";
    case "ResumeHold":
      return "resume-hold";
    case "ChangeHoldPickupBranch":
      return "change-pickup-branch";
    case "RecordHoldFulfilled":
      return "fulfil-hold";
  }
};

const decideAllowed = (c: CirculationCommand, s: CirculationState, by: Id | undefined): Decision => {
  const nowMs = Date.parse(c.now);
  // Manager actions are recorded under the acting account (authorize allows them to accounts only).
  const actor = by ?? c.accountId;
  switch (c.type) {
    case "RecordCheckout": {
      if (s.loans.has(c.loanId))
        return E.left(domainError("loan-already-exists", `Account ${c.accountId} already has a loan ${c.loanId}.`));
      if (Date.parse(c.dueAt) <= nowMs)
        return E.left(domainError("due-date-not-after-checkout", `A loan due ${c.dueAt} would be due before it began.`));
      const { loanId, accountId, itemId, title, format, dueAt } = c;
      return E.right([{ type: "ItemCheckedOut", data: { loanId, accountId, itemId, title, format, checkedOutAt: c.now, dueAt } }]);
    }
    case "RenewLoan":
      return E.flatMap(findLoan(s, c), (loan): Decision =>
        Date.parse(c.dueAt) <= Date.parse(loan.dueAt)
          ? E.left(domainError("due-date-not-later", `Loan ${c.loanId} is already due ${loan.dueAt}; ${c.dueAt} is not later.`))
          : E.right([
              { type: "LoanRenewed", data: { loanId: c.loanId, accountId: c.accountId, dueAt: c.dueAt, renewedBy: actor, renewedAt: c.now } },
            ]),
      );
    case "RecordReturn":
      return E.flatMap(findLoan(s, c), (): Decision =>
        E.right([{ type: "ItemReturned", data: { loanId: c.loanId, accountId: c.accountId, returnedAt: c.now } }]),
      );
    case "PlaceHold": {
      if (s.holds.has(c.holdId))
        return E.left(domainError("hold-already-exists", `Account ${c.accountId} already has a hold ${c.holdId}.`));
      const { holdId, accountId, itemId, title, pickupBranch } = c;
      return E.right([{ type: "HoldPlaced", data: { holdId, accountId, itemId, title, pickupBranch, placedAt: c.now } }]);
    }
    case "CancelHold":
      return E.flatMap(findOpenHold(s, c), (): Decision =>
        E.right([
          { type: "HoldCancelled", data: { holdId: c.holdId, accountId: c.accountId, cancelledBy: actor, cancelledAt: c.now } },
        ]),
      );
    case "SuspendHold":
      return E.flatMap(findOpenHold(s, c), (hold): Decision => {
        if (isSuspended(hold, nowMs))
          return E.left(domainError("hold-already-suspended", `Hold ${c.holdId} is suspended until ${hold.suspendedUntil}.`));
        if (Date.parse(c.until) <= nowMs)
          return E.left(domainError("suspension-not-in-future", `Suspending until ${c.until} would end before it began.`));
        return E.right([
          { type: "HoldSuspended", data: { holdId: c.holdId, accountId: c.accountId, until: c.until, suspendedBy: actor, suspendedAt: c.now } },
        ]);
      });
    case "ResumeHold":
      return E.flatMap(findOpenHold(s, c), (hold): Decision =>
        hold.status !== "suspended"
          ? E.left(domainError("hold-not-suspended", `Hold ${c.holdId} is not suspended.`))
          : E.right([{ type: "HoldResumed", data: { holdId: c.holdId, accountId: c.accountId, resumedBy: actor, resumedAt: c.now } }]),
      );
    case "ChangeHoldPickupBranch":
      return E.flatMap(findOpenHold(s, c), (hold): Decision =>
        hold.pickupBranch === c.pickupBranch
          ? E.right([])
          : E.right([
              {
                type: "HoldPickupBranchChanged",
                data: { holdId: c.holdId, accountId: c.accountId, pickupBranch: c.pickupBranch, changedBy: actor, changedAt: c.now },
              },
            ]),
      );
    case "RecordHoldFulfilled":
      return E.flatMap(findOpenHold(s, c), (): Decision =>
        E.right([{ type: "HoldFulfilled", data: { holdId: c.holdId, accountId: c.accountId, fulfilledAt: c.now } }]),
      );
  }
};

/**
 * R5, R13: the actor must be allowed this action on the account by `authorize`,
 * given link state that includes every revocation stored before the command.
 */
export const decideCirculation = (c: CirculationCommand, ctx: CirculationContext): Decision =>
  E.flatMap(authorize(c.actor, actionOf(c), c.accountId, ctx.linking), () =>
    decideAllowed(c, ctx.circulation, actingAccount(c)),
  );
