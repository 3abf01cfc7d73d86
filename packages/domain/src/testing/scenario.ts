/**
 * Given/when/then for the library decider: given these events, when this
 * command, then these events or this error.
 */
import * as E from "fp-ts/lib/Either.js";
import type { Command } from "../commands/index.js";
import { fold, libraryDecider } from "../decider.js";
import { type LibraryState } from "../library-state.js";
import type { DomainError } from "../errors.js";
import type { DomainEvent } from "../events.js";
import { type Policy, defaultPolicy } from "../policy.js";

export interface Outcome {
  /** The state the command was decided against. */
  readonly state: LibraryState;
  readonly decision: E.Either<DomainError, ReadonlyArray<DomainEvent>>;
  /** The events decided, or [] when refused. */
  readonly events: ReadonlyArray<DomainEvent>;
  /** The error's code, or undefined when accepted. */
  readonly error: DomainError["code"] | undefined;
  /** The state after folding the decided events. */
  readonly after: LibraryState;
}

export interface Given {
  readonly state: LibraryState;
  when(command: Command): Outcome;
}

/** The state these events fold to, ready for a command. */
export const given = (events: ReadonlyArray<DomainEvent>, policy: Policy = defaultPolicy): Given => {
  const decider = libraryDecider(policy);
  const state = fold(decider, events);
  return {
    state,
    when: (command) => {
      const decision = decider.decide(command, state);
      const decided = E.isRight(decision) ? decision.right : [];
      return {
        state,
        decision,
        events: decided,
        error: E.isLeft(decision) ? decision.left.code : undefined,
        after: fold(decider, decided, state),
      };
    },
  };
};
