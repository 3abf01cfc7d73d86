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
 * opened exactly as the store opens it (`openStoredEvents` with the store's
 * keys): the value, or `[erased]` once forgotten, never `[sealed]`.
 */
import { type EventLog, type KeyStore, type RecordedEvent, openStoredEvents } from "@linked-accounts/adapters";
import { type StoredEnvelope, isEventType, isSealed, personalFieldsOf } from "@linked-accounts/domain/internal";
import type { FieldsRead } from "./lean-lines.js";
import type { PositionedEvent } from "./projection.js";

/** What a store that seals personal data (the adapters' `SealingEventStore`) offers besides its port. */
export interface SealedLog {
  readonly log: Pick<EventLog, "readAll">;
  readonly keys: KeyStore;
}

/** `source`'s log and keys when it is a store that seals personal data, else undefined. */
export const sealedLogOf = (source: object): SealedLog | undefined => {
  const { log, keys } = source as { log?: { readAll?: unknown }; keys?: { find?: unknown } };
  return typeof log?.readAll === "function" && typeof keys?.find === "function" ? (source as SealedLog) : undefined;
};

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

async function* one<T>(items: ReadonlyArray<T>): AsyncGenerator<T> {
  yield* items;
}

/**
 * A page of the log with the events of types in `open` that are sealed
 * opened (one call to the store's opening per page, so one key lookup per 500
 * of them); every other event as kept. When one does not open, the page up to
 * it comes with the error.
 */
const openPage = async (
  page: Array<RecordedEvent<StoredEnvelope>>,
  open: ReadonlySet<string>,
  keys: SealedLog["keys"],
): Promise<{ readonly events: ReadonlyArray<PositionedEvent>; readonly error?: unknown }> => {
  const at: number[] = [];
  for (let i = 0; i < page.length; i++) if (open.has(page[i]!.type) && isSealed(page[i]!)) at.push(i);
  // A sealed event not opened has every field the fold reads (none is personal): handed over as kept.
  const events = page as unknown as PositionedEvent[];
  if (at.length === 0) return { events };
  let k = 0;
  try {
    for await (const opened of openStoredEvents(one(at.map((i) => page[i]!)), keys)) events[at[k++]!] = opened;
  } catch (error) {
    return { events: events.slice(0, at[k]), error };
  }
  return { events };
};

/**
 * Every event of `store` from `from` on, in arrays of at most `batchSize`,
 * opened only where `open` says (see above). The runner reads a store this way
 * for a read model that declares `reads`.
 */
export async function* readSealedLog(
  store: SealedLog,
  open: ReadonlySet<string>,
  options: { readonly from?: bigint; readonly batchSize: number },
): AsyncGenerator<ReadonlyArray<PositionedEvent>> {
  const hand = async function* (page: Array<RecordedEvent<StoredEnvelope>>): AsyncGenerator<ReadonlyArray<PositionedEvent>> {
    const { events, error } = await openPage(page, open, store.keys);
    if (events.length > 0) yield events;
    if (error !== undefined) throw error;
  };
  let page: Array<RecordedEvent<StoredEnvelope>> = [];
  try {
    for await (const event of store.log.readAll(options)) {
      if (page.push(event) < options.batchSize) continue;
      const full = page;
      page = [];
      yield* hand(full);
    }
  } catch (error) {
    // The log stopped at an event it cannot decode: first the events before it.
    if (page.length > 0) yield* hand(page);
    throw error;
  }
  if (page.length > 0) yield* hand(page);
}
