/**
 * The tags each event is stored under: what a decision's query can select it
 * by. A tag names one thing an event concerns (an account, a barcode, a phrase,
 * a link, the pair of accounts a link joins, a loan, a hold), so a command reads
 * exactly the facts it decides on and nothing of unrelated patrons (R16).
 */
import { canonicalBarcode } from "./barcode.js";
import type { Id } from "./codec.js";
import type { DomainEvent } from "./events.js";
import { type LinkingState, pairKey } from "./linking-state.js";
import { countsAgainstConnector, countsAgainstIssuer } from "./linking-state.js";
import type { Tag } from "./query.js";

export const accountTag = (accountId: Id): Tag => `account:${accountId}`;
/** The canonical barcode (R7), so every spelling of one barcode finds one account. */
export const barcodeTag = (barcode: string): Tag => `barcode:${barcode}`;
export const phraseTag = (phraseId: Id): Tag => `phrase:${phraseId}`;
export const linkTag = (linkId: Id): Tag => `link:${linkId}`;
/** The same tag for (a, b) and (b, a): both sides of a pair read its links. */
export const pairTag = (a: Id, b: Id): Tag => `pair:${pairKey(a, b)}`;
export const loanTag = (loanId: Id): Tag => `loan:${loanId}`;
export const holdTag = (holdId: Id): Tag => `hold:${holdId}`;
/** R10: failed attempts that count against a connector's own lockout. */
export const attemptsByTag = (connectorAccountId: Id): Tag => `attempts-by:${connectorAccountId}`;
/** R10: failed attempts that count against an issuer's lockout. */
export const attemptsOnTag = (issuerAccountId: Id): Tag => `attempts-on:${issuerAccountId}`;
/** R15: every event a command appended carries its id. */
export const commandTag = (commandId: Id): Tag => `command:${commandId}`;

/**
 * The tags of one decided event. `state` is the state it was decided on: a
 * revocation names only its link, and the pair comes from that link.
 */
export const tagsOf = (event: DomainEvent, state: LinkingState): ReadonlyArray<Tag> => {
  switch (event.type) {
    case "AccountRegistered":
      return [accountTag(event.data.accountId), barcodeTag(canonicalBarcode(event.data.barcode))];
    case "AccountClosed":
    case "DateOfBirthRecorded":
    case "AccountErased":
    case "ReadingHistoryChosen":
      return [accountTag(event.data.accountId)];
    case "SharePhraseIssued":
    case "SharePhraseRevoked":
      return [accountTag(event.data.issuerAccountId), phraseTag(event.data.phraseId)];
    case "AccountConnected": {
      const { linkId, phraseId, issuerAccountId, connectedAccountId } = event.data;
      return [
        linkTag(linkId),
        pairTag(issuerAccountId, connectedAccountId),
        phraseTag(phraseId),
        accountTag(issuerAccountId),
        accountTag(connectedAccountId),
      ];
    }
    case "ConnectionAttemptFailed": {
      const { connectorAccountId, issuerAccountId, reason } = event.data;
      return [
        accountTag(connectorAccountId),
        ...(countsAgainstConnector(reason) ? [attemptsByTag(connectorAccountId)] : []),
        ...(issuerAccountId !== null && countsAgainstIssuer(reason) ? [attemptsOnTag(issuerAccountId)] : []),
      ];
    }
    case "LinkRevoked": {
      const link = state.links.get(event.data.linkId);
      if (link === undefined) throw new Error(`LinkRevoked for link ${event.data.linkId}, which the decision never read`);
      return [
        linkTag(link.linkId),
        pairTag(link.issuerAccountId, link.connectedAccountId),
        accountTag(link.issuerAccountId),
        accountTag(link.connectedAccountId),
      ];
    }
    case "ItemCheckedOut":
    case "LoanRenewed":
    case "ItemReturned":
    case "LoanDetailsForgotten":
      return [loanTag(event.data.loanId), accountTag(event.data.accountId)];
    case "HoldPlaced":
    case "HoldCancelled":
    case "HoldSuspended":
    case "HoldResumed":
    case "HoldPickupBranchChanged":
    case "HoldFulfilled":
    case "HoldDetailsForgotten":
      return [holdTag(event.data.holdId), accountTag(event.data.accountId)];
  }
};
