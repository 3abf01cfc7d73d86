import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { decodeStoredEnvelope, openSealed } from "./events.js";
import { ERASED, type SealedEnvelope } from "./personal.js";

const stored = decodeStoredEnvelope({
  type: "ItemCheckedOut",
  data: {
    loanId: "loan-1",
    accountId: "aroha",
    format: "physical",
    checkedOutAt: "2026-03-03T09:00:00.000Z",
    dueAt: "2026-03-24T09:00:00.000Z",
    sealed: { subjects: "account:aroha loan:loan-1", iv: "AAAAAAAAAAAAAAAA", ct: "AAAAAAAAAAAAAAAAAAAAAAAA" },
  },
  metadata: {
    eventId: "0190f2a0-1234-7abc-8def-0123456789ab",
    schemaVersion: 3,
    occurredAt: "2026-03-03T09:00:00.000Z",
    actor: { kind: "system" },
    channel: "system",
    correlationId: null,
    causationId: null,
  },
});
const sealed = (): SealedEnvelope => {
  if (E.isLeft(stored)) throw new Error(stored.left.message);
  return stored.right as SealedEnvelope;
};

describe("openSealed: the event a sealed one holds", () => {
  it("puts the opened fields back beside the others", () => {
    const opened = openSealed(sealed(), { itemId: "item-9", title: "Pūrākau" });
    expect(E.isRight(opened) && opened.right.data).toEqual({
      loanId: "loan-1",
      accountId: "aroha",
      itemId: "item-9",
      title: "Pūrākau",
      format: "physical",
      checkedOutAt: "2026-03-03T09:00:00.000Z",
      dueAt: "2026-03-24T09:00:00.000Z",
    });
  });

  it("refuses opened fields the catalog refuses, naming the field", () => {
    for (const [values, field] of [
      [{ itemId: "item-9", title: 42 }, "title"],
      [{ itemId: "item-9" }, "title"],
      [{ itemId: "", title: "Pūrākau" }, "itemId"],
    ] as const) {
      const opened = openSealed(sealed(), values);
      expect(E.isLeft(opened) && opened.left.message).toMatch(new RegExp(`ItemCheckedOut\\.data\\.${field}`));
    }
  });

  it("reads a withheld part as its marker in every personal field", () => {
    const opened = openSealed(sealed(), ERASED);
    const data = E.isRight(opened) ? (opened.right.data as { itemId: string; title: string; loanId: string }) : undefined;
    expect([data?.itemId, data?.title, data?.loanId]).toEqual([ERASED, ERASED, "loan-1"]);
  });
});
