import { describe, expect, it } from "vitest";
import { eventStoreContract } from "./contract/index.js";
import { sampleEvents } from "./contract/sample-events.js";
import { createInMemoryEventStore, createInMemoryLog, plantStoredEvent } from "./in-memory-store.js";

eventStoreContract("in-memory", createInMemoryEventStore, { plantStoredEvent });

describe("in-memory store", () => {
  it("keeps each store's events to itself", async () => {
    const [a, b] = [createInMemoryEventStore(), createInMemoryEventStore()];
    await a.append(sampleEvents(2, 0, ["t"]));
    const inB: unknown[] = [];
    for await (const e of b.readAll()) inB.push(e);
    expect(inB).toEqual([]);
    expect(await b.head()).toBe(0n);
  });

  it("plants rows only in stores it made", () => {
    const foreign = { ...createInMemoryLog() };
    expect(() => plantStoredEvent(foreign, { type: "X", data: {}, metadata: {}, tags: [] })).toThrow(/not an in-memory event store/);
  });
});
