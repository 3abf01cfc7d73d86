/**
 * The access graph: who can manage whom (DOMAIN.md "What the read side answers").
 *
 * Now: `canManage` is two hash lookups on the grants in force. As of a past
 * position or time: every link keeps, per grant it gives, the one interval
 * [from, to) of positions during which that grant was in force. An interval
 * opens when the link exists, both accounts are registered and open and the
 * manager is not a minor, and closes when the link is revoked or either account
 * closes. None of those conditions can come back (revoking and closing are for
 * good, R11 R12; minority is fixed at registration), so one interval per grant
 * per link is enough, and an as-of question scans intervals, never events.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { type DecodeError, type Direction, type Id, decodeWith, grantsOf } from "@linked-accounts/domain";
import type { PositionedEvent, Projection } from "./projection.js";

interface AccountRow {
  readonly accountId: Id;
  readonly barcode: string;
  readonly minor: boolean;
  readonly registeredPosition: number;
  closedPosition: number | null;
  closedAt: string | null;
}

/** One grant a link gives (R2), with the interval it was in force. */
interface GrantInterval {
  readonly manager: Id;
  readonly account: Id;
  readonly link: LinkRow;
  /** Position of the event that put it in force; null while it never was. */
  from: number | null;
  /** Position of the event that ended it (exclusive); null while in force. */
  to: number | null;
}

interface LinkRow {
  readonly linkId: Id;
  readonly phraseId: Id;
  readonly issuerAccountId: Id;
  readonly connectedAccountId: Id;
  readonly direction: Direction;
  readonly connectedEventId: string;
  readonly connectedPosition: number;
  readonly connectedAt: string;
  revokedPosition: number | null;
  revokedAt: string | null;
  readonly grants: GrantInterval[];
}

/** The grant manager → account in force now, and the links giving it. */
interface GrantRow {
  readonly manager: Id;
  readonly account: Id;
  readonly intervals: GrantInterval[];
}

/** The access graph's state. Opaque: read it through `accessNow` / `accessAsOf`. */
export interface AccessGraphState {
  applied: number;
  readonly accounts: Map<Id, AccountRow>;
  readonly barcodes: Map<string, Id>;
  readonly links: Map<Id, LinkRow>;
  /** Every link each account is a party of, revoked or not, oldest first. */
  readonly linksByAccount: Map<Id, LinkRow[]>;
  /** Grants in force: manager → account → row, and account → manager → the same row. */
  readonly manages: Map<Id, Map<Id, GrantRow>>;
  readonly managers: Map<Id, Map<Id, GrantRow>>;
  /** Every interval that ever opened, in the order it opened (so by `from`). */
  readonly opened: GrantInterval[];
  /**
   * Time index: `timePositions[i]` is the first position at which the running
   * maximum of `occurredAt` became `timeMaxima[i]`. "As of time T" is as of the
   * last position before the running maximum passes T. Times stay ISO strings:
   * in the one format events use they sort as the instants do, with no parsing.
   */
  readonly timePositions: number[];
  readonly timeMaxima: string[];
  /** The position applied just before `timePositions[i]`. */
  readonly timePrevious: number[];
}

export const initialAccessGraph = (): AccessGraphState => ({
  applied: 0,
  accounts: new Map(),
  barcodes: new Map(),
  links: new Map(),
  linksByAccount: new Map(),
  manages: new Map(),
  managers: new Map(),
  opened: [],
  timePositions: [],
  timeMaxima: [],
  timePrevious: [],
});

/** R1, R2, R3, R4, R12: is this grant of this link in force in the state as it is now? */
const inForce = (s: AccessGraphState, g: GrantInterval): boolean => {
  if (g.link.revokedPosition !== null || g.manager === g.account) return false;
  const m = s.accounts.get(g.manager);
  const a = s.accounts.get(g.account);
  return m !== undefined && a !== undefined && m.closedPosition === null && a.closedPosition === null && !m.minor;
};

const nested = (outer: Map<Id, Map<Id, GrantRow>>, key: Id): Map<Id, GrantRow> => {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
};

