/**
 * Issue 10's bad inputs, each reproduced through the host API on every store:
 * each answers `invalid-input` naming the field, throws nothing, appends
 * nothing, echoes no phrase, and gets the same answer from each store.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as E from "fp-ts/lib/Either.js";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { manualClock } from "./clock.js";
import { postgresServer } from "./contract/postgres-server.js";
import type { EventStore } from "./event-store.js";
import { createInMemoryEventStore } from "./in-memory-store.js";
import { createLinkedAccounts } from "./linked-accounts.js";
import { createPostgresEventStore } from "./postgres-store.js";
import { scryptSharePhrases } from "./share-phrases.js";
import { createSqliteEventStore } from "./sqlite-store.js";

const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });
const dueAt = "2026-04-01T09:00:00.000Z";

const nested = (depth: number): unknown => {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};
class CheckoutForm {
  accountId = "child";
  itemId = "item-1";
  dueAt = dueAt;
  get title() {
    return "A title";
  }
}

interface Case {
  readonly name: string;
  /** Who sends it: the desk, or the child's own session. */
  readonly who: "desk" | "child";
  readonly method: string;
  readonly input: (phrase: string) => unknown;
  /** What the message must say (the field, and why). */
  readonly message: RegExp;
}

const cases: ReadonlyArray<Case> = [
  { who: "desk", name: "an array nested 5,000 deep in a barcode", method: "registerAccount", input: () => ({ accountId: "x", barcode: nested(5000), minor: false }), message: /^registerAccount\.barcode(\.0)+: expected arrays and objects nested at most 32 deep/ },
  { who: "desk", name: "an array nested 5,000 deep in a title", method: "recordCheckout", input: () => ({ accountId: "child", itemId: "i", title: nested(5000), dueAt }), message: /^recordCheckout\.title(\.0)+: expected arrays/ },
  { who: "child", name: "an object nested 100,000 deep", method: "placeHold", input: () => {
      let value: unknown = {};
      for (let i = 0; i < 100_000; i++) value = { next: value };
      return { itemId: "i", title: "T", pickupBranch: value };
    }, message: /^placeHold\.pickupBranch(\.next)+: expected arrays/ },
  { who: "desk", name: "a class instance (its getter would be lost)", method: "recordCheckout", input: () => new CheckoutForm(), message: /^recordCheckout: expected a plain object, got an instance of CheckoutForm$/ },
  { who: "desk", name: "an object with inherited properties", method: "registerAccount", input: () => Object.assign(Object.create({ minor: false }), { accountId: "x", barcode: "P7654321" }), message: /^registerAccount: expected a plain object, got an object that inherits from another$/ },
  { who: "desk", name: "a getter", method: "registerAccount", input: () => ({ accountId: "x", get barcode() { return "P7654321"; }, minor: false }), message: /^registerAccount\.barcode: expected a data property, got a getter$/ },
  { who: "desk", name: "a bigint", method: "registerAccount", input: () => ({ accountId: "x", barcode: 1234567n, minor: false }), message: /^registerAccount\.barcode: expected plain data, got a bigint$/ },
  { who: "desk", name: "a function", method: "closeAccount", input: () => ({ accountId: () => "x" }), message: /^closeAccount\.accountId: expected plain data, got a function$/ },
  { who: "desk", name: "a string of 200,000 characters", method: "recordCheckout", input: () => ({ accountId: "child", itemId: "i", title: "t".repeat(200_000), dueAt }), message: /^recordCheckout\.title: expected at most 100000 characters, got 200000$/ },
  { who: "desk", name: "NUL in a title", method: "recordCheckout", input: () => ({ accountId: "child", itemId: "i", title: "Potiki\u0000", dueAt }), message: /^recordCheckout\.title: expected Title \(1 to 500 characters of valid Unicode, no control characters\), got "Potiki\\u0000"$/ },
  { who: "desk", name: "a lone surrogate in a title", method: "recordCheckout", input: () => ({ accountId: "child", itemId: "i", title: "Potiki\uD800", dueAt }), message: /^recordCheckout\.title: expected Title .*got "Potiki\\ud800"$/ },
  { who: "child", name: "NUL in a branch", method: "placeHold", input: () => ({ itemId: "i", title: "T", pickupBranch: "Central\u0000" }), message: /^placeHold\.pickupBranch: expected Branch/ },
  { who: "child", name: "a lone surrogate in a branch", method: "changeHoldPickupBranch", input: () => ({ accountId: "child", holdId: "h", pickupBranch: "\uDC00Central" }), message: /^changeHoldPickupBranch\.pickupBranch: expected Branch/ },
  { who: "desk", name: "NUL in a reason", method: "revokeLink", input: () => ({ linkId: "L1", reason: "asked\u0000" }), message: /^revokeLink\.reason: expected Reason \(0 to 500 characters of valid Unicode, no control characters but tab and line breaks\)/ },
  { who: "desk", name: "a lone surrogate in a reason", method: "revokeLink", input: () => ({ linkId: "L1", reason: "asked \uD83D" }), message: /^revokeLink\.reason: expected Reason/ },
  { who: "desk", name: "a control character in a correlation id", method: "closeAccount", input: () => ({ accountId: "child", correlationId: "req\u001b[31m" }), message: /^closeAccount\.correlationId: expected CorrelationId/ },
  { who: "child", name: "a pasted message holding the phrase in the barcode field", method: "connectAccount", input: (phrase) => ({ barcode: `Hi! My library phrase is ${phrase}, the barcode is P0000001. Thanks!`, phrase }), message: /^connectAccount\.barcode: expected Barcode .*, got a value that is not shown$/ },
  { who: "desk", name: "a field this command does not have (never silently dropped)", method: "closeAccount", input: () => ({ accountId: "child", actor: { kind: "staff", staffId: "boss" } }), message: /^closeAccount\.actor: expected no such field \(closeAccount takes accountId, commandId, correlationId\), got/ },
];

