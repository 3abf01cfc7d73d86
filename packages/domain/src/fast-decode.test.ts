/**
 * The compiled checks against io-ts itself: over valid events and over events
 * mutated one field at a time, a check says "invalid" exactly when io-ts
 * refuses, "as given" exactly when io-ts returns the value it was given, and
 * "copy" exactly when io-ts accepts with a copy; and `decodeEnvelope` (fast
 * path first) gives what io-ts alone gives, errors included.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import * as t from "io-ts";
import { describe, expect, it } from "vitest";
import { DecodeError, IsoTime, UuidV7, matching } from "./codec.js";
import { EventMetadata, type EventEnvelope, decodeEnvelope, decodeEvent, eventCodecs, eventTypes } from "./events.js";
import { COPY, INVALID, SAME, compileCheck } from "./fast-decode.js";
import { actor, domainEvent, isoTime } from "./testing/arbitraries.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);

const metadata = (): fc.Arbitrary<EventMetadata> =>
  fc.record({
    eventId: fc.uuid({ version: 7 }),
    schemaVersion: fc.constant(3 as const),
    occurredAt: isoTime(),
    actor: actor(),
    channel: fc.constantFrom("portal", "app", "desk", "system", null),
    correlationId: fc.option(fc.string(), { nil: null }),
    causationId: fc.option(fc.string(), { nil: null }),
  }) as fc.Arbitrary<EventMetadata>;

const envelope = (): fc.Arbitrary<EventEnvelope> =>
  fc.tuple(domainEvent(), metadata()).map(([event, meta]) => ({ ...event, metadata: meta }) as EventEnvelope);

type Json = unknown;
/** Every path into a JSON value (the root is []). */
const pathsOf = (value: Json, path: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> => {
  const here = [path];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...path, i]))];
  if (typeof value === "object" && value !== null) return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...path, k]))];
  return here;
};
const at = (value: Json, path: ReadonlyArray<string | number>): Json =>
  path.reduce<Json>((v, k) => (v as Record<string | number, Json>)?.[k], value);

/** Near misses of a value: what a corrupt row or a careless writer leaves. */
const nearMisses = (value: Json): Json[] => {
  if (typeof value === "string")
    return [
      "",
      `${value}x`,
      value.slice(1),
      value.toUpperCase(),
      ` ${value}`,
      value.replace(/\d/, "9"),
      value.replace(/\d/, "a"),
      value.replace("Z", ""),
      value.replace(/-/, "_"),
      value.repeat(9),
      Number(value),
    ];
  if (typeof value === "number") return [0, -value, value + 0.5, String(value), Number.NaN, 2 ** 60];
  if (typeof value === "boolean") return [!value, String(value), 0, 1];
  if (value === null) return ["null", 0, false, {}, undefined];
  if (Array.isArray(value)) return [{}, [...value, 1]];
  return [[], null, "x"];
};

/** One mutation of a JSON value: a field deleted, added, or replaced by a near miss or by anything. */
const mutated = <A extends Json>(valid: fc.Arbitrary<A>): fc.Arbitrary<Json> =>
  valid.chain((value) => {
    const paths = pathsOf(value);
    return fc
      .tuple(fc.nat({ max: paths.length - 1 }), fc.nat(), fc.constantFrom("delete", "add", "near", "anything"), fc.anything(), fc.string())
      .map(([p, choice, kind, anything, key]) => {
        const copy = structuredClone(value) as Json;
        const path = paths[p]!;
        const parentPath = path.slice(0, -1);
        const last = path[path.length - 1];
        const target = at(copy, path);
        if (kind === "add") {
          if (typeof target === "object" && target !== null && !Array.isArray(target)) (target as Record<string, Json>)[key] = anything;
          return copy;
        }
        const replacement = kind === "near" ? nearMisses(target)[choice % nearMisses(target).length] : kind === "anything" ? anything : undefined;
        if (last === undefined) return kind === "delete" ? undefined : replacement;
        const parent = at(copy, parentPath) as Record<string | number, Json>;
        if (kind === "delete") delete parent[last];
        else parent[last] = replacement;
        return copy;
      });
  });

/** io-ts's own answer, as a verdict. */
const ioTsVerdict = (codec: t.Mixed, u: unknown) => {
  const decoded = codec.decode(u);
  return E.isLeft(decoded) ? INVALID : decoded.right === u ? SAME : COPY;
};

const agrees = (codec: t.Mixed, u: unknown) => {
  const check = compileCheck(codec);
  expect(check).toBeDefined();
  expect(check!(u)).toBe(ioTsVerdict(codec, u));
};

