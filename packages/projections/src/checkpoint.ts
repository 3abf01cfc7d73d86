/**
 * The checkpoint port: where a runner keeps a projection's state and the
 * position it has applied, together, so that one never moves without the other.
 */

/** A projection's serialised state (JSON text) and the position it includes. */
export interface Checkpoint {
  readonly position: bigint;
  readonly state: string;
}

export interface CheckpointStore {
  /** The stored checkpoint of `name`, or undefined when none was stored. */
  load(name: string): Promise<Checkpoint | undefined>;
  /**
   * Stores `next` iff the stored position is still `expected` (undefined: none is
   * stored yet), atomically. Returns false, storing nothing, when another runner
   * got there first: the caller must reload rather than apply again.
   */
  save(name: string, expected: bigint | undefined, next: Checkpoint): Promise<boolean>;
  close(): Promise<void>;
}

/** The in-memory twin: one process, one map. */
export const createInMemoryCheckpointStore = (): CheckpointStore => {
  const rows = new Map<string, Checkpoint>();
  return {
    load: async (name) => rows.get(name),
    save: async (name, expected, next) => {
      if (rows.get(name)?.position !== expected) return false;
      rows.set(name, next);
      return true;
    },
    close: async () => {},
  };
};
