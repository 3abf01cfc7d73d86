/**
 * The `linked-accounts` audit command line. `main(argv, io)` does everything
 * and returns the exit status; `cli.ts` only wires it to the process.
 *
 * At scale: the input is read as a stream and folded as it comes, into only the
 * read models the command needs (the access graph always; the loans or the
 * timeline of one account when asked), so memory follows the accounts and links,
 * not the length of the log. An answer is printed only once the whole input has
 * been read and checked, so a bad line leaves standard output empty; `export`
 * streams, and what it wrote before a bad line has no trailer, so readers refuse it.
 *
 * Every error is one line on standard error with an exit status, never a stack
 * trace, and never a password from a `postgres://` URL.
 */
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { type Id, canonicalBarcode } from "@linked-accounts/domain/internal";
import { renderAccessReport, reportFrom } from "./access-report.js";
import {
  type AccessGraphState,
  type AccessView,
  type Explanation,
  type Grant,
  type Refusal,
  accessAsOf,
  accessGraphReads,
  accessNow,
  evolveAccessGraph,
  initialAccessGraph,
} from "./access-graph.js";
import { type AuditTimelineState, type TimelineEntry, evolveAuditTimeline, initialAuditTimeline, timelineOf } from "./audit-timeline.js";
import { type LinkedLoans, loansFor } from "./linked-loans.js";
import { SkippedEvent } from "./lean-lines.js";
import { DEFAULT_MAX_LINE_BYTES, ExportFormatError, ExportIntegrityError, writeExport } from "./ndjson.js";
import { OpenLoans } from "./open-loans.js";
import type { PositionedEvent } from "./projection.js";
import { SealRefusedError, sealHistory } from "./seal.js";
import { type OpenedSource, type SourceSpec, SourceSpecError, openKeyStore, openSource, openStore, parseSource, passwordsIn, redactUrls } from "./sources.js";

export interface CommandLineIo {
  readonly stdin: Readable;
  /** When `write` returns false and `once` is there, the next write waits for "drain". */
  readonly stdout: { write(chunk: string): unknown; once?(event: "drain", listener: () => void): unknown };
  readonly stderr: { write(chunk: string): unknown };
  /** Standard input is a terminal (a person would be typing the export): say what is awaited. */
  readonly stdinIsTerminal?: boolean;
  /** Standard error is a terminal: show progress when the work lasts more than a second. */
  readonly stderrIsTerminal?: boolean;
  /** Milliseconds from some fixed point (default `performance.now`); progress reads it. */
  readonly now?: () => number;
}

export const EXIT_OK = 0;
/** The answer could not be given: an unknown account, a store that cannot be reached. */
export const EXIT_FAILED = 1;
/** The input or the command line is wrong: bad usage, a bad or incomplete export, an undecodable stored event. */
export const EXIT_BAD_INPUT = 2;

