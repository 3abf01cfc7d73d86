/**
 * The audit timeline: every event that touched an account (as subject, issuer,
 * connector, link party, revoker, acting manager or actor), in order, with who
 * acted and, for a manager's action, the link that allowed it at that position.
 *
 * It keeps each event's data, personal fields included, so it forgets them as
 * the store does: when an account is erased (`AccountErased`), every record
 * whose personal fields are sealed under that account's key reads `[erased]` in
 * those fields (its registration, its loans and holds, a failed attempt that
 * typed its barcode, a revocation of one of its links); when a loan's or hold's
 * details are forgotten, that loan's checkout and that hold's placing and
 * branch changes do. A timeline folded before the erasure and then fed it
 * equals one rebuilt from the store afterwards, snapshots included.
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import {
  type Actor,
  type Channel,
  type DecodeError,
  type DomainEvent,
  type EventType,
  type Id,
  type Subject,
  ERASED,
  decodeWith,
  eventCodecs,
  eventTypes,
  hasPersonalFields,
  isWithheld,
  personalFieldsOf,
  personalPartOf,
} from "@linked-accounts/domain/internal";
import { type AccessGraphState, accessAsOf } from "./access-graph.js";
import type { PositionedEvent, Projection } from "./projection.js";

export type Role =
  | "subject"
  | "issuer"
  | "connector"
  | "link-party"
  | "revoker"
  | "acting-manager"
  | "actor";

export interface TimelineRecord {
  readonly position: number;
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt: string;
  readonly actor: Actor;
  /** Which way the command came in (null: not recorded). */
  readonly channel: Channel | null;
  /** The event's data, without a phrase verifier (never printed); personal fields `[erased]` once forgotten. */
  data: Readonly<Record<string, unknown>>;
  /** Each account the event touched, and how. */
  readonly touches: ReadonlyArray<readonly [Id, Role]>;
  /** For a manager's action on another account: [manager, account]. */
  readonly managerAction: readonly [Id, Id] | null;
}

export interface AuditTimelineState {
  applied: number;
  readonly byAccount: Map<Id, TimelineRecord[]>;
  /** The two parties of each link, so that a `LinkRevoked` reaches both. */
  readonly linkParties: Map<Id, readonly [Id, Id]>;
  /** When given, only the timelines of the accounts it accepts are kept (the command line's one account). */
  readonly keep?: (accountId: Id) => boolean;
}

export const initialAuditTimeline = (keep?: (accountId: Id) => boolean): AuditTimelineState =>
  keep === undefined ? { applied: 0, byAccount: new Map(), linkParties: new Map() } : { applied: 0, byAccount: new Map(), linkParties: new Map(), keep };

/** The subjects whose keys seal a record's personal fields (none: it has none, or its link is unknown). */
const subjectsOf = (s: AuditTimelineState, r: TimelineRecord): ReadonlyArray<Subject> => {
  if (!hasPersonalFields(r.type)) return [];
  // A revocation is sealed under its link's two accounts, which only its tags name.
  const parties = r.type === "LinkRevoked" ? s.linkParties.get(r.data["linkId"] as Id) : undefined;
  try {
    return personalPartOf({ type: r.type, data: r.data } as DomainEvent, parties === undefined ? [] : parties.map((id) => `account:${id}`))?.subjects ?? [];
  } catch {
    return []; // a revocation of a link this timeline never saw: it has no parties here
  }
};

/**
 * Erases the personal fields of every record of `accountId` sealed under
 * `subject`, as the store does by forgetting the key. Every record sealed under
 * an account's key touches that account, so its list holds them all; a
 * timeline that keeps only some accounts looks through each list it keeps.
 * A field that already reads `[erased]` or `[sealed]` stays as it reads.
 */
const erase = (s: AuditTimelineState, accountId: Id, subject: Subject): void => {
  const lists = s.keep === undefined ? [s.byAccount.get(accountId) ?? []] : s.byAccount.values();
  for (const list of lists)
    for (const r of list) {
      if (!subjectsOf(s, r).includes(subject)) continue;
      let data: Record<string, unknown> | undefined;
      for (const field of personalFieldsOf(r.type))
        if (!isWithheld(r.data[field])) {
          data ??= { ...r.data };
          data[field] = ERASED;
        }
      // One record may be in several lists: replaced in place, it reads [erased] in each.
      if (data !== undefined) r.data = data;
    }
};

