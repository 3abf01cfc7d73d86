/**
 * The SQL drivers. `better-sqlite3` and `pg` are dependencies of
 * `@linked-accounts/adapters` (which opens the event stores); the checkpoint
 * stores load the same copies through it, and type the little they use here.
 */
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  safeIntegers(on?: boolean): SqliteStatement;
}
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { immediate: (...args: A) => R } & ((...args: A) => R);
  close(): void;
}
export type SqliteConstructor = new (path: string, options?: { timeout?: number }) => SqliteDatabase;

export interface PgQueryResult {
  readonly rows: ReadonlyArray<Record<string, unknown>>;
  readonly rowCount: number | null;
}
export interface PgClient {
  query(sql: string, params?: ReadonlyArray<unknown>): Promise<PgQueryResult>;
  release(): void;
}
export interface PgPool {
  query(sql: string, params?: ReadonlyArray<unknown>): Promise<PgQueryResult>;
  connect(): Promise<PgClient>;
  end(): Promise<void>;
}
export type PgPoolConstructor = new (config: { connectionString: string; max?: number }) => PgPool;

const load = (name: string): unknown => {
  const here = dirname(fileURLToPath(import.meta.url));
  const attempts = [
    () => createRequire(import.meta.url)(name),
    // In this workspace (pnpm), the driver sits next to @linked-accounts/adapters.
    () => createRequire(join(realpathSync(join(here, "..", "node_modules", "@linked-accounts", "adapters")), "package.json"))(name),
  ];
  let last: unknown;
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch (error) {
      last = error;
    }
  }
  throw new Error(`Cannot load the ${name} driver: ${last instanceof Error ? last.message : String(last)}`);
};

export const sqliteDriver = (): SqliteConstructor => load("better-sqlite3") as SqliteConstructor;
export const pgDriver = (): PgPoolConstructor => (load("pg") as { Pool: PgPoolConstructor }).Pool;
