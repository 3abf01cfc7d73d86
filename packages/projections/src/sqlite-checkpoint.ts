/**
 * Checkpoints in a SQLite file: the serialised state and its position in one
 * row, written in one transaction with a compare-and-set on the previous
 * position, so two runners sharing the file never both apply the same events.
 */
import Database from "better-sqlite3";
import type { Checkpoint, CheckpointStore } from "./checkpoint.js";

export interface SqliteCheckpointOptions {
  /** A file path (it may be the event store's own file), or `:memory:`. */
  readonly path: string;
  /** Default `projection_checkpoints`. */
  readonly table?: string;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export const createSqliteCheckpointStore = (options: SqliteCheckpointOptions): CheckpointStore => {
  const table = options.table ?? "projection_checkpoints";
  if (!TABLE_NAME.test(table)) throw new RangeError(`Not a table name: ${JSON.stringify(table)}`);
  const db = new Database(options.path, { timeout: 5000 });
  db.pragma("journal_mode = WAL");
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (name TEXT PRIMARY KEY, position INTEGER NOT NULL, state TEXT NOT NULL)`);
  const select = db.prepare(`SELECT position, state FROM ${table} WHERE name = ?`).safeIntegers(true);
  const insert = db.prepare(`INSERT INTO ${table} (name, position, state) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`);
  const update = db.prepare(`UPDATE ${table} SET position = ?, state = ? WHERE name = ? AND position = ?`);
  const save = db.transaction((name: string, expected: bigint | undefined, next: Checkpoint): boolean =>
    expected === undefined
      ? insert.run(name, next.position, next.state).changes === 1
      : update.run(next.position, next.state, name, expected).changes === 1,
  );
  return {
    load: async (name) => {
      const row = select.get(name) as { position: bigint; state: string } | undefined;
      return row === undefined ? undefined : { position: BigInt(row.position), state: row.state };
    },
    save: async (name, expected, next) => save.immediate(name, expected, next),
    close: async () => void db.close(),
  };
};
