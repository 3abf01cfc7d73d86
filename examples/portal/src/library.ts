/**
 * What the portal takes from linked-accounts, in one place: the actor-scoped
 * host API, the stores, and the knobs a host may turn.
 */
export {
  type CommandFailure,
  type EventStore,
  type LinkedAccounts,
  type Patron,
  type SharePhrases,
  createLinkedAccounts,
  scryptSharePhrases,
} from "@linked-accounts/adapters";
export { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
export { createPostgresEventStore } from "@linked-accounts/adapters/postgres";
export { type DomainError, type Policy, ERASED, defaultPolicy, makePolicy } from "@linked-accounts/domain";
