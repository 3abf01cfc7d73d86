/**
 * Invariants of folding, deciding and the event codecs (R6, R14, the catalog).
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fold, libraryDecider } from "./decider.js";
import {
  type DomainEvent,
  type EventEnvelope,
  decodeEnvelope,
  decodeEvent,
  encodeEvent,
  eventTypes,
} from "./events.js";
import { phrasesToCheck } from "./linking.js";
import { formatPhrase, normalisePhrase } from "./phrase.js";
import { domainEvent, phrasePlaintext } from "./testing/arbitraries.js";
import { validHistory } from "./testing/history.js";
import { fakeHash, fakeVerifier, proofsFor } from "./testing/phrases.js";
import { snapshot } from "./testing/snapshot.js";
import { asAccount, at, barcodeOf, command, registered } from "./testing/fixtures.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);

const withoutMetadata = ({ metadata: _, ...event }: EventEnvelope): DomainEvent => event as DomainEvent;
const viaJson = <A>(a: A): unknown => JSON.parse(JSON.stringify(a));

describe("properties of folding and deciding", () => {
  it("7a. folding the same events always gives equal state, equal to the state the history reached step by step", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        const decider = libraryDecider(h.policy);
        const events = h.events.map(withoutMetadata);
        const once = snapshot(fold(decider, events));
        expect(snapshot(fold(decider, viaJson(events) as DomainEvent[]))).toEqual(once);
        expect(snapshot(h.finalState)).toEqual(once);
      }),
      { numRuns },
    );
  });

  it("7b. decide is a function of its inputs: the same command on an equal state, rebuilt from the events, decides the same", () => {
    fc.assert(
      fc.property(validHistory(), fc.nat(), (h, n) => {
        const decider = libraryDecider(h.policy);
        const step = h.steps[n % h.steps.length]!;
        const prefix = h.steps.slice(0, step.index).flatMap((s) => s.appended.map(withoutMetadata));
        const rebuilt = fold(decider, viaJson(prefix) as DomainEvent[]);
        expect(snapshot(rebuilt)).toEqual(snapshot(step.stateBefore));
        const again = decider.decide(viaJson(step.command) as typeof step.command, rebuilt);
        expect(again).toEqual(step.decision);
        expect(decider.decide(step.command, step.stateBefore)).toEqual(step.decision);
      }),
      { numRuns },
    );
  });
});

/** `AccountConnected.data.direction: expected …` and the like: a path, then what was expected. */
const NAMES_A_FIELD = /^(event\.type|[A-Za-z]+\.(data|metadata)(\.[^:\s]+)*): expected /;

