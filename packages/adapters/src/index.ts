/**
 * @linked-accounts/adapters: everything that touches the world. The event store
 * port and its stores, phrase generation and hashing, ids, the clock, and
 * command handling (load → decide → append → retry).
 */

// The event store port and the in-memory store. Each other store has an entry of
// its own so that a host installs only the driver of the store it uses:
// "@linked-accounts/adapters/sqlite", "/postgres" and "/eventstoredb". The
// contract suite is "@linked-accounts/adapters/contract".
export * from "./event-store.js";
export type { StoredEvent } from "./mapper.js";
export { createInMemoryEventStore } from "./in-memory-store.js";

// The key store port (crypto-shredding) and its in-memory store; the SQLite and
// PostgreSQL key stores come with their event stores' entries. The key store
// contract is in "@linked-accounts/adapters/contract" too.
export { KEY_BYTES, type KeyLookup, type KeyStore, KeyStoreError } from "./key-store.js";
export { createInMemoryKeyStore } from "./in-memory-key-store.js";
// Every store seals personal data under those keys (personal-data.ts); events
// read from its log or an export of it are opened with `openStoredEvents`.
export { type PersonalDataOptions, type SealingEventStore, openStoredEvents } from "./personal-data.js";

// Command handling and its ports.
export {
  type Accepted,
  type CommandFailure,
  type CommandMethods,
  type Connection,
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
