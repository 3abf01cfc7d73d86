import { describe, expect, it } from "vitest";
import { foundInOneRow } from "./key-checks.js";

const hexOf = (...bytes: number[]): string => bytes.map((b) => Buffer.alloc(32, b).toString("hex")).join("");

describe("a lookup answered in one row", () => {
  it("gives each subject found its own copy of its key, and a tombstone null, by position", () => {
    const found = new Map<string, Uint8Array | null>();
    foundInOneRow(found, ["account:A", "account:B", "account:C"], "3+,2-,1+", hexOf(3, 1), 1);
    expect([...found.keys()]).toEqual(["account:C", "account:B", "account:A"]);
    expect(found.get("account:B")).toBeNull();
    expect(Buffer.from(found.get("account:C")!).equals(Buffer.alloc(32, 3))).toBe(true);
    expect(Buffer.from(found.get("account:A")!).equals(Buffer.alloc(32, 1))).toBe(true);
    const key = found.get("account:A")!;
    expect(key.byteLength).toBe(key.buffer.byteLength);
  });

  it("adds nothing for an answer that found nothing", () => {
    const found = new Map<string, Uint8Array | null>();
    foundInOneRow(found, ["account:A"], null, null, 0);
    foundInOneRow(found, ["account:A"], "", "", 0);
    expect(found.size).toBe(0);
  });

  it("refuses an answer whose keys do not add up, or that names a position it was not asked for", () => {
    expect(() => foundInOneRow(new Map(), ["account:A"], "0+", hexOf(1).slice(2), 0)).toThrow(/1 keys in 31 bytes/);
    expect(() => foundInOneRow(new Map(), ["account:A"], "0-", hexOf(1), 0)).toThrow(/0 keys in 32 bytes/);
    expect(() => foundInOneRow(new Map(), ["account:A"], "1+", hexOf(1), 0)).toThrow(/position it was not asked for: 1\+/);
  });
});
