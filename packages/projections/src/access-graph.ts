/**
 * The access graph: who can manage whom (DOMAIN.md "What the read side answers").
 *
 * It keeps facts and indexes, never a rule. Facts: each account's registration,
 * closure, minority and recorded dates of birth, each link's connection and
 * revocation, all with the positions at which they became true. Indexes: every
 * link an account is a party of, and every pair manager → account a link's
 * direction gives (R2, the domain's `grantsOf`). Whether a grant is in force is
 * the domain's `grantInForce`, asked at question time with the facts as of the
 * position asked about and the time asked about, under the policy the graph was
 * made with. So a rule changed through the domain's policy (minors managing from
 * an age, say) changes these answers too, with no edit here.
 *
 * Time: a rule may depend on time with no event at all (an age is reached at
 * midnight, whether or not anything is stored then), so an answer is a function
 * of a position (the facts) and a time (the rule's clock): now, the clock now;
 * as of a position, the time its event occurred (the running maximum of
 * `occurredAt`); as of a time T, the position T stands for and T itself.
 * Closures and revocations are for good (R11, R12), so a grant's facts change
 * at most a few times; an as-of question reads the facts at that position, and
 * never replays events.
 *
 * Layout, for memory and speed: account ids, link ids and barcodes are interned
 * to small integers (`StringIndex`), and accounts, links and grants are columns
 * of typed arrays indexed by them. Positions are numbers; NaN stands for
 * "never" (not registered, not closed, not revoked), so every `x <= p` test is
 * false for it, as the null it replaces was.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import {
  type AccountFacts,
  type DecodeError,
  type Direction,
  type EventOf,
  type Id,
  type LinkFacts,
  type LinkingEvent,
  type Policy,
  ERASED,
  canonicalBarcode,
  isWithheld,
  decodeWith,
  defaultPolicy,
  grantInForce,
  grantsOf,
  isLinkingEvent,
  managesItself,
  mayManage,
} from "@linked-accounts/domain/internal";
import { type FieldsRead, SkippedEvent } from "./lean-lines.js";
import type { PositionedEvent, Projection } from "./projection.js";
import { StringIndex, grownFloat64, grownInt32, grownUint8, hashOf, sortByKey, spread } from "./string-index.js";
import { TimeIndex, isoMs } from "./time-index.js";

const NONE = -1;

/** The access graph's state. Opaque: read it through `accessNow` / `accessAsOf`. */
export class AccessGraphState {
  /** The last position applied (0 before any). */
  applied = 0;

  /** The host's policy: the rulebook's answers depend on it (R4). */
  constructor(readonly policy: Policy = defaultPolicy) {}

  // Accounts, by index. An account gets its index when first named (a link may
  // name it before it registers); `registeredPosition` is NaN until it does.
  readonly accountIds = new StringIndex();
  barcodeOf: (string | undefined)[] = [];
  minor = new Uint8Array(16);
  registeredPosition = new Float64Array(16).fill(NaN);
  closedPosition = new Float64Array(16).fill(NaN);
  closedAt: (string | null)[] = [];
  /** Dates of birth recorded, as [position, date], oldest first (most accounts: none). */
  births: (Array<readonly [number, string]> | undefined)[] = [];
  /** Registered accounts in registration order (the checkpoint's order). */
  registered = new Int32Array(16);
  registeredCount = 0;
  /** Every link an account is a party of, oldest first: a list threaded through the links. */
  firstLink = new Int32Array(16).fill(NONE);
  lastLink = new Int32Array(16).fill(NONE);

  /** Barcode → the account that registered with it (the latest, as a map would keep). */
  readonly barcodes = new StringIndex();
  barcodeAccount = new Int32Array(16);

  // Links, by index (connection order).
  readonly linkIds = new StringIndex();
  phraseId: Id[] = [];
  issuer = new Int32Array(16);
  connected = new Int32Array(16);
  twoWay = new Uint8Array(16);
  connectedEventId: string[] = [];
  connectedPosition = new Float64Array(16);
  connectedAt: string[] = [];
  revokedPosition = new Float64Array(16).fill(NaN);
  revokedAt: (string | null)[] = [];
  /** The next link in the issuer's list and in the connected account's list. */
  nextOfIssuer = new Int32Array(16);
  nextOfConnected = new Int32Array(16);
  /** A link's grants are `grantStart[l]` .. `grantStart[l] + grantCount[l] - 1`. */
  grantStart = new Int32Array(16);
  grantCount = new Uint8Array(16);

  // Grants a link gives by its direction (R2), in force or not, by index.
  grantTotal = 0;
  grantManager = new Int32Array(16);
  grantAccount = new Int32Array(16);
  grantLink = new Int32Array(16);
  /** The pair (`pairs` entry) of a grant, and the next grant of that pair (a list threaded through the grants). */
  grantPair = new Int32Array(16);
  grantNextOfPair = new Int32Array(16);

  // Pairs manager → account some link gives, each with its first grant: an
  // open-addressing table keyed by the two ids' hashes.
  pairCount = 0;
  pairManager = new Int32Array(16);
  pairAccount = new Int32Array(16);
  pairHash = new Int32Array(16);
  pairFirstGrant = new Int32Array(16);
  pairLastGrant = new Int32Array(16);
  pairSlots = new Int32Array(32);
  pairMask = 31;

  readonly time = new TimeIndex();
}

