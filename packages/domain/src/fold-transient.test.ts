/**
 * The replay with transient builders (`evolveLibraryAll`, what `fold` uses) is
 * the step-by-step `evolve`, and leaves the state it started from untouched;
 * the step-by-step `evolve` itself never writes into its input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CirculationState, evolveCirculation, initialCirculationState } from "./circulation.js";
import { type DomainEvent, type EventEnvelope, isLinkingEvent } from "./events.js";
import { type LibraryState, evolveLibrary, evolveLibraryAll, initialLibraryState } from "./library-state.js";
import { PersistentMap, PersistentMapBuilder, setAll } from "./persistent-map.js";
import { domainEvent } from "./testing/arbitraries.js";
import { validHistory } from "./testing/history.js";
import { snapshot } from "./testing/snapshot.js";

const numRuns = Number(process.env.FC_RUNS ?? 300);
const withoutMetadata = ({ metadata: _, ...event }: EventEnvelope): DomainEvent => event as DomainEvent;
const stepByStep = (state: LibraryState, events: ReadonlyArray<DomainEvent>) => events.reduce(evolveLibrary, state);

/**
 * Arbitrary events whose ids and barcodes come from a handful, so they meet:
 * renewals of loans checked out, holds placed twice, one loan id in two
 * accounts, links revoked, phrases superseded, barcodes taken.
 */
const ID_FIELD = /(Id|^barcode|^attemptedBarcode)$/;
const POOL = ["a", "b", "c", "AB123", "ab123"];
const crowded = (): fc.Arbitrary<DomainEvent> =>
  fc.tuple(domainEvent(), fc.array(fc.nat({ max: POOL.length - 1 }), { minLength: 8, maxLength: 8 })).map(([event, picks]) => {
    let i = 0;
    const pick = () => POOL[picks[i++ % picks.length]!]!;
    const remap = (value: unknown): unknown => {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, typeof v === "string" && ID_FIELD.test(k) ? pick() : remap(v)]),
      );
    };
    return { ...event, data: remap(event.data) } as DomainEvent;
  });

/** Everything reachable from `value`, frozen; a Map's writers throw. Any write into it now throws. */
const frozenDeep = new WeakSet<object>();
const deepFreeze = <T>(value: T): T => {
  if (value === null || typeof value !== "object" || frozenDeep.has(value)) return value;
  frozenDeep.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k);
      deepFreeze(v);
    }
    const refuse = () => {
      throw new TypeError("a frozen input Map was written");
    };
    for (const writer of ["set", "delete", "clear"]) Object.defineProperty(value, writer, { value: refuse });
  }
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return Object.freeze(value);
};

