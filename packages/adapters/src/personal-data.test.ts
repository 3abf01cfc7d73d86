import { spawnSync } from "node:child_process";
import { hkdfSync, randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERASED, type StoredEnvelope, type Tag } from "@linked-accounts/domain/internal";
import { accountRegistered, itemCheckedOut, sampleMetadata } from "./contract/sample-events.js";
import { InvalidEventError, type NewEvent, type RecordedEvent, StoredEventDecodeError } from "./event-store.js";
import { createInMemoryKeyStore } from "./in-memory-key-store.js";
import { createInMemoryEventStore, plantStoredEvent } from "./in-memory-store.js";
import { type SealingEventStore, keySubjectOf, sealingKeyOf } from "./personal-data.js";

const collect = async <T>(events: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const event of events) out.push(event);
  return out;
};

const TITLE = "Te Ara Whānui: a quiet history of borrowing";
const checkout = (accountId: string, loanId: string, title = TITLE): NewEvent => itemCheckedOut(accountId, loanId, title);
const erased = (accountId: string): NewEvent => ({
  type: "AccountErased",
  data: { accountId, erasedAt: "2026-04-01T00:00:00.000Z" },
  metadata: sampleMetadata(),
  tags: [`account:${accountId}`],
});
const revoked = (linkId: string, a: string, b: string, reason: string): NewEvent => ({
  type: "LinkRevoked",
  data: { linkId, revokedBy: { kind: "staff", staffId: "desk-1" }, reason, revokedAt: "2026-03-04T00:00:00.000Z" },
  metadata: sampleMetadata(),
  tags: [`link:${linkId}`, `account:${a}`, `account:${b}`],
});
const registered = (n: number): NewEvent => {
  const event = accountRegistered(n);
  return { ...event, tags: [`account:account-${n}`, `barcode:B${String(n).padStart(9, "0")}`] };
};

/** Every byte the log keeps, as text: what an export or a backup would copy. */
const logText = async (store: SealingEventStore): Promise<string> => JSON.stringify(await collect(store.log.readAll()), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));

