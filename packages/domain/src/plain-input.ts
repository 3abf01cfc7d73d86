/**
 * The first check on anything a host hands the library: is it plain data, the
 * kind JSON can carry? Codecs read fields with ordinary property access, so a
 * class instance, an object whose fields are inherited or produced by getters,
 * or a value nested thousands deep would otherwise be half-read, lose fields on
 * the way, or overflow the stack. `plainInput` walks the value once, without
 * recursion, and refuses such input with the path of the offending field; only
 * then do the codecs decode it.
 */
import * as E from "fp-ts/lib/Either.js";
import { DecodeError } from "./codec.js";

/** Arrays and objects nested deeper than this are refused. */
export const MAX_INPUT_DEPTH = 32;
/** Values (objects, arrays, strings, numbers…) in one input, at most. */
export const MAX_INPUT_NODES = 10_000;
/** Characters in one string (or key), at most. */
export const MAX_INPUT_STRING = 100_000;

/** A key as a path segment: plain names as they are, anything else quoted and cut short. */
const segment = (key: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$|^\d{1,9}$/.test(key) ? key : JSON.stringify(key.slice(0, 40)));

const kindOf = (u: unknown): string => {
  switch (typeof u) {
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    case "bigint":
      return "a bigint";
    case "number":
      return String(u);
    default:
      return typeof u;
  }
};

const instanceName = (prototype: object): string => {
  const constructor = Object.getOwnPropertyDescriptor(prototype, "constructor")?.value as unknown;
  const name = typeof constructor === "function" ? (Object.getOwnPropertyDescriptor(constructor, "name")?.value as unknown) : undefined;
  return typeof name === "string" && /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/.test(name) ? `an instance of ${name}` : "an object that inherits from another";
};

interface Pending {
  readonly value: unknown;
  readonly path: string;
  readonly depth: number;
}

const refuse = (path: string, expected: string, got: string): E.Either<DecodeError, never> =>
  E.left(new DecodeError(`${path}: expected ${expected}, got ${got}`));

/** Enumerable properties every object would inherit: someone has polluted a built-in prototype. */
const pollutedKey = (): string | undefined => {
  for (const key in {}) return key;
  for (const key in []) return key;
  return undefined;
};

/**
 * `u` itself when it is plain data: `null`, booleans, finite numbers, strings
 * of at most 100,000 characters, arrays and objects whose prototype is
 * `Array.prototype`, `Object.prototype` or `null`, holding only own enumerable
 * data properties with string keys (`undefined` values count as absent), nested
 * at most 32 deep and at most 10,000 values in all. Otherwise a `DecodeError`
 * whose message starts with the path of the first field that is not, from `root`:
 * `registerAccount.barcode: expected plain data, got an instance of Buffer`.
 */
export const plainInput = (u: unknown, root: string): E.Either<DecodeError, unknown> => {
  const polluted = pollutedKey();
  if (polluted !== undefined)
    return refuse(root, "plain data", `every object inheriting an enumerable property ${JSON.stringify(polluted.slice(0, 40))}`);
  const pending: Pending[] = [{ value: u, path: root, depth: 0 }];
  let nodes = 0;
  try {
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const { value, path, depth } = next;
      if (++nodes > MAX_INPUT_NODES) return refuse(root, `at most ${MAX_INPUT_NODES} values in all`, "more");
      switch (typeof value) {
        case "string":
          if (value.length > MAX_INPUT_STRING) return refuse(path, `at most ${MAX_INPUT_STRING} characters`, `${value.length}`);
          continue;
        case "number":
          if (!Number.isFinite(value)) return refuse(path, "a finite number", kindOf(value));
          continue;
        case "boolean":
        case "undefined":
          continue;
        case "object":
          break;
        default:
          return refuse(path, "plain data", kindOf(value));
      }
      if (value === null) continue;
      if (depth >= MAX_INPUT_DEPTH) return refuse(path, `arrays and objects nested at most ${MAX_INPUT_DEPTH} deep`, "deeper");
      const isArray = Array.isArray(value);
      const prototype = Object.getPrototypeOf(value) as object | null;
      const plain = isArray ? prototype === Array.prototype : prototype === Object.prototype || prototype === null;
      if (!plain) return refuse(path, isArray ? "a plain array" : "a plain object", instanceName(prototype ?? {}));
      if (Object.getOwnPropertySymbols(value).length > 0) return refuse(path, "string keys only", "a symbol key");
      const keys = Object.keys(value);
      if (isArray && keys.length !== (value as unknown[]).length) return refuse(path, "an array without holes or extra properties", "one with them");
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const at = `${path}.${segment(key)}`;
        if (key.length > MAX_INPUT_STRING) return refuse(path, `keys of at most ${MAX_INPUT_STRING} characters`, "a longer key");
        const descriptor = Object.getOwnPropertyDescriptor(value, key);
        if (descriptor === undefined || !("value" in descriptor)) return refuse(at, "a data property", "a getter");
        pending.push({ value: descriptor.value, path: at, depth: depth + 1 });
      }
    }
  } catch {
    // A proxy whose traps throw, or the like: whatever it is, it is not plain data.
    return refuse(root, "plain data", "a value that cannot be read");
  }
  return E.right(u);
};
