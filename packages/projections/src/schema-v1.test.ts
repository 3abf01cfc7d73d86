import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "./command-line.js";

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

describe("a schema-version-1 export, written by an earlier release", () => {
  it("holds only version-1 events, so the replay below is of old events", () => {
    const lines = readFileSync(exportFile, "utf8").trim().split("\n");
    expect(lines.length).toBe(45);
    for (const line of lines) expect(JSON.parse(line).metadata.schemaVersion).toBe(1);
  });

  it.each(Object.entries(answers))("replays to the answer that release gave: %s", async (file, argv) => {
    const { status, stdout, stderr } = await run([...argv, "--from", exportFile]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(stdout).toBe(readFileSync(join(fixture, "answers", file), "utf8"));
  });
});
