/**
 * `sortByKey` orders interned strings exactly as sorting them with `<` does
 * (UTF-16 code units, a prefix first), on strings sharing long prefixes,
 * repeated, empty, or outside ASCII.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sortByKey } from "./string-index.js";

const numRuns = Number(process.env["FC_RUNS"] ?? 200);
const byLess = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

describe("sortByKey", () => {
  it("orders indexes as `<` orders their strings", () => {
    const unit = fc.constantFrom(..."aab-_0Z9", "é", "\u00ff", "\ud800", "\udfff", "\uffff", "\u0000");
    const key = fc.oneof(fc.string({ unit, maxLength: 12 }), fc.string({ maxLength: 4 }), fc.nat(3000).map((n) => `acct-${n}`));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 400 }), (keys) => {
        const ix = Int32Array.from(keys, (_, i) => i);
        sortByKey(keys, ix);
        expect(ix.length).toBe(keys.length);
        expect(new Set(ix).size).toBe(keys.length); // a permutation
        expect(Array.from(ix, (i) => keys[i])).toEqual([...keys].sort(byLess));
      }),
      { numRuns },
    );
  });

  it("sorts a hundred thousand ids sharing a prefix, some of them a prefix of others", () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `acct-${(i * 7919) % 75_000}`);
    const ix = Int32Array.from(keys, (_, i) => i);
    sortByKey(keys, ix);
    expect(Array.from(ix, (i) => keys[i])).toEqual([...keys].sort(byLess));
  });
});
