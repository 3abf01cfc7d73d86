/**
 * The in-memory twin of the event store: for tests, examples and hosts that
 * keep nothing. It stores what the real stores store (encoded JSON, through the
 * Mapper) and decodes on the way out, so it fails exactly where they would.
 */
import {
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
} from "./event-store.js";
import { expectationHolds } from "./expected-revision.js";
import { type StoredEvent, fromStored, toStoredBatch } from "./mapper.js";

interface Row {
  readonly stream: string;
  readonly revision: bigint;
  /** Its index in `log` plus one. */
  readonly position: bigint;
  readonly stored: StoredEvent;
}

interface Log {
  readonly rows: Row[];
  /** Each stream's rows, in revision order. */
  readonly streams: Map<string, Row[]>;
}

/** Reached only through `plantStoredEvent`, so tests can store what `appendToStream` would refuse. */
const logs = new WeakMap<EventStore, Log>();

const appendRows = (log: Log, stream: string, batch: ReadonlyArray<StoredEvent>): AppendResult => {
  const streamRows = log.streams.get(stream) ?? [];
  let revision = BigInt(streamRows.length);
  for (const stored of batch) {
    const row: Row = { stream, revision, position: BigInt(log.rows.length + 1), stored };
    log.rows.push(row);
    streamRows.push(row);
    revision += 1n;
  }
  log.streams.set(stream, streamRows);
  return { nextExpectedRevision: revision - 1n, position: BigInt(log.rows.length) };
};

const decode = (row: Row): RecordedEvent => fromStored(row.stored, row);

export const createInMemoryEventStore = (): EventStore => {
  const log: Log = { rows: [], streams: new Map() };

  const store: EventStore = {
    // Everything between the checks and the pushes is synchronous, so a batch
    // is all-or-nothing and concurrent appenders are serialised by the event loop.
    async appendToStream(stream, events, options) {
      const batch = toStoredBatch(stream, events);
      const expected = options?.expectedRevision ?? "any";
      const length = log.streams.get(stream)?.length ?? 0;
      const current = length === 0 ? undefined : BigInt(length - 1);
      if (!expectationHolds(expected, current)) throw new ConcurrencyError(stream, expected, current ?? "no-stream");
      return appendRows(log, stream, batch);
    },

    async *readStream(stream: string, options?: ReadStreamOptions) {
      const rows = log.streams.get(stream) ?? [];
      const from = Number(options?.fromRevision ?? 0n);
      const end = options?.maxCount === undefined ? rows.length : Math.min(rows.length, from + options.maxCount);
      for (let i = from; i < end; i++) {
        const row = rows[i];
        if (row !== undefined) yield decode(row);
      }
    },

    async *readAll(options?: ReadAllOptions) {
      // Positions are index + 1; reading on while others append sees their events too.
      const from = options?.fromPosition ?? 1n;
      for (let i = from < 1n ? 0 : Number(from - 1n); i < log.rows.length; i++) {
        const row = log.rows[i];
        if (row !== undefined) yield decode(row);
      }
    },

    async close() {},
  };
  logs.set(store, log);
  return store;
};

/**
 * Test-only: stores `stored` at the end of `stream` without checking it, as a
 * row written by an older version or edited by hand would be. Lets the contract
 * suite check that such a row stops a read with `StoredEventDecodeError`.
 */
export const plantStoredEvent = (store: EventStore, stream: string, stored: StoredEvent): void => {
  const log = logs.get(store);
  if (log === undefined) throw new TypeError("plantStoredEvent: not an in-memory event store");
  appendRows(log, stream, [stored]);
};
