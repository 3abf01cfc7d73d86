/**
 * How the port maps onto EventStoreDB, as pure functions so they are tested
 * without a server.
 *
 * The whole store is ONE stream (its name an option). An event's position is
 * its revision in that stream plus one, so positions start at 1 and have no
 * gaps. Its tags travel in the event's metadata, next to the domain metadata:
 * `{ ...metadata, tags }`; reading splits them apart again. The domain's
 * `eventId` is the event's id, so the server's own idempotence recognises a
 * retried append.
 */
import { jsonEvent, type EventData } from "@eventstore/db-client";
import type { RecordedEvent, StoredEnvelope } from "./event-store.js";
import { type StoredEvent, fromStored } from "./mapper.js";

/** The port's position of the event at `revision`. */
export const toPosition = (revision: bigint): bigint => revision + 1n;
/** The revision of the event at `position` (positions start at 1). */
export const toRevision = (position: bigint): bigint => position - 1n;

/** One stored event as EventStoreDB event data: JSON data, metadata carrying the tags. */
export const toEventData = (stored: StoredEvent): EventData =>
  jsonEvent({
    id: String(stored.metadata.eventId),
    type: stored.type,
    data: stored.data,
    metadata: { ...stored.metadata, tags: [...stored.tags] },
  });

/** An event as the client reads it from the stream. */
export interface EsdbReadEvent {
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
}

/** Splits the tags off the metadata; what is not an object is left to the Mapper to refuse. */
const splitMetadata = (metadata: unknown): { metadata: unknown; tags: unknown } => {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata) || metadata instanceof Uint8Array)
    return { metadata, tags: undefined };
  const { tags, ...rest } = metadata as Record<string, unknown>;
  return { metadata: rest, tags };
};

/** The type and tags of a read event, for matching a query before decoding it. */
export const typeAndTags = (event: EsdbReadEvent): { readonly type: string; readonly tags: ReadonlyArray<string> } => {
  const { tags } = splitMetadata(event.metadata);
  return { type: event.type, tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [] };
};

/** An event as the client reads it, decoded through the Mapper, or `StoredEventDecodeError`. */
export const fromEsdbEvent = (event: EsdbReadEvent): RecordedEvent<StoredEnvelope> => {
  const { metadata, tags } = splitMetadata(event.metadata);
  return fromStored({ type: event.type, data: event.data, metadata, tags }, toPosition(event.revision));
};
