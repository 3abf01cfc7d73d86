import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { DomainEvent } from "@linked-accounts/domain/internal";
import { fixtures } from "@linked-accounts/domain/testing";
import { type CommandLineIo, main, oneLine, parseAsOf, table } from "./command-line.js";
import { checkedExportText, exportText, history, referenceStory } from "./test-support.js";

const run = async (argv: string[], stdin = "", io: Partial<CommandLineIo> = {}) => {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, {
    stdin: Readable.from([stdin]),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    ...io,
  });
  return { status, stdout, stderr };
};

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const story = referenceStory();
/** As `export` writes it: header, events, trailer. */
const storyText = checkedExportText(story);
/** The events alone, as a hand-made export. */
const plainText = exportText(story);
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

  it("--help documents the sources, the commands and the options", async () => {
    const r = await run(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("sqlite:PATH");
    expect(r.stdout).toContain("postgres://");
    for (const text of ["\n  access-report ACCOUNT ", "\n  seal --to STORE ", "\n  linked-accounts seal [--from SOURCE] --to STORE [--keys STORE]\n", "\n  --keys STORE ", "\n  --to STORE ", "[sealed]", "[erased]", '"data.sealed"'])
      expect(r.stdout, text).toContain(text);
  });
});

describe("linked-accounts: bad input stops with status 2, the line and the field, and nothing on stdout", () => {
  const lines = plainText.trimEnd().split("\n");
  const withLine = (i: number, text: string) => [...lines.slice(0, i), text, ...lines.slice(i + 1)].join("\n") + "\n";
  const cases: Array<[string, string, RegExp]> = [
    ["a malformed JSON line", withLine(2, "{not json"), /line 3: not valid JSON/],
    ["an unknown event type", withLine(3, lines[3]!.replace('"SharePhraseIssued"', '"PhraseShouted"')), /line 4: event\.type: expected a known event type, got "PhraseShouted"/],
    ["a decode failure", withLine(4, lines[4]!.replace('"one-way"', '"both-ways"')), /line 5: AccountConnected\.data\.direction: expected .*got "both-ways"/],
    ["a bad metadata field", withLine(1, lines[1]!.replace('"channel":"portal"', '"channel":"fax"')), /line 2: AccountRegistered\.metadata\.channel: expected Channel \| null, got "fax"/],
    ["a schema version from a later release", withLine(1, lines[1]!.replace('"schemaVersion":3', '"schemaVersion":4')), /line 2: AccountRegistered\.metadata\.schemaVersion: expected a schema version from 1 to 3 \(written by a later release.*got 4/],
    ["a position that goes backwards", withLine(6, lines[6]!.replace('"position":7', '"position":3')), /line 7: event\.position: expected more than 6 \(strictly increasing\), got 3/],
    ["a repeated position", withLine(6, lines[6]!.replace('"position":7', '"position":6')), /line 7: event\.position: expected more than 6/],
    ["a position that is not a positive integer", withLine(0, lines[0]!.replace('"position":1', '"position":1.5')), /line 1: event\.position: expected positive integer, got 1\.5/],
    ["a missing stream", withLine(0, lines[0]!.replace(/"stream":"[^"]*",/, "")), /line 1: event\.stream: expected string, got nothing/],
  ];
  cases.push(
    ["tags that are not strings", withLine(2, lines[2]!.replace('"stream":', '"tags":["a",7],"stream":')), /line 3: event\.tags\.1: expected string, got 7/],
    ["an array nested 5,000 deep in a field", withLine(7, lines[7]!.replace('"title":"', `"title":${"[".repeat(5000)}${"]".repeat(5000)},"x":"`)), /line 8: (ItemCheckedOut\.data\.title: expected Title|could not be decoded \(Maximum call stack size exceeded\))/],
  );
  for (const [name, input, message] of cases)
    it(name, async () => {
      for (const argv of [["grants", "--json"], ["timeline", "parent"], ["loans", "parent"], ["export", "-"]]) {
        const r = await run(argv, input);
        expect(r.stdout).toBe("");
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/^linked-accounts: [^\n]*\n$/); // one line
      }
    });

  it("bad usage: status 2, one line and a pointer to --help (not the whole help)", async () => {
    for (const argv of [["frobnicate"], ["explain", "parent"], ["grants", "--as-of", "yesterday"], ["grants", "--bogus"], ["grants", "--max-line-bytes", "0"]]) {
      const r = await run(argv);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^linked-accounts: [^\n]+ \(see linked-accounts --help\)\n$/);
      expect(r.stderr).not.toContain("Usage:");
    }
  });

  it("a missing file: status 1, nothing on stdout", async () => {
    const r = await run(["grants", "--from", join(dir, "nope.ndjson")]);
    expect(r).toMatchObject({ status: 1, stdout: "" });
    expect(r.stderr).toContain("nope.ndjson");
  });
});

describe("linked-accounts: export", () => {
  it("export of an export is the same text (positions as JSON numbers), header and trailer included", async () => {
    const r = await run(["export", storyFile]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(storyText);
    expect(r.stdout.split("\n")[0]).toBe('{"header":{"format":"linked-accounts-export","version":1}}');
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^\{"trailer":\{"events":14,"sha256":"[0-9a-f]{64}"\}\}$/);
  });

  it("a hand-made export gains the header and trailer when exported", async () => {
    const r = await run(["export", "-"], plainText);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(storyText);
  });

  it("streams: writes as it reads, in chunks, and waits when standard output asks it to", async () => {
    const many = manyEvents(3000);
    const chunks: string[] = [];
    let waits = 0;
    const stdout = {
      write: (s: string) => chunks.push(s) % 2 === 0, // every other write says "wait"
      once: (_event: "drain", listener: () => void) => {
        waits++;
        setImmediate(listener);
      },
    };
    const r = await run(["export", "-"], checkedExportText(many), { stdout });
    expect(r.status).toBe(0);
    expect(chunks.length).toBeGreaterThan(5);
    expect(waits).toBeGreaterThan(0);
    expect(chunks.join("")).toBe(checkedExportText(many));
  });

  it("a bad line late in a long input: what was written has no trailer, and readers refuse it (status 2)", async () => {
    const many = manyEvents(3000);
    const text = exportText(many).replace('"position":2999,', '"position":2999.5,');
    let written = "";
    const r = await run(["export", "-"], "", { stdin: Readable.from(chunked(text, 16_384)), stdout: { write: (s: string) => (written += s) } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^linked-accounts: line 2999: /);
    expect(written.length).toBeGreaterThan(0);
    expect(written).not.toContain('"trailer"');
    const reread = await run(["grants"], written);
    expect(reread).toMatchObject({ status: 2, stdout: "" });
    expect(reread.stderr).toMatch(/without its trailer line: it is incomplete/);
  });
});

/** `text` in pieces of `size` characters, as a pipe delivers it. */
const chunked = (text: string, size: number): string[] => {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
};

/** A long valid history: accounts registered, linked in pairs (for streaming and size tests). */
const manyEvents = (n: number) => {
  const steps: Array<readonly [DomainEvent, string]> = [];
  for (let i = 0; steps.length < n; i++) {
    steps.push([fixtures.registered(`a${i}`), `a${i}`]);
    if (i % 2 === 1 && steps.length + 2 <= n) {
      steps.push([fixtures.phraseIssued(`ph${i}`, `a${i - 1}`, "one-way"), `a${i - 1}`]);
      steps.push([fixtures.connected(`l${i}`, `ph${i}`, `a${i - 1}`, `a${i}`, "one-way"), `a${i}`]);
    }
  }
  return history(steps.slice(0, n));
};

describe("linked-accounts: the trailer (a truncated or changed export is refused)", () => {
  const lines = storyText.trimEnd().split("\n");
  const refused: Array<[string, string, RegExp]> = [
    ["cut at a line boundary (an export killed half way)", lines.slice(0, 9).join("\n") + "\n", /ends after line 9 without its trailer line: it is incomplete/],
    ["cut in the middle of a line", storyText.slice(0, storyText.indexOf('"position":9,') + 20), /line 10: not valid JSON .*cut short/],
    ["the trailer line lost", lines.slice(0, -1).join("\n") + "\n", /without its trailer line/],
    ["an event line removed", [...lines.slice(0, 5), ...lines.slice(6)].join("\n") + "\n", /line 15: the trailer says 14 events, but 13 came before it/],
    ["an event changed (still valid)", storyText.replace('"title":"', '"title":"Not '), /line 16: the trailer's SHA-256 does not match the lines before it/],
    ["a line after the trailer", storyText + lines[1] + "\n", /line 17: nothing may follow the trailer line \(line 16\)/],
    ["a header of another version", storyText.replace('"version":1', '"version":2'), /line 1: header\.header\.version: expected 1/],
    ["a header that is not first", lines[1] + "\n" + storyText, /line 2: a header line may only come first/],
    ["a malformed trailer", storyText.replace(/"sha256":"[0-9a-f]+"/, '"sha256":"abc"'), /line 16: trailer\.trailer\.sha256: expected 64 lowercase hex digits, got "abc"/],
  ];
  for (const [name, input, message] of refused)
    it(name, async () => {
      for (const argv of [["grants"], ["loans", "parent", "--json"], ["export"]]) {
        const r = await run(argv, input);
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/^linked-accounts: [^\n]*\n$/);
      }
    });

  it("a checked export reads without a word on stderr; one without header and trailer is read with a warning", async () => {
    const checked = await run(["grants", "--json"], storyText);
    expect(checked).toMatchObject({ status: 0, stderr: "" });
    const plain = await run(["grants", "--json"], plainText);
    expect(plain.status).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual(JSON.parse(checked.stdout));
    expect(plain.stderr).toBe("linked-accounts: warning: standard input has no header and trailer lines, so nothing shows it is complete (`linked-accounts export` writes them)\n");
  });

  it("in a checked export, grants reads in full only the events the access graph needs; the trailer vouches for the rest", async () => {
    // A line that is not valid (an empty title), with a trailer made to match: not something export writes.
    const bad = story.map((e) => (e.type === "ItemCheckedOut" ? { ...e, data: { ...e.data, title: "" } } : e));
    const crafted = checkedExportText(bad);
    const grants = await run(["grants", "--json"], crafted);
    expect(grants).toMatchObject({ status: 0, stderr: "" });
    expect(JSON.parse(grants.stdout)).toEqual(JSON.parse((await run(["grants", "--json"], plainText)).stdout));
    for (const argv of [["timeline", "child"], ["loans", "parent"], ["export"]]) {
      const r = await run(argv, crafted);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^linked-accounts: line 9: ItemCheckedOut\.data\.title: expected Title \(1 to 500 characters of valid Unicode, no control characters\), got ""\n$/);
    }
    // Without the header nothing vouches for the lines: every one is decoded.
    const unchecked = await run(["grants"], exportText(bad));
    expect(unchecked.status).toBe(2);
    expect(unchecked.stderr).toMatch(/line 8: ItemCheckedOut\.data\.title/);
  });

  it("as of a time, the times of the lines grants does not read in full still count", async () => {
    for (const minutes of [3, 5, 7, 8, 9, 13]) {
      const checked = await run(["grants", "--json", "--as-of", fixtures.at(minutes)], storyText);
      const plain = await run(["grants", "--json", "--as-of", fixtures.at(minutes)], plainText);
      expect(checked.stdout).toBe(plain.stdout);
      expect(JSON.parse(checked.stdout).position).toBe(minutes + 1);
    }
  });

  it("a trailer with no header is still checked", async () => {
    const noHeader = storyText.slice(storyText.indexOf("\n") + 1);
    const r = await run(["grants"], noHeader);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/SHA-256 does not match/);
  });

  it("CRLF line ends are read, and checked as written", async () => {
    const crlf = checkedExportText(story).replace(/\n/g, "\r\n");
    const r = await run(["grants", "--json"], crlf);
    expect(r.status).toBe(2); // the trailer covers the bytes as written by export: CRs were added after
    const plain = await run(["grants", "--json"], plainText.replace(/\n/g, "\r\n"));
    expect(plain.status).toBe(0);
    expect(JSON.parse(plain.stdout).grants).toHaveLength(2);
  });
});

