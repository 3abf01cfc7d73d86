/**
 * Event store throughput, per store: appends per second for single events and
 * for 100-event batches, with 1 and 8 concurrent writers, and readAll events per
 * second. Each figure is the median of several runs. Events are built before the
 * clock starts; validation and encoding (the Mapper) are part of every append,
 * as they are in real use.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import type { EventEnvelope } from "@linked-accounts/domain";
import { type EventStore, createInMemoryEventStore } from "@linked-accounts/adapters";
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
  /** Events in the store that readAll reads back. */
  readonly readAll: number;
}

interface Subject {
  readonly name: string;
  readonly sizes: Sizes;
  readonly open: () => Promise<EventStore>;
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");

/** Appends `count` appends of `batch` (prebuilt events) split among `writers`, each on its own stream; events per second. */
const appendRun = async (store: EventStore, writers: number, appends: ReadonlyArray<ReadonlyArray<EventEnvelope>>, tag: string) => {
  const perWriter = Math.ceil(appends.length / writers);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const stream = `bench-${tag}-${w}`;
      let expectedRevision: bigint | "no-stream" = "no-stream";
      for (const events of appends.slice(w * perWriter, (w + 1) * perWriter)) {
        expectedRevision = (await store.appendToStream(stream, events, { expectedRevision })).nextExpectedRevision;
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
    const appends = Array.from({ length: count }, (_, i) => sampleEvents(batchSize, i * batchSize));
    figures.push(await appendRun(store, writers, appends, `${run}-${batchSize}-${writers}-${r}`));
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
  for (let i = 0; present < subject.sizes.readAll; i++, present += 100) await store.appendToStream(`bench-fill-${i % 10}`, sampleEvents(100, i * 100));
  const figures: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    let n = 0;
    for await (const _ of store.readAll({ batchSize: 1000 })) n++;
    figures.push(n / ((performance.now() - started) / 1000));
  }
  const eventsPerSecond = median(figures);
  console.log(`stores  ${subject.name.padEnd(13)} readAll: ${format(eventsPerSecond)} events/s (${format(present)} events)`);
  return { eventsPerSecond, runs: figures, events: present };
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
      "Medians. Every append validates and encodes its events through the Mapper (io-ts), and every read decodes them: on a busy 2-CPU machine that alone costs about 10-15 µs per event each way, a ceiling for every store. SQLite uses its default durability (synchronous=FULL in WAL mode). PostgreSQL appends are serialised by an advisory lock (see postgres-store.ts), on a local server with default settings.",
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
