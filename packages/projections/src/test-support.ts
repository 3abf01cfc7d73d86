/** Helpers the tests share: envelopes for hand-written histories, positions, exports. Not exported by the package. */
import { type Actor, type DomainEvent, type EventEnvelope, SCHEMA_VERSION, channelOfVersion1 } from "@linked-accounts/domain/internal";
import { fixtures, uuidV7 } from "@linked-accounts/domain/testing";
import { createHash } from "node:crypto";
import type { ExportedEvent } from "./ndjson.js";
import { exportLine, headerLine, trailerLine } from "./ndjson.js";

/** `event` as stored, done by `actor` at minute `minutes` of the fixtures' clock. */
export const stamped = (event: DomainEvent, actor: Actor | string, minutes: number, counter: number): EventEnvelope =>
  ({
    ...event,
    metadata: {
      eventId: uuidV7(Date.parse(fixtures.at(minutes)), counter),
      schemaVersion: SCHEMA_VERSION,
      occurredAt: fixtures.at(minutes),
      actor: typeof actor === "string" ? { kind: "account", accountId: actor } : actor,
      channel: typeof actor === "string" ? "portal" : channelOfVersion1(actor),
      correlationId: null,
      causationId: null,
    },
  }) as EventEnvelope;

/** Gives events positions (gaps between them: `gaps[i]`, default 1) and a stream name. */
export const positioned = (events: ReadonlyArray<EventEnvelope>, gaps: ReadonlyArray<number> = []): ExportedEvent[] => {
  let p = 0n;
  return events.map((e, i) => {
    p += BigInt(gaps[i] ?? 1);
    return { ...e, position: p, stream: `s-${i % 3}` };
  });
};

/** Builds a history one event per minute: `[event, actor]` pairs. */
export const history = (steps: ReadonlyArray<readonly [DomainEvent, Actor | string]>): ExportedEvent[] =>
  positioned(steps.map(([e, actor], i) => stamped(e, actor, i, i)));

/** The event lines alone, as a hand-made export would be (no header, no trailer). */
export const exportText = (events: ReadonlyArray<ExportedEvent>): string => events.map((e) => exportLine(e) + "\n").join("");

/** What `linked-accounts export` writes: the header, the event lines, the trailer. */
export const checkedExportText = (events: ReadonlyArray<ExportedEvent>): string => {
  const body = headerLine + "\n" + exportText(events);
  return body + trailerLine(events.length, createHash("sha256").update(body, "utf8").digest("hex")) + "\n";
};

/**
 * The story of the reference page: a parent manages a child (1-way), two
 * partners manage each other (2-way), a minor's 2-way link works one way (R4).
 * Positions 1..n.
 */
export const referenceStory = (): ExportedEvent[] => {
  const f = fixtures;
  return history([
    [f.registered("parent"), "parent"], // 1
    [f.registered("child", true), "child"], // 2
    [f.registered("partner"), "partner"], // 3
    [f.phraseIssued("ph1", "parent", "one-way"), "parent"], // 4
    [f.connected("link-pc", "ph1", "parent", "child", "one-way"), "child"], // 5
    [f.phraseIssued("ph2", "parent", "two-way"), "parent"], // 6
    [f.connected("link-pp", "ph2", "parent", "partner", "two-way"), "partner"], // 7
    [f.checkedOut("loan1", "child"), { kind: "staff", staffId: "desk" }], // 8
    [f.holdPlaced("hold1", "child"), "child"], // 9
    [
      { type: "LoanRenewed", data: { loanId: "loan1", accountId: "child", dueAt: f.at(60 * 24 * 30), renewedBy: "parent", renewedAt: f.at(10) } },
      "parent",
    ], // 10
    [f.phraseIssued("ph3", "child", "two-way"), "child"], // 11
    [f.connected("link-cp", "ph3", "child", "partner", "two-way"), "partner"], // 12: partner → child only (R4)
    [f.linkRevoked("link-pp", "partner"), "partner"], // 13
    [f.holdPlaced("hold2", "partner"), "partner"], // 14
  ]);
};
