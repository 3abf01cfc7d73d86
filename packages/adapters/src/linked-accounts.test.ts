import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { manualClock } from "./clock.js";
import { ConcurrencyError, type EventStore, type RecordedEvent } from "./event-store.js";
import { createInMemoryEventStore } from "./in-memory-store.js";
import { type LinkedAccounts, createLinkedAccounts } from "./linked-accounts.js";
import { scryptSharePhrases } from "./share-phrases.js";
import { LINKING_STREAM } from "./streams.js";

// Cheap scrypt so the suite is quick; the cost is stored in each verifier, so nothing else changes.
const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });
const staff = { kind: "staff", staffId: "desk-1" } as const;
const as = (accountId: string) => ({ kind: "account", accountId }) as const;

const setUp = (store: EventStore = createInMemoryEventStore()) => {
  const clock = manualClock("2026-03-03T09:00:00.000Z");
  const library = createLinkedAccounts({ store, clock, phrases });
  return { store, clock, library };
};

const right = async <A>(outcome: Promise<E.Either<{ code: string; message: string }, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`expected success, got ${result.left.code}: ${result.left.message}`);
  return result.right;
};

const leftCode = async (outcome: Promise<E.Either<{ code: string }, unknown>>): Promise<string> => {
  const result = await outcome;
  if (E.isRight(result)) throw new Error("expected a refusal, got success");
  return result.left.code;
};

const all = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const e of store.readAll()) events.push(e);
  return events;
};

const family = async (library: LinkedAccounts) => {
  await right(library.registerAccount({ actor: staff, accountId: "parent", barcode: "P0000001", minor: false }));
  await right(library.registerAccount({ actor: staff, accountId: "child", barcode: "C0000001", minor: true }));
  await right(library.registerAccount({ actor: staff, accountId: "partner", barcode: "Q0000001", minor: false }));
};

const dueAt = "2026-03-20T09:00:00.000Z";

