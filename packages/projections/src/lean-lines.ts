/**
 * Reading only what a read model folds, from export lines as `export` writes
 * them (ndjson.ts, `ReadExportOptions.readOnly`).
 *
 * A reader that answers from a few fields of a few event types (the access
 * graph: who registered, who connected whom, which link was revoked) need not
 * parse a whole line to get them. From a line laid out exactly as `export`
 * writes it (`{"position":N,"stream":…,["tags":…,]"type":…,"data":{…},"metadata":{"eventId":…,"schemaVersion":…,"occurredAt":…,…}}`,
 * no spaces) this module takes, walking its bytes:
 *
 * - for every line: the position, the type, `metadata.schemaVersion` and
 *   `metadata.occurredAt`; a type the caller does not read becomes a
 *   `SkippedEvent`, two numbers (no string, no bigint);
 * - for a type the caller reads: the fields of `data` it names (every other
 *   field skipped), and `metadata.eventId` when asked.
 *
 * Each value taken is checked as the catalog checks it (the field's codec; an
 * `Id` and a time on their bytes, held to `Id.is` and `IsoTime.is` by tests),
 * so a value the catalog refuses is never handed on. Anything unexpected
 * (another layout, an escaped string, a missing or repeated field, a value that
 * fails its check, a schema version older than the last change to the type, a
 * sealed part to open with keys) gives `undefined`: the caller then decodes the
 * line in full, which refuses a bad line naming its line and field. What is
 * not taken is vouched for by the export's trailer, which the caller requires:
 * its SHA-256 covers every byte, and `export` writes only events it decoded.
 *
 * No JSON.parse and no io-ts on this path, and no string made but the values
 * taken.
 */
import type * as t from "io-ts";
import { EventMetadata, Id, SCHEMA_VERSION, SEALED, daysIn, eventCodecs, eventTypes, isEventType, personalFieldsOf, schemaChanges, utcMs } from "@linked-accounts/domain/internal";

/**
 * What a reader reads of each event type it folds: the fields of `data`, and
 * whether it needs `metadata.eventId`. Every event also comes with its
 * position, type and `metadata.occurredAt`.
 */
export type FieldsRead = { readonly [type: string]: { readonly data: ReadonlyArray<string>; readonly eventId?: boolean } };

/** A field to take: its name, its catalog check, and whether it is personal (sealed in a sealed line). */
interface Wanted {
  readonly name: string;
  readonly is: (u: unknown) => boolean;
  /** The codec is the catalog's `Id`: checked on the bytes as they are taken (`idByte`), not again. */
  readonly id: boolean;
  /** The name's bytes, to find it among a line's keys without making a string. */
  readonly key: Uint8Array;
  readonly personal: boolean;
}

interface TypePlan {
  readonly fields: ReadonlyArray<Wanted>;
  readonly eventId: boolean;
  readonly hasPersonal: boolean;
}

/** `FieldsRead` compiled once: each field with its codec's check. */
export interface LeanPlan {
  readonly types: ReadonlyMap<string, TypePlan>;
}

/**
 * Per event type, the oldest schema version whose lines are read here: one
 * that no later schema change touches, neither in the metadata (every type)
 * nor in the type's data, so its fields mean today what they meant then.
 * Older lines are decoded in full (and upcast).
 */
const leanFrom: ReadonlyMap<string, number> = new Map(
  eventTypes.map((type) => [type, 1 + Math.max(0, ...schemaChanges.filter((c) => c.metadata !== undefined || c.data?.[type] !== undefined).map((c) => c.from))]),
);

type DataCodec = t.ExactType<t.InterfaceType<{ data: t.ExactType<t.InterfaceType<t.Props>> }>>;
const metadataProps = (EventMetadata as unknown as t.ExactType<t.InterfaceType<t.Props>>).type.props;
const isEventId = (u: unknown): boolean => metadataProps["eventId"]!.is(u);

