/**
 * R6: an open account issues a phrase for a direction; a new one supersedes the
 * active one of its direction. R10: how often one account may issue is limited.
 * The plaintext never reaches the domain: the handler makes the phrase and
 * hands in only its verifier.
 */
import * as E from "fp-ts/lib/Either.js";
import { Direction, Id, isoMs } from "../codec.js";
import { accountFactsIn, authorize, mayManage } from "../access.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { Verifier } from "../events.js";
import type { LinkingEvent } from "../events.js";
import { input } from "../input.js";
import { isActive } from "../linking.js";
import { lockedUntil } from "../policy.js";
import { command } from "./command.js";
import { accountFacts, phraseFacts, phrasesOf } from "./reads.js";

export const IssueSharePhrase = command("IssueSharePhrase", {
  phraseId: Id,
  issuerAccountId: Id,
  direction: Direction,
  verifier: Verifier,
});

// `issuesPhrase` kept literal: the host method's outcome then carries the phrase.
export const issueSharePhrase = {
  ...declare({
  type: "IssueSharePhrase",
  method: "issueSharePhrase",
  actors: ["account"],
  input: input("issueSharePhrase", { direction: Direction }),
  codec: IssueSharePhrase,
  identity: ({ direction }) => ({ direction }),
  make: ({ direction }, c) => {
    if (c.verifier === undefined) throw new TypeError("issueSharePhrase: the handler must supply a verifier");
    const issuerAccountId = c.common.actor.kind === "account" ? c.common.actor.accountId : "";
    return { type: "IssueSharePhrase", ...c.common, phraseId: c.newId(), issuerAccountId, direction, verifier: c.verifier };
  },
  reads: (c) => ({ items: [accountFacts(c.issuerAccountId), phrasesOf(c.issuerAccountId), phraseFacts(c.phraseId)] }),
  decide: (c, { linking: state }, policy) => {
    const nowMs = isoMs(c.now);
    const allowed = authorize(c.actor, "issue-phrase", c.issuerAccountId, state, policy, nowMs);
    if (E.isLeft(allowed)) return allowed;
    const issuer = state.accounts.get(c.issuerAccountId)!;
    // R4: a 1-way phrase makes its issuer a manager, so only an issuer who may manage now issues one.
    if (c.direction === "one-way" && !mayManage(policy, accountFactsIn(state, c.issuerAccountId), nowMs))
      return E.left(
        domainError(
          "minor-cannot-manage",
          "A minor's 1-way phrase would let the minor manage the connector, which R4 forbids; issue a 2-way phrase, which works as 1-way towards the minor.",
        ),
      );
    const limitedUntil = lockedUntil(issuer.phrasesIssuedAt, policy.issueLimit);
    if (nowMs < limitedUntil) {
      const retryAt = new Date(limitedUntil).toISOString();
      return E.left(domainError("too-many-phrases", `Too many share phrases issued recently; try again after ${retryAt}.`, retryAt));
    }
    if (state.phrases.has(c.phraseId)) return E.left(domainError("phrase-already-issued", `Phrase ${c.phraseId} was already issued.`));
    const supersededId = issuer.currentPhrases[c.direction];
    const superseded = supersededId === undefined ? undefined : state.phrases.get(supersededId);
    const revoke: LinkingEvent[] =
      superseded !== undefined && isActive(superseded, nowMs)
        ? [
            {
              type: "SharePhraseRevoked",
              data: { phraseId: superseded.phraseId, issuerAccountId: c.issuerAccountId, reason: "superseded", revokedAt: c.now },
            },
          ]
        : [];
    return E.right([
      ...revoke,
      {
        type: "SharePhraseIssued",
        data: {
          phraseId: c.phraseId,
          issuerAccountId: c.issuerAccountId,
          direction: c.direction,
          verifier: c.verifier,
          issuedAt: c.now,
          expiresAt: new Date(nowMs + policy.phraseLifetimeMs).toISOString(),
        },
      },
    ]);
  },
  outcome: (_c, events) => {
    const issued = events.find((e) => e.type === "SharePhraseIssued");
    return issued?.type === "SharePhraseIssued"
      ? E.right({ phraseId: issued.data.phraseId, direction: issued.data.direction, expiresAt: issued.data.expiresAt })
      : E.left(domainError("phrase-not-found", "No share phrase was issued."));
  },
}),
  issuesPhrase: true as const,
};
