/**
 * Where the audit tools read events from: an export file, standard input, or a
 * store (`sqlite:PATH`, `postgres://…`), opened with @linked-accounts/adapters.
 * A store's entry (and so its driver) is loaded only when a source needs it:
 * the drivers are optional peer dependencies, and a host that reads only
 * export files installs none of them.
 */
import { createReadStream, existsSync } from "node:fs";
import type { Readable } from "node:stream";
import type { EventStore, RecordedEvent } from "@linked-accounts/adapters";
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

/** A store keeps no streams: an export names each event's first tag as its stream label. */
async function* labelled(events: AsyncIterable<RecordedEvent>): AsyncGenerator<ExportedEvent> {
  for await (const event of events) yield { ...event, stream: event.tags[0] ?? "events" };
}

/**
 * Loads a store's entry; when its driver is not installed, says which package
 * to install rather than where Node looked for it.
 */
export const loadStoreEntry = async <M>(load: () => Promise<M>, driver: string, source: string): Promise<M> => {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : "";
    if (code === "ERR_MODULE_NOT_FOUND" && message.includes(`'${driver}'`))
      throw new Error(`reading ${source} needs the ${driver} package, which is not installed: npm install ${driver}`);
    throw error;
  }
};

const storeSource = (description: string, store: EventStore): OpenedSource => ({
  description,
  events: () => labelled(store.readAll({ batchSize: 5000 })),
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
      // Opening a missing path would create an empty store: refuse instead.
      if (!existsSync(spec.path)) throw new Error(`No SQLite store at ${spec.path}`);
      // Read-only: an audit never changes the store it reads.
      const { createSqliteEventStore } = await loadStoreEntry(() => import("@linked-accounts/adapters/sqlite"), "better-sqlite3", "a SQLite store");
      return storeSource(`sqlite:${spec.path}`, createSqliteEventStore({ path: spec.path, readOnly: true }));
    }
    case "postgres": {
      const { createPostgresEventStore } = await loadStoreEntry(() => import("@linked-accounts/adapters/postgres"), "pg", "a PostgreSQL store");
      const options = {
        connectionString: spec.connectionString,
        readOnly: true,
        ...(spec.schema === undefined ? {} : { schema: spec.schema }),
      };
      return storeSource("PostgreSQL", await createPostgresEventStore(options));
    }
  }
};