/** Each account's loan and hold ids in the maps' own order (which `snapshot` sorts away). */
const orders = (state: LibraryState) =>
  [...state.circulation.entries()]
    .map(([id, c]: readonly [string, CirculationState]) => [id, [...c.loans.keys()], [...c.holds.keys()]] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const byEntryKey = (a: readonly [string, unknown], b: readonly [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

const sizes = (state: LibraryState) => [
  state.linking.accounts.size,
  state.linking.accountsByBarcode.size,
  state.linking.phrases.size,
  state.linking.links.size,
  state.linking.activeLinksByPair.size,
  state.circulation.size,
];

const expectSame = (actual: LibraryState, expected: LibraryState) => {
  expect(snapshot(actual)).toEqual(snapshot(expected));
  expect(orders(actual)).toEqual(orders(expected));
  expect(sizes(actual)).toEqual(sizes(expected));
};

describe("the replay with transient builders", () => {
  it("gives the state evolve gives event by event, from the initial state and from one already folded, which it leaves as it was", () => {
    fc.assert(
      fc.property(validHistory(), fc.array(domainEvent(), { maxLength: 30 }), fc.nat(), (h, extra, cut) => {
        // A valid history, then arbitrary events (about unknown and known things alike).
        const events = [...h.events.map(withoutMetadata), ...extra];
        const at = events.length === 0 ? 0 : cut % events.length;
        expectSame(evolveLibraryAll(initialLibraryState, events), stepByStep(initialLibraryState, events));
        const start = stepByStep(initialLibraryState, events.slice(0, at));
        const before = snapshot(start);
        const rest = events.slice(at);
        expectSame(evolveLibraryAll(start, rest), stepByStep(start, rest));
        expect(snapshot(start)).toEqual(before);
        expect(evolveLibraryAll(start, []).linking.accounts.size).toBe(start.linking.accounts.size);
      }),
      { numRuns },
    );
  });

  it("gives the state evolve gives over events that keep meeting (few ids), split anywhere, in two replays or one", () => {
    fc.assert(
      fc.property(fc.array(crowded(), { maxLength: 80 }), fc.nat(), (events, cut) => {
        const at = events.length === 0 ? 0 : cut % (events.length + 1);
        const expected = stepByStep(initialLibraryState, events);
        expectSame(evolveLibraryAll(initialLibraryState, events), expected);
        // A replay onward from a replay's result, and from a step-by-step state.
        const first = evolveLibraryAll(initialLibraryState, events.slice(0, at));
        const firstBefore = snapshot(first);
        expectSame(evolveLibraryAll(first, events.slice(at)), expected);
        expect(snapshot(first)).toEqual(firstBefore);
        expectSame(evolveLibraryAll(stepByStep(initialLibraryState, events.slice(0, at)), events.slice(at)), expected);
      }),
      { numRuns: numRuns * 3 },
    );
  });

  it("never writes into the state or the events it is given (deep-frozen, any write throws), nor does evolve", () => {
    fc.assert(
      fc.property(fc.array(crowded(), { maxLength: 60 }), fc.array(crowded(), { maxLength: 30 }), (first, then) => {
        const start = deepFreeze(stepByStep(initialLibraryState, first));
        const frozenThen = deepFreeze(then.map((e) => structuredClone(e)));
        const expected = snapshot(start);
        // The replay, from a frozen state over frozen events.
        const replayed = evolveLibraryAll(start, frozenThen);
        // Evolve, one event at a time, each step's input frozen before the next.
        let state = start;
        for (const event of frozenThen) state = deepFreeze(evolveLibrary(state, event));
        expectSame(replayed, state);
        expect(snapshot(start)).toEqual(expected);
        // A replay's result, frozen, is as good an input as any.
        const frozenReplay = deepFreeze(evolveLibraryAll(initialLibraryState, first));
        expectSame(evolveLibraryAll(frozenReplay, frozenThen), state);
        let stepped = frozenReplay;
        for (const event of frozenThen) stepped = deepFreeze(evolveLibrary(stepped, event));
        expectSame(stepped, state);
      }),
      { numRuns },
    );
  });

  it("evolveCirculation copies what changes and leaves its input as it was", () => {
    const frozen = deepFreeze({ loans: new Map(initialCirculationState.loans), holds: new Map(initialCirculationState.holds), keepsHistory: false });
    fc.assert(
      fc.property(fc.array(crowded(), { maxLength: 60 }), (events) => {
        let s: CirculationState = frozen;
        for (const event of events) {
          if (!isLinkingEvent(event)) {
            const next = evolveCirculation(s, event);
            if (next !== s) expect(next.loans !== s.loans || next.holds !== s.holds || next.keepsHistory !== s.keepsHistory).toBe(true);
            s = deepFreeze(next);
          }
        }
      }),
      { numRuns },
    );
  });

  it("a builder answers like the persistent map with its changes, counts new keys once, and never changes its base", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "d", "e", "f"), fc.integer())), fc.nat({ max: 6 }), (ops, split) => {
        let base = PersistentMap.empty<number>();
        for (const [k, v] of ops.slice(0, split)) base = base.set(k, v);
        const baseEntries = [...base.entries()];
        let expected = base;
        const builder = new PersistentMapBuilder(base);
        for (const [k, v] of ops.slice(split)) {
          expected = expected.update(k, (c) => (c ?? 0) + v);
          builder.update(k, (c) => (c ?? 0) + v);
          expect(builder.get(k)).toBe(expected.get(k));
          expect(builder.size).toBe(expected.size);
        }
        const built = builder.build();
        expect([...built.entries()].sort()).toEqual([...expected.entries()].sort());
        expect(built.size).toBe(expected.size);
        expect([...base.entries()]).toEqual(baseEntries);
      }),
      { numRuns: 1000 },
    );
  });

  // The order of iteration is not specified (a map with a built-in base iterates it first): entries are compared sorted.
  it("setAll gives the map `set` one key after the other gives (entries, size, answers), set one by one or built in one pass", () => {
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.nat({ max: 3000 }).map((n) => `k${n}`));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.integer()), { maxLength: 400 }), fc.array(fc.tuple(key, fc.integer()), { maxLength: 200 }), (before, changes) => {
        let base = PersistentMap.empty<number>();
        for (const [k, v] of before) base = base.set(k, v);
        const baseEntries = [...base.entries()];
        const changed = new Map(changes);
        let expected = base;
        for (const [k, v] of changed) expected = expected.set(k, v);
        const built = setAll(base, changed);
        expect([...built.entries()].sort(byEntryKey)).toEqual([...expected.entries()].sort(byEntryKey));
        expect(built.size).toBe(expected.size);
        for (const [k] of changes) expect(built.get(k)).toBe(changed.get(k));
        for (const [k, v] of expected.entries()) expect(built.get(k)).toBe(v);
        expect([...base.entries()]).toEqual(baseEntries);
      }),
      { numRuns: 500 },
    );
  });
});
