/**
 * The SHA-256 an export's trailer is checked against (ndjson.ts), worked out
 * beside the read rather than in it. Hashing a large export costs about a fifth
 * of reading it lean, and a second core is usually idle: so once an input has
 * proved large (`OFF_THREAD_FROM` bytes), its bytes are copied into a few
 * reused buffers and hashed by a worker thread while the calling thread goes on
 * reading. A small input (every test, most files) is hashed right here, as
 * before, with no thread started.
 *
 * The worker hashes exactly the bytes it is handed, copies of what the reader
 * read (never the file again, which could have changed in between). It keeps
 * nothing but the running hash. Should it fail, the digest is refused, never
 * guessed: the read then ends with an error, not with an unchecked answer.
 */
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** A SHA-256 over bytes given a piece at a time. */
export interface RunningDigest {
  /** Adds `bytes` (copied or hashed before this returns: the caller may reuse them). */
  update(bytes: Uint8Array): void;
  /** Resolves once few enough bytes wait to be hashed (undefined: none wait); a reader awaits it between chunks. */
  ready(): Promise<void> | undefined;
  /** The hex SHA-256 of every byte given. Nothing may be added after. */
  digest(): Promise<string>;
  /** Stops the worker, if one was started (the read is over, or was given up). */
  close(): void;
}

/** From this many bytes, hashing moves to a worker (below it, starting a thread costs more than it saves). */
export const OFF_THREAD_FROM = 16 * 2 ** 20;
/** The worker's buffers: this many pieces of this size, shared, each the reader's to fill again once hashed. */
const PIECE = 1 << 20;
const PIECES = 8;

