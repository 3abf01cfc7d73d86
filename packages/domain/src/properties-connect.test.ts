/**
 * Invariants of connecting (R8 to R10) over random valid histories, and a check
 * that the generator reaches the situations the properties are about.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CommandOf } from "./commands/index.js";
import type { LibraryState } from "./library-state.js";
import { libraryDecider } from "./decider.js";
import type { DomainEvent } from "./events.js";
import { refusalOf } from "./commands/index.js";
import { type History, type HistoryStep, validHistory } from "./testing/history.js";
import { NaiveModel } from "./testing/oracle.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);
const hiding = ["unknown-barcode", "phrase-mismatch", "phrase-expired", "phrase-revoked"] as const;

const failureOf = (events: ReadonlyArray<DomainEvent>) => {
  const e = events.find((x) => x.type === "ConnectionAttemptFailed");
  return e?.type === "ConnectionAttemptFailed" ? e : undefined;
};

/** Does some proof of `c` match a phrase that is neither revoked nor expired at `c.now`? */
const provesActivePhrase = (c: CommandOf<"ConnectAccount">, state: LibraryState): boolean =>
  c.proofs.some((proof) => {
    const phrase = state.linking.phrases.get(proof.phraseId);
    return (
      phrase !== undefined &&
      phrase.verifier.hash === proof.hash &&
      phrase.revoked === null &&
      Date.parse(c.now) < Date.parse(phrase.expiresAt)
    );
  });

/** Calls `check` for every connect step, with the naive model of what was stored before it. */
const connectSteps = (h: History, check: (step: HistoryStep & { command: CommandOf<"ConnectAccount"> }, before: NaiveModel) => void) => {
  const model = new NaiveModel();
  for (const step of h.steps) {
    if (step.command.type === "ConnectAccount") check(step as HistoryStep & { command: CommandOf<"ConnectAccount"> }, model);
    for (const e of step.appended) model.apply(e);
  }
};

