/**
 * The event catalog, schema version 2 (DOMAIN.md "Events"). These codecs are the
 * public contract: hosts keep these events for years and replay them for audit.
 * A change to any of them needs a new schema version and an upcaster: a
 * `SchemaChange` in schema-changes.ts, which every read path applies.
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import {
  Actor,
  Barcode,
  Base64Url,
  Channel,
  DecodeError,
  Direction,
  FreeText,
  Id,
  IsoTime,
  PositiveInt,
  Text,
  UuidV7,
  decodeWith,
  show,
} from "./codec.js";
import { DateOfBirth } from "./date-of-birth.js";
import { SAME, compileCheck } from "./fast-decode.js";
import { Sealed, type SealedEnvelope, type StoredEnvelope, type Withheld, erasable, hasPersonalFields, personalFieldsOf } from "./personal.js";
import { schemaChanges } from "./schema-changes.js";
import { upcaster } from "./upcasting.js";

const event = <T extends string, P extends t.Props>(type: T, data: P) =>
  t.exact(t.type({ type: t.literal(type), data: t.exact(t.type(data)) }), type);

/** What a share phrase is checked against: a salted scrypt hash, never the phrase (R6). */
export const Verifier = t.exact(
  t.type({
    algorithm: t.literal("scrypt"),
    salt: Base64Url,
    hash: Base64Url,
    N: PositiveInt,
    r: PositiveInt,
    p: PositiveInt,
  }),
  "Verifier",
);
export type Verifier = t.TypeOf<typeof Verifier>;

export const PhraseRevocationReason = t.keyof({
  issuer: null,
  superseded: null,
  staff: null,
  "account-closed": null,
});
export type PhraseRevocationReason = t.TypeOf<typeof PhraseRevocationReason>;

export const ConnectionFailureReason = t.keyof({
  "unknown-barcode": null,
  "phrase-mismatch": null,
  "phrase-expired": null,
  "phrase-revoked": null,
  "issuer-locked": null,
  "connector-locked": null,
  "self-link": null,
  "account-closed": null,
});
export type ConnectionFailureReason = t.TypeOf<typeof ConnectionFailureReason>;

export const LinkRevoker = t.union(
  [
    t.exact(t.type({ kind: t.literal("account"), accountId: Id })),
    t.exact(t.type({ kind: t.literal("staff"), staffId: Id })),
  ],
  "LinkRevoker",
);
export type LinkRevoker = t.TypeOf<typeof LinkRevoker>;

export const LoanFormat = t.keyof({ physical: null, digital: null });
export type LoanFormat = t.TypeOf<typeof LoanFormat>;

export const Title = Text("Title", 1, 500);
export const Branch = Text("Branch", 1, 100);
export const Reason = FreeText("Reason", 0, 500);

export const AccountRegistered = event("AccountRegistered", {
  accountId: Id,
  barcode: erasable(Barcode),
  minor: t.boolean,
  registeredAt: IsoTime,
});
export const AccountClosed = event("AccountClosed", { accountId: Id, closedAt: IsoTime });
export const SharePhraseIssued = event("SharePhraseIssued", {
  phraseId: Id,
  issuerAccountId: Id,
  direction: Direction,
  verifier: Verifier,
  issuedAt: IsoTime,
  expiresAt: IsoTime,
});
export const SharePhraseRevoked = event("SharePhraseRevoked", {
  phraseId: Id,
  issuerAccountId: Id,
  reason: PhraseRevocationReason,
  revokedAt: IsoTime,
});
export const AccountConnected = event("AccountConnected", {
  linkId: Id,
  phraseId: Id,
  issuerAccountId: Id,
  connectedAccountId: Id,
  direction: Direction,
  connectedAt: IsoTime,
});
export const ConnectionAttemptFailed = event("ConnectionAttemptFailed", {
  connectorAccountId: Id,
  // What the connector typed. It is kept for audit even when it is not a valid
  // barcode, so it is bounded text rather than a Barcode.
  attemptedBarcode: Text("AttemptedBarcode", 0, 64),
  issuerAccountId: t.union([Id, t.null]),
  reason: ConnectionFailureReason,
  attemptedAt: IsoTime,
});
export const LinkRevoked = event("LinkRevoked", {
  linkId: Id,
  revokedBy: LinkRevoker,
  reason: Reason,
  revokedAt: IsoTime,
});
/** Staff or the system record an account's date of birth (again, to correct it): a fact a policy may decide on (R4). */
export const DateOfBirthRecorded = event("DateOfBirthRecorded", { accountId: Id, dateOfBirth: DateOfBirth, recordedAt: IsoTime });
export const ItemCheckedOut = event("ItemCheckedOut", {
  loanId: Id,
  accountId: Id,
  itemId: erasable(Id),
  title: Title,
  format: LoanFormat,
  checkedOutAt: IsoTime,
  dueAt: IsoTime,
});
export const LoanRenewed = event("LoanRenewed", {
  loanId: Id,
  accountId: Id,
  dueAt: IsoTime,
  renewedBy: Id,
  renewedAt: IsoTime,
});
export const ItemReturned = event("ItemReturned", { loanId: Id, accountId: Id, returnedAt: IsoTime });
export const HoldPlaced = event("HoldPlaced", {
  holdId: Id,
  accountId: Id,
  itemId: erasable(Id),
  title: Title,
  pickupBranch: Branch,
  placedAt: IsoTime,
});
export const HoldCancelled = event("HoldCancelled", {
  holdId: Id,
  accountId: Id,
  cancelledBy: Id,
  cancelledAt: IsoTime,
});
export const HoldSuspended = event("HoldSuspended", {
  holdId: Id,
  accountId: Id,
  until: IsoTime,
  suspendedBy: Id,
  suspendedAt: IsoTime,
});
export const HoldResumed = event("HoldResumed", {
  holdId: Id,
  accountId: Id,
  resumedBy: Id,
  resumedAt: IsoTime,
});
export const HoldPickupBranchChanged = event("HoldPickupBranchChanged", {
  holdId: Id,
  accountId: Id,
  pickupBranch: Branch,
  changedBy: Id,
  changedAt: IsoTime,
});
export const HoldFulfilled = event("HoldFulfilled", { holdId: Id, accountId: Id, fulfilledAt: IsoTime });
/**
 * Staff erased a closed account's personal data: its key is forgotten, so its
 * barcode and everything it borrowed or asked for read `[erased]` from then on,
 * in the log and in every export. Links, grants and times stay (the audit).
 */
