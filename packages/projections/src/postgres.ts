/**
 * @linked-accounts/projections/postgres: checkpoints in PostgreSQL. Its
 * driver, pg, is an optional peer dependency: a host that imports this entry
 * installs it (`npm install pg`, and `@types/pg` for TypeScript).
 */
export { type PostgresCheckpointOptions, createPostgresCheckpointStore } from "./postgres-checkpoint.js";
