/**
 * The right of access: everything the library holds about one patron, opened,
 * in a form the patron can read. Built from the audit timeline of that account
 * (every event that touched it) and the access graph (who could manage it, and
 * through which link, when someone else acted on it).
 *
 * What it shows is the patron's own: their account, phrases, links, attempts,
 * loans and holds, choices, and every action taken on them, with who acted and
 * through which channel. What it never shows: a share phrase's verifier, and
 * another patron's personal fields. A personal field is shown only when it is
 * sealed under this patron's key (the domain's `personalFields`): so a barcode
 * this patron typed that named someone else is that person's and is left out,
 * another account appears by its id alone, and what this patron did on an
 * account they manage is listed without that account's titles or branches.
 * A field whose key was forgotten reads `[erased]`, one read without keys
 * `[sealed]`.
 */
import {
  type Actor,
  type Channel,
  type DomainEvent,
  type EventType,
  type Id,
  type Policy,
  ERASED,
  SEALED,
  canonicalBarcode,
  defaultPolicy,
  grantsOf,
  personalPartOf,
} from "@linked-accounts/domain/internal";
import { type AccessGraphState, accessAsOf, accessNow, evolveAccessGraph, initialAccessGraph } from "./access-graph.js";
import { type AuditTimelineState, type TimelineRecord, evolveAuditTimeline, initialAuditTimeline } from "./audit-timeline.js";
import type { PositionedEvent } from "./projection.js";
import type { ReadModelsState } from "./read-models.js";

/** Who did something, as the patron reads it. */
export type ReportActor =
  | { readonly kind: "you" }
  /** Another account; `linkIds`: the links through which it managed this account then (empty: none). */
  | { readonly kind: "account"; readonly accountId: Id; readonly linkIds: ReadonlyArray<Id> }
  | { readonly kind: "staff"; readonly staffId: Id }
  | { readonly kind: "system" };

/** One recorded act: when, by whom, through which channel, and the event that records it. */
export interface ReportAct {
  /** When it happened (the event's own time), ISO-8601 UTC. */
  readonly at: string;
  readonly by: ReportActor;
  /** How the command came in; null when not recorded (events of schema version 1). */
  readonly channel: Channel | null;
  readonly position: bigint;
  readonly eventId: string;
}

export interface ReportAccount {
  readonly accountId: Id;
  readonly barcode: string;
  readonly minor: boolean;
  readonly registered: ReportAct;
  readonly datesOfBirth: ReadonlyArray<{ readonly dateOfBirth: string; readonly recorded: ReportAct }>;
  readonly closed: ReportAct | null;
  /** When the account's personal data was erased (its key forgotten). */
  readonly erased: ReportAct | null;
}

export interface ReportPhrase {
  readonly phraseId: Id;
  readonly direction: "one-way" | "two-way";
  readonly issued: ReportAct;
  readonly expiresAt: string;
  readonly revoked: (ReportAct & { readonly reason: string }) | null;
}

export interface ReportLink {
  readonly linkId: Id;
  /** The other account, by id only. */
  readonly otherAccountId: Id;
  readonly direction: "one-way" | "two-way";
  readonly phraseId: Id;
  /** Whose phrase made it: "you" or the other account. */
  readonly issuedBy: "you" | "other";
  /** Who manages whom through it, as it was in force when connected (R2, R4). */
  readonly manages: ReadonlyArray<{ readonly manager: Id; readonly account: Id }>;
  readonly connected: ReportAct;
  readonly revoked: (ReportAct & { readonly revokedBy: { readonly kind: "account"; readonly accountId: Id } | { readonly kind: "staff"; readonly staffId: Id }; readonly reason: string }) | null;
}

export interface ReportAttempt {
  readonly attempted: ReportAct;
  /** "by-you": this patron tried to connect; "on-you": someone tried to connect to this patron. */
  readonly made: "by-you" | "on-you";
  /** The other account, when the barcode named one. */
  readonly otherAccountId: Id | null;
  readonly reason: string;
  /** What was typed as the barcode, when it is this patron's own data (their barcode, or one that named no one); else null. */
  readonly typedBarcode: string | null;
}

