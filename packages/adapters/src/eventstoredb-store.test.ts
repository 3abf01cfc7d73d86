import {
  ANY,
  type AppendExpectedRevision,
  EventStoreDBClient,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  WrongExpectedVersionError,
  jsonEvent,
} from "@eventstore/db-client";
import { describe, expect, it } from "vitest";
import { eventStoreContract } from "./contract/index.js";
import { loanRenewed, sampleEvents } from "./contract/sample-events.js";
import { AppendConditionError, AppendFailedError, type RecordedEvent, StoredEventDecodeError } from "./event-store.js";
import { type EsdbReadEvent, fromEsdbEvent, toEventData, toPosition, toRevision, typeAndTags } from "./eventstoredb-mapping.js";
import { DEFAULT_ESDB_STREAM, type EsdbStreamClient, createEventStoreDbEventStore, eventStoreDbEventStoreOn } from "./eventstoredb-store.js";
import { createInMemoryKeyStore } from "./in-memory-key-store.js";
import { type StoredEvent, toStoredBatch } from "./mapper.js";

const collect = async (events: AsyncIterable<RecordedEvent>) => {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};
const byTag = (tag: string) => ({ items: [{ tags: [tag] }] });

/**
 * A fake of the little of EventStoreDB the store uses: one log per stream,
 * optimistic concurrency on the expected revision exactly as the server checks
 * it, and a hook that runs just before each append is checked, where a test
 * can store someone else's events.
 */
const fakeEsdb = () => {
  const streams = new Map<string, EsdbReadEvent[]>();
  const logOf = (stream: string) => streams.get(stream) ?? (streams.set(stream, []), streams.get(stream)!);
  const calls = { appends: [] as AppendExpectedRevision[], reads: [] as Array<bigint | string> };
  const hooks: { beforeAppend?: (attempt: number) => void } = {};
  const store = (stream: string, type: string, data: unknown, metadata: unknown) => {
    const log = logOf(stream);
    // As the server keeps it: JSON, not the caller's objects.
    log.push({ revision: BigInt(log.length), type, data: JSON.parse(JSON.stringify(data)), metadata: JSON.parse(JSON.stringify(metadata)) });
  };
  const client: EsdbStreamClient = {
    async appendToStream(stream, events, { expectedRevision }) {
      calls.appends.push(expectedRevision);
      await new Promise((resolve) => setImmediate(resolve)); // the round trip: others run meanwhile
      hooks.beforeAppend?.(calls.appends.length);
      const log = logOf(stream);
      const current = log.length === 0 ? NO_STREAM : BigInt(log.length - 1);
      const holds =
        expectedRevision === ANY ||
        (expectedRevision === NO_STREAM && current === NO_STREAM) ||
        (expectedRevision === STREAM_EXISTS && current !== NO_STREAM) ||
        expectedRevision === current;
      if (!holds) throw new WrongExpectedVersionError(undefined, { streamName: stream, expected: expectedRevision, current });
      for (const e of events) store(stream, e.type, e.data, e.metadata);
      return { nextExpectedRevision: BigInt(log.length - 1) };
    },
    async *readStream(stream, { direction, fromRevision, maxCount }) {
      calls.reads.push(fromRevision);
      const log = logOf(stream);
      let left = maxCount ?? Number.POSITIVE_INFINITY;
      if (direction === "backwards") {
        for (let i = fromRevision === "end" ? log.length - 1 : Number(fromRevision); i >= 0 && left-- > 0; i--) yield log[i]!;
        return;
      }
      for (let i = fromRevision === START ? 0 : Number(fromRevision); i < log.length && left-- > 0; i++) yield log[i]!;
    },
    async dispose() {},
  };
  return {
    client,
    calls,
    hooks,
    log: logOf,
    /** Stores an event as another writer (or an old version) would, unchecked. */
    plant: (row: StoredEvent, stream = DEFAULT_ESDB_STREAM) => store(stream, row.type, row.data, { ...row.metadata, tags: row.tags }),
  };
};

