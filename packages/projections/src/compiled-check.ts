/**
 * Decoding an export line at the speed of a type check: each event type's codec
 * is compiled once into a plain function that says whether io-ts would decode
 * a value to that very value (valid, and nothing to strip). When it says yes,
 * the value is the decoded event; when it says no, the caller decodes with
 * io-ts, which gives the same answer as ever and the message naming the field.
 * Issue 11 measured io-ts decoding at about twice the cost of `JSON.parse`.
 *
 * Only shapes whose io-ts decoding is known are compiled: exact and plain
 * object types, unions, and leaf types decoded by their own `is` (literals,
 * keyofs, strings, booleans, null, and the catalog's `new t.Type(name, is,
 * validate-by-is, identity)` refinements). Anything else compiles to "no", so a
 * codec this does not know makes every line take the io-ts path: slower, never
 * wrong. The metadata is checked against today's `EventMetadata`, so an event
 * of an earlier schema version always goes through the domain's own decoding
 * (and its upcasters).
 */
import * as t from "io-ts";
import { type EventEnvelope, EventMetadata, eventCodecs, isEventType } from "@linked-accounts/domain/internal";

/** Is `u` a value this codec decodes to itself? */
type Check = (u: unknown) => boolean;

const never: Check = () => false;

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && Object.getPrototypeOf(u) === Object.prototype;

const ownKeyCount = (o: object): number => {
  let n = 0;
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) n++;
  return n;
};

/** The leaf types whose decoding is `is` and returns the value itself. */
const isLeaf = (codec: t.Mixed): boolean =>
  codec instanceof t.StringType ||
  codec instanceof t.BooleanType ||
  codec instanceof t.NullType ||
  codec instanceof t.LiteralType ||
  codec instanceof t.KeyofType ||
  codec instanceof t.NumberType ||
  // The catalog's refinements (`matching`, `IsoTime`, `Text`, `PositiveInt`): the base class itself, encoding by identity.
  (codec.constructor === t.Type && codec.encode === t.identity);

export const compileCheck = (codec: t.Mixed): Check => {
  if (codec instanceof t.ExactType) {
    const inner = codec.type as t.Mixed;
    if (!(inner instanceof t.InterfaceType)) return never;
    const props = inner.props as Record<string, t.Mixed>;
    const keys = Object.keys(props);
    const checks = keys.map((k) => compileCheck(props[k]!));
    // Exact: no key but the codec's (io-ts would strip them, giving another value).
    return (u) => {
      if (!isPlainObject(u) || ownKeyCount(u) !== keys.length) return false;
      for (let i = 0; i < keys.length; i++) if (!Object.prototype.hasOwnProperty.call(u, keys[i]!) || !checks[i]!(u[keys[i]!])) return false;
      return true;
    };
  }
  if (codec instanceof t.InterfaceType) {
    const props = codec.props as Record<string, t.Mixed>;
    const keys = Object.keys(props);
    const checks = keys.map((k) => compileCheck(props[k]!));
    return (u) => {
      if (!isPlainObject(u)) return false;
      for (let i = 0; i < keys.length; i++) if (!checks[i]!(u[keys[i]!])) return false;
      return true;
    };
  }
  if (codec instanceof t.UnionType) {
    const members = codec.types as ReadonlyArray<t.Mixed>;
    const checks = members.map(compileCheck);
    // io-ts takes the first member that decodes: if an earlier one would (by stripping), it is not ours to say.
    return (u) => {
      for (let i = 0; i < members.length; i++) {
        if (checks[i]!(u)) return true;
        if (members[i]!.is(u)) return false;
      }
      return false;
    };
  }
  if (isLeaf(codec)) return (u) => codec.is(u);
  return never;
};

/** The data codec of an event type (`exact({ type, data: exact(...) })`), compiled; "no" if the shape is not that. */
const dataCheckOf = (codec: t.Mixed): Check => {
  if (!(codec instanceof t.ExactType) || !(codec.type instanceof t.InterfaceType)) return never;
  const data = (codec.type.props as Record<string, t.Mixed>)["data"];
  return data === undefined ? never : compileCheck(data);
};

const dataChecks = new Map<string, Check>(Object.entries(eventCodecs).map(([type, codec]) => [type, dataCheckOf(codec as unknown as t.Mixed)]));
const metadataCheck = compileCheck(EventMetadata as unknown as t.Mixed);

/**
 * The event of an export line already parsed (`{type, data, metadata, ...}`)
 * when it decodes to itself, exactly as `decodeEnvelope` would give it; else
 * undefined, and the caller decodes it with io-ts.
 */
export const checkedEnvelope = (o: { readonly type?: unknown; readonly data?: unknown; readonly metadata?: unknown }): EventEnvelope | undefined => {
  if (!isEventType(o.type)) return undefined;
  const check = dataChecks.get(o.type);
  if (check === undefined || !check(o.data) || !metadataCheck(o.metadata)) return undefined;
  return { type: o.type, data: o.data, metadata: o.metadata } as EventEnvelope;
};
