/**
 * The EventStoreDB store (`@eventstore/db-client`): the port over a server built
 * for events. Revisions, conflicts and the global order are the server's own;
 * this module maps them (see `eventstoredb-mapping.ts`) and decodes every event
 * through the Mapper, like every other store.
 *
 * `readAll` reads every non-system event of the server: keep a database for
 * linked accounts alone, or foreign events will stop the read as undecodable.
 */
import {
  EventStoreDBClient,
  FORWARDS,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from "@eventstore/db-client";
import type { AppendResult, EventStore, ReadAllOptions, ReadStreamOptions } from "./event-store.js";
import {
  fromEsdbEvent,
  isSystemEvent,
  toConcurrencyError,
  toEsdbExpectedRevision,
  toEventData,
  toPortPosition,
  toReadFrom,
} from "./eventstoredb-mapping.js";
import { toStoredBatch } from "./mapper.js";

export interface EventStoreDbEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false` */
  readonly connectionString: string;
}

export const createEventStoreDbEventStore = (options: EventStoreDbEventStoreOptions): EventStore => {
  const client = EventStoreDBClient.connectionString(options.connectionString);

  return {
    async appendToStream(stream, events, appendOptions): Promise<AppendResult> {
      const batch = toStoredBatch(stream, events);
      const expected = appendOptions?.expectedRevision ?? "any";
      try {
        const result = await client.appendToStream(stream, batch.map(toEventData), {
          expectedRevision: toEsdbExpectedRevision(expected),
        });
        if (result.position === undefined) throw new Error(`EventStoreDB returned no position for the append to ${stream}`);
        return { nextExpectedRevision: result.nextExpectedRevision, position: toPortPosition(result.position.commit) };
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) throw toConcurrencyError(stream, expected, error);
        throw error;
      }
    },

    async *readStream(stream: string, readOptions?: ReadStreamOptions) {
      if (readOptions?.maxCount === 0) return;
      const read = client.readStream(stream, {
        direction: FORWARDS,
        ...(readOptions?.fromRevision !== undefined && { fromRevision: readOptions.fromRevision }),
        ...(readOptions?.maxCount !== undefined && { maxCount: readOptions.maxCount }),
      });
      try {
        for await (const resolved of read) if (resolved.event !== undefined) yield fromEsdbEvent(resolved.event);
      } catch (error) {
        // The port's answer for a stream that does not exist: nothing.
        if (error instanceof StreamNotFoundError) return;
        throw error;
      } finally {
        await read.cancel().catch(() => undefined);
      }
    },

    async *readAll(readOptions?: ReadAllOptions) {
      const { from, keepFrom } = toReadFrom(readOptions?.fromPosition);
      // Client 6.2.1's readAll takes no server-side filter (only subscriptions do),
      // so system events are left out here, by the rule of `excludeSystemEvents`.
      const read = client.readAll({ direction: FORWARDS, fromPosition: from });
      try {
        for await (const resolved of read) {
          const event = resolved.event;
          if (event === undefined || isSystemEvent(event)) continue;
          const recorded = fromEsdbEvent(event);
          if (recorded.position >= keepFrom) yield recorded;
        }
      } finally {
        await read.cancel().catch(() => undefined);
      }
    },

    async close() {
      await client.dispose();
    },
  };
};
