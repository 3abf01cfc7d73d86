/**
 * `isoMs` is `Date.parse`: over every instant `toISOString()` can write with a
 * four-digit year, over strings of that shape with any digits in any field (out
 * of range ones included: the 30th of February, hour 24, second 60), and over
 * any string at all.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoMs } from "./codec.js";

const same = (s: string): void => {
  expect(Object.is(isoMs(s), Date.parse(s)), `${s}: isoMs ${isoMs(s)}, Date.parse ${Date.parse(s)}`).toBe(true);
};
const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((ds) => ds.join(""));

describe("isoMs", () => {
  it("reads every ISO instant of years 0000 to 9999 as Date.parse does", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse("0000-01-01T00:00:00.000Z"), max: Date.parse("9999-12-31T23:59:59.999Z") }), (ms) => {
        const s = new Date(ms).toISOString();
        same(s);
        expect(isoMs(s)).toBe(ms);
      }),
      { numRuns: 5000 },
    );
  });

  it("agrees with Date.parse on the ISO shape with any digits in it", () => {
    fc.assert(
      fc.property(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3), (y, mo, d, h, mi, s, ms) =>
        same(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`),
      ),
      { numRuns: 5000 },
    );
    for (const s of ["2026-02-30T00:00:00.000Z", "2024-02-29T24:00:00.000Z", "2026-01-01T23:59:60.000Z", "2100-02-29T00:00:00.000Z", "2000-02-29T12:00:00.000Z"]) same(s);
  });

  it("agrees with Date.parse on anything else", () => {
    fc.assert(fc.property(fc.string(), (s) => same(s)));
    for (const s of ["", "2026-01-05", "2026-01-05T08:00:00Z", "+002026-01-05T08:00:00.000Z", "2026-01-05T08:00:00.000+01:00", "2026-01-05 08:00:00.000Z"]) same(s);
  });
});
