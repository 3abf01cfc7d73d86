/**
 * @linked-accounts/adapters/eventstoredb: the EventStoreDB event store. Its
 * client, @eventstore/db-client, is an optional peer dependency: a host that
 * imports this entry installs it (`npm install @eventstore/db-client`).
 */
export { type EventStoreDbEventStoreOptions, createEventStoreDbEventStore } from "./eventstoredb-store.js";
