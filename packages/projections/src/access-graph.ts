/**
 * The access graph: who can manage whom (DOMAIN.md "What the read side answers").
 *
 * Now: `canManage` is one probe of a hash table of the grants in force. As of a
 * past position or time: every link keeps, per grant it gives, the one interval
 * [from, to) of positions during which that grant was in force. An interval
 * opens when the link exists, both accounts are registered and open and the
 * manager is not a minor, and closes when the link is revoked or either account
 * closes. None of those conditions can come back (revoking and closing are for
 * good, R11 R12; minority is fixed at registration), so one interval per grant
 * per link is enough, and an as-of question scans intervals, never events.
 *
 * Layout, for memory and speed: account ids, link ids and barcodes are interned
 * to small integers (`StringIndex`), and accounts, links and grant intervals are
 * columns of typed arrays indexed by them. Positions are numbers; NaN stands for
 * "never" (not registered, not closed, not yet in force, not ended), so every
 * `x <= p` test is false for it, as the null it replaces was.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { type DecodeError, type Direction, type Id, canonicalBarcode, decodeWith, grantsOf } from "@linked-accounts/domain/internal";
import type { PositionedEvent, Projection } from "./projection.js";
import { StringIndex, grownFloat64, grownInt32, grownUint8, hashOf, spread } from "./string-index.js";
import { TimeIndex, isoMs } from "./time-index.js";

const NONE = -1;

/** The access graph's state. Opaque: read it through `accessNow` / `accessAsOf`. */
export class AccessGraphState {
  /** The last position applied (0 before any). */
  applied = 0;

  // Accounts, by index. An account gets its index when first named (a link may
  // name it before it registers); `registeredPosition` is NaN until it does.
  readonly accountIds = new StringIndex();
  barcodeOf: (string | undefined)[] = [];
  minor = new Uint8Array(16);
  registeredPosition = new Float64Array(16).fill(NaN);
  closedPosition = new Float64Array(16).fill(NaN);
  closedAt: (string | null)[] = [];
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

  // Grants (one interval each), by index.
  grantTotal = 0;
  grantManager = new Int32Array(16);
  grantAccount = new Int32Array(16);
  grantLink = new Int32Array(16);
  grantFrom = new Float64Array(16).fill(NaN);
  grantTo = new Float64Array(16).fill(NaN);
  /** The pair (`pairs` entry) of an opened grant. */
  grantPair = new Int32Array(16);
  /** Every interval that ever opened, in the order it opened (so by `from`). */
  opened = new Int32Array(16);
  openedCount = 0;

  // Pairs manager → account that were ever in force, with how many intervals are
  // in force now: an open-addressing table keyed by the two ids' hashes.
  pairCount = 0;
  pairManager = new Int32Array(16);
  pairAccount = new Int32Array(16);
  pairHash = new Int32Array(16);
  pairInForce = new Int32Array(16);
  pairSlots = new Int32Array(32);
  pairMask = 31;

  readonly time = new TimeIndex();
}

export const initialAccessGraph = (): AccessGraphState => new AccessGraphState();

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
  }
  return i;
};

const register = (s: AccessGraphState, i: number, barcode: string, minor: boolean, position: number): void => {
  s.barcodeOf[i] = barcode;
  s.minor[i] = minor ? 1 : 0;
  s.registeredPosition[i] = position;
  s.registered[s.registeredCount++] = i;
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
    s.grantFrom = grownFloat64(s.grantFrom, n, NaN);
    s.grantTo = grownFloat64(s.grantTo, n, NaN);
    s.grantPair = grownInt32(s.grantPair, n);
  }
  s.grantManager[g] = manager;
  s.grantAccount[g] = account;
  s.grantLink[g] = l;
  s.grantCount[l]!++;
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
    s.pairInForce = grownInt32(s.pairInForce, e + 1);
  }
  s.pairManager[e] = m;
  s.pairAccount[e] = a;
  s.pairHash[e] = h;
  s.pairInForce[e] = 0;
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

