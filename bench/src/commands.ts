/**
 * Commands end to end, through `createLinkedAccounts` (decode, read the
 * boundary, decide, conditional append, retry), in three parts. Phrase hashing
 * is measured apart: every timed command uses a phrase port without scrypt
 * (one SHA-256), and the cost of one scrypt derivation at the default (OWASP)
 * parameters is reported on its own, since a connect derives two.
 *
 * 1. Levels: connects per second with 1, 8 and 32 distinct pairs in flight in
 *    one host, then the issuers renewing their new connectors' loans (a
 *    manager's renewal: it reads the pair's links) at the same levels. Each
 *    level reports the median rate of its runs, the ratio to one at a time,
 *    the refusals (every command should be accepted) and the conflicts (appends
 *    refused on their condition and decided again, counted at the store).
 * 2. First command of a fresh host process over a store already holding a large
 *    linking history (BENCH_HISTORY_EVENTS, default 1,000,000, appended as
 *    pre-built tagged events): a spawned node process opens the store, creates
 *    the library and runs one connect (or one renew) for a pair it has never
 *    seen; timed from the library's creation to the answer, then a second one
 *    in the same process. On SQLite also over a store without history (what
 *    any cold process costs); on PostgreSQL right after seeding and again after
 *    VACUUM ANALYZE (the state autovacuum leaves a table in).
 * 3. Host heap after many commands in one process (BENCH_HEAP_COMMANDS, default
 *    100,000: phrases issued, connects, some failing, managers' renewals, each
 *    on its own pair) over a SQLite file, so the events live on disk and
 *    whatever the heap keeps is the host's own.
 *
 * Sizes: BENCH_COMMANDS_PAIRS (commands per level and run, default 256),
 * BENCH_COMMANDS_RUNS (default 3), BENCH_FRESH_PROCESSES (default 5);
 * BENCH_COMMANDS_ONLY=levels,fresh,heap runs only the parts named.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import pg from "pg";
import {
  AppendConditionError,
  type EventStore,
  type LinkedAccounts,
  createInMemoryEventStore,
  createLinkedAccounts,
  manualClock,
  scryptSharePhrases,
} from "@linked-accounts/adapters";
import {
  NOW,
  checkedOut,
  connected,
  justBeforeNow,
  openStore,
  phraseIssued,
  registered,
  seedHistory,
  tagged,
  unhashedPhrases,
} from "./command-fixtures.js";
import { median } from "./stats.js";

export interface CommandBenchOptions {
  /** A directory for the SQLite files, removed by the caller. */
  readonly dir: string;
  /** PostgreSQL, when there is one: its URL, and a fresh schema name per label (the caller drops them). */
  readonly postgres?: { readonly url: string; readonly schema: (label: string) => string };
}

const LEVELS = [1, 8, 32] as const;
const FRESH_HOST = path.join(path.dirname(fileURLToPath(import.meta.url)), "fresh-host.js");

const envNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw.replace(/_/g, ""));
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  return n;
};

const format = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number) => bytes / 2 ** 20;

/** A store that counts the appends refused on their condition: each is a command decided again. */
const counting = (store: EventStore): { store: EventStore; conflicts: () => number } => {
  let conflicts = 0;
  return {
    conflicts: () => conflicts,
    store: {
      append: async (events, condition) => {
        try {
          return await store.append(events, condition);
        } catch (error) {
          if (error instanceof AppendConditionError) conflicts += 1;
          throw error;
        }
      },
      read: (query, options) => store.read(query, options),
      readAll: (options) => store.readAll(options),
      head: () => store.head(),
      close: () => store.close(),
    },
  };
};

type Outcome = E.Either<{ readonly code: string }, unknown>;

/**
 * Runs `work(i)` for i in [0, count), `width` at a time; the seconds taken, the
 * refusals by code, and this process's CPU time per command (user and system):
 * when it nears the wall time per command, the host itself is the bottleneck.
 */
