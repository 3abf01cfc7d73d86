/**
 * Where the audit tools read events from: an export file, standard input, or a
 * store (`sqlite:PATH`, `postgres://…`), opened with @linked-accounts/adapters.
 * A store's entry (and so its driver) is loaded only when a source needs it:
 * the drivers are optional peer dependencies, and a host that reads only
 * export files installs none of them.
 * Everything store-specific is in `storeSource` and the two store cases.
 *
 * A source gives its events two ways: opened (`batches`: personal fields in the
 * clear, `[erased]` once forgotten, `[sealed]` in an export read without its
 * keys), and as kept (`storedBatches`: sealed, what `export` copies).
 */
import { existsSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { KeyStore, RecordedEvent, SealingEventStore } from "@linked-accounts/adapters";
import type { StoredEnvelope } from "@linked-accounts/domain/internal";
import { type ExportedEvent, type ReadExportOptions, type StoredExportedEvent, readExportBatches, readStoredExportBatches } from "./ndjson.js";

/** What the command line reads: events in global order, in batches, and a way to let go. */
export interface OpenedSource {
  readonly description: string;
  /** The events opened: personal fields in the clear, or `[erased]`, or `[sealed]` (an export read without keys). */
  batches(): AsyncIterable<ReadonlyArray<ExportedEvent>>;
  /** The events as kept: personal fields sealed (events written before sealing in the clear). */
  storedBatches(): AsyncIterable<ReadonlyArray<StoredExportedEvent>>;
  close(): Promise<void>;
}

export type SourceSpec =
  | { readonly kind: "stdin" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "postgres"; readonly connectionString: string; readonly schema: string | undefined };

/** A SOURCE that cannot be used as written (the message shows it with any password hidden). */
export class SourceSpecError extends Error {
  override readonly name = "SourceSpecError";
}

/**
 * `text` with the password of every `scheme://user:password@` hidden, also when
 * the URL is not a valid one (`postgres://u:secret@[bad/db`). For every message
 * that may quote what a person typed.
 */
export const redactUrls = (text: string): string => text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)\S*@/gi, "$1***@");

/** The passwords written in `args` (`scheme://user:password@…`), as typed and percent-decoded. */
export const passwordsIn = (args: ReadonlyArray<string>): string[] => {
  const out = new Set<string>();
  for (const arg of args)
    for (const m of arg.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:(\S*)@/gi)) {
      const typed = m[1]!;
      if (typed.length === 0) continue;
      out.add(typed);
      try {
        out.add(decodeURIComponent(typed));
      } catch {
        // not percent-encoded: the typed form is enough
      }
    }
  return [...out];
};

/**
 * `-` (or nothing): standard input; `sqlite:PATH`; `postgres://…` or
 * `postgresql://…` (a `schema=NAME` query parameter picks the store's schema);
 * anything else: an export file path.
 */
export const parseSource = (text: string | undefined): SourceSpec => {
  if (text === undefined || text === "-") return { kind: "stdin" };
  if (text.startsWith("sqlite:")) return { kind: "sqlite", path: text.slice("sqlite:".length) };
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      // The URL parser's own error carries the input, password and all: never shown.
      throw new SourceSpecError(`not a valid PostgreSQL URL: ${redactUrls(text)}`);
    }
    const schema = url.searchParams.get("schema") ?? undefined;
    url.searchParams.delete("schema");
    return { kind: "postgres", connectionString: url.toString(), schema };
  }
  return { kind: "file", path: text };
};

/** A store keeps no streams: an export names each event's first tag as its stream label. */
async function* labelled<E extends StoredEnvelope>(events: AsyncIterable<RecordedEvent<E>>): AsyncGenerator<RecordedEvent<E> & { readonly stream: string }> {
  for await (const event of events) yield { ...event, stream: event.tags[0] ?? "events" } as unknown as RecordedEvent<E> & { readonly stream: string };
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

/**
 * A file's bytes, read into two buffers in turn (no buffer per read for the
 * collector to find): while one chunk is being used, the next is read into the
 * other. Each chunk is valid only until the next is asked for, which is how
 * `readExportBatches` uses them.
 */
async function* chunksOf(file: FileHandle, size = 1 << 20): AsyncGenerator<Buffer> {
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
  const read = (k: number) => {
    const reading = file.read(buffers[k]!, 0, size, null);
    reading.catch(() => undefined); // awaited below; not unhandled should the reader stop first
    return reading;
  };
  let k = 0;
  let next = read(k);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      const chunk = buffers[k]!.subarray(0, bytesRead);
      k ^= 1;
      next = read(k);
      yield chunk;
    }
  } finally {
    // A read still under way is let finish before the file may be closed.
    await next.catch(() => undefined);
  }
}

