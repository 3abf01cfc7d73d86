/**
 * What every loan and hold command shares (R5, R13): the actor must be allowed
 * the action on the account by `authorize`, decided on link state read within
 * the command's own boundary, so a revocation stored after that read refuses
 * the append and the command is decided again.
 */
import * as E from "fp-ts/lib/Either.js";
import { type Id, isoMs } from "../codec.js";
import { type Action, authorize } from "../access.js";
import type { CirculationState } from "../circulation.js";
import type { CommonFields, Decision } from "../declaration.js";
import { type LibraryState, circulationOf } from "../library-state.js";
import type { Policy } from "../policy.js";
import type { Query, QueryItem } from "../query.js";
import { authorityOver } from "./reads.js";

export interface OnAccount extends CommonFields {
  readonly accountId: Id;
}

/** The account's facts, the actor's authority over it, and the loan or hold concerned. */
export const readsOn = (c: OnAccount, item: QueryItem): Query => ({ items: [...authorityOver(c.actor, c.accountId), item] });

/**
 * Decides `c` once `action` is allowed. `by` is the account recorded as acting
 * (`renewedBy`, `cancelledBy`, …): the actor when an account, else the account itself.
 */
export const decideOn =
  <C extends OnAccount>(action: Action | ((c: C) => Action), allowed: (c: C, s: CirculationState, by: Id) => Decision) =>
  (c: C, state: LibraryState, policy: Policy): Decision => {
    const authority = authorize(c.actor, typeof action === "function" ? action(c) : action, c.accountId, state.linking, policy, isoMs(c.now));
    return E.isLeft(authority)
      ? authority
      : allowed(c, circulationOf(state, c.accountId), c.actor.kind === "account" ? c.actor.accountId : c.accountId);
  };

/** The acting account, for commands only an account itself may send about itself. */
export const ownAccount = (common: CommonFields): Id => (common.actor.kind === "account" ? common.actor.accountId : "");