/** The account an event was done to, and the account that did it when that may be a manager (R5). */
const subjectAndManager = (out: Array<readonly [Id, Role]>, accountId: Id, by: Id | undefined): void => {
  out.push([accountId, "subject"]);
  if (by !== undefined && by !== accountId) out.push([by, "acting-manager"]);
};

const touchesOf = (s: AuditTimelineState, event: PositionedEvent): Array<readonly [Id, Role]> => {
  const out: Array<readonly [Id, Role]> = [];
  switch (event.type) {
    case "AccountRegistered":
    case "AccountClosed":
    case "DateOfBirthRecorded":
      out.push([event.data.accountId, "subject"]);
      break;
    case "SharePhraseIssued":
    case "SharePhraseRevoked":
      out.push([event.data.issuerAccountId, "issuer"]);
      break;
    case "AccountConnected":
      out.push([event.data.issuerAccountId, "issuer"], [event.data.connectedAccountId, "connector"]);
      break;
    case "ConnectionAttemptFailed":
      out.push([event.data.connectorAccountId, "connector"]);
      if (event.data.issuerAccountId !== null) out.push([event.data.issuerAccountId, "issuer"]);
      break;
    case "LinkRevoked": {
      const parties = s.linkParties.get(event.data.linkId);
      if (parties !== undefined) out.push([parties[0], "link-party"], [parties[1], "link-party"]);
      if (event.data.revokedBy.kind === "account") out.push([event.data.revokedBy.accountId, "revoker"]);
      break;
    }
    case "ItemCheckedOut":
    case "ItemReturned":
    case "HoldPlaced":
    case "HoldFulfilled":
    case "AccountErased":
    case "ReadingHistoryChosen":
    case "LoanDetailsForgotten":
    case "HoldDetailsForgotten":
      subjectAndManager(out, event.data.accountId, undefined);
      break;
    case "LoanRenewed":
      subjectAndManager(out, event.data.accountId, event.data.renewedBy);
      break;
    case "HoldCancelled":
      subjectAndManager(out, event.data.accountId, event.data.cancelledBy);
      break;
    case "HoldSuspended":
      subjectAndManager(out, event.data.accountId, event.data.suspendedBy);
      break;
    case "HoldResumed":
      subjectAndManager(out, event.data.accountId, event.data.resumedBy);
      break;
    case "HoldPickupBranchChanged":
      subjectAndManager(out, event.data.accountId, event.data.changedBy);
      break;
    default:
      // Every event type has its case: a new one is a compile error here.
      return event satisfies never;
  }
  if (event.metadata.actor.kind === "account") out.push([event.metadata.actor.accountId, "actor"]);
  return out;
};

const withoutVerifier = (data: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
  if (!("verifier" in data)) return data;
  const { verifier: _hidden, ...rest } = data;
  return rest;
};

/** Each event type's data fields in catalog order. */
const fieldOrder = new Map<string, ReadonlyArray<string>>(
  eventTypes.map((type) => [type, Object.keys((eventCodecs[type] as unknown as { type: { props: { data: { type: { props: object } } } } }).type.props.data.type.props)]),
);

/**
 * An event's data with its fields in catalog order: an event opened from its
 * sealed form has its personal fields put back last, and the timeline's JSON
 * reads the same however the event was stored.
 */
const inCatalogOrder = (type: EventType, data: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
  if (!hasPersonalFields(type)) return data;
  const out: Record<string, unknown> = {};
  for (const key of fieldOrder.get(type) ?? []) if (key in data) out[key] = data[key];
  return out;
};

export const evolveAuditTimeline = (s: AuditTimelineState, event: PositionedEvent): AuditTimelineState => {
  if (event.type === "AccountConnected" && !s.linkParties.has(event.data.linkId))
    s.linkParties.set(event.data.linkId, [event.data.issuerAccountId, event.data.connectedAccountId]);
  const touches = touchesOf(s, event);
  const acting = touches.find(([, role]) => role === "acting-manager");
  const record: TimelineRecord = {
    position: Number(event.position),
    eventId: event.metadata.eventId,
    type: event.type,
    occurredAt: event.metadata.occurredAt,
    actor: event.metadata.actor,
    channel: event.metadata.channel,
    data: inCatalogOrder(event.type, withoutVerifier(event.data as Record<string, unknown>)),
    touches,
    managerAction: acting === undefined ? null : [acting[0], (event.data as { accountId: Id }).accountId],
  };
  for (const id of new Set(touches.map(([id]) => id))) {
    if (s.keep !== undefined && !s.keep(id)) continue;
    const list = s.byAccount.get(id);
    if (list === undefined) s.byAccount.set(id, [record]);
    else list.push(record);
  }
  switch (event.type) {
    case "AccountErased":
      erase(s, event.data.accountId, `account:${event.data.accountId}`);
      break;
    case "LoanDetailsForgotten":
      erase(s, event.data.accountId, `loan:${event.data.loanId}`);
      break;
    case "HoldDetailsForgotten":
      erase(s, event.data.accountId, `hold:${event.data.holdId}`);
      break;
    default:
      break;
  }
  s.applied = Number(event.position);
  return s;
};

