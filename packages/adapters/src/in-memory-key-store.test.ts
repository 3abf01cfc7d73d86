import { describe, expect, it } from "vitest";
import { keyStoreContract } from "./contract/key-store.js";
import { createInMemoryKeyStore } from "./in-memory-key-store.js";

keyStoreContract("in memory", async () => ({ keys: createInMemoryKeyStore() }));

describe("in-memory key store", () => {
  it("keeps each store's keys to itself", async () => {
    const [one, other] = [createInMemoryKeyStore(), createInMemoryKeyStore()];
    await one.create(new Map([["account:A1", new Uint8Array(32).fill(7)]]));
    expect((await other.find(["account:A1"])).size).toBe(0);
    expect((await one.find(["account:A1"])).size).toBe(1);
  });
});
