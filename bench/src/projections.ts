/**
 * Read side figures (issue 4): rebuilding the access graph from 1,000,000 events
 * (in memory, and from PostgreSQL when a URL is given), canManage latency over
 * 1,000,000 checks on 100,000 accounts, memory per grant, and `grants --as-of`
 * in the middle of the log. Medians of repeated runs; each line says how its
 * figure is measured.
 */
import pg from "pg";
import { createPostgresEventStore } from "@linked-accounts/adapters/postgres";
import { type DomainEvent, type EventEnvelope, type LinkingState, evolveLinking, initialLinkingState, isLinkingEvent, tagsOf } from "@linked-accounts/domain/internal";
import {
  type AccessGraphState,
  type PositionedEvent,
  type Projection,
  accessAsOf,
  accessGraphProjection,
  accessNow,
  createRunner,
  sourceOf,
} from "@linked-accounts/projections";
import { median } from "./stats.js";
import { random, uuidV7 } from "./deterministic.js";

const EVENTS = 1_000_000;
const ACCOUNTS = 100_000;
const CHECKS = 1_000_000;
const CHECK_BATCH = 1_000;
/** Single calls timed one by one (each between two hrtime readings). */
const SINGLE_CALLS = 200_000;
const RUNS = 5;

const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** A deterministic pseudo-random source (mulberry32), so every run folds the same log. */
/**
 * A valid library log of `count` events: `accounts` registrations first (one in ten a
 * minor), then phrases, connections (two-way for one in three), revocations, closures
 * and circulation, one event every 50 ms of library time.
 */
export const libraryLog = (count: number, accounts: number): { events: PositionedEvent[]; streams: string[] } => {
  const rnd = random(42);
  const start = Date.parse("2026-01-01T00:00:00.000Z");
  const events: PositionedEvent[] = [];
  const streams: string[] = [];
  const verifier = { algorithm: "scrypt" as const, salt: "c2FsdA", hash: "aGFzaA", N: 16384, r: 8, p: 1 };
  const links: string[] = [];
  let loans = 0;
  const push = (event: Omit<EventEnvelope, "metadata">, actor: string, stream: string) => {
    const n = events.length;
    const ms = start + n * 50;
    const occurredAt = new Date(ms).toISOString();
    events.push({
      ...(event as EventEnvelope),
      metadata: {
        eventId: uuidV7(ms, n),
        schemaVersion: 3,
        occurredAt,
        actor: { kind: "account", accountId: actor },
        channel: "portal",
        correlationId: null,
        causationId: null,
      },
      position: BigInt(n + 1),
    } as PositionedEvent);
    streams.push(stream);
  };
  const at = () => new Date(start + events.length * 50).toISOString();
  const account = () => `acct-${Math.floor(rnd() * accounts)}`;
  for (let i = 0; i < accounts && events.length < count; i++)
    push(
      { type: "AccountRegistered", data: { accountId: `acct-${i}`, barcode: `B${String(i).padStart(9, "0")}`, minor: i % 10 === 9, registeredAt: at() } },
      `acct-${i}`,
      `account-acct-${i}`,
    );
  while (events.length < count) {
    const r = rnd();
    if (r < 0.15) {
      // Issue a phrase and connect with it.
      const issuer = account();
      let connector = account();
      if (connector === issuer) connector = `acct-${(Number(issuer.slice(5)) + 1) % accounts}`;
      const phraseId = `ph-${events.length}`;
      const direction = rnd() < 1 / 3 ? ("two-way" as const) : ("one-way" as const);
      push(
        { type: "SharePhraseIssued", data: { phraseId, issuerAccountId: issuer, direction, verifier, issuedAt: at(), expiresAt: new Date(start + events.length * 50 + 7 * 86_400_000).toISOString() } },
        issuer,
        `account-${issuer}`,
      );
      if (events.length >= count) break;
      const linkId = `link-${events.length}`;
      links.push(linkId);
      push(
        { type: "AccountConnected", data: { linkId, phraseId, issuerAccountId: issuer, connectedAccountId: connector, direction, connectedAt: at() } },
        connector,
        `link-${linkId}`,
      );
    } else if (r < 0.165 && links.length > 0) {
      const linkId = links[Math.floor(rnd() * links.length)]!;
      push({ type: "LinkRevoked", data: { linkId, revokedBy: { kind: "staff", staffId: "desk" }, reason: "", revokedAt: at() } }, "acct-0", `link-${linkId}`);
    } else if (r < 0.167) {
      const id = account();
      push({ type: "AccountClosed", data: { accountId: id, closedAt: at() } }, id, `account-${id}`);
    } else if (r < 0.6) {
      const id = account();
      const loanId = `loan-${loans++}`;
      push(
        { type: "ItemCheckedOut", data: { loanId, accountId: id, itemId: `item-${loans % 5000}`, title: "The Bone People", format: "physical", checkedOutAt: at(), dueAt: new Date(start + events.length * 50 + 21 * 86_400_000).toISOString() } },
        id,
        `circulation-${id}`,
      );
    } else {
      const id = account();
      push(
        { type: "HoldPlaced", data: { holdId: `hold-${events.length}`, accountId: id, itemId: `item-${events.length % 5000}`, title: "Potiki", pickupBranch: "Central", placedAt: at() } },
        id,
        `circulation-${id}`,
      );
    }
  }
  return { events, streams };
};

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) {
    g();
    g();
  }
};

