/**
 * Issue 12: the audit survives erasure and retention. Over random valid
 * histories (the domain's generator), replayed into a sealing in-memory store,
 * with erasures of accounts closed at that moment (`AccountErased`) and
 * retention's forgetting of loans returned and holds closed at that moment
 * (`LoanDetailsForgotten`, `HoldDetailsForgotten`) inserted at random moments:
 * the read models built from that store answer every audit question as the
 * read models of the same history without the insertions do, as of every
 * original event's position (mapped across the inserted events) and now, except
 * that an erased account's barcode reads `[erased]` and finds no one, and an
 * erased account's or forgotten item's details read `[erased]`. Current loans
 * and open holds are unchanged by retention.
 *
 * Each insertion is appended on its own, as the command would (`eraseAccount`,
 * `applyRetention`), with the tags and metadata the handler gives such an
 * event. The read models are checked twice: folded live, one append at a time
 * (so a registration is folded in the clear and its erasure later, as a running
 * host's runner would), and rebuilt from the store afterwards (every sealed
 * field of a forgotten key already `[erased]`); the two must also serialise to
 * the same checkpoint.
 *
 * An account is erased only when no later event of the history would be sealed
 * under its key: the history was played without erasures, and the store refuses
 * to seal anything under an erased name (a connection attempt naming the
 * account's barcode, say, which after a real erasure would name no one).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type NewEvent, type RecordedEvent, type SealingEventStore, createInMemoryEventStore } from "@linked-accounts/adapters";
import { sampleMetadata } from "@linked-accounts/adapters/contract";
import {
  type Actor,
  type CirculationState,
  type DomainEvent,
  type EventType,
  type Id,
  type Policy,
  ERASED,
  commandTag,
  defaultPolicy,
  initialLinkingState,
  makePolicy,
  personalFieldsOf,
  personalPartOf,
  tagsOf,
} from "@linked-accounts/domain/internal";
import { type History, move, playHistory } from "@linked-accounts/domain/testing";
import { type AccessView, type AccountInfo, type Explanation, accessAsOf, accessGraphProjectionUnder, accessNow } from "./access-graph.js";
import { timelineOf } from "./audit-timeline.js";
import { loansFor } from "./linked-loans.js";
import { type Projection, foldEvents } from "./projection.js";
import { type ReadModelsState, readModelsProjectionUnder } from "./read-models.js";
import { createRunner } from "./runner.js";

const numRuns = Number(process.env["FC_RUNS"] ?? 40);

type Insertion =
  | { readonly kind: "erase"; readonly accountId: Id }
  | { readonly kind: "loan"; readonly accountId: Id; readonly loanId: Id }
  | { readonly kind: "hold"; readonly accountId: Id; readonly holdId: Id };

interface Pick {
  readonly at: number;
  readonly kind: Insertion["kind"];
  readonly which: number;
}

const STAFF: Actor = { kind: "staff", staffId: "privacy-officer" };
const SYSTEM: Actor = { kind: "system" };

/** The event an insertion stands for, tagged and stamped as the command handler would (the command's own tag among its tags). */
const forgetting = (insertion: Insertion, occurredAt: string, n: number): NewEvent => {
  const commandId = `erasure-cmd-${n}`;
  const event: DomainEvent =
    insertion.kind === "erase"
      ? { type: "AccountErased", data: { accountId: insertion.accountId, erasedAt: occurredAt } }
      : insertion.kind === "loan"
        ? { type: "LoanDetailsForgotten", data: { loanId: insertion.loanId, accountId: insertion.accountId, retentionDays: 1, forgottenAt: occurredAt } }
        : { type: "HoldDetailsForgotten", data: { holdId: insertion.holdId, accountId: insertion.accountId, retentionDays: 1, forgottenAt: occurredAt } };
  const actor = insertion.kind === "erase" ? STAFF : SYSTEM;
  return {
    ...event,
    metadata: sampleMetadata(0, { occurredAt, actor, channel: actor.kind === "staff" ? "desk" : "system", causationId: commandId }),
    tags: [...tagsOf(event, initialLinkingState), commandTag(commandId)],
  } as NewEvent;
};