export interface ReportLoan {
  readonly loanId: Id;
  readonly itemId: string;
  readonly title: string;
  readonly format: "physical" | "digital";
  readonly checkedOut: ReportAct;
  /** The due date as last set. */
  readonly dueAt: string;
  readonly renewals: ReadonlyArray<{ readonly dueAt: string; readonly renewed: ReportAct }>;
  readonly returned: ReportAct | null;
  readonly detailsForgotten: (ReportAct & { readonly retentionDays: number }) | null;
}

export type ReportHoldChange =
  | { readonly kind: "suspended"; readonly until: string; readonly changed: ReportAct }
  | { readonly kind: "resumed"; readonly changed: ReportAct }
  | { readonly kind: "pickup-branch-changed"; readonly pickupBranch: string; readonly changed: ReportAct };

export interface ReportHold {
  readonly holdId: Id;
  readonly itemId: string;
  readonly title: string;
  /** The branch chosen when it was placed (changes below). */
  readonly pickupBranch: string;
  readonly placed: ReportAct;
  readonly changes: ReadonlyArray<ReportHoldChange>;
  readonly ended: (ReportAct & { readonly how: "fulfilled" | "cancelled" }) | null;
  readonly detailsForgotten: (ReportAct & { readonly retentionDays: number }) | null;
}

/** Something this patron did to another account (as its manager): named by ids, without that account's personal data. */
export interface ReportActionOnOther {
  readonly type: EventType;
  readonly accountId: Id;
  /** The loan or hold acted on, when there is one. */
  readonly loanId: Id | null;
  readonly holdId: Id | null;
  /** The links through which this patron managed that account then (empty: none was in force). */
  readonly linkIds: ReadonlyArray<Id>;
  readonly done: ReportAct;
}

export interface AccessReport {
  readonly accountId: Id;
  /** The report covers every event up to this position. */
  readonly position: bigint;
  /** Null when the account's registration is not in the events read. */
  readonly account: ReportAccount | null;
  readonly sharePhrases: ReadonlyArray<ReportPhrase>;
  readonly links: ReadonlyArray<ReportLink>;
  readonly connectionAttempts: ReadonlyArray<ReportAttempt>;
  readonly loans: ReadonlyArray<ReportLoan>;
  readonly holds: ReadonlyArray<ReportHold>;
  readonly readingHistory: ReadonlyArray<{ readonly keep: boolean; readonly chosen: ReportAct }>;
  readonly actionsOnOtherAccounts: ReadonlyArray<ReportActionOnOther>;
}

// ---------------------------------------------------------------------------
// Building

const timeOf = (r: TimelineRecord): string => {
  const d = r.data;
  for (const key of ["registeredAt", "closedAt", "recordedAt", "issuedAt", "revokedAt", "connectedAt", "attemptedAt", "checkedOutAt", "renewedAt", "returnedAt", "placedAt", "cancelledAt", "suspendedAt", "resumedAt", "changedAt", "fulfilledAt", "erasedAt", "chosenAt", "forgottenAt"])
    if (typeof d[key] === "string") return d[key] as string;
  return r.occurredAt;
};

/**
 * The report of `accountId` from a timeline that kept it and the access graph
 * over the same events, or null when no such account is registered (by id, or
 * by barcode while that barcode still finds it).
 */
