import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { decodeWith } from "@linked-accounts/domain/internal";
import { fixtures } from "@linked-accounts/domain/testing";
import { accessNow } from "./access-graph.js";
import { type CheckpointStore, createInMemoryCheckpointStore } from "./checkpoint.js";
import { createPostgresCheckpointStore } from "./postgres-checkpoint.js";
import type { PositionedEvent, Projection } from "./projection.js";
import { foldEvents } from "./projection.js";
import { readModelsProjection } from "./read-models.js";
import { type EventSource, FreshnessTimeoutError, createRunner } from "./runner.js";
import { createSqliteCheckpointStore } from "./sqlite-checkpoint.js";
import { history, positioned, referenceStory, stamped } from "./test-support.js";

/** A projection that remembers every position it applied: a double apply shows as a duplicate. */
const Applied = t.type({ positions: t.array(t.number) });
const appliedProjection: Projection<{ positions: number[] }> = {
  name: "applied",
  initial: () => ({ positions: [] }),
  evolve: (s, e) => (s.positions.push(Number(e.position)), s),
  positionOf: (s) => BigInt(s.positions.at(-1) ?? 0),
  serialise: (s) => ({ positions: [...s.positions] }),
  deserialise: (json) => decodeWith(Applied, "applied")(json),
};

/** A growing log; every read yields to the event loop between events, so runners interleave. */
const growingSource = (events: PositionedEvent[]): EventSource & { events: PositionedEvent[] } => ({
  events,
  async *readAll({ fromPosition = 0n } = {}) {
    for (const e of events) {
      if (e.position < fromPosition) continue;
      await new Promise((r) => setImmediate(r));
      yield e;
    }
  },
});

const manyEvents = (n: number): PositionedEvent[] =>
  positioned(
    Array.from({ length: n }, (_, i) => stamped(fixtures.registered(`acct-${i}`), `acct-${i}`, i, i)),
    Array.from({ length: n }, (_, i) => 1 + (i % 3)),
  );

const storedPositions = async (checkpoints: CheckpointStore): Promise<number[]> => {
  const row = await checkpoints.load("applied");
  const decoded = appliedProjection.deserialise(JSON.parse(row!.state));
  if (E.isLeft(decoded)) throw decoded.left;
  return decoded.right.positions;
};

const twoRunnersDoNotDoubleApply = async (checkpoints: () => Promise<CheckpointStore>) => {
  const events = manyEvents(120);
  const source = growingSource(events);
  const [ca, cb] = [await checkpoints(), await checkpoints()];
  const a = createRunner({ source, projection: appliedProjection, checkpoints: ca, batchSize: 7 });
  const b = createRunner({ source, projection: appliedProjection, checkpoints: cb, batchSize: 5 });
  const [ra, rb] = await Promise.all([a.catchUp(), b.catchUp()]);
  const all = events.map((e) => Number(e.position));
  // Whatever each runner did, what is stored (and what each holds) applied each event exactly once.
  expect(await storedPositions(ca)).toEqual(all);
  expect(a.state().positions).toEqual(all);
  expect(b.state().positions).toEqual(all);
  // They did race: someone lost at least once, and between them every event was kept once.
  expect(ra.conflicts + rb.conflicts).toBeGreaterThan(0);
  expect(ra.applied + rb.applied).toBe(all.length);
  await Promise.all([ca.close(), cb.close()]);
};

