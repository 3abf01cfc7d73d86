/**
 * How fast this machine is at the two things every figure here leans on: plain
 * arithmetic, and allocating short-lived objects and hash maps (which is where a
 * pure fold spends its time). Quoted beside the figures so they can be read
 * against the machine that produced them: on a shared, memory-starved virtual
 * machine the second can be ten times slower than on a laptop while the first is
 * barely slower.
 */
import { performance } from "node:perf_hooks";
import { median } from "./stats.js";

const time = (f: () => void): number => {
  const started = performance.now();
  f();
  return performance.now() - started;
};

export async function benchCalibration(): Promise<Record<string, unknown>> {
  const adds: number[] = [];
  const allocs: number[] = [];
  const mapSets: number[] = [];
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    adds.push(
      time(() => {
        for (let i = 0; i < 1e8; i++) sink += i & 7;
      }),
    );
    allocs.push(
      time(() => {
        const kept: Array<{ a: number; b: string }> = [];
        for (let i = 0; i < 1e6; i++) kept.push({ a: i, b: "x" });
        sink += kept.length;
      }),
    );
    mapSets.push(
      time(() => {
        const m = new Map<string, number>();
        for (let i = 0; i < 1e6; i++) m.set(`k${i}`, i);
        sink += m.size;
      }),
    );
  }
  const figures = {
    hundredMillionAddsMs: Math.round(median(adds)),
    millionSmallObjectsMs: Math.round(median(allocs)),
    millionMapSetsMs: Math.round(median(mapSets)),
    sink: sink % 7,
  };
  console.log(
    `calibration: 10^8 integer adds ${figures.hundredMillionAddsMs} ms, 10^6 small objects kept ${figures.millionSmallObjectsMs} ms, 10^6 Map.set of new string keys ${figures.millionMapSetsMs} ms (medians of 5)`,
  );
  return figures;
}
