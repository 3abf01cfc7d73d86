/**
 * Read side figures (issue 4): rebuilding the access graph from 1,000,000 events
 * (in memory, and from PostgreSQL when a URL is given), canManage latency over
 * 1,000,000 checks on 100,000 accounts, memory per grant, and `grants --as-of`
 * in the middle of the log. Medians of repeated runs.
 */
import type { EventEnvelope } from "@linked-accounts/domain";
import {
  type AccessGraphState,
  type PositionedEvent,
  accessAsOf,
  accessGraphProjection,
  accessNow,
  createRunner,
  sourceOf,
} from "@linked-accounts/projections";

const EVENTS = 1_000_000;
const ACCOUNTS = 100_000;
const CHECKS = 1_000_000;
const CHECK_BATCH = 1_000;

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** A deterministic pseudo-random source (mulberry32), so every run folds the same log. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, "0").slice(-digits);
const uuidV7 = (ms: number, counter: number) => {
  const t = hex(ms, 12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(Math.floor(counter / 2 ** 32), 3)}-8000-${hex(counter, 12)}`;
};

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
        schemaVersion: 1,
        occurredAt,
        actor: { kind: "account", accountId: actor },
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

const rebuild = async (source: Parameters<typeof createRunner>[0]["source"]): Promise<{ seconds: number; state: AccessGraphState }> => {
  const runner = createRunner({ source, projection: accessGraphProjection, batchSize: 5000 });
  const t0 = process.hrtime.bigint();
  await runner.catchUp();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, state: runner.state() };
};

interface PgStore {
  appendToStream(stream: string, events: ReadonlyArray<EventEnvelope>, options?: { expectedRevision?: "any" }): Promise<unknown>;
  readAll(options?: { fromPosition?: bigint; batchSize?: number }): AsyncIterable<PositionedEvent>;
  close(): Promise<void>;
}

export async function benchProjections(options: { pgUrl?: string }): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const line = (text: string) => console.log(`projections: ${text}`);

  const { events, streams } = libraryLog(EVENTS, ACCOUNTS);
  const source = sourceOf(events);

  // Rebuild in memory: the runner reading an in-memory log, batches of 5000. 3 runs.
  const runs: number[] = [];
  let state: AccessGraphState | undefined;
  for (let i = 0; i < 3; i++) {
    state = undefined;
    gc();
    const r = await rebuild(source);
    runs.push(events.length / r.seconds);
    state = r.state;
  }
  const graph = state!;

  // The fold alone, over events already decoded in memory (no async reading). 3 runs.
  const folds: number[] = [];
  for (let i = 0; i < 3; i++) {
    gc();
    const t0 = process.hrtime.bigint();
    const s = accessGraphProjection.initial();
    for (const e of events) accessGraphProjection.evolve(s, e);
    folds.push(events.length / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  results["foldInMemoryEventsPerSecond"] = Math.round(median(folds));
  line(`fold of the access graph alone (events already decoded in an array): ${Math.round(median(folds)).toLocaleString("en")} events/s (median of ${folds.length})`);
  results["rebuildInMemoryEventsPerSecond"] = Math.round(median(runs));
  line(`rebuild of the access graph from ${events.length.toLocaleString("en")} events in memory (runner over an async readAll, batches of 5000): ${Math.round(median(runs)).toLocaleString("en")} events/s (median of ${runs.length})`);

  // Memory per grant: the heap the graph holds (a fresh fold, the log already in memory).
  const grants = accessNow(graph).grants().length;
  const opened = graph.opened.length;
  const hasGc = (globalThis as { gc?: () => void }).gc !== undefined;
  // Measured as what the graph retains: heap with the graph alive minus heap once it is
  // dropped, each after forced full collections (garbage made earlier cannot skew it).
  const heaps: number[] = [];
  for (let i = 0; i < 3; i++) {
    let s: AccessGraphState | undefined = accessGraphProjection.initial();
    for (const e of events) accessGraphProjection.evolve(s, e);
    if (accessNow(s).grants().length !== grants) throw new Error("bench: a second fold disagrees");
    gc();
    const alive = process.memoryUsage().heapUsed;
    s = undefined;
    gc();
    heaps.push(alive - process.memoryUsage().heapUsed);
  }
  const bytesPerGrant = median(heaps) / grants;
  results["grantsInForce"] = grants;
  results["grantIntervals"] = opened;
  results["links"] = graph.links.size;
  results["heapBytesPerGrant"] = Math.round(bytesPerGrant);
  results["heapMeasuredAfterGc"] = hasGc;
  line(
    `memory per grant: ${Math.round(bytesPerGrant)} bytes (heap delta of the whole access graph, ${(median(heaps) / 2 ** 20).toFixed(1)} MiB, over ${grants.toLocaleString("en")} grants in force; it also holds ${graph.links.size.toLocaleString("en")} links, ${opened.toLocaleString("en")} intervals, ${graph.accounts.size.toLocaleString("en")} accounts and the time index${hasGc ? "" : "; WITHOUT --expose-gc, so the figure is noisy"})`,
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
  // Timing one call is below the clock's resolution, so calls are timed in batches of
  // 1000 and each batch's mean is one sample: p50 and p99 are over 1000 batch means.
  let yes = 0;
  for (let i = 0; i < CHECKS; i++) if (view.canManage(managers[i]!, accounts[i]!)) yes++; // warm-up
  const perCall: number[] = [];
  for (let b = 0; b < CHECKS; b += CHECK_BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = b; i < b + CHECK_BATCH; i++) if (view.canManage(managers[i]!, accounts[i]!)) yes++;
    perCall.push(Number(process.hrtime.bigint() - t0) / CHECK_BATCH);
  }
  results["canManageP50Ns"] = Math.round(percentile(perCall, 50));
  results["canManageP99Ns"] = Math.round(percentile(perCall, 99));
  results["canManageMethod"] = "1,000,000 checks on 100,000 accounts (half granted pairs), timed in batches of 1000; p50/p99 of the per-check mean of each batch";
  line(
    `canManage latency: p50 ${percentile(perCall, 50).toFixed(0)} ns, p99 ${percentile(perCall, 99).toFixed(0)} ns per check (${CHECKS.toLocaleString("en")} checks on ${ACCOUNTS.toLocaleString("en")} accounts, timed in batches of ${CHECK_BATCH}; ${yes > 0 ? "granted and refused pairs" : "no grants?"})`,
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
    const adapters = (await import("@linked-accounts/adapters" as string)) as {
      createPostgresEventStore?: (o: { connectionString: string; schema?: string }) => PgStore | Promise<PgStore>;
    };
    if (adapters.createPostgresEventStore === undefined) {
      results["rebuildFromPostgres"] = "unavailable: @linked-accounts/adapters has no createPostgresEventStore";
      line("rebuild from PostgreSQL: unavailable (no PostgreSQL store in @linked-accounts/adapters)");
    } else {
      const schema = `bench_projections_${process.pid}`;
      const store = await adapters.createPostgresEventStore({ connectionString: options.pgUrl, schema });
      try {
        const t0 = Date.now();
        // One append per run of events of the same stream, in log order (so positions keep the order).
        for (let i = 0; i < events.length; ) {
          let j = i + 1;
          while (j < events.length && j - i < 1000 && streams[j] === streams[i]) j++;
          const batch = events.slice(i, j).map(({ position: _p, ...e }) => e as EventEnvelope);
          await store.appendToStream(streams[i]!, batch, { expectedRevision: "any" });
          i = j;
        }
        line(`(loaded ${events.length.toLocaleString("en")} events into PostgreSQL schema ${schema} in ${((Date.now() - t0) / 1000).toFixed(0)} s, not timed)`);
        const pgRuns: number[] = [];
        for (let i = 0; i < 3; i++) {
          gc();
          const r = await rebuild(store);
          if (accessNow(r.state).grants().length !== grants) throw new Error("bench: the PostgreSQL rebuild disagrees with the in-memory one");
          pgRuns.push(events.length / r.seconds);
        }
        results["rebuildFromPostgresEventsPerSecond"] = Math.round(median(pgRuns));
        line(`rebuild of the access graph from ${events.length.toLocaleString("en")} events in PostgreSQL: ${Math.round(median(pgRuns)).toLocaleString("en")} events/s (median of ${pgRuns.length}, readAll batches of 5000)`);
      } finally {
        await store.close();
        try {
          type Client = { connect(): Promise<void>; query(q: string): Promise<unknown>; end(): Promise<void> };
          const { default: pg } = (await import("pg" as string)) as { default: { Client: new (o: { connectionString: string }) => Client } };
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