export const usage = `linked-accounts: audit linked library accounts from an event export or a store

Usage:
  linked-accounts [--from SOURCE] COMMAND [ARGUMENTS] [--as-of POSITION|TIME] [--json]
  linked-accounts export [SOURCE]
  linked-accounts seal [--from SOURCE] --to STORE [--keys STORE]

Commands:
  grants                    every grant in force: manager, account, links
  who-can-manage ACCOUNT    the managers of ACCOUNT and through which links
  managed-by MANAGER        the accounts MANAGER manages and through which links
  explain MANAGER ACCOUNT   why MANAGER may or may not manage ACCOUNT: the links and the
                            AccountConnected events behind it, or each reason it may not
  timeline ACCOUNT          every event that touched ACCOUNT, who acted, under which link
  access-report ACCOUNT     everything held about one patron (the right of access), in
                            words: account, phrases, links, attempts, loans and holds with
                            titles, every change and who made it through which channel,
                            reading-history choices, retention and erasure. Never a phrase
                            verifier, nor another patron's personal fields. Give --keys
                            for an export, or its personal fields read [sealed]
  loans VIEWER              VIEWER's loans and holds and those of every account it manages,
                            with the actions VIEWER may take on each
  export [SOURCE]           writes SOURCE as an export (below), streaming: events as the
                            store keeps them, personal fields sealed
  seal --to STORE           copies every event of SOURCE, in order, into STORE, a new,
                            empty store (sqlite:PATH or postgres://…), which seals their
                            personal fields: how a library encrypts a history written
                            before sealing. Each event keeps its id, metadata and tags
                            (an export without tags is given the domain's); prints counts

Accounts are given by id or by barcode.

SOURCE (default: standard input):
  PATH                      an export file
  -                         standard input
  sqlite:PATH               a SQLite event store file
  postgres://USER:PASSWORD@HOST:PORT/DATABASE[?schema=NAME]
                            a PostgreSQL event store (postgresql:// also accepted)

Options:
  -f, --from SOURCE         where to read events from
  --to STORE                seal: the new store to write into (refused unless empty)
  --as-of POSITION|TIME     answer as of a past position (an integer: every event at or
                            before it) or time (ISO-8601 with Z or an offset, e.g.
                            2026-03-03T09:15:00.000Z or 2026-03-03T22:15+13:00; or a date,
                            2026-03-03, meaning its first instant in UTC: every event up
                            to the first one that occurred after it)
  --keys STORE              the key store that sealed an export's personal fields,
                            sqlite:PATH or postgres://… (opened to read only; for a
                            store source, instead of the store's own). Without it an
                            export's personal fields read [sealed]; a field whose key
                            was forgotten reads [erased] either way
  --json                    print exactly one JSON document
  --max-line-bytes N        refuse an export line longer than N bytes (default 1048576)
  -h, --help                print this help

Export format (NDJSON, UTF-8, one JSON object per line):
  {"header":{"format":"linked-accounts-export","version":1}}
  {"position":1,"stream":"...","type":"AccountRegistered","data":{...},"metadata":{...}}
  ...                       one line per event, positions strictly increasing (gaps
                            allowed); "tags" (an array of strings) may be present.
                            Events are written as the store keeps them: personal
                            fields (barcode, titles, items, branches, reasons) sealed
                            in "data.sealed", barcode tags as keyed hashes; exports
                            of schema versions 1 and 2 hold them in the clear
  {"trailer":{"events":N,"sha256":"HEX"}}
  N counts the event lines; HEX is the SHA-256 (64 lowercase hex digits) of every byte
  before the trailer line, header and newlines included. Readers check both: a file
  that begins with the header but is cut short or was changed is refused (status 2).
  A file without header and trailer (written by hand or by an older release) is read,
  with a warning on standard error that nothing shows it is complete. In a file with
  them, grants, who-can-manage, managed-by and explain read of each line only what
  they answer from (position, type, time; for the events that grant or end access,
  their ids and facts, each checked as the catalog says; a line not laid out as
  export writes it is decoded in full), and the trailer vouches for the rest; without
  them, and for every other command, every line is decoded.

Progress is shown on standard error when it is a terminal and the work lasts more
than a second.

Exit status: 0 answered; 1 no answer (unknown account, store unreachable);
2 bad usage or bad input (the error names the line and field; nothing is printed
on standard output, except by export, which streams: what it wrote then has no
trailer, so readers refuse it).

Examples:
  linked-accounts grants --from events.ndjson --json
  linked-accounts who-can-manage 20000001 --from sqlite:demo.sqlite --as-of 2026-03-03T09:15:00.000Z
  linked-accounts export postgres://linked:linked@127.0.0.1:5432/linked_accounts > events.ndjson
  linked-accounts access-report 20000001 --from events.ndjson --keys sqlite:library.sqlite
  linked-accounts seal --from sqlite:old.sqlite --to sqlite:library.sqlite
`;

class UsageError extends Error {}
class NotFoundError extends Error {}
class BadInputError extends Error {}

type AsOfArg = { readonly position: bigint } | { readonly time: number; readonly text: string };

interface Parsed {
  readonly command: string;
  readonly args: ReadonlyArray<string>;
  readonly source: SourceSpec;
  readonly asOf: AsOfArg | undefined;
  readonly json: boolean;
  readonly maxLineBytes: number;
  /** `--keys`: the key store that sealed an export's personal fields (or one to use instead of a store's own). */
  readonly keys: StoreSpec | undefined;
  /** `--to`: the new store `seal` writes into. */
  readonly to?: StoreSpec;
}

type StoreSpec = Extract<SourceSpec, { kind: "sqlite" | "postgres" }>;

const arity: Readonly<Record<string, number>> = {
  grants: 0,
  "who-can-manage": 1,
  "managed-by": 1,
  explain: 2,
  timeline: 1,
  loans: 1,
  export: 1,
  "access-report": 1,
  seal: 0,
};

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

const AS_OF_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

/**
 * A position, or a time: a date (its first instant, UTC), or a date and time
 * with `Z` or an offset (`+13:00`), converted to UTC. Every field is checked
 * against the calendar: 2026-02-30 is refused, not read as 2 March.
 */
