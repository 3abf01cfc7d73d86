/**
 * Command handling: one object with a method per command. Each method decodes
 * the host's input, loads the streams it needs, decides, appends with the
 * expected revision, retries a bounded number of times on a conflict, and
 * returns the outcome with the global position readers can wait for.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type * as t from "io-ts";
import {
  type Action,
  type Authority,
  type CirculationCommand,
  type CirculationEvent,
  type CirculationState,
  type Command,
  type CommandOf,
  type DomainError,
  type DomainEvent,
  type EventMetadata,
  type LinkingCommand,
  type LinkingEvent,
  type LinkingState,
  type Policy,
  SCHEMA_VERSION,
  authorize,
  canManage,
  channelOfVersion1,
  decideCirculation,
  decideLinking,
  decodeWith,
  defaultPolicy,
  evolveCirculation,
  evolveLinking,
  initialCirculationState,
  initialLinkingState,
  isLinkingCommand,
  isLinkingEvent,
  phrasesToCheck,
  plainInput,
  refusalOf,
} from "@linked-accounts/domain";
import { type Clock, systemClock } from "./clock.js";
import { ConcurrencyError, type EventStore, type RecordedEvent } from "./event-store.js";
import { type Ids, uuidV7Ids } from "./ids.js";
import * as Input from "./inputs.js";
import { type SharePhrases, scryptSharePhrases } from "./share-phrases.js";
import { LINKING_STREAM, circulationStream } from "./streams.js";

export interface LinkedAccountsOptions {
  readonly store: EventStore;
  readonly clock?: Clock;
  readonly ids?: Ids;
  readonly phrases?: SharePhrases;
  readonly policy?: Policy;
  /** How many times a command is decided again after a conflict (default 10). */
  readonly maxRetries?: number;
  /** How many accounts' circulation states stay cached (default 10,000). */
  readonly cachedAccounts?: number;
}

/** Why a command was refused: the domain's codes, bad input, or lasting contention. */
export type CommandFailure =
  | DomainError
  | { readonly code: "invalid-input"; readonly message: string }
  | { readonly code: "conflict-retries-exhausted"; readonly message: string }
  | { readonly code: "command-id-reused"; readonly message: string }
  | { readonly code: "phrase-shown-once"; readonly message: string; readonly phraseId: string };

/** What an accepted command did. `events` is empty when there was nothing to do (R8, R11). */
export interface Accepted {
  readonly events: ReadonlyArray<RecordedEvent>;
  /**
   * The freshness token: the global position of the last event this command
   * appended, or of the last event it read when it appended nothing. A read
   * model that has applied this position reflects the command.
   */
  readonly position: bigint;
}

export type Outcome<A = Accepted> = Promise<E.Either<CommandFailure, A>>;

export interface IssuedPhrase extends Accepted {
  readonly phraseId: string;
  /** The plaintext, returned this once: nothing else ever holds it (R6). */
  readonly phrase: string;
  readonly direction: "one-way" | "two-way";
  readonly expiresAt: string;
}

export interface Connection extends Accepted {
  /** The new link, or null when the pair already held every grant the phrase gives (R8). */
  readonly linkId: string | null;
}

/** A stream's folded state as of its last read revision, with the commands seen in it. */
interface Folded<S> {
  state: S;
  revision: bigint;
  position: bigint;
  /** Events by the command (causation id) that appended them: a command sent twice appends once. */
  readonly byCommand: Map<string, RecordedEvent[]>;
}

const folded = <S>(state: S): Folded<S> => ({ state, revision: -1n, position: 0n, byCommand: new Map() });