export const reportFrom = (timeline: AuditTimelineState, access: AccessGraphState, account: string): AccessReport | null => {
  const view = accessNow(access);
  const id = view.account(account)?.accountId;
  if (id === undefined) return null;
  const records = timeline.byAccount.get(id) ?? [];
  const self = `account:${id}`;

  const actorOf = (actor: Actor, position: number, on: Id): ReportActor => {
    switch (actor.kind) {
      case "account":
        return actor.accountId === id ? { kind: "you" } : { kind: "account", accountId: actor.accountId, linkIds: accessAsOf(access, BigInt(position)).linksOf(actor.accountId, on) };
      case "staff":
        return { kind: "staff", staffId: actor.staffId };
      case "system":
        return { kind: "system" };
    }
  };
  const actOf = (r: TimelineRecord, on: Id = id): ReportAct => ({
    at: timeOf(r),
    by: actorOf(r.actor, r.position, on),
    channel: r.channel,
    position: BigInt(r.position),
    eventId: r.eventId,
  });
  /** A record's personal field, when it is this patron's own (sealed under their key); else null. */
  const own = (r: TimelineRecord, field: string): string | null => {
    const parties = r.type === "LinkRevoked" ? timeline.linkParties.get(r.data["linkId"] as Id) : undefined;
    let subjects: ReadonlyArray<string> = [];
    try {
      subjects = personalPartOf({ type: r.type, data: r.data } as DomainEvent, parties?.map((p) => `account:${p}`) ?? [])?.subjects ?? [];
    } catch {
      subjects = [];
    }
    return subjects.includes(self) ? String(r.data[field]) : null;
  };
  const str = (r: TimelineRecord, field: string): string => String(r.data[field]);

  let registered: { barcode: string; minor: boolean; act: ReportAct } | undefined;
  const datesOfBirth: Array<{ dateOfBirth: string; recorded: ReportAct }> = [];
  let closed: ReportAct | null = null;
  let erased: ReportAct | null = null;
  const phrases = new Map<Id, { -readonly [K in keyof ReportPhrase]: ReportPhrase[K] }>();
  const links = new Map<Id, { -readonly [K in keyof ReportLink]: ReportLink[K] }>();
  const attempts: ReportAttempt[] = [];
  const loans = new Map<Id, { -readonly [K in keyof ReportLoan]: ReportLoan[K] } & { renewals: Array<ReportLoan["renewals"][number]> }>();
  const holds = new Map<Id, { -readonly [K in keyof ReportHold]: ReportHold[K] } & { changes: ReportHoldChange[] }>();
  const readingHistory: Array<{ keep: boolean; chosen: ReportAct }> = [];
  const onOthers: ReportActionOnOther[] = [];

  for (const r of records) {
    const d = r.data;
    const subjectId = typeof d["accountId"] === "string" ? (d["accountId"] as Id) : undefined;
    // Circulation and account events about another account: what this patron did there, by ids alone.
    if (subjectId !== undefined && subjectId !== id) {
      onOthers.push({
        type: r.type,
        accountId: subjectId,
        loanId: typeof d["loanId"] === "string" ? (d["loanId"] as Id) : null,
        holdId: typeof d["holdId"] === "string" ? (d["holdId"] as Id) : null,
        linkIds: accessAsOf(access, BigInt(r.position)).linksOf(id, subjectId),
        done: actOf(r, subjectId),
      });
      continue;
    }
    switch (r.type) {
      case "AccountRegistered":
        registered ??= { barcode: own(r, "barcode") ?? ERASED, minor: d["minor"] === true, act: actOf(r) };
        break;
      case "DateOfBirthRecorded":
        datesOfBirth.push({ dateOfBirth: str(r, "dateOfBirth"), recorded: actOf(r) });
        break;
      case "AccountClosed":
        closed ??= actOf(r);
        break;
      case "AccountErased":
        erased ??= actOf(r);
        break;
      case "SharePhraseIssued":
        if (d["issuerAccountId"] === id)
          phrases.set(str(r, "phraseId"), {
            phraseId: str(r, "phraseId"),
            direction: d["direction"] as ReportPhrase["direction"],
            issued: actOf(r),
            expiresAt: str(r, "expiresAt"),
            revoked: null,
          });
        break;
      case "SharePhraseRevoked": {
        const phrase = phrases.get(str(r, "phraseId"));
        if (phrase !== undefined && phrase.revoked === null) phrase.revoked = { ...actOf(r), reason: str(r, "reason") };
        break;
      }
      case "AccountConnected": {
        const issuer = str(r, "issuerAccountId");
        const connected = str(r, "connectedAccountId");
        const linkId = str(r, "linkId");
        const direction = d["direction"] as ReportLink["direction"];
        const then = accessAsOf(access, BigInt(r.position));
        if (!links.has(linkId))
          links.set(linkId, {
            linkId,
            otherAccountId: issuer === id ? connected : issuer,
            direction,
            phraseId: str(r, "phraseId"),
            issuedBy: issuer === id ? "you" : "other",
            manages: grantsOf({ issuerAccountId: issuer, connectedAccountId: connected, direction }).filter((g) => then.linksOf(g.manager, g.account).includes(linkId)),
            connected: actOf(r),
            revoked: null,
          });
        break;
      }
      case "LinkRevoked": {
        const link = links.get(str(r, "linkId"));
        const by = d["revokedBy"] as { kind: "account"; accountId: Id } | { kind: "staff"; staffId: Id };
        if (link !== undefined && link.revoked === null)
          link.revoked = { ...actOf(r), revokedBy: by.kind === "account" ? { kind: "account", accountId: by.accountId } : { kind: "staff", staffId: by.staffId }, reason: own(r, "reason") ?? "" };
        break;
      }
      case "ConnectionAttemptFailed": {
        const connector = str(r, "connectorAccountId");
        const issuer = d["issuerAccountId"] === null ? null : str(r, "issuerAccountId");
        const byYou = connector === id;
        attempts.push({
          attempted: actOf(r),
          made: byYou ? "by-you" : "on-you",
          otherAccountId: byYou ? (issuer === id ? null : issuer) : connector,
          reason: str(r, "reason"),
          typedBarcode: own(r, "attemptedBarcode"),
        });
        break;
      }
      case "ItemCheckedOut":
        if (!loans.has(str(r, "loanId")))
          loans.set(str(r, "loanId"), {
            loanId: str(r, "loanId"),
            itemId: own(r, "itemId") ?? ERASED,
            title: own(r, "title") ?? ERASED,
            format: d["format"] as ReportLoan["format"],
            checkedOut: actOf(r),
            dueAt: str(r, "dueAt"),
            renewals: [],
            returned: null,
            detailsForgotten: null,
          });
        break;
      case "LoanRenewed": {
        const loan = loans.get(str(r, "loanId"));
        if (loan !== undefined) {
          loan.renewals.push({ dueAt: str(r, "dueAt"), renewed: actOf(r) });
          loan.dueAt = str(r, "dueAt");
        }
        break;
      }
      case "ItemReturned": {
        const loan = loans.get(str(r, "loanId"));
        if (loan !== undefined && loan.returned === null) loan.returned = actOf(r);
        break;
      }
      case "LoanDetailsForgotten": {
        const loan = loans.get(str(r, "loanId"));
        if (loan !== undefined && loan.detailsForgotten === null) loan.detailsForgotten = { ...actOf(r), retentionDays: d["retentionDays"] as number };
        break;
      }
      case "HoldPlaced":
        if (!holds.has(str(r, "holdId")))
          holds.set(str(r, "holdId"), {
            holdId: str(r, "holdId"),
            itemId: own(r, "itemId") ?? ERASED,
            title: own(r, "title") ?? ERASED,
            pickupBranch: own(r, "pickupBranch") ?? ERASED,
            placed: actOf(r),
            changes: [],
            ended: null,
            detailsForgotten: null,
          });
        break;
      case "HoldSuspended":
        holds.get(str(r, "holdId"))?.changes.push({ kind: "suspended", until: str(r, "until"), changed: actOf(r) });
        break;
      case "HoldResumed":
        holds.get(str(r, "holdId"))?.changes.push({ kind: "resumed", changed: actOf(r) });
        break;
      case "HoldPickupBranchChanged":
        holds.get(str(r, "holdId"))?.changes.push({ kind: "pickup-branch-changed", pickupBranch: own(r, "pickupBranch") ?? ERASED, changed: actOf(r) });
        break;
      case "HoldFulfilled":
      case "HoldCancelled": {
        const hold = holds.get(str(r, "holdId"));
        if (hold !== undefined && hold.ended === null) hold.ended = { ...actOf(r), how: r.type === "HoldFulfilled" ? "fulfilled" : "cancelled" };
        break;
      }
      case "HoldDetailsForgotten": {
        const hold = holds.get(str(r, "holdId"));
        if (hold !== undefined && hold.detailsForgotten === null) hold.detailsForgotten = { ...actOf(r), retentionDays: d["retentionDays"] as number };
        break;
      }
      case "ReadingHistoryChosen":
        readingHistory.push({ keep: d["keep"] === true, chosen: actOf(r) });
        break;
      default:
        return r.type satisfies never;
    }
  }
  return {
    accountId: id,
    position: BigInt(access.applied),
    account:
      registered === undefined
        ? null
        : { accountId: id, barcode: registered.barcode, minor: registered.minor, registered: registered.act, datesOfBirth, closed, erased },
    sharePhrases: [...phrases.values()],
    links: [...links.values()],
    connectionAttempts: attempts,
    loans: [...loans.values()],
    holds: [...holds.values()],
    readingHistory,
    actionsOnOtherAccounts: onOthers,
  };
};