export const parseAsOf = (text: string): AsOfArg => {
  if (/^\d+$/.test(text)) return { position: BigInt(text) };
  const m = AS_OF_TIME.exec(text);
  const expected = `expected a position (an integer) or an ISO-8601 time like 2026-03-03T09:15:00.000Z or 2026-03-03T22:15+13:00, got ${JSON.stringify(text)}`;
  if (m === null) throw new UsageError(`--as-of: ${expected}`);
  const [year, month, day, hours, minutes, seconds] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? 0 : Number(x))) as [number, number, number, number, number, number];
  const fraction = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
  if (month < 1 || month > 12) throw new UsageError(`--as-of: month ${m[2]} does not exist in ${JSON.stringify(text)}`);
  if (day < 1 || day > daysIn(year, month)) throw new UsageError(`--as-of: ${m[1]}-${m[2]} has no day ${m[3]} (${JSON.stringify(text)})`);
  if (hours > 23 || minutes > 59 || seconds > 59) throw new UsageError(`--as-of: no such time of day in ${JSON.stringify(text)}`);
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) throw new UsageError(`--as-of: no such UTC offset in ${JSON.stringify(text)}`);
    offset = (m[9] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hours, minutes, seconds, fraction);
  return { time: utc.getTime() - offset, text };
};

const MAX_LINE_LIMIT = 256 * 2 ** 20;

const parseArgs = (argv: ReadonlyArray<string>): Parsed | "help" => {
  const positional: string[] = [];
  let from: string | undefined;
  let asOf: AsOfArg | undefined;
  let json = false;
  let keysText: string | undefined;
  let toText: string | undefined;
  let maxLineBytes = DEFAULT_MAX_LINE_BYTES;
  const lineLimit = (text: string): number => {
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= 1 && n <= MAX_LINE_LIMIT)) throw new UsageError(`--max-line-bytes: expected a whole number of bytes from 1 to ${MAX_LINE_LIMIT}, got ${JSON.stringify(text)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === "-h" || arg === "--help") return "help";
    else if (arg === "--json") json = true;
    else if (arg === "-f" || arg === "--from") from = value();
    else if (arg.startsWith("--from=")) from = arg.slice("--from=".length);
    else if (arg === "--as-of") asOf = parseAsOf(value());
    else if (arg.startsWith("--as-of=")) asOf = parseAsOf(arg.slice("--as-of=".length));
    else if (arg === "--to") toText = value();
    else if (arg.startsWith("--to=")) toText = arg.slice("--to=".length);
    else if (arg === "--keys") keysText = value();
    else if (arg.startsWith("--keys=")) keysText = arg.slice("--keys=".length);
    else if (arg === "--max-line-bytes") maxLineBytes = lineLimit(value());
    else if (arg.startsWith("--max-line-bytes=")) maxLineBytes = lineLimit(arg.slice("--max-line-bytes=".length));
    else if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option ${redactUrls(arg)}`);
    else positional.push(arg);
  }
  const [command, ...args] = positional;
  if (command === undefined) throw new UsageError("no command given");
  const n = arity[command];
  if (n === undefined) throw new UsageError(`unknown command ${JSON.stringify(redactUrls(command))}`);
  const source = (text: string | undefined): SourceSpec => {
    try {
      return parseSource(text);
    } catch (error) {
      if (error instanceof SourceSpecError) throw new UsageError(error.message);
      throw error;
    }
  };
  const store = (option: string, text: string | undefined): StoreSpec | undefined => {
    if (text === undefined) return undefined;
    const spec = source(text);
    if (spec.kind !== "sqlite" && spec.kind !== "postgres")
      throw new UsageError(`${option}: expected sqlite:PATH or postgres://…, got ${JSON.stringify(redactUrls(text))}`);
    return spec;
  };
  const keys = store("--keys", keysText);
  const to = store("--to", toText);
  if (command === "seal") {
    if (args.length > 0) throw new UsageError(`seal takes no arguments (the source is --from, the new store --to), got ${args.length}`);
    if (to === undefined) throw new UsageError("seal needs --to sqlite:PATH or postgres://…, the new store to write into");
    if (asOf !== undefined) throw new UsageError("seal takes no --as-of: it copies the whole history");
    return { command, args, source: source(from), asOf, json, maxLineBytes, keys, to };
  }
  if (to !== undefined) throw new UsageError("--to is for seal only");
  if (command === "export") {
    if (args.length > 1 || (args.length === 1 && from !== undefined)) throw new UsageError("export takes one SOURCE");
    if (asOf !== undefined || json) throw new UsageError("export takes no --as-of or --json");
    // An export copies events as kept: sealed fields stay sealed, so there is nothing to open them with.
    if (keys !== undefined) throw new UsageError("export copies personal fields sealed, as kept: it takes no --keys");
    return { command, args: [], source: source(args[0] ?? from), asOf, json, maxLineBytes, keys };
  }
  if (args.length !== n) throw new UsageError(`${command} takes ${n === 0 ? "no arguments" : n === 1 ? "one argument" : `${n} arguments`}, got ${args.length}`);
  // What is held about a patron is what is held now: an earlier cut would leave out what came since.
  if (command === "access-report" && asOf !== undefined) throw new UsageError("access-report takes no --as-of: it reports everything held now");
  return { command, args, source: source(from), asOf, json, maxLineBytes, keys };
};