/** An empty graph whose answers follow `policy` (default: the rulebook's defaults). */
export const initialAccessGraph = (policy: Policy = defaultPolicy): AccessGraphState => new AccessGraphState(policy);

// ---------------------------------------------------------------------------
// Building

/** The index of account `id`, made when new. */
const accountIndex = (s: AccessGraphState, id: Id): number => {
  const i = s.accountIds.intern(id);
  if (i >= s.barcodeOf.length) {
    const n = i + 1;
    if (n > s.minor.length) {
      s.minor = grownUint8(s.minor, n);
      s.registeredPosition = grownFloat64(s.registeredPosition, n, NaN);
      s.closedPosition = grownFloat64(s.closedPosition, n, NaN);
      s.registered = grownInt32(s.registered, n);
      const first = grownInt32(s.firstLink, n);
      first.fill(NONE, s.firstLink.length);
      s.firstLink = first;
      const last = grownInt32(s.lastLink, n);
      last.fill(NONE, s.lastLink.length);
      s.lastLink = last;
    }
    s.barcodeOf.push(undefined);
    s.closedAt.push(null);
    s.births.push(undefined);
  }
  return i;
};

const register = (s: AccessGraphState, i: number, barcode: string, minor: boolean, position: number): void => {
  s.barcodeOf[i] = barcode;
  s.minor[i] = minor ? 1 : 0;
  s.registeredPosition[i] = position;
  s.registered[s.registeredCount++] = i;
  if (isWithheld(barcode)) return; // an erased (or unreadable) barcode finds no one
  const b = s.barcodes.intern(canonicalBarcode(barcode)); // R7: found however it is typed
  if (b >= s.barcodeAccount.length) s.barcodeAccount = grownInt32(s.barcodeAccount, b + 1);
  s.barcodeAccount[b] = i;
};

/** The next link after `l` in account `a`'s list. */
const nextLink = (s: AccessGraphState, l: number, a: number): number => (s.issuer[l] === a ? s.nextOfIssuer[l]! : s.nextOfConnected[l]!);

const appendLinkTo = (s: AccessGraphState, a: number, l: number): void => {
  const last = s.lastLink[a]!;
  if (last === NONE) s.firstLink[a] = l;
  else if (s.issuer[last] === a) s.nextOfIssuer[last] = l;
  else s.nextOfConnected[last] = l;
  s.lastLink[a] = l;
};

/** Fills the columns of link `l` (just interned). */
const addLink = (
  s: AccessGraphState,
  l: number,
  phraseId: Id,
  issuer: number,
  connected: number,
  direction: Direction,
  eventId: string,
  position: number,
  at: string,
): void => {
  if (l >= s.issuer.length) {
    const n = l + 1;
    s.issuer = grownInt32(s.issuer, n);
    s.connected = grownInt32(s.connected, n);
    s.twoWay = grownUint8(s.twoWay, n);
    s.connectedPosition = grownFloat64(s.connectedPosition, n);
    s.revokedPosition = grownFloat64(s.revokedPosition, n, NaN);
    s.nextOfIssuer = grownInt32(s.nextOfIssuer, n);
    s.nextOfConnected = grownInt32(s.nextOfConnected, n);
    s.grantStart = grownInt32(s.grantStart, n);
    s.grantCount = grownUint8(s.grantCount, n);
  }
  s.phraseId.push(phraseId);
  s.issuer[l] = issuer;
  s.connected[l] = connected;
  s.twoWay[l] = direction === "two-way" ? 1 : 0;
  s.connectedEventId.push(eventId);
  s.connectedPosition[l] = position;
  s.connectedAt.push(at);
  s.revokedAt.push(null);
  s.nextOfIssuer[l] = NONE;
  s.nextOfConnected[l] = NONE;
  s.grantStart[l] = s.grantTotal;
  s.grantCount[l] = 0;
  appendLinkTo(s, issuer, l);
  if (connected !== issuer) appendLinkTo(s, connected, l);
};

const addGrant = (s: AccessGraphState, l: number, manager: number, account: number): number => {
  const g = s.grantTotal++;
  if (g >= s.grantManager.length) {
    const n = g + 1;
    s.grantManager = grownInt32(s.grantManager, n);
    s.grantAccount = grownInt32(s.grantAccount, n);
    s.grantLink = grownInt32(s.grantLink, n);
    s.grantPair = grownInt32(s.grantPair, n);
    s.grantNextOfPair = grownInt32(s.grantNextOfPair, n);
  }
  s.grantManager[g] = manager;
  s.grantAccount[g] = account;
  s.grantLink[g] = l;
  s.grantCount[l]!++;
  const e = pairOf(s, manager, account);
  s.grantPair[g] = e;
  s.grantNextOfPair[g] = NONE;
  if (s.pairFirstGrant[e] === NONE) s.pairFirstGrant[e] = g;
  else s.grantNextOfPair[s.pairLastGrant[e]!] = g;
  s.pairLastGrant[e] = g;
  return g;
};

const pairHashOf = (managerHash: number, accountHash: number): number => spread(managerHash) ^ Math.imul(accountHash, 0x9e3779b1);

