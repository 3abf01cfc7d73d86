/**
 * The key store contract: the same vitest specification for every key store
 * (the port is `../key-store.ts`). A host's own store, a KMS for instance, is a
 * `KeyStore` when it passes it:
 *
 *   import { keyStoreContract } from "@linked-accounts/adapters/contract";
 *   keyStoreContract("my KMS", async () => ({ keys: createMyKeyStore(), cleanup: dropMyTestData }));
 *
 * It opens one store for the whole suite (closed, then `cleanup` run, at the
 * end) and never assumes the store starts empty: every test names subjects of
 * its own (a random run id in each), so a shared database or server is fine.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_BYTES, type KeyLookup, type KeyStore, KeyStoreError } from "../key-store.js";

/** What the contract opens: a store, and what to run after it is closed (dropping a schema, deleting a file). */
export interface OpenedKeyStore {
  readonly keys: KeyStore;
  readonly cleanup?: () => Promise<void>;
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

const hex = (bytes: Uint8Array | null | undefined): string | null | undefined =>
  bytes === null || bytes === undefined ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

/** A lookup as comparable text: subject → key in hex, `null` when forgotten; subjects in sorted order. */
const shown = (lookup: KeyLookup): Record<string, string | null> => {
  const entries = [...lookup].map(([subject, key]) => [subject, hex(key) ?? null] as const);
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
};

const newKey = (): Uint8Array => new Uint8Array(randomBytes(KEY_BYTES));

export const keyStoreContract = (name: string, open: () => Promise<OpenedKeyStore>): void => {
  const run = randomUUID();
  let counter = 0;
  /** A subject no other test (or earlier run against the same storage) uses. */
  const fresh = (label: string): string => `contract:${label}:${run}:${++counter}`;

  describe(`KeyStore contract: ${name}`, () => {
    let opened: OpenedKeyStore | undefined;
    const store = (): KeyStore => opened!.keys;
    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => {
      await opened?.keys.close();
      await opened?.cleanup?.();
    });

    describe("find", () => {
      it("answers no entry for subjects that never had a key, and nothing for no subjects", async () => {
        const found = await store().find([fresh("unknown-a"), fresh("unknown-b")]);
        expect(found.size).toBe(0);
        expect((await store().find([])).size).toBe(0);
      });

      it("answers the subjects asked for and no others", async () => {
        const [a, b, c] = [fresh("asked-a"), fresh("asked-b"), fresh("asked-c")];
        const [ka, kb] = [newKey(), newKey()];
        await store().create(new Map([[a, ka], [b, kb]]));
        expect(shown(await store().find([a, c]))).toEqual({ [a]: hex(ka) });
        expect(shown(await store().find([b, b]))).toEqual({ [b]: hex(kb) });
      });
    });

    describe("create", () => {
      it("stores a new subject's key and answers it; find then gives the same bytes", async () => {
        const subject = fresh("created");
        const key = newKey();
        const answered = await store().create(new Map([[subject, key]]));
        expect(shown(answered)).toEqual({ [subject]: hex(key) });
        expect(shown(await store().find([subject]))).toEqual({ [subject]: hex(key) });
      });

      it("keeps every byte value exactly (zeros, 0xff, bytes that are not text)", async () => {
        const [low, high] = [fresh("bytes-low"), fresh("bytes-high")];
        const lowKey = Uint8Array.from({ length: KEY_BYTES }, (_, i) => i); // starts with 0x00
        const highKey = Uint8Array.from({ length: KEY_BYTES }, (_, i) => 255 - i); // 0xff, 0xfe, …: invalid UTF-8
        await store().create(new Map([[low, lowKey], [high, highKey]]));
        const found = await store().find([low, high]);
        expect([...found.get(low)!]).toEqual([...lowKey]);
        expect([...found.get(high)!]).toEqual([...highKey]);
      });

      it("keeps subjects of any characters apart, up to 300 of them long", async () => {
        const base = fresh("chars");
        const subjects = [`${base}:quote'"\\`, `${base}:ünï😀`, `${base}:ÜNÏ😀`, `${base}:${"x".repeat(300 - base.length - 1)}`];
        expect(subjects[3]).toHaveLength(300);
        const keys = new Map(subjects.map((s) => [s, newKey()] as const));
        await store().create(keys);
        expect(shown(await store().find(subjects))).toEqual(shown(keys));
      });

      it("answers the first key of a subject that has one, not the key given again, and keeps the first", async () => {
        const [old, young] = [fresh("first"), fresh("second")];
        const first = newKey();
        await store().create(new Map([[old, first]]));
        const [again, youngKey] = [newKey(), newKey()];
        const answered = await store().create(new Map([[old, again], [young, youngKey]]));
        expect(shown(answered)).toEqual({ [old]: hex(first), [young]: hex(youngKey) });
        expect(shown(await store().find([old, young]))).toEqual({ [old]: hex(first), [young]: hex(youngKey) });
      });

      it("creates nothing for no keys", async () => {
        expect((await store().create(new Map())).size).toBe(0);
      });
    });

    describe("forget", () => {
      it("forgets a key for good: find answers null, and create answers null and stores nothing", async () => {
        const [gone, kept] = [fresh("forgotten"), fresh("kept")];
        const keptKey = newKey();
        await store().create(new Map([[gone, newKey()], [kept, keptKey]]));
        await store().forget([gone]);
        expect(shown(await store().find([gone, kept]))).toEqual({ [gone]: null, [kept]: hex(keptKey) });
        const answered = await store().create(new Map([[gone, newKey()]]));
        expect(answered.has(gone)).toBe(true);
        expect(answered.get(gone)).toBeNull();
        expect(shown(await store().find([gone]))).toEqual({ [gone]: null });
      });

      it("leaves a tombstone for a subject that never had a key: find answers null, create answers null", async () => {
        const subject = fresh("never-had");
        await store().forget([subject]);
        expect(shown(await store().find([subject]))).toEqual({ [subject]: null });
        expect(shown(await store().create(new Map([[subject, newKey()]])))).toEqual({ [subject]: null });
        expect(shown(await store().find([subject]))).toEqual({ [subject]: null });
      });

      it("is idempotent: forgetting again, or twice in one call, changes nothing and does not fail", async () => {
        const [a, b] = [fresh("twice-a"), fresh("twice-b")];
        await store().create(new Map([[a, newKey()]]));
        await store().forget([a, a, b]);
        await store().forget([a, b]);
        await store().forget([b]);
        expect(shown(await store().find([a, b]))).toEqual({ [a]: null, [b]: null });
      });

      it("forgets nothing for no subjects", async () => {
        const subject = fresh("untouched");
        const key = newKey();
        await store().create(new Map([[subject, key]]));
        await store().forget([]);
        expect(shown(await store().find([subject]))).toEqual({ [subject]: hex(key) });
      });
    });

    describe("subjects belonging to others", () => {
      it("forgets every subject belonging to a forgotten one, and nothing of its neighbours", async () => {
        const owner = fresh("owner");
        const [loan, hold] = [`${owner}/loan:1`, `${owner}/hold:1`];
        // A subject whose name starts with the owner's but belongs to another, and the owner of another.
        const [sibling, siblingLoan] = [`${owner}x`, `${owner}x/loan:1`];
        const keys = new Map([owner, loan, hold, sibling, siblingLoan].map((s) => [s, newKey()] as const));
        await store().create(keys);
        await store().forget([owner]);
        expect(shown(await store().find([...keys.keys()]))).toEqual(
          shown(new Map([[owner, null], [loan, null], [hold, null], [sibling, keys.get(sibling)!], [siblingLoan, keys.get(siblingLoan)!]])),
        );
      });

      it("forgets one subject belonging to another alone", async () => {
        const owner = fresh("owner");
        const [gone, kept] = [`${owner}/loan:gone`, `${owner}/loan:kept`];
        const keys = new Map([owner, gone, kept].map((s) => [s, newKey()] as const));
        await store().create(keys);
        await store().forget([gone]);
        expect(shown(await store().find([owner, gone, kept]))).toEqual(shown(new Map([[owner, keys.get(owner)!], [gone, null], [kept, keys.get(kept)!]])));
      });

      it("creates nothing beneath a forgotten subject, nor beneath one forgotten before it had a key: the answer and find say null", async () => {
        const [had, never] = [fresh("had"), fresh("never")];
        await store().create(new Map([[had, newKey()]]));
        await store().forget([had, never]);
        const beneath = [`${had}/loan:new`, `${never}/hold:new`];
        expect(shown(await store().create(new Map(beneath.map((s) => [s, newKey()] as const))))).toEqual({ [beneath[0]!]: null, [beneath[1]!]: null });
        expect(shown(await store().find(beneath))).toEqual({ [beneath[0]!]: null, [beneath[1]!]: null });
      });

      it("creates an owner and what belongs to it in one call, and forgets 1,000 belonging to one owner with it", async () => {
        const owner = fresh("owner");
        const loans = Array.from({ length: 1000 }, (_, i) => `${owner}/loan:${i}`);
        const keys = new Map([owner, ...loans].map((s) => [s, newKey()] as const));
        expect(shown(await store().create(keys))).toEqual(shown(keys));
        await store().forget([owner]);
        const found = await store().find(loans);
        expect(found.size).toBe(1000);
        expect([...found.values()].every((key) => key === null)).toBe(true);
      });
    });

    describe("batches", () => {
      it("creates, finds and forgets 1,000 subjects in one call each", async () => {
        const base = fresh("batch");
        const subjects = Array.from({ length: 1000 }, (_, i) => `${base}:${i}`);
        const keys = new Map(subjects.map((s) => [s, newKey()] as const));
        expect(shown(await store().create(keys))).toEqual(shown(keys));
        expect(shown(await store().find(subjects))).toEqual(shown(keys));
        // The same 1,000 again with other keys: each answers its first key.
        expect(shown(await store().create(new Map(subjects.map((s) => [s, newKey()] as const))))).toEqual(shown(keys));
        const forgotten = subjects.filter((_, i) => i % 2 === 0);
        await store().forget(forgotten);
        const expected = new Map(subjects.map((s, i) => [s, i % 2 === 0 ? null : keys.get(s)!] as const));
        expect(shown(await store().find(subjects))).toEqual(shown(expected));
      });
    });

    describe("refusals", () => {
      it.each([0, KEY_BYTES - 1, KEY_BYTES + 1])("refuses a key of %i bytes with a KeyStoreError naming its subject, and stores nothing of the batch", async (length) => {
        const [good, bad] = [fresh("good"), fresh("bad-length")];
        const error = await rejection(store().create(new Map([[good, newKey()], [bad, new Uint8Array(length)]])));
        expect(error).toBeInstanceOf(KeyStoreError);
        expect((error as Error).message).toContain(bad);
        expect((await store().find([good, bad])).size).toBe(0);
      });

      it("refuses a key that is not bytes", async () => {
        const [good, bad] = [fresh("good"), fresh("bad-type")];
        const notBytes = Array.from({ length: KEY_BYTES }, () => 1) as unknown as Uint8Array;
        const error = await rejection(store().create(new Map([[good, newKey()], [bad, notBytes]])));
        expect(error).toBeInstanceOf(KeyStoreError);
        expect((error as Error).message).toContain(bad);
        expect((await store().find([good, bad])).size).toBe(0);
      });

      it("refuses an empty subject or one over 300 characters in create, find and forget, and stores nothing", async () => {
        const good = fresh("good");
        for (const bad of ["", `${fresh("long")}:${"x".repeat(300)}`]) {
          expect(await rejection(store().create(new Map([[good, newKey()], [bad, newKey()]])))).toBeInstanceOf(KeyStoreError);
          expect(await rejection(store().find([good, bad]))).toBeInstanceOf(KeyStoreError);
          expect(await rejection(store().forget([good, bad]))).toBeInstanceOf(KeyStoreError);
        }
        // Neither the key of the create nor the tombstone of the forget was stored.
        expect((await store().find([good])).size).toBe(0);
      });

      it("refuses a subject that is not a string", async () => {
        const error = await rejection(store().find([42 as unknown as string]));
        expect(error).toBeInstanceOf(KeyStoreError);
      });
    });

    describe("copies", () => {
      it("keeps what it was given when the caller changes its array afterwards", async () => {
        const subject = fresh("given");
        const key = newKey();
        const before = hex(key);
        await store().create(new Map([[subject, key]]));
        key.fill(0);
        expect(hex((await store().find([subject])).get(subject))).toBe(before);
      });

      it("hands out Uint8Arrays of the caller's own: changing one changes nothing stored", async () => {
        const subject = fresh("handed-out");
        const key = newKey();
        const created = (await store().create(new Map([[subject, key]]))).get(subject)!;
        expect(created).toBeInstanceOf(Uint8Array);
        created.fill(1);
        const found = (await store().find([subject])).get(subject)!;
        expect(found).toBeInstanceOf(Uint8Array);
        expect(hex(found)).toBe(hex(key));
        found.fill(2);
        expect(hex((await store().find([subject])).get(subject))).toBe(hex(key));
        expect(hex((await store().create(new Map([[subject, newKey()]]))).get(subject))).toBe(hex(key));
      });
    });
  });
};
