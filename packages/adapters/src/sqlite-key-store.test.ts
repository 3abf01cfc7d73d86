import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { keyStoreContract } from "./contract/key-store.js";
import { sampleEvents } from "./contract/sample-events.js";
import type { RecordedEvent } from "./event-store.js";
import { KEY_BYTES, KeyStoreError } from "./key-store.js";
import { createSqliteKeyStore } from "./sqlite-key-store.js";
import { createSqliteEventStore, createSqliteLog } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-sqlite-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `store-${++files}.sqlite`);

const newKey = () => new Uint8Array(randomBytes(KEY_BYTES));
const hex = (bytes: Uint8Array | null | undefined) => (bytes === null || bytes === undefined ? bytes : Buffer.from(bytes).toString("hex"));
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );
const collect = async (events: AsyncIterable<RecordedEvent>) => {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};

keyStoreContract("SQLite (file)", async () => ({ keys: createSqliteKeyStore({ path: freshFile() }) }));
keyStoreContract("SQLite (in memory)", async () => ({ keys: createSqliteKeyStore({ path: ":memory:" }) }));
keyStoreContract("SQLite (the host's connection)", async () => {
  const database = new Database(freshFile());
  return { keys: createSqliteKeyStore({ database }), cleanup: async () => void database.close() };
});