const open = (s: AccessGraphState, g: GrantInterval, position: number): void => {
  g.from = position;
  s.opened.push(g);
  const byManager = nested(s.manages, g.manager);
  let row = byManager.get(g.account);
  if (row === undefined) {
    row = { manager: g.manager, account: g.account, intervals: [] };
    byManager.set(g.account, row);
    nested(s.managers, g.account).set(g.manager, row);
  }
  row.intervals.push(g);
};

const close = (s: AccessGraphState, g: GrantInterval, position: number): void => {
  g.to = position;
  const byManager = s.manages.get(g.manager);
  const row = byManager?.get(g.account);
  if (byManager === undefined || row === undefined) return;
  const i = row.intervals.indexOf(g);
  if (i >= 0) row.intervals.splice(i, 1);
  if (row.intervals.length > 0) return;
  byManager.delete(g.account);
  if (byManager.size === 0) s.manages.delete(g.manager);
  const byAccount = s.managers.get(g.account);
  byAccount?.delete(g.manager);
  if (byAccount?.size === 0) s.managers.delete(g.account);
};

/** Opens or closes the intervals of a link after something it depends on changed. */
const reconsider = (s: AccessGraphState, link: LinkRow, position: number): void => {
  for (const g of link.grants) {
    if (g.to !== null) continue; // ended for good
    const now = inForce(s, g);
    if (now && g.from === null) open(s, g, position);
    else if (!now && g.from !== null) close(s, g, position);
  }
};

const reconsiderAccount = (s: AccessGraphState, accountId: Id, position: number): void => {
  const links = s.linksByAccount.get(accountId);
  if (links !== undefined) for (const link of links) reconsider(s, link, position);
};

const remember = (s: AccessGraphState, event: PositionedEvent, position: number): void => {
  const at = event.metadata.occurredAt;
  const n = s.timeMaxima.length;
  if (n === 0 || at > s.timeMaxima[n - 1]!) {
    s.timePositions.push(position);
    s.timeMaxima.push(at);
    s.timePrevious.push(s.applied);
  }
  s.applied = position;
};

