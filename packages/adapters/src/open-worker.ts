/**
 * Opening sealed parts off the main thread. Each sealed event is one AES-256-GCM
 * decipher, and Node's cipher objects cost more to set up than a SQLite row
 * costs to read and parse; so a store reading many sealed events at once (a
 * read model rebuilt, an export opened) hands each page's ciphertexts to one
 * worker thread and reads the next page meanwhile. The worker only deciphers:
 * it is given, per page, the ciphertexts, nonces, associated data and the keys
 * they need, answers the plain texts, and keeps nothing between pages (a
 * forgotten key is never held there).
 *
 * `openPart` is the one decipher, used as it is on the main thread and, by its
 * source, in the worker.
 */
import { createDecipheriv } from "node:crypto";
import { Worker } from "node:worker_threads";

/** What a sealed part that does not open answers instead of its plain text. */
export const TOO_SHORT = 0;
export const DOES_NOT_OPEN = 1;
type Deciphered = string | typeof TOO_SHORT | typeof DOES_NOT_OPEN;

/** What a part opened to, parsed; or why it did not open (these three are never a parsed value). */
export const TOO_SHORT_PART: unique symbol = Symbol("too short to hold a sealed value");
export const DOES_NOT_OPEN_PART: unique symbol = Symbol("does not open");
export const NOT_JSON_PART: unique symbol = Symbol("opened to something other than JSON");
export type Opened = unknown;

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON_PART;
  }
};
/** The worker's answer for a part whose plain text is not JSON. */
const NOT_JSON = 2;
const failed = (code: number): symbol => (code === TOO_SHORT ? TOO_SHORT_PART : code === NOT_JSON ? NOT_JSON_PART : DOES_NOT_OPEN_PART);

/**
 * Deciphers one sealed part: `ct` is the ciphertext and its 16-byte tag, `iv`
 * the nonce (both base64url), `aad` the associated data. Self-contained (it
 * names nothing outside itself but `decipher`), so the worker can run its source.
 */
export function openPart(decipher: typeof createDecipheriv, key: Uint8Array, iv: string, ct: string, aad: string): Deciphered {
  const bytes = Buffer.from(ct, "base64url");
  if (bytes.length < 17) return 0;
  try {
    const d = decipher("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    d.setAAD(Buffer.from(aad, "utf8"));
    d.setAuthTag(bytes.subarray(bytes.length - 16));
    // GCM hands every byte over on update; final only checks the tag.
    const plain = d.update(bytes.subarray(0, bytes.length - 16));
    d.final();
    return plain.toString("utf8");
  } catch {
    return 1;
  }
}

/** One page's work: for part i, `ivs[i]`, `cts[i]`, `aads[i]` and its key `keys[i]`. */
export interface OpenRequest {
  readonly keys: ReadonlyArray<Uint8Array>;
  readonly ivs: ReadonlyArray<string>;
  readonly cts: ReadonlyArray<string>;
  readonly aads: ReadonlyArray<string>;
}

/**
 * What crosses to the worker and back, as few strings as can be: structured
 * cloning copies one long string faster than a thousand short ones. Nonces and
 * ciphertexts are base64url (checked as such when the log decoded the event),
 * associated data an event type and a UUID: none holds a space or U+0001, which
 * join them. The answer is the plain texts joined by commas, each one's length
 * (or a failure code, negative) in an Int32Array handed over, not copied. The
 * worker hands back only plain texts that parse as JSON, each one whole value,
 * so joined by commas they parse as one array of exactly those values: the
 * calling thread parses a page in one go (and, should the count differ, part by
 * part).
 */
interface Packed {
  /** The keys, 32 bytes each, end to end in one buffer handed over (cloning a key that is a view of a larger buffer, as Node's pooled Buffers are, would copy all of it). */
  readonly keys: Uint8Array;
  readonly ivs: string;
  readonly cts: string;
  readonly aads: string;
}
interface Answer {
  readonly text: string;
  readonly lengths: Int32Array;
}

// Dynamic imports: the worker runs as a script or as a module, as the process's flags make it.
const WORKER_SOURCE = `
(async () => {
  const { parentPort } = await import("node:worker_threads");
  const { createDecipheriv } = await import("node:crypto");
  const openPart = ${openPart.toString()};
  parentPort.on("message", ({ id, keys, ivs, cts, aads }) => {
    const iv = ivs.split(" "), ct = cts.split(" "), aad = aads.split("\\u0001");
    const key = [];
    for (let k = 0; k < keys.length; k += 32) key.push(keys.subarray(k, k + 32));
    const lengths = new Int32Array(iv.length);
    const texts = [];
    for (let i = 0; i < iv.length; i++) {
      let opened = openPart(createDecipheriv, key[i], iv[i], ct[i], aad[i]);
      if (typeof opened === "string") {
        try {
          JSON.parse(opened);
        } catch {
          opened = 2;
        }
      }
      if (typeof opened === "string") {
        lengths[i] = opened.length;
        texts.push(opened);
      } else lengths[i] = -1 - opened;
    }
    parentPort.postMessage({ id, text: texts.join(","), lengths }, [lengths.buffer]);
  });
})();
`;

/** A page's work as it crosses, and the buffers handed over (not copied) with it. */
const pack = (request: OpenRequest): { readonly packed: Packed; readonly handed: ArrayBuffer[] } => {
  const keyBytes = new ArrayBuffer(request.keys.length * 32);
  const keys = new Uint8Array(keyBytes);
  request.keys.forEach((key, k) => keys.set(key, k * 32));
  const packed = {
    keys,
    ivs: request.ivs.join(" "),
    cts: request.cts.join(" "),
    aads: request.aads.join("\u0001"),
  };
  return { packed, handed: [keyBytes] };
};

const unpack = ({ text, lengths }: Answer): Opened[] => {
  const out: Opened[] = new Array(lengths.length);
  let texts = 0;
  for (let i = 0; i < lengths.length; i++) if (lengths[i]! >= 0) texts++;
  let all: unknown;
  try {
    all = JSON.parse(`[${text}]`) as unknown;
  } catch {
    all = undefined;
  }
  const whole = Array.isArray(all) && all.length === texts ? all : undefined;
  let at = 0;
  let n = 0;
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i]!;
    if (length < 0) out[i] = failed(-1 - length);
    else {
      out[i] = whole !== undefined ? whole[n] : parsed(text.slice(at, at + length));
      n++;
      at += length + 1;
    }
  }
  return out;
};

