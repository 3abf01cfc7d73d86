/**
 * The Mapper between envelopes and what stores keep: plain JSON for `data` and
 * `metadata`, checked against the catalog on the way in (nothing invalid is ever
 * appended) and decoded on the way out (nothing undecodable is ever yielded).
 */
import * as E from "fp-ts/lib/Either.js";
import { type EventEnvelope, EventMetadata, decodeEnvelope, encodeEvent } from "@linked-accounts/domain";
import { InvalidEventError, type RecordedEvent, StoredEventDecodeError } from "./event-store.js";

/** What a store writes for one event. */
export interface StoredEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

/**
 * Encodes and re-validates every event of a batch before anything is written.
 * Throws `InvalidEventError` naming the event's index and the failing field.
 */
export const toStoredBatch = (stream: string, events: ReadonlyArray<EventEnvelope>): ReadonlyArray<StoredEvent> => {
  if (events.length === 0) throw new RangeError(`appendToStream(${stream}): at least one event is needed`);
  return events.map((event, index) => {
    // Validate what was given (it may come from untyped host code), then keep
    // only the catalog's fields, exactly as they will be read back.
    const checked = decodeEnvelope(event);
    if (E.isLeft(checked)) throw new InvalidEventError(stream, index, checked.left.message);
    const { type, data } = encodeEvent(checked.right);
    return { type, data, metadata: EventMetadata.encode(checked.right.metadata) as Record<string, unknown> };
  });
};

/** Decodes one stored row, or throws `StoredEventDecodeError` naming where it is. */
export const fromStored = (
  row: { readonly type: string; readonly data: unknown; readonly metadata: unknown },
  where: { readonly stream: string; readonly revision: bigint; readonly position: bigint },
): RecordedEvent => {
  const decoded = decodeEnvelope({ type: row.type, data: row.data, metadata: row.metadata });
  if (E.isLeft(decoded)) throw new StoredEventDecodeError(where.position, where.stream, row.type, decoded.left.message);
  return { ...decoded.right, stream: where.stream, revision: where.revision, position: where.position };
};