/** Each case's answer on one store, after a little history; and that nothing was appended. */
const answers = async (store: EventStore): Promise<string[]> => {
  const library = createLinkedAccounts({ store, clock: manualClock("2026-03-03T09:00:00.000Z"), phrases });
  const ok = async (outcome: Promise<E.Either<{ code: string; message: string }, unknown>>) => {
    const result = await outcome;
    if (E.isLeft(result)) throw new Error(result.left.message);
  };
  const desk = library.staff("desk-1");
  await ok(desk.registerAccount({ accountId: "parent", barcode: "P0000001", minor: false }));
  await ok(desk.registerAccount({ accountId: "child", barcode: "C0000001", minor: true }));
  const issued = await library.patron("parent").issueSharePhrase({ direction: "one-way" });
  if (E.isLeft(issued)) throw new Error(issued.left.message);
  const phrase = issued.right.phrase;
  const head = async () => {
    let n = 0;
    for await (const _ of store.readAll()) n++;
    return n;
  };
  const before = await head();
  const seen: string[] = [];
  for (const c of cases) {
    const scope = (c.who === "desk" ? desk : library.patron("child")) as unknown as Record<string, (input: unknown) => Promise<E.Either<{ code: string; message: string }, unknown>>>;
    const call = scope[c.method]!;
    const result = await call(c.input(phrase));
    expect(E.isLeft(result) && result.left.code, c.name).toBe("invalid-input");
    const message = E.isLeft(result) ? result.left.message : "";
    expect(message, c.name).toMatch(c.message);
    expect(message, c.name).not.toContain(phrase);
    expect(message.length, c.name).toBeLessThan(2000);
    seen.push(message);
  }
  expect(await head()).toBe(before);
  await store.close();
  return seen;
};

const dir = mkdtempSync(path.join(os.tmpdir(), "linked-accounts-bad-input-"));
const server = await postgresServer("Bad input on PostgreSQL");
const admin = server.skip ? undefined : new pg.Pool({ connectionString: server.url, max: 1 });
const schema = `inputs_bad_input_${process.pid}`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (admin !== undefined) {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});

describe("an actor is minted by the host, never decoded from a request", () => {
  it("refuses to scope to anything but an id, and a scope offers no way to name another actor", () => {
    const library = createLinkedAccounts({ store: createInMemoryEventStore(), phrases });
    expect(() => library.staff(undefined as never)).toThrow(/^staff: expected an id/);
    expect(() => library.patron({ kind: "staff" } as never)).toThrow(/^patron: expected an id/);
    expect(() => library.patron("a".repeat(65))).toThrow(TypeError);
  });
});

describe("bad input answers invalid-input, naming the field, on every store alike", () => {
  it("in memory", async () => {
    expect(await answers(createInMemoryEventStore())).toHaveLength(cases.length);
  });
  it("on SQLite, the same answers as in memory", async () => {
    const sqlite = await answers(createSqliteEventStore({ path: path.join(dir, "bad.sqlite") }));
    expect(sqlite).toEqual(await answers(createInMemoryEventStore()));
  });
  it.skipIf(server.skip)("on PostgreSQL, the same answers as in memory", async () => {
    const store = await createPostgresEventStore({ connectionString: server.skip ? "" : server.url, schema });
    expect(await answers(store)).toEqual(await answers(createInMemoryEventStore()));
  });
});