describe("a store seals personal data at rest and opens it on the way out", () => {
  it("reads back exactly what was appended, while the log holds neither the title, the item nor the barcode", async () => {
    const store = createInMemoryEventStore();
    await store.append([registered(7), checkout("account-7", "loan-1")]);
    const [account, loan] = await collect(store.readAll());
    expect(loan).toMatchObject({ type: "ItemCheckedOut", data: { title: TITLE, itemId: "item-of-loan-1", accountId: "account-7" } });
    expect(account).toMatchObject({ data: { barcode: "B000000007" } });
    expect(account!.tags).toContain("barcode:B000000007");
    const text = await logText(store);
    for (const secret of [TITLE, "Whānui", "item-of-loan-1", "B000000007"]) expect(text).not.toContain(secret);
    expect(text).toContain("account-7"); // ids and times stay readable: the audit
    expect(text).toContain("barcode-hmac:");
  });

  it("finds an account by its barcode (any query holding the barcode tag) without the log ever indexing the barcode", async () => {
    const store = createInMemoryEventStore();
    await store.append([registered(1), registered(2)]);
    const found = await collect(store.read({ items: [{ types: ["AccountRegistered"], tags: ["barcode:B000000002"] }] }));
    expect(found.map((e) => (e.data as { accountId: string }).accountId)).toEqual(["account-2"]);
    const logTags = (await collect(store.log.readAll())).flatMap((e) => e.tags);
    expect(logTags.filter((t) => t.startsWith("barcode:"))).toEqual([]);
  });

  it("forgetting an account's key erases its fields everywhere, and only its: the rest of each event stays", async () => {
    const store = createInMemoryEventStore();
    await store.append([registered(1), registered(2), checkout("account-1", "loan-1"), checkout("account-2", "loan-2", "Another title")]);
    const before = await collect(store.readAll());
    await store.append([erased("account-1")]);
    const after = await collect(store.readAll());
    expect(after[0]!.data).toEqual({ ...before[0]!.data, barcode: ERASED });
    expect(after[0]!.tags).not.toContain("barcode:B000000001");
    expect(after[2]!.data).toEqual({ ...before[2]!.data, title: ERASED, itemId: ERASED });
    expect(after[1]).toEqual(before[1]);
    expect(after[3]).toEqual(before[3]);
    expect(after.slice(0, 4).map((e) => e.metadata)).toEqual(before.map((e) => e.metadata));
    // The erased account's registration is still selected by its barcode (so a
    // decision's condition still covers it), but reads [erased]: it names no one.
    const byErasedBarcode = await collect(store.read({ items: [{ tags: ["barcode:B000000001"] }] }));
    expect(byErasedBarcode.map((e) => e.data)).toEqual([{ ...before[0]!.data, barcode: ERASED }]);
    expect(await collect(store.read({ items: [{ tags: ["barcode:B000000002"] }] }))).toHaveLength(1);
    expect((await store.keys.find(["account:account-1"])).get("account:account-1")).toBeNull();
  });

  it("readAllOpening opens only the types asked for, as readAll does (what this process forgot reads [erased] even when its key store was not told); the rest come as kept", async () => {
    const inner = createInMemoryKeyStore();
    // A key store that cannot be told to forget: the store forgets in this process and keeps it pending.
    const keys = { ...inner, forget: async () => Promise.reject(new Error("key store unreachable")) };
    const store = createInMemoryEventStore({ keys });
    await store.append([registered(1), registered(2), checkout("account-2", "loan-2")]);
    await store.append([erased("account-1")]);
    expect((await inner.find(["account:account-1"])).get("account:account-1")).toBeInstanceOf(Uint8Array);
    const all = await collect(store.readAll());
    const some = await collect(store.readAllOpening(new Set(["AccountRegistered"])));
    const kept = await collect(store.log.readAll());
    expect(some.map((e) => e.data)).toEqual([all[0]!.data, all[1]!.data, kept[2]!.data, kept[3]!.data]);
    expect(some[0]!.data).toMatchObject({ barcode: ERASED });
    expect(some[1]!.data).toMatchObject({ barcode: "B000000002" });
    expect(some[2]!.data).toHaveProperty("sealed");
  });

  it("a retention forgetting of one loan erases that loan only", async () => {
    const store = createInMemoryEventStore();
    await store.append([checkout("a1", "l1", "Kept"), checkout("a1", "l2", "Forgotten")]);
    await store.append([
      {
        type: "LoanDetailsForgotten",
        data: { loanId: "l2", accountId: "a1", retentionDays: 30, forgottenAt: "2026-05-01T00:00:00.000Z" },
        metadata: sampleMetadata(),
        tags: ["loan:l2", "account:a1"],
      },
    ]);
    const titles = (await collect(store.readAll())).slice(0, 2).map((e) => (e.data as { title: string }).title);
    expect(titles).toEqual(["Kept", ERASED]);
  });

  it("a revocation's reason is both patrons' own: forgetting either erases it (here by another process: no key cache)", async () => {
    for (const gone of ["a", "b"]) {
      const store = createInMemoryEventStore({ keyCacheMs: 0 });
      await store.append([revoked("k1", "a", "b", "moved out")]);
      await store.keys.forget([`account:${gone}`]);
      const [event] = await collect(createReader(store));
      expect((event!.data as { reason: string }).reason).toBe(ERASED);
    }
  });

  it("nothing new is readable under an erased name: an event about an erased account is stored with its fields already erased, and no key is made", async () => {
    const store = createInMemoryEventStore({ keyCacheMs: 0 });
    await store.append([registered(1), registered(2), erased("account-1")]);
    await store.append([checkout("account-1", "loan-9", "Born erased"), revoked("k1", "account-1", "account-2", "about both")]);
    const [loan, revocation] = (await collect(store.readAll())).slice(3);
    expect(loan!.data).toMatchObject({ title: ERASED, itemId: ERASED, loanId: "loan-9" });
    expect(revocation!.data).toMatchObject({ reason: ERASED, linkId: "k1" });
    expect((await store.keys.find(["account:account-1"])).get("account:account-1")).toBeNull();
    expect(await logText(store)).not.toContain("Born erased");
  });

  it("a sealed part moved to another event, or altered, stops the read at its position", async () => {
    const store = createInMemoryEventStore();
    await store.append([checkout("a1", "l1"), checkout("a1", "l2")]);
    const [first, second] = await collect(store.log.readAll());
    const sealedOf = (e: typeof first) => (e!.data as { sealed: unknown }).sealed;
    plantStoredEvent(store, { type: second!.type, data: { ...second!.data, sealed: sealedOf(first) }, metadata: second!.metadata, tags: second!.tags });
    await expect(collect(store.readAll())).rejects.toThrow(StoredEventDecodeError);
    await expect(collect(store.readAll())).rejects.toThrow(/position 3 .*sealed/);
  });

  it("a log read with the wrong key store says so, naming the subject, rather than reading [erased]", async () => {
    const store = createInMemoryEventStore();
    await store.append([checkout("a1", "l1")]);
    const stranger = createInMemoryEventStore({ keys: createInMemoryKeyStore() });
    plantStoredEvent(stranger, (await collect(store.log.readAll())).map(({ position: _p, ...row }) => row)[0] as never);
    await expect(collect(stranger.readAll())).rejects.toThrow(/no key for subject account:a1/);
  });

  it("an event written before sealing (schema version 2, in the clear) still reads, and its plain barcode tag still finds it", async () => {
    const store = createInMemoryEventStore();
    const old = registered(5);
    plantStoredEvent(store, { type: old.type, data: old.data, metadata: { ...old.metadata, schemaVersion: 2 }, tags: old.tags as Tag[] });
    const found = await collect(store.read({ items: [{ tags: ["barcode:B000000005"] }] }));
    expect(found).toHaveLength(1);
    expect(found[0]!.data).toEqual(old.data);
  });

  it("the log refuses personal data in the clear: only the store seals", async () => {
    const store = createInMemoryEventStore();
    await expect(store.log.append([checkout("a1", "l1") as never])).rejects.toThrow(/must be sealed/);
  });
});