describe("EventStoreDB mapping (no server needed)", () => {
  it("writes JSON data, the domain metadata with the tags beside it, and the domain eventId as the event's id", () => {
    const envelope = loanRenewed(3, "account-1", ["loan:loan-3", "account:account-1"]);
    const [stored] = toStoredBatch([envelope]);
    expect(toEventData(stored!)).toMatchObject({
      id: envelope.metadata.eventId,
      type: "LoanRenewed",
      contentType: "application/json",
      data: envelope.data,
      metadata: { ...envelope.metadata, tags: ["loan:loan-3", "account:account-1"] },
    });
  });

  it("reads an event back with its tags split from its metadata, at position revision + 1", () => {
    const envelope = loanRenewed(1, "account-1", ["a", "b"]);
    const read = { revision: 4n, type: envelope.type, data: envelope.data, metadata: { ...envelope.metadata, tags: ["a", "b"] } };
    expect(fromEsdbEvent(read)).toEqual({ type: envelope.type, data: envelope.data, metadata: envelope.metadata, tags: ["a", "b"], position: 5n });
    expect(typeAndTags(read)).toEqual({ type: "LoanRenewed", tags: ["a", "b"] });
    expect([toPosition(0n), toRevision(1n), toRevision(toPosition(41n))]).toEqual([1n, 0n, 41n]);
  });

  it("stops on an event that does not decode, naming its position and field", () => {
    const envelope = loanRenewed(1);
    const read = { revision: 9n, type: envelope.type, data: { ...envelope.data, dueAt: "tomorrow" }, metadata: { ...envelope.metadata, tags: [] } };
    expect(() => fromEsdbEvent(read)).toThrow(StoredEventDecodeError);
    expect(() => fromEsdbEvent(read)).toThrow(/position 10 .*type LoanRenewed.*LoanRenewed\.data\.dueAt/);
    // Binary data or metadata, or no tags (not written by this store), do not decode either.
    expect(() => fromEsdbEvent({ ...read, data: new Uint8Array([1, 2]) })).toThrow(StoredEventDecodeError);
    expect(() => fromEsdbEvent({ ...read, data: envelope.data, metadata: new Uint8Array([1]) })).toThrow(StoredEventDecodeError);
    expect(() => fromEsdbEvent({ ...read, data: envelope.data, metadata: envelope.metadata })).toThrow(/tags/);
  });
});

