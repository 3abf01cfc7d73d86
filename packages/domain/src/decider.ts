/**
 * The Decider (Chassaing): `initialState`, `decide` and `evolve`, all pure. The
 * linking and circulation deciders compose into one over the whole library,
 * which is what property tests and replays use; the adapters run each part
 * against its own streams.
 */
import * as E from "fp-ts/lib/Either.js";
import type { Id } from "./codec.js";
import type { CirculationCommand, Command, LinkingCommand } from "./commands.js";
import { isLinkingCommand } from "./commands.js";
import {
  type CirculationContext,
  type CirculationState,
  decideCirculation,
  evolveCirculation,
  initialCirculationState,
} from "./circulation.js";
import type { DomainError } from "./errors.js";
import { type CirculationEvent, type DomainEvent, type LinkingEvent, isLinkingEvent } from "./events.js";
import { decideLinking } from "./linking.js";
import { type LinkingState, evolveLinking, initialLinkingState } from "./linking-state.js";
import { PersistentMap } from "./persistent-map.js";
import { type Policy, defaultPolicy } from "./policy.js";

export interface Decider<C, S, Ev> {
  readonly initialState: S;
  readonly decide: (command: C, state: S) => E.Either<DomainError, ReadonlyArray<Ev>>;
  readonly evolve: (state: S, event: Ev) => S;
}

/** Folds events from `state` (by default the initial state). */
export const fold = <C, S, Ev>(decider: Decider<C, S, Ev>, events: Iterable<Ev>, state: S = decider.initialState): S => {
  let s = state;
  for (const e of events) s = decider.evolve(s, e);
  return s;
};

export const linkingDecider = (policy: Policy = defaultPolicy): Decider<LinkingCommand, LinkingState, LinkingEvent> => ({
  initialState: initialLinkingState,
  decide: (command, state) => decideLinking(command, state, policy),
  evolve: evolveLinking,
});

export const circulationDecider: Decider<CirculationCommand, CirculationContext, CirculationEvent> = {
  initialState: { circulation: initialCirculationState, linking: initialLinkingState },
  decide: decideCirculation,
  evolve: (ctx, event) => ({ ...ctx, circulation: evolveCirculation(ctx.circulation, event) }),
};

/** The whole library: the linking state and every account's circulation. */
export interface LibraryState {
  readonly linking: LinkingState;
  readonly circulation: PersistentMap<CirculationState>;
}

export const circulationOf = (state: LibraryState, accountId: Id): CirculationState =>
  state.circulation.get(accountId) ?? initialCirculationState;

export const libraryDecider = (policy: Policy = defaultPolicy): Decider<Command, LibraryState, DomainEvent> => {
  const linking = linkingDecider(policy);
  return {
    initialState: { linking: initialLinkingState, circulation: PersistentMap.empty() },
    decide: (command, state) =>
      isLinkingCommand(command)
        ? linking.decide(command, state.linking)
        : decideCirculation(command, { circulation: circulationOf(state, command.accountId), linking: state.linking }),
    evolve: (state, event) =>
      isLinkingEvent(event)
        ? { ...state, linking: evolveLinking(state.linking, event) }
        : {
            ...state,
            circulation: state.circulation.update(event.data.accountId, (current = initialCirculationState) =>
              evolveCirculation(current, event),
            ),
          },
  };
};