describe("the key sealing a field", () => {
  it("is the subject's own key: the account's, or the loan's or hold's kept beneath the account's", () => {
    expect(keySubjectOf("account:a1")).toBe("account:a1");
    expect(keySubjectOf("account:a1 loan:l1")).toBe("account:a1/loan:l1");
    expect(keySubjectOf("account:a1 hold:h-9")).toBe("account:a1/hold:h-9");
    // Two accounts (a revocation's reason), or anything else: a key derived from all of theirs.
    expect(keySubjectOf("account:a account:b")).toBeNull();
    expect(keySubjectOf("account:a1 hold:h-9 loan:x")).toBeNull();
    expect(keySubjectOf("loan:l1 account:a1")).toBeNull();
  });

  it("of several accounts is HKDF-SHA-256 over their keys, no salt, the version line and their names as info, 32 bytes", () => {
    for (const subjects of ["account:a account:b", "account:a1 hold:h-9 loan:x"]) {
      const keys = subjects.split(" ").map(() => randomBytes(32));
      const expected = Buffer.from(hkdfSync("sha256", Buffer.concat(keys), Buffer.alloc(0), `linked-accounts personal data v1\n${subjects}`, 32));
      expect(sealingKeyOf(keys, subjects).equals(expected)).toBe(true);
    }
  });
});

const createReader = (store: SealingEventStore): AsyncIterable<RecordedEvent> => store.readAll();