describe("runner", () => {
  const dir = mkdtempSync(join(tmpdir(), "projections-runner-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("killed between batches and restarted, it resumes from its checkpoint and ends where a rebuild does", async () => {
    const events = referenceStory();
    const source = growingSource(events);
    const checkpoints = createSqliteCheckpointStore({ path: join(dir, "kill.sqlite") });
    const first = createRunner({ source, projection: readModelsProjection, checkpoints, batchSize: 3 });
    expect((await first.catchUp({ maxBatches: 2 })).position).toBe(6n); // "killed" after two batches
    // A fresh process: a new runner on the same checkpoint file.
    const second = createRunner({ source, projection: readModelsProjection, checkpoints: createSqliteCheckpointStore({ path: join(dir, "kill.sqlite") }), batchSize: 4 });
    const result = await second.catchUp();
    expect(result).toMatchObject({ position: 14n, applied: 8 });
    expect(readModelsProjection.serialise(second.state())).toEqual(readModelsProjection.serialise(foldEvents(readModelsProjection, events)));
  });

  it("a crash while storing a checkpoint loses nothing and applies nothing twice", async () => {
    const events = manyEvents(50);
    const source = growingSource(events);
    const inner = createInMemoryCheckpointStore();
    let saves = 0;
    const failing: CheckpointStore = {
      ...inner,
      save: async (...args) => {
        if (++saves === 3) throw new Error("disk full");
        return inner.save(...args);
      },
    };
    await expect(createRunner({ source, projection: appliedProjection, checkpoints: failing, batchSize: 10 }).catchUp()).rejects.toThrow("disk full");
    expect(await storedPositions(inner)).toEqual(events.slice(0, 20).map((e) => Number(e.position)));
    const restarted = createRunner({ source, projection: appliedProjection, checkpoints: inner, batchSize: 10 });
    await restarted.catchUp();
    expect(await storedPositions(inner)).toEqual(events.map((e) => Number(e.position)));
  });

  it("two runners sharing one in-memory checkpoint do not double-apply", async () => {
    const shared = createInMemoryCheckpointStore();
    await twoRunnersDoNotDoubleApply(async () => shared);
  });

  it("two runners sharing one SQLite checkpoint file do not double-apply", async () => {
    const path = join(dir, "shared.sqlite");
    await twoRunnersDoNotDoubleApply(async () => createSqliteCheckpointStore({ path }));
  });

  it("rebuild from zero resets the shared checkpoint and gives the same state", async () => {
    const events = referenceStory();
    const checkpoints = createSqliteCheckpointStore({ path: join(dir, "rebuild.sqlite") });
    const runner = createRunner({ source: growingSource(events), projection: readModelsProjection, checkpoints, batchSize: 5 });
    await runner.catchUp();
    const before = readModelsProjection.serialise(runner.state());
    expect((await runner.rebuild()).applied).toBe(events.length);
    expect(readModelsProjection.serialise(runner.state())).toEqual(before);
    expect((await checkpoints.load("read-models"))?.position).toBe(14n);
  });

  it("freshness: waitFor resolves once the position is applied, and a revoked manager is refused at and after it", async () => {
    const events = referenceStory().slice(0, 12);
    const source = growingSource(events);
    const runner = createRunner({ source, projection: readModelsProjection });
    await runner.catchUp();
    expect(accessNow(runner.state().access).canManage("partner", "parent")).toBe(true);
    // A command revokes the link and returns its position; the read waits for it.
    setTimeout(() => events.push({ ...history([[fixtures.linkRevoked("link-pp", "parent"), "parent"]])[0]!, position: 20n }), 20);
    expect(await runner.waitFor(20n, { timeoutMs: 5000 })).toBe(20n);
    expect(accessNow(runner.state().access).canManage("partner", "parent")).toBe(false);
    expect(accessNow(runner.state().access).explain("partner", "parent")).toMatchObject({ refusals: [{ code: "link-revoked", position: 20n }] });
  });

  it("freshness: a reader told P is applied never later sees a state before P, even when this runner loses a checkpoint race", async () => {
    const events = manyEvents(40);
    const source = growingSource(events);
    const shared = createInMemoryCheckpointStore();
    const other = createRunner({ source, projection: appliedProjection, checkpoints: shared, batchSize: 5 });
    let resolvedWith: bigint | undefined;
    const reloadedAfterwards: bigint[] = [];
    let raced = false;
    // This runner's first save finds that another runner stored a checkpoint further back.
    const racing: CheckpointStore = {
      load: async (name) => {
        const row = await shared.load(name);
        if (resolvedWith !== undefined) reloadedAfterwards.push(row?.position ?? 0n);
        return row;
      },
      save: async (name, expected, next) => {
        if (!raced) {
          raced = true;
          await other.catchUp({ maxBatches: 1 });
        }
        return shared.save(name, expected, next);
      },
      close: () => shared.close(),
    };
    const runner = createRunner({ source, projection: appliedProjection, checkpoints: racing, batchSize: 5, checkpointEvery: 100 });
    await runner.waitFor(20n, { timeoutMs: 5000 }).then((p) => {
      resolvedWith = p;
    });
    await runner.catchUp();
    expect(raced).toBe(true);
    expect(resolvedWith).toBeGreaterThanOrEqual(20n);
    for (const position of reloadedAfterwards) expect(position).toBeGreaterThanOrEqual(resolvedWith!);
    expect(runner.position()).toBe(BigInt(events.at(-1)!.position));
  });

  it("freshness: waitFor rejects clearly when the position does not arrive in time", async () => {
    const runner = createRunner({ source: growingSource(referenceStory()), projection: readModelsProjection });
    const wait = runner.waitFor(99n, { timeoutMs: 50 });
    await expect(wait).rejects.toBeInstanceOf(FreshnessTimeoutError);
    await expect(wait).rejects.toThrow("has applied position 14, not yet 99, after waiting 50 ms");
  });
});

