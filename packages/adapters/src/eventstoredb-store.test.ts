import { ANY, EventStoreDBClient, NO_STREAM, START, STREAM_EXISTS, WrongExpectedVersionError, jsonEvent } from "@eventstore/db-client";
import { describe, expect, it } from "vitest";
import { eventStoreContract } from "./contract/index.js";
import { loanRenewed } from "./contract/sample-events.js";
import { ConcurrencyError, StoredEventDecodeError } from "./event-store.js";
import {
  fromEsdbCurrentRevision,
  fromEsdbEvent,
  isSystemEvent,
  toConcurrencyError,
  toEsdbExpectedRevision,
  toEventData,
  toPortPosition,
  toReadFrom,
} from "./eventstoredb-mapping.js";
import { createEventStoreDbEventStore } from "./eventstoredb-store.js";
import { toStoredBatch } from "./mapper.js";

describe("EventStoreDB mapping (no server needed)", () => {
  it("maps every expected revision to the client's", () => {
    expect(toEsdbExpectedRevision("no-stream")).toBe(NO_STREAM);
    expect(toEsdbExpectedRevision("stream-exists")).toBe(STREAM_EXISTS);
    expect(toEsdbExpectedRevision("any")).toBe(ANY);
    expect(toEsdbExpectedRevision(0n)).toBe(0n);
    expect(toEsdbExpectedRevision(41n)).toBe(41n);
  });

  it("maps the server's current revision back", () => {
    expect(fromEsdbCurrentRevision(NO_STREAM)).toBe("no-stream");
    expect(fromEsdbCurrentRevision(7n)).toBe(7n);
    expect(fromEsdbCurrentRevision(undefined)).toBeUndefined();
  });

  it("turns WrongExpectedVersionError into ConcurrencyError carrying stream, expected and actual", () => {
    const wrong = new WrongExpectedVersionError(undefined, { streamName: "s", expected: 3n, current: 5n });
    const error = toConcurrencyError("s", 3n, wrong);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ stream: "s", expected: 3n, actual: 5n });
    const missing = new WrongExpectedVersionError(undefined, { streamName: "s", expected: STREAM_EXISTS, current: NO_STREAM });
    expect(toConcurrencyError("s", "stream-exists", missing)).toMatchObject({ expected: "stream-exists", actual: "no-stream" });
  });

  it("writes JSON data with the domain metadata as the event's metadata, and the domain eventId as its id", () => {
    const envelope = loanRenewed(3);
    const [stored] = toStoredBatch("s", [envelope]);
    const data = toEventData(stored!);
    expect(data).toMatchObject({
      id: envelope.metadata.eventId,
      type: "LoanRenewed",
      contentType: "application/json",
      data: envelope.data,
      metadata: envelope.metadata,
    });
  });

  it("gives odd port positions to records and reads each back inclusively, its successor exclusively", () => {
    expect(toPortPosition(0n)).toBe(1n);
    expect(toPortPosition(1234n)).toBe(2469n);
    expect(toReadFrom(undefined)).toEqual({ from: START, keepFrom: 1n });
    expect(toReadFrom(1n)).toEqual({ from: START, keepFrom: 1n });
    // The event at commit 1234, inclusive:
    expect(toReadFrom(2469n)).toEqual({ from: { commit: 1234n, prepare: 1234n }, keepFrom: 2469n });
    // "last position + 1": start at that record again but keep nothing before 2470, so it is skipped.
    const next = toReadFrom(2470n);
    expect(next.from).toEqual({ commit: 1234n, prepare: 1234n });
    expect(toPortPosition(1234n) >= next.keepFrom).toBe(false);
  });

  it("keeps positions strictly increasing as commit positions grow", () => {
    const commits = [0n, 1n, 88n, 89n, 10_000_000_000n];
    const positions = commits.map(toPortPosition);
    positions.slice(1).forEach((p, i) => expect(p > positions[i]!).toBe(true));
    // And every position reads back the record it came from.
    commits.forEach((c) => expect(toReadFrom(toPortPosition(c)).from).toEqual(c === 0n ? START : { commit: c, prepare: c }));
  });

  it("tells system events apart", () => {
    expect(isSystemEvent({ streamId: "$stats-127.0.0.1:2113", type: "$statsCollected" })).toBe(true);
    expect(isSystemEvent({ streamId: "$$account-1", type: "$metadata" })).toBe(true);
    expect(isSystemEvent({ streamId: "$ce-account", type: "AccountRegistered" })).toBe(true);
    expect(isSystemEvent({ streamId: "account-1", type: "AccountRegistered" })).toBe(false);
  });

  it("decodes a read event through the Mapper, and stops on one that does not decode", () => {
    const envelope = loanRenewed(1);
    const read = { streamId: "s", revision: 4n, type: envelope.type, data: envelope.data, metadata: envelope.metadata, position: { commit: 500n } };
    expect(fromEsdbEvent(read)).toMatchObject({ stream: "s", revision: 4n, position: 1001n, data: envelope.data });
    const bad = { ...read, data: { ...envelope.data, dueAt: "tomorrow" } };
    expect(() => fromEsdbEvent(bad)).toThrow(StoredEventDecodeError);
    expect(() => fromEsdbEvent(bad)).toThrow(/position 1001 .*stream s, type LoanRenewed.*LoanRenewed\.data\.dueAt/);
    // Binary data (not written by this store) does not decode either.
    expect(() => fromEsdbEvent({ ...read, data: new Uint8Array([1, 2]) })).toThrow(StoredEventDecodeError);
  });

  it("refuses to make up a position the server did not give", () => {
    const envelope = loanRenewed(1);
    const read = { streamId: "s", revision: 0n, type: envelope.type, data: envelope.data, metadata: envelope.metadata };
    expect(() => fromEsdbEvent(read)).toThrow(/22\.6 or later/);
    expect(() => fromEsdbEvent({ ...read, position: { commit: 2n ** 64n - 1n } })).toThrow(/22\.6 or later/);
  });
});

/**
 * The contract against a real server, when one is named. To run it:
 *   docker run -d -p 2113:2113 eventstore/eventstore:24.10 --insecure --run-projections=All
 *   EVENTSTORE_CONNECTION_STRING="esdb://localhost:2113?tls=false" npx vitest run packages/adapters
 */
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;
if (connectionString === undefined || connectionString === "")
  console.log("EventStoreDB contract skipped: EVENTSTORE_CONNECTION_STRING is not set (no server runs here).");

describe.skipIf(connectionString === undefined || connectionString === "")("EventStoreDB", () => {
  eventStoreContract("EventStoreDB", () => createEventStoreDbEventStore({ connectionString: connectionString! }), {
    plantStoredEvent: async (_store, stream, row) => {
      const client = EventStoreDBClient.connectionString(connectionString!);
      try {
        await client.appendToStream(stream, jsonEvent({ type: row.type, data: row.data, metadata: row.metadata }));
      } finally {
        await client.dispose();
      }
    },
  });
});