const rebuild = async (
  source: Parameters<typeof createRunner>[0]["source"],
  projection: Projection<AccessGraphState> = accessGraphProjection,
): Promise<{ seconds: number; state: AccessGraphState }> => {
  const runner = createRunner({ source, projection, batchSize: 5000 });
  const t0 = process.hrtime.bigint();
  await runner.catchUp();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, state: runner.state() };
};

export async function benchProjections(options: { pgUrl?: string; schemaPrefix?: string }): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const line = (text: string) => console.log(`projections: ${text}`);

  const { events } = libraryLog(EVENTS, ACCOUNTS);
  const source = sourceOf(events);

  // Rebuild in memory: the runner over the in-memory log, batches of 5000, (a) read in
  // batches (one await per batch: the source offers readBatches), (b) through readAll
  // alone (one await per event, as any store's async iterator). Runs alternate.
  const runs: number[] = [];
  const perEventRuns: number[] = [];
  const perEventSource = { readAll: source.readAll };
  let state: AccessGraphState | undefined;
  for (let i = 0; i < RUNS; i++) {
    state = undefined;
    gc();
    const r = await rebuild(source);
    runs.push(events.length / r.seconds);
    state = r.state;
    gc();
    perEventRuns.push(events.length / (await rebuild(perEventSource)).seconds);
  }
  const graph = state!;

  // The fold alone, over events already decoded in memory (no async reading).
  const folds: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    gc();
    const t0 = process.hrtime.bigint();
    const s = accessGraphProjection.initial();
    for (const e of events) accessGraphProjection.evolve(s, e);
    folds.push(events.length / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  // The floor under any fold of these events: reading, from each event object, only
  // what the fold needs of every event (its type, position and time), nothing done with it.
  // The events were made long before, amid the generator's garbage, so this is mostly the
  // machine's memory latency; a fold's own work comes on top.
  const touches: number[] = [];
  let touched = 0;
  for (let i = 0; i < RUNS; i++) {
    gc();
    const t0 = process.hrtime.bigint();
    for (const e of events) touched += e.type.length + Number(e.position) + e.metadata.occurredAt.length;
    touches.push(events.length / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  if (touched === 0) throw new Error("bench: the floor read nothing");
  results["floorReadTypePositionTimeEventsPerSecond"] = Math.round(median(touches));
  line(`floor under any fold of this log in memory: reading each event's type, position and time and nothing else ${Math.round(median(touches)).toLocaleString("en")} events/s (median of ${touches.length}; runs ${touches.map((x) => Math.round(x / 1000) + "k").join(", ")})`);
  results["foldInMemoryEventsPerSecond"] = Math.round(median(folds));
  line(`fold of the access graph alone (events already decoded in an array, timed from the first event to the last): ${Math.round(median(folds)).toLocaleString("en")} events/s (median of ${folds.length}; runs ${folds.map((x) => Math.round(x / 1000) + "k").join(", ")})`);
  results["rebuildInMemoryEventsPerSecond"] = Math.round(median(runs));
  results["rebuildInMemoryPerEventAwaitEventsPerSecond"] = Math.round(median(perEventRuns));
  line(`rebuild of the access graph from ${events.length.toLocaleString("en")} events in memory (runner, batches of 5000, source read in batches): ${Math.round(median(runs)).toLocaleString("en")} events/s (median of ${runs.length}; runs ${runs.map((x) => Math.round(x / 1000) + "k").join(", ")})`);
  line(`rebuild of the access graph, same log, runner over readAll alone (one await per event, as a store's async iterator): ${Math.round(median(perEventRuns)).toLocaleString("en")} events/s (median of ${perEventRuns.length}; runs ${perEventRuns.map((x) => Math.round(x / 1000) + "k").join(", ")})`);

  // Memory per grant: the heap the graph holds (a fresh fold, the log already in memory).
  const grants = accessNow(graph).grants().length;
  const opened = graph.grantTotal;
  const hasGc = (globalThis as { gc?: () => void }).gc !== undefined;
  // The graph keeps columns in typed arrays, whose bytes live outside the JS heap (and
  // process.memoryUsage().arrayBuffers is released lazily): the figure is the heapUsed
  // growth over a fold plus the byteLength of every typed array the graph holds.
  const typedBytes = (o: object, seen = new Set<object>()): number => {
    let n = 0;
    for (const v of Object.values(o))
      if (ArrayBuffer.isView(v)) n += v.byteLength;
      else if (typeof v === "object" && v !== null && !Array.isArray(v) && !seen.has(v)) {
        seen.add(v);
        n += typedBytes(v, seen);
      }
    return n;
  };
  const used = (): number => process.memoryUsage().heapUsed;
  // JS heap growth over a fresh fold (after forced full collections before and after;
  // the previous run's graph is dropped first), plus the typed arrays of the new graph.
  const foldAll = (): AccessGraphState => {
    const s = accessGraphProjection.initial();
    for (const e of events) accessGraphProjection.evolve(s, e);
    return s;
  };
  let typed = 0;
  const heaps: number[] = [];
  let s: AccessGraphState | undefined;
  for (let i = 0; i < RUNS; i++) {
    s = undefined;
    gc();
    const before = used();
    s = foldAll();
    gc();
    typed = typedBytes(s);
    heaps.push(used() - before + typed);
    if (accessNow(s).grants().length !== grants) throw new Error("bench: a second fold disagrees");
  }
  s = undefined;
  const bytesPerGrant = median(heaps) / grants;
  results["grantsInForce"] = grants;
  results["grantIntervals"] = opened;
  results["links"] = graph.linkIds.size;
  results["heapBytesPerGrant"] = Math.round(bytesPerGrant);
  results["heapMeasuredAfterGc"] = hasGc;
  line(
    `memory per grant: ${Math.round(bytesPerGrant)} bytes (the whole access graph after GC: JS heap growth over a fresh fold plus its typed arrays, ${(median(heaps) / 2 ** 20).toFixed(1)} MiB of which ${(typed / 2 ** 20).toFixed(1)} MiB typed arrays, over ${grants.toLocaleString("en")} grants in force, median of ${heaps.length}; it also holds ${graph.linkIds.size.toLocaleString("en")} links, ${opened.toLocaleString("en")} grants the links give, ${graph.accountIds.size.toLocaleString("en")} accounts and a time index of ${graph.time.count.toLocaleString("en")} entries in ${(graph.time.byteLength / 2 ** 20).toFixed(1)} MiB; id, barcode and time strings are shared with the log the bench keeps alive, so they are not counted${hasGc ? "" : "; WITHOUT --expose-gc, so the figure is noisy"})`,
  );

  // canManage: 1,000,000 checks on 100,000 accounts, half of them pairs with a grant.
  const view = accessNow(graph);
  const all = view.grants();
  const rnd = random(7);
  const managers: string[] = [];
  const accounts: string[] = [];
  for (let i = 0; i < CHECKS; i++) {
    if (i % 2 === 0 && all.length > 0) {
      const g = all[Math.floor(rnd() * all.length)]!;
      managers.push(g.manager);
      accounts.push(g.account);
    } else {
      managers.push(`acct-${Math.floor(rnd() * ACCOUNTS)}`);
      accounts.push(`acct-${Math.floor(rnd() * ACCOUNTS)}`);
    }
  }
  // (1) Batches: 1000 batches of 1000 checks, each batch timed as a whole; a sample is a
  // batch's mean per check, so p50/p99 are over batch MEANS (a slow single call is
  // averaged away). (2) Single calls: SINGLE_CALLS checks, each timed on its own between
  // two hrtime readings; those figures include the timer's own cost, reported beside them
  // (p50 of an empty pair of readings) so a per-call estimate can be read off.
  let yes = 0;
  for (let i = 0; i < CHECKS; i++) if (view.canManage(managers[i]!, accounts[i]!)) yes++; // warm-up
  const batchMeans: number[] = [];
  for (let b = 0; b < CHECKS; b += CHECK_BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = b; i < b + CHECK_BATCH; i++) if (view.canManage(managers[i]!, accounts[i]!)) yes++;
    batchMeans.push(Number(process.hrtime.bigint() - t0) / CHECK_BATCH);
  }
  const overhead = new Float64Array(SINGLE_CALLS);
  for (let i = 0; i < SINGLE_CALLS; i++) {
    const t0 = process.hrtime.bigint();
    overhead[i] = Number(process.hrtime.bigint() - t0);
  }
  const single = new Float64Array(SINGLE_CALLS);
  const stride = Math.floor(CHECKS / SINGLE_CALLS);
  for (let j = 0; j < SINGLE_CALLS; j++) {
    const i = j * stride;
    const m = managers[i]!;
    const a = accounts[i]!;
    const t0 = process.hrtime.bigint();
    const can = view.canManage(m, a);
    single[j] = Number(process.hrtime.bigint() - t0);
    if (can) yes++;
  }
  const timer50 = percentile([...overhead], 50);
  const single50 = percentile([...single], 50);
  const single99 = percentile([...single], 99);
  results["canManageBatchMeanP50Ns"] = Math.round(percentile(batchMeans, 50));
  results["canManageBatchMeanP99Ns"] = Math.round(percentile(batchMeans, 99));
  results["canManageSingleCallP50Ns"] = Math.round(single50);
  results["canManageSingleCallP99Ns"] = Math.round(single99);
  results["hrtimeOverheadP50Ns"] = Math.round(timer50);
  results["hrtimeOverheadP99Ns"] = Math.round(percentile([...overhead], 99));
  results["canManageMethod"] =
    "batch: 1,000,000 checks on 100,000 accounts (half granted pairs) in 1000 batches of 1000, p50/p99 over batch means; single: 200,000 of those checks each timed alone with process.hrtime.bigint(), timer overhead included and reported separately";
  line(
    `canManage latency, batch means: p50 ${percentile(batchMeans, 50).toFixed(0)} ns, p99 ${percentile(batchMeans, 99).toFixed(0)} ns (p50/p99 over the means of ${CHECKS / CHECK_BATCH} batches of ${CHECK_BATCH} checks; ${CHECKS.toLocaleString("en")} checks on ${ACCOUNTS.toLocaleString("en")} accounts, ${yes > 0 ? "half of them granted pairs" : "no grants?"})`,
  );
  line(
    `canManage latency, single calls: p50 ${single50.toFixed(0)} ns, p99 ${single99.toFixed(0)} ns per call INCLUDING the timer (${SINGLE_CALLS.toLocaleString("en")} calls each between two process.hrtime.bigint() readings; an empty pair of readings costs p50 ${timer50.toFixed(0)} ns, p99 ${percentile([...overhead], 99).toFixed(0)} ns, so per call about p50 ${Math.max(0, single50 - timer50).toFixed(0)} ns, p99 ${Math.max(0, single99 - timer50).toFixed(0)} ns after subtracting the timer's median)`,
  );

  // grants --as-of in the middle of the log: the library call the command line makes
  // after reading its input (reading and decoding the file are not included).
  const middle = events[Math.floor(events.length / 2)]!.position;
  const asOf: number[] = [];
  let asOfCount = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = process.hrtime.bigint();
    asOfCount = accessAsOf(graph, middle).grants().length;
    asOf.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  results["grantsAsOfMiddleMs"] = Number(median(asOf).toFixed(2));
  line(`grants --as-of position ${middle} (the middle of ${events.length.toLocaleString("en")} events, ${asOfCount.toLocaleString("en")} grants): ${median(asOf).toFixed(1)} ms (median of ${asOf.length}; the query on a built graph, without reading the log)`);

  // From PostgreSQL: load into a fresh schema (not timed), then rebuild through readAll.
  if (options.pgUrl !== undefined) {
    {
      const schema = `${options.schemaPrefix ?? "bench"}_projections_${process.pid}`;
      const store = await createPostgresEventStore({ connectionString: options.pgUrl, schema });
      try {
        const t0 = Date.now();
        // Batches of 1,000 in log order: the read models take meaning from events
        // alone (DOMAIN.md), and the batches keep the global order while loading in
        // a thousand round trips.
        // Tagged as the command handler tags them (the store seals a revocation's
        // reason under the keys of the accounts its tags name), though the read
        // models read everything through readAll, never by tag.
        let linking: LinkingState = initialLinkingState;
        for (let i = 0; i < events.length; i += 1000) {
          const batch = events.slice(i, i + 1000).map(({ position: _p, ...e }) => {
            const tags = tagsOf(e as DomainEvent, linking);
            if (isLinkingEvent(e as DomainEvent)) linking = evolveLinking(linking, e as never);
            return { ...(e as EventEnvelope), tags };
          });
          await store.append(batch);
        }
        line(`(loaded ${events.length.toLocaleString("en")} events into PostgreSQL schema ${schema} in ${((Date.now() - t0) / 1000).toFixed(0)} s, not timed)`);
        // Alternately, run for run: the rebuild (the runner over the store: the access graph declares
        // what it reads, so the runner reads the log and opens registrations alone), the store's own
        // readAll drained (every event opened: keys looked up, sealed parts deciphered, as hosts read),
        // and the log's readAll drained (events as kept, sealed parts unopened). Same rows, same pages.
        const drain = async (events: AsyncIterable<unknown>): Promise<number> => {
          const t0 = process.hrtime.bigint();
          let n = 0;
          for await (const _ of events) n++;
          if (n !== EVENTS) throw new Error(`bench: drained ${n} events, not ${EVENTS}`);
          return n / (Number(process.hrtime.bigint() - t0) / 1e9);
        };
        // The rebuild as it read before the access graph declared what it reads: every event opened by the store.
        const { reads: _reads, ...everyEventOpened } = accessGraphProjection;
        const pgRuns: number[] = [];
        const openedRuns: number[] = [];
        const storeReads: number[] = [];
        const logReads: number[] = [];
        for (let i = 0; i < 3; i++) {
          gc();
          const r = await rebuild(store);
          if (accessNow(r.state).grants().length !== grants) throw new Error("bench: the PostgreSQL rebuild disagrees with the in-memory one");
          pgRuns.push(events.length / r.seconds);
          gc();
          const o = await rebuild(store, everyEventOpened);
          if (accessNow(o.state).grants().length !== grants) throw new Error("bench: the PostgreSQL rebuild (every event opened) disagrees");
          openedRuns.push(events.length / o.seconds);
          gc();
          storeReads.push(await drain(store.readAll({ batchSize: 5000 })));
          gc();
          logReads.push(await drain(store.log.readAll({ batchSize: 5000 })));
        }
        const rate = Math.round(median(pgRuns));
        const runsOf = (xs: number[]) => xs.map((x) => Math.round(x / 1000) + "k").join(", ");
        results["rebuildFromPostgresEventsPerSecond"] = rate;
        results["rebuildFromPostgresEveryEventOpenedEventsPerSecond"] = Math.round(median(openedRuns));
        results["postgresStoreReadAllEventsPerSecond"] = Math.round(median(storeReads));
        results["postgresLogReadAllEventsPerSecond"] = Math.round(median(logReads));
        results["rebuildFromPostgresRatioToStoreRead"] = Number((rate / median(storeReads)).toFixed(2));
        results["rebuildFromPostgresRatioToLogRead"] = Number((rate / median(logReads)).toFixed(2));
        line(
          `rebuild of the access graph from ${events.length.toLocaleString("en")} events in PostgreSQL: ${rate.toLocaleString("en")} events/s (median of ${pgRuns.length}, runner batches of 5000; runs ${runsOf(pgRuns)}); ` +
            `alternately, the same rebuild with every event opened by the store (the projection without \`reads\`, as before) ${Math.round(median(openedRuns)).toLocaleString("en")} events/s (runs ${runsOf(openedRuns)}); ` +
            `the same rows read: the store's readAll (every sealed part opened) ${Math.round(median(storeReads)).toLocaleString("en")} events/s (runs ${runsOf(storeReads)}), ` +
            `its log's readAll (as kept) ${Math.round(median(logReads)).toLocaleString("en")} events/s (runs ${runsOf(logReads)}); ` +
            `rebuild ${(rate / median(storeReads)).toFixed(2)}x the store's read, ${(rate / median(logReads)).toFixed(2)}x the log's`,
        );
      } finally {
        await store.close();
        try {
          const client = new pg.Client({ connectionString: options.pgUrl });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await client.end();
        } catch (error) {
          line(`(could not drop schema ${schema}: ${error instanceof Error ? error.message : String(error)})`);
        }
      }
    }
  }
  return results;
}
