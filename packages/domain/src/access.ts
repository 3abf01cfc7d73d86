/**
 * Who may do what to whom: the one rule every command goes through (R1 to R5).
 * It reads the link state it is given and nothing else.
 */
import * as E from "fp-ts/lib/Either.js";
import { Actor, type Direction, type Id, decodeWith } from "./codec.js";
import { type DomainError, domainError } from "./errors.js";
import { type LinkRecord, type LinkingState, pairKey } from "./linking-state.js";

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

const gives = (link: LinkRecord, manager: Id, account: Id): boolean =>
  grantsOf(link).some((g) => g.manager === manager && g.account === account);

/** The active links of a pair that give manager → account by direction (R2), in force or not. */
export const linksGiving = (state: LinkingState, manager: Id, account: Id): ReadonlyArray<LinkRecord> => {
  const ids = state.activeLinksByPair.get(pairKey(manager, account)) ?? [];
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
 * R1, R3, R4, R12: the links through which `manager` may manage `account` now.
 * Empty unless both accounts are open and the manager is not a minor. Only a link
 * between these two accounts counts: grants never compose (R3).
 */
export const grantLinks = (state: LinkingState, manager: Id, account: Id): ReadonlyArray<Id> => {
  if (manager === account) return [];
  const m = state.accounts.get(manager);
  const a = state.accounts.get(account);
  if (m === undefined || a === undefined || m.closed || a.closed || m.minor) return [];
  return linksGiving(state, manager, account).map((l) => l.linkId);
};

/** R1: `manager` may manage `account` iff they are the same open account or a grant is in force. */
export const canManage = (state: LinkingState, manager: Id, account: Id): boolean => {
  if (manager === account) {
    const self = state.accounts.get(account);
    return self !== undefined && !self.closed;
  }
  return grantLinks(state, manager, account).length > 0;
};

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
  | "close-account";

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
]);

/** At the desk: physical checkouts, returns, fulfilled holds, revoking phrases, closing. */
const staffActions: ReadonlySet<Action> = new Set<Action>([
  "view",
  "checkout",
  "return",
  "fulfil-hold",
  "revoke-phrase",
  "close-account",
]);

/** The host's own processes (a returns sorter, the ILS): returns, fulfilled holds, closing. */
const systemActions: ReadonlySet<Action> = new Set<Action>(["return", "fulfil-hold", "close-account"]);

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
 * May `actor` do `action` to `accountId`, given this link state? The single
 * authority check every command uses (R1, R4, R5, R12, R13: the caller passes
 * state that includes every revocation stored before the command arrived).
 */
export const authorize = (
  actor: Actor,
  action: Action,
  accountId: Id,
  state: LinkingState,
): E.Either<DomainError, Authority> => {
  // Callable by hosts with anything: an actor that is not one is refused, never half-trusted.
  if (!Actor.is(actor)) return E.left(domainError("not-authorised", actorRefusal(actor)));
  const account = state.accounts.get(accountId);
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
      const linkIds = grantLinks(state, actor.accountId, accountId);
      return linkIds.length > 0 ? E.right({ kind: "manager", linkIds }) : refuse();
    }
  }
};