/** The parts of a page opened on the main thread: what the worker does, without one. */
export const openHere = (request: OpenRequest): Opened[] =>
  request.ivs.map((iv, i) => {
    const opened = openPart(createDecipheriv, request.keys[i]!, iv, request.cts[i]!, request.aads[i]!);
    return typeof opened === "string" ? parsed(opened) : failed(opened);
  });

export interface OpenWorker {
  open(request: OpenRequest): Promise<Opened[]>;
  close(): Promise<void>;
}

/**
 * A worker thread, started on first use (stores share one: `sharedOpenWorker`). It keeps the process alive only
 * while a page is being opened. Should it fail (it cannot start, or dies), the
 * pages it held and every later one are opened on the calling thread instead:
 * nothing is skipped, and a read never waits for a worker that is gone.
 */
export const createOpenWorker = (): OpenWorker => {
  let worker: Worker | undefined;
  let broken = false;
  let next = 0;
  const waiting = new Map<number, { readonly request: OpenRequest; readonly resolve: (out: Opened[]) => void }>();

  /** The worker is gone: what it held is opened here, and so is everything after. */
  const fail = (): void => {
    broken = true;
    worker = undefined;
    for (const { request, resolve } of waiting.values()) resolve(openHere(request));
    waiting.clear();
  };

  const started = (): Worker => {
    if (worker !== undefined) return worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on("message", ({ id, ...answer }: Answer & { id: number }) => {
      const job = waiting.get(id);
      waiting.delete(id);
      if (waiting.size === 0) w.unref();
      job?.resolve(unpack(answer));
    });
    w.on("error", fail);
    w.on("exit", () => {
      if (worker === w) fail();
    });
    worker = w;
    return w;
  };

  return {
    open(request) {
      if (broken) return Promise.resolve(openHere(request));
      let w: Worker;
      try {
        w = started();
      } catch {
        broken = true;
        return Promise.resolve(openHere(request));
      }
      const id = next++;
      return new Promise<Opened[]>((resolve) => {
        waiting.set(id, { request, resolve });
        w.ref();
        const { packed, handed } = pack(request);
        w.postMessage({ id, ...packed }, handed);
      });
    },
    async close() {
      const w = worker;
      // Pages still being opened are opened here; nothing later goes to a worker.
      fail();
      if (w !== undefined) await w.terminate();
    },
  };
};

let shared: OpenWorker | undefined;
/**
 * The process's one worker, shared by every store (a worker holds nothing
 * between pages, so stores need no worker of their own): a test suite opening
 * a thousand stores starts one thread, not a thousand. Never closed; it keeps
 * the process alive only while it works.
 */
export const sharedOpenWorker = (): OpenWorker => (shared ??= createOpenWorker());

