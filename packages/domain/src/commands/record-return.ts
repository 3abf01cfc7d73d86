/** An item comes back: recorded at the desk or by the library's system. */
import * as E from "fp-ts/lib/Either.js";
import { Id } from "../codec.js";
import { findLoan } from "../circulation.js";
import { type Decision, declare } from "../declaration.js";
import { input } from "../input.js";
import { loanTag } from "../tags.js";
import { command } from "./command.js";
import { decideOn, readsOn } from "./on-account.js";

export const RecordReturn = command("RecordReturn", { loanId: Id, accountId: Id });

export const recordReturn = declare({
  type: "RecordReturn",
  method: "recordReturn",
  actors: ["staff", "system"],
  input: input("recordReturn", { accountId: Id, loanId: Id }),
  codec: RecordReturn,
  identity: ({ accountId, loanId }) => ({ accountId, loanId }),
  make: (i, c) => ({ type: "RecordReturn", ...c.common, ...i }),
  reads: (c) => readsOn(c, { tags: [loanTag(c.loanId)] }),
  decide: decideOn("return", (c: typeof RecordReturn._A, s) =>
    E.flatMap(findLoan(s, c), (): Decision =>
      E.right([{ type: "ItemReturned", data: { loanId: c.loanId, accountId: c.accountId, returnedAt: c.now } }]),
    ),
  ),
  outcome: () => E.right({}),
});
