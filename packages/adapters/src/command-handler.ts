/**
 * The one command handler: every command, whatever it is, runs through the
 * Decider (`evolve`, `decide`) the same way, as Emmett's DeciderCommandHandler
 * and Equinox's `Decider.transact` run theirs:
 *
 *   decode the input → make the command → read its boundary (the events its
 *   query selects, read until the query stops growing) → derive phrase proofs
 *   if it needs them → decide → append on condition that nothing it read has
 *   changed (or where its declaration says so, nothing of what could overturn
 *   the decision) → on a conflict, back off and decide again.
 *
 * A command conflicts only with changes to what it read (R16), and a decision
 * made on links that have since changed is never stored (R13). A command id
 * names one command, across processes and restarts (R15): its events carry the
 * id and a digest of the command, the id is part of every boundary, and a
 * repeat is answered from what the first one stored.
 */
import { createHash } from "node:crypto";
import * as E from "fp-ts/lib/Either.js";
import {
  type Actor,
  type AnyDeclaration,
  type Channel,
  type DomainError,
  type DomainEvent,
  type EventMetadata,
  type LibraryState,
  type PhraseCandidate,
  type Policy,
  type Query,
  SCHEMA_VERSION,
  commandTag,
  covers,
  decodeWith,
  evolveLibrary,
  initialLibraryState,
  plainInput,
  selectsWithin,
  tagsOf,
  unionOf,
  withoutCommonFields,
} from "@linked-accounts/domain/internal";
import type { Clock } from "./clock.js";
import { AppendConditionError, type EventStore, type NewEvent, type RecordedEvent } from "./event-store.js";
import type { Ids } from "./ids.js";
import type { SharePhrases } from "./share-phrases.js";

/** Why a command was refused: the domain's codes, bad input, a reused id, or lasting contention. */
export type CommandFailure =
  | DomainError
  | { readonly code: "invalid-input"; readonly message: string }
  | { readonly code: "conflict-retries-exhausted"; readonly message: string }
  | { readonly code: "command-id-reused"; readonly message: string }
  | { readonly code: "phrase-shown-once"; readonly message: string; readonly phraseId: string };

/**
 * A JSON-safe, opaque freshness token: a read model that has caught up with it
 * reflects the command. Pages may carry it and hand it back.
 */
export type Freshness = string;

/** What an accepted command did. `events` is empty when there was nothing to do (R8, R11). */
export interface Accepted {
  readonly events: ReadonlyArray<DomainEvent>;
  /**
   * The position of the last event this command appended, or when it appended
   * nothing, the store's position when it read: never older than anything the
   * caller was told before.
   */
  readonly freshness: Freshness;
}

