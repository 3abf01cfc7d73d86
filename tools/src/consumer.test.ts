/**
 * The consumer test: the packages as a host gets them. It packs the three
 * packages with pnpm, installs the tarballs with npm into a scratch host
 * project outside the workspace (so nothing resolves through the workspace's
 * own node_modules), typechecks the host with `strict` and `skipLibCheck:
 * false`, and runs the README's host example, read from the README itself, so
 * that the README cannot drift from what the packages do.
 *
 * The host is a SQLite host: it installs better-sqlite3 and must end up with
 * no `pg` and no EventStoreDB/gRPC client.
 *
 * Slow by nature: better-sqlite3 compiles from source where no prebuilt binary
 * can be fetched (a minute or more). The host directory is kept between runs in
 * the system's temporary directory (one per workspace checkout), so later runs
 * reinstall only the tarballs; the npm cache is shared as usual. Delete
 * `$TMPDIR/linked-accounts-consumer-*` to start from nothing.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { hostExample } from "./readme.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const packages = ["domain", "adapters", "projections"] as const;
const tsc = path.join(root, "node_modules/typescript/bin/tsc");
const work = path.join(tmpdir(), `linked-accounts-consumer-${createHash("sha256").update(root).digest("hex").slice(0, 10)}`);
const host = path.join(work, "host");
const packs = path.join(work, "packs");

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> =>
  new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });

const succeed = async (what: string, command: string, args: ReadonlyArray<string>, cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> => {
  const result = await run(command, args, cwd, env);
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
};

/** The headers of the Node.js running the tests, when it ships them (as .pnpmfile.cjs does for pnpm). */
const nodeDir = (): NodeJS.ProcessEnv => {
  if (process.env.npm_config_nodedir) return {};
  const dir = path.resolve(path.dirname(process.execPath), "..");
  return existsSync(path.join(dir, "include", "node", "node.h")) ? { npm_config_nodedir: dir } : {};
};

/** Every installed package directory under node_modules, nested ones included, by package name. */
const installedNames = (modules: string): string[] => {
  const names: string[] = [];
  const visit = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith(".")) continue;
      const full = path.join(dir, entry);
      if (!statSync(full).isDirectory()) continue;
      if (entry.startsWith("@")) {
        for (const scoped of readdirSync(full)) {
          names.push(`${entry}/${scoped}`);
          visit(path.join(full, scoped, "node_modules"));
        }
      } else {
        names.push(entry);
        visit(path.join(full, "node_modules"));
      }
    }
  };
  visit(modules);
  return names;
};

