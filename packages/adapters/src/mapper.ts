/**
 * The Mapper between envelopes and what stores keep: plain JSON for `data` and
 * `metadata` and a list of tags, checked against the catalog on the way in
 * (nothing invalid is ever appended) and decoded on the way out (nothing
 * undecodable is ever yielded).
 */
import * as E from "fp-ts/lib/Either.js";
import { EventMetadata, type Tag, decodeEnvelope, encodeEvent } from "@linked-accounts/domain/internal";
import { InvalidEventError, type NewEvent, type RecordedEvent, StoredEventDecodeError } from "./event-store.js";

/** What a store writes for one event. */
export interface StoredEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  readonly tags: ReadonlyArray<Tag>;
}

/** A tag is 1 to 300 printable characters; a store indexes it as given. */
const TAG = /^[^\u0000-\u001f\u007f]{1,300}$/u;
/** No lone surrogate: a tag must survive every store's text encoding unchanged. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const isTag = (u: unknown): u is Tag => typeof u === "string" && TAG.test(u) && !LONE_SURROGATE.test(u);

/**
 * Encodes and re-validates every event of a batch before anything is written.
 * Throws `InvalidEventError` naming the event's index and the failing field.
 */
export const toStoredBatch = (events: ReadonlyArray<NewEvent>): ReadonlyArray<StoredEvent> => {
  if (events.length === 0) throw new RangeError("append: at least one event is needed");
  return events.map((event, index) => {
    // Validate what was given (it may come from untyped host code), then keep
    // only the catalog's fields, exactly as they will be read back.
    const checked = decodeEnvelope(event);
    if (E.isLeft(checked)) throw new InvalidEventError(index, checked.left.message);
    const tags: unknown = (event as { tags?: unknown }).tags;
    if (!Array.isArray(tags) || !tags.every(isTag))
      throw new InvalidEventError(index, `tags: expected an array of tags (1 to 300 printable characters each)`);
    const { type, data } = encodeEvent(checked.right);
    return {
      type,
      data,
      metadata: EventMetadata.encode(checked.right.metadata) as Record<string, unknown>,
      tags: [...new Set(tags as Tag[])],
    };
  });
};

/** Decodes one stored row, or throws `StoredEventDecodeError` naming where it is. */
export const fromStored = (
  row: { readonly type: string; readonly data: unknown; readonly metadata: unknown; readonly tags: unknown },
  position: bigint,
): RecordedEvent => {
  const decoded = decodeEnvelope({ type: row.type, data: row.data, metadata: row.metadata });
  if (E.isLeft(decoded)) throw new StoredEventDecodeError(position, row.type, decoded.left.message);
  if (!Array.isArray(row.tags) || !row.tags.every(isTag))
    throw new StoredEventDecodeError(position, row.type, "tags: expected an array of tags");
  return { ...decoded.right, tags: row.tags as ReadonlyArray<Tag>, position };
};
