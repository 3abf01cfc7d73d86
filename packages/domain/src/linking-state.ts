/**
 * The state of the linking context (accounts, share phrases, links), folded from
 * its events by a pure `evolve`. It keeps exactly what `decide` needs.
 */
import { type Direction, type Id, type IsoTime, isoMs } from "./codec.js";
import type { ConnectionFailureReason, LinkingEvent, PhraseRevocationReason, Verifier } from "./events.js";
import { canonicalBarcode } from "./barcode.js";
import { ERASED, isWithheld } from "./personal.js";
import { PersistentMap } from "./persistent-map.js";
import { RETAINED_FAILURES } from "./policy.js";

export interface AccountRecord {
  readonly accountId: Id;
  readonly barcode: string;
  readonly minor: boolean;
  readonly closed: boolean;
  /** Its personal data was erased (its key forgotten): its barcode finds no one. */
  readonly erased: boolean;
  /** R4: the date of birth last recorded (`2010-05-17`), or null; a policy may let a minor manage by it. */
  readonly dateOfBirth: string | null;
  /** R6: the newest phrase issued per direction (active or not). */
  readonly currentPhrases: Readonly<Partial<Record<Direction, Id>>>;
  /** R10: counted failed attempts against this account's phrases, ms, oldest first. */
  readonly failuresAsIssuer: ReadonlyArray<number>;
  /** R10: counted failed attempts made by this account, ms, oldest first. */
  readonly failuresAsConnector: ReadonlyArray<number>;
  /** R10: when this account issued its latest phrases, ms, oldest first. */
  readonly phrasesIssuedAt: ReadonlyArray<number>;
}

export interface PhraseRecord {
  readonly phraseId: Id;
  readonly issuerAccountId: Id;
  readonly direction: Direction;
  readonly verifier: Verifier;
  readonly expiresAt: IsoTime;
  readonly revoked: PhraseRevocationReason | null;
}

export interface LinkRecord {
  readonly linkId: Id;
  readonly phraseId: Id;
  readonly issuerAccountId: Id;
  readonly connectedAccountId: Id;
  readonly direction: Direction;
  readonly revoked: boolean;
}

export interface LinkingState {
  readonly accounts: PersistentMap<AccountRecord>;
  /** By canonical barcode (R7), whatever case an older release stored. */
  readonly accountsByBarcode: PersistentMap<Id>;
  readonly phrases: PersistentMap<PhraseRecord>;
  readonly links: PersistentMap<LinkRecord>;
  /** The active (unrevoked) link ids of each pair of accounts, by `pairKey`. */
  readonly activeLinksByPair: PersistentMap<ReadonlyArray<Id>>;
}

export const initialLinkingState: LinkingState = {
  accounts: PersistentMap.empty(),
  accountsByBarcode: PersistentMap.empty(),
  phrases: PersistentMap.empty(),
  links: PersistentMap.empty(),
  activeLinksByPair: PersistentMap.empty(),
};

/** The account a barcode belongs to (any spelling, R7); none once that account was erased. */
export const accountIdByBarcode = (state: LinkingState, barcode: string): Id | undefined => {
  const accountId = state.accountsByBarcode.get(canonicalBarcode(barcode));
  return accountId === undefined || state.accounts.get(accountId)?.erased === true ? undefined : accountId;
};

/** The record of the account a barcode belongs to (any spelling, R7); none once that account was erased (or unknown). */
export const accountByBarcode = (state: LinkingState, barcode: string): AccountRecord | undefined => {
  const accountId = state.accountsByBarcode.get(canonicalBarcode(barcode));
  const account = accountId === undefined ? undefined : state.accounts.get(accountId);
  return account === undefined || account.erased ? undefined : account;
};

/** The same key for (a, b) and (b, a). A space cannot occur in an id. */
export const pairKey = (a: Id, b: Id): string => (a < b ? `${a} ${b}` : `${b} ${a}`);

/**
 * R10: which failed attempts count towards each lockout. A refusal because of a
 * lockout never counts towards that same lockout (so it ends when it said it
 * would), but a connector still guessing at a locked issuer keeps failing, and
 * that counts against the connector. Typing one's own barcode counts for nothing.
 */
export const countsAgainstIssuer = (reason: ConnectionFailureReason): boolean =>
  reason !== "issuer-locked" && reason !== "connector-locked" && reason !== "self-link";

export const countsAgainstConnector = (reason: ConnectionFailureReason): boolean =>
  reason !== "connector-locked" && reason !== "self-link";

/**
 * What a newly registered account starts with, shared by every account (never
 * written: a change makes a new array or object). Most accounts never fail,
 * so deciding on one reads these, already in cache, instead of three arrays
 * and an object of its own somewhere in a large heap.
 */
