/**
 * fast-check arbitraries for the catalog's primitives, events and commands, each
 * producing values the codecs accept. They are independent of any state: for
 * commands that make sense together, use `validHistory`.
 */
import fc from "fast-check";
import type { Actor, Direction, Id, IsoTime } from "../codec.js";
import type { Command, CommandOf, CommandType } from "../commands/index.js";
import type { DomainEvent, EventOf, EventType, Verifier } from "../events.js";
import { canonicalBarcode } from "../barcode.js";
import { PHRASE_ALPHABET, PHRASE_LENGTH } from "../phrase.js";

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64URL = ALNUM + "_-";

const charsOf = (alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet.split("")), minLength, maxLength });

/** An id: 1 to 64 of `A-Z a-z 0-9 _ -`. */
export const id = (): fc.Arbitrary<Id> => charsOf(ID_CHARS, 1, 64);

/** A barcode: 5 to 20 of `A-Z a-z 0-9`. */
export const barcode = (): fc.Arbitrary<string> => charsOf(ALNUM, 5, 20);

/** A base64url string (verifier salts and hashes, proofs). */
export const base64url = (): fc.Arbitrary<string> => charsOf(B64URL, 1, 64);

const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2099, 11, 31);

/** Milliseconds since the epoch, within this century. */
export const instantMs = (): fc.Arbitrary<number> => fc.integer({ min: MIN_TIME, max: MAX_TIME });

/** An ISO-8601 UTC time exactly as `Date.prototype.toISOString()` writes it. */
export const isoTime = (): fc.Arbitrary<IsoTime> => instantMs().map((ms) => new Date(ms).toISOString());

/** A calendar date (a date of birth), 1900 to 2099. */
export const calendarDate = (): fc.Arbitrary<string> =>
  fc.integer({ min: Date.UTC(1900, 0, 1), max: MAX_TIME }).map((ms) => new Date(ms).toISOString().slice(0, 10));

export const direction = (): fc.Arbitrary<Direction> => fc.constantFrom<Direction>("one-way", "two-way");

/** A verifier as the adapters would store it (scrypt parameters, salt, hash). */
export const verifier = (): fc.Arbitrary<Verifier> =>
  fc.record({
    algorithm: fc.constant("scrypt" as const),
    salt: base64url(),
    hash: base64url(),
    N: fc.constantFrom(1024, 16384, 32768),
    r: fc.constantFrom(8, 16),
    p: fc.constantFrom(1, 2),
  });

export const actor = (): fc.Arbitrary<Actor> =>
  fc.oneof(
    { weight: 4, arbitrary: id().map((accountId): Actor => ({ kind: "account", accountId })) },
    { weight: 1, arbitrary: id().map((staffId): Actor => ({ kind: "staff", staffId })) },
    { weight: 1, arbitrary: fc.constant<Actor>({ kind: "system" }) },
  );

/** A plaintext share phrase in the domain's alphabet (R7): what only the issuer ever sees. */
export const phrasePlaintext = (): fc.Arbitrary<string> => charsOf(PHRASE_ALPHABET, PHRASE_LENGTH, PHRASE_LENGTH);

const text = (min: number, max: number): fc.Arbitrary<string> => fc.string({ minLength: min, maxLength: max });

// ---------------------------------------------------------------------------
// Events

