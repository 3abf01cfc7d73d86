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
import { AppendConditionError, AppendFailedError, type RecordedEvent } from "./event-store.js";
import { createSqliteEventStore, plantStoredSqliteEvent } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `store-${++files}.sqlite`);

const collect = async (events: AsyncIterable<RecordedEvent>) => {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};
const byTag = (tag: string) => ({ items: [{ tags: [tag] }] });

// The contract runs on a file, so a second connection can plant rows behind the store's back.
const contractFile = freshFile();
eventStoreContract("SQLite (file)", () => createSqliteEventStore({ path: contractFile }), {
  plantStoredEvent: (_store, row) => plantStoredSqliteEvent(contractFile, row),
});

describe("SQLite store", () => {
  it("works in memory, with nothing on disk", async () => {
    const store = createSqliteEventStore({ path: ":memory:" });
    const events = sampleEvents(3, 0, ["t"]);
    await store.append(events, { failIfEventsMatch: byTag("t"), after: null });
    expect((await collect(store.readAll())).map((e) => e.metadata.eventId)).toEqual(events.map((e) => e.metadata.eventId));
    expect(await store.head()).toBe(3n);
    await store.close();
  });

  it("keeps its events and tags when closed and opened again, and never reuses a position", async () => {
    const path = freshFile();
    const first = createSqliteEventStore({ path });
    const { position } = await first.append(sampleEvents(3, 0, ["kept"]));
    await first.close();
    const again = createSqliteEventStore({ path });
    expect(await collect(again.read(byTag("kept")))).toHaveLength(3);
    const next = await again.append(sampleEvents(1, 3, ["kept"]), { failIfEventsMatch: byTag("kept"), after: position });
    expect(next.position > position).toBe(true);
    await again.close();
  });

  it("opened read-only (for audits) reads, refuses appends, and never creates a store", async () => {
    const path = freshFile();
    const writer = createSqliteEventStore({ path });
    await writer.append(sampleEvents(2, 0, ["audit"]));
    await writer.close();
    const reader = createSqliteEventStore({ path, readOnly: true });
    expect(await collect(reader.read(byTag("audit")))).toHaveLength(2);
    const refused = reader.append(sampleEvents(1, 2));
    await expect(refused).rejects.toBeInstanceOf(AppendFailedError);
    await expect(refused).rejects.toThrow(/read-?only/i);
    expect(await collect(reader.readAll())).toHaveLength(2);
    await reader.close();
    const missing = freshFile();
    expect(() => createSqliteEventStore({ path: missing, readOnly: true })).toThrow();
    expect(existsSync(missing)).toBe(false);
  });

  it("checks conditions against what another connection to the same file committed", async () => {
    const path = freshFile();
    const [a, b] = [createSqliteEventStore({ path }), createSqliteEventStore({ path })];
    const { position } = await a.append(sampleEvents(1, 0, ["shared"]));
    await b.append(sampleEvents(1, 1, ["shared"]), { failIfEventsMatch: byTag("shared"), after: position });
    await expect(a.append(sampleEvents(1, 2, ["shared"]), { failIfEventsMatch: byTag("shared"), after: position })).rejects.toBeInstanceOf(
      AppendConditionError,
    );
    expect(await collect(a.read(byTag("shared")))).toHaveLength(2);
    await Promise.all([a.close(), b.close()]);
  });

  it("migrates an empty store of the stream layout, and refuses one holding events rather than hide them", async () => {
    const [empty, full] = [freshFile(), freshFile()];
    for (const path of [empty, full]) {
      const raw = new Database(path);
      raw.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, revision INTEGER NOT NULL,
                type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream, revision))`);
      if (path === full) raw.prepare("INSERT INTO events (stream, revision, type, data, metadata) VALUES ('s', 0, 'X', '{}', '{}')").run();
      raw.close();
    }
    const migrated = createSqliteEventStore({ path: empty });
    await migrated.append(sampleEvents(1, 0, ["new"]));
    expect(await collect(migrated.read(byTag("new")))).toHaveLength(1);
    await migrated.close();
    expect(() => createSqliteEventStore({ path: full })).toThrow(/holds 1 events of the stream layout/);
    const raw = new Database(full);
    expect(raw.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: 1 });
    raw.close();
  });

  it("finds tagged events through the tag index, not by scanning every event", () => {
    const path = freshFile();
    createSqliteEventStore({ path });
    const raw = new Database(path);
    const plan = raw
      .prepare("EXPLAIN QUERY PLAN SELECT t.position FROM event_tags t WHERE t.tag = ? AND t.position >= ? ORDER BY t.position LIMIT ?")
      .all("x", 1, 10) as Array<{ detail: string }>;
    raw.close();
    expect(plan.map((p) => p.detail).join("; ")).toMatch(/SEARCH t USING PRIMARY KEY \(tag=\? AND position>\?\)/);
  });
});

/** Each source the child processes run, with what they run: its build in dist/. */
const fixture = fileURLToPath(new URL("../dist/fixtures/sqlite-appender.js", import.meta.url));
const builds = ["fixtures/sqlite-appender", "sqlite-store", "mapper", "event-store", "keyset-pages", "contract/sample-events"].map((f) => ({
  source: fileURLToPath(new URL(`./${f}.ts`, import.meta.url)),
  built: fileURLToPath(new URL(`../dist/${f}.js`, import.meta.url)),
}));
const expectFreshBuild = () => {
  const stale = builds.find(({ source, built }) => !existsSync(built) || statSync(source).mtimeMs > statSync(built).mtimeMs);
  if (stale !== undefined) throw new Error(`${stale.built} is missing or older than ${stale.source}: build first (npx tsc -b packages/adapters)`);
};

/** Runs the fixture to its end and returns its stdout lines. */
const runFixture = (args: ReadonlyArray<string>) =>
  new Promise<string[]>((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
    child.on("exit", (code) => (code === 0 ? resolve(lines) : reject(new Error(`appender exited with ${code}: ${stderr}`))));
  });

describe("SQLite store shared by processes", () => {
  it("lets exactly one of two processes win each overlapping condition", async () => {
    expectFreshBuild();
    const path = freshFile();
    createSqliteEventStore({ path }).close();
    const rounds = 150;
    const outputs = await Promise.all([runFixture(["claim", path, "claim", String(rounds)]), runFixture(["claim", path, "claim", String(rounds)])]);
    for (let round = 0; round < rounds; round++) {
      const said = outputs.map((lines) => lines.find((l) => l.endsWith(` ${round}`)));
      expect([...said].sort()).toEqual([`refused ${round}`, `won ${round}`]);
    }
    const store = createSqliteEventStore({ path });
    expect(await collect(store.readAll())).toHaveLength(rounds);
    await store.close();
  }, 120_000);

  it("serialises three processes that read, decide and retry: every append was decided on all before it", async () => {
    expectFreshBuild();
    const path = freshFile();
    createSqliteEventStore({ path }).close();
    const each = 40;
    const outputs = await Promise.all([0, 1, 2].map((w) => runFixture(["count", path, "counter", String(each), String(w)])));
    const won = outputs
      .flat()
      .map((line) => line.split(" "))
      .map(([, after, position]) => ({ after: after === "null" ? null : BigInt(after!), position: BigInt(position!) }))
      .sort((x, y) => (x.position < y.position ? -1 : 1));
    expect(won).toHaveLength(3 * each);
    won.forEach((w, i) => expect(w.after).toBe(i === 0 ? null : won[i - 1]!.position));
    const store = createSqliteEventStore({ path });
    expect((await collect(store.read(byTag("counter")))).map((e) => e.position)).toEqual(won.map((w) => w.position));
    await store.close();
  }, 120_000);
});

describe("SQLite store killed mid-append", () => {
  const BATCH = 2000;

  /** Runs the appender on `path` until it has started `killAt` appends, then SIGKILLs it a moment into the next. */
  const appendUntilKilled = (path: string, firstBatch: number, killAt: number) =>
    new Promise<{ started: number[]; finished: number[] }>((resolve, reject) => {
      const child = spawn(process.execPath, [fixture, "crash", path, String(BATCH), String(firstBatch)], { stdio: ["ignore", "pipe", "pipe"] });
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
    expectFreshBuild();
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
    // The tag index holds exactly the whole batches too: every event under its batch's tag, nothing else.
    for (const [batch, count] of perBatch) expect(await collect(store.read(byTag(batch.replace("batch-", "batch:"))))).toHaveLength(count);
    const raw2 = new Database(path);
    expect(raw2.prepare("SELECT count(*) AS n FROM event_tags WHERE position NOT IN (SELECT position FROM events)").get()).toEqual({ n: 0 });
    raw2.close();
    // And the store goes on: the next append continues after the last whole batch.
    const { position } = await store.append(sampleEvents(1));
    expect(position > all.at(-1)!.position).toBe(true);
    await store.close();
  });
});
