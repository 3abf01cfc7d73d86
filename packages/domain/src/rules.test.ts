/**
 * DOMAIN.md's rules R1 to R14, one specification each:
 * given events, when a command, then events or an error.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { canManage as canManageUnder } from "./access.js";
import type { LinkingState } from "./linking-state.js";
import type { DomainError } from "./errors.js";
import { canonicalBarcode } from "./barcode.js";
import type { DomainEvent } from "./events.js";
import { refusalOf } from "./commands/index.js";
import { defaultPolicy, makePolicy } from "./policy.js";
import {
  PHRASE_ALPHABET,
  PHRASE_LENGTH,
  formatPhrase,
  normalisePhrase,
  phraseEntropyBits,
  sameHash,
} from "./phrase.js";
import { fold, libraryDecider } from "./decider.js";
import { given } from "./testing/scenario.js";
import { snapshot } from "./testing/snapshot.js";
import {
  accountClosed,
  asAccount,
  asStaff,
  asSystem,
  at,
  barcodeOf,
  checkedOut,
  command,
  connectAttempt,
  connected,
  dateOfBirthRecorded,
  holdPlaced,
  linkRevoked,
  phraseIssued,
  phraseRevoked,
  plaintextOf,
  registered,
} from "./testing/fixtures.js";

/** Under the default policy, where time plays no part in who manages whom. */
const canManage = (state: LinkingState, manager: string, account: string) => canManageUnder(state, manager, account, defaultPolicy, 0);

const MINUTE = 60_000;
const DAY = 24 * 60;
const adults = (...ids: string[]) => ids.map((id) => registered(id));
/** alice issued a phrase of `direction` and bob connected with it. */
const linked = (direction: "one-way" | "two-way", issuer = "alice", connector = "bob", linkId = "L1", phraseId = "P1") => [
  phraseIssued(phraseId, issuer, direction),
  connected(linkId, phraseId, issuer, connector, direction),
];
const renew = (actor: string, accountId: string, loanId: string, dueMinutes = 30 * DAY, minutes = 1) =>
  command("RenewLoan", asAccount(actor), { loanId, accountId, dueAt: at(dueMinutes) }, minutes);

describe("R1 access comes only from links", () => {
  it("an account manages itself", () => {
    const g = given([...adults("alice"), checkedOut("loan1", "alice")]);
    expect(g.when(renew("alice", "alice", "loan1")).events).toEqual([
      { type: "LoanRenewed", data: { loanId: "loan1", accountId: "alice", dueAt: at(30 * DAY), renewedBy: "alice", renewedAt: at(1) } },
    ]);
  });
  it("without a link one account cannot manage another", () => {
    const g = given([...adults("alice", "bob"), checkedOut("loan1", "bob")]);
    expect(g.when(renew("alice", "bob", "loan1")).error).toBe("not-authorised");
    expect(canManage(g.state.linking, "alice", "bob")).toBe(false);
  });
  it("an active link lets the manager act, and the event names who acted", () => {
    const g = given([...adults("alice", "bob"), ...linked("one-way"), checkedOut("loan1", "bob")]);
    const outcome = g.when(renew("alice", "bob", "loan1"));
    expect(outcome.events).toHaveLength(1);
    expect(outcome.events[0]).toMatchObject({ type: "LoanRenewed", data: { accountId: "bob", renewedBy: "alice" } });
  });
  it("a link gives nothing once either account is closed", () => {
    const base = [...adults("alice", "bob"), ...linked("two-way"), checkedOut("loan1", "bob"), checkedOut("loan2", "alice")];
    const bobClosed = given([...base, accountClosed("bob")]);
    expect(bobClosed.when(renew("alice", "bob", "loan1")).error).toBe("account-closed");
    const aliceClosed = given([...base, accountClosed("alice")]);
    expect(aliceClosed.when(renew("alice", "bob", "loan1")).error).toBe("not-authorised");
    expect(aliceClosed.when(renew("bob", "alice", "loan2")).error).toBe("account-closed");
  });
  it("staff and the system never manage an account's loans", () => {
    const g = given([...adults("bob"), checkedOut("loan1", "bob")]);
    expect(g.when(command("RenewLoan", asStaff, { loanId: "loan1", accountId: "bob", dueAt: at(30 * DAY) }, 1)).error).toBe("not-authorised");
    expect(g.when(command("RenewLoan", asSystem, { loanId: "loan1", accountId: "bob", dueAt: at(30 * DAY) }, 1)).error).toBe("not-authorised");
  });
});

