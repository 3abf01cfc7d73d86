/**
 * Bad input gets no further than the boundary: `plainInput` refuses what is not
 * plain data, the text codecs refuse what a store could not keep alike, `show`
 * describes anything without throwing, and `authorize` refuses a malformed actor.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { defaultPolicy } from "./policy.js";
import { describe, expect, it } from "vitest";
import { authorize } from "./access.js";
import { FreeText, Text, show } from "./codec.js";
import { type DomainEvent } from "./events.js";
import { MAX_INPUT_DEPTH, plainInput } from "./plain-input.js";
import { given } from "./testing/scenario.js";
import { registered } from "./testing/fixtures.js";

const numRuns = Number(process.env.FC_RUNS ?? 500);
const messageOf = (r: E.Either<{ message: string }, unknown>) => (E.isLeft(r) ? r.left.message : "accepted");

const nestedArrays = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};
const nestedObjects = (depth: number): unknown => {
  let value: unknown = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};

describe("plainInput", () => {
  it("passes plain JSON data through as it is (the same value, not a copy)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (u) => {
        const checked = plainInput(u, "input");
        expect(E.isRight(checked) && checked.right).toBe(u);
      }),
      { numRuns },
    );
    expect(E.isRight(plainInput({ a: undefined, b: Object.assign(Object.create(null), { c: [1, "x", null, true] }) }, "input"))).toBe(true);
  });

  it("refuses nesting deeper than 32, however deep, without overflowing the stack", () => {
    expect(E.isRight(plainInput({ field: nestedArrays(MAX_INPUT_DEPTH - 1) }, "input"))).toBe(true);
    expect(messageOf(plainInput({ field: nestedArrays(MAX_INPUT_DEPTH) }, "input"))).toMatch(/^input\.field(\.0){31}: expected arrays and objects nested at most 32 deep, got deeper$/);
    for (const deep of [nestedArrays(5_000), nestedArrays(1_000_000), nestedObjects(1_000_000)])
      expect(messageOf(plainInput({ field: deep }, "input"))).toMatch(/^input\.field\.(0|a)\..*nested at most 32 deep/);
  });

  it.each<[string, () => unknown, RegExp]>([
    ["a class instance", () => ({ when: new Date(0) }), /^in\.when: expected a plain object, got an instance of Date$/],
    ["a Map", () => ({ m: new Map() }), /^in\.m: expected a plain object, got an instance of Map$/],
    ["a typed array", () => ({ b: new Uint8Array(2) }), /^in\.b: expected a plain object, got an instance of Uint8Array$/],
    ["an array subclass", () => ({ xs: new (class Items extends Array {})() }), /^in\.xs: expected a plain array, got an instance of Items$/],
    ["inherited properties", () => Object.create({ accountId: "a" }), /^in: expected a plain object, got an object that inherits from another$/],
    ["a getter", () => ({ get x() { return 1; } }), /^in\.x: expected a data property, got a getter$/],
    ["a getter that throws", () => ({ get x(): number { throw new Error("boom"); } }), /^in\.x: expected a data property, got a getter$/],
    ["a function", () => ({ f: () => 1 }), /^in\.f: expected plain data, got a function$/],
    ["a symbol", () => ({ s: Symbol("s") }), /^in\.s: expected plain data, got a symbol$/],
    ["a symbol key", () => ({ [Symbol("k")]: 1 }), /^in: expected string keys only, got a symbol key$/],
    ["a bigint", () => [1n], /^in\.0: expected plain data, got a bigint$/],
    ["NaN", () => ({ n: NaN }), /^in\.n: expected a finite number, got NaN$/],
    ["Infinity", () => ({ n: -Infinity }), /^in\.n: expected a finite number, got -Infinity$/],
    ["a sparse array", () => ({ xs: [1, , 3] }), /^in\.xs: expected an array without holes or extra properties/],
    ["a string of 100,001 characters", () => ({ s: "x".repeat(100_001) }), /^in\.s: expected at most 100000 characters, got 100001$/],
    ["more than 10,000 values", () => ({ xs: Array.from({ length: 10_001 }, () => 0) }), /^in: expected at most 10000 values in all, got more$/],
    ["a value that contains itself", () => {
      const o: Record<string, unknown> = {};
      o["self"] = o;
      return o;
    }, /^in(\.self){32}: expected arrays and objects nested at most 32 deep, got deeper$/],
    ["a proxy whose traps throw", () => ({ p: new Proxy({}, { ownKeys: () => { throw new Error("trap"); } }) }), /^in: expected plain data, got a value that cannot be read$/],
    ["an odd key", () => ({ "a b": { c: 1n } }), /^in\."a b"\.c: expected plain data, got a bigint$/],
  ])("refuses %s, naming the field", (_, make, message) => {
    expect(messageOf(plainInput(make(), "in"))).toMatch(message);
  });

  it("refuses everything while a built-in prototype has been polluted with an enumerable property", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto["polluted"] = "yes";
    try {
      expect(messageOf(plainInput({ a: 1 }, "in"))).toBe('in: expected plain data, got every object inheriting an enumerable property "polluted"');
    } finally {
      delete proto["polluted"];
    }
    expect(E.isRight(plainInput({ a: 1 }, "in"))).toBe(true);
  });
});

describe("text that every store keeps alike", () => {
  const title = Text("Title", 1, 500);
  const reason = FreeText("Reason", 0, 500);
  it.each([
    ["NUL", "a\u0000b"],
    ["a C0 control", "a\u001bb"],
    ["DEL", "a\u007fb"],
    ["a C1 control", "a\u0085b"],
    ["a lone high surrogate", "a\uD83D"],
    ["a lone low surrogate", "\uDE00a"],
    ["surrogates in the wrong order", "\uDE00\uD83D"],
  ])("Text and FreeText refuse %s", (_, s) => {
    expect(title.is(s)).toBe(false);
    expect(E.isLeft(title.decode(s))).toBe(true);
    expect(reason.is(s)).toBe(false);
  });
  it("a pair of surrogates (an emoji) is text; tab and line breaks are free text, not titles", () => {
    expect(title.is("Kia ora 😀")).toBe(true);
    for (const s of ["a\tb", "a\nb", "a\r\nb"]) {
      expect(title.is(s)).toBe(false);
      expect(reason.is(s)).toBe(true);
    }
  });
  it("a string is text iff it is well formed and has no control character (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 20 }), fc.string({ unit: fc.constantFrom("\uD800", "\uDFFF", "\u0000", "a", "😀", "\u0085"), maxLength: 6 }), (a, b) => {
        const s = a + b;
        const wellFormed = !/[\uD800-\uDFFF]/u.test(s);
        const clean = !/[\u0000-\u001F\u007F-\u009F]/.test(s);
        expect(Text("T", 0, 100).is(s)).toBe(wellFormed && clean);
      }),
      { numRuns },
    );
  });
});

describe("show never throws and never runs long", () => {
  it("describes any value in at most 81 characters (property)", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBoxedValues: true }), (u) => {
        const text = show(u);
        expect(typeof text).toBe("string");
        expect(text.length).toBeLessThanOrEqual(81);
      }),
      { numRuns },
    );
  });
  it.each<[string, () => unknown, string | RegExp]>([
    ["an array nested a million deep", () => nestedArrays(1_000_000), /^\[\[\[\[.*…$/],
    ["an object whose getter throws", () => ({ get x(): number { throw new Error("boom"); } }), '{"x":(a getter)}'],
    ["a proxy whose traps throw", () => new Proxy({}, { getPrototypeOf: () => { throw new Error("trap"); } }), "a value that cannot be shown"],
    ["an object without a prototype", () => Object.create(null), "{}"],
    ["a class instance", () => Object.assign(new (class Form {})(), { a: 1 }), 'Form {"a":1}'],
    ["a string of ten million characters", () => "x".repeat(10_000_000), /^"x{79}…$/],
    ["a bigint", () => 10n, "10n"],
    ["a symbol", () => Symbol("s"), "a symbol"],
    ["plain JSON, as JSON", () => ({ kind: "staff", ids: [1, "a", null, true] }), '{"kind":"staff","ids":[1,"a",null,true]}'],
  ])("%s", (_, make, expected) => {
    const text = show(make());
    if (typeof expected === "string") expect(text).toBe(expected);
    else expect(text).toMatch(expected);
  });
});

describe("authorize refuses what is not an actor", () => {
  const state = given([registered("alice")] as DomainEvent[]).state.linking;
  it.each<[string, unknown, RegExp]>([
    ["staff without a staff id", { kind: "staff" }, /^Not a valid actor: actor\.staffId: expected Id/],
    ["an unknown kind", { kind: "robot" }, /^Not a valid actor: actor: expected Actor, got \{"kind":"robot"\}$/],
    ["an account without an id", { kind: "account" }, /^Not a valid actor: actor\.accountId: expected Id/],
    ["nothing", undefined, /^Not a valid actor: actor: expected Actor, got nothing$/],
    ["a string", "alice", /^Not a valid actor: actor: expected Actor, got "alice"$/],
  ])("%s: not-authorised, the field named", (_, actor, message) => {
    const decided = authorize(actor as never, "renew-loan", "alice", state, defaultPolicy, 0);
    expect(E.isLeft(decided) && decided.left.code).toBe("not-authorised");
    expect(E.isLeft(decided) && decided.left.message).toMatch(message);
  });
  it("answers an Either for anything at all, never undefined, never a throw (property)", () => {
    fc.assert(
      fc.property(fc.anything(), (actor) => {
        const decided = authorize(actor as never, "view", "alice", state, defaultPolicy, 0);
        expect(E.isLeft(decided) || E.isRight(decided)).toBe(true);
      }),
      { numRuns },
    );
  });
});
