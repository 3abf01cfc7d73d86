/**
 * TEMPORARY: the actor-scoped host API the library is about to get, written
 * over today's `createLinkedAccounts` (which takes `actor` in every input and
 * answers with a bigint `position`). Every other file of the portal imports the
 * library through this module only, so that when the real API lands this file
 * is deleted and the imports point at `@linked-accounts/adapters` instead.
 *
 * The shape follows the plan: `library.patron(id, { channel })`,
 * `library.staff(id, { channel })`, `library.system()`, inputs without an actor,
 * and a JSON-safe `freshness` string instead of the position. The channel is
 * accepted and not yet recorded (today's events have no place for it).
 */
import * as E from "fp-ts/lib/Either.js";
import {
  type CommandFailure as TodayFailure,
  type EventStore,
  type LinkedAccountsOptions as TodayOptions,
  type RecordedEvent,
  createLinkedAccounts as createToday,
  LINKING_STREAM,
} from "@linked-accounts/adapters";
import {
  type Action,
  type Actor,
  type Authority,
  type DomainError,
  type Policy,
  defaultPolicy,
  evolveLinking,
  initialLinkingState,
  isLinkingEvent,
  lockedUntil,
} from "@linked-accounts/domain";

export type Channel = "portal" | "app" | "desk" | "system";

export type CommandFailure =
  | { readonly code: Exclude<TodayFailure["code"], "too-many-attempts">; readonly message: string }
  | { readonly code: "too-many-attempts"; readonly message: string; readonly retryAt: string };

export interface Accepted {
  readonly events: ReadonlyArray<RecordedEvent>;
  /** The freshness token: a read model that has reached it reflects the command. */
  readonly freshness: string;
}
export type Outcome<A = Accepted> = Promise<E.Either<CommandFailure, A>>;
export interface IssuedPhrase extends Accepted {
  readonly phraseId: string;
  readonly phrase: string;
  readonly direction: "one-way" | "two-way";
  readonly expiresAt: string;
}
export interface Connection extends Accepted {
  readonly linkId: string | null;
}

interface Common {
  readonly commandId?: string;
  readonly correlationId?: string | null;
}
type Direction = "one-way" | "two-way";

export interface Patron {
  readonly accountId: string;
  issueSharePhrase(input: { direction: Direction } & Common): Outcome<IssuedPhrase>;
  revokeSharePhrase(input: { phraseId: string } & Common): Outcome;
  connectAccount(input: { barcode: string; phrase: string } & Common): Outcome<Connection>;
  revokeLink(input: { linkId: string; reason?: string } & Common): Outcome;
  renewLoan(input: { accountId: string; loanId: string; dueAt: string } & Common): Outcome;
  cancelHold(input: { accountId: string; holdId: string } & Common): Outcome;
  suspendHold(input: { accountId: string; holdId: string; until: string } & Common): Outcome;
  resumeHold(input: { accountId: string; holdId: string } & Common): Outcome;
  changeHoldPickupBranch(input: { accountId: string; holdId: string; pickupBranch: string } & Common): Outcome;
  placeHold(input: { itemId: string; title: string; pickupBranch: string; holdId?: string } & Common): Outcome;
  eCheckout(input: { itemId: string; title: string; dueAt: string; loanId?: string } & Common): Outcome;
  closeAccount(input: { accountId: string } & Common): Outcome;
  canManage(accountId: string): Promise<boolean>;
  authorize(action: Action, accountId: string): Promise<E.Either<DomainError, Authority>>;
}

export interface Staff {
  readonly staffId: string;
  registerAccount(input: { accountId: string; barcode: string; minor: boolean } & Common): Outcome;
  closeAccount(input: { accountId: string } & Common): Outcome;
  recordCheckout(input: { accountId: string; itemId: string; title: string; dueAt: string; loanId?: string } & Common): Outcome;
  recordReturn(input: { accountId: string; loanId: string } & Common): Outcome;
  recordHoldFulfilled(input: { accountId: string; holdId: string } & Common): Outcome;
  revokeLink(input: { linkId: string; reason?: string } & Common): Outcome;
  revokeSharePhrase(input: { phraseId: string } & Common): Outcome;
}

export interface LinkedAccountsOptions extends Omit<TodayOptions, "maxRetries"> {
  readonly retry?: { readonly maxRetries?: number };
}

export interface LinkedAccounts {
  patron(accountId: string, options: { channel: Channel }): Patron;
  staff(staffId: string, options: { channel: Channel }): Staff;
  system(options?: { channel: Channel }): Pick<Staff, "registerAccount" | "closeAccount" | "recordReturn" | "recordHoldFulfilled">;
}

