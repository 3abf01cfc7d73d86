/**
 * What sealing personal data costs (issue 12), on SQLite (a file, WAL,
 * durability full) and on PostgreSQL: a store is filled through the sealing
 * store with a library's history (the domain benchmark's generator: accounts,
 * phrases and links, and mostly circulation: checkouts with titles, renewals,
 * returns, holds), then, medians of five in the same run:
 *
 * - read: `store.log.readAll()` (read and decoded, personal fields still
 *   sealed) against `store.readAll()` (read, decoded, keys looked up,
 *   decrypted, opened events validated), events per second, and the overhead
 *   against the aim (decryption adds at most 25 %). Three times: on a freshly
 *   opened store (no key cached: every key is looked up, as a process
 *   rebuilding a read model does); on a store that has read everything once and
 *   trusts its cache for an hour (`keyCacheMs`; the default, a minute, is
 *   shorter than one read of the whole log here); and the same deciphering on
 *   the calling thread (`openInWorker: false`) rather than the store's worker;
 * - erasure: on its own account with 50 or 500 loans, from appending
 *   `AccountErased` until the store's append returns (it forgets the key), until
 *   another connection finds no key, until another connection's read of the
 *   account shows `[erased]`, and until a fresh `readAll` of the whole store does;
 * - retention: 1,000 `LoanDetailsForgotten` appended in batches of 100 (each
 *   forgetting a loan's key), until another connection finds none of the keys;
 * - append, for reference: 100-event batches through the sealing store
 *   (validated, keys found or made, sealed, barcode tags hashed) against the log
 *   appending batches sealed beforehand.
 *
 * `BENCH_PERSONAL_EVENTS` changes the size of the history (default 200,000);
 * `BENCH_PERSONAL_STORES=sqlite` or `=postgres` measures one store only.
 */
import { createDecipheriv } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os, { availableParallelism } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import {
  type DomainEvent,
  type EventEnvelope,
  type LinkingState,
  type StoredEnvelope,
  ERASED,
  SCHEMA_VERSION,
  evolveLinking,
  initialLinkingState,
  isLinkingEvent,
  isSealed,
  personalFieldsOf,
  tagsOf,
} from "@linked-accounts/domain/internal";
import {
  type NewEvent,
  type PersonalDataOptions,
  type RecordedEvent,
  type SealingEventStore,
  createInMemoryEventStore,
  uuidV7Ids,
} from "@linked-accounts/adapters";
import { createPostgresEventStore } from "@linked-accounts/adapters/postgres";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { uuidV7 } from "./deterministic.js";
import { syntheticHistory } from "./domain.js";
import { median } from "./stats.js";

const RUNS = 5;
const EVENTS = Number(process.env.BENCH_PERSONAL_EVENTS ?? 200_000);
/** Accounts of the history: about ten events each. */
const ACCOUNTS = Math.max(100, Math.round(EVENTS / 10));
const FILL_BATCH = 1000;
const READ_BATCH = 1000;
const LOANS_PER_ERASED_ACCOUNT = [50, 500] as const;
const RETENTION_LOANS = 1000;
const RETENTION_BATCH = 100;
const APPEND_BATCH = 100;
const APPEND_BATCHES = 30;
const AIM = 0.25;

interface Subject {
  readonly name: string;
  readonly description: string;
  /** A store on the same database, opened anew each time (its own connection, nothing cached). */
  readonly open: (personalData?: PersonalDataOptions) => Promise<SealingEventStore>;
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toString());
const START = Date.parse("2026-01-05T08:00:00.000Z");

/** Tags each event as the command handler would, folding the linking events as it goes. */
const tagger = () => {
  let state: LinkingState = initialLinkingState;
  return (event: DomainEvent, at: number, eventId: string): NewEvent => {
    const tags = tagsOf(event, state);
    if (isLinkingEvent(event)) state = evolveLinking(state, event);
    return {
      ...event,
      metadata: {
        eventId,
        schemaVersion: SCHEMA_VERSION,
        occurredAt: new Date(at).toISOString(),
        actor: { kind: "system" },
        channel: "system",
        correlationId: null,
        causationId: null,
      },
      tags,
    } as NewEvent;
  };
};

