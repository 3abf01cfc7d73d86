/**
 * The replay with transient builders (`evolveLibraryAll`, what `fold` uses) is
 * the step-by-step `evolve`, and leaves the state it started from untouched.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DomainEvent, EventEnvelope } from "./events.js";
import { type LibraryState, evolveLibrary, evolveLibraryAll, initialLibraryState } from "./library-state.js";
import { PersistentMap, PersistentMapBuilder } from "./persistent-map.js";
import { domainEvent } from "./testing/arbitraries.js";
import { validHistory } from "./testing/history.js";
import { snapshot } from "./testing/snapshot.js";

const numRuns = Number(process.env.FC_RUNS ?? 300);
const withoutMetadata = ({ metadata: _, ...event }: EventEnvelope): DomainEvent => event as DomainEvent;
const stepByStep = (state: LibraryState, events: ReadonlyArray<DomainEvent>) => events.reduce(evolveLibrary, state);

describe("the replay with transient builders", () => {
  it("gives the state evolve gives event by event, from the initial state and from one already folded, which it leaves as it was", () => {
    fc.assert(
      fc.property(validHistory(), fc.array(domainEvent(), { maxLength: 30 }), fc.nat(), (h, extra, cut) => {
        // A valid history, then arbitrary events (about unknown and known things alike).
        const events = [...h.events.map(withoutMetadata), ...extra];
        const at = events.length === 0 ? 0 : cut % events.length;
        expect(snapshot(evolveLibraryAll(initialLibraryState, events))).toEqual(snapshot(stepByStep(initialLibraryState, events)));
        const start = stepByStep(initialLibraryState, events.slice(0, at));
        const before = snapshot(start);
        const rest = events.slice(at);
        expect(snapshot(evolveLibraryAll(start, rest))).toEqual(snapshot(stepByStep(start, rest)));
        expect(snapshot(start)).toEqual(before);
        expect(evolveLibraryAll(start, []).linking.accounts.size).toBe(start.linking.accounts.size);
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
});