/** The pair entry manager → account, made when new. */
const pairOf = (s: AccessGraphState, m: number, a: number): number => {
  const hashes = s.accountIds.hashes;
  const h = pairHashOf(hashes[m]!, hashes[a]!);
  for (let i = spread(h) & s.pairMask; ; i = (i + 1) & s.pairMask) {
    const k = s.pairSlots[i]!;
    if (k === 0) break;
    if (s.pairManager[k - 1] === m && s.pairAccount[k - 1] === a) return k - 1;
  }
  const e = s.pairCount++;
  if (e >= s.pairManager.length) {
    s.pairManager = grownInt32(s.pairManager, e + 1);
    s.pairAccount = grownInt32(s.pairAccount, e + 1);
    s.pairHash = grownInt32(s.pairHash, e + 1);
    s.pairFirstGrant = grownInt32(s.pairFirstGrant, e + 1);
    s.pairLastGrant = grownInt32(s.pairLastGrant, e + 1);
  }
  s.pairManager[e] = m;
  s.pairAccount[e] = a;
  s.pairHash[e] = h;
  s.pairFirstGrant[e] = NONE;
  s.pairLastGrant[e] = NONE;
  if (2 * s.pairCount > s.pairSlots.length) {
    s.pairSlots = new Int32Array(s.pairSlots.length * 2);
    s.pairMask = s.pairSlots.length - 1;
    for (let x = 0; x < s.pairCount; x++) placePair(s, x);
  } else placePair(s, e);
  return e;
};

const placePair = (s: AccessGraphState, e: number): void => {
  let i = spread(s.pairHash[e]!) & s.pairMask;
  while (s.pairSlots[i] !== 0) i = (i + 1) & s.pairMask;
  s.pairSlots[i] = e + 1;
};

/**
 * What the fold reads of each event type, beyond every event's position and
 * `metadata.occurredAt`: the fields `applyLinking` below takes. A reader may
 * hand the fold events with only these (an export read with
 * `ReadExportOptions.readOnly`); a field the fold comes to read must be added
 * here (the lean-reading tests fold both ways and compare).
 */
export const accessGraphReads = {
  AccountRegistered: { data: ["accountId", "barcode", "minor"] },
  AccountClosed: { data: ["accountId"] },
  DateOfBirthRecorded: { data: ["accountId", "dateOfBirth"] },
  AccountConnected: { data: ["linkId", "phraseId", "issuerAccountId", "connectedAccountId", "direction"], eventId: true },
  LinkRevoked: { data: ["linkId"] },
  AccountErased: { data: ["accountId"] },
} as const satisfies { readonly [K in LinkingEvent["type"]]?: { readonly data: ReadonlyArray<keyof EventOf<K>["data"]>; readonly eventId?: boolean } } & FieldsRead;

/** The fold. Total: an event about something unknown changes nothing (as the domain's evolve). */
export const evolveAccessGraph = (s: AccessGraphState, event: PositionedEvent): AccessGraphState => {
  // An event read for nothing but its position and time (lean-lines.ts): no fact, no string.
  if (event instanceof SkippedEvent) return passTime(s, event.at, event.occurredMs);
  const position = Number(event.position);
  if (isLinkingEvent(event)) applyLinking(s, event, position);
  return passTime(s, position, isoMs(event.metadata.occurredAt));
};

/** The time index (an entry where the running maximum of occurredAt advances), and the position applied. */
const passTime = (s: AccessGraphState, position: number, ms: number): AccessGraphState => {
  if (s.time.count === 0 || ms > s.time.lastM) s.time.push(position, ms, s.applied);
  s.applied = position;
  return s;
};

/**
 * The facts a linking event records. Circulation events record none (loans and
 * holds never change who manages whom); a new linking event is a compile error
 * here until it is handled.
 */
const applyLinking = (s: AccessGraphState, event: LinkingEvent & PositionedEvent, position: number): void => {
  switch (event.type) {
    case "AccountRegistered": {
      const { accountId, barcode, minor } = event.data;
      const i = accountIndex(s, accountId);
      if (s.registeredPosition[i] !== s.registeredPosition[i]) register(s, i, barcode, minor, position);
      break;
    }
    case "AccountClosed": {
      const i = s.accountIds.find(event.data.accountId);
      if (i >= 0 && s.registeredPosition[i] === s.registeredPosition[i] && s.closedPosition[i] !== s.closedPosition[i]) {
        s.closedPosition[i] = position;
        s.closedAt[i] = event.metadata.occurredAt;
      }
      break;
    }
    case "DateOfBirthRecorded": {
      const i = s.accountIds.find(event.data.accountId);
      if (i >= 0 && s.registeredPosition[i] === s.registeredPosition[i]) (s.births[i] ??= []).push([position, event.data.dateOfBirth]);
      break;
    }
    case "AccountConnected": {
      const { linkId, phraseId, issuerAccountId, connectedAccountId, direction } = event.data;
      const known = s.linkIds.size;
      const l = s.linkIds.intern(linkId);
      if (l === known) {
        const issuer = accountIndex(s, issuerAccountId);
        const connected = accountIndex(s, connectedAccountId);
        addLink(s, l, phraseId, issuer, connected, direction, event.metadata.eventId, position, event.metadata.occurredAt);
        // A grant is between the link's two parties: no further lookups.
        const party = (id: Id): number => (id === issuerAccountId ? issuer : id === connectedAccountId ? connected : accountIndex(s, id));
        for (const { manager, account } of grantsOf(event.data)) addGrant(s, l, party(manager), party(account));
      }
      break;
    }
    case "LinkRevoked": {
      const l = s.linkIds.find(event.data.linkId);
      if (l >= 0 && s.revokedPosition[l] !== s.revokedPosition[l]) {
        s.revokedPosition[l] = position;
        s.revokedAt[l] = event.metadata.occurredAt;
      }
      break;
    }
    case "AccountErased": {
      // Who managed whom is unchanged; only the barcode is gone, and it finds no one.
      const i = s.accountIds.find(event.data.accountId);
      const barcode = i >= 0 ? s.barcodeOf[i] : undefined;
      if (barcode !== undefined && !isWithheld(barcode)) {
        const b = s.barcodes.find(canonicalBarcode(barcode));
        if (b >= 0 && s.barcodeAccount[b] === i) {
          s.barcodeAccount[b] = -1;
          // Nor is it kept: the index's entry is emptied (it finds no one, and a snapshot skips it).
          s.barcodes.keys[b] = "";
        }
        s.barcodeOf[i] = ERASED;
      }
      break;
    }
    case "SharePhraseIssued":
    case "SharePhraseRevoked":
    case "ConnectionAttemptFailed":
      break;
    default:
      unhandled(event);
  }
};

