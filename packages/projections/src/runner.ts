/**
 * The runner: catches a projection up from any store's `readAll`, in batches,
 * and stores its checkpoint (state and position together) after each batch. A
 * checkpoint that another runner moved first is never overwritten: this runner
 * drops what it applied and reloads (compare-and-set). It resumes after a restart
 * and can rebuild from zero.
 */
import * as E from "fp-ts/lib/Either.js";
import type { CheckpointStore } from "./checkpoint.js";
import type { PositionedEvent, Projection } from "./projection.js";
import { readSealedLog, sealedLogOf, typesToOpen } from "./sealed-reads.js";

/**
 * All a runner needs from a store. Any `EventStore` of @linked-accounts/adapters
 * is one; so is an export. From a store that seals personal data (a
 * `SealingEventStore`: it has `log` and `keys`), a projection that declares
 * `reads` is fed from the log, opened only where it reads a personal field.
 */
export interface EventSource {
  readAll(options?: { readonly from?: bigint; readonly batchSize?: number }): AsyncIterable<PositionedEvent>;
  /**
   * Optional: the same events as `readAll`, in arrays of at most `batchSize`. A
   * runner prefers it: one await per batch instead of one per event.
   */
  readBatches?(options?: { readonly from?: bigint; readonly batchSize?: number }): AsyncIterable<ReadonlyArray<PositionedEvent>>;
}

export interface RunnerOptions<S> {
  readonly source: EventSource;
  readonly projection: Projection<S>;
  /** Where state and position are kept; none: in memory only, rebuilt at each start. */
  readonly checkpoints?: CheckpointStore;
  /** Events per batch (default 1000). */
  readonly batchSize?: number;
  /** Store a checkpoint every this many batches (default 1); always at the end of a catch-up. */
  readonly checkpointEvery?: number;
}

export interface CatchUpOptions {
  /** Stop after this many batches (the rest is left for the next call). */
  readonly maxBatches?: number;
}

export interface CatchUpResult {
  readonly position: bigint;
  /** Events applied by this call (and kept). */
  readonly applied: number;
  /** Times another runner's checkpoint won and this one reloaded. */
  readonly conflicts: number;
}

/** `waitFor` gave up: the read model did not reach the position in time. */
export class FreshnessTimeoutError extends Error {
  override readonly name = "FreshnessTimeoutError";
  constructor(
    readonly projection: string,
    readonly wanted: bigint,
    readonly applied: bigint,
    readonly timeoutMs: number,
  ) {
    super(`Read model ${projection} has applied position ${applied}, not yet ${wanted}, after waiting ${timeoutMs} ms.`);
  }
}

export class CheckpointDecodeError extends Error {
  override readonly name = "CheckpointDecodeError";
  constructor(projection: string, reason: string) {
    super(`The stored checkpoint of ${projection} does not decode: ${reason}`);
  }
}

/** A freshness token as a command returned it (a decimal string), or a position. */
const positionOf = (token: bigint | string): bigint => {
  if (typeof token === "bigint") return token;
  if (!/^\d{1,19}$/.test(token)) throw new TypeError(`waitFor: expected a freshness token (a command's \`freshness\`), got ${JSON.stringify(token.slice(0, 40))}`);
  return BigInt(token);
};

export interface Runner<S> {
  /** The state as of `position()`. Do not keep it across a catch-up: it is updated in place. */
  state(): S;
  /** The last position applied (0n before any). */
  position(): bigint;
  /** Loads the checkpoint (if any) and applies every event after it. */
  catchUp(options?: CatchUpOptions): Promise<CatchUpResult>;
  /** Forgets the state and the checkpoint and applies everything from the beginning. */
  rebuild(options?: CatchUpOptions): Promise<CatchUpResult>;
  /**
   * Resolves with the applied position once it is at least `position` (catching
   * up if needed); rejects with `FreshnessTimeoutError` after `timeoutMs`.
   */
  waitFor(position: bigint | string, options?: { readonly timeoutMs?: number }): Promise<bigint>;
  /** Catches up every `intervalMs` until `stop()`. */
  start(options?: { readonly intervalMs?: number }): void;
  stop(): Promise<void>;
}

