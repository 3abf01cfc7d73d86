/**
 * @linked-accounts/domain/testing: fast-check generators for a host's own
 * property tests. Arbitraries for every primitive, event and command, random
 * valid histories played through the library decider, a fake phrase port, a
 * structural snapshot of the state, and given/when/then.
 */
export {
  actor,
  barcode,
  base64url,
  command,
  commandOf,
  direction,
  domainEvent,
  eventOf,
  id,
  instantMs,
  isoTime,
  phrasePlaintext,
  verifier,
} from "./arbitraries.js";
export {
  type Decision,
  type History,
  type HistoryOptions,
  type HistoryStep,
  type Move,
  type MoveKind,
  clockAdvance,
  envelope,
  historyPlan,
  move,
  moveKinds,
  personalDataMoveKinds,
  playHistory,
  uuidV7,
  validHistory,
} from "./history.js";
export { fakeHash, fakeVerifier, proofsFor } from "./phrases.js";
export { type StateSnapshot, snapshot } from "./snapshot.js";
export { type Given, type Outcome, given } from "./scenario.js";
export * as fixtures from "./fixtures.js";
export { type NaiveAccount, type NaiveAgeRule, type NaiveLink, NaiveModel, naiveAge } from "./oracle.js";