/**
 * The access report of one patron (by id, or by barcode) over `events`: folds
 * only what it needs (the access graph, and the timeline of that account).
 * Null when no such account is registered.
 */
export const accessReport = async (
  events: AsyncIterable<PositionedEvent> | Iterable<PositionedEvent>,
  account: string,
  policy: Policy = defaultPolicy,
): Promise<AccessReport | null> => {
  const access = initialAccessGraph(policy);
  // The account asked about, by id, or any account that registered with it as its barcode.
  const candidates = new Set<string>([account]);
  const barcode = canonicalBarcode(account); // however it is typed (R7)
  const timeline = initialAuditTimeline((id) => candidates.has(id));
  for await (const event of events) {
    if (event.type === "AccountRegistered" && canonicalBarcode(event.data.barcode) === barcode) candidates.add(event.data.accountId);
    evolveAccessGraph(access, event);
    evolveAuditTimeline(timeline, event);
  }
  return reportFrom(timeline, access, account);
};

/** The access report of one patron from read models kept by a runner (`readModelsProjection`). */
export const accessReportOf = (state: ReadModelsState, account: string): AccessReport | null => reportFrom(state.timeline, state.access, account);

// ---------------------------------------------------------------------------
// Rendering

/** `2026-03-02T09:05:00.000Z` as a person reads it: `2026-03-02 09:05 UTC`. */
const when = (iso: string): string => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : iso);