describe("R2 direction", () => {
  it("a 1-way link gives issuer → connector only", () => {
    const g = given([...adults("alice", "bob"), ...linked("one-way"), checkedOut("loan1", "bob"), checkedOut("loan2", "alice")]);
    expect(canManage(g.state.linking, "alice", "bob")).toBe(true);
    expect(canManage(g.state.linking, "bob", "alice")).toBe(false);
    expect(g.when(renew("alice", "bob", "loan1")).error).toBeUndefined();
    expect(g.when(renew("bob", "alice", "loan2")).error).toBe("not-authorised");
  });
  it("a 2-way link gives both grants", () => {
    const g = given([...adults("alice", "bob"), ...linked("two-way"), checkedOut("loan1", "bob"), checkedOut("loan2", "alice")]);
    expect(g.when(renew("alice", "bob", "loan1")).error).toBeUndefined();
    expect(g.when(renew("bob", "alice", "loan2")).error).toBeUndefined();
  });
  it("a 1-way link still gives no reverse grant after another link that gave it is revoked", () => {
    const history: DomainEvent[] = [
      ...adults("alice", "bob"),
      ...linked("one-way"),
      ...linked("one-way", "bob", "alice", "L2", "P2"),
    ];
    expect(canManage(given(history).state.linking, "bob", "alice")).toBe(true);
    const after = given([...history, linkRevoked("L2", "bob")]).state.linking;
    expect(canManage(after, "bob", "alice")).toBe(false);
    expect(canManage(after, "alice", "bob")).toBe(true);
  });
});

describe("R3 no transitivity", () => {
  it("A → B and B → C give nothing between A and C", () => {
    const g = given([
      ...adults("alice", "bob", "carol"),
      ...linked("two-way", "alice", "bob", "L1", "P1"),
      ...linked("two-way", "bob", "carol", "L2", "P2"),
      checkedOut("loan1", "carol"),
      checkedOut("loan2", "alice"),
    ]);
    expect(canManage(g.state.linking, "alice", "bob")).toBe(true);
    expect(canManage(g.state.linking, "bob", "carol")).toBe(true);
    expect(canManage(g.state.linking, "alice", "carol")).toBe(false);
    expect(canManage(g.state.linking, "carol", "alice")).toBe(false);
    expect(g.when(renew("alice", "carol", "loan1")).error).toBe("not-authorised");
    expect(g.when(renew("carol", "alice", "loan2")).error).toBe("not-authorised");
  });
});

describe("R4 minors never manage", () => {
  it("a 2-way link between an adult and a minor works as 1-way towards the minor", () => {
    const g = given([
      registered("alice"),
      registered("kid", true),
      ...linked("two-way", "alice", "kid"),
      checkedOut("loan1", "kid"),
      checkedOut("loan2", "alice"),
    ]);
    expect(g.when(renew("alice", "kid", "loan1")).error).toBeUndefined();
    expect(g.when(renew("kid", "alice", "loan2")).error).toBe("not-authorised");
    expect(canManage(g.state.linking, "kid", "alice")).toBe(false);
  });
  it("a minor's 2-way phrase connected by an adult gives the adult the grant, never the minor", () => {
    const g = given([registered("kid", true), registered("alice"), ...linked("two-way", "kid", "alice")]);
    expect(canManage(g.state.linking, "alice", "kid")).toBe(true);
    expect(canManage(g.state.linking, "kid", "alice")).toBe(false);
  });
  it("a minor cannot issue a 1-way phrase", () => {
    const g = given([registered("kid", true)]);
    const c = command("IssueSharePhrase", asAccount("kid"), {
      phraseId: "P1",
      issuerAccountId: "kid",
      direction: "one-way",
      verifier: phraseIssued("P1", "kid", "one-way").data.verifier,
    });
    expect(g.when(c).error).toBe("minor-cannot-manage");
  });
  it("a minor holds no grant even between two minors on a 2-way link", () => {
    const g = given([registered("kid", true), registered("teen", true), ...linked("two-way", "kid", "teen")]);
    expect(canManage(g.state.linking, "kid", "teen")).toBe(false);
    expect(canManage(g.state.linking, "teen", "kid")).toBe(false);
  });
});

