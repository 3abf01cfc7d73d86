/**
 * The facts commands read, as query items: the pieces every consistency
 * boundary is made of. Each names one account, barcode, phrase, link, pair,
 * loan or hold, so no command reads anything of unrelated patrons (R16).
 */
import { canonicalBarcode } from "../barcode.js";
import type { Actor, Id } from "../codec.js";
import type { QueryItem } from "../query.js";
import {
  accountTag,
  attemptsByTag,
  attemptsOnTag,
  barcodeTag,
  holdTag,
  linkTag,
  loanTag,
  pairTag,
  phraseTag,
} from "../tags.js";

/**
 * Registered, minor or not, open or closed, and its date of birth if recorded:
 * what `grantInForce` decides on (R1, R4, R12); and whether its personal data
 * was erased (an erased account's barcode finds no one).
 */
export const accountFacts = (accountId: Id): QueryItem => ({
  types: ["AccountRegistered", "AccountClosed", "DateOfBirthRecorded", "AccountErased"],
  tags: [accountTag(accountId)],
});
/** Issue 12: what an account chose about keeping its reading history, every time it chose. */
export const historyChoicesOf = (accountId: Id): QueryItem => ({ types: ["ReadingHistoryChosen"], tags: [accountTag(accountId)] });
/** The phrases an account issued, and their revocations. */
export const phrasesOf = (accountId: Id): QueryItem => ({
  types: ["SharePhraseIssued", "SharePhraseRevoked"],
  tags: [accountTag(accountId)],
});
/** Which account holds a (canonical) barcode. */
export const barcodeOwner = (barcode: string): QueryItem => ({ types: ["AccountRegistered"], tags: [barcodeTag(canonicalBarcode(barcode))] });
export const phraseFacts = (phraseId: Id): QueryItem => ({ types: ["SharePhraseIssued", "SharePhraseRevoked"], tags: [phraseTag(phraseId)] });
export const linkFacts = (linkId: Id): QueryItem => ({ types: ["AccountConnected", "LinkRevoked"], tags: [linkTag(linkId)] });
/** Every link an account was ever part of, and its revocation. */
export const linksOf = (accountId: Id): QueryItem => ({ types: ["AccountConnected", "LinkRevoked"], tags: [accountTag(accountId)] });
/** Every link ever made between two accounts, and its revocation (R2, R8, R13). */
export const pairLinks = (a: Id, b: Id): QueryItem => ({ types: ["AccountConnected", "LinkRevoked"], tags: [pairTag(a, b)] });
/** R10: the failures that count towards a connector's own lockout. */
export const attemptsBy = (connectorAccountId: Id): QueryItem => ({
  types: ["ConnectionAttemptFailed"],
  tags: [attemptsByTag(connectorAccountId)],
});
/** R10: the failures that count towards an issuer's lockout. */
export const attemptsOn = (issuerAccountId: Id): QueryItem => ({
  types: ["ConnectionAttemptFailed"],
  tags: [attemptsOnTag(issuerAccountId)],
});
export const loanEvents = (loanId: Id): QueryItem => ({ tags: [loanTag(loanId)] });
export const holdEvents = (holdId: Id): QueryItem => ({ tags: [holdTag(holdId)] });

/**
 * What `authorize` needs to answer for `actor` acting on `accountId` (R1, R4,
 * R5, R12, R13): the account; and for another account acting, that account's
 * facts (a date of birth among them, R4) and every link of the pair, so a revocation stored after the read refuses the
 * append and the command is decided again.
 */
export const authorityOver = (actor: Actor, accountId: Id): ReadonlyArray<QueryItem> =>
  actor.kind === "account" && actor.accountId !== accountId
    ? [accountFacts(accountId), accountFacts(actor.accountId), pairLinks(actor.accountId, accountId)]
    : [accountFacts(accountId)];
