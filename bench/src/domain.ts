/**
 * The pure domain's speed: folding a synthetic history of over a million events
 * with `fold(libraryDecider(), events)` (the whole-library replay: `evolveAll`,
 * which writes into builders of its own and hands out persistent maps) and
 * stream by stream with the pure single-step `evolve` functions (as the command
 * handler folds), and deciding ConnectAccount and RenewLoan commands against the
 * state it folds to. No I/O, no hashing: proofs are given. The history comes
 * from a cheap deterministic generator (an LCG), not fast-check.
 *
 * Issue 11's aims for the domain are printed beside the figures: a whole
 * library's history folded at 2,000,000 events/s or more, and 300,000 decisions/s
 * or more. Each figure is also given per CPU-second of this process (its user
 * and system time, garbage collection included), which a busy shared machine
 * disturbs less than wall-clock time; read both against the calibration line.
 */
import { performance } from "node:perf_hooks";
import * as E from "fp-ts/lib/Either.js";
import {
  type CirculationEvent,
  type CommandOf,
  type DomainEvent,
  type Direction,
  type LibraryState,
  type LinkingEvent,
  canonicalBarcode,
  evolveCirculation,
  evolveLinking,
  fold,
  initialCirculationState,
  initialLinkingState,
  isLinkingEvent,
  libraryDecider,
  pairKey,
  phrasesToCheck,
} from "@linked-accounts/domain/internal";
import { median } from "./stats.js";

const ACCOUNTS = 60_000;
const TARGET_EVENTS = 1_100_000;
const COMMANDS = 200_000;
const REPEATS = 5;
/** Issue 11's aims: a whole library's history folded at this many events/s, and decisions/s (connect, renew). */
const AIM_FOLD_EVENTS_PER_SECOND = 2_000_000;
const AIM_DECIDE_PER_SECOND = 300_000;
const START = Date.parse("2026-01-05T08:00:00.000Z");
const DAY = 86_400_000;

/** A small deterministic random source (numerical recipes LCG), for the generator only. */
const lcg = (seed: number) => {
  let s = seed >>> 0;
  return (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 0x1_0000_0000) * n);
  };
};

const accountId = (i: number) => `acct${i}`;
const barcodeOf = (i: number) => `B${100000 + i}`;
const hashOf = (phraseId: string) => `hash${phraseId}`;

interface Synthetic {
  readonly events: DomainEvent[];
  readonly endMs: number;
  /** Each issuer's newest phrase: [issuer, phraseId]. */
  readonly issuers: ReadonlyArray<readonly [number, string]>;
  /** Open loans with a manager that may renew them: [manager, account, loanId, dueMs]. */
  readonly managedLoans: ReadonlyArray<readonly [number, number, string, number]>;
  readonly ownLoans: ReadonlyArray<readonly [number, string, number]>;
}

/**
 * Over a million events (or `target`, on `accounts` accounts): mostly
 * circulation on many accounts, plus linking.
 */
