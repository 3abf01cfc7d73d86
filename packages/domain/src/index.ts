/**
 * @linked-accounts/domain: the pure core of linked library accounts. Codecs for
 * every event and command, the deciders that enforce DOMAIN.md's rules R1 to R14,
 * and the one authority check every command goes through.
 */
export {
  Actor,
  Barcode,
  Channel,
  DecodeError,
  Direction,
  Id,
  IsoTime,
  Text,
  decodeWith,
  describeErrors,
  secret,
} from "./codec.js";
export * from "./events.js";
export { type Query, type QueryItem, type Tag, covers, everything, matchesQuery, nothingAtAll, unionOf } from "./query.js";
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
export { TypedBarcode, canonicalBarcode } from "./barcode.js";
export { commandTag, tagsOf } from "./tags.js";
export { type LibraryState, circulationOf, evolveLibrary, evolveLibraryAll, initialLibraryState } from "./library-state.js";
export { type DomainError, type DomainErrorCode, domainError, domainErrorCodes } from "./errors.js";
export { type RawEvent, type RawObject, type SchemaChange, upcaster } from "./upcasting.js";
export { channelOfVersion1, schemaChanges } from "./schema-changes.js";
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
export { currentPhrases, isActive, phrasesToCheck } from "./linking.js";
export { authorityOver } from "./commands/reads.js";
export { type CirculationState, type Hold, type HoldStatus, type Loan, evolveCirculation, initialCirculationState } from "./circulation.js";
export { type Decider, fold, libraryDecider } from "./decider.js";
export { type LockoutRule, type Policy, RETAINED_FAILURES, defaultPolicy, lockedUntil, makePolicy } from "./policy.js";
export { PHRASE_ALPHABET, PHRASE_LENGTH, formatPhrase, normalisePhrase, phraseEntropyBits, sameHash } from "./phrase.js";
export { PersistentMap } from "./persistent-map.js";
