/**
 * Event store throughput, per store: appends per second for single events and
 * for 100-event batches, with 1 and 8 concurrent writers, each append carrying
 * a condition on its writer's own tag (disjoint conditions, as unrelated
 * commands have: every append is checked, none is refused); read by query (one
 * tag out of ten) and readAll events per second. Each figure is the median of
 * several runs. Events are built before the clock starts; validation and
 * encoding (the Mapper) are part of every append, as they are in real use.
 *
 * Half the events (AccountRegistered) carry a personal field, so the stores
 * as hosts open them seal it on every append (under a new account's key, which
 * the append stores in the key table beside the events) and open it on every
 * read. Each SQL store is measured twice: as hosts use it, and its log alone
 * (the same events sealed beforehand, read back sealed); the plain driver
 * writes the rows as the log keeps them, so both compare on the same rows.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { STREAM_DOES_NOT_EXIST } from "@event-driven-io/emmett";
import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql";
import Database from "better-sqlite3";
import pg from "pg";
import {
  type EventLog,
  type EventStore,
  type KeyStore,
  type NewEvent,
  type StoredEnvelope,
  createInMemoryEventStore,
} from "@linked-accounts/adapters";
import { createPostgresEventStore } from "@linked-accounts/adapters/postgres";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { sampleEvents } from "@linked-accounts/adapters/contract";
import { EventMetadata, encodeEvent } from "@linked-accounts/domain";
import { type EventEnvelope, isSealed } from "@linked-accounts/domain/internal";
import { median } from "./stats.js";

const RUNS = 5;
const WRITERS = [1, 8] as const;

interface Sizes {
  /** Single-event appends per run (shared among the writers). */
  readonly singles: number;
  /** 100-event batches per run (shared among the writers). */
  readonly batches: number;
  /** Events in the store that readAll reads back (a tenth of them by query). */
  readonly readAll: number;
}

interface Subject {
  readonly name: string;
  readonly sizes: Sizes;
  /**
   * The store as hosts use it (events in the clear, personal fields sealed on
   * the way in and opened on the way out), or only the log underneath it
   * (given the events already sealed, read back sealed): what the sealing layer
   * costs is the difference between the two.
   */
  readonly layer: "store" | "log";
  readonly open: () => Promise<EventStore & { readonly log: EventLog; readonly keys: KeyStore }>;
  /** The plain driver on the very same tables (opened after the store, which creates them), and others to compare with. */
  readonly baselines?: () => Promise<ReadonlyArray<Baseline>>;
}

/** One event as the stores keep it: the columns, already encoded (what the plain driver writes). */
interface PlainRow {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly tags: ReadonlyArray<string>;
}

/**
 * The plain driver with no library around it: the same rows into the same
 * tables (same columns, same JSON, same indexes), one round trip or one
 * transaction per batch, no validation, no condition; and every row read back
 * in pages of 1,000 with its JSON parsed.
 */
interface Baseline {
  readonly name: string;
  /** `writer` names the writer (and the stream, for a store of streams, each writer appending to its own). */
  append(rows: ReadonlyArray<PlainRow>, writer: string): Promise<void>;
  /** Reads every row, JSON parsed; returns how many. Absent where not compared. */
  readonly readAll?: () => Promise<number>;
  close(): Promise<void>;
}

/** The rows as a log keeps them: a sealed event's data as sealed, any other's as the catalog encodes it. */
const plainRows = (events: ReadonlyArray<NewEvent<StoredEnvelope>>): PlainRow[] =>
  events.map((event) => ({
    ...(isSealed(event) ? { type: event.type, data: event.data } : encodeEvent(event as EventEnvelope)),
    metadata: EventMetadata.encode(event.metadata),
    tags: event.tags,
  }));

/**
 * `batches` as a store's log keeps them, sealed before any clock starts under
 * keys made in `keys` (the measured store's own key store, so the store reads
 * back what the plain driver wrote into its tables): the plain driver and the
 * log are given the very rows the store writes.
 */
const sealedForm = async (
  batches: ReadonlyArray<ReadonlyArray<NewEvent>>,
  keys: KeyStore,
): Promise<Array<Array<NewEvent<StoredEnvelope>>>> => {
  // The key store is the measured store's: closing this one must leave it open.
  const sealer = createInMemoryEventStore({ keys: { ...keys, close: async () => undefined } });
  for (const events of batches) await sealer.append(events);
  const all: Array<NewEvent<StoredEnvelope>> = [];
  for await (const { type, data, metadata, tags } of sealer.log.readAll()) all.push({ type, data, metadata, tags } as NewEvent<StoredEnvelope>);
  await sealer.close();
  let at = 0;
  return batches.map((events) => all.slice(at, (at += events.length)));
};