export interface RetryPolicy {
  /** How many times a command is decided again after a conflict (default 10). */
  readonly attempts: number;
  /** The first back-off, in ms, doubled each time up to `maxDelayMs`, with full jitter (default 2). */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export const defaultRetry: RetryPolicy = { attempts: 10, minDelayMs: 2, maxDelayMs: 200 };

export interface HandlerPorts {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly phrases: SharePhrases;
  readonly policy: Policy;
  readonly retry: RetryPolicy;
  /** A keyed hash for index values derived from personal data (a sealing store's `indexHash`). */
  readonly indexHash?: (value: string) => Promise<string>;
}

/** What one read of a boundary gave: the state decided on, and the condition the append carries. */
interface Boundary {
  readonly state: LibraryState;
  readonly events: ReadonlyArray<RecordedEvent>;
  readonly query: Query;
  /** The position of the last event read, or null when none matched. */
  readonly after: bigint | null;
}

const DIGEST_TAG = "command-digest:";

/** Deterministic JSON (keys sorted), so equal commands digest equally. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

const digestOf = (type: string, actor: Actor, identity: unknown): string =>
  createHash("sha256").update(canonicalJson([type, actor, identity])).digest("base64url");

/** Full jitter: a random wait between 0 and the capped exponential delay. */
const backOff = (retry: RetryPolicy, attempt: number): Promise<void> => {
  const cap = Math.min(retry.maxDelayMs, retry.minDelayMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
};

const invalid = (message: string): CommandFailure => ({ code: "invalid-input", message });

/**
 * What the append is conditional on: everything the command read, or the
 * narrower condition its declaration names, with the command's own id always
 * (a repeat of it stored meanwhile refuses the append, R15). A condition must
 * be within what was read: the append's `after` is the last event read, so an
 * event the read never selected could refuse every retry.
 */
const conditionOf = (declaration: AnyDeclaration, command: unknown, read: Query, ownTag: string): Query => {
  if (declaration.condition === undefined) return read;
  const condition = unionOf(declaration.condition(command), { items: [{ tags: [ownTag] }] });
  if (!selectsWithin(condition, read)) throw new Error(`${declaration.method}: its append condition asks for events its reads do not select`);
  return condition;
};

export const createCommandHandler = (ports: HandlerPorts) => {
  const { store, clock, ids, phrases, policy, retry } = ports;

  /** Reads `initial`, then as much more as what was read says to, in one final read. */
  const readBoundary = async (declaration: AnyDeclaration, command: unknown, extra: Query): Promise<Boundary> => {
    let query = unionOf(declaration.reads(command, initialLibraryState, policy), extra);
    for (let round = 0; ; round++) {
      const events: RecordedEvent[] = [];
      let state = initialLibraryState;
      for await (const event of store.read(query)) {
        events.push(event);
        state = evolveLibrary(state, event);
      }
      const wanted = declaration.reads(command, state, policy);
      if (covers(query, wanted))
        return { state, events, query, after: events.length === 0 ? null : events[events.length - 1]!.position };
      // A boundary grows a step or two (barcode → issuer); one that keeps growing is a bug in its declaration.
      if (round >= 4) throw new Error(`${declaration.method}: its consistency boundary did not settle after ${round + 1} reads`);
      query = unionOf(query, wanted);
    }
  };

  /**
   * Proofs of the typed phrase for the candidates the declaration names, padded
   * with decoys to two derivations on a first try, so the time taken does not
   * tell whether a barcode exists (R9). A retry derives again only what changed.
   */
  const proofsFor = async (
    typed: string,
    candidates: ReadonlyArray<PhraseCandidate>,
    cache: Map<string, string>,
    firstTry: boolean,
  ) => {
    const proofs = [];
    for (const candidate of candidates) {
      const key = `${candidate.phraseId} ${candidate.verifier.salt}`;
      let hash = cache.get(key);
      if (hash === undefined) {
        hash = await phrases.proofFor(typed, candidate.verifier);
        cache.set(key, hash);
      }
      proofs.push({ phraseId: candidate.phraseId, hash });
    }
    if (firstTry) for (let i = candidates.length; i < 2; i++) await phrases.proofFor(typed, phrases.decoy);
    return proofs;
  };

  const metadataFor = (common: { commandId: string; actor: Actor; now: string; correlationId?: string | null }, channel: Channel): EventMetadata => ({
    eventId: ids.next(),
    schemaVersion: SCHEMA_VERSION,
    occurredAt: common.now,
    actor: common.actor,
    channel,
    correlationId: common.correlationId ?? null,
    causationId: common.commandId,
  });

  /**
   * Runs one command for `actor`, who the host authenticated, through `channel`.
   * Resolves to the declaration's outcome with the events and freshness, or the
   * refusal; rejects only when the store fails.
   */
  const run = async (
    declaration: AnyDeclaration,
    actor: Actor,
    channel: Channel,
    rawInput: unknown,
  ): Promise<E.Either<CommandFailure, Accepted & Record<string, unknown>>> => {
    // Plain data first: no class instance, getter, cycle or 5,000-deep nesting reaches the codecs.
    const plain = plainInput(rawInput, declaration.method);
    if (E.isLeft(plain)) return E.left(invalid(plain.left.message));
    const decoded = decodeWith(declaration.input, declaration.method)(plain.right);
    if (E.isLeft(decoded)) return E.left(invalid(decoded.left.message));
    const input = decoded.right as { commandId?: string; correlationId?: string | null; phrase?: string };
    const commandId = input.commandId ?? ids.next();
    // A typed share phrase is never part of a command: only proofs derived from it are (R6).
    const typed = input.phrase;
    const issued = declaration.issuesPhrase === true ? phrases.generate() : undefined;
    const verifier = issued === undefined ? undefined : await phrases.verifierFor(issued);
    const common = { commandId, actor, now: clock.now().toISOString(), correlationId: input.correlationId ?? null };
    const made = declaration.make(withoutCommonFields(input), {
      common,
      newId: () => ids.next(),
      ...(verifier === undefined ? {} : { verifier }),
    });
    const checked = decodeWith(declaration.codec, declaration.method)(made);
    if (E.isLeft(checked)) return E.left(invalid(checked.left.message));
    let command = checked.right;
    // The identity may hold personal data (a barcode): a store that seals it keys the digest too.
    const digest = digestOf(declaration.type, actor, declaration.identity(input));
    const digestTag = DIGEST_TAG + (ports.indexHash === undefined ? digest : await ports.indexHash(digest));
    const ownTag = commandTag(commandId);
    const proofCache = new Map<string, string>();

    for (let attempt = 0; attempt <= retry.attempts; attempt++) {
      if (attempt > 0) await backOff(retry, attempt);
      const boundary = await readBoundary(declaration, command, { items: [{ tags: [ownTag] }] });
      const earlier = boundary.events.filter((e) => e.tags.includes(ownTag));
      if (earlier.length > 0) return answerRepeat(declaration, command, earlier, digestTag);

      if (declaration.phraseCandidates !== undefined && declaration.withProofs !== undefined) {
        const candidates = declaration.phraseCandidates(command, boundary.state, policy);
        if (candidates !== null)
          command = declaration.withProofs(command, await proofsFor(typed ?? "", candidates, proofCache, attempt === 0));
      }
      const decision = declaration.decide(command, boundary.state, policy);
      if (E.isLeft(decision)) return decision;
      const outcome = declaration.outcome(command, decision.right);
      if (decision.right.length === 0) {
        // Nothing to append: the store's head now, which is past everything the command read.
        const freshness = (await store.head()).toString();
        return E.map((result: object) => ({ ...result, events: [], freshness }))(outcome) as E.Either<CommandFailure, Accepted & Record<string, unknown>>;
      }

      const metadata = metadataFor(common, channel);
      const events: NewEvent[] = decision.right.map((event, i) => ({
        ...event,
        metadata: i === 0 ? metadata : { ...metadata, eventId: ids.next() },
        tags: [...tagsOf(event, boundary.state.linking), ownTag, digestTag],
      }));
      try {
        const appended = await store.append(events, { failIfEventsMatch: conditionOf(declaration, command, boundary.query, ownTag), after: boundary.after });
        if (E.isLeft(outcome)) return outcome;
        return E.right({ ...outcome.right, ...(issued === undefined ? {} : { phrase: issued }), events: decision.right, freshness: appended.position.toString() });
      } catch (error) {
        if (!(error instanceof AppendConditionError)) throw error;
      }
    }
    return E.left({
      code: "conflict-retries-exhausted",
      message: `Gave up after ${retry.attempts + 1} attempts: what this command depends on kept changing. Try again.`,
    });
  };

  /** R15: the same id with the same command answers as the first time; with another, it is refused. */
  const answerRepeat = (
    declaration: AnyDeclaration,
    command: unknown,
    earlier: ReadonlyArray<RecordedEvent>,
    digestTag: string,
  ): E.Either<CommandFailure, Accepted & Record<string, unknown>> => {
    const commandId = (command as { commandId: string }).commandId;
    if (!earlier.every((e) => e.tags.includes(digestTag)))
      return E.left({
        code: "command-id-reused",
        message: `Command id ${commandId} was already used by another command; give each command its own id.`,
      });
    const events = earlier.map(({ type, data }) => ({ type, data }) as DomainEvent);
    const freshness = earlier[earlier.length - 1]!.position.toString();
    const outcome = declaration.outcome(command, events) as E.Either<CommandFailure, Record<string, unknown>>;
    if (E.isLeft(outcome)) return outcome;
    // The phrase was shown once, when the command first ran, and is kept nowhere (R6).
    if (declaration.issuesPhrase === true)
      return E.left({
        code: "phrase-shown-once",
        message: `This command already issued phrase ${String(outcome.right.phraseId)}, which was shown once and is kept nowhere; issue a new phrase (it supersedes that one).`,
        phraseId: String(outcome.right.phraseId),
      });
    return E.right({ ...outcome.right, events, freshness });
  };

  /** Reads what `query` selects and folds it (onto `from`): for authoritative checks outside a command (R13). */
  const stateOf = async (query: Query, from: LibraryState = initialLibraryState): Promise<LibraryState> => {
    let state = from;
    for await (const event of store.read(query)) state = evolveLibrary(state, event);
    return state;
  };

  return { run, stateOf };
};

export type CommandHandler = ReturnType<typeof createCommandHandler>;