describe("R4 changed through the policy alone: minors may manage from 16 (minorsMayManageFromAge)", () => {
  // The clock of the fixtures starts 2026-03-02T09:00Z; kid turns 16 at midnight UTC on 2026-03-05.
  const sixteen = makePolicy({ minorsMayManageFromAge: 16 });
  const beforeBirthday = 60 * 24; // 2026-03-03
  const afterBirthday = 60 * 24 * 3; // 2026-03-05T09:00Z
  const history = [
    registered("alice"),
    registered("kid", true),
    ...linked("two-way", "alice", "kid"),
    checkedOut("loan2", "alice"),
    dateOfBirthRecorded("kid", "2010-03-05"),
  ];
  const renewAt = (minutes: number) => renew("kid", "alice", "loan2", 30 * DAY, minutes);

  it("staff record a date of birth; recording the same one again changes nothing; a date after today is refused", () => {
    const g = given([registered("kid", true)], sixteen);
    const record = (dateOfBirth: string, actor = asStaff) => command("RecordDateOfBirth", actor, { accountId: "kid", dateOfBirth });
    expect(g.when(record("2010-03-05")).events).toEqual([dateOfBirthRecorded("kid", "2010-03-05", 0)]);
    expect(given([registered("kid", true), dateOfBirthRecorded("kid", "2010-03-05")]).when(record("2010-03-05")).events).toEqual([]);
    expect(g.when(record("2026-03-03")).error).toBe("date-of-birth-in-future");
    expect(g.when(record("2010-03-05", asAccount("kid"))).error).toBe("not-authorised");
    expect(g.when(record("2010-03-05", asSystem)).error).toBeUndefined();
    expect(given([], sixteen).when(record("2010-03-05")).error).toBe("account-not-found");
  });

  it("before the 16th birthday the minor cannot renew the managed account's loan; from it, it can", () => {
    const g = given(history, sixteen);
    expect(g.when(renewAt(beforeBirthday)).error).toBe("not-authorised");
    const after = g.when(renewAt(afterBirthday));
    expect(after.error).toBeUndefined();
    expect(after.events).toMatchObject([{ type: "LoanRenewed", data: { loanId: "loan2", renewedBy: "kid" } }]);
    expect(canManageUnder(g.state.linking, "kid", "alice", sixteen, Date.parse(at(beforeBirthday)))).toBe(false);
    expect(canManageUnder(g.state.linking, "kid", "alice", sixteen, Date.parse(at(afterBirthday)))).toBe(true);
  });

  it("the default policy is today's R4: the same 16-year-old never manages", () => {
    expect(given(history).when(renewAt(afterBirthday)).error).toBe("not-authorised");
  });

  it("without a recorded date of birth a minor never manages, under any policy", () => {
    const g = given(history.filter((e) => e.type !== "DateOfBirthRecorded"), sixteen);
    expect(g.when(renewAt(afterBirthday)).error).toBe("not-authorised");
  });

  it("a minor of 16 may issue a 1-way phrase; before 16 it may not", () => {
    const g = given([registered("kid", true), dateOfBirthRecorded("kid", "2010-03-05")], sixteen);
    const issue = (minutes: number) =>
      command(
        "IssueSharePhrase",
        asAccount("kid"),
        { phraseId: "P9", issuerAccountId: "kid", direction: "one-way", verifier: phraseIssued("P9", "kid", "one-way").data.verifier },
        minutes,
      );
    expect(g.when(issue(beforeBirthday)).error).toBe("minor-cannot-manage");
    expect(g.when(issue(afterBirthday)).error).toBeUndefined();
  });

  it("closing either account or revoking the link still ends the grant (R11, R12)", () => {
    const g = given([...history, accountClosed("alice")], sixteen);
    expect(canManageUnder(g.state.linking, "kid", "alice", sixteen, Date.parse(at(afterBirthday)))).toBe(false);
    const r = given([...history, linkRevoked("L1", "alice")], sixteen);
    expect(canManageUnder(r.state.linking, "kid", "alice", sixteen, Date.parse(at(afterBirthday)))).toBe(false);
  });

  it("the policy refuses an age that cannot work", () => {
    expect(() => makePolicy({ minorsMayManageFromAge: 0 })).toThrow(RangeError);
    expect(() => makePolicy({ minorsMayManageFromAge: 16.5 })).toThrow(RangeError);
    expect(makePolicy().minorsMayManageFromAge).toBeNull();
  });
});

describe("R5 what a manager may do", () => {
  const g = given([
    ...adults("alice", "bob"),
    ...linked("one-way"),
    checkedOut("loan1", "bob"),
    holdPlaced("hold1", "bob"),
    holdPlaced("hold2", "bob"),
    { type: "HoldSuspended", data: { holdId: "hold2", accountId: "bob", until: at(10 * DAY), suspendedBy: "bob", suspendedAt: at(0) } },
  ]);
  const alice = asAccount("alice");
  it("renews, cancels, suspends, resumes and re-routes the managed account's existing loans and holds", () => {
    const outcomes = [
      g.when(renew("alice", "bob", "loan1")),
      g.when(command("CancelHold", alice, { holdId: "hold1", accountId: "bob" }, 1)),
      g.when(command("SuspendHold", alice, { holdId: "hold1", accountId: "bob", until: at(3 * DAY) }, 1)),
      g.when(command("ResumeHold", alice, { holdId: "hold2", accountId: "bob" }, 1)),
      g.when(command("ChangeHoldPickupBranch", alice, { holdId: "hold1", accountId: "bob", pickupBranch: "Otara" }, 1)),
    ];
    expect(outcomes.map((o) => o.events.map((e) => e.type))).toEqual([
      ["LoanRenewed"],
      ["HoldCancelled"],
      ["HoldSuspended"],
      ["HoldResumed"],
      ["HoldPickupBranchChanged"],
    ]);
    for (const o of outcomes) expect(Object.values(o.events[0]!.data)).toContain("alice");
  });
  it("cannot place a hold for the managed account", () => {
    const o = g.when(
      command("PlaceHold", alice, { holdId: "hold9", accountId: "bob", itemId: "i9", title: "Whale Rider", pickupBranch: "Central" }, 1),
    );
    expect(o.error).toBe("self-service-only");
  });
  it("cannot make an eCheckout for the managed account", () => {
    const o = g.when(
      command("RecordCheckout", alice, { loanId: "loan9", accountId: "bob", itemId: "i9", title: "Whale Rider", format: "digital", dueAt: at(14 * DAY) }, 1),
    );
    expect(o.error).toBe("self-service-only");
  });
  it("cannot issue or revoke the managed account's phrases, nor connect it", () => {
    const issue = command("IssueSharePhrase", alice, {
      phraseId: "P9",
      issuerAccountId: "bob",
      direction: "two-way",
      verifier: phraseIssued("P9", "bob", "two-way").data.verifier,
    });
    expect(g.when(issue).error).toBe("self-service-only");
    const withPhrase = given([...adults("alice", "bob", "carol"), ...linked("one-way"), phraseIssued("P2", "bob", "two-way")]);
    expect(withPhrase.when(command("RevokeSharePhrase", alice, { phraseId: "P2" })).error).toBe("self-service-only");
    const connect = { ...connectAttempt(withPhrase.state, "bob", barcodeOf("carol"), "x"), actor: alice };
    expect(withPhrase.when(connect).error).toBe("self-service-only");
  });
  it("the account itself places holds and makes eCheckouts", () => {
    const bob = asAccount("bob");
    expect(
      g.when(command("PlaceHold", bob, { holdId: "hold9", accountId: "bob", itemId: "i9", title: "Whale Rider", pickupBranch: "Central" }, 1)).events,
    ).toHaveLength(1);
    expect(
      g.when(command("RecordCheckout", bob, { loanId: "loan9", accountId: "bob", itemId: "i9", title: "Whale Rider", format: "digital", dueAt: at(14 * DAY) }, 1)).events,
    ).toHaveLength(1);
  });
});

