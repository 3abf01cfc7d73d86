/**
 * A read model that declares what it reads (`Projection.reads`) is fed from a
 * sealing store's log, opened only where it reads a personal field: the access
 * graph has its barcodes in the clear (or `[erased]`), never `[sealed]`, and the
 * same state as a fold over every event opened, for far fewer keys.
 */
import { describe, expect, it } from "vitest";
import { type KeyStore, type NewEvent, StoredEventDecodeError, createInMemoryEventStore, createInMemoryKeyStore } from "@linked-accounts/adapters";
import { sampleMetadata } from "@linked-accounts/adapters/contract";
import type { EventEnvelope, StoredEnvelope } from "@linked-accounts/domain/internal";
import { accessGraphProjection, accessNow } from "./access-graph.js";
import { accessGraphFrom } from "./from-store.js";
import { type Projection, foldEvents } from "./projection.js";
import type { PositionedEvent } from "./projection.js";
import { readModelsProjection, linkedLoansOf } from "./read-models.js";
import { createRunner } from "./runner.js";
import { typesToOpen } from "./sealed-reads.js";
import { everyKindStory } from "./test-support.js";

const story = everyKindStory();
const stored = (e: (typeof story)[number]) => {
  const { position: _p, stream: _s, ...event } = e;
  return event as EventEnvelope & { tags: ReadonlyArray<string> };
};

/** A key store that writes down every subject it is asked to find. */
const counting = (): { keys: KeyStore; asked: string[] } => {
  const inner = createInMemoryKeyStore();
  const asked: string[] = [];
  return {
    asked,
    keys: {
      find: (subjects) => {
        asked.push(...subjects);
        return inner.find(subjects);
      },
      create: (keys) => inner.create(keys),
      forget: (subjects) => inner.forget(subjects),
      close: () => inner.close(),
    },
  };
};

const rebuilt = async <S>(source: Parameters<typeof createRunner>[0]["source"], projection: Projection<S>, batchSize = 5): Promise<S> => {
  const runner = createRunner({ source, projection, batchSize });
  await runner.catchUp();
  return runner.state();
};

const everything = async (store: { readAll(): AsyncIterable<PositionedEvent> }): Promise<PositionedEvent[]> => {
  const out: PositionedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
};

describe("a read model that says what it reads, over a store that seals personal data", () => {
  it("the access graph reads registrations opened and nothing else: only account keys are looked up, and the state is the fully opened fold's", async () => {
    expect([...typesToOpen(accessGraphProjection.reads!)]).toEqual(["AccountRegistered"]);
    const { keys, asked } = counting();
    // Trusting no cached key (keyCacheMs 0), so that every key the read needs is asked of the key store.
    const store = createInMemoryEventStore({ keys, keyCacheMs: 0 });
    // Up to kid's closure: nothing erased yet, every barcode in the clear.
    for (const e of story.slice(0, 31)) await store.append([stored(e)]);
    asked.length = 0;
    const graph = await rebuilt(store, accessGraphProjection);
    // Three registrations, in pages of 5: one lookup each for their accounts; no loan, hold or revocation key.
    expect([...new Set(asked)].sort()).toEqual(["account:kid", "account:mum", "account:nan"]);
    const view = accessNow(graph);
    expect(view.account("kid")?.barcode).toBe("kid00001");
    expect(view.account("NAN00001")?.accountId).toBe("nan");
    const opened = foldEvents(accessGraphProjection, await everything(store));
    expect(accessGraphProjection.serialise(graph)).toEqual(accessGraphProjection.serialise(opened));
    expect(JSON.stringify(accessGraphProjection.serialise(graph))).not.toContain("[sealed]");
    // The one-off read the README shows goes the same way.
    expect((await accessGraphFrom(store)).account("mum00001")?.accountId).toBe("mum");
  });

  it("after an erasure the erased barcode reads [erased] and finds no one, as in the fully opened fold", async () => {
    const store = createInMemoryEventStore();
    for (const e of story) await store.append([stored(e)]);
    const graph = await rebuilt(store, accessGraphProjection, 7);
    expect(accessNow(graph).account("kid")?.barcode).toBe("[erased]");
    expect(accessNow(graph).account("kid00001")).toBeUndefined();
    expect(accessGraphProjection.serialise(graph)).toEqual(accessGraphProjection.serialise(foldEvents(accessGraphProjection, await everything(store))));
  });

  it("a read model that declares nothing still gets every event opened (titles in the clear)", async () => {
    const store = createInMemoryEventStore();
    for (const e of story.slice(0, 27)) await store.append([stored(e)]);
    expect(readModelsProjection.reads).toBeUndefined();
    const models = await rebuilt(store, readModelsProjection);
    const mum = linkedLoansOf(models, "mum").accounts.find((a) => a.accountId === "mum")!;
    expect(mum.loans.map((l) => l.title)).toEqual(["Mum Reads Alone"]);
    expect(readModelsProjection.serialise(models)).toEqual(readModelsProjection.serialise(foldEvents(readModelsProjection, await everything(store))));
  });

  it("a sealed registration that does not open stops the rebuild at its position, as the store's own read does; the events before it are applied", async () => {
    const store = createInMemoryEventStore();
    for (const e of story.slice(0, 6)) await store.append([stored(e)]);
    const bad = {
      type: "AccountRegistered",
      data: { accountId: "zed", minor: false, registeredAt: "2026-03-03T09:15:00.000Z", sealed: { subjects: "account:mum", iv: "AAAAAAAAAAAAAAAA", ct: "A".repeat(40) } },
      metadata: sampleMetadata(),
      tags: ["account:zed"],
    } as unknown as NewEvent<StoredEnvelope>;
    const { position } = await store.log.append([bad]);
    const fromStore = await everything(store).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(fromStore).toBeInstanceOf(StoredEventDecodeError);
    const runner = createRunner({ source: store, projection: accessGraphProjection, batchSize: 100 });
    const error = await runner.catchUp().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoredEventDecodeError);
    expect((error as StoredEventDecodeError).position).toBe(position);
    expect((error as StoredEventDecodeError).message).toBe((fromStore as StoredEventDecodeError).message);
    expect(runner.position()).toBe(position - 1n);
  });
});
