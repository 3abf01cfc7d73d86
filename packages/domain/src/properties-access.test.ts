/**
 * Invariants of access (R1 to R5, R11, R12) over random valid histories,
 * checked at every step against a naive model folded from the events alone.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canManage, grantLinks } from "./access.js";
import { makePolicy } from "./policy.js";
import type { LibraryState } from "./library-state.js";
import { validHistory } from "./testing/history.js";
import type { History } from "./testing/history.js";
import { NaiveModel } from "./testing/oracle.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);

/** Every ordered pair of distinct known accounts. */
const pairs = (model: NaiveModel): Array<[string, string]> => {
  const ids = [...model.accounts.keys()];
  return ids.flatMap((m) => ids.filter((a) => a !== m).map((a): [string, string] => [m, a]));
};

/** Calls `check` after every step with the naive model of everything stored so far. */
const everyStep = (h: History, check: (model: NaiveModel, state: LibraryState, step: History["steps"][number], atMs: number) => void) => {
  const model = new NaiveModel();
  for (const step of h.steps) {
    for (const e of step.appended) model.apply(e);
    check(model, step.stateAfter, step, Date.parse(step.command.now));
  }
};

describe("properties of access over random valid histories", () => {
  it("1. a 1-way link never grants connector → issuer, unless another active link gives that grant on its own", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        everyStep(h, (model, state, _step, atMs) => {
          for (const link of model.links) {
            if (link.revoked || link.direction !== "one-way") continue;
            if (!canManage(state.linking, link.connector, link.issuer, h.policy, atMs)) continue;
            const other = model.links.some(
              (l) =>
                l !== link &&
                !l.revoked &&
                NaiveModel.edges(l).some(([m, a]) => m === link.connector && a === link.issuer),
            );
            expect(other, `reverse grant of 1-way link ${link.linkId}`).toBe(true);
          }
        });
      }),
      { numRuns },
    );
  });

  it("2. no transitivity: at every step the grants in force are exactly those the active links give, never composed", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        everyStep(h, (model, state, _step, atMs) => {
          const inForce = new Set(pairs(model).filter(([m, a]) => canManage(state.linking, m, a, h.policy, atMs)).map(([m, a]) => `${m}→${a}`));
          expect(inForce).toEqual(model.grants());
        });
      }),
      { numRuns },
    );
  });

  it("3. no access without an AccountConnected, none after its LinkRevoked, none to or from a closed account, none held by a minor", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        const connected = new Map<string, { issuer: string; connector: string; direction: string }>();
        const revoked = new Set<string>();
        const closed = new Set<string>();
        const minors = new Set<string>();
        for (const step of h.steps) {
          for (const e of step.appended) {
            if (e.type === "AccountConnected")
              connected.set(e.data.linkId, { issuer: e.data.issuerAccountId, connector: e.data.connectedAccountId, direction: e.data.direction });
            if (e.type === "LinkRevoked") revoked.add(e.data.linkId);
            if (e.type === "AccountClosed") closed.add(e.data.accountId);
            if (e.type === "AccountRegistered" && e.data.minor) minors.add(e.data.accountId);
          }
          const accounts = [...step.stateAfter.linking.accounts.values()].map((a) => a.accountId);
          for (const m of accounts)
            for (const a of accounts) {
              if (m === a) continue;
              const links = grantLinks(step.stateAfter.linking, m, a, h.policy, Date.parse(step.command.now));
              if (links.length === 0) continue;
              expect(closed.has(m) || closed.has(a), `${m}→${a} with a closed account`).toBe(false);
              expect(minors.has(m), `minor ${m} manages ${a}`).toBe(false);
              for (const linkId of links) {
                const c = connected.get(linkId);
                expect(c, `link ${linkId} without AccountConnected`).toBeDefined();
                expect(revoked.has(linkId), `link ${linkId} in force after LinkRevoked`).toBe(false);
                const gives = (c!.issuer === m && c!.connector === a) || (c!.direction === "two-way" && c!.issuer === a && c!.connector === m);
                expect(gives, `link ${linkId} does not give ${m}→${a}`).toBe(true);
              }
            }
        }
      }),
      { numRuns },
    );
  });

  it("4. a manager (or anyone) can never place a hold or make an eCheckout for another account: refused, nothing appended", () => {
    fc.assert(
      fc.property(validHistory(), (h) => {
        for (const step of h.steps) {
          const c = step.command;
          const selfServiceOnly = c.type === "PlaceHold" || (c.type === "RecordCheckout" && c.format === "digital");
          if (!selfServiceOnly || c.actor.kind !== "account" || c.actor.accountId === c.accountId) continue;
          expect(E.isLeft(step.decision)).toBe(true);
          expect(step.appended).toEqual([]);
          const target = step.stateBefore.linking.accounts.get(c.accountId);
          const expected = target === undefined ? ["account-not-found"] : target.closed ? ["account-closed"] : ["self-service-only", "not-authorised"];
          if (E.isLeft(step.decision)) expect(expected).toContain(step.decision.left.code);
        }
        // And so every stored HoldPlaced and eCheckout was made by the account itself.
        for (const e of h.events)
          if (e.type === "HoldPlaced" || (e.type === "ItemCheckedOut" && e.data.format === "digital"))
            expect(e.metadata.actor).toEqual({ kind: "account", accountId: e.data.accountId });
      }),
      { numRuns },
    );
  });

  it("5. the rule changed through the policy alone: minors manage from 16 by their recorded date of birth, at every step as the naive model says", () => {
    const policy = makePolicy({ minorsMayManageFromAge: 16 });
    const seen = { minorManaging: 0 };
    fc.assert(
      fc.property(validHistory({ policy }), (h) => {
        everyStep(h, (model, state, _step, atMs) => {
          const inForce = new Set(pairs(model).filter(([m, a]) => canManage(state.linking, m, a, policy, atMs)).map(([m, a]) => `${m}→${a}`));
          expect(inForce).toEqual(model.grants({ minorsMayManageFromAge: 16, atMs }));
          for (const g of inForce) if (model.accounts.get(g.split("→")[0]!)?.minor === true) seen.minorManaging++;
        });
      }),
      { numRuns },
    );
    // The histories did exercise the change: some minor managed somewhere.
    expect(seen.minorManaging).toBeGreaterThan(0);
  });
});
