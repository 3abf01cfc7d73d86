import { describe, expect, it } from "vitest";
import { loadStoreEntry } from "./sources.js";

const missing = (specifier: string): Error =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from /host/node_modules/@linked-accounts/adapters/dist/postgres-store.js`), {
    code: "ERR_MODULE_NOT_FOUND",
  });

describe("loading a store's entry for the command line", () => {
  it("names the package to install when the store's driver is missing", async () => {
    await expect(loadStoreEntry(() => Promise.reject(missing("pg")), "pg", "a PostgreSQL store")).rejects.toThrow(
      "reading a PostgreSQL store needs the pg package, which is not installed: npm install pg",
    );
  });

  it("passes on any other failure as it was", async () => {
    const other = missing("pg-protocol");
    await expect(loadStoreEntry(() => Promise.reject(other), "pg", "a PostgreSQL store")).rejects.toBe(other);
    const broken = new TypeError("boom");
    await expect(loadStoreEntry(() => Promise.reject(broken), "better-sqlite3", "a SQLite store")).rejects.toBe(broken);
  });

  it("returns the entry when it loads", async () => {
    await expect(loadStoreEntry(() => Promise.resolve({ ok: 1 }), "pg", "a PostgreSQL store")).resolves.toEqual({ ok: 1 });
  });
});
