/**
 * docs/events.md, generated from the event codecs of @linked-accounts/domain
 * (packages/domain/src/events.ts): every event type, its data fields and the
 * type each field decodes to, and the metadata every stored event carries.
 * `pnpm run docs` writes the file; a test fails when the committed file differs.
 */
import * as t from "io-ts";
import {
  EventMetadata,
  SCHEMA_VERSION,
  type EventType,
  Sealed,
  eventCodecs,
  eventTypes,
  linkingEventTypes,
  personalFieldsOf,
} from "@linked-accounts/domain/internal";

/**
 * One sentence per event type, for the reader. A new event type without one
 * stops the generator, so the catalogue never lists an event nobody explained.
 */
const meaning: Record<EventType, string> = {
  AccountRegistered: "An account came into being: registered at the desk or by the host's own system.",
  AccountClosed: "An account was closed; every grant to or from it and every phrase it issued ended with it.",
  SharePhraseIssued: "An account was given a share phrase. Only the phrase's scrypt verifier is stored.",
  SharePhraseRevoked: "A share phrase stopped working: revoked by its issuer or by staff, replaced by a newer one, or ended by the account's closing.",
  AccountConnected: "A connector typed an issuer's barcode and a matching phrase: a link now exists in the phrase's direction.",
  ConnectionAttemptFailed: "A connection attempt was refused; the precise reason is kept here for audit and never told to the connector.",
  LinkRevoked: "A link ended, with every grant it gave.",
  DateOfBirthRecorded: "Staff or the host's system recorded an account's date of birth: the fact a policy letting older minors manage needs (R4).",
  ItemCheckedOut: "An item was lent to an account. Format `digital` is an eCheckout (the account's own doing); `physical` is a checkout at the desk or the ILS.",
  LoanRenewed: "A loan's due date moved later, by the account itself or by an account that manages it.",
  ItemReturned: "A loan ended: the item came back.",
  HoldPlaced: "An account asked for an item (always the account's own doing).",
  HoldCancelled: "A hold was cancelled, by the account or by an account that manages it.",
  HoldSuspended: "A hold was frozen until a later time.",
  HoldResumed: "A suspended hold became active again.",
  HoldPickupBranchChanged: "A hold will be collected at another branch.",
  HoldFulfilled: "A hold was satisfied: the item was handed over.",
  AccountErased: "Staff erased a closed account's personal data by forgetting its key: its barcode and everything it borrowed or asked for read `[erased]` from then on, in the log and in every export. Links, grants and times stay.",
  ReadingHistoryChosen: "A patron chose whether the library keeps their reading history past the retention period (`keep: true` opts in).",
  LoanDetailsForgotten: "A retention run forgot a returned loan's item and title (its key): they read `[erased]` from then on.",
  HoldDetailsForgotten: "A retention run forgot a fulfilled or cancelled hold's item, title and pickup branch (its key).",
};

type Any = t.Mixed & { readonly _tag?: string };

const escapeCell = (text: string): string => text.replaceAll("|", "\\|");

/** How a codec reads in the catalogue: its own name when it has one worth saying, its shape otherwise. */
export const describeCodec = (codec: t.Mixed): string => {
  const c = codec as Any;
  if (c instanceof t.KeyofType) return Object.keys(c.keys as object).map((k) => JSON.stringify(k)).join(" | ");
  if (c instanceof t.LiteralType) return JSON.stringify(c.value);
  if (c instanceof t.NullType) return "null";
  if (c instanceof t.BooleanType) return "boolean";
  if (c instanceof t.StringType) return "string";
  if (c instanceof t.NumberType) return "number";
  if (c instanceof t.UnionType) return (c.types as ReadonlyArray<t.Mixed>).map(describeCodec).join(" or ");
  if (c instanceof t.ExactType) return describeCodec(c.type as t.Mixed);
  if (c instanceof t.InterfaceType || c instanceof t.PartialType || c instanceof t.IntersectionType)
    return `{ ${fieldsOf(c).map(([key, field]) => `${key}${field.optional ? "?" : ""}: ${describeCodec(field.codec)}`).join(", ")} }`;
  if (c._tag === undefined) return c.name; // the domain's own codecs (Id, Barcode, IsoTime, Title, …) name their format
  throw new Error(`events-doc: no description for a codec of kind ${c._tag} (${c.name})`);
};