describe("SQLite key store", () => {
  it("shares the event store's file, whichever opens it first, and never touches its user_version", async () => {
    for (const keysFirst of [false, true]) {
      const path = freshFile();
      const opened = keysFirst ? createSqliteKeyStore({ path }) : undefined;
      const events = createSqliteEventStore({ path });
      const keys = opened ?? createSqliteKeyStore({ path });
      const appended = sampleEvents(3, 0, ["shared"]);
      await events.append(appended);
      const key = newKey();
      await keys.create(new Map([["account:A1", key]]));
      await keys.forget(["account:A2"]);
      await Promise.all([events.close(), keys.close()]);

      const raw = new Database(path);
      expect(raw.pragma("user_version", { simple: true })).toBe(2);
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      raw.close();
      const [eventsAgain, keysAgain] = [createSqliteEventStore({ path }), createSqliteKeyStore({ path })];
      expect((await collect(eventsAgain.readAll())).map((e) => e.metadata.eventId)).toEqual(appended.map((e) => e.metadata.eventId));
      const found = await keysAgain.find(["account:A1", "account:A2"]);
      expect([hex(found.get("account:A1")), found.get("account:A2")]).toEqual([hex(key), null]);
      await Promise.all([eventsAgain.close(), keysAgain.close()]);
    }
  });

  it("keeps a key as a 32-byte blob and a tombstone as a NULL key with the moment it was first forgotten", async () => {
    const path = freshFile();
    const keys = createSqliteKeyStore({ path });
    const key = newKey();
    await keys.create(new Map([["account:A1", key]]));
    await keys.forget(["account:A2"]);
    const raw = new Database(path);
    type Row = { subject: string; type: string; key: Buffer | null; created_at: string; forgotten_at: string | null };
    const rows = () => raw.prepare<[], Row>("SELECT subject, typeof(key) AS type, key, created_at, forgotten_at FROM personal_keys ORDER BY subject").all();
    const [live, gone] = rows();
    expect(live).toMatchObject({ subject: "account:A1", type: "blob", forgotten_at: null });
    expect(hex(live!.key)).toBe(hex(key));
    expect(gone).toMatchObject({ subject: "account:A2", type: "null", key: null });
    for (const at of [live!.created_at, gone!.created_at, gone!.forgotten_at]) expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Forgetting again keeps the first moment (set back here, so a new one would show).
    raw.prepare("UPDATE personal_keys SET forgotten_at = '2001-01-01T00:00:00.000Z' WHERE subject = 'account:A2'").run();
    await keys.forget(["account:A1", "account:A2"]);
    const [forgotten, again] = rows();
    expect(again!.forgotten_at).toBe("2001-01-01T00:00:00.000Z");
    expect(forgotten).toMatchObject({ type: "null", key: null });
    expect(forgotten!.forgotten_at).not.toBeNull();
    // The table itself refuses a key of the wrong length, and a key on a forgotten subject.
    expect(() => raw.prepare("INSERT INTO personal_keys VALUES ('account:A3', zeroblob(31), 'now', NULL, NULL)").run()).toThrow(/CHECK/);
    expect(() => raw.prepare("UPDATE personal_keys SET key = zeroblob(32) WHERE subject = 'account:A2'").run()).toThrow(/CHECK/);
    raw.close();
    await keys.close();
  });

  it("on the host's connection: turns on secure_delete and leaves the connection open when closed", async () => {
    const database = new Database(freshFile());
    expect(database.pragma("secure_delete", { simple: true })).toBe(0);
    const keys = createSqliteKeyStore({ database });
    expect(database.pragma("secure_delete", { simple: true })).toBe(1);
    await keys.create(new Map([["account:A1", newKey()]]));
    await keys.close();
    expect(database.open).toBe(true);
    expect(database.prepare("SELECT count(*) AS n FROM personal_keys").get()).toEqual({ n: 1 });
    database.close();
  });

  it("opened read-only finds keys and refuses create and forget; it refuses a missing file or one without keys", async () => {
    const path = freshFile();
    const writer = createSqliteKeyStore({ path });
    const key = newKey();
    await writer.create(new Map([["account:A1", key]]));
    await writer.close();
    const reader = createSqliteKeyStore({ path, readOnly: true });
    expect(hex((await reader.find(["account:A1"])).get("account:A1"))).toBe(hex(key));
    for (const write of [reader.create(new Map([["account:A2", newKey()]])), reader.forget(["account:A1"])]) {
      const error = await rejection(write);
      expect(error).toBeInstanceOf(KeyStoreError);
      expect((error as Error).message).toMatch(/read-only/);
    }
    await reader.close();
    const again = createSqliteKeyStore({ path });
    expect(hex((await again.find(["account:A1"])).get("account:A1"))).toBe(hex(key));
    expect((await again.find(["account:A2"])).size).toBe(0);
    await again.close();

    const missing = join(dir, "missing.sqlite");
    expect(() => createSqliteKeyStore({ path: missing, readOnly: true })).toThrow(KeyStoreError);
    expect(existsSync(missing)).toBe(false);
    const eventsOnly = freshFile();
    await createSqliteLog({ path: eventsOnly }).close(); // the log alone, as a release before sealing left it
    expect(() => createSqliteKeyStore({ path: eventsOnly, readOnly: true })).toThrow(/no personal_keys table/);
  });

  it("fails with a KeyStoreError naming its file once closed", async () => {
    const path = freshFile();
    const keys = createSqliteKeyStore({ path });
    await keys.close();
    const error = await rejection(keys.find(["account:A1"]));
    expect(error).toBeInstanceOf(KeyStoreError);
    expect((error as Error).message).toContain(path);
  });
});

describe("SQLite key store erasure", () => {
  /** Which of `keys` appear, as raw bytes, in the file at `path` or in its write-ahead log. */
  const onDisk = (path: string, keys: ReadonlyArray<Uint8Array>) => {
    const files = [path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f));
    return keys.filter((key) => files.some((bytes) => bytes.indexOf(key) >= 0));
  };

  it("leaves no byte of a forgotten key in the database file or its -wal file; keys not forgotten are found there", async () => {
    const path = freshFile();
    const events = createSqliteEventStore({ path });
    await events.append(sampleEvents(50, 0, ["erasure"]));
    const keys = createSqliteKeyStore({ path });
    const subjects = Array.from({ length: 300 }, (_, i) => `account:E${i}`);
    const created = new Map(subjects.map((s) => [s, newKey()] as const));
    await keys.create(created);
    // The control: every key is on disk before anything is forgotten, so the search finds what is there.
    expect(onDisk(path, [...created.values()])).toHaveLength(300);

    const forgotten = subjects.filter((_, i) => i % 3 !== 0);
    await keys.forget(forgotten.slice(0, 150)); // many in one call
    for (const subject of forgotten.slice(150)) await keys.forget([subject]); // and one at a time
    await events.append(sampleEvents(10, 50, ["erasure"])); // the event store goes on writing the same file
    const kept = subjects.filter((_, i) => i % 3 === 0);
    const keyOf = (subject: string) => created.get(subject)!;

    // Right after forget: the store's connection zeroed the cells and checkpointed the log.
    expect(onDisk(path, forgotten.map(keyOf))).toEqual([]);
    expect(onDisk(path, kept.map(keyOf))).toHaveLength(kept.length);

    // After the host's VACUUM, and after every connection closed.
    const host = new Database(path);
    host.exec("VACUUM");
    expect(onDisk(path, forgotten.map(keyOf))).toEqual([]);
    expect(onDisk(path, kept.map(keyOf))).toHaveLength(kept.length);
    host.close();
    await Promise.all([keys.close(), events.close()]);
    expect(onDisk(path, forgotten.map(keyOf))).toEqual([]);
    expect(onDisk(path, kept.map(keyOf))).toHaveLength(kept.length);
    const again = createSqliteKeyStore({ path });
    const found = await again.find(subjects);
    expect(subjects.filter((s) => found.get(s) !== null)).toEqual(kept);
    await again.close();
  });
});