describe("createLinkedAccounts", () => {
  it("runs the reference page's story: 1-way phrase, connect, manage, and refuses new requests on behalf", async () => {
    const { store, library } = setUp();
    await family(library);
    const issued = await right(library.issueSharePhrase({ actor: as("parent"), direction: "one-way" }));
    expect(issued.phrase).toMatch(/^[2-9a-km-np-z]{4}(-[2-9a-km-np-z]{1,4}){3}$/);
    const connected = await right(
      library.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: issued.phrase.toUpperCase().replaceAll("-", " ") }),
    );
    expect(connected.linkId).not.toBeNull();
    expect(await library.canManage("parent", "child")).toBe(true);
    expect(await library.canManage("child", "parent")).toBe(false);

    const loan = await right(
      library.recordCheckout({ actor: staff, accountId: "child", itemId: "item-1", title: "Hairy Maclary", format: "physical", dueAt }),
    );
    const loanId = loan.events[0]!.type === "ItemCheckedOut" ? loan.events[0]!.data.loanId : "";
    const renewed = await right(
      library.renewLoan({ actor: as("parent"), accountId: "child", loanId, dueAt: "2026-04-03T09:00:00.000Z" }),
    );
    expect(renewed.events.map((e) => [e.type, e.metadata.actor])).toEqual([["LoanRenewed", as("parent")]]);
    expect(
      await leftCode(
        library.placeHold({ actor: as("parent"), accountId: "child", itemId: "item-2", title: "Spot", pickupBranch: "Central" }),
      ),
    ).toBe("self-service-only");
    expect(await leftCode(library.renewLoan({ actor: as("child"), accountId: "parent", loanId, dueAt }))).toBe("not-authorised");

    // R6: the plaintext is in no stored event, in any spelling.
    const stored = JSON.stringify((await all(store)).map((e) => ({ ...e, revision: String(e.revision), position: String(e.position) })));
    for (const spelling of [issued.phrase, issued.phrase.replaceAll("-", ""), issued.phrase.toUpperCase()])
      expect(stored).not.toContain(spelling);
  });

  it("answers every kind of failed attempt with the same code and records the precise reason (R9)", async () => {
    const { store, library, clock } = setUp();
    await family(library);
    const issued = await right(library.issueSharePhrase({ actor: as("parent"), direction: "one-way" }));
    const revoked = await right(library.issueSharePhrase({ actor: as("partner"), direction: "two-way" }));
    await right(library.revokeSharePhrase({ actor: as("partner"), phraseId: revoked.phraseId }));

    const codes = [
      await leftCode(library.connectAccount({ actor: as("child"), barcode: "NOSUCH01", phrase: issued.phrase })),
      await leftCode(library.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: "2222-2222-2222-22" })),
      await leftCode(library.connectAccount({ actor: as("child"), barcode: "Q0000001", phrase: revoked.phrase })),
    ];
    clock.advance(8 * 24 * 3600_000);
    codes.push(await leftCode(library.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: issued.phrase })));
    expect(new Set(codes)).toEqual(new Set(["barcode-or-phrase-not-recognised"]));
    const reasons = (await all(store)).flatMap((e) => (e.type === "ConnectionAttemptFailed" ? [e.data.reason] : []));
    expect(reasons).toEqual(["unknown-barcode", "phrase-mismatch", "phrase-revoked", "phrase-expired"]);
  });

  it("appends a command sent twice once, and answers the second time with the first outcome", async () => {
    const { store, library } = setUp();
    await family(library);
    const first = await right(library.registerAccount({ actor: staff, accountId: "aunt", barcode: "A0000001", minor: false, commandId: "cmd-1" }));
    const second = await right(library.registerAccount({ actor: staff, accountId: "aunt", barcode: "A0000001", minor: false, commandId: "cmd-1" }));
    expect(second.position).toBe(first.position);
    expect(second.events.map((e) => e.metadata.eventId)).toEqual(first.events.map((e) => e.metadata.eventId));
    expect((await all(store)).filter((e) => e.type === "AccountRegistered" && e.data.accountId === "aunt")).toHaveLength(1);
  });

  it("appends a phrase issued twice with one command id once, and never shows a phrase a second time (R6)", async () => {
    const { store, library } = setUp();
    await family(library);
    const first = await right(library.issueSharePhrase({ actor: as("parent"), direction: "two-way", commandId: "cmd-2" }));
    const second = await library.issueSharePhrase({ actor: as("parent"), direction: "two-way", commandId: "cmd-2" });
    expect(E.isLeft(second) && second.left).toMatchObject({ code: "phrase-shown-once", phraseId: first.phraseId });
    expect(JSON.stringify(second)).not.toContain(first.phrase);
    expect((await all(store)).filter((e) => e.type === "SharePhraseIssued")).toHaveLength(1);
  });

  it("refuses a command id another command already used, without showing that command's events", async () => {
    const { library } = setUp();
    await family(library);
    await leftCode(library.connectAccount({ actor: as("child"), barcode: "NOSUCH01", phrase: "abcd-efgh-jkmn-pq", commandId: "shared" }));
    const reused = await library.revokeLink({ actor: as("parent"), linkId: "L1", commandId: "shared" });
    expect(E.isLeft(reused) && reused.left.code).toBe("command-id-reused");
    expect(JSON.stringify(reused)).not.toContain("ConnectionAttemptFailed");
  });

  it("never stores a phrase typed into the barcode field (R6)", async () => {
    const { store, library } = setUp();
    await family(library);
    const issued = await right(library.issueSharePhrase({ actor: as("parent"), direction: "one-way" }));
    for (const typed of [issued.phrase, issued.phrase.replaceAll("-", "")])
      expect(await leftCode(library.connectAccount({ actor: as("child"), barcode: typed, phrase: "P0000001" }))).toBe(
        "barcode-or-phrase-not-recognised",
      );
    const stored = JSON.stringify((await all(store)).map((e) => ({ type: e.type, data: e.data })));
    expect(stored).toContain("unknown-barcode");
    expect(stored).not.toContain(issued.phrase.replaceAll("-", "").slice(0, 8));
  });

  it("refuses bad input naming the field, and never echoes a phrase", async () => {
    const { library } = setUp();
    const bad = await library.registerAccount({ actor: staff, accountId: "a b", barcode: "P0000001", minor: false });
    expect(E.isLeft(bad) && bad.left).toMatchObject({ code: "invalid-input" });
    expect(E.isLeft(bad) && bad.left.message).toContain('registerAccount.accountId: expected Id');
    const secret = "x".repeat(201);
    const phrase = await library.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: secret });
    expect(E.isLeft(phrase) && phrase.left.message).toContain("connectAccount.phrase");
    expect(E.isLeft(phrase) && phrase.left.message).not.toContain("xxxx");
  });

  it("never serves a manager a grant revoked before the command arrived, even from a stale instance (R13)", async () => {
    const store = createInMemoryEventStore();
    const a = setUp(store);
    const b = createLinkedAccounts({ store, clock: a.clock, phrases });
    await family(a.library);
    const issued = await right(a.library.issueSharePhrase({ actor: as("parent"), direction: "one-way" }));
    const link = await right(a.library.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: issued.phrase }));
    await right(b.recordCheckout({ actor: staff, accountId: "child", itemId: "i1", title: "Book", format: "physical", dueAt, loanId: "loan-1" }));
    expect(await b.canManage("parent", "child")).toBe(true);
    await right(a.library.revokeLink({ actor: as("child"), linkId: link.linkId!, reason: "grown up" }));
    expect(await leftCode(b.renewLoan({ actor: as("parent"), accountId: "child", loanId: "loan-1", dueAt: "2026-05-01T00:00:00.000Z" }))).toBe(
      "not-authorised",
    );
  });

  it("retries a conflict with fresh state and gives up after the bound with a clear error", async () => {
    const inner = createInMemoryEventStore();
    let conflicts = 0;
    const contended: EventStore = {
      ...inner,
      readStream: (s, o) => inner.readStream(s, o),
      readAll: (o) => inner.readAll(o),
      close: () => inner.close(),
      appendToStream: async (stream, events, options) => {
        conflicts++;
        throw new ConcurrencyError(stream, options?.expectedRevision ?? "any", 7n);
      },
    };
    const library = createLinkedAccounts({ store: contended, phrases, maxRetries: 3 });
    const outcome = await library.registerAccount({ actor: staff, accountId: "a1", barcode: "A0000001", minor: false });
    expect(E.isLeft(outcome) && outcome.left.code).toBe("conflict-retries-exhausted");
    expect(conflicts).toBe(4);
    expect(await all(inner)).toHaveLength(0);
  });

  it("appends once when the answer to an append is lost and the host retries with the same command id", async () => {
    const inner = createInMemoryEventStore();
    let dropNextAnswer = false;
    const flaky: EventStore = {
      readStream: (s, o) => inner.readStream(s, o),
      readAll: (o) => inner.readAll(o),
      close: () => inner.close(),
      appendToStream: async (stream, events, options) => {
        const result = await inner.appendToStream(stream, events, options);
        if (dropNextAnswer) {
          dropNextAnswer = false;
          throw new Error("Connection terminated unexpectedly");
        }
        return result;
      },
    };
    const { library } = setUp(flaky);
    await family(library);
    const issued = await right(library.issueSharePhrase({ actor: as("parent"), direction: "one-way" }));
    dropNextAnswer = true;
    const attempt = { actor: as("child"), barcode: "P0000001", phrase: issued.phrase, commandId: "connect-1" };
    await expect(library.connectAccount(attempt)).rejects.toThrow("Connection terminated");
    const retried = await right(library.connectAccount(attempt));
    expect(retried.linkId).not.toBeNull();
    expect((await all(inner)).filter((e) => e.type === "AccountConnected")).toHaveLength(1);
  });

  it("keeps every event exactly once when two hosts race to connect, revoke and renew on one pair", async () => {
    const store = createInMemoryEventStore();
    const { clock, library: hostA } = setUp(store);
    const hostB = createLinkedAccounts({ store, clock, phrases });
    await family(hostA);
    await right(hostA.recordCheckout({ actor: staff, accountId: "child", itemId: "i1", title: "Book", format: "physical", dueAt, loanId: "loan-1" }));
    const issued = await right(hostA.issueSharePhrase({ actor: as("parent"), direction: "two-way" }));
    const [c1, c2] = await Promise.all([
      hostA.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: issued.phrase }),
      hostB.connectAccount({ actor: as("child"), barcode: "P0000001", phrase: issued.phrase }),
    ]);
    // Both succeed; exactly one link is made (R8: the second finds the pair already linked).
    expect([E.isRight(c1), E.isRight(c2)]).toEqual([true, true]);
    const links = (await all(store)).filter((e) => e.type === "AccountConnected");
    expect(links).toHaveLength(1);
    const linkId = links[0]!.type === "AccountConnected" ? links[0]!.data.linkId : "";

    const renewals = ["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-04"].map((d, i) =>
      (i % 2 ? hostA : hostB).renewLoan({ actor: as("parent"), accountId: "child", loanId: "loan-1", dueAt: `${d}T00:00:00.000Z` }),
    );
    const revokes = [hostA, hostB].map((h) => h.revokeLink({ actor: as("parent"), linkId }));
    const outcomes = await Promise.all([...renewals, ...revokes]);
    expect(outcomes.slice(4).every(E.isRight)).toBe(true);

    const events = await all(store);
    expect(events.filter((e) => e.type === "LinkRevoked")).toHaveLength(1);
    const ids = events.map((e) => e.metadata.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    // Every renewal that was accepted is stored once, and only those.
    const accepted = outcomes.slice(0, 4).filter(E.isRight).length;
    const renewed = events.filter((e) => e.type === "LoanRenewed");
    expect(renewed).toHaveLength(accepted);
    expect(await hostA.canManage("parent", "child")).toBe(false);
    expect(await hostB.canManage("parent", "child")).toBe(false);
    // Streams stay gapless and ordered.
    const linking = events.filter((e) => e.stream === LINKING_STREAM).map((e) => e.revision);
    expect(linking).toEqual(linking.map((_, i) => BigInt(i)));
  });
});