/** Groups a store's events into batches (the command line folds a batch per await). */
async function* inBatches<E>(events: AsyncIterable<E>, size: number): AsyncGenerator<ReadonlyArray<E>> {
  let batch: E[] = [];
  for await (const event of events) if (batch.push(event) >= size) {
    yield batch;
    batch = [];
  }
  if (batch.length > 0) yield batch;
}

const storeSource = (description: string, store: SealingEventStore): OpenedSource => ({
  description,
  batches: () => inBatches(labelled(store.readAll({ batchSize: 5000 })), 5000),
  storedBatches: () => inBatches(labelled(store.log.readAll({ batchSize: 5000 })), 5000),
  close: () => store.close(),
});

/**
 * Opens a source to read. `options.keys`: for an export, the key store that
 * sealed it (else its personal fields read `[sealed]`); for a store, a key
 * store to use instead of its own (one the host keeps apart from the events).
 * The caller closes `options.keys`.
 */
export const openSource = async (spec: SourceSpec, stdin: Readable, options: ReadExportOptions = {}): Promise<OpenedSource> => {
  switch (spec.kind) {
    case "stdin":
      return {
        description: "standard input",
        batches: () => readExportBatches(stdin, options),
        storedBatches: () => readStoredExportBatches(stdin, options),
        close: async () => {},
      };
    case "file": {
      // Opened first so that a missing file is reported before anything is read.
      const file = await open(spec.path, "r");
      return {
        description: spec.path,
        batches: () => readExportBatches(chunksOf(file), options),
        storedBatches: () => readStoredExportBatches(chunksOf(file), options),
        close: () => file.close(),
      };
    }
    case "sqlite":
    case "postgres":
      return storeSource(spec.kind === "sqlite" ? `sqlite:${spec.path}` : "PostgreSQL", await openStore(spec, { readOnly: true, keys: options.keys ?? undefined }));
  }
};

/**
 * Opens a store: read-only (an audit never changes the store it reads; a
 * missing SQLite file is refused, not created), or to write (`seal`'s target).
 * `keys`: a key store to use instead of the store's own.
 */
export const openStore = async (
  spec: Extract<SourceSpec, { kind: "sqlite" | "postgres" }>,
  options: { readonly readOnly: boolean; readonly keys?: KeyStore | undefined },
): Promise<SealingEventStore> => {
  const personalData = options.keys === undefined ? {} : { personalData: { keys: options.keys } };
  if (spec.kind === "sqlite") {
    // Opening a missing path would create an empty store: refuse instead.
    if (options.readOnly && !existsSync(spec.path)) throw new Error(`No SQLite store at ${spec.path}`);
    const { createSqliteEventStore } = await loadStoreEntry(() => import("@linked-accounts/adapters/sqlite"), "better-sqlite3", "a SQLite store");
    return createSqliteEventStore({ path: spec.path, readOnly: options.readOnly, ...personalData });
  }
  const { createPostgresEventStore } = await loadStoreEntry(() => import("@linked-accounts/adapters/postgres"), "pg", "a PostgreSQL store");
  return createPostgresEventStore({
    connectionString: spec.connectionString,
    readOnly: options.readOnly,
    ...(spec.schema === undefined ? {} : { schema: spec.schema }),
    ...personalData,
  });
};

/** A key store that only finds keys: what an audit reads sealed events with. */
const findingOnly = (keys: KeyStore, where: string): KeyStore => ({
  find: (subjects) => keys.find(subjects),
  create: async () => {
    throw new Error(`the key store ${where} was opened to read only`);
  },
  forget: async () => {
    throw new Error(`the key store ${where} was opened to read only`);
  },
  close: () => keys.close(),
});

/**
 * The key store of a store (`--keys`), opened to read only: `sqlite:PATH` (the
 * store's file, or a file of keys alone), or `postgres://…` (the store's
 * schema, `?schema=NAME` as for a source).
 */
export const openKeyStore = async (spec: Extract<SourceSpec, { kind: "sqlite" | "postgres" }>): Promise<KeyStore> => {
  if (spec.kind === "sqlite") {
    if (!existsSync(spec.path)) throw new Error(`No SQLite key store at ${spec.path}`);
    const { createSqliteKeyStore } = await loadStoreEntry(() => import("@linked-accounts/adapters/sqlite"), "better-sqlite3", "a SQLite key store");
    return findingOnly(createSqliteKeyStore({ path: spec.path, readOnly: true }), `sqlite:${spec.path}`);
  }
  // Through the event store, opened read-only: it checks that the schema holds a store before any key is asked for.
  const store = await openStore(spec, { readOnly: true });
  return findingOnly({ find: (s) => store.keys.find(s), create: (k) => store.keys.create(k), forget: (s) => store.keys.forget(s), close: () => store.close() }, "PostgreSQL");
};
