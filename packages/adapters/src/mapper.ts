/**
 * The Mapper between envelopes and what stores keep: plain JSON for `data` and
 * `metadata` and a list of tags, checked against the catalog on the way in
 * (nothing invalid is ever appended) and decoded on the way out (nothing
 * undecodable is ever yielded).
 */
import * as E from "fp-ts/lib/Either.js";
import {
  EventMetadata,
  type StoredEnvelope,
  type Tag,
  decodeStoredEnvelope,
  encodeEvent,
  hasPersonalFields,
  isSealed,
} from "@linked-accounts/domain/internal";
import { InvalidEventError, type NewEvent, type RecordedEvent, StoredEventDecodeError } from "./event-store.js";

/** What a store writes for one event. */
export interface StoredEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  readonly tags: ReadonlyArray<Tag>;
}

/**
 * A tag is 1 to 300 printable characters (code points: no C0 control, no DEL)
 * and no lone surrogate, so it survives every store's text encoding unchanged; a
 * store indexes it as given. One pass over the UTF-16 code units (it is asked
 * of every tag of every event read).
 */
export const isTag = (u: unknown): u is Tag => {
  if (typeof u !== "string" || u.length === 0 || u.length > 600) return false;
  let codePoints = 0;
  for (let i = 0; i < u.length; i++, codePoints++) {
    const c = u.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate must be followed by a low one; a low one never comes first.
      const next = i + 1 < u.length ? u.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) return false;
      i++;
    }
  }
  return codePoints <= 300;
};

/** What an append says of tags that are not tags. */
export const TAGS_EXPECTED = "tags: expected an array of tags (1 to 300 printable characters each)";

export const areTags = (u: unknown): u is ReadonlyArray<Tag> => {
  if (!Array.isArray(u)) return false;
  for (let i = 0; i < u.length; i++) if (!isTag(u[i])) return false;
  return true;
};

/**
 * Encodes and re-validates every event of a batch before anything is written.
 * Throws `InvalidEventError` naming the event's index and the failing field.
 */
export const toStoredBatch = (events: ReadonlyArray<NewEvent<StoredEnvelope>>): ReadonlyArray<StoredEvent> => {
  if (events.length === 0) throw new RangeError("append: at least one event is needed");
  return events.map((event, index) => {
    // Validate what was given (it may come from untyped host code), then keep
    // only the catalog's fields, exactly as they will be read back.
    const checked = decodeStoredEnvelope(event);
    if (E.isLeft(checked)) throw new InvalidEventError(index, checked.left.message);
    // The log keeps personal data sealed only: in the clear it would outlive its key.
    if (hasPersonalFields(checked.right.type) && !isSealed(checked.right))
      throw new InvalidEventError(index, `${checked.right.type}.data: its personal fields must be sealed before the log keeps them (append through the store, not its log)`);
    const tags: unknown = (event as { tags?: unknown }).tags;
    if (!areTags(tags))
      throw new InvalidEventError(index, TAGS_EXPECTED);
    // When decoding handed back the very objects given, they have exactly the
    // catalog's fields and nothing else, and encoding would copy them unchanged.
    const envelope = checked.right;
    const asGiven = envelope.data === (event as { data?: unknown }).data && envelope.metadata === event.metadata;
    const { type, data } =
      asGiven || isSealed(envelope) ? { type: envelope.type, data: envelope.data as Record<string, unknown> } : encodeEvent(envelope);
    return {
      type,
      data,
      metadata: (asGiven ? envelope.metadata : EventMetadata.encode(envelope.metadata)) as Record<string, unknown>,
      tags: [...new Set(tags as Tag[])],
    };
  });
};

/** Decodes one stored row, or throws `StoredEventDecodeError` naming where it is. */
export const fromStored = (
  row: { readonly type: string; readonly data: unknown; readonly metadata: unknown; readonly tags: unknown },
  position: bigint,
): RecordedEvent<StoredEnvelope> => {
  const decoded = decodeStoredEnvelope({ type: row.type, data: row.data, metadata: row.metadata });
  if (E.isLeft(decoded)) throw new StoredEventDecodeError(position, row.type, decoded.left.message);
  if (!areTags(row.tags)) throw new StoredEventDecodeError(position, row.type, "tags: expected an array of tags");
  const { type, data, metadata } = decoded.right;
  return { type, data, metadata, tags: row.tags, position } as RecordedEvent<StoredEnvelope>;
};
