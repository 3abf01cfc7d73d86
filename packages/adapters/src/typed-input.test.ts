/**
 * Issue 10's reproductions of R7 through the host API: barcodes compared as
 * typed, and pasted phrases that failed for their typography.
 */
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { manualClock } from "./clock.js";
import { type RecordedEvent } from "./event-store.js";
import { createInMemoryEventStore } from "./in-memory-store.js";
import { createLinkedAccounts } from "./linked-accounts.js";
import { scryptSharePhrases } from "./share-phrases.js";

const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });

const setUp = () => {
  const store = createInMemoryEventStore();
  const library = createLinkedAccounts({ store, clock: manualClock("2026-03-03T09:00:00.000Z"), phrases });
  return { store, library };
};
const all = async (store: ReturnType<typeof createInMemoryEventStore>) => {
  const events: RecordedEvent[] = [];
  for await (const e of store.readAll()) events.push(e);
  return events;
};

describe("R7 through the host API", () => {
  it("p1234567 and P1234567 are one barcode: the second registration is refused, and the stored barcode is canonical", async () => {
    const { store, library } = setUp();
    expect(E.isRight(await library.staff("desk-1").registerAccount({ accountId: "a", barcode: " p1234567 ", minor: false }))).toBe(true);
    const second = await library.staff("desk-1").registerAccount({ accountId: "b", barcode: "P1234567", minor: false });
    expect(E.isLeft(second) && second.left.code).toBe("barcode-taken");
    expect((await all(store)).map((e) => e.type === "AccountRegistered" && e.data.barcode)).toEqual(["P1234567"]);
  });

  it("a barcode typed with spaces connects, and five pastes of the correct phrase in other typography all succeed without a lockout", async () => {
    const { store, library } = setUp();
    await library.staff("desk-1").registerAccount({ accountId: "parent", barcode: "P1234567", minor: false });
    for (const [i, id] of ["c1", "c2", "c3", "c4", "c5"].entries())
      await library.staff("desk-1").registerAccount({ accountId: id, barcode: `C000000${i}`, minor: false });
    const issued = await library.patron("parent").issueSharePhrase({ direction: "one-way" });
    if (E.isLeft(issued)) throw new Error(issued.left.message);
    const phrase = issued.right.phrase;
    const pastes = [
      phrase.replaceAll("-", "\u2013"), // en dash
      phrase.replaceAll("-", "\u2011"), // non-breaking hyphen
      phrase.replaceAll("-", "\u00AD"), // soft hyphen
      phrase.replaceAll("-", "\u200B"), // zero-width space
      [...phrase].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join(""), // full width
    ];
    for (const [i, typed] of pastes.entries()) {
      const connected = await library.patron(`c${i + 1}`).connectAccount({ barcode: " p1234567 ", phrase: typed });
      expect(E.isRight(connected) && connected.right.linkId, `paste ${i + 1}`).toEqual(expect.any(String));
    }
    expect((await all(store)).filter((e) => e.type === "ConnectionAttemptFailed")).toEqual([]);
  });
});
