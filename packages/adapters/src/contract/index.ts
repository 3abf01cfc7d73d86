/**
 * The event store contract: the same vitest specification for every store.
 * A store is an `EventStore` when it passes it; a host can run it against a
 * store of its own:
 *
 *   import { eventStoreContract } from "@linked-accounts/adapters/contract";
 *   eventStoreContract("my store", () => createMyStore(), { plantStoredEvent });
 *
 * It makes one store for the whole suite and never assumes the store starts
 * empty: every test tags its events with tags of its own (a random run id in
 * each), reads by those tags, and looks at the global order only from its own
 * first position on and only at its own events, so a shared database or server
 * is fine.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Query, Tag } from "@linked-accounts/domain/internal";
import {
  type AppendCondition,
  AppendConditionError,
  type EventStore,
  InvalidEventError,
  type NewEvent,
  type RecordedEvent,
  StoredEventDecodeError,
} from "../event-store.js";
import type { StoredEvent } from "../mapper.js";
import { accountRegistered, sampleEvents, sampleMetadata, withTags } from "./sample-events.js";

export { accountRegistered, loanRenewed, sampleEvents, sampleMetadata, withTags } from "./sample-events.js";
export type { StoredEvent } from "../mapper.js";
export { type OpenedKeyStore, keyStoreContract } from "./key-store.js";

export interface EventStoreContractOptions {
  /**
   * Writes `row` at the end of the store behind its back, unchecked, as an older
   * version of the code or a hand edit would have left it. Needed for the
   * decode-failure tests, which are reported as skipped without it.
   */
  readonly plantStoredEvent?: (store: EventStore, row: StoredEvent) => Promise<void> | void;
  /** Events in the large-read test; default 10,000. */
  readonly largeReadEvents?: number;
  /** Appenders racing at once in the concurrency tests; default 20. */
  readonly concurrentAppenders?: number;
  /** Timeout of the slow tests (large reads, races), in ms; default 120,000. */
  readonly slowTestTimeoutMs?: number;
}

const collect = async <A>(events: AsyncIterable<A>): Promise<A[]> => {
  const all: A[] = [];
  for await (const event of events) all.push(event);
  return all;
};

/** Reads on until `events` throws, and returns what it yielded and what it threw. */
const collectUntilError = async <A>(events: AsyncIterable<A>): Promise<{ yielded: A[]; error: unknown }> => {
  const yielded: A[] = [];
  try {
    for await (const event of events) yielded.push(event);
  } catch (error) {
    return { yielded, error };
  }
  return { yielded, error: undefined };
};

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** What a store must give back: the event exactly as it was appended. */
const contentOf = (e: NewEvent | RecordedEvent) => ({ type: e.type, data: e.data, metadata: e.metadata, tags: [...e.tags] });
const idsOf = (events: ReadonlyArray<NewEvent | RecordedEvent>) => events.map((e) => e.metadata.eventId);

const expectStrictlyIncreasing = (values: ReadonlyArray<bigint>): void => {
  for (let i = 1; i < values.length; i++) {
    const [before, after] = [values[i - 1], values[i]];
    if (before === undefined || after === undefined || !(after > before))
      expect.fail(`expected strictly increasing, but ${String(before)} is followed by ${String(after)} at index ${i}`);
  }
};

const byTags = (...tags: Tag[]): Query => ({ items: [{ tags }] });

