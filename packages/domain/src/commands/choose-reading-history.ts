/**
 * Issue 12: a patron chooses whether the library keeps their reading history
 * past the retention period (opt-in: until they choose, it does not). Their
 * own choice (R5: a manager may not make it for them), or staff recording it
 * at the desk on their behalf.
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { Id, isoMs } from "../codec.js";
import { authorize } from "../access.js";
import { declare } from "../declaration.js";
import { input } from "../input.js";
import { circulationOf } from "../library-state.js";
import { command } from "./command.js";
import { accountFacts, historyChoicesOf } from "./reads.js";

export const ChooseReadingHistory = command("ChooseReadingHistory", { accountId: Id, keep: t.boolean });

export const chooseReadingHistory = declare({
  type: "ChooseReadingHistory",
  method: "chooseReadingHistory",
  actors: ["account", "staff"],
  // A patron naming another account is refused as self-service-only (R5).
  input: input("chooseReadingHistory", { accountId: Id, keep: t.boolean }),
  codec: ChooseReadingHistory,
  identity: ({ accountId, keep }) => ({ accountId, keep }),
  make: ({ accountId, keep }, c) => ({ type: "ChooseReadingHistory", ...c.common, accountId, keep }),
  // The account's facts (open or closed), and every choice it made before.
  reads: (c) => ({ items: [accountFacts(c.accountId), historyChoicesOf(c.accountId)] }),
  decide: (c, state, policy) => {
    const allowed = authorize(c.actor, "choose-reading-history", c.accountId, state.linking, policy, isoMs(c.now));
    if (E.isLeft(allowed)) return allowed;
    // Choosing what is already chosen changes nothing; never having chosen is not keeping.
    if (circulationOf(state, c.accountId).keepsHistory === c.keep) return E.right([]);
    return E.right([{ type: "ReadingHistoryChosen", data: { accountId: c.accountId, keep: c.keep, chosenAt: c.now } }]);
  },
  outcome: () => E.right({}),
});