const PAGE = 1000;

/**
 * Where the next sample events start: every event the bench makes is new (an
 * AccountRegistered a new account, its key created by the append that stores
 * it, as a real registration's is), never one whose key a store still caches.
 */
let nextSample = 0;
const freshSamples = (count: number, tags: ReadonlyArray<string>): NewEvent[] => {
  const from = nextSample;
  nextSample += count + (count % 2); // even: every batch starts with an AccountRegistered
  return sampleEvents(count, from, tags);
};

/** Plain `pg` on the store's own table: one INSERT … SELECT FROM jsonb_array_elements per batch (one round trip). */
const plainPostgres = (url: string, schema: string, writers: number): Baseline => {
  const pool = new pg.Pool({ connectionString: url, max: writers });
  pool.on("error", () => undefined);
  const insert = `WITH inserted AS (
      INSERT INTO ${schema}.events (type, data, metadata, tags)
      SELECT e.value->>'type', e.value->'data', e.value->'metadata', ARRAY(SELECT jsonb_array_elements_text(e.value->'tags'))
      FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord
      RETURNING position)
    SELECT max(position) AS last FROM inserted`;
  const page = `SELECT position, type, data, metadata, tags FROM ${schema}.events WHERE position >= $1 ORDER BY position LIMIT $2`;
  return {
    name: "plain pg",
    async append(rows) {
      await pool.query({ name: "plain-insert", text: insert, values: [JSON.stringify(rows)] });
    },
    async readAll() {
      const client = await pool.connect();
      try {
        let n = 0;
        let from = 1n;
        for (;;) {
          const { rows } = await client.query<{ position: string }>({ name: "plain-page", text: page, values: [from.toString(), PAGE] });
          n += rows.length;
          if (rows.length < PAGE) return n;
          from = BigInt(rows[rows.length - 1]!.position) + 1n;
        }
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
};

/**
 * Emmett (a TypeScript event store on PostgreSQL, bench-only dependency) in a
 * schema of its own: each writer appends to its own stream, with the expected
 * stream version (its concurrency check, as ours carries a condition).
 */
const emmett = async (url: string, schema: string): Promise<Baseline> => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await admin.end();
  const store = getPostgreSQLEventStore(`${url}${url.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`);
  const versions = new Map<string, bigint>();
  return {
    name: "Emmett 0.42",
    async append(rows, writer) {
      const expected = versions.get(writer);
      const result = await store.appendToStream(
        writer,
        rows.map((row) => ({ type: row.type, data: row.data as Record<string, unknown>, metadata: row.metadata as Record<string, unknown> })),
        { expectedStreamVersion: expected ?? STREAM_DOES_NOT_EXIST },
      );
      versions.set(writer, result.nextExpectedStreamVersion);
    },
    close: () => store.close(),
  };
};

/** Plain better-sqlite3 on the store's own file: one IMMEDIATE transaction per batch, same pragmas. */
const plainSqlite = (file: string, durability: "FULL" | "NORMAL"): Baseline => {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability}`);
  db.pragma("busy_timeout = 5000");
  db.defaultSafeIntegers(true);
  const insert = db.prepare("INSERT INTO events (type, data, metadata, tags) VALUES (?, ?, ?, ?)");
  const insertTag = db.prepare("INSERT INTO event_tags (tag, position) VALUES (?, ?)");
  const page = db.prepare<[bigint, number], { position: bigint; type: string; data: string; metadata: string; tags: string }>(
    "SELECT position, type, data, metadata, tags FROM events WHERE position >= ? ORDER BY position LIMIT ?",
  );
  const append = db.transaction((rows: ReadonlyArray<PlainRow>) => {
    for (const row of rows) {
      const position = insert.run(row.type, JSON.stringify(row.data), JSON.stringify(row.metadata), JSON.stringify(row.tags)).lastInsertRowid;
      for (const tag of row.tags) insertTag.run(tag, position);
    }
  });
  return {
    name: "plain better-sqlite3",
    async append(rows) {
      append.immediate(rows);
    },
    async readAll() {
      let n = 0;
      let from = 1n;
      let sink = 0;
      for (;;) {
        const rows = page.all(from, PAGE);
        for (const row of rows) {
          const parsed = { position: row.position, type: row.type, data: JSON.parse(row.data), metadata: JSON.parse(row.metadata), tags: JSON.parse(row.tags) };
          sink += parsed.tags.length;
        }
        n += rows.length;
        if (rows.length < PAGE) return n + (sink < 0 ? 1 : 0);
        from = rows[rows.length - 1]!.position + 1n;
      }
    },
    close: async () => {
      db.close();
    },
  };
};

const format = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * Appends `appends` (prebuilt events, each tagged with its writer's tag) split
 * among `writers`; each append is conditional on nothing of its writer's tag
 * having been stored since its previous append. Events per second.
 */
const appendRun = async <E extends StoredEnvelope>(
  store: EventStore<E>,
  writers: number,
  appends: ReadonlyArray<ReadonlyArray<NewEvent<E>>>,
  tagOf: (w: number) => string,
) => {
  const perWriter = Math.ceil(appends.length / writers);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const query = { items: [{ tags: [tagOf(w)] }] };
      let after: bigint | null = null;
      for (const events of appends.slice(w * perWriter, (w + 1) * perWriter)) {
        after = (await store.append(events, { failIfEventsMatch: query, after })).position;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return appends.reduce((n, events) => n + events.length, 0) / seconds;
};

/** The same split among writers as `appendRun`, through the plain driver. Events per second. */
const plainAppendRun = async (baseline: Baseline, writers: number, appends: ReadonlyArray<ReadonlyArray<PlainRow>>, writerOf: (w: number) => string) => {
  const perWriter = Math.ceil(appends.length / writers);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (const rows of appends.slice(w * perWriter, (w + 1) * perWriter)) await baseline.append(rows, writerOf(w));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return appends.reduce((n, rows) => n + rows.length, 0) / seconds;
};

const beside = (ours: number, compared: ReadonlyArray<{ name: string; eventsPerSecond: number }>) =>
  compared.map((c) => `; ${c.name} ${format(c.eventsPerSecond)}/s, ratio ${(ours / c.eventsPerSecond).toFixed(2)}`).join("");
const comparison = (ours: number, compared: ReadonlyArray<{ name: string; eventsPerSecond: number; runs: number[] }>) =>
  Object.fromEntries(compared.map((c) => [c.name, { eventsPerSecond: c.eventsPerSecond, runs: c.runs, ratio: ours / c.eventsPerSecond }]));

/** Ours and each baseline, run for run alternately, so all meet the same load on a shared machine. */
const measureAppends = async (
  subject: Subject,
  store: EventStore & { readonly log: EventLog; readonly keys: KeyStore },
  baselines: ReadonlyArray<Baseline>,
  batchSize: 1 | 100,
  writers: number,
  run: string,
) => {
  const count = batchSize === 1 ? subject.sizes.singles : subject.sizes.batches;
  const figures: number[] = [];
  const others = baselines.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    const tagOf = (w: number) => `bench:${run}-${batchSize}-${writers}-${r}-${w}`;
    const perWriter = Math.ceil(count / writers);
    const appends = Array.from({ length: count }, (_, i) => freshSamples(batchSize, [tagOf(Math.floor(i / perWriter))]));
    figures.push(
      subject.layer === "log"
        ? await appendRun(store.log, writers, await sealedForm(appends, store.keys), tagOf)
        : await appendRun(store, writers, appends, tagOf),
    );
    for (const [b, baseline] of baselines.entries()) {
      const writerOf = (w: number) => `bench-${b}-${run}-${batchSize}-${writers}-${r}-${w}`;
      const sealed = await sealedForm(
        Array.from({ length: count }, (_, i) => freshSamples(batchSize, [writerOf(Math.floor(i / perWriter))])),
        store.keys,
      );
      others[b]!.push(await plainAppendRun(baseline, writers, sealed.map(plainRows), writerOf));
    }
  }
  const eventsPerSecond = median(figures);
  const compared = baselines.map((baseline, b) => ({ name: baseline.name, eventsPerSecond: median(others[b]!), runs: others[b]! }));
  const label = batchSize === 1 ? "single events" : "100-event batches";
  console.log(
    `stores  ${subject.name.padEnd(13)} append ${label}, ${writers} writer${writers === 1 ? "" : "s"}: ${format(eventsPerSecond)} events/s` +
      (batchSize === 100 ? ` (${format(eventsPerSecond / 100)} appends/s)` : "") +
      beside(eventsPerSecond, compared),
  );
  return { eventsPerSecond, appendsPerSecond: eventsPerSecond / batchSize, runs: figures, appendsPerRun: count, compared: comparison(eventsPerSecond, compared) };
};

const measureReadAll = async (subject: Subject, opened: EventStore & { readonly log: EventLog; readonly keys: KeyStore }, baselines: ReadonlyArray<Baseline>) => {
  const readers = baselines.filter((b) => b.readAll !== undefined);
  // The log reads events as kept (sealed); the store opens them. Both are filled through the store.
  const store: EventStore<StoredEnvelope> = subject.layer === "log" ? opened.log : opened;
  // Fill up to the size to read (earlier measurements already wrote some).
  let present = 0;
  for await (const _ of store.readAll()) present++;
  // Batches of 100 events, each batch under one of ten tags, interleaved: at
  // least 20,000 of them, so one tag's read has 2,000 events to find.
  for (let i = 0; i < 200 || present < subject.sizes.readAll; i++, present += 100)
    await opened.append(freshSamples(100, [`bench-fill:${i % 10}`]));
  const figures: number[] = [];
  const others = readers.map(() => [] as number[]);
  // This process's CPU time per event (user + system), beside wall-clock time: on a shared
  // machine it moves less with the load. It is all of the work for SQLite (in this process),
  // only the client's part for PostgreSQL (the server's is not counted).
  const cpu: number[] = [];
  const othersCpu = readers.map(() => [] as number[]);
  const cpuMicros = (since: NodeJS.CpuUsage, events: number) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / events;
  };
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    let n = 0;
    for await (const _ of store.readAll({ batchSize: 1000 })) n++;
    figures.push(n / ((performance.now() - started) / 1000));
    cpu.push(cpuMicros(cpuStarted, n));
    for (const [b, reader] of readers.entries()) {
      const plainStarted = performance.now();
      const plainCpu = process.cpuUsage();
      const m = await reader.readAll!();
      if (m !== n) throw new Error(`${reader.name} read ${m} rows, the store ${n}`);
      others[b]!.push(m / ((performance.now() - plainStarted) / 1000));
      othersCpu[b]!.push(cpuMicros(plainCpu, m));
    }
  }
  const eventsPerSecond = median(figures);
  const compared = readers.map((reader, b) => ({ name: reader.name, eventsPerSecond: median(others[b]!), runs: others[b]! }));
  const cpuPerEvent = median(cpu);
  const comparedCpu = readers.map((reader, b) => ({ name: reader.name, cpuMicrosPerEvent: median(othersCpu[b]!), runs: othersCpu[b]! }));
  console.log(
    `stores  ${subject.name.padEnd(13)} readAll: ${format(eventsPerSecond)} events/s (${format(present)} events)${beside(eventsPerSecond, compared)}`,
  );
  console.log(
    `stores  ${subject.name.padEnd(13)} readAll, this process's CPU: ${cpuPerEvent.toFixed(1)} µs/event` +
      comparedCpu.map((c) => `; ${c.name} ${c.cpuMicrosPerEvent.toFixed(1)} µs/event, ratio ${(c.cpuMicrosPerEvent / cpuPerEvent).toFixed(2)}`).join(""),
  );
  const byQuery: number[] = [];
  let matched = 0;
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    matched = 0;
    for await (const _ of store.read({ items: [{ tags: [`bench-fill:${r % 10}`] }] })) matched++;
    byQuery.push(matched / ((performance.now() - started) / 1000));
  }
  const queryEventsPerSecond = median(byQuery);
  console.log(
    `stores  ${subject.name.padEnd(13)} read by query (one tag of ten): ${format(queryEventsPerSecond)} events/s (${format(matched)} of ${format(present)} events)`,
  );
  return {
    eventsPerSecond,
    runs: figures,
    events: present,
    compared: comparison(eventsPerSecond, compared),
    processCpuMicrosPerEvent: {
      ours: cpuPerEvent,
      runs: cpu,
      compared: Object.fromEntries(
        comparedCpu.map((c) => [c.name, { cpuMicrosPerEvent: c.cpuMicrosPerEvent, runs: c.runs, ratio: c.cpuMicrosPerEvent / cpuPerEvent }]),
      ),
    },
    readByQuery: { eventsPerSecond: queryEventsPerSecond, runs: byQuery, matched },
  };
};

