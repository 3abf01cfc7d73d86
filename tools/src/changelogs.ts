/**
 * Each published package's CHANGELOG.md, assembled from the entries pnpm's
 * release management writes at each release (`pnpm version -r` turns the
 * pending `pnpm change` intents into `.changeset/changelogs/<package>@<version>.md`),
 * newest release first, so that the changelog ships inside each package.
 * `pnpm run docs` writes them; a test fails when one is stale.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";

export const PUBLISHED = ["domain", "adapters", "projections"] as const;

const parseVersion = (version: string): { readonly parts: number[]; readonly pre: string | undefined } => {
  const [core = "", pre] = version.split("-", 2);
  return { parts: core.split(".").map((n) => Number.parseInt(n, 10)), pre };
};

/** Semantic-version order, newest first (a pre-release comes before its release). */
export const newestFirst = (a: string, b: string): number => {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = (y.parts[i] ?? 0) - (x.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return -1;
  if (y.pre === undefined) return 1;
  return y.pre.localeCompare(x.pre, "en", { numeric: true });
};

/** `entries`: the release entries found for the package, by version. */
export const renderChangelog = (name: string, entries: ReadonlyMap<string, string>): string => {
  const versions = [...entries.keys()].sort(newestFirst);
  const lines = [
    `# ${name}`,
    "",
    "<!-- Assembled by `pnpm run docs` from .changeset/changelogs/ (written by `pnpm version -r`). Do not edit by hand. -->",
    "",
  ];
  if (versions.length === 0) lines.push("No release yet. Changes waiting for the next one: `pnpm change status` at the repository's root.", "");
  for (const version of versions) lines.push((entries.get(version) ?? "").trim(), "");
  return lines.join("\n");
};

/** The release entries of `@linked-accounts/<pkg>` in `dir` (the repository's .changeset/changelogs). */
export const releaseEntries = (dir: URL, pkg: string): Map<string, string> => {
  const entries = new Map<string, string>();
  if (!existsSync(dir)) return entries;
  const prefix = `@linked-accounts!${pkg}@`;
  for (const file of readdirSync(dir)) {
    if (!file.startsWith(prefix) || !file.endsWith(".md")) continue;
    entries.set(file.slice(prefix.length, -".md".length), readFileSync(new URL(file, dir), "utf8"));
  }
  return entries;
};
