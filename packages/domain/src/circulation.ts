/**
 * One account's loans and holds, and deciding what may happen to them (R5):
 * a manager acts on existing loans and holds; new holds and eCheckouts are only
 * ever the account's own doing.
 */
import * as E from "fp-ts/lib/Either.js";
import { type Id, type IsoTime, isoMs } from "./codec.js";
import { type DomainError, domainError } from "./errors.js";
import type { CirculationEvent, EventOf, LoanFormat } from "./events.js";
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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type LoanChange = EventOf<"LoanRenewed" | "ItemReturned" | "LoanDetailsForgotten">;
type HoldChange = EventOf<"HoldCancelled" | "HoldSuspended" | "HoldResumed" | "HoldPickupBranchChanged" | "HoldFulfilled" | "HoldDetailsForgotten">;

const checkedOut = ({ data: { loanId, itemId, title, format, checkedOutAt, dueAt } }: EventOf<"ItemCheckedOut">): Loan => ({
  loanId,
  itemId,
  title,
  format,
  checkedOutAt,
  dueAt,
  returned: false,
  returnedAt: null,
  detailsForgotten: false,
});

const placed = ({ data: { holdId, itemId, title, pickupBranch, placedAt } }: EventOf<"HoldPlaced">): Hold => ({
  holdId,
  itemId,
  title,
  pickupBranch,
  placedAt,
  status: "active",
  suspendedUntil: null,
  closedAt: null,
  detailsForgotten: false,
});

/**
 * What `event` does to the loan it names, written into `loan`: a loan no one
 * else holds (a copy the pure `evolveCirculation` just made, or one a replay
 * made for itself).
 */
const changeLoan = (loan: Mutable<Loan>, event: LoanChange): void => {
  switch (event.type) {
    case "LoanRenewed":
      loan.dueAt = event.data.dueAt;
      return;
    case "ItemReturned":
      loan.returned = true;
      loan.returnedAt ??= event.data.returnedAt;
      return;
    case "LoanDetailsForgotten":
      loan.itemId = ERASED;
      loan.title = ERASED;
      loan.detailsForgotten = true;
      return;
  }
};

/** As `changeLoan`, for a hold. */
const changeHold = (hold: Mutable<Hold>, event: HoldChange): void => {
  switch (event.type) {
    case "HoldCancelled":
      hold.status = "cancelled";
      hold.suspendedUntil = null;
      hold.closedAt ??= event.data.cancelledAt;
      return;
    case "HoldSuspended":
      hold.status = "suspended";
      hold.suspendedUntil = event.data.until;
      return;
    case "HoldResumed":
      hold.status = "active";
      hold.suspendedUntil = null;
      return;
    case "HoldPickupBranchChanged":
      hold.pickupBranch = event.data.pickupBranch;
      return;
    case "HoldFulfilled":
      hold.status = "fulfilled";
      hold.suspendedUntil = null;
      hold.closedAt ??= event.data.fulfilledAt;
      return;
    case "HoldDetailsForgotten":
      hold.itemId = ERASED;
      hold.title = ERASED;
      hold.pickupBranch = ERASED;
      hold.detailsForgotten = true;
      return;
  }
};

const withLoan = (s: CirculationState, loan: Loan): CirculationState => ({ ...s, loans: new Map(s.loans).set(loan.loanId, loan) });
const withHold = (s: CirculationState, hold: Hold): CirculationState => ({ ...s, holds: new Map(s.holds).set(hold.holdId, hold) });

/**
 * Folds one event of this account: a new state, `s` and everything in it
 * unchanged (a map or a loan that changes is copied first). Total: an event
 * about an unknown loan or hold changes nothing.
 */
