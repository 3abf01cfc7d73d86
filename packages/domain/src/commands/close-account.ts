/** R12: closing ends every grant to or from the account (R1) and every phrase it issued. */
import * as E from "fp-ts/lib/Either.js";
import { Id, isoMs } from "../codec.js";
import { authorize } from "../access.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import type { LinkingEvent } from "../events.js";
import { input } from "../input.js";
import { currentPhrases, isActive } from "../linking.js";
import { command } from "./command.js";
import { accountFacts, phrasesOf } from "./reads.js";

export const CloseAccount = command("CloseAccount", { accountId: Id });

export const closeAccount = declare({
  type: "CloseAccount",
  method: "closeAccount",
  actors: ["account", "staff", "system"],
  input: input("closeAccount", { accountId: Id }),
  codec: CloseAccount,
  identity: ({ accountId }) => ({ accountId }),
  make: ({ accountId }, c) => ({ type: "CloseAccount", ...c.common, accountId }),
  reads: (c) => ({ items: [accountFacts(c.accountId), phrasesOf(c.accountId)] }),
  decide: (c, { linking: state }, policy) => {
    const account = state.accounts.get(c.accountId);
    if (account === undefined) return E.left(domainError("account-not-found", `No account ${c.accountId} is registered.`));
    if (account.closed) {
      // Closing again changes nothing, but only for those who may close it (R5).
      const mayClose = c.actor.kind !== "account" || c.actor.accountId === c.accountId;
      return mayClose ? E.right([]) : E.left(domainError("not-authorised", `Only account ${c.accountId} itself or staff may close it.`));
    }
    const nowMs = isoMs(c.now);
    const allowed = authorize(c.actor, "close-account", c.accountId, state, policy, nowMs);
    if (E.isLeft(allowed)) return allowed;
    const phrases = currentPhrases(state, c.accountId).filter((p) => isActive(p, nowMs));
    return E.right([
      { type: "AccountClosed", data: { accountId: c.accountId, closedAt: c.now } },
      ...phrases.map(
        (p): LinkingEvent => ({
          type: "SharePhraseRevoked",
          data: { phraseId: p.phraseId, issuerAccountId: c.accountId, reason: "account-closed", revokedAt: c.now },
        }),
      ),
    ]);
  },
  outcome: () => E.right({}),
});
