// Experiment (sealed reads in workers; see README.md here): pages of a sealed SQLite store read and
// opened by worker threads on connections of their own; the calling thread parses each page's one
// text, decodes every event with the store's own decoding and yields. Compared, alternately in one
// process, with the log's read (`store.log.readAll()`) and today's opened read (`store.readAll()`).
// Not part of `pnpm bench`, not library code. Run after `npx tsc -b`, on a copy of a store:
//   node bench/src/experiments/sealed-read-in-workers/read-in-workers.mjs COPY.sqlite [rounds] [modes]
// modes (comma-separated; default log,opened,w2:1000:4): log, opened, w1:SIZE:DEPTH / w2:SIZE:DEPTH
// (one or two page workers, pages of SIZE positions, DEPTH pages in flight per worker), decipher
// (every sealed part of the store deciphered on the calling thread, nothing else: the floor), w1 and
// w2 (pages of 1,000, 2 in flight per worker), w2noval (w2 with nothing decoded: not a valid read).
// CHECK=1: instead, checks that the prototype reads every event exactly as `store.readAll()` does
// (and stops at a bad event with the same error). ALL=1: prints every round.
import { Worker } from "node:worker_threads";
import { createDecipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { StoredEventDecodeError } from "@linked-accounts/adapters";
import { canonicalBarcode, decodeStoredEnvelope, isSealed, ERASED } from "@linked-accounts/domain/internal";
import { eventsOfPages } from "../../../../packages/adapters/dist/keyset-pages.js";
import { areTags } from "../../../../packages/adapters/dist/mapper.js";

const path = process.argv[2];
const rounds = Number(process.argv[3] ?? 5);
const modes = (process.argv[4] ?? "log,opened,w2:1000:4").split(",");
const keyCacheMs = 3_600_000;
const store = await createSqliteEventStore({ path, personalData: { keyCacheMs, openInWorker: true } });

const threadCpu = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);

const REASONS = {
  1: "too short to hold a sealed value",
  2: "does not open under its subjects' keys (altered, or sealed for another event)",
  3: "no key for its subject in the key store (is this the key store that sealed these events?)",
  4: "opened to something other than an object",
  5: "not sealed as this reader expects",
};
const HASHED = "barcode-hmac:";

/** The calling thread's keys, as the store's cache would answer them (here: the key store, cached). */
const mainCache = new Map();
const answerKeys = async (subjects) => {
  const missing = subjects.filter((s) => !mainCache.has(s));
  if (missing.length > 0) {
    const found = await store.keys.find(missing);
    for (const s of missing) if (found.has(s)) mainCache.set(s, found.get(s));
  }
  const out = [];
  for (const s of subjects) if (mainCache.has(s)) out.push([s, mainCache.get(s)]);
  return out;
};

const makeWorkers = (n) =>
  Array.from({ length: n }, () => {
    const w = new Worker(new URL("./page-worker.mjs", import.meta.url), { workerData: { path, keyCacheMs } });
    const waiting = new Map();
    let cpuWaiter;
    w.on("message", (m) => {
      if (m.keysFor !== undefined) {
        answerKeys(m.keysFor).then((found) => w.postMessage({ keysAnswer: found, id: m.id }));
        return;
      }
      if (m.cpu !== undefined) return cpuWaiter(m.cpu);
      const job = waiting.get(m.page);
      waiting.delete(m.page);
      job(m);
    });
    return {
      page: (message) => new Promise((resolve) => { waiting.set(message.page, resolve); w.postMessage(message); }),
      cpu: () => new Promise((resolve) => { cpuWaiter = resolve; w.postMessage({ cpu: true }); }),
      terminate: () => w.terminate(),
    };
  });

