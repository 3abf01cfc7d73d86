import { describe, expect, it } from "vitest";
import { keysetPages } from "./keyset-pages.js";

/** Rows 1..n as keys; each fetch is recorded and answered after a macrotask (as a database would). */
const source = (n: number, options: { failAt?: bigint } = {}) => {
  const fetches: Array<{ from: bigint; size: number }> = [];
  const fetch = async (from: bigint, size: number): Promise<bigint[]> => {
    fetches.push({ from, size });
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (options.failAt !== undefined && from >= options.failAt) throw new Error(`fetch from ${from} failed`);
    const rows: bigint[] = [];
    for (let k = from; k <= BigInt(n) && rows.length < size; k++) rows.push(k);
    return rows;
  };
  return { fetch, fetches };
};

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
};

describe("keysetPages", () => {
  it("hands over every row once, in key order, each page starting after the last key of the one before", async () => {
    const { fetch, fetches } = source(25);
    const rows = await collect(keysetPages({ fetch, keyOf: (k) => k, from: 1n, pageSize: 10, map: (k) => Number(k) }));
    expect(rows).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // The third page is short: the read ends without asking again.
    expect(fetches).toEqual([
      { from: 1n, size: 10 },
      { from: 11n, size: 10 },
      { from: 21n, size: 10 },
    ]);
  });

  it("asks once more after a full last page, and stops at maxCount without fetching past it", async () => {
    const full = source(20);
    expect(await collect(keysetPages({ fetch: full.fetch, keyOf: (k) => k, from: 1n, pageSize: 10, map: Number }))).toHaveLength(20);
    expect(full.fetches.map((f) => f.from)).toEqual([1n, 11n, 21n]);

    const limited = source(100);
    const rows = await collect(keysetPages({ fetch: limited.fetch, keyOf: (k) => k, from: 5n, pageSize: 10, maxCount: 15, map: Number }));
    expect(rows).toEqual(Array.from({ length: 15 }, (_, i) => i + 5));
    expect(limited.fetches).toEqual([
      { from: 5n, size: 10 },
      { from: 15n, size: 5 },
    ]);

    const none = source(10);
    expect(await collect(keysetPages({ fetch: none.fetch, keyOf: (k) => k, from: 1n, pageSize: 10, maxCount: 0, map: Number }))).toEqual([]);
    expect(none.fetches).toEqual([]);
  });

  it("answers calls to next made all at once in the order made, across page fetches", async () => {
    const { fetch } = source(7);
    const pages = keysetPages({ fetch, keyOf: (k) => k, from: 1n, pageSize: 3, map: Number });
    const answers = await Promise.all(Array.from({ length: 9 }, () => pages.next()));
    expect(answers).toEqual([
      ...Array.from({ length: 7 }, (_, i) => ({ done: false, value: i + 1 })),
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  it("stops at a row that does not map: every row before it first, then that error, then done", async () => {
    const { fetch, fetches } = source(30);
    const pages = keysetPages({
      fetch,
      keyOf: (k) => k,
      from: 1n,
      pageSize: 10,
      map: (k) => {
        if (k === 14n) throw new Error("row 14 does not decode");
        return Number(k);
      },
    });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of pages) seen.push(value);
      })(),
    ).rejects.toThrow("row 14 does not decode");
    expect(seen).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(await pages.next()).toEqual({ done: true, value: undefined });
    expect(fetches).toHaveLength(2);
  });

  it("fails the next that met a failed fetch (after every row of the pages before), and is done after it", async () => {
    const { fetch } = source(30, { failAt: 11n });
    const pages = keysetPages({ fetch, keyOf: (k) => k, from: 1n, pageSize: 10, map: Number });
    const answers = await Promise.allSettled(Array.from({ length: 12 }, () => pages.next()));
    expect(answers.slice(0, 10).map((a) => (a.status === "fulfilled" ? a.value.value : a.reason))).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    expect(answers[10]).toMatchObject({ status: "rejected", reason: new Error("fetch from 11 failed") });
    expect(answers[11]).toEqual({ status: "fulfilled", value: { done: true, value: undefined } });
  });

  it("fetches nothing more once a loop breaks out, even with a page on its way", async () => {
    const { fetch, fetches } = source(100);
    const seen: number[] = [];
    for await (const value of keysetPages({ fetch, keyOf: (k) => k, from: 1n, pageSize: 10, map: Number })) {
      seen.push(value);
      if (value === 10) break;
    }
    expect(seen).toHaveLength(10);
    expect(fetches).toHaveLength(1);

    const pages = keysetPages({ fetch, keyOf: (k) => k, from: 1n, pageSize: 10, map: Number });
    const first = pages.next(); // the first page is on its way
    await pages.return!();
    expect(await first).toEqual({ done: true, value: undefined });
    expect(await pages.next()).toEqual({ done: true, value: undefined });
  });
});
