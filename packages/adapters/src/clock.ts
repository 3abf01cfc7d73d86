/** The clock port: the domain never reads time itself (R14); hosts and tests pass their own. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: for tests and replays. */
export const manualClock = (start: Date | string): Clock & { advance(ms: number): void; set(at: Date | string): void } => {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
    set: (at) => {
      current = new Date(at).getTime();
    },
  };
};
