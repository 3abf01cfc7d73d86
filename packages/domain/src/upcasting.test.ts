/**
 * Events that evolve: an event of an earlier schema version reads as today's
 * (DOMAIN.md "Events"), and the upcasting chain is general enough that the next
 * change is one function and its test.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Actor } from "./codec.js";
import { type EventEnvelope, SCHEMA_VERSION, decodeEnvelope, encodeEvent, isEventType, upcast } from "./events.js";
import { channelOfVersion1, schemaChanges } from "./schema-changes.js";
import { actor as anyActor, domainEvent, isoTime } from "./testing/arbitraries.js";
import { uuidV7 } from "./testing/history.js";
import { type SchemaChange, upcaster } from "./upcasting.js";

const numRuns = Number(process.env.FC_RUNS ?? 500);

/** An envelope as version 1 wrote it: no `channel`. */
const version1 = fc
  .record({ event: domainEvent(), actor: anyActor(), at: isoTime(), n: fc.nat({ max: 1000 }) })
  .map(({ event, actor, at, n }) => ({
    ...encodeEvent(event),
    metadata: { eventId: uuidV7(Date.parse(at), n), schemaVersion: 1, occurredAt: at, actor, correlationId: null, causationId: `c-${n}` },
  }));
const viaJson = <A>(a: A): A => JSON.parse(JSON.stringify(a)) as A;

describe("schema version 2: event metadata records the channel", () => {
  it("this release writes the version after its last schema change", () => {
    expect(SCHEMA_VERSION).toBe(schemaChanges.length + 1);
    schemaChanges.forEach((change, i) => expect(change.from).toBe(i + 1));
  });

  it("given a version-1 event, when it is decoded, then it is today's event with the channel its actor implies", () => {
    fc.assert(
      fc.property(version1, (old) => {
        const given = viaJson(old);
        const decoded = decodeEnvelope(given);
        expect(decoded).toEqual(
          E.right({
            type: old.type,
            data: old.data,
            metadata: { ...old.metadata, schemaVersion: 3, channel: channelOfVersion1(old.metadata.actor) },
          }),
        );
        expect(given).toEqual(old); // what was read is left as it was
      }),
      { numRuns },
    );
  });

  it.each<[Actor, string | null]>([
    [{ kind: "staff", staffId: "desk-7" }, "desk"],
    [{ kind: "system" }, "system"],
    [{ kind: "account", accountId: "aroha" }, null],
  ])("a version-1 event by %j came through %j", (actor, channel) => {
    const old = {
      type: "AccountClosed",
      data: { accountId: "aroha", closedAt: "2026-03-03T09:15:00.000Z" },
      metadata: { eventId: uuidV7(0, 1), schemaVersion: 1, occurredAt: "2026-03-03T09:15:00.000Z", actor, correlationId: null, causationId: null },
    };
    const decoded = decodeEnvelope(old);
    expect(E.isRight(decoded) && decoded.right.metadata).toEqual({ ...old.metadata, schemaVersion: 3, channel });
  });

  it("an event already at this version is passed on as it is, not copied", () => {
    const today = { type: "AccountClosed", data: {}, metadata: { schemaVersion: SCHEMA_VERSION } };
    expect(upcast(today)).toEqual(E.right(today));
    expect(E.isRight(upcast(today)) && (upcast(today) as E.Right<unknown>).right).toBe(today);
  });

  it.each<[unknown, RegExp]>([
    [4, /^AccountClosed\.metadata\.schemaVersion: expected a schema version from 1 to 3 \(written by a later release: read it with that release or a newer one\), got 4$/],
    [0, /^AccountClosed\.metadata\.schemaVersion: expected a schema version from 1 to 3, got 0$/],
    [1.5, /^AccountClosed\.metadata\.schemaVersion: expected a schema version from 1 to 3, got 1\.5$/],
    ["1", /^AccountClosed\.metadata\.schemaVersion: expected a schema version from 1 to 3, got "1"$/],
    [undefined, /^AccountClosed\.metadata\.schemaVersion: expected a schema version from 1 to 3, got nothing$/],
  ])("a schema version of %j is refused, the field named", (schemaVersion, message) => {
    const decoded = decodeEnvelope({
      type: "AccountClosed",
      data: { accountId: "aroha", closedAt: "2026-03-03T09:15:00.000Z" },
      metadata: { eventId: uuidV7(0, 1), schemaVersion, occurredAt: "2026-03-03T09:15:00.000Z", actor: { kind: "system" }, channel: null, correlationId: null, causationId: null },
    });
    expect(E.isLeft(decoded) && decoded.left.message).toMatch(message);
  });

  it("a version-2 event without its channel is refused, the field named (only version 1 may lack it)", () => {
    const decoded = decodeEnvelope({
      type: "AccountClosed",
      data: { accountId: "aroha", closedAt: "2026-03-03T09:15:00.000Z" },
      metadata: { eventId: uuidV7(0, 1), schemaVersion: 2, occurredAt: "2026-03-03T09:15:00.000Z", actor: { kind: "system" }, correlationId: null, causationId: null },
    });
    expect(E.isLeft(decoded) && decoded.left.message).toMatch(/^AccountClosed\.metadata\.channel: expected Channel \| null, got nothing$/);
  });
});

