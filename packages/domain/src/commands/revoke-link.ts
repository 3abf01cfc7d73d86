/** R11: either account of the link, or staff, revoke it: every grant it gave ends at once and for good. */
import * as E from "fp-ts/lib/Either.js";
import { Id } from "../codec.js";
import { Reason } from "../events.js";
import type { LinkRevoker } from "../events.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { input } from "../input.js";
import { command } from "./command.js";
import { linkFacts } from "./reads.js";

export const RevokeLink = command("RevokeLink", { linkId: Id, reason: Reason });

export const revokeLink = declare({
  type: "RevokeLink",
  method: "revokeLink",
  actors: ["account", "staff"],
  input: input("revokeLink", { linkId: Id }, { reason: Reason }),
  codec: RevokeLink,
  identity: ({ linkId, reason }) => ({ linkId, reason: reason ?? "" }),
  make: ({ linkId, reason }, c) => ({ type: "RevokeLink", ...c.common, linkId, reason: reason ?? "" }),
  reads: (c) => ({ items: [linkFacts(c.linkId)] }),
  decide: (c, { linking: state }) => {
    const link = state.links.get(c.linkId);
    if (link === undefined) return E.left(domainError("link-not-found", `No link ${c.linkId} exists.`));
    const by: LinkRevoker | undefined =
      c.actor.kind === "account"
        ? { kind: "account", accountId: c.actor.accountId }
        : c.actor.kind === "staff"
          ? { kind: "staff", staffId: c.actor.staffId }
          : undefined;
    const party = by?.kind === "account" && (by.accountId === link.issuerAccountId || by.accountId === link.connectedAccountId);
    if (by === undefined || (by.kind === "account" && !party))
      return E.left(domainError("not-authorised", `Only the two accounts of link ${c.linkId} or library staff may revoke it.`));
    if (link.revoked) return E.right([]);
    return E.right([{ type: "LinkRevoked", data: { linkId: c.linkId, revokedBy: by, reason: c.reason, revokedAt: c.now } }]);
  },
  outcome: () => E.right({}),
});