/** One page's text, decoded as the store decodes what it reads; the events before a failing one, then its error. */
const decodePage = (text, validate) => {
  const rows = JSON.parse(text);
  const out = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [p, type, data, metadata, tags, failure] = rows[i];
    const position = BigInt(p);
    if (!validate) {
      out[i] = { type, data, metadata, tags, position };
      continue;
    }
    if (failure !== undefined) return { events: out.slice(0, i), error: new StoredEventDecodeError(position, type, `data.sealed: ${REASONS[failure]}`) };
    const decoded = decodeStoredEnvelope({ type, data, metadata });
    if (E.isLeft(decoded)) return { events: out.slice(0, i), error: new StoredEventDecodeError(position, type, decoded.left.message) };
    if (isSealed(decoded.right)) return { events: out.slice(0, i), error: new StoredEventDecodeError(position, type, `data.sealed: ${REASONS[5]}`) };
    if (!areTags(tags)) return { events: out.slice(0, i), error: new StoredEventDecodeError(position, type, "tags: expected an array of tags") };
    const e = decoded.right;
    let shown = tags;
    if (tags.some((t) => t.startsWith(HASHED))) {
      shown = tags.filter((t) => !t.startsWith(HASHED));
      if (e.type === "AccountRegistered" && e.data.barcode !== ERASED) shown.push("barcode:" + canonicalBarcode(e.data.barcode));
    }
    out[i] = { type: e.type, data: e.data, metadata: e.metadata, tags: shown, position };
  }
  return { events: out };
};

async function* protoPages(workers, { size = 1000, depth = 2, validate = true } = {}) {
  const from = 1;
  const head = Number(await store.log.head());
  const pages = Math.ceil((head - from + 1) / size);
  const asked = [];
  const ask = (k) => { asked[k] = workers[k % workers.length].page({ page: k, from: from + k * size, to: from + (k + 1) * size }); };
  let next = 0;
  for (let k = 0; k < pages; k++) {
    while (next < pages && next < k + depth * workers.length) ask(next++);
    const answer = await asked[k];
    asked[k] = undefined;
    if (answer.error !== undefined) throw new Error(answer.error);
    const { events, error } = decodePage(answer.text, validate);
    if (events.length > 0) yield events;
    if (error !== undefined) throw error;
  }
  // The tail: events appended since the head was read, in keyset pages until a short one.
  let at = from + pages * size;
  for (;;) {
    const answer = await workers[0].page({ page: -1, from: at, size });
    const { events, error } = decodePage(answer.text, validate);
    if (events.length > 0) yield events;
    if (error !== undefined) throw error;
    if (answer.count < size) break;
    at = answer.last + 1;
  }
}

/** The floor: every sealed part of the store deciphered on this thread (base64 decoded, opened, as text), nothing else. */
const sealedParts = [];
if (modes.includes("decipher")) {
  const found = new Map();
  for await (const e of store.log.readAll({ batchSize: 1000 })) {
    if (!isSealed(e)) continue;
    const { subjects, iv, ct } = e.data.sealed;
    const one = subjects.includes(" ") && /^account:\S+ (loan|hold):\S+$/.test(subjects) ? subjects.replace(" ", "/") : subjects;
    if (one.includes(" ")) continue; // a part of several accounts: its key is derived; left out of the floor
    sealedParts.push({ one, iv, ct, aad: `${e.type}\n${e.metadata.eventId}` });
    found.set(one, null);
  }
  const keys = await store.keys.find([...found.keys()]);
  for (const p of sealedParts) p.key = keys.get(p.one);
}
const decipherAll = function* () {
  for (const p of sealedParts) {
    if (p.key === null || p.key === undefined) continue;
    const bytes = Buffer.from(p.ct, "base64url");
    const d = createDecipheriv("aes-256-gcm", p.key, Buffer.from(p.iv, "base64url"));
    d.setAAD(Buffer.from(p.aad, "utf8"));
    d.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = d.update(bytes.subarray(0, bytes.length - 16)).toString("utf8");
    d.final();
    yield plain;
  }
  // Counted per event of the store, as the reads are.
  for (let i = sealedParts.length; i < 100000; i++) yield undefined;
};
const w1 = makeWorkers(1);
const w2 = makeWorkers(2);
const sources = {
  log: () => store.log.readAll({ batchSize: 1000 }),
  opened: () => store.readAll({ batchSize: 1000 }),
  w1: () => eventsOfPages(protoPages(w1)),
  w2: () => eventsOfPages(protoPages(w2)),
  // Not a valid read (nothing decoded): what the calling thread's decoding costs, by difference with w2.
  w2noval: () => eventsOfPages(protoPages(w2, { validate: false })),
  decipher: () => eventsOfPages((async function* () { yield [...decipherAll()]; })()),
};
const workersOf = { w1, w2, w2noval: w2 };

