/**
 * R8 to R10: the logged-in account types another account's barcode and share
 * phrase. The handler derives one proof of the typed phrase per stored
 * candidate; the decision compares them in constant time. A refused attempt is
 * itself a fact, a `ConnectionAttemptFailed` with the precise reason, which the
 * connector is told only as R9 allows.
 */
import { accountByBarcode, accountIdByBarcode } from "../linking-state.js";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { Actor, Base64Url, FreeText, Id, isoMs, secret } from "../codec.js";
import type { Direction, Id as IdType } from "../codec.js";
import { authorize, authorizeOn, gives, linksBetween } from "../access.js";
import { canonicalBarcode } from "../barcode.js";
import { type Decision, declare } from "../declaration.js";
import { type DomainError, domainError } from "../errors.js";
import type { ConnectionFailureReason, DomainEvent } from "../events.js";
import { input } from "../input.js";
import type { LibraryState } from "../library-state.js";
import type { LinkingState, PhraseRecord } from "../linking-state.js";
import { currentPhrases, currentPhrasesOf, isActive } from "../linking.js";
import { type Policy, lockedUntil } from "../policy.js";
import { sameHash } from "../phrase.js";
import { command } from "./command.js";
import { accountFacts, attemptsBy, attemptsOn, barcodeOwner, linkFacts, pairLinks, phrasesOf } from "./reads.js";

/** The hash of the typed phrase under one stored phrase's salt and cost. */
export const PhraseProof = t.exact(t.type({ phraseId: Id, hash: Base64Url }), "PhraseProof");
export type PhraseProof = t.TypeOf<typeof PhraseProof>;

export const ConnectAccount = command("ConnectAccount", {
  connectorAccountId: Id,
  /** As typed; kept in an event only when it is a registered one (R6), and never echoed: it may hold a phrase. */
  barcode: secret(FreeText("Barcode as typed", 0, 64)),
  linkId: Id,
  proofs: t.array(PhraseProof),
});
type ConnectAccount = t.TypeOf<typeof ConnectAccount>;

/** R10: until when the connector is locked out, in ms (0 when not). */
const connectorLockedUntil = (c: ConnectAccount, { linking }: LibraryState, policy: Policy): number => {
  const connector = linking.accounts.get(c.connectorAccountId);
  return connector === undefined ? 0 : lockedUntil(connector.failuresAsConnector, policy.connectorLockout);
};

const tooManyAttempts = (untilMs: number): DomainError => {
  const retryAt = new Date(untilMs).toISOString();
  return domainError("too-many-attempts", `Too many failed attempts to connect; try again after ${retryAt}.`, retryAt);
};

const failed = (c: ConnectAccount, issuerAccountId: IdType | null, reason: ConnectionFailureReason): Decision =>
  E.right([
    {
      type: "ConnectionAttemptFailed",
      data: {
        connectorAccountId: c.connectorAccountId,
        // R6: what was typed is kept only when it is a registered barcode. Anything
        // else may be a phrase typed into the wrong field, and no event may hold one.
        attemptedBarcode: issuerAccountId === null ? "" : canonicalBarcode(c.barcode),
        issuerAccountId,
        reason,
        attemptedAt: c.now,
      },
    },
  ]);

/** The proof given for `phraseId`, if any (the first, as `find` would). */
const proofFor = (proofs: ReadonlyArray<PhraseProof>, phraseId: IdType): PhraseProof | undefined => {
  for (const proof of proofs) if (proof.phraseId === phraseId) return proof;
  return undefined;
};

/**
 * R8: does every grant `direction` gives between these two already hold by an
 * active link? (`grantsOf` that link, each given by one of `linksGiving`: the
 * pair's active links are read once for both directions.)
 */
const alreadyGranted = (state: LinkingState, issuerId: IdType, connectorId: IdType, direction: Direction): boolean => {
  const ids = linksBetween(state, issuerId, connectorId);
  let forward = false;
  let backward = direction !== "two-way";
  for (const id of ids) {
    const link = state.links.get(id);
    if (link === undefined) continue;
    forward ||= gives(link, issuerId, connectorId);
    backward ||= gives(link, connectorId, issuerId);
    if (forward && backward) return true;
  }
  return false;
};