/** R1, R2, R3, R4, R12: is grant `g` in force in the state as it is now? */
const inForce = (s: AccessGraphState, g: number): boolean => {
  const l = s.grantLink[g]!;
  const m = s.grantManager[g]!;
  const a = s.grantAccount[g]!;
  if (s.revokedPosition[l] === s.revokedPosition[l] || m === a) return false; // revoked (not NaN), or self
  // Registered (not NaN) and open (NaN), and the manager is not a minor.
  return (
    s.registeredPosition[m] === s.registeredPosition[m] &&
    s.registeredPosition[a] === s.registeredPosition[a] &&
    s.closedPosition[m] !== s.closedPosition[m] &&
    s.closedPosition[a] !== s.closedPosition[a] &&
    s.minor[m] === 0
  );
};

const open = (s: AccessGraphState, g: number, position: number): void => {
  s.grantFrom[g] = position;
  if (s.openedCount >= s.opened.length) s.opened = grownInt32(s.opened, s.openedCount + 1);
  s.opened[s.openedCount++] = g;
  const e = pairOf(s, s.grantManager[g]!, s.grantAccount[g]!);
  s.grantPair[g] = e;
  s.pairInForce[e]!++;
};

const close = (s: AccessGraphState, g: number, position: number): void => {
  s.grantTo[g] = position;
  s.pairInForce[s.grantPair[g]!]!--;
};

/** Opens or closes the intervals of a link after something it depends on changed. */
const reconsider = (s: AccessGraphState, l: number, position: number): void => {
  const end = s.grantStart[l]! + s.grantCount[l]!;
  for (let g = s.grantStart[l]!; g < end; g++) {
    if (s.grantTo[g] === s.grantTo[g]) continue; // ended for good
    const now = inForce(s, g);
    const isOpen = s.grantFrom[g] === s.grantFrom[g];
    if (now && !isOpen) open(s, g, position);
    else if (!now && isOpen) close(s, g, position);
  }
};

const reconsiderAccount = (s: AccessGraphState, a: number, position: number): void => {
  for (let l = s.firstLink[a]!; l !== NONE; l = nextLink(s, l, a)) reconsider(s, l, position);
};

/** The fold. Total: an event about something unknown changes nothing (as the domain's evolve). */
export const evolveAccessGraph = (s: AccessGraphState, event: PositionedEvent): AccessGraphState => {
  const position = Number(event.position);
  switch (event.type) {
    case "AccountRegistered": {
      const { accountId, barcode, minor } = event.data;
      const i = accountIndex(s, accountId);
      if (s.registeredPosition[i] !== s.registeredPosition[i]) {
        register(s, i, barcode, minor, position);
        reconsiderAccount(s, i, position);
      }
      break;
    }
    case "AccountClosed": {
      const i = s.accountIds.find(event.data.accountId);
      if (i >= 0 && s.registeredPosition[i] === s.registeredPosition[i] && s.closedPosition[i] !== s.closedPosition[i]) {
        s.closedPosition[i] = position;
        s.closedAt[i] = event.metadata.occurredAt;
        reconsiderAccount(s, i, position);
      }
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
        reconsider(s, l, position);
      }
      break;
    }
    case "LinkRevoked": {
      const l = s.linkIds.find(event.data.linkId);
      if (l >= 0 && s.revokedPosition[l] !== s.revokedPosition[l]) {
        s.revokedPosition[l] = position;
        s.revokedAt[l] = event.metadata.occurredAt;
        reconsider(s, l, position);
      }
      break;
    }
    default:
      break;
  }
  // The time index: an entry where the running maximum of occurredAt advances.
  const ms = isoMs(event.metadata.occurredAt);
  if (s.time.count === 0 || ms > s.time.lastM) s.time.push(position, ms, s.applied);
  s.applied = position;
  return s;
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
  /** The position from which this link's grant was in force. */
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

const isOpenAt = (s: AccessGraphState, g: number, p: number): boolean => s.grantFrom[g]! <= p && !(s.grantTo[g]! <= p);

/** The index of a registered account by then, or -1. */
const accountAt = (s: AccessGraphState, id: Id, p: number): number => {
  const i = s.accountIds.find(id);
  return i >= 0 && s.registeredPosition[i]! <= p ? i : -1;
};
const closedBy = (s: AccessGraphState, i: number, p: number): boolean => s.closedPosition[i]! <= p;
const nullable = (x: number): number | null => (x === x ? x : null);
const directionOf = (s: AccessGraphState, l: number): Direction => (s.twoWay[l] === 1 ? "two-way" : "one-way");