export const syntheticHistory = (target = TARGET_EVENTS, accounts = ACCOUNTS): Synthetic => {
  const rand = lcg(20260303);
  const events: DomainEvent[] = [];
  let t = START;
  const now = () => new Date(t).toISOString();
  const tick = () => {
    t += 400;
    return now();
  };
  const minor = (i: number) => i % 11 === 0;
  for (let i = 0; i < accounts; i++)
    events.push({ type: "AccountRegistered", data: { accountId: accountId(i), barcode: barcodeOf(i), minor: minor(i), registeredAt: tick() } });

  const current = new Map<number, { phraseId: string; direction: Direction }>();
  let phraseCount = 0;
  const issue = (i: number) => {
    const direction: Direction = minor(i) || rand(2) === 0 ? "two-way" : "one-way";
    const old = current.get(i);
    const at = tick();
    if (old !== undefined && old.direction === direction)
      events.push({ type: "SharePhraseRevoked", data: { phraseId: old.phraseId, issuerAccountId: accountId(i), reason: "superseded", revokedAt: at } });
    const phraseId = `phrase${++phraseCount}`;
    events.push({
      type: "SharePhraseIssued",
      data: {
        phraseId,
        issuerAccountId: accountId(i),
        direction,
        verifier: { algorithm: "scrypt", salt: `salt${phraseCount}`, hash: hashOf(phraseId), N: 16384, r: 8, p: 1 },
        issuedAt: at,
        expiresAt: new Date(t + 7 * DAY).toISOString(),
      },
    });
    current.set(i, { phraseId, direction });
  };
  for (let i = 0; i < accounts; i += 3) issue(i);

  const links: Array<{ linkId: string; issuer: number; connector: number; direction: Direction; revoked: boolean }> = [];
  const openLoans: Array<Array<[string, number]>> = Array.from({ length: accounts }, () => []);
  const openHolds: Array<Array<[string, boolean]>> = Array.from({ length: accounts }, () => []);
  let loanCount = 0;
  let holdCount = 0;
  const issuerIds = [...current.keys()];

  while (events.length < target) {
    const r = rand(1000);
    const a = rand(accounts);
    const at = tick();
    if (r < 20) {
      const issuer = issuerIds[rand(issuerIds.length)]!;
      const phrase = current.get(issuer)!;
      if (issuer === a) continue;
      const linkId = `link${links.length + 1}`;
      links.push({ linkId, issuer, connector: a, direction: phrase.direction, revoked: false });
      events.push({
        type: "AccountConnected",
        data: { linkId, phraseId: phrase.phraseId, issuerAccountId: accountId(issuer), connectedAccountId: accountId(a), direction: phrase.direction, connectedAt: at },
      });
    } else if (r < 23 && links.length > 0) {
      const link = links[rand(links.length)]!;
      if (link.revoked) continue;
      link.revoked = true;
      events.push({ type: "LinkRevoked", data: { linkId: link.linkId, revokedBy: { kind: "account", accountId: accountId(link.connector) }, reason: "", revokedAt: at } });
    } else if (r < 28) {
      const issuer = issuerIds[rand(issuerIds.length)]!;
      events.push({
        type: "ConnectionAttemptFailed",
        data: { connectorAccountId: accountId(a), attemptedBarcode: barcodeOf(issuer), issuerAccountId: accountId(issuer), reason: "phrase-mismatch", attemptedAt: at },
      });
    } else if (r < 30) {
      if (!current.has(a)) issuerIds.push(a);
      issue(a);
    } else if (r < 330 || openLoans[a]!.length === 0) {
      const loanId = `loan${++loanCount}`;
      const due = t + 21 * DAY;
      openLoans[a]!.push([loanId, due]);
      events.push({
        type: "ItemCheckedOut",
        data: { loanId, accountId: accountId(a), itemId: `item${rand(100_000)}`, title: "A synthetic book", format: rand(4) === 0 ? "digital" : "physical", checkedOutAt: at, dueAt: new Date(due).toISOString() },
      });
    } else if (r < 580) {
      const loans = openLoans[a]!;
      const loan = loans[rand(loans.length)]!;
      loan[1] += 14 * DAY;
      events.push({ type: "LoanRenewed", data: { loanId: loan[0], accountId: accountId(a), dueAt: new Date(loan[1]).toISOString(), renewedBy: accountId(a), renewedAt: at } });
    } else if (r < 720) {
      const loans = openLoans[a]!;
      const [loan] = loans.splice(rand(loans.length), 1);
      events.push({ type: "ItemReturned", data: { loanId: loan![0], accountId: accountId(a), returnedAt: at } });
    } else if (r < 850 || openHolds[a]!.length === 0) {
      const holdId = `hold${++holdCount}`;
      openHolds[a]!.push([holdId, false]);
      events.push({ type: "HoldPlaced", data: { holdId, accountId: accountId(a), itemId: `item${rand(100_000)}`, title: "A synthetic book", pickupBranch: "Central", placedAt: at } });
    } else {
      const holds = openHolds[a]!;
      const i = rand(holds.length);
      const hold = holds[i]!;
      const s = rand(4);
      if (s === 0 && !hold[1]) {
        hold[1] = true;
        events.push({ type: "HoldSuspended", data: { holdId: hold[0], accountId: accountId(a), until: new Date(t + 10 * DAY).toISOString(), suspendedBy: accountId(a), suspendedAt: at } });
      } else if (s === 1 && hold[1]) {
        hold[1] = false;
        events.push({ type: "HoldResumed", data: { holdId: hold[0], accountId: accountId(a), resumedBy: accountId(a), resumedAt: at } });
      } else if (s === 2) {
        holds.splice(i, 1);
        events.push({ type: "HoldCancelled", data: { holdId: hold[0], accountId: accountId(a), cancelledBy: accountId(a), cancelledAt: at } });
      } else {
        holds.splice(i, 1);
        events.push({ type: "HoldFulfilled", data: { holdId: hold[0], accountId: accountId(a), fulfilledAt: at } });
      }
    }
  }

  const managedLoans: Array<readonly [number, number, string, number]> = [];
  for (const link of links) {
    if (link.revoked || minor(link.issuer)) continue;
    for (const [loanId, due] of openLoans[link.connector]!) managedLoans.push([link.issuer, link.connector, loanId, due]);
  }
  const ownLoans: Array<readonly [number, string, number]> = [];
  openLoans.forEach((loans, a) => loans.forEach(([loanId, due]) => ownLoans.push([a, loanId, due])));
  return {
    events,
    endMs: t,
    issuers: [...current.entries()].map(([i, p]) => [i, p.phraseId] as const),
    managedLoans,
    ownLoans,
  };
};

