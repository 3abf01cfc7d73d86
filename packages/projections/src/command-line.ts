/**
 * The `linked-accounts` audit command line. `main(argv, io)` does everything
 * and returns the exit status; `cli.ts` only wires it to the process. The whole
 * input is read and checked before anything is printed, so a bad line leaves
 * standard output empty.
 */
import type { Readable } from "node:stream";
import type { Id } from "@linked-accounts/domain";
import { type AccessView, type Explanation, type Refusal, accessAsOf, accessNow } from "./access-graph.js";
import { type TimelineEntry, timelineOf } from "./audit-timeline.js";
import { type LinkedLoans, type LinkedLoansState, evolveLinkedLoans, initialLinkedLoans, loansFor } from "./linked-loans.js";
import { ExportFormatError, writeExport } from "./ndjson.js";
import { type ReadModelsState, readModelsProjection } from "./read-models.js";
import { type SourceSpec, openSource, parseSource } from "./sources.js";

export interface CommandLineIo {
  readonly stdin: Readable;
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

export const EXIT_OK = 0;
/** The answer could not be given: an unknown account, a store that cannot be reached. */
export const EXIT_FAILED = 1;
/** The input or the command line is wrong: bad usage, a bad export line, an undecodable stored event. */
export const EXIT_BAD_INPUT = 2;

export const usage = `linked-accounts: audit linked library accounts from an event export or a store

Usage:
  linked-accounts [--from SOURCE] COMMAND [ARGUMENTS] [--as-of POSITION|TIME] [--json]
  linked-accounts export SOURCE

Commands:
  grants                    every grant in force: manager, account, links
  who-can-manage ACCOUNT    the managers of ACCOUNT and through which links
  managed-by MANAGER        the accounts MANAGER manages and through which links
  explain MANAGER ACCOUNT   why MANAGER may or may not manage ACCOUNT: the links and the
                            AccountConnected events behind it, or each reason it may not
  timeline ACCOUNT          every event that touched ACCOUNT, who acted, under which link
  loans VIEWER              VIEWER's loans and holds and those of every account it manages,
                            with the actions VIEWER may take on each
  export SOURCE             writes SOURCE as an NDJSON export (positions as JSON numbers)

Accounts are given by id or by barcode.

SOURCE (default: standard input):
  PATH                      an NDJSON export file (DOMAIN.md "Export format")
  -                         standard input
  sqlite:PATH               a SQLite event store file
  postgres://USER:PASSWORD@HOST:PORT/DATABASE[?schema=NAME]
                            a PostgreSQL event store (postgresql:// also accepted)

Options:
  -f, --from SOURCE         where to read events from
  --as-of POSITION|TIME     answer as of a past position (an integer: every event at or
                            before it) or time (ISO-8601 UTC, e.g. 2026-03-03T09:15:00.000Z,
                            or a date, 2026-03-03, meaning its first instant: every event
                            up to the first one that occurred after it)
  --json                    print exactly one JSON document
  -h, --help                print this help

Exit status: 0 answered; 1 no answer (unknown account, store unreachable);
2 bad usage or bad input (the error names the line and field; nothing is printed
on standard output).

Examples:
  linked-accounts grants --from events.ndjson --json
  linked-accounts who-can-manage 20000001 --from sqlite:demo.sqlite --as-of 2026-03-03T09:15:00.000Z
  linked-accounts export postgres://linked:linked@127.0.0.1:5432/linked_accounts > events.ndjson
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
}

const arity: Readonly<Record<string, number>> = {
  grants: 0,
  "who-can-manage": 1,
  "managed-by": 1,
  explain: 2,
  timeline: 1,
  loans: 1,
  export: 1,
};

const parseAsOf = (text: string): AsOfArg => {
  if (/^\d+$/.test(text)) return { position: BigInt(text) };
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)?$/.test(text);
  const time = ok ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time))
    throw new UsageError(`--as-of: expected a position (an integer) or an ISO-8601 UTC time like 2026-03-03T09:15:00.000Z, got ${JSON.stringify(text)}`);
  return { time, text };
};

const parseArgs = (argv: ReadonlyArray<string>): Parsed | "help" => {
  const positional: string[] = [];
  let from: string | undefined;
  let asOf: AsOfArg | undefined;
  let json = false;
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
    else if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [command, ...args] = positional;
  if (command === undefined) throw new UsageError("no command given");
  const n = arity[command];
  if (n === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (command === "export") {
    if (args.length > 1 || (args.length === 1 && from !== undefined)) throw new UsageError("export takes one SOURCE");
    if (asOf !== undefined || json) throw new UsageError("export takes no --as-of or --json");
    return { command, args: [], source: parseSource(args[0] ?? from), asOf, json };
  }
  if (args.length !== n) throw new UsageError(`${command} takes ${n === 0 ? "no arguments" : n === 1 ? "one argument" : `${n} arguments`}, got ${args.length}`);
  return { command, args, source: parseSource(from), asOf, json };
};

// ---------------------------------------------------------------------------
// Reading

interface Loaded {
  readonly models: ReadModelsState;
  /** The last position the answer includes (the as-of cut, or everything). */
  readonly position: bigint;
  /** Loans folded up to the cut (loans keep no history). */
  readonly loans: LinkedLoansState;
}

const load = async (parsed: Parsed, stdin: Readable): Promise<Loaded> => {
  const source = await openSource(parsed.source, stdin);
  const models = readModelsProjection.initial();
  const loans = parsed.asOf === undefined ? models.loans : initialLinkedLoans();
  let cut = 0n;
  let within = true;
  let runningMax = -Infinity;
  let previous = 0n;
  try {
    for await (const event of source.events()) {
      // Stores promise this too; an export is checked line by line as it is read.
      if (event.position <= previous)
        throw new BadInputError(`event at position ${event.position}: position: expected more than ${previous} (strictly increasing)`);
      previous = event.position;
      readModelsProjection.evolve(models, event);
      if (parsed.asOf !== undefined && within) {
        runningMax = Math.max(runningMax, Date.parse(event.metadata.occurredAt));
        within = "position" in parsed.asOf ? event.position <= parsed.asOf.position : runningMax <= parsed.asOf.time;
        if (within) {
          evolveLinkedLoans(loans, event);
          cut = event.position;
        }
      }
    }
  } finally {
    await source.close();
  }
  return { models, loans, position: parsed.asOf === undefined ? BigInt(models.access.applied) : cut };
};

// ---------------------------------------------------------------------------
// Output

const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v), 2) + "\n";

/** Columns padded to the widest cell; the last column is not padded. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  if (rows.length === 0) return "";
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd() + "\n";
  return line(headers) + rows.map(line).join("");
};

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

const answer = (parsed: Parsed, loaded: Loaded): string => {
  const { models, position } = loaded;
  // As of a time T, the rulebook's clock is T itself (a rule may depend on time, R4).
  const at = parsed.asOf !== undefined && "time" in parsed.asOf ? new Date(parsed.asOf.time).toISOString() : undefined;
  const view = parsed.asOf === undefined ? accessNow(models.access) : accessAsOf(models.access, position, at);
  const { json } = parsed;
  switch (parsed.command) {
    case "grants": {
      const grants = view.grants();
      if (json) return jsonText({ position, grants });
      return (
        `Grants in force as of position ${position}: ${grants.length}\n` +
        table(["MANAGER", "ACCOUNT", "LINKS"], grants.map((g) => [g.manager, g.account, g.linkIds.join(", ")]))
      );
    }
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
      const events = timelineOf(models.timeline, models.access, account, position);
      if (json) return jsonText({ position, account, events });
      return (
        `Timeline of ${account} up to position ${position}: ${events.length} event(s)\n` +
        table(
          ["POSITION", "OCCURRED AT", "EVENT", "ACTOR", "ROLE", "DETAILS"],
          events.map((e) => [String(e.position), e.occurredAt, e.type, actorText(e.actor), e.roles.join(","), detailText(e)]),
        )
      );
    }
    case "loans": {
      const viewer = resolve(view, parsed.args[0]!);
      const loans = loansFor(loaded.loans, view, viewer);
      if (json) return jsonText(loans);
      return loansText(loans);
    }
    default:
      throw new UsageError(`unknown command ${parsed.command}`);
  }
};

const isBadInput = (error: unknown): boolean =>
  error instanceof ExportFormatError ||
  error instanceof BadInputError ||
  (error instanceof Error && (error.name === "StoredEventDecodeError" || error.name === "DecodeError"));

/** Runs the command line; returns the exit status. */
export const main = async (argv: ReadonlyArray<string>, io: CommandLineIo): Promise<number> => {
  const fail = (status: number, message: string): number => {
    io.stderr.write(`linked-accounts: ${message}\n`);
    return status;
  };
  let parsed: Parsed | "help";
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return fail(EXIT_BAD_INPUT, `${error.message}\n\n${usage}`);
    throw error;
  }
  if (parsed === "help") {
    io.stdout.write(usage);
    return EXIT_OK;
  }
  try {
    if (parsed.command === "export") {
      // Checked in full first: a bad event must leave standard output empty.
      const source = await openSource(parsed.source, io.stdin);
      const chunks: string[] = [];
      let previous = 0n;
      try {
        await writeExport(
          (async function* () {
            for await (const event of source.events()) {
              if (event.position <= previous)
                throw new BadInputError(`event at position ${event.position}: position: expected more than ${previous} (strictly increasing)`);
              previous = event.position;
              yield event;
            }
          })(),
          (chunk) => void chunks.push(chunk),
        );
      } finally {
        await source.close();
      }
      for (const chunk of chunks) io.stdout.write(chunk);
      return EXIT_OK;
    }
    const loaded = await load(parsed, io.stdin);
    io.stdout.write(answer(parsed, loaded));
    return EXIT_OK;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isBadInput(error)) return fail(EXIT_BAD_INPUT, message);
    if (error instanceof UsageError) return fail(EXIT_BAD_INPUT, message);
    return fail(EXIT_FAILED, message);
  }
};