// ---------------------------------------------------------------------------
// Reading

/** Progress on standard error: only on a terminal, and only once the work has lasted a second. */
class Progress {
  private readonly started: number;
  private shown = false;
  private lastShown = 0;
  private bytes = 0;
  constructor(
    private readonly io: CommandLineIo,
    private readonly totalBytes: number | undefined,
    private readonly now: () => number,
  ) {
    this.started = now();
  }
  readBytes(bytes: number): void {
    this.bytes = bytes;
  }
  events(count: number): void {
    if (this.io.stderrIsTerminal !== true) return;
    const t = this.now();
    if (t - this.started < 1000 || t - this.lastShown < 200) return;
    this.lastShown = t;
    this.shown = true;
    const mb = (b: number) => `${Math.round(b / 1e6).toLocaleString("en")} MB`;
    const share =
      this.totalBytes !== undefined && this.totalBytes > 0
        ? `, ${Math.min(100, Math.floor((100 * this.bytes) / this.totalBytes))}% of ${mb(this.totalBytes)}`
        : this.bytes > 0
          ? `, ${mb(this.bytes)}`
          : "";
    this.io.stderr.write(`\rlinked-accounts: ${count.toLocaleString("en")} events read${share}\x1b[K`);
  }
  done(): void {
    if (this.shown) this.io.stderr.write("\r\x1b[K");
    this.shown = false;
  }
}

/** What a command's answer is made from: the read models it needs, folded up to the cut. */
interface Folded {
  readonly access: AccessGraphState;
  /** The last position the answer includes (the as-of cut, or everything). */
  readonly position: bigint;
  /** Loans folded up to the cut (loans keep no history); only for `loans`. */
  readonly loans: OpenLoans | undefined;
  /** The timeline of the account asked about (by id or barcode); only for `timeline`. */
  readonly timeline: AuditTimelineState | undefined;
}

/** Events in strictly increasing positions (stores promise it; an export is also checked as it is read). */
async function* increasing<E extends { readonly position: bigint }>(batches: AsyncIterable<ReadonlyArray<E>>): AsyncGenerator<ReadonlyArray<E>> {
  let previous: bigint | number = 0n;
  for await (const batch of batches) {
    for (const event of batch) {
      // (An event read for its position and time only carries it as a number: no bigint made.)
      const position: bigint | number = event instanceof SkippedEvent ? event.at : event.position;
      if (position <= previous) throw new BadInputError(`event at position ${position}: position: expected more than ${previous} (strictly increasing)`);
      previous = position;
    }
    yield batch;
  }
}

/** The commands the access graph alone answers (from the fields `accessGraphReads` names). */
const accessOnly: ReadonlySet<string> = new Set(["grants", "who-can-manage", "managed-by", "explain"]);

const openFor = async (parsed: Parsed, io: CommandLineIo, now: () => number): Promise<{ source: OpenedSource; progress: Progress }> => {
  if (parsed.source.kind === "stdin" && io.stdinIsTerminal === true)
    io.stderr.write("linked-accounts: waiting for an export on standard input (end it with Ctrl-D; --from SOURCE reads a file or a store)\n");
  const totalBytes = parsed.source.kind === "file" ? await stat(parsed.source.path).then((s) => (s.isFile() ? s.size : undefined), () => undefined) : undefined;
  const progress = new Progress(io, totalBytes, now);
  const keys = parsed.keys === undefined ? null : await openKeyStore(parsed.keys);
  let source: OpenedSource;
  try {
    source = await openSource(parsed.source, io.stdin, {
      maxLineBytes: parsed.maxLineBytes,
      ...(accessOnly.has(parsed.command) ? { readOnly: accessGraphReads } : {}),
      onBytes: (bytes) => progress.readBytes(bytes),
      onUnchecked: () => {
        progress.done();
        io.stderr.write(
          `linked-accounts: warning: ${parsed.source.kind === "stdin" ? "standard input" : "the export"} has no header and trailer lines, so nothing shows it is complete (\`linked-accounts export\` writes them)\n`,
        );
      },
      keys,
      onSealed: () => {
        progress.done();
        io.stderr.write("linked-accounts: personal fields read [sealed]: no --keys given\n");
      },
    });
  } catch (error) {
    await keys?.close();
    throw error;
  }
  if (keys === null) return { source, progress };
  const opened = source;
  return {
    source: {
      ...opened,
      close: async () => {
        try {
          await opened.close();
        } finally {
          await keys.close();
        }
      },
    },
    progress,
  };
};

