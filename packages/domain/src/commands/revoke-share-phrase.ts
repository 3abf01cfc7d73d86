/** R11: the issuer or staff stop a phrase; the links it already made stay. */
import * as E from "fp-ts/lib/Either.js";
import { Id, isoMs } from "../codec.js";
import { authorize } from "../access.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { input } from "../input.js";
import { command } from "./command.js";
import { accountFacts, phraseFacts } from "./reads.js";

export const RevokeSharePhrase = command("RevokeSharePhrase", { phraseId: Id });

export const revokeSharePhrase = declare({
  type: "RevokeSharePhrase",
  method: "revokeSharePhrase",
  actors: ["account", "staff"],
  input: input("revokeSharePhrase", { phraseId: Id }),
  codec: RevokeSharePhrase,
  identity: ({ phraseId }) => ({ phraseId }),
  make: ({ phraseId }, c) => ({ type: "RevokeSharePhrase", ...c.common, phraseId }),
  // The phrase names its issuer, whose account is read next.
  reads: (c, { linking }) => {
    const phrase = linking.phrases.get(c.phraseId);
    return { items: [phraseFacts(c.phraseId), ...(phrase === undefined ? [] : [accountFacts(phrase.issuerAccountId)])] };
  },
  decide: (c, { linking: state }, policy) => {
    const phrase = state.phrases.get(c.phraseId);
    if (phrase === undefined) return E.left(domainError("phrase-not-found", `No phrase ${c.phraseId} was issued.`));
    const allowed = authorize(c.actor, "revoke-phrase", phrase.issuerAccountId, state, policy, isoMs(c.now));
    if (E.isLeft(allowed)) return allowed;
    if (phrase.revoked !== null) return E.right([]);
    return E.right([
      {
        type: "SharePhraseRevoked",
        data: {
          phraseId: phrase.phraseId,
          issuerAccountId: phrase.issuerAccountId,
          reason: c.actor.kind === "staff" ? "staff" : "issuer",
          revokedAt: c.now,
        },
      },
    ]);
  },
  outcome: () => E.right({}),
});