// PostgreSQL: PG_TEST_URL (scripts/postgres.sh prints it). Unset or unreachable: skipped
// with a line saying why, except in CI, where it fails.
const pgUrl = process.env["PG_TEST_URL"];
const pgProblem = await (async (): Promise<string | undefined> => {
  if (pgUrl === undefined || pgUrl === "") return "PG_TEST_URL is not set";
  try {
    const probe = await createPostgresCheckpointStore({ connectionString: pgUrl, schema: "projections_probe" });
    await probe.close();
    return undefined;
  } catch (error) {
    return `cannot connect to PG_TEST_URL (${error instanceof Error ? error.message : String(error)})`;
  }
})();
if (pgProblem !== undefined && process.env["CI"] !== "true")
  console.log(`runner.test.ts: skipping the PostgreSQL checkpoint tests: ${pgProblem}`);

describe.skipIf(pgProblem !== undefined && process.env["CI"] !== "true")("runner on PostgreSQL checkpoints", () => {
  const schema = `projections_test_${process.pid}`;
  afterAll(async () => {
    if (pgProblem !== undefined) return;
    const pool = new pg.Pool({ connectionString: pgUrl! });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it("is reachable (in CI it must be)", () => {
    expect(pgProblem).toBeUndefined();
  });

  it("two runners sharing one PostgreSQL checkpoint do not double-apply", async () => {
    await twoRunnersDoNotDoubleApply(() => createPostgresCheckpointStore({ connectionString: pgUrl!, schema }));
  });

  it("resumes after a restart from the PostgreSQL checkpoint", async () => {
    const events = referenceStory();
    const open = () => createPostgresCheckpointStore({ connectionString: pgUrl!, schema, table: "resume_checkpoints" });
    const c1 = await open();
    await createRunner({ source: growingSource(events), projection: readModelsProjection, checkpoints: c1, batchSize: 4 }).catchUp({ maxBatches: 1 });
    await c1.close();
    const c2 = await open();
    const second = createRunner({ source: growingSource(events), projection: readModelsProjection, checkpoints: c2, batchSize: 4 });
    expect(await second.catchUp()).toMatchObject({ position: 14n, applied: 10 });
    expect(readModelsProjection.serialise(second.state())).toEqual(readModelsProjection.serialise(foldEvents(readModelsProjection, events)));
    await c2.close();
  });
});
