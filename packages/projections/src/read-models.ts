/**
 * The three read models folded together, as the runner and the command line
 * use them: one pass over the log, one checkpoint, one position.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { DecodeError, type Id, type Policy, defaultPolicy } from "@linked-accounts/domain/internal";
import { type AccessGraphState, type AccessView, type AsOf, accessAt, accessGraphProjectionUnder } from "./access-graph.js";
import { type AuditTimelineState, type TimelineEntry, auditTimelineProjection, timelineOf } from "./audit-timeline.js";
import { type LinkedLoans, type LinkedLoansState, linkedLoansProjection, loansFor } from "./linked-loans.js";
import type { Projection } from "./projection.js";

export interface ReadModelsState {
  readonly access: AccessGraphState;
  readonly loans: LinkedLoansState;
  readonly timeline: AuditTimelineState;
}

/** The read models whose access answers follow `policy`: the one the host's commands are decided under. */
export const readModelsProjectionUnder = (policy: Policy): Projection<ReadModelsState> => {
  const accessGraphProjection = accessGraphProjectionUnder(policy);
  return {
    name: "read-models",
    initial: () => ({
      access: accessGraphProjection.initial(),
      loans: linkedLoansProjection.initial(),
      timeline: auditTimelineProjection.initial(),
    }),
    evolve: (s, event) => {
      accessGraphProjection.evolve(s.access, event);
      linkedLoansProjection.evolve(s.loans, event);
      auditTimelineProjection.evolve(s.timeline, event);
      return s;
    },
    positionOf: (s) => accessGraphProjection.positionOf(s.access),
    serialise: (s) => ({
      access: accessGraphProjection.serialise(s.access),
      loans: linkedLoansProjection.serialise(s.loans),
      timeline: auditTimelineProjection.serialise(s.timeline),
    }),
    deserialise: (json) => {
      if (typeof json !== "object" || json === null) return E.left(new DecodeError("readModels: expected an object"));
      const j = json as Record<string, unknown>;
      return pipe(
        E.Do,
        E.apS("access", accessGraphProjection.deserialise(j["access"])),
        E.apS("loans", linkedLoansProjection.deserialise(j["loans"])),
        E.apS("timeline", auditTimelineProjection.deserialise(j["timeline"])),
      );
    },
  };
};

/** The read models under the default policy. */
export const readModelsProjection: Projection<ReadModelsState> = readModelsProjectionUnder(defaultPolicy);

/** The access graph now or as of a past position or time. */
export const accessOf = (s: ReadModelsState, asOf?: AsOf): AccessView => accessAt(s.access, asOf);

/**
 * Linked loans as of now. (Loans are not kept historically: for a past position,
 * fold the events up to it, as the command line does.)
 */
export const linkedLoansOf = (s: ReadModelsState, viewer: Id): LinkedLoans => loansFor(s.loans, accessAt(s.access), viewer);

/** The audit timeline of an account (by id or barcode), up to a position or time. */
export const auditTimelineOf = (s: ReadModelsState, account: Id, asOf?: AsOf): ReadonlyArray<TimelineEntry> => {
  const view = accessAt(s.access, asOf);
  const id = view.account(account)?.accountId ?? account;
  return timelineOf(s.timeline, s.access, id, view.position);
};
