/**
 * `linked-accounts seal`: how a library encrypts a history written before
 * sealing. The old history is copied into a new store, which seals it; every
 * answer stays the same, and the new file holds nothing personal in the clear.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createInMemoryEventStore } from "@linked-accounts/adapters";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { type EventEnvelope, type EventType, personalFieldsOf } from "@linked-accounts/domain/internal";
import { fixtures } from "@linked-accounts/domain/testing";
import { main } from "./command-line.js";
import { sealHistory } from "./seal.js";
import { everyKindStory, exportText, history, storyValues } from "./test-support.js";

const run = async (argv: string[], stdin = "") => {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, { stdin: Readable.from([stdin]), stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
};

const fixture = join(fileURLToPath(new URL(".", import.meta.url)), "fixtures", "schema-v1");
const v1Export = join(fixture, "export.ndjson");
const answers = JSON.parse(readFileSync(join(fixture, "answers.json"), "utf8")) as Record<string, string[]>;
const dir = mkdtempSync(join(tmpdir(), "linked-accounts-seal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every personal value of a history in the clear (barcodes, titles, items, branches, reasons), at least 4 characters long. */
const personalValues = (lines: ReadonlyArray<{ type: EventType; data: Record<string, unknown> }>): string[] => {
  const out = new Set<string>();
  for (const { type, data } of lines)
    for (const field of personalFieldsOf(type)) if (typeof data[field] === "string" && (data[field] as string).length >= 4) out.add(data[field] as string);
  return [...out];
};

/** The bytes of a SQLite store as it lies on disk: the file and any write-ahead log beside it. */
const bytesOf = (path: string): Buffer => Buffer.concat([readFileSync(path), ...(existsSync(`${path}-wal`) ? [readFileSync(`${path}-wal`)] : [])]);