const withoutPosition = ({ position: _position, ...event }: RecordedEvent<StoredEnvelope>): NewEvent<StoredEnvelope> => event as NewEvent<StoredEnvelope>;

/** Reads every event and returns events per second (and how many, and how many were sealed). */
const timedRead = async (events: AsyncIterable<RecordedEvent<StoredEnvelope>>) => {
  const started = performance.now();
  let n = 0;
  let sealed = 0;
  for await (const event of events) {
    n++;
    if (isSealed(event)) sealed++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { n, sealed, eventsPerSecond: n / seconds };
};

/** Every personal field of the events read reads `[erased]`; returns how many events were checked. */
const allErased = (events: ReadonlyArray<EventEnvelope>): number => {
  for (const event of events)
    for (const field of personalFieldsOf(event.type))
      if ((event.data as Record<string, unknown>)[field] !== ERASED)
        throw new Error(`${event.type} of the erased account still reads its ${field}`);
  return events.length;
};

const measure = async (subject: Subject): Promise<Record<string, unknown>> => {
  const label = `personal ${subject.name.padEnd(8)}`;
  const store = await subject.open();
  try {
    // The history, built before the clock starts, appended in batches through the sealing store.
    const history = syntheticHistory(EVENTS, ACCOUNTS);
    const tag = tagger();
    const events = history.events.map((event, i) => tag(event, START + i * 400, uuidV7(START + i * 400, i)));
    const returnedLoans = history.events.flatMap((e) => (e.type === "ItemReturned" ? [[e.data.loanId, e.data.accountId] as const] : []));
    const fillStarted = performance.now();
    for (let i = 0; i < events.length; i += FILL_BATCH) await store.append(events.slice(i, i + FILL_BATCH));
    const fillSeconds = (performance.now() - fillStarted) / 1000;

    // The accounts erased below, each with its loans, appended too (so they are read with the rest).
    const erasedAccounts = LOANS_PER_ERASED_ACCOUNT.flatMap((loans) =>
      Array.from({ length: RUNS }, (_, r) => ({ accountId: `erased-${loans}-${r}`, loans })),
    );
    let t = START + events.length * 400;
    for (const { accountId, loans } of erasedAccounts) {
      const own: DomainEvent[] = [{ type: "AccountRegistered", data: { accountId, barcode: `E${loans}X${accountId.slice(accountId.lastIndexOf("-") + 1)}`, minor: false, registeredAt: new Date(t).toISOString() } }];
      for (let l = 0; l < loans; l++) {
        const loanId = `${accountId}-loan${l}`;
        own.push({
          type: "ItemCheckedOut",
          data: { loanId, accountId, itemId: `item${l}`, title: "A synthetic book", format: "physical", checkedOutAt: new Date(t).toISOString(), dueAt: new Date(t + 21 * 86_400_000).toISOString() },
        });
        if (l % 2 === 0) own.push({ type: "ItemReturned", data: { loanId, accountId, returnedAt: new Date(t + 86_400_000).toISOString() } });
      }
      const batch = own.map((event) => tag(event, (t += 400), uuidV7Ids.next()));
      for (let i = 0; i < batch.length; i += APPEND_BATCH) await store.append(batch.slice(i, i + APPEND_BATCH));
    }
    const total = Number(await store.head());
    console.log(
      `${label} filled through the sealing store: ${format(total)} events (${format(events.length)} of history on ${format(ACCOUNTS)} accounts, ${format(total - events.length)} of the accounts erased below) in ${fillSeconds.toFixed(1)} s, ${format(events.length / fillSeconds)} events/s in batches of ${FILL_BATCH}`,
    );

    // Reads, the four alternately run for run.
    const warm = await subject.open({ keyCacheMs: 3_600_000 });
    for await (const _ of warm.readAll({ batchSize: READ_BATCH }));
    const here = await subject.open({ keyCacheMs: 3_600_000, openInWorker: false });
    for await (const _ of here.readAll({ batchSize: READ_BATCH }));
    const runs = { coldLog: [] as number[], coldOpened: [] as number[], warmLog: [] as number[], warmOpened: [] as number[], hereLog: [] as number[], hereOpened: [] as number[] };
    let sealedCount = 0;
    for (let r = 0; r < RUNS; r++) {
      const freshForLog = await subject.open();
      const log = await timedRead(freshForLog.log.readAll({ batchSize: READ_BATCH }));
      await freshForLog.close();
      const freshForOpened = await subject.open();
      const opened = await timedRead(freshForOpened.readAll({ batchSize: READ_BATCH }));
      await freshForOpened.close();
      const warmLog = await timedRead(warm.log.readAll({ batchSize: READ_BATCH }));
      const warmOpened = await timedRead(warm.readAll({ batchSize: READ_BATCH }));
      const hereLog = await timedRead(here.log.readAll({ batchSize: READ_BATCH }));
      const hereOpened = await timedRead(here.readAll({ batchSize: READ_BATCH }));
      for (const read of [log, opened, warmLog, warmOpened, hereLog, hereOpened]) if (read.n !== total) throw new Error(`read ${read.n} events of ${total}`);
      if (opened.sealed !== 0 || warmOpened.sealed !== 0 || hereOpened.sealed !== 0) throw new Error("the sealing store handed over a sealed event");
      sealedCount = log.sealed;
      runs.coldLog.push(log.eventsPerSecond);
      runs.coldOpened.push(opened.eventsPerSecond);
      runs.warmLog.push(warmLog.eventsPerSecond);
      runs.warmOpened.push(warmOpened.eventsPerSecond);
      runs.hereLog.push(hereLog.eventsPerSecond);
      runs.hereOpened.push(hereOpened.eventsPerSecond);
    }
    await warm.close();
    await here.close();
    // A sealed event opens to what was written.
    const sample = events.find((e) => e.type === "ItemCheckedOut")!;
    for await (const event of store.read({ items: [{ tags: sample.tags }] }))
      if (event.type === "ItemCheckedOut" && event.data.title !== (sample as { data: { title: string } }).data.title) throw new Error("a checkout did not open to its title");

    const read = (logRuns: number[], openedRuns: number[]) => {
      const log = median(logRuns);
      const opened = median(openedRuns);
      // Time per event grows by log/opened - 1 (runs are paired, so the ratio of medians is quoted).
      const overhead = log / opened - 1;
      return { logEventsPerSecond: log, openedEventsPerSecond: opened, ratio: opened / log, overhead, aimMet: overhead <= AIM, logRuns, openedRuns };
    };
    const cold = read(runs.coldLog, runs.coldOpened);
    const cached = read(runs.warmLog, runs.warmOpened);
    const cachedHere = read(runs.hereLog, runs.hereOpened);
    const share = sealedCount / total;
    for (const [name, figures] of [
      ["fresh store, keys looked up", cold],
      ["keys cached", cached],
      ["keys cached, deciphered on the calling thread", cachedHere],
    ] as const)
      console.log(
        `${label} readAll, ${name}: log (sealed, decoded) ${format(figures.logEventsPerSecond)} events/s, store (opened) ${format(figures.openedEventsPerSecond)} events/s, ratio ${figures.ratio.toFixed(2)}, decryption adds ${(figures.overhead * 100).toFixed(0)} % per event (aim ≤ ${AIM * 100} %: ${figures.aimMet ? "met" : "missed"}); ${format(total)} events, ${(share * 100).toFixed(0)} % sealed`,
      );

    // The floor: AES-256-GCM alone over the same sealed parts (each as a store
    // deciphers it: a decipher made with its key and nonce, the associated data
    // and tag set, update, final), keys in hand, on one thread. Parts of two
    // accounts (a revocation's reason, a few) are left out.
    const parts: Array<{ readonly name: string; readonly iv: string; readonly ct: string; readonly aad: string }> = [];
    for await (const event of store.log.readAll({ batchSize: READ_BATCH }))
      if (isSealed(event)) {
        const { subjects, iv, ct } = event.data.sealed;
        const [first, item, more] = subjects.split(" ");
        const name = item === undefined ? first! : more === undefined && first!.startsWith("account:") && /^(loan|hold):/.test(item) ? `${first}/${item}` : null;
        if (name !== null) parts.push({ name, iv, ct, aad: `${event.type}\n${event.metadata.eventId}` });
      }
    const partKeys = await store.keys.find([...new Set(parts.map((p) => p.name))]);
    const floorRuns: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const started = performance.now();
      let opened = 0;
      for (const part of parts) {
        const key = partKeys.get(part.name);
        if (key === null || key === undefined) continue;
        const bytes = Buffer.from(part.ct, "base64url");
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(part.iv, "base64url"));
        decipher.setAAD(Buffer.from(part.aad, "utf8"));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        decipher.update(bytes.subarray(0, bytes.length - 16));
        decipher.final();
        opened++;
      }
      floorRuns.push((performance.now() - started) / 1000 / Math.max(1, opened));
    }
    const floorPerPart = median(floorRuns);
    const floorOverhead = (floorPerPart * parts.length) / total / (1 / cached.logEventsPerSecond);
    console.log(
      `${label} AES-256-GCM alone over the same ${format(parts.length)} sealed parts, keys in hand, one thread: ${(floorPerPart * 1e6).toFixed(1)} µs per part, adding ${(floorOverhead * 100).toFixed(0)} % to a log read of every event (the least deciphering on the calling thread can add)`,
    );

    // Erasures: each on its own account, read by a store on its own connection.
    const erasures: Record<string, unknown> = {};
    for (const loans of LOANS_PER_ERASED_ACCOUNT) {
      const steps = { appended: [] as number[], keyGone: [] as number[], accountReadErased: [] as number[], readAllErased: [] as number[] };
      for (let r = 0; r < RUNS; r++) {
        const accountId = `erased-${loans}-${r}`;
        const subjectName = `account:${accountId}`;
        const probe = await subject.open();
        const erased = tag({ type: "AccountErased", data: { accountId, erasedAt: new Date((t += 400)).toISOString() } }, t, uuidV7Ids.next());
        const started = performance.now();
        await store.append([erased]);
        const appended = performance.now();
        while ((await probe.keys.find([subjectName])).get(subjectName) !== null) await new Promise((resolve) => setTimeout(resolve, 1));
        const keyGone = performance.now();
        const own: EventEnvelope[] = [];
        for await (const event of probe.read({ items: [{ tags: [subjectName] }] })) own.push(event);
        if (allErased(own) < loans + 1) throw new Error(`read ${own.length} events of ${accountId}`);
        const accountRead = performance.now();
        const inLog: EventEnvelope[] = [];
        for await (const event of probe.readAll({ batchSize: READ_BATCH }))
          if ((event.data as { accountId?: string }).accountId === accountId) inLog.push(event);
        allErased(inLog);
        const readAll = performance.now();
        await probe.close();
        steps.appended.push(appended - started);
        steps.keyGone.push(keyGone - started);
        steps.accountReadErased.push(accountRead - started);
        steps.readAllErased.push(readAll - started);
      }
      const figures = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, { ms: median(v), runs: v }]));
      erasures[`loans${loans}`] = figures;
      console.log(
        `${label} erasure of an account with ${loans} loans: append returned ${ms(median(steps.appended))} ms, key gone (another connection) ${ms(median(steps.keyGone))} ms, its events read [erased] (another connection, by its tag) ${ms(median(steps.accountReadErased))} ms, a fresh readAll of all ${format(total)} events shows them [erased] ${ms(median(steps.readAllErased))} ms`,
      );
    }

    // Retention: 1,000 returned loans of the history per pass, a different thousand each time.
    const passes = { appended: [] as number[], keysGone: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      const loans = returnedLoans.slice(r * RETENTION_LOANS, (r + 1) * RETENTION_LOANS);
      if (loans.length < RETENTION_LOANS) throw new Error(`the history has too few returned loans (${returnedLoans.length})`);
      const forgotten = loans.map(([loanId, accountId]) =>
        tag({ type: "LoanDetailsForgotten", data: { loanId, accountId, retentionDays: 30, forgottenAt: new Date((t += 400)).toISOString() } }, t, uuidV7Ids.next()),
      );
      const subjects = loans.map(([loanId, accountId]) => `account:${accountId}/loan:${loanId}`);
      const probe = await subject.open();
      const started = performance.now();
      for (let i = 0; i < forgotten.length; i += RETENTION_BATCH) await store.append(forgotten.slice(i, i + RETENTION_BATCH));
      const appended = performance.now();
      for (;;) {
        const found = await probe.keys.find(subjects);
        if (subjects.every((s) => found.get(s) === null)) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const keysGone = performance.now();
      await probe.close();
      passes.appended.push(appended - started);
      passes.keysGone.push(keysGone - started);
    }
    console.log(
      `${label} retention pass forgetting ${format(RETENTION_LOANS)} loan keys (${RETENTION_LOANS / RETENTION_BATCH} appends of ${RETENTION_BATCH} LoanDetailsForgotten): appends returned ${ms(median(passes.appended))} ms, keys gone (another connection) ${ms(median(passes.keysGone))} ms`,
    );

    // Appends, for reference: the sealing store against the log given the same kind of batches sealed beforehand.
    const circulation = history.events.slice(history.events.findIndex((e) => e.type === "ItemCheckedOut"));
    const appendBatches = (round: number, side: string): NewEvent[][] =>
      Array.from({ length: APPEND_BATCHES }, (_, b) =>
        Array.from({ length: APPEND_BATCH }, (_, i) => {
          const source = circulation[(round * 2 * APPEND_BATCHES + b) * APPEND_BATCH + i] ?? circulation[i]!;
          // New loans and holds (each gets a key of its own), on the history's accounts.
          const suffix = `-${side}${round}`;
          const data = { ...(source.data as Record<string, unknown>) };
          if (typeof data.loanId === "string") data.loanId += suffix;
          if (typeof data.holdId === "string") data.holdId += suffix;
          return tag({ ...source, data } as DomainEvent, (t += 400), uuidV7Ids.next());
        }),
      );
    const appendRuns = { sealing: [] as number[], log: [] as number[] };
    let appendShare = 0;
    for (let r = 0; r < RUNS; r++) {
      const viaStore = appendBatches(r, "s");
      // Sealed beforehand under the same key store (so the store can open them later), by a store of its own.
      const sealer = createInMemoryEventStore({ keys: store.keys });
      for (const batch of appendBatches(r, "l")) await sealer.append(batch);
      const sealed: Array<Array<NewEvent<StoredEnvelope>>> = [];
      let current: Array<NewEvent<StoredEnvelope>> = [];
      let sealedEvents = 0;
      for await (const event of sealer.log.readAll()) {
        if (isSealed(event)) sealedEvents++;
        current.push(withoutPosition(event));
        if (current.length === APPEND_BATCH) {
          sealed.push(current);
          current = [];
        }
      }
      await sealer.close();
      appendShare = sealedEvents / (APPEND_BATCHES * APPEND_BATCH);
      const storeStarted = performance.now();
      for (const batch of viaStore) await store.append(batch);
      appendRuns.sealing.push((APPEND_BATCHES * APPEND_BATCH) / ((performance.now() - storeStarted) / 1000));
      const logStarted = performance.now();
      for (const batch of sealed) await store.log.append(batch);
      appendRuns.log.push((APPEND_BATCHES * APPEND_BATCH) / ((performance.now() - logStarted) / 1000));
    }
    const sealingAppend = median(appendRuns.sealing);
    const logAppend = median(appendRuns.log);
    console.log(
      `${label} append 100-event batches (${(appendShare * 100).toFixed(0)} % with personal fields): sealing store ${format(sealingAppend)} events/s, log given sealed batches ${format(logAppend)} events/s, ratio ${(sealingAppend / logAppend).toFixed(2)}`,
    );

    return {
      description: subject.description,
      events: total,
      historyEvents: events.length,
      accounts: ACCOUNTS,
      sealedEvents: sealedCount,
      sealedShare: share,
      fill: { seconds: fillSeconds, eventsPerSecond: events.length / fillSeconds, batch: FILL_BATCH },
      readAll: { aim: AIM, freshStoreKeysLookedUp: cold, keysCached: cached, keysCachedCallingThread: cachedHere, cpus: availableParallelism() },
      decipherAlone: { parts: parts.length, secondsPerPart: floorPerPart, runs: floorRuns, overheadOnLogRead: floorOverhead },
      erasure: erasures,
      retention: { loans: RETENTION_LOANS, batch: RETENTION_BATCH, appendedMs: median(passes.appended), keysGoneMs: median(passes.keysGone), runs: passes },
      append: { batch: APPEND_BATCH, batches: APPEND_BATCHES, sealingEventsPerSecond: sealingAppend, logEventsPerSecond: logAppend, ratio: sealingAppend / logAppend, share: appendShare, runs: appendRuns },
    };
  } finally {
    await store.close();
  }
};

