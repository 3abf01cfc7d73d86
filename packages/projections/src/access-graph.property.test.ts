/**
 * The differential test: over random valid histories (the domain's own
 * generator), the access graph agrees with a deliberately naive model recomputed
 * from scratch at every position, and with the domain's own authority check.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EventEnvelope, grantLinks, makePolicy } from "@linked-accounts/domain/internal";
import { type NaiveAgeRule, naiveAge, validHistory } from "@linked-accounts/domain/testing";
import { type AccessView, accessAsOf, accessAt, accessGraphProjection, accessGraphProjectionUnder, accessNow } from "./access-graph.js";
import { createInMemoryCheckpointStore } from "./checkpoint.js";
import { sourceOf } from "./ndjson.js";
import { type PositionedEvent, foldEvents } from "./projection.js";
import { readModelsProjection } from "./read-models.js";
import { createRunner } from "./runner.js";

const numRuns = Number(process.env["FC_RUNS"] ?? 200);

/** Positions with random gaps (strictly increasing, not contiguous). */
const withGaps = (events: ReadonlyArray<EventEnvelope>, gaps: ReadonlyArray<number>): PositionedEvent[] => {
  let p = 0n;
  return events.map((e, i) => ((p += BigInt(gaps[i % gaps.length] ?? 1)), { ...e, position: p }));
};

const historyWithPositions = validHistory({ maxMoves: 120 }).chain((h) =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 20 }).map((gaps) => ({ h, events: withGaps(h.events, gaps) })),
);

type Row = { manager: string; account: string; linkIds: string[] };

/**
 * The naive model: scan the whole prefix for accounts, closures, dates of birth
 * and links, then apply R1 to R4 and R12 literally. No indexes, no intervals.
 * By default minors never manage (R4); `rule` lets them from an age, at a time.
 */
