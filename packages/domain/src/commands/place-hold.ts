/** R5: a new hold is only ever the account's own request, never a manager's. */
import * as E from "fp-ts/lib/Either.js";
import { Id } from "../codec.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { Branch, Title } from "../events.js";
import { input } from "../input.js";
import { holdTag } from "../tags.js";
import { command } from "./command.js";
import { decideOn, ownAccount, readsOn } from "./on-account.js";

export const PlaceHold = command("PlaceHold", { holdId: Id, accountId: Id, itemId: Id, title: Title, pickupBranch: Branch });

export const placeHold = declare({
  type: "PlaceHold",
  method: "placeHold",
  actors: ["account"],
  // `accountId` defaults to the actor's own; any other is refused as self-service-only (R5).
  input: input("placeHold", { itemId: Id, title: Title, pickupBranch: Branch }, { holdId: Id, accountId: Id }),
  codec: PlaceHold,
  identity: ({ itemId, title, pickupBranch, holdId, accountId }) => ({ itemId, title, pickupBranch, holdId, accountId }),
  make: (i, c) => ({ type: "PlaceHold", ...c.common, ...i, accountId: i.accountId ?? ownAccount(c.common), holdId: i.holdId ?? c.newId() }),
  reads: (c) => readsOn(c, { tags: [holdTag(c.holdId)] }),
  decide: decideOn("place-hold", (c: typeof PlaceHold._A, s) => {
    if (s.holds.has(c.holdId)) return E.left(domainError("hold-already-exists", `Account ${c.accountId} already has a hold ${c.holdId}.`));
    const { holdId, accountId, itemId, title, pickupBranch } = c;
    return E.right([{ type: "HoldPlaced", data: { holdId, accountId, itemId, title, pickupBranch, placedAt: c.now } }]);
  }),
  outcome: (c) => E.right({ holdId: c.holdId }),
});