/**
 * The epoch ms of the 24 bytes at `at` when they are a time the catalog's
 * `IsoTime` accepts (`2026-03-03T09:15:00.000Z`, a real date and time of day),
 * else NaN: checked on the bytes, no string made (a test holds this to
 * `IsoTime.is`, and the ms to `isoMs`).
 */
export const isoTimeMsAt = (buf: Uint8Array, at: number): number => {
  let year = 0;
  let month = 0;
  let day = 0;
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  let ms = 0;
  for (let k = 0; k < 24; k++) {
    const c = buf[at + k]!;
    switch (k) {
      case 4:
      case 7:
        if (c !== 45 /* - */) return NaN;
        continue;
      case 10:
        if (c !== 84 /* T */) return NaN;
        continue;
      case 13:
      case 16:
        if (c !== COLON) return NaN;
        continue;
      case 19:
        if (c !== 46 /* . */) return NaN;
        continue;
      case 23:
        if (c !== 90 /* Z */) return NaN;
        continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return NaN;
    if (k < 4) year = year * 10 + d;
    else if (k < 7) month = month * 10 + d;
    else if (k < 10) day = day * 10 + d;
    else if (k < 13) hours = hours * 10 + d;
    else if (k < 16) minutes = minutes * 10 + d;
    else if (k < 19) seconds = seconds * 10 + d;
    else ms = ms * 10 + d;
  }
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hours <= 23 && minutes <= 59 && seconds <= 59)) return NaN;
  return utcMs(year, month, day, hours, minutes, seconds, ms);
};

/**
 * An event of a type the reader reads nothing of: only its position and time,
 * as numbers. Its `position` and `metadata` are made only when asked for; the
 * folds that know it (the access graph's, the command line's) read `at` and
 * `occurredMs` instead, so a line skipped costs one small object.
 */
export class SkippedEvent {
  readonly stream = "";
  constructor(
    /** The position, as a number (a safe integer). */
    readonly at: number,
    readonly type: string,
    /** `metadata.occurredAt` in epoch ms. */
    readonly occurredMs: number,
  ) {}
  get position(): bigint {
    return BigInt(this.at);
  }
  get metadata(): { readonly occurredAt: string } {
    return { occurredAt: new Date(this.occurredMs).toISOString() };
  }
}

/** Compiles `read`; throws for a type or field the catalog does not have (a mistake in the caller). */
export const leanPlan = (read: FieldsRead): LeanPlan => {
  const types = new Map<string, TypePlan>();
  for (const [type, spec] of Object.entries(read)) {
    if (!isEventType(type)) throw new TypeError(`leanPlan: no event type ${type}`);
    const props = (eventCodecs[type] as unknown as DataCodec).type.props.data.type.props;
    const personal = new Set<string>(personalFieldsOf(type));
    const fields = spec.data.map((name): Wanted => {
      const codec = props[name];
      if (codec === undefined) throw new TypeError(`leanPlan: ${type}.data has no field ${name}`);
      return { name, is: (u) => codec.is(u), id: codec === Id, key: Uint8Array.from(Buffer.from(name, "latin1")), personal: personal.has(name) };
    });
    types.set(type, { fields, eventId: spec.eventId === true, hasPersonal: personal.size > 0 });
  }
  return { types };
};

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN = 123;
const CLOSE = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;

/**
 * The bytes of the catalog's `Id` (`^[A-Za-z0-9_-]{1,64}$`): an id is checked
 * as it is taken, with no regular expression (a test holds this to `Id.is`).
 */
export const ID_MAX = 64;
const idByte = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") idByte[c.charCodeAt(0)] = 1;