const inFlight = async (count: number, width: number, work: (i: number) => Promise<Outcome>) => {
  const refusals: Record<string, number> = {};
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        let code: string | undefined;
        try {
          const outcome = await work(i);
          if (E.isLeft(outcome)) code = outcome.left.code;
        } catch (error) {
          code = `threw ${error instanceof Error ? error.name : "non-error"}`;
        }
        if (code !== undefined) refusals[code] = (refusals[code] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, refusals, hostCpuMsPerCommand: (used.user + used.system) / 1000 / count };
};

const total = (refusals: Record<string, number>) => Object.values(refusals).reduce((a, b) => a + b, 0);
const addInto = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [code, n] of Object.entries(from)) into[code] = (into[code] ?? 0) + n;
};
const describeRefusals = (refusals: Record<string, number>) =>
  total(refusals) === 0
    ? "0 refused"
    : `${total(refusals)} refused (${Object.entries(refusals)
        .map(([code, n]) => `${n} ${code}`)
        .join(", ")})`;

// ---------------------------------------------------------------------------
// 1. Levels in flight

/**
 * Sets up `count` pairs (issuer with a one-way phrase, connector with a loan)
 * as seeded facts, then times their connects, then the issuers' renewals of
 * the connectors' loans, `width` at a time.
 */
const levelRun = async (subject: ReturnType<typeof counting>, width: number, count: number, tag: string, settle?: () => Promise<void>) => {
  const phrases = unhashedPhrases();
  const TAG = tag.toUpperCase();
  const setUp = [];
  for (let i = 0; i < count; i++)
    setUp.push(
      registered(`${tag}i${i}`, `${TAG}I${i}`, false, justBeforeNow),
      registered(`${tag}c${i}`, `${TAG}C${i}`, false, justBeforeNow),
      phraseIssued(`${tag}p${i}`, `${tag}i${i}`, await phrases.verifierFor(`phrase-${tag}-${i}`), justBeforeNow),
      checkedOut(`${tag}l${i}`, `${tag}c${i}`, "2026-04-01T00:00:00.000Z", justBeforeNow),
    );
  await subject.store.append(tagged(setUp, justBeforeNow));
  await settle?.();

  const library = createLinkedAccounts({ store: subject.store, clock: manualClock(NOW), phrases });
  const conflictsBefore = subject.conflicts();
  const connects = await inFlight(count, width, (i) =>
    library.patron(`${tag}c${i}`).connectAccount({ barcode: `${TAG}I${i}`, phrase: `phrase-${tag}-${i}` }),
  );
  const conflictsAfterConnects = subject.conflicts();
  const renewals = await inFlight(count, width, (i) =>
    library.patron(`${tag}i${i}`).renewLoan({ accountId: `${tag}c${i}`, loanId: `${tag}l${i}`, dueAt: "2026-04-15T00:00:00.000Z" }),
  );
  return {
    connect: {
      perSecond: count / connects.seconds,
      refusals: connects.refusals,
      conflicts: conflictsAfterConnects - conflictsBefore,
      hostCpuMs: connects.hostCpuMsPerCommand,
    },
    renew: {
      perSecond: count / renewals.seconds,
      refusals: renewals.refusals,
      conflicts: subject.conflicts() - conflictsAfterConnects,
      hostCpuMs: renewals.hostCpuMsPerCommand,
    },
  };
};