const channelText = (channel: Channel | null): string => {
  switch (channel) {
    case "portal":
      return "on the patron portal";
    case "app":
      return "in the app";
    case "desk":
      return "at the library desk";
    case "system":
      return "by the library's system";
    case null:
      return "channel not recorded";
  }
};

const actorText = (by: ReportActor): string => {
  switch (by.kind) {
    case "you":
      return "you";
    case "account":
      return `account ${by.accountId}${by.linkIds.length > 0 ? ` (managing you through link ${by.linkIds.join(", ")})` : ""}`;
    case "staff":
      return `library staff ${by.staffId}`;
    case "system":
      return "the library's system";
  }
};

/** "2026-03-02 09:05 UTC by you, in the app". */
const actText = (act: ReportAct): string =>
  act.by.kind === "system" && act.channel === "system" ? `${when(act.at)} by the library's system` : `${when(act.at)} by ${actorText(act.by)}, ${channelText(act.channel)}`;

const quoted = (value: string): string => (value === ERASED || value === SEALED ? value : JSON.stringify(value));

const attemptReasons: Readonly<Record<string, string>> = {
  "unknown-barcode": "the barcode named no account",
  "phrase-mismatch": "the share phrase did not match",
  "phrase-expired": "the share phrase had expired",
  "phrase-revoked": "the share phrase had been revoked",
  "issuer-locked": "too many failed attempts on the account asked for",
  "connector-locked": "too many failed attempts by the account asking",
  "self-link": "an account cannot link to itself",
  "account-closed": "an account was closed",
};

