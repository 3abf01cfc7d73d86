// Experiment (sealed reads in workers; see README.md here): does a second thread run at full speed
// beside the first on this machine? The same work timed on one thread alone, then on two at once.
import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
const cpu = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
const work = () => {
  const text = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: `x${i}`, at: "2026-01-05T08:00:00.400Z", n: i, ok: true })));
  const key = randomBytes(32), iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([c.update('{"itemId":"item1","title":"A title of some length"}'), c.final()]), tag = c.getAuthTag();
  const c0 = cpu(), t0 = performance.now();
  for (let i = 0; i < 400; i++) JSON.parse(text);
  for (let i = 0; i < 40000; i++) { const d = createDecipheriv("aes-256-gcm", key, iv); d.setAuthTag(tag); d.update(ct); d.final(); }
  return { cpu: (cpu() - c0) / 1e6, wall: performance.now() - t0 };
};
if (!isMainThread) parentPort.postMessage(work());
else {
  const inWorker = () => new Promise((resolve) => new Worker(new URL(import.meta.url)).once("message", resolve));
  await inWorker(); // warm
  const alone = await inWorker();
  const both = await Promise.all([inWorker(), inWorker()]);
  const fmt = (r) => `cpu ${r.cpu.toFixed(0)} ms, wall ${r.wall.toFixed(0)} ms`;
  console.log("one thread alone:", fmt(alone), "| two at once:", both.map(fmt).join("; "));
}