describe("linked-accounts: a line-length limit", () => {
  it("a line longer than --max-line-bytes is refused by number, with the limit named", async () => {
    const r = await run(["grants", "--max-line-bytes", "300"], storyText);
    expect(r).toMatchObject({ status: 2, stdout: "" });
    expect(r.stderr).toMatch(/^linked-accounts: line 2: longer than 300 bytes, the line length limit \(--max-line-bytes\)/);
  });

  it("a huge line (no newline in sight) stops at the default limit of 1 MiB: no RangeError, no stack", async () => {
    const huge = plainText + '{"position":99,"stream":"' + "x".repeat(3 * 2 ** 20);
    const r = await run(["timeline", "parent"], huge);
    expect(r).toMatchObject({ status: 2, stdout: "" });
    expect(r.stderr).toBe(`linked-accounts: line 15: longer than 1,048,576 bytes, the line length limit (--max-line-bytes); is this an export?\n`);
  });

  it("tags on a line are read (and written back by export)", async () => {
    const tagged = plainText.replace('"position":5,', '"position":5,"tags":["link:link-pc","account:child"],');
    const r = await run(["export", "-"], tagged);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"position":5,"stream":"s-1","tags":["link:link-pc","account:child"],"type":"AccountConnected"');
    const grants = await run(["grants", "--json"], tagged);
    expect(JSON.parse(grants.stdout).grants).toHaveLength(2);
  });
});

