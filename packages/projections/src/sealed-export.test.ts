/**
 * Exports carry personal fields sealed, as the store's log keeps them, so that
 * forgetting a key erases those fields in every export ever taken. Readers open
 * them with `--keys` (the key store that sealed them), or read `[sealed]`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteEventStore, createSqliteKeyStore } from "@linked-accounts/adapters/sqlite";
import type { EventEnvelope } from "@linked-accounts/domain/internal";
import { fixtures } from "@linked-accounts/domain/testing";
import { main } from "./command-line.js";
import { referenceStory, stamped } from "./test-support.js";

const run = async (argv: string[], stdin = "") => {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, { stdin: Readable.from([stdin]), stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
};

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-sealed-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const story = referenceStory();
const NO_KEYS = "linked-accounts: personal fields read [sealed]: no --keys given\n";

/** The story in a SQLite store (its keys in `keysPath` when given, else in the store's file); returns the store's path. */
const storeOf = async (name: string, keysPath?: string): Promise<string> => {
  const path = join(dir, `${name}.sqlite`);
  const store = createSqliteEventStore({ path, ...(keysPath === undefined ? {} : { personalData: { keys: createSqliteKeyStore({ path: keysPath }) } }) });
  const parties = new Map<string, string[]>();
  for (const { position: _p, stream: _s, ...event } of story) {
    const e = event as EventEnvelope;
    if (e.type === "AccountConnected") parties.set(e.data.linkId, [`account:${e.data.issuerAccountId}`, `account:${e.data.connectedAccountId}`]);
    const tags = e.type === "LinkRevoked" ? (parties.get(e.data.linkId) ?? []) : e.type === "AccountRegistered" ? [`account:${e.data.accountId}`] : [];
    await store.append([{ ...e, tags: [...tags, "story"] }]);
  }
  await store.close();
  return path;
};

