/**
 * Personal data in the event catalog: which fields of which events are a
 * patron's own (a barcode, what they borrowed or asked for, where they pick it
 * up, a reason typed about them), and whose they are.
 *
 * At rest those fields are sealed: encrypted under the keys of their subjects
 * (the account, and for a loan or hold that item too), so that forgetting a key
 * erases them from the log, its exports and its backups alike, while every
 * other field (ids, times, directions, links, grants) stays readable and the
 * audit answers stay the same. The cipher itself is the adapters' (Node's AES-GCM);
 * the domain says only what is sealed, under which subjects, and what an erased
 * field reads: `[erased]`.
 *
 * Not sealed, on purpose: the date of birth (the access rules decide on it, so
 * an audit replaying them needs it; R4) and `minor`; ids, which are opaque.
 */
import * as t from "io-ts";
import { matching } from "./codec.js";
import type { DomainEvent, EventEnvelope, EventOf, EventType } from "./events.js";
import type { Tag } from "./query.js";

/** What a personal field reads once its key is forgotten. */
export const ERASED = "[erased]" as const;
export type Erased = typeof ERASED;
export const Erased = t.literal(ERASED);
/** What a personal field reads where its keys were not given (an export read without its key store). */
export const SEALED = "[sealed]" as const;
export const Withheld = t.union([Erased, t.literal(SEALED)]);
export type Withheld = t.TypeOf<typeof Withheld>;
/** A personal field that cannot be read: erased, or sealed from this reader. */
export const isWithheld = (value: unknown): value is Withheld => value === ERASED || value === SEALED;

/** A personal field reads its own format, `[erased]` or `[sealed]` (its own codec may refuse those: a barcode, an id). */
export const erasable = <C extends t.Mixed>(codec: C) =>
  t.union([codec, Erased, t.literal(SEALED)], `${codec.name} | "${ERASED}" | "${SEALED}"`);

/**
 * A subject: whose key seals a field. Named as the tag of the thing it is:
 * `account:A1`, `loan:L1`, `hold:H1`.
 */
export type Subject = Tag;

const subjectPattern = "(?:account|loan|hold):[A-Za-z0-9_-]{1,64}";

/**
 * Sealed fields as stored: the subjects whose keys they are sealed under
 * (space-separated, all of them needed to open), the nonce, and the ciphertext
 * with its authentication tag, both base64url.
 */
export const Sealed = t.exact(
  t.type({
    subjects: matching("Subjects (1 to 3 of account:, loan:, hold: ids)", new RegExp(`^${subjectPattern}(?: ${subjectPattern}){0,2}$`)),
    iv: matching("Nonce (16 base64url characters)", /^[A-Za-z0-9_-]{16}$/),
    ct: matching("Ciphertext (base64url, at most 8,000 characters)", /^[A-Za-z0-9_-]{22,8000}$/),
  }),
  "Sealed",
);
export type Sealed = t.TypeOf<typeof Sealed>;

/** The personal fields of one event type, and the subjects they are sealed under. */
interface PersonalFields<K extends EventType> {
  readonly fields: ReadonlyArray<keyof EventOf<K>["data"] & string>;
  /** From the event and the tags it is stored with (a revocation names its link's accounts only in its tags). */
  readonly subjects: (event: EventOf<K>, tags: ReadonlyArray<Tag>) => ReadonlyArray<Subject>;
}

const account = (id: string): Subject => `account:${id}`;
const accountsTagged = (tags: ReadonlyArray<Tag>): ReadonlyArray<Subject> => tags.filter((tag) => tag.startsWith("account:"));

/**
 * Every event with personal fields. The rules document lists the same table in
 * words (docs/rules.md, "Personal data"); `docs/events.md` marks each field.
 */
export const personalFields: { readonly [K in EventType]?: PersonalFields<K> } = {
  AccountRegistered: { fields: ["barcode"], subjects: (e) => [account(e.data.accountId)] },
  // What the connector typed is the issuer's barcode when it named one, so it is
  // the issuer's to erase; a barcode that named no one is the connector's.
  ConnectionAttemptFailed: {
    fields: ["attemptedBarcode"],
    subjects: (e) => [account(e.data.issuerAccountId ?? e.data.connectorAccountId)],
  },
  // A reason may be about either patron of the link: erasing either erases it.
  LinkRevoked: { fields: ["reason"], subjects: (_e, tags) => accountsTagged(tags) },
  // A loan or hold has a key of its own as well, so retention can forget one item.
  ItemCheckedOut: { fields: ["itemId", "title"], subjects: (e) => [account(e.data.accountId), `loan:${e.data.loanId}`] },
  HoldPlaced: { fields: ["itemId", "title", "pickupBranch"], subjects: (e) => [account(e.data.accountId), `hold:${e.data.holdId}`] },
  HoldPickupBranchChanged: { fields: ["pickupBranch"], subjects: (e) => [account(e.data.accountId), `hold:${e.data.holdId}`] },
};

export const hasPersonalFields = (type: string): boolean => Object.prototype.hasOwnProperty.call(personalFields, type);

/** The personal fields of an event type, in catalog order (empty for none). */
export const personalFieldsOf = (type: EventType): ReadonlyArray<string> => personalFields[type]?.fields ?? [];

/** What sealing one event takes: its subjects and its personal fields' values, or null for an event with none. */
export const personalPartOf = (
  event: DomainEvent,
  tags: ReadonlyArray<Tag>,
): { readonly subjects: ReadonlyArray<Subject>; readonly values: Readonly<Record<string, unknown>> } | null => {
  const declared = personalFields[event.type] as PersonalFields<EventType> | undefined;
  if (declared === undefined) return null;
  const data = event.data as Readonly<Record<string, unknown>>;
  const values: Record<string, unknown> = {};
  for (const field of declared.fields) values[field] = data[field];
  const subjects = [...new Set(declared.subjects(event as never, tags))];
  if (subjects.length === 0)
    throw new Error(`${event.type}.tags: expected the accounts it concerns (account:…), whose keys seal its personal fields; got ${tags.join(", ") || "none"}`);
  return { subjects, values };
};

/** The data of an event with its personal fields taken out, ready for a `sealed` field beside them. */
export const withoutPersonalFields = (event: DomainEvent): Record<string, unknown> => {
  const data: Record<string, unknown> = { ...(event.data as Readonly<Record<string, unknown>>) };
  for (const field of personalFieldsOf(event.type)) delete data[field];
  return data;
};

/** An event as stored with its personal fields sealed: every other field as the catalog has it. */
export interface SealedEnvelope {
  readonly type: EventType;
  readonly data: Readonly<Record<string, unknown>> & { readonly sealed: Sealed };
  readonly metadata: EventEnvelope["metadata"];
}

/** What a store keeps: an event in the clear (written before sealing, or with no personal fields) or sealed. */
export type StoredEnvelope = EventEnvelope | SealedEnvelope;

export const isSealed = (e: StoredEnvelope): e is SealedEnvelope =>
  typeof (e.data as { sealed?: unknown }).sealed === "object" && (e.data as { sealed?: unknown }).sealed !== null;
