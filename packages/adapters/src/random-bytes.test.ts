import { describe, expect, it } from "vitest";
import { freshRandomBytes } from "./random-bytes.js";

describe("freshRandomBytes", () => {
  it("hands out bytes of the size asked, never the same twice, across many refills of its pool", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const size = [12, 32, 44][i % 3]!;
      const bytes = freshRandomBytes(size);
      expect(bytes.length).toBe(size);
      seen.add(bytes.toString("hex"));
    }
    expect(seen.size).toBe(3000);
  });

  it("hands out copies of their own, which neither wiping nor refilling its pool changes", () => {
    const first = freshRandomBytes(32);
    const kept = Buffer.from(first);
    // More than the pool holds: its bytes are wiped as they are handed out, then drawn again.
    for (let i = 0; i < 300; i++) freshRandomBytes(32);
    expect(first).toEqual(kept);
    expect(first.equals(Buffer.alloc(32))).toBe(false);
  });

  it("serves a size larger than its pool holds", () => {
    const bytes = freshRandomBytes(10_000);
    expect(bytes.length).toBe(10_000);
    expect(new Set(bytes).size).toBeGreaterThan(200);
  });
});