/** The compiler names here any event type the fold above does not list. */
const unhandled = (event: never): never => {
  throw new TypeError(`access graph: no case for event ${(event as { type: string }).type}`);
};

// ---------------------------------------------------------------------------
// Reading

/** The event behind a grant: the link and the `AccountConnected` that made it (R2). */
export interface GrantSource {
  readonly linkId: Id;
  readonly direction: Direction;
  readonly phraseId: Id;
  readonly connectedEventId: string;
  readonly connectedPosition: bigint;
  readonly connectedAt: string;
  /** The position from which the facts that keep this link's grant in force have held. */
  readonly since: bigint;
}

export interface Grant {
  readonly manager: Id;
  readonly account: Id;
  /** Sorted. */
  readonly linkIds: ReadonlyArray<Id>;
}

/** Why `manager` may not manage `account` (each that applies, most telling first). */
export type Refusal =
  | { readonly code: "unknown-account"; readonly accountId: Id }
  | { readonly code: "account-closed"; readonly accountId: Id; readonly position: bigint; readonly closedAt: string | null }
  | { readonly code: "manager-is-minor"; readonly accountId: Id }
  | { readonly code: "no-link" }
  | { readonly code: "link-revoked"; readonly linkId: Id; readonly position: bigint; readonly revokedAt: string | null }
  | { readonly code: "link-gives-other-direction"; readonly linkId: Id; readonly direction: Direction };

export type Explanation =
  | { readonly granted: true; readonly manager: Id; readonly account: Id; readonly self: true; readonly sources: readonly [] }
  | { readonly granted: true; readonly manager: Id; readonly account: Id; readonly self: false; readonly sources: ReadonlyArray<GrantSource> }
  | { readonly granted: false; readonly manager: Id; readonly account: Id; readonly refusals: ReadonlyArray<Refusal> };

export interface AccountInfo {
  readonly accountId: Id;
  readonly barcode: string;
  readonly minor: boolean;
  readonly closed: boolean;
}

