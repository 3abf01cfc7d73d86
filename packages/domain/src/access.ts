/**
 * Who may do what to whom: the one rulebook (R1 to R5, R12). `grantInForce` is
 * the one answer to "is this grant in force": every command goes through it
 * (by `authorize`), and so does every read model (the access graph keeps only
 * the facts it is asked about, and their positions). It reads the facts it is
 * given and nothing else; the host's policy and the time of the question are
 * arguments, because a policy may make the answer change with time (an age).
 */
import * as E from "fp-ts/lib/Either.js";
import { Actor, type Direction, type Id, decodeWith } from "./codec.js";
import { reachesAgeAt } from "./date-of-birth.js";
import { type DomainError, domainError } from "./errors.js";
import { type AccountRecord, type LinkRecord, type LinkingState, pairKey } from "./linking-state.js";
import type { Policy } from "./policy.js";

/** One directed edge manager → account. */
export interface Grant {
  readonly manager: Id;
  readonly account: Id;
}

/**
 * R2: the grants a link gives by its direction alone: issuer → connector, and for
 * a 2-way link connector → issuer too. Never anything else.
 */
export const grantsOf = (link: {
  readonly issuerAccountId: Id;
  readonly connectedAccountId: Id;
  readonly direction: Direction;
}): ReadonlyArray<Grant> =>
  link.direction === "two-way"
    ? [
        { manager: link.issuerAccountId, account: link.connectedAccountId },
        { manager: link.connectedAccountId, account: link.issuerAccountId },
      ]
    : [{ manager: link.issuerAccountId, account: link.connectedAccountId }];

/** R2: does `link` give manager → account by its direction? (One of `grantsOf(link)`, without making them.) */
export const gives = (link: LinkFacts, manager: Id, account: Id): boolean =>
  (link.issuerAccountId === manager && link.connectedAccountId === account) ||
  (link.direction === "two-way" && link.connectedAccountId === manager && link.issuerAccountId === account);

/** What the rulebook knows of one account: the facts a grant to or from it depends on. */
export interface AccountFacts {
  readonly accountId: Id;
  /** False for an id no `AccountRegistered` named (yet): a link may name it first. */
  readonly registered: boolean;
  readonly closed: boolean;
  readonly minor: boolean;
  /** The date of birth last recorded (`2010-05-17`), or null. */
  readonly dateOfBirth: string | null;
}

/** What the rulebook knows of one link. */
export interface LinkFacts {
  readonly issuerAccountId: Id;
  readonly connectedAccountId: Id;
  readonly direction: Direction;
  readonly revoked: boolean;
}

/** The facts of an account never registered. */
export const unregistered = (accountId: Id): AccountFacts => ({ accountId, registered: false, closed: false, minor: false, dateOfBirth: null });

/** The facts of `accountId` in this link state. */
export const accountFactsIn = (state: LinkingState, accountId: Id): AccountFacts => factsOf(accountId, state.accounts.get(accountId));

/** The facts of `accountId` given its record in the link state (undefined: none). */
const factsOf = (accountId: Id, a: AccountRecord | undefined): AccountFacts =>
  a === undefined ? unregistered(accountId) : { accountId, registered: true, closed: a.closed, minor: a.minor, dateOfBirth: a.dateOfBirth };

/**
 * R4: may `account` be the managing side of a grant at `atMs`? An adult may. A
 * minor may not, unless the policy lets minors manage from an age
 * (`minorsMayManageFromAge`) and the minor's recorded date of birth says it has
 * reached that age by `atMs`. The default policy: minors never manage.
 */
export const mayManage = (policy: Policy, account: AccountFacts, atMs: number): boolean => {
  if (!account.minor) return true;
  const fromAge = policy.minorsMayManageFromAge;
  return fromAge !== null && account.dateOfBirth !== null && atMs >= reachesAgeAt(account.dateOfBirth, fromAge);
};

/** R1, R12: an account manages itself while it is registered and open. */
export const managesItself = (account: AccountFacts): boolean => account.registered && !account.closed;