/** Each step's events, tagged as the handler tags them (a revocation by its link's parties, from the state it was decided on). */
const taggedSteps = (h: History): ReadonlyArray<ReadonlyArray<NewEvent>> =>
  h.steps.map((step) =>
    step.appended.map((e) => ({ ...e, tags: [...tagsOf(e, step.stateBefore.linking), commandTag(step.command.commandId)] }) as NewEvent),
  );

/**
 * Where to insert what: each pick looks from a random step onwards for the first
 * moment with something to forget of its kind (an account closed by then and
 * never sealed under again, a loan returned, a hold fulfilled or cancelled),
 * and inserts it after that step. Nothing is forgotten twice; as retention, no
 * item of an account already erased.
 */
const plan = (h: History, steps: ReadonlyArray<ReadonlyArray<NewEvent>>, picks: ReadonlyArray<Pick>): Map<number, Insertion[]> => {
  // The last step that seals anything under an account's key.
  const lastSealed = new Map<string, number>();
  steps.forEach((events, i) => {
    for (const e of events) for (const s of personalPartOf(e as DomainEvent, e.tags)?.subjects ?? []) lastSealed.set(s, i);
  });
  const out = new Map<number, Insertion[]>();
  const erasedAt = new Map<Id, number>();
  const forgotten = new Set<Id>();
  const sortedPicks = [...picks].map((p) => ({ ...p, at: p.at % h.steps.length })).sort((a, b) => a.at - b.at);
  for (const pick of sortedPicks) {
    for (let i = pick.at; i < h.steps.length; i++) {
      const state = h.steps[i]!.stateAfter;
      const erasedBy = (id: Id) => (erasedAt.get(id) ?? Infinity) <= i;
      const candidates: Insertion[] = [];
      if (pick.kind === "erase") {
        for (const a of state.linking.accounts.values())
          if (a.closed && !erasedAt.has(a.accountId) && (lastSealed.get(`account:${a.accountId}`) ?? -1) <= i) {
            candidates.push({ kind: "erase", accountId: a.accountId });
            // An account with links is what the audit is about: picked twice as often.
            if ([...state.linking.links.values()].some((l) => l.issuerAccountId === a.accountId || l.connectedAccountId === a.accountId))
              candidates.push({ kind: "erase", accountId: a.accountId });
          }
      } else
        for (const [accountId, c] of state.circulation.entries()) {
          if (erasedBy(accountId)) continue;
          if (pick.kind === "loan") {
            for (const l of c.loans.values()) if (l.returned && !forgotten.has(l.loanId)) candidates.push({ kind: "loan", accountId, loanId: l.loanId });
          } else
            for (const hd of c.holds.values())
              if ((hd.status === "fulfilled" || hd.status === "cancelled") && !forgotten.has(hd.holdId)) candidates.push({ kind: "hold", accountId, holdId: hd.holdId });
        }
      if (candidates.length === 0) continue;
      const chosen = candidates[pick.which % candidates.length]!;
      if (chosen.kind === "erase") erasedAt.set(chosen.accountId, i);
      else forgotten.add(chosen.kind === "loan" ? chosen.loanId : chosen.holdId);
      out.set(i, [...(out.get(i) ?? []), chosen]);
      break;
    }
  }
  return out;
};

const readAll = async (store: SealingEventStore, from = 1n): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll({ from })) out.push(e);
  return out;
};

const withoutPositions = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (typeof v === "bigint" ? "·" : v)));

/** An explanation with every position mapped from the history's store to the one with insertions. */
const mapped = (x: Explanation, pos: (p: bigint) => bigint): Explanation => {
  if (x.granted) return x.self ? x : { ...x, sources: x.sources.map((s) => ({ ...s, connectedPosition: pos(s.connectedPosition), since: pos(s.since) })) };
  return { ...x, refusals: x.refusals.map((r) => ("position" in r ? { ...r, position: pos(r.position) } : r)) };
};