/** The grants of `manager`'s links giving manager → account, oldest link first. */
const intervalsBetween = (s: AccessGraphState, manager: Id, account: Id): number[] => {
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

const sourceOf = (s: AccessGraphState, g: number): GrantSource => {
  const l = s.grantLink[g]!;
  const from = s.grantFrom[g]!;
  return {
    linkId: s.linkIds.keys[l]!,
    direction: directionOf(s, l),
    phraseId: s.phraseId[l]!,
    connectedEventId: s.connectedEventId[l]!,
    connectedPosition: BigInt(s.connectedPosition[l]!),
    connectedAt: s.connectedAt[l]!,
    since: BigInt(from === from ? from : s.connectedPosition[l]!),
  };
};

const explainAt = (s: AccessGraphState, manager: Id, account: Id, p: number): Explanation => {
  const m = accountAt(s, manager, p);
  const a = accountAt(s, account, p);
  if (manager === account && a >= 0 && !closedBy(s, a, p)) return { granted: true, manager, account, self: true, sources: [] };
  const open = intervalsBetween(s, manager, account).filter((g) => isOpenAt(s, g, p));
  if (manager !== account && open.length > 0)
    return {
      granted: true,
      manager,
      account,
      self: false,
      sources: open.map((g) => sourceOf(s, g)).sort((x, y) => byString(x.linkId, y.linkId)),
    };
  const refusals: Refusal[] = [];
  for (const [id, row] of [[manager, m], [account, a]] as const) {
    if (row < 0) refusals.push({ code: "unknown-account", accountId: id });
    else if (closedBy(s, row, p))
      refusals.push({ code: "account-closed", accountId: id, position: BigInt(s.closedPosition[row]!), closedAt: s.closedAt[row]! });
    if (manager === account) break;
  }
  if (m >= 0 && s.minor[m] === 1 && manager !== account) refusals.push({ code: "manager-is-minor", accountId: manager });
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
  return s.registeredPosition[i]! <= p ? accountInfo(s, i, p) : undefined;
};

/** The accounts `id` manages (side "manager") or its managers (side "account") at p, sorted. */
const counterparts = (s: AccessGraphState, id: Id, side: "manager" | "account", p: number): Id[] => {
  const i = s.accountIds.find(id);
  const out: Id[] = [];
  if (i < 0) return out;
  const mine = side === "manager" ? s.grantManager : s.grantAccount;
  const theirs = side === "manager" ? s.grantAccount : s.grantManager;
  for (let l = s.firstLink[i]!; l !== NONE; l = nextLink(s, l, i)) {
    const end = s.grantStart[l]! + s.grantCount[l]!;
    for (let g = s.grantStart[l]!; g < end; g++) if (mine[g] === i && isOpenAt(s, g, p)) out.push(s.accountIds.keys[theirs[g]!]!);
  }
  return sorted(out);
};

/** Grants in force at p, from the intervals opened by then, sorted by manager then account. */
const grantsAt = (s: AccessGraphState, p: number): Grant[] => {
  const last = lastOpenedBy(s, p);
  const rows = new Map<number, { manager: Id; account: Id; links: Id[] }>();
  for (let i = 0; i <= last; i++) {
    const g = s.opened[i]!;
    if (!isOpenAt(s, g, p)) continue;
    const e = s.grantPair[g]!;
    const row = rows.get(e);
    const linkId = s.linkIds.keys[s.grantLink[g]!]!;
    if (row === undefined) rows.set(e, { manager: s.accountIds.keys[s.grantManager[g]!]!, account: s.accountIds.keys[s.grantAccount[g]!]!, links: [linkId] });
    else row.links.push(linkId);
  }
  return [...rows.values()]
    .map((r) => ({ manager: r.manager, account: r.account, linkIds: sorted(r.links) }))
    .sort((x, y) => byString(x.manager, y.manager) || byString(x.account, y.account));
};

/** The last index into `opened` of an interval opened by p, or -1. */
const lastOpenedBy = (s: AccessGraphState, p: number): number => {
  let lo = 0;
  let hi = s.openedCount - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (s.grantFrom[s.opened[mid]!]! <= p) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};

/** R1 now: the same registered, open account, or a pair with an interval in force (one hash probe). */
const canManageNow = (s: AccessGraphState, manager: Id, account: Id): boolean => {
  if (manager === account) {
    const i = s.accountIds.find(account);
    return i >= 0 && s.registeredPosition[i] === s.registeredPosition[i] && s.closedPosition[i] !== s.closedPosition[i];
  }
  const h = pairHashOf(hashOf(manager), hashOf(account));
  const { pairSlots, pairMask, pairHash, pairManager, pairAccount } = s;
  const keys = s.accountIds.keys;
  for (let i = spread(h) & pairMask; ; i = (i + 1) & pairMask) {
    const k = pairSlots[i]!;
    if (k === 0) return false;
    const e = k - 1;
    if (pairHash[e] === h && keys[pairManager[e]!] === manager && keys[pairAccount[e]!] === account) return s.pairInForce[e]! > 0;
  }
};

/** The questions at position `p`, with `canManage` answered by `canManageAt`. */
const viewAt = (s: AccessGraphState, p: number, canManageAt: (manager: Id, account: Id) => boolean): AccessView => ({
  position: BigInt(p),
  canManage: canManageAt,
  managedBy: (manager) => counterparts(s, manager, "manager", p),
  managersOf: (account) => counterparts(s, account, "account", p),
  linksOf: (manager, account) =>
    manager === account ? [] : sorted(intervalsBetween(s, manager, account).filter((g) => isOpenAt(s, g, p)).map((g) => s.linkIds.keys[s.grantLink[g]!]!)),
  explain: (manager, account) => explainAt(s, manager, account, p),
  grants: () => grantsAt(s, p),
  account: (idOrBarcode) => findAccount(s, idOrBarcode, p),
});

/** The access graph as of the last position it applied; `canManage` in constant time. */
export const accessNow = (s: AccessGraphState): AccessView =>
  viewAt(s, s.applied, (manager, account) => canManageNow(s, manager, account));

/**
 * The position "as of time T" stands for: the last applied position before the
 * first event that occurred after T (by the running maximum of `occurredAt`, so a
 * clock that stepped back does not make the answer jump). 0n when nothing
 * occurred by then.
 */
export const positionAtTime = (s: AccessGraphState, isoTime: string): bigint => {
  const ms = Date.parse(isoTime);
  if (Number.isNaN(ms)) throw new RangeError(`Not a time: ${JSON.stringify(isoTime)}`);
  // Outside years 0..9999 toISOString writes a sign first, which sorts before every
  // event time (as the string comparison this replaces did).
  const t = new Date(ms).toISOString().charCodeAt(0) < 48 ? -Infinity : ms;
  return BigInt(s.time.positionBefore(t, s.applied));
};

/** The access graph as it was after the event at `position` (or the last before it). */
export const accessAsOf = (s: AccessGraphState, position: bigint): AccessView => {
  const p = Number(position > BigInt(s.applied) ? BigInt(s.applied) : position);
  if (p === s.applied) return accessNow(s);
  return viewAt(s, p, (manager, account) => explainAt(s, manager, account, p).granted);
};

/** As of a position (`123`) or an ISO time (`2026-03-03T09:15:00.000Z`). */
export type AsOf = { readonly position: bigint } | { readonly time: string };

export const accessAt = (s: AccessGraphState, asOf?: AsOf): AccessView =>
  asOf === undefined ? accessNow(s) : accessAsOf(s, "position" in asOf ? asOf.position : positionAtTime(s, asOf.time));

// ---------------------------------------------------------------------------
// Checkpoints (the same JSON as when the state was objects and maps)

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);
const Snapshot = t.type({
  version: t.literal(1),
  applied: t.number,
  accounts: t.array(
    t.type({
      accountId: t.string,
      barcode: t.string,
      minor: t.boolean,
      registeredPosition: t.number,
      closedPosition: Nullable(t.number),
      closedAt: Nullable(t.string),
    }),
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
      grants: t.array(t.tuple([t.string, t.string, Nullable(t.number), Nullable(t.number)])),
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
    });
  }
  const links: Snapshot["links"] = [];
  for (let l = 0; l < s.linkIds.size; l++) {
    const grants: [string, string, number | null, number | null][] = [];
    const end = s.grantStart[l]! + s.grantCount[l]!;
    for (let g = s.grantStart[l]!; g < end; g++)
      grants.push([ids[s.grantManager[g]!]!, ids[s.grantAccount[g]!]!, nullable(s.grantFrom[g]!), nullable(s.grantTo[g]!)]);
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
      grants,
    });
  }
  const barcodes: [string, string][] = s.barcodes.keys.map((b, i) => [b, ids[s.barcodeAccount[i]!]!]);
  const time = s.time.entries();
  return {
    version: 1,
    applied: s.applied,
    accounts,
    links,
    barcodes,
    time: [time.positions, time.maxima.map((ms) => new Date(ms).toISOString()), time.previous],
  };
};

