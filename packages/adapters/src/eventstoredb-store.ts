/**
 * The EventStoreDB store (`@eventstore/db-client`): the port over a server built
 * for events. The store is ONE stream (see `eventstoredb-mapping.ts`): its
 * revisions give the global order, and its expected revision is the only
 * concurrency check the server offers.
 *
 * Reads by query read the stream and filter client-side: EventStoreDB 6.2.1's
 * client has no server-side filter on metadata. A read therefore costs the
 * whole stream from its `from` on; keep decisions' `after` recent.
 *
 * An append's condition ("nothing matching Q after P") made exact with what the
 * server offers, optimistic concurrency on one stream:
 *   1. read the events after P and check them against Q (any match: refused);
 *      call the last one read L: nothing in (P, L] matches;
 *   2. append expecting the stream's last revision to be L's, so the server
 *      stores the batch only if nothing was stored after L;
 *   3. on WrongExpectedVersion, someone stored events after L: read only those
 *      (L, L'] and check them against Q. A match: refused, as if the check had
 *      come after them. None: L := L' and go to 2.
 * So an unrelated append racing this one costs a cheap store-level retry (read
 * the few new events, append again), never a new decision; the condition holds
 * exactly because the server refuses any append whose expected revision is not
 * the stream's last, and every event in (P, end] was checked before the append
 * that succeeded.
 */