export interface TimelineEntry {
  readonly position: bigint;
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt: string;
  readonly actor: Actor;
  /** How this event touched the account. */
  readonly roles: ReadonlyArray<Role>;
  readonly data: Readonly<Record<string, unknown>>;
  /** For a manager's action: who acted on which account, and the links in force then (empty: none was). */
  readonly managerAction: { readonly manager: Id; readonly account: Id; readonly linkIds: ReadonlyArray<Id> } | null;
}

/**
 * The timeline of `accountId` up to `position` (default: everything applied).
 * The links behind a manager's action come from the access graph as of that
 * action's position.
 */
export const timelineOf = (s: AuditTimelineState, access: AccessGraphState, accountId: Id, position?: bigint): ReadonlyArray<TimelineEntry> => {
  const last = position === undefined ? s.applied : Number(position);
  const out: TimelineEntry[] = [];
  for (const r of s.byAccount.get(accountId) ?? []) {
    if (r.position > last) break;
    out.push({
      position: BigInt(r.position),
      eventId: r.eventId,
      type: r.type,
      occurredAt: r.occurredAt,
      actor: r.actor,
      roles: [...new Set(r.touches.filter(([id]) => id === accountId).map(([, role]) => role))],
      data: r.data,
      managerAction:
        r.managerAction === null
          ? null
          : {
              manager: r.managerAction[0],
              account: r.managerAction[1],
              linkIds: accessAsOf(access, BigInt(r.position)).linksOf(r.managerAction[0], r.managerAction[1]),
            },
    });
  }
  return out;
};

const Record_ = t.intersection([
  t.type({
    position: t.number,
    eventId: t.string,
    type: t.string,
    occurredAt: t.string,
    actor: t.unknown,
    data: t.UnknownRecord,
    touches: t.array(t.tuple([t.string, t.string])),
    managerAction: t.union([t.tuple([t.string, t.string]), t.null]),
  }),
  // A snapshot from before channels were kept has none: read as not recorded.
  t.partial({ channel: t.union([t.string, t.null]) }),
]);
const Snapshot = t.type({
  version: t.literal(1),
  applied: t.number,
  records: t.array(Record_),
  linkParties: t.array(t.tuple([t.string, t.string, t.string])),
});

export const auditTimelineProjection: Projection<AuditTimelineState> = {
  name: "audit-timeline",
  initial: initialAuditTimeline,
  evolve: evolveAuditTimeline,
  positionOf: (s) => BigInt(s.applied),
  serialise: (s) => {
    const records = new Set<TimelineRecord>();
    for (const list of s.byAccount.values()) for (const r of list) records.add(r);
    return {
      version: 1,
      applied: s.applied,
      records: [...records].sort((a, b) => a.position - b.position),
      linkParties: [...s.linkParties].map(([id, [a, b]]) => [id, a, b]),
    };
  },
  deserialise: (json): E.Either<DecodeError, AuditTimelineState> =>
    E.map((snap: t.TypeOf<typeof Snapshot>) => {
      const s = initialAuditTimeline();
      s.applied = snap.applied;
      for (const [id, a, b] of snap.linkParties) s.linkParties.set(id, [a, b]);
      for (const raw of snap.records) {
        // Written by `serialise` from decoded events: the shape is checked, the values trusted.
        const r = (raw.channel === undefined ? { ...raw, channel: null } : raw) as unknown as TimelineRecord;
        for (const id of new Set(r.touches.map(([id]) => id))) {
          const list = s.byAccount.get(id);
          if (list === undefined) s.byAccount.set(id, [r]);
          else list.push(r);
        }
      }
      return s;
    })(decodeWith(Snapshot, "auditTimeline")(json)),
};
