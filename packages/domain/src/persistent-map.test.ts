/**
 * PersistentMap behaves like a Map that is never changed in place: every
 * version answers as a model Map of the same history would.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PersistentMap, PersistentMapBuilder, setAll } from "./persistent-map.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);

const op = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key: fc.string({ maxLength: 6 }), value: fc.integer() }),
  fc.record({ kind: fc.constant("update" as const), key: fc.string({ maxLength: 6 }), value: fc.integer() }),
);

type Op = { readonly kind: "set" | "update"; readonly key: string; readonly value: number };

/** Every version of `map` as `ops` go over it, beside the model Map of the same history (the first: as given). */
const applied = (map: PersistentMap<number>, model: Map<string, number>, ops: ReadonlyArray<Op>): Array<[PersistentMap<number>, Map<string, number>]> => {
  const versions: Array<[PersistentMap<number>, Map<string, number>]> = [[map, new Map(model)]];
  for (const o of ops) {
    map = o.kind === "set" ? map.set(o.key, o.value) : map.update(o.key, (v) => (v ?? 0) + o.value);
    model.set(o.key, o.kind === "set" ? o.value : (model.get(o.key) ?? 0) + o.value);
    versions.push([map, new Map(model)]);
  }
  return versions;
};

describe("PersistentMap", () => {
  it("every version answers get, has, size and entries as a model Map of the same history, and older versions never change", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        for (const [version, expected] of applied(PersistentMap.empty<number>(), new Map(), ops).slice(1)) {
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

  it("a map a replay built (its entries in a built-in base) answers as the model too, every version, as sets and updates go over it and it is copied anew", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 60 }), fc.array(op, { maxLength: 300 }), fc.boolean(), (start, ops, viaBuilder) => {
        const model = new Map(start);
        let map: PersistentMap<number>;
        if (viaBuilder) {
          const builder = new PersistentMapBuilder(PersistentMap.empty<number>());
          for (const [k, v] of start) builder.set(k, v);
          map = builder.build();
        } else map = setAll(PersistentMap.empty<number>(), model);
        for (const [version, expected] of applied(map, model, ops)) {
          expect(version.size).toBe(expected.size);
          const entries = [...version.entries()];
          expect(entries.length).toBe(expected.size);
          expect(new Map(entries)).toEqual(expected);
          expect([...version.values()].sort()).toEqual([...expected.values()].sort());
          for (const [k, v] of expected) expect(version.get(k)).toBe(v);
          expect(version.has("\u0000absent")).toBe(false);
        }
      }),
      { numRuns },
    );
  });

  it("a set that changes nothing returns the same map, over a built-in base too", () => {
    const base = setAll(PersistentMap.empty<number>(), new Map([["a", 1], ["b", 2]]));
    expect(base.set("a", 1)).toBe(base);
    expect(base.set("a", 2).set("a", 2).get("a")).toBe(2);
    expect(base.get("a")).toBe(1);
  });

  it("a set that changes nothing returns the same map", () => {
    const map = PersistentMap.empty<number>().set("a", 1);
    expect(map.set("a", 1)).toBe(map);
  });
});