const NO_TIMES: ReadonlyArray<number> = Object.freeze([]);
const NO_PHRASES: Readonly<Partial<Record<Direction, Id>>> = Object.freeze({});

const remember = (times: ReadonlyArray<number>, at: number): ReadonlyArray<number> => {
  const next = [...times, at];
  return next.length > RETAINED_FAILURES ? next.slice(next.length - RETAINED_FAILURES) : next;
};

const updateAccount = (
  state: LinkingState,
  accountId: Id,
  f: (account: AccountRecord) => AccountRecord,
): LinkingState => {
  const account = state.accounts.get(accountId);
  return account === undefined ? state : { ...state, accounts: state.accounts.set(accountId, f(account)) };
};

/** Folds one event. Total: an event about something unknown changes nothing. */
export const evolveLinking = (state: LinkingState, event: LinkingEvent): LinkingState => {
  switch (event.type) {
    case "AccountRegistered": {
      const { accountId, barcode, minor } = event.data;
      if (state.accounts.has(accountId)) return state;
      return {
        ...state,
        accounts: state.accounts.set(accountId, {
          accountId,
          barcode,
          minor,
          closed: false,
          erased: barcode === ERASED,
          dateOfBirth: null,
          currentPhrases: NO_PHRASES,
          failuresAsIssuer: NO_TIMES,
          failuresAsConnector: NO_TIMES,
          phrasesIssuedAt: NO_TIMES,
        }),
        accountsByBarcode:
          isWithheld(barcode) ? state.accountsByBarcode : state.accountsByBarcode.set(canonicalBarcode(barcode), accountId),
      };
    }
    case "AccountErased":
      return updateAccount(state, event.data.accountId, (a) => (a.erased ? a : { ...a, barcode: ERASED, erased: true }));
    case "AccountClosed":
      return updateAccount(state, event.data.accountId, (a) => ({ ...a, closed: true }));
    case "DateOfBirthRecorded":
      return updateAccount(state, event.data.accountId, (a) => ({ ...a, dateOfBirth: event.data.dateOfBirth }));
    case "SharePhraseIssued": {
      const { phraseId, issuerAccountId, direction, verifier, expiresAt } = event.data;
      const withPhrase: LinkingState = {
        ...state,
        phrases: state.phrases.set(phraseId, {
          phraseId,
          issuerAccountId,
          direction,
          verifier,
          expiresAt,
          revoked: null,
        }),
      };
      return updateAccount(withPhrase, issuerAccountId, (a) => ({
        ...a,
        currentPhrases: { ...a.currentPhrases, [direction]: phraseId },
        phrasesIssuedAt: remember(a.phrasesIssuedAt, isoMs(event.data.issuedAt)),
      }));
    }
    case "SharePhraseRevoked": {
      const phrase = state.phrases.get(event.data.phraseId);
      if (phrase === undefined || phrase.revoked !== null) return state;
      return { ...state, phrases: state.phrases.set(phrase.phraseId, { ...phrase, revoked: event.data.reason }) };
    }
    case "AccountConnected": {
      const { linkId, phraseId, issuerAccountId, connectedAccountId, direction } = event.data;
      if (state.links.has(linkId)) return state;
      const key = pairKey(issuerAccountId, connectedAccountId);
      return {
        ...state,
        links: state.links.set(linkId, {
          linkId,
          phraseId,
          issuerAccountId,
          connectedAccountId,
          direction,
          revoked: false,
        }),
        activeLinksByPair: state.activeLinksByPair.update(key, (ids = []) => [...ids, linkId]),
      };
    }
    case "ConnectionAttemptFailed": {
      const { connectorAccountId, issuerAccountId, reason, attemptedAt } = event.data;
      const at = isoMs(attemptedAt);
      const counted = countsAgainstConnector(reason)
        ? updateAccount(state, connectorAccountId, (a) => ({ ...a, failuresAsConnector: remember(a.failuresAsConnector, at) }))
        : state;
      return issuerAccountId !== null && countsAgainstIssuer(reason)
        ? updateAccount(counted, issuerAccountId, (a) => ({ ...a, failuresAsIssuer: remember(a.failuresAsIssuer, at) }))
        : counted;
    }
    case "LinkRevoked": {
      const link = state.links.get(event.data.linkId);
      if (link === undefined || link.revoked) return state;
      const key = pairKey(link.issuerAccountId, link.connectedAccountId);
      return {
        ...state,
        links: state.links.set(link.linkId, { ...link, revoked: true }),
        activeLinksByPair: state.activeLinksByPair.update(key, (ids = []) => ids.filter((id) => id !== link.linkId)),
      };
    }
  }
};
