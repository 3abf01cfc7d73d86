/**
 * The event store contract: the same vitest specification for every store.
 * A store is an `EventStore` when it passes it; a host can run it against a
 * store of its own:
 *
 *   import { eventStoreContract } from "@linked-accounts/adapters/contract";
 *   eventStoreContract("my store", () => createMyStore(), { plantStoredEvent });
 *
 * It makes one store for the whole suite and never assumes the store starts
 * empty: every test writes to streams of its own, and reads of the global order
 * look only at those streams, so a shared database or server is fine.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventEnvelope } from "@linked-accounts/domain";
import {
  ConcurrencyError,
  type EventStore,
  type ExpectedRevision,
  InvalidEventError,
  type RecordedEvent,
  StoredEventDecodeError,
} from "../event-store.js";
import type { StoredEvent } from "../mapper.js";
import { accountRegistered, sampleEvents, sampleMetadata } from "./sample-events.js";

export { accountRegistered, loanRenewed, sampleEvents, sampleMetadata } from "./sample-events.js";
export type { StoredEvent } from "../mapper.js";

export interface EventStoreContractOptions {
  /**
   * Writes `row` at the end of `stream` behind the store's back, unchecked, as an
   * older version of the code or a hand edit would have left it. Needed for the
   * decode-failure tests, which are reported as skipped without it.
   */
  readonly plantStoredEvent?: (store: EventStore, stream: string, row: StoredEvent) => Promise<void> | void;
  /** Events in the large-stream test; default 10,000. */
  readonly largeStreamEvents?: number;
  /** Appenders racing on one stream; default 20. */
  readonly concurrentAppenders?: number;
  /** Whether `ConcurrencyError.actual` names the stream's revision; default true. */
  readonly reportsActualRevision?: boolean;
}

const collect = async <A>(events: AsyncIterable<A>): Promise<A[]> => {
  const all: A[] = [];
  for await (const event of events) all.push(event);
  return all;
};

/** Reads on until `events` throws, and returns what it yielded and what it threw. */
const collectUntilError = async <A>(events: AsyncIterable<A>): Promise<{ yielded: A[]; error: unknown }> => {
  const yielded: A[] = [];
  try {
    for await (const event of events) yielded.push(event);
  } catch (error) {
    return { yielded, error };
  }
  return { yielded, error: undefined };
};

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** What a store must give back: the envelope exactly as it was appended. */
const envelopeOf = (e: EventEnvelope | RecordedEvent) => ({ type: e.type, data: e.data, metadata: e.metadata });

const expectStrictlyIncreasing = (values: ReadonlyArray<bigint>): void => {
  for (let i = 1; i < values.length; i++) {
    const [before, after] = [values[i - 1], values[i]];
    if (before === undefined || after === undefined || !(after > before))
      expect.fail(`expected strictly increasing, but ${String(before)} is followed by ${String(after)} at index ${i}`);
  }
};

