/**
 * The formats of DOMAIN.md as io-ts codecs, and the one place where a decode
 * failure becomes a sentence a person can act on:
 * `AccountConnected.data.direction: expected "one-way" | "two-way", got "both"`.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { canonicalBarcode } from "./barcode.js";

/** A string codec that accepts only what `re` matches; `name` is what errors say was expected. */
export const matching = (name: string, re: RegExp): t.Type<string, string, unknown> =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === "string" && re.test(u),
    (u, c) => (typeof u === "string" && re.test(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  );

/** accountId, phraseId, linkId, loanId, holdId, itemId, staffId, commandId. */
export const Id = matching("Id (1 to 64 of A-Z a-z 0-9 _ -)", /^[A-Za-z0-9_-]{1,64}$/);
export type Id = t.TypeOf<typeof Id>;

export const Barcode = matching("Barcode (5 to 20 of A-Z a-z 0-9)", /^[A-Za-z0-9]{5,20}$/);
export type Barcode = t.TypeOf<typeof Barcode>;

const BARCODE_TYPED_MAX = 200;
const canonicalIfBarcode = (u: unknown): string | undefined => {
  if (typeof u !== "string" || u.length > BARCODE_TYPED_MAX) return undefined;
  const canonical = canonicalBarcode(u);
  return Barcode.is(canonical) ? canonical : undefined;
};

/**
 * A barcode to register, as staff typed it: decodes to its canonical form (R7,
 * barcode.ts), so ` p1234567 ` registers `P1234567`.
 */
export const BarcodeAsTyped: t.Type<string, string, unknown> = new t.Type<string, string, unknown>(
  "Barcode (5 to 20 of A-Z 0-9; case, spaces and invisible characters ignored)",
  (u): u is string => typeof u === "string" && canonicalIfBarcode(u) === u,
  (u, c) => {
    const canonical = canonicalIfBarcode(u);
    return canonical === undefined ? t.failure(u, c) : t.success(canonical);
  },
  t.identity,
);

const ISO_SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const digitsAt = (s: string, from: number, count: number): number => {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
};
/** The days of a month (1 to 12) of a year of the proleptic Gregorian calendar. */
export const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;

/**
 * Exactly what `Date.prototype.toISOString()` writes, and a real instant: the
 * shape, then each field in range. (Checked field by field rather than by a
 * round trip through `Date`, which cost most of a stored event's decoding.)
 */
const isIsoTime = (u: unknown): u is string => {
  if (typeof u !== "string" || !ISO_SHAPE.test(u)) return false;
  const year = digitsAt(u, 0, 4);
  const month = digitsAt(u, 5, 2);
  const day = digitsAt(u, 8, 2);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    digitsAt(u, 11, 2) <= 23 &&
    digitsAt(u, 14, 2) <= 59 &&
    digitsAt(u, 17, 2) <= 59
  );
};

/** Epoch ms of a UTC date and time (month 1 to 12), as `Date.UTC` gives for years 0 to 9999. */
export const utcMs = (year: number, month: number, day: number, hours: number, minutes: number, seconds: number, ms: number): number => {
  // Days from the civil date (H. Hinnant's algorithm: March-based years, 400-year eras), then to 1970-01-01.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146097 + dayOfEra - 719468;
  return ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000 + ms;
};

/**
 * `Date.parse(s)`, exactly, quicker for what `toISOString()` writes: a string
 * `isIsoTime` accepts is read field by field, anything else goes to
 * `Date.parse` itself. Deciding a command reads a few times; `Date.parse` was
 * most of a hot decision.
 */
export const isoMs = (s: string): number =>
  isIsoTime(s)
    ? utcMs(digitsAt(s, 0, 4), digitsAt(s, 5, 2), digitsAt(s, 8, 2), digitsAt(s, 11, 2), digitsAt(s, 14, 2), digitsAt(s, 17, 2), digitsAt(s, 20, 3))
    : Date.parse(s);

