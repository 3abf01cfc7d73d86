/**
 * The export format (docs: `linked-accounts --help`, "Export format"): one event
 * per line, `{"position", "stream", "type", "data", "metadata"}` and optionally
 * `"tags"`, positions strictly increasing. `linked-accounts export` also writes
 * a header line first and a trailer line last:
 *
 *   {"header":{"format":"linked-accounts-export","version":1}}
 *   ... one line per event ...
 *   {"trailer":{"events":N,"sha256":"<64 hex digits>"}}
 *
 * `events` counts the event lines; `sha256` is the SHA-256 of every byte before
 * the trailer line (the header and each event line with its newline). A reader
 * that saw the header requires the trailer and checks both figures, so a file
 * cut short (an export killed half way) or changed afterwards is refused. A
 * file with no header (written by hand, or by an older release) is read as
 * before, and the caller is told it could not be checked.
 *
 * Every line is decoded (the envelope here, the event by the domain's codecs);
 * the first bad line stops the read with its line number. Lines are split from
 * bytes with a length limit, so one huge line is refused by number rather than
 * taking the memory.
 *
 * An export holds each event as its store's log keeps it: personal fields
 * sealed in `data.sealed` (schema version 3), or in the clear (events written
 * before sealing, and every event of an export of schema version 1 or 2).
 * `export` copies that form and never opens it, so forgetting a key erases
 * those fields in every export too. A reader opens sealed fields with the key
 * store that sealed them (`keys`); without one they read `[sealed]`, and once a
 * key is forgotten they read `[erased]`.
 */
import { createHash, type Hash } from "node:crypto";
import type { Readable } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type KeyStore, openStoredEvents } from "@linked-accounts/adapters";
import { type StoredEnvelope, decodeStoredEnvelope, decodeWith, encodeEvent, EventMetadata, isEventType, isSealed } from "@linked-accounts/domain/internal";
import type { PositionedEvent } from "./projection.js";

const isPosition = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u > 0;
const isStringArray = (u: unknown): u is string[] => Array.isArray(u) && u.every((x) => typeof x === "string");

/** A line of the export: positions are JSON numbers (safe, positive integers); `tags` may be absent. */
export const ExportLine = t.intersection(
  [
    t.type({
      position: new t.Type<number, number, unknown>("positive integer", isPosition, (u, c) => (isPosition(u) ? t.success(u) : t.failure(u, c)), t.identity),
      stream: t.string,
      type: t.string,
      data: t.unknown,
      metadata: t.unknown,
    }),
    t.partial({ tags: t.array(t.string) }),
  ],
  "ExportLine",
);