/** The questions the access graph answers, now or as of a past position. */
export interface AccessView {
  /** The last position this view includes. */
  readonly position: bigint;
  /** R1: the same registered, open account, or a grant in force (R2, R3, R4, R12). */
  canManage(manager: Id, account: Id): boolean;
  /** The accounts `manager` manages (not itself), sorted. */
  managedBy(manager: Id): ReadonlyArray<Id>;
  /** The managers of `account` (not itself), sorted. */
  managersOf(account: Id): ReadonlyArray<Id>;
  /** The links through which `manager` manages `account`, sorted; empty when none (or self). */
  linksOf(manager: Id, account: Id): ReadonlyArray<Id>;
  explain(manager: Id, account: Id): Explanation;
  /** Every grant in force, sorted by manager then account. */
  grants(): ReadonlyArray<Grant>;
  /** An account by id or by barcode, as registered by then. */
  account(idOrBarcode: string): AccountInfo | undefined;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (ids: Iterable<Id>): Id[] => [...new Set(ids)].sort(byString);

/** The index of a registered account by then, or -1. */
const accountAt = (s: AccessGraphState, id: Id, p: number): number => {
  const i = s.accountIds.find(id);
  return i >= 0 && s.registeredPosition[i]! <= p ? i : -1;
};
const closedBy = (s: AccessGraphState, i: number, p: number): boolean => s.closedPosition[i]! <= p;
const nullable = (x: number): number | null => (x === x ? x : null);
const directionOf = (s: AccessGraphState, l: number): Direction => (s.twoWay[l] === 1 ? "two-way" : "one-way");

/** The date of birth last recorded for account `i` by position p, or null. */
const birthAt = (s: AccessGraphState, i: number, p: number): string | null => {
  const births = s.births[i];
  if (births === undefined) return null;
  let date: string | null = null;
  for (const [q, d] of births) if (q <= p) date = d;
  return date;
};

/** The facts of account `i` as of position p: what the domain's rulebook decides on. */
const factsAt = (s: AccessGraphState, i: number, p: number): AccountFacts => ({
  accountId: s.accountIds.keys[i]!,
  registered: s.registeredPosition[i]! <= p,
  closed: s.closedPosition[i]! <= p,
  minor: s.minor[i] === 1,
  dateOfBirth: birthAt(s, i, p),
});

/** The facts of link `l` as of position p (it was connected by then). */
const linkAt = (s: AccessGraphState, l: number, p: number): LinkFacts => ({
  issuerAccountId: s.accountIds.keys[s.issuer[l]!]!,
  connectedAccountId: s.accountIds.keys[s.connected[l]!]!,
  direction: directionOf(s, l),
  revoked: s.revokedPosition[l]! <= p,
});

/**
 * R1, R2, R3, R4, R12: is grant `g` in force as of position p, at time t (ms)?
 * The domain's `grantInForce` answers, from the facts as of p.
 */
const inForceAt = (s: AccessGraphState, g: number, p: number, t: number, factsOf?: (i: number) => AccountFacts): boolean => {
  const l = s.grantLink[g]!;
  if (!(s.connectedPosition[l]! <= p)) return false;
  const m = s.grantManager[g]!;
  const a = s.grantAccount[g]!;
  // Without a memo, each account's facts as of p (no closure made per call: this runs in loops over grants).
  const manager = factsOf === undefined ? factsAt(s, m, p) : factsOf(m);
  const account = factsOf === undefined ? factsAt(s, a, p) : factsOf(a);
  return grantInForce(s.policy, manager, account, linkAt(s, l, p), t);
};

/**
 * The position from which the facts that keep grant `g` in force at (p, t)
 * have held: walking back over the positions where one of its facts changed (the
 * link's connection, either account's registration or recorded date of birth),
 * the earliest from which every such change still gives the grant at t. (Under a
 * rule that depends on time, such as an age, the grant may have come into force
 * later than that, when the time came.)
 */
const sinceOf = (s: AccessGraphState, g: number, p: number, t: number): number => {
  const l = s.grantLink[g]!;
  const changes = [s.connectedPosition[l]!];
  for (const i of [s.grantManager[g]!, s.grantAccount[g]!]) {
    changes.push(s.registeredPosition[i]!);
    for (const [q] of s.births[i] ?? []) changes.push(q);
  }
  const candidates = [...new Set(changes.filter((q) => q <= p))].sort((x, y) => y - x);
  let since = candidates[0] ?? s.connectedPosition[l]!;
  for (const q of candidates) {
    if (!inForceAt(s, g, q, t)) break;
    since = q;
  }
  return since;
};

/** The grants of `manager`'s links giving manager → account, oldest link first. */
const grantsBetween = (s: AccessGraphState, manager: Id, account: Id): number[] => {
  const out: number[] = [];
  const m = s.accountIds.find(manager);
  const a = s.accountIds.find(account);
  if (m < 0 || a < 0) return out;
  for (let l = s.firstLink[m]!; l !== NONE; l = nextLink(s, l, m)) {
    const end = s.grantStart[l]! + s.grantCount[l]!;
    for (let g = s.grantStart[l]!; g < end; g++) if (s.grantManager[g] === m && s.grantAccount[g] === a) out.push(g);
  }
  return out;
};

const sourceOf = (s: AccessGraphState, g: number, p: number, t: number): GrantSource => {
  const l = s.grantLink[g]!;
  return {
    linkId: s.linkIds.keys[l]!,
    direction: directionOf(s, l),
    phraseId: s.phraseId[l]!,
    connectedEventId: s.connectedEventId[l]!,
    connectedPosition: BigInt(s.connectedPosition[l]!),
    connectedAt: s.connectedAt[l]!,
    since: BigInt(sinceOf(s, g, p, t)),
  };
};

const explainAt = (s: AccessGraphState, manager: Id, account: Id, p: number, t: number): Explanation => {
  const m = accountAt(s, manager, p);
  const a = accountAt(s, account, p);
  if (manager === account && a >= 0 && managesItself(factsAt(s, a, p))) return { granted: true, manager, account, self: true, sources: [] };
  const open = manager === account ? [] : grantsBetween(s, manager, account).filter((g) => inForceAt(s, g, p, t));
  if (open.length > 0)
    return {
      granted: true,
      manager,
      account,
      self: false,
      sources: open.map((g) => sourceOf(s, g, p, t)).sort((x, y) => byString(x.linkId, y.linkId)),
    };
  const refusals: Refusal[] = [];
  for (const [id, row] of [[manager, m], [account, a]] as const) {
    if (row < 0) refusals.push({ code: "unknown-account", accountId: id });
    else if (closedBy(s, row, p))
      refusals.push({ code: "account-closed", accountId: id, position: BigInt(s.closedPosition[row]!), closedAt: s.closedAt[row]! });
    if (manager === account) break;
  }
  // R4, as the domain judges it now: a minor (under a policy with an age, one not yet that age).
  if (m >= 0 && manager !== account && !mayManage(s.policy, factsAt(s, m, p), t)) refusals.push({ code: "manager-is-minor", accountId: manager });
  if (manager !== account) {
    const mi = s.accountIds.find(manager);
    const links: number[] = [];
    if (mi >= 0)
      for (let l = s.firstLink[mi]!; l !== NONE; l = nextLink(s, l, mi)) {
        if (s.connectedPosition[l]! <= p && (s.accountIds.keys[s.issuer[l]!] === account || s.accountIds.keys[s.connected[l]!] === account)) links.push(l);
      }
    const gives = (l: number): boolean => {
      const end = s.grantStart[l]! + s.grantCount[l]!;
      for (let g = s.grantStart[l]!; g < end; g++) if (s.accountIds.keys[s.grantManager[g]!] === manager && s.accountIds.keys[s.grantAccount[g]!] === account) return true;
      return false;
    };
    const giving = links.filter(gives);
    for (const l of giving)
      if (s.revokedPosition[l]! <= p)
        refusals.push({ code: "link-revoked", linkId: s.linkIds.keys[l]!, position: BigInt(s.revokedPosition[l]!), revokedAt: s.revokedAt[l]! });
    for (const l of links) if (!giving.includes(l)) refusals.push({ code: "link-gives-other-direction", linkId: s.linkIds.keys[l]!, direction: directionOf(s, l) });
    if (links.length === 0) refusals.push({ code: "no-link" });
  }
  return { granted: false, manager, account, refusals };
};

const accountInfo = (s: AccessGraphState, i: number, p: number): AccountInfo => ({
  accountId: s.accountIds.keys[i]!,
  barcode: s.barcodeOf[i]!,
  minor: s.minor[i] === 1,
  closed: closedBy(s, i, p),
});

const findAccount = (s: AccessGraphState, idOrBarcode: string, p: number): AccountInfo | undefined => {
  const byId = accountAt(s, idOrBarcode, p);
  if (byId >= 0) return accountInfo(s, byId, p);
  const b = s.barcodes.find(canonicalBarcode(idOrBarcode));
  if (b < 0) return undefined;
  const i = s.barcodeAccount[b]!;
  return i >= 0 && s.registeredPosition[i]! <= p ? accountInfo(s, i, p) : undefined;
};

/** The accounts `id` manages (side "manager") or its managers (side "account") at (p, t), sorted. */
const counterparts = (s: AccessGraphState, id: Id, side: "manager" | "account", p: number, t: number): Id[] => {
  const i = s.accountIds.find(id);
  const out: Id[] = [];
  if (i < 0) return out;
  const mine = side === "manager" ? s.grantManager : s.grantAccount;
  const theirs = side === "manager" ? s.grantAccount : s.grantManager;
  for (let l = s.firstLink[i]!; l !== NONE; l = nextLink(s, l, i)) {
    const end = s.grantStart[l]! + s.grantCount[l]!;
    for (let g = s.grantStart[l]!; g < end; g++) if (mine[g] === i && inForceAt(s, g, p, t)) out.push(s.accountIds.keys[theirs[g]!]!);
  }
  return sorted(out);
};

/** The number of links connected by p (links are interned in connection order). */
const linksBy = (s: AccessGraphState, p: number): number => {
  let lo = 0;
  let hi = s.linkIds.size - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (s.connectedPosition[mid]! <= p) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found + 1;
};

/** Grants in force at (p, t), from the links connected by p, sorted by manager then account. */
const grantsAt = (s: AccessGraphState, p: number, t: number): Grant[] => {
  const links = linksBy(s, p);
  const { pairFirstGrant, grantNextOfPair, grantLink, pairManager, pairAccount } = s;
  const accounts = s.accountIds.keys;
  const linkIds = s.linkIds.keys;
  // Each account's facts as of p, made once however many grants it is in.
  const facts: (AccountFacts | undefined)[] = [];
  const factsOf = (i: number): AccountFacts => (facts[i] ??= factsAt(s, i, p));
  // Pair by pair (each pair's grants threaded together): no map from pair to row.
  const pairs: number[] = [];
  const pairLinks: (Id | Id[])[] = [];
  for (let e = 0; e < s.pairCount; e++) {
    let first: Id | undefined;
    let more: Id[] | undefined;
    for (let g = pairFirstGrant[e]!; g !== NONE; g = grantNextOfPair[g]!) {
      if (grantLink[g]! >= links || !inForceAt(s, g, p, t, factsOf)) continue;
      const linkId = linkIds[grantLink[g]!]!;
      if (first === undefined) first = linkId;
      else (more ??= [first]).push(linkId);
    }
    if (first !== undefined) {
      pairs.push(e);
      pairLinks.push(more === undefined ? first : sorted(more));
    }
  }
  // Sorted by manager then account: the accounts in them ranked once by id, then the rows by
  // rank, account first then manager, each a stable counting sort (no comparison of strings).
  const n = pairs.length;
  const named = new Uint8Array(accounts.length);
  let distinct = 0;
  const name = (i: number): void => {
    if (named[i] === 0) {
      named[i] = 1;
      distinct++;
    }
  };
  for (const e of pairs) {
    name(pairManager[e]!);
    name(pairAccount[e]!);
  }
  const byId = new Int32Array(distinct);
  for (let i = 0, k = 0; i < accounts.length; i++) if (named[i] === 1) byId[k++] = i;
  sortByKey(accounts, byId);
  const rank = new Int32Array(accounts.length);
  for (let r = 0; r < distinct; r++) rank[byId[r]!] = r;
  const rows = new Int32Array(n);
  for (let r = 0; r < n; r++) rows[r] = r;
  const managerRank = new Int32Array(n);
  const accountRank = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    managerRank[r] = rank[pairManager[pairs[r]!]!]!;
    accountRank[r] = rank[pairAccount[pairs[r]!]!]!;
  }
  const order = stablyBy(managerRank, stablyBy(accountRank, rows, distinct), distinct);
  const out: Grant[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const r = order[k]!;
    const e = pairs[r]!;
    const linkIds = pairLinks[r]!;
    out[k] = { manager: accounts[pairManager[e]!]!, account: accounts[pairAccount[e]!]!, linkIds: typeof linkIds === "string" ? [linkIds] : linkIds };
  }
  return out;
};