const exportOf = async (source: string, name: string): Promise<string> => {
  const r = await run(["export", source]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const file = join(dir, `${name}.ndjson`);
  writeFileSync(file, r.stdout);
  return file;
};

const timelineData = async (argv: string[], type: string) => {
  const r = await run(argv);
  expect(r.status, r.stderr).toBe(0);
  return { data: JSON.parse(r.stdout).events.find((e: { type: string }) => e.type === type).data, stderr: r.stderr };
};

describe("an export of a sealing store", () => {
  it("read without --keys: every answer but personal fields, which read [sealed], said once on stderr", async () => {
    const path = await storeOf("no-keys");
    const file = await exportOf(`sqlite:${path}`, "no-keys");
    const fromStore = await run(["grants", "--json", "--from", `sqlite:${path}`]);
    const fromExport = await run(["grants", "--json", "--from", file]);
    expect(fromExport.stdout).toBe(fromStore.stdout);
    expect(fromExport.stderr).toBe(NO_KEYS);
    const { data, stderr } = await timelineData(["timeline", "child", "--json", "--from", file], "ItemCheckedOut");
    expect(stderr).toBe(NO_KEYS); // once, though several events are sealed
    expect(data).toMatchObject({ loanId: "loan1", itemId: "[sealed]", title: "[sealed]", format: "physical" });
    // The same export read from standard input, and with --keys: in the clear, and not a word on stderr.
    expect((await run(["grants", "--json"], readFileSync(file, "utf8"))).stderr).toBe(NO_KEYS);
    const opened = await timelineData(["timeline", "child", "--json", "--from", file, "--keys", `sqlite:${path}`], "ItemCheckedOut");
    expect(opened).toEqual({ data: expect.objectContaining({ itemId: "item-loan1", title: "The Bone People" }), stderr: "" });
  });

  it("forgetting a key erases those fields in an export taken before: [erased], while the others still open", async () => {
    const path = await storeOf("erased");
    const file = await exportOf(`sqlite:${path}`, "before-erasure");
    const keys = ["--keys", `sqlite:${path}`];
    expect((await timelineData(["timeline", "child", "--json", "--from", file, ...keys], "AccountRegistered")).data.barcode).toBe(fixtures.barcodeOf("child"));
    const store = createSqliteEventStore({ path });
    await store.append([{ ...stamped({ type: "AccountErased", data: { accountId: "child", erasedAt: fixtures.at(100) } }, { kind: "staff", staffId: "desk" }, 100, 100), tags: ["account:child"] }]);
    await store.close();
    // The export file has not changed; the key it needs is gone.
    const child = await run(["timeline", "child", "--json", "--from", file, ...keys]);
    expect(child.stderr).toBe("");
    const events = JSON.parse(child.stdout).events as Array<{ type: string; data: Record<string, unknown> }>;
    expect(events.find((e) => e.type === "AccountRegistered")!.data.barcode).toBe("[erased]");
    expect(events.find((e) => e.type === "ItemCheckedOut")!.data).toMatchObject({ itemId: "[erased]", title: "[erased]" });
    expect(events.find((e) => e.type === "HoldPlaced")!.data).toMatchObject({ itemId: "[erased]", title: "[erased]", pickupBranch: "[erased]" });
    const partner = await timelineData(["timeline", "partner", "--json", "--from", file, ...keys], "HoldPlaced");
    expect(partner.data).toMatchObject({ itemId: "item-hold2", title: "Potiki", pickupBranch: "Central" });
    // The child is no longer found by its barcode; by id, and in the grants, as before.
    expect((await run(["who-can-manage", fixtures.barcodeOf("child"), "--from", file, ...keys])).status).toBe(1);
    expect(JSON.parse((await run(["grants", "--json", "--from", file, ...keys])).stdout).grants).toHaveLength(2);
  });

  it("export of an export copies it as kept: still sealed, the same event lines", async () => {
    const path = await storeOf("re-export");
    const file = await exportOf(`sqlite:${path}`, "first");
    const again = await run(["export", file]);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe("");
    expect(again.stdout).toBe(readFileSync(file, "utf8"));
  });

  it("a store whose keys are kept apart: --keys names them, for the store as for its export", async () => {
    const keysPath = join(dir, "apart-keys.sqlite");
    const path = await storeOf("apart", keysPath);
    const own = await run(["timeline", "child", "--json", "--from", `sqlite:${path}`]);
    expect(own).toMatchObject({ status: 2, stdout: "" });
    expect(own.stderr).toMatch(/^linked-accounts: Stored event at position 1 \(type AccountRegistered\) does not decode: data\.sealed: no key for subject account:parent/);
    const withKeys = await timelineData(["timeline", "child", "--json", "--from", `sqlite:${path}`, "--keys", `sqlite:${keysPath}`], "ItemCheckedOut");
    expect(withKeys.data).toMatchObject({ title: "The Bone People" });
    const file = await exportOf(`sqlite:${path}`, "apart");
    expect((await timelineData(["timeline", "child", "--json", "--from", file, "--keys", `sqlite:${keysPath}`], "ItemCheckedOut")).data).toMatchObject({ title: "The Bone People" });
  });
});

describe("reading a sealed export: bad input stops with status 2, the line and the field", () => {
  it("a sealed part that was changed, or opened with another store's keys", async () => {
    const path = await storeOf("tamper");
    const other = await storeOf("other");
    const file = await exportOf(`sqlite:${path}`, "tamper");
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    // Line 1 is the header: the checkout (position 8) is line 9. Changed, then written without header and trailer.
    const line = lines[8]!;
    const ct = /"ct":"([A-Za-z0-9_-]+)"/.exec(line)![1]!;
    const changed = line.replace(ct, (ct[0] === "A" ? "B" : "A") + ct.slice(1));
    const tampered = join(dir, "tampered.ndjson");
    writeFileSync(tampered, [...lines.slice(1, 8), changed, ...lines.slice(9, -1)].join("\n") + "\n");
    const r = await run(["timeline", "child", "--from", tampered, "--keys", `sqlite:${path}`]);
    expect(r).toMatchObject({ status: 2, stdout: "" });
    expect(r.stderr).toContain("linked-accounts: line 8: ItemCheckedOut.data.sealed: does not open under its subjects' keys (altered, or sealed for another event)\n");
    const wrong = await run(["grants", "--from", file, "--keys", `sqlite:${other}`]);
    expect(wrong).toMatchObject({ status: 2, stdout: "" });
    expect(wrong.stderr).toMatch(/^linked-accounts: line 2: AccountRegistered\.data\.sealed: /);
  });

  it("bad usage: --keys that is not a store, --keys with export, a missing key file", async () => {
    const path = await storeOf("usage");
    const file = await exportOf(`sqlite:${path}`, "usage");
    const notStore = await run(["grants", "--from", file, "--keys", file]);
    expect(notStore).toMatchObject({ status: 2, stdout: "" });
    expect(notStore.stderr).toMatch(/^linked-accounts: --keys: expected sqlite:PATH or postgres:\/\/…, got ".*" \(see linked-accounts --help\)\n$/);
    const onExport = await run(["export", file, "--keys", `sqlite:${path}`]);
    expect(onExport).toMatchObject({ status: 2, stdout: "" });
    expect(onExport.stderr).toContain("export copies personal fields sealed, as kept: it takes no --keys");
    const missing = await run(["grants", "--from", file, "--keys", `sqlite:${join(dir, "missing.sqlite")}`]);
    expect(missing).toMatchObject({ status: 1, stdout: "" });
    expect(missing.stderr).toContain("No SQLite key store at");
  });
});