export const eventStoreContract = (
  name: string,
  makeStore: () => Promise<EventStore> | EventStore,
  options: EventStoreContractOptions = {},
): void => {
  const largeStreamEvents = options.largeStreamEvents ?? 10_000;
  const appenders = options.concurrentAppenders ?? 20;
  const reportsActual = options.reportsActualRevision ?? true;
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  /** A stream no other test (or earlier run against the same database) writes to. */
  const freshStream = (label: string): string => `contract-${label}-${run}-${++counter}`;

  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      await store?.close();
    });

    const readStream = (stream: string, from?: bigint, maxCount?: number) =>
      collect(store.readStream(stream, { ...(from !== undefined && { fromRevision: from }), ...(maxCount !== undefined && { maxCount }) }));
    /** readAll from `from`, keeping only the events of `streams`. */
    const readAllOf = async (streams: ReadonlyArray<string>, from: bigint, batchSize?: number) =>
      (await collect(store.readAll({ fromPosition: from, ...(batchSize !== undefined && { batchSize }) }))).filter((e) =>
        streams.includes(e.stream),
      );

    const expectConflict = async (
      append: Promise<unknown>,
      stream: string,
      expected: ExpectedRevision,
      actual: bigint | "no-stream",
    ): Promise<void> => {
      const error = await rejection(append);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ stream, expected });
      if (reportsActual) expect((error as ConcurrencyError).actual).toBe(actual);
    };

    describe("append and read back", () => {
      it("gives back every event exactly as appended, metadata included, with revisions from 0n", async () => {
        const stream = freshStream("round-trip");
        const events = sampleEvents(3);
        const result = await store.appendToStream(stream, events, { expectedRevision: "no-stream" });
        const read = await readStream(stream);
        expect(read.map(envelopeOf)).toEqual(events.map(envelopeOf));
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(read.every((e) => e.stream === stream)).toBe(true);
        expectStrictlyIncreasing(read.map((e) => e.position));
        expect(read[0]!.position > 0n).toBe(true);
        expect(result).toEqual({ nextExpectedRevision: 2n, position: read[2]!.position });
      });

      it("continues revisions across appends and returns the position of the last event", async () => {
        const stream = freshStream("revisions");
        const first = await store.appendToStream(stream, sampleEvents(2), { expectedRevision: "no-stream" });
        const second = await store.appendToStream(stream, sampleEvents(3, 2), { expectedRevision: first.nextExpectedRevision });
        expect(first.nextExpectedRevision).toBe(1n);
        expect(second.nextExpectedRevision).toBe(4n);
        expect(second.position > first.position).toBe(true);
        const read = await readStream(stream);
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
        expect(read[1]!.position).toBe(first.position);
        expect(read[4]!.position).toBe(second.position);
      });

      it("reads back in readAll the same events, revisions and positions as in readStream", async () => {
        const stream = freshStream("read-all-round-trip");
        const events = sampleEvents(4);
        await store.appendToStream(stream, events);
        const byStream = await readStream(stream);
        const byAll = await readAllOf([stream], byStream[0]!.position);
        expect(byAll).toEqual(byStream);
      });

      it("yields nothing for a stream that does not exist", async () => {
        expect(await readStream(freshStream("missing"))).toEqual([]);
      });
    });

    describe("expected revisions", () => {
      it("no-stream: succeeds on a new stream, fails with ConcurrencyError on an existing one", async () => {
        const stream = freshStream("no-stream");
        await store.appendToStream(stream, sampleEvents(1), { expectedRevision: "no-stream" });
        await expectConflict(store.appendToStream(stream, sampleEvents(1), { expectedRevision: "no-stream" }), stream, "no-stream", 0n);
        expect(await readStream(stream)).toHaveLength(1);
      });

      it("stream-exists: fails with ConcurrencyError on a new stream, succeeds on an existing one", async () => {
        const stream = freshStream("stream-exists");
        await expectConflict(
          store.appendToStream(stream, sampleEvents(1), { expectedRevision: "stream-exists" }),
          stream,
          "stream-exists",
          "no-stream",
        );
        expect(await readStream(stream)).toEqual([]);
        await store.appendToStream(stream, sampleEvents(1), { expectedRevision: "no-stream" });
        const result = await store.appendToStream(stream, sampleEvents(1, 1), { expectedRevision: "stream-exists" });
        expect(result.nextExpectedRevision).toBe(1n);
      });

      it("any (and no expectation at all): succeeds on a new and on an existing stream", async () => {
        const stream = freshStream("any");
        expect((await store.appendToStream(stream, sampleEvents(1), { expectedRevision: "any" })).nextExpectedRevision).toBe(0n);
        expect((await store.appendToStream(stream, sampleEvents(1, 1), { expectedRevision: "any" })).nextExpectedRevision).toBe(1n);
        expect((await store.appendToStream(stream, sampleEvents(1, 2))).nextExpectedRevision).toBe(2n);
        expect(await readStream(stream)).toHaveLength(3);
      });

      it("an exact revision: succeeds when it is the stream's last, fails when behind, ahead, or the stream is new", async () => {
        const stream = freshStream("exact");
        await expectConflict(store.appendToStream(stream, sampleEvents(1), { expectedRevision: 0n }), stream, 0n, "no-stream");
        await store.appendToStream(stream, sampleEvents(3), { expectedRevision: "no-stream" });
        await expectConflict(store.appendToStream(stream, sampleEvents(1), { expectedRevision: 1n }), stream, 1n, 2n);
        await expectConflict(store.appendToStream(stream, sampleEvents(1), { expectedRevision: 3n }), stream, 3n, 2n);
        const result = await store.appendToStream(stream, sampleEvents(1, 3), { expectedRevision: 2n });
        expect(result.nextExpectedRevision).toBe(3n);
        expect((await readStream(stream)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      });
    });

    describe("a batch is all or nothing", () => {
      it("appends nothing and throws InvalidEventError naming the event and field when one event is invalid", async () => {
        const stream = freshStream("invalid");
        const [first, , third] = sampleEvents(3);
        const invalid = accountRegistered(7);
        const bad = { ...invalid, data: { ...invalid.data, barcode: "no!" } } as EventEnvelope;
        const error = await rejection(store.appendToStream(stream, [first!, bad, third!]));
        expect(error).toBeInstanceOf(InvalidEventError);
        expect(error).toMatchObject({ stream, index: 1 });
        expect((error as InvalidEventError).reason).toContain("AccountRegistered.data.barcode");
        expect(await readStream(stream)).toEqual([]);
      });

      it("appends nothing when an event's metadata is invalid or its type is unknown", async () => {
        const stream = freshStream("invalid-metadata");
        const good = accountRegistered(1);
        const badMetadata = { ...good, metadata: { ...good.metadata, eventId: "not-a-uuid" } } as EventEnvelope;
        const unknownType = { ...good, type: "AccountMerged" } as unknown as EventEnvelope;
        const metadataError = await rejection(store.appendToStream(stream, [good, badMetadata]));
        expect(metadataError).toBeInstanceOf(InvalidEventError);
        expect((metadataError as InvalidEventError).reason).toContain("metadata.eventId");
        const typeError = await rejection(store.appendToStream(stream, [unknownType]));
        expect(typeError).toBeInstanceOf(InvalidEventError);
        expect(await readStream(stream)).toEqual([]);
      });

      it("appends nothing when the batch conflicts", async () => {
        const stream = freshStream("conflicting-batch");
        const kept = sampleEvents(2);
        await store.appendToStream(stream, kept, { expectedRevision: "no-stream" });
        await expectConflict(store.appendToStream(stream, sampleEvents(5, 2), { expectedRevision: 0n }), stream, 0n, 1n);
        expect((await readStream(stream)).map(envelopeOf)).toEqual(kept.map(envelopeOf));
      });

      it("refuses an empty batch", async () => {
        const stream = freshStream("empty");
        await expect(store.appendToStream(stream, [])).rejects.toThrow();
        expect(await readStream(stream)).toEqual([]);
      });
    });

    describe("the global order", () => {
      it("orders events across streams as they were appended, positions strictly increasing", async () => {
        const streams = [freshStream("order-a"), freshStream("order-b"), freshStream("order-c")];
        const appended: EventEnvelope[] = [];
        let first: bigint | undefined;
        for (let round = 0; round < 4; round++) {
          for (const [i, stream] of streams.entries()) {
            const events = sampleEvents(1 + ((round + i) % 3), round * 10 + i * 3);
            const result = await store.appendToStream(stream, events);
            first ??= result.position - BigInt(events.length - 1);
            appended.push(...events);
          }
        }
        const read = await readAllOf(streams, first!);
        expect(read.map(envelopeOf)).toEqual(appended.map(envelopeOf));
        expectStrictlyIncreasing(read.map((e) => e.position));
      });

      it("reads from any position, inclusive, in pages of any size", async () => {
        const streams = [freshStream("from-a"), freshStream("from-b")];
        await store.appendToStream(streams[0]!, sampleEvents(3));
        await store.appendToStream(streams[1]!, sampleEvents(2, 3));
        await store.appendToStream(streams[0]!, sampleEvents(2, 5));
        const everything = await readAllOf(streams, (await readStream(streams[0]!))[0]!.position);
        expect(everything).toHaveLength(7);
        for (const [i, event] of everything.entries()) {
          const fromHere = await readAllOf(streams, event.position);
          expect(fromHere).toEqual(everything.slice(i));
        }
        for (const batchSize of [1, 2, 3, 1000]) expect(await readAllOf(streams, everything[0]!.position, batchSize)).toEqual(everything);
        expect(await readAllOf(streams, everything[6]!.position + 1n)).toEqual([]);
      });
    });

    describe("readStream's window", () => {
      it("starts at fromRevision, inclusive, and stops after maxCount events", async () => {
        const stream = freshStream("window");
        await store.appendToStream(stream, sampleEvents(10));
        const revisions = async (from?: bigint, maxCount?: number) => (await readStream(stream, from, maxCount)).map((e) => e.revision);
        expect(await revisions(3n, 4)).toEqual([3n, 4n, 5n, 6n]);
        expect(await revisions(8n, 10)).toEqual([8n, 9n]);
        expect(await revisions(undefined, 2)).toEqual([0n, 1n]);
        expect(await revisions(9n)).toEqual([9n]);
        expect(await revisions(10n)).toEqual([]);
      });
    });

    describe.skipIf(options.plantStoredEvent === undefined)("a stored event that no longer decodes", () => {
      const plant = async (stream: string, row: StoredEvent) => {
        await options.plantStoredEvent!(store, stream, row);
      };

      it("stops readStream and readAll with StoredEventDecodeError naming position, stream, type and field", async () => {
        const stream = freshStream("undecodable");
        const before = await store.appendToStream(stream, sampleEvents(1));
        const good = accountRegistered(2);
        // As a hand edit or an older writer might have left it: a barcode the catalog refuses.
        await plant(stream, { type: "AccountRegistered", data: { ...good.data, barcode: "??" }, metadata: { ...good.metadata } });
        const after = await store.appendToStream(stream, sampleEvents(1, 3));

        for (const read of [store.readStream(stream), store.readAll({ fromPosition: before.position })]) {
          const { yielded, error } = await collectUntilError(read);
          expect(yielded.filter((e) => e.stream === stream).map((e) => e.revision)).toEqual([0n]);
          expect(error).toBeInstanceOf(StoredEventDecodeError);
          const decodeError = error as StoredEventDecodeError;
          expect(decodeError).toMatchObject({ stream, type: "AccountRegistered" });
          expect(decodeError.position > before.position && decodeError.position < after.position).toBe(true);
          expect(decodeError.reason).toContain("AccountRegistered.data.barcode");
          expect(decodeError.message).toContain(String(decodeError.position));
        }
        // Reading past it, from the next position, works again: nothing else is affected.
        const rest = await readAllOf([stream], after.position);
        expect(rest.map((e) => e.revision)).toEqual([2n]);
      });

      it("stops the read on a type the catalog does not know, rather than skipping it", async () => {
        const stream = freshStream("unknown-type");
        await plant(stream, { type: "AccountMerged", data: { accountId: "a-1" }, metadata: { ...sampleMetadata() } });
        const { yielded, error } = await collectUntilError(store.readStream(stream));
        expect(yielded).toEqual([]);
        expect(error).toBeInstanceOf(StoredEventDecodeError);
        expect(error).toMatchObject({ stream, type: "AccountMerged" });
      });
    });

    describe("scale and concurrency", () => {
      it(`keeps a stream of ${largeStreamEvents} events complete and in order`, async () => {
        const stream = freshStream("large");
        const events = sampleEvents(largeStreamEvents);
        let expectedRevision: ExpectedRevision = "no-stream";
        for (let i = 0; i < events.length; i += 500) {
          const result = await store.appendToStream(stream, events.slice(i, i + 500), { expectedRevision });
          expectedRevision = result.nextExpectedRevision;
        }
        expect(expectedRevision).toBe(BigInt(largeStreamEvents - 1));
        const read = await readStream(stream);
        expect(read).toHaveLength(largeStreamEvents);
        read.forEach((e, i) => {
          if (e.revision !== BigInt(i) || e.metadata.eventId !== events[i]!.metadata.eventId)
            expect.fail(`event ${i} read back as revision ${e.revision}, eventId ${e.metadata.eventId}`);
        });
        expectStrictlyIncreasing(read.map((e) => e.position));
        const all = await readAllOf([stream], read[0]!.position);
        expect(all.map((e) => e.metadata.eventId)).toEqual(events.map((e) => e.metadata.eventId));
      });

      it(`lets exactly one of ${appenders} appenders expecting the same revision win`, async () => {
        const stream = freshStream("race");
        await store.appendToStream(stream, sampleEvents(1), { expectedRevision: "no-stream" });
        const outcomes = await Promise.allSettled(
          Array.from({ length: appenders }, (_, i) => store.appendToStream(stream, sampleEvents(2, 10 + 2 * i), { expectedRevision: 0n })),
        );
        const won = outcomes.filter((o) => o.status === "fulfilled");
        const lost = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(appenders - 1);
        for (const error of lost) {
          expect(error).toBeInstanceOf(ConcurrencyError);
          expect(error).toMatchObject({ stream, expected: 0n });
        }
        expect((await readStream(stream)).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      });

      it(`keeps every revision won exactly once when ${appenders} appenders retry on conflict`, async () => {
        const stream = freshStream("retry-race");
        const perAppender = 3;
        const written: string[] = [];
        const wonRevisions: bigint[] = [];
        const appender = async (a: number) => {
          for (let k = 0; k < perAppender; k++) {
            const event = accountRegistered(a * 100 + k);
            for (;;) {
              const last = (await readStream(stream)).at(-1)?.revision;
              try {
                const result = await store.appendToStream(stream, [event], { expectedRevision: last ?? "no-stream" });
                wonRevisions.push(result.nextExpectedRevision);
                written.push(event.metadata.eventId);
                break;
              } catch (error) {
                if (!(error instanceof ConcurrencyError)) throw error;
              }
            }
          }
        };
        await Promise.all(Array.from({ length: appenders }, (_, a) => appender(a)));
        const read = await readStream(stream);
        const total = appenders * perAppender;
        expect(read.map((e) => e.revision)).toEqual(Array.from({ length: total }, (_, i) => BigInt(i)));
        expect(new Set(read.map((e) => e.metadata.eventId)).size).toBe(total);
        expect([...read.map((e) => e.metadata.eventId)].sort()).toEqual([...written].sort());
        expect([...wonRevisions].sort((x, y) => (x < y ? -1 : 1))).toEqual(read.map((e) => e.revision));
      });
    });
  });
};
