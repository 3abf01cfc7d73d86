/**
 * Reading a store that seals personal data for a read model that says what it
 * reads (`Projection.reads`): the log as the store keeps it, with only the
 * events whose fields read include a personal one opened.
 *
 * A store's `readAll` opens every sealed event: one key lookup per page and
 * one decipherment per event. A read model that never reads a title or a
 * branch pays for all of it and uses none. Here a sealed event of a type whose
 * fields read are all impersonal is handed over as kept: every field of the
 * catalog but the personal ones, which it does not have (its `data.sealed`
 * stays unopened, unchecked). An event of a type whose fields read include a
 * personal one (the access graph's `AccountRegistered`, for its barcode) is
 * opened exactly as the store opens it (the store's `readAllOpening`, with its
 * keys and what this process has forgotten): the value, or `[erased]` once
 * forgotten, never `[sealed]`.
 */
import type { ReadOptions, RecordedEvent } from "@linked-accounts/adapters";
import { type StoredEnvelope, isEventType, personalFieldsOf } from "@linked-accounts/domain/internal";
import type { FieldsRead } from "./lean-lines.js";
import type { PositionedEvent } from "./projection.js";

/** What a store that seals personal data (the adapters' `SealingEventStore`) offers for it. */
export interface SealedLog {
  readAllOpening(types: ReadonlySet<string>, options?: ReadOptions): AsyncIterable<RecordedEvent<StoredEnvelope>>;
}

/** `source` when it is a store that seals personal data, else undefined. */
export const sealedLogOf = (source: object): SealedLog | undefined =>
  typeof (source as { readAllOpening?: unknown }).readAllOpening === "function" ? (source as SealedLog) : undefined;

/**
 * The event types whose sealed events must be opened for a fold that reads
 * `reads`: those of which it reads a personal field. Throws for a type the
 * catalog does not have (a mistake in the read model).
 */
export const typesToOpen = (reads: FieldsRead): ReadonlySet<string> => {
  const out = new Set<string>();
  for (const [type, spec] of Object.entries(reads)) {
    if (!isEventType(type)) throw new TypeError(`reads: no event type ${type}`);
    const personal = personalFieldsOf(type);
    if (spec.data.some((field) => personal.includes(field))) out.add(type);
  }
  return out;
};

/**
 * Every event of `store` from `from` on, in arrays of at most `batchSize`,
 * opened only where `open` says (see above). The runner reads a store this way
 * for a read model that declares `reads`. When the read stops at an event, the
 * events before it come first, then the error.
 */
export async function* readSealedLog(
  store: SealedLog,
  open: ReadonlySet<string>,
  options: { readonly from?: bigint; readonly batchSize: number },
): AsyncGenerator<ReadonlyArray<PositionedEvent>> {
  const events = store.readAllOpening(open, options)[Symbol.asyncIterator]();
  let page: PositionedEvent[] = [];
  try {
    for (;;) {
      let next: IteratorResult<RecordedEvent<StoredEnvelope>>;
      try {
        next = await events.next();
      } catch (error) {
        if (page.length > 0) yield page;
        throw error;
      }
      if (next.done === true) break;
      // A sealed event not opened has every field the fold reads (none is personal).
      if (page.push(next.value as unknown as PositionedEvent) >= options.batchSize) {
        yield page;
        page = [];
      }
    }
  } finally {
    await events.return?.();
  }
  if (page.length > 0) yield page;
}