const otherActions: Readonly<Partial<Record<EventType, string>>> = {
  ItemCheckedOut: "checked out an item for",
  LoanRenewed: "renewed a loan of",
  ItemReturned: "returned a loan of",
  HoldPlaced: "placed a hold for",
  HoldCancelled: "cancelled a hold of",
  HoldSuspended: "suspended a hold of",
  HoldResumed: "resumed a hold of",
  HoldPickupBranchChanged: "changed the pickup branch of a hold of",
  HoldFulfilled: "collected a hold of",
  ReadingHistoryChosen: "chose whether to keep the reading history of",
};

/**
 * The report as plain text: a heading per section, every date in UTC, who
 * acted and through which channel on every entry.
 */
export const renderAccessReport = (report: AccessReport): string => {
  const out: string[] = [];
  const line = (text = "") => out.push(text);
  const section = (title: string, count?: number) => {
    line();
    line(count === undefined ? title : `${title} (${count})`);
    line("-".repeat((count === undefined ? title : `${title} (${count})`).length));
  };
  const a = report.account;
  line(`Everything the library holds about account ${report.accountId}`);
  line(`Up to event ${report.position} of the library's records. Times are in UTC.`);

  section("Your account");
  if (a === null) line("No registration of this account is in these records.");
  else {
    const row = (label: string, value: string) => line(`  ${label.padEnd(16)}${value}`);
    row("Account id", a.accountId);
    row("Barcode", a.barcode);
    row("Minor", a.minor ? "yes" : "no");
    if (a.datesOfBirth.length === 0) row("Date of birth", "not recorded");
    for (const d of a.datesOfBirth) row("Date of birth", `${d.dateOfBirth} (recorded ${actText(d.recorded)})`);
    row("Registered", actText(a.registered));
    row("Closed", a.closed === null ? "no" : actText(a.closed));
    row("Erased", a.erased === null ? "no" : `${actText(a.erased)}: your personal data was erased and reads [erased]`);
  }

  section("Share phrases you issued", report.sharePhrases.length);
  if (report.sharePhrases.length === 0) line("None.");
  for (const p of report.sharePhrases) {
    line(`  ${p.phraseId}, ${p.direction}`);
    line(`    issued    ${actText(p.issued)}`);
    line(`    expires   ${when(p.expiresAt)}`);
    if (p.revoked !== null) line(`    revoked   ${actText(p.revoked)} (reason: ${p.revoked.reason})`);
  }
  if (report.sharePhrases.length > 0) line("  The library never keeps a share phrase itself, only a value to check it against, which is not shown.");

  section("Links with other accounts", report.links.length);
  if (report.links.length === 0) line("None.");
  for (const l of report.links) {
    const manages = l.manages.map((g) => `${g.manager === report.accountId ? "you" : `account ${g.manager}`} manage${g.manager === report.accountId ? "" : "s"} ${g.account === report.accountId ? "you" : `account ${g.account}`}`);
    line(`  ${l.linkId}, with account ${l.otherAccountId}, ${l.direction}: ${manages.length === 0 ? "no one manages anyone through it" : manages.join("; ")}`);
    line(`    connected ${actText(l.connected)}, with share phrase ${l.phraseId} issued by ${l.issuedBy === "you" ? "you" : `account ${l.otherAccountId}`}`);
    if (l.revoked !== null) {
      const { revokedBy, by: actor } = l.revoked;
      // Who the revocation is recorded as by, when that is not who sent it (staff acting for a patron, say).
      const same =
        revokedBy.kind === "account"
          ? (actor.kind === "you" && revokedBy.accountId === report.accountId) || (actor.kind === "account" && actor.accountId === revokedBy.accountId)
          : actor.kind === "staff" && actor.staffId === revokedBy.staffId;
      const on = revokedBy.kind === "account" ? (revokedBy.accountId === report.accountId ? "you" : `account ${revokedBy.accountId}`) : `library staff ${revokedBy.staffId}`;
      line(`    revoked   ${actText(l.revoked)}${same ? "" : ` (recorded as revoked by ${on})`}${l.revoked.reason === "" ? "" : `, reason: ${quoted(l.revoked.reason)}`}`);
    }
  }

  section("Failed attempts to link", report.connectionAttempts.length);
  if (report.connectionAttempts.length === 0) line("None.");
  for (const t of report.connectionAttempts) {
    const what = t.made === "by-you" ? `you tried to link${t.otherAccountId === null ? "" : ` to account ${t.otherAccountId}`}` : `account ${t.otherAccountId} tried to link to you`;
    line(`  ${actText(t.attempted)}: ${what}; refused: ${attemptReasons[t.reason] ?? t.reason}`);
    if (t.typedBarcode !== null) line(`    barcode typed: ${quoted(t.typedBarcode)}`);
  }

  section("Loans", report.loans.length);
  if (report.loans.length === 0) line("None.");
  for (const l of report.loans) {
    line(`  ${l.loanId}: ${quoted(l.title)} (item ${l.itemId}, ${l.format})`);
    line(`    checked out ${actText(l.checkedOut)}`);
    for (const r of l.renewals) line(`    renewed     ${actText(r.renewed)}, now due ${when(r.dueAt)}`);
    line(`    due         ${when(l.dueAt)}`);
    line(`    returned    ${l.returned === null ? "not yet" : actText(l.returned)}`);
    if (l.detailsForgotten !== null)
      line(`    forgotten   ${actText(l.detailsForgotten)}: what was borrowed was erased after ${l.detailsForgotten.retentionDays} days`);
  }

  section("Holds", report.holds.length);
  if (report.holds.length === 0) line("None.");
  for (const h of report.holds) {
    line(`  ${h.holdId}: ${quoted(h.title)} (item ${h.itemId}), to collect at ${h.pickupBranch}`);
    line(`    placed      ${actText(h.placed)}`);
    for (const c of h.changes)
      line(
        c.kind === "suspended"
          ? `    suspended   ${actText(c.changed)}, until ${when(c.until)}`
          : c.kind === "resumed"
            ? `    resumed     ${actText(c.changed)}`
            : `    branch      ${actText(c.changed)}: now ${c.pickupBranch}`,
      );
    line(`    ${h.ended === null ? "still open" : `${h.ended.how.padEnd(11)} ${actText(h.ended)}`}`);
    if (h.detailsForgotten !== null)
      line(`    forgotten   ${actText(h.detailsForgotten)}: what was asked for was erased after ${h.detailsForgotten.retentionDays} days`);
  }

  section("Reading history", report.readingHistory.length);
  if (report.readingHistory.length === 0) line("No choice recorded: the library keeps returned loans' details only for its retention period.");
  for (const c of report.readingHistory)
    line(`  ${actText(c.chosen)}: ${c.keep ? "keep my reading history" : "do not keep my reading history past the retention period"}`);

  section("What you did on accounts you manage", report.actionsOnOtherAccounts.length);
  if (report.actionsOnOtherAccounts.length === 0) line("None.");
  for (const o of report.actionsOnOtherAccounts) {
    const item = o.loanId !== null ? ` (loan ${o.loanId})` : o.holdId !== null ? ` (hold ${o.holdId})` : "";
    const through = o.linkIds.length > 0 ? `, through link ${o.linkIds.join(", ")}` : "";
    line(`  ${when(o.done.at)}, ${channelText(o.done.channel)}: ${otherActions[o.type] ?? o.type} account ${o.accountId}${item}${through}`);
  }

  const text = out.join("\n") + "\n";
  const notes: string[] = [];
  if (text.includes(ERASED)) notes.push(`${ERASED}: erased at your request or by the library's retention rules; the library can no longer read it.`);
  if (text.includes(SEALED)) notes.push(`${SEALED}: kept encrypted, and this report was made without the keys to read it.`);
  return notes.length === 0 ? text : `${text}\n${notes.join("\n")}\n`;
};