export async function benchPersonalData(options: { pgUrl?: string; schemaPrefix?: string }): Promise<Record<string, unknown>> {
  const schemaPrefix = options.schemaPrefix ?? "bench";
  const temp = mkdtempSync(path.join(os.tmpdir(), "linked-accounts-bench-personal-"));
  const schema = `${schemaPrefix}_personal_${process.pid}`;
  const subjects: Subject[] = [
    {
      name: "sqlite",
      description: "a file, WAL, durability full (synchronous=FULL)",
      open: async (personalData) =>
        createSqliteEventStore({ path: path.join(temp, "personal.sqlite"), durability: "full", ...(personalData === undefined ? {} : { personalData }) }),
    },
  ];
  if (options.pgUrl !== undefined) {
    const connectionString = options.pgUrl;
    subjects.push({
      name: "postgres",
      description: "a local server, default settings",
      open: (personalData) => createPostgresEventStore({ connectionString, schema, ...(personalData === undefined ? {} : { personalData }) }),
    });
  } else console.log("personal postgres skipped: no PostgreSQL URL given (set PG_TEST_URL)");

  const results: Record<string, unknown> = {
    runs: RUNS,
    notes:
      "Medians of 5, the paired reads run alternately in the same run. log: store.log.readAll() (read and decoded, personal fields sealed). opened: store.readAll() (read, decoded, keys looked up, decrypted, the opened event validated). Fresh store: a store opened anew for each read, so every key is looked up in the key store; keys cached: a store that read everything once, with keyCacheMs of an hour. Both decipher pages of many sealed events on the store's worker thread while the next page is read (the default with more than one CPU); 'on the calling thread': openInWorker false. Overhead: how much longer an event takes to read opened than sealed (log rate / opened rate - 1); the aim is at most 25 %. Erasure and retention times start when the erasing events are handed to the store's append.",
  };
  try {
    const only = process.env.BENCH_PERSONAL_STORES?.split(",");
    for (const subject of subjects) {
      if (only !== undefined && !only.includes(subject.name)) continue;
      results[subject.name] = await measure(subject);
    }
  } finally {
    if (options.pgUrl !== undefined) {
      const client = new pg.Client({ connectionString: options.pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
    rmSync(temp, { recursive: true, force: true });
  }
  return results;
}
