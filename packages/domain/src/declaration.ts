/**
 * A command, declared once: what a host passes, who may send it, what it reads
 * (its consistency boundary), how it decides, and how its outcome reads. The
 * command handler in the adapters, the host's typed methods and the library
 * decider are all derived from these declarations.
 */
import type * as E from "fp-ts/lib/Either.js";
import type * as t from "io-ts";
import type { Actor, Id, IsoTime } from "./codec.js";
import type { DomainError } from "./errors.js";
import type { DomainEvent, Verifier } from "./events.js";
import type { LibraryState } from "./library-state.js";
import type { Policy } from "./policy.js";
import type { Query } from "./query.js";

export type ActorKind = Actor["kind"];

/** What the handler supplies when it turns a host's input into a command. */
export interface CommonFields {
  readonly commandId: Id;
  readonly actor: Actor;
  readonly now: IsoTime;
  readonly correlationId?: string | null;
}

export interface CommandContext {
  /** The fields every command carries, ready to spread into it. */
  readonly common: CommonFields;
  /** A fresh id from the host's id port, for the things a command creates. */
  readonly newId: () => Id;
  /** A verifier of a freshly generated phrase, for commands that `issuesPhrase`. */
  readonly verifier?: Verifier;
}

/** A phrase a typed phrase must be checked against: the handler derives one proof per candidate. */
export interface PhraseCandidate {
  readonly phraseId: Id;
  readonly verifier: Verifier;
}

export type Decision = E.Either<DomainError, ReadonlyArray<DomainEvent>>;

export interface CommandDeclaration<
  Type extends string,
  Actors extends ActorKind,
  Input,
  Command extends { readonly type: Type },
  Result,
> {
  readonly type: Type;
  /** The host method's name, e.g. `connectAccount`. */
  readonly method: string;
  /** Who may send it; the host API offers the method only to these actors. */
  readonly actors: ReadonlyArray<Actors>;
  /** What a host passes (decoded at run time; unknown fields are refused). */
  readonly input: t.Type<Input, unknown, unknown>;
  /** The command itself, as the decider sees it. */
  readonly codec: t.Type<Command, unknown, unknown>;
  /** The input's fields that name the command (R15); a secret is never among them. */
  readonly identity: (input: Input) => unknown;
  readonly make: (input: Input, context: CommandContext) => Command;
  /**
   * Its consistency boundary: the events it decides on. It may grow with what
   * was read (a barcode names an issuer, whose phrases are read next); the
   * handler reads until it stops growing.
   */
  readonly reads: (command: Command, state: LibraryState, policy: Policy) => Query;
  /**
   * What must not have changed since the read for the decision to stand; default:
   * everything it read (`reads`). The handler appends on condition that nothing
   * matching it was stored after the last event read, so it must be within what
   * the command read (the handler refuses one that is not): a narrower condition
   * is for a command that reads much but whose decision only some of it could
   * overturn (a retention run reads every return, and conflicts with none).
   */
  readonly condition?: (command: Command) => Query;
  readonly decide: (command: Command, state: LibraryState, policy: Policy) => Decision;
  /** What the host is told, from the events decided or found under the command's id. */
  readonly outcome: (command: Command, events: ReadonlyArray<DomainEvent>) => E.Either<DomainError, Result>;
  /** A new phrase is made (its verifier is in the context) before `make`. */
  readonly issuesPhrase?: true;
  /**
   * The stored phrases a typed phrase must be checked against, or null when no
   * derivation is needed at all (the connector is locked out, R10).
   */
  readonly phraseCandidates?: (command: Command, state: LibraryState, policy: Policy) => ReadonlyArray<PhraseCandidate> | null;
  /** The command with the proofs the handler derived for the candidates. */
  readonly withProofs?: (command: Command, proofs: ReadonlyArray<{ readonly phraseId: Id; readonly hash: string }>) => Command;
}

/** Declares a command, keeping its literal types for the host API. */
export const declare = <Type extends string, const Actors extends ActorKind, Input, Command extends { readonly type: Type }, Result>(
  declaration: CommandDeclaration<Type, Actors, Input, Command, Result>,
): CommandDeclaration<Type, Actors, Input, Command, Result> => declaration;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of declarations of every shape
export type AnyDeclaration = CommandDeclaration<string, ActorKind, any, any, any>;