describe("linked-accounts: --as-of dates are checked against the calendar; offsets are converted to UTC", () => {
  it("refuses dates and times that do not exist", async () => {
    for (const text of ["2026-02-30", "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-03-03T24:00Z", "2026-03-03T09:60Z", "2026-03-03T09:15:00+24:00", "2026-03-03T09:15:00", "2026-3-3", "yesterday"]) {
      const r = await run(["grants", "--as-of", text, "--from", storyFile]);
      expect(r.status, text).toBe(2);
      expect(r.stderr, text).toMatch(/^linked-accounts: --as-of: [^\n]+ \(see linked-accounts --help\)\n$/);
    }
  });

  it("accepts leap days, short forms and offsets", () => {
    expect(parseAsOf("2028-02-29")).toEqual({ time: Date.parse("2028-02-29T00:00:00.000Z"), text: "2028-02-29" });
    expect(parseAsOf("2026-03-03T09:15Z")).toMatchObject({ time: Date.parse("2026-03-03T09:15:00.000Z") });
    expect(parseAsOf("2026-03-03T22:15:00.5+13:00")).toMatchObject({ time: Date.parse("2026-03-03T09:15:00.500Z") });
    expect(parseAsOf("2026-03-02T23:45-09:30")).toMatchObject({ time: Date.parse("2026-03-03T09:15:00.000Z") });
    expect(parseAsOf("0042")).toEqual({ position: 42n });
  });

  it("an offset gives the same answer as the same instant in UTC", async () => {
    const utc = fixtures.at(5);
    const ms = Date.parse(utc) + 13 * 3600_000;
    const local = new Date(ms).toISOString().replace("Z", "+13:00");
    const a = await run(["grants", "--json", "--as-of", utc, "--from", storyFile]);
    const b = await run(["grants", "--json", "--as-of", local, "--from", storyFile]);
    expect(b.status).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(JSON.parse(b.stdout).position).toBe(6);
  });
});