const dataCodec = (type: (typeof eventTypes)[number]) =>
  (eventCodecs[type] as unknown as t.ExactType<t.InterfaceType<{ data: t.Mixed }>>).type.props.data;

/** The decoding io-ts alone gives (what decodeEnvelope did before the fast path). */
const slowDecode = (u: unknown): E.Either<DecodeError, EventEnvelope> => {
  const event = decodeEvent(u);
  if (E.isLeft(event)) return event;
  const meta = EventMetadata.decode((u as { metadata?: unknown }).metadata);
  return E.isLeft(meta) ? E.left(new DecodeError("metadata")) : E.right({ ...event.right, metadata: meta.right } as EventEnvelope);
};

describe("fast checks compiled from the codecs", () => {
  it("give io-ts's verdict on every valid event's data and metadata (as given)", () => {
    fc.assert(
      fc.property(envelope(), (e) => {
        agrees(dataCodec(e.type), e.data);
        agrees(EventMetadata, e.metadata);
        expect(compileCheck(dataCodec(e.type))!(e.data)).toBe(SAME);
      }),
      { numRuns },
    );
  });

  it("give io-ts's verdict on mutated data and metadata: invalid, as given, or a copy", () => {
    const verdicts = new Set<number>();
    fc.assert(
      fc.property(
        domainEvent().chain((e) => mutated(fc.constant(e.data)).map((data) => [e.type, data] as const)),
        mutated(metadata()),
        ([type, data], meta) => {
          agrees(dataCodec(type), data);
          agrees(EventMetadata, meta);
          verdicts.add(compileCheck(dataCodec(type))!(data));
        },
      ),
      { numRuns: numRuns * 3 },
    );
    // The mutations reach all three answers.
    expect([...verdicts].sort()).toEqual([INVALID, SAME, COPY]);
  });

  it("decodeEnvelope (fast path first) gives what io-ts alone gives, for valid and mutated envelopes", () => {
    fc.assert(
      fc.property(fc.oneof(envelope(), mutated(envelope())), (u) => {
        const fast = decodeEnvelope(u);
        const slow = slowDecode(u);
        expect(E.isRight(fast)).toBe(E.isRight(slow));
        if (E.isRight(fast) && E.isRight(slow)) expect(fast.right).toEqual(slow.right);
      }),
      { numRuns: numRuns * 3 },
    );
  });

  it("leaves the error message to io-ts: a corrupt field is still named", () => {
    const u = {
      type: "AccountConnected",
      data: { linkId: "l1", phraseId: "p1", issuerAccountId: "a", connectedAccountId: "b", direction: "both", connectedAt: "2026-03-03T09:15:00.000Z" },
      metadata: {
        eventId: "01890a5d-ac96-774b-bcce-b302099a8057",
        schemaVersion: 3,
        occurredAt: "2026-03-03T09:15:00.000Z",
        actor: { kind: "system" },
        channel: null,
        correlationId: null,
        causationId: null,
      },
    };
    const decoded = decodeEnvelope(u);
    expect(E.isLeft(decoded) && decoded.left.message).toBe('AccountConnected.data.direction: expected "one-way" | "two-way", got "both"');
    expect(E.isRight(decodeEnvelope({ ...u, data: { ...u.data, direction: "two-way" } }))).toBe(true);
  });

  it("upcasts before checking: a version-1 event reads as version 2", () => {
    const v1 = {
      type: "AccountClosed",
      data: { accountId: "a1", closedAt: "2026-03-03T09:15:00.000Z" },
      metadata: {
        eventId: "01890a5d-ac96-774b-bcce-b302099a8057",
        schemaVersion: 1,
        occurredAt: "2026-03-03T09:15:00.000Z",
        actor: { kind: "staff", staffId: "s1" },
        correlationId: null,
        causationId: null,
      },
    };
    const decoded = decodeEnvelope(v1);
    expect(E.isRight(decoded) && decoded.right.metadata).toEqual({ ...v1.metadata, schemaVersion: 3, channel: "desk" });
  });

  it("refuses, when compiling, a kind of codec it does not know", () => {
    expect(() => compileCheck(t.array(t.string))).toThrow(/not supported/);
    expect(compileCheck(t.exact(t.type({ at: IsoTime, id: UuidV7, code: matching("code", /^[a-z]+$/) })))!({ at: "x", id: "y", code: "z" })).toBe(INVALID);
  });
});
