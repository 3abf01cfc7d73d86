/**
 * @linked-accounts/adapters/postgres: the PostgreSQL event store. Its driver,
 * pg, is an optional peer dependency: a host that imports this entry installs
 * it (`npm install pg`, and `@types/pg` for TypeScript).
 */
export {
  DEFAULT_SCHEMA as DEFAULT_POSTGRES_SCHEMA,
  type PostgresEventStoreOptions,
  type PostgresTimeouts,
  createPostgresEventStore,
} from "./postgres-store.js";
export { type PostgresKeyStoreOptions, createPostgresKeyStore } from "./postgres-key-store.js";