interface Field {
  readonly codec: t.Mixed;
  readonly optional: boolean;
}

/** The fields of an object codec (`exact`, `type`, `partial`, or an intersection of them), in declaration order. */
const fieldsOf = (codec: t.Mixed): Array<[string, Field]> => {
  const c = codec as Any;
  if (c instanceof t.ExactType) return fieldsOf(c.type as t.Mixed);
  if (c instanceof t.InterfaceType) return Object.entries(c.props as t.Props).map(([key, field]) => [key, { codec: field, optional: false }]);
  if (c instanceof t.PartialType) return Object.entries(c.props as t.Props).map(([key, field]) => [key, { codec: field, optional: true }]);
  if (c instanceof t.IntersectionType) return (c.types as ReadonlyArray<t.Mixed>).flatMap(fieldsOf);
  throw new Error(`events-doc: expected an object codec, got ${c.name}`);
};

const fieldTable = (codec: t.Mixed, personal: ReadonlyArray<string> = []): string[] => [
  "| field | type |",
  "| --- | --- |",
  ...fieldsOf(codec).map(
    ([key, field]) =>
      `| \`${key}\`${field.optional ? " (optional)" : ""}${personal.includes(key) ? " (personal, sealed)" : ""} | ${escapeCell(describeCodec(field.codec))} |`,
  ),
];

export const renderEventsDoc = (): string => {
  const linking: ReadonlySet<string> = new Set(linkingEventTypes);
  const section = (type: EventType): string[] => {
    const sentence = meaning[type];
    if (sentence === undefined) throw new Error(`events-doc: ${type} has no sentence in tools/src/events-doc.ts`);
    const data = fieldsOf(eventCodecs[type] as unknown as t.Mixed).find(([key]) => key === "data")?.[1].codec;
    if (data === undefined) throw new Error(`events-doc: ${type} has no data codec`);
    return [`### ${type}`, "", sentence, "", ...fieldTable(data, personalFieldsOf(type)), ""];
  };
  return [
    "# Event catalogue",
    "",
    "<!-- Generated by `pnpm run docs` from packages/domain/src/events.ts. Do not edit by hand: a test fails when this file is stale. -->",
    "",
    `Every stored event is \`{ type, data, metadata }\`. This is schema version ${SCHEMA_VERSION}. The events are the`,
    "library's public contract: a host keeps them for years and replays them for audit, so a released",
    "event changes only through a new schema version and an upcaster that reads the older one.",
    "",
    "Types in the tables name the format a field decodes to. Times are ISO-8601 UTC exactly as",
    "`Date.prototype.toISOString()` writes them; ids are 1 to 64 characters of `A-Z a-z 0-9 _ -`.",
    "A field never holds a share phrase.",
    "",
    "## Personal fields",
    "",
    "Fields marked *personal, sealed* are a patron's own. A store keeps them sealed: taken out of",
    "`data` and encrypted (AES-256-GCM) under the keys of their subjects, in one field `sealed`",
    "beside the others, so forgetting a subject's key erases them everywhere the event was copied.",
    "Read back with the key, the event is exactly as written; with a key forgotten, each personal",
    "field reads `\"[erased]\"`. An event written before schema version 3 holds them in the clear.",
    "",
    ...fieldTable(Sealed),
    "",
    "## Metadata (every event)",
    "",
    ...fieldTable(EventMetadata),
    "",
    "## Linking events",
    "",
    "Accounts, share phrases, connections and links.",
    "",
    ...eventTypes.filter((type) => linking.has(type)).flatMap(section),
    "## Circulation events",
    "",
    "Loans and holds of one account.",
    "",
    ...eventTypes.filter((type) => !linking.has(type)).flatMap(section),
  ].join("\n");
};