import {
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  type EventData,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from "@eventstore/db-client";
import { type Query, matchesQuery } from "@linked-accounts/domain/internal";
import {
  type AppendCondition,
  AppendConditionError,
  AppendFailedError,
  type AppendResult,
  type EventLog,
  type ReadAllOptions,
  type ReadOptions,
  type RecordedEvent,
  type StoredEnvelope,
} from "./event-store.js";
import { type EsdbReadEvent, fromEsdbEvent, toEventData, toPosition, toRevision, typeAndTags } from "./eventstoredb-mapping.js";
import { createInMemoryKeyStore } from "./in-memory-key-store.js";
import type { KeyStore } from "./key-store.js";
import { toStoredBatch } from "./mapper.js";
import { type PersonalDataOptions, type SealingEventStore, sealingStore } from "./personal-data.js";

export interface EventStoreDbEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false` */
  readonly connectionString: string;
  /** The one stream holding every event; default `"linked-accounts"`. */
  readonly stream?: string;
  /** Store-level retries of one append after unrelated appends won the race; default 100. */
  readonly maxAppendRetries?: number;
  /**
   * Where personal data's keys are kept: EventStoreDB has no table beside the
   * stream for them, so the host names a key store (the PostgreSQL or SQLite
   * one, or its own KMS behind the port). Required.
   */
  readonly personalData: PersonalDataOptions & { readonly keys: KeyStore };
}

export const DEFAULT_ESDB_STREAM = "linked-accounts";

/**
 * The little of the client this store uses: what the unit tests fake. A read of
 * a missing stream may throw `StreamNotFoundError` or yield nothing; an append
 * whose expected revision does not hold throws `WrongExpectedVersionError`.
 */
export interface EsdbStreamClient {
  appendToStream(
    stream: string,
    events: ReadonlyArray<EventData>,
    options: { readonly expectedRevision: AppendExpectedRevision },
  ): Promise<{ readonly nextExpectedRevision: bigint }>;
  readStream(
    stream: string,
    options: { readonly direction: typeof FORWARDS | typeof BACKWARDS; readonly fromRevision: bigint | typeof START | typeof END; readonly maxCount?: number },
  ): AsyncIterable<EsdbReadEvent>;
  dispose(): Promise<void>;
}

/** The real client behind the interface. */
export const esdbStreamClient = (client: EventStoreDBClient): EsdbStreamClient => ({
  async appendToStream(stream, events, options) {
    const result = await client.appendToStream(stream, [...events], { expectedRevision: options.expectedRevision });
    return { nextExpectedRevision: result.nextExpectedRevision };
  },
  async *readStream(stream, options) {
    const read = client.readStream(stream, {
      direction: options.direction,
      fromRevision: options.fromRevision,
      ...(options.maxCount !== undefined && { maxCount: options.maxCount }),
    });
    try {
      for await (const resolved of read) if (resolved.event !== undefined) yield resolved.event as EsdbReadEvent;
    } finally {
      await read.cancel().catch(() => undefined);
    }
  },
  dispose: () => client.dispose(),
});

export const createEventStoreDbEventStore = (options: EventStoreDbEventStoreOptions): SealingEventStore =>
  eventStoreDbEventStoreOn(esdbStreamClient(EventStoreDBClient.connectionString(options.connectionString)), options);

/**
 * The store over any `EsdbStreamClient` (the unit tests give it a fake one);
 * without `personalData.keys`, keys are kept in memory (tests only: they die
 * with the process, and with them every sealed field).
 */
export const eventStoreDbEventStoreOn = (
  client: EsdbStreamClient,
  options: { readonly stream?: string; readonly maxAppendRetries?: number; readonly personalData?: PersonalDataOptions } = {},
): SealingEventStore =>
  sealingStore(eventStoreDbLogOn(client, options), options.personalData?.keys ?? createInMemoryKeyStore(), {
    ...options.personalData,
    ownsKeys: options.personalData?.keys === undefined,
  });

/** The log underneath: events as kept, personal fields sealed, in one stream. */
export const eventStoreDbLogOn = (
  client: EsdbStreamClient,
  options: { readonly stream?: string; readonly maxAppendRetries?: number } = {},
): EventLog => {
  const stream = options.stream ?? DEFAULT_ESDB_STREAM;
  const maxRetries = options.maxAppendRetries ?? 100;

  /** The stream's events from `position` on (inclusive); a missing stream has none. */
  async function* eventsFrom(position: bigint, maxCount?: number): AsyncGenerator<EsdbReadEvent> {
    if (maxCount === 0) return;
    const from = position <= 1n ? START : toRevision(position);
    try {
      yield* client.readStream(stream, { direction: FORWARDS, fromRevision: from, ...(maxCount !== undefined && { maxCount }) });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return;
      throw error;
    }
  }

  const head = async (): Promise<bigint> => {
    try {
      for await (const event of client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) return toPosition(event.revision);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return 0n;
  };

  /**
   * Checks the events after `checkedTo` against the condition: throws
   * `AppendConditionError` at the first match, else returns the last position read
   * (or `checkedTo` when there was none).
   */
  const checkAfter = async (condition: AppendCondition, checkedTo: bigint): Promise<bigint> => {
    let last = checkedTo;
    for await (const event of eventsFrom(checkedTo + 1n)) {
      const position = toPosition(event.revision);
      if (matchesQuery(condition.failIfEventsMatch, typeAndTags(event))) throw new AppendConditionError(condition, position);
      last = position;
    }
    return last;
  };

  const expecting = (last: bigint): AppendExpectedRevision => (last === 0n ? NO_STREAM : toRevision(last));

  return {
    async append(events, condition): Promise<AppendResult> {
      const data = toStoredBatch(events).map(toEventData);
      const appendExpecting = async (expectedRevision: AppendExpectedRevision): Promise<AppendResult> => {
        try {
          const result = await client.appendToStream(stream, data, { expectedRevision });
          return { position: toPosition(result.nextExpectedRevision) };
        } catch (error) {
          if (error instanceof WrongExpectedVersionError) throw error;
          // No answer from the server, or an error after sending: it may have stored the batch.
          throw new AppendFailedError("unknown", error);
        }
      };
      if (condition === undefined) return appendExpecting(ANY);

      const checkOrFail = async (from: bigint): Promise<bigint> => {
        try {
          return await checkAfter(condition, from);
        } catch (error) {
          if (error instanceof AppendConditionError) throw error;
          throw new AppendFailedError("not-appended", error);
        }
      };
      let checkedTo = await checkOrFail(condition.after ?? 0n);
      for (let retry = 0; ; retry++) {
        try {
          return await appendExpecting(expecting(checkedTo));
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          if (retry >= maxRetries)
            throw new AppendFailedError("not-appended", new Error(`the stream ${stream} kept moving: ${maxRetries} store-level retries lost the race`));
          const actual = error.actualVersion;
          // Only the events stored since the last check need checking.
          const before = checkedTo;
          checkedTo = await checkOrFail(checkedTo);
          // `after` beyond the stream's end (nothing read): expect its real end.
          if (checkedTo === before && typeof actual === "bigint" && toPosition(actual) < checkedTo) checkedTo = toPosition(actual);
          if (checkedTo === before && actual === NO_STREAM) checkedTo = 0n;
        }
      }
    },

    async *read(query: Query, readOptions?: ReadOptions) {
      if (query.items.length === 0) return;
      let left = readOptions?.limit ?? Number.POSITIVE_INFINITY;
      if (left <= 0) return;
      // Client-side: the server cannot filter on the tags in the metadata.
      for await (const event of eventsFrom(readOptions?.from ?? 1n)) {
        if (!matchesQuery(query, typeAndTags(event))) continue;
        yield fromEsdbEvent(event);
        if (--left <= 0) return;
      }
    },

    async *readAll(readOptions?: ReadAllOptions) {
      for await (const event of eventsFrom(readOptions?.from ?? 1n)) yield fromEsdbEvent(event);
    },

    head,

    async close() {
      await client.dispose();
    },
  };
};
