/**
 * The event store port: the only thing the rest of the library knows about
 * storage. Every store (in-memory, SQLite, PostgreSQL, EventStoreDB) implements
 * it and passes the contract suite in `./contract`.
 *
 * It speaks consistency per decision (the Dynamic Consistency Boundary model):
 * every event carries tags (the accounts, barcode, link, phrase, loan or hold it
 * concerns); a read selects events by type and tag; an append may carry a
 * condition, "fail if any event matching this query was stored after position
 * P", checked atomically with the append. A command's boundary is exactly the
 * query it decided on, so two commands conflict only when one changed what the
 * other read (R13, R16).
 */
import type { EventEnvelope, EventType, Query, StoredEnvelope, Tag } from "@linked-accounts/domain/internal";

/**
 * An event to append: an envelope of the catalog and the tags it is found by.
 * `E` is what a store speaks: events in the clear (`EventEnvelope`, what hosts,
 * read models and commands see), or, for the log underneath, events as kept,
 * personal fields sealed (`StoredEnvelope`, see personal-data.ts).
 */
export type NewEvent<E extends StoredEnvelope = EventEnvelope> = E & { readonly tags: ReadonlyArray<Tag> };

/** An event as read back: the envelope, its tags, and its place in the store's one global order. */
export type RecordedEvent<E extends StoredEnvelope = EventEnvelope> = E & {
  readonly tags: ReadonlyArray<Tag>;
  /** Positive, strictly increasing in the order events were stored, not necessarily contiguous. */
  readonly position: bigint;
};

/**
 * Append only if no event matching `failIfEventsMatch` was stored after
 * position `after`; with `after` null, only if no matching event exists at all.
 */
export interface AppendCondition {
  readonly failIfEventsMatch: Query;
  readonly after: bigint | null;
}

export interface AppendResult {
  /** The position of the last event appended: the freshness token readers wait for. */
  readonly position: bigint;
}

export interface ReadOptions {
  /** First position to read, inclusive (default: the beginning). */
  readonly from?: bigint;
  /** Read at most this many events. */
  readonly limit?: number;
}

export interface ReadAllOptions {
  /** First position to read, inclusive (default: the beginning). */
  readonly from?: bigint;
  /** How many events a store fetches per round trip; a hint. */
  readonly batchSize?: number;
}

export interface EventStore<E extends StoredEnvelope = EventEnvelope> {
  /**
   * Appends `events` (at least one), all or none, atomically with checking
   * `condition`. Throws `AppendConditionError` when the condition fails,
   * `InvalidEventError` when an event is not a valid event of the catalog, and
   * `AppendFailedError` when the database failed; in each case saying whether
   * anything may have been stored.
   */
  append(events: ReadonlyArray<NewEvent<E>>, condition?: AppendCondition): Promise<AppendResult>;
  /** The events matching `query`, in position order, each once. */
  read(query: Query, options?: ReadOptions): AsyncIterable<RecordedEvent<E>>;
  /** Every event in position order, each exactly once: what read models and exports read. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent<E>>;
  /** The position of the last stored event, or 0n for an empty store. */
  head(): Promise<bigint>;
  /** Releases connections and handles. */
  close(): Promise<void>;
}

/** The one error every store throws when an append's condition does not hold; nothing was appended. */
export class AppendConditionError extends Error {
  override readonly name = "AppendConditionError";
  constructor(
    readonly condition: AppendCondition,
    /** The position of a matching event stored after `condition.after`, where the store says. */
    readonly conflictingPosition?: bigint,
  ) {
    super(
      `Append refused: an event matching its condition was stored after position ${condition.after ?? "(none)"}` +
        (conflictingPosition === undefined ? "." : ` (at position ${conflictingPosition}).`),
    );
  }
}

/** A stored event that no longer decodes: the read stops here rather than skip it. */
export class StoredEventDecodeError extends Error {
  override readonly name = "StoredEventDecodeError";
  constructor(
    readonly position: bigint,
    readonly type: string,
    readonly reason: string,
  ) {
    super(`Stored event at position ${position} (type ${type}) does not decode: ${reason}`);
  }
}

/** An event handed to `append` that is not a valid event of the catalog; nothing was appended. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(`Event ${index} of the batch is not valid, nothing was appended: ${reason}`);
  }
}

/**
 * A failed append whose cause is the database, not the events: a dropped
 * connection, a terminated backend, a timeout. `outcome` says what is known:
 * - `"not-appended"`: the database reported the error, so nothing was stored;
 * - `"unknown"`: the connection was lost before an answer came, so the batch was
 *   stored whole or not at all; retrying the same command id is safe (R15).
 */
export class AppendFailedError extends Error {
  override readonly name = "AppendFailedError";
  constructor(
    readonly outcome: "not-appended" | "unknown",
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      outcome === "not-appended"
        ? `Append failed and was rolled back, nothing was appended: ${reason}`
        : `Append lost its connection before the database answered (${reason}); the batch was stored whole or not at all.`,
      { cause },
    );
  }
}

/** The log underneath a store: events as kept, personal fields sealed. */
export type EventLog = EventStore<StoredEnvelope>;

export type { EventEnvelope, EventType, Query, StoredEnvelope, Tag };