export const AccountErased = event("AccountErased", { accountId: Id, erasedAt: IsoTime });
/** A patron chose whether the library keeps their reading history past the retention period (opt-in). */
export const ReadingHistoryChosen = event("ReadingHistoryChosen", { accountId: Id, keep: t.boolean, chosenAt: IsoTime });
/** A retention run forgot a returned loan's details (its key): what was borrowed now reads `[erased]`. */
export const LoanDetailsForgotten = event("LoanDetailsForgotten", {
  loanId: Id,
  accountId: Id,
  retentionDays: PositiveInt,
  forgottenAt: IsoTime,
});
/** A retention run forgot a fulfilled or cancelled hold's details (its key). */
export const HoldDetailsForgotten = event("HoldDetailsForgotten", {
  holdId: Id,
  accountId: Id,
  retentionDays: PositiveInt,
  forgottenAt: IsoTime,
});

/**
 * The events of the linking context (accounts, phrases, links, and the facts the
 * rules read about an account). A new event is one codec in one of these two
 * tables; the compiler then names every fold that must handle it.
 */
export const linkingEventCodecs = {
  AccountRegistered,
  AccountClosed,
  SharePhraseIssued,
  SharePhraseRevoked,
  AccountConnected,
  ConnectionAttemptFailed,
  LinkRevoked,
  DateOfBirthRecorded,
  AccountErased,
} as const;

/** The events of one account's loans and holds. */
export const circulationEventCodecs = {
  ItemCheckedOut,
  LoanRenewed,
  ItemReturned,
  HoldPlaced,
  HoldCancelled,
  HoldSuspended,
  HoldResumed,
  HoldPickupBranchChanged,
  HoldFulfilled,
  ReadingHistoryChosen,
  LoanDetailsForgotten,
  HoldDetailsForgotten,
} as const;

/** Every event type, by name. */
export const eventCodecs = { ...linkingEventCodecs, ...circulationEventCodecs } as const;

export type EventType = keyof typeof eventCodecs;
export const eventTypes = Object.keys(eventCodecs) as ReadonlyArray<EventType>;
export const isEventType = (u: unknown): u is EventType =>
  typeof u === "string" && Object.prototype.hasOwnProperty.call(eventCodecs, u);

/** A domain event: what `decide` returns and `evolve` folds. */
export type DomainEvent = { [K in EventType]: t.TypeOf<(typeof eventCodecs)[K]> }[EventType];
export type EventOf<K extends EventType> = Extract<DomainEvent, { type: K }>;

export const linkingEventTypes = Object.keys(linkingEventCodecs) as ReadonlyArray<keyof typeof linkingEventCodecs>;
export type LinkingEvent = EventOf<keyof typeof linkingEventCodecs>;
export type CirculationEvent = EventOf<keyof typeof circulationEventCodecs>;
const linkingEventTypeSet: ReadonlySet<string> = new Set(linkingEventTypes);
/** Asked once per folded event, so a set lookup rather than a scan. */
export const isLinkingEvent = (e: DomainEvent): e is LinkingEvent => linkingEventTypeSet.has(e.type);