describe("properties of the event codecs", () => {
  it("8a. every event of a history round-trips through its codec and through JSON, with and without metadata", () => {
    fc.assert(
      fc.property(validHistory({ maxMoves: 60 }), (h) => {
        for (const e of h.events) {
          const bare = withoutMetadata(e);
          expect(decodeEvent(viaJson(encodeEvent(bare)))).toEqual(E.right(bare));
          expect(decodeEnvelope(viaJson({ ...encodeEvent(bare), metadata: e.metadata }))).toEqual(E.right(e));
        }
      }),
      { numRuns },
    );
  });

  it("8b. every event the arbitraries make round-trips through its codec", () => {
    fc.assert(
      fc.property(domainEvent(), (e) => {
        expect(decodeEvent(viaJson(encodeEvent(e)))).toEqual(E.right(e));
      }),
      { numRuns },
    );
  });

  it("8c. arbitrary JSON is a valid event or a DecodeError naming a field, never a throw", () => {
    const shaped = fc.record({ type: fc.constantFrom(...eventTypes), data: fc.dictionary(fc.string(), fc.jsonValue()) });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything(), shaped), (u) => {
        const decoded = decodeEvent(u);
        if (E.isLeft(decoded)) expect(decoded.left.message).toMatch(NAMES_A_FIELD);
        const envelope = decodeEnvelope(u);
        if (E.isLeft(envelope)) expect(envelope.left.message).toMatch(NAMES_A_FIELD);
      }),
      { numRuns },
    );
  });

  it("8d. a valid event with one field changed or removed decodes, or fails naming that field", () => {
    const mutation = fc.record({ value: fc.option(fc.anything(), { nil: undefined }), which: fc.nat(), inMetadata: fc.boolean() });
    fc.assert(
      fc.property(validHistory({ minMoves: 5, maxMoves: 20 }), mutation, (h, { value, which, inMetadata }) => {
        const e = h.events[which % Math.max(1, h.events.length)];
        if (e === undefined) return;
        const json = viaJson({ ...encodeEvent(withoutMetadata(e)), metadata: e.metadata }) as {
          type: string;
          data: Record<string, unknown>;
          metadata: Record<string, unknown>;
        };
        const target = inMetadata ? json.metadata : json.data;
        const keys = Object.keys(target);
        const key = keys[which % keys.length]!;
        if (value === undefined) delete target[key];
        else target[key] = value;
        const decoded = decodeEnvelope(json);
        if (E.isLeft(decoded)) expect(decoded.left.message).toContain(`${e.type}.${inMetadata ? "metadata" : "data"}.${key}`);
      }),
      { numRuns },
    );
  });

  it("a decode failure reads like `AccountConnected.data.direction: expected \"one-way\" | \"two-way\", got \"both\"`", () => {
    const result = decodeEvent({
      type: "AccountConnected",
      data: { linkId: "L1", phraseId: "P1", issuerAccountId: "alice", connectedAccountId: "bob", direction: "both", connectedAt: at(0) },
    });
    expect(E.isLeft(result) && result.left.message).toContain(
      'AccountConnected.data.direction: expected "one-way" | "two-way", got "both"',
    );
    const missing = decodeEvent({ type: "AccountClosed", data: { accountId: "alice" } });
    expect(E.isLeft(missing) && missing.left.message).toMatch(/^AccountClosed\.data\.closedAt: expected IsoTime.*, got nothing$/);
    const unknown = decodeEvent({ type: "AccountMerged", data: {} });
    expect(E.isLeft(unknown) && unknown.left.message).toBe('event.type: expected a known event type, got "AccountMerged"');
  });
});

describe("no plaintext phrase is ever stored", () => {
  /** The forms a phrase could leak in. */
  const forms = (phrase: string) => [phrase, normalisePhrase(phrase), formatPhrase(phrase), formatPhrase(phrase).toUpperCase()];

  it("9a. no event of a random history contains any phrase it issued, in any typed form", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        const json = JSON.stringify(h.events);
        for (const phrase of h.phrases.values()) for (const form of forms(phrase)) expect(json).not.toContain(form);
      }),
      { numRuns },
    );
  });

  it("9b. issuing random phrases and connecting with them, typed in any form, stores none of them", () => {
    const typedForm = fc.constantFrom(
      (p: string) => p,
      (p: string) => p.toUpperCase(),
      (p: string) => formatPhrase(p),
      (p: string) => ` ${formatPhrase(p).toUpperCase()} `,
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(phrasePlaintext(), { minLength: 1, maxLength: 4 }),
        fc.array(typedForm, { minLength: 4, maxLength: 4 }),
        (phrases, typings) => {
          const decider = libraryDecider();
          let state = fold(decider, [registered("alice"), registered("bob")]);
          const stored: DomainEvent[] = [];
          const apply = (c: Parameters<typeof decider.decide>[0]) => {
            const d = decider.decide(c, state);
            if (E.isRight(d)) {
              stored.push(...d.right);
              state = fold(decider, d.right, state);
            }
          };
          phrases.forEach((phrase, i) => {
            const direction = i % 2 === 0 ? "one-way" : "two-way";
            const verifier = fakeVerifier(phrase, `salt${i}`);
            expect(verifier.hash).toBe(fakeHash(phrase, `salt${i}`));
            expect(verifier.hash).not.toContain(phrase);
            apply(command("IssueSharePhrase", asAccount("alice"), { phraseId: `P${i}`, issuerAccountId: "alice", direction, verifier }, i));
            const typed = typings[i]!(phrase);
            const proofs = proofsFor(typed, phrasesToCheck(state.linking, barcodeOf("alice")));
            apply(command("ConnectAccount", asAccount("bob"), { connectorAccountId: "bob", barcode: barcodeOf("alice"), linkId: `L${i}`, proofs }, i));
          });
          expect(stored.some((e) => e.type === "AccountConnected")).toBe(true);
          const json = JSON.stringify(stored);
          for (const phrase of phrases) for (const form of forms(phrase)) expect(json).not.toContain(form);
        },
      ),
      { numRuns },
    );
  });
});
