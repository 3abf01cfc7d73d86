/**
 * R4: staff or the library's system record an account's date of birth (again,
 * to correct it). It changes nothing under the default policy; under one that
 * lets minors manage from an age, it is the fact that age is judged by.
 */
import * as E from "fp-ts/lib/Either.js";
import { Id, isoMs } from "../codec.js";
import { authorize } from "../access.js";
import { DateOfBirth, reachesAgeAt } from "../date-of-birth.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import { input } from "../input.js";
import { command } from "./command.js";
import { accountFacts } from "./reads.js";

export const RecordDateOfBirth = command("RecordDateOfBirth", { accountId: Id, dateOfBirth: DateOfBirth });

export const recordDateOfBirth = declare({
  type: "RecordDateOfBirth",
  method: "recordDateOfBirth",
  actors: ["staff", "system"],
  input: input("recordDateOfBirth", { accountId: Id, dateOfBirth: DateOfBirth }),
  codec: RecordDateOfBirth,
  identity: ({ accountId, dateOfBirth }) => ({ accountId, dateOfBirth }),
  make: ({ accountId, dateOfBirth }, c) => ({ type: "RecordDateOfBirth", ...c.common, accountId, dateOfBirth }),
  // Its boundary: the account's facts, the date of birth already recorded among them.
  reads: (c) => ({ items: [accountFacts(c.accountId)] }),
  decide: (c, { linking: state }, policy) => {
    const nowMs = isoMs(c.now);
    const allowed = authorize(c.actor, "record-date-of-birth", c.accountId, state, policy, nowMs);
    if (E.isLeft(allowed)) return allowed;
    if (reachesAgeAt(c.dateOfBirth, 0) > nowMs)
      return E.left(domainError("date-of-birth-in-future", `A date of birth cannot be after today (${c.now.slice(0, 10)}).`));
    // Recording the date already recorded changes nothing.
    if (state.accounts.get(c.accountId)?.dateOfBirth === c.dateOfBirth) return E.right([]);
    return E.right([{ type: "DateOfBirthRecorded", data: { accountId: c.accountId, dateOfBirth: c.dateOfBirth, recordedAt: c.now } }]);
  },
  outcome: () => E.right({}),
});