describe("R6 issuing", () => {
  const verifier = phraseIssued("P1", "alice", "one-way").data.verifier;
  const issue = (phraseId: string, direction: "one-way" | "two-way", minutes = 0) =>
    command("IssueSharePhrase", asAccount("alice"), { phraseId, issuerAccountId: "alice", direction, verifier }, minutes);
  it("an open account issues a phrase that expires after the default lifetime of 7 days", () => {
    const o = given(adults("alice")).when(issue("P1", "one-way"));
    expect(defaultPolicy.phraseLifetimeMs).toBe(7 * DAY * MINUTE);
    expect(o.events).toEqual([
      {
        type: "SharePhraseIssued",
        data: { phraseId: "P1", issuerAccountId: "alice", direction: "one-way", verifier, issuedAt: at(0), expiresAt: at(7 * DAY) },
      },
    ]);
  });
  it("the lifetime is the host's to set", () => {
    const o = given(adults("alice"), makePolicy({ phraseLifetimeMs: 60 * MINUTE })).when(issue("P1", "two-way"));
    expect(o.events[0]).toMatchObject({ data: { expiresAt: at(60) } });
  });
  it("a new phrase supersedes the active one of its direction, not the other direction's", () => {
    const g = given([...adults("alice"), phraseIssued("P1", "alice", "one-way"), phraseIssued("P2", "alice", "two-way")]);
    const o = g.when(issue("P3", "one-way", 5));
    expect(o.events.map((e) => e.type)).toEqual(["SharePhraseRevoked", "SharePhraseIssued"]);
    expect(o.events[0]).toMatchObject({ data: { phraseId: "P1", reason: "superseded" } });
    expect(o.after.linking.phrases.get("P2")?.revoked).toBeNull();
  });
  it("a closed account cannot issue", () => {
    expect(given([...adults("alice"), accountClosed("alice")]).when(issue("P1", "one-way")).error).toBe("account-closed");
  });
  it("the plaintext appears in no event: only the verifier is stored", () => {
    const g = given([...adults("alice", "bob"), phraseIssued("P1", "alice", "two-way")]);
    const o = g.when(connectAttempt(g.state, "bob", barcodeOf("alice"), plaintextOf("P1"), 1));
    expect(o.events.map((e) => e.type)).toEqual(["AccountConnected"]);
    const json = JSON.stringify([...o.events, phraseIssued("P1", "alice", "two-way")]);
    expect(json).not.toContain(plaintextOf("P1"));
  });
});

describe("R7 phrase strength", () => {
  it("the alphabet has no 0/O, 1/l/I and is typed case-insensitively", () => {
    // Typed case-insensitively, so neither case of O, l or I may be in it.
    for (const c of "0O1lI") {
      expect(PHRASE_ALPHABET).not.toContain(c.toLowerCase());
      expect(PHRASE_ALPHABET).not.toContain(c.toUpperCase());
    }
    expect(new Set(PHRASE_ALPHABET).size).toBe(PHRASE_ALPHABET.length);
    expect(normalisePhrase(PHRASE_ALPHABET.toUpperCase())).toBe(PHRASE_ALPHABET);
  });
  it("carries at least 60 bits", () => {
    expect(phraseEntropyBits).toBeGreaterThanOrEqual(60);
    expect(PHRASE_LENGTH * Math.log2(new Set(PHRASE_ALPHABET).size)).toBe(phraseEntropyBits);
  });
  it("ignores spaces, dashes and case", () => {
    expect(normalisePhrase(" K7QM-x3fa 9tbe--hw ")).toBe("k7qmx3fa9tbehw");
    const phrase = plaintextOf("P1");
    expect(normalisePhrase(formatPhrase(phrase).toUpperCase())).toBe(phrase);
  });
  it("sameHash compares whole strings", () => {
    expect(sameHash("abcDEF", "abcDEF")).toBe(true);
    expect(sameHash("abcDEF", "abcDEG")).toBe(false);
    expect(sameHash("abc", "abcd")).toBe(false);
    expect(sameHash("", "a")).toBe(false);
  });
  it("a phrase typed in capitals with dashes and spaces connects", () => {
    const g = given([...adults("alice", "bob"), phraseIssued("P1", "alice", "one-way")]);
    const typed = ` ${formatPhrase(plaintextOf("P1")).toUpperCase()} `;
    expect(g.when(connectAttempt(g.state, "bob", barcodeOf("alice"), typed, 1)).events[0]?.type).toBe("AccountConnected");
  });
});