const eventArbs: { [K in EventType]: fc.Arbitrary<EventOf<K>> } = {
  AccountRegistered: fc
    .record({ accountId: id(), barcode: barcode(), minor: fc.boolean(), registeredAt: isoTime() })
    .map((data) => ({ type: "AccountRegistered" as const, data })),
  AccountClosed: fc
    .record({ accountId: id(), closedAt: isoTime() })
    .map((data) => ({ type: "AccountClosed" as const, data })),
  DateOfBirthRecorded: fc
    .record({ accountId: id(), dateOfBirth: calendarDate(), recordedAt: isoTime() })
    .map((data) => ({ type: "DateOfBirthRecorded" as const, data })),
  SharePhraseIssued: fc
    .record({
      phraseId: id(),
      issuerAccountId: id(),
      direction: direction(),
      verifier: verifier(),
      issuedAt: isoTime(),
      expiresAt: isoTime(),
    })
    .map((data) => ({ type: "SharePhraseIssued" as const, data })),
  SharePhraseRevoked: fc
    .record({
      phraseId: id(),
      issuerAccountId: id(),
      reason: fc.constantFrom("issuer" as const, "superseded" as const, "staff" as const, "account-closed" as const),
      revokedAt: isoTime(),
    })
    .map((data) => ({ type: "SharePhraseRevoked" as const, data })),
  AccountConnected: fc
    .record({
      linkId: id(),
      phraseId: id(),
      issuerAccountId: id(),
      connectedAccountId: id(),
      direction: direction(),
      connectedAt: isoTime(),
    })
    .map((data) => ({ type: "AccountConnected" as const, data })),
  ConnectionAttemptFailed: fc
    .record({
      connectorAccountId: id(),
      attemptedBarcode: text(0, 64),
      issuerAccountId: fc.option(id(), { nil: null }),
      reason: fc.constantFrom(
        "unknown-barcode" as const,
        "phrase-mismatch" as const,
        "phrase-expired" as const,
        "phrase-revoked" as const,
        "issuer-locked" as const,
        "connector-locked" as const,
        "self-link" as const,
        "account-closed" as const,
      ),
      attemptedAt: isoTime(),
    })
    .map((data) => ({ type: "ConnectionAttemptFailed" as const, data })),
  LinkRevoked: fc
    .record({
      linkId: id(),
      revokedBy: fc.oneof(
        id().map((accountId) => ({ kind: "account" as const, accountId })),
        id().map((staffId) => ({ kind: "staff" as const, staffId })),
      ),
      reason: text(0, 500),
      revokedAt: isoTime(),
    })
    .map((data) => ({ type: "LinkRevoked" as const, data })),
  ItemCheckedOut: fc
    .record({
      loanId: id(),
      accountId: id(),
      itemId: id(),
      title: text(1, 500),
      format: fc.constantFrom("physical" as const, "digital" as const),
      checkedOutAt: isoTime(),
      dueAt: isoTime(),
    })
    .map((data) => ({ type: "ItemCheckedOut" as const, data })),
  LoanRenewed: fc
    .record({ loanId: id(), accountId: id(), dueAt: isoTime(), renewedBy: id(), renewedAt: isoTime() })
    .map((data) => ({ type: "LoanRenewed" as const, data })),
  ItemReturned: fc
    .record({ loanId: id(), accountId: id(), returnedAt: isoTime() })
    .map((data) => ({ type: "ItemReturned" as const, data })),
  HoldPlaced: fc
    .record({
      holdId: id(),
      accountId: id(),
      itemId: id(),
      title: text(1, 500),
      pickupBranch: text(1, 100),
      placedAt: isoTime(),
    })
    .map((data) => ({ type: "HoldPlaced" as const, data })),
  HoldCancelled: fc
    .record({ holdId: id(), accountId: id(), cancelledBy: id(), cancelledAt: isoTime() })
    .map((data) => ({ type: "HoldCancelled" as const, data })),
  HoldSuspended: fc
    .record({ holdId: id(), accountId: id(), until: isoTime(), suspendedBy: id(), suspendedAt: isoTime() })
    .map((data) => ({ type: "HoldSuspended" as const, data })),
  HoldResumed: fc
    .record({ holdId: id(), accountId: id(), resumedBy: id(), resumedAt: isoTime() })
    .map((data) => ({ type: "HoldResumed" as const, data })),
  HoldPickupBranchChanged: fc
    .record({ holdId: id(), accountId: id(), pickupBranch: text(1, 100), changedBy: id(), changedAt: isoTime() })
    .map((data) => ({ type: "HoldPickupBranchChanged" as const, data })),
  HoldFulfilled: fc
    .record({ holdId: id(), accountId: id(), fulfilledAt: isoTime() })
    .map((data) => ({ type: "HoldFulfilled" as const, data })),
  AccountErased: fc.record({ accountId: id(), erasedAt: isoTime() }).map((data) => ({ type: "AccountErased" as const, data })),
  ReadingHistoryChosen: fc
    .record({ accountId: id(), keep: fc.boolean(), chosenAt: isoTime() })
    .map((data) => ({ type: "ReadingHistoryChosen" as const, data })),
  LoanDetailsForgotten: fc
    .record({ loanId: id(), accountId: id(), retentionDays: fc.integer({ min: 1, max: 3650 }), forgottenAt: isoTime() })
    .map((data) => ({ type: "LoanDetailsForgotten" as const, data })),
  HoldDetailsForgotten: fc
    .record({ holdId: id(), accountId: id(), retentionDays: fc.integer({ min: 1, max: 3650 }), forgottenAt: isoTime() })
    .map((data) => ({ type: "HoldDetailsForgotten" as const, data })),
};