const naiveGrants = (prefix: ReadonlyArray<PositionedEvent>, rule: NaiveAgeRule = { minorsMayManageFromAge: null, atMs: 0 }): Row[] => {
  const registered = new Map<string, boolean>(); // id → minor
  const born = new Map<string, string>();
  const closed = new Set<string>();
  const links = new Map<string, { issuer: string; connected: string; twoWay: boolean }>();
  const revoked = new Set<string>();
  for (const e of prefix) {
    if (e.type === "AccountRegistered" && !registered.has(e.data.accountId)) registered.set(e.data.accountId, e.data.minor);
    if (e.type === "AccountClosed" && registered.has(e.data.accountId)) closed.add(e.data.accountId);
    if (e.type === "DateOfBirthRecorded" && registered.has(e.data.accountId)) born.set(e.data.accountId, e.data.dateOfBirth);
    if (e.type === "AccountConnected" && !links.has(e.data.linkId))
      links.set(e.data.linkId, { issuer: e.data.issuerAccountId, connected: e.data.connectedAccountId, twoWay: e.data.direction === "two-way" });
    if (e.type === "LinkRevoked" && links.has(e.data.linkId)) revoked.add(e.data.linkId);
  }
  const rows = new Map<string, Row>();
  const give = (manager: string, account: string, linkId: string) => {
    if (manager === account || !registered.has(manager) || !registered.has(account)) return;
    if (closed.has(manager) || closed.has(account)) return;
    const birth = born.get(manager);
    const oldEnough = rule.minorsMayManageFromAge !== null && birth !== undefined && naiveAge(birth, rule.atMs) >= rule.minorsMayManageFromAge;
    if (registered.get(manager) === true && !oldEnough) return;
    const key = JSON.stringify([manager, account]);
    const row = rows.get(key) ?? { manager, account, linkIds: [] };
    row.linkIds.push(linkId);
    rows.set(key, row);
  };
  for (const [id, l] of links) {
    if (revoked.has(id)) continue;
    give(l.issuer, l.connected, id);
    if (l.twoWay) give(l.connected, l.issuer, id);
  }
  return [...rows.values()]
    .map((r) => ({ ...r, linkIds: [...r.linkIds].sort() }))
    .sort((a, b) => (a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
};

const accountsIn = (events: ReadonlyArray<PositionedEvent>): string[] => [
  ...new Set(events.flatMap((e) => (e.type === "AccountRegistered" ? [e.data.accountId] : []))),
];

/** canManage(m, a) ⇔ a ∈ managedBy(m) ⇔ m ∈ managersOf(a), for every pair of distinct accounts. */
const expectConsistent = (view: AccessView, accounts: ReadonlyArray<string>) => {
  for (const m of accounts)
    for (const a of accounts) {
      if (m === a) continue;
      const can = view.canManage(m, a);
      expect(view.managedBy(m).includes(a)).toBe(can);
      expect(view.managersOf(a).includes(m)).toBe(can);
      expect(view.linksOf(m, a).length > 0).toBe(can);
      expect(view.explain(m, a).granted).toBe(can);
    }
};

describe("access graph: differential against a naive model", () => {
  it("at every position, grants now and as of that position equal the naive model of the prefix", () => {
    fc.assert(
      fc.property(historyWithPositions, ({ events }) => {
        const state = accessGraphProjection.initial();
        const accounts = accountsIn(events);
        for (let i = 0; i < events.length; i++) {
          const event = events[i]!;
          accessGraphProjection.evolve(state, event);
          const naive = naiveGrants(events.slice(0, i + 1));
          expect(accessNow(state).grants()).toEqual(naive);
          expectConsistent(accessNow(state), accounts);
        }
        // As of every position (and between positions) the complete graph answers like the prefix.
        for (let i = 0; i < events.length; i++) {
          const p = events[i]!.position;
          const naive = naiveGrants(events.slice(0, i + 1));
          expect(accessAsOf(state, p).grants()).toEqual(naive);
          const next = events[i + 1]?.position;
          if (next !== undefined && next > p + 1n) expect(accessAsOf(state, p + 1n).grants()).toEqual(naive);
        }
      }),
      { numRuns },
    );
  });

  it("as of P equals a fold of the events up to P, including every derived answer", () => {
    fc.assert(
      fc.property(historyWithPositions, fc.nat(), ({ events }, pick) => {
        fc.pre(events.length > 0);
        const full = foldEvents(accessGraphProjection, events);
        const cut = pick % events.length;
        const prefix = foldEvents(accessGraphProjection, events.slice(0, cut + 1));
        const then = accessAsOf(full, events[cut]!.position);
        const folded = accessNow(prefix);
        const accounts = accountsIn(events);
        expect(then.grants()).toEqual(folded.grants());
        for (const m of accounts) {
          expect(then.managedBy(m)).toEqual(folded.managedBy(m));
          expect(then.managersOf(m)).toEqual(folded.managersOf(m));
          for (const a of accounts) {
            expect(then.canManage(m, a)).toBe(folded.canManage(m, a));
            expect(then.explain(m, a)).toEqual(folded.explain(m, a));
          }
        }
        expectConsistent(then, accounts);
      }),
      { numRuns },
    );
  });

  it("the graph agrees with the domain's own authority check (grantLinks) on the final state", () => {
    fc.assert(
      fc.property(validHistory({ maxMoves: 120 }), (h) => {
        const view = accessNow(foldEvents(accessGraphProjection, withGaps(h.events, [1])));
        const ids = [...h.finalState.linking.accounts.values()].map((a) => a.accountId);
        for (const m of ids)
          for (const a of ids) {
            if (m === a) continue;
            expect(view.linksOf(m, a)).toEqual([...grantLinks(h.finalState.linking, m, a, h.policy, Date.now())].sort());
          }
      }),
      { numRuns },
    );
  });

  it("incremental catch-up in random batch sizes, restarted from its checkpoint, equals a rebuild", async () => {
    await fc.assert(
      fc.asyncProperty(historyWithPositions, fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }), async ({ events }, sizes) => {
        const source = sourceOf(events);
        const checkpoints = createInMemoryCheckpointStore();
        // Each call is a fresh runner (a restart) that applies a few batches of a random size.
        for (let i = 0; ; i++) {
          const runner = createRunner({ source, projection: readModelsProjection, checkpoints, batchSize: sizes[i % sizes.length]! });
          const result = await runner.catchUp({ maxBatches: 1 + (i % 3) });
          if (result.position === (events.at(-1)?.position ?? 0n)) break;
        }
        const resumed = createRunner({ source, projection: readModelsProjection, checkpoints });
        await resumed.catchUp();
        const rebuilt = foldEvents(readModelsProjection, events);
        expect(readModelsProjection.serialise(resumed.state())).toEqual(readModelsProjection.serialise(rebuilt));
        await resumed.rebuild();
        expect(readModelsProjection.serialise(resumed.state())).toEqual(readModelsProjection.serialise(rebuilt));
      }),
      { numRuns: Math.max(20, Math.floor(numRuns / 4)) },
    );
  });

  it("under a policy letting minors manage from 16: as of every position, at that event's time and at times between events, the graph equals the naive model", () => {
    const policy = makePolicy({ minorsMayManageFromAge: 16 });
    const seen = { minorManaging: 0, changedBetweenEvents: 0 };
    fc.assert(
      fc.property(validHistory({ maxMoves: 120, policy }).chain((h) => fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 20 }).map((gaps) => withGaps(h.events, gaps))), (events) => {
        const state = foldEvents(accessGraphProjectionUnder(policy), events);
        const accounts = accountsIn(events);
        let latest = -Infinity;
        for (let i = 0; i < events.length; i++) {
          const p = events[i]!.position;
          latest = Math.max(latest, Date.parse(events[i]!.metadata.occurredAt));
          const prefix = events.slice(0, i + 1);
          const naive = naiveGrants(prefix, { minorsMayManageFromAge: 16, atMs: latest });
          const view = accessAsOf(state, p);
          expect(view.grants()).toEqual(naive);
          seen.minorManaging += naive.filter((r) => prefix.some((e) => e.type === "AccountRegistered" && e.data.accountId === r.manager && e.data.minor)).length;
          // A month later, with no event in between: the facts of p, the clock 30 days on.
          const later = new Date(latest + 30 * 86_400_000).toISOString();
          const laterNaive = naiveGrants(prefix, { minorsMayManageFromAge: 16, atMs: latest + 30 * 86_400_000 });
          expect(accessAsOf(state, p, later).grants()).toEqual(laterNaive);
          if (JSON.stringify(laterNaive) !== JSON.stringify(naive)) seen.changedBetweenEvents++;
          if (i === events.length - 1) {
            expect(accessNow(state, later).grants()).toEqual(laterNaive);
            expect(accessAt(state, { time: later }).grants()).toEqual(laterNaive);
          }
        }
        expectConsistent(accessAsOf(state, events.at(-1)?.position ?? 0n), accounts);
      }),
      { numRuns: Math.max(20, Math.floor(numRuns / 2)) },
    );
    // The histories exercised the change: minors managed, and a birthday passed between events.
    expect(seen.minorManaging).toBeGreaterThan(0);
    expect(seen.changedBetweenEvents).toBeGreaterThan(0);
  });
});