// A script (dynamic imports: it runs as a script or as a module, as the process's flags make it). Each
// message is a piece of the shared buffers and the length of it to hash, answered once hashed; or "digest".
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import("node:worker_threads");
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  parentPort.on("message", (message) => {
    if (message === "digest") return parentPort.postMessage({ digest: hash.digest("hex") });
    hash.update(new Uint8Array(workerData, message.piece * ${PIECE}, message.length));
    parentPort.postMessage({ piece: message.piece });
  });
})();
`;

export interface DigestOptions {
  /** Hash off the calling thread from this many bytes (default `OFF_THREAD_FROM`; Infinity: never). */
  readonly offThreadFrom?: number;
}

/**
 * A running SHA-256: on this thread, or, once `offThreadFrom` bytes have come
 * and the machine has more than one core, on a worker thread.
 */
export const runningDigest = (options: DigestOptions = {}): RunningDigest => {
  const from = availableParallelism() > 1 ? (options.offThreadFrom ?? OFF_THREAD_FROM) : Infinity;
  /** Hashing here (a small input, or no thread to be had). */
  let here: ReturnType<typeof createHash> | undefined;
  /** Until the input proves large: copies of what came, to hash here or hand over. */
  let early: Buffer[] | undefined = [];
  let earlyBytes = 0;
  let worker: Worker | undefined;
  let failure: Error | undefined;
  let shared: SharedArrayBuffer | undefined;
  /** The pieces free to fill; the one being filled (-1: none), and how much of it is. */
  const free: number[] = [];
  let piece = -1;
  let filled = 0;
  /** Bytes that found no free piece, in order (the first from `waitingFrom`): staged as pieces come back. */
  const waiting: Buffer[] = [];
  let waitingFrom = 0;
  let roomWaiter: (() => void) | undefined;
  let digestWaiter: { resolve: (hex: string) => void; reject: (error: Error) => void } | undefined;
  let inFlight = 0;
  let done = false;

  const fail = (error: Error): void => {
    failure ??= new Error(`the export's SHA-256 could not be worked out: its thread failed (${error.message})`);
    worker = undefined;
    waiting.length = 0;
    digestWaiter?.reject(failure);
    digestWaiter = undefined;
    wake();
  };

  const wake = (): void => {
    const resolve = roomWaiter;
    roomWaiter = undefined;
    resolve?.();
  };

  /** Hands the piece being filled to the worker. */
  const send = (): void => {
    if (piece < 0 || filled === 0 || worker === undefined) return;
    inFlight++;
    worker.ref();
    worker.postMessage({ piece, length: filled });
    piece = -1;
    filled = 0;
  };

  /** Copies as much of `bytes` (from `at`) as free pieces hold, handing each over once full; returns how much. */
  const fill = (bytes: Uint8Array, at: number): number => {
    const start = at;
    while (at < bytes.length) {
      if (piece < 0) {
        if (free.length === 0) break;
        piece = free.pop()!;
      }
      const n = Math.min(bytes.length - at, PIECE - filled);
      new Uint8Array(shared!, piece * PIECE + filled, n).set(bytes.subarray(at, at + n));
      filled += n;
      at += n;
      if (filled === PIECE) send();
    }
    return at - start;
  };

  /** Stages `bytes` after whatever is waiting; what finds no piece waits (copied). */
  const stage = (bytes: Uint8Array): void => {
    const n = waiting.length === 0 ? fill(bytes, 0) : 0;
    if (n < bytes.length) waiting.push(Buffer.from(bytes.subarray(n)));
  };

  /** A piece came back: what waits is staged; once nothing waits, a digest asked for is asked of the worker. */
  const drain = (): void => {
    while (waiting.length > 0) {
      const first = waiting[0]!;
      waitingFrom += fill(first, waitingFrom);
      if (waitingFrom < first.length) return;
      waiting.shift();
      waitingFrom = 0;
    }
    if (digestWaiter !== undefined) askDigest();
    else if (free.length > 0 || piece >= 0) wake();
  };

  let digestAsked = false;
  const askDigest = (): void => {
    if (digestAsked) return;
    digestAsked = true;
    send();
    worker!.ref();
    worker!.postMessage("digest");
  };

  const start = (): void => {
    try {
      shared = new SharedArrayBuffer(PIECE * PIECES);
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: shared });
      w.on("message", (message: { piece?: number; digest?: string }) => {
        if (message.digest !== undefined) {
          digestWaiter?.resolve(message.digest);
          digestWaiter = undefined;
          return;
        }
        free.push(message.piece!);
        if (--inFlight === 0 && digestWaiter === undefined) w.unref();
        drain();
      });
      w.on("error", fail);
      w.on("exit", (code) => {
        if (worker === w && !done) fail(new Error(`it stopped with code ${code}`));
      });
      worker = w;
      for (let k = 0; k < PIECES; k++) free.push(k);
    } catch {
      // No thread to be had: hashed here, as a small input is.
      here = createHash("sha256");
    }
    for (const bytes of early!) here === undefined ? stage(bytes) : here.update(bytes);
    early = undefined;
  };

  return {
    update(bytes) {
      if (done) throw new Error("runningDigest: update after digest");
      if (here !== undefined) here.update(bytes);
      else if (early !== undefined) {
        early.push(Buffer.from(bytes));
        earlyBytes += bytes.length;
        if (earlyBytes >= from) start();
      } else if (worker !== undefined) stage(bytes);
    },
    ready() {
      if (worker === undefined || (waiting.length === 0 && (free.length > 0 || piece >= 0))) return undefined;
      return new Promise<void>((resolve) => (roomWaiter = resolve));
    },
    digest() {
      if (done) return Promise.reject(new Error("runningDigest: digest asked twice"));
      if (early !== undefined) {
        here = createHash("sha256");
        for (const bytes of early) here.update(bytes);
        early = undefined;
      }
      if (here !== undefined) {
        done = true;
        return Promise.resolve(here.digest("hex"));
      }
      const w = worker;
      if (failure !== undefined || w === undefined) return Promise.reject(failure ?? new Error("runningDigest: closed"));
      return new Promise<string>((resolve, reject) => {
        digestWaiter = { resolve, reject };
        if (waiting.length === 0) askDigest();
        w.ref();
      }).finally(() => {
        done = true;
        worker = undefined;
        void w.terminate();
      });
    },
    close() {
      done = true;
      early = undefined;
      const w = worker;
      worker = undefined;
      if (w !== undefined) void w.terminate();
    },
  };
};
