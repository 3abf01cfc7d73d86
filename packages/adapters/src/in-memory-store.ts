/**
 * The in-memory twin of the event store: for tests, examples and hosts that
 * keep nothing. It stores what the real stores store (encoded JSON and tags,
 * through the Mapper) and decodes on the way out, so it fails exactly where
 * they would.
 */
import { type Query, matchesQuery } from "@linked-accounts/domain/internal";
import {
  type AppendCondition,
  AppendConditionError,
  type AppendResult,
  type EventLog,
  type NewEvent,
  type ReadAllOptions,
  type ReadOptions,
  type RecordedEvent,
  type StoredEnvelope,
} from "./event-store.js";
import { openInMemoryKeyStore } from "./in-memory-key-store.js";
import type { KeyLookup } from "./key-store.js";
import { type StoredEvent, fromStored, toStoredBatch } from "./mapper.js";
import { type KeysNotStored, type PersonalDataOptions, type SealingEventStore, sealingStore } from "./personal-data.js";

/** Reached only through `plantStoredEvent`, so tests can store what `append` would refuse. */
const logs = new WeakMap<EventLog, StoredEvent[]>();

/** The first event after `condition.after` that matches its query, by position; or undefined. */
const firstConflict = (log: ReadonlyArray<StoredEvent>, condition: AppendCondition): bigint | undefined => {
  const from = condition.after === null ? 0 : Number(condition.after);
  for (let i = Math.max(0, from); i < log.length; i++)
    if (matchesQuery(condition.failIfEventsMatch, log[i]!)) return BigInt(i + 1);
  return undefined;
};

/**
 * The in-memory store: its personal data sealed under keys kept in memory
 * beside it (or in `personalData.keys`), so it behaves as the real stores do.
 */
export const createInMemoryEventStore = (personalData: PersonalDataOptions = {}): SealingEventStore => {
  const { log, appendWith } = openInMemoryLog();
  if (personalData.keys !== undefined) return sealingStore(log, personalData.keys, { ...personalData, ownsKeys: false });
  // Its own keys: a new key is stored by the append that needs it, as the SQL stores do in one transaction.
  const { store: keys, createNow } = openInMemoryKeyStore();
  return sealingStore(log, keys, {
    ...personalData,
    ownsKeys: true,
    appendCreatingKeys: async (events, condition, newKeys) => appendWith(events, condition, () => createNow(newKeys)),
  });
};

/** The log underneath the in-memory store: events as kept, personal fields sealed. */
export const createInMemoryLog = (): EventLog => openInMemoryLog().log;

/**
 * The log, and `appendWith`: its append with `createKeys` run between the
 * condition check and the push (nothing awaited in between); when that answers
 * what is stored instead (a key it could not store as given), nothing is pushed.
 */
const openInMemoryLog = (): {
  log: EventLog;
  appendWith: (events: ReadonlyArray<NewEvent<StoredEnvelope>>, condition: AppendCondition | undefined, createKeys: () => KeyLookup | null) => AppendResult | KeysNotStored;
} => {
  // Position = index + 1.
  const log: StoredEvent[] = [];
  const decode = (i: number): RecordedEvent<StoredEnvelope> => fromStored(log[i]!, BigInt(i + 1));

  async function* scan(query: Query | undefined, from: bigint | undefined, limit: number): AsyncGenerator<RecordedEvent<StoredEnvelope>> {
    let left = limit;
    // Reading on while others append sees their events too.
    for (let i = from === undefined || from < 1n ? 0 : Number(from - 1n); i < log.length && left > 0; i++) {
      if (query !== undefined && !matchesQuery(query, log[i]!)) continue;
      left -= 1;
      yield decode(i);
    }
  }

  // Everything between the check and the pushes is synchronous, so a batch is
  // all-or-nothing and concurrent appenders are serialised by the event loop.
  const appendWith = (
    events: ReadonlyArray<NewEvent<StoredEnvelope>>,
    condition: AppendCondition | undefined,
    createKeys?: () => KeyLookup | null,
  ): AppendResult | KeysNotStored => {
    const batch = toStoredBatch(events);
    if (condition !== undefined) {
      const conflict = firstConflict(log, condition);
      if (conflict !== undefined) throw new AppendConditionError(condition, conflict);
    }
    const stored = createKeys?.() ?? null;
    if (stored !== null) return { stored };
    log.push(...batch);
    return { position: BigInt(log.length) };
  };

  const store: EventLog = {
    async append(events, condition) {
      return appendWith(events, condition) as AppendResult;
    },
    read: (query, options?: ReadOptions) => scan(query, options?.from, options?.limit ?? Number.POSITIVE_INFINITY),
    readAll: (options?: ReadAllOptions) => scan(undefined, options?.from, Number.POSITIVE_INFINITY),
    async head() {
      return BigInt(log.length);
    },
    async close() {},
  };
  logs.set(store, log);
  return { log: store, appendWith };
};

/**
 * Test-only: stores `stored` at the end of the log without checking it, as a
 * row written by an older version or edited by hand would be. Lets the contract
 * suite check that such a row stops a read with `StoredEventDecodeError`.
 */
export const plantStoredEvent = (store: EventLog | SealingEventStore, stored: StoredEvent): void => {
  const log = logs.get("log" in store ? store.log : store);
  if (log === undefined) throw new TypeError("plantStoredEvent: not an in-memory event store");
  log.push(stored);
};