/** The version this release writes; events of versions 1 to this one are read (upcast). */
export const SCHEMA_VERSION = 3 as const;

/**
 * The metadata every stored event carries. Version 2 added `channel` (which way
 * the command came in; null when not recorded); version 3 changed no metadata
 * but may store an event's personal fields sealed (personal.ts).
 */
export const EventMetadata = t.exact(
  t.type({
    eventId: UuidV7,
    schemaVersion: t.literal(SCHEMA_VERSION),
    occurredAt: IsoTime,
    actor: Actor,
    channel: t.union([Channel, t.null]),
    correlationId: t.union([Text("CorrelationId", 0, 200), t.null]),
    causationId: t.union([Text("CausationId", 0, 200), t.null]),
  }),
  "EventMetadata",
);
export type EventMetadata = t.TypeOf<typeof EventMetadata>;

/** A domain event with its metadata: what a store keeps and an export line carries. */
export type EventEnvelope = DomainEvent & { readonly metadata: EventMetadata };

const hasType = (u: unknown): u is { type: unknown } => typeof u === "object" && u !== null && "type" in u;

// One decoder per event type, made once: decoding is on every store's read path.
const eventDecoders = Object.fromEntries(
  eventTypes.map((type) => [type, decodeWith(eventCodecs[type] as unknown as t.Decoder<unknown, DomainEvent>, type)]),
) as Record<EventType, (u: unknown) => E.Either<DecodeError, DomainEvent>>;
const metadataDecoders = Object.fromEntries(
  eventTypes.map((type) => [type, decodeWith(EventMetadata, `${type}.metadata`)]),
) as Record<EventType, (u: unknown) => E.Either<DecodeError, EventMetadata>>;

// The same codecs compiled to fast checks (fast-decode.ts): io-ts runs only when
// a check does not say "valid, as given", to name the failing field or strip keys.
const fastData = Object.fromEntries(
  eventTypes.map((type) => [type, compileCheck((eventCodecs[type] as unknown as t.ExactType<t.InterfaceType<{ data: t.Mixed }>>).type.props.data)]),
) as Record<EventType, ((u: unknown) => number) | undefined>;
const fastMetadata = compileCheck(EventMetadata);

/**
 * Decodes one event (`{type, data}`), dispatching on `type` so a failure names
 * the event: `AccountConnected.data.direction: expected "one-way" | "two-way", got "both"`.
 */
export const decodeEvent = (u: unknown): E.Either<DecodeError, DomainEvent> => {
  if (!hasType(u)) return E.left(new DecodeError(`event.type: expected an event type, got ${show(u)}`));
  if (!isEventType(u.type))
    return E.left(new DecodeError(`event.type: expected a known event type, got ${show(u.type)}`));
  return eventDecoders[u.type](u);
};

/** Reads an event of any earlier schema version as this version writes it (see upcasting.ts). */
export const upcast = upcaster(schemaChanges, isEventType);

/**
 * Decodes `{type, data, metadata}` of any schema version this release reads:
 * upcast first, then validated as today's event. Every read path (each store's
 * Mapper, the export reader) comes through here.
 */
export const decodeEnvelope = (given: unknown): E.Either<DecodeError, EventEnvelope> => {
  const upcasted = upcast(given);
  if (E.isLeft(upcasted)) return upcasted;
  const u = upcasted.right;
  if (hasType(u) && !Array.isArray(u) && isEventType(u.type)) {
    const { data, metadata } = u as { data?: unknown; metadata?: unknown };
    if (fastData[u.type]?.(data) === SAME && fastMetadata?.(metadata) === SAME)
      return E.right({ type: u.type, data, metadata } as EventEnvelope);
  }
  const event = decodeEvent(u);
  if (E.isLeft(event)) return event;
  const metadata = metadataDecoders[event.right.type]((u as { metadata?: unknown }).metadata);
  if (E.isLeft(metadata)) return metadata;
  return E.right({ ...event.right, metadata: metadata.right });
};

/** Encodes an event for storage: plain JSON, nothing but the catalog's fields. */
export const encodeEvent = (e: DomainEvent): { type: EventType; data: Record<string, unknown> } => {
  const codec = eventCodecs[e.type] as unknown as t.Encoder<DomainEvent, { type: EventType; data: Record<string, unknown> }>;
  return codec.encode(e);
};