describe("EventStoreDB conditions made exact (a fake client, no server needed)", () => {
  it("appends without a condition expecting any revision", async () => {
    const fake = fakeEsdb();
    const store = eventStoreDbEventStoreOn(fake.client);
    expect(await store.append(sampleEvents(2))).toEqual({ position: 2n });
    expect(fake.calls.appends).toEqual([ANY]);
  });

  it("appends expecting the revision of the last event it checked, or no stream", async () => {
    const fake = fakeEsdb();
    const store = eventStoreDbEventStoreOn(fake.client);
    await store.append(sampleEvents(1, 0, ["t"]), { failIfEventsMatch: byTag("t"), after: null });
    await store.append(sampleEvents(2, 1, ["u"]));
    await store.append(sampleEvents(1, 3, ["t"]), { failIfEventsMatch: byTag("t"), after: 1n });
    expect(fake.calls.appends).toEqual([NO_STREAM, ANY, 2n]);
    expect((await collect(store.read(byTag("t")))).map((e) => e.position)).toEqual([1n, 4n]);
  });

  it("retries at the store level when an unrelated append won the race: re-reads only the new events, never refuses", async () => {
    const fake = fakeEsdb();
    const store = eventStoreDbEventStoreOn(fake.client, { stream: "library" });
    await store.append(sampleEvents(3, 0, ["mine"]));
    const decidedAt = await store.head();
    fake.hooks.beforeAppend = (attempt) => {
      if (attempt === 2) for (const e of toStoredBatch([10, 11].map((n) => loanRenewed(n, "account-1", ["someone-else"])))) fake.plant(e, "library");
    };
    fake.calls.reads.length = 0;
    const { position } = await store.append(sampleEvents(1, 20, ["mine"]), { failIfEventsMatch: byTag("mine"), after: decidedAt });
    expect(fake.calls.appends.slice(1)).toEqual([2n, 4n]);
    // The first check read from position 4 (revision 3); the re-check only the two new events (revisions 3 and 4).
    expect(fake.calls.reads).toEqual([3n, 3n]);
    expect(position).toBe(6n);
    expect(fake.log("library").map((e) => typeAndTags(e).tags)).toEqual([["mine"], ["mine"], ["mine"], ["someone-else"], ["someone-else"], ["mine"]]);
  });

  it("refuses when the events that won the race match the condition, appending nothing", async () => {
    const fake = fakeEsdb();
    const store = eventStoreDbEventStoreOn(fake.client);
    await store.append(sampleEvents(2, 0, ["mine"]));
    fake.hooks.beforeAppend = (attempt) => {
      if (attempt === 2) fake.plant(toStoredBatch([loanRenewed(5, "account-1", ["other", "mine"])])[0]!);
    };
    const error = await store.append(sampleEvents(1, 9, ["new"]), { failIfEventsMatch: byTag("mine"), after: 2n }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendConditionError);
    expect(error).toMatchObject({ conflictingPosition: 3n });
    expect(fake.calls.appends).toHaveLength(2);
    expect(await collect(store.read(byTag("new")))).toEqual([]);
  });

  it("appends when `after` lies beyond the stream's end (nothing after it can match)", async () => {
    const fake = fakeEsdb();
    const store = eventStoreDbEventStoreOn(fake.client);
    expect(await store.append(sampleEvents(1, 0, ["x"]), { failIfEventsMatch: byTag("x"), after: 50n })).toEqual({ position: 1n });
    await store.append(sampleEvents(1, 1, ["x"]), { failIfEventsMatch: byTag("x"), after: 70n });
    expect(await store.head()).toBe(2n);
  });

  it("gives up after its retries when the stream keeps moving, appending nothing", async () => {
    const fake = fakeEsdb();
    const store = eventStoreDbEventStoreOn(fake.client, { maxAppendRetries: 3 });
    fake.hooks.beforeAppend = () => fake.plant(toStoredBatch([loanRenewed(0, "account-1", ["busy"])])[0]!);
    const error = await store.append(sampleEvents(1, 0, ["quiet"]), { failIfEventsMatch: byTag("quiet"), after: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendFailedError);
    expect(error).toMatchObject({ outcome: "not-appended" });
    expect(fake.calls.appends).toHaveLength(4);
    expect(await collect(store.read(byTag("quiet")))).toEqual([]);
  });

  it("says the outcome is unknown when the append itself fails without an answer", async () => {
    const fake = fakeEsdb();
    const store = eventStoreDbEventStoreOn({
      ...fake.client,
      appendToStream: async () => {
        throw new Error("14 UNAVAILABLE: Connection dropped");
      },
    });
    await expect(store.append(sampleEvents(1))).rejects.toMatchObject({ name: "AppendFailedError", outcome: "unknown" });
  });
});

// The whole contract over the fake: the condition logic above, under 20 racing appenders.
{
  let fake = fakeEsdb();
  eventStoreContract(
    "EventStoreDB logic over a fake one-stream client",
    () => {
      fake = fakeEsdb();
      return eventStoreDbEventStoreOn(fake.client);
    },
    { plantStoredEvent: (_store, row) => fake.plant(row) },
  );
}

/**
 * The contract against a real server, when one is named. To run it:
 *   docker run -d -p 2113:2113 eventstore/eventstore:24.10 --insecure
 *   EVENTSTORE_CONNECTION_STRING="esdb://localhost:2113?tls=false" pnpm exec vitest run packages/adapters/src/eventstoredb-store.test.ts
 */
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;
const serverStream = `linked-accounts-contract-${Date.now()}`;
if (connectionString === undefined || connectionString === "")
  console.log("EventStoreDB server contract skipped: EVENTSTORE_CONNECTION_STRING is not set (no server runs here).");

describe.skipIf(connectionString === undefined || connectionString === "")("EventStoreDB server", () => {
  eventStoreContract("EventStoreDB", () => createEventStoreDbEventStore({ connectionString: connectionString!, stream: serverStream, personalData: { keys: createInMemoryKeyStore() } }), {
    plantStoredEvent: async (_store, row) => {
      const client = EventStoreDBClient.connectionString(connectionString!);
      try {
        await client.appendToStream(serverStream, jsonEvent({ type: row.type, data: row.data, metadata: { ...row.metadata, tags: row.tags } }));
      } finally {
        await client.dispose();
      }
    },
  });
});
