/**
 * The event store port: the only thing the rest of the library knows about
 * storage. Every store (in-memory, SQLite, PostgreSQL, EventStoreDB) implements
 * it and passes the contract suite in `./contract`.
 */
import type { EventEnvelope, EventType } from "@linked-accounts/domain";

/**
 * What the writer believes about the stream. Revisions count from 0n (the first
 * event of a stream has revision 0n), as in EventStoreDB.
 * - a bigint: the revision of the stream's last event;
 * - `"no-stream"`: the stream must not exist yet;
 * - `"stream-exists"`: the stream must have at least one event;
 * - `"any"`: no check.
 */
export type ExpectedRevision = bigint | "no-stream" | "stream-exists" | "any";

export const NO_STREAM = "no-stream" as const;
export const STREAM_EXISTS = "stream-exists" as const;
export const ANY = "any" as const;

/** An event as read back: the envelope, where it is, and in which order it was stored. */
export type RecordedEvent = EventEnvelope & {
  readonly stream: string;
  /** Its place in its stream, from 0n. */
  readonly revision: bigint;
  /** Its place in the store's global order: positive, strictly increasing, not necessarily contiguous. */
  readonly position: bigint;
};

export interface AppendResult {
  /** The revision of the stream's last event now: what to expect on the next append. */
  readonly nextExpectedRevision: bigint;
  /** The global position of the last event appended: the freshness token readers wait for. */
  readonly position: bigint;
}

export interface ReadStreamOptions {
  /** First revision to read, inclusive (default 0n). */
  readonly fromRevision?: bigint;
  /** Read at most this many events. */
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** First global position to read, inclusive (default: the beginning). */
  readonly fromPosition?: bigint;
  /** How many events a store fetches per round trip; a hint. */
  readonly batchSize?: number;
}

export interface EventStore {
  /**
   * Appends `events` (at least one) to `stream`, all or none. Throws
   * `ConcurrencyError` when `expectedRevision` does not hold (default `"any"`),
   * and `InvalidEventError`, appending nothing, when an event does not encode
   * to a valid event of the catalog.
   */
  appendToStream(
    stream: string,
    events: ReadonlyArray<EventEnvelope>,
    options?: { readonly expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /** The stream's events in revision order; nothing for a stream that does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /** Every event of every stream in global order, each exactly once. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /** Releases connections and handles. */
  close(): Promise<void>;
}

/** The one error every store throws when an expected revision does not hold. */
export class ConcurrencyError extends Error {
  override readonly name = "ConcurrencyError";
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's last revision, or `"no-stream"`; undefined where the store does not say. */
    readonly actual: bigint | "no-stream" | undefined,
  ) {
    super(`Stream ${stream}: expected revision ${String(expected)}, but it is at ${String(actual ?? "an unknown revision")}.`);
  }
}

/** A stored event that no longer decodes: the read stops here rather than skip it. */
export class StoredEventDecodeError extends Error {
  override readonly name = "StoredEventDecodeError";
  constructor(
    readonly position: bigint,
    readonly stream: string,
    readonly type: string,
    readonly reason: string,
  ) {
    super(`Stored event at position ${position} (stream ${stream}, type ${type}) does not decode: ${reason}`);
  }
}

/** An event handed to `appendToStream` that is not a valid event of the catalog. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  constructor(
    readonly stream: string,
    readonly index: number,
    readonly reason: string,
  ) {
    super(`Event ${index} for stream ${stream} is not valid, nothing was appended: ${reason}`);
  }
}

export type { EventEnvelope, EventType };
