/**
 * Encrypting an existing history: `linked-accounts seal` copies every event of
 * an old store or export, in order, into a new, empty store, which seals each
 * event's personal fields under its subjects' keys and hashes its barcode tags
 * as it appends them. Each event keeps its id, its metadata (read as schema
 * version 3: events of versions 1 and 2 are upcast) and its tags; an event that
 * came without tags (an export of schema version 1) is given the tags the
 * domain's commands give it, so that the new store finds it as its own.
 *
 * Nothing personal is written in the clear: the store refuses a personal field
 * in the clear, and an unkeyed command digest (`command-digest:` tags of events
 * written before sealing, a hash of a command that may hold a barcode) is
 * keyed with the new store's index secret, as its command handler keys them.
 * A source whose personal fields cannot be read (an export read without its
 * keys: `[sealed]`) is refused: sealing that marker would lose them.
 *
 * Appends go in batches (1,000 events per append by default), without a
 * condition: the target is new, and nothing else writes to it meanwhile.
 */
import type { NewEvent, SealingEventStore } from "@linked-accounts/adapters";
import { type EventEnvelope, type EventType, SEALED, hasPersonalFields, personalFieldsOf } from "@linked-accounts/domain/internal";
import type { ExportedEvent } from "./ndjson.js";
import { domainTagger } from "./tagging.js";

export interface SealCounts {
  /** Events copied. */
  readonly events: number;
  /** Of which with personal fields, now sealed. */
  readonly sealed: number;
  /** Barcode tags, now stored as keyed hashes. */
  readonly barcodeTags: number;
  /** Command digests, now keyed. */
  readonly digests: number;
  /** Events that came without tags and were given the domain's. */
  readonly tagged: number;
  /** Erasure and retention events: the keys they name are forgotten in the new store. */
  readonly forgetting: number;
}

/** The source cannot be sealed as it reads (its personal fields are `[sealed]`), or the target is not new. */
export class SealRefusedError extends Error {
  override readonly name = "SealRefusedError";
}

const FORGETTING: ReadonlySet<EventType> = new Set(["AccountErased", "LoanDetailsForgotten", "HoldDetailsForgotten"]);
const DIGEST = "command-digest:";

/**
 * Copies `batches` (events opened: personal fields in the clear) into `target`,
 * which must be empty. `onAppended(count)` is told after each append.
 */
export const sealHistory = async (
  batches: AsyncIterable<ReadonlyArray<ExportedEvent>> | Iterable<ReadonlyArray<ExportedEvent>>,
  target: SealingEventStore,
  options: { readonly batchSize?: number; readonly describe?: string; readonly onAppended?: (count: number) => void } = {},
): Promise<SealCounts> => {
  const head = await target.head();
  if (head > 0n) throw new SealRefusedError(`${options.describe ?? "the target"} already holds events (up to position ${head}): seal writes only into a new, empty store`);
  const size = Math.max(1, options.batchSize ?? 1000);
  const tag = domainTagger();
  const counts = { events: 0, sealed: 0, barcodeTags: 0, digests: 0, tagged: 0, forgetting: 0 };
  let pending: Array<NewEvent> = [];
  let positions: bigint[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    try {
      await target.append(pending);
    } catch (error) {
      // An event the store refuses (a revocation of a link the history never connected, say): named by its position in the source.
      const e = error as { name?: unknown; index?: unknown; reason?: unknown };
      if (e.name === "InvalidEventError" && typeof e.index === "number")
        throw new SealRefusedError(`event at position ${positions[e.index]} (${pending[e.index]?.type}): the new store refuses it: ${String(e.reason)}`);
      throw error;
    }
    counts.events += pending.length;
    pending = [];
    positions = [];
    options.onAppended?.(counts.events);
  };
  for await (const batch of batches)
    for (const event of batch) {
      const data = event.data as Readonly<Record<string, unknown>>;
      for (const field of personalFieldsOf(event.type))
        if (data[field] === SEALED)
          throw new SealRefusedError(
            `event at position ${event.position} (${event.type}): its personal fields read [sealed]: give --keys, the key store that sealed the source, so that they can be sealed again`,
          );
      // The tagger sees every event, in order: a revocation's tags come from the link it remembers.
      const derived = tag(event);
      const given = event.tags ?? [];
      let tags: ReadonlyArray<string>;
      if (given.length === 0) {
        tags = derived;
        counts.tagged++;
      } else if (event.type === "LinkRevoked" && !given.some((t) => t.startsWith("account:"))) {
        // Its reason is sealed under its link's accounts: a store needs them among its tags.
        tags = [...given, ...derived.filter((t) => t.startsWith("account:"))];
      } else tags = given;
      const keyed: string[] = [];
      for (const t of tags) {
        if (t.startsWith(DIGEST)) {
          keyed.push(DIGEST + (await target.indexHash(t.slice(DIGEST.length))));
          counts.digests++;
        } else keyed.push(t);
        if (t.startsWith("barcode:")) counts.barcodeTags++;
      }
      if (hasPersonalFields(event.type)) counts.sealed++;
      if (FORGETTING.has(event.type)) counts.forgetting++;
      pending.push({ type: event.type, data: event.data, metadata: event.metadata, tags: keyed } as unknown as NewEvent<EventEnvelope>);
      positions.push(event.position);
      if (pending.length >= size) await flush();
    }
  await flush();
  return counts;
};
