/**
 * Every store reads through the Mapper, so an event a store kept from an earlier
 * release (schema version 1) is read as today's, and one from a later release is
 * refused with the field named.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidEventError, StoredEventDecodeError } from "./event-store.js";
import { fromStored, isTag, toStoredBatch } from "./mapper.js";

const where = 7n;
const row = (metadata: Record<string, unknown>) => ({
  type: "AccountRegistered",
  tags: ["account:aroha"],
  data: { accountId: "aroha", barcode: "P1000001", minor: false, registeredAt: "2026-03-02T09:00:00.000Z" },
  metadata: {
    eventId: "01900000-0000-7000-8000-000000000001",
    occurredAt: "2026-03-02T09:00:00.000Z",
    actor: { kind: "staff", staffId: "desk-central" },
    correlationId: null,
    causationId: "register-aroha",
    ...metadata,
  },
});

describe("the Mapper reads every schema version this release knows", () => {
  it("a stored version-1 row reads as version 3, its channel implied by the actor", () => {
    const read = fromStored(row({ schemaVersion: 1 }), where);
    expect(read.metadata).toEqual({ ...row({}).metadata, schemaVersion: 3, channel: "desk" });
    expect(read.position).toBe(7n);
  });

  it("a stored version-4 row is refused, naming where it is and the field", () => {
    expect(() => fromStored(row({ schemaVersion: 4, channel: "desk" }), where)).toThrow(StoredEventDecodeError);
    expect(() => fromStored(row({ schemaVersion: 4, channel: "desk" }), where)).toThrow(
      /position 7 .*AccountRegistered\.metadata\.schemaVersion: expected a schema version from 1 to 3 \(written by a later release/,
    );
  });

  it("a version-1 envelope handed to a store is kept as version 3", () => {
    const closed = { ...row({ schemaVersion: 1 }), type: "AccountClosed", data: { accountId: "aroha", closedAt: "2026-03-02T09:00:00.000Z" } };
    const [stored] = toStoredBatch([closed as never]);
    expect(stored?.metadata).toMatchObject({ schemaVersion: 3, channel: "desk" });
  });

  it("an event with personal fields in the clear is refused: the log keeps them sealed only", () => {
    expect(() => toStoredBatch([row({ schemaVersion: 3, channel: "desk" }) as never])).toThrow(/personal fields must be sealed/);
  });
});

describe("the Mapper appends on every store only what every store keeps alike", () => {
  it.each([
    ["NUL", "Potiki\u0000"],
    ["a lone surrogate", "Potiki\uD800"],
  ])("an event whose title holds %s is refused before any store sees it, naming the field", (_, title) => {
    const event = {
      type: "ItemCheckedOut",
      data: { loanId: "l1", accountId: "a1", itemId: "i1", title, format: "physical", checkedOutAt: "2026-03-02T09:00:00.000Z", dueAt: "2026-03-20T09:00:00.000Z" },
      metadata: row({ schemaVersion: 3, channel: "desk" }).metadata,
      tags: ["loan:l1"],
    };
    expect(() => toStoredBatch([event as never])).toThrow(InvalidEventError);
    expect(() => toStoredBatch([event as never])).toThrow(/ItemCheckedOut\.data\.title: expected Title/);
  });
});

describe("isTag", () => {
  // The rule as it was first written, with regular expressions: the one-pass check must agree with it.
  const TAG = /^[^\u0000-\u001f\u007f]{1,300}$/u;
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const byRegex = (u: string) => TAG.test(u) && !LONE_SURROGATE.test(u);

  it("accepts exactly the strings of 1 to 300 code points with no control character and no lone surrogate", () => {
    const unit = fc.oneof(
      fc.constantFrom("a", ":", "\u0000", "\u001f", "\u007f", "\u0080", "\uD83D", "\uDE00", "\uD83D\uDE00", "\uFFFF"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    );
    const strings = fc.oneof(
      fc.array(unit, { maxLength: 12 }).map((parts) => parts.join("")),
      fc.tuple(fc.integer({ min: 295, max: 305 }), fc.constantFrom("a", "\uD83D\uDE00"), unit).map(([n, c, last]) => c.repeat(n) + last),
    );
    fc.assert(fc.property(strings, (u) => isTag(u) === byRegex(u)), { numRuns: 5000 });
    expect([isTag(""), isTag("a".repeat(300)), isTag("a".repeat(301)), isTag("\uD83D\uDE00".repeat(300)), isTag(7)]).toEqual([false, true, false, true, false]);
  });
});
