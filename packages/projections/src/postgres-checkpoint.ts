/**
 * Checkpoints in PostgreSQL: the serialised state and its position in one row,
 * written in one statement (its own transaction) with a compare-and-set on the
 * previous position, so two runners sharing it never both apply the same events.
 */
import pg from "pg";
import type { CheckpointStore } from "./checkpoint.js";

export interface PostgresCheckpointOptions {
  readonly connectionString: string;
  /** Default `public`. Created when missing. */
  readonly schema?: string;
  /** Default `projection_checkpoints`. */
  readonly table?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export const createPostgresCheckpointStore = async (options: PostgresCheckpointOptions): Promise<CheckpointStore> => {
  const schema = options.schema ?? "public";
  const table = options.table ?? "projection_checkpoints";
  for (const name of [schema, table]) if (!NAME.test(name)) throw new RangeError(`Not an SQL name: ${JSON.stringify(name)}`);
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 2 });
  const qualified = `"${schema}"."${table}"`;
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${qualified} (name text PRIMARY KEY, position bigint NOT NULL, state text NOT NULL)`);
  } catch (error) {
    // Two runners creating the table at once: one of them loses the race on the catalog.
    const exists = await pool.query(`SELECT to_regclass($1) AS t`, [qualified]).catch(() => undefined);
    if (exists?.rows[0]?.["t"] == null) {
      await pool.end();
      throw error;
    }
  }
  return {
    load: async (name) => {
      const { rows } = await pool.query(`SELECT position::text AS position, state FROM ${qualified} WHERE name = $1`, [name]);
      const row = rows[0];
      return row === undefined ? undefined : { position: BigInt(String(row["position"])), state: String(row["state"]) };
    },
    save: async (name, expected, next) => {
      const result =
        expected === undefined
          ? await pool.query(`INSERT INTO ${qualified} (name, position, state) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [
              name,
              next.position.toString(),
              next.state,
            ])
          : await pool.query(`UPDATE ${qualified} SET position = $1, state = $2 WHERE name = $3 AND position = $4`, [
              next.position.toString(),
              next.state,
              name,
              expected.toString(),
            ]);
      return result.rowCount === 1;
    },
    close: () => pool.end(),
  };
};
