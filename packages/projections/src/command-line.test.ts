import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "@linked-accounts/domain/testing";
import { main } from "./command-line.js";
import { exportText, referenceStory } from "./test-support.js";

const run = async (argv: string[], stdin = "") => {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, {
    stdin: Readable.from([stdin]),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { status, stdout, stderr };
};

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const story = referenceStory();
const storyText = exportText(story);
const storyFile = join(dir, "story.ndjson");
writeFileSync(storyFile, storyText);

describe("linked-accounts: answers", () => {
  it("grants --json prints exactly one document: grants sorted, link ids sorted, the last position", async () => {
    const { status, stdout, stderr } = await run(["grants", "--json", "--from", storyFile]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      position: 14,
      grants: [
        { manager: "parent", account: "child", linkIds: ["link-pc"] },
        { manager: "partner", account: "child", linkIds: ["link-cp"] },
      ],
    });
  });

  it("grants --as-of a position and a time, from standard input", async () => {
    const byPosition = JSON.parse((await run(["grants", "--as-of", "12", "--json"], storyText)).stdout);
    expect(byPosition.position).toBe(12);
    expect(byPosition.grants.map((g: { manager: string; account: string }) => `${g.manager}>${g.account}`)).toEqual([
      "parent>child",
      "parent>partner",
      "partner>child",
      "partner>parent",
    ]);
    const byTime = JSON.parse((await run(["grants", "--as-of", fixtures.at(5), "--json", "-f", "-"], storyText)).stdout);
    expect(byTime.position).toBe(6);
    expect(byTime.grants).toEqual([{ manager: "parent", account: "child", linkIds: ["link-pc"] }]);
  });

  it("who-can-manage and managed-by accept a barcode and print aligned tables", async () => {
    const who = await run(["who-can-manage", fixtures.barcodeOf("child"), "--from", storyFile]);
    expect(who.status).toBe(0);
    expect(who.stdout).toContain("Who can manage child as of position 14: itself and 2");
    expect(who.stdout).toMatch(/MANAGER\s+BARCODE\s+LINKS\nparent\s+parent00001\s+link-pc\npartner\s+partner00001\s+link-cp\n/);
    const managed = JSON.parse((await run(["managed-by", "parent", "--json", "--as-of", "12", "--from", storyFile])).stdout);
    expect(managed).toEqual({
      position: 12,
      manager: "parent",
      accounts: [
        { account: "child", linkIds: ["link-pc"] },
        { account: "partner", linkIds: ["link-pp"] },
      ],
    });
  });

  it("explain gives the link and its AccountConnected event, or why not", async () => {
    const yes = JSON.parse((await run(["explain", "parent", "child", "--json", "--from", storyFile])).stdout);
    expect(yes).toMatchObject({ granted: true, sources: [{ linkId: "link-pc", connectedEventId: story[4]!.metadata.eventId, connectedPosition: 5 }] });
    const no = await run(["explain", "partner", "parent", "--from", storyFile]);
    expect(no.stdout).toContain("partner cannot manage parent as of position 14:\n  - link link-pp was revoked at position 13");
    const minor = await run(["explain", "child", "partner", "--from", storyFile]);
    expect(minor.stdout).toContain("child is a minor, and minors never manage (R4)");
  });

  it("timeline shows the manager's action with the link that allowed it, and no verifier", async () => {
    const { stdout } = await run(["timeline", "child", "--json", "--from", storyFile]);
    const doc = JSON.parse(stdout);
    const renewal = doc.events.find((e: { type: string }) => e.type === "LoanRenewed");
    expect(renewal).toMatchObject({ position: 10, actor: { kind: "account", accountId: "parent" }, managerAction: { manager: "parent", account: "child", linkIds: ["link-pc"] } });
    expect(doc.events.map((e: { position: number }) => e.position)).toEqual([2, 5, 8, 9, 10, 11, 12]);
    expect(stdout).not.toContain("verifier");
    const human = await run(["timeline", "parent", "--from", storyFile]);
    expect(human.stdout).toContain("(manager parent on child via link link-pc)");
    expect(human.stdout).not.toContain(fixtures.saltOf("ph1"));
  });

  it("loans: the viewer's own and its managed accounts', with only manager actions on the others", async () => {
    const doc = JSON.parse((await run(["loans", "parent", "--json", "--from", storyFile])).stdout);
    expect(doc.accounts.map((a: { accountId: string }) => a.accountId)).toEqual(["parent", "child"]);
    const child = doc.accounts[1];
    expect(child.accountActions).toEqual([]);
    expect(child.loans[0]).toMatchObject({ loanId: "loan1", actions: ["renew-loan"] });
    expect(child.holds[0]).toMatchObject({ holdId: "hold1", actions: ["cancel-hold", "suspend-hold", "change-pickup-branch"] });
    expect(doc.accounts[0].accountActions).toEqual(["place-hold", "e-checkout"]);
    const partnerThen = JSON.parse((await run(["loans", "partner", "--json", "--as-of", "12", "--from", storyFile])).stdout);
    expect(partnerThen.accounts.map((a: { accountId: string }) => a.accountId)).toEqual(["partner", "child", "parent"]);
    expect(partnerThen.accounts[0].holds).toEqual([]); // hold2 is placed at 14
  });

  it("an unknown account is no answer (status 1), said on stderr", async () => {
    const r = await run(["who-can-manage", "nobody", "--from", storyFile]);
    expect(r).toMatchObject({ status: 1, stdout: "" });
    expect(r.stderr).toContain('no account with id or barcode "nobody"');
  });

  it("--help documents the sources", async () => {
    const r = await run(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("sqlite:PATH");
    expect(r.stdout).toContain("postgres://");
  });
});

describe("linked-accounts: bad input stops with status 2, the line and the field, and nothing on stdout", () => {
  const lines = storyText.trimEnd().split("\n");
  const withLine = (i: number, text: string) => [...lines.slice(0, i), text, ...lines.slice(i + 1)].join("\n") + "\n";
  const cases: Array<[string, string, RegExp]> = [
    ["a malformed JSON line", withLine(2, "{not json"), /line 3: not valid JSON/],
    ["an unknown event type", withLine(3, lines[3]!.replace('"SharePhraseIssued"', '"PhraseShouted"')), /line 4: event\.type: expected a known event type, got "PhraseShouted"/],
    ["a decode failure", withLine(4, lines[4]!.replace('"one-way"', '"both-ways"')), /line 5: AccountConnected\.data\.direction: expected .*got "both-ways"/],
    ["a bad metadata field", withLine(1, lines[1]!.replace('"channel":"portal"', '"channel":"fax"')), /line 2: AccountRegistered\.metadata\.channel: expected Channel \| null, got "fax"/],
    ["a schema version from a later release", withLine(1, lines[1]!.replace('"schemaVersion":2', '"schemaVersion":3')), /line 2: AccountRegistered\.metadata\.schemaVersion: expected a schema version from 1 to 2 \(written by a later release.*got 3/],
    ["a position that goes backwards", withLine(6, lines[6]!.replace('"position":7', '"position":3')), /line 7: event\.position: expected more than 6 \(strictly increasing\), got 3/],
    ["a repeated position", withLine(6, lines[6]!.replace('"position":7', '"position":6')), /line 7: event\.position: expected more than 6/],
    ["a position that is not a positive integer", withLine(0, lines[0]!.replace('"position":1', '"position":1.5')), /line 1: event\.position: expected positive integer, got 1\.5/],
    ["a missing stream", withLine(0, lines[0]!.replace(/"stream":"[^"]*",/, "")), /line 1: event\.stream: expected string, got nothing/],
  ];
  for (const [name, input, message] of cases)
    it(name, async () => {
      for (const argv of [["grants", "--json"], ["timeline", "parent"], ["export", "-"]]) {
        const r = await run(argv, input);
        expect(r.stdout).toBe("");
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(message);
      }
    });

  it("bad usage: status 2 with the help", async () => {
    for (const argv of [["frobnicate"], ["explain", "parent"], ["grants", "--as-of", "yesterday"], ["grants", "--bogus"]]) {
      const r = await run(argv);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("Usage:");
    }
  });

  it("a missing file: status 1, nothing on stdout", async () => {
    const r = await run(["grants", "--from", join(dir, "nope.ndjson")]);
    expect(r).toMatchObject({ status: 1, stdout: "" });
    expect(r.stderr).toContain("nope.ndjson");
  });
});

describe("linked-accounts: export", () => {
  it("export of an export is the same text (positions as JSON numbers)", async () => {
    const r = await run(["export", storyFile]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(storyText);
  });
});

describe("linked-accounts: the real executable", () => {
  const cli = resolve(import.meta.dirname, "..", "dist", "cli.js");
  it("runs as a user would: a file, then standard input, then bad input", () => {
    const fromFile = spawnSync(process.execPath, [cli, "grants", "--json", "--from", storyFile], { encoding: "utf8" });
    expect(fromFile.stderr).toBe("");
    expect(fromFile.status).toBe(0);
    expect(JSON.parse(fromFile.stdout).grants).toHaveLength(2);
    const fromStdin = spawnSync(process.execPath, [cli, "who-can-manage", "child"], { input: storyText, encoding: "utf8" });
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stdout).toContain("partner");
    const bad = spawnSync(process.execPath, [cli, "grants"], { input: storyText + "{oops\n", encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain(`line ${story.length + 1}: not valid JSON`);
  });
});