/** Seconds of wall-clock time `f` took; `cpu`, if given, gets the CPU seconds of this process (user and system) over the same span. */
const timed = (f: () => void, cpu?: number[]): number => {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  f();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpuBefore);
  cpu?.push((used.user + used.system) / 1e6);
  return seconds;
};

export async function benchDomain(): Promise<Record<string, unknown>> {
  const built = performance.now();
  const history = syntheticHistory();
  const buildSeconds = (performance.now() - built) / 1000;
  const decider = libraryDecider();
  const { events } = history;

  // Folding: the whole history from the initial state, five times, as a replay
  // does (`fold` takes the decider's `evolveAll`, the transient replay).
  if (decider.evolveAll === undefined) throw new Error("libraryDecider() has no evolveAll: this would time the step-by-step fold, not the replay");
  let state: LibraryState = decider.initialState;
  const foldRates: number[] = [];
  const foldCpu: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    foldRates.push(events.length / timed(() => (state = fold(decider, events)), foldCpu));
  }

  // Folding stream by stream, as the command handler and a per-stream replay do:
  // the linking stream into one LinkingState, each account's circulation stream
  // into its own small CirculationState. (Grouping is not timed.)
  const linkingEvents: LinkingEvent[] = [];
  const byAccount = new Map<string, CirculationEvent[]>();
  for (const e of events) {
    if (isLinkingEvent(e)) linkingEvents.push(e);
    else {
      const stream = byAccount.get(e.data.accountId);
      if (stream === undefined) byAccount.set(e.data.accountId, [e]);
      else stream.push(e);
    }
  }
  const circulationStreams = [...byAccount.values()];
  const linkingRates: number[] = [];
  const circulationRates: number[] = [];
  const perStreamRates: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const linkingSeconds = timed(() => {
      let s = initialLinkingState;
      for (const e of linkingEvents) s = evolveLinking(s, e);
    });
    const circulationSeconds = timed(() => {
      for (const stream of circulationStreams) {
        let s = initialCirculationState;
        for (const e of stream) s = evolveCirculation(s, e);
      }
    });
    linkingRates.push(linkingEvents.length / linkingSeconds);
    circulationRates.push((events.length - linkingEvents.length) / circulationSeconds);
    perStreamRates.push(events.length / (linkingSeconds + circulationSeconds));
  }

  // Deciding, against the folded state, with the clock an hour after the last event.
  const rand = lcg(7);
  const now = new Date(history.endMs + 3_600_000).toISOString();
  const connects: Array<CommandOf<"ConnectAccount">> = [];
  for (let i = 0; i < COMMANDS; i++) {
    const [issuer] = history.issuers[rand(history.issuers.length)]!;
    let connector = rand(ACCOUNTS);
    if (connector === issuer) connector = (connector + 1) % ACCOUNTS;
    const barcode = barcodeOf(issuer);
    const right = rand(4) !== 0;
    const proofs = phrasesToCheck(state.linking, barcode).map((p) => ({
      phraseId: p.phraseId,
      hash: right ? p.verifier.hash : `wrong${i}`,
    }));
    connects.push({
      type: "ConnectAccount",
      commandId: `c${i}`,
      actor: { kind: "account", accountId: accountId(connector) },
      now,
      connectorAccountId: accountId(connector),
      barcode,
      linkId: `newlink${i}`,
      proofs,
    });
  }
  const renews: Array<CommandOf<"RenewLoan">> = [];
  for (let i = 0; i < COMMANDS; i++) {
    const byManager = rand(2) === 0 && history.managedLoans.length > 0;
    const [actor, account, loanId, due] = byManager
      ? history.managedLoans[rand(history.managedLoans.length)]!
      : (() => {
          const [a, l, d] = history.ownLoans[rand(history.ownLoans.length)]!;
          return [a, a, l, d] as const;
        })();
    renews.push({
      type: "RenewLoan",
      commandId: `r${i}`,
      actor: { kind: "account", accountId: accountId(actor) },
      now,
      loanId,
      accountId: accountId(account),
      dueAt: new Date(due + 14 * 86_400_000).toISOString(),
    });
  }

  const decideAll = (commands: ReadonlyArray<CommandOf<"ConnectAccount"> | CommandOf<"RenewLoan">>) => {
    let accepted = 0;
    for (const c of commands) if (E.isRight(decider.decide(c, state))) accepted++;
    return accepted;
  };
  const connectRates: number[] = [];
  const renewRates: number[] = [];
  const connectCpu: number[] = [];
  const renewCpu: number[] = [];
  let acceptedConnects = 0;
  let acceptedRenews = 0;
  for (let i = 0; i < REPEATS; i++) {
    connectRates.push(COMMANDS / timed(() => (acceptedConnects = decideAll(connects)), connectCpu));
    renewRates.push(COMMANDS / timed(() => (acceptedRenews = decideAll(renews)), renewCpu));
  }

  // Floors: the lookups no fold or decision can do without, each timed alone over
  // the same data, so that a missed aim shows whether the code or this machine
  // sets the pace. A fold must at least find, for each event, the state it
  // changes: one Map lookup by the id the event names. A decision must at least
  // find the records its rules read, each by its own key: for a renewal the
  // account and the loan, and for a manager the manager and the pair's links
  // too; for a connection the issuer (by barcode), its phrases, the connector
  // and the pair's links. Lookups only, into Maps keyed as the state is (the
  // library's accounts, every loan, every linked pair): nothing is decided.
  const accountIndex = new Map<string, number>();
  for (let i = 0; i < ACCOUNTS; i++) accountIndex.set(accountId(i), i);
  const loanIndex = new Map<string, true>();
  const pairIndex = new Map<string, true>();
  const barcodeIndex = new Map<string, string>();
  const phraseIndex = new Map<string, string>();
  for (const e of events)
    if (e.type === "ItemCheckedOut") loanIndex.set(e.data.loanId, true);
    else if (e.type === "AccountConnected") pairIndex.set(pairKey(e.data.issuerAccountId, e.data.connectedAccountId), true);
    else if (e.type === "AccountRegistered") barcodeIndex.set(canonicalBarcode(e.data.barcode), e.data.accountId);
    else if (e.type === "SharePhraseIssued") phraseIndex.set(e.data.issuerAccountId, e.data.phraseId);
  /** The id an event is about, as a fold would find its state by. */
  const idNamed = (e: DomainEvent): string => {
    const d = e.data as { accountId?: string; issuerAccountId?: string; linkId?: string };
    return d.accountId ?? d.issuerAccountId ?? d.linkId ?? "";
  };
  let found = 0;
  const lookupRates: number[] = [];
  const lookupAndRecordRates: number[] = [];
  const connectLookupRates: number[] = [];
  const renewLookupRates: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    lookupRates.push(
      events.length /
        timed(() => {
          for (const e of events) if (accountIndex.get(idNamed(e)) !== undefined) found++;
        }),
    );
    // And a state that can find a loan or hold by its id, as renewals and returns
    // need, must also record each new one under its id: one Map.set of a new key
    // (and the record's allocation) per checkout or hold placed.
    lookupAndRecordRates.push(
      events.length /
        timed(() => {
          const records = new Map<string, { readonly at: number }>();
          for (const e of events) {
            if (accountIndex.get(idNamed(e)) !== undefined) found++;
            if (e.type === "ItemCheckedOut") records.set(e.data.loanId, { at: found });
            else if (e.type === "HoldPlaced") records.set(e.data.holdId, { at: found });
          }
          found += records.size;
        }),
    );
    connectLookupRates.push(
      COMMANDS /
        timed(() => {
          for (const c of connects) {
            const issuer = barcodeIndex.get(canonicalBarcode(c.barcode));
            if (issuer === undefined) continue;
            if (phraseIndex.get(issuer) !== undefined) found++;
            if (accountIndex.get(c.connectorAccountId) !== undefined) found++;
            if (pairIndex.get(pairKey(issuer, c.connectorAccountId)) !== undefined) found++;
          }
        }),
    );
    renewLookupRates.push(
      COMMANDS /
        timed(() => {
          for (const c of renews) {
            if (accountIndex.get(c.accountId) !== undefined) found++;
            if (loanIndex.get(c.loanId) !== undefined) found++;
            const actor = c.actor.kind === "account" ? c.actor.accountId : c.accountId;
            if (actor !== c.accountId && accountIndex.get(actor) !== undefined && pairIndex.get(pairKey(actor, c.accountId)) !== undefined) found++;
          }
        }),
    );
  }
  if (found === 0) throw new Error("the floors found nothing: they would time lookups that miss");

  const figures = {
    events: events.length,
    accounts: state.linking.accounts.size,
    links: state.linking.links.size,
    buildSeconds: Math.round(buildSeconds * 100) / 100,
    foldEventsPerSecond: Math.round(median(foldRates)),
    foldEventsPerCpuSecond: Math.round(events.length / median(foldCpu)),
    foldPerStreamEventsPerSecond: Math.round(median(perStreamRates)),
    foldLinkingStreamEventsPerSecond: Math.round(median(linkingRates)),
    foldCirculationStreamsEventsPerSecond: Math.round(median(circulationRates)),
    linkingEvents: linkingEvents.length,
    circulationStreams: circulationStreams.length,
    decideConnectPerSecond: Math.round(median(connectRates)),
    decideConnectPerCpuSecond: Math.round(COMMANDS / median(connectCpu)),
    decideRenewPerSecond: Math.round(median(renewRates)),
    decideRenewPerCpuSecond: Math.round(COMMANDS / median(renewCpu)),
    floors: {
      lookupPerEventEventsPerSecond: Math.round(median(lookupRates)),
      lookupPerEventAndNewRecordsEventsPerSecond: Math.round(median(lookupAndRecordRates)),
      connectLookupsPerSecond: Math.round(median(connectLookupRates)),
      renewLookupsPerSecond: Math.round(median(renewLookupRates)),
      loans: loanIndex.size,
      linkedPairs: pairIndex.size,
    },
    aims: { foldEventsPerSecond: AIM_FOLD_EVENTS_PER_SECOND, decidePerSecond: AIM_DECIDE_PER_SECOND },
    connectCommands: COMMANDS,
    connectAccepted: acceptedConnects,
    renewCommands: COMMANDS,
    renewAccepted: acceptedRenews,
    repeats: REPEATS,
  };
  const n = (x: number) => Math.round(x).toLocaleString("en-NZ");
  /** `rate` against `aim`: "met" or the share of it reached. */
  const against = (rate: number, aim: number) => (rate >= aim ? `aim ${n(aim)}/s met` : `${Math.round((100 * rate) / aim)}% of the aim ${n(aim)}/s`);
  console.log(
    `domain: fold ${n(figures.foldEventsPerSecond)} events/s, ${against(figures.foldEventsPerSecond, AIM_FOLD_EVENTS_PER_SECOND)}; ${n(figures.foldEventsPerCpuSecond)} events/cpu-s (whole-library replay, median of ${REPEATS}, ${n(events.length)} events, ${n(figures.accounts)} accounts)`,
  );
  console.log(
    `domain: fold stream by stream ${n(figures.foldPerStreamEventsPerSecond)} events/s: linking stream ${n(figures.foldLinkingStreamEventsPerSecond)}/s (${n(linkingEvents.length)} events), ${n(circulationStreams.length)} circulation streams ${n(figures.foldCirculationStreamsEventsPerSecond)}/s (median of ${REPEATS})`,
  );
  console.log(
    `domain: decide ConnectAccount ${n(figures.decideConnectPerSecond)} commands/s, ${against(figures.decideConnectPerSecond, AIM_DECIDE_PER_SECOND)}; ${n(figures.decideConnectPerCpuSecond)}/cpu-s (median of ${REPEATS}, ${n(COMMANDS)} commands)`,
  );
  console.log(
    `domain: decide RenewLoan ${n(figures.decideRenewPerSecond)} commands/s, ${against(figures.decideRenewPerSecond, AIM_DECIDE_PER_SECOND)}; ${n(figures.decideRenewPerCpuSecond)}/cpu-s (median of ${REPEATS}, ${n(COMMANDS)} commands)`,
  );
  console.log(
    `domain: floors, each alone over the same data: one Map lookup per event by the id it names ${n(figures.floors.lookupPerEventEventsPerSecond)} events/s, and with each new loan or hold recorded under its id ${n(figures.floors.lookupPerEventAndNewRecordsEventsPerSecond)} events/s (the fold's aim ${n(AIM_FOLD_EVENTS_PER_SECOND)}/s); the lookups a ConnectAccount needs ${n(figures.floors.connectLookupsPerSecond)}/s, a RenewLoan ${n(figures.floors.renewLookupsPerSecond)}/s (decide's aim ${n(AIM_DECIDE_PER_SECOND)}/s) (median of ${REPEATS})`,
  );
  return figures;
}
