/**
 * Small builders for given/when/then specifications: events and commands with
 * readable defaults, and a clock in minutes from a fixed start.
 */
import type { Actor, Direction, Id } from "../codec.js";
import type { Command, CommandOf } from "../commands/index.js";
import type { LibraryState } from "../library-state.js";
import type { EventOf } from "../events.js";
import { phrasesToCheck } from "../linking.js";
import { defaultPolicy } from "../policy.js";
import { PHRASE_ALPHABET, PHRASE_LENGTH } from "../phrase.js";
import { fakeVerifier, proofsFor } from "./phrases.js";

export const START_MS = Date.parse("2026-03-02T09:00:00.000Z");
/** The time `minutes` after the start. */
export const at = (minutes: number): string => new Date(START_MS + minutes * 60_000).toISOString();

export const asAccount = (accountId: Id): Actor => ({ kind: "account", accountId });
export const asStaff: Actor = { kind: "staff", staffId: "staff-1" };
export const asSystem: Actor = { kind: "system" };

/** Each account's barcode, derived from its id. */
export const barcodeOf = (accountId: Id): string => `${accountId.replace(/[^A-Za-z0-9]/g, "")}00001`;
/** A phrase plaintext per phrase id, in the domain's alphabet. */
export const plaintextOf = (phraseId: Id): string => {
  let h = 0x811c9dc5;
  let out = "";
  for (let i = 0; i < PHRASE_LENGTH; i++) {
    for (const ch of `${phraseId}#${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    out += PHRASE_ALPHABET[(h >>> 7) % PHRASE_ALPHABET.length];
  }
  return out;
};
export const saltOf = (phraseId: Id): string => `salt-${phraseId}`;

export const registered = (accountId: Id, minor = false, minutes = 0): EventOf<"AccountRegistered"> => ({
  type: "AccountRegistered",
  data: { accountId, barcode: barcodeOf(accountId), minor, registeredAt: at(minutes) },
});
export const dateOfBirthRecorded = (accountId: Id, dateOfBirth: string, minutes = 0): EventOf<"DateOfBirthRecorded"> => ({
  type: "DateOfBirthRecorded",
  data: { accountId, dateOfBirth, recordedAt: at(minutes) },
});
export const accountClosed = (accountId: Id, minutes = 0): EventOf<"AccountClosed"> => ({
  type: "AccountClosed",
  data: { accountId, closedAt: at(minutes) },
});
export const phraseIssued = (
  phraseId: Id,
  issuerAccountId: Id,
  direction: Direction,
  minutes = 0,
  lifetimeMs = defaultPolicy.phraseLifetimeMs,
): EventOf<"SharePhraseIssued"> => ({
  type: "SharePhraseIssued",
  data: {
    phraseId,
    issuerAccountId,
    direction,
    verifier: fakeVerifier(plaintextOf(phraseId), saltOf(phraseId)),
    issuedAt: at(minutes),
    expiresAt: new Date(Date.parse(at(minutes)) + lifetimeMs).toISOString(),
  },
});
export const phraseRevoked = (
  phraseId: Id,
  issuerAccountId: Id,
  reason: EventOf<"SharePhraseRevoked">["data"]["reason"] = "issuer",
  minutes = 0,
): EventOf<"SharePhraseRevoked"> => ({
  type: "SharePhraseRevoked",
  data: { phraseId, issuerAccountId, reason, revokedAt: at(minutes) },
});
export const connected = (
  linkId: Id,
  phraseId: Id,
  issuerAccountId: Id,
  connectedAccountId: Id,
  direction: Direction,
  minutes = 0,
): EventOf<"AccountConnected"> => ({
  type: "AccountConnected",
  data: { linkId, phraseId, issuerAccountId, connectedAccountId, direction, connectedAt: at(minutes) },
});
export const linkRevoked = (linkId: Id, by: Id, minutes = 0): EventOf<"LinkRevoked"> => ({
  type: "LinkRevoked",
  data: { linkId, revokedBy: { kind: "account", accountId: by }, reason: "", revokedAt: at(minutes) },
});
export const checkedOut = (
  loanId: Id,
  accountId: Id,
  format: "physical" | "digital" = "physical",
  minutes = 0,
): EventOf<"ItemCheckedOut"> => ({
  type: "ItemCheckedOut",
  data: {
    loanId,
    accountId,
    itemId: `item-${loanId}`,
    title: "The Bone People",
    format,
    checkedOutAt: at(minutes),
    dueAt: at(minutes + 21 * 24 * 60),
  },
});
export const holdPlaced = (holdId: Id, accountId: Id, minutes = 0): EventOf<"HoldPlaced"> => ({
  type: "HoldPlaced",
  data: { holdId, accountId, itemId: `item-${holdId}`, title: "Potiki", pickupBranch: "Central", placedAt: at(minutes) },
});

let commandCounter = 0;
type Fields<K extends Command["type"]> = Omit<CommandOf<K>, "type" | "commandId" | "actor" | "now">;
/** A command of `type` by `actor` at minute `minutes`, with a fresh commandId. */
export const command = <K extends Command["type"]>(
  type: K,
  actor: Actor,
  fields: Fields<K>,
  minutes = 0,
): CommandOf<K> => ({ type, commandId: `cmd-${++commandCounter}`, actor, now: at(minutes), ...fields }) as unknown as CommandOf<K>;

/**
 * `connector` types `barcode` and `typed` at minute `minutes`; the proofs are
 * what the adapters would derive against `state` (one per phrase to check).
 */
export const connectAttempt = (
  state: LibraryState,
  connector: Id,
  barcode: string,
  typed: string,
  minutes = 0,
  linkId: Id = `link-${++commandCounter}`,
): CommandOf<"ConnectAccount"> =>
  command(
    "ConnectAccount",
    asAccount(connector),
    { connectorAccountId: connector, barcode, linkId, proofs: proofsFor(typed, phrasesToCheck(state.linking, barcode)) },
    minutes,
  );