describe("a read of many sealed events, deciphered on a worker thread", () => {
  const PARTS = 300; // pages of 500 events: several pages of well over the worker's 64 parts each
  const filled = async (openInWorker: boolean, keys = createInMemoryKeyStore()) => {
    const store = createInMemoryEventStore({ keys, openInWorker });
    const events: NewEvent[] = [];
    for (let a = 0; a < 6; a++) {
      events.push(registered(a));
      for (let l = 0; l < PARTS / 3; l++) events.push(checkout(`account-${a}`, `loan-${a}-${l}`, `${TITLE} #${a}.${l}`));
    }
    await store.append(events);
    return { store, keys };
  };

  it("reads what a read on the calling thread reads, event for event, with forgotten keys reading [erased]", async () => {
    const { store: inWorker, keys } = await filled(true);
    await inWorker.append([{ ...erased("account-2"), tags: ["account:account-2"] }]);
    const here = createInMemoryEventStore({ keys, openInWorker: false });
    plantAll(here, await collect(inWorker.log.readAll()));
    const [a, b] = [await collect(inWorker.readAll()), await collect(here.readAll())];
    expect(a).toHaveLength(6 * (1 + PARTS / 3) + 1);
    expect(a).toEqual(b);
    const titles = a.flatMap((e) => (e.type === "ItemCheckedOut" ? [[e.data.accountId, e.data.title] as const] : []));
    expect(titles.filter(([id]) => id === "account-2").every(([, title]) => title === ERASED)).toBe(true);
    expect(titles.filter(([id]) => id === "account-3").map(([, title]) => title)).toContain(`${TITLE} #3.7`);
    await Promise.all([inWorker.close(), here.close()]);
  });

  it("stops at an altered part in the middle of a page: every event before it first, then the error naming its position", async () => {
    const { store } = await filled(true);
    const rows = await collect(store.log.readAll());
    const target = rows[250]!;
    expect(target.type).toBe("ItemCheckedOut");
    const sealed = (target.data as { sealed: { ct: string } }).sealed;
    const altered = { ...target, data: { ...target.data, sealed: { ...sealed, ct: `${sealed.ct.slice(0, -2)}${sealed.ct.endsWith("AA") ? "BA" : "AA"}` } } };
    for (const openInWorker of [true, false]) {
      const copy = createInMemoryEventStore({ keys: store.keys, openInWorker });
      plantAll(copy, rows.map((row, i) => (i === 250 ? (altered as typeof row) : row)));
      const seen: RecordedEvent[] = [];
      const error = await (async () => {
        for await (const event of copy.readAll()) seen.push(event);
      })().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StoredEventDecodeError);
      expect((error as Error).message).toMatch(/position 251 .*does not open/);
      expect([openInWorker, seen.map((e) => e.position)]).toEqual([openInWorker, rows.slice(0, 250).map((e) => e.position)]);
      await copy.close();
    }
    await store.close();
  });

  it("answers calls to next made at once in order, and ends the log's read when the reader stops early", async () => {
    const { store } = await filled(true);
    const all = await collect(store.readAll());
    const iterator = store.readAll()[Symbol.asyncIterator]();
    const answers = await Promise.all(Array.from({ length: 550 }, () => iterator.next()));
    expect(answers.map((a) => (a.done === true ? null : a.value.position))).toEqual(all.slice(0, 550).map((e) => e.position));
    expect(await iterator.return!()).toEqual({ done: true, value: undefined });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    // Read to the end, calls made at once past it answer done.
    const whole = store.readAll()[Symbol.asyncIterator]();
    const past = await Promise.all(Array.from({ length: all.length + 5 }, () => whole.next()));
    expect(past.map((a) => (a.done === true ? null : a.value.position))).toEqual([...all.map((e) => e.position), ...Array<null>(5).fill(null)]);
    await store.close();
  });

  it("lets the process end once the read is done: the worker keeps no one waiting", () => {
    const script = `
      import { createInMemoryEventStore } from "@linked-accounts/adapters";
      const store = createInMemoryEventStore({ openInWorker: true });
      const events = [];
      for (let l = 0; l < 200; l++) events.push({ type: "ItemCheckedOut", data: { loanId: "l" + l, accountId: "a1", itemId: "i" + l, title: "t" + l, format: "physical", checkedOutAt: "2026-03-03T09:00:00.000Z", dueAt: "2026-03-24T09:00:00.000Z" }, metadata: { eventId: crypto.randomUUID().replace(/^(.{14})./, "$17"), schemaVersion: 3, occurredAt: "2026-03-03T09:00:00.000Z", actor: { kind: "system" }, channel: "system", correlationId: null, causationId: null }, tags: ["loan:l" + l, "account:a1"] });
      await store.append(events);
      let n = 0;
      for await (const e of store.readAll()) if (e.data.title === "t" + n) n++;
      console.log("read", n);
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: path.dirname(fileURLToPath(import.meta.url)), encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("read 200");
    expect(run.status).toBe(0);
  });
});

/** Copies rows as a log keeps them into another store's log, unchecked. */
const plantAll = (store: SealingEventStore, rows: ReadonlyArray<RecordedEvent<StoredEnvelope>>): void => {
  for (const { position: _p, ...row } of rows) plantStoredEvent(store, row as never);
};
