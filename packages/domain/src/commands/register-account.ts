/** Registering an account: by library staff or the library's own system, once per id and barcode (R7). */
import { accountIdByBarcode } from "../linking-state.js";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { BarcodeAsTyped, Id } from "../codec.js";
import { canonicalBarcode } from "../barcode.js";
import { command } from "./command.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { input } from "../input.js";
import { accountFacts, barcodeOwner } from "./reads.js";

export const RegisterAccount = command("RegisterAccount", { accountId: Id, barcode: BarcodeAsTyped, minor: t.boolean });

export const registerAccount = declare({
  type: "RegisterAccount",
  method: "registerAccount",
  actors: ["staff", "system"],
  input: input("registerAccount", { accountId: Id, barcode: BarcodeAsTyped, minor: t.boolean }),
  codec: RegisterAccount,
  identity: ({ accountId, barcode, minor }) => ({ accountId, barcode, minor }),
  make: ({ accountId, barcode, minor }, c) => ({ type: "RegisterAccount", ...c.common, accountId, barcode, minor }),
  // The barcode's owner, if any, and then that owner's facts: an erased account's barcode is free again.
  reads: (c, { linking }) => {
    const owner = linking.accountsByBarcode.get(canonicalBarcode(c.barcode));
    return {
      items: [accountFacts(c.accountId), barcodeOwner(c.barcode), ...(owner === undefined || owner === c.accountId ? [] : [accountFacts(owner)])],
    };
  },
  decide: (c, { linking: state }) => {
    if (c.actor.kind === "account")
      return E.left(domainError("not-authorised", "Accounts are registered by library staff or the library's system."));
    if (state.accounts.has(c.accountId))
      return E.left(domainError("account-already-registered", `Account ${c.accountId} is already registered.`));
    const barcode = canonicalBarcode(c.barcode); // R7: one barcode however typed
    if (accountIdByBarcode(state, barcode) !== undefined)
      return E.left(domainError("barcode-taken", `Barcode ${barcode} belongs to another account.`));
    return E.right([{ type: "AccountRegistered", data: { accountId: c.accountId, barcode, minor: c.minor, registeredAt: c.now } }]);
  },
  outcome: () => E.right({}),
});
