/**
 * Random valid histories: a plan of random moves (plain numbers from fast-check)
 * is played against `libraryDecider().decide` by several actors, with a clock
 * that only moves forward; accepted events are folded as they come. Moves pick
 * existing accounts, phrases, links, loans and holds most of the time, so a
 * history is mostly things that happen, with enough refusals to test them.
 *
 * The plan is the random part; `playHistory` is deterministic, so fast-check
 * shrinks a failing history by shrinking its plan.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import type { Actor, Direction, Id } from "../codec.js";
import type { Command, CommandOf } from "../commands/index.js";
import { canManage } from "../access.js";
import { libraryDecider } from "../decider.js";
import { type LibraryState, circulationOf } from "../library-state.js";
import type { DomainError } from "../errors.js";
import { type DomainEvent, type EventEnvelope, SCHEMA_VERSION } from "../events.js";
import { channelOfVersion1 } from "../schema-changes.js";
import { phrasesToCheck } from "../linking.js";
import { type Policy, defaultPolicy } from "../policy.js";
import { PHRASE_ALPHABET, formatPhrase } from "../phrase.js";
import { fakeVerifier, proofsFor } from "./phrases.js";

// ---------------------------------------------------------------------------
// The plan

/** What a move sets out to do; `playHistory` turns it into one command (a burst: several). */
export const moveKinds = [
  "register",
  "close",
  "issue",
  "revoke-phrase",
  "connect",
  "burst",
  "revoke-link",
  "checkout",
  "renew",
  "return",
  "place-hold",
  "cancel-hold",
  "suspend-hold",
  "resume-hold",
  "change-pickup-branch",
  "fulfil-hold",
  "manager-self-service",
  "record-birth",
] as const;
/**
 * Issue 12's moves, played only when a history asks for them (`personalData`):
 * choosing to keep reading history, erasing an account, a retention run.
 */
export const personalDataMoveKinds = ["choose-history", "erase", "retention"] as const;
export type MoveKind = (typeof moveKinds)[number] | (typeof personalDataMoveKinds)[number];

const weights: Readonly<Record<MoveKind, number>> = {
  register: 3,
  close: 1,
  issue: 4,
  "revoke-phrase": 1,
  connect: 7,
  burst: 1,
  "revoke-link": 2,
  checkout: 3,
  renew: 3,
  return: 1,
  "place-hold": 3,
  "cancel-hold": 1,
  "suspend-hold": 1,
  "resume-hold": 1,
  "change-pickup-branch": 1,
  "fulfil-hold": 1,
  "manager-self-service": 2,
  "record-birth": 1,
  "choose-history": 2,
  erase: 1,
  retention: 2,
};

/** One random move: its kind, six free choices, and how far the clock moves first. */
export interface Move {
  readonly kind: MoveKind;
  readonly picks: readonly [number, number, number, number, number, number];
  readonly advanceMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Mostly seconds (bursts of guesses), sometimes minutes and hours, now and then days (expiry). */
export const clockAdvance = (): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: 0, max: 60 * SECOND }) },
    { weight: 3, arbitrary: fc.integer({ min: MINUTE, max: 20 * MINUTE }) },
    { weight: 2, arbitrary: fc.integer({ min: 20 * MINUTE, max: 6 * HOUR }) },
    { weight: 1, arbitrary: fc.integer({ min: DAY, max: 5 * DAY }) },
  );

export const move = (options: Pick<HistoryOptions, "personalData"> = {}): fc.Arbitrary<Move> =>
  fc.record({
    kind: fc.oneof(
      ...[...moveKinds, ...(options.personalData === true ? personalDataMoveKinds : [])].map((kind) => ({
        weight: weights[kind],
        arbitrary: fc.constant(kind),
      })),
    ),
    picks: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.nat()),
    advanceMs: clockAdvance(),
  });

export interface HistoryOptions {
  /** Fewest and most moves (default 30 and 150); a burst move plays several commands. */
  readonly minMoves?: number;
  readonly maxMoves?: number;
  /** The decider's policy (default `defaultPolicy`). */
  readonly policy?: Policy;
  /** Accounts registered at most (default 8). */
  readonly maxAccounts?: number;
  /** The clock's first reading (default 2026-03-02T09:00:00.000Z). */
  readonly start?: string;
  /**
   * Also play issue 12's moves (`personalDataMoveKinds`): patrons choosing to
   * keep their reading history, closed accounts erased, retention runs of a
   * few days (default false).
   */
  readonly personalData?: boolean;
}

