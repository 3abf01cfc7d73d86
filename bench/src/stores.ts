/**
 * Event store throughput, per store: appends per second for single events and
 * for 100-event batches, with 1 and 8 concurrent writers, each append carrying
 * a condition on its writer's own tag (disjoint conditions, as unrelated
 * commands have: every append is checked, none is refused); read by query (one
 * tag out of ten) and readAll events per second. Each figure is the median of
 * several runs. Events are built before the clock starts; validation and
 * encoding (the Mapper) are part of every append, as they are in real use.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { type EventStore, type NewEvent, createInMemoryEventStore } from "@linked-accounts/adapters";
import { createPostgresEventStore } from "@linked-accounts/adapters/postgres";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { sampleEvents } from "@linked-accounts/adapters/contract";
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
  readonly open: () => Promise<EventStore>;
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * Appends `appends` (prebuilt events, each tagged with its writer's tag) split
 * among `writers`; each append is conditional on nothing of its writer's tag
 * having been stored since its previous append. Events per second.
 */
const appendRun = async (store: EventStore, writers: number, appends: ReadonlyArray<ReadonlyArray<NewEvent>>, tagOf: (w: number) => string) => {
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

const measureAppends = async (subject: Subject, store: EventStore, batchSize: 1 | 100, writers: number, run: string) => {
  const count = batchSize === 1 ? subject.sizes.singles : subject.sizes.batches;
  const figures: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const tagOf = (w: number) => `bench:${run}-${batchSize}-${writers}-${r}-${w}`;
    const perWriter = Math.ceil(count / writers);
    const appends = Array.from({ length: count }, (_, i) => sampleEvents(batchSize, i * batchSize, [tagOf(Math.floor(i / perWriter))]));
    figures.push(await appendRun(store, writers, appends, tagOf));
  }
  const eventsPerSecond = median(figures);
  const label = batchSize === 1 ? "single events" : "100-event batches";
  console.log(
    `stores  ${subject.name.padEnd(13)} append ${label}, ${writers} writer${writers === 1 ? "" : "s"}: ${format(eventsPerSecond)} events/s` +
      (batchSize === 100 ? ` (${format(eventsPerSecond / 100)} appends/s)` : ""),
  );
  return { eventsPerSecond, appendsPerSecond: eventsPerSecond / batchSize, runs: figures, appendsPerRun: count };
};

const measureReadAll = async (subject: Subject, store: EventStore) => {
  // Fill up to the size to read (earlier measurements already wrote some).
  let present = 0;
  for await (const _ of store.readAll()) present++;
  // Batches of 100 events, each batch under one of ten tags, interleaved: at
  // least 20,000 of them, so one tag's read has 2,000 events to find.
  for (let i = 0; i < 200 || present < subject.sizes.readAll; i++, present += 100)
    await store.append(sampleEvents(100, i * 100, [`bench-fill:${i % 10}`]));
  const figures: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    let n = 0;
    for await (const _ of store.readAll({ batchSize: 1000 })) n++;
    figures.push(n / ((performance.now() - started) / 1000));
  }
  const eventsPerSecond = median(figures);
  console.log(`stores  ${subject.name.padEnd(13)} readAll: ${format(eventsPerSecond)} events/s (${format(present)} events)`);
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
  return { eventsPerSecond, runs: figures, events: present, readByQuery: { eventsPerSecond: queryEventsPerSecond, runs: byQuery, matched } };
};

export async function benchStores(options: { pgUrl?: string }): Promise<Record<string, unknown>> {
  const temp = mkdtempSync(path.join(os.tmpdir(), "linked-accounts-bench-stores-"));
  const schemas: string[] = [];
  let n = 0;
  const subjects: Subject[] = [
    { name: "in-memory", sizes: { singles: 2000, batches: 60, readAll: 50_000 }, open: async () => createInMemoryEventStore() },
    {
      name: "sqlite",
      sizes: { singles: 300, batches: 50, readAll: 50_000 },
      open: async () => createSqliteEventStore({ path: path.join(temp, `stores-${n++}.sqlite`) }),
    },
    {
      // Survives the process dying, not necessarily power loss: the WAL is not synced on every commit.
      name: "sqlite-normal",
      sizes: { singles: 2000, batches: 50, readAll: 0 },
      open: async () => createSqliteEventStore({ path: path.join(temp, `stores-${n++}.sqlite`), durability: "normal" }),
    },
  ];
  if (options.pgUrl !== undefined) {
    const pgUrl = options.pgUrl;
    subjects.push({
      name: "postgres",
      sizes: { singles: 300, batches: 50, readAll: 50_000 },
      open: async () => {
        const schema = `bench_stores_${process.pid}_${n++}`;
        schemas.push(schema);
        return createPostgresEventStore({ connectionString: pgUrl, schema });
      },
    });
  } else console.log("stores  postgres      skipped: no PostgreSQL URL given (set PG_TEST_URL)");

  const results: Record<string, unknown> = {
    runs: RUNS,
    notes:
      "Medians. Every append validates and encodes its events through the Mapper (io-ts), and every read decodes them: on a busy 2-CPU machine that alone costs about 10-15 µs per event each way, a ceiling for every store. SQLite uses its default durability (synchronous=FULL in WAL mode). PostgreSQL appends are serialised by an advisory lock (see postgres-store.ts), on a local server with default settings. Every append carries a condition on its writer's own tag (checked through the tag index inside the append transaction, never refused).",
  };
  try {
    for (const subject of subjects) {
      const store = await subject.open();
      try {
        const figures: Record<string, unknown> = {};
        for (const batchSize of [1, 100] as const)
          for (const writers of WRITERS)
            figures[`append${batchSize === 1 ? "Single" : "Batch100"}Writers${writers}`] = await measureAppends(
              subject,
              store,
              batchSize,
              writers,
              `${subject.name}`,
            );
        if (subject.sizes.readAll > 0) figures.readAll = await measureReadAll(subject, store);
        results[subject.name] = figures;
      } finally {
        await store.close();
      }
    }
  } finally {
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