describe("linked-accounts: credentials are never printed", () => {
  it("a malformed postgres:// URL: one line, status 2, no password", async () => {
    const r = await run(["grants", "--from", "postgres://u:secret@[bad/db"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("linked-accounts: not a valid PostgreSQL URL: postgres://u:***@[bad/db (see linked-accounts --help)\n");
    const at = await run(["grants", "--from=postgres://u:p@ss:w%40rd@[bad/db"]);
    expect(at.stderr).toBe("linked-accounts: not a valid PostgreSQL URL: postgres://u:***@[bad/db (see linked-accounts --help)\n");
    expect(oneLine("a driver said: password p@ss:w@rd is wrong", ["--from", "postgres://u:p@ss:w%40rd@host/db"])).toBe("a driver said: password *** is wrong");
    const exported = await run(["export", "postgresql://u:secret@[bad/db"]);
    expect(exported.status).toBe(2);
    expect(exported.stderr).not.toContain("secret");
  });
});

describe("linked-accounts: on a terminal", () => {
  it("says it is waiting when standard input is a terminal and no --from was given", async () => {
    const r = await run(["grants", "--json"], storyText, { stdinIsTerminal: true });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("linked-accounts: waiting for an export on standard input (end it with Ctrl-D; --from SOURCE reads a file or a store)\n");
    expect((await run(["grants", "--from", storyFile], "", { stdinIsTerminal: true })).stderr).toBe("");
    expect((await run(["grants"], storyText, { stdinIsTerminal: false })).stderr).toBe("");
  });

  it("shows progress on stderr only when it is a terminal and the work lasts more than a second, then clears it", async () => {
    const text = checkedExportText(manyEvents(3000));
    let t = 0;
    const slow = () => (t += 400); // every reading of the clock is 0.4 s later
    const shown = await run(["grants", "--json"], "", { stdin: Readable.from(chunked(text, 16_384)), stderrIsTerminal: true, now: slow });
    expect(shown.status).toBe(0);
    expect(shown.stderr).toMatch(/^\rlinked-accounts: [\d,]+ events read, [\d,]+ MB\x1b\[K/);
    expect(shown.stderr.endsWith("\r\x1b[K")).toBe(true);
    expect(JSON.parse(shown.stdout).grants.length).toBeGreaterThan(0);
    expect((await run(["grants", "--json"], text, { stderrIsTerminal: false, now: slow })).stderr).toBe("");
    const fast = () => 0;
    expect((await run(["grants", "--json"], text, { stderrIsTerminal: true, now: fast })).stderr).toBe("");
  });
});

describe("linked-accounts: at scale", () => {
  it("table lays out 200,000 rows (Math.max over a spread of them overflowed the stack)", () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [`m${i}`, `a${i}`, `l${i}`]);
    const text = table(["MANAGER", "ACCOUNT", "LINKS"], rows);
    expect(text.split("\n")).toHaveLength(200_002);
    expect(text.split("\n")[1]).toBe("m0       a0       l0");
  });

  it("grants as text and as JSON over thousands of links, written a piece at a time, the same document as in one piece", async () => {
    const text = checkedExportText(manyEvents(6000));
    const r = await run(["grants"], text);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Grants in force as of position 6000: 1500\nMANAGER  ACCOUNT  LINKS\na0       a1       l1\n/);
    expect(r.stdout.split("\n")).toHaveLength(1503);
    const chunks: string[] = [];
    const j = await run(["grants", "--json"], text, { stdout: { write: (s: string) => chunks.push(s) } });
    expect(j.status).toBe(0);
    expect(chunks.length).toBeGreaterThan(1);
    const doc = chunks.join("");
    expect(doc).toBe(JSON.stringify(JSON.parse(doc), null, 2) + "\n");
    expect(JSON.parse(doc).grants).toHaveLength(1500);
    const none = await run(["grants", "--json", "--as-of", "1"], text);
    expect(none.stdout).toBe('{\n  "position": 1,\n  "grants": []\n}\n');
  });

  it("a file of many chunks (read into one buffer over and over) reads as standard input does", async () => {
    const text = checkedExportText(manyEvents(6000));
    expect(text.length).toBeGreaterThan(4 * 2 ** 18);
    const file = join(dir, "many.ndjson");
    writeFileSync(file, text);
    const fromFile = await run(["grants", "--json", "--from", file]);
    expect(fromFile).toMatchObject({ status: 0, stderr: "" });
    expect(fromFile.stdout).toBe((await run(["grants", "--json"], text)).stdout);
    const exported = await run(["export", file]);
    expect(exported.stdout).toBe(text);
  });

  it("timeline by barcode, and loans, fold only what they answer and still answer the same", async () => {
    const byBarcode = await run(["timeline", fixtures.barcodeOf("child"), "--json", "--from", storyFile]);
    const byId = await run(["timeline", "child", "--json", "--from", storyFile]);
    expect(byBarcode.status).toBe(0);
    expect(byBarcode.stdout).toBe(byId.stdout);
    expect(JSON.parse(byId.stdout).events.map((e: { position: number }) => e.position)).toEqual([2, 5, 8, 9, 10, 11, 12]);
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
    const bad = spawnSync(process.execPath, [cli, "grants"], { input: plainText + "{oops\n", encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain(`line ${story.length + 1}: not valid JSON`);
  });

  it("never prints a password or a stack trace: a malformed URL, an unreachable server", () => {
    for (const url of ["postgres://u:secret@[bad/db", "postgres://u:secret@127.0.0.1:9/db"]) {
      const r = spawnSync(process.execPath, [cli, "grants", "--from", url], { encoding: "utf8", timeout: 20_000 });
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain("secret");
      expect(r.stderr).toMatch(/^linked-accounts: [^\n]*\n$/);
    }
  });
});