/** `settle`, when given, runs after each run's set-up, before the clock starts (PostgreSQL: ANALYZE, as autovacuum would). */
const benchLevels = async (name: string, open: () => Promise<EventStore>, count: number, runs: number, settle?: () => Promise<void>) => {
  const subject = counting(await open());
  const samples = new Map<string, { perSecond: number[]; hostCpuMs: number[]; refusals: Record<string, number>; conflicts: number }>();
  const sample = (kind: string, width: number) => {
    const key = `${kind} ${width}`;
    if (!samples.has(key)) samples.set(key, { perSecond: [], hostCpuMs: [], refusals: {}, conflicts: 0 });
    return samples.get(key)!;
  };
  try {
    // Levels interleaved within each run, so a noisy moment of a shared machine spreads over all of them.
    for (let run = 0; run < runs; run++)
      for (const width of LEVELS) {
        const r = await levelRun(subject, width, count, `w${width}r${run}`, settle);
        for (const kind of ["connect", "renew"] as const) {
          const s = sample(kind, width);
          s.perSecond.push(r[kind].perSecond);
          s.hostCpuMs.push(r[kind].hostCpuMs);
          addInto(s.refusals, r[kind].refusals);
          s.conflicts += r[kind].conflicts;
        }
      }
  } finally {
    await subject.store.close();
  }
  const figures: Record<string, unknown> = {};
  for (const kind of ["connect", "renew"] as const) {
    const one = median(sample(kind, 1).perSecond);
    const byLevel: Record<string, unknown> = {};
    for (const width of LEVELS) {
      const s = sample(kind, width);
      const perSecond = median(s.perSecond);
      byLevel[`inFlight${width}`] = {
        perSecond,
        ratioToOneInFlight: perSecond / one,
        refused: total(s.refusals),
        refusals: s.refusals,
        conflictsRetried: s.conflicts,
        hostCpuMsPerCommand: median(s.hostCpuMs),
        wallMsPerCommand: 1000 / perSecond,
        runs: s.perSecond,
      };
      console.log(
        `commands ${name.padEnd(9)} ${kind === "connect" ? "connectAccount" : "renewLoan (manager)"} ${String(width).padStart(2)} in flight: ` +
          `${format(perSecond).padStart(6)}/s, ${format(perSecond / one, 2)}× one at a time, ${describeRefusals(s.refusals)}, ${s.conflicts} conflicts decided again; ` +
          `host CPU ${format(median(s.hostCpuMs), 1)} ms a command (wall ${format(1000 / perSecond, 1)} ms)`,
      );
    }
    figures[kind === "connect" ? "connectAccount" : "renewLoan"] = byLevel;
  }
  return { ...figures, commandsPerLevelAndRun: count, runs };
};

// ---------------------------------------------------------------------------
// 2. First command of a fresh host process

interface FreshTiming {
  readonly loadedMs: number;
  readonly openMs: number;
  readonly firstCommandMs: number;
  readonly secondCommandMs: number;
  readonly processStartToAnswerMs: number;
  readonly first: string;
  readonly second: string;
}