/** `rows` in order of `key[row]` (each from 0 to `range` - 1), rows of equal key as they came: a counting sort. */
const stablyBy = (key: Int32Array, rows: Int32Array, range: number): Int32Array => {
  const starts = new Int32Array(range + 1);
  for (let k = 0; k < rows.length; k++) starts[key[rows[k]!]! + 1]!++;
  for (let v = 0; v < range; v++) starts[v + 1]! += starts[v]!;
  const out = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[starts[key[rows[k]!]!]!++] = rows[k]!;
  return out;
};

/** R1 at (p, t): the same registered, open account, or a grant of the pair in force (one hash probe, then its few links). */
const canManageAt = (s: AccessGraphState, manager: Id, account: Id, p: number, t: number): boolean => {
  if (manager === account) {
    const i = accountAt(s, account, p);
    return i >= 0 && managesItself(factsAt(s, i, p));
  }
  const h = pairHashOf(hashOf(manager), hashOf(account));
  const { pairSlots, pairMask, pairHash, pairManager, pairAccount } = s;
  const keys = s.accountIds.keys;
  for (let i = spread(h) & pairMask; ; i = (i + 1) & pairMask) {
    const k = pairSlots[i]!;
    if (k === 0) return false;
    const e = k - 1;
    if (pairHash[e] === h && keys[pairManager[e]!] === manager && keys[pairAccount[e]!] === account) {
      for (let g = s.pairFirstGrant[e]!; g !== NONE; g = s.grantNextOfPair[g]!) if (inForceAt(s, g, p, t)) return true;
      return false;
    }
  }
};

