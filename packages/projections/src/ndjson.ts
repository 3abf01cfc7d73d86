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
 * Every line is decoded (the envelope here, the event by the domain's codecs),
 * except that a reader that folds only a few fields may ask for only those
 * from a checked export (`readOnly`, lean-lines.ts); the first bad line stops
 * the read with its line number. Lines are split from
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
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type KeyStore, openStoredEvents } from "@linked-accounts/adapters";
import { type StoredEnvelope, decodeStoredEnvelope, decodeWith, encodeEvent, EventMetadata, isSealed } from "@linked-accounts/domain/internal";
import { runningDigest } from "./export-digest.js";
import { type FieldsRead, type LeanPlan, SkippedEvent, leanLast, leanLine, leanPlan } from "./lean-lines.js";
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
   * What the caller reads of each event type it folds (for `readExportBatches`
   * and `readExport`; what `readStoredExportBatches` copies is always read
   * whole). When given, and only in an export that began with the header (so
   * its trailer is required and checked before the read ends), a line as
   * `export` writes it is not parsed: it comes with only its position, type,
   * `metadata.occurredAt` and, for a type named here, the fields named (each
   * checked with the catalog's codec for it; personal fields of a sealed line
   * read without `keys` read `[sealed]`). Safe because the trailer's SHA-256
   * proves every byte is what `export` wrote, and `export` writes only events
   * it decoded; a line that does not look exactly as `export` writes it, or a
   * value that fails its check, is decoded in full (and refused by line and
   * field). See lean-lines.ts.
   */
  readonly readOnly?: FieldsRead;
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
  const tell = (): void => {
    if (told) return;
    told = true;
    options.onSealed?.();
  };
  const lean = options.readOnly === undefined ? undefined : { plan: leanPlan(options.readOnly), sealedReads: keys === null, onSealed: tell };
  for await (const batch of readLines(input, options, lean)) {
    const sealed = batch.filter((e) => e.data !== undefined && isSealed(e));
    if (sealed.length === 0) {
      yield batch as ReadonlyArray<ExportedEvent>;
      continue;
    }
    if (keys === null) tell();
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
  yield* readLines(input, options, undefined);
}

/** Reading lean (`ReadExportOptions.readOnly`): the plan, whether sealed lines may read `[sealed]`, and whom to tell when one does. */
interface Lean {
  readonly plan: LeanPlan;
  readonly sealedReads: boolean;
  readonly onSealed: () => void;
}

/** The reader behind both: every line decoded in full, or with `lean`, lines as `export` writes them read lean. */
async function* readLines(input: AsyncIterable<Chunk>, options: ReadExportOptions, lean: Lean | undefined): AsyncGenerator<ReadonlyArray<StoredExportedEvent>> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let line = 0;
  /** The position of the last event line (a safe integer: export positions are JSON numbers). */
  let previous = 0;
  let events = 0;
  let bytes = 0;
  let headed = false;
  let trailer: { line: number } | undefined;
  let firstContent = true;
  const hash = runningDigest();
  /** The trailer just read, to check against the digest before anything after it is read. */
  let unchecked: { readonly text: string; readonly line: number } | undefined;
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
      decoded = decodeExportJson(json, line, BigInt(previous));
    } catch (error) {
      decoded = E.left(new ExportFormatError(line, `could not be decoded (${error instanceof Error ? error.message : String(error)})`));
    }
    if (E.isLeft(decoded)) throw decoded.left;
    previous = Number(decoded.right.position);
    events++;
    batch.push(decoded.right);
    return false;
  };

  const tooLong = () =>
    new ExportFormatError(line + 1, `longer than ${max.toLocaleString("en")} bytes, the line length limit (--max-line-bytes); is this an export?`);

  /**
   * Reads the complete lines of `buf` from `from` into `batch`, and hashes them
   * (up to the trailer); returns where the first incomplete line starts, or,
   * having read the trailer, where the line after it starts (`unchecked` set:
   * the digest is checked before anything after the trailer is read).
   */
  const scan = (buf: Buffer, from: number, batch: StoredExportedEvent[]): number => {
    let start = from;
    let hashed = from;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      if (nl - start > max) throw tooLong();
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      const read = lean !== undefined && headed && trailer === undefined ? leanLine(buf, start, end, previous, lean.plan, lean.sealedReads) : undefined;
      if (read !== undefined) {
        line++;
        previous = read instanceof SkippedEvent ? read.at : Number(read.position);
        events++;
        if (leanLast.sealed) lean!.onSealed();
        batch.push(read as unknown as StoredExportedEvent);
      } else if (trailer === undefined) {
        const text = buf.toString("utf8", start, end);
        if (take(text, batch)) {
          hash.update(buf.subarray(hashed, start));
          unchecked = { text, line };
          return nl + 1;
        }
      } else take(buf.toString("utf8", start, end), batch);
      start = nl + 1;
    }
    if (trailer === undefined) hash.update(buf.subarray(hashed, start));
    return start;
  };

  /** Checks the trailer just read against the digest of every byte before it. */
  const check = async (): Promise<void> => {
    const { text, line: at } = unchecked!;
    unchecked = undefined;
    checkHash(await hash.digest(), text, at);
  };

  try {
    for await (const chunk of input) {
      const piece = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      bytes += piece.length;
      options.onBytes?.(bytes);
      const batch: StoredExportedEvent[] = [];
      let from = 0;
      if (carry !== undefined) {
        // The line begun in the chunks before: only it is joined (copied), not the whole chunk.
        const nl = piece.indexOf(10);
        if (nl < 0) {
          carry = Buffer.concat([carry, piece]);
          if (carry.length > max) throw tooLong();
          continue;
        }
        scan(Buffer.concat([carry, piece.subarray(0, nl + 1)]), 0, batch);
        if (unchecked !== undefined) await check();
        carry = undefined;
        from = nl + 1;
      }
      let start = scan(piece, from, batch);
      if (unchecked !== undefined) {
        await check();
        start = scan(piece, start, batch);
      }
      await hash.ready();
      if (piece.length - start > max) throw tooLong();
      // A copy: the chunk's buffer may be read into again (see `sources.ts`).
      if (start < piece.length) carry = Buffer.from(piece.subarray(start));
      if (batch.length > 0) yield batch;
    }
    if (carry !== undefined && carry.length > 0) {
      // A last line without its newline: read it, but a line cut short says so.
      const batch: StoredExportedEvent[] = [];
      const text = carry.toString("utf8");
      try {
        if (trailer === undefined && take(text, batch)) checkHash(await hash.digest(), text, line);
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
  } finally {
    hash.close();
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

/**
 * An event source over events already read (an export held in memory), in
 * position order. Its batches are slices of `events`: past the first event at
 * or after `from`, no event is looked at until the fold takes it.
 */
export const sourceOf = (events: ReadonlyArray<PositionedEvent>) => ({
  async *readAll(options: { readonly from?: bigint } = {}): AsyncGenerator<PositionedEvent> {
    const from = options.from ?? 0n;
    for (const event of events) if (event.position >= from) yield event;
  },
  async *readBatches(options: { readonly from?: bigint; readonly batchSize?: number } = {}): AsyncGenerator<ReadonlyArray<PositionedEvent>> {
    const from = options.from ?? 0n;
    const size = Math.max(1, options.batchSize ?? 1000);
    // The first event at or after `from` (positions increase): a binary search.
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (events[mid]!.position < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < events.length; i += size) yield events.slice(i, i + size);
  },
});