const fold = async (parsed: Parsed, io: CommandLineIo, now: () => number): Promise<Folded> => {
  const { source, progress } = await openFor(parsed, io, now);
  const access = initialAccessGraph();
  const asOf = parsed.asOf;
  const loans = parsed.command === "loans" ? new OpenLoans() : undefined;
  let timeline: AuditTimelineState | undefined;
  const asked = parsed.command === "timeline" || parsed.command === "access-report" ? parsed.args[0]! : undefined;
  // The account asked about, by id, or any account that registered with it as its barcode.
  const candidates = new Set<string>(asked === undefined ? [] : [asked]);
  const askedBarcode = asked === undefined ? undefined : canonicalBarcode(asked); // however it is typed (R7)
  if (asked !== undefined) timeline = initialAuditTimeline((id) => candidates.has(id));
  let cut = 0n;
  let within = true;
  let runningMax = -Infinity;
  let count = 0;
  try {
    for await (const batch of increasing(source.batches())) {
      for (const event of batch) {
        evolveAccessGraph(access, event);
        if (timeline !== undefined) {
          if (event.type === "AccountRegistered" && askedBarcode !== undefined && canonicalBarcode(event.data.barcode) === askedBarcode) candidates.add(event.data.accountId);
          evolveAuditTimeline(timeline, event);
        }
        if (asOf !== undefined && within) {
          const at = event instanceof SkippedEvent ? event.occurredMs : Date.parse(event.metadata.occurredAt);
          if (at > runningMax) runningMax = at;
          const position = event.position;
          within = "position" in asOf ? position <= asOf.position : runningMax <= asOf.time;
          if (within) cut = position;
        }
        if (loans !== undefined && (asOf === undefined || within)) loans.evolve(event);
      }
      count += batch.length;
      progress.events(count);
    }
  } finally {
    progress.done();
    await source.close();
  }
  return { access, loans, timeline, position: asOf === undefined ? BigInt(access.applied) : cut };
};

// ---------------------------------------------------------------------------
// Output

const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v), 2) + "\n";

/** Columns padded to the widest cell; the last column is not padded. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [...tableChunks(headers, rows, (row, i) => row[i] ?? "")].join("");

/**
 * `table`, in chunks of about 64 KiB, over rows of any kind (`cell`: a row's
 * cell in a column), each line built without an array of its own: a table may
 * have hundreds of thousands of rows.
 */
function* tableChunks<R>(headers: ReadonlyArray<string>, rows: ReadonlyArray<R>, cell: (row: R, column: number) => string): Generator<string> {
  if (rows.length === 0) return;
  const last = headers.length - 1;
  // A loop, not Math.max(...column): spreading 150,000 rows as arguments overflows the stack. The last column is not padded.
  const widths = headers.map((h) => h.length);
  for (const row of rows)
    for (let i = 0; i < last; i++) {
      const width = cell(row, i).length;
      if (width > widths[i]!) widths[i] = width;
    }
  const line = (cellAt: (column: number) => string): string => {
    let text = "";
    for (let i = 0; i < last; i++) text += cellAt(i).padEnd(widths[i]!) + "  ";
    return (text + cellAt(last)).trimEnd() + "\n";
  };
  yield* chunksOf(
    (function* () {
      yield line((i) => headers[i]!);
      for (const row of rows) yield line((i) => cell(row, i));
    })(),
  );
}

const resolve = (view: AccessView, idOrBarcode: string): Id => {
  const account = view.account(idOrBarcode);
  if (account === undefined) throw new NotFoundError(`no account with id or barcode ${JSON.stringify(idOrBarcode)} as of position ${view.position}`);
  return account.accountId;
};

const barcodeOf = (view: AccessView, id: Id): string => view.account(id)?.barcode ?? "";

