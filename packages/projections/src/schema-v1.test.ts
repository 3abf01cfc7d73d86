import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./command-line.js";
import { readExport } from "./ndjson.js";
import { SCHEMA_VERSION } from "@linked-accounts/domain";

// The fixture lives in src/ (vitest runs the sources), next to this file.
const fixture = join(fileURLToPath(new URL(".", import.meta.url)), "fixtures", "schema-v1");
const exportFile = join(fixture, "export.ndjson");
const answers = JSON.parse(readFileSync(join(fixture, "answers.json"), "utf8")) as Record<string, string[]>;

const run = async (argv: string[]) => {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, {
    stdin: Readable.from([""]),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { status, stdout, stderr };
};

const NO_TRAILER =
  "linked-accounts: warning: the export has no header and trailer lines, so nothing shows it is complete (`linked-accounts export` writes them)\n";

describe("a schema-version-1 export, written by an earlier release", () => {
  it("holds only version-1 events, so the replay below is of old events", () => {
    const lines = readFileSync(exportFile, "utf8").trim().split("\n");
    expect(lines.length).toBe(45);
    for (const line of lines) expect(JSON.parse(line).metadata.schemaVersion).toBe(1);
  });

  it.each(Object.entries(answers))("replays to the answer that release gave: %s", async (file, argv) => {
    const { status, stdout, stderr } = await run([...argv, "--from", exportFile]);
    // An export of that release has no header and trailer: read, with the warning that says so.
    expect(stderr).toBe(NO_TRAILER);
    expect(status).toBe(0);
    expect(stdout).toBe(readFileSync(join(fixture, "answers", file), "utf8"));
  });
});

describe("the version-1 export read by today's release (schema version 3)", () => {
  it("every event reads as version 3, its channel implied by its actor: desk for staff, system for the system, not recorded for an account", async () => {
    const channels = new Map<string, Set<unknown>>();
    let count = 0;
    for await (const event of readExport(createReadStream(exportFile, "utf8"))) {
      count++;
      expect(event.metadata.schemaVersion).toBe(SCHEMA_VERSION);
      const kinds = channels.get(event.metadata.actor.kind) ?? new Set();
      kinds.add(event.metadata.channel);
      channels.set(event.metadata.actor.kind, kinds);
    }
    expect(count).toBe(45);
    expect(channels).toEqual(
      new Map<string, Set<unknown>>([
        ["staff", new Set(["desk"])],
        ["account", new Set([null])],
        ["system", new Set(["system"])],
      ]),
    );
  });

  const dir = mkdtempSync(join(tmpdir(), "linked-accounts-schema-v1-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("export writes it again as version 3, and that export gives the same answers", async () => {
    const exported = await run(["export", exportFile]);
    expect(exported.stderr).toBe(NO_TRAILER);
    expect(exported.status).toBe(0);
    const all = exported.stdout.trim().split("\n");
    // The header, the 45 events, and the trailer that vouches for them.
    expect(JSON.parse(all[0]!)).toHaveProperty("header");
    expect(JSON.parse(all.at(-1)!)).toMatchObject({ trailer: { events: 45 } });
    const lines = all.slice(1, -1);
    expect(lines.length).toBe(45);
    for (const line of lines) expect(JSON.parse(line).metadata).toMatchObject({ schemaVersion: 3, channel: expect.toBeOneOf(["desk", "system", null]) });
    const again = join(dir, "export-v2.ndjson");
    writeFileSync(again, exported.stdout);
    for (const [file, argv] of Object.entries(answers))
      expect((await run([...argv, "--from", again])).stdout, file).toBe(readFileSync(join(fixture, "answers", file), "utf8"));
  });
});
