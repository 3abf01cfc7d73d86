import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { decodeEnvelope } from "@linked-accounts/domain/internal";
import { actor, domainEvent, isoTime, uuidV7 } from "@linked-accounts/domain/testing";
import { checkedEnvelope } from "./compiled-check.js";

const metadata = fc.record({
  eventId: fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.nat()).map(([ms, n]) => uuidV7(ms, n)),
  schemaVersion: fc.constant(1),
  occurredAt: isoTime(),
  actor: actor(),
  correlationId: fc.option(fc.string(), { nil: null }),
  causationId: fc.option(fc.string(), { nil: null }),
});

/** A line as JSON.parse gives it: an event of the catalog, its metadata, and what else a line carries. */
const line = fc
  .tuple(domainEvent(), metadata)
  .map(([event, m]) => JSON.parse(JSON.stringify({ position: 1, stream: "s", ...event, metadata: m })) as Record<string, unknown>);

type Json = Record<string, unknown>;
/** Changes that io-ts either refuses or answers by stripping: the check must then say no (or agree). */
const mutated = fc.tuple(line, fc.nat(), fc.jsonValue(), fc.constantFrom("data", "metadata", "actor")).map(([l, n, value, where]) => {
  const target = (where === "data" ? l["data"] : where === "metadata" ? l["metadata"] : (l["metadata"] as Json)["actor"]) as Json;
  const keys = Object.keys(target);
  if (n % 3 === 0) target["extra"] = value; // a key io-ts strips
  else if (n % 3 === 1) target[keys[n % keys.length]!] = value; // a field with any value
  else delete target[keys[n % keys.length]!]; // a field missing
  return l;
});

describe("the compiled check of an export line", () => {
  it("gives exactly what decodeEnvelope gives, for every valid line (the same objects, nothing copied)", () => {
    fc.assert(
      fc.property(line, (l) => {
        const io = decodeEnvelope(l);
        expect(E.isRight(io)).toBe(true);
        const checked = checkedEnvelope(l);
        expect(checked).toEqual(E.isRight(io) ? io.right : undefined);
        expect(checked?.data).toBe(l["data"]);
        expect(checked?.metadata).toBe(l["metadata"]);
      }),
      { numRuns: 500 },
    );
  });

  it("says yes only when io-ts decodes the line to the same value: a changed line is io-ts's to answer", () => {
    fc.assert(
      fc.property(mutated, (l) => {
        const checked = checkedEnvelope(l);
        if (checked === undefined) return;
        const io = decodeEnvelope(l);
        expect(E.isRight(io)).toBe(true);
        if (E.isRight(io)) expect(checked).toEqual(io.right);
      }),
      { numRuns: 1000 },
    );
  });

  it("says no to an event of another schema version (the domain's decoding, and its upcasters, answer it)", () => {
    const l = fc.sample(line, 1)[0]!;
    (l["metadata"] as Json)["schemaVersion"] = 0;
    expect(checkedEnvelope(l)).toBeUndefined();
  });
});
