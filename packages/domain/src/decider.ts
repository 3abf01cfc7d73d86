/**
 * The Decider (Chassaing): `initialState`, `decide` and `evolve`, all pure.
 * The library decider decides every command through its declaration and folds
 * every event; property tests and replays use it over a whole library, and the
 * command handler runs the very same functions over the events one command's
 * query selected.
 */
import type * as E from "fp-ts/lib/Either.js";
import { type Command, declarationOf } from "./commands/index.js";
import type { DomainError } from "./errors.js";
import type { DomainEvent } from "./events.js";
import { type LibraryState, evolveLibrary, evolveLibraryAll, initialLibraryState } from "./library-state.js";
import { type Policy, defaultPolicy } from "./policy.js";

export interface Decider<C, S, Ev> {
  readonly initialState: S;
  readonly decide: (command: C, state: S) => E.Either<DomainError, ReadonlyArray<Ev>>;
  readonly evolve: (state: S, event: Ev) => S;
  /**
   * Optional: folds many events at once, with exactly the result of `evolve`
   * event by event; `fold` uses it when given (a replay may use transient
   * structures inside, unseen from outside).
   */
  readonly evolveAll?: (state: S, events: Iterable<Ev>) => S;
}

/** Folds events from `state` (by default the initial state). */
export const fold = <C, S, Ev>(decider: Decider<C, S, Ev>, events: Iterable<Ev>, state: S = decider.initialState): S => {
  if (decider.evolveAll !== undefined) return decider.evolveAll(state, events);
  let s = state;
  for (const e of events) s = decider.evolve(s, e);
  return s;
};

export const libraryDecider = (policy: Policy = defaultPolicy): Decider<Command, LibraryState, DomainEvent> => ({
  initialState: initialLibraryState,
  decide: (command, state) => declarationOf(command.type).decide(command, state, policy),
  evolve: evolveLibrary,
  evolveAll: evolveLibraryAll,
});