describe("R8 connecting", () => {
  const g = given([...adults("alice", "bob", "carol"), phraseIssued("P1", "alice", "one-way")]);
  const correct = (who = "bob", state = g.state, minutes = 1) =>
    connectAttempt(state, who, barcodeOf("alice"), plaintextOf("P1"), minutes, `link-${who}`);
  it("the right barcode and phrase connect, with the phrase's direction", () => {
    expect(g.when(correct()).events).toEqual([
      connected("link-bob", "P1", "alice", "bob", "one-way", 1),
    ]);
  });
  it("one active phrase connects several accounts", () => {
    const first = g.when(correct("bob"));
    const second = given([...adults("alice", "bob", "carol"), phraseIssued("P1", "alice", "one-way"), ...first.events]);
    expect(second.when(correct("carol", second.state)).events[0]).toMatchObject({ type: "AccountConnected", data: { connectedAccountId: "carol" } });
  });
  it("only the connector itself may connect", () => {
    expect(g.when({ ...correct(), actor: asAccount("carol") }).error).toBe("self-service-only");
    expect(g.when({ ...correct(), actor: asStaff }).error).toBe("not-authorised");
  });
  it("a closed connector cannot connect", () => {
    const closed = given([...adults("alice", "bob"), phraseIssued("P1", "alice", "one-way"), accountClosed("bob")]);
    expect(closed.when(correct("bob", closed.state)).error).toBe("account-closed");
  });
  it("one's own barcode is refused as such", () => {
    const o = g.when(connectAttempt(g.state, "alice", barcodeOf("alice"), plaintextOf("P1"), 1));
    expect(o.events).toMatchObject([{ type: "ConnectionAttemptFailed", data: { reason: "self-link" } }]);
    expect(refusalOf(o.events as never)?.code).toBe("cannot-connect-to-own-account");
  });
  it("connecting again to a pair that holds the grants appends nothing", () => {
    const again = given([...adults("alice", "bob"), phraseIssued("P1", "alice", "one-way"), connected("L1", "P1", "alice", "bob", "one-way")]);
    const o = again.when(correct("bob", again.state, 2));
    expect(o.decision).toEqual(E.right([]));
  });
  it("a 2-way phrase on a 1-way pair adds the missing grant (upgrade)", () => {
    const oneWay = [...adults("alice", "bob"), ...linked("one-way"), phraseIssued("P2", "alice", "two-way")];
    const up = given(oneWay);
    expect(canManage(up.state.linking, "bob", "alice")).toBe(false);
    const o = up.when(connectAttempt(up.state, "bob", barcodeOf("alice"), plaintextOf("P2"), 1, "L2"));
    expect(o.events).toEqual([connected("L2", "P2", "alice", "bob", "two-way", 1)]);
    expect(canManage(o.after.linking, "bob", "alice")).toBe(true);
  });
  it("a 1-way phrase from the other side on a 1-way pair adds the reverse grant", () => {
    const g2 = given([...adults("alice", "bob"), ...linked("one-way"), phraseIssued("P2", "bob", "one-way")]);
    const o = g2.when(connectAttempt(g2.state, "alice", barcodeOf("bob"), plaintextOf("P2"), 1, "L2"));
    expect(o.events).toEqual([connected("L2", "P2", "bob", "alice", "one-way", 1)]);
  });
});

