/**
 * Deciding the linking commands: registering and closing accounts, issuing and
 * revoking share phrases, connecting accounts and revoking links (R1 to R12).
 */
import * as E from "fp-ts/lib/Either.js";
import type { Actor, Id } from "./codec.js";
import type { CommandOf, LinkingCommand } from "./commands.js";
import { authorize, grantsOf, linksGiving } from "./access.js";
import { type DomainError, domainError } from "./errors.js";
import type { ConnectionFailureReason, LinkingEvent, LinkRevoker } from "./events.js";
import { type LinkingState, type PhraseRecord } from "./linking-state.js";
import { type Policy, lockedUntil } from "./policy.js";
import { sameHash } from "./phrase.js";
import { canonicalBarcode } from "./barcode.js";

type Decision = E.Either<DomainError, ReadonlyArray<LinkingEvent>>;

const nothing: Decision = E.right([]);

/** R6: a phrase is active while it is neither revoked nor expired. */
export const isActive = (phrase: PhraseRecord, nowMs: number): boolean =>
  phrase.revoked === null && nowMs < Date.parse(phrase.expiresAt);

const currentPhrases = (state: LinkingState, accountId: Id): ReadonlyArray<PhraseRecord> => {
  const account = state.accounts.get(accountId);
  if (account === undefined) return [];
  const phrases: PhraseRecord[] = [];
  for (const id of [account.currentPhrases["one-way"], account.currentPhrases["two-way"]]) {
    const phrase = id === undefined ? undefined : state.phrases.get(id);
    if (phrase !== undefined) phrases.push(phrase);
  }
  return phrases;
};

/**
 * R8: the phrases a connection attempt with this barcode must be checked
 * against, newest per direction, whatever their status (so an expired or
 * revoked phrase is recorded as such). The adapters derive one proof per phrase.
 */
export const phrasesToCheck = (
  state: LinkingState,
  barcode: string,
): ReadonlyArray<Pick<PhraseRecord, "phraseId" | "verifier">> => {
  const issuer = state.accountsByBarcode.get(canonicalBarcode(barcode));
  return issuer === undefined ? [] : currentPhrases(state, issuer).map(({ phraseId, verifier }) => ({ phraseId, verifier }));
};

const register = (c: CommandOf<"RegisterAccount">, state: LinkingState): Decision => {
  if (c.actor.kind === "account")
    return E.left(domainError("not-authorised", "Accounts are registered by library staff or the library's system."));
  if (state.accounts.has(c.accountId))
    return E.left(domainError("account-already-registered", `Account ${c.accountId} is already registered.`));
  const barcode = canonicalBarcode(c.barcode); // R7: one barcode however typed
  if (state.accountsByBarcode.has(barcode))
    return E.left(domainError("barcode-taken", `Barcode ${barcode} belongs to another account.`));
  return E.right([
    {
      type: "AccountRegistered",
      data: { accountId: c.accountId, barcode, minor: c.minor, registeredAt: c.now },
    },
  ]);
};

/** R12: closing ends every phrase the account issued; its grants end with it (R1). */
const close = (c: CommandOf<"CloseAccount">, state: LinkingState): Decision => {
  const account = state.accounts.get(c.accountId);
  if (account === undefined) return E.left(domainError("account-not-found", `No account ${c.accountId} is registered.`));
  if (account.closed) {
    // Closing again changes nothing, but only for those who may close it (R5).
    const mayClose = c.actor.kind !== "account" || c.actor.accountId === c.accountId;
    return mayClose ? nothing : E.left(domainError("not-authorised", `Only account ${c.accountId} itself or staff may close it.`));
  }
  const allowed = authorize(c.actor, "close-account", c.accountId, state);
  if (E.isLeft(allowed)) return allowed;
  const nowMs = Date.parse(c.now);
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
};

/** R6: an open account issues; a new phrase supersedes the active one of its direction. */
const issue = (c: CommandOf<"IssueSharePhrase">, state: LinkingState, policy: Policy): Decision => {
  const allowed = authorize(c.actor, "issue-phrase", c.issuerAccountId, state);
  if (E.isLeft(allowed)) return allowed;
  const issuer = state.accounts.get(c.issuerAccountId)!;
  if (issuer.minor && c.direction === "one-way")
    return E.left(
      domainError(
        "minor-cannot-manage",
        "A minor's 1-way phrase would let the minor manage the connector, which R4 forbids; issue a 2-way phrase, which works as 1-way towards the minor.",
      ),
    );
  if (state.phrases.has(c.phraseId))
    return E.left(domainError("phrase-already-issued", `Phrase ${c.phraseId} was already issued.`));
  const nowMs = Date.parse(c.now);
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
};

/** R11: the issuer or staff stop a phrase; the links it made stay. */
const revokePhrase = (c: CommandOf<"RevokeSharePhrase">, state: LinkingState): Decision => {
  const phrase = state.phrases.get(c.phraseId);
  if (phrase === undefined) return E.left(domainError("phrase-not-found", `No phrase ${c.phraseId} was issued.`));
  const allowed = authorize(c.actor, "revoke-phrase", phrase.issuerAccountId, state);
  if (E.isLeft(allowed)) return allowed;
  if (phrase.revoked !== null) return nothing;
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
};

