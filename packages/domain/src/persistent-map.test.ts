/**
 * PersistentMap behaves like a Map that is never changed in place: every
 * version answers as a model Map of the same history would.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PersistentMap } from "./persistent-map.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);

const op = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key: fc.string({ maxLength: 6 }), value: fc.integer() }),
  fc.record({ kind: fc.constant("update" as const), key: fc.string({ maxLength: 6 }), value: fc.integer() }),
);

describe("PersistentMap", () => {
  it("every version answers get, has, size and entries as a model Map of the same history, and older versions never change", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        let map = PersistentMap.empty<number>();
        const model = new Map<string, number>();
        const versions: Array<[PersistentMap<number>, Map<string, number>]> = [];
        for (const o of ops) {
          map = o.kind === "set" ? map.set(o.key, o.value) : map.update(o.key, (v) => (v ?? 0) + o.value);
          model.set(o.key, o.kind === "set" ? o.value : (model.get(o.key) ?? 0) + o.value);
          versions.push([map, new Map(model)]);
        }
        for (const [version, expected] of versions) {
          expect(version.size).toBe(expected.size);
          expect(new Map(version.entries())).toEqual(expected);
          for (const [k, v] of expected) {
            expect(version.get(k)).toBe(v);
            expect(version.has(k)).toBe(true);
          }
          expect(version.get("\u0000absent")).toBeUndefined();
        }
      }),
      { numRuns },
    );
  });

  it("a set that changes nothing returns the same map", () => {
    const map = PersistentMap.empty<number>().set("a", 1);
    expect(map.set("a", 1)).toBe(map);
  });
});
