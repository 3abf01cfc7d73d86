/**
 * @linked-accounts/domain: the pure core of linked library accounts, as a host,
 * an auditor or a host's property tests use it: the event catalog and its
 * codecs (every schema version read, today's written), the commands, the
 * library decider that enforces the rules R1 to R16, the one authority check,
 * the tunable policy, and the stable error codes.
 */
export { Actor, Channel, DecodeError, Direction } from "./codec.js";
export {
  type DomainEvent,
  type EventEnvelope,
  type EventOf,
  type EventType,
  EventMetadata,
  SCHEMA_VERSION,
  decodeEnvelope,
  encodeEvent,
  eventCodecs,
  eventTypes,
} from "./events.js";
export { type Command, type CommandType, commandCodecs } from "./commands/index.js";
export { type Decider, fold, libraryDecider } from "./decider.js";
export type { LibraryState } from "./library-state.js";
export { type AccountFacts, type Action, type Authority, type LinkFacts, authorize, canManage, grantInForce } from "./access.js";
export { type LockoutRule, type Policy, defaultPolicy, makePolicy } from "./policy.js";
export { type DomainError, type DomainErrorCode, domainErrorCodes } from "./errors.js";
export { normalisePhrase } from "./phrase.js";
export { ERASED, SEALED, type StoredEnvelope, personalFields } from "./personal.js";
export { canonicalBarcode } from "./barcode.js";