export const IsoTime: t.Type<string, string, unknown> = new t.Type<string, string, unknown>(
  "IsoTime (like 2026-03-03T09:15:00.000Z)",
  isIsoTime,
  (u, c) => (isIsoTime(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);
export type IsoTime = t.TypeOf<typeof IsoTime>;

export const UuidV7 = matching(
  "UUID v7",
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
);

export const Base64Url = matching("base64url", /^[A-Za-z0-9_-]+$/);

export const PositiveInt: t.Type<number, number, unknown> = new t.Type<number, number, unknown>(
  "positive integer",
  (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u > 0,
  (u, c) => (PositiveInt.is(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** A whole number from `min` to `max`; `name` is what errors say was expected. */
export const IntBetween = (name: string, min: number, max: number): t.Type<number, number, unknown> => {
  const is = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= min && u <= max;
  return new t.Type<number, number, unknown>(`${name} (a whole number from ${min} to ${max})`, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);
};

/**
 * What no text may hold, so that every store keeps exactly what another does
 * (PostgreSQL refuses NUL and unpaired surrogates where SQLite and memory keep
 * them): control characters (C0, DEL, C1) and unpaired UTF-16 surrogates. With
 * the `u` flag a surrogate class matches only a surrogate that is not half of a pair.
 */
const UNCLEAN = /[\u0000-\u001F\u007F-\u009F]|[\uD800-\uDFFF]/u;
/** As `UNCLEAN`, but tab, line feed and carriage return are allowed (free text a person wrote or pasted). */
const UNCLEAN_BUT_LINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDFFF]/u;

const textCodec = (name: string, min: number, max: number, unclean: RegExp): t.Type<string, string, unknown> => {
  const is = (u: unknown): u is string => typeof u === "string" && u.length >= min && u.length <= max && !unclean.test(u);
  return new t.Type<string, string, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);
};

/**
 * Text with a length bound (titles, branch names, ids a host chose): no control
 * characters and no unpaired surrogates.
 */
export const Text = (name: string, min: number, max: number): t.Type<string, string, unknown> =>
  textCodec(`${name} (${min} to ${max} characters of valid Unicode, no control characters)`, min, max, UNCLEAN);

/**
 * Free text a person wrote or pasted (a revocation reason, a typed phrase or
 * barcode): as `Text`, but tab and line breaks are allowed.
 */
export const FreeText = (name: string, min: number, max: number): t.Type<string, string, unknown> =>
  textCodec(
    `${name} (${min} to ${max} characters of valid Unicode, no control characters but tab and line breaks)`,
    min,
    max,
    UNCLEAN_BUT_LINES,
  );

export const Direction = t.keyof({ "one-way": null, "two-way": null });
export type Direction = t.TypeOf<typeof Direction>;

export const AccountActor = t.exact(t.type({ kind: t.literal("account"), accountId: Id }));
export const StaffActor = t.exact(t.type({ kind: t.literal("staff"), staffId: Id }));
export const SystemActor = t.exact(t.type({ kind: t.literal("system") }));
export const Actor = t.union([AccountActor, StaffActor, SystemActor], "Actor");
export type Actor = t.TypeOf<typeof Actor>;

/** Which way a command came in: the patron portal, the app, the library desk, or the system itself. */
export const Channel = t.keyof({ portal: null, app: null, desk: null, system: null }, "Channel");
export type Channel = t.TypeOf<typeof Channel>;

/**
 * Codecs whose values are secrets: a decode failure names the field but never
 * prints the value (a share phrase must appear in no error, R6).
 */
const secrets = new WeakSet<t.Decoder<unknown, unknown>>();
export const secret = <C extends t.Decoder<unknown, unknown>>(codec: C): C => {
  secrets.add(codec);
  return codec;
};

const MAX_SHOWN = 80;

/**
 * Writes a JSON-like preview of `value` into `out` until `out` holds more than
 * `budget` characters. It recurses, but every level writes at least one
 * character first, so it never goes deeper than `budget`; it reads only own
 * data properties and calls no getter, `toJSON` or `toString` of the value's.
 */
const preview = (value: unknown, out: string[], budget: { left: number }): void => {
  const write = (s: string) => {
    out.push(s);
    budget.left -= s.length;
  };
  if (budget.left < 0) return;
  switch (typeof value) {
    case "string":
      return write(JSON.stringify(value.length > MAX_SHOWN + 1 ? value.slice(0, MAX_SHOWN + 1) : value));
    case "number":
      return write(String(value));
    case "boolean":
      return write(String(value));
    case "bigint":
      return write(`${value}n`);
    case "undefined":
      return write("undefined");
    case "symbol":
      return write("a symbol");
    case "function":
      return write("a function");
  }
  if (value === null) return write("null");
  const object = value as object;
  const prototype = Object.getPrototypeOf(object) as object | null;
  const isArray = Array.isArray(object);
  if (prototype !== null && prototype !== Object.prototype && prototype !== Array.prototype) {
    const constructor = Object.getOwnPropertyDescriptor(prototype, "constructor")?.value as unknown;
    const name = typeof constructor === "function" ? Object.getOwnPropertyDescriptor(constructor, "name")?.value : undefined;
    write(typeof name === "string" && name !== "" ? `${name.slice(0, 40)} ` : "an instance ");
  }
  write(isArray ? "[" : "{");
  let first = true;
  for (const key of Object.keys(object)) {
    if (budget.left < 0) return;
    if (isArray && key === "length") continue;
    const descriptor = Object.getOwnPropertyDescriptor(object, key);
    if (!first) write(",");
    first = false;
    if (!isArray) write(`${JSON.stringify(key.length > MAX_SHOWN ? key.slice(0, MAX_SHOWN) : key)}:`);
    if (descriptor === undefined || !("value" in descriptor)) write("(a getter)");
    else preview(descriptor.value, out, budget);
  }
  write(isArray ? "]" : "}");
};

/**
 * A value as a short JSON fragment, for error messages. Never throws and never
 * runs long, whatever it is given: a value nested thousands deep, a proxy, an
 * object whose getters throw (DOMAIN.md: errors name the field and the value).
 */
export const show = (value: unknown): string => {
  if (value === undefined) return "nothing";
  const out: string[] = [];
  try {
    preview(value, out, { left: MAX_SHOWN });
  } catch {
    return "a value that cannot be shown";
  }
  const text = out.join("");
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
};

/**
 * One clause per failing field: `path: expected X, got Y`. The path starts with
 * `root` and follows object keys; union members add nothing to it, and the
 * alternatives a union offered for one field are joined with ` | `.
 */
export const describeErrors = (root: string, errors: t.Errors): string => {
  const byPath = new Map<string, { expected: Set<string>; got: string }>();
  for (const error of errors) {
    const keys: string[] = [];
    let secretValue = false;
    error.context.forEach((entry, i) => {
      if (secrets.has(entry.type)) secretValue = true;
      const parent = error.context[i - 1]?.type;
      const combinator = parent instanceof t.ExactType ? parent.type : parent;
      const parentIsMember = combinator instanceof t.UnionType || combinator instanceof t.IntersectionType;
      if (i > 0 && entry.key !== "" && !parentIsMember) keys.push(entry.key);
    });
    const path = [root, ...keys].join(".");
    const last = error.context[error.context.length - 1];
    const clause = byPath.get(path) ?? {
      expected: new Set<string>(),
      got: secretValue ? "a value that is not shown" : show(error.value),
    };
    clause.expected.add(error.message ?? last?.type.name ?? "a value");
    byPath.set(path, clause);
  }
  return [...byPath]
    .map(([path, { expected, got }]) => `${path}: expected ${[...expected].join(" | ")}, got ${got}`)
    .join("; ");
};

export class DecodeError extends Error {
  override readonly name = "DecodeError";
  constructor(message: string) {
    super(message);
  }
}

/** Decodes `u` with `codec`, or a `DecodeError` whose message names each failing field. */
export const decodeWith =
  <A>(codec: t.Decoder<unknown, A>, root: string) =>
  (u: unknown): E.Either<DecodeError, A> =>
    pipe(
      codec.decode(u),
      E.mapLeft((errors) => new DecodeError(describeErrors(root, errors))),
    );
