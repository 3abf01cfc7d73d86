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
import { type LinkedAccounts, createLinkedAccounts } from "./linked-accounts.js";
import { createPostgresEventStore } from "./postgres-store.js";
import { scryptSharePhrases } from "./share-phrases.js";
import { createSqliteEventStore } from "./sqlite-store.js";

const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });
const staff = { kind: "staff", staffId: "desk-1" } as const;
const as = (accountId: string) => ({ kind: "account", accountId }) as const;
const dueAt = "2026-04-01T09:00:00.000Z";

const nested = (depth: number): unknown => {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};
class CheckoutForm {
  actor = staff;
  accountId = "child";
  itemId = "item-1";
  format = "physical";
  dueAt = dueAt;
  get title() {
    return "A title";
  }
}

type Method = Exclude<keyof LinkedAccounts, "authorize" | "canManage">;
interface Case {
  readonly name: string;
  readonly method: Method;
  readonly input: (phrase: string) => unknown;
  /** What the message must say (the field, and why). */
  readonly message: RegExp;
}

const cases: ReadonlyArray<Case> = [
  { name: "an array nested 5,000 deep in a barcode", method: "registerAccount", input: () => ({ actor: staff, accountId: "x", barcode: nested(5000), minor: false }), message: /^registerAccount\.barcode(\.0)+: expected arrays and objects nested at most 32 deep/ },
  { name: "an array nested 5,000 deep in a title", method: "recordCheckout", input: () => ({ actor: staff, accountId: "child", itemId: "i", title: nested(5000), format: "physical", dueAt }), message: /^recordCheckout\.title(\.0)+: expected arrays/ },
  { name: "an array nested 5,000 deep as the actor", method: "renewLoan", input: () => ({ actor: nested(5000), accountId: "child", loanId: "l", dueAt }), message: /^renewLoan\.actor(\.0)+: expected arrays/ },
  { name: "an object nested 100,000 deep", method: "placeHold", input: () => {
      let value: unknown = {};
      for (let i = 0; i < 100_000; i++) value = { next: value };
      return { actor: as("child"), accountId: "child", itemId: "i", title: "T", pickupBranch: value };
    }, message: /^placeHold\.pickupBranch(\.next)+: expected arrays/ },
  { name: "a class instance (its getter would be lost)", method: "recordCheckout", input: () => new CheckoutForm(), message: /^recordCheckout: expected a plain object, got an instance of CheckoutForm$/ },
  { name: "an object with inherited properties", method: "registerAccount", input: () => Object.assign(Object.create({ actor: staff, minor: false }), { accountId: "x", barcode: "P7654321" }), message: /^registerAccount: expected a plain object, got an object that inherits from another$/ },
  { name: "a getter", method: "registerAccount", input: () => ({ actor: staff, accountId: "x", get barcode() { return "P7654321"; }, minor: false }), message: /^registerAccount\.barcode: expected a data property, got a getter$/ },
  { name: "a bigint", method: "registerAccount", input: () => ({ actor: staff, accountId: "x", barcode: 1234567n, minor: false }), message: /^registerAccount\.barcode: expected plain data, got a bigint$/ },
  { name: "a function", method: "closeAccount", input: () => ({ actor: staff, accountId: () => "x" }), message: /^closeAccount\.accountId: expected plain data, got a function$/ },
  { name: "a string of 200,000 characters", method: "recordCheckout", input: () => ({ actor: staff, accountId: "child", itemId: "i", title: "t".repeat(200_000), format: "physical", dueAt }), message: /^recordCheckout\.title: expected at most 100000 characters, got 200000$/ },
  { name: "NUL in a title", method: "recordCheckout", input: () => ({ actor: staff, accountId: "child", itemId: "i", title: "Potiki\u0000", format: "physical", dueAt }), message: /^recordCheckout\.title: expected Title \(1 to 500 characters of valid Unicode, no control characters\), got "Potiki\\u0000"$/ },
  { name: "a lone surrogate in a title", method: "recordCheckout", input: () => ({ actor: staff, accountId: "child", itemId: "i", title: "Potiki\uD800", format: "physical", dueAt }), message: /^recordCheckout\.title: expected Title .*got "Potiki\\ud800"$/ },
  { name: "NUL in a branch", method: "placeHold", input: () => ({ actor: as("child"), accountId: "child", itemId: "i", title: "T", pickupBranch: "Central\u0000" }), message: /^placeHold\.pickupBranch: expected Branch/ },
  { name: "a lone surrogate in a branch", method: "changeHoldPickupBranch", input: () => ({ actor: as("child"), accountId: "child", holdId: "h", pickupBranch: "\uDC00Central" }), message: /^changeHoldPickupBranch\.pickupBranch: expected Branch/ },
  { name: "NUL in a reason", method: "revokeLink", input: () => ({ actor: staff, linkId: "L1", reason: "asked\u0000" }), message: /^revokeLink\.reason: expected Reason \(0 to 500 characters of valid Unicode, no control characters but tab and line breaks\)/ },
  { name: "a lone surrogate in a reason", method: "revokeLink", input: () => ({ actor: staff, linkId: "L1", reason: "asked \uD83D" }), message: /^revokeLink\.reason: expected Reason/ },
  { name: "a control character in a correlation id", method: "closeAccount", input: () => ({ actor: staff, accountId: "child", correlationId: "req\u001b[31m" }), message: /^closeAccount\.correlationId: expected CorrelationId/ },
  { name: "a pasted message holding the phrase in the barcode field", method: "connectAccount", input: (phrase) => ({ actor: as("child"), barcode: `Hi! My library phrase is ${phrase}, the barcode is P0000001. Thanks!`, phrase }), message: /^connectAccount\.barcode: expected Barcode .*, got a value that is not shown$/ },
  { name: "an unknown actor kind", method: "renewLoan", input: () => ({ actor: { kind: "robot" }, accountId: "child", loanId: "l", dueAt }), message: /^renewLoan\.actor: expected Actor, got \{"kind":"robot"\}$/ },
  { name: "a staff actor without a staff id", method: "closeAccount", input: () => ({ actor: { kind: "staff" }, accountId: "child" }), message: /^closeAccount\.actor\.staffId: expected Id/ },
];

/** Each case's answer on one store, after a little history; and that nothing was appended. */
const answers = async (store: EventStore): Promise<string[]> => {
  const library = createLinkedAccounts({ store, clock: manualClock("2026-03-03T09:00:00.000Z"), phrases });
  const ok = async (outcome: Promise<E.Either<{ code: string; message: string }, unknown>>) => {
    const result = await outcome;
    if (E.isLeft(result)) throw new Error(result.left.message);
  };
  await ok(library.registerAccount({ actor: staff, accountId: "parent", barcode: "P0000001", minor: false }));
  await ok(library.registerAccount({ actor: staff, accountId: "child", barcode: "C0000001", minor: true }));
  const issued = await library.issueSharePhrase({ actor: as("parent"), direction: "one-way" });
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
    const call = library[c.method] as (input: unknown) => Promise<E.Either<{ code: string; message: string }, unknown>>;
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