/** An event's data with its personal fields as they read once forgotten. */
const withFieldsErased = (type: EventType, data: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, personalFieldsOf(type).includes(k) ? ERASED : v]));

const erasedCirculation = (c: CirculationState): CirculationState => ({
  ...c,
  loans: new Map([...c.loans].map(([id, l]) => [id, { ...l, itemId: ERASED, title: ERASED }])),
  holds: new Map([...c.holds].map(([id, h]) => [id, { ...h, itemId: ERASED, title: ERASED, pickupBranch: ERASED }])),
});

/** A circulation as the history left it, after its own retention and erasure. */
const expectedCirculation = (c: CirculationState, erased: boolean, forgotten: ReadonlySet<Id>): CirculationState => {
  const after: CirculationState = {
    ...c,
    loans: new Map([...c.loans].map(([id, l]) => [id, forgotten.has(id) ? { ...l, itemId: ERASED, title: ERASED, detailsForgotten: true } : l])),
    holds: new Map(
      [...c.holds].map(([id, h]) => [id, forgotten.has(id) ? { ...h, itemId: ERASED, title: ERASED, pickupBranch: ERASED, detailsForgotten: true } : h]),
    ),
  };
  return erased ? erasedCirculation(after) : after;
};

/**
 * The domain's random histories, with more of what erasure and retention are
 * about: accounts closed, loans returned, holds fulfilled or cancelled (the
 * generator's own weights make each rare).
 */
const historyWithEndings = (policy: Policy): fc.Arbitrary<History> =>
  fc
    .array(
      fc.oneof(
        { weight: 12, arbitrary: move() },
        ...(["close", "return", "return", "fulfil-hold", "cancel-hold"] as const).map((kind) => ({ weight: 1, arbitrary: move().map((m) => ({ ...m, kind })) })),
      ),
      { minLength: 30, maxLength: 120 },
    )
    .map((plan) => playHistory(plan, { maxMoves: 120, policy }));

interface Seen {
  runs: number;
  erasures: number;
  erasedWithLinks: number;
  loans: number;
  holds: number;
  erasedBarcodeFoundBefore: number;
}