/** Packs a workspace package; the tarball is named by its content so npm never reuses a stale one. */
const pack = async (name: (typeof packages)[number]): Promise<string> => {
  const scratch = path.join(packs, `incoming-${name}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  await succeed(`pnpm pack (${name})`, "pnpm", ["pack", "--pack-destination", scratch], path.join(root, "packages", name));
  const [file] = readdirSync(scratch).filter((f) => f.endsWith(".tgz"));
  if (file === undefined) throw new Error(`pnpm pack (${name}) wrote no tarball`);
  const hash = createHash("sha256").update(readFileSync(path.join(scratch, file))).digest("hex").slice(0, 16);
  const target = path.join(packs, `${name}-${hash}.tgz`);
  renameSync(path.join(scratch, file), target);
  rmSync(scratch, { recursive: true, force: true });
  return target;
};

const hostTsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    skipLibCheck: false,
    types: ["node"],
    rootDir: "src",
    outDir: "dist",
  },
  include: ["src"],
};

const entries = `import * as domain from "@linked-accounts/domain";
import * as adapters from "@linked-accounts/adapters";
import * as sqliteStore from "@linked-accounts/adapters/sqlite";
import * as projections from "@linked-accounts/projections";
import * as sqliteCheckpoints from "@linked-accounts/projections/sqlite";
export const entries = [domain, adapters, sqliteStore, projections, sqliteCheckpoints];
`;

let installed: string[] = [];

describe("a SQLite host that installs the packed packages with npm", () => {
  beforeAll(async () => {
    await succeed("tsc -b", process.execPath, [tsc, "-b"], root);
    mkdirSync(packs, { recursive: true });
    const tarballs = await Promise.all(packages.map(pack));
    for (const file of readdirSync(packs)) if (!tarballs.includes(path.join(packs, file))) rmSync(path.join(packs, file), { force: true });

    mkdirSync(path.join(host, "src"), { recursive: true });
    const dependencies = Object.fromEntries([
      ...packages.map((name, i) => [`@linked-accounts/${name}`, `file:${tarballs[i]}`]),
      ["better-sqlite3", "12.6.2"],
      ["fp-ts", "2.16.11"],
      ["@types/node", "20.19.43"],
    ]);
    writeFileSync(path.join(host, "package.json"), `${JSON.stringify({ name: "scratch-host", private: true, type: "module", dependencies }, null, 2)}\n`);
    writeFileSync(path.join(host, "tsconfig.json"), `${JSON.stringify(hostTsconfig, null, 2)}\n`);
    writeFileSync(path.join(host, "src", "host.ts"), hostExample(readFileSync(path.join(root, "README.md"), "utf8")));
    // Typechecked, not run: every entry a SQLite host may import, so each one's declarations are checked too.
    writeFileSync(path.join(host, "src", "entries.ts"), entries);
    await succeed("npm install", "npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], host, {
      ...nodeDir(),
      npm_config_update_notifier: "false",
    });
    installed = installedNames(path.join(host, "node_modules"));
  }, 1_200_000);

  it("installs the SQLite driver and no other store's driver", () => {
    expect(installed).toContain("better-sqlite3");
    expect(installed).toContain("@linked-accounts/adapters");
    expect(installed.filter((name) => name === "pg" || name.startsWith("pg-") || name.startsWith("@eventstore/") || name.startsWith("@grpc/"))).toEqual([]);
  });

  it("installs each package with its LICENSE, README, CHANGELOG, engines and no workspace protocol left", () => {
    for (const name of packages) {
      const dir = path.join(host, "node_modules", "@linked-accounts", name);
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Record<string, unknown>;
      expect(manifest.license, name).toBe("MIT");
      expect(manifest.engines, name).toEqual({ node: ">=20.19" });
      expect(JSON.stringify(manifest), name).not.toContain("workspace:");
      expect(readFileSync(path.join(dir, "LICENSE"), "utf8"), name).toMatch(/^MIT License/);
      expect(readFileSync(path.join(dir, "README.md"), "utf8"), name).toMatch(/ESM only/);
      expect(readFileSync(path.join(dir, "CHANGELOG.md"), "utf8"), name).toMatch(new RegExp(`^# @linked-accounts/${name}`));
    }
  });

  it("ships source maps whose sources are in the package", () => {
    const unresolved: string[] = [];
    let maps = 0;
    for (const name of packages) {
      const dir = path.join(host, "node_modules", "@linked-accounts", name);
      const visit = (at: string): void => {
        for (const entry of readdirSync(at, { withFileTypes: true })) {
          const full = path.join(at, entry.name);
          if (entry.isDirectory()) visit(full);
          else if (entry.name.endsWith(".map")) {
            maps++;
            const { sources } = JSON.parse(readFileSync(full, "utf8")) as { sources: string[] };
            for (const source of sources) if (!existsSync(path.resolve(path.dirname(full), source))) unresolved.push(`${path.relative(host, full)} → ${source}`);
          }
        }
      };
      visit(path.join(dir, "dist"));
    }
    expect(maps).toBeGreaterThan(0);
    expect(unresolved).toEqual([]);
  });

  it("typechecks the README's host example and every entry a SQLite host uses, with strict and skipLibCheck: false", async () => {
    const result = await run(process.execPath, [tsc, "-p", "tsconfig.json"], host);
    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.code).toBe(0);
  }, 300_000);

  it("runs the README's host example on a fresh SQLite file", async () => {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path.join(host, `linked-accounts.sqlite${suffix}`), { force: true });
    const result = await run(process.execPath, ["dist/host.js"], host);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^linked: \S+$/m);
    expect(result.stdout).toMatch(/^parent manages child: true$/m);
  }, 300_000);

  it("audits the host's SQLite file with the installed command line", async () => {
    const cli = path.join(host, "node_modules", ".bin", "linked-accounts");
    const result = await run(cli, ["grants", "--from", "sqlite:linked-accounts.sqlite", "--json"], host);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"parent"');
    expect(result.stdout).toContain('"child"');
  }, 300_000);

  it("names the package to install when a source needs a driver the host does not have", async () => {
    const cli = path.join(host, "node_modules", ".bin", "linked-accounts");
    const result = await run(cli, ["grants", "--from", "postgres://nobody@127.0.0.1:1/none"], host);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("npm install pg");
    expect(result.stderr).not.toMatch(/\n\s+at /); // one message, no stack trace
  }, 300_000);
});