/** The type names by a hash of their bytes (`typeHash`), so a line's type is found without making a string. */
const typeHash = (buf: Buffer, from: number, to: number): number => {
  let h = to - from;
  for (let i = from; i < to; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
  return h;
};
const typesByHash = new Map<number, string[]>();
for (const type of eventTypes) {
  const bytes = Buffer.from(type, "latin1");
  const h = typeHash(bytes, 0, bytes.length);
  typesByHash.set(h, [...(typesByHash.get(h) ?? []), type]);
}
/** The event type named by the bytes `[from, to)`, or undefined. */
const typeAt = (buf: Buffer, from: number, to: number): string | undefined => {
  const candidates = typesByHash.get(typeHash(buf, from, to));
  if (candidates === undefined) return undefined;
  next: for (const type of candidates) {
    if (type.length !== to - from) continue;
    for (let k = 0; k < type.length; k++) if (type.charCodeAt(k) !== buf[from + k]) continue next;
    return type;
  }
  return undefined;
};

const bytesOf = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "latin1"));
const POSITION_PREFIX = bytesOf('{"position":');
const STREAM_KEY = bytesOf(',"stream":"');
const TAGS_KEY = bytesOf(',"tags":[');
const TYPE_KEY = bytesOf(',"type":"');
const DATA_KEY = bytesOf(',"data":{');
const METADATA_KEY = bytesOf(',"metadata":{"eventId":"');
const METADATA_KEY_AFTER_DATA = Buffer.from('},"metadata":{"eventId":"', "latin1");
const SCHEMA_VERSION_KEY = bytesOf('","schemaVersion":');
const OCCURRED_AT_KEY = bytesOf(',"occurredAt":"');
const EVENT_ID_LENGTH = 36;
const TIME_LENGTH = 24;

const matchesAt = (buf: Buffer, at: number, what: Uint8Array, end: number): boolean => {
  if (at + what.length > end) return false;
  for (let k = 0; k < what.length; k++) if (buf[at + k] !== what[k]) return false;
  return true;
};

