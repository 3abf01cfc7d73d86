/**
 * @linked-accounts/adapters: everything that touches the world. The event store
 * port and its stores, phrase generation and hashing, ids, the clock, and
 * command handling (load → decide → append → retry).
 */

// The event store port and its stores (the contract suite is "@linked-accounts/adapters/contract").
export * from "./event-store.js";
export type { StoredEvent } from "./mapper.js";
export { createInMemoryEventStore } from "./in-memory-store.js";
export { type SqliteEventStoreOptions, createSqliteEventStore } from "./sqlite-store.js";
export {
  DEFAULT_SCHEMA as DEFAULT_POSTGRES_SCHEMA,
  type PostgresEventStoreOptions,
  type PostgresTimeouts,
  createPostgresEventStore,
} from "./postgres-store.js";
export { type EventStoreDbEventStoreOptions, createEventStoreDbEventStore } from "./eventstoredb-store.js";

// Command handling and its ports.
export {
  type Accepted,
  type CommandFailure,
  type CommandMethods,
  type InputOf,
  type LibrarySystem,
  type LinkedAccounts,
  type LinkedAccountsOptions,
  type Outcome,
  type Patron,
  type RetryPolicy,
  type ScopeOptions,
  type Staff,
  createLinkedAccounts,
} from "./linked-accounts.js";
export { type Clock, manualClock, systemClock } from "./clock.js";
export { type Ids, uuidV7Ids } from "./ids.js";
export { OWASP_SCRYPT_COST, type ScryptCost, type SharePhrases, scryptSharePhrases } from "./share-phrases.js";
