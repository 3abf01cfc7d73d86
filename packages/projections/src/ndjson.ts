/**
 * The export format (DOMAIN.md "Export format"): one event per line,
 * `{"position", "stream", "type", "data", "metadata"}`, positions strictly
 * increasing. Every line is decoded (the envelope here, the event by the
 * domain's codecs); the first bad line stops the read with its line number.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { decodeEnvelope, decodeWith, encodeEvent, EventMetadata } from "@linked-accounts/domain/internal";
import type { PositionedEvent } from "./projection.js";

/** A line of the export: positions are JSON numbers (safe, positive integers). */
export const ExportLine = t.type(
  {
    position: new t.Type<number, number, unknown>(
      "positive integer",
      (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u > 0,
      (u, c) => (typeof u === "number" && Number.isSafeInteger(u) && u > 0 ? t.success(u) : t.failure(u, c)),
      t.identity,
    ),
    stream: t.string,
    type: t.string,
    data: t.unknown,
    metadata: t.unknown,
  },
  "ExportLine",
);

/** An exported event as read back: a positioned event that also names its stream. */
export type ExportedEvent = PositionedEvent & { readonly stream: string };

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

/** Decodes one line (after `previous`, the position of the line before, 0n at first). */
export const decodeExportLine = (text: string, line: number, previous: bigint): E.Either<ExportFormatError, ExportedEvent> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return E.left(new ExportFormatError(line, `not valid JSON (${error instanceof Error ? error.message : String(error)})`));
  }
  const envelope = decodeWith(ExportLine, "event")(json);
  if (E.isLeft(envelope)) return E.left(new ExportFormatError(line, envelope.left.message));
  const position = BigInt(envelope.right.position);
  if (position <= previous)
    return E.left(new ExportFormatError(line, `event.position: expected more than ${previous} (strictly increasing), got ${position}`));
  const event = decodeEnvelope(envelope.right);
  if (E.isLeft(event)) return E.left(new ExportFormatError(line, event.left.message));
  return E.right({ ...event.right, position, stream: envelope.right.stream });
};

/**
 * Reads an export from a stream of text. Blank lines are skipped (a final newline
 * is usual). Throws `ExportFormatError` at the first bad line.
 */
export async function* readExport(input: Readable | AsyncIterable<string>): AsyncGenerator<ExportedEvent> {
  const lines = createInterface({ input: input as Readable, crlfDelay: Infinity });
  let n = 0;
  let previous = 0n;
  for await (const text of lines) {
    n++;
    if (text.trim() === "") continue;
    const decoded = decodeExportLine(text, n, previous);
    if (E.isLeft(decoded)) throw decoded.left;
    previous = decoded.right.position;
    yield decoded.right;
  }
}

/** One export line for an event (no newline). */
export const exportLine = (event: PositionedEvent & { readonly stream: string }): string => {
  if (event.position > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`Position ${event.position} does not fit a JSON number exactly`);
  const { type, data } = encodeEvent(event);
  return JSON.stringify({ position: Number(event.position), stream: event.stream, type, data, metadata: EventMetadata.encode(event.metadata) });
};

/** Writes every event of `events` as export lines, each followed by a newline. */
export const writeExport = async (
  events: AsyncIterable<PositionedEvent & { readonly stream: string }>,
  write: (chunk: string) => void | Promise<void>,
): Promise<number> => {
  let count = 0;
  let chunk = "";
  for await (const event of events) {
    chunk += exportLine(event) + "\n";
    count++;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = "";
    }
  }
  if (chunk !== "") await write(chunk);
  return count;
};

/** An event source over events already read (an export held in memory). */
export const sourceOf = (events: ReadonlyArray<PositionedEvent>) => ({
  async *readAll(options: { readonly fromPosition?: bigint } = {}): AsyncGenerator<PositionedEvent> {
    const from = options.fromPosition ?? 0n;
    for (const event of events) if (event.position >= from) yield event;
  },
  async *readBatches(options: { readonly fromPosition?: bigint; readonly batchSize?: number } = {}): AsyncGenerator<ReadonlyArray<PositionedEvent>> {
    const from = options.fromPosition ?? 0n;
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
