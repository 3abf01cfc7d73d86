/**
 * @linked-accounts/domain/internal: what the library's own packages
 * (@linked-accounts/adapters and /projections) build on: command declarations,
 * tags and queries, folded states, codecs' building blocks. Not part of the
 * public face: a host imports `@linked-accounts/domain`, and these names may
 * change in any release.
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
  daysIn,
  decodeWith,
  describeErrors,
  secret,
  utcMs,
} from "./codec.js";
export { MAX_INPUT_DEPTH, MAX_INPUT_NODES, MAX_INPUT_STRING, plainInput } from "./plain-input.js";
export * from "./events.js";
export { type Query, type QueryItem, type Tag, covers, everything, matchesQuery, nothingAtAll, selectsWithin, unionOf } from "./query.js";
export {
  type Command,
  type CommandOf,
  type CommandType,
  type Declarations,
  PhraseProof,
  commandCodecs,
  declarationOf,
  declarations,
  refusalOf,
} from "./commands/index.js";
export {
  type ActorKind,
  type AnyDeclaration,
  type CommandContext,
  type CommandDeclaration,
  type CommonFields,
  type PhraseCandidate,
} from "./declaration.js";
export { type InputOf, input, withoutCommonFields } from "./input.js";
export { canonicalBarcode } from "./barcode.js";
export { accountTag, barcodeTag, commandTag, holdTag, loanTag, tagsOf } from "./tags.js";
export {
  ERASED,
  Erased,
  SEALED,
  Sealed,
  type Withheld,
  isWithheld,
  type SealedEnvelope,
  type StoredEnvelope,
  type Subject,
  hasPersonalFields,
  isSealed,
  personalFields,
  personalFieldsOf,
  personalPartOf,
  withoutPersonalFields,
} from "./personal.js";
export { type LibraryState, circulationOf, evolveLibrary, initialLibraryState } from "./library-state.js";
export { type DomainError, type DomainErrorCode, domainError, domainErrorCodes } from "./errors.js";
export { type RawEvent, type RawObject, type SchemaChange, upcaster } from "./upcasting.js";
export { channelOfVersion1, schemaChanges } from "./schema-changes.js";
export {
  type AccountFacts,
  type Action,
  type Authority,
  type Grant,
  type LinkFacts,
  authorize,
  canManage,
  grantInForce,
  grantLinks,
  grantsOf,
  linksBetween,
  linksGiving,
  managerActions,
  managesItself,
  mayManage,
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
  accountIdByBarcode,
  pairKey,
} from "./linking-state.js";
export { currentPhrases, isActive, phrasesToCheck } from "./linking.js";
export { accountFacts, authorityOver, linksOf } from "./commands/reads.js";
export { type CirculationState, type Hold, type HoldStatus, type Loan, evolveCirculation, initialCirculationState } from "./circulation.js";
export { type Decider, fold, libraryDecider } from "./decider.js";
export { type LockoutRule, type Policy, RETAINED_FAILURES, defaultPolicy, lockedUntil, makePolicy } from "./policy.js";
export { PHRASE_ALPHABET, PHRASE_LENGTH, formatPhrase, normalisePhrase, phraseEntropyBits, sameHash } from "./phrase.js";
export { PersistentMap } from "./persistent-map.js";
