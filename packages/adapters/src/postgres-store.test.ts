import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { eventStoreContract } from "./contract/index.js";
import { postgresServer, slowInsertsMarked } from "./contract/postgres-server.js";
import { accountRegistered, sampleEvents } from "./contract/sample-events.js";
import type { EventStore, RecordedEvent } from "./event-store.js";
import type { StoredEvent } from "./mapper.js";
import { AppendFailedError, createPostgresEventStore } from "./postgres-store.js";

/** PG_TEST_URL names the server (scripts/postgres.sh starts one and prints it). */
const server = await postgresServer("PostgreSQL store tests");
const unreachable = server.skip ? server.reason : undefined;
const url = server.skip ? undefined : server.url;

/** Each test file, and each test needing an empty store, works in a schema of its own, dropped at the end. */
const schemas: string[] = [];
const freshSchema = (label: string): string => {
  const schema = `test_${label}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  schemas.push(schema);
  return schema;
};
const admin = unreachable === undefined ? new pg.Pool({ connectionString: url, max: 2 }) : undefined;
admin?.on("error", () => undefined);
afterAll(async () => {
  if (admin === undefined) return;
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

const collect = async (events: AsyncIterable<RecordedEvent>) => {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};

describe.skipIf(unreachable !== undefined)("PostgreSQL", () => {
  const contractSchema = freshSchema("contract");
  eventStoreContract("PostgreSQL", () => createPostgresEventStore({ connectionString: url!, schema: contractSchema }), {
    plantStoredEvent: async (_store: EventStore, stream: string, row: StoredEvent) => {
      // Behind the store's back, as a hand edit or an older writer would.
      await admin!.query(
        `INSERT INTO ${contractSchema}.events (stream, revision, type, data, metadata)
         VALUES ($1, (SELECT coalesce(max(revision), -1) + 1 FROM ${contractSchema}.events WHERE stream = $1), $2, $3, $4)`,
        [stream, row.type, JSON.stringify(row.data), JSON.stringify(row.metadata)],
      );
    },
  });

  it("lets one reader tailing readAll see every event of 8 concurrent writers exactly once, in order", async () => {
    const schema = freshSchema("tail");
    const writers = await Promise.all(
      Array.from({ length: 8 }, () => createPostgresEventStore({ connectionString: url!, schema })),
    );
    const reader = await createPostgresEventStore({ connectionString: url!, schema });
    // Test-only: a marked event's insert waits 10 ms, after its position was drawn
    // and before its transaction commits: the window in which writers that drew
    // later positions commit first (without serialised appends, the reader would skip it).
    await slowInsertsMarked(admin!, schema, "linger", 0.01);
    const appendsPerWriter = 40;
    const written = new Set<string>();
    let writing = true;

    const write = async (store: EventStore, w: number) => {
      for (let i = 0; i < appendsPerWriter; i++) {
        // Batches of different sizes, so transactions take different times and would commit out of order.
        const size = 1 + ((w + i) % 7) * 5;
        const events = Array.from({ length: size }, (_, k) =>
          accountRegistered(w * 1_000_000 + i * 100 + k, i % 4 === 0 && k === size - 1 ? { correlationId: "linger" } : {}),
        );
        await store.appendToStream(`writer-${w}`, events);
        for (const e of events) written.add(e.metadata.eventId);
      }
    };
    const seen: RecordedEvent[] = [];
    const tail = async () => {
      let from = 1n;
      // One more pass after the writers finish picks up the last commits.
      for (let finalPass = false; ; ) {
        for await (const event of reader.readAll({ fromPosition: from, batchSize: 50 })) {
          seen.push(event);
          from = event.position + 1n;
        }
        if (finalPass) return;
        finalPass = !writing;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    const tailing = tail();
    await Promise.all(writers.map((store, w) => write(store, w)));
    writing = false;
    await tailing;

    for (let i = 1; i < seen.length; i++)
      if (!(seen[i]!.position > seen[i - 1]!.position)) expect.fail(`position ${seen[i]!.position} read after ${seen[i - 1]!.position}`);
    const seenIds = seen.map((e) => e.metadata.eventId);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    expect(seenIds.length).toBe(written.size);
    expect(seenIds.every((id) => written.has(id))).toBe(true);
    await Promise.all([...writers, reader].map((store) => store.close()));
  });

  it("leaves no partial batch when its backend is killed mid-append, and says so", async () => {
    const schema = freshSchema("kill");
    const store = await createPostgresEventStore({ connectionString: url!, schema });
    // Test-only: make the insert of one marked event wait, so the append is
    // caught halfway, its first 50 rows already inserted in its transaction.
    await slowInsertsMarked(admin!, schema, "sleep-here", 30);
    await store.appendToStream("before", sampleEvents(3));
    const batch = Array.from({ length: 100 }, (_, i) => accountRegistered(i, i === 50 ? { correlationId: "sleep-here" } : {}));
    const append = store.appendToStream("victim", batch).then(
      () => undefined,
      (error: unknown) => error,
    );

    let pid: number | undefined;
    for (let tries = 0; pid === undefined && tries < 500; tries++) {
      const { rows } = await admin!.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE $1`,
        [`%${schema}.append_to_stream%`],
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pid).toBeDefined();
    const rowsInFlight = await admin!.query(`SELECT count(*)::int AS n FROM ${schema}.events WHERE stream = 'victim'`);
    expect(rowsInFlight.rows[0].n).toBe(0); // not visible before commit, of course
    await admin!.query("SELECT pg_terminate_backend($1)", [pid]);

    const error = await append;
    expect(error).toBeInstanceOf(AppendFailedError);
    expect(error).toMatchObject({ stream: "victim", outcome: "not-appended" });
    expect((error as Error).message).toMatch(/nothing was appended: terminating connection/);

    await admin!.query(`DROP TRIGGER slow_sleep_here ON ${schema}.events`);
    expect(await collect(store.readStream("victim"))).toEqual([]);
    expect((await collect(store.readAll())).map((e) => e.stream)).toEqual(["before", "before", "before"]);
    // The pool replaces the dead connection: the store goes on.
    const again = await store.appendToStream("victim", batch, { expectedRevision: "no-stream" });
    expect(again.nextExpectedRevision).toBe(99n);
    await store.close();
  });

  it("surfaces an unreachable server as a clear error", async () => {
    await expect(
      createPostgresEventStore({ connectionString: "postgres://linked:linked@127.0.0.1:1/nowhere", schema: freshSchema("nowhere") }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it("migrates its schema once when many processes start at once, and again changes nothing", async () => {
    const schema = freshSchema("migrate");
    const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: url!, max: 1 }));
    const first = await Promise.all(pools.map((pool) => createPostgresEventStore({ pool, schema })));
    await first[0]!.appendToStream("kept", sampleEvents(2));
    const second = await Promise.all(pools.map((pool) => createPostgresEventStore({ pool, schema })));
    expect(await collect(second[3]!.readStream("kept"))).toHaveLength(2);
    const versions = await admin!.query(`SELECT version FROM ${schema}.schema_version`);
    expect(versions.rows).toEqual([{ version: 1 }]);
    // Closing a store made from a host's pool leaves the pool to the host.
    await first[1]!.close();
    expect((await pools[1]!.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await Promise.all(pools.map((pool) => pool.end()));
  });

  it("refuses a schema name it would have to quote", async () => {
    await expect(createPostgresEventStore({ connectionString: url!, schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(RangeError);
  });
});
