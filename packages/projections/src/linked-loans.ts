/**
 * Linked loans: for a logged-in account, its own loans and holds and those of
 * every account it manages, each with the actions this viewer may take (R5).
 * The fold keeps every account's circulation (the domain's own `evolve`); which
 * accounts a viewer sees comes from the access graph at query time.
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import {
  type Action,
  type CirculationState,
  type DecodeError,
  type Hold,
  type Id,
  type Loan,
  ERASED,
  decodeWith,
  evolveCirculation,
  initialCirculationState,
  isLinkingEvent,
  managerActions,
} from "@linked-accounts/domain/internal";
import type { AccessView } from "./access-graph.js";
import type { PositionedEvent, Projection } from "./projection.js";

export interface LinkedLoansState {
  applied: number;
  readonly accounts: Map<Id, CirculationState>;
}

export const initialLinkedLoans = (): LinkedLoansState => ({ applied: 0, accounts: new Map() });

/** An erased account's loans and holds, as they read once its key is gone. */
const erasedCirculation = (c: CirculationState): CirculationState => ({
  ...c,
  loans: new Map([...c.loans].map(([id, l]) => [id, { ...l, itemId: ERASED, title: ERASED }])),
  holds: new Map([...c.holds].map(([id, h]) => [id, { ...h, itemId: ERASED, title: ERASED, pickupBranch: ERASED }])),
});

export const evolveLinkedLoans = (s: LinkedLoansState, event: PositionedEvent): LinkedLoansState => {
  if (!isLinkingEvent(event)) {
    const id = event.data.accountId;
    s.accounts.set(id, evolveCirculation(s.accounts.get(id) ?? initialCirculationState, event));
  } else if (event.type === "AccountErased") {
    const c = s.accounts.get(event.data.accountId);
    if (c !== undefined) s.accounts.set(event.data.accountId, erasedCirculation(c));
  }
  s.applied = Number(event.position);
  return s;
};

/** What a viewer may do to one loan or hold: by its status (R5), only what a manager may. */
export type EntryAction = Extract<Action, "renew-loan" | "cancel-hold" | "suspend-hold" | "resume-hold" | "change-pickup-branch">;
/** What only the account itself may start (R5): never listed for an account it manages. */
export type AccountAction = Extract<Action, "place-hold" | "e-checkout">;

/** The view lists loans still out and holds still open: when one ended, or whether its details were forgotten, never applies. */
export interface LoanEntry extends Omit<Loan, "returnedAt" | "detailsForgotten"> {
  readonly kind: "loan";
  readonly accountId: Id;
  readonly actions: ReadonlyArray<EntryAction>;
}
export interface HoldEntry extends Omit<Hold, "closedAt" | "detailsForgotten"> {
  readonly kind: "hold";
  readonly accountId: Id;
  readonly actions: ReadonlyArray<EntryAction>;
}

export interface AccountLoans {
  readonly accountId: Id;
  readonly barcode: string | null;
  /** True for the viewer's own account. */
  readonly own: boolean;
  /** For the viewer's own open account: place-hold and e-checkout. Never for a managed account. */
  readonly accountActions: ReadonlyArray<AccountAction>;
  /** Loans not returned, oldest first. */
  readonly loans: ReadonlyArray<LoanEntry>;
  /** Holds not cancelled or fulfilled, oldest first. */
  readonly holds: ReadonlyArray<HoldEntry>;
}

export interface LinkedLoans {
  readonly viewer: Id;
  readonly position: bigint;
  /** The viewer's own account first, then each account it manages, by id. */
  readonly accounts: ReadonlyArray<AccountLoans>;
}

const allowed = <A extends Action>(actions: ReadonlyArray<A>): ReadonlyArray<A> => actions.filter((a) => managerActions.has(a));

const loanActions = (loan: Pick<Loan, "returned">, canAct: boolean): ReadonlyArray<EntryAction> => (canAct && !loan.returned ? allowed(["renew-loan"]) : []);

