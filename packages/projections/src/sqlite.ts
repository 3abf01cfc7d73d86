/**
 * @linked-accounts/projections/sqlite: checkpoints in a SQLite file. Its
 * driver, better-sqlite3, is an optional peer dependency: a host that imports
 * this entry installs it (`npm install better-sqlite3`).
 */
export { type SqliteCheckpointOptions, createSqliteCheckpointStore } from "./sqlite-checkpoint.js";
