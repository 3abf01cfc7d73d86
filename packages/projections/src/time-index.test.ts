/**
 * The compact time index answers "as of time T" exactly as the plain one it
 * replaced: arrays of every (position, running maximum of occurredAt as an ISO
 * string, position before), searched by string comparison.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimeIndex, isoMs } from "./time-index.js";

const numRuns = Number(process.env["FC_RUNS"] ?? 200);
const MIN = Date.parse("0000-01-01T00:00:00.000Z");
const MAX = Date.parse("9999-12-31T23:59:59.999Z");

/** The index as it was: every advance of the running maximum, kept as strings. */
const plainPositionAt = (events: ReadonlyArray<{ position: number; at: string }>, t: string): number => {
  const positions: number[] = [];
  const maxima: string[] = [];
  const previous: number[] = [];
  let applied = 0;
  for (const { position, at } of events) {
    if (maxima.length === 0 || at > maxima[maxima.length - 1]!) {
      positions.push(position);
      maxima.push(at);
      previous.push(applied);
    }
    applied = position;
  }
  let i = -1;
  for (let k = 0; k < maxima.length; k++) if (maxima[k]! <= t) i = k;
  return i + 1 < previous.length ? previous[i + 1]! : applied;
};

const history = fc
  .tuple(
    fc.integer({ min: MIN, max: MAX - 10 ** 9 }),
    // Steps: position gap, and a time step that is sometimes backwards (a clock that stepped back).
    fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -5000, max: 200_000 })), { maxLength: 400 }),
  )
  .map(([start, steps]) => {
    let position = 0;
    let ms = start;
    return steps.map(([gap, dt]) => {
      position += gap;
      ms = Math.min(MAX, Math.max(MIN, ms + dt));
      return { position, at: new Date(ms).toISOString() };
    });
  });

describe("time index", () => {
  it("isoMs of any IsoTime equals Date's own parse", () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), (ms) => {
        expect(isoMs(new Date(ms).toISOString())).toBe(ms);
      }),
      { numRuns: numRuns * 10 },
    );
  });

  it("as of any time, the compact index answers as the plain one, and its entries round-trip", () => {
    fc.assert(
      fc.property(history, fc.array(fc.integer({ min: MIN, max: MAX }), { minLength: 1, maxLength: 20 }), (events, probes) => {
        const index = new TimeIndex();
        let applied = 0;
        for (const { position, at } of events) {
          const ms = isoMs(at);
          if (index.count === 0 || ms > index.lastM) index.push(position, ms, applied);
          applied = position;
        }
        const times = [...probes, ...events.map((e) => isoMs(e.at)), ...events.map((e) => isoMs(e.at) - 1)];
        for (const t of times) expect(index.positionBefore(t, applied)).toBe(plainPositionAt(events, new Date(t).toISOString()));
        const copy = new TimeIndex();
        const { positions, maxima, previous } = index.entries();
        for (let k = 0; k < positions.length; k++) copy.push(positions[k]!, maxima[k]!, previous[k]!);
        expect(copy.entries()).toEqual(index.entries());
      }),
      { numRuns },
    );
  });

  it("timeAt(p) is the running maximum of occurredAt over the events at or before p (-Infinity before any)", () => {
    fc.assert(
      fc.property(history, (events) => {
        const index = new TimeIndex();
        let applied = 0;
        for (const { position, at } of events) {
          const ms = isoMs(at);
          if (index.count === 0 || ms > index.lastM) index.push(position, ms, applied);
          applied = position;
        }
        for (let p = 0; p <= applied + 1; p++) {
          const upTo = events.filter((e) => e.position <= p).map((e) => isoMs(e.at));
          expect(index.timeAt(p)).toBe(upTo.length === 0 ? -Infinity : Math.max(...upTo));
        }
      }),
      { numRuns: Math.max(20, Math.floor(numRuns / 4)) },
    );
  });
});