export const createRunner = <S>(options: RunnerOptions<S>): Runner<S> => {
  const { projection, checkpoints } = options;
  const source = options.source;
  const batchSize = options.batchSize ?? 1000;
  const checkpointEvery = options.checkpointEvery ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const evolve = projection.evolve;
  // A read model that says what it reads, over a store that seals personal data: its log, opened only where read (sealed-reads.ts).
  const sealed = projection.reads === undefined ? undefined : sealedLogOf(source);
  const toOpen = projection.reads === undefined ? new Set<string>() : typesToOpen(projection.reads);

  let state = projection.initial();
  let loaded = false;
  /** The position of the stored checkpoint this state descends from (undefined: none). */
  let stored: bigint | undefined;
  let running: Promise<CatchUpResult> | undefined;
  const waiters = new Set<{ position: bigint; resolve: (p: bigint) => void }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = true;

  /**
   * Tells waiters what is applied for good. With checkpoints, that is what is
   * stored: a runner that loses a race reloads the stored state, which is never
   * behind the stored position, so a reader told "P is applied" never later sees
   * a state before P (R13). Without checkpoints, everything applied.
   */
  const settledPosition = (): bigint => (checkpoints === undefined ? projection.positionOf(state) : (stored ?? 0n));
  const notify = () => {
    const p = settledPosition();
    for (const w of waiters)
      if (p >= w.position) {
        waiters.delete(w);
        w.resolve(p);
      }
  };

  const reload = async (): Promise<void> => {
    if (checkpoints === undefined) return;
    const row = await checkpoints.load(projection.name);
    if (row === undefined) {
      state = projection.initial();
      stored = undefined;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(row.state);
    } catch (error) {
      throw new CheckpointDecodeError(projection.name, `not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const decoded = projection.deserialise(json);
    if (E.isLeft(decoded)) throw new CheckpointDecodeError(projection.name, decoded.left.message);
    state = decoded.right;
    stored = row.position;
  };

  /** Stores the state; false when another runner moved the checkpoint first (then reloaded). */
  const save = async (): Promise<boolean> => {
    if (checkpoints === undefined) return true;
    const position = projection.positionOf(state);
    if (position === stored) return true;
    const ok = await checkpoints.save(projection.name, stored, { position, state: JSON.stringify(projection.serialise(state)) });
    if (ok) stored = position;
    else await reload();
    return ok;
  };

  const run = async (opts: CatchUpOptions): Promise<CatchUpResult> => {
    if (!loaded) {
      await reload();
      loaded = true;
    }
    let applied = 0;
    let conflicts = 0;
    let batches = 0;
    let pending = 0;
    const maxBatches = opts.maxBatches ?? Infinity;
    for (;;) {
      let restart = false;
      const from = projection.positionOf(state) + 1n;
      /** Events folded since the last batch ended. */
      let inBatch = 0;
      const endBatch = async (): Promise<boolean> => {
        pending += inBatch;
        inBatch = 0;
        batches++;
        if (batches % checkpointEvery === 0 || batches >= maxBatches) {
          if (await save()) applied += pending;
          else {
            conflicts++;
            restart = true;
          }
          pending = 0;
        }
        notify();
        return !restart && batches < maxBatches;
      };
      let more = true;
      // Events are folded as they come, a batch ending every `batchSize` of them.
      const arrays = sealed !== undefined ? readSealedLog(sealed, toOpen, { from, batchSize }) : source.readBatches?.({ from, batchSize });
      if (arrays !== undefined)
        read: for await (const events of arrays) {
          for (let i = 0; i < events.length; ) {
            const end = Math.min(events.length, i + batchSize - inBatch);
            inBatch += end - i;
            for (; i < end; i++) state = evolve(state, events[i]!);
            if (inBatch >= batchSize && !(more = await endBatch())) break read;
          }
        }
      else
        for await (const event of source.readAll({ from, batchSize })) {
          state = evolve(state, event);
          if (++inBatch >= batchSize && !(more = await endBatch())) break;
        }
      if (more && inBatch > 0) more = await endBatch();
      if (restart) continue; // another runner won: carry on from its checkpoint
      if (pending > 0) {
        if (await save()) applied += pending;
        else {
          conflicts++;
          pending = 0;
          continue;
        }
        pending = 0;
      }
      notify();
      return { position: projection.positionOf(state), applied, conflicts };
    }
  };

  const catchUp = (opts: CatchUpOptions = {}): Promise<CatchUpResult> => {
    // One catch-up at a time per runner: later callers share the one in flight, then go again.
    const previous = running ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => run(opts));
    running = next;
    void next.finally(() => {
      if (running === next) running = undefined;
    }).catch(() => undefined);
    return next;
  };

  return {
    state: () => state,
    position: () => projection.positionOf(state),
    catchUp,
    rebuild: async (opts = {}) => {
      await running?.catch(() => undefined);
      if (!loaded) {
        await reload();
        loaded = true;
      }
      state = projection.initial();
      if (checkpoints !== undefined) {
        const empty = { position: 0n, state: JSON.stringify(projection.serialise(state)) };
        // Reset the shared checkpoint; if another runner moved it meanwhile, reset that one.
        while (!(await checkpoints.save(projection.name, stored, empty))) stored = (await checkpoints.load(projection.name))?.position;
        stored = 0n;
      }
      return catchUp(opts);
    },
    waitFor: (token, { timeoutMs = 5000 } = {}) => {
      const position = positionOf(token);
      const now = settledPosition();
      if (now >= position) return Promise.resolve(now);
      return new Promise<bigint>((resolve, reject) => {
        const waiter = {
          position,
          resolve: (p: bigint) => {
            clearTimeout(timeout);
            resolve(p);
          },
        };
        const timeout = setTimeout(() => {
          waiters.delete(waiter);
          reject(new FreshnessTimeoutError(projection.name, position, projection.positionOf(state), timeoutMs));
        }, timeoutMs);
        waiters.add(waiter);
        // Catch up until the waiter is served or gone (timed out): the event may not be
        // readable yet when the first catch-up starts.
        const poll = (): void => {
          catchUp()
            .then(() => {
              if (waiters.has(waiter)) setTimeout(poll, 10);
            })
            .catch((error: unknown) => {
              if (!waiters.has(waiter)) return;
              waiters.delete(waiter);
              clearTimeout(timeout);
              reject(error);
            });
        };
        poll();
      });
    },
    start: ({ intervalMs = 200 } = {}) => {
      if (!stopped) return;
      stopped = false;
      const tick = () => {
        if (stopped) return;
        catchUp()
          .catch(() => undefined)
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, intervalMs);
          });
      };
      tick();
    },
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
};
