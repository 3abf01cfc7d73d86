/**
 * A host's own property test, written with `@linked-accounts/domain/testing`:
 * over random valid histories, the "linked loans" page a host would render from
 * the read model offers a viewer exactly the accounts the domain says it may
 * manage, and never a new hold or an eCheckout on someone else's account (R5).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canManage } from "@linked-accounts/domain";
import { validHistory } from "@linked-accounts/domain/testing";
import { foldEvents, linkedLoansOf, readModelsProjection } from "@linked-accounts/projections";

const numRuns = Number(process.env.FC_RUNS ?? 200);

describe("a host's linked-loans page", () => {
  it("shows a viewer its own account and exactly the accounts it may manage, with no new requests on their behalf", () => {
    fc.assert(
      fc.property(validHistory({ maxMoves: 80 }), (history) => {
        const readModels = foldEvents(
          readModelsProjection,
          history.events.map((event, i) => ({ ...event, position: BigInt(i + 1) })),
        );
        const linking = history.finalState.linking;
        for (const [viewer, account] of linking.accounts.entries()) {
          if (account.closed) continue;
          const page = linkedLoansOf(readModels, viewer);
          const others = page.accounts.filter((a) => a.accountId !== viewer).map((a) => a.accountId).sort();
          const managed = [...linking.accounts.entries()]
            .map(([id]) => id)
            .filter((id) => id !== viewer && canManage(linking, viewer, id, history.policy, Date.now()))
            .sort();
          expect(others).toEqual(managed);
          for (const shown of page.accounts.filter((a) => a.accountId !== viewer)) {
            expect(shown.accountActions).toEqual([]);
            for (const entry of [...shown.loans, ...shown.holds])
              expect(entry.actions.some((a: string) => a === "place-hold" || a === "e-checkout")).toBe(false);
          }
        }
      }),
      { numRuns },
    );
  });
});
