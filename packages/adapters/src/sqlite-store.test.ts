import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { eventStoreContract } from "./contract/index.js";
import { sampleEvents } from "./contract/sample-events.js";
import { ConcurrencyError, type EventStore, type RecordedEvent } from "./event-store.js";
import type { StoredEvent } from "./mapper.js";
import { createSqliteEventStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `store-${++files}.sqlite`);

const collect = async (events: AsyncIterable<RecordedEvent>) => {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};

// The contract runs on a file, so a second connection can plant rows behind the store's back.
const contractFile = freshFile();
eventStoreContract("SQLite (file)", () => createSqliteEventStore({ path: contractFile }), {
  plantStoredEvent: (_store: EventStore, stream: string, row: StoredEvent) => {
    const raw = new Database(contractFile);
    try {
      raw
        .prepare(
          `INSERT INTO events (stream, revision, type, data, metadata)
           VALUES (?, (SELECT coalesce(max(revision), -1) + 1 FROM events WHERE stream = ?), ?, ?, ?)`,
        )
        .run(stream, stream, row.type, JSON.stringify(row.data), JSON.stringify(row.metadata));
    } finally {
      raw.close();
    }
  },
});

describe("SQLite store", () => {
  it("works in memory, with nothing on disk", async () => {
    const store = createSqliteEventStore({ path: ":memory:" });
    const events = sampleEvents(3);
    await store.appendToStream("s", events, { expectedRevision: "no-stream" });
    expect((await collect(store.readAll())).map((e) => e.metadata.eventId)).toEqual(events.map((e) => e.metadata.eventId));
    await store.close();
  });

  it("keeps its events when closed and opened again, and never reuses a position", async () => {
    const path = freshFile();
    const first = createSqliteEventStore({ path });
    const { position } = await first.appendToStream("s", sampleEvents(3));
    await first.close();
    const again = createSqliteEventStore({ path });
    expect(await collect(again.readStream("s"))).toHaveLength(3);
    const next = await again.appendToStream("s", sampleEvents(1, 3), { expectedRevision: 2n });
    expect(next.position > position).toBe(true);
    await again.close();
  });

  it("opened read-only (for audits) reads, refuses appends, and never creates a store", async () => {
    const path = freshFile();
    const writer = createSqliteEventStore({ path });
    await writer.appendToStream("s", sampleEvents(2));
    await writer.close();
    const reader = createSqliteEventStore({ path, readOnly: true });
    expect(await collect(reader.readAll())).toHaveLength(2);
    await expect(reader.appendToStream("s", sampleEvents(1, 2))).rejects.toThrow(/readonly/i);
    expect(await collect(reader.readAll())).toHaveLength(2);
    await reader.close();
    const missing = freshFile();
    expect(() => createSqliteEventStore({ path: missing, readOnly: true })).toThrow();
    expect(existsSync(missing)).toBe(false);
  });

  it("checks expected revisions against what another connection to the same file committed", async () => {
    const path = freshFile();
    const [a, b] = [createSqliteEventStore({ path }), createSqliteEventStore({ path })];
    await a.appendToStream("shared", sampleEvents(1), { expectedRevision: "no-stream" });
    await b.appendToStream("shared", sampleEvents(1, 1), { expectedRevision: 0n });
    await expect(a.appendToStream("shared", sampleEvents(1, 2), { expectedRevision: 0n })).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await collect(a.readStream("shared"))).map((e) => e.revision)).toEqual([0n, 1n]);
    await Promise.all([a.close(), b.close()]);
  });
});

describe("SQLite store killed mid-append", () => {
  const fixture = fileURLToPath(new URL("../dist/fixtures/sqlite-appender.js", import.meta.url));
  // Each source the child runs, with what it runs: its build in dist/.
  const builds = ["fixtures/sqlite-appender", "sqlite-store", "mapper"].map((f) => ({
    source: fileURLToPath(new URL(`./${f}.ts`, import.meta.url)),
    built: fileURLToPath(new URL(`../dist/${f}.js`, import.meta.url)),
  }));
  const BATCH = 2000;

  /** Runs the appender on `path` until it has started `killAt` appends, then SIGKILLs it a moment into the next. */
  const appendUntilKilled = (path: string, firstBatch: number, killAt: number) =>
    new Promise<{ started: number[]; finished: number[] }>((resolve, reject) => {
      const child = spawn(process.execPath, [fixture, path, String(BATCH), String(firstBatch)], { stdio: ["ignore", "pipe", "pipe"] });
      const started: number[] = [];
      const finished: number[] = [];
      let lastMs = 5;
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      createInterface({ input: child.stdout }).on("line", (line) => {
        const [what, batch, ms] = line.split(" ");
        if (what === "appended") {
          finished.push(Number(batch));
          lastMs = Number(ms);
        }
        if (what === "appending") {
          started.push(Number(batch));
          // Aim somewhere inside this append: it lasts about as long as the last one.
          if (started.length === killAt) setTimeout(() => child.kill("SIGKILL"), Math.random() * lastMs);
        }
      });
      child.on("exit", (code, signal) =>
        signal === "SIGKILL" ? resolve({ started, finished }) : reject(new Error(`appender exited with ${code}: ${stderr}`)),
      );
    });

  it("leaves a file that opens, holds only whole batches, and keeps positions strictly increasing", async () => {
    const stale = builds.find(({ source, built }) => !existsSync(built) || statSync(source).mtimeMs > statSync(built).mtimeMs);
    if (stale !== undefined)
      throw new Error(`${stale.built} is missing or older than ${stale.source}: build first (npx tsc -b packages/adapters)`);
    const path = freshFile();
    let nextBatch = 0;
    // Several kills, each landing at a different moment of an append.
    for (let round = 0; round < 4; round++) {
      const { started } = await appendUntilKilled(path, nextBatch, 3 + round);
      nextBatch = Math.max(...started) + 1;
    }

    const raw = new Database(path);
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    raw.close();

    const store = createSqliteEventStore({ path });
    const all = await collect(store.readAll());
    const perBatch = new Map<string, number>();
    for (const event of all) perBatch.set(String(event.metadata.correlationId), (perBatch.get(String(event.metadata.correlationId)) ?? 0) + 1);
    expect(perBatch.size).toBeGreaterThan(0);
    const torn = [...perBatch].filter(([, count]) => count !== BATCH);
    expect(torn).toEqual([]);
    for (let i = 1; i < all.length; i++) if (!(all[i]!.position > all[i - 1]!.position)) expect.fail(`position ${all[i]!.position} after ${all[i - 1]!.position}`);
    for (const stream of new Set(all.map((e) => e.stream))) {
      const revisions = all.filter((e) => e.stream === stream).map((e) => e.revision);
      expect(revisions).toEqual(revisions.map((_, i) => BigInt(i)));
    }
    // And the store goes on: the next append continues after the last whole batch.
    const { position } = await store.appendToStream("after-crash", sampleEvents(1));
    expect(position > all.at(-1)!.position).toBe(true);
    await store.close();
  });
});
