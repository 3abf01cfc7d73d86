/** R5: the account, or an account managing it, moves a loan's due date later. */
import * as E from "fp-ts/lib/Either.js";
import { Id, IsoTime, isoMs } from "../codec.js";
import { findLoan } from "../circulation.js";
import { type Decision, declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { input } from "../input.js";
import { loanTag } from "../tags.js";
import { command } from "./command.js";
import { decideOn, readsOn } from "./on-account.js";

export const RenewLoan = command("RenewLoan", { loanId: Id, accountId: Id, dueAt: IsoTime });

export const renewLoan = declare({
  type: "RenewLoan",
  method: "renewLoan",
  actors: ["account"],
  input: input("renewLoan", { accountId: Id, loanId: Id, dueAt: IsoTime }),
  codec: RenewLoan,
  identity: ({ accountId, loanId, dueAt }) => ({ accountId, loanId, dueAt }),
  make: (i, c) => ({ type: "RenewLoan", ...c.common, ...i }),
  reads: (c) => readsOn(c, { tags: [loanTag(c.loanId)] }),
  decide: decideOn("renew-loan", (c: typeof RenewLoan._A, s, by): Decision => {
    const found = findLoan(s, c);
    if (E.isLeft(found)) return found;
    const loan = found.right;
    return isoMs(c.dueAt) <= isoMs(loan.dueAt)
      ? E.left(domainError("due-date-not-later", `Loan ${c.loanId} is already due ${loan.dueAt}; ${c.dueAt} is not later.`))
      : E.right([{ type: "LoanRenewed", data: { loanId: c.loanId, accountId: c.accountId, dueAt: c.dueAt, renewedBy: by, renewedAt: c.now } }]);
  }),
  outcome: () => E.right({}),
});
