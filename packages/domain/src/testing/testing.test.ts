/**
 * The generators keep their promises: what they make passes the codecs, and a
 * history is a function of its plan.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Barcode, Id, IsoTime } from "../codec.js";
import { commandCodecs } from "../commands/index.js";
import { EventMetadata, Verifier } from "../events.js";
import { barcode, command, id, isoTime, verifier } from "./arbitraries.js";
import { historyPlan, playHistory, uuidV7 } from "./history.js";
import { snapshot } from "./snapshot.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);

describe("@linked-accounts/domain/testing", () => {
  it("primitive arbitraries make values their codecs accept", () => {
    fc.assert(
      fc.property(id(), barcode(), isoTime(), verifier(), (i, b, t, v) => {
        expect(Id.is(i) && Barcode.is(b) && IsoTime.is(t) && E.isRight(Verifier.decode(v))).toBe(true);
      }),
      { numRuns },
    );
  });

  it("every command the arbitraries make decodes with its codec, unchanged", () => {
    fc.assert(
      fc.property(command(), (c) => {
        const codec = commandCodecs[c.type] as unknown as { decode: (u: unknown) => E.Either<unknown, unknown> };
        expect(codec.decode(JSON.parse(JSON.stringify(c)))).toEqual(E.right(c));
      }),
      { numRuns },
    );
  });

  it("a history is a function of its plan, its commands decode, its event ids are UUID v7 and its clock never goes back", () => {
    fc.assert(
      fc.property(historyPlan({ minMoves: 10, maxMoves: 40 }), (plan) => {
        const a = playHistory(plan);
        const b = playHistory(plan);
        expect(b.commands).toEqual(a.commands);
        expect(b.events).toEqual(a.events);
        expect(snapshot(b.finalState)).toEqual(snapshot(a.finalState));
        let last = 0;
        for (const c of a.commands) {
          const codec = commandCodecs[c.type] as unknown as { decode: (u: unknown) => E.Either<unknown, unknown> };
          expect(E.isRight(codec.decode(c))).toBe(true);
          expect(Date.parse(c.now)).toBeGreaterThanOrEqual(last);
          last = Date.parse(c.now);
        }
        const ids = a.events.map((e) => e.metadata.eventId);
        expect(new Set(ids).size).toBe(ids.length);
        for (const e of a.events) expect(E.isRight(EventMetadata.decode(e.metadata))).toBe(true);
      }),
      { numRuns },
    );
  });

  it("uuidV7 is a UUID v7 for any time and counter", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.nat(), (ms, n) => {
        expect(uuidV7(ms, n)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }),
      { numRuns },
    );
  });
});
