import { randomUUID } from "node:crypto";
import net from "node:net";
import fc from "fast-check";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { eventStoreContract } from "./contract/index.js";
import { postgresServer, slowInsertsMarked } from "./contract/postgres-server.js";
import { accountRegistered, sampleEvents } from "./contract/sample-events.js";
import { AppendConditionError, AppendFailedError, type EventStore, type RecordedEvent } from "./event-store.js";
import { createPostgresEventStore, plantStoredPostgresEvent } from "./postgres-store.js";

/** PG_TEST_URL names the server (scripts/postgres.sh starts one and prints it). */
const server = await postgresServer("PostgreSQL store tests");
const unreachable = server.skip ? server.reason : undefined;
const url = server.skip ? undefined : server.url;

/** Each test file, and each test needing an empty store, works in a schema of its own, dropped at the end. */
const schemas: string[] = [];
const freshSchema = (label: string): string => {
  const schema = `stores_${label}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
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
const byTag = (tag: string) => ({ items: [{ tags: [tag] }] });
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/**
 * A TCP proxy on 127.0.0.1 in front of the real server, for the network tests.
 * `cutAfter(marker)`: the next chunk from the client containing `marker` is
 * forwarded whole, then both sides are reset (as by a crash or a failover).
 * `silent = true`: new connections are accepted and never answered, and what
 * clients send on open ones is swallowed.
 */
const startProxy = async (target: string) => {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const state = { silent: false, marker: undefined as Buffer | undefined, cut: undefined as (() => void) | undefined };
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    track(client);
    if (state.silent) return;
    const upstream = net.connect(Number(port || 5432), hostname);
    track(upstream);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.on("data", (chunk: Buffer) => {
      if (!state.silent) client.write(chunk);
    });
    client.on("data", (chunk: Buffer) => {
      if (state.silent) return;
      if (state.marker !== undefined && chunk.includes(state.marker)) {
        state.marker = undefined;
        upstream.write(chunk, () => {
          client.resetAndDestroy();
          upstream.resetAndDestroy();
          state.cut?.();
        });
        return;
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return {
    url: url.toString(),
    set silent(value: boolean) {
      state.silent = value;
    },
    /** Resolves once the chunk carrying `marker` was forwarded and the connection reset. */
    cutAfter(marker: string): Promise<void> {
      state.marker = Buffer.from(marker);
      return new Promise((resolve) => (state.cut = resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};

describe.skipIf(unreachable !== undefined)("PostgreSQL", () => {
  const contractSchema = freshSchema("contract");
  eventStoreContract("PostgreSQL", () => createPostgresEventStore({ connectionString: url!, schema: contractSchema }), {
    plantStoredEvent: (_store, row) => plantStoredPostgresEvent(admin!, contractSchema, row),
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
    const last: Array<bigint | null> = writers.map(() => null);
    let writing = true;

    const write = async (store: EventStore, w: number) => {
      for (let i = 0; i < appendsPerWriter; i++) {
        // Batches of different sizes, so transactions take different times and would commit out of order.
        const size = 1 + ((w + i) % 7) * 5;
        const events = Array.from({ length: size }, (_, k) =>
          accountRegistered(w * 1_000_000 + i * 100 + k, i % 4 === 0 && k === size - 1 ? { correlationId: "linger" } : {}, [`writer:${w}`]),
        );
        // Disjoint conditions: each writer decided on its own tag only.
        last[w] = (await store.append(events, { failIfEventsMatch: byTag(`writer:${w}`), after: last[w]! })).position;
        for (const e of events) written.add(e.metadata.eventId);
      }
    };
    const seen: RecordedEvent[] = [];
    const tail = async () => {
      let from = 1n;
      // One more pass after the writers finish picks up the last commits.
      for (let finalPass = false; ; ) {
        for await (const event of reader.readAll({ from, batchSize: 50 })) {
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

  it("appends in parallel, yet never lets a read yield a position while an append that drew an earlier one is in flight", async () => {
    const schema = freshSchema("horizon");
    const open = () => createPostgresEventStore({ connectionString: url!, schema });
    const [early, late, reader] = await Promise.all([open(), open(), open()]);
    // The early append draws its position, then waits a second before it commits.
    await slowInsertsMarked(admin!, schema, "hold", 1);
    const inFlight = early.append([accountRegistered(1, { correlationId: "hold" }, ["horizon:early"])]);
    for (let tries = 0; ; tries++) {
      const sleeping = await admin!.query("SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE $1", [`%${schema}.append_events%`]);
      if (sleeping.rows.length > 0) break;
      if (tries > 500) expect.fail("the early append never reached its insert");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The late append does not wait for it (disjoint tags), and commits first, at a later position.
    const lateDone = await Promise.race([late.append([accountRegistered(2, {}, ["horizon:late"])]).then(() => "committed"), inFlight.then(() => "early first")]);
    expect(lateDone).toBe("committed");
    // A read now must not yield the late event before the early one: it waits for the early append to settle.
    const seen = await collect(reader.readAll());
    const head = await reader.head();
    await inFlight;
    const all = await collect(reader.readAll());
    expect(all.map((e) => e.data)).toMatchObject([{ accountId: "account-1" }, { accountId: "account-2" }]);
    expect(seen.map((e) => e.position)).toEqual(all.slice(0, seen.length).map((e) => e.position));
    expect(head).toBe(all[seen.length - 1]?.position ?? 0n);
    await Promise.all([early, late, reader].map((store) => store.close()));
  }, 20_000);

  it("leaves no partial batch when its backend is killed mid-append, and says so", async () => {
    const schema = freshSchema("kill");
    const store = await createPostgresEventStore({ connectionString: url!, schema });
    // Test-only: make the insert of one marked event wait, so the append is
    // caught halfway, its first 50 rows already inserted in its transaction.
    await slowInsertsMarked(admin!, schema, "sleep-here", 30);
    await store.append(sampleEvents(3, 0, ["before"]));
    const batch = Array.from({ length: 100 }, (_, i) => accountRegistered(i, i === 50 ? { correlationId: "sleep-here" } : {}, ["victim"]));
    const append = store.append(batch).then(
      () => undefined,
      (error: unknown) => error,
    );

    let pid: number | undefined;
    for (let tries = 0; pid === undefined && tries < 500; tries++) {
      const { rows } = await admin!.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE $1`,
        [`%${schema}.append_events%`],
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pid).toBeDefined();
    const rowsInFlight = await admin!.query(`SELECT count(*)::int AS n FROM ${schema}.events WHERE 'victim' = ANY (tags)`);
    expect(rowsInFlight.rows[0].n).toBe(0); // not visible before commit, of course
    await admin!.query("SELECT pg_terminate_backend($1)", [pid]);

    const error = await append;
    expect(error).toBeInstanceOf(AppendFailedError);
    expect(error).toMatchObject({ outcome: "not-appended" });
    expect((error as Error).message).toMatch(/nothing was appended: terminating connection/);

    await admin!.query(`DROP TRIGGER slow_sleep_here ON ${schema}.events`);
    expect(await collect(store.read(byTag("victim")))).toEqual([]);
    expect((await collect(store.readAll())).map((e) => e.tags)).toEqual([["before"], ["before"], ["before"]]);
    // Nor any of the keys its new accounts were sealed under: they were stored in the same statement.
    const keys = await admin!.query(`SELECT count(*)::int AS n FROM ${schema}.personal_keys WHERE subject = ANY ($1)`, [batch.map((_, i) => `account:account-${i}`).slice(3)]);
    expect(keys.rows[0].n).toBe(0);
    // The pool replaces the dead connection: the store goes on.
    const again = await store.append(batch, { failIfEventsMatch: byTag("victim"), after: null });
    expect(await store.head()).toBe(again.position);
    expect(await collect(store.read(byTag("victim")))).toHaveLength(100);
    await store.close();
  });

  it("surfaces an unreachable server as a clear error", async () => {
    await expect(
      createPostgresEventStore({ connectionString: "postgres://linked:linked@127.0.0.1:1/nowhere", schema: freshSchema("nowhere") }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  // An append hands the server each event's tags, and each condition item's tags and types,
  // as array literals inside its JSON: whatever characters a tag may hold come back as given,
  // and are found, matched and conditioned on as given.
  it("keeps and finds tags of any printable characters, quotes, backslashes, braces and commas among them", async () => {
    const schema = freshSchema("literal");
    const store = await createPostgresEventStore({ connectionString: url!, schema });
    const unit = fc.constantFrom("a", '"', "\\", "{", "}", ",", " ", "'", "NULL", "é", "\uD83D\uDE00", "[", "]", "$1", "\\\"");
    const tag = fc.array(unit, { minLength: 1, maxLength: 10 }).map((parts) => parts.join(""));
    let k = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(tag, { minLength: 1, maxLength: 3 }), async (given) => {
        const tags = given.map((t) => `${t}#${k++}`);
        const [first, second] = sampleEvents(2, 0).map((event, i) => ({ ...event, tags: i === 0 ? tags : [tags[0]!] }));
        await store.append([first!, second!]);
        const all = await collect(store.read({ items: [{ tags }] }));
        expect(all.map((e) => e.tags)).toEqual(tags.length === 1 ? [tags, tags] : [tags]);
        expect(await collect(store.read(byTag(tags[0]!)))).toHaveLength(2);
        for (const t of tags.slice(1)) expect(await collect(store.read(byTag(t)))).toHaveLength(1);
        const refused = await rejection(store.append(sampleEvents(1, 2, ["elsewhere"]), { failIfEventsMatch: { items: [{ tags }] }, after: null }));
        expect(refused).toBeInstanceOf(AppendConditionError);
        expect((refused as AppendConditionError).conflictingPosition).toBe(all[0]!.position);
        // Types of the same characters (as untyped host code may ask) match nothing stored: the condition holds.
        const types = given as unknown as ReadonlyArray<RecordedEvent["type"]>;
        await store.append(sampleEvents(1, 2, ["elsewhere"]), { failIfEventsMatch: { items: [{ tags: [tags[0]!], types }] }, after: null });
      }),
      { numRuns: 25 },
    );
    await store.close();
  }, 60_000);

  it("migrates its schema once when many processes start at once, and again changes nothing", async () => {
    const schema = freshSchema("migrate");
    const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: url!, max: 1 }));
    const first = await Promise.all(pools.map((pool) => createPostgresEventStore({ pool, schema })));
    await first[0]!.append(sampleEvents(2, 0, ["kept"]));
    const second = await Promise.all(pools.map((pool) => createPostgresEventStore({ pool, schema })));
    expect(await collect(second[3]!.read(byTag("kept")))).toHaveLength(2);
    const versions = await admin!.query(`SELECT version FROM ${schema}.schema_version`);
    expect(versions.rows).toEqual([{ version: 5 }]);
    // Migration 4: one append function, taking its lock keys from the client; the old one is gone.
    // Migration 5: it plans its statements once per session.
    const appends = await admin!.query(
      `SELECT pg_get_function_identity_arguments(p.oid) AS args, p.proconfig AS config FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = 'append_events'`,
      [schema],
    );
    expect(appends.rows).toEqual([
      {
        args: "p_events jsonb, p_locks bigint[], p_exclusive boolean[], p_items jsonb, p_after bigint, p_lock_timeout text",
        config: ["plan_cache_mode=force_generic_plan"],
      },
    ]);
    // Migration 3: the tag index's pending list is bounded (every condition check scans it whole).
    const index = await admin!.query(`SELECT reloptions FROM pg_class WHERE oid = '${schema}.events_tags'::regclass`);
    expect(index.rows).toEqual([{ reloptions: ["gin_pending_list_limit=64"] }]);
    // Closing a store made from a host's pool leaves the pool to the host.
    await first[1]!.close();
    expect((await pools[1]!.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await Promise.all(pools.map((pool) => pool.end()));
  });

  it("refuses a schema name it would have to quote", async () => {
    await expect(createPostgresEventStore({ connectionString: url!, schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(RangeError);
  });

  it("migrates an empty schema of the stream layout, and refuses one holding events rather than hide them", async () => {
    const [empty, full] = [freshSchema("v1_empty"), freshSchema("v1_full")];
    for (const schema of [empty, full]) {
      await admin!.query(`CREATE SCHEMA ${schema}`);
      await admin!.query(`CREATE TABLE ${schema}.schema_version (version integer NOT NULL); INSERT INTO ${schema}.schema_version VALUES (1)`);
      await admin!.query(`CREATE TABLE ${schema}.events (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream text NOT NULL,
        revision bigint NOT NULL, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL, UNIQUE (stream, revision))`);
      await admin!.query(`CREATE FUNCTION ${schema}.append_to_stream(p_stream text, p_expected text, p_events jsonb)
        RETURNS TABLE (next_expected_revision bigint, last_position bigint) LANGUAGE sql AS 'SELECT 0::bigint, 0::bigint'`);
    }
    await admin!.query(`INSERT INTO ${full}.events (stream, revision, type, data, metadata) VALUES ('s', 0, 'X', '{}', '{}')`);
    const migrated = await createPostgresEventStore({ connectionString: url!, schema: empty });
    await migrated.append(sampleEvents(1, 0, ["new"]));
    expect(await collect(migrated.read(byTag("new")))).toHaveLength(1);
    await migrated.close();
    await expect(createPostgresEventStore({ connectionString: url!, schema: full })).rejects.toThrow(/holds 1 events of the stream layout/);
    expect((await admin!.query(`SELECT count(*)::int AS n FROM ${full}.events`)).rows).toEqual([{ n: 1 }]);
    expect((await admin!.query(`SELECT version FROM ${full}.schema_version`)).rows).toEqual([{ version: 1 }]);
  });

  // Whether the planner picks the index depends on the table's size; what this
  // checks is that the SQL's shape lets it (with sequential scans priced out).
  it("asks for tags in SQL the GIN index answers, when it checks a condition and when it reads", async () => {
    const schema = freshSchema("plan");
    const store = await createPostgresEventStore({ connectionString: url!, schema });
    for (let i = 0; i < 4; i++) await store.append(Array.from({ length: 500 }, (_, k) => accountRegistered(i * 500 + k, {}, [`common`, `t:${i}:${k}`])));
    await admin!.query(`ANALYZE ${schema}.events`);
    const explain = async (sql: string, values: unknown[]) => {
      const client = await admin!.connect();
      try {
        await client.query("SET enable_seqscan = off");
        return (await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, values)).rows.map((r) => r["QUERY PLAN"]).join("\n");
      } finally {
        await client.query("RESET enable_seqscan");
        client.release();
      }
    };
    const checked = await explain(`SELECT position FROM ${schema}.events WHERE tags @> $1 AND position > $2 ORDER BY position + 0 LIMIT 1`, [["t:3:4"], 0]);
    expect(checked).toMatch(/Bitmap Index Scan on events_tags/);
    const read = await explain(
      `SELECT position FROM ${schema}.events WHERE position >= $1 AND ((tags @> $3::text[]) OR (tags @> $4::text[])) ORDER BY position + 0 LIMIT $2`,
      [1, 1000, ["t:3:4"], ["t:5:1"]],
    );
    expect(read).toMatch(/Bitmap Index Scan on events_tags/);
    await store.close();
  }, 60_000);

  describe("on an unreliable network (a TCP proxy in front of the server)", () => {
    it("rejects an append whose connection is reset after it was sent with AppendFailedError(unknown): the batch is whole or absent, and the store goes on", async () => {
      const proxy = await startProxy(url!);
      const schema = freshSchema("cut");
      const store = await createPostgresEventStore({ connectionString: proxy.url, schema });
      for (let round = 0; round < 3; round++) {
        const marker = `cut-here-${randomUUID()}`;
        const tag = `cut:${round}`;
        const cut = proxy.cutAfter(marker);
        const batch = Array.from({ length: 20 }, (_, i) => accountRegistered(i, i === 10 ? { correlationId: marker } : {}, [tag]));
        const error = await rejection(store.append(batch));
        await cut;
        expect(error).toBeInstanceOf(AppendFailedError);
        expect(error).toMatchObject({ outcome: "unknown" });
        expect((error as Error).message).toMatch(/stored whole or not at all/);
        const landed = await collect(store.read(byTag(tag)));
        expect([0, 20]).toContain(landed.length);
        // The pool drops the broken connection: the next append goes through.
        await store.append(sampleEvents(1, 0, [`after-cut:${round}`]));
        expect(await collect(store.read(byTag(`after-cut:${round}`)))).toHaveLength(1);
      }
      await store.close();
      await proxy.close();
    }, 60_000);

    it("fails to open against a server that accepts TCP and never answers, within the connect timeout", async () => {
      const accepted = new Set<net.Socket>();
      const silent = net.createServer((socket) => {
        accepted.add(socket);
        socket.on("error", () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const { port } = silent.address() as net.AddressInfo;
      const opening = createPostgresEventStore({
        connectionString: `postgres://linked:linked@127.0.0.1:${port}/nowhere`,
        schema: freshSchema("silent"),
        connectTimeoutMs: 500,
      });
      await expect(opening).rejects.toThrow(/timeout/i);
      expect(accepted.size).toBeGreaterThan(0);
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }, 10_000);

    it("fails an append, a read and head() with a clear error when the server stops answering mid-session, and recovers", async () => {
      const proxy = await startProxy(url!);
      const schema = freshSchema("mute");
      const store = await createPostgresEventStore({ connectionString: proxy.url, schema, queryTimeoutMs: 700, connectTimeoutMs: 700 });
      await store.append(sampleEvents(1, 0, ["mute"]));
      proxy.silent = true;
      const error = await rejection(store.append(sampleEvents(1, 1, ["mute"])));
      expect(error).toBeInstanceOf(AppendFailedError);
      expect(error).toMatchObject({ outcome: "unknown" });
      expect((error as Error).message).toMatch(/timeout/i);
      await expect(store.head()).rejects.toThrow(/timeout/i);
      await expect(collect(store.read(byTag("mute")))).rejects.toThrow(/timeout/i);
      proxy.silent = false;
      await store.append(sampleEvents(1, 2, ["mute-after"]));
      expect(await collect(store.read(byTag("mute-after")))).toHaveLength(1);
      await store.close();
      await proxy.close();
    }, 30_000);

    it("fails an append with a clear error within the lock timeout while another session holds the append lock, appending nothing", async () => {
      const schema = freshSchema("lock");
      const store = await createPostgresEventStore({ connectionString: url!, schema, lockTimeoutMs: 300 });
      const holder = await admin!.connect();
      try {
        await holder.query("BEGIN");
        await holder.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`linked-accounts:append:${schema}`]);
        const error = await rejection(store.append(sampleEvents(2, 0, ["locked-out"])));
        expect(error).toBeInstanceOf(AppendFailedError);
        expect(error).toMatchObject({ outcome: "not-appended" });
        expect((error as Error).message).toMatch(/held the append lock for longer than the lock timeout \(300 ms\)/);
        await holder.query("ROLLBACK");
      } finally {
        holder.release();
      }
      expect(await collect(store.read(byTag("locked-out")))).toEqual([]);
      await store.append(sampleEvents(2, 0, ["locked-out"]));
      expect(await collect(store.read(byTag("locked-out")))).toHaveLength(2);
      await store.close();
    }, 20_000);

    it("fails an append that outlasts the statement timeout, appending nothing", async () => {
      const schema = freshSchema("statement");
      const store = await createPostgresEventStore({ connectionString: url!, schema, statementTimeoutMs: 300 });
      await slowInsertsMarked(admin!, schema, "too-slow", 5);
      const batch = Array.from({ length: 5 }, (_, i) => accountRegistered(i, i === 2 ? { correlationId: "too-slow" } : {}, ["slow"]));
      const error = await rejection(store.append(batch));
      expect(error).toBeInstanceOf(AppendFailedError);
      expect(error).toMatchObject({ outcome: "not-appended" });
      expect((error as Error).message).toMatch(/statement timeout/);
      await admin!.query(`DROP TRIGGER slow_too_slow ON ${schema}.events`);
      expect(await collect(store.read(byTag("slow")))).toEqual([]);
      await store.close();
    }, 20_000);

    it("refuses with AppendConditionError, not a failure, and keeps its connection", async () => {
      const schema = freshSchema("refuse");
      const store = await createPostgresEventStore({ connectionString: url!, schema });
      const { position } = await store.append(sampleEvents(1, 0, ["r"]));
      await store.append(sampleEvents(1, 1, ["r"]));
      const error = await rejection(store.append(sampleEvents(1, 2, ["r"]), { failIfEventsMatch: byTag("r"), after: position }));
      expect(error).toBeInstanceOf(AppendConditionError);
      expect((error as AppendConditionError).conflictingPosition).toBe(position + 1n);
      await store.close();
    });
  });
});