const holdActions = (hold: Pick<Hold, "status">, canAct: boolean): ReadonlyArray<EntryAction> => {
  if (!canAct) return [];
  switch (hold.status) {
    case "active":
      return allowed(["cancel-hold", "suspend-hold", "change-pickup-branch"]);
    case "suspended":
      return allowed(["cancel-hold", "resume-hold", "change-pickup-branch"]);
    default:
      return [];
  }
};

/**
 * The loans and holds `viewer` sees through `access` (R1, R5). Positions: the
 * loans state should have applied the same events as `access` (the runner and
 * the command line fold both together).
 */
export const loansFor = (s: LinkedLoansState, access: AccessView, viewer: Id): LinkedLoans => {
  const self = access.account(viewer);
  const visible: Array<{ id: Id; own: boolean }> = [];
  if (self !== undefined) visible.push({ id: self.accountId, own: true });
  if (self !== undefined) for (const id of access.managedBy(self.accountId)) visible.push({ id, own: false });
  const accounts = visible.map(({ id, own }): AccountLoans => {
    const canAct = access.canManage(self!.accountId, id);
    const circulation = s.accounts.get(id) ?? initialCirculationState;
    return {
      accountId: id,
      barcode: access.account(id)?.barcode ?? null,
      own,
      accountActions: own && canAct ? ["place-hold", "e-checkout"] : [],
      loans: [...circulation.loans.values()]
        .filter((l) => !l.returned)
        .map(({ returnedAt: _r, detailsForgotten: _f, ...l }) => ({ ...l, kind: "loan" as const, accountId: id, actions: loanActions(l, canAct) })),
      holds: [...circulation.holds.values()]
        .filter((h) => h.status === "active" || h.status === "suspended")
        .map(({ closedAt: _c, detailsForgotten: _f, ...h }) => ({ ...h, kind: "hold" as const, accountId: id, actions: holdActions(h, canAct) })),
    };
  });
  return { viewer: self?.accountId ?? viewer, position: access.position, accounts };
};

const LoanRow = t.type({
  loanId: t.string,
  itemId: t.string,
  title: t.string,
  format: t.keyof({ physical: null, digital: null }),
  checkedOutAt: t.string,
  dueAt: t.string,
  returned: t.boolean,
  returnedAt: t.union([t.string, t.null]),
  detailsForgotten: t.boolean,
});
const HoldRow = t.type({
  holdId: t.string,
  itemId: t.string,
  title: t.string,
  pickupBranch: t.string,
  placedAt: t.string,
  status: t.keyof({ active: null, suspended: null, cancelled: null, fulfilled: null }),
  suspendedUntil: t.union([t.string, t.null]),
  closedAt: t.union([t.string, t.null]),
  detailsForgotten: t.boolean,
});
const Snapshot = t.type({
  version: t.literal(2),
  applied: t.number,
  accounts: t.array(t.tuple([t.string, t.array(LoanRow), t.array(HoldRow), t.boolean])),
});

export const linkedLoansProjection: Projection<LinkedLoansState> = {
  name: "linked-loans",
  initial: initialLinkedLoans,
  evolve: evolveLinkedLoans,
  positionOf: (s) => BigInt(s.applied),
  serialise: (s) => ({
    version: 2,
    applied: s.applied,
    accounts: [...s.accounts].map(([id, c]) => [id, [...c.loans.values()], [...c.holds.values()], c.keepsHistory]),
  }),
  deserialise: (json): E.Either<DecodeError, LinkedLoansState> =>
    E.map((snap: t.TypeOf<typeof Snapshot>) => ({
      applied: snap.applied,
      accounts: new Map(
        snap.accounts.map(([id, loans, holds, keepsHistory]) => [
          id,
          {
            loans: new Map(loans.map((l) => [l.loanId, l])),
            holds: new Map(holds.map((h) => [h.holdId, h])),
            keepsHistory,
          },
        ]),
      ),
    }))(decodeWith(Snapshot, "linkedLoans")(json)),
};