/** The child process the race runs, with what it runs: its build in dist/. */
const fixture = fileURLToPath(new URL("../dist/fixtures/sqlite-key-creator.js", import.meta.url));
const builds = ["fixtures/sqlite-key-creator", "sqlite-key-store", "key-checks", "key-store"].map((f) => ({
  source: fileURLToPath(new URL(`./${f}.ts`, import.meta.url)),
  built: fileURLToPath(new URL(`../dist/${f}.js`, import.meta.url)),
}));
const expectFreshBuild = () => {
  const stale = builds.find(({ source, built }) => !existsSync(built) || statSync(source).mtimeMs > statSync(built).mtimeMs);
  if (stale !== undefined) throw new Error(`${stale.built} is missing or older than ${stale.source}: build first (npx tsc -b packages/adapters)`);
};

/** Starts the fixture; `ready` resolves when it has opened the store, `done` with its lines when it exits. */
const startCreator = (args: ReadonlyArray<string>) => {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [fixture, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  createInterface({ input: child.stdout }).on("line", (line) => (line === "ready" ? onReady() : lines.push(line)));
  const done = new Promise<string[]>((resolve, reject) =>
    child.on("exit", (code) => (code === 0 ? resolve(lines) : reject(new Error(`key creator exited with ${code}: ${stderr}`)))),
  );
  return { ready, done, go: () => child.stdin.end("go\n") };
};

describe("SQLite key store shared by processes", () => {
  it("agrees on one key per subject when two processes create the same 200 subjects with keys of their own", async () => {
    expectFreshBuild();
    const path = freshFile();
    await createSqliteEventStore({ path }).close();
    await createSqliteKeyStore({ path }).close();
    const count = 200;
    // One walks the subjects up, the other down, so they meet and contend in the middle.
    const creators = [startCreator([path, "account:R", String(count), "forward"]), startCreator([path, "account:R", String(count), "backward"])];
    await Promise.all(creators.map((c) => c.ready));
    for (const c of creators) c.go();
    const [a, b] = (await Promise.all(creators.map((c) => c.done))).map(
      (lines) => new Map(lines.map((line) => line.split(" ")).map(([i, given, answered]) => [Number(i), { given, answered }])),
    );
    expect([a!.size, b!.size]).toEqual([count, count]);

    const keys = createSqliteKeyStore({ path });
    const stored = await keys.find(Array.from({ length: count }, (_, i) => `account:R:${i}`));
    await keys.close();
    for (let i = 0; i < count; i++) {
      const [x, y] = [a!.get(i)!, b!.get(i)!];
      expect(x.given).not.toBe(y.given);
      // Both were answered the same key, one of the two given, and it is the one stored.
      expect(x.answered).toBe(y.answered);
      expect([x.given, y.given]).toContain(x.answered);
      expect(hex(stored.get(`account:R:${i}`))).toBe(x.answered);
    }
  }, 120_000);
});
