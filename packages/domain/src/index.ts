/**
 * @linked-accounts/domain: the pure core of linked library accounts. Codecs for
 * every event and command, the deciders that enforce DOMAIN.md's rules R1 to R14,
 * and the one authority check every command goes through.
 */
export {
  Actor,
  Barcode,
  BarcodeAsTyped,
  Channel,
  DecodeError,
  Direction,
  FreeText,
  Id,
  IsoTime,
  Text,
  decodeWith,
  describeErrors,
  secret,
} from "./codec.js";
export { MAX_INPUT_DEPTH, MAX_INPUT_NODES, MAX_INPUT_STRING, plainInput } from "./plain-input.js";
export * from "./events.js";
export { type RawEvent, type RawObject, type SchemaChange, upcaster } from "./upcasting.js";
export { channelOfVersion1, schemaChanges } from "./schema-changes.js";
export * from "./commands.js";
export { type DomainError, type DomainErrorCode, domainError, domainErrorCodes } from "./errors.js";
export {
  type Action,
  type Authority,
  type Grant,
  authorize,
  canManage,
  grantLinks,
  grantsOf,
  linksGiving,
  managerActions,
} from "./access.js";
export {
  type AccountRecord,
  type LinkRecord,
  type LinkingState,
  type PhraseRecord,
  countsAgainstConnector,
  countsAgainstIssuer,
  evolveLinking,
  initialLinkingState,
  pairKey,
} from "./linking-state.js";
export { decideLinking, isActive, phrasesToCheck, refusalOf } from "./linking.js";
export {
  type CirculationContext,
  type CirculationState,
  type Hold,
  type HoldStatus,
  type Loan,
  decideCirculation,
  evolveCirculation,
  initialCirculationState,
} from "./circulation.js";
export {
  type Decider,
  type LibraryState,
  circulationDecider,
  circulationOf,
  fold,
  libraryDecider,
  linkingDecider,
} from "./decider.js";
export { type LockoutRule, type Policy, RETAINED_FAILURES, defaultPolicy, lockedUntil, makePolicy } from "./policy.js";
export { canonicalBarcode } from "./barcode.js";
export { PHRASE_ALPHABET, PHRASE_LENGTH, formatPhrase, normalisePhrase, phraseEntropyBits, sameHash } from "./phrase.js";
export { PersistentMap } from "./persistent-map.js";
