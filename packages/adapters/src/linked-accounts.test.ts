import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { makePolicy } from "@linked-accounts/domain";
import { manualClock } from "./clock.js";
import { AppendConditionError, type EventStore, type RecordedEvent } from "./event-store.js";
import { createInMemoryEventStore } from "./in-memory-store.js";
import { type LinkedAccounts, createLinkedAccounts } from "./linked-accounts.js";
import { type SharePhrases, scryptSharePhrases } from "./share-phrases.js";

// Cheap scrypt so the suite is quick; the cost is stored in each verifier, so nothing else changes.
const phrases = scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } });

/** Counts derivations, to show who pays for guessing (R10). */
const counting = (inner: SharePhrases) => {
  const counter = { derivations: 0 };
  const port: SharePhrases = {
    ...inner,
    proofFor: (typed, verifier) => {
      counter.derivations += 1;
      return inner.proofFor(typed, verifier);
    },
  };
  return { port, counter };
};

const setUp = (store: EventStore = createInMemoryEventStore(), port: SharePhrases = phrases) => {
  const clock = manualClock("2026-03-03T09:00:00.000Z");
  const library = createLinkedAccounts({ store, clock, phrases: port });
  return { store, clock, library, desk: library.staff("desk-1") };
};

const right = async <A>(outcome: Promise<E.Either<{ code: string; message: string }, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`expected success, got ${result.left.code}: ${result.left.message}`);
  return result.right;
};

const leftOf = async (outcome: Promise<E.Either<{ code: string; message: string }, unknown>>) => {
  const result = await outcome;
  if (E.isRight(result)) throw new Error("expected a refusal, got success");
  return result.left;
};
const leftCode = async (outcome: Promise<E.Either<{ code: string; message: string }, unknown>>) => (await leftOf(outcome)).code;

const all = async (store: EventStore): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const e of store.readAll()) events.push(e);
  return events;
};

const family = async (library: LinkedAccounts) => {
  const desk = library.staff("desk-1");
  await right(desk.registerAccount({ accountId: "parent", barcode: "P0000001", minor: false }));
  await right(desk.registerAccount({ accountId: "child", barcode: "C0000001", minor: true }));
  await right(desk.registerAccount({ accountId: "partner", barcode: "Q0000001", minor: false }));
};

const dueAt = "2026-03-20T09:00:00.000Z";

