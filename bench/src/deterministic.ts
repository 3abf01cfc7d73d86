/** Deterministic data for the benchmarks: the same seed, the same history, run after run. */

/** A small seeded generator of numbers in [0, 1) (mulberry32). */
export const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, "0").slice(-digits);

/** A UUID v7 from a time and a counter, with no randomness. */
export const uuidV7 = (ms: number, counter: number) => {
  const t = hex(ms, 12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(Math.floor(counter / 2 ** 32), 3)}-8000-${hex(counter, 12)}`;
};