const failed = (
  c: CommandOf<"ConnectAccount">,
  issuerAccountId: Id | null,
  reason: ConnectionFailureReason,
): Decision =>
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

/**
 * R8 to R10. A refused attempt is itself a fact: it decides into a
 * `ConnectionAttemptFailed` with the precise reason, which `refusalOf` turns
 * into the error the connector sees.
 */
const connect = (c: CommandOf<"ConnectAccount">, state: LinkingState, policy: Policy): Decision => {
  const allowed = authorize(c.actor, "connect", c.connectorAccountId, state);
  if (E.isLeft(allowed)) return allowed;
  if (c.actor.kind !== "account") return E.left(domainError("self-service-only", "Only the account itself may connect."));
  const connector = state.accounts.get(c.connectorAccountId)!;
  const nowMs = Date.parse(c.now);
  const issuerId = state.accountsByBarcode.get(canonicalBarcode(c.barcode)) ?? null;
  if (nowMs < lockedUntil(connector.failuresAsConnector, policy.connectorLockout))
    return failed(c, issuerId, "connector-locked");
  if (issuerId === null) return failed(c, null, "unknown-barcode");
  if (issuerId === c.connectorAccountId) return failed(c, issuerId, "self-link");
  const issuer = state.accounts.get(issuerId)!;
  if (issuer.closed) return failed(c, issuerId, "account-closed");
  if (nowMs < lockedUntil(issuer.failuresAsIssuer, policy.issuerLockout)) return failed(c, issuerId, "issuer-locked");

  // Compare against every candidate before choosing, so timing does not tell which matched.
  const matches = currentPhrases(state, issuerId).filter((phrase) => {
    const proof = c.proofs.find((p) => p.phraseId === phrase.phraseId);
    return proof !== undefined && sameHash(proof.hash, phrase.verifier.hash);
  });
  const active = matches.find((p) => isActive(p, nowMs));
  if (active === undefined) {
    if (matches.some((p) => p.revoked !== null)) return failed(c, issuerId, "phrase-revoked");
    if (matches.length > 0) return failed(c, issuerId, "phrase-expired");
    return failed(c, issuerId, "phrase-mismatch");
  }
  // R8: a pair that already holds every grant this phrase gives needs nothing more.
  const wanted = grantsOf({ issuerAccountId: issuerId, connectedAccountId: c.connectorAccountId, direction: active.direction });
  const missing = wanted.filter((g) => linksGiving(state, g.manager, g.account).length === 0);
  if (missing.length === 0) return nothing;
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

const revoker = (actor: Actor): LinkRevoker | undefined =>
  actor.kind === "account"
    ? { kind: "account", accountId: actor.accountId }
    : actor.kind === "staff"
      ? { kind: "staff", staffId: actor.staffId }
      : undefined;

/** R11: either account of the link, or staff; removes every grant of that link for good. */
const revokeLink = (c: CommandOf<"RevokeLink">, state: LinkingState): Decision => {
  const link = state.links.get(c.linkId);
  if (link === undefined) return E.left(domainError("link-not-found", `No link ${c.linkId} exists.`));
  const by = revoker(c.actor);
  const party = by?.kind === "account" && (by.accountId === link.issuerAccountId || by.accountId === link.connectedAccountId);
  if (by === undefined || (by.kind === "account" && !party))
    return E.left(domainError("not-authorised", `Only the two accounts of link ${c.linkId} or library staff may revoke it.`));
  if (link.revoked) return nothing;
  return E.right([
    { type: "LinkRevoked", data: { linkId: c.linkId, revokedBy: by, reason: c.reason, revokedAt: c.now } },
  ]);
};

export const decideLinking = (command: LinkingCommand, state: LinkingState, policy: Policy): Decision => {
  switch (command.type) {
    case "RegisterAccount":
      return register(command, state);
    case "CloseAccount":
      return close(command, state);
    case "IssueSharePhrase":
      return issue(command, state, policy);
    case "RevokeSharePhrase":
      return revokePhrase(command, state);
    case "ConnectAccount":
      return connect(command, state, policy);
    case "RevokeLink":
      return revokeLink(command, state);
  }
};

/**
 * R9: what the connector is told about a refused attempt. Unknown barcode,
 * wrong, expired or revoked phrase, a closed or locked issuer: all the same.
 */
export const refusalOf = (events: ReadonlyArray<LinkingEvent>): DomainError | undefined => {
  const failure = events.find((e) => e.type === "ConnectionAttemptFailed");
  if (failure?.type !== "ConnectionAttemptFailed") return undefined;
  switch (failure.data.reason) {
    case "connector-locked":
      return domainError("too-many-attempts", "Too many failed attempts to connect; try again later.");
    case "self-link":
      return domainError("cannot-connect-to-own-account", "That barcode is your own account's.");
    default:
      return domainError(
        "barcode-or-phrase-not-recognised",
        "That barcode and share phrase were not recognised. Check both and try again.",
      );
  }
};
