/**
 * A checkout: at the desk by staff (physical), or an eCheckout (digital) by the
 * account itself, never on its behalf (R5). Both decide the same command.
 */
import * as E from "fp-ts/lib/Either.js";
import { Id, IsoTime, isoMs } from "../codec.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { LoanFormat, Title } from "../events.js";
import { input } from "../input.js";
import { loanTag } from "../tags.js";
import { command } from "./command.js";
import { decideOn, ownAccount, readsOn } from "./on-account.js";

export const RecordCheckout = command("RecordCheckout", {
  loanId: Id,
  accountId: Id,
  itemId: Id,
  title: Title,
  format: LoanFormat,
  dueAt: IsoTime,
});

const decide = decideOn<typeof RecordCheckout._A>(
  (c) => (c.format === "digital" ? "e-checkout" : "checkout"),
  (c, s) => {
    if (s.loans.has(c.loanId)) return E.left(domainError("loan-already-exists", `Account ${c.accountId} already has a loan ${c.loanId}.`));
    if (isoMs(c.dueAt) <= isoMs(c.now))
      return E.left(domainError("due-date-not-after-checkout", `A loan due ${c.dueAt} would be due before it began.`));
    const { loanId, accountId, itemId, title, format, dueAt } = c;
    return E.right([{ type: "ItemCheckedOut", data: { loanId, accountId, itemId, title, format, checkedOutAt: c.now, dueAt } }]);
  },
);

const shared = {
  type: "RecordCheckout",
  codec: RecordCheckout,
  reads: (c: typeof RecordCheckout._A) => readsOn(c, { tags: [loanTag(c.loanId)] }),
  decide,
  outcome: (c: typeof RecordCheckout._A) => E.right({ loanId: c.loanId }),
} as const;

export const recordCheckout = declare({
  ...shared,
  method: "recordCheckout",
  actors: ["staff"],
  input: input("recordCheckout", { accountId: Id, itemId: Id, title: Title, dueAt: IsoTime }, { loanId: Id }),
  identity: ({ accountId, itemId, title, dueAt, loanId }) => ({ accountId, itemId, title, dueAt, loanId }),
  make: (i, c) => ({ type: "RecordCheckout", ...c.common, ...i, loanId: i.loanId ?? c.newId(), format: "physical" as const }),
});

export const eCheckout = declare({
  ...shared,
  method: "eCheckout",
  actors: ["account"],
  // `accountId` defaults to the actor's own; any other is refused as self-service-only (R5).
  input: input("eCheckout", { itemId: Id, title: Title, dueAt: IsoTime }, { loanId: Id, accountId: Id }),
  identity: ({ itemId, title, dueAt, loanId, accountId }) => ({ itemId, title, dueAt, loanId, accountId }),
  make: (i, c) => ({
    type: "RecordCheckout",
    ...c.common,
    ...i,
    accountId: i.accountId ?? ownAccount(c.common),
    loanId: i.loanId ?? c.newId(),
    format: "digital" as const,
  }),
});