/** The fold. Total: an event about something unknown changes nothing (as the domain's evolve). */
export const evolveAccessGraph = (s: AccessGraphState, event: PositionedEvent): AccessGraphState => {
  const position = Number(event.position);
  switch (event.type) {
    case "AccountRegistered": {
      const { accountId, barcode, minor } = event.data;
      if (!s.accounts.has(accountId)) {
        s.accounts.set(accountId, { accountId, barcode, minor, registeredPosition: position, closedPosition: null, closedAt: null });
        s.barcodes.set(barcode, accountId);
        reconsiderAccount(s, accountId, position);
      }
      break;
    }
    case "AccountClosed": {
      const account = s.accounts.get(event.data.accountId);
      if (account !== undefined && account.closedPosition === null) {
        account.closedPosition = position;
        account.closedAt = event.metadata.occurredAt;
        reconsiderAccount(s, account.accountId, position);
      }
      break;
    }
    case "AccountConnected": {
      const { linkId, phraseId, issuerAccountId, connectedAccountId, direction } = event.data;
      if (!s.links.has(linkId)) {
        const grants: GrantInterval[] = [];
        const link: LinkRow = {
          linkId,
          phraseId,
          issuerAccountId,
          connectedAccountId,
          direction,
          connectedEventId: event.metadata.eventId,
          connectedPosition: position,
          connectedAt: event.metadata.occurredAt,
          revokedPosition: null,
          revokedAt: null,
          grants,
        };
        for (const { manager, account } of grantsOf(event.data))
          grants.push({ manager, account, link, from: null, to: null });
        s.links.set(linkId, link);
        for (const party of issuerAccountId === connectedAccountId ? [issuerAccountId] : [issuerAccountId, connectedAccountId]) {
          const list = s.linksByAccount.get(party);
          if (list === undefined) s.linksByAccount.set(party, [link]);
          else list.push(link);
        }
        reconsider(s, link, position);
      }
      break;
    }
    case "LinkRevoked": {
      const link = s.links.get(event.data.linkId);
      if (link !== undefined && link.revokedPosition === null) {
        link.revokedPosition = position;
        link.revokedAt = event.metadata.occurredAt;
        reconsider(s, link, position);
      }
      break;
    }
    default:
      break;
  }
  remember(s, event, position);
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

const isOpenAt = (g: GrantInterval, p: number): boolean => g.from !== null && g.from <= p && (g.to === null || g.to > p);

const accountAt = (s: AccessGraphState, id: Id, p: number): AccountRow | undefined => {
  const row = s.accounts.get(id);
  return row !== undefined && row.registeredPosition <= p ? row : undefined;
};
const closedAt = (row: AccountRow, p: number): boolean => row.closedPosition !== null && row.closedPosition <= p;

/** The intervals of `manager`'s links giving manager → account. */
const intervalsBetween = (s: AccessGraphState, manager: Id, account: Id): GrantInterval[] => {
  const out: GrantInterval[] = [];
  for (const link of s.linksByAccount.get(manager) ?? [])
    for (const g of link.grants) if (g.manager === manager && g.account === account) out.push(g);
  return out;
};

const sourceOf = (g: GrantInterval): GrantSource => ({
  linkId: g.link.linkId,
  direction: g.link.direction,
  phraseId: g.link.phraseId,
  connectedEventId: g.link.connectedEventId,
  connectedPosition: BigInt(g.link.connectedPosition),
  connectedAt: g.link.connectedAt,
  since: BigInt(g.from ?? g.link.connectedPosition),
});

const explainAt = (s: AccessGraphState, manager: Id, account: Id, p: number): Explanation => {
  const m = accountAt(s, manager, p);
  const a = accountAt(s, account, p);
  if (manager === account && a !== undefined && !closedAt(a, p))
    return { granted: true, manager, account, self: true, sources: [] };
  const open = intervalsBetween(s, manager, account).filter((g) => isOpenAt(g, p));
  if (manager !== account && open.length > 0)
    return {
      granted: true,
      manager,
      account,
      self: false,
      sources: open.map(sourceOf).sort((x, y) => byString(x.linkId, y.linkId)),
    };
  const refusals: Refusal[] = [];
  for (const [id, row] of [[manager, m], [account, a]] as const) {
    if (row === undefined) refusals.push({ code: "unknown-account", accountId: id });
    else if (closedAt(row, p))
      refusals.push({ code: "account-closed", accountId: id, position: BigInt(row.closedPosition!), closedAt: row.closedAt });
    if (manager === account) break;
  }
  if (m?.minor === true && manager !== account) refusals.push({ code: "manager-is-minor", accountId: manager });
  if (manager !== account) {
    const links = (s.linksByAccount.get(manager) ?? []).filter(
      (l) => l.connectedPosition <= p && (l.issuerAccountId === account || l.connectedAccountId === account),
    );
    const giving = links.filter((l) => l.grants.some((g) => g.manager === manager && g.account === account));
    for (const l of giving)
      if (l.revokedPosition !== null && l.revokedPosition <= p)
        refusals.push({ code: "link-revoked", linkId: l.linkId, position: BigInt(l.revokedPosition), revokedAt: l.revokedAt });
    for (const l of links)
      if (!giving.includes(l)) refusals.push({ code: "link-gives-other-direction", linkId: l.linkId, direction: l.direction });
    if (links.length === 0) refusals.push({ code: "no-link" });
  }
  return { granted: false, manager, account, refusals };
};

const accountInfo = (row: AccountRow, p: number): AccountInfo => ({
  accountId: row.accountId,
  barcode: row.barcode,
  minor: row.minor,
  closed: closedAt(row, p),
});

const findAccount = (s: AccessGraphState, idOrBarcode: string, p: number): AccountInfo | undefined => {
  const byId = accountAt(s, idOrBarcode, p);
  if (byId !== undefined) return accountInfo(byId, p);
  const id = s.barcodes.get(idOrBarcode);
  const byBarcode = id === undefined ? undefined : accountAt(s, id, p);
  return byBarcode === undefined ? undefined : accountInfo(byBarcode, p);
};

/** The access graph as of the last position it applied; `canManage` in constant time. */
export const accessNow = (s: AccessGraphState): AccessView => {
  const p = s.applied;
  return {
    position: BigInt(p),
    canManage: (manager, account) => {
      if (manager === account) {
        const self = s.accounts.get(account);
        return self !== undefined && self.closedPosition === null;
      }
      return s.manages.get(manager)?.has(account) === true;
    },
    managedBy: (manager) => sorted(s.manages.get(manager)?.keys() ?? []),
    managersOf: (account) => sorted(s.managers.get(account)?.keys() ?? []),
    linksOf: (manager, account) => sorted((s.manages.get(manager)?.get(account)?.intervals ?? []).map((g) => g.link.linkId)),
    explain: (manager, account) => explainAt(s, manager, account, p),
    grants: () => {
      const out: Grant[] = [];
      for (const [manager, rows] of s.manages)
        for (const [account, row] of rows) out.push({ manager, account, linkIds: sorted(row.intervals.map((g) => g.link.linkId)) });
      return out.sort((x, y) => byString(x.manager, y.manager) || byString(x.account, y.account));
    },
    account: (idOrBarcode) => findAccount(s, idOrBarcode, p),
  };
};

/** The last index i with `xs[i] <= x` (xs sorted), or -1. */
const lastAtMost = <T extends number | string>(xs: ReadonlyArray<T>, x: T, key: (i: number) => T = (i) => xs[i]!): number => {
  let lo = 0;
  let hi = xs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (key(mid) <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};

/**
 * The position "as of time T" stands for: the last applied position before the
 * first event that occurred after T (by the running maximum of `occurredAt`, so a
 * clock that stepped back does not make the answer jump). 0n when nothing
 * occurred by then.
 */
export const positionAtTime = (s: AccessGraphState, isoTime: string): bigint => {
  const ms = Date.parse(isoTime);
  if (Number.isNaN(ms)) throw new RangeError(`Not a time: ${JSON.stringify(isoTime)}`);
  const i = lastAtMost(s.timeMaxima, new Date(ms).toISOString());
  // Step i+1 is the first event that occurred after T; as of T is just before it.
  return BigInt(i + 1 < s.timePrevious.length ? s.timePrevious[i + 1]! : s.applied);
};

/** The access graph as it was after the event at `position` (or the last before it). */
export const accessAsOf = (s: AccessGraphState, position: bigint): AccessView => {
  const p = Number(position > BigInt(s.applied) ? BigInt(s.applied) : position);
  if (p === s.applied) return accessNow(s);
  const between = (manager: Id, account: Id) => intervalsBetween(s, manager, account).filter((g) => isOpenAt(g, p));
  const counterparts = (id: Id, side: "manager" | "account"): Id[] => {
    const out: Id[] = [];
    for (const link of s.linksByAccount.get(id) ?? [])
      for (const g of link.grants) if (g[side] === id && isOpenAt(g, p)) out.push(side === "manager" ? g.account : g.manager);
    return sorted(out);
  };
  return {
    position: BigInt(p),
    canManage: (manager, account) => explainAt(s, manager, account, p).granted,
    managedBy: (manager) => counterparts(manager, "manager"),
    managersOf: (account) => counterparts(account, "account"),
    linksOf: (manager, account) => (manager === account ? [] : sorted(between(manager, account).map((g) => g.link.linkId))),
    explain: (manager, account) => explainAt(s, manager, account, p),
    grants: () => {
      // Intervals are kept in the order they opened: only those opened by p can be in force.
      const last = lastOpenedBy(s, p);
      const rows = new Map<string, { manager: Id; account: Id; links: Id[] }>();
      for (let i = 0; i <= last; i++) {
        const g = s.opened[i]!;
        if (!isOpenAt(g, p)) continue;
        const key = `${g.manager} ${g.account}`;
        const row = rows.get(key);
        if (row === undefined) rows.set(key, { manager: g.manager, account: g.account, links: [g.link.linkId] });
        else row.links.push(g.link.linkId);
      }
      return [...rows.values()]
        .map((r) => ({ manager: r.manager, account: r.account, linkIds: sorted(r.links) }))
        .sort((x, y) => byString(x.manager, y.manager) || byString(x.account, y.account));
    },
    account: (idOrBarcode) => findAccount(s, idOrBarcode, p),
  };
};

const lastOpenedBy = (s: AccessGraphState, p: number): number => {
  let lo = 0;
  let hi = s.opened.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (s.opened[mid]!.from! <= p) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};

/** As of a position (`123`) or an ISO time (`2026-03-03T09:15:00.000Z`). */
export type AsOf = { readonly position: bigint } | { readonly time: string };

export const accessAt = (s: AccessGraphState, asOf?: AsOf): AccessView =>
  asOf === undefined ? accessNow(s) : accessAsOf(s, "position" in asOf ? asOf.position : positionAtTime(s, asOf.time));

// ---------------------------------------------------------------------------
// Checkpoints

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

export const serialiseAccessGraph = (s: AccessGraphState): Snapshot => ({
  version: 1,
  applied: s.applied,
  accounts: [...s.accounts.values()].map((a) => ({ ...a })),
  links: [...s.links.values()].map((l) => ({
    linkId: l.linkId,
    phraseId: l.phraseId,
    issuerAccountId: l.issuerAccountId,
    connectedAccountId: l.connectedAccountId,
    direction: l.direction,
    connectedEventId: l.connectedEventId,
    connectedPosition: l.connectedPosition,
    connectedAt: l.connectedAt,
    revokedPosition: l.revokedPosition,
    revokedAt: l.revokedAt,
    grants: l.grants.map((g) => [g.manager, g.account, g.from, g.to]),
  })),
  barcodes: [...s.barcodes],
  time: [[...s.timePositions], [...s.timeMaxima], [...s.timePrevious]],
});

export const deserialiseAccessGraph = (json: unknown): E.Either<DecodeError, AccessGraphState> =>
  pipe(
    decodeWith(Snapshot, "accessGraph")(json),
    E.map((snap: Snapshot) => {
    const s = initialAccessGraph();
    s.applied = snap.applied;
    for (const a of snap.accounts) s.accounts.set(a.accountId, { ...a });
    for (const [barcode, id] of snap.barcodes) s.barcodes.set(barcode, id);
    const opened: GrantInterval[] = [];
    for (const l of snap.links) {
      const grants: GrantInterval[] = [];
      const link: LinkRow = { ...l, grants };
      for (const [manager, account, from, to] of l.grants) {
        const g: GrantInterval = { manager, account, link, from, to };
        grants.push(g);
        if (from !== null) opened.push(g);
        if (from !== null && to === null) {
          const byManager = nested(s.manages, manager);
          let row = byManager.get(account);
          if (row === undefined) {
            row = { manager, account, intervals: [] };
            byManager.set(account, row);
            nested(s.managers, account).set(manager, row);
          }
          row.intervals.push(g);
        }
      }
      s.links.set(l.linkId, link);
      const parties = l.issuerAccountId === l.connectedAccountId ? [l.issuerAccountId] : [l.issuerAccountId, l.connectedAccountId];
      for (const party of parties) {
        const list = s.linksByAccount.get(party);
        if (list === undefined) s.linksByAccount.set(party, [link]);
        else list.push(link);
      }
    }
    // Links are serialised in insertion order, which is connection order; intervals open
    // later than their link, so restore their order by `from` (stable for ties).
    opened.sort((x, y) => x.from! - y.from!);
    for (const g of opened) s.opened.push(g);
    for (const x of snap.time[0]) s.timePositions.push(x);
    for (const x of snap.time[1]) s.timeMaxima.push(x);
    for (const x of snap.time[2]) s.timePrevious.push(x);
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