describe("linked-accounts seal", () => {
  it("a schema-version-1 export sealed into a new SQLite file answers exactly as the old one, and the file holds none of its barcodes or titles", async () => {
    const path = join(dir, "v1-sealed.sqlite");
    const r = await run(["seal", "--from", v1Export, "--to", `sqlite:${path}`, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ from: v1Export, to: `sqlite:${path}`, events: 45, sealed: 23, barcodeTags: 6, digests: 0, tagged: 45, forgetting: 0 });
    const old = readFileSync(v1Export, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const values = personalValues(old);
    for (const expected of ["P1000001", "C1000002", "The Bone People", "Slinky Malinki", "bone-people", "Grey Lynn", "requested by the account holder"]) expect(values).toContain(expected);
    const bytes = bytesOf(path);
    for (const value of values) expect(bytes.includes(value), value).toBe(false);
    // Not vacuous: the history is in the file, ids and all.
    expect(bytes.includes("aroha")).toBe(true);
    for (const [file, argv] of Object.entries(answers)) {
      const answer = await run([...argv, "--from", `sqlite:${path}`]);
      expect(answer.stderr, file).toBe("");
      expect(answer.stdout, file).toBe(readFileSync(join(fixture, "answers", file), "utf8"));
    }
    // Each event kept its id and its metadata, read as version 3.
    const store = createSqliteEventStore({ path, readOnly: true });
    const ids: string[] = [];
    for await (const e of store.readAll()) {
      expect(e.metadata.schemaVersion).toBe(3);
      ids.push(e.metadata.eventId);
    }
    await store.close();
    expect(ids).toEqual(old.map((l) => l.metadata.eventId));
  });

  it("says what it did, in words", async () => {
    const r = await run(["seal", "--from", v1Export, "--to", `sqlite:${join(dir, "words.sqlite")}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `Sealed 45 event(s) from ${v1Export} into sqlite:${join(dir, "words.sqlite")}:\n` +
        "COUNT  WHAT\n" +
        "23     events with personal fields: sealed under their subjects' keys\n" +
        "6      barcode tags: stored as keyed hashes\n" +
        "0      command digests: keyed\n" +
        "45     events that came without tags: tagged as the domain tags them\n" +
        "0      erasure and retention events: the keys they name forgotten\n" +
        "Nothing personal is stored in the clear in the new store. The old store and its exports still hold\n" +
        "those fields in the clear: once the new store is checked and in use, delete them (and their backups).\n",
    );
  });

  it("from a sealed store (with its keys) into another: erased stays erased, the rest is sealed again under new keys", async () => {
    const story = everyKindStory();
    const oldPath = join(dir, "old.sqlite");
    const old = createSqliteEventStore({ path: oldPath });
    for (const { position: _p, stream: _s, ...e } of story) await old.append([e as EventEnvelope & { tags: ReadonlyArray<string> }]);
    await old.close();
    const exported = await run(["export", `sqlite:${oldPath}`]);
    const file = join(dir, "old.ndjson");
    writeFileSync(file, exported.stdout);
    const newPath = join(dir, "resealed.sqlite");
    const r = await run(["seal", "--from", file, "--keys", `sqlite:${oldPath}`, "--to", `sqlite:${newPath}`, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: 32, tagged: 0, forgetting: 3, barcodeTags: 2 });
    const bytes = bytesOf(newPath);
    for (const value of [...storyValues.kid, ...storyValues.mum, ...storyValues.nan, ...storyValues.both]) expect(bytes.includes(value), value).toBe(false);
    const report = async (who: string, from: string) => (await run(["access-report", who, "--json", "--from", from])).stdout;
    for (const who of ["kid", "mum", "nan"]) expect(await report(who, `sqlite:${newPath}`), who).toBe(await report(who, `sqlite:${oldPath}`));
    expect(await report("mum", `sqlite:${newPath}`)).toContain("Mum Reads Alone");
    expect(await report("kid", `sqlite:${newPath}`)).toContain('"barcode": "[erased]"');
  });

  it("refuses a target that is not empty, and a source whose personal fields read [sealed]: status 2, nothing on stdout, nothing written", async () => {
    const path = join(dir, "taken.sqlite");
    expect((await run(["seal", "--from", v1Export, "--to", `sqlite:${path}`])).status).toBe(0);
    const again = await run(["seal", "--from", v1Export, "--to", `sqlite:${path}`]);
    expect(again).toMatchObject({ status: 2, stdout: "", stderr: `linked-accounts: sqlite:${path} already holds events (up to position 45): seal writes only into a new, empty store\n` });
    // A sealed export, read without the keys that sealed it.
    const exported = await run(["export", `sqlite:${path}`]);
    const target = join(dir, "not-written.sqlite");
    const withoutKeys = await run(["seal", "--to", `sqlite:${target}`], exported.stdout);
    expect(withoutKeys).toMatchObject({ status: 2, stdout: "" });
    expect(withoutKeys.stderr).toContain(
      "linked-accounts: event at position 1 (AccountRegistered): its personal fields read [sealed]: give --keys, the key store that sealed the source, so that they can be sealed again\n",
    );
    const store = createSqliteEventStore({ path: target, readOnly: true });
    expect(await store.head()).toBe(0n);
    await store.close();
  });

  it("an event the new store refuses stops the copy, named by its position, and says how much was copied", async () => {
    // A revocation of a link the history never connected: its reason has no one to be sealed under.
    const events = history([
      ...Array.from({ length: 3 }, (_, i) => [fixtures.registered(`a${i}`), { kind: "staff", staffId: "desk" }] as const),
      [fixtures.linkRevoked("no-such-link", "a0"), "a0"],
    ]);
    const sealer = createInMemoryEventStore();
    await expect(sealHistory([events], sealer, { batchSize: 2 })).rejects.toThrow(
      /^event at position 4 \(LinkRevoked\): the new store refuses it: LinkRevoked\.tags: expected the accounts it concerns/,
    );
    expect(await sealer.head()).toBe(2n);
    // Through the command line, after a first append of 1,000.
    const many = history([
      ...Array.from({ length: 1000 }, (_, i) => [fixtures.registered(`b${i}`), { kind: "staff", staffId: "desk" }] as const),
      [fixtures.linkRevoked("no-such-link", "b0"), "b0"],
    ]);
    const r = await run(["seal", "--to", `sqlite:${join(dir, "half.sqlite")}`], exportText(many));
    expect(r).toMatchObject({ status: 2, stdout: "" });
    expect(r.stderr).toMatch(/\nlinked-accounts: event at position 1001 \(LinkRevoked\): the new store refuses it: .*\(1000 event\(s\) were copied before this: sqlite:.*half\.sqlite is incomplete; delete it before sealing again\)\n$/);
  });

  it("appends in batches of 1,000", async () => {
    const events = history(Array.from({ length: 2500 }, (_, i) => [fixtures.registered(`acc${i}`), { kind: "staff", staffId: "desk" }] as const));
    const store = createInMemoryEventStore();
    const sizes: number[] = [];
    const counting = { ...store, append: (batch: Parameters<typeof store.append>[0], condition?: Parameters<typeof store.append>[1]) => (sizes.push(batch.length), store.append(batch, condition)) };
    const counts = await sealHistory([events.slice(0, 1700), events.slice(1700)], counting);
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(counts).toMatchObject({ events: 2500, sealed: 2500, barcodeTags: 2500 });
  });

  it("keys an old command digest with the new store's index secret, as its command handler keys them", async () => {
    const [event] = history([[fixtures.registered("d1"), { kind: "staff", staffId: "desk" }]]);
    const store = createInMemoryEventStore();
    await sealHistory([[{ ...event!, tags: ["account:d1", "command-digest:plain-digest"] }]], store);
    const tags: string[] = [];
    for await (const e of store.log.readAll()) tags.push(...e.tags);
    expect(tags).toEqual(["account:d1", `command-digest:${await store.indexHash("plain-digest")}`]);
  });

  it("bad usage: status 2, one line, pointing to --help", async () => {
    for (const [argv, message] of [
      [["seal", "--from", v1Export], "seal needs --to sqlite:PATH or postgres://…, the new store to write into"],
      [["seal", v1Export, "--to", "sqlite:x.sqlite"], "seal takes no arguments (the source is --from, the new store --to), got 1"],
      [["seal", "--from", v1Export, "--to", join(dir, "plain.ndjson")], `--to: expected sqlite:PATH or postgres://…, got ${JSON.stringify(join(dir, "plain.ndjson"))}`],
      [["grants", "--from", v1Export, "--to", "sqlite:x.sqlite"], "--to is for seal only"],
      [["seal", "--from", v1Export, "--to", "sqlite:x.sqlite", "--as-of", "3"], "seal takes no --as-of: it copies the whole history"],
    ] as const) {
      const r = await run([...argv]);
      expect(r, argv.join(" ")).toEqual({ status: 2, stdout: "", stderr: `linked-accounts: ${message} (see linked-accounts --help)\n` });
    }
    expect(existsSync("x.sqlite")).toBe(false);
  });
});
