import { describe, expect, it } from "vitest";
import { eventStoreContract } from "./contract/index.js";
import { sampleEvents } from "./contract/sample-events.js";
import { createInMemoryEventStore, plantStoredEvent } from "./in-memory-store.js";

eventStoreContract("in-memory", createInMemoryEventStore, { plantStoredEvent });

describe("in-memory store", () => {
  it("keeps each store's events to itself", async () => {
    const [a, b] = [createInMemoryEventStore(), createInMemoryEventStore()];
    await a.appendToStream("s", sampleEvents(2));
    const inB: unknown[] = [];
    for await (const e of b.readAll()) inB.push(e);
    expect(inB).toEqual([]);
  });

  it("plants rows only in stores it made", () => {
    const foreign = { ...createInMemoryEventStore() };
    expect(() => plantStoredEvent(foreign, "s", { type: "X", data: {}, metadata: {} })).toThrow(/not an in-memory event store/);
  });
});