export const eventStoreContract = (
  name: string,
  makeStore: () => Promise<EventStore> | EventStore,
  options: EventStoreContractOptions = {},
): void => {
  const largeReadEvents = options.largeReadEvents ?? 10_000;
  const appenders = options.concurrentAppenders ?? 20;
  const slow = options.slowTestTimeoutMs ?? 120_000;
  const run = randomUUID();
  let counter = 0;
  /** A tag no other test (or earlier run against the same database) uses. */
  const freshTag = (label: string): Tag => `contract:${label}:${run}:${++counter}`;

  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      await store?.close();
    });

    const read = (query: Query, from?: bigint, limit?: number) =>
      collect(store.read(query, { ...(from !== undefined && { from }), ...(limit !== undefined && { limit }) }));
    /** Every event carrying `tag`. */
    const read_ = (tag: Tag) => read(byTags(tag));
    /** readAll from `from`, keeping only the events among `ids`. */
    const readAllOf = async (ids: ReadonlyArray<string>, from: bigint, batchSize?: number) => {
      const wanted = new Set(ids);
      return (await collect(store.readAll({ from, ...(batchSize !== undefined && { batchSize }) }))).filter((e) =>
        wanted.has(e.metadata.eventId),
      );
    };

    describe("append and read back", () => {
      it("gives back every event exactly as appended (type, data, metadata, tags), positions strictly increasing", async () => {
        const [a, b] = [freshTag("round-trip-a"), freshTag("round-trip-b")];
        const events = [withTags(accountRegistered(1), [a]), withTags(sampleEvents(2, 1)[0]!, [a, b]), withTags(accountRegistered(4), [b, a])];
        const result = await store.append(events);
        const back = await read({ items: [{ tags: [a] }] });
        expect(back.map(contentOf)).toEqual(events.map(contentOf));
        expectStrictlyIncreasing(back.map((e) => e.position));
        expect(back[0]!.position > 0n).toBe(true);
        expect(result).toEqual({ position: back[2]!.position });
      });

      it("keeps an event with no tags, found by its type and in readAll", async () => {
        const event = sampleEvents(1, 6)[0]!;
        const { position } = await store.append([event]);
        const back = await read({ items: [{ types: ["AccountRegistered"] }] }, position);
        expect(back.map(contentOf)).toEqual([contentOf(event)]);
        expect((await readAllOf(idsOf([event]), position)).map(contentOf)).toEqual([contentOf(event)]);
      });

      it("orders events as they were appended, across appends, and returns the position of each append's last event", async () => {
        const tag = freshTag("order");
        const first = await store.append(sampleEvents(2, 0, [tag]));
        const second = await store.append(sampleEvents(3, 2, [tag]));
        expect(second.position > first.position).toBe(true);
        const back = await read(byTags(tag));
        expect(back).toHaveLength(5);
        expectStrictlyIncreasing(back.map((e) => e.position));
        expect(back[1]!.position).toBe(first.position);
        expect(back[4]!.position).toBe(second.position);
      });

      it("reads back in readAll the same events, tags and positions as in read", async () => {
        const tag = freshTag("read-all-round-trip");
        await store.append(sampleEvents(4, 0, [tag]));
        const byQuery = await read(byTags(tag));
        expect(await readAllOf(idsOf(byQuery), byQuery[0]!.position)).toEqual(byQuery);
      });

      it("yields nothing for a tag nobody used, and for the query with no items", async () => {
        const tag = freshTag("used");
        const { position } = await store.append(sampleEvents(1, 0, [tag]));
        expect(await read(byTags(freshTag("unused")))).toEqual([]);
        expect(await read(byTags(tag, freshTag("unused")))).toEqual([]);
        expect(await read({ items: [] }, position)).toEqual([]);
      });

      it("says where the store ends: head() is at least the last appended position", async () => {
        const before = await store.head();
        const { position } = await store.append(sampleEvents(2, 0, [freshTag("head")]));
        expect(position > before).toBe(true);
        const after = await store.head();
        expect(after >= position).toBe(true);
        const last = (await collect(store.readAll({ from: position }))).at(-1);
        expect(last?.position).toBe(after);
      });
    });

    describe("read by query", () => {
      // e0 AccountRegistered [a, x]; e1 LoanRenewed [a, y]; e2 AccountRegistered [b];
      // e3 LoanRenewed [a, x, b]; e4 AccountRegistered [y]
      let t: { a: Tag; b: Tag; x: Tag; y: Tag };
      let e: RecordedEvent[];
      beforeAll(async () => {
        t = { a: freshTag("a"), b: freshTag("b"), x: freshTag("x"), y: freshTag("y") };
        const tagsOf = [[t.a, t.x], [t.a, t.y], [t.b], [t.a, t.x, t.b], [t.y]];
        const events = sampleEvents(5, 20).map((event, i) => withTags(event, tagsOf[i]!));
        await store.append(events.slice(0, 2));
        await store.append(events.slice(2));
        e = await read({ items: [{ tags: [t.a] }, { tags: [t.b] }, { tags: [t.y] }] });
        expect(idsOf(e)).toEqual(idsOf(events));
      });
      const indices = (events: ReadonlyArray<RecordedEvent>) => events.map((r) => e.findIndex((x) => x.position === r.position));

      it("selects by type alone", async () => {
        const loans = (await read({ items: [{ types: ["LoanRenewed"] }] }, e[0]!.position)).filter((r) => e.some((x) => x.position === r.position));
        expect(indices(loans)).toEqual([1, 3]);
        const both = (await read({ items: [{ types: ["LoanRenewed", "AccountRegistered"] }] }, e[0]!.position)).filter((r) =>
          e.some((x) => x.position === r.position),
        );
        expect(indices(both)).toEqual([0, 1, 2, 3, 4]);
      });

      it("selects by one tag, and by several tags as an AND", async () => {
        expect(indices(await read(byTags(t.a)))).toEqual([0, 1, 3]);
        expect(indices(await read(byTags(t.a, t.x)))).toEqual([0, 3]);
        expect(indices(await read(byTags(t.x, t.b, t.a)))).toEqual([3]);
        expect(indices(await read(byTags(t.y, t.b)))).toEqual([]);
      });

      it("selects by type and tags together", async () => {
        expect(indices(await read({ items: [{ types: ["LoanRenewed"], tags: [t.a] }] }))).toEqual([1, 3]);
        expect(indices(await read({ items: [{ types: ["AccountRegistered"], tags: [t.a] }] }))).toEqual([0]);
        expect(indices(await read({ items: [{ types: ["AccountRegistered", "LoanRenewed"], tags: [t.x] }] }))).toEqual([0, 3]);
        expect(indices(await read({ items: [{ types: ["AccountClosed"], tags: [t.a] }] }))).toEqual([]);
      });

      it("selects the union of its items, each event once, in position order", async () => {
        expect(indices(await read({ items: [{ tags: [t.x] }, { tags: [t.a] }] }))).toEqual([0, 1, 3]);
        expect(indices(await read({ items: [{ tags: [t.b] }, { types: ["LoanRenewed"], tags: [t.a] }] }))).toEqual([1, 2, 3]);
        expect(indices(await read({ items: [{ tags: [t.y] }, { tags: [t.a, t.x] }, { tags: [t.b] }] }))).toEqual([0, 1, 2, 3, 4]);
        expect(indices(await read({ items: [{ tags: [t.y] }, { tags: [t.y] }] }))).toEqual([1, 4]);
      });

      it("starts at `from`, inclusive", async () => {
        expect(indices(await read(byTags(t.a), e[1]!.position))).toEqual([1, 3]);
        expect(indices(await read(byTags(t.a), e[1]!.position + 1n))).toEqual([3]);
        expect(indices(await read(byTags(t.a), e[3]!.position + 1n))).toEqual([]);
        expect(indices(await read(byTags(t.a), 0n))).toEqual([0, 1, 3]);
      });

      it("stops after `limit` matching events", async () => {
        expect(indices(await read(byTags(t.a), undefined, 2))).toEqual([0, 1]);
        expect(indices(await read(byTags(t.a), e[1]!.position, 1))).toEqual([1]);
        expect(indices(await read({ items: [{ tags: [t.a] }, { tags: [t.b] }] }, e[1]!.position, 2))).toEqual([1, 2]);
        expect(await read(byTags(t.a), undefined, 0)).toEqual([]);
        expect(indices(await read(byTags(t.a), undefined, 100))).toEqual([0, 1, 3]);
      });
    });

    describe("readAll", () => {
      it("reads every event in order from any position, inclusive, in pages of any size", async () => {
        const tag = freshTag("read-all");
        await store.append(sampleEvents(3, 0, [tag]));
        await store.append(sampleEvents(2, 3, [freshTag("read-all-other")]));
        await store.append(sampleEvents(2, 5, [tag]));
        const first = (await read(byTags(tag)))[0]!.position;
        const everything = (await collect(store.readAll({ from: first }))).slice(0, 7);
        expect(everything).toHaveLength(7);
        expectStrictlyIncreasing(everything.map((r) => r.position));
        const ids = idsOf(everything);
        for (const [i, event] of everything.entries()) expect(await readAllOf(ids, event.position)).toEqual(everything.slice(i));
        for (const batchSize of [1, 2, 3, 1000]) expect(await readAllOf(ids, first, batchSize)).toEqual(everything);
        expect(await readAllOf(ids, everything[6]!.position + 1n)).toEqual([]);
        expect(await readAllOf(ids, 0n)).toEqual(everything);
      });
    });

    describe("append conditions", () => {
      const condition = (query: Query, after: bigint | null): AppendCondition => ({ failIfEventsMatch: query, after });

      it("refuses an append when an event matching the condition was stored after its position, appending nothing", async () => {
        const [tag, mine] = [freshTag("cond"), freshTag("cond-mine")];
        const { position: decidedAt } = await store.append(sampleEvents(1, 0, [tag]));
        const { position: later } = await store.append(sampleEvents(1, 1, [tag]));
        const when = condition(byTags(tag), decidedAt);
        const error = await rejection(store.append(sampleEvents(3, 2, [mine, tag]), when));
        expect(error).toBeInstanceOf(AppendConditionError);
        expect((error as AppendConditionError).condition).toEqual(when);
        const conflict = (error as AppendConditionError).conflictingPosition;
        if (conflict !== undefined) expect(conflict).toBe(later);
        expect(await read_(mine)).toEqual([]);
        expect(await read_(tag)).toHaveLength(2);
      });

      it("refuses when the matching event came from a query item of type and tags, or from any of several items", async () => {
        const [tag, other] = [freshTag("cond-items"), freshTag("cond-items-other")];
        const { position } = await store.append(sampleEvents(1, 0, [tag]));
        await store.append(sampleEvents(1, 1, [tag, other])); // a LoanRenewed
        const byTypeAndTag = condition({ items: [{ types: ["LoanRenewed"], tags: [tag] }] }, position);
        expect(await rejection(store.append(sampleEvents(1, 2), byTypeAndTag))).toBeInstanceOf(AppendConditionError);
        const union = condition({ items: [{ tags: [freshTag("nobody")] }, { tags: [other] }] }, position);
        expect(await rejection(store.append(sampleEvents(1, 2), union))).toBeInstanceOf(AppendConditionError);
      });

      it("appends when the events after its position do not match: another tag, another type, or one tag of two", async () => {
        const [tag, other, mine] = [freshTag("free"), freshTag("free-other"), freshTag("free-mine")];
        const { position } = await store.append(sampleEvents(1, 0, [tag]));
        await store.append(sampleEvents(1, 1, [tag])); // a LoanRenewed
        await store.append(sampleEvents(1, 2, [other]));
        const conditions = [
          condition(byTags(freshTag("nobody")), position),
          condition({ items: [{ types: ["AccountRegistered"], tags: [tag] }] }, position),
          condition(byTags(tag, other), position),
          condition({ items: [] }, null),
        ];
        for (const [i, when] of conditions.entries()) await store.append([withTags(accountRegistered(100 + i), [mine])], when);
        expect(await read_(mine)).toHaveLength(conditions.length);
      });

      it("does not count a matching event at the position itself, only after it", async () => {
        const [tag, mine] = [freshTag("at"), freshTag("at-mine")];
        const { position } = await store.append(sampleEvents(2, 0, [tag]));
        const result = await store.append(sampleEvents(1, 2, [mine]), condition(byTags(tag), position));
        expect(result.position > position).toBe(true);
        expect(await read_(mine)).toHaveLength(1);
      });

      it("with `after: null`, appends only when no matching event exists at all", async () => {
        const tag = freshTag("null");
        const first = await store.append(sampleEvents(1, 0, [tag]), condition(byTags(tag), null));
        const error = await rejection(store.append(sampleEvents(1, 1, [tag]), condition(byTags(tag), null)));
        expect(error).toBeInstanceOf(AppendConditionError);
        const conflict = (error as AppendConditionError).conflictingPosition;
        if (conflict !== undefined) expect(conflict).toBe(first.position);
        expect(await read_(tag)).toHaveLength(1);
      });

      it("does not check the batch against its own condition", async () => {
        const tag = freshTag("own");
        const { position } = await store.append(sampleEvents(3, 0, [tag]), condition(byTags(tag), null));
        expect(await store.append(sampleEvents(1, 3, [tag]), condition(byTags(tag), position))).toMatchObject({});
        expect(await read_(tag)).toHaveLength(4);
      });

      it(
        `lets exactly one of each group of overlapping conditions win when ${appenders} appenders race`,
        async () => {
          const groups = Array.from({ length: 4 }, (_, g) => freshTag(`race-${g}`));
          const seeded = await store.append(groups.map((tag, g) => withTags(accountRegistered(g), [tag])));
          const outcomes = await Promise.allSettled(
            Array.from({ length: appenders }, (_, i) => {
              const tag = groups[i % groups.length]!;
              return store.append(sampleEvents(2, 10 + 2 * i, [tag, freshTag("racer")]), condition(byTags(tag), seeded.position));
            }),
          );
          for (const [g, tag] of groups.entries()) {
            const mine = outcomes.filter((_, i) => i % groups.length === g);
            expect(mine.filter((o) => o.status === "fulfilled")).toHaveLength(1);
            for (const o of mine) if (o.status === "rejected") expect(o.reason).toBeInstanceOf(AppendConditionError);
            expect(await read_(tag)).toHaveLength(1 + 2);
          }
        },
        slow,
      );

      it(
        `lets all of ${appenders} appenders with disjoint conditions win`,
        async () => {
          const tags = Array.from({ length: appenders }, (_, i) => freshTag(`disjoint-${i}`));
          const { position } = await store.append(sampleEvents(1, 0, [freshTag("disjoint-start")]));
          const results = await Promise.all(
            tags.map((tag, i) => store.append(sampleEvents(2, 2 * i, [tag]), condition(byTags(tag), position))),
          );
          expect(new Set(results.map((r) => r.position)).size).toBe(appenders);
          for (const tag of tags) expect(await read_(tag)).toHaveLength(2);
        },
        slow,
      );

      it(
        `serialises ${appenders} appenders that read, decide and retry on conflict: each append was decided on everything before it`,
        async () => {
          const tag = freshTag("retry-race");
          const perAppender = 3;
          const won: Array<{ after: bigint | null; position: bigint }> = [];
          const appender = async (a: number) => {
            for (let k = 0; k < perAppender; k++) {
              for (;;) {
                const seen = await read_(tag);
                const after = seen.at(-1)?.position ?? null;
                try {
                  const { position } = await store.append([withTags(accountRegistered(a * 100 + k), [tag])], condition(byTags(tag), after));
                  won.push({ after, position });
                  break;
                } catch (error) {
                  if (!(error instanceof AppendConditionError)) throw error;
                }
              }
            }
          };
          await Promise.all(Array.from({ length: appenders }, (_, a) => appender(a)));
          const stored = await read_(tag);
          expect(stored).toHaveLength(appenders * perAppender);
          const ordered = [...won].sort((x, y) => (x.position < y.position ? -1 : 1));
          expect(ordered.map((w) => w.position)).toEqual(stored.map((e) => e.position));
          ordered.forEach((w, i) => expect(w.after).toBe(i === 0 ? null : ordered[i - 1]!.position));
        },
        slow,
      );
    });

    describe("a batch is all or nothing", () => {
      it("appends nothing and throws InvalidEventError naming the event and field when one event is invalid", async () => {
        const tag = freshTag("invalid");
        const [first, , third] = sampleEvents(3, 0, [tag]);
        const invalid = accountRegistered(7, {}, [tag]);
        const bad = { ...invalid, data: { ...invalid.data, barcode: "no!" } } as NewEvent;
        const error = await rejection(store.append([first!, bad, third!]));
        expect(error).toBeInstanceOf(InvalidEventError);
        expect(error).toMatchObject({ index: 1 });
        expect((error as InvalidEventError).reason).toContain("AccountRegistered.data.barcode");
        expect(await read_(tag)).toEqual([]);
      });

      it("appends nothing when an event's metadata, type or tags are invalid", async () => {
        const tag = freshTag("invalid-more");
        const good = accountRegistered(1, {}, [tag]);
        const badMetadata = { ...good, metadata: { ...good.metadata, eventId: "not-a-uuid" } } as NewEvent;
        const unknownType = { ...good, type: "AccountMerged" } as unknown as NewEvent;
        const emptyTag = { ...accountRegistered(2), tags: [tag, ""] } as NewEvent;
        const noTags = { ...accountRegistered(3), tags: undefined } as unknown as NewEvent;
        const metadataError = await rejection(store.append([good, badMetadata]));
        expect(metadataError).toBeInstanceOf(InvalidEventError);
        expect((metadataError as InvalidEventError).reason).toContain("metadata.eventId");
        expect(await rejection(store.append([unknownType]))).toBeInstanceOf(InvalidEventError);
        for (const [index, batch] of [[1, [good, emptyTag]], [2, [good, good, noTags]]] as const) {
          const error = await rejection(store.append(batch));
          expect(error).toBeInstanceOf(InvalidEventError);
          expect(error).toMatchObject({ index });
          expect((error as InvalidEventError).reason).toContain("tags");
        }
        expect(await read_(tag)).toEqual([]);
      });

      it("appends nothing of a batch whose condition fails", async () => {
        const [tag, mine] = [freshTag("conflicting-batch"), freshTag("conflicting-batch-mine")];
        await store.append(sampleEvents(2, 0, [tag]));
        const error = await rejection(store.append(sampleEvents(5, 2, [mine]), { failIfEventsMatch: byTags(tag), after: null }));
        expect(error).toBeInstanceOf(AppendConditionError);
        expect(await read_(mine)).toEqual([]);
      });

      it("refuses an empty batch", async () => {
        const before = await store.head();
        await expect(store.append([])).rejects.toThrow();
        expect(await store.head()).toBe(before);
      });
    });

    describe.skipIf(options.plantStoredEvent === undefined)("a stored event that no longer decodes", () => {
      const plant = async (row: StoredEvent) => {
        await options.plantStoredEvent!(store, row);
      };

      it("stops read and readAll with StoredEventDecodeError naming position, type and field", async () => {
        const tag = freshTag("undecodable");
        const before = await store.append(sampleEvents(1, 0, [tag]));
        const good = accountRegistered(2);
        // As a hand edit or an older writer might have left it: a barcode the catalog refuses.
        await plant({ type: "AccountRegistered", data: { ...good.data, barcode: "??" }, metadata: { ...good.metadata }, tags: [tag] });
        const after = await store.append(sampleEvents(1, 3, [tag]));

        for (const reading of [store.read(byTags(tag)), store.readAll({ from: before.position })]) {
          const { yielded, error } = await collectUntilError(reading);
          expect(yielded.filter((e) => e.tags.includes(tag)).map((e) => e.position)).toEqual([before.position]);
          expect(error).toBeInstanceOf(StoredEventDecodeError);
          const decodeError = error as StoredEventDecodeError;
          expect(decodeError).toMatchObject({ type: "AccountRegistered" });
          expect(decodeError.position > before.position && decodeError.position < after.position).toBe(true);
          expect(decodeError.reason).toContain("AccountRegistered.data.barcode");
          expect(decodeError.message).toContain(String(decodeError.position));
        }
        // Reading past it, from the next position, works again: nothing else is affected.
        expect((await read(byTags(tag), after.position)).map((e) => e.position)).toEqual([after.position]);
      });

      it("stops the read on a type the catalog does not know, rather than skipping it", async () => {
        const tag = freshTag("unknown-type");
        await plant({ type: "AccountMerged", data: { accountId: "a-1" }, metadata: { ...sampleMetadata() }, tags: [tag] });
        const { yielded, error } = await collectUntilError(store.read(byTags(tag)));
        expect(yielded).toEqual([]);
        expect(error).toBeInstanceOf(StoredEventDecodeError);
        expect(error).toMatchObject({ type: "AccountMerged" });
      });
    });

    describe("scale", () => {
      it(
        `reads ${largeReadEvents} events complete and in order, by tag, by a sparse tag, with a limit, and in readAll`,
        async () => {
          const [big, sparse] = [freshTag("large"), freshTag("large-sparse")];
          const events = sampleEvents(largeReadEvents, 0, [big]).map((e, i) => (i % 7 === 3 ? withTags(e, [big, sparse]) : e));
          for (let i = 0; i < events.length; i += 500) await store.append(events.slice(i, i + 500));
          const back = await read_(big);
          expect(back).toHaveLength(largeReadEvents);
          back.forEach((e, i) => {
            if (e.metadata.eventId !== events[i]!.metadata.eventId) expect.fail(`event ${i} read back as eventId ${e.metadata.eventId}`);
          });
          expectStrictlyIncreasing(back.map((e) => e.position));
          expect(idsOf(await read_(sparse))).toEqual(idsOf(events.filter((_, i) => i % 7 === 3)));
          const middle = back[Math.floor(largeReadEvents / 3)]!.position;
          const window = await read(byTags(big), middle, 1500);
          expect(idsOf(window)).toEqual(idsOf(back.filter((e) => e.position >= middle).slice(0, 1500)));
          expect(idsOf(await readAllOf(idsOf(events), back[0]!.position))).toEqual(idsOf(events));
        },
        slow,
      );
    });

  });
};
