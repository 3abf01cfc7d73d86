/**
 * Where the audit tools read events from: an export file, standard input, or a
 * store (`sqlite:PATH`, `postgres://…`). Stores come from @linked-accounts/adapters,
 * loaded when asked for, so reading a file needs no database driver.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { PositionedEvent } from "./projection.js";
import { type ExportedEvent, readExport } from "./ndjson.js";

/** What the command line reads: events in global order, and a way to let go. */
export interface OpenedSource {
  readonly description: string;
  events(): AsyncIterable<ExportedEvent>;
  close(): Promise<void>;
}

export type SourceSpec =
  | { readonly kind: "stdin" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "postgres"; readonly connectionString: string; readonly schema: string | undefined };

/**
 * `-` (or nothing): standard input; `sqlite:PATH`; `postgres://…` or
 * `postgresql://…` (a `schema=NAME` query parameter picks the store's schema);
 * anything else: an export file path.
 */
export const parseSource = (text: string | undefined): SourceSpec => {
  if (text === undefined || text === "-") return { kind: "stdin" };
  if (text.startsWith("sqlite:")) return { kind: "sqlite", path: text.slice("sqlite:".length) };
  if (/^postgres(ql)?:\/\//.test(text)) {
    const url = new URL(text);
    const schema = url.searchParams.get("schema") ?? undefined;
    url.searchParams.delete("schema");
    return { kind: "postgres", connectionString: url.toString(), schema };
  }
  return { kind: "file", path: text };
};

interface StoreLike {
  readAll(options?: { readonly fromPosition?: bigint; readonly batchSize?: number }): AsyncIterable<PositionedEvent & { readonly stream: string }>;
  close(): Promise<void>;
}
interface Adapters {
  createSqliteEventStore(options: { path: string }): StoreLike;
  createPostgresEventStore(options: { connectionString: string; schema?: string }): StoreLike | Promise<StoreLike>;
}

const ADAPTERS = "@linked-accounts/adapters";
const adapters = async (): Promise<Adapters> => (await import(ADAPTERS)) as Adapters;

const storeSource = (description: string, store: StoreLike): OpenedSource => ({
  description,
  events: () => store.readAll({ batchSize: 5000 }),
  close: () => store.close(),
});

export const openSource = async (spec: SourceSpec, stdin: Readable): Promise<OpenedSource> => {
  switch (spec.kind) {
    case "stdin":
      return { description: "standard input", events: () => readExport(stdin), close: async () => {} };
    case "file": {
      // Open first so that a missing file is reported before anything is read.
      const stream = createReadStream(spec.path, { encoding: "utf8" });
      await new Promise<void>((resolve, reject) => {
        stream.once("open", () => resolve());
        stream.once("error", reject);
      });
      return { description: spec.path, events: () => readExport(stream), close: async () => void stream.destroy() };
    }
    case "sqlite": {
      const { existsSync } = await import("node:fs");
      // Opening a missing path would create an empty store: refuse instead.
      if (!existsSync(spec.path)) throw new Error(`No SQLite store at ${spec.path}`);
      return storeSource(`sqlite:${spec.path}`, (await adapters()).createSqliteEventStore({ path: spec.path }));
    }
    case "postgres": {
      const options = spec.schema === undefined ? { connectionString: spec.connectionString } : { connectionString: spec.connectionString, schema: spec.schema };
      return storeSource("PostgreSQL", await (await adapters()).createPostgresEventStore(options));
    }
  }
};
