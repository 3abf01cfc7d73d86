import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as t from "io-ts";
import { describe, expect, it } from "vitest";
import { Direction, Id } from "@linked-accounts/domain/internal";
import { PUBLISHED, newestFirst, releaseEntries, renderChangelog } from "./changelogs.js";
import { describeCodec, renderEventsDoc } from "./events-doc.js";

const repo = new URL("../../", import.meta.url);

describe("docs/events.md", () => {
  it("is what `pnpm run docs` generates from the event codecs today (run `pnpm run docs` when this fails)", () => {
    const committed = readFileSync(new URL("docs/events.md", repo), "utf8");
    expect(committed === renderEventsDoc(), "docs/events.md is stale: run `pnpm run docs` and commit the result").toBe(true);
  });

  it("describes codecs by their format and refuses a kind it cannot describe", () => {
    expect(describeCodec(Direction)).toBe('"one-way" | "two-way"');
    expect(describeCodec(t.union([Id, t.null]))).toBe("Id (1 to 64 of A-Z a-z 0-9 _ -) or null");
    expect(describeCodec(t.intersection([t.type({ a: t.string }), t.partial({ b: t.null })]))).toBe("{ a: string, b?: null }");
    expect(() => describeCodec(t.array(t.string))).toThrow(/no description for a codec of kind ArrayType/);
  });
});

describe("the repository's documents", () => {
  it("link only to files inside the repository", () => {
    const files = ["README.md", "CHANGELOG.md", ...readdirSync(new URL("docs/", repo)).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));
    for (const file of files) {
      const text = readFileSync(new URL(file, repo), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^(https?:|mailto:|#)/.test(target)) continue;
        const resolved = new URL(target.split("#")[0] ?? "", new URL(file, repo));
        expect(resolved.href.startsWith(repo.href), `${file} links outside the repository: ${target}`).toBe(true);
        expect(existsSync(resolved), `${file} links to a missing file: ${target}`).toBe(true);
      }
    }
  });
});

describe("each package's CHANGELOG.md", () => {
  it("is what `pnpm run docs` assembles from the release entries (run `pnpm run docs` when this fails)", () => {
    for (const pkg of PUBLISHED) {
      const committed = readFileSync(new URL(`packages/${pkg}/CHANGELOG.md`, repo), "utf8");
      const assembled = renderChangelog(`@linked-accounts/${pkg}`, releaseEntries(new URL(".changeset/changelogs/", repo), pkg));
      expect(committed === assembled, `packages/${pkg}/CHANGELOG.md is stale: run \`pnpm run docs\` and commit the result`).toBe(true);
    }
  });

  it("lists releases newest first, pre-releases before their release", () => {
    expect(["0.2.0", "0.10.0", "1.0.0", "1.0.0-rc.2", "1.0.0-rc.10"].sort(newestFirst)).toEqual(["1.0.0", "1.0.0-rc.10", "1.0.0-rc.2", "0.10.0", "0.2.0"]);
    const text = renderChangelog("@linked-accounts/domain/internal", new Map([["0.2.0", "## 0.2.0\n\n- b\n"], ["0.10.0", "## 0.10.0\n\n- c\n"]]));
    expect(text.indexOf("## 0.10.0")).toBeLessThan(text.indexOf("## 0.2.0"));
    expect(renderChangelog("@linked-accounts/domain/internal", new Map())).toContain("No release yet");
  });
});
