/**
 * A fresh host process for the first-command benchmark: it opens the store,
 * creates the library and runs one command for a pair it has never seen, then
 * one more for another pair (the same process, now warm), and prints one JSON
 * line of timings. Spawned by commands.ts; not a tool of its own.
 *
 *   node dist/fresh-host.js <store> connect <connector> <barcode> <phrase> <connector2> <barcode2> <phrase2>
 *   node dist/fresh-host.js <store> renew <manager> <child> <loan> <manager2> <child2> <loan2>
 *
 * <store> is sqlite:<path> or postgres:<schema>@<url>. Phrases go through the
 * unhashed port, so no derivation is timed.
 */
import { performance } from "node:perf_hooks";
import * as E from "fp-ts/lib/Either.js";
import { createLinkedAccounts, manualClock } from "@linked-accounts/adapters";
import { openStore, unhashedPhrases } from "./command-fixtures.js";

const [spec = "", mode = "", ...args] = process.argv.slice(2);
const loaded = performance.now();

const opening = performance.now();
const store = await openStore(spec);
const opened = performance.now();

const creating = performance.now();
const library = createLinkedAccounts({ store, clock: manualClock("2026-03-03T09:00:00.000Z"), phrases: unhashedPhrases() });
const command = (k: 0 | 1) => {
  const [a = "", b = "", c = ""] = args.slice(k * 3, k * 3 + 3);
  return mode === "connect"
    ? library.patron(a).connectAccount({ barcode: b, phrase: c })
    : library.patron(a).renewLoan({ accountId: b, loanId: c, dueAt: "2026-12-24T00:00:00.000Z" });
};
const first = await command(0);
const answered = performance.now();
const second = await command(1);
const answeredAgain = performance.now();
await store.close();

const code = (outcome: E.Either<{ code: string }, unknown>) => (E.isLeft(outcome) ? outcome.left.code : "accepted");
process.stdout.write(
  `${JSON.stringify({
    // performance.now() counts from the process's time origin, its start.
    loadedMs: loaded,
    openMs: opened - opening,
    firstCommandMs: answered - creating,
    secondCommandMs: answeredAgain - answered,
    processStartToAnswerMs: answered,
    first: code(first),
    second: code(second),
  })}\n`,
);
