/**
 * @linked-accounts/adapters/sqlite: the SQLite event store, the embedded
 * default. Its driver, better-sqlite3, is an optional peer dependency: a host
 * that imports this entry installs it (`npm install better-sqlite3`).
 */
export { type SqliteEventStoreOptions, createSqliteEventStore } from "./sqlite-store.js";
export { type SqliteConnection, type SqliteKeyStoreOptions, createSqliteKeyStore } from "./sqlite-key-store.js";