describe("R9 failure tells an outsider nothing", () => {
  const base = [...adults("alice", "bob", "carol"), phraseIssued("P1", "alice", "one-way")];
  const cases = {
    "unknown barcode": { events: base, barcode: "NOBODY12345", typed: plaintextOf("P1"), reason: "unknown-barcode" },
    "wrong phrase": { events: base, barcode: barcodeOf("alice"), typed: plaintextOf("P9"), reason: "phrase-mismatch" },
    "expired phrase": {
      events: base,
      barcode: barcodeOf("alice"),
      typed: plaintextOf("P1"),
      reason: "phrase-expired",
      minutes: 7 * DAY,
    },
    "revoked phrase": {
      events: [...base, phraseRevoked("P1", "alice")],
      barcode: barcodeOf("alice"),
      typed: plaintextOf("P1"),
      reason: "phrase-revoked",
    },
    "closed issuer": {
      events: [...base, accountClosed("alice"), phraseRevoked("P1", "alice", "account-closed")],
      barcode: barcodeOf("alice"),
      typed: plaintextOf("P1"),
      reason: "account-closed",
    },
  } as const;
  it("keeps what was typed as the barcode only when it is a registered barcode (a phrase typed there is never stored, R6)", () => {
    const g = given(base);
    const swapped = g.when(connectAttempt(g.state, "bob", plaintextOf("P1"), barcodeOf("alice"), 1));
    expect(swapped.events).toMatchObject([{ type: "ConnectionAttemptFailed", data: { reason: "unknown-barcode", attemptedBarcode: "" } }]);
    expect(JSON.stringify(swapped.events)).not.toContain(plaintextOf("P1"));
    const wrong = g.when(connectAttempt(g.state, "bob", barcodeOf("alice"), "nope", 1));
    expect(wrong.events).toMatchObject([{ data: { reason: "phrase-mismatch", attemptedBarcode: canonicalBarcode(barcodeOf("alice")) } }]);
  });
  it("unknown barcode, wrong, expired, revoked phrase and a closed issuer all give the same error, the reason recorded", () => {
    const refusals = Object.entries(cases).map(([, c]) => {
      const g = given(c.events);
      const o = g.when(connectAttempt(g.state, "bob", c.barcode, c.typed, "minutes" in c ? c.minutes : 1));
      expect(o.events).toMatchObject([{ type: "ConnectionAttemptFailed", data: { reason: c.reason, connectorAccountId: "bob" } }]);
      return refusalOf(o.events as never);
    });
    expect(refusals[0]?.code).toBe("barcode-or-phrase-not-recognised");
    for (const r of refusals) expect(r).toEqual(refusals[0]);
  });
  it("the refusal names neither the barcode nor the issuer", () => {
    const g = given(base);
    const o = g.when(connectAttempt(g.state, "bob", barcodeOf("alice"), "wrong", 1));
    const r = refusalOf(o.events as never)!;
    expect(r.message).not.toContain(barcodeOf("alice"));
    expect(r.message).not.toContain("alice");
  });
});