/**
 * THE rule: is the grant `manager` → `account` given by `link` in force at
 * `atMs`, given these facts of the two accounts and of the link?
 * - R2: the link gives it by its direction (and is not revoked, R11);
 * - R3: only a link between these two counts (grants never compose), and an
 *   account is never its own manager through a link;
 * - R12: both accounts are registered and open;
 * - R4: the manager may manage (not a minor, unless the policy says otherwise).
 */
export const grantInForce = (policy: Policy, manager: AccountFacts, account: AccountFacts, link: LinkFacts, atMs: number): boolean =>
  manager.accountId !== account.accountId &&
  !link.revoked &&
  gives(link, manager.accountId, account.accountId) &&
  manager.registered &&
  account.registered &&
  !manager.closed &&
  !account.closed &&
  mayManage(policy, manager, atMs);

const NO_LINKS: ReadonlyArray<LinkRecord> = Object.freeze([]);

/** The active links of a pair that give manager → account by direction (R2), in force or not. */
export const linksGiving = (state: LinkingState, manager: Id, account: Id): ReadonlyArray<LinkRecord> => {
  const ids = state.activeLinksByPair.get(pairKey(manager, account));
  if (ids === undefined || ids.length === 0) return NO_LINKS;
  const links: LinkRecord[] = [];
  for (const id of ids) {
    const link = state.links.get(id);
    if (link !== undefined && gives(link, manager, account)) links.push(link);
  }
  return links;
};

/** The active links between two accounts, whichever way they point. */
export const linksBetween = (state: LinkingState, a: Id, b: Id): ReadonlyArray<Id> => state.activeLinksByPair.get(pairKey(a, b)) ?? [];

/**
 * R1, R3, R4, R12: the links through which `manager` may manage `account` at
 * `atMs`: those of the pair whose grant is in force (`grantInForce`). Only a
 * link between these two accounts counts: grants never compose (R3).
 */
export const grantLinks = (state: LinkingState, manager: Id, account: Id, policy: Policy, atMs: number): ReadonlyArray<Id> =>
  manager === account ? [] : grantLinksTo(state, manager, account, () => accountFactsIn(state, account), policy, atMs);

/** `grantLinks` for two different accounts, the managed one's facts at hand (read only if a link is found). */
const grantLinksTo = (
  state: LinkingState,
  manager: Id,
  account: Id,
  accountFacts: () => AccountFacts,
  policy: Policy,
  atMs: number,
): ReadonlyArray<Id> => {
  const candidates = linksGiving(state, manager, account);
  if (candidates.length === 0) return [];
  const m = accountFactsIn(state, manager);
  const a = accountFacts();
  const linkIds: Id[] = [];
  for (const link of candidates) if (grantInForce(policy, m, a, link, atMs)) linkIds.push(link.linkId);
  return linkIds;
};

/** R1: `manager` may manage `account` iff they are the same open account or a grant is in force. */
export const canManage = (state: LinkingState, manager: Id, account: Id, policy: Policy, atMs: number): boolean =>
  manager === account ? managesItself(accountFactsIn(state, account)) : grantLinks(state, manager, account, policy, atMs).length > 0;

/** What an actor can ask to do to an account. */
export type Action =
  | "view"
  | "renew-loan"
  | "cancel-hold"
  | "suspend-hold"
  | "resume-hold"
  | "change-pickup-branch"
  | "place-hold"
  | "e-checkout"
  | "checkout"
  | "return"
  | "fulfil-hold"
  | "issue-phrase"
  | "revoke-phrase"
  | "connect"
  | "close-account"
  | "record-date-of-birth"
  | "choose-reading-history";

/** R5: what a manager may do on an account it manages. */
export const managerActions: ReadonlySet<Action> = new Set<Action>([
  "view",
  "renew-loan",
  "cancel-hold",
  "suspend-hold",
  "resume-hold",
  "change-pickup-branch",
]);

/** What the account itself may do (R5); everything a manager may, and more. */
const selfActions: ReadonlySet<Action> = new Set<Action>([
  ...managerActions,
  "place-hold",
  "e-checkout",
  "checkout",
  "issue-phrase",
  "revoke-phrase",
  "connect",
  "close-account",
  // Issue 12: whether the library keeps one's reading history is one's own choice, never a manager's.
  "choose-reading-history",
]);