describe("the actor-scoped host API", () => {
  it("runs the reference page's story: 1-way phrase, connect, manage, and refuses new requests on behalf", async () => {
    const { store, library, desk } = setUp();
    await family(library);
    const parent = library.patron("parent");
    const child = library.patron("child", { channel: "app" });
    const issued = await right(parent.issueSharePhrase({ direction: "one-way" }));
    expect(issued.phrase).toMatch(/^[2-9a-km-np-z]{4}(-[2-9a-km-np-z]{1,4}){3}$/);
    // R7: typed in another case, with spaces for dashes and a stray space around the barcode.
    const connected = await right(
      child.connectAccount({ barcode: " p000 0001 ", phrase: issued.phrase.toUpperCase().replaceAll("-", " ") }),
    );
    expect(connected.linkId).not.toBeNull();
    expect(await parent.canManage("child")).toBe(true);
    expect(await child.canManage("parent")).toBe(false);

    const loan = await right(desk.recordCheckout({ accountId: "child", itemId: "item-1", title: "Hairy Maclary", dueAt }));
    const renewed = await right(parent.renewLoan({ accountId: "child", loanId: loan.loanId, dueAt: "2026-04-03T09:00:00.000Z" }));
    expect(renewed.events).toMatchObject([{ type: "LoanRenewed", data: { renewedBy: "parent" } }]);
    expect(await leftCode(parent.placeHold({ accountId: "child", itemId: "item-2", title: "Spot", pickupBranch: "Central" }))).toBe(
      "self-service-only",
    );
    expect(await leftCode(parent.eCheckout({ accountId: "child", itemId: "item-3", title: "Spot", dueAt }))).toBe("self-service-only");
    expect(await leftCode(child.renewLoan({ accountId: "parent", loanId: loan.loanId, dueAt }))).toBe("not-authorised");

    const stored = await all(store);
    // Every event says which way its command came in (schema version 2).
    expect(stored.find((e) => e.type === "AccountConnected")?.metadata.channel).toBe("app");
    expect(stored.find((e) => e.type === "ItemCheckedOut")?.metadata.channel).toBe("desk");
    // R6: the plaintext is in no stored event, in any spelling.
    const text = JSON.stringify(stored, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    for (const spelling of [issued.phrase, issued.phrase.replaceAll("-", ""), issued.phrase.toUpperCase()]) expect(text).not.toContain(spelling);
  });

  it("offers each actor only its own commands, and outcomes are plain JSON", async () => {
    const { library } = setUp();
    await family(library);
    const parent = library.patron("parent");
    expect("registerAccount" in parent).toBe(false);
    expect("recordReturn" in parent).toBe(false);
    expect("placeHold" in library.staff("s1")).toBe(false);
    expect("connectAccount" in library.system()).toBe(false);
    expect(() => library.patron("not an id")).toThrow(TypeError);
    const issued = await right(parent.issueSharePhrase({ direction: "two-way" }));
    const json = JSON.parse(JSON.stringify({ ...issued, phrase: undefined })) as { freshness: string };
    expect(json.freshness).toMatch(/^\d+$/);
  });

  it("answers every kind of failed attempt with the same code and records the precise reason (R9)", async () => {
    const { store, library, clock } = setUp();
    await family(library);
    const child = library.patron("child");
    const issued = await right(library.patron("parent").issueSharePhrase({ direction: "one-way" }));
    const revoked = await right(library.patron("partner").issueSharePhrase({ direction: "two-way" }));
    await right(library.patron("partner").revokeSharePhrase({ phraseId: revoked.phraseId }));

    const codes = [
      await leftCode(child.connectAccount({ barcode: "NOSUCH01", phrase: issued.phrase })),
      await leftCode(child.connectAccount({ barcode: "P0000001", phrase: "2222-2222-2222-22" })),
      await leftCode(child.connectAccount({ barcode: "Q0000001", phrase: revoked.phrase })),
    ];
    clock.advance(8 * 24 * 3600_000);
    codes.push(await leftCode(child.connectAccount({ barcode: "P0000001", phrase: issued.phrase })));
    expect(new Set(codes)).toEqual(new Set(["barcode-or-phrase-not-recognised"]));
    const reasons = (await all(store)).flatMap((e) => (e.type === "ConnectionAttemptFailed" ? [e.data.reason] : []));
    expect(reasons).toEqual(["unknown-barcode", "phrase-mismatch", "phrase-revoked", "phrase-expired"]);
  });

  it("refuses a locked-out connector before any derivation, appends nothing, and holds up no one else (R10)", async () => {
    const { port, counter } = counting(phrases);
    const { store, library } = setUp(createInMemoryEventStore(), port);
    await family(library);
    const child = library.patron("child");
    for (let i = 0; i < 10; i++) await leftCode(child.connectAccount({ barcode: `NOBODY${1000 + i}`, phrase: "2222-2222-2222-22" }));
    expect(counter.derivations).toBe(20); // two per attempt, whether or not the barcode exists (R9)
    const before = (await all(store)).length;
    counter.derivations = 0;
    for (let i = 0; i < 100; i++) {
      const refusal = await leftOf(child.connectAccount({ barcode: "P0000001", phrase: "2222-2222-2222-22" }));
      expect(refusal).toMatchObject({ code: "too-many-attempts", retryAt: "2026-03-03T10:00:00.000Z" });
    }
    expect(counter.derivations).toBe(0);
    expect((await all(store)).length).toBe(before);
    // Another pair connects as ever.
    const issued = await right(library.patron("parent").issueSharePhrase({ direction: "two-way" }));
    expect((await right(library.patron("partner").connectAccount({ barcode: "P0000001", phrase: issued.phrase }))).linkId).not.toBeNull();
  });

  it("limits how often one account issues phrases, and says when it may again (R10)", async () => {
    const { library, clock } = setUp();
    await family(library);
    const parent = library.patron("parent");
    for (let i = 0; i < 5; i++) await right(parent.issueSharePhrase({ direction: "two-way" }));
    const refused = await leftOf(parent.issueSharePhrase({ direction: "two-way" }));
    expect(refused).toMatchObject({ code: "too-many-phrases", retryAt: "2026-03-03T09:15:00.000Z" });
    expect(await right(library.patron("partner").issueSharePhrase({ direction: "two-way" }))).toBeDefined();
    clock.advance(15 * 60_000);
    expect(await right(parent.issueSharePhrase({ direction: "two-way" }))).toBeDefined();
  });

  it("appends a command sent twice once, and answers the second time with the first outcome (R15)", async () => {
    const { store, library, desk } = setUp();
    await family(library);
    const first = await right(desk.registerAccount({ accountId: "aunt", barcode: "A0000001", minor: false, commandId: "cmd-1" }));
    // Another host process, sharing nothing but the store.
    const second = await right(
      createLinkedAccounts({ store, phrases }).staff("desk-1").registerAccount({ accountId: "aunt", barcode: "A0000001", minor: false, commandId: "cmd-1" }),
    );
    expect(second.freshness).toBe(first.freshness);
    expect(second.events).toEqual(first.events);
    expect((await all(store)).filter((e) => e.type === "AccountRegistered" && e.data.accountId === "aunt")).toHaveLength(1);
  });

  it("refuses a command id sent again with another payload or by another actor (R15)", async () => {
    const { library, desk } = setUp();
    await family(library);
    const first = await right(desk.recordCheckout({ accountId: "child", itemId: "i1", title: "Book", dueAt, loanId: "L1" }));
    const second = await right(desk.recordCheckout({ accountId: "child", itemId: "i2", title: "Book 2", dueAt, loanId: "L2" }));
    const parent = library.patron("parent");
    const issued = await right(parent.issueSharePhrase({ direction: "one-way" }));
    await right(library.patron("child").connectAccount({ barcode: "P0000001", phrase: issued.phrase }));
    await right(parent.renewLoan({ accountId: "child", loanId: first.loanId, dueAt: "2026-04-01T00:00:00.000Z", commandId: "renew-1" }));
    const other = await leftOf(parent.renewLoan({ accountId: "child", loanId: second.loanId, dueAt: "2026-04-01T00:00:00.000Z", commandId: "renew-1" }));
    expect(other.code).toBe("command-id-reused");
    expect(
      await leftCode(library.patron("child").renewLoan({ accountId: "child", loanId: first.loanId, dueAt: "2026-04-01T00:00:00.000Z", commandId: "renew-1" })),
    ).toBe("command-id-reused");
  });

  it("appends a phrase issued twice with one command id once, and never shows a phrase a second time (R6)", async () => {
    const { store, library } = setUp();
    await family(library);
    const parent = library.patron("parent");
    const first = await right(parent.issueSharePhrase({ direction: "two-way", commandId: "cmd-2" }));
    const second = await parent.issueSharePhrase({ direction: "two-way", commandId: "cmd-2" });
    expect(E.isLeft(second) && second.left).toMatchObject({ code: "phrase-shown-once", phraseId: first.phraseId });
    expect(JSON.stringify(second)).not.toContain(first.phrase);
    expect((await all(store)).filter((e) => e.type === "SharePhraseIssued")).toHaveLength(1);
  });

  it("never stores a phrase typed into the barcode field, nor echoes one in an error (R6)", async () => {
    const { store, library } = setUp();
    await family(library);
    const issued = await right(library.patron("parent").issueSharePhrase({ direction: "one-way" }));
    const child = library.patron("child");
    for (const typed of [issued.phrase, issued.phrase.replaceAll("-", "")])
      expect(await leftCode(child.connectAccount({ barcode: typed, phrase: "P0000001" }))).toBe("barcode-or-phrase-not-recognised");
    const pasted = await leftOf(child.connectAccount({ barcode: `my phrase is ${issued.phrase} ${"!".repeat(80)}`, phrase: "x" }));
    expect(pasted.code).toBe("invalid-input");
    expect(pasted.message).toContain("connectAccount.barcode");
    expect(pasted.message).not.toContain(issued.phrase);
    const stored = JSON.stringify((await all(store)).map((e) => ({ type: e.type, data: e.data, tags: e.tags })));
    expect(stored).toContain("unknown-barcode");
    expect(stored.toLowerCase()).not.toContain(issued.phrase.replaceAll("-", "").slice(0, 8));
  });

  it("refuses bad input naming the field, refuses unknown fields, and never echoes a phrase", async () => {
    const { library, desk } = setUp();
    const bad = await leftOf(desk.registerAccount({ accountId: "a b", barcode: "P0000001", minor: false }));
    expect(bad).toMatchObject({ code: "invalid-input" });
    expect(bad.message).toContain("registerAccount.accountId: expected Id");
    const unknown = await leftOf(library.patron("parent").issueSharePhrase({ direction: "one-way", colour: "red" } as never));
    expect(unknown.message).toContain("issueSharePhrase.colour");
    const secret = "x".repeat(201);
    const phrase = await leftOf(library.patron("child").connectAccount({ barcode: "P0000001", phrase: secret }));
    expect(phrase.message).toContain("connectAccount.phrase");
    expect(phrase.message).not.toContain("xxxx");
  });

  it("never stores a manager's action decided before a revocation it raced (R13)", async () => {
    const inner = createInMemoryEventStore();
    const { library, desk } = setUp(inner);
    await family(library);
    const issued = await right(library.patron("parent").issueSharePhrase({ direction: "one-way" }));
    const link = await right(library.patron("child").connectAccount({ barcode: "P0000001", phrase: issued.phrase }));
    const loan = await right(desk.recordCheckout({ accountId: "child", itemId: "i1", title: "Book", dueAt }));
    // A second host revokes the link after the renewal read the links and before it appends.
    let revokeFirst = true;
    const racing: EventStore = {
      ...inner,
      read: (q, o) => inner.read(q, o),
      readAll: (o) => inner.readAll(o),
      head: () => inner.head(),
      append: async (events, condition) => {
        if (revokeFirst && events.some((e) => e.type === "LoanRenewed")) {
          revokeFirst = false;
          await right(createLinkedAccounts({ store: inner, phrases }).patron("child").revokeLink({ linkId: link.linkId! }));
        }
        return inner.append(events, condition);
      },
    };
    const renewal = createLinkedAccounts({ store: racing, phrases }).patron("parent");
    expect(await leftCode(renewal.renewLoan({ accountId: "child", loanId: loan.loanId, dueAt: "2026-05-01T00:00:00.000Z" }))).toBe(
      "not-authorised",
    );
    expect((await all(inner)).map((e) => e.type)).not.toContain("LoanRenewed");
  });

  it("retries a conflict with fresh state and gives up after the bound with a clear error", async () => {
    const inner = createInMemoryEventStore();
    let conflicts = 0;
    const contended: EventStore = {
      ...inner,
      read: (q, o) => inner.read(q, o),
      readAll: (o) => inner.readAll(o),
      head: () => inner.head(),
      append: async (_events, condition) => {
        conflicts++;
        throw new AppendConditionError(condition!);
      },
    };
    const library = createLinkedAccounts({ store: contended, phrases, retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 2 } });
    const outcome = await library.staff("s1").registerAccount({ accountId: "a1", barcode: "A0000001", minor: false });
    expect(E.isLeft(outcome) && outcome.left.code).toBe("conflict-retries-exhausted");
    expect(conflicts).toBe(4);
    expect(await all(inner)).toHaveLength(0);
  });

  it("appends once when the answer to an append is lost and the host retries with the same command id", async () => {
    const inner = createInMemoryEventStore();
    let dropNextAnswer = false;
    const flaky: EventStore = {
      ...inner,
      read: (q, o) => inner.read(q, o),
      readAll: (o) => inner.readAll(o),
      head: () => inner.head(),
      append: async (events, condition) => {
        const result = await inner.append(events, condition);
        if (dropNextAnswer) {
          dropNextAnswer = false;
          throw new Error("Connection terminated unexpectedly");
        }
        return result;
      },
    };
    const { library } = setUp(flaky);
    await family(library);
    const issued = await right(library.patron("parent").issueSharePhrase({ direction: "one-way" }));
    dropNextAnswer = true;
    const attempt = { barcode: "P0000001", phrase: issued.phrase, commandId: "connect-1" };
    await expect(library.patron("child").connectAccount(attempt)).rejects.toThrow("Connection terminated");
    const retried = await right(library.patron("child").connectAccount(attempt));
    expect(retried.linkId).not.toBeNull();
    expect((await all(inner)).filter((e) => e.type === "AccountConnected")).toHaveLength(1);
  });

  it("connects many distinct pairs at once through one host with no refusal (R16)", async () => {
    const { library, desk } = setUp();
    const pairs = 24;
    for (let i = 0; i < pairs; i++) {
      await right(desk.registerAccount({ accountId: `issuer-${i}`, barcode: `I${100000 + i}`, minor: false }));
      await right(desk.registerAccount({ accountId: `connector-${i}`, barcode: `K${100000 + i}`, minor: false }));
    }
    const issued = await Promise.all(
      Array.from({ length: pairs }, (_, i) => right(library.patron(`issuer-${i}`).issueSharePhrase({ direction: "two-way" }))),
    );
    const outcomes = await Promise.all(
      issued.map((p, i) => library.patron(`connector-${i}`).connectAccount({ barcode: `I${100000 + i}`, phrase: p.phrase })),
    );
    expect(outcomes.filter(E.isLeft)).toEqual([]);
  });

  it("tells a patron its connections from the store: the links each way, and which grants are in force", async () => {
    const { library } = setUp();
    await family(library);
    const parent = library.patron("parent");
    const child = library.patron("child");
    const partner = library.patron("partner");
    const oneWay = await right(parent.issueSharePhrase({ direction: "one-way" }));
    const toChild = await right(child.connectAccount({ barcode: "P0000001", phrase: oneWay.phrase }));
    // A 2-way link with a minor works one way (R4).
    const twoWay = await right(child.issueSharePhrase({ direction: "two-way" }));
    const childAndPartner = await right(partner.connectAccount({ barcode: "C0000001", phrase: twoWay.phrase }));
    expect(await child.connections()).toEqual([
      { accountId: "parent", linkIds: [toChild.linkId], youManage: false, managesYou: true },
      { accountId: "partner", linkIds: [childAndPartner.linkId], youManage: false, managesYou: true },
    ]);
    expect(await parent.connections()).toEqual([{ accountId: "child", linkIds: [toChild.linkId], youManage: true, managesYou: false }]);
    await right(child.revokeLink({ linkId: toChild.linkId! }));
    expect(await parent.connections()).toEqual([]);
  });

  it("never hands out an older freshness token than one it gave before", async () => {
    const { library } = setUp();
    await family(library);
    const parent = library.patron("parent");
    const issued = await right(parent.issueSharePhrase({ direction: "one-way" }));
    const link = await right(library.patron("child").connectAccount({ barcode: "P0000001", phrase: issued.phrase }));
    await right(library.patron("partner").issueSharePhrase({ direction: "two-way" }));
    // A repeat connect appends nothing; its token is still the newest the store had.
    const again = await right(library.patron("child").connectAccount({ barcode: "P0000001", phrase: issued.phrase }));
    expect(again.events).toEqual([]);
    expect(BigInt(again.freshness)).toBeGreaterThan(BigInt(link.freshness));
  });
});