describe("R10 lockout", () => {
  const base = [...adults("alice", "bob", "mallory", "eve"), phraseIssued("P1", "alice", "two-way")];
  /** Plays attempts one after another, folding each decision. */
  const play = (events: DomainEvent[], attempts: Array<[who: string, barcode: string, typed: string, minute: number]>, policy = defaultPolicy) => {
    const decider = libraryDecider(policy);
    let state = fold(decider, events);
    let last: ReadonlyArray<DomainEvent> = [];
    let refused: DomainError | undefined;
    for (const [who, barcode, typed, minute] of attempts) {
      const d = decider.decide(connectAttempt(state, who, barcode, typed, minute), state);
      refused = E.isLeft(d) ? d.left : undefined;
      last = E.isLeft(d) ? [] : d.right;
      state = fold(decider, last, state);
    }
    return { state, last, refused };
  };
  const wrongAgainstAlice = (n: number, everyMinutes: number, from = 0) =>
    Array.from({ length: n }, (_, i): [string, string, string, number] => [
      i % 2 === 0 ? "mallory" : "eve",
      barcodeOf("alice"),
      `wrong${i}`,
      from + i * everyMinutes,
    ]);
  it("the defaults are 5 failures in 15 minutes for 15 minutes per issuer, 10 in an hour for an hour per connector", () => {
    expect(defaultPolicy.issuerLockout).toEqual({ maxFailures: 5, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE });
    expect(defaultPolicy.connectorLockout).toEqual({ maxFailures: 10, windowMs: 60 * MINUTE, lockMs: 60 * MINUTE });
  });
  it("5 failures against an issuer within 15 minutes lock it: a correct phrase still fails", () => {
    const { last } = play(base, [...wrongAgainstAlice(5, 3), ["bob", barcodeOf("alice"), plaintextOf("P1"), 13]]);
    expect(last).toMatchObject([{ type: "ConnectionAttemptFailed", data: { reason: "issuer-locked" } }]);
    expect(refusalOf(last as never)?.code).toBe("barcode-or-phrase-not-recognised");
  });
  it("the issuer's lock ends 15 minutes after the failure that set it", () => {
    // failures at minutes 0, 3, 6, 9, 12: locked until 27.
    const wrong = wrongAgainstAlice(5, 3);
    const justBefore = play(base, [...wrong, ["bob", barcodeOf("alice"), plaintextOf("P1"), 26.99]]);
    expect(justBefore.last[0]).toMatchObject({ data: { reason: "issuer-locked" } });
    const onTime = play(base, [...wrong, ["bob", barcodeOf("alice"), plaintextOf("P1"), 27]]);
    expect(onTime.last[0]?.type).toBe("AccountConnected");
  });
  it("5 failures spread over more than 15 minutes do not lock", () => {
    const { last } = play(base, [...wrongAgainstAlice(5, 4), ["bob", barcodeOf("alice"), plaintextOf("P1"), 17]]);
    expect(last[0]?.type).toBe("AccountConnected");
  });
  const connectorGuesses = (n: number, everyMinutes: number) =>
    Array.from({ length: n }, (_, i): [string, string, string, number] => [
      "mallory",
      `NOBODY${10000 + i}`,
      "guess",
      i * everyMinutes,
    ]);
  it("10 failures by a connector within an hour lock the connector for an hour", () => {
    const guesses = connectorGuesses(10, 6); // last at minute 54: locked until 114
    const locked = play(base, [...guesses, ["mallory", barcodeOf("alice"), plaintextOf("P1"), 113]]);
    // Refused before anything is derived or appended, and told when to try again.
    expect(locked.last).toEqual([]);
    expect(locked.refused).toMatchObject({ code: "too-many-attempts", retryAt: at(114) });
    const after = play(base, [...guesses, ["mallory", barcodeOf("alice"), plaintextOf("P1"), 114]]);
    expect(after.last[0]?.type).toBe("AccountConnected");
  });
  it("other connectors are not locked by one connector's failures", () => {
    const { last } = play(base, [...connectorGuesses(10, 1), ["bob", barcodeOf("alice"), plaintextOf("P1"), 11]]);
    expect(last[0]?.type).toBe("AccountConnected");
  });
  it("guesses at a locked issuer still count against the connector, but never extend the issuer's lock", () => {
    // mallory fails 5 times at alice (minutes 0..4), locking alice until 19; then keeps guessing at her.
    const atLockedAlice = Array.from({ length: 5 }, (_, i): [string, string, string, number] => ["mallory", barcodeOf("alice"), `late${i}`, 5 + i]);
    const mallory = play(base, [...wrongAgainstAlice(5, 1).map(([, b, t, m]): [string, string, string, number] => ["mallory", b, t, m]), ...atLockedAlice, ["mallory", barcodeOf("alice"), plaintextOf("P1"), 10]]);
    expect(mallory.last).toEqual([]);
    expect(mallory.refused?.code).toBe("too-many-attempts");
    const bob = play(base, [...wrongAgainstAlice(5, 1), ...atLockedAlice, ["bob", barcodeOf("alice"), plaintextOf("P1"), 19]]);
    expect(bob.last[0]?.type).toBe("AccountConnected");
  });
  it("hosts tune the numbers with makePolicy", () => {
    const policy = makePolicy({ issuerLockout: { maxFailures: 2, windowMs: MINUTE, lockMs: 5 * MINUTE } });
    const locked = play(base, [...wrongAgainstAlice(2, 0.5), ["bob", barcodeOf("alice"), plaintextOf("P1"), 1]], policy);
    expect(locked.last[0]).toMatchObject({ data: { reason: "issuer-locked" } });
    const open = play(base, [...wrongAgainstAlice(2, 0.5), ["bob", barcodeOf("alice"), plaintextOf("P1"), 5.5]], policy);
    expect(open.last[0]?.type).toBe("AccountConnected");
    expect(() => makePolicy({ issuerLockout: { maxFailures: 0 } })).toThrow(RangeError);
  });
});

describe("R11 revoking", () => {
  const g = given([...adults("alice", "bob", "carol"), ...linked("two-way"), checkedOut("loan1", "bob")]);
  const revoke = (actor: ReturnType<typeof asAccount> | typeof asStaff | typeof asSystem) =>
    command("RevokeLink", actor, { linkId: "L1", reason: "" }, 1);
  it("either account of the link, or staff, may revoke it; it removes every grant at once", () => {
    for (const actor of [asAccount("alice"), asAccount("bob"), asStaff]) {
      const o = g.when(revoke(actor));
      expect(o.events.map((e) => e.type)).toEqual(["LinkRevoked"]);
      expect(canManage(o.after.linking, "alice", "bob")).toBe(false);
      expect(canManage(o.after.linking, "bob", "alice")).toBe(false);
    }
  });
  it("nobody else may revoke it", () => {
    expect(g.when(revoke(asAccount("carol"))).error).toBe("not-authorised");
    expect(g.when(revoke(asSystem)).error).toBe("not-authorised");
  });
  it("revoking a revoked link appends nothing, and a later connection makes a new link", () => {
    const revoked = given([...adults("alice", "bob"), ...linked("two-way"), linkRevoked("L1", "bob"), phraseIssued("P2", "alice", "one-way")]);
    expect(revoked.when(revoke(asAccount("alice"))).decision).toEqual(E.right([]));
    const o = revoked.when(connectAttempt(revoked.state, "bob", barcodeOf("alice"), plaintextOf("P2"), 2, "L2"));
    expect(o.events).toEqual([connected("L2", "P2", "alice", "bob", "one-way", 2)]);
    expect(o.after.linking.links.get("L1")?.revoked).toBe(true);
  });
  it("revoking a phrase stops new connections with it; links it made stay", () => {
    const h = given([...adults("alice", "bob", "carol"), ...linked("one-way")]);
    const o = h.when(command("RevokeSharePhrase", asAccount("alice"), { phraseId: "P1" }, 1));
    expect(o.events).toEqual([phraseRevoked("P1", "alice", "issuer", 1)]);
    const after = given([...adults("alice", "bob", "carol"), ...linked("one-way"), ...o.events]);
    expect(canManage(after.state.linking, "alice", "bob")).toBe(true);
    const attempt = after.when(connectAttempt(after.state, "carol", barcodeOf("alice"), plaintextOf("P1"), 2));
    expect(attempt.events).toMatchObject([{ data: { reason: "phrase-revoked" } }]);
  });
  it("staff revoke a phrase with reason staff", () => {
    const h = given([...adults("alice"), phraseIssued("P1", "alice", "one-way")]);
    expect(h.when(command("RevokeSharePhrase", asStaff, { phraseId: "P1" }, 1)).events).toEqual([phraseRevoked("P1", "alice", "staff", 1)]);
  });
});

