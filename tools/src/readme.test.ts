import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hostExample } from "./readme.js";

describe("the README's host example", () => {
  it("is the ts block right after the marker, and only that block", () => {
    const readme = ["# x", "```ts", "not this", "```", "<!-- host-example -->", "```ts", "const a = 1;", "```", "```ts", "nor this", "```"].join("\n");
    expect(hostExample(readme)).toBe("const a = 1;\n");
  });

  it("refuses a README without the marker or with a block of another language", () => {
    expect(() => hostExample("```ts\nx\n```\n")).toThrow(/no <!-- host-example --> marker/);
    expect(() => hostExample("<!-- host-example -->\n```sh\nx\n```\n")).toThrow(/must open a ```ts block/);
  });

  it("is present in the repository's README and imports the packages by their public entries", () => {
    const code = hostExample(readFileSync(new URL("../../README.md", import.meta.url), "utf8"));
    expect(code).toMatch(/from "@linked-accounts\/adapters"/);
    expect(code).toMatch(/from "@linked-accounts\/adapters\/sqlite"/);
  });
});