/** The questions as of position `p`, with the rulebook's clock at `t` (ms). */
const viewAt = (s: AccessGraphState, p: number, t: number): AccessView => ({
  position: BigInt(p),
  canManage: (manager, account) => canManageAt(s, manager, account, p, t),
  managedBy: (manager) => counterparts(s, manager, "manager", p, t),
  managersOf: (account) => counterparts(s, account, "account", p, t),
  linksOf: (manager, account) =>
    manager === account ? [] : sorted(grantsBetween(s, manager, account).filter((g) => inForceAt(s, g, p, t)).map((g) => s.linkIds.keys[s.grantLink[g]!]!)),
  explain: (manager, account) => explainAt(s, manager, account, p, t),
  grants: () => grantsAt(s, p, t),
  account: (idOrBarcode) => findAccount(s, idOrBarcode, p),
});

const msOf = (isoTime: string): number => {
  const ms = Date.parse(isoTime);
  if (Number.isNaN(ms)) throw new RangeError(`Not a time: ${JSON.stringify(isoTime)}`);
  return ms;
};

/**
 * The access graph as of the last position it applied, with the rulebook's
 * clock at `at` (default: the clock now, as the command side decides with its
 * own now). Under the default policy time plays no part.
 */
export const accessNow = (s: AccessGraphState, at?: string): AccessView => viewAt(s, s.applied, at === undefined ? Date.now() : msOf(at));

/**
 * The position "as of time T" stands for: the last applied position before the
 * first event that occurred after T (by the running maximum of `occurredAt`, so a
 * clock that stepped back does not make the answer jump). 0n when nothing
 * occurred by then.
 */
export const positionAtTime = (s: AccessGraphState, isoTime: string): bigint => {
  const ms = msOf(isoTime);
  // Outside years 0..9999 toISOString writes a sign first, which sorts before every
  // event time (as the string comparison this replaces did).
  const t = new Date(ms).toISOString().charCodeAt(0) < 48 ? -Infinity : ms;
  return BigInt(s.time.positionBefore(t, s.applied));
};

/**
 * The access graph as it was after the event at `position` (or the last before
 * it), with the rulebook's clock at `at` (default: when that event occurred, by
 * the running maximum of `occurredAt`).
 */
export const accessAsOf = (s: AccessGraphState, position: bigint, at?: string): AccessView => {
  const p = Number(position > BigInt(s.applied) ? BigInt(s.applied) : position);
  return viewAt(s, p, at === undefined ? s.time.timeAt(p) : msOf(at));
};

/** As of a position (`123`) or an ISO time (`2026-03-03T09:15:00.000Z`). */
export type AsOf = { readonly position: bigint } | { readonly time: string };

/** Now, as of a position (its event's time), or as of a time T (the position T stands for, and T). */
export const accessAt = (s: AccessGraphState, asOf?: AsOf): AccessView =>
  asOf === undefined
    ? accessNow(s)
    : "position" in asOf
      ? accessAsOf(s, asOf.position)
      : accessAsOf(s, positionAtTime(s, asOf.time), asOf.time);

// ---------------------------------------------------------------------------
// Checkpoints. Version 2 keeps facts only (dates of birth among them); a
// version-1 checkpoint is read too: its facts are complete (no date of birth
// was recorded before version 2), and its grant intervals are not needed.

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);
const Snapshot = t.type({
  version: t.union([t.literal(1), t.literal(2)]),
  applied: t.number,
  accounts: t.array(
    t.intersection([
      t.type({
        accountId: t.string,
        barcode: t.string,
        minor: t.boolean,
        registeredPosition: t.number,
        closedPosition: Nullable(t.number),
        closedAt: Nullable(t.string),
      }),
      t.partial({ births: t.array(t.tuple([t.number, t.string])) }),
    ]),
  ),
  links: t.array(
    t.type({
      linkId: t.string,
      phraseId: t.string,
      issuerAccountId: t.string,
      connectedAccountId: t.string,
      direction: t.keyof({ "one-way": null, "two-way": null }),
      connectedEventId: t.string,
      connectedPosition: t.number,
      connectedAt: t.string,
      revokedPosition: Nullable(t.number),
      revokedAt: Nullable(t.string),
    }),
  ),
  barcodes: t.array(t.tuple([t.string, t.string])),
  time: t.tuple([t.array(t.number), t.array(t.string), t.array(t.number)]),
});
type Snapshot = t.TypeOf<typeof Snapshot>;

