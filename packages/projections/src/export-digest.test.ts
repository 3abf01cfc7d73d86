/**
 * The running SHA-256 an export's trailer is checked against gives the digest
 * of exactly the bytes it was given, in order, whether it hashes them here or
 * on its worker thread, however the bytes come in pieces, and though the
 * caller reuses its buffer as soon as `update` returns.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runningDigest } from "./export-digest.js";

const numRuns = Number(process.env["FC_RUNS"] ?? 30);

/** Hands each piece over from one reused buffer (overwritten after each update), as a file reader does. */
const digestOf = async (pieces: ReadonlyArray<Uint8Array>, offThreadFrom: number, awaitReady: boolean): Promise<string> => {
  const digest = runningDigest({ offThreadFrom });
  const reused = Buffer.alloc(Math.max(1, ...pieces.map((p) => p.length)));
  try {
    for (const piece of pieces) {
      reused.set(piece);
      digest.update(reused.subarray(0, piece.length));
      reused.fill(0xa5);
      if (awaitReady) await digest.ready();
    }
    return await digest.digest();
  } finally {
    digest.close();
  }
};

const expected = (pieces: ReadonlyArray<Uint8Array>): string => {
  const hash = createHash("sha256");
  for (const piece of pieces) hash.update(piece);
  return hash.digest("hex");
};

describe("runningDigest", () => {
  it("is the SHA-256 of every byte given, hashed here or on the worker, in any pieces", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 12 }),
        fc.constantFrom(0, 1, 2000, Infinity),
        fc.boolean(),
        async (pieces, offThreadFrom, awaitReady) => {
          expect(await digestOf(pieces, offThreadFrom, awaitReady)).toBe(expected(pieces));
        },
      ),
      { numRuns },
    );
  });

  it("keeps every byte in order when more comes than the worker's buffers hold (pieces of a megabyte and odd sizes)", async () => {
    const sizes = [1 << 20, (1 << 20) + 7, 3, 5 << 20, 0, (1 << 20) - 1, 2 << 20, 11];
    let seed = 1;
    const pieces = sizes.map((n) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    for (const awaitReady of [false, true]) expect(await digestOf(pieces, 1 << 20, awaitReady)).toBe(expected(pieces));
  });

  it("an empty input has the SHA-256 of nothing", async () => {
    expect(await digestOf([], 0, true)).toBe(createHash("sha256").digest("hex"));
  });
});
