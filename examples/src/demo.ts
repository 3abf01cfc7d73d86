/**
 * `pnpm demo`: the story of Auckland Libraries' "How to link library accounts"
 * page, run for real on the embedded SQLite store in a fresh file. A parent, a
 * child and a partner register; the parent issues a 1-way phrase and the child
 * connects; the parent manages the child's loan and hold but may not place a
 * hold for the child; the partners link 2-way; a stranger guesses until locked
 * out; a link is revoked. Then who can manage whom, and how to audit the file.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { type CommandFailure, createLinkedAccounts, scryptSharePhrases } from "@linked-accounts/adapters";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { accessOf, auditTimelineOf, createRunner, readModelsProjection } from "@linked-accounts/projections";

const file = path.resolve("demo-output", "linked-accounts.sqlite");
mkdirSync(path.dirname(file), { recursive: true });
for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });

const store = createSqliteEventStore({ path: file });
// OWASP's N=2^17 costs about 0.7 s per derivation on a small machine; the demo
// makes about twenty, so it uses N=2^15 to finish in seconds. Each verifier
// stores its own cost, so the audit reads this file like any other.
const library = createLinkedAccounts({ store, phrases: scryptSharePhrases({ cost: { N: 2 ** 15, r: 8, p: 1 } }) });

// The host authenticates each person with its own login, then acts as them.
const desk = library.staff("desk-central");
const [aroha, nikau, mere, tama] = ["aroha", "nikau", "mere", "tama"].map((id) => library.patron(id));
const say = (line: string) => console.log(line);

const accepted = async <A>(what: string, outcome: Promise<E.Either<CommandFailure, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`${what} was refused: ${result.left.code}: ${result.left.message}`);
  say(`  ✓ ${what}`);
  return result.right;
};

const refused = async (what: string, outcome: Promise<E.Either<CommandFailure, unknown>>): Promise<string> => {
  const result = await outcome;
  if (E.isRight(result)) throw new Error(`${what} was accepted, but the rules refuse it`);
  say(`  ✗ ${what}: refused, ${result.left.code} (${result.left.message})`);
  return result.left.code;
};

say(`A fresh library in ${path.relative(process.cwd(), file)}\n`);

say("Three patrons register at the desk:");
await accepted("Aroha (parent, barcode P1000001)", desk.registerAccount({ accountId: "aroha", barcode: "P1000001", minor: false }));
await accepted("Nikau (her son, a minor, barcode C1000001)", desk.registerAccount({ accountId: "nikau", barcode: "C1000001", minor: true }));
await accepted("Mere (Aroha's partner, barcode P1000002)", desk.registerAccount({ accountId: "mere", barcode: "P1000002", minor: false }));
await accepted("Tama (a stranger, barcode P1000003)", desk.registerAccount({ accountId: "tama", barcode: "P1000003", minor: false }));

say("\n1-way sharing: Aroha gets a share phrase and Nikau connects to it.");
const oneWay = await accepted(
  "Aroha is shown a 1-way phrase once (not printed here: only its scrypt verifier is stored)",
  aroha!.issueSharePhrase({ direction: "one-way" }),
);
// Nikau types it as people do: upper case, spaces instead of dashes (R7).
const typed = oneWay.phrase.toUpperCase().replaceAll("-", " ");
const nikauLink = await accepted("Nikau connects with Aroha's barcode and the phrase", nikau!.connectAccount({ barcode: "P1000001", phrase: typed }));

say("\nNikau's loans and holds, managed by Aroha:");
const due = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
await accepted("Nikau borrows 'The Wonky Donkey' at the desk", desk.recordCheckout({ accountId: "nikau", loanId: "loan-1", itemId: "wonky-donkey", title: "The Wonky Donkey", dueAt: due(21) }));
await accepted("Nikau places a hold on 'Hairy Maclary'", nikau!.placeHold({ holdId: "hold-1", itemId: "hairy-maclary", title: "Hairy Maclary from Donaldson's Dairy", pickupBranch: "Central City" }));
await accepted("Aroha renews Nikau's loan", aroha!.renewLoan({ accountId: "nikau", loanId: "loan-1", dueAt: due(42) }));
await accepted("Aroha cancels Nikau's hold", aroha!.cancelHold({ accountId: "nikau", holdId: "hold-1" }));
await refused(
  "Aroha places a new hold for Nikau",
  aroha!.placeHold({ accountId: "nikau", itemId: "kiwi", title: "The Kiwi Who Lost His Call", pickupBranch: "Central City" }),
);
await refused("Nikau renews a loan on Aroha's account (1-way gives him nothing)", nikau!.renewLoan({ accountId: "aroha", loanId: "loan-1", dueAt: due(50) }));

say("\n2-way sharing: Mere and Aroha manage each other.");
const twoWay = await accepted("Mere is shown a 2-way phrase once", mere!.issueSharePhrase({ direction: "two-way" }));
await accepted("Aroha connects with Mere's barcode and the phrase", aroha!.connectAccount({ barcode: "P1000002", phrase: twoWay.phrase }));

say("\nTama guesses at Mere's phrase:");
for (let i = 1; i <= 5; i++)
  await refused(`guess ${i}`, tama!.connectAccount({ barcode: "P1000002", phrase: `wrong-guess-${i}` }));
await refused("Tama, even with the right phrase, while Mere's phrases are locked", tama!.connectAccount({ barcode: "P1000002", phrase: twoWay.phrase }));
say("  (each refusal says the same thing; the audit trail records the precise reason)");

say("\nNikau turns sixteen and asks the desk to end Aroha's access:");
const revoked = await accepted("Staff revoke the link", desk.revokeLink({ linkId: nikauLink.linkId!, reason: "requested by the account holder" }));
await refused("Aroha renews Nikau's loan again", aroha!.renewLoan({ accountId: "nikau", loanId: "loan-1", dueAt: due(60) }));

// The read side: fold the file into the read models, at least as fresh as the revocation.
const runner = createRunner({ source: store, projection: readModelsProjection });
await runner.waitFor(revoked.freshness, { timeoutMs: 5_000 });
const view = accessOf(runner.state());
say(`\nWho can manage whom now (read model at position ${view.position}):`);
say("  manager  →  account   through link");
for (const grant of view.grants()) say(`  ${grant.manager.padEnd(8)} →  ${grant.account.padEnd(9)} ${grant.linkIds.join(", ")}`);

say("\nWhat the audit trail recorded of Tama's attempts on Mere's phrases (R9: never told to Tama):");
for (const entry of auditTimelineOf(runner.state(), "mere"))
  if (entry.type === "ConnectionAttemptFailed") say(`  position ${entry.position}: ${String(entry.data["reason"])}`);

await store.close();
const source = `sqlite:${path.relative(process.cwd(), file)}`;
say(`\nAudit the file this demo left behind:\n  pnpm linked-accounts grants --from ${source}\n  pnpm linked-accounts timeline P1000002 --from ${source}`);