// The stored form of each event with personal fields, sealed: the catalog's
// other fields as they are, the personal ones replaced by one `sealed` field.
type DataProps = t.ExactType<t.InterfaceType<{ data: t.ExactType<t.InterfaceType<t.Props>> }>>;
const sealedDataCodecs = Object.fromEntries(
  eventTypes.filter(hasPersonalFields).map((type) => {
    const props: t.Props = { ...(eventCodecs[type] as unknown as DataProps).type.props.data.type.props };
    for (const field of personalFieldsOf(type)) delete props[field];
    return [type, t.exact(t.type({ ...props, sealed: Sealed }), `${type}.data (sealed)`)];
  }),
) as Partial<Record<EventType, t.Decoder<unknown, Record<string, unknown>>>>;
const sealedDataDecoders = Object.fromEntries(
  Object.entries(sealedDataCodecs).map(([type, codec]) => [type, decodeWith(codec!, `${type}.data`)]),
) as Partial<Record<EventType, (u: unknown) => E.Either<DecodeError, Record<string, unknown>>>>;
const fastSealedData = Object.fromEntries(
  Object.entries(sealedDataCodecs).map(([type, codec]) => [type, compileCheck(codec as unknown as t.Mixed)]),
) as Partial<Record<EventType, ((u: unknown) => number) | undefined>>;

// Per event type with personal fields: a check of exactly those fields, as a sealed part opens to them.
const fastPersonalValues = Object.fromEntries(
  eventTypes.filter(hasPersonalFields).map((type) => {
    const props = (eventCodecs[type] as unknown as DataProps).type.props.data.type.props;
    const personal = Object.fromEntries(personalFieldsOf(type).map((field) => [field, props[field]!]));
    return [type, compileCheck(t.exact(t.type(personal)))];
  }),
) as Partial<Record<EventType, ((u: unknown) => number) | undefined>>;

const hasSealedField = (data: unknown): boolean => typeof data === "object" && data !== null && "sealed" in data;

/**
 * Decodes an event as a store keeps it: in the clear (`decodeEnvelope`), or
 * with its personal fields sealed, every other field validated as the catalog
 * says and the sealed part checked for shape (what it hides is checked when it
 * is opened, `openSealed`).
 */
export const decodeStoredEnvelope = (given: unknown): E.Either<DecodeError, StoredEnvelope> => {
  const upcasted = upcast(given);
  if (E.isLeft(upcasted)) return upcasted;
  const u = upcasted.right;
  if (!hasType(u) || !isEventType(u.type) || !hasSealedField((u as { data?: unknown }).data)) return decodeEnvelope(u);
  const { data, metadata } = u as { data?: unknown; metadata?: unknown };
  const decodeData = sealedDataDecoders[u.type];
  if (decodeData === undefined) return E.left(new DecodeError(`${u.type}.data.sealed: ${u.type} has no personal fields to seal`));
  if (fastSealedData[u.type]?.(data) === SAME && fastMetadata?.(metadata) === SAME)
    return E.right({ type: u.type, data, metadata } as SealedEnvelope);
  const decodedData = decodeData(data);
  if (E.isLeft(decodedData)) return decodedData;
  const decodedMetadata = metadataDecoders[u.type](metadata);
  if (E.isLeft(decodedMetadata)) return decodedMetadata;
  return E.right({ type: u.type, data: decodedData.right, metadata: decodedMetadata.right } as SealedEnvelope);
};

/**
 * The event a sealed one holds: its personal fields put back from `values`
 * (what the sealed part opened to), or in each the marker given: `[erased]`
 * (a key was forgotten) or `[sealed]` (no keys to open it with). The result is validated as today's event, so a
 * sealed part that opens to something the catalog refuses is refused here,
 * naming the field. `sealed` is as `decodeStoredEnvelope` returned it (today's
 * version, its metadata checked): when the opened data passes the fast check,
 * the metadata is not checked again.
 */
export const openSealed = (
  sealed: SealedEnvelope,
  values: Readonly<Record<string, unknown>> | Withheld,
): E.Either<DecodeError, EventEnvelope> => {
  const data: Record<string, unknown> = {};
  for (const key in sealed.data) if (key !== "sealed") data[key] = sealed.data[key];
  for (const field of personalFieldsOf(sealed.type)) data[field] = typeof values === "string" ? values : values[field];
  // The other fields were checked as the sealed event was decoded: when the opened values are exactly
  // the type's personal fields, each valid, the event is.
  if (typeof values !== "string" && fastPersonalValues[sealed.type]?.(values) === SAME)
    return E.right({ type: sealed.type, data, metadata: sealed.metadata } as EventEnvelope);
  if (fastData[sealed.type]?.(data) === SAME) return E.right({ type: sealed.type, data, metadata: sealed.metadata } as EventEnvelope);
  return decodeEnvelope({ type: sealed.type, data, metadata: sealed.metadata });
};