/** An arbitrary plan of moves. */
export const historyPlan = (options: HistoryOptions = {}): fc.Arbitrary<ReadonlyArray<Move>> =>
  fc.array(move(options), { minLength: options.minMoves ?? 30, maxLength: options.maxMoves ?? 150 });

// ---------------------------------------------------------------------------
// Playing a plan

export type Decision = E.Either<DomainError, ReadonlyArray<DomainEvent>>;

/** One command of a history, with everything a property may want to look at. */
export interface HistoryStep {
  readonly index: number;
  /** What the generator meant, e.g. `connect:correct`, `burst:issuer`, `renew:manager`. */
  readonly intent: string;
  readonly command: Command;
  readonly stateBefore: LibraryState;
  readonly decision: Decision;
  /** The events appended (empty when refused or when nothing changed). */
  readonly appended: ReadonlyArray<EventEnvelope>;
  readonly stateAfter: LibraryState;
}

export interface History {
  readonly commands: ReadonlyArray<Command>;
  /** Every accepted event, in order, with its metadata. */
  readonly events: ReadonlyArray<EventEnvelope>;
  readonly steps: ReadonlyArray<HistoryStep>;
  readonly finalState: LibraryState;
  readonly policy: Policy;
  /** The plaintext of every phrase the history issued, by phraseId: what must never be stored (R6). */
  readonly phrases: ReadonlyMap<Id, string>;
}

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, "0").slice(-digits);

/**
 * A UUID v7 made from a time and a counter, deterministically: the first 48 bits
 * are the time in milliseconds, the rest the counter.
 */