/** Busy CPU time of the whole machine so far, in ms (all cores; /proc/stat counts in 1/100 s). */
const machineBusy = () => {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) * 10;
};
// "w2:500:4": two workers, pages of 500, 4 pages in flight per worker.
for (const mode of modes) {
  const m = /^w([12]):(\d+):(\d+)$/.exec(mode);
  if (m === null) continue;
  const ws = m[1] === "1" ? w1 : w2;
  sources[mode] = () => eventsOfPages(protoPages(ws, { size: Number(m[2]), depth: Number(m[3]) }));
  workersOf[mode] = ws;
}
const measure = async (mode) => {
  const ws = workersOf[mode] ?? [];
  for (const w of ws) await w.cpu(); // reset
  const m0 = machineBusy();
  const p0 = process.cpuUsage();
  const c0 = threadCpu();
  const t0 = performance.now();
  let n = 0;
  for await (const _ of sources[mode]()) n++;
  const wall = performance.now() - t0;
  const main = (threadCpu() - c0) / 1e6;
  const proc = process.cpuUsage(p0);
  const others = (machineBusy() - m0 - (proc.user + proc.system) / 1000) / wall; // cores busy with other work
  let workerMs = 0;
  for (const w of ws) workerMs += (await w.cpu()) / 1e6;
  return { n, wall: (wall / n) * 1000, main: (main / n) * 1000, proc: ((proc.user + proc.system) / 1000 / n) * 1000, worker: (workerMs / n) * 1000, others };
};

if (process.env.CHECK) {
  // Every event as today's opened read gives it, in the same order.
  const show = (e) => JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
  for (const mode of ["w1", "w2"]) {
    const all = async (it) => { const out = []; try { for await (const e of it) out.push(e); } catch (error) { return { out, error: String(error) }; } return { out }; };
    const today = await all(store.readAll({ batchSize: 1000 }));
    const proto = await all(sources[mode]());
    let diff = 0;
    for (let i = 0; i < Math.max(today.out.length, proto.out.length); i++)
      if (show(today.out[i]) !== show(proto.out[i]) && diff++ < 3) console.log("differs at", i, show(today.out[i]).slice(0, 300), "\n   ", show(proto.out[i]).slice(0, 300));
    console.log(mode, "today", today.out.length, "events, then", today.error ?? "the end", "| prototype", proto.out.length, "events, then", proto.error ?? "the end", "|", diff, "differ");
  }
  process.exit(0);
}
// Warm-up: every key cache filled, every code path compiled.
for (const mode of modes) await measure(mode);
const results = Object.fromEntries(modes.map((m) => [m, []]));
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? modes : [...modes].reverse();
  for (const mode of order) results[mode].push(await measure(mode));
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const med = (mode, field) => median(results[mode].map((r) => r[field]));
const n = results[modes[0]][0].n;
console.log(`${n} events, ${rounds} rounds, us per event (median); ratio to log's; others: cores busy with other processes during the read`);
if (process.env.ALL) for (const mode of modes) console.log(mode, results[mode].map((r) => `${r.wall.toFixed(1)}/${r.others.toFixed(2)}`).join(" "));
for (const mode of modes) {
  const row = ["wall", "main", "proc", "worker", "others"].map((f) => `${f} ${med(mode, f).toFixed(2)}` + (modes.includes("log") && f !== "worker" && f !== "others" ? ` (${((med(mode, f) / med("log", f) - 1) * 100).toFixed(0)}%)` : ""));
  console.log(mode.padEnd(8), row.join("  "), " counts", [...new Set(results[mode].map((r) => r.n))].join("/"));
}
// The rounds in which no mode met other work (others < 0.15 of a core throughout): the quiet machine's figures.
const quiet = [...Array(rounds).keys()].filter((r) => modes.every((m) => results[m][r].others < 0.15));
if (quiet.length > 0) {
  console.log(`quiet rounds (${quiet.length} of ${rounds}): medians`);
  for (const mode of modes) {
    const q = (f) => median(quiet.map((r) => results[mode][r][f]));
    const ql = (f) => median(quiet.map((r) => results.log[r][f]));
    console.log(mode.padEnd(8), ["wall", "main", "proc"].map((f) => `${f} ${q(f).toFixed(2)}` + (modes.includes("log") ? ` (${((q(f) / ql(f) - 1) * 100).toFixed(0)}%)` : "")).join("  "),
      modes.includes("log") ? `  per quiet round, wall against the log's read of the same round: ${quiet.map((r) => `${((results[mode][r].wall / results.log[r].wall - 1) * 100).toFixed(0)}%`).join(" ")}` : "");
  }
}
for (const w of [...w1, ...w2]) await w.terminate();
await store.close();
