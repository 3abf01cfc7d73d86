/**
 * Issue 12: a patron's reading history is theirs. A retention run, the
 * library's own process, forgets the details (item, title, pickup branch) of
 * every loan returned and every hold fulfilled or cancelled at least
 * `retentionDays` ago, unless the patron chose to keep their history; the store
 * forgets that loan's or hold's key when its `…DetailsForgotten` is stored.
 * At most `limit` a run, oldest first: a host runs it until it forgets nothing.
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { Id } from "../codec.js";
import { IntBetween, isoMs } from "../codec.js";
import { declare } from "../declaration.js";
import { domainError } from "../errors.js";
import type { CirculationEvent } from "../events.js";
import { input } from "../input.js";
import type { LibraryState } from "../library-state.js";
import { MAX_RETENTION_DAYS } from "../policy.js";
import type { Query } from "../query.js";
import { command } from "./command.js";

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RETENTION_LIMIT = 500;
export const MAX_RETENTION_LIMIT = 1000;

const RetentionDays = IntBetween("RetentionDays", 1, MAX_RETENTION_DAYS);
const RetentionLimit = IntBetween("RetentionLimit", 1, MAX_RETENTION_LIMIT);

/** `retentionDays` null: the policy's. */
export const ApplyRetention = command("ApplyRetention", { retentionDays: t.union([RetentionDays, t.null]), limit: RetentionLimit });

/**
 * Everything a run decides on, across the whole library: when each loan came
 * back and each hold closed, what was already forgotten, who chose to keep
 * their history, and which accounts were erased.
 */
const retentionReads: Query = {
  items: [
    {
      types: [
        "ItemCheckedOut",
        "ItemReturned",
        "LoanDetailsForgotten",
        "HoldPlaced",
        "HoldFulfilled",
        "HoldCancelled",
        "HoldDetailsForgotten",
        "ReadingHistoryChosen",
        "AccountErased",
        "AccountRegistered",
      ],
    },
  ],
};

/**
 * What could overturn a run's decision once read: an item forgotten meanwhile
 * (by another run: forgetting it again would be a second event for one item), a
 * patron choosing to keep (or stop keeping) their history, an account erased.
 *
 * Not returns, fulfilments, cancellations or checkouts, which a busy library
 * stores every second, so a run conditional on them would never get its append
 * in. None of them can make the decision wrong: a checkout makes an open loan,
 * never one due for forgetting, and changes no other; a return (fulfilment,
 * cancellation) stored after the read is dated by its own command's `now`, a
 * moment before or after this run's `now`, so far later than the cutoff (this
 * run's `now` less at least a day): the item it closes is not due in this run
 * anyway, and a later run will find it. And an item closed stays closed at the
 * time it first closed (the folds keep the first), so nothing stored later moves
 * an item this run chose back across the cutoff.
 */
const retentionCondition: Query = {
  items: [{ types: ["LoanDetailsForgotten", "HoldDetailsForgotten", "ReadingHistoryChosen", "AccountErased"] }],
};

interface Due {
  readonly kind: "loan" | "hold";
  readonly id: Id;
  readonly accountId: Id;
  readonly closedMs: number;
}

/** Every loan and hold due for forgetting at `cutoffMs`, oldest first (then by id, loans before holds). */
export const dueForForgetting = (state: LibraryState, cutoffMs: number): ReadonlyArray<Due> => {
  const due: Due[] = [];
  for (const [accountId, circulation] of state.circulation.entries()) {
    if (circulation.keepsHistory || state.linking.accounts.get(accountId)?.erased === true) continue;
    for (const loan of circulation.loans.values()) {
      if (loan.returnedAt === null || loan.detailsForgotten) continue;
      const closedMs = isoMs(loan.returnedAt);
      if (closedMs <= cutoffMs) due.push({ kind: "loan", id: loan.loanId, accountId, closedMs });
    }
    for (const hold of circulation.holds.values()) {
      if (hold.closedAt === null || hold.detailsForgotten) continue;
      const closedMs = isoMs(hold.closedAt);
      if (closedMs <= cutoffMs) due.push({ kind: "hold", id: hold.holdId, accountId, closedMs });
    }
  }
  return due.sort(
    (a, b) => a.closedMs - b.closedMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || (a.kind === b.kind ? 0 : a.kind === "loan" ? -1 : 1),
  );
};

export const applyRetention = declare({
  type: "ApplyRetention",
  method: "applyRetention",
  actors: ["system"],
  input: input("applyRetention", {}, { retentionDays: RetentionDays, limit: RetentionLimit }),
  codec: ApplyRetention,
  identity: ({ retentionDays, limit }) => ({ retentionDays: retentionDays ?? null, limit: limit ?? DEFAULT_RETENTION_LIMIT }),
  make: ({ retentionDays, limit }, c) => ({
    type: "ApplyRetention",
    ...c.common,
    retentionDays: retentionDays ?? null,
    limit: limit ?? DEFAULT_RETENTION_LIMIT,
  }),
  // The whole library: no tags. It reads no account's circulation but for its times and ids.
  reads: () => retentionReads,
  condition: () => retentionCondition,
  decide: (c, state, policy) => {
    if (c.actor.kind !== "system")
      return E.left(domainError("not-authorised", "Retention is applied by the library's system, on the policy's schedule."));
    const retentionDays = c.retentionDays ?? policy.retentionDays;
    const cutoffMs = isoMs(c.now) - retentionDays * DAY_MS;
    return E.right(
      dueForForgetting(state, cutoffMs)
        .slice(0, c.limit)
        .map(({ kind, id, accountId }): CirculationEvent =>
          kind === "loan"
            ? { type: "LoanDetailsForgotten", data: { loanId: id, accountId, retentionDays, forgottenAt: c.now } }
            : { type: "HoldDetailsForgotten", data: { holdId: id, accountId, retentionDays, forgottenAt: c.now } },
        ),
    );
  },
  outcome: (_c, events) => E.right({ forgotten: events.length }),
});
