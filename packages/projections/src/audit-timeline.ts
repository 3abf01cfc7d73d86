/**
 * The audit timeline: every event that touched an account (as subject, issuer,
 * connector, link party, revoker, acting manager or actor), in order, with who
 * acted and, for a manager's action, the link that allowed it at that position.
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import {
  type Actor,
  type DecodeError,
  type DomainEvent,
  type EventType,
  type Id,
  ERASED,
  decodeWith,
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
  /** The event's data, without a phrase verifier (never printed). */
  readonly data: Readonly<Record<string, unknown>>;
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
}

export const initialAuditTimeline = (): AuditTimelineState => ({ applied: 0, byAccount: new Map(), linkParties: new Map() });

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
    data: withoutVerifier(event.data as Record<string, unknown>),
    touches,
    managerAction: acting === undefined ? null : [acting[0], (event.data as { accountId: Id }).accountId],
  };
  for (const id of new Set(touches.map(([id]) => id))) {
    const list = s.byAccount.get(id);
    if (list === undefined) s.byAccount.set(id, [record]);
    else list.push(record);
  }
  forget(s, event);
  s.applied = Number(event.position);
  return s;
};

/**
 * Issue 12: once an erasure or retention event says a subject's key is
 * forgotten, the personal fields sealed under it read `[erased]` here too, as
 * they would in a timeline rebuilt from the store, so no checkpoint keeps them.
 * Every record sealed under the subject touches its account.
 */
const forget = (s: AuditTimelineState, event: PositionedEvent): void => {
  const subject =
    event.type === "AccountErased"
      ? `account:${event.data.accountId}`
      : event.type === "LoanDetailsForgotten"
        ? `loan:${event.data.loanId}`
        : event.type === "HoldDetailsForgotten"
          ? `hold:${event.data.holdId}`
          : null;
  if (subject === null) return;
  for (const r of s.byAccount.get((event.data as { accountId: Id }).accountId) ?? []) {
    const fields = personalFieldsOf(r.type);
    if (fields.length === 0) continue;
    // A revocation is sealed under its link's parties, which its tags name (the timeline knows them by the link).
    const parties = r.type === "LinkRevoked" ? (s.linkParties.get((r.data as { linkId: Id }).linkId) ?? []) : [];
    if (r.type === "LinkRevoked" && parties.length === 0) continue; // a link never connected: no party's key seals it
    const part = personalPartOf({ type: r.type, data: r.data } as DomainEvent, parties.map((id) => `account:${id}`));
    if (part === null || !part.subjects.includes(subject)) continue;
    // The record is shared by every account it touches: changed in place, for all of them.
    (r as { data: TimelineRecord["data"] }).data = { ...r.data, ...Object.fromEntries(fields.filter((f) => f in r.data).map((f) => [f, ERASED])) };
  }
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

const Record_ = t.type({
  position: t.number,
  eventId: t.string,
  type: t.string,
  occurredAt: t.string,
  actor: t.unknown,
  data: t.UnknownRecord,
  touches: t.array(t.tuple([t.string, t.string])),
  managerAction: t.union([t.tuple([t.string, t.string]), t.null]),
});
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
        const r = raw as unknown as TimelineRecord;
        for (const id of new Set(r.touches.map(([id]) => id))) {
          const list = s.byAccount.get(id);
          if (list === undefined) s.byAccount.set(id, [r]);
          else list.push(r);
        }
      }
      return s;
    })(decodeWith(Snapshot, "auditTimeline")(json)),
};