describe("schema version 3: personal fields may be sealed", () => {
  it("a version-2 event, personal fields in the clear, reads as version 3 with nothing else changed", () => {
    const old = {
      type: "ItemCheckedOut",
      data: { loanId: "L1", accountId: "aroha", itemId: "I1", title: "Potiki", format: "physical", checkedOutAt: "2026-03-03T09:15:00.000Z", dueAt: "2026-03-24T09:15:00.000Z" },
      metadata: { eventId: uuidV7(0, 1), schemaVersion: 2, occurredAt: "2026-03-03T09:15:00.000Z", actor: { kind: "system" }, channel: "system", correlationId: null, causationId: null },
    };
    expect(decodeEnvelope(viaJson(old))).toEqual(E.right({ ...old, metadata: { ...old.metadata, schemaVersion: 3 } }));
  });
});

describe("the upcasting chain", () => {
  // A made-up version 4 that renames LinkRevoked's `reason` to `note`: one
  // data change for one type, after the real changes of versions 2 and 3.
  const renameReason: SchemaChange = {
    from: 3,
    summary: "LinkRevoked.data.reason is called note",
    data: { LinkRevoked: ({ data: { reason, ...rest } }) => ({ ...rest, note: reason }) },
  };
  const toVersion4 = upcaster([...schemaChanges, renameReason], isEventType);
  const revoked = (schemaVersion: number): EventEnvelope | Record<string, unknown> => ({
    type: "LinkRevoked",
    data: { linkId: "L1", revokedBy: { kind: "staff", staffId: "s1" }, reason: "asked", revokedAt: "2026-03-03T09:15:00.000Z" },
    metadata: { schemaVersion, actor: { kind: "staff", staffId: "s1" } },
  });

  it("applies every change from the event's version on, in order, to the data of the types each names and to the metadata of all", () => {
    expect(toVersion4(revoked(1))).toEqual(
      E.right({
        type: "LinkRevoked",
        data: { linkId: "L1", revokedBy: { kind: "staff", staffId: "s1" }, note: "asked", revokedAt: "2026-03-03T09:15:00.000Z" },
        metadata: { schemaVersion: 4, actor: { kind: "staff", staffId: "s1" }, channel: "desk" },
      }),
    );
    const fromVersion2 = toVersion4({ ...revoked(2), metadata: { schemaVersion: 2, channel: "app" } });
    expect(E.isRight(fromVersion2) && fromVersion2.right).toMatchObject({ data: { note: "asked" }, metadata: { schemaVersion: 4, channel: "app" } });
    const fromVersion3 = toVersion4({ ...revoked(3), metadata: { schemaVersion: 3, channel: "app" } });
    expect(E.isRight(fromVersion3) && fromVersion3.right).toMatchObject({ data: { note: "asked" }, metadata: { schemaVersion: 4, channel: "app" } });
    const otherType = toVersion4({ type: "AccountClosed", data: { reason: "kept" }, metadata: { schemaVersion: 2 } });
    expect(E.isRight(otherType) && otherType.right).toEqual({ type: "AccountClosed", data: { reason: "kept" }, metadata: { schemaVersion: 4 } });
  });

  it("what is not shaped like an event is left for the codecs to name", () => {
    for (const u of [null, "x", [], { type: "Nope", data: {}, metadata: { schemaVersion: 1 } }, { type: "AccountClosed", data: [], metadata: {} }])
      expect(toVersion4(u)).toEqual(E.right(u));
  });

  it("a chain whose changes do not read versions 1, 2, 3… in order is a programming error, found when it is made", () => {
    expect(() => upcaster([renameReason], isEventType)).toThrow("Schema change 0 reads version 3; it must read 1");
  });
});