describe("a rule changed through the domain's policy alone (minorsMayManageFromAge)", () => {
  it("under a policy letting minors manage from 16, the minor renews a managed account's loan once 16 by the date of birth staff recorded; before, it is refused", async () => {
    const store = createInMemoryEventStore();
    const clock = manualClock("2026-03-03T09:00:00.000Z");
    const library = createLinkedAccounts({ store, clock, phrases, policy: makePolicy({ minorsMayManageFromAge: 16 }) });
    await family(library);
    const desk = library.staff("desk-1");
    const parent = library.patron("parent");
    const child = library.patron("child");
    const issued = await right(parent.issueSharePhrase({ direction: "two-way" }));
    await right(child.connectAccount({ barcode: "P0000001", phrase: issued.phrase }));
    const loan = await right(desk.recordCheckout({ accountId: "parent", itemId: "item-1", title: "The Bone People", dueAt }));
    const renew = () => child.renewLoan({ accountId: "parent", loanId: loan.loanId, dueAt: "2026-04-03T09:00:00.000Z" });

    // No date of birth recorded: a minor never manages.
    expect(await leftCode(renew())).toBe("not-authorised");
    // The child turns 16 at midnight UTC on 5 March 2026.
    // Staff or the system record it; a patron has no such method.
    expect("recordDateOfBirth" in child).toBe(false);
    await right(desk.recordDateOfBirth({ accountId: "child", dateOfBirth: "2010-03-05" }));
    expect(await leftCode(renew())).toBe("not-authorised");
    expect(await child.canManage("parent")).toBe(false);

    clock.set("2026-03-05T00:00:00.000Z");
    expect(await child.canManage("parent")).toBe(true);
    expect(await child.authorize("renew-loan", "parent")).toMatchObject({ _tag: "Right", right: { kind: "manager" } });
    await right(renew());
    const renewed = (await all(store)).find((e) => e.type === "LoanRenewed");
    expect(renewed?.data).toMatchObject({ accountId: "parent", renewedBy: "child" });
    // Still only what a manager may do (R5).
    expect(await leftCode(child.placeHold({ accountId: "parent", itemId: "i9", title: "Potiki", pickupBranch: "Central" }))).toBe("self-service-only");
  });

  it("under the default policy the same 16-year-old is refused, date of birth or not", async () => {
    const { library, clock, desk } = setUp();
    await family(library);
    const issued = await right(library.patron("parent").issueSharePhrase({ direction: "two-way" }));
    await right(library.patron("child").connectAccount({ barcode: "P0000001", phrase: issued.phrase }));
    const loan = await right(desk.recordCheckout({ accountId: "parent", itemId: "item-1", title: "The Bone People", dueAt }));
    await right(desk.recordDateOfBirth({ accountId: "child", dateOfBirth: "2010-03-05" }));
    clock.set("2026-03-05T00:00:00.000Z");
    expect(await leftCode(library.patron("child").renewLoan({ accountId: "parent", loanId: loan.loanId, dueAt: "2026-04-03T09:00:00.000Z" }))).toBe("not-authorised");
  });
});