/**
 * At the desk: physical checkouts, returns, fulfilled holds, revoking phrases,
 * closing, and recording a patron's choice about their reading history for them.
 */
const staffActions: ReadonlySet<Action> = new Set<Action>([
  "view",
  "checkout",
  "return",
  "fulfil-hold",
  "revoke-phrase",
  "close-account",
  "record-date-of-birth",
  "choose-reading-history",
]);

/** The host's own processes (a returns sorter, the ILS): returns, fulfilled holds, closing, dates of birth. */
const systemActions: ReadonlySet<Action> = new Set<Action>(["return", "fulfil-hold", "close-account", "record-date-of-birth"]);

/** Whose authority an allowed command ran under; a manager's names the links (for audit). */
export type Authority =
  | { readonly kind: "self" }
  | { readonly kind: "manager"; readonly linkIds: ReadonlyArray<Id> }
  | { readonly kind: "staff"; readonly staffId: Id }
  | { readonly kind: "system" };

const SELF: Authority = { kind: "self" };
const SYSTEM: Authority = { kind: "system" };

const actorName = (actor: Actor): string =>
  actor.kind === "account" ? `account ${actor.accountId}` : actor.kind === "staff" ? `staff ${actor.staffId}` : "the system";

const decodeActor = decodeWith(Actor, "actor");
const actorRefusal = (u: unknown): string => {
  const decoded = decodeActor(u);
  return E.isLeft(decoded) ? `Not a valid actor: ${decoded.left.message}` : "Not a valid actor.";
};

/**
 * May `actor` do `action` to `accountId` at `atMs` (the command's `now`), given
 * this link state and the host's policy? The single authority check every
 * command uses (R1, R4, R5, R12, R13: the caller passes state that includes
 * every revocation stored before the command arrived).
 */
export const authorize = (
  actor: Actor,
  action: Action,
  accountId: Id,
  state: LinkingState,
  policy: Policy,
  atMs: number,
): E.Either<DomainError, Authority> => {
  // Callable by hosts with anything: an actor that is not one is refused, never half-trusted.
  if (!Actor.is(actor)) return E.left(domainError("not-authorised", actorRefusal(actor)));
  return authorizeOn(actor, action, accountId, state.accounts.get(accountId), state, policy, atMs);
};

/**
 * `authorize` for an actor `Actor.is` already accepted, given the account's
 * record (`state.accounts.get(accountId)`), for a decision that reads it too.
 */
export const authorizeOn = (
  actor: Actor,
  action: Action,
  accountId: Id,
  account: AccountRecord | undefined,
  state: LinkingState,
  policy: Policy,
  atMs: number,
): E.Either<DomainError, Authority> => {
  if (account === undefined) return E.left(domainError("account-not-found", `No account ${accountId} is registered.`));
  const closedAllows = action === "view" || action === "return";
  if (account.closed && !closedAllows)
    return E.left(domainError("account-closed", `Account ${accountId} is closed.`));

  // Built only when needed: authorize runs on every command.
  const refuse = (): E.Either<DomainError, Authority> =>
    E.left(domainError("not-authorised", `${actorName(actor)} may not ${action} on account ${accountId}.`));
  switch (actor.kind) {
    case "staff":
      return staffActions.has(action) ? E.right({ kind: "staff", staffId: actor.staffId }) : refuse();
    case "system":
      return systemActions.has(action) ? E.right(SYSTEM) : refuse();
    case "account": {
      if (actor.accountId === accountId) {
        if (account.closed && action !== "view") return refuse();
        return selfActions.has(action) ? E.right(SELF) : refuse();
      }
      if (!managerActions.has(action)) {
        return selfActions.has(action)
          ? E.left(
              domainError(
                "self-service-only",
                `Only account ${accountId} itself may ${action}; a manager cannot do it on its behalf (R5).`,
              ),
            )
          : refuse();
      }
      const linkIds = grantLinksTo(state, actor.accountId, accountId, () => factsOf(accountId, account), policy, atMs);
      return linkIds.length > 0 ? E.right({ kind: "manager", linkIds }) : refuse();
    }
  }
};