/** The end of the string whose opening quote is at `i` (the index after its closing quote), or -1. */
const skipString = (buf: Buffer, i: number, end: number): number => {
  for (i++; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  return -1;
};

/** The end of the JSON value at `i` (not checked: the trailer vouches for it), or -1. */
const skipValue = (buf: Buffer, i: number, end: number): number => {
  const c = buf[i];
  if (c === QUOTE) return skipString(buf, i, end);
  if (c === OPEN || c === OPEN_ARRAY) {
    let depth = 0;
    for (; i < end; i++) {
      const b = buf[i]!;
      if (b === QUOTE) {
        i = skipString(buf, i, end) - 1;
        if (i < 0) return -1;
      } else if (b === OPEN || b === OPEN_ARRAY) depth++;
      else if (b === CLOSE || b === CLOSE_ARRAY) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // A number or a literal: up to the next separator.
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === COMMA || b === CLOSE || b === CLOSE_ARRAY) return i;
  }
  return -1;
};

/** Where the value `takeValue` last took ends. */
let valueEnd = 0;
const NOT_TAKEN = Symbol("not taken");

/**
 * The value at `i` when it is a string with no escape and no byte above 127
 * (with `id`: an `Id`, checked here), a boolean or null; NOT_TAKEN otherwise.
 */
const takeValue = (buf: Buffer, i: number, end: number, id: boolean): unknown => {
  const c = buf[i];
  if (c === QUOTE) {
    for (let j = i + 1; j < end; j++) {
      const b = buf[j]!;
      if (b === QUOTE) {
        if (id && (j === i + 1 || j - i - 1 > ID_MAX)) return NOT_TAKEN;
        valueEnd = j + 1;
        return buf.toString("latin1", i + 1, j);
      }
      if (id ? idByte[b] === 0 : b === BACKSLASH || b > 127) return NOT_TAKEN;
    }
    return NOT_TAKEN;
  }
  if (id) return NOT_TAKEN;
  if (c === 116 /* t */ && buf[i + 1] === 114 && buf[i + 2] === 117 && buf[i + 3] === 101) {
    valueEnd = i + 4;
    return true;
  }
  if (c === 102 /* f */ && buf[i + 1] === 97 && buf[i + 2] === 108 && buf[i + 3] === 115 && buf[i + 4] === 101) {
    valueEnd = i + 5;
    return false;
  }
  if (c === 110 /* n */ && buf[i + 1] === 117 && buf[i + 2] === 108 && buf[i + 3] === 108) {
    valueEnd = i + 4;
    return null;
  }
  return NOT_TAKEN;
};

const SEALED_KEY = bytesOf("sealed");
const NO_KEY = -1;
const OTHER_KEY = -2;
const SEALED_FIELD = -3;

/**
 * Which of `fields` the key at `i` (its opening quote) names: its index,
 * SEALED_FIELD for `sealed`, OTHER_KEY for another, NO_KEY when there is no
 * plain key there. Sets `valueEnd` past its colon.
 */
const keyAt = (buf: Buffer, i: number, end: number, fields: ReadonlyArray<Wanted>): number => {
  if (buf[i] !== QUOTE) return NO_KEY;
  let j = i + 1;
  while (j < end && buf[j] !== QUOTE && buf[j] !== BACKSLASH) j++;
  if (buf[j] !== QUOTE || buf[j + 1] !== COLON) return NO_KEY;
  valueEnd = j + 2;
  const length = j - i - 1;
  next: for (let k = 0; k < fields.length; k++) {
    const key = fields[k]!.key;
    if (key.length !== length) continue;
    for (let n = 0; n < length; n++) if (buf[i + 1 + n] !== key[n]) continue next;
    return k;
  }
  if (length === SEALED_KEY.length && matchesAt(buf, i + 1, SEALED_KEY, end)) return SEALED_FIELD;
  return OTHER_KEY;
};

/** What `leanLine` found: an event with only the fields read, or undefined (decode the line in full). */
export interface LeanEvent {
  readonly position: bigint;
  readonly type: string;
  readonly stream: string;
  readonly data?: Record<string, unknown>;
  readonly metadata: { readonly occurredAt: string; readonly eventId?: string };
}

/** The values taken from the line being read, by field (reused: at most 32 fields a type). */
const taken: unknown[] = [];

/** Set by `leanLine`: whether the event it returned was sealed (its personal fields read `[sealed]`). */
export const leanLast = { sealed: false };

/**
 * The lean event of the line `[start, end)` of `buf` (after position
 * `previous`), or undefined when the line is not exactly as `export` writes it,
 * or a value taken fails its check, or it is sealed and `sealedReads` is false
 * (keys were given: its fields must be opened). With `sealedReads`, a sealed
 * line's personal fields read `[sealed]`, and `leanLast.sealed` is set.
 */
export const leanLine = (buf: Buffer, start: number, end: number, previous: number, plan: LeanPlan, sealedReads: boolean): LeanEvent | SkippedEvent | undefined => {
  leanLast.sealed = false;
  if (!matchesAt(buf, start, POSITION_PREFIX, end)) return undefined;
  // The position: digits, no leading zero, safe as a number.
  let i = start + POSITION_PREFIX.length;
  let p = 0;
  const digitsFrom = i;
  for (let c = buf[i]!; c >= 48 && c <= 57 && i < end; c = buf[++i]!) p = p * 10 + (c - 48);
  if (i === digitsFrom || i - digitsFrom > 15 || buf[digitsFrom] === 48 || p <= previous) return undefined;
  // The stream (not kept: no reader of the access graph asks), the tags if any, then the type.
  if (!matchesAt(buf, i, STREAM_KEY, end)) return undefined;
  i = skipString(buf, i + STREAM_KEY.length - 1, end);
  if (i < 0) return undefined;
  if (matchesAt(buf, i, TAGS_KEY, end)) {
    i = skipValue(buf, i + TAGS_KEY.length - 1, end);
    if (i < 0) return undefined;
  }
  if (!matchesAt(buf, i, TYPE_KEY, end)) return undefined;
  const typeStart = i + TYPE_KEY.length;
  let typeEnd = typeStart;
  while (typeEnd < end && buf[typeEnd] !== QUOTE) typeEnd++;
  const type = typeAt(buf, typeStart, typeEnd);
  if (type === undefined) return undefined;
  i = typeEnd + 1;
  if (!matchesAt(buf, i, DATA_KEY, end)) return undefined;
  const wanted = plan.types.get(type);
  let data: Record<string, unknown> | undefined;
  if (wanted === undefined) {
    // A type not read: its data skipped whole, to the metadata (found by its key: the catalog's data has no such field).
    i = buf.indexOf(METADATA_KEY_AFTER_DATA, i + DATA_KEY.length - 1);
    if (i < 0 || i >= end) return undefined;
    i++;
  } else {
    // Each field asked for taken and checked; every other one skipped.
    i += DATA_KEY.length;
    const fields = wanted.fields;
    const values = taken;
    let seen = 0;
    let sealed = false;
    if (buf[i] === CLOSE) i++;
    else
      for (;;) {
        const k = keyAt(buf, i, end, fields);
        if (k === NO_KEY) return undefined;
        i = valueEnd;
        if (k >= 0) {
          const field = fields[k]!;
          const value = takeValue(buf, i, end, field.id);
          if (value === NOT_TAKEN || (seen & (1 << k)) !== 0 || (!field.id && !field.is(value))) return undefined;
          values[k] = value;
          seen |= 1 << k;
          i = valueEnd;
        } else {
          if (k === SEALED_FIELD) {
            if (sealed || !wanted.hasPersonal) return undefined;
            sealed = true;
          }
          i = skipValue(buf, i, end);
          if (i < 0) return undefined;
        }
        const c = buf[i++];
        if (c === CLOSE) break;
        if (c !== COMMA) return undefined;
      }
    if (sealed) {
      // Keys given: the sealed part must be opened (and so checked) by the full path.
      if (!sealedReads) return undefined;
      // The fields read that are personal must be sealed, not in the clear beside it; they read [sealed].
      for (let k = 0; k < fields.length; k++) {
        const field = fields[k]!;
        if (field.personal === ((seen & (1 << k)) !== 0)) return undefined;
        if (field.personal) values[k] = SEALED;
      }
      leanLast.sealed = true;
    } else if (seen !== (1 << fields.length) - 1) return undefined;
    // Always the same keys in the same order for a type: one shape per type.
    data = {};
    for (let k = 0; k < fields.length; k++) data[fields[k]!.name] = values[k];
  }
  // The metadata, laid out as `export` writes it: its event id, schema version and time first.
  if (wanted !== undefined && !matchesAt(buf, i, METADATA_KEY, end)) return undefined; // (a skipped type's was found by it)
  const idStart = i + METADATA_KEY.length;
  i = idStart + EVENT_ID_LENGTH;
  if (!matchesAt(buf, i, SCHEMA_VERSION_KEY, end)) return undefined;
  i += SCHEMA_VERSION_KEY.length;
  const version = buf[i]! - 48;
  if (version < leanFrom.get(type)! || version > SCHEMA_VERSION) return undefined;
  i++;
  if (!matchesAt(buf, i, OCCURRED_AT_KEY, end)) return undefined;
  const atStart = i + OCCURRED_AT_KEY.length;
  if (atStart + TIME_LENGTH >= end || buf[atStart + TIME_LENGTH] !== QUOTE) return undefined;
  const ms = isoTimeMsAt(buf, atStart);
  if (ms !== ms) return undefined;
  if (wanted === undefined) return new SkippedEvent(p, type, ms);
  const position = BigInt(p);
  const occurredAt = buf.toString("latin1", atStart, atStart + TIME_LENGTH);
  if (!wanted.eventId) return { position, type, stream: "", data, metadata: { occurredAt } };
  const eventId = buf.toString("latin1", idStart, idStart + EVENT_ID_LENGTH);
  if (!isEventId(eventId)) return undefined;
  return { position, type, stream: "", data, metadata: { occurredAt, eventId } };
};