export async function benchStores(options: { pgUrl?: string; schemaPrefix?: string }): Promise<Record<string, unknown>> {
  const schemaPrefix = options.schemaPrefix ?? "bench";
  const temp = mkdtempSync(path.join(os.tmpdir(), "linked-accounts-bench-stores-"));
  const schemas: string[] = [];
  let n = 0;
  let emmettStore: Baseline | undefined;
  const subjects: Subject[] = [
    { name: "in-memory", layer: "store", sizes: { singles: 2000, batches: 60, readAll: 50_000 }, open: async () => createInMemoryEventStore() },
    ...(["store", "log"] as const).map(
      (layer): Subject => ({
        name: layer === "store" ? "sqlite" : "sqlite-log",
        layer,
        sizes: { singles: 300, batches: 50, readAll: 50_000 },
        open: async () => createSqliteEventStore({ path: path.join(temp, `stores-${n}.sqlite`) }),
        baselines: async () => [plainSqlite(path.join(temp, `stores-${n++}.sqlite`), "FULL")],
      }),
    ),
    {
      // Survives the process dying, not necessarily power loss: the WAL is not synced on every commit.
      name: "sqlite-normal",
      layer: "store",
      sizes: { singles: 2000, batches: 50, readAll: 0 },
      open: async () => createSqliteEventStore({ path: path.join(temp, `stores-${n}.sqlite`), durability: "normal" }),
      baselines: async () => [plainSqlite(path.join(temp, `stores-${n++}.sqlite`), "NORMAL")],
    },
  ];
  if (options.pgUrl !== undefined) {
    const pgUrl = options.pgUrl;
    for (const layer of ["store", "log"] as const) subjects.push({
      name: layer === "store" ? "postgres" : "postgres-log",
      layer,
      sizes: { singles: 300, batches: 50, readAll: 50_000 },
      open: async () => {
        const schema = `${schemaPrefix}_stores_${process.pid}_${n}`;
        schemas.push(schema);
        return createPostgresEventStore({ connectionString: pgUrl, schema });
      },
      baselines: async () => {
        // One Emmett store for the process (a second one in another schema fails its own migration); its streams are named per subject.
        if (emmettStore === undefined) {
          const emmettSchema = `${schemaPrefix}_emmett_${process.pid}`;
          schemas.push(emmettSchema);
          emmettStore = await emmett(pgUrl, emmettSchema);
        }
        return [plainPostgres(pgUrl, `${schemaPrefix}_stores_${process.pid}_${n++}`, Math.max(...WRITERS)), { ...emmettStore, close: async () => undefined }];
      },
    });
  } else console.log("stores  postgres      skipped: no PostgreSQL URL given (set PG_TEST_URL)");

  const results: Record<string, unknown> = {
    runs: RUNS,
    notes:
      "Medians. Every append validates and encodes its events through the Mapper (io-ts), and every read decodes them: on a busy 2-CPU machine that alone costs about 10-15 µs per event each way, a ceiling for every store. SQLite uses its default durability (synchronous=FULL in WAL mode). PostgreSQL appends run in parallel under locks scoped to their tags, types and conditions, reads stop at a read horizon (see postgres-store.ts); a local server with default settings. Beside each figure, run for run alternately, the plain driver (pg, better-sqlite3) writing the same rows into the same tables (one round trip or transaction per batch, no validation, no condition) and reading them back in pages of 1,000 with JSON parsed. Every append carries a condition on its writer's own tag (checked through the tag index inside the append transaction, never refused). The events alternate AccountRegistered (a barcode, personal: sealed under a new account's key, which the append stores in its own transaction) and LoanRenewed (nothing personal). 'sqlite' and 'postgres' are the stores as hosts use them (sealing on append, opening on read); 'sqlite-log' and 'postgres-log' the log underneath, given the events already sealed and reading them back sealed. The plain driver writes the rows as the log keeps them (sealed), the same for both.",
  };
  try {
    // BENCH_STORES=sqlite,postgres measures only the stores named.
    const only = process.env.BENCH_STORES?.split(",");
    // BENCH_STORES_FIGURES=appendSingleWriters1,readAll measures only the figures named.
    const figuresWanted = process.env.BENCH_STORES_FIGURES?.split(",");
    for (const subject of subjects) {
      if (only !== undefined && !only.includes(subject.name)) continue;
      const store = await subject.open();
      const baselines = (await subject.baselines?.()) ?? [];
      try {
        const figures: Record<string, unknown> = {};
        for (const batchSize of [1, 100] as const)
          for (const writers of WRITERS) {
            const figure = `append${batchSize === 1 ? "Single" : "Batch100"}Writers${writers}`;
            if (figuresWanted === undefined || figuresWanted.includes(figure))
              figures[figure] = await measureAppends(subject, store, baselines, batchSize, writers, `${subject.name}`);
          }
        if (subject.sizes.readAll > 0 && (figuresWanted === undefined || figuresWanted.includes("readAll")))
          figures.readAll = await measureReadAll(subject, store, baselines);
        results[subject.name] = figures;
      } finally {
        for (const baseline of baselines) await baseline.close();
        await store.close();
      }
    }
  } finally {
    await emmettStore?.close();
    if (options.pgUrl !== undefined && schemas.length > 0) {
      const client = new pg.Client({ connectionString: options.pgUrl });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
    rmSync(temp, { recursive: true, force: true });
  }
  return results;
}