type Positioned = { readonly position: bigint; readonly events: ReadonlyArray<RecordedEvent> };

/** bigint position → freshness string, leaving every other field as it is. */
const fresh = async <A extends Positioned>(
  outcome: Promise<E.Either<TodayFailure, A>>,
): Promise<E.Either<TodayFailure, Omit<A, "position"> & { freshness: string }>> => {
  const result = await outcome;
  if (E.isLeft(result)) return result;
  const { position, ...rest } = result.right;
  return E.right({ ...rest, freshness: position.toString() });
};

/** Today's lockout refusal does not say until when; this works it out from the linking stream. */
const retryAtOf = async (store: EventStore, policy: Policy, accountId: string): Promise<string> => {
  let state = initialLinkingState;
  for await (const event of store.readStream(LINKING_STREAM)) if (isLinkingEvent(event)) state = evolveLinking(state, event);
  const failures = state.accounts.get(accountId)?.failuresAsConnector ?? [];
  const until = lockedUntil(failures, policy.connectorLockout);
  return new Date(until > 0 ? until : Date.now()).toISOString();
};

export const createLinkedAccounts = (options: LinkedAccountsOptions): LinkedAccounts => {
  const { retry, ...rest } = options;
  const today = createToday({ ...rest, ...(retry?.maxRetries === undefined ? {} : { maxRetries: retry.maxRetries }) });
  const policy = options.policy ?? defaultPolicy;
  // The plan's methods widen `CommandFailure`; today's results are a subset of it.
  const widen = <A>(o: Promise<E.Either<TodayFailure, A>>) => o as Promise<E.Either<CommandFailure, A>>;
  const as = (actor: Actor) => <I extends object>(input: I) => ({ ...input, actor });

  const patron = (accountId: string): Patron => {
    const actor: Actor = { kind: "account", accountId };
    const act = as(actor);
    return {
      accountId,
      issueSharePhrase: (i) => widen(fresh(today.issueSharePhrase(act(i)))),
      revokeSharePhrase: (i) => widen(fresh(today.revokeSharePhrase(act(i)))),
      connectAccount: async (i) => {
        const result = await fresh(today.connectAccount(act(i)));
        if (E.isLeft(result) && result.left.code === "too-many-attempts")
          return E.left({ ...result.left, code: "too-many-attempts", retryAt: await retryAtOf(options.store, policy, accountId) });
        return widen(Promise.resolve(result));
      },
      revokeLink: (i) => widen(fresh(today.revokeLink(act(i)))),
      renewLoan: (i) => widen(fresh(today.renewLoan(act(i)))),
      cancelHold: (i) => widen(fresh(today.cancelHold(act(i)))),
      suspendHold: (i) => widen(fresh(today.suspendHold(act(i)))),
      resumeHold: (i) => widen(fresh(today.resumeHold(act(i)))),
      changeHoldPickupBranch: (i) => widen(fresh(today.changeHoldPickupBranch(act(i)))),
      placeHold: (i) => widen(fresh(today.placeHold(act({ ...i, accountId })))),
      eCheckout: (i) => widen(fresh(today.recordCheckout(act({ ...i, accountId, format: "digital" })))),
      closeAccount: (i) => widen(fresh(today.closeAccount(act(i)))),
      canManage: (account) => today.canManage(accountId, account),
      authorize: (action, account) => today.authorize(actor, action, account),
    };
  };

  const staffLike = (actor: Actor): Staff => {
    const act = as(actor);
    return {
      staffId: actor.kind === "staff" ? actor.staffId : "system",
      registerAccount: (i) => widen(fresh(today.registerAccount(act(i)))),
      closeAccount: (i) => widen(fresh(today.closeAccount(act(i)))),
      recordCheckout: (i) => widen(fresh(today.recordCheckout(act({ ...i, format: "physical" })))),
      recordReturn: (i) => widen(fresh(today.recordReturn(act(i)))),
      recordHoldFulfilled: (i) => widen(fresh(today.recordHoldFulfilled(act(i)))),
      revokeLink: (i) => widen(fresh(today.revokeLink(act(i)))),
      revokeSharePhrase: (i) => widen(fresh(today.revokeSharePhrase(act(i)))),
    };
  };

  return {
    patron: (accountId) => patron(accountId),
    staff: (staffId) => staffLike({ kind: "staff", staffId }),
    system: () => staffLike({ kind: "system" }),
  };
};

// What else the portal takes from the library, through this one module.
export { type EventStore, createPostgresEventStore, createSqliteEventStore, scryptSharePhrases, manualClock, type Clock } from "@linked-accounts/adapters";
export { makePolicy, type Policy, type DomainError } from "@linked-accounts/domain";
export type { SharePhrases } from "@linked-accounts/adapters";