const spawnFreshHost = (args: ReadonlyArray<string>): Promise<FreshTiming> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FRESH_HOST, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`fresh host exited ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as FreshTiming);
      } catch {
        reject(new Error(`fresh host said: ${out.trim()} ${err.trim()}`));
      }
    });
  });

/**
 * Seeds `historyEvents` of history into the store `spec` names, then spawns
 * fresh host processes, each running its first command for pairs it has never
 * seen. `settle`, when given, is run after a first round of processes and
 * followed by a second (PostgreSQL: what autovacuum does to a table after a
 * bulk load, so both the state right after the load and the steady state show).
 */
const benchFresh = async (
  name: string,
  spec: string,
  historyEvents: number,
  processes: number,
  settle?: { readonly label: string; readonly run: () => Promise<void> },
) => {
  const store = await openStore(spec);
  const seeding = performance.now();
  let reported = 0;
  const appended = await seedHistory(store, historyEvents, 5000, (n) => {
    if (n - reported >= 250_000) {
      reported = n;
      console.log(`commands ${name.padEnd(9)} (seeding: ${format(n)} events, ${format((performance.now() - seeding) / 1000, 1)} s)`);
    }
  });
  const seedSeconds = (performance.now() - seeding) / 1000;
  console.log(
    `commands ${name.padEnd(9)} seeded ${format(appended)} linking events of history in ${format(seedSeconds, 1)} s ` +
      `(${format(appended / seedSeconds)} events/s, batches of 5,000, not timed below)`,
  );

  // The pairs the fresh processes act for: set up after the history, never seen by them.
  const rounds = settle === undefined ? 1 : 2;
  const phrases = unhashedPhrases();
  const setUp = [];
  for (let k = 0; k < processes * 2 * rounds; k++) {
    setUp.push(
      registered(`fi${k}`, `FRESHI${k}`, false, justBeforeNow),
      registered(`fc${k}`, `FRESHC${k}`, false, justBeforeNow),
      phraseIssued(`fp${k}`, `fi${k}`, await phrases.verifierFor(`fresh-phrase-${k}`), justBeforeNow),
      registered(`fm${k}`, `FRESHM${k}`, false, justBeforeNow),
      registered(`fk${k}`, `FRESHK${k}`, true, justBeforeNow),
      connected(`fl${k}`, `fq${k}`, `fm${k}`, `fk${k}`, justBeforeNow),
      checkedOut(`fo${k}`, `fk${k}`, "2026-04-01T00:00:00.000Z", justBeforeNow),
    );
  }
  await store.append(tagged(setUp, justBeforeNow));
  await store.close();

  const measure = async (round: number, label: string) => {
    const runs: Record<"connect" | "renew", FreshTiming[]> = { connect: [], renew: [] };
    for (let p = 0; p < processes; p++) {
      const [a, b] = [2 * (round * processes + p), 2 * (round * processes + p) + 1];
      runs.connect.push(await spawnFreshHost([spec, "connect", `fc${a}`, `FRESHI${a}`, `fresh-phrase-${a}`, `fc${b}`, `FRESHI${b}`, `fresh-phrase-${b}`]));
      runs.renew.push(await spawnFreshHost([spec, "renew", `fm${a}`, `fk${a}`, `fo${a}`, `fm${b}`, `fk${b}`, `fo${b}`]));
    }
    const figures: Record<string, unknown> = {};
    for (const kind of ["connect", "renew"] as const) {
      const timings = runs[kind];
      const pick = (f: (t: FreshTiming) => number) => median(timings.map(f));
      const outcomes: Record<string, number> = {};
      for (const t of timings) for (const o of [t.first, t.second]) outcomes[o] = (outcomes[o] ?? 0) + 1;
      figures[kind === "connect" ? "connectAccount" : "renewLoan"] = {
        firstCommandMs: pick((t) => t.firstCommandMs),
        firstCommandMsEach: timings.map((t) => t.firstCommandMs),
        secondCommandMs: pick((t) => t.secondCommandMs),
        openStoreMs: pick((t) => t.openMs),
        processStartToFirstAnswerMs: pick((t) => t.processStartToAnswerMs),
        modulesLoadedMs: pick((t) => t.loadedMs),
        outcomes,
      };
      console.log(
        `commands ${name.padEnd(9)} fresh process${label}, first ${kind === "connect" ? "connectAccount" : "renewLoan (manager)"} over ${format(appended)} events: ` +
          `${format(pick((t) => t.firstCommandMs), 1)} ms from creating the library to the answer ` +
          `(the second: ${format(pick((t) => t.secondCommandMs), 1)} ms; opening the store ${format(pick((t) => t.openMs), 1)} ms; ` +
          `process start to first answer ${format(pick((t) => t.processStartToAnswerMs))} ms; median of ${processes} processes; ` +
          `outcomes ${Object.entries(outcomes)
            .map(([o, n]) => `${n} ${o}`)
            .join(", ")})`,
      );
    }
    return figures;
  };

  const figures: Record<string, unknown> = { historyEvents: appended, seedSeconds, seedEventsPerSecond: appended / seedSeconds, processes };
  figures.afterSeeding = await measure(0, settle === undefined ? "" : " right after seeding");
  if (settle !== undefined) {
    const settling = performance.now();
    await settle.run();
    console.log(`commands ${name.padEnd(9)} ${settle.label} took ${format((performance.now() - settling) / 1000, 1)} s`);
    figures.settledBy = settle.label;
    figures.afterSettling = await measure(1, ` after ${settle.label}`);
  }
  return figures;
};

// ---------------------------------------------------------------------------
// 3. Host heap after many commands

const heapNow = () => {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsedMiB: mib(heapUsed), rssMiB: mib(rss) };
};

/**
 * Commands on pair r, each pair used once: the issuer issues a phrase; every
 * fifth connector first types a wrong one (refused, an attempt recorded); the
 * connector connects; the issuer, now its manager, renews its loan.
 */
const round = async (library: LinkedAccounts, r: number, refusals: Record<string, number>): Promise<number> => {
  const expect = (outcome: Outcome, wanted?: string) => {
    const code = E.isLeft(outcome) ? outcome.left.code : undefined;
    if (code !== wanted) {
      const key = code ?? "accepted";
      refusals[key] = (refusals[key] ?? 0) + 1;
    }
    return outcome;
  };
  const issuer = library.patron(`mi${r}`);
  const connector = library.patron(`mc${r}`);
  const issued = expect(await issuer.issueSharePhrase({ direction: "one-way" }));
  const phrase = E.isRight(issued) ? (issued.right as { phrase: string }).phrase : "";
  let commands = 1;
  if (r % 5 === 0) {
    expect(await connector.connectAccount({ barcode: `MI${String(r).padStart(6, "0")}`, phrase: "not-the-phrase" }), "barcode-or-phrase-not-recognised");
    commands += 1;
  }
  expect(await connector.connectAccount({ barcode: `MI${String(r).padStart(6, "0")}`, phrase }));
  expect(await issuer.renewLoan({ accountId: `mc${r}`, loanId: `ml${r}`, dueAt: "2026-04-15T00:00:00.000Z" }));
  return commands + 2;
};

const benchHeap = async (file: string, target: number, width: number) => {
  if ((globalThis as { gc?: () => void }).gc === undefined)
    console.log("commands heap: node runs without --expose-gc, so heap figures include garbage (run through `pnpm bench`)");
  const store = await openStore(`sqlite:${file}`);
  // Enough pairs for the target (a round is 3.2 commands on average), registered with a loan each.
  const pairs = Math.ceil(target / 3) + width;
  for (let from = 0; from < pairs; from += 2000) {
    const setUp = [];
    for (let r = from; r < Math.min(pairs, from + 2000); r++)
      setUp.push(
        registered(`mi${r}`, `MI${String(r).padStart(6, "0")}`, false, justBeforeNow),
        registered(`mc${r}`, `MC${String(r).padStart(6, "0")}`, false, justBeforeNow),
        checkedOut(`ml${r}`, `mc${r}`, "2026-04-01T00:00:00.000Z", justBeforeNow),
      );
    await store.append(tagged(setUp, justBeforeNow));
  }
  const seeded = await store.head();

  const library = createLinkedAccounts({ store, clock: manualClock(NOW), phrases: unhashedPhrases() });
  const before = heapNow();
  const checkpoints = [...new Set([Math.min(20_000, target), target])];
  const refusals: Record<string, number> = {};
  const points: Array<Record<string, number>> = [];
  let done = 0;
  let nextPair = 0;
  const started = performance.now();
  for (const checkpoint of checkpoints) {
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (done < checkpoint) {
          const r = nextPair++;
          const commands = await round(library, r, refusals);
          done += commands;
        }
      }),
    );
    const heap = heapNow();
    const seconds = (performance.now() - started) / 1000;
    points.push({ commands: done, ...heap, growthMiB: heap.heapUsedMiB - before.heapUsedMiB, seconds });
    console.log(
      `commands sqlite    heap after ${format(done)} commands (${width} in flight, ${format(done / seconds)}/s): ` +
        `${format(heap.heapUsedMiB, 1)} MiB used, ${format(heap.heapUsedMiB - before.heapUsedMiB, 1)} MiB more than before the first ` +
        `(${format(before.heapUsedMiB, 1)} MiB); rss ${format(heap.rssMiB)} MiB`,
    );
  }
  const stored = await store.head();
  await store.close();
  if (total(refusals) > 0) console.log(`commands sqlite    heap run: unexpected outcomes ${JSON.stringify(refusals)}`);
  return {
    before,
    points,
    growthMiB: points.at(-1)!.growthMiB,
    inFlight: width,
    eventsInStoreBefore: Number(seeded),
    eventsInStoreAfter: Number(stored),
    unexpectedOutcomes: refusals,
  };
};

// ---------------------------------------------------------------------------

export async function benchCommands(options: CommandBenchOptions): Promise<Record<string, unknown>> {
  const count = envNumber("BENCH_COMMANDS_PAIRS", 256);
  const runs = envNumber("BENCH_COMMANDS_RUNS", 3);
  const historyEvents = envNumber("BENCH_HISTORY_EVENTS", 1_000_000);
  const processes = envNumber("BENCH_FRESH_PROCESSES", 5);
  const heapCommands = envNumber("BENCH_HEAP_COMMANDS", 100_000);
  const only = new Set((process.env.BENCH_COMMANDS_ONLY ?? "levels,fresh,heap").split(",").map((s) => s.trim()));
  const figures: Record<string, unknown> = {};
  let n = 0;
  const sqliteFile = (label: string) => path.join(options.dir, `commands-${label}-${n++}.sqlite`);

  const scrypt = scryptSharePhrases();
  const verifier = await scrypt.verifierFor("warm-up");
  const derivations: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await scrypt.proofFor("abcd-efgh-jkmn-pq", verifier);
    derivations.push(performance.now() - started);
  }
  figures.scryptDerivationMs = { median: median(derivations), N: verifier.N, r: verifier.r, p: verifier.p, derivationsPerConnect: 2 };
  console.log(`commands scrypt (N=2^17, r=8, p=1): ${format(median(derivations), 1)} ms per derivation (median of 5); a connect derives 2, excluded below`);

  if (only.has("levels")) {
    const levels: Record<string, unknown> = {};
    levels["in-memory"] = await benchLevels("in-memory", async () => createInMemoryEventStore(), count, runs);
    levels.sqlite = await benchLevels("sqlite", () => openStore(`sqlite:${sqliteFile("levels")}`), count, runs);
    if (options.postgres !== undefined) {
      const { url, schema } = options.postgres;
      const levelsSchema = schema("levels");
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // A new schema has no planner statistics until autovacuum's first ANALYZE, and
        // without them PostgreSQL may find tagged events through the type index, reading
        // every event of the type. Measured here as a running database is: analyzed.
        levels.postgres = await benchLevels("postgres", () => openStore(`postgres:${levelsSchema}@${url}`), count, runs, async () => {
          await client.query(`ANALYZE ${levelsSchema}.events`);
        });
      } finally {
        await client.end();
      }
    }
    figures.inFlight = levels;
  }

  if (only.has("fresh")) {
    const fresh: Record<string, unknown> = {};
    // The same over a store holding no history: what a first command costs in any fresh process.
    fresh.sqliteWithoutHistory = await benchFresh("sqlite", `sqlite:${sqliteFile("no-history")}`, 0, processes);
    fresh.sqlite = await benchFresh("sqlite", `sqlite:${sqliteFile("history")}`, historyEvents, processes);
    if (options.postgres !== undefined) {
      const { url, schema } = options.postgres;
      const history = schema("history");
      fresh.postgres = await benchFresh("postgres", `postgres:${history}@${url}`, historyEvents, processes, {
        label: "VACUUM ANALYZE",
        run: async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`VACUUM ANALYZE ${history}.events`);
          } finally {
            await client.end();
          }
        },
      });
    }
    figures.freshProcess = fresh;
  }

  if (only.has("heap")) figures.heap = { sqlite: await benchHeap(sqliteFile("heap"), heapCommands, 8) };
  return figures;
}
