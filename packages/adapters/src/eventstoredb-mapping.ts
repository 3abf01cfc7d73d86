/**
 * How the port's ideas map onto EventStoreDB's, as pure functions so they are
 * tested without a server.
 *
 * Positions. EventStoreDB places each event at a byte offset of its transaction
 * log (the commit position; for an ordinary append it equals the event's own
 * prepare position, so it is distinct per event and grows in `$all` order). A
 * read of `$all` must start exactly at a record: an offset inside one is an
 * error, or worse, silently reads nothing. But readers of the port ask for
 * "position P, inclusive" and tail with "last position + 1". So the port's
 * position is `2 × commit + 1`: odd for an event's own position, and its
 * successor (even) names the same record, exclusive. Both map back to a record
 * offset. Positions stay positive and strictly increasing, as the port asks.
 */
import {
  ANY as ESDB_ANY,
  NO_STREAM as ESDB_NO_STREAM,
  STREAM_EXISTS as ESDB_STREAM_EXISTS,
  START,
  jsonEvent,
  type AppendExpectedRevision,
  type CurrentRevision,
  type EventData,
  type ReadPosition,
} from "@eventstore/db-client";
import { ConcurrencyError, type ExpectedRevision, type RecordedEvent } from "./event-store.js";
import { type StoredEvent, fromStored } from "./mapper.js";

export const toEsdbExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case "no-stream":
      return ESDB_NO_STREAM;
    case "stream-exists":
      return ESDB_STREAM_EXISTS;
    case "any":
      return ESDB_ANY;
    default:
      return expected;
  }
};

export const fromEsdbCurrentRevision = (current: CurrentRevision | undefined): bigint | "no-stream" | undefined =>
  current === undefined ? undefined : current === ESDB_NO_STREAM ? "no-stream" : current;

/** `WrongExpectedVersionError` → the port's one conflict error. */
export const toConcurrencyError = (
  stream: string,
  expected: ExpectedRevision,
  error: { readonly actualVersion?: CurrentRevision },
): ConcurrencyError => new ConcurrencyError(stream, expected, fromEsdbCurrentRevision(error.actualVersion));

/**
 * One stored event as EventStoreDB event data: JSON data, the domain metadata as
 * the event's metadata, and the domain's `eventId` as the event's id, so the
 * server's own idempotence recognises a retried append.
 */
export const toEventData = (stored: StoredEvent): EventData =>
  jsonEvent({
    id: String(stored.metadata.eventId),
    type: stored.type,
    data: stored.data,
    metadata: stored.metadata,
  });

/** The port's position of the record at commit position `commit`. */
export const toPortPosition = (commit: bigint): bigint => 2n * commit + 1n;

/** Where to start reading `$all` for `fromPosition` (inclusive), and the first port position to keep. */
export const toReadFrom = (fromPosition: bigint | undefined): { readonly from: ReadPosition; readonly keepFrom: bigint } => {
  if (fromPosition === undefined || fromPosition <= 1n) return { from: START, keepFrom: 1n };
  // Odd: an event's own position. Even: one past an event, so start at that event and skip it.
  const commit = (fromPosition - 1n) / 2n;
  return { from: { commit, prepare: commit }, keepFrom: fromPosition };
};

/** Streams and event types starting with `$` are the server's own. */
export const isSystemEvent = (event: { readonly streamId: string; readonly type: string }): boolean =>
  event.streamId.startsWith("$") || event.type.startsWith("$");

/** What old servers report for an event read from a stream: no position known. */
const UNKNOWN_POSITION = 2n ** 64n - 1n;

/** An event as the client reads it, decoded through the Mapper, or `StoredEventDecodeError`. */
export const fromEsdbEvent = (event: {
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
  readonly position?: { readonly commit: bigint } | undefined;
}): RecordedEvent => {
  const commit = event.position?.commit;
  if (commit === undefined || commit === UNKNOWN_POSITION)
    throw new Error(
      `EventStoreDB gave no log position for ${event.streamId}@${event.revision}: a server of version 22.6 or later is needed`,
    );
  return fromStored(
    { type: event.type, data: event.data, metadata: event.metadata },
    { stream: event.streamId, revision: event.revision, position: toPortPosition(commit) },
  );
};