describe("R12 closing an account", () => {
  const g = given([
    ...adults("alice", "bob", "carol"),
    ...linked("two-way", "alice", "bob"),
    ...linked("one-way", "carol", "alice", "L2", "P2"),
    phraseIssued("P3", "alice", "one-way", 1),
  ]);
  it("ends every grant to or from it and every phrase it issued", () => {
    const o = g.when(command("CloseAccount", asAccount("alice"), { accountId: "alice" }, 2));
    expect(o.events[0]).toEqual(accountClosed("alice", 2));
    const revoked = o.events.slice(1);
    expect(revoked.map((e) => e.type)).toEqual(["SharePhraseRevoked", "SharePhraseRevoked"]);
    expect(revoked.map((e) => (e.data as { phraseId: string }).phraseId).sort()).toEqual(["P1", "P3"]);
    expect(revoked.every((e) => (e.data as { reason: string }).reason === "account-closed")).toBe(true);
    const s = o.after.linking;
    for (const [m, a] of [["alice", "bob"], ["bob", "alice"], ["carol", "alice"]] as const) expect(canManage(s, m, a)).toBe(false);
  });
  it("a closed account's barcode connects nobody", () => {
    const closed = given([...adults("alice", "bob"), phraseIssued("P1", "alice", "one-way"), accountClosed("alice")]);
    const o = closed.when(connectAttempt(closed.state, "bob", barcodeOf("alice"), plaintextOf("P1"), 1));
    expect(o.events).toMatchObject([{ data: { reason: "account-closed" } }]);
  });
  it("closing a closed account appends nothing", () => {
    const closed = given([...adults("alice"), accountClosed("alice")]);
    expect(closed.when(command("CloseAccount", asStaff, { accountId: "alice" }, 1)).decision).toEqual(E.right([]));
  });
});

describe("R13 no stale grants", () => {
  it("a manager's command is decided against link state that includes a revocation stored before it", () => {
    const history = [...adults("alice", "bob"), ...linked("one-way"), checkedOut("loan1", "bob")];
    const c = renew("alice", "bob", "loan1", 30 * DAY, 5);
    expect(given(history).when(c).error).toBeUndefined();
    expect(given([...history, linkRevoked("L1", "bob", 4)]).when(c).error).toBe("not-authorised");
  });
});

describe("R14 time, randomness and identity come from outside", () => {
  const history = [...adults("alice", "bob"), phraseIssued("P1", "alice", "two-way"), checkedOut("loan1", "bob")];
  it("decide is deterministic: the same inputs twice give equal outputs", () => {
    const g = given(history);
    const c = connectAttempt(g.state, "bob", barcodeOf("alice"), plaintextOf("P1"), 3);
    expect(g.when(c).decision).toEqual(g.when(c).decision);
    expect(given(history).when(c).decision).toEqual(g.when(c).decision);
  });
  it("evolve of the same events gives equal state", () => {
    expect(snapshot(given(history).state)).toEqual(snapshot(given(history).state));
  });
  it("decide reads no clock: expiry is judged by the command's now, whatever the real date", () => {
    const g = given(history);
    const inThePast = connectAttempt(g.state, "bob", barcodeOf("alice"), plaintextOf("P1"), 7 * DAY - 1);
    expect(g.when(inThePast).events[0]?.type).toBe("AccountConnected");
    const later = connectAttempt(g.state, "bob", barcodeOf("alice"), plaintextOf("P1"), 7 * DAY);
    expect(g.when(later).events[0]).toMatchObject({ data: { reason: "phrase-expired" } });
  });
  it("the domain's source reads no clock, random source, environment or module beyond fp-ts and io-ts", () => {
    const dir = dirname(fileURLToPath(import.meta.url));
    const sources = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(sources.length).toBeGreaterThan(5);
    for (const file of sources) {
      const text = readFileSync(join(dir, file), "utf8");
      expect(text, file).not.toMatch(/Date\.now|new Date\(\)|Math\.random|process\.|crypto|performance\./);
      for (const [, spec] of text.matchAll(/from\s+"([^"]+)"/g))
        expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/|fp-ts\/|io-ts$)/);
    }
  });
});