const refusalText = (r: Refusal): string => {
  switch (r.code) {
    case "unknown-account":
      return `no account ${r.accountId} is registered`;
    case "account-closed":
      return `account ${r.accountId} was closed at position ${r.position}${r.closedAt === null ? "" : ` (${r.closedAt})`}`;
    case "manager-is-minor":
      return `${r.accountId} is a minor, and minors never manage (R4)`;
    case "no-link":
      return "no link connects these accounts";
    case "link-revoked":
      return `link ${r.linkId} was revoked at position ${r.position}${r.revokedAt === null ? "" : ` (${r.revokedAt})`}`;
    case "link-gives-other-direction":
      return `link ${r.linkId} is ${r.direction} and gives only the other direction (R2)`;
  }
};

const explainText = (e: Explanation, position: bigint): string => {
  if (e.granted && e.self) return `${e.manager} manages itself (R1), as of position ${position}.\n`;
  if (e.granted)
    return (
      `${e.manager} can manage ${e.account} as of position ${position}, through:\n` +
      table(
        ["LINK", "DIRECTION", "CONNECTED AT", "POSITION", "ACCOUNTCONNECTED EVENT", "IN FORCE SINCE"],
        e.sources.map((s) => [s.linkId, s.direction, s.connectedAt, String(s.connectedPosition), s.connectedEventId, String(s.since)]),
      )
    );
  return `${e.manager} cannot manage ${e.account} as of position ${position}:\n` + e.refusals.map((r) => `  - ${refusalText(r)}\n`).join("");
};

const actorText = (a: TimelineEntry["actor"]): string =>
  a.kind === "account" ? a.accountId : a.kind === "staff" ? `staff ${a.staffId}` : "system";

const detailText = (e: TimelineEntry): string => {
  const d = e.data;
  const pick = (...keys: string[]) =>
    keys
      .filter((k) => d[k] !== undefined && d[k] !== null && k !== "accountId")
      .map((k) => `${k}=${typeof d[k] === "object" ? JSON.stringify(d[k]) : String(d[k])}`)
      .join(" ");
  const base = (() => {
    switch (e.type) {
      case "AccountRegistered":
        return pick("barcode", "minor");
      case "SharePhraseIssued":
        return pick("phraseId", "direction", "expiresAt");
      case "SharePhraseRevoked":
        return pick("phraseId", "reason");
      case "AccountConnected":
        return pick("linkId", "direction", "issuerAccountId", "connectedAccountId");
      case "ConnectionAttemptFailed":
        return pick("reason", "connectorAccountId", "issuerAccountId");
      case "LinkRevoked":
        return pick("linkId", "revokedBy", "reason");
      case "ItemCheckedOut":
        return pick("loanId", "title", "format", "dueAt");
      case "LoanRenewed":
        return pick("loanId", "dueAt");
      case "ItemReturned":
        return pick("loanId");
      case "HoldPlaced":
        return pick("holdId", "title", "pickupBranch");
      case "HoldSuspended":
        return pick("holdId", "until");
      case "HoldPickupBranchChanged":
        return pick("holdId", "pickupBranch");
      default:
        return pick("holdId", "loanId");
    }
  })();
  const m = e.managerAction;
  const via =
    m === null
      ? ""
      : m.linkIds.length > 0
        ? ` (manager ${m.manager} on ${m.account} via link ${m.linkIds.join(", ")})`
        : ` (manager ${m.manager} on ${m.account}: no link in force)`;
  return base + via;
};

const loansText = (l: LinkedLoans): string => {
  const rows: string[][] = [];
  for (const a of l.accounts) {
    const who = `${a.accountId}${a.own ? " (own)" : ""}`;
    for (const loan of a.loans)
      rows.push([who, "loan", loan.loanId, loan.title, `due ${loan.dueAt}`, loan.actions.join(", ") || "-"]);
    for (const hold of a.holds)
      rows.push([
        who,
        "hold",
        hold.holdId,
        hold.title,
        hold.status === "suspended" ? `suspended until ${hold.suspendedUntil}` : `${hold.status} at ${hold.pickupBranch}`,
        hold.actions.join(", ") || "-",
      ]);
  }
  const own = l.accounts.find((a) => a.own);
  const header = `Loans and holds ${l.viewer} sees as of position ${l.position} (${l.accounts.length - (own === undefined ? 0 : 1)} managed account(s))\n`;
  const accountLevel = own !== undefined && own.accountActions.length > 0 ? `On its own account ${l.viewer} may also: ${own.accountActions.join(", ")}\n` : "";
  return header + (rows.length === 0 ? "No open loans or holds.\n" : table(["ACCOUNT", "KIND", "ID", "TITLE", "STATUS", "ACTIONS"], rows)) + accountLevel;
};

/** Joins `pieces` into chunks of about 64 KiB, for writing as they are made. */
function* chunksOf(pieces: Iterable<string>): Generator<string> {
  let chunk = "";
  for (const piece of pieces) {
    chunk += piece;
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk !== "") yield chunk;
}

