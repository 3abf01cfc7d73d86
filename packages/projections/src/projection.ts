/**
 * What every read model is: a fold over decoded events, plus how its state is
 * written to and read back from a checkpoint.
 */
import type * as E from "fp-ts/lib/Either.js";
import type { DecodeError, EventEnvelope } from "@linked-accounts/domain/internal";
import type { FieldsRead } from "./lean-lines.js";

/**
 * A decoded event and its place in the global order. A store's `RecordedEvent`
 * is one; so is a line of an NDJSON export. Read models never look at stream
 * names (DOMAIN.md "Export format"), so they are not part of it.
 */
export type PositionedEvent = EventEnvelope & { readonly position: bigint };

/**
 * A read model: `evolve(state, event) → state`. For speed the states here own
 * their data and are updated in place (the fold returns the same object), so a
 * state must not be shared between two folds; the same events always give the
 * same state, and `serialise` is its canonical form.
 */
export interface Projection<S> {
  /** The checkpoint name (one row per projection). */
  readonly name: string;
  readonly initial: () => S;
  readonly evolve: (state: S, event: PositionedEvent) => S;
  /** The position of the last event folded, 0n before any. */
  readonly positionOf: (state: S) => bigint;
  /** A JSON value that `deserialise` turns back into an equal state. */
  readonly serialise: (state: S) => unknown;
  readonly deserialise: (json: unknown) => E.Either<DecodeError, S>;
  /**
   * What `evolve` reads of each event type (as `accessGraphReads`), when it
   * reads no more. Then, from a store that seals personal data, the runner
   * opens only the sealed events of which it reads a personal field (the rest
   * come as kept: every field but the personal ones, which they lack), so a
   * rebuild looks up no key and deciphers nothing it does not read. What it
   * reads is opened as the store opens it: the value, or `[erased]`.
   * Undeclared: every event comes whole.
   */
  readonly reads?: FieldsRead;
}

/** Folds `events` into `state` (by default a fresh one). */
export const foldEvents = <S>(projection: Projection<S>, events: Iterable<PositionedEvent>, state: S = projection.initial()): S => {
  let s = state;
  for (const event of events) s = projection.evolve(s, event);
  return s;
};