const orNaN = (x: number | null): number => (x === null ? NaN : x);

export const deserialiseAccessGraph = (json: unknown): E.Either<DecodeError, AccessGraphState> =>
  pipe(
    decodeWith(Snapshot, "accessGraph")(json),
    E.map((snap: Snapshot) => {
      const s = initialAccessGraph();
      s.applied = snap.applied;
      for (const a of snap.accounts) {
        const i = accountIndex(s, a.accountId);
        s.barcodeOf[i] = a.barcode;
        s.minor[i] = a.minor ? 1 : 0;
        s.registeredPosition[i] = a.registeredPosition;
        s.closedPosition[i] = orNaN(a.closedPosition);
        s.closedAt[i] = a.closedAt;
        s.registered[s.registeredCount++] = i;
      }
      for (const [barcode, id] of snap.barcodes) {
        const b = s.barcodes.intern(canonicalBarcode(barcode)); // a snapshot from before R7's canonical form
        if (b >= s.barcodeAccount.length) s.barcodeAccount = grownInt32(s.barcodeAccount, b + 1);
        s.barcodeAccount[b] = accountIndex(s, id);
      }
      const opened: number[] = [];
      for (const l of snap.links) {
        const issuer = accountIndex(s, l.issuerAccountId);
        const connected = accountIndex(s, l.connectedAccountId);
        const li = s.linkIds.intern(l.linkId);
        addLink(s, li, l.phraseId, issuer, connected, l.direction, l.connectedEventId, l.connectedPosition, l.connectedAt);
        s.revokedPosition[li] = orNaN(l.revokedPosition);
        s.revokedAt[li] = l.revokedAt;
        for (const [manager, account, from, to] of l.grants) {
          const g = addGrant(s, li, accountIndex(s, manager), accountIndex(s, account));
          s.grantFrom[g] = orNaN(from);
          s.grantTo[g] = orNaN(to);
          if (from !== null) opened.push(g);
        }
      }
      // Links are serialised in connection order; intervals open later than their link,
      // so restore their order by `from` (stable for ties).
      opened.sort((x, y) => s.grantFrom[x]! - s.grantFrom[y]!);
      for (const g of opened) {
        if (s.openedCount >= s.opened.length) s.opened = grownInt32(s.opened, s.openedCount + 1);
        s.opened[s.openedCount++] = g;
        const e = pairOf(s, s.grantManager[g]!, s.grantAccount[g]!);
        s.grantPair[g] = e;
        if (s.grantTo[g] !== s.grantTo[g]) s.pairInForce[e]!++;
      }
      const [positions, maxima, previous] = snap.time;
      for (let k = 0; k < positions.length; k++) s.time.push(positions[k]!, isoMs(maxima[k]!), previous[k]!);
      return s;
    }),
  );

export const accessGraphProjection: Projection<AccessGraphState> = {
  name: "access-graph",
  initial: initialAccessGraph,
  evolve: evolveAccessGraph,
  positionOf: (s) => BigInt(s.applied),
  serialise: serialiseAccessGraph,
  deserialise: deserialiseAccessGraph,
};
