/**
 * Issue 12: staff (or the library's system) erase a closed account's personal
 * data. The store forgets the account's key when `AccountErased` is stored, so
 * its barcode and everything it borrowed or asked for read `[erased]` from
 * then on; links, grants and times stay for the audit.
 */
import * as E from "fp-ts/lib/Either.js";
import { Id } from "../codec.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { input } from "../input.js";
import { command } from "./command.js";
import { accountFacts } from "./reads.js";

export const EraseAccount = command("EraseAccount", { accountId: Id });

export const eraseAccount = declare({
  type: "EraseAccount",
  method: "eraseAccount",
  actors: ["staff", "system"],
  input: input("eraseAccount", { accountId: Id }),
  codec: EraseAccount,
  identity: ({ accountId }) => ({ accountId }),
  make: ({ accountId }, c) => ({ type: "EraseAccount", ...c.common, accountId }),
  // The account's facts: registered, closed, and already erased among them.
  reads: (c) => ({ items: [accountFacts(c.accountId)] }),
  decide: (c, { linking: state }) => {
    // Not a patron's to ask for, not even their own: closing is theirs, erasing is the library's.
    if (c.actor.kind === "account")
      return E.left(domainError("not-authorised", "An account's personal data is erased by library staff or the library's system."));
    const account = state.accounts.get(c.accountId);
    if (account === undefined) return E.left(domainError("account-not-found", `No account ${c.accountId} is registered.`));
    // Erasing again changes nothing: the key is already forgotten.
    if (account.erased) return E.right([]);
    if (!account.closed)
      return E.left(domainError("account-open", `Account ${c.accountId} is open: close it before erasing its personal data.`));
    return E.right([{ type: "AccountErased", data: { accountId: c.accountId, erasedAt: c.now } }]);
  },
  outcome: () => E.right({}),
});