export const uuidV7 = (ms: number, counter: number): string => {
  const t = hex(Math.max(0, Math.floor(ms)), 12);
  const c = Math.floor(counter);
  const low = hex(c % 0x1000000000000, 12);
  const mid = hex(Math.floor(c / 0x1000000000000) % 0x1000, 3);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${mid}-8000-${low}`;
};

/** Wraps an event in the metadata a handler would give it for `command`. */
export const envelope = (event: DomainEvent, command: Command, counter: number): EventEnvelope =>
  ({
    ...event,
    metadata: {
      eventId: uuidV7(Date.parse(command.now), counter),
      schemaVersion: SCHEMA_VERSION,
      occurredAt: command.now,
      actor: command.actor,
      channel: channelOfVersion1(command.actor),
      correlationId: null,
      causationId: command.commandId,
    },
  }) as EventEnvelope;

const mix = (a: number, b: number): number => {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** A phrase in the domain's alphabet chosen by the plan's numbers (R7's alphabet, 14 characters). */
const phraseFrom = (seed: number, a: number, b: number): string => {
  let out = "";
  let h = mix(mix(seed, a), b);
  for (let i = 0; i < 14; i++) {
    h = mix(h, i);
    out += PHRASE_ALPHABET[h % PHRASE_ALPHABET.length];
  }
  return out;
};

/** Picks the n-th element, wrapping around. */
const pick = <A>(list: ReadonlyArray<A>, n: number): A | undefined =>
  list.length === 0 ? undefined : list[n % list.length];
const percent = (n: number): number => mix(n, 7) % 100;

const STAFF: Actor = { kind: "staff", staffId: "staff-1" };
const SYSTEM: Actor = { kind: "system" };
const account = (accountId: Id): Actor => ({ kind: "account", accountId });
const BRANCHES = ["Central", "Ponsonby", "Devonport", "Otara"] as const;

interface Book {
  accounts: Id[];
  phrases: Id[];
  links: Id[];
  loans: Array<{ accountId: Id; loanId: Id }>;
  holds: Array<{ accountId: Id; holdId: Id }>;
}

/**
 * Plays a plan against `libraryDecider(policy)`. Deterministic: the same plan
 * and options always give the same history.
 */
export const playHistory = (plan: ReadonlyArray<Move>, options: HistoryOptions = {}): History => {
  const policy = options.policy ?? defaultPolicy;
  const maxAccounts = options.maxAccounts ?? 8;
  const maxCommands = Math.max(options.maxMoves ?? 150, plan.length) + 20;
  const decider = libraryDecider(policy);
  let clock = Date.parse(options.start ?? "2026-03-02T09:00:00.000Z");
  let state = decider.initialState;
  let counter = 0;
  const book: Book = { accounts: [], phrases: [], links: [], loans: [], holds: [] };
  const phrases = new Map<Id, string>();
  const commands: Command[] = [];
  const events: EventEnvelope[] = [];
  const steps: HistoryStep[] = [];

  const fresh = (prefix: string): Id => `${prefix}-${++counter}`;
  const nowIso = () => new Date(clock).toISOString();
  const base = () => ({ commandId: fresh("cmd"), now: nowIso() });
  const accounts = () => state.linking.accounts;
  const isOpen = (id: Id) => accounts().get(id)?.closed === false;
  const openAccounts = () => book.accounts.filter(isOpen);
  /** An open account most of the time, any account otherwise. */
  const someAccount = (n: number): Id | undefined =>
    percent(n) < 90 ? (pick(openAccounts(), n) ?? pick(book.accounts, n)) : pick(book.accounts, n);
  const managersOf = (accountId: Id): Id[] =>
    book.accounts.filter((m) => m !== accountId && canManage(state.linking, m, accountId, policy, clock));
  // As registered: an erased account's barcode reads `[erased]` in the state, but people still type it.
  const registeredBarcodes = new Map<Id, string>();
  const barcodeOf = (id: Id): string => registeredBarcodes.get(id) ?? "UNKNOWN0";
  /** Someone acting on `accountId`'s loans and holds: itself, a manager, or someone else. */
  const circulationActor = (accountId: Id, n: number, m: number): { actor: Actor; who: string } => {
    const p = percent(n);
    if (p < 25) return { actor: account(accountId), who: "self" };
    const manager = pick(managersOf(accountId), m);
    if (p < 85 && manager !== undefined) return { actor: account(manager), who: "manager" };
    if (p < 93) {
      const other = pick(book.accounts.filter((a) => a !== accountId), m);
      if (other !== undefined) return { actor: account(other), who: "other" };
    }
    return { actor: percent(m) < 70 ? STAFF : SYSTEM, who: "desk" };
  };

  const play = (intent: string, command: Command): void => {
    if (commands.length >= maxCommands) return;
    const stateBefore = state;
    const decision = decider.decide(command, stateBefore);
    const appended: EventEnvelope[] = [];
    if (E.isRight(decision))
      for (const event of decision.right) {
        appended.push(envelope(event, command, ++counter));
        state = decider.evolve(state, event);
        note(event);
      }
    commands.push(command);
    events.push(...appended);
    steps.push({ index: steps.length, intent, command, stateBefore, decision, appended, stateAfter: state });
  };

  const note = (event: DomainEvent): void => {
    switch (event.type) {
      case "AccountRegistered":
        book.accounts.push(event.data.accountId);
        registeredBarcodes.set(event.data.accountId, event.data.barcode);
        break;
      case "SharePhraseIssued":
        book.phrases.push(event.data.phraseId);
        break;
      case "AccountConnected":
        book.links.push(event.data.linkId);
        break;
      case "ItemCheckedOut":
        book.loans.push({ accountId: event.data.accountId, loanId: event.data.loanId });
        break;
      case "HoldPlaced":
        book.holds.push({ accountId: event.data.accountId, holdId: event.data.holdId });
        break;
      default:
        break;
    }
  };

  /** A connect attempt by `connector` with `barcode`, typing `typed`. */
  const connect = (intent: string, actor: Actor, connector: Id, barcode: string, typed: string, linkId: Id): void => {
    const proofs = proofsFor(typed, phrasesToCheck(state.linking, barcode));
    play(intent, { type: "ConnectAccount", ...base(), actor, connectorAccountId: connector, barcode, linkId, proofs });
  };

  /** The plaintext of an issuer's newest phrase of a direction, if any. */
  const currentPlaintext = (issuer: Id, direction: Direction): string | undefined => {
    const id = accounts().get(issuer)?.currentPhrases[direction];
    return id === undefined ? undefined : phrases.get(id);
  };
  const issuers = () => book.accounts.filter((a) => Object.keys(accounts().get(a)?.currentPhrases ?? {}).length > 0);
  const wrongPhrase = (a: number, b: number) => phraseFrom(0x5eed, a, b);
  const asTyped = (phrase: string, n: number): string => {
    const p = percent(n);
    return p < 60 ? phrase : p < 80 ? formatPhrase(phrase).toUpperCase() : ` ${formatPhrase(phrase)} `;
  };

  const playMove = ({ kind: chosen, picks: [p0, p1, p2, p3, p4, p5], advanceMs }: Move): void => {
    clock += advanceMs;
    const kind: MoveKind = book.accounts.length < 2 ? "register" : chosen;
    switch (kind) {
      case "register": {
        const reuse = book.accounts.length >= maxAccounts || percent(p0) < 4;
        const existing = pick(book.accounts, p1);
        const n = book.accounts.length + 1;
        const accountId = reuse && existing !== undefined && percent(p2) < 50 ? existing : `acct-${n}-${p3 % 1000}`;
        const barcode = reuse && existing !== undefined ? barcodeOf(existing) : `B${10000 + n}X${p3 % 1000}`;
        const actor = percent(p4) < 5 ? account(existing ?? accountId) : percent(p4) < 60 ? STAFF : SYSTEM;
        const minor = percent(p5) < 35;
        return play(`register:${minor ? "minor" : "adult"}`, {
          type: "RegisterAccount",
          ...base(),
          actor,
          accountId,
          barcode,
          minor,
        });
      }
      case "record-birth": {
        // R4: a date of birth whose 16th birthday is within 20 days of the clock, either
        // side, so a policy letting minors manage from 16 changes its answer within a history.
        const target = someAccount(p0)!;
        const birth = new Date(clock - ((p1 % 41) - 20) * DAY);
        birth.setUTCFullYear(birth.getUTCFullYear() - 16);
        const q = percent(p2);
        const actor = q < 60 ? STAFF : q < 92 ? SYSTEM : account(target);
        const dateOfBirth = percent(p3) < 3 ? new Date(clock + 2 * DAY).toISOString().slice(0, 10) : birth.toISOString().slice(0, 10);
        return play("record-birth", { type: "RecordDateOfBirth", ...base(), actor, accountId: target, dateOfBirth });
      }
      case "close": {
        const target = pick(book.accounts, p0)!;
        const p = percent(p1);
        const other = pick(book.accounts.filter((a) => a !== target), p2);
        const actor =
          p < 50 ? account(target) : p < 75 ? STAFF : p < 85 ? SYSTEM : other === undefined ? STAFF : account(other);
        return play("close", { type: "CloseAccount", ...base(), actor, accountId: target });
      }
      case "issue": {
        const issuer = someAccount(p0)!;
        const minor = accounts().get(issuer)?.minor === true;
        const direction: Direction = percent(p1) < (minor ? 75 : 45) ? "two-way" : "one-way";
        const existing = pick(book.phrases, p2);
        const phraseId = percent(p3) < 4 && existing !== undefined ? existing : fresh("phrase");
        const plaintext = phraseFrom(counter, p4, p5);
        const other = pick(book.accounts.filter((a) => a !== issuer), p2);
        const q = percent(p5);
        const actor = q < 90 || other === undefined ? account(issuer) : q < 95 ? account(other) : STAFF;
        if (!phrases.has(phraseId)) phrases.set(phraseId, plaintext);
        return play(`issue:${direction}`, {
          type: "IssueSharePhrase",
          ...base(),
          actor,
          phraseId,
          issuerAccountId: issuer,
          direction,
          verifier: fakeVerifier(plaintext, `salt${counter}`),
        });
      }
      case "revoke-phrase": {
        const phraseId = pick(book.phrases, p0);
        if (phraseId === undefined) return;
        const issuer = state.linking.phrases.get(phraseId)!.issuerAccountId;
        const p = percent(p1);
        const other = pick(book.accounts.filter((a) => a !== issuer), p2);
        const actor = p < 70 || other === undefined ? account(issuer) : p < 90 ? STAFF : account(other);
        return play("revoke-phrase", { type: "RevokeSharePhrase", ...base(), actor, phraseId });
      }
      case "connect": {
        const connector = someAccount(p0)!;
        const p = percent(p1);
        const others = book.accounts.filter((a) => a !== connector);
        const target =
          p < 80
            ? (pick(issuers().filter((a) => a !== connector), p2) ?? pick(others, p2) ?? connector)
            : p < 93
              ? connector
              : pick(book.accounts, p2)!;
        const unknown = p >= 80 && p < 88;
        const barcode = unknown ? `U${p2 % 100000}X` : barcodeOf(target);
        const q = percent(p3);
        const direction: Direction = percent(p4) < 50 ? "one-way" : "two-way";
        const current = currentPlaintext(target, direction) ?? currentPlaintext(target, direction === "one-way" ? "two-way" : "one-way");
        const older = pick([...phrases.values()], p4);
        const [typed, how] =
          q < 70 && current !== undefined
            ? [current, "correct"]
            : q < 80 && older !== undefined
              ? [older, "other-phrase"]
              : [wrongPhrase(p4, p5), "wrong"];
        const r = percent(p5);
        const other = pick(book.accounts.filter((a) => a !== connector), p5);
        const actor = r < 94 || other === undefined ? account(connector) : r < 97 ? account(other) : STAFF;
        const existingLink = pick(book.links, p5);
        const linkId = percent(p2) < 3 && existingLink !== undefined ? existingLink : fresh("link");
        const label = unknown ? "unknown-barcode" : target === connector ? "own-barcode" : how;
        return connect(`connect:${label}`, actor, connector, barcode, asTyped(typed, p3), linkId);
      }
      case "burst": {
        // R10: many failures in a short time, then (often) the right phrase.
        const issuer = pick(issuers(), p0) ?? pick(book.accounts, p0)!;
        const byConnector = percent(p1) < 40;
        const connector = someAccount(p2)!;
        const rule = byConnector ? policy.connectorLockout : policy.issuerLockout;
        const count = rule.maxFailures + (p3 % 3) - 1;
        let h = p4;
        for (let i = 0; i < count; i++) {
          h = mix(h, i);
          clock += h % Math.max(1, Math.floor((rule.windowMs * 1.2) / rule.maxFailures));
          const who = byConnector ? connector : (pick(book.accounts.filter((a) => a !== issuer), h) ?? connector);
          const barcode = byConnector && percent(h) < 70 ? `U${h % 100000}X` : barcodeOf(issuer);
          connect(`burst:${byConnector ? "connector" : "issuer"}`, account(who), who, barcode, wrongPhrase(h, i), fresh("link"));
        }
        if (percent(p5) < 75) {
          const correct = currentPlaintext(issuer, percent(p5) < 40 ? "one-way" : "two-way") ?? currentPlaintext(issuer, "two-way");
          if (correct !== undefined) {
            clock += p5 % (5 * MINUTE);
            connect("burst:then-correct", account(connector), connector, barcodeOf(issuer), correct, fresh("link"));
          }
        }
        return;
      }
      case "revoke-link": {
        const active = book.links.filter((l) => state.linking.links.get(l)?.revoked === false);
        const linkId = percent(p0) < 80 ? (pick(active, p1) ?? pick(book.links, p1)) : pick(book.links, p1);
        if (linkId === undefined) return;
        const link = state.linking.links.get(linkId)!;
        const p = percent(p2);
        const other = pick(
          book.accounts.filter((a) => a !== link.issuerAccountId && a !== link.connectedAccountId),
          p3,
        );
        const [actor, who]: [Actor, string] =
          p < 40
            ? [account(link.issuerAccountId), "issuer"]
            : p < 80
              ? [account(link.connectedAccountId), "connected"]
              : p < 90
                ? [STAFF, "staff"]
                : p < 95 && other !== undefined
                  ? [account(other), "other"]
                  : [SYSTEM, "system"];
        return play(`revoke-link:${who}`, {
          type: "RevokeLink",
          ...base(),
          actor,
          linkId,
          reason: percent(p4) < 50 ? "" : "no longer shared",
        });
      }
      case "checkout": {
        const accountId = someAccount(p0)!;
        const format = percent(p1) < 50 ? "digital" : "physical";
        const p = percent(p2);
        const manager = pick(managersOf(accountId), p3);
        const [actor, who]: [Actor, string] =
          format === "digital"
            ? p < 85 || manager === undefined
              ? [account(accountId), "self"]
              : [account(manager), "manager"]
            : p < 70
              ? [STAFF, "desk"]
              : p < 90 || manager === undefined
                ? [account(accountId), "self"]
                : [account(manager), "manager"];
        const dueAt = new Date(clock + (percent(p4) < 5 ? -HOUR : DAY + (p4 % (28 * DAY)))).toISOString();
        return play(`checkout:${format}:${who}`, {
          type: "RecordCheckout",
          ...base(),
          actor,
          loanId: fresh("loan"),
          accountId,
          itemId: `item-${p5 % 50}`,
          title: `Title ${p5 % 50}`,
          format,
          dueAt,
        });
      }
      case "renew": {
        const open = book.loans.filter((l) => circulationOf(state, l.accountId).loans.get(l.loanId)?.returned === false);
        const loan = percent(p0) < 90 ? (pick(open, p1) ?? pick(book.loans, p1)) : pick(book.loans, p1);
        if (loan === undefined) return;
        const current = circulationOf(state, loan.accountId).loans.get(loan.loanId)!;
        const { actor, who } = circulationActor(loan.accountId, p2, p3);
        const dueAt = new Date(Date.parse(current.dueAt) + (percent(p4) < 5 ? -DAY : DAY + (p4 % (21 * DAY)))).toISOString();
        return play(`renew:${who}`, { type: "RenewLoan", ...base(), actor, ...loan, dueAt });
      }
      case "return": {
        const loan = pick(book.loans, p0);
        if (loan === undefined) return;
        const p = percent(p1);
        const actor = p < 50 ? STAFF : p < 90 ? SYSTEM : account(loan.accountId);
        return play("return", { type: "RecordReturn", ...base(), actor, ...loan });
      }
      case "place-hold": {
        const accountId = someAccount(p0)!;
        const manager = pick(managersOf(accountId), p2);
        const self = percent(p1) < 85 || manager === undefined;
        return play(`place-hold:${self ? "self" : "manager"}`, {
          type: "PlaceHold",
          ...base(),
          actor: account(self ? accountId : manager),
          holdId: fresh("hold"),
          accountId,
          itemId: `item-${p3 % 50}`,
          title: `Title ${p3 % 50}`,
          pickupBranch: pick(BRANCHES, p4)!,
        });
      }
      case "cancel-hold":
      case "suspend-hold":
      case "resume-hold":
      case "change-pickup-branch":
      case "fulfil-hold": {
        const isOpenHold = (h: { accountId: Id; holdId: Id }) => {
          const status = circulationOf(state, h.accountId).holds.get(h.holdId)?.status;
          return status === "active" || status === "suspended";
        };
        const isSuspendedHold = (h: { accountId: Id; holdId: Id }) =>
          circulationOf(state, h.accountId).holds.get(h.holdId)?.status === "suspended";
        const wanted = kind === "resume-hold" ? book.holds.filter(isSuspendedHold) : book.holds.filter(isOpenHold);
        const hold = percent(p0) < 90 ? (pick(wanted, p1) ?? pick(book.holds, p1)) : pick(book.holds, p1);
        if (hold === undefined) return;
        if (kind === "fulfil-hold") {
          const actor = percent(p2) < 50 ? STAFF : SYSTEM;
          return play("fulfil-hold", { type: "RecordHoldFulfilled", ...base(), actor, ...hold });
        }
        const { actor, who } = circulationActor(hold.accountId, p2, p3);
        const label = `${kind}:${who}`;
        switch (kind) {
          case "cancel-hold":
            return play(label, { type: "CancelHold", ...base(), actor, ...hold });
          case "suspend-hold": {
            const until = new Date(clock + (percent(p4) < 5 ? -HOUR : HOUR + (p4 % (30 * DAY)))).toISOString();
            return play(label, { type: "SuspendHold", ...base(), actor, ...hold, until });
          }
          case "resume-hold":
            return play(label, { type: "ResumeHold", ...base(), actor, ...hold });
          case "change-pickup-branch":
            return play(label, { type: "ChangeHoldPickupBranch", ...base(), actor, ...hold, pickupBranch: pick(BRANCHES, p4)! });
        }
        return;
      }
      case "choose-history": {
        const target = someAccount(p0)!;
        const p = percent(p1);
        const other = pick(book.accounts.filter((a) => a !== target), p2);
        const [actor, who]: [Actor, string] =
          p < 70 ? [account(target), "self"] : p < 85 ? [STAFF, "desk"] : p < 95 && other !== undefined ? [account(other), "other"] : [SYSTEM, "system"];
        return play(`choose-history:${who}`, { type: "ChooseReadingHistory", ...base(), actor, accountId: target, keep: percent(p3) < 60 });
      }
      case "erase": {
        const closed = book.accounts.filter((a) => accounts().get(a)?.closed === true);
        const target = percent(p0) < 80 ? (pick(closed, p1) ?? pick(book.accounts, p1)!) : pick(book.accounts, p1)!;
        const p = percent(p2);
        const actor = p < 60 ? STAFF : p < 90 ? SYSTEM : account(target);
        return play("erase", { type: "EraseAccount", ...base(), actor, accountId: target });
      }
      case "retention": {
        // Retention of a few days, so histories of a few days forget; now and then the policy's (nothing yet).
        const retentionDays = percent(p0) < 15 ? null : 1 + (p1 % 4);
        const actor = percent(p2) < 95 ? SYSTEM : STAFF;
        return play("retention", { type: "ApplyRetention", ...base(), actor, retentionDays, limit: 1 + (p3 % 12) });
      }
      case "manager-self-service": {
        // R5: a manager (or anyone else) trying to place a hold or eCheckout for another account.
        const pairs = book.accounts.flatMap((a) => managersOf(a).map((m) => [m, a] as const));
        const randomPair = (): readonly [Id, Id] | undefined => {
          const a = pick(book.accounts, p1);
          const m = pick(book.accounts.filter((x) => x !== a), p2);
          return a === undefined || m === undefined ? undefined : [m, a];
        };
        const pair = percent(p0) < 80 ? (pick(pairs, p1) ?? randomPair()) : randomPair();
        if (pair === undefined) return;
        const [manager, accountId] = pair;
        const who = canManage(state.linking, manager, accountId, policy, clock) ? "manager" : "other";
        if (percent(p3) < 50)
          return play(`manager-self-service:place-hold:${who}`, {
            type: "PlaceHold",
            ...base(),
            actor: account(manager),
            holdId: fresh("hold"),
            accountId,
            itemId: `item-${p4 % 50}`,
            title: `Title ${p4 % 50}`,
            pickupBranch: pick(BRANCHES, p5)!,
          } satisfies CommandOf<"PlaceHold">);
        return play(`manager-self-service:e-checkout:${who}`, {
          type: "RecordCheckout",
          ...base(),
          actor: account(manager),
          loanId: fresh("loan"),
          accountId,
          itemId: `item-${p4 % 50}`,
          title: `Title ${p4 % 50}`,
          format: "digital",
          dueAt: new Date(clock + 14 * DAY).toISOString(),
        });
      }
    }
  };

  for (const m of plan) {
    if (commands.length >= maxCommands) break;
    playMove(m);
  }
  const history: History = { commands, events, steps, finalState: state, policy, phrases };
  // A failing property prints its history: the commands say it all, the states would drown it.
  Object.defineProperty(history, fc.toStringMethod, {
    value: () => `History of ${commands.length} commands ${fc.stringify(commands)}`,
    enumerable: false,
  });
  return history;
};

/**
 * Random valid histories: random moves by several actors played through
 * `libraryDecider(policy).decide`, accepted events folded, the clock moving
 * forward. Sizes default to 30 to 150 moves.
 */
export const validHistory = (options: HistoryOptions = {}): fc.Arbitrary<History> =>
  historyPlan(options).map((plan) => playHistory(plan, options));
