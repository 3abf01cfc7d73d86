/** R7 on the read side: an account is found by its barcode however it is typed. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "./command-line.js";

const exportFile = join(fileURLToPath(new URL(".", import.meta.url)), "fixtures", "schema-v1", "export.ndjson");

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

describe("the command line finds an account by its barcode however it is typed", () => {
  it.each([" p1000002 ", "p 100 0002", "Ｐ１０００００２", "P1000002\u200B"])("who-can-manage %j is who-can-manage P1000002", async (typed) => {
    const expected = await run(["who-can-manage", "P1000002", "--from", exportFile, "--json"]);
    expect(expected.status).toBe(0);
    const found = await run(["who-can-manage", typed, "--from", exportFile, "--json"]);
    expect(found.stderr).toBe(expected.stderr); // the same warning, if any, and nothing else
    expect(found.stdout).toBe(expected.stdout);
  });

  it("an id is still matched exactly: ids are not barcodes", async () => {
    const { status, stderr } = await run(["who-can-manage", "MERE", "--from", exportFile]);
    expect(status).toBe(1);
    expect(stderr).toContain('no account with id or barcode "MERE"');
  });
});