export const createLinkedAccounts = (options: LinkedAccountsOptions) => {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? uuidV7Ids;
  const phrases = options.phrases ?? scryptSharePhrases();
  const policy = options.policy ?? defaultPolicy;
  const maxRetries = options.maxRetries ?? 10;
  const cachedAccounts = options.cachedAccounts ?? 10_000;

  const linking = folded<LinkingState>(initialLinkingState);
  const circulation = new Map<string, Folded<CirculationState>>();
  // Concurrent calls on one instance read a stream one at a time, so a fold is never applied twice.
  const reading = new Map<string, Promise<void>>();

  const catchUp = <S>(stream: string, f: Folded<S>, evolve: (s: S, e: RecordedEvent) => S): Promise<void> => {
    const previous = reading.get(stream) ?? Promise.resolve();
    const next = previous.then(async () => {
      for await (const event of store.readStream(stream, { fromRevision: f.revision + 1n })) {
        f.state = evolve(f.state, event);
        f.revision = event.revision;
        f.position = event.position;
        const command = event.metadata.causationId;
        if (command !== null) f.byCommand.set(command, [...(f.byCommand.get(command) ?? []), event]);
      }
    });
    const settled = next.catch(() => undefined);
    reading.set(stream, settled);
    void settled.then(() => {
      if (reading.get(stream) === settled) reading.delete(stream);
    });
    return next;
  };

  const evolveLinkingRecorded = (s: LinkingState, e: RecordedEvent): LinkingState => {
    if (!isLinkingEvent(e)) throw new Error(`Stream ${e.stream} holds a ${e.type} at position ${e.position}; only linking events belong there.`);
    return evolveLinking(s, e);
  };
  const evolveCirculationRecorded = (s: CirculationState, e: RecordedEvent): CirculationState => {
    if (isLinkingEvent(e)) throw new Error(`Stream ${e.stream} holds a ${e.type} at position ${e.position}; only circulation events belong there.`);
    return evolveCirculation(s, e as CirculationEvent);
  };

  const loadLinking = () => catchUp(LINKING_STREAM, linking, evolveLinkingRecorded);

  const circulationOf = (accountId: string): Folded<CirculationState> => {
    let f = circulation.get(accountId);
    if (f === undefined) {
      f = folded(initialCirculationState);
      circulation.set(accountId, f);
      if (circulation.size > cachedAccounts) circulation.delete(circulation.keys().next().value!);
    }
    return f;
  };

  const metadataFor = (command: Command): EventMetadata => ({
    eventId: ids.next(),
    schemaVersion: SCHEMA_VERSION,
    occurredAt: command.now,
    actor: command.actor,
    // Until commands say which way they came in: what version 1 would imply.
    channel: channelOfVersion1(command.actor),
    correlationId: command.correlationId ?? null,
    causationId: command.commandId,
  });

  /**
   * What each command decides into: the event that shows it was carried out
   * (one of `made`), and any that may come with it. A command id found on other
   * events, or on another actor's, was reused by a different command.
   */
  const outcomeOf: Record<Command["type"], { made: ReadonlyArray<DomainEvent["type"]>; with?: DomainEvent["type"] }> = {
    RegisterAccount: { made: ["AccountRegistered"] },
    CloseAccount: { made: ["AccountClosed"], with: "SharePhraseRevoked" },
    IssueSharePhrase: { made: ["SharePhraseIssued"], with: "SharePhraseRevoked" },
    RevokeSharePhrase: { made: ["SharePhraseRevoked"] },
    ConnectAccount: { made: ["AccountConnected", "ConnectionAttemptFailed"] },
    RevokeLink: { made: ["LinkRevoked"] },
    RecordCheckout: { made: ["ItemCheckedOut"] },
    RenewLoan: { made: ["LoanRenewed"] },
    RecordReturn: { made: ["ItemReturned"] },
    PlaceHold: { made: ["HoldPlaced"] },
    CancelHold: { made: ["HoldCancelled"] },
    SuspendHold: { made: ["HoldSuspended"] },
    ResumeHold: { made: ["HoldResumed"] },
    ChangeHoldPickupBranch: { made: ["HoldPickupBranchChanged"] },
    RecordHoldFulfilled: { made: ["HoldFulfilled"] },
  };
  const wasMadeBy = (events: ReadonlyArray<RecordedEvent>, command: Command): boolean => {
    const { made, with: extra } = outcomeOf[command.type];
    return (
      events.some((e) => made.includes(e.type)) &&
      events.every((e) => (made.includes(e.type) || e.type === extra) && sameActor(e.metadata.actor, command.actor))
    );
  };
  const sameActor = (a: Command["actor"], b: Command["actor"]) => JSON.stringify(a) === JSON.stringify(b);

  /**
   * load → decide → append, again on a conflict. Each attempt decides on state
   * read afresh (R13), and appends expecting exactly the revision that state was
   * folded to, even if another call on this instance reads further meanwhile.
   */
  const run = async <S>(
    stream: string,
    f: Folded<S>,
    load: () => Promise<void>,
    command: Command,
    decide: (state: S) => Promise<E.Either<DomainError, ReadonlyArray<DomainEvent>>>,
  ): Outcome => {
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      await load();
      const { state, revision, position } = f;
      const earlier = f.byCommand.get(command.commandId);
      if (earlier !== undefined) {
        return wasMadeBy(earlier, command)
          ? E.right({ events: earlier, position: earlier[earlier.length - 1]!.position })
          : E.left({
              code: "command-id-reused",
              message: `Command id ${command.commandId} was already used by another command; give each command its own id.`,
            });
      }
      const decision = await decide(state);
      if (E.isLeft(decision)) return decision;
      if (decision.right.length === 0) return E.right({ events: [], position });
      const envelopes = decision.right.map((event) => ({ ...event, metadata: metadataFor(command) }));
      try {
        const appended = await store.appendToStream(stream, envelopes, {
          expectedRevision: revision < 0n ? "no-stream" : revision,
        });
        await load();
        return E.right({ events: f.byCommand.get(command.commandId) ?? [], position: appended.position });
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
    return E.left({
      code: "conflict-retries-exhausted",
      message: `Gave up after ${maxRetries + 1} attempts: other writers kept changing stream ${stream}. Try again.`,
    });
  };

  const runLinking = (command: LinkingCommand, derive?: (s: LinkingState) => Promise<LinkingCommand>): Outcome =>
    run(LINKING_STREAM, linking, loadLinking, command, async (state) =>
      decideLinking(derive ? await derive(state) : command, state, policy),
    );

  const runCirculation = (command: CirculationCommand): Outcome => {
    const f = circulationOf(command.accountId);
    const stream = circulationStream(command.accountId);
    // R13: the link state is read afresh for every attempt, so a revocation stored
    // before the command arrived is always seen.
    let links = linking.state;
    const load = async () => {
      await Promise.all([loadLinking(), catchUp(stream, f, evolveCirculationRecorded)]);
      links = linking.state;
    };
    return run(stream, f, load, command, async (circulation) => decideCirculation(command, { circulation, linking: links }));
  };

  /** Decodes the host's input; a failure names the field (and never shows a phrase). */
  const accept = <A>(codec: t.Decoder<unknown, A>, name: string, input: unknown): E.Either<CommandFailure, A> =>
    pipe(
      plainInput(input, name),
      E.chain(decodeWith(codec, name)),
      E.mapLeft((error): CommandFailure => ({ code: "invalid-input", message: error.message })),
    );

  const common = (input: { actor: Command["actor"]; commandId?: string; correlationId?: string | null }) => ({
    commandId: input.commandId ?? ids.next(),
    actor: input.actor,
    now: clock.now().toISOString(),
    correlationId: input.correlationId ?? null,
  });
  /** The input's own fields, without what `common` takes from it. */
  const fields = <A extends { actor: unknown; commandId?: unknown; correlationId?: unknown }>({
    actor: _actor,
    commandId: _commandId,
    correlationId: _correlationId,
    ...rest
  }: A): Omit<A, "actor" | "commandId" | "correlationId"> => rest;

  /** A host-facing method: decode the input, make the command, run it on its streams. */
  const handled =
    <A extends { actor: Command["actor"]; commandId?: string; correlationId?: string | null }>(
      codec: t.Decoder<unknown, A>,
      name: string,
      toCommand: (input: A) => Command,
    ) =>
    async (input: unknown): Outcome => {
      const decoded = accept(codec, name, input);
      if (E.isLeft(decoded)) return decoded;
      const command = toCommand(decoded.right);
      return isLinkingCommand(command) ? runLinking(command) : runCirculation(command);
    };

  const actingAccount = (actor: Command["actor"]): E.Either<CommandFailure, string> =>
    actor.kind === "account"
      ? E.right(actor.accountId)
      : E.left({ code: "self-service-only", message: "Only an account itself may do this, logged in as itself (R5)." });

  /** R6: the plaintext is made here, hashed, returned once and never stored. */
  const issueSharePhrase = async (input: unknown): Outcome<IssuedPhrase> => {
    const decoded = accept(Input.IssueSharePhraseInput, "issueSharePhrase", input);
    if (E.isLeft(decoded)) return decoded;
    const issuer = actingAccount(decoded.right.actor);
    if (E.isLeft(issuer)) return issuer;
    const phrase = phrases.generate();
    const verifier = await phrases.verifierFor(phrase);
    const phraseId = ids.next();
    const outcome = await runLinking({
      type: "IssueSharePhrase",
      ...common(decoded.right),
      phraseId,
      issuerAccountId: issuer.right,
      direction: decoded.right.direction,
      verifier,
    });
    if (E.isLeft(outcome)) return outcome;
    const issued = outcome.right.events.find((e) => e.type === "SharePhraseIssued");
    // `run` checked that a repeated command id stored a SharePhraseIssued.
    if (issued?.type !== "SharePhraseIssued") throw new Error("issueSharePhrase: no SharePhraseIssued was stored");
    // A repeat of a command already carried out: its phrase was shown then and kept nowhere.
    if (issued.data.phraseId !== phraseId)
      return E.left({
        code: "phrase-shown-once",
        message: `This command already issued phrase ${issued.data.phraseId}, which was shown once and is kept nowhere; issue a new phrase (it supersedes that one).`,
        phraseId: issued.data.phraseId,
      });
    return E.right({
      ...outcome.right,
      phraseId,
      phrase,
      direction: issued.data.direction,
      expiresAt: issued.data.expiresAt,
    });
  };

  /**
   * R8 to R10. Proofs are derived for the phrases the domain names for this
   * barcode, padded to the same number of derivations whether or not the
   * barcode exists, so the answer's timing does not tell an outsider either.
   */
  const connectAccount = async (input: unknown): Outcome<Connection> => {
    const decoded = accept(Input.ConnectAccountInput, "connectAccount", input);
    if (E.isLeft(decoded)) return decoded;
    const connector = actingAccount(decoded.right.actor);
    if (E.isLeft(connector)) return connector;
    const { barcode, phrase } = decoded.right;
    // Exactly two derivations on every attempt, retries included: no cache, so
    // the time taken never depends on the barcode.
    const derive = async (state: LinkingState): Promise<LinkingCommand> => {
      const candidates = phrasesToCheck(state, barcode);
      const proofs = [];
      for (const candidate of candidates)
        proofs.push({ phraseId: candidate.phraseId, hash: await phrases.proofFor(phrase, candidate.verifier) });
      for (let i = candidates.length; i < 2; i++) await phrases.proofFor(phrase, phrases.decoy);
      return { ...command, proofs };
    };
    const command: CommandOf<"ConnectAccount"> = {
      type: "ConnectAccount",
      ...common(decoded.right),
      connectorAccountId: connector.right,
      barcode,
      linkId: ids.next(),
      proofs: [],
    };
    const outcome = await runLinking(command, derive);
    if (E.isLeft(outcome)) return outcome;
    const refusal = refusalOf(outcome.right.events.filter(isLinkingEvent) as LinkingEvent[]);
    if (refusal !== undefined) return E.left(refusal);
    const connected = outcome.right.events.find((e) => e.type === "AccountConnected");
    return E.right({ ...outcome.right, linkId: connected?.type === "AccountConnected" ? connected.data.linkId : null });
  };

  return {
    registerAccount: handled(Input.RegisterAccountInput, "registerAccount", (i) => ({ type: "RegisterAccount", ...common(i), ...fields(i) })),
    closeAccount: handled(Input.CloseAccountInput, "closeAccount", (i) => ({ type: "CloseAccount", ...common(i), ...fields(i) })),
    issueSharePhrase,
    revokeSharePhrase: handled(Input.RevokeSharePhraseInput, "revokeSharePhrase", (i) => ({ type: "RevokeSharePhrase", ...common(i), ...fields(i) })),
    connectAccount,
    revokeLink: handled(Input.RevokeLinkInput, "revokeLink", (i) => ({
      type: "RevokeLink",
      ...common(i),
      linkId: i.linkId,
      reason: i.reason ?? "",
    })),
    recordCheckout: handled(Input.RecordCheckoutInput, "recordCheckout", (i) => ({
      type: "RecordCheckout",
      ...common(i),
      ...fields(i),
      loanId: i.loanId ?? ids.next(),
    })),
    renewLoan: handled(Input.RenewLoanInput, "renewLoan", (i) => ({ type: "RenewLoan", ...common(i), ...fields(i) })),
    recordReturn: handled(Input.RecordReturnInput, "recordReturn", (i) => ({ type: "RecordReturn", ...common(i), ...fields(i) })),
    placeHold: handled(Input.PlaceHoldInput, "placeHold", (i) => ({
      type: "PlaceHold",
      ...common(i),
      ...fields(i),
      holdId: i.holdId ?? ids.next(),
    })),
    cancelHold: handled(Input.CancelHoldInput, "cancelHold", (i) => ({ type: "CancelHold", ...common(i), ...fields(i) })),
    suspendHold: handled(Input.SuspendHoldInput, "suspendHold", (i) => ({ type: "SuspendHold", ...common(i), ...fields(i) })),
    resumeHold: handled(Input.ResumeHoldInput, "resumeHold", (i) => ({ type: "ResumeHold", ...common(i), ...fields(i) })),
    changeHoldPickupBranch: handled(Input.ChangeHoldPickupBranchInput, "changeHoldPickupBranch", (i) => ({ type: "ChangeHoldPickupBranch", ...common(i), ...fields(i) })),
    recordHoldFulfilled: handled(Input.RecordHoldFulfilledInput, "recordHoldFulfilled", (i) => ({ type: "RecordHoldFulfilled", ...common(i), ...fields(i) })),
    /**
     * The authoritative answer to "may this actor do this now?", from link state
     * read afresh from the store (R13), not from a read model that may lag.
     */
    authorize: async (actor: Command["actor"], action: Action, accountId: string): Promise<E.Either<DomainError, Authority>> => {
      await loadLinking();
      return authorize(actor, action, accountId, linking.state);
    },
    canManage: async (manager: string, account: string): Promise<boolean> => {
      await loadLinking();
      return canManage(linking.state, manager, account);
    },
  };
};

export type LinkedAccounts = ReturnType<typeof createLinkedAccounts>;