/** Any event of type `type`, field by field valid, unrelated to any state. */
export const eventOf = <K extends EventType>(type: K): fc.Arbitrary<EventOf<K>> => eventArbs[type];

/** Any event of the catalog. */
export const domainEvent = (): fc.Arbitrary<DomainEvent> =>
  fc.oneof(...(Object.values(eventArbs) as ReadonlyArray<fc.Arbitrary<DomainEvent>>));

// ---------------------------------------------------------------------------
// Commands

const base = () =>
  fc.record(
    { commandId: id(), actor: actor(), now: isoTime(), correlationId: fc.option(text(1, 200), { nil: null }) },
    { requiredKeys: ["commandId", "actor", "now"] },
  );

const cmd = <K extends CommandType, P extends object>(type: K, props: fc.Arbitrary<P>): fc.Arbitrary<CommandOf<K>> =>
  fc.tuple(base(), props).map(([b, p]) => ({ type, ...b, ...p }) as unknown as CommandOf<K>);

const commandArbs: { [K in CommandType]: fc.Arbitrary<CommandOf<K>> } = {
  // A registration's barcode decodes to its canonical form (R7).
  RegisterAccount: cmd("RegisterAccount", fc.record({ accountId: id(), barcode: barcode().map(canonicalBarcode), minor: fc.boolean() })),
  CloseAccount: cmd("CloseAccount", fc.record({ accountId: id() })),
  RecordDateOfBirth: cmd("RecordDateOfBirth", fc.record({ accountId: id(), dateOfBirth: calendarDate() })),
  IssueSharePhrase: cmd(
    "IssueSharePhrase",
    fc.record({ phraseId: id(), issuerAccountId: id(), direction: direction(), verifier: verifier() }),
  ),
  RevokeSharePhrase: cmd("RevokeSharePhrase", fc.record({ phraseId: id() })),
  ConnectAccount: cmd(
    "ConnectAccount",
    fc.record({
      connectorAccountId: id(),
      barcode: fc.oneof(barcode(), text(0, 64)),
      linkId: id(),
      proofs: fc.array(fc.record({ phraseId: id(), hash: base64url() }), { maxLength: 2 }),
    }),
  ),
  RevokeLink: cmd("RevokeLink", fc.record({ linkId: id(), reason: text(0, 500) })),
  RecordCheckout: cmd(
    "RecordCheckout",
    fc.record({
      loanId: id(),
      accountId: id(),
      itemId: id(),
      title: text(1, 500),
      format: fc.constantFrom("physical" as const, "digital" as const),
      dueAt: isoTime(),
    }),
  ),
  RenewLoan: cmd("RenewLoan", fc.record({ loanId: id(), accountId: id(), dueAt: isoTime() })),
  RecordReturn: cmd("RecordReturn", fc.record({ loanId: id(), accountId: id() })),
  PlaceHold: cmd(
    "PlaceHold",
    fc.record({ holdId: id(), accountId: id(), itemId: id(), title: text(1, 500), pickupBranch: text(1, 100) }),
  ),
  CancelHold: cmd("CancelHold", fc.record({ holdId: id(), accountId: id() })),
  SuspendHold: cmd("SuspendHold", fc.record({ holdId: id(), accountId: id(), until: isoTime() })),
  ResumeHold: cmd("ResumeHold", fc.record({ holdId: id(), accountId: id() })),
  ChangeHoldPickupBranch: cmd(
    "ChangeHoldPickupBranch",
    fc.record({ holdId: id(), accountId: id(), pickupBranch: text(1, 100) }),
  ),
  RecordHoldFulfilled: cmd("RecordHoldFulfilled", fc.record({ holdId: id(), accountId: id() })),
  EraseAccount: cmd("EraseAccount", fc.record({ accountId: id() })),
  ChooseReadingHistory: cmd("ChooseReadingHistory", fc.record({ accountId: id(), keep: fc.boolean() })),
  ApplyRetention: cmd(
    "ApplyRetention",
    fc.record({ retentionDays: fc.option(fc.integer({ min: 1, max: 36_500 }), { nil: null }), limit: fc.integer({ min: 1, max: 1000 }) }),
  ),
};

/** Any command of type `type`, field by field valid, unrelated to any state (mostly refused by `decide`). */
export const commandOf = <K extends CommandType>(type: K): fc.Arbitrary<CommandOf<K>> => commandArbs[type];

/** Any command of the catalog. */
export const command = (): fc.Arbitrary<Command> =>
  fc.oneof(...(Object.values(commandArbs) as ReadonlyArray<fc.Arbitrary<Command>>));