export const serialiseAccessGraph = (s: AccessGraphState): Snapshot => {
  const ids = s.accountIds.keys;
  const accounts: Snapshot["accounts"] = [];
  for (let r = 0; r < s.registeredCount; r++) {
    const i = s.registered[r]!;
    accounts.push({
      accountId: ids[i]!,
      barcode: s.barcodeOf[i]!,
      minor: s.minor[i] === 1,
      registeredPosition: s.registeredPosition[i]!,
      closedPosition: nullable(s.closedPosition[i]!),
      closedAt: s.closedAt[i]!,
      births: (s.births[i] ?? []).map(([q, d]): [number, string] => [q, d]),
    });
  }
  const links: Snapshot["links"] = [];
  for (let l = 0; l < s.linkIds.size; l++) {
    links.push({
      linkId: s.linkIds.keys[l]!,
      phraseId: s.phraseId[l]!,
      issuerAccountId: ids[s.issuer[l]!]!,
      connectedAccountId: ids[s.connected[l]!]!,
      direction: directionOf(s, l),
      connectedEventId: s.connectedEventId[l]!,
      connectedPosition: s.connectedPosition[l]!,
      connectedAt: s.connectedAt[l]!,
      revokedPosition: nullable(s.revokedPosition[l]!),
      revokedAt: s.revokedAt[l]!,
    });
  }
  const barcodes: [string, string][] = [];
  // An erased account's barcode finds no one (-1): it is not written.
  for (let b = 0; b < s.barcodes.size; b++) if (s.barcodeAccount[b]! >= 0) barcodes.push([s.barcodes.keys[b]!, ids[s.barcodeAccount[b]!]!]);
  const time = s.time.entries();
  return {
    version: 2,
    applied: s.applied,
    accounts,
    links,
    barcodes,
    time: [time.positions, time.maxima.map((ms) => new Date(ms).toISOString()), time.previous],
  };
};

const orNaN = (x: number | null): number => (x === null ? NaN : x);

export const deserialiseAccessGraph = (json: unknown, policy: Policy = defaultPolicy): E.Either<DecodeError, AccessGraphState> =>
  pipe(
    decodeWith(Snapshot, "accessGraph")(json),
    E.map((snap: Snapshot) => {
      const s = initialAccessGraph(policy);
      s.applied = snap.applied;
      for (const a of snap.accounts) {
        const i = accountIndex(s, a.accountId);
        s.barcodeOf[i] = a.barcode;
        s.minor[i] = a.minor ? 1 : 0;
        s.registeredPosition[i] = a.registeredPosition;
        s.closedPosition[i] = orNaN(a.closedPosition);
        s.closedAt[i] = a.closedAt;
        if (a.births !== undefined && a.births.length > 0) s.births[i] = a.births.map(([q, d]) => [q, d] as const);
        s.registered[s.registeredCount++] = i;
      }
      for (const [barcode, id] of snap.barcodes) {
        const b = s.barcodes.intern(canonicalBarcode(barcode)); // a snapshot from before R7's canonical form
        if (b >= s.barcodeAccount.length) s.barcodeAccount = grownInt32(s.barcodeAccount, b + 1);
        s.barcodeAccount[b] = accountIndex(s, id);
      }
      for (const l of snap.links) {
        const issuer = accountIndex(s, l.issuerAccountId);
        const connected = accountIndex(s, l.connectedAccountId);
        const li = s.linkIds.intern(l.linkId);
        addLink(s, li, l.phraseId, issuer, connected, l.direction, l.connectedEventId, l.connectedPosition, l.connectedAt);
        s.revokedPosition[li] = orNaN(l.revokedPosition);
        s.revokedAt[li] = l.revokedAt;
        // The grants its direction gives (R2), as the fold made them.
        for (const { manager, account } of grantsOf(l)) addGrant(s, li, manager === l.issuerAccountId ? issuer : connected, account === l.issuerAccountId ? issuer : connected);
      }
      const [positions, maxima, previous] = snap.time;
      for (let k = 0; k < positions.length; k++) s.time.push(positions[k]!, isoMs(maxima[k]!), previous[k]!);
      return s;
    }),
  );

/** The access graph whose answers follow `policy`: the host passes the policy its commands are decided under. */
export const accessGraphProjectionUnder = (policy: Policy): Projection<AccessGraphState> => ({
  name: "access-graph",
  initial: () => initialAccessGraph(policy),
  evolve: evolveAccessGraph,
  positionOf: (s) => BigInt(s.applied),
  serialise: serialiseAccessGraph,
  deserialise: (json) => deserialiseAccessGraph(json, policy),
  // From a sealing store, only registrations are opened (for the barcode): no key lookup or decipherment for the rest.
  reads: accessGraphReads,
});

/** The access graph under the default policy. */
export const accessGraphProjection: Projection<AccessGraphState> = accessGraphProjectionUnder(defaultPolicy);
