/**
 * R5: what the account, or an account managing it, may do to an existing hold:
 * cancel, suspend, resume, change its pickup branch. And its fulfilment, which
 * the desk or the library's system records.
 */
import * as E from "fp-ts/lib/Either.js";
import { Id, IsoTime, isoMs } from "../codec.js";
import { findOpenHold, isSuspended } from "../circulation.js";
import { type Decision, declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { Branch } from "../events.js";
import { input } from "../input.js";
import { holdTag } from "../tags.js";
import { command } from "./command.js";
import { decideOn, readsOn } from "./on-account.js";

const onHold = { holdId: Id, accountId: Id };
const holdInput = (method: string) => input(method, { accountId: Id, holdId: Id });
const sameHold = ({ accountId, holdId }: { accountId: string; holdId: string }) => ({ accountId, holdId });
const readsHold = (c: { holdId: string; accountId: string } & Parameters<typeof readsOn>[0]) => readsOn(c, { tags: [holdTag(c.holdId)] });
const done = () => E.right({});

export const CancelHold = command("CancelHold", onHold);
export const cancelHold = declare({
  type: "CancelHold",
  method: "cancelHold",
  actors: ["account"],
  input: holdInput("cancelHold"),
  codec: CancelHold,
  identity: sameHold,
  make: (i, c) => ({ type: "CancelHold", ...c.common, ...i }),
  reads: readsHold,
  decide: decideOn("cancel-hold", (c: typeof CancelHold._A, s, by) =>
    E.flatMap(findOpenHold(s, c), (): Decision =>
      E.right([{ type: "HoldCancelled", data: { holdId: c.holdId, accountId: c.accountId, cancelledBy: by, cancelledAt: c.now } }]),
    ),
  ),
  outcome: done,
});

export const SuspendHold = command("SuspendHold", { ...onHold, until: IsoTime });
export const suspendHold = declare({
  type: "SuspendHold",
  method: "suspendHold",
  actors: ["account"],
  input: input("suspendHold", { accountId: Id, holdId: Id, until: IsoTime }),
  codec: SuspendHold,
  identity: ({ accountId, holdId, until }) => ({ accountId, holdId, until }),
  make: (i, c) => ({ type: "SuspendHold", ...c.common, ...i }),
  reads: readsHold,
  decide: decideOn("suspend-hold", (c: typeof SuspendHold._A, s, by) =>
    E.flatMap(findOpenHold(s, c), (hold): Decision => {
      const nowMs = isoMs(c.now);
      if (isSuspended(hold, nowMs))
        return E.left(domainError("hold-already-suspended", `Hold ${c.holdId} is suspended until ${hold.suspendedUntil}.`));
      if (isoMs(c.until) <= nowMs)
        return E.left(domainError("suspension-not-in-future", `Suspending until ${c.until} would end before it began.`));
      return E.right([
        { type: "HoldSuspended", data: { holdId: c.holdId, accountId: c.accountId, until: c.until, suspendedBy: by, suspendedAt: c.now } },
      ]);
    }),
  ),
  outcome: done,
});

export const ResumeHold = command("ResumeHold", onHold);
export const resumeHold = declare({
  type: "ResumeHold",
  method: "resumeHold",
  actors: ["account"],
  input: holdInput("resumeHold"),
  codec: ResumeHold,
  identity: sameHold,
  make: (i, c) => ({ type: "ResumeHold", ...c.common, ...i }),
  reads: readsHold,
  decide: decideOn("resume-hold", (c: typeof ResumeHold._A, s, by) =>
    E.flatMap(findOpenHold(s, c), (hold): Decision =>
      hold.status !== "suspended"
        ? E.left(domainError("hold-not-suspended", `Hold ${c.holdId} is not suspended.`))
        : E.right([{ type: "HoldResumed", data: { holdId: c.holdId, accountId: c.accountId, resumedBy: by, resumedAt: c.now } }]),
    ),
  ),
  outcome: done,
});

export const ChangeHoldPickupBranch = command("ChangeHoldPickupBranch", { ...onHold, pickupBranch: Branch });
export const changeHoldPickupBranch = declare({
  type: "ChangeHoldPickupBranch",
  method: "changeHoldPickupBranch",
  actors: ["account"],
  input: input("changeHoldPickupBranch", { accountId: Id, holdId: Id, pickupBranch: Branch }),
  codec: ChangeHoldPickupBranch,
  identity: ({ accountId, holdId, pickupBranch }) => ({ accountId, holdId, pickupBranch }),
  make: (i, c) => ({ type: "ChangeHoldPickupBranch", ...c.common, ...i }),
  reads: readsHold,
  decide: decideOn("change-pickup-branch", (c: typeof ChangeHoldPickupBranch._A, s, by) =>
    E.flatMap(findOpenHold(s, c), (hold): Decision =>
      hold.pickupBranch === c.pickupBranch
        ? E.right([])
        : E.right([
            {
              type: "HoldPickupBranchChanged",
              data: { holdId: c.holdId, accountId: c.accountId, pickupBranch: c.pickupBranch, changedBy: by, changedAt: c.now },
            },
          ]),
    ),
  ),
  outcome: done,
});

export const RecordHoldFulfilled = command("RecordHoldFulfilled", onHold);
export const recordHoldFulfilled = declare({
  type: "RecordHoldFulfilled",
  method: "recordHoldFulfilled",
  actors: ["staff", "system"],
  input: holdInput("recordHoldFulfilled"),
  codec: RecordHoldFulfilled,
  identity: sameHold,
  make: (i, c) => ({ type: "RecordHoldFulfilled", ...c.common, ...i }),
  reads: readsHold,
  decide: decideOn("fulfil-hold", (c: typeof RecordHoldFulfilled._A, s) =>
    E.flatMap(findOpenHold(s, c), (): Decision =>
      E.right([{ type: "HoldFulfilled", data: { holdId: c.holdId, accountId: c.accountId, fulfilledAt: c.now } }]),
    ),
  ),
  outcome: done,
});
