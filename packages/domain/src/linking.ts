/**
 * What the linking commands share about share phrases (R6, R8): whether a
 * phrase is active, and which phrases of an account are current.
 */
import { type Id, isoMs } from "./codec.js";
import { type AccountRecord, type LinkingState, type PhraseRecord, accountIdByBarcode } from "./linking-state.js";

/** R6: a phrase is active while it is neither revoked nor expired. */
export const isActive = (phrase: PhraseRecord, nowMs: number): boolean =>
  phrase.revoked === null && nowMs < isoMs(phrase.expiresAt);

/** The newest phrase per direction an account issued, whatever its status. */
export const currentPhrases = (state: LinkingState, accountId: Id): ReadonlyArray<PhraseRecord> => {
  const account = state.accounts.get(accountId);
  return account === undefined ? [] : currentPhrasesOf(state, account);
};

/** `currentPhrases` of an account whose record is at hand. */
export const currentPhrasesOf = (state: LinkingState, account: AccountRecord): ReadonlyArray<PhraseRecord> => {
  const phrases: PhraseRecord[] = [];
  const oneWay = account.currentPhrases["one-way"];
  const twoWay = account.currentPhrases["two-way"];
  const first = oneWay === undefined ? undefined : state.phrases.get(oneWay);
  if (first !== undefined) phrases.push(first);
  const second = twoWay === undefined ? undefined : state.phrases.get(twoWay);
  if (second !== undefined) phrases.push(second);
  return phrases;
};

/**
 * R8: the phrases a connection attempt with this barcode (however typed) must be
 * checked against, newest per direction, whatever their status (so an expired
 * or revoked phrase is recorded as such). The adapters derive one proof each.
 */
export const phrasesToCheck = (state: LinkingState, barcode: string): ReadonlyArray<Pick<PhraseRecord, "phraseId" | "verifier">> => {
  const issuer = accountIdByBarcode(state, barcode);
  return issuer === undefined ? [] : currentPhrases(state, issuer).map(({ phraseId, verifier }) => ({ phraseId, verifier }));
};