/** The first line `export` writes. */
export const ExportHeader = t.type({ header: t.type({ format: t.literal("linked-accounts-export"), version: t.literal(1) }) }, "ExportHeader");
/** The last line `export` writes. */
export const ExportTrailer = t.type(
  {
    trailer: t.type({
      events: new t.Type<number, number, unknown>(
        "a count",
        (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0,
        (u, c) => (typeof u === "number" && Number.isSafeInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
        t.identity,
      ),
      sha256: new t.Type<string, string, unknown>(
        "64 lowercase hex digits",
        (u): u is string => typeof u === "string" && /^[0-9a-f]{64}$/.test(u),
        (u, c) => (typeof u === "string" && /^[0-9a-f]{64}$/.test(u) ? t.success(u) : t.failure(u, c)),
        t.identity,
      ),
    }),
  },
  "ExportTrailer",
);

export const headerLine = JSON.stringify({ header: { format: "linked-accounts-export", version: 1 } });
export const trailerLine = (events: number, sha256: string): string => JSON.stringify({ trailer: { events, sha256 } });

/** An exported event as read back: a positioned event that also names its stream (and its tags, when it has them). */
export type ExportedEvent = PositionedEvent & { readonly stream: string; readonly tags?: ReadonlyArray<string> };

/**
 * An exported event as its store kept it (what `export` writes): personal
 * fields sealed in `data.sealed`, or in the clear.
 */
export type StoredExportedEvent = StoredEnvelope & { readonly position: bigint; readonly stream: string; readonly tags?: ReadonlyArray<string> };

/** The line each sealed event was read from, so that one which does not open is refused by line. */
const lineOfSealed = new WeakMap<object, number>();

/** A line that is not a valid export line; `line` counts from 1. */
export class ExportFormatError extends Error {
  override readonly name = "ExportFormatError";
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** The export as a whole does not check out: it has no trailer though it began with a header, or the trailer disagrees. */
export class ExportIntegrityError extends Error {
  override readonly name = "ExportIntegrityError";
}

/** The default limit on one line, in bytes (a valid event is a few kilobytes at most). */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/** Decodes one line already parsed as JSON (after `previous`, the position before it, 0n at first). */
const decodeExportJson = (json: unknown, line: number, previous: bigint): E.Either<ExportFormatError, StoredExportedEvent> => {
  // The envelope's own fields are checked by hand on the way through; io-ts only words the failure.
  const o = json as { position?: unknown; stream?: unknown; type?: unknown; tags?: unknown };
  const plain =
    typeof json === "object" && json !== null && isPosition(o.position) && typeof o.stream === "string" && typeof o.type === "string" && (o.tags === undefined || isStringArray(o.tags));
  if (!plain) {
    const envelope = decodeWith(ExportLine, "event")(json);
    return E.left(new ExportFormatError(line, E.isLeft(envelope) ? envelope.left.message : "event: expected an export line"));
  }
  const position = BigInt(o.position as number);
  if (position <= previous)
    return E.left(new ExportFormatError(line, `event.position: expected more than ${previous} (strictly increasing), got ${position}`));
  // The domain's decoding: every schema version upcast, in the clear or sealed, a failure worded by field.
  const event = decodeStoredEnvelope(json);
  if (E.isLeft(event)) return E.left(new ExportFormatError(line, event.left.message));
  const exported = { ...event.right, position, stream: o.stream as string } as StoredExportedEvent & { tags?: ReadonlyArray<string> };
  if (o.tags !== undefined) exported.tags = o.tags as string[];
  if (isSealed(exported)) lineOfSealed.set(exported, line);
  return E.right(exported);
};

/** Decodes one line (after `previous`, the position of the line before, 0n at first), as its store kept it. */
export const decodeExportLine = (text: string, line: number, previous: bigint): E.Either<ExportFormatError, StoredExportedEvent> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return E.left(new ExportFormatError(line, `not valid JSON (${error instanceof Error ? error.message : String(error)})`));
  }
  try {
    return decodeExportJson(json, line, previous);
  } catch (error) {
    // A value the codecs could not even describe (nested thousands deep, say).
    return E.left(new ExportFormatError(line, `could not be decoded (${error instanceof Error ? error.message : String(error)})`));
  }
};

export interface ReadExportOptions {
  /** The longest line accepted, in bytes (default `DEFAULT_MAX_LINE_BYTES`). */
  readonly maxLineBytes?: number;
  /**
   * The event types the caller reads in full. When given, and only in an export
   * that began with the header (so its trailer is required and checked before
   * the read ends), a line of any other type as `export` writes it is not parsed:
   * it comes as a stub with only `position`, `type` and `metadata.occurredAt`.
   * Safe because the trailer's SHA-256 proves every byte is what `export`
   * wrote, and `export` writes only events it decoded; a line that does not
   * look exactly as `export` writes it is decoded in full.
   */
  readonly readInFull?: ReadonlySet<string>;
  /** Told at the end of an export with no header: nothing says it is complete. */
  readonly onUnchecked?: () => void;
  /** Told of the bytes read so far, once per chunk (for progress). */
  readonly onBytes?: (bytes: number) => void;
  /**
   * The key store that sealed the export's personal fields (the store's own, opened to
   * read), or null (the default): sealed fields then read `[sealed]`. Forgotten
   * keys read `[erased]` either way. Lines in the clear need none.
   */
  readonly keys?: KeyStore | null;
  /** Told once, at the first sealed event, when no `keys` were given: its personal fields read `[sealed]`. */
  readonly onSealed?: () => void;
}

type Chunk = Buffer | Uint8Array | string;

const POSITION_PREFIX = Buffer.from('{"position":');
const TYPE_KEY = Buffer.from('"type":"');
const OCCURRED_AT_KEY = Buffer.from('"occurredAt":"');
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The stub of a line `[start, end)` of `buf` whose type is not read in full, or
 * undefined when the line is not exactly as `export` writes it (then it is
 * decoded in full). Reads the position, the first `"type":"` (nothing before it
 * can hold an unescaped quote) and the first `"occurredAt":"` after it (the
 * catalog's data has no such field; metadata follows data).
 */
const stubOf = (buf: Buffer, start: number, end: number, previous: bigint, full: ReadonlySet<string>): StoredExportedEvent | undefined => {
  if (end - start < 64 || buf.compare(POSITION_PREFIX, 0, POSITION_PREFIX.length, start, start + POSITION_PREFIX.length) !== 0) return undefined;
  let i = start + POSITION_PREFIX.length;
  let p = 0;
  const digitsFrom = i;
  for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) p = p * 10 + (c - 48);
  if (i === digitsFrom || i - digitsFrom > 15 || buf[digitsFrom] === 48 || buf[i] !== 44 /* , */) return undefined;
  const t = buf.indexOf(TYPE_KEY, i);
  if (t < 0 || t >= end) return undefined;
  const typeStart = t + TYPE_KEY.length;
  const typeEnd = buf.indexOf(34 /* " */, typeStart);
  if (typeEnd < 0 || typeEnd >= end) return undefined;
  const type = buf.toString("latin1", typeStart, typeEnd);
  if (full.has(type) || !isEventType(type)) return undefined;
  const o = buf.indexOf(OCCURRED_AT_KEY, typeEnd);
  const atStart = o + OCCURRED_AT_KEY.length;
  if (o < 0 || atStart + 25 > end || buf[atStart + 24] !== 34) return undefined;
  const occurredAt = buf.toString("latin1", atStart, atStart + 24);
  const position = BigInt(p);
  if (!ISO_TIME.test(occurredAt) || position <= previous) return undefined;
  return { position, type, stream: "", metadata: { occurredAt } } as unknown as StoredExportedEvent;
};

/**
 * Reads an export, yielding decoded events in batches (one await per batch, not
 * per event), their personal fields opened with `options.keys` (or `[sealed]`).
 * Each chunk of `input` is used up before the next is asked for, so
 * a source may read into the same buffer each time. Blank lines are skipped (a final newline is usual). Throws
 * `ExportFormatError` at the first bad line (a sealed part that does not open
 * under the keys given among them) and `ExportIntegrityError` when the
 * header and trailer do not check out.
 */
export async function* readExportBatches(input: AsyncIterable<Chunk>, options: ReadExportOptions = {}): AsyncGenerator<ReadonlyArray<ExportedEvent>> {
  const keys = options.keys ?? null;
  let told = false;
  for await (const batch of readStoredExportBatches(input, options)) {
    const sealed = batch.filter((e) => e.data !== undefined && isSealed(e));
    if (sealed.length === 0) {
      yield batch as ReadonlyArray<ExportedEvent>;
      continue;
    }
    if (keys === null && !told) {
      told = true;
      options.onSealed?.();
    }
    const opened = await openExported(sealed, keys);
    let k = 0;
    yield batch.map((e) => (e.data !== undefined && isSealed(e) ? opened[k++]! : (e as ExportedEvent)));
  }
}

/** Opens sealed exported events (in order), keeping each one's stream and its tags when it had them. */
const openExported = async (sealed: ReadonlyArray<StoredExportedEvent>, keys: KeyStore | null): Promise<ExportedEvent[]> => {
  const out: ExportedEvent[] = [];
  try {
    for await (const event of openStoredEvents(
      (async function* () {
        for (const e of sealed) yield { ...e, tags: (e.tags ?? []) as ReadonlyArray<never> };
      })(),
      keys,
    )) {
      const given = sealed[out.length]!;
      const { tags, ...rest } = event;
      out.push((given.tags === undefined ? { ...rest, stream: given.stream } : { ...rest, tags, stream: given.stream }) as ExportedEvent);
    }
  } catch (error) {
    const e = error as { name?: unknown; position?: unknown; type?: unknown; reason?: unknown };
    if (e.name === "StoredEventDecodeError" && typeof e.position === "bigint") {
      const bad = sealed.find((x) => x.position === e.position);
      throw new ExportFormatError(bad === undefined ? 0 : (lineOfSealed.get(bad) ?? 0), `${String(e.type)}.${String(e.reason)}`);
    }
    throw error;
  }
  return out;
};

/**
 * Reads an export as its store kept it (personal fields sealed or in the
 * clear, never opened): what `export` copies. Otherwise as `readExportBatches`.
 */
export async function* readStoredExportBatches(input: AsyncIterable<Chunk>, options: ReadExportOptions = {}): AsyncGenerator<ReadonlyArray<StoredExportedEvent>> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const full = options.readInFull;
  let line = 0;
  let previous = 0n;
  let events = 0;
  let bytes = 0;
  let headed = false;
  let trailer: { line: number } | undefined;
  let firstContent = true;
  const hash: Hash = createHash("sha256");
  let carry: Buffer | undefined;

  /** Handles one complete line; returns true when it is the trailer. */
  const take = (text: string, batch: StoredExportedEvent[]): boolean => {
    line++;
    if (text.length === 0 || (text.trim() === "" && text.length < 64)) return false;
    if (trailer !== undefined) throw new ExportFormatError(line, `nothing may follow the trailer line (line ${trailer.line})`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ExportFormatError(line, `not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const first = firstContent;
    firstContent = false;
    if (typeof json === "object" && json !== null && !Array.isArray(json) && !hasOwn(json, "position")) {
      if (hasOwn(json, "header")) {
        if (!first) throw new ExportFormatError(line, "a header line may only come first");
        const header = decodeWith(ExportHeader, "header")(json);
        if (E.isLeft(header)) throw new ExportFormatError(line, `${header.left.message} (this release reads export version 1)`);
        headed = true;
        return false;
      }
      if (hasOwn(json, "trailer")) {
        const decoded = decodeWith(ExportTrailer, "trailer")(json);
        if (E.isLeft(decoded)) throw new ExportFormatError(line, decoded.left.message);
        trailer = { line };
        const said = decoded.right.trailer;
        if (said.events !== events)
          throw new ExportIntegrityError(`line ${line}: the trailer says ${said.events} events, but ${events} came before it: the export is incomplete or was changed`);
        return true;
      }
    }
    let decoded: E.Either<ExportFormatError, StoredExportedEvent>;
    try {
      decoded = decodeExportJson(json, line, previous);
    } catch (error) {
      decoded = E.left(new ExportFormatError(line, `could not be decoded (${error instanceof Error ? error.message : String(error)})`));
    }
    if (E.isLeft(decoded)) throw decoded.left;
    previous = decoded.right.position;
    events++;
    batch.push(decoded.right);
    return false;
  };

  const tooLong = () =>
    new ExportFormatError(line + 1, `longer than ${max.toLocaleString("en")} bytes, the line length limit (--max-line-bytes); is this an export?`);

  for await (const chunk of input) {
    const piece = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    bytes += piece.length;
    options.onBytes?.(bytes);
    const buf = carry === undefined ? piece : Buffer.concat([carry, piece]);
    carry = undefined;
    const batch: StoredExportedEvent[] = [];
    let start = 0;
    let hashed = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      if (nl - start > max) throw tooLong();
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      const stub = full !== undefined && headed && trailer === undefined ? stubOf(buf, start, end, previous, full) : undefined;
      if (stub !== undefined) {
        line++;
        previous = stub.position;
        events++;
        batch.push(stub);
      } else if (trailer === undefined) {
        const text = buf.toString("utf8", start, end);
        if (take(text, batch)) {
          hash.update(buf.subarray(hashed, start));
          hashed = nl + 1;
          checkHash(hash.digest("hex"), buf.toString("utf8", start, end), line);
        }
      } else take(buf.toString("utf8", start, end), batch);
      start = nl + 1;
    }
    if (trailer === undefined) hash.update(buf.subarray(hashed, start));
    if (buf.length - start > max) throw tooLong();
    // A copy: the chunk's buffer may be read into again (see `sources.ts`).
    if (start < buf.length) carry = Buffer.from(buf.subarray(start));
    if (batch.length > 0) yield batch;
  }
  if (carry !== undefined && carry.length > 0) {
    // A last line without its newline: read it, but a line cut short says so.
    const batch: StoredExportedEvent[] = [];
    const text = carry.toString("utf8");
    try {
      if (trailer === undefined && take(text, batch)) checkHash(hash.digest("hex"), text, line);
      else if (trailer !== undefined) take(text, batch);
    } catch (error) {
      if (error instanceof ExportFormatError && error.reason.startsWith("not valid JSON"))
        throw new ExportFormatError(error.line, `${error.reason}; the input ends in the middle of this line: it was cut short`);
      throw error;
    }
    if (batch.length > 0) yield batch;
  }
  if (trailer === undefined) {
    if (headed) throw new ExportIntegrityError(`the export ends after line ${line} without its trailer line: it is incomplete (cut short?)`);
    options.onUnchecked?.();
  }
}

const checkHash = (actual: string, trailerText: string, line: number): void => {
  const said = (JSON.parse(trailerText) as { trailer: { sha256: string } }).trailer.sha256;
  if (said !== actual)
    throw new ExportIntegrityError(`line ${line}: the trailer's SHA-256 does not match the lines before it: the export was changed or damaged after it was written`);
};

/**
 * Reads an export from a stream of text or bytes, one event at a time. Blank
 * lines are skipped. Throws `ExportFormatError` at the first bad line.
 */
export async function* readExport(input: Readable | AsyncIterable<Chunk>, options: ReadExportOptions = {}): AsyncGenerator<ExportedEvent> {
  for await (const batch of readExportBatches(input as AsyncIterable<Chunk>, options)) yield* batch;
}

/** An event `export` writes: as its store kept it (sealed or in the clear), or an event in the clear. */
export type ExportableEvent = (StoredEnvelope | PositionedEvent) & { readonly position: bigint; readonly stream: string };

/**
 * One export line for an event (no newline); `tags` is written when the event
 * has them. A sealed event is written as kept: its `sealed` part, never opened.
 */
export const exportLine = (event: ExportableEvent): string => {
  if (event.position > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`Position ${event.position} does not fit a JSON number exactly`);
  const { type, data } = isSealed(event) ? { type: event.type, data: event.data } : encodeEvent(event as PositionedEvent);
  const tags = (event as { tags?: unknown }).tags;
  const metadata = EventMetadata.encode(event.metadata);
  return isStringArray(tags)
    ? JSON.stringify({ position: Number(event.position), stream: event.stream, tags, type, data, metadata })
    : JSON.stringify({ position: Number(event.position), stream: event.stream, type, data, metadata });
};

/**
 * Writes every event of `events` as an export: the header, a line per event,
 * then the trailer. Streams: at most about 64 KiB is held before `write` is
 * called (and awaited, so a slow reader holds the producer back). Resolves to
 * the number of events.
 */
export const writeExport = async (
  events: AsyncIterable<ExportableEvent>,
  write: (chunk: string) => void | Promise<void>,
): Promise<number> => {
  const hash = createHash("sha256");
  let count = 0;
  let chunk = headerLine + "\n";
  const flush = async () => {
    hash.update(chunk, "utf8");
    await write(chunk);
    chunk = "";
  };
  for await (const event of events) {
    chunk += exportLine(event) + "\n";
    count++;
    if (chunk.length > 1 << 16) await flush();
  }
  await flush();
  await write(trailerLine(count, hash.digest("hex")) + "\n");
  return count;
};

/** An event source over events already read (an export held in memory). */
export const sourceOf = (events: ReadonlyArray<PositionedEvent>) => ({
  async *readAll(options: { readonly from?: bigint } = {}): AsyncGenerator<PositionedEvent> {
    const from = options.from ?? 0n;
    for (const event of events) if (event.position >= from) yield event;
  },
  async *readBatches(options: { readonly from?: bigint; readonly batchSize?: number } = {}): AsyncGenerator<ReadonlyArray<PositionedEvent>> {
    const from = options.from ?? 0n;
    const size = Math.max(1, options.batchSize ?? 1000);
    let batch: PositionedEvent[] = [];
    for (const event of events)
      if (event.position >= from && batch.push(event) >= size) {
        yield batch;
        batch = [];
      }
    if (batch.length > 0) yield batch;
  },
});