const decideConnect = (c: ConnectAccount, { linking: state }: LibraryState, policy: Policy): Decision => {
  const nowMs = isoMs(c.now);
  // The connector's record is read once, for authorize and for the lockout (`authorize` refuses an actor that is none).
  if (!Actor.is(c.actor)) {
    const refused = authorize(c.actor, "connect", c.connectorAccountId, state, policy, nowMs);
    if (E.isLeft(refused)) return refused;
  }
  const record = state.accounts.get(c.connectorAccountId);
  const allowed = authorizeOn(c.actor, "connect", c.connectorAccountId, record, state, policy, nowMs);
  if (E.isLeft(allowed)) return allowed;
  if (c.actor.kind !== "account") return E.left(domainError("self-service-only", "Only the account itself may connect."));
  const connector = record!;
  // R10: refused before any derivation, and nothing is appended: a locked-out
  // connector's tries cost nobody else anything.
  const until = lockedUntil(connector.failuresAsConnector, policy.connectorLockout);
  if (nowMs < until) return E.left(tooManyAttempts(until));
  const issuer = accountByBarcode(state, c.barcode);
  if (issuer === undefined) return failed(c, null, "unknown-barcode");
  const issuerId = issuer.accountId;
  if (issuerId === c.connectorAccountId) return failed(c, issuerId, "self-link");
  if (issuer.closed) return failed(c, issuerId, "account-closed");
  if (nowMs < lockedUntil(issuer.failuresAsIssuer, policy.issuerLockout)) return failed(c, issuerId, "issuer-locked");

  // Compare against every candidate before choosing, so timing does not tell which matched.
  const matches: PhraseRecord[] = [];
  for (const phrase of currentPhrasesOf(state, issuer)) {
    const proof = proofFor(c.proofs, phrase.phraseId);
    if (proof !== undefined && sameHash(proof.hash, phrase.verifier.hash)) matches.push(phrase);
  }
  const active = matches.find((p) => isActive(p, nowMs));
  if (active === undefined) {
    if (matches.some((p) => p.revoked !== null)) return failed(c, issuerId, "phrase-revoked");
    if (matches.length > 0) return failed(c, issuerId, "phrase-expired");
    return failed(c, issuerId, "phrase-mismatch");
  }
  // R8: a pair that already holds every grant this phrase gives needs nothing more.
  if (alreadyGranted(state, issuerId, c.connectorAccountId, active.direction)) return E.right([]);
  if (state.links.has(c.linkId)) return E.left(domainError("link-id-taken", `Link ${c.linkId} already exists.`));
  return E.right([
    {
      type: "AccountConnected",
      data: {
        linkId: c.linkId,
        phraseId: active.phraseId,
        issuerAccountId: issuerId,
        connectedAccountId: c.connectorAccountId,
        direction: active.direction,
        connectedAt: c.now,
      },
    },
  ]);
};

/**
 * R9: what the connector is told about a refused attempt. Unknown barcode,
 * wrong, expired or revoked phrase, a closed or locked issuer: all the same.
 */
export const refusalOf = (events: ReadonlyArray<DomainEvent>): DomainError | undefined => {
  const failure = events.find((e) => e.type === "ConnectionAttemptFailed");
  if (failure?.type !== "ConnectionAttemptFailed") return undefined;
  return failure.data.reason === "self-link"
    ? domainError("cannot-connect-to-own-account", "That barcode is your own account's.")
    : domainError("barcode-or-phrase-not-recognised", "That barcode and share phrase were not recognised. Check both and try again.");
};

export const connectAccount = declare({
  type: "ConnectAccount",
  method: "connectAccount",
  actors: ["account"],
  input: input("connectAccount", {
    // What the connector typed: an unknown or malformed barcode is a failed attempt,
    // not bad input (R9). Never echoed: a phrase may have been pasted into it (R6).
    barcode: secret(FreeText("Barcode", 1, 64)),
    phrase: secret(FreeText("SharePhrase", 1, 200)),
  }),
  codec: ConnectAccount,
  // The phrase is a secret: no digest of it is kept anywhere (R6).
  identity: ({ barcode }) => ({ barcode: canonicalBarcode(barcode) }),
  make: ({ barcode }, c) => ({
    type: "ConnectAccount",
    ...c.common,
    connectorAccountId: c.common.actor.kind === "account" ? c.common.actor.accountId : "",
    barcode: canonicalBarcode(barcode).slice(0, 64),
    linkId: c.newId(),
    proofs: [],
  }),
  reads: (c, state, policy) => {
    const own = [accountFacts(c.connectorAccountId), attemptsBy(c.connectorAccountId)];
    if (isoMs(c.now) < connectorLockedUntil(c, state, policy)) return { items: own };
    const issuerId = accountIdByBarcode(state.linking, c.barcode);
    const issuer =
      issuerId === undefined || issuerId === c.connectorAccountId
        ? []
        : [accountFacts(issuerId), phrasesOf(issuerId), attemptsOn(issuerId), pairLinks(c.connectorAccountId, issuerId)];
    return { items: [...own, barcodeOwner(c.barcode), linkFacts(c.linkId), ...issuer] };
  },
  decide: decideConnect,
  phraseCandidates: (c, state, policy) => {
    if (isoMs(c.now) < connectorLockedUntil(c, state, policy)) return null;
    const issuerId = accountIdByBarcode(state.linking, c.barcode);
    return issuerId === undefined ? [] : currentPhrases(state.linking, issuerId).map(({ phraseId, verifier }) => ({ phraseId, verifier }));
  },
  withProofs: (c, proofs) => ({ ...c, proofs: [...proofs] }),
  outcome: (_c, events) => {
    const refusal = refusalOf(events);
    if (refusal !== undefined) return E.left(refusal);
    const connected = events.find((e) => e.type === "AccountConnected");
    return E.right({ linkId: connected?.type === "AccountConnected" ? connected.data.linkId : null });
  },
});
