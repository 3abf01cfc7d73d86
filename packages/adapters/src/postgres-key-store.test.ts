import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { keyStoreContract } from "./contract/key-store.js";
import { postgresServer } from "./contract/postgres-server.js";
import { KEY_BYTES, type KeyLookup, KeyStoreError } from "./key-store.js";
import { createPostgresKeyStore } from "./postgres-key-store.js";
import { createPostgresEventStore } from "./postgres-store.js";

/** PG_TEST_URL names the server (scripts/postgres.sh starts one and prints it). */
const server = await postgresServer("PostgreSQL key store tests");
const unreachable = server.skip ? server.reason : undefined;
const url = server.skip ? undefined : server.url;

/** Each test needing a schema of its own gets one, dropped at the end. */
const schemas: string[] = [];
const freshSchema = (label: string): string => {
  const schema = `keys_${label}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
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

const newKey = () => new Uint8Array(randomBytes(KEY_BYTES));
const hex = (bytes: Uint8Array | null | undefined) => (bytes === null || bytes === undefined ? bytes : Buffer.from(bytes).toString("hex"));
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe("PostgreSQL key store, whatever the server", () => {
  it("refuses a schema name it would have to quote, before connecting", () => {
    for (const schema of ["Linked", "linked-accounts", "x; DROP TABLE y", "", "1abc", "a".repeat(64)])
      expect(() => createPostgresKeyStore({ connectionString: "postgres://nowhere.invalid/db", schema })).toThrow(RangeError);
  });

  it("fails with a KeyStoreError naming its schema when the server cannot be reached", async () => {
    // Port 1 on the loopback: refused at once, nothing waits on a timeout.
    const keys = createPostgresKeyStore({ connectionString: "postgres://linked:linked@127.0.0.1:1/none", schema: "unreached" });
    const error = await rejection(keys.find(["account:A1"]));
    expect(error).toBeInstanceOf(KeyStoreError);
    expect((error as Error).message).toMatch(/schema unreached.*ECONNREFUSED/);
    await keys.close();
  });
});

describe.skipIf(unreachable !== undefined)("PostgreSQL key store", () => {
  keyStoreContract("PostgreSQL (own pool)", async () => ({ keys: createPostgresKeyStore({ connectionString: url!, schema: freshSchema("contract") }) }));
  keyStoreContract("PostgreSQL (the host's pool)", async () => {
    const pool = new pg.Pool({ connectionString: url! });
    return { keys: createPostgresKeyStore({ pool, schema: freshSchema("host_pool") }), cleanup: () => pool.end() };
  });

  it("creates its table on first use, not when made, in the event store's schema when one is there", async () => {
    const schema = freshSchema("first_use");
    const exists = async () =>
      (await admin!.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'personal_keys'", [schema])).rowCount === 1;
    const events = await createPostgresEventStore({ connectionString: url!, schema });
    const keys = createPostgresKeyStore({ connectionString: url!, schema });
    expect(await exists()).toBe(false);
    expect((await keys.find(["account:A1"])).size).toBe(0);
    expect(await exists()).toBe(true);
    expect(await events.head()).toBe(0n);
    await Promise.all([keys.close(), events.close()]);
  });

  it("lets event stores and key stores open one new schema all at once", async () => {
    const schema = freshSchema("opening");
    const keyStores = Array.from({ length: 6 }, () => createPostgresKeyStore({ connectionString: url!, schema }));
    const [events] = await Promise.all([
      Promise.all(Array.from({ length: 3 }, () => createPostgresEventStore({ connectionString: url!, schema }))),
      ...keyStores.map((keys, i) => keys.create(new Map([[`account:O${i}`, newKey()]]))),
    ]);
    expect((await keyStores[0]!.find(keyStores.map((_, i) => `account:O${i}`))).size).toBe(keyStores.length);
    await Promise.all([...keyStores.map((k) => k.close()), ...events.map((e) => e.close())]);
  });

  it("keeps a key as 32 bytes of bytea and a tombstone as a NULL key with the moment it was first forgotten", async () => {
    const schema = freshSchema("layout");
    const keys = createPostgresKeyStore({ connectionString: url!, schema });
    const key = newKey();
    await keys.create(new Map([["account:A1", key]]));
    await keys.forget(["account:A2"]);
    type Row = { subject: string; key: Buffer | null; created_at: Date; forgotten_at: Date | null };
    const rows = async () => (await admin!.query<Row>(`SELECT subject, key, created_at, forgotten_at FROM ${schema}.personal_keys ORDER BY subject`)).rows;
    const [live, gone] = await rows();
    expect(live).toMatchObject({ subject: "account:A1", forgotten_at: null });
    expect(hex(live!.key)).toBe(hex(key));
    expect(gone).toMatchObject({ subject: "account:A2", key: null });
    expect(gone!.forgotten_at).toBeInstanceOf(Date);
    // Forgetting again keeps the first moment (set back here, so a new one would show).
    await admin!.query(`UPDATE ${schema}.personal_keys SET forgotten_at = '2001-01-01T00:00:00Z' WHERE subject = 'account:A2'`);
    await keys.forget(["account:A1", "account:A2"]);
    const [forgotten, again] = await rows();
    expect(again!.forgotten_at!.toISOString()).toBe("2001-01-01T00:00:00.000Z");
    expect(forgotten).toMatchObject({ key: null });
    expect(forgotten!.forgotten_at).toBeInstanceOf(Date);
    // The table itself refuses a key of the wrong length, and a key on a forgotten subject.
    expect(await rejection(admin!.query(`INSERT INTO ${schema}.personal_keys (subject, key) VALUES ('account:A3', '\\x00')`))).toMatchObject({ code: "23514" });
    expect(await rejection(admin!.query(`UPDATE ${schema}.personal_keys SET key = decode(repeat('00', 32), 'hex') WHERE subject = 'account:A2'`))).toMatchObject({ code: "23514" });
    await keys.close();
  });

  it("leaves the key's bytes in no row of the table after forget, while a key not forgotten is found", async () => {
    const schema = freshSchema("erasure");
    const keys = createPostgresKeyStore({ connectionString: url!, schema });
    const subjects = Array.from({ length: 100 }, (_, i) => `account:E${i}`);
    const created = new Map(subjects.map((s) => [s, newKey()] as const));
    const control = newKey();
    await keys.create(new Map([...created, ["account:control", control]]));
    await keys.forget(subjects);
    const { rows } = await admin!.query<{ key: Buffer | null }>(`SELECT key FROM ${schema}.personal_keys WHERE subject = ANY ($1)`, [subjects]);
    expect(rows).toHaveLength(100);
    expect(rows.every((row) => row.key === null)).toBe(true);
    /** Rows holding `key`: as bytes in the key column, and anywhere in the row written out as text (bytea in hex). */
    const holding = async (key: Uint8Array) => {
      const [asBytes] = (
        await admin!.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.personal_keys WHERE position($1::bytea IN key) > 0`, [Buffer.from(key)])
      ).rows;
      const [asText] = (await admin!.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.personal_keys p WHERE strpos(p::text, $1) > 0`, [hex(key)]))
        .rows;
      return [asBytes!.n, asText!.n];
    };
    expect(await holding(control)).toEqual([1, 1]);
    for (const key of created.values()) expect(await holding(key)).toEqual([0, 0]);
    await keys.close();
  });

  it("agrees on one key per subject when two pools create the same 200 subjects at once, in batches and one by one", async () => {
    const schema = freshSchema("race");
    // Two stores, each with its own pool, both opening the new schema.
    const [a, b] = [createPostgresKeyStore({ connectionString: url!, schema }), createPostgresKeyStore({ connectionString: url!, schema })];
    const check = async (subjects: ReadonlyArray<string>, given: ReadonlyArray<Map<string, Uint8Array>>, answers: ReadonlyArray<KeyLookup>) => {
      const reader = createPostgresKeyStore({ connectionString: url!, schema });
      const stored = await reader.find(subjects);
      await reader.close();
      for (const subject of subjects) {
        const [x, y] = answers.map((answer) => hex(answer.get(subject)));
        expect(x).toBe(y);
        expect(given.map((keys) => hex(keys.get(subject)))).toContain(x);
        expect(hex(stored.get(subject))).toBe(x);
      }
    };
    const subjectsOf = (label: string) => Array.from({ length: 200 }, (_, i) => `account:${label}${i}`);
    const keysFor = (subjects: ReadonlyArray<string>) => new Map(subjects.map((s) => [s, newKey()] as const));

    // Whole batches, given in opposite orders (a store writing them as given would deadlock), a few rounds.
    for (let round = 0; round < 3; round++) {
      const batch = Array.from({ length: 2000 }, (_, i) => `account:B${round}:${i}`);
      const batches = [keysFor(batch), keysFor([...batch].reverse())];
      await check(batch, batches, await Promise.all([a.create(batches[0]!), b.create(batches[1]!)]));
    }

    // One subject per create, all in flight at once from both pools.
    const single = subjectsOf("S");
    const singles = [keysFor(single), keysFor(single)];
    const one = async (store: typeof a, keys: Map<string, Uint8Array>) => {
      const answers = await Promise.all([...keys].map(([subject, key]) => store.create(new Map([[subject, key]]))));
      return new Map(answers.flatMap((answer) => [...answer]));
    };
    await check(single, singles, await Promise.all([one(a, singles[0]!), one(b, new Map([...singles[1]!].reverse()))]));
    await Promise.all([a.close(), b.close()]);
  });

  it("leaves no key alive beneath an owner forgotten while another pool creates keys beneath it, in 20 races", async () => {
    const schema = freshSchema("owner_race");
    const [a, b] = [createPostgresKeyStore({ connectionString: url!, schema }), createPostgresKeyStore({ connectionString: url!, schema })];
    for (let round = 0; round < 20; round++) {
      const owner = `account:race${round}`;
      await a.create(new Map([[owner, newKey()]]));
      const loans = Array.from({ length: 50 }, (_, i) => `${owner}/loan:${i}`);
      // Creates one by one and in a batch, all in flight while the owner is forgotten.
      const creating = [...loans.slice(0, 25).map((s) => b.create(new Map([[s, newKey()]]))), b.create(new Map(loans.slice(25).map((s) => [s, newKey()] as const)))];
      await Promise.all([a.forget([owner]), ...creating]);
      const found = await a.find([owner, ...loans]);
      // Whatever was created before the forget was forgotten with it; whatever came after was never made.
      expect([...found.values()].filter((key) => key !== null)).toEqual([]);
      expect(found.size).toBe(51);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it("on the host's pool: leaves the pool open when closed, and refuses work after", async () => {
    const pool = new pg.Pool({ connectionString: url!, max: 2 });
    const keys = createPostgresKeyStore({ pool, schema: freshSchema("host") });
    await keys.create(new Map([["account:A1", newKey()]]));
    await keys.close();
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    const error = await rejection(keys.find(["account:A1"]));
    expect(error).toBeInstanceOf(KeyStoreError);
    expect((error as Error).message).toMatch(/closed/);
    await pool.end();
  });
});