const property = (policy: Policy, seen: Seen) =>
  fc.asyncProperty(
    historyWithEndings(policy).chain((h) =>
      fc
        .array(fc.record({ at: fc.nat(), kind: fc.constantFrom("erase", "erase", "erase", "loan", "hold") as fc.Arbitrary<Insertion["kind"]>, which: fc.nat() }), {
          maxLength: 10,
        })
        .map((picks) => ({ h, picks })),
    ),
    async ({ h, picks }) => {
      fc.pre(h.events.length > 0);
      const projection: Projection<ReadModelsState> = readModelsProjectionUnder(policy);
      const steps = taggedSteps(h);
      const insertions = plan(h, steps, picks);

      // The history alone, and the history with its erasures and forgettings.
      const plain = createInMemoryEventStore();
      const store = createInMemoryEventStore();
      const live = projection.initial();
      let applied = 0n;
      const catchUp = async () => {
        for (const e of await readAll(store, applied + 1n)) {
          projection.evolve(live, e);
          applied = e.position;
        }
      };
      let lastTime = h.events[0]!.metadata.occurredAt;
      let n = 0;
      for (let i = 0; i < steps.length; i++) {
        const events = steps[i]!;
        if (events.length > 0) {
          await plain.append(events);
          await store.append(events);
          await catchUp();
          lastTime = events.at(-1)!.metadata.occurredAt;
        }
        // Dated at the moment they are inserted: the running maximum of occurredAt, and so every as-of time, is unchanged.
        for (const insertion of insertions.get(i) ?? []) {
          await store.append([forgetting(insertion, lastTime, n++)]);
          await catchUp();
        }
      }
      const all = [...insertions.values()].flat();
      const erased = new Set(all.flatMap((x) => (x.kind === "erase" ? [x.accountId] : [])));
      const forgotten = new Set(all.flatMap((x) => (x.kind === "loan" ? [x.loanId] : x.kind === "hold" ? [x.holdId] : [])));

      const base = await readAll(plain);
      const withInsertions = await readAll(store);
      expect(withInsertions.length).toBe(base.length + all.length);
      const rebuilt = foldEvents(projection, withInsertions);
      // The access graph as a runner rebuilds it from the store: from the log, only registrations opened (sealed-reads.ts).
      const graphProjection = accessGraphProjectionUnder(policy);
      const runner = createRunner({ source: store, projection: graphProjection, batchSize: 7 });
      await runner.catchUp();
      expect(graphProjection.serialise(runner.state())).toEqual(graphProjection.serialise(rebuilt.access));
      const history = foldEvents(projection, base);

      // Original events by id: their position without and with the insertions.
      const positionOf = new Map(withInsertions.map((e) => [e.metadata.eventId, e.position]));
      const posMap = new Map(base.map((e) => [e.position, positionOf.get(e.metadata.eventId)!]));
      const pos = (p: bigint): bigint => {
        const q = posMap.get(p);
        if (q === undefined) throw new Error(`no event at position ${p} of the history`);
        return q;
      };

      const accounts = [...h.finalState.linking.accounts.values()].map((a) => a.accountId);
      const originalIds = new Set(base.map((e) => e.metadata.eventId));
      const subjectsOf = new Map(base.map((e) => [e.metadata.eventId, personalPartOf(e, e.tags)?.subjects ?? []]));
      const forgottenSubjects = new Set(all.map((x) => (x.kind === "erase" ? `account:${x.accountId}` : x.kind === "loan" ? `loan:${x.loanId}` : `hold:${x.holdId}`)));
      const barcodes = new Map<Id, string>();
      for (const e of base) if (e.type === "AccountRegistered") barcodes.set(e.data.accountId, e.data.barcode);
      const expectInfo = (info: AccountInfo | undefined): AccountInfo | undefined =>
        info !== undefined && erased.has(info.accountId) ? { ...info, barcode: ERASED } : info;

      // The store itself: every personal field sealed under a forgotten subject reads [erased], every other as written.
      const baseById = new Map(base.map((e) => [e.metadata.eventId, e]));
      for (const e of withInsertions) {
        const original = baseById.get(e.metadata.eventId);
        if (original === undefined) continue;
        const gone = subjectsOf.get(e.metadata.eventId)!.some((s) => forgottenSubjects.has(s));
        expect(e.data).toEqual(gone ? withFieldsErased(e.type, original.data) : original.data);
      }

      /** Every answer of `then` (the history's) and `now` (with insertions) agree, but for erased barcodes. */
      const agree = (then: AccessView, now: AccessView) => {
        expect(now.grants()).toEqual(then.grants());
        for (const m of accounts) {
          expect(now.managedBy(m)).toEqual(then.managedBy(m));
          expect(now.managersOf(m)).toEqual(then.managersOf(m));
          expect(now.account(m)).toEqual(expectInfo(then.account(m)));
          for (const a of accounts) {
            expect(now.canManage(m, a)).toBe(then.canManage(m, a));
            expect(now.linksOf(m, a)).toEqual(then.linksOf(m, a));
            expect(now.explain(m, a)).toEqual(mapped(then.explain(m, a), pos));
          }
        }
        for (const [id, barcode] of barcodes)
          for (const spelling of [barcode, barcode.toLowerCase()]) {
            const found = then.account(spelling);
            // Found before the erasure, in the history; by no one with the insertions, at any position.
            if (erased.has(id) && found !== undefined) seen.erasedBarcodeFoundBefore++;
            expect(now.account(spelling)).toEqual(found !== undefined && erased.has(found.accountId) ? undefined : found);
          }
      };

      for (const models of [live, rebuilt]) {
        for (const e of base) {
          const view = accessAsOf(models.access, pos(e.position));
          expect(view.position).toBe(pos(e.position));
          agree(accessAsOf(history.access, e.position), view);
        }
        const at = h.events.at(-1)!.metadata.occurredAt;
        agree(accessNow(history.access, at), accessNow(models.access, at));

        // Every loan and hold: as in the history, with an erased account's and a forgotten item's details [erased].
        for (const [id, c] of history.loans.accounts) expect(models.loans.accounts.get(id)).toEqual(expectedCirculation(c, erased.has(id), forgotten));
        expect(models.loans.accounts.size).toBe(history.loans.accounts.size);
        // What a viewer sees: loans still out and holds still open, unchanged by retention.
        for (const viewer of accounts) {
          const then = loansFor(history.loans, accessNow(history.access, at), viewer);
          const now = loansFor(models.loans, accessNow(models.access, at), viewer);
          const expected = {
            ...then,
            accounts: then.accounts.map((a) =>
              erased.has(a.accountId)
                ? {
                    ...a,
                    barcode: ERASED,
                    loans: a.loans.map((l) => ({ ...l, itemId: ERASED, title: ERASED })),
                    holds: a.holds.map((hd) => ({ ...hd, itemId: ERASED, title: ERASED, pickupBranch: ERASED })),
                  }
                : a,
            ),
          };
          expect(withoutPositions(now)).toEqual(withoutPositions(expected));
          for (const a of now.accounts) {
            if (erased.has(a.accountId)) continue;
            for (const l of a.loans) expect(l.title).not.toBe(ERASED);
            for (const hd of a.holds) expect(hd.title).not.toBe(ERASED);
          }
        }
        // The audit timeline of every account: each original event as the history has it (the links behind a
        // manager's action too), its personal fields [erased] where a subject they are sealed under was forgotten.
        for (const id of accounts) {
          const now = timelineOf(models.timeline, models.access, id).filter((r) => originalIds.has(r.eventId));
          const then = timelineOf(history.timeline, history.access, id).map((r) => ({
            ...r,
            position: pos(r.position),
            data: (subjectsOf.get(r.eventId) ?? []).some((s) => forgottenSubjects.has(s)) ? withFieldsErased(r.type, r.data) : r.data,
          }));
          expect(now).toEqual(then);
        }
      }

      // Caught up live, or rebuilt after: one and the same checkpoint, holding no erased barcode.
      const checkpoint = JSON.stringify(projection.serialise(live));
      expect(JSON.parse(checkpoint)).toEqual(JSON.parse(JSON.stringify(projection.serialise(rebuilt))));
      for (const id of erased) expect(checkpoint).not.toContain(`"${barcodes.get(id)!}"`);
      // And it reads back.
      const back = projection.deserialise(JSON.parse(checkpoint));
      expect(back._tag).toBe("Right");

      seen.runs++;
      seen.erasures += erased.size;
      const linked = new Set(h.events.flatMap((e) => (e.type === "AccountConnected" ? [e.data.issuerAccountId, e.data.connectedAccountId] : [])));
      seen.erasedWithLinks += [...erased].filter((id) => linked.has(id)).length;
      seen.loans += all.filter((x) => x.kind === "loan").length;
      seen.holds += all.filter((x) => x.kind === "hold").length;
    },
  );

describe("erasure and retention: the audit survives (differential, over random histories)", () => {
  for (const [name, policy] of [
    ["the default policy", defaultPolicy],
    ["a policy letting minors manage from 16 (answers depend on the time asked about)", makePolicy({ minorsMayManageFromAge: 16 })],
  ] as const)
    it(`under ${name}: with erasures and forgettings inserted, every audit answer is the history's, but for erased details`, async () => {
      const seen: Seen = { runs: 0, erasures: 0, erasedWithLinks: 0, loans: 0, holds: 0, erasedBarcodeFoundBefore: 0 };
      await fc.assert(property(policy, seen), { numRuns });
      console.log(`erasure property under ${name}:`, seen);
      // The histories exercised what the property is about.
      expect(seen.erasures).toBeGreaterThan(seen.runs / 4);
      expect(seen.erasedWithLinks).toBeGreaterThan(0);
      expect(seen.erasedBarcodeFoundBefore).toBeGreaterThan(0);
      expect(seen.loans).toBeGreaterThan(0);
      expect(seen.holds).toBeGreaterThan(0);
    });
});
