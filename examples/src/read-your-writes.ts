/**
 * How a host serves a patron's "linked accounts" page right after a change:
 * writes go through `createLinkedAccounts`, whose answer carries a freshness
 * token (the position the change was stored at, as a string a page can carry); reads come from a read model kept in memory by a
 * runner, asked to be at least that fresh first. So a parent who has just been
 * unlinked is never shown the child's loans from a read model that lags (R13).
 *
 * Run it with `pnpm example:read-your-writes`.
 */
import * as E from "fp-ts/lib/Either.js";
import { createInMemoryEventStore, createLinkedAccounts, scryptSharePhrases } from "@linked-accounts/adapters";
import { createRunner, linkedLoansOf, readModelsProjection } from "@linked-accounts/projections";

const store = createInMemoryEventStore();
// Low scrypt cost only to keep the example instant; hosts keep the default.
const library = createLinkedAccounts({ store, phrases: scryptSharePhrases({ cost: { N: 2 ** 12, r: 8, p: 1 } }) });
const readModels = createRunner({ source: store, projection: readModelsProjection });
readModels.start({ intervalMs: 50 });

// Each actor as the host authenticated them.
const desk = library.staff("desk");
const parent = library.patron("parent");
const child = library.patron("child");

const must = async <A>(outcome: Promise<E.Either<{ code: string; message: string }, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`${result.left.code}: ${result.left.message}`);
  return result.right;
};

/** The host's page: what `viewer` sees, at least as fresh as `token`. */
const linkedLoansPage = async (viewer: string, token: string) => {
  await readModels.waitFor(token, { timeoutMs: 2_000 });
  return linkedLoansOf(readModels.state(), viewer);
};

await must(desk.registerAccount({ accountId: "parent", barcode: "P2000001", minor: false }));
await must(desk.registerAccount({ accountId: "child", barcode: "C2000001", minor: true }));
await must(
  desk.recordCheckout({ accountId: "child", loanId: "loan-1", itemId: "book-1", title: "Where the Wild Things Are", dueAt: new Date(Date.now() + 14 * 86_400_000).toISOString() }),
);
const phrase = await must(parent.issueSharePhrase({ direction: "one-way" }));
const connected = await must(child.connectAccount({ barcode: "P2000001", phrase: phrase.phrase }));

let page = await linkedLoansPage("parent", connected.freshness);
console.log(`After connecting (position ${connected.freshness}), the parent sees:`);
console.log(JSON.stringify(page, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v), 2));

const revoked = await must(child.revokeLink({ linkId: connected.linkId!, reason: "" }));
page = await linkedLoansPage("parent", revoked.freshness);
console.log(`\nAfter the child revoked the link (position ${revoked.freshness}), the parent sees:`);
console.log(JSON.stringify(page, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v), 2));

// Writes never trust a read model: the command handler checks link state read afresh.
const renewal = await parent.renewLoan({ accountId: "child", loanId: "loan-1", dueAt: new Date(Date.now() + 28 * 86_400_000).toISOString() });
console.log(`\nThe parent's renewal of the child's loan now: ${E.isLeft(renewal) ? `refused, ${renewal.left.code}` : "accepted"}`);

await readModels.stop();
await store.close();
