/**
 * R13, R16: a command's consistency boundary is complete. Deciding on only the
 * events its query selects gives exactly the decision the whole library would,
 * so a command that reads nothing of unrelated patrons loses nothing by it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { declarationOf } from "./commands/index.js";
import { fold, libraryDecider } from "./decider.js";
import type { DomainEvent, EventEnvelope } from "./events.js";
import { type LibraryState, initialLibraryState } from "./library-state.js";
import { type Query, covers, matchesQuery, unionOf } from "./query.js";
import type { Tag } from "./query.js";
import { tagsOf } from "./tags.js";
import { validHistory } from "./testing/history.js";

const numRuns = Number(process.env.FC_RUNS ?? 300);

type Tagged = { readonly event: DomainEvent; readonly tags: ReadonlyArray<Tag> };

const withoutMetadata = ({ metadata: _, ...event }: EventEnvelope): DomainEvent => event as DomainEvent;

const variants = [
  ["", {}],
  // Issue 12: erasures, reading-history choices and retention runs among them.
  [", with personal data erased and forgotten", { personalData: true }],
] as const;

describe("consistency boundaries over random valid histories", () => {
  for (const [label, options] of variants)
    it(`every command decides on the events its query selects exactly as on the whole library${label}`, () => {
      let commandsChecked = 0;
      let eventsLeftOut = 0;
      const appendedTypes = new Set<string>();
      fc.assert(
        fc.property(validHistory(options), (h) => {
          const decider = libraryDecider(h.policy);
          const log: Tagged[] = [];
          for (const step of h.steps) {
            const declaration = declarationOf(step.command.type);
            // Read until the query stops growing, as the command handler does.
            let query: Query = declaration.reads(step.command, initialLibraryState, h.policy);
            let state: LibraryState = initialLibraryState;
            for (let round = 0; ; round++) {
              const selected = log.filter((t) => matchesQuery(query, { type: t.event.type, tags: t.tags }));
              state = fold(decider, selected.map((t) => t.event));
              const next = declaration.reads(step.command, state, h.policy);
              if (covers(query, next)) {
                eventsLeftOut += log.length - selected.length;
                break;
              }
              expect(round).toBeLessThan(4);
              query = unionOf(query, next);
            }
            expect(declaration.decide(step.command, state, h.policy)).toEqual(step.decision);
            commandsChecked += 1;
            for (const e of step.appended) {
              const event = withoutMetadata(e);
              appendedTypes.add(event.type);
              log.push({ event, tags: tagsOf(event, step.stateBefore.linking) });
            }
          }
        }),
        { numRuns },
      );
      // The property means something only if commands ran and boundaries left events out.
      expect(commandsChecked).toBeGreaterThan(numRuns);
      expect(eventsLeftOut).toBeGreaterThan(0);
      if ("personalData" in options)
        for (const type of ["AccountErased", "ReadingHistoryChosen", "LoanDetailsForgotten", "HoldDetailsForgotten"])
          expect(appendedTypes, `no ${type} in any history`).toContain(type);
    });
});