/**
 * Every grant, as text or as the JSON document `jsonText({ position, grants })`
 * would be, written a piece at a time: there may be hundreds of thousands.
 */
function* grantsAnswer(grants: ReadonlyArray<Grant>, position: bigint, json: boolean): Generator<string> {
  if (json) {
    if (grants.length === 0) return yield jsonText({ position, grants });
    yield `{\n  "position": ${jsonText(position).trimEnd()},\n  "grants": [\n`;
    yield* chunksOf(
      (function* () {
        for (let i = 0; i < grants.length; i++)
          yield JSON.stringify(grants[i], null, 2).replace(/^/gm, "    ") + (i === grants.length - 1 ? "\n" : ",\n");
      })(),
    );
    return yield "  ]\n}\n";
  }
  yield `Grants in force as of position ${position}: ${grants.length}\n`;
  if (grants.length === 0) return;
  yield* tableChunks(["MANAGER", "ACCOUNT", "LINKS"], grants, (g, i) => (i === 0 ? g.manager : i === 1 ? g.account : g.linkIds.join(", ")));
}

const answer = (parsed: Parsed, folded: Folded): string | Iterable<string> => {
  const { access, position } = folded;
  // As of a time T, the rulebook's clock is T itself (a rule may depend on time, R4).
  const at = parsed.asOf !== undefined && "time" in parsed.asOf ? new Date(parsed.asOf.time).toISOString() : undefined;
  const view = parsed.asOf === undefined ? accessNow(access) : accessAsOf(access, position, at);
  const { json } = parsed;
  switch (parsed.command) {
    case "grants":
      return grantsAnswer(view.grants(), position, json);
    case "who-can-manage": {
      const account = resolve(view, parsed.args[0]!);
      const managers = view.managersOf(account).map((manager) => ({ manager, linkIds: view.linksOf(manager, account) }));
      if (json) return jsonText({ position, account, managers });
      return (
        `Who can manage ${account} as of position ${position}: ${managers.length === 0 ? "only itself" : `itself and ${managers.length}`}\n` +
        table(["MANAGER", "BARCODE", "LINKS"], managers.map((m) => [m.manager, barcodeOf(view, m.manager), m.linkIds.join(", ")]))
      );
    }
    case "managed-by": {
      const manager = resolve(view, parsed.args[0]!);
      const accounts = view.managedBy(manager).map((account) => ({ account, linkIds: view.linksOf(manager, account) }));
      if (json) return jsonText({ position, manager, accounts });
      return (
        `Accounts ${manager} manages as of position ${position}: ${accounts.length}\n` +
        table(["ACCOUNT", "BARCODE", "LINKS"], accounts.map((a) => [a.account, barcodeOf(view, a.account), a.linkIds.join(", ")]))
      );
    }
    case "explain": {
      const [m, a] = parsed.args as [string, string];
      const e = view.explain(view.account(m)?.accountId ?? m, view.account(a)?.accountId ?? a);
      if (json) return jsonText({ position, ...e });
      return explainText(e, position);
    }
    case "timeline": {
      const account = resolve(view, parsed.args[0]!);
      const events = timelineOf(folded.timeline!, access, account, position);
      if (json) return jsonText({ position, account, events });
      return (
        `Timeline of ${account} up to position ${position}: ${events.length} event(s)\n` +
        table(
          ["POSITION", "OCCURRED AT", "EVENT", "ACTOR", "ROLE", "DETAILS"],
          events.map((e) => [String(e.position), e.occurredAt, e.type, actorText(e.actor), e.roles.join(","), detailText(e)]),
        )
      );
    }
    case "access-report": {
      const report = reportFrom(folded.timeline!, access, parsed.args[0]!);
      if (report === null) throw new NotFoundError(`no account with id or barcode ${JSON.stringify(parsed.args[0])} as of position ${position}`);
      return json ? jsonText(report) : renderAccessReport(report);
    }
    case "loans": {
      const viewer = resolve(view, parsed.args[0]!);
      const loans = loansFor(folded.loans!.stateFor([viewer, ...view.managedBy(viewer)]), view, viewer);
      if (json) return jsonText(loans);
      return loansText(loans);
    }
    default:
      throw new UsageError(`unknown command ${parsed.command}`);
  }
};

/**
 * A message as one line: no stack, no newlines, no password (neither in a URL
 * nor any password given in `argv`, wherever a driver might quote it).
 */