describe("properties of connecting over random valid histories", () => {
  it("5. the connector sees the same error for an unknown barcode and a wrong, expired or revoked phrase; the precise reason is recorded", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        const decider = libraryDecider(h.policy);
        connectSteps(h, (step, before) => {
          const failure = failureOf(step.appended);
          if (failure === undefined || !(hiding as ReadonlyArray<string>).includes(failure.data.reason)) return;
          const refusal = refusalOf([failure]);
          expect(refusal?.code).toBe("barcode-or-phrase-not-recognised");
          // What the same connector would have been told, at the same moment, for a barcode nobody has.
          const unknown = decider.decide({ ...step.command, barcode: "NOBODY0HAS0THIS", proofs: [] }, step.stateBefore);
          expect(E.isRight(unknown)).toBe(true);
          if (E.isRight(unknown)) {
            expect(failureOf(unknown.right)?.data.reason).toBe("unknown-barcode");
            expect(refusalOf([failureOf(unknown.right)!])).toEqual(refusal);
          }
          // The recorded reason is the precise one.
          const known = before.accountByBarcode(step.command.barcode) !== undefined;
          expect(failure.data.reason === "unknown-barcode").toBe(!known);
          const anyMatch = step.command.proofs.some((p) => step.stateBefore.linking.phrases.get(p.phraseId)?.verifier.hash === p.hash);
          if (failure.data.reason === "phrase-mismatch") expect(anyMatch).toBe(false);
          if (failure.data.reason === "phrase-expired" || failure.data.reason === "phrase-revoked") expect(anyMatch).toBe(true);
        });
      }),
      { numRuns },
    );
  });

  it("6. during a lockout a correct phrase still fails; outside one, a correct phrase of an open issuer is never refused", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        connectSteps(h, (step, before) => {
          const c = step.command;
          const connector = before.accounts.get(c.connectorAccountId);
          const issuer = before.accountByBarcode(c.barcode);
          const byItself = c.actor.kind === "account" && c.actor.accountId === c.connectorAccountId;
          if (!byItself || connector === undefined || connector.closed || issuer === undefined || issuer === c.connectorAccountId) return;
          if (before.accounts.get(issuer)!.closed || !provesActivePhrase(c, step.stateBefore)) return;
          const nowMs = Date.parse(c.now);
          const locked =
            before.issuerLockedAt(issuer, nowMs, h.policy.issuerLockout) ||
            before.connectorLockedAt(c.connectorAccountId, nowMs, h.policy.connectorLockout);
          const connectorLocked = before.connectorLockedAt(c.connectorAccountId, nowMs, h.policy.connectorLockout);
          if (connectorLocked) {
            // R10: refused before any derivation, and nothing is appended.
            expect(step.appended).toEqual([]);
            expect(E.isLeft(step.decision) && step.decision.left.code).toBe("too-many-attempts");
          } else if (locked) {
            expect(step.appended.some((e) => e.type === "AccountConnected")).toBe(false);
            expect(failureOf(step.appended)?.data.reason).toBe("issuer-locked");
          } else if (E.isLeft(step.decision)) {
            expect(step.decision.left.code).toBe("link-id-taken");
          } else {
            expect(failureOf(step.decision.right)).toBeUndefined();
          }
        });
      }),
      { numRuns },
    );
  });

  it("the generator reaches every failure reason, lockouts met by correct phrases, upgrades, revocations and closures", () => {
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    for (const h of fc.sample(validHistory(), { numRuns: 300, seed: 20260302 })) {
      const pairsWithOneWay = new Set<string>();
      connectSteps(h, (step, before) => {
        const nowMs = Date.parse(step.command.now);
        const issuer = before.accountByBarcode(step.command.barcode);
        if (
          provesActivePhrase(step.command, step.stateBefore) &&
          issuer !== undefined &&
          before.issuerLockedAt(issuer, nowMs, h.policy.issuerLockout)
        )
          count("correct phrase during an issuer lockout");
        if (before.connectorLockedAt(step.command.connectorAccountId, nowMs, h.policy.connectorLockout)) count("connector lockout");
        if (step.decision._tag === "Right" && step.decision.right.length === 0) count("repeated connect appends nothing");
      });
      for (const e of h.events) {
        count(e.type);
        if (e.type === "ConnectionAttemptFailed") count(`reason ${e.data.reason}`);
        if (e.type === "SharePhraseRevoked") count(`phrase revoked: ${e.data.reason}`);
        if (e.type === "LinkRevoked") count(`link revoked by ${e.data.revokedBy.kind}`);
        if (e.type === "ItemCheckedOut") count(`checkout ${e.data.format}`);
        if (e.type === "AccountRegistered" && e.data.minor) count("minor registered");
        if (e.type === "AccountConnected") {
          const key = [e.data.issuerAccountId, e.data.connectedAccountId].sort().join(" ");
          if (e.data.direction === "one-way") pairsWithOneWay.add(key);
          else if (pairsWithOneWay.has(key)) count("upgrade of a 1-way pair to 2-way");
          count(`connected ${e.data.direction}`);
        }
        if ("renewedBy" in e.data && e.data.renewedBy !== e.data.accountId) count("renewed by a manager");
        for (const by of ["cancelledBy", "suspendedBy", "resumedBy", "changedBy"] as const)
          if (by in e.data && (e.data as Record<string, string>)[by] !== (e.data as Record<string, string>).accountId) count(`${by} a manager`);
      }
      for (const s of h.steps) if (s.intent.startsWith("manager-self-service") && s.intent.endsWith(":manager")) count("manager tried self-service");
    }
    const wanted = [
      ...hiding.map((r) => `reason ${r}`),
      "reason issuer-locked",
      "reason self-link",
      "reason account-closed",
      "correct phrase during an issuer lockout",
      "connector lockout",
      "repeated connect appends nothing",
      "upgrade of a 1-way pair to 2-way",
      "connected one-way",
      "connected two-way",
      "phrase revoked: superseded",
      "phrase revoked: issuer",
      "phrase revoked: staff",
      "phrase revoked: account-closed",
      "link revoked by account",
      "link revoked by staff",
      "AccountClosed",
      "minor registered",
      "checkout physical",
      "checkout digital",
      "HoldPlaced",
      "HoldFulfilled",
      "ItemReturned",
      "renewed by a manager",
      "cancelledBy a manager",
      "suspendedBy a manager",
      "resumedBy a manager",
      "changedBy a manager",
      "manager tried self-service",
    ];
    const missing = wanted.filter((k) => (seen.get(k) ?? 0) === 0);
    expect(missing).toEqual([]);
  });
});
