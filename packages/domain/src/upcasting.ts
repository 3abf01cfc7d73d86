/**
 * Upcasting: how an event written by an earlier release is read by this one.
 * Stored events are never rewritten (hosts keep them for years, DOMAIN.md
 * "Events"); instead every read path passes the raw JSON through a chain of
 * schema changes, one per version, before the codecs validate it. Version 1
 * goes through the change `from: 1`, then `from: 2`, … up to the version this
 * release writes. A later change to the events is one `SchemaChange` and its test.
 */
import * as E from "fp-ts/lib/Either.js";
import { DecodeError, show } from "./codec.js";
import type { EventType } from "./events.js";

/** A JSON object as read, before decoding: nothing about it is trusted yet. */
export type RawObject = Readonly<Record<string, unknown>>;

/** One stored event as raw JSON, written at the schema version its metadata names. */
export interface RawEvent {
  readonly type: EventType;
  readonly data: RawObject;
  readonly metadata: RawObject;
}

/**
 * One change of the event schema: turns an event written at version `from` into
 * the event version `from + 1` would have written. Both functions read raw JSON
 * and must be total (a field may be missing or of the wrong kind: leave it for
 * the codecs to refuse). Neither sets `schemaVersion`; the chain does.
 */
export interface SchemaChange {
  /** The version this change reads; it writes `from + 1`. */
  readonly from: number;
  /** What changed, in a sentence (for the changelog and the event catalogue). */
  readonly summary: string;
  /** The new metadata, for every event type. */
  readonly metadata?: (event: RawEvent) => RawObject;
  /** The new data, for the event types this change touches. */
  readonly data?: { readonly [K in EventType]?: (event: RawEvent) => RawObject };
}

const isObject = (u: unknown): u is RawObject => typeof u === "object" && u !== null && !Array.isArray(u);

/**
 * The upcaster of a chain of changes: `changes[i]` reads version `i + 1`, so the
 * chain reads versions 1 to `changes.length + 1` and writes the last.
 *
 * What it is given is returned unchanged when it is already at the latest
 * version (the common case, and no copy is made), or when it is not shaped like
 * an event at all (the codecs then name what is wrong). An event of a version
 * this chain does not know, later or not a version at all, is refused here with
 * the field named: an older release must not guess at a newer release's events.
 */
export const upcaster = (
  changes: ReadonlyArray<SchemaChange>,
  isEventType: (u: unknown) => u is EventType,
): ((u: unknown) => E.Either<DecodeError, unknown>) => {
  changes.forEach((change, i) => {
    if (change.from !== i + 1) throw new Error(`Schema change ${i} reads version ${change.from}; it must read ${i + 1}`);
  });
  const latest = changes.length + 1;
  return (u) => {
    if (!isObject(u) || !isEventType(u["type"]) || !isObject(u["data"]) || !isObject(u["metadata"])) return E.right(u);
    const version = u["metadata"]["schemaVersion"];
    if (version === latest) return E.right(u);
    if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1 || version > latest)
      return E.left(
        new DecodeError(
          `${u["type"]}.metadata.schemaVersion: expected a schema version from 1 to ${latest}` +
            `${typeof version === "number" && version > latest ? " (written by a later release: read it with that release or a newer one)" : ""}, got ${show(version)}`,
        ),
      );
    let event: RawEvent = { type: u["type"], data: u["data"], metadata: u["metadata"] };
    for (const change of changes.slice(version - 1)) {
      const data = change.data?.[event.type]?.(event) ?? event.data;
      const metadata = change.metadata?.(event) ?? event.metadata;
      event = { type: event.type, data, metadata: { ...metadata, schemaVersion: change.from + 1 } };
    }
    return E.right({ ...u, data: event.data, metadata: event.metadata });
  };
};