export const evolveCirculation = (s: CirculationState, event: CirculationEvent): CirculationState => {
  switch (event.type) {
    case "ItemCheckedOut":
      return s.loans.has(event.data.loanId) ? s : withLoan(s, checkedOut(event));
    case "HoldPlaced":
      return s.holds.has(event.data.holdId) ? s : withHold(s, placed(event));
    case "ReadingHistoryChosen":
      return s.keepsHistory === event.data.keep ? s : { ...s, keepsHistory: event.data.keep };
    case "LoanRenewed":
    case "ItemReturned":
    case "LoanDetailsForgotten": {
      const loan = s.loans.get(event.data.loanId);
      if (loan === undefined) return s;
      const next = { ...loan };
      changeLoan(next, event);
      return withLoan(s, next);
    }
    case "HoldCancelled":
    case "HoldSuspended":
    case "HoldResumed":
    case "HoldPickupBranchChanged":
    case "HoldFulfilled":
    case "HoldDetailsForgotten": {
      const hold = s.holds.get(event.data.holdId);
      if (hold === undefined) return s;
      const next = { ...hold };
      changeHold(next, event);
      return withHold(s, next);
    }
  }
};

/** One account's circulation while a replay builds it: maps, loans and holds only that replay holds. */
interface Building {
  readonly loans: Map<Id, Mutable<Loan>>;
  readonly holds: Map<Id, Mutable<Hold>>;
  keepsHistory: boolean;
}

/**
 * Every account's circulation during one replay (`evolveLibraryAll`): what
 * `evolveCirculation` does event by event (the same `checkedOut`, `placed`,
 * `changeLoan` and `changeHold`), written in place into maps, loans and holds
 * this replay made and nobody else holds, so nothing is copied per event. The
 * state it starts from is never written: an account's maps, loans and holds are
 * copied once, when the replay first meets the account. `done()` hands the states
 * out, read-only, in a map it gives away; the replay must not be used after.
 */
export class CirculationReplay {
  private readonly building = new Map<Id, Building>();

  /** `start(accountId)`: the account's state before the replay (undefined: none yet). */
  constructor(private readonly start: (accountId: Id) => CirculationState | undefined) {}

  private of(accountId: Id): Building {
    let b = this.building.get(accountId);
    if (b === undefined) {
      const before = this.start(accountId);
      b = { loans: new Map(), holds: new Map(), keepsHistory: before?.keepsHistory ?? false };
      if (before !== undefined) {
        for (const [id, loan] of before.loans) b.loans.set(id, { ...loan });
        for (const [id, hold] of before.holds) b.holds.set(id, { ...hold });
      }
      this.building.set(accountId, b);
    }
    return b;
  }

  apply(event: CirculationEvent): void {
    const building = this.of(event.data.accountId);
    const { loans, holds } = building;
    switch (event.type) {
      case "ReadingHistoryChosen":
        building.keepsHistory = event.data.keep;
        return;
      case "ItemCheckedOut":
        if (!loans.has(event.data.loanId)) loans.set(event.data.loanId, checkedOut(event));
        return;
      case "HoldPlaced":
        if (!holds.has(event.data.holdId)) holds.set(event.data.holdId, placed(event));
        return;
      case "LoanRenewed":
      case "ItemReturned":
      case "LoanDetailsForgotten": {
        const loan = loans.get(event.data.loanId);
        if (loan !== undefined) changeLoan(loan, event);
        return;
      }
      case "HoldCancelled":
      case "HoldSuspended":
      case "HoldResumed":
      case "HoldPickupBranchChanged":
      case "HoldFulfilled":
      case "HoldDetailsForgotten": {
        const hold = holds.get(event.data.holdId);
        if (hold !== undefined) changeHold(hold, event);
        return;
      }
      default: {
        const unknown: never = event;
        throw new Error(`CirculationReplay: no case for ${(unknown as CirculationEvent).type}`);
      }
    }
  }

  /** Every account the replay met, with its state after it: a map no one else holds, which the caller may keep. */
  done(): Map<Id, CirculationState> {
    return this.building;
  }
}

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
  hold.status === "suspended" && hold.suspendedUntil !== null && nowMs < isoMs(hold.suspendedUntil);