export const oneLine = (message: string, argv: ReadonlyArray<string> = []): string => {
  let text = redactUrls(message);
  for (const password of passwordsIn(argv)) text = text.split(password).join("***");
  return text.replace(/\s*\n\s*/g, " ").trim();
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const isBadInput = (error: unknown): boolean =>
  error instanceof SealRefusedError ||
  error instanceof ExportFormatError ||
  error instanceof ExportIntegrityError ||
  error instanceof BadInputError ||
  (error instanceof Error && (error.name === "StoredEventDecodeError" || error.name === "DecodeError"));

/** Writes to standard output, waiting when it asks to (a pipe to a slow reader). */
const writeOut = (stdout: CommandLineIo["stdout"], chunk: string): Promise<void> | void => {
  if (stdout.write(chunk) === false && stdout.once !== undefined) {
    const once = stdout.once.bind(stdout);
    return new Promise<void>((resolve) => void once("drain", () => resolve()));
  }
};

/** How a store is named in what `seal` prints: never with a password. */
const storeText = (spec: StoreSpec): string => (spec.kind === "sqlite" ? `sqlite:${spec.path}` : `PostgreSQL (schema ${spec.schema ?? "linked_accounts"})`);

/** `seal`: copies the source into a new store, sealed, and says what it did. */
const sealCommand = async (parsed: Parsed, to: StoreSpec, io: CommandLineIo, now: () => number): Promise<number> => {
  const { source, progress } = await openFor(parsed, io, now);
  let copied = 0;
  try {
    const target = await openStore(to, { readOnly: false });
    try {
      const counts = await sealHistory(increasing(source.batches()), target, {
        describe: storeText(to),
        onAppended: (count) => {
          copied = count;
          progress.events(count);
        },
      });
      progress.done();
      if (parsed.json) io.stdout.write(jsonText({ from: source.description, to: storeText(to), ...counts }));
      else
        io.stdout.write(
          `Sealed ${counts.events} event(s) from ${source.description} into ${storeText(to)}:\n` +
            table(
              ["COUNT", "WHAT"],
              [
                [String(counts.sealed), "events with personal fields: sealed under their subjects' keys"],
                [String(counts.barcodeTags), "barcode tags: stored as keyed hashes"],
                [String(counts.digests), "command digests: keyed"],
                [String(counts.tagged), "events that came without tags: tagged as the domain tags them"],
                [String(counts.forgetting), "erasure and retention events: the keys they name forgotten"],
              ],
            ) +
            "Nothing personal is stored in the clear in the new store. The old store and its exports still hold\n" +
            "those fields in the clear: once the new store is checked and in use, delete them (and their backups).\n",
        );
      return EXIT_OK;
    } finally {
      await target.close();
    }
  } catch (error) {
    // What was appended stays: say so, so that no one takes a half copy for the whole.
    if (copied > 0 && error instanceof Error)
      error.message += ` (${copied} event(s) were copied before this: ${storeText(to)} is incomplete; delete it before sealing again)`;
    throw error;
  } finally {
    progress.done();
    await source.close();
  }
};

/** Runs the command line; returns the exit status. */
export const main = async (argv: ReadonlyArray<string>, io: CommandLineIo): Promise<number> => {
  const fail = (status: number, message: string): number => {
    io.stderr.write(`linked-accounts: ${oneLine(message, argv)}\n`);
    return status;
  };
  let parsed: Parsed | "help";
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return fail(EXIT_BAD_INPUT, `${error.message} (see linked-accounts --help)`);
    return fail(EXIT_FAILED, messageOf(error));
  }
  if (parsed === "help") {
    io.stdout.write(usage);
    return EXIT_OK;
  }
  const now = io.now ?? (() => performance.now());
  try {
    if (parsed.command === "export") {
      const { source, progress } = await openFor(parsed, io, now);
      try {
        let count = 0;
        await writeExport(
          (async function* () {
            for await (const batch of increasing(source.storedBatches())) {
              yield* batch;
              count += batch.length;
              progress.events(count);
            }
          })(),
          (chunk) => writeOut(io.stdout, chunk),
        );
      } finally {
        progress.done();
        await source.close();
      }
      return EXIT_OK;
    }
    if (parsed.command === "seal") return await sealCommand(parsed, parsed.to!, io, now);
    const folded = await fold(parsed, io, now);
    const text = answer(parsed, folded);
    if (typeof text === "string") io.stdout.write(text);
    else for (const chunk of text) await writeOut(io.stdout, chunk);
    return EXIT_OK;
  } catch (error) {
    if (isBadInput(error) || error instanceof UsageError) return fail(EXIT_BAD_INPUT, messageOf(error));
    return fail(EXIT_FAILED, messageOf(error));
  }
};
