/**
 * End-to-end command throughput per store: connectAccount and renewLoan through
 * `createLinkedAccounts` (decode, load, decide, append). Phrase hashing is
 * measured apart: the timed runs use a phrase port without scrypt, and the cost
 * of one scrypt derivation at the default (OWASP) parameters is reported on its
 * own, since a connect derives two.
 */
import { performance } from "node:perf_hooks";
import * as E from "fp-ts/lib/Either.js";
import { type Verifier, normalisePhrase } from "@linked-accounts/domain/internal";
import {
  type EventStore,
  type SharePhrases,
  createLinkedAccounts,
  manualClock,
  scryptSharePhrases,
} from "@linked-accounts/adapters";
import { median } from "./stats.js";

/** A phrase port without hashing, so the figures show the command path alone. Never use it for real. */
const unhashedPhrases = (): SharePhrases => {
  let n = 0;
  const plain = (phrase: string) => Buffer.from(normalisePhrase(phrase)).toString("base64url");
  const verifier = (hash: string): Verifier => ({ algorithm: "scrypt", salt: "AA", hash, N: 2, r: 1, p: 1 });
  return {
    decoy: verifier("AA"),
    generate: () => `bench-phrase-${n++}`,
    verifierFor: async (phrase) => verifier(plain(phrase)),
    proofFor: async (typed) => plain(typed),
    verify: async (typed, v) => plain(typed) === v.hash,
  };
};

const must = <A>(result: E.Either<{ code: string; message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(`${result.left.code}: ${result.left.message}`);
  return result.right;
};

/** Connects `count` fresh pairs and renews `count` loans; returns commands per second for each. */
const runOnce = async (store: EventStore, count: number, tag: string) => {
  const clock = manualClock("2026-03-03T09:00:00.000Z");
  const library = createLinkedAccounts({ store, clock, phrases: unhashedPhrases() });
  const desk = library.staff("bench");
  const phrases: string[] = [];
  for (let i = 0; i < count; i++) {
    must(await desk.registerAccount({ accountId: `${tag}i${i}`, barcode: `${tag}I${i}`.replace(/[^A-Za-z0-9]/g, "").padEnd(5, "0"), minor: false }));
    must(await desk.registerAccount({ accountId: `${tag}c${i}`, barcode: `${tag}C${i}`.replace(/[^A-Za-z0-9]/g, "").padEnd(5, "0"), minor: false }));
    phrases.push(must(await library.patron(`${tag}i${i}`).issueSharePhrase({ direction: "one-way" })).phrase);
    must(
      await desk.recordCheckout({ accountId: `${tag}c${i}`, loanId: `loan${tag}${i}`, itemId: "item", title: "A book", dueAt: "2026-04-01T00:00:00.000Z" }),
    );
  }
  let started = performance.now();
  for (let i = 0; i < count; i++) {
    const barcode = `${tag}I${i}`.replace(/[^A-Za-z0-9]/g, "").padEnd(5, "0");
    must(await library.patron(`${tag}c${i}`).connectAccount({ barcode, phrase: phrases[i]! }));
  }
  const connectPerSecond = count / ((performance.now() - started) / 1000);
  started = performance.now();
  for (let i = 0; i < count; i++) {
    must(
      await library.patron(`${tag}i${i}`).renewLoan({ accountId: `${tag}c${i}`, loanId: `loan${tag}${i}`, dueAt: "2026-04-15T00:00:00.000Z" }),
    );
  }
  const renewPerSecond = count / ((performance.now() - started) / 1000);
  return { connectPerSecond, renewPerSecond };
};

export async function benchCommands(
  stores: ReadonlyArray<{ readonly name: string; readonly open: () => Promise<EventStore> }>,
  options: { readonly count?: number; readonly runs?: number } = {},
): Promise<Record<string, unknown>> {
  const count = options.count ?? 500;
  const runs = options.runs ?? 3;
  const figures: Record<string, unknown> = {};

  const scrypt = scryptSharePhrases();
  const verifier = await scrypt.verifierFor("warm-up");
  const derivations: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await scrypt.proofFor("abcd-efgh-jkmn-pq", verifier);
    derivations.push(performance.now() - started);
  }
  figures.scryptDerivationMs = { median: median(derivations), N: verifier.N, r: verifier.r, p: verifier.p, derivationsPerConnect: 2 };
  console.log(`scrypt (N=2^17, r=8, p=1): ${median(derivations).toFixed(1)} ms per derivation (median of 5); a connect derives 2`);

  for (const { name, open } of stores) {
    const connect: number[] = [];
    const renew: number[] = [];
    for (let run = 0; run < runs; run++) {
      const store = await open();
      try {
        const r = await runOnce(store, count, `r${run}x`);
        connect.push(r.connectPerSecond);
        renew.push(r.renewPerSecond);
      } finally {
        await store.close();
      }
    }
    figures[name] = {
      connectAccountPerSecond: median(connect),
      renewLoanPerSecond: median(renew),
      commandsPerRun: count,
      runs,
    };
    console.log(
      `${name}: connectAccount ${median(connect).toFixed(0)}/s, renewLoan ${median(renew).toFixed(0)}/s end to end, scrypt excluded (median of ${runs} runs of ${count})`,
    );
  }
  return figures;
}
