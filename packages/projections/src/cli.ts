#!/usr/bin/env node
/**
 * The `linked-accounts` executable: see `command-line.ts`. Whatever escapes
 * `main` (a driver's late error, a pipe closed early) still ends as one line on
 * standard error, with any password hidden, never a stack trace.
 */
import { main, oneLine } from "./command-line.js";

const die = (error: unknown): void => {
  if ((error as { code?: unknown } | null)?.code === "EPIPE") process.exit(process.exitCode ?? 0); // the reader went away: nothing more to say
  process.stderr.write(`linked-accounts: ${oneLine(error instanceof Error ? error.message : String(error), process.argv)}\n`);
  process.exit(1);
};
process.on("uncaughtException", die);
process.on("unhandledRejection", die);
process.stdout.on("error", die);

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  stdinIsTerminal: process.stdin.isTTY === true,
  stderrIsTerminal: process.stderr.isTTY === true,
});
