/** Helpers the tests share: envelopes for hand-written histories, positions, exports. Not exported by the package. */
import * as E from "fp-ts/lib/Either.js";
import {
  type EventStore,
  type LinkedAccounts,
  type NewEvent,
  createLinkedAccounts,
  manualClock,
  scryptSharePhrases,
  uuidV7Ids,
} from "@linked-accounts/adapters";
import {
  type Actor,
  type Channel,
  type DomainEvent,
  type EventEnvelope,
  SCHEMA_VERSION,
  channelOfVersion1,
  commandTag,
  initialLinkingState,
  tagsOf,
} from "@linked-accounts/domain/internal";
import { fixtures, uuidV7 } from "@linked-accounts/domain/testing";
import { createHash } from "node:crypto";
import type { ExportedEvent } from "./ndjson.js";
import { exportLine, headerLine, trailerLine } from "./ndjson.js";
import { domainTagger } from "./tagging.js";

/** `event` as stored, done by `actor` at minute `minutes` of the fixtures' clock (through `channel`: by default an account's portal, the desk for staff). */
export const stamped = (event: DomainEvent, actor: Actor | string, minutes: number, counter: number, channel?: Channel): EventEnvelope =>
  ({
    ...event,
    metadata: {
      eventId: uuidV7(Date.parse(fixtures.at(minutes)), counter),
      schemaVersion: SCHEMA_VERSION,
      occurredAt: fixtures.at(minutes),
      actor: typeof actor === "string" ? { kind: "account", accountId: actor } : actor,
      channel: channel ?? (typeof actor === "string" ? "portal" : channelOfVersion1(actor)),
      correlationId: null,
      causationId: null,
    },
  }) as EventEnvelope;

/** Gives events positions (gaps between them: `gaps[i]`, default 1) and a stream name. */
export const positioned = (events: ReadonlyArray<EventEnvelope>, gaps: ReadonlyArray<number> = []): ExportedEvent[] => {
  let p = 0n;
  return events.map((e, i) => {
    p += BigInt(gaps[i] ?? 1);
    return { ...e, position: p, stream: `s-${i % 3}` };
  });
};

/** Builds a history one event per minute: `[event, actor]` pairs. */
export const history = (steps: ReadonlyArray<readonly [DomainEvent, Actor | string]>): ExportedEvent[] =>
  positioned(steps.map(([e, actor], i) => stamped(e, actor, i, i)));

/** The event lines alone, as a hand-made export would be (no header, no trailer). */
export const exportText = (events: ReadonlyArray<ExportedEvent>): string => events.map((e) => exportLine(e) + "\n").join("");

/** What `linked-accounts export` writes: the header, the event lines, the trailer. */
export const checkedExportText = (events: ReadonlyArray<ExportedEvent>): string => {
  const body = headerLine + "\n" + exportText(events);
  return body + trailerLine(events.length, createHash("sha256").update(body, "utf8").digest("hex")) + "\n";
};

/**
 * The story of the reference page: a parent manages a child (1-way), two
 * partners manage each other (2-way), a minor's 2-way link works one way (R4).
 * Positions 1..n.
 */
export const referenceStory = (): ExportedEvent[] => {
  const f = fixtures;
  return history([
    [f.registered("parent"), "parent"], // 1
    [f.registered("child", true), "child"], // 2
    [f.registered("partner"), "partner"], // 3
    [f.phraseIssued("ph1", "parent", "one-way"), "parent"], // 4
    [f.connected("link-pc", "ph1", "parent", "child", "one-way"), "child"], // 5
    [f.phraseIssued("ph2", "parent", "two-way"), "parent"], // 6
    [f.connected("link-pp", "ph2", "parent", "partner", "two-way"), "partner"], // 7
    [f.checkedOut("loan1", "child"), { kind: "staff", staffId: "desk" }], // 8
    [f.holdPlaced("hold1", "child"), "child"], // 9
    [
      { type: "LoanRenewed", data: { loanId: "loan1", accountId: "child", dueAt: f.at(60 * 24 * 30), renewedBy: "parent", renewedAt: f.at(10) } },
      "parent",
    ], // 10
    [f.phraseIssued("ph3", "child", "two-way"), "child"], // 11
    [f.connected("link-cp", "ph3", "child", "partner", "two-way"), "partner"], // 12: partner → child only (R4)
    [f.linkRevoked("link-pp", "partner"), "partner"], // 13
    [f.holdPlaced("hold2", "partner"), "partner"], // 14
  ]);
};

const desk: Actor = { kind: "staff", staffId: "desk-7" };
const system: Actor = { kind: "system" };
const mins = (m: number): string => fixtures.at(m);

/** The personal values of the whole story: each patron's barcode, the titles, items and branches, the reasons. */
export const storyValues = {
  mum: ["mum00001", "Mum Reads Alone", "item-m1"],
  kid: ["kid00001", "Hairy Maclary", "item-k1", "Matilda", "item-k2", "Newtown", "Karori", "Wonky Donkey", "item-k3", "The Lorax", "item-k4", "NOSUCH99"],
  nan: ["nan00001", "Nan's Novel", "item-n1", "Island Bay"],
  /** About kid and nan both: the reason nan gave when she revoked their link. */
  both: ["Moving to Dunedin"],
} as const;

/**
 * A story with every kind of event, around three patrons: mum (adult), kid (a
 * minor mum manages through a one-way link, nan through a two-way one), nan
 * (adult). Each event tagged as the domain tags it. Positions 1..n; the last
 * is kid's erasure.
 */
export const everyKindStory = (): Array<ExportedEvent & { readonly tags: ReadonlyArray<string> }> => {
  const steps: Array<readonly [DomainEvent, Actor | string, Channel?]> = [
    [{ type: "AccountRegistered", data: { accountId: "mum", barcode: "mum00001", minor: false, registeredAt: mins(0) } }, desk], // 1
    [{ type: "AccountRegistered", data: { accountId: "kid", barcode: "kid00001", minor: true, registeredAt: mins(1) } }, desk], // 2
    [{ type: "AccountRegistered", data: { accountId: "nan", barcode: "nan00001", minor: false, registeredAt: mins(2) } }, desk], // 3
    [{ type: "DateOfBirthRecorded", data: { accountId: "kid", dateOfBirth: "2015-05-01", recordedAt: mins(3) } }, desk], // 4
    [fixtures.phraseIssued("ph-m1", "mum", "one-way", 4), "mum"], // 5
    [fixtures.connected("link-mk", "ph-m1", "mum", "kid", "one-way", 5), "kid", "app"], // 6
    [fixtures.phraseIssued("ph-k1", "kid", "two-way", 6), "kid", "app"], // 7
    // nan types kid's barcode and a wrong phrase: what she typed is kid's barcode, kid's to erase.
    [{ type: "ConnectionAttemptFailed", data: { connectorAccountId: "nan", attemptedBarcode: "kid00001", issuerAccountId: "kid", reason: "phrase-mismatch", attemptedAt: mins(7) } }, "nan"], // 8
    // kid types a barcode that is no one's: kid's own data.
    [{ type: "ConnectionAttemptFailed", data: { connectorAccountId: "kid", attemptedBarcode: "NOSUCH99", issuerAccountId: null, reason: "unknown-barcode", attemptedAt: mins(8) } }, "kid", "app"], // 9
    // kid types nan's barcode: nan's data, never shown to kid.
    [{ type: "ConnectionAttemptFailed", data: { connectorAccountId: "kid", attemptedBarcode: "nan00001", issuerAccountId: "nan", reason: "phrase-mismatch", attemptedAt: mins(9) } }, "kid", "app"], // 10
    [fixtures.connected("link-kn", "ph-k1", "kid", "nan", "two-way", 10), "nan"], // 11
    [fixtures.phraseIssued("ph-k2", "kid", "one-way", 11), "kid", "app"], // 12
    [fixtures.phraseRevoked("ph-k2", "kid", "issuer", 12), "kid", "app"], // 13
    [{ type: "ItemCheckedOut", data: { loanId: "loan-k1", accountId: "kid", itemId: "item-k1", title: "Hairy Maclary", format: "physical", checkedOutAt: mins(13), dueAt: mins(13 + 21 * 1440) } }, desk], // 14
    [{ type: "LoanRenewed", data: { loanId: "loan-k1", accountId: "kid", dueAt: mins(13 + 42 * 1440), renewedBy: "mum", renewedAt: mins(14) } }, "mum"], // 15
    [{ type: "ItemReturned", data: { loanId: "loan-k1", accountId: "kid", returnedAt: mins(15) } }, desk], // 16
    [{ type: "HoldPlaced", data: { holdId: "hold-k1", accountId: "kid", itemId: "item-k2", title: "Matilda", pickupBranch: "Newtown", placedAt: mins(16) } }, "kid", "app"], // 17
    [{ type: "HoldSuspended", data: { holdId: "hold-k1", accountId: "kid", until: mins(17 + 7 * 1440), suspendedBy: "mum", suspendedAt: mins(17) } }, "mum"], // 18
    [{ type: "HoldResumed", data: { holdId: "hold-k1", accountId: "kid", resumedBy: "nan", resumedAt: mins(18) } }, "nan"], // 19
    [{ type: "HoldPickupBranchChanged", data: { holdId: "hold-k1", accountId: "kid", pickupBranch: "Karori", changedBy: "mum", changedAt: mins(19) } }, "mum"], // 20
    [{ type: "HoldFulfilled", data: { holdId: "hold-k1", accountId: "kid", fulfilledAt: mins(20) } }, desk], // 21
    [{ type: "HoldPlaced", data: { holdId: "hold-k2", accountId: "kid", itemId: "item-k3", title: "Wonky Donkey", pickupBranch: "Newtown", placedAt: mins(21) } }, "kid", "app"], // 22
    [{ type: "HoldCancelled", data: { holdId: "hold-k2", accountId: "kid", cancelledBy: "kid", cancelledAt: mins(22) } }, "kid", "app"], // 23
    [{ type: "ItemCheckedOut", data: { loanId: "loan-k2", accountId: "kid", itemId: "item-k4", title: "The Lorax", format: "digital", checkedOutAt: mins(23), dueAt: mins(23 + 14 * 1440) } }, "kid", "app"], // 24
    [{ type: "ReadingHistoryChosen", data: { accountId: "kid", keep: false, chosenAt: mins(24) } }, "kid", "app"], // 25
    [{ type: "ItemCheckedOut", data: { loanId: "loan-m1", accountId: "mum", itemId: "item-m1", title: "Mum Reads Alone", format: "physical", checkedOutAt: mins(25), dueAt: mins(25 + 21 * 1440) } }, desk], // 26
    [{ type: "HoldPlaced", data: { holdId: "hold-n1", accountId: "nan", itemId: "item-n1", title: "Nan's Novel", pickupBranch: "Island Bay", placedAt: mins(26) } }, "nan"], // 27
    [{ type: "LoanDetailsForgotten", data: { loanId: "loan-k1", accountId: "kid", retentionDays: 30, forgottenAt: mins(27) } }, system], // 28
    [{ type: "HoldDetailsForgotten", data: { holdId: "hold-k2", accountId: "kid", retentionDays: 30, forgottenAt: mins(28) } }, system], // 29
    [{ type: "LinkRevoked", data: { linkId: "link-kn", revokedBy: { kind: "account", accountId: "nan" }, reason: "Moving to Dunedin", revokedAt: mins(29) } }, "nan"], // 30
    [{ type: "AccountClosed", data: { accountId: "kid", closedAt: mins(30) } }, desk], // 31
    [{ type: "AccountErased", data: { accountId: "kid", erasedAt: mins(31) } }, desk], // 32
  ];
  const tag = domainTagger();
  return positioned(steps.map(([e, actor, channel], i) => stamped(e, actor, i, i, channel))).map((e) => ({ ...e, tags: tag(e), stream: "events" }));
};

// ---------------------------------------------------------------------------
// Issue 12: erasure and retention on real stores.

/**
 * What `staff(…).eraseAccount({ accountId })` and `system().applyRetention(…)`
 * append, until those commands land: the event stamped and tagged as the command
 * handler stamps and tags it (its command's own tag among them). A test calls
 * it through one line of its own, which becomes the command's call.
 */
export const appendAsCommand = async (store: EventStore, decided: DomainEvent | ReadonlyArray<DomainEvent>, actor: Actor, now: Date): Promise<bigint> => {
  const events = Array.isArray(decided) ? (decided as ReadonlyArray<DomainEvent>) : [decided as DomainEvent];
  const commandId = uuidV7Ids.next();
  const metadata = {
    eventId: uuidV7Ids.next(),
    schemaVersion: SCHEMA_VERSION,
    occurredAt: now.toISOString(),
    actor,
    channel: channelOfVersion1(actor),
    correlationId: null,
    causationId: commandId,
  };
  if (events.length === 0) return store.head();
  const appended = events.map(
    (event, i) => ({ ...event, metadata: i === 0 ? metadata : { ...metadata, eventId: uuidV7Ids.next() }, tags: [...tagsOf(event, initialLinkingState), commandTag(commandId)] }) as NewEvent,
  );
  return (await store.append(appended)).position;
};

export const PRIVACY_OFFICER: Actor = { kind: "staff", staffId: "privacy-officer" };

/** Succeeds, or throws naming the refusal. */
export const must = async <A>(outcome: Promise<E.Either<{ code: string; message: string }, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`${result.left.code}: ${result.left.message}`);
  return result.right;
};

/** A patron whose personal data the story erases, and a control patron whose data stays. */
export interface ErasureStory {
  readonly library: LinkedAccounts;
  readonly clock: ReturnType<typeof manualClock>;
  readonly erased: {
    readonly accountId: string;
    readonly barcode: string;
    /** Every personal value sealed under its key: barcode, items, titles, branch, a revocation reason, a barcode typed at it. */
    readonly personal: ReadonlyArray<string>;
    readonly titles: ReadonlyArray<string>;
  };
  readonly control: { readonly accountId: string; readonly barcode: string; readonly title: string; readonly loanId: string };
  readonly linkId: string;
}

/**
 * The story, through the host API on `store`: two patrons register with
 * distinctive barcodes and link; the one to be erased borrows and returns two
 * items with distinctive titles (UTF-8 beyond ASCII), places a hold and cancels
 * it, has its barcode typed at it with a wrong phrase; the link is revoked with
 * a reason; the control borrows an item and keeps it. Then the patron closes
 * its account (erasure is of closed accounts only). Nothing is erased yet.
 */
export const erasureStory = async (store: EventStore): Promise<ErasureStory> => {
  const clock = manualClock("2026-03-03T09:00:00.000Z");
  const library = createLinkedAccounts({ store, clock, phrases: scryptSharePhrases({ cost: { N: 2 ** 10, r: 8, p: 1 } }) });
  const desk = library.staff("desk-1");
  const erased = { accountId: "gone", barcode: "ZQXV7ERASE42" };
  const control = { accountId: "kept", barcode: "KPCTRL9031" };
  const titles = ["Zebras of Ütopia: Quillwort Almanac ✦", "Mørkblå Lanterns — the Xylophage Papers"];
  const items = ["item-ZQ1-quillwort", "item-ZQ2-xylophage"];
  const hold = { itemId: "item-ZQ3-marmalade", title: "Marmalade Cartography ⅶ", pickupBranch: "Jabberwock Branch Ωmega" };
  const reason = "moved away to Quetzalcoatl Crescent";
  const controlTitle = "Control Persimmon Almanac ☂";
  for (const a of [erased, control]) await must(desk.registerAccount({ ...a, minor: false }));

  const issued = await must(library.patron(control.accountId).issueSharePhrase({ direction: "two-way" }));
  const connected = await must(library.patron(erased.accountId).connectAccount({ barcode: control.barcode, phrase: issued.phrase }));
  const linkId = connected.linkId!;
  // The control types the erased patron's barcode with a wrong phrase: what was typed is the issuer's to erase.
  await must(library.patron(erased.accountId).issueSharePhrase({ direction: "one-way" }));
  const attempt = await library.patron(control.accountId).connectAccount({ barcode: erased.barcode.toLowerCase(), phrase: "2222-2222-2222-22" });
  if (E.isRight(attempt)) throw new Error("a wrong phrase connected");

  const dueAt = "2026-04-01T09:00:00.000Z";
  for (let i = 0; i < 2; i++) {
    const loan = await must(desk.recordCheckout({ accountId: erased.accountId, itemId: items[i]!, title: titles[i]!, dueAt }));
    clock.advance(3_600_000);
    await must(desk.recordReturn({ accountId: erased.accountId, loanId: loan.loanId }));
  }
  const placed = await must(library.patron(erased.accountId).placeHold(hold));
  await must(library.patron(erased.accountId).cancelHold({ accountId: erased.accountId, holdId: placed.holdId }));
  const kept = await must(desk.recordCheckout({ accountId: control.accountId, itemId: "item-CTRL-1", title: controlTitle, dueAt }));
  await must(library.patron(control.accountId).revokeLink({ linkId, reason }));
  clock.advance(86_400_000);
  await must(library.patron(erased.accountId).closeAccount({ accountId: erased.accountId }));
  clock.advance(86_400_000);
  return {
    library,
    clock,
    erased: { ...erased, titles: [...titles, hold.title], personal: [erased.barcode, ...titles, ...items, hold.itemId, hold.title, hold.pickupBranch, reason] },
    control: { ...control, title: controlTitle, loanId: kept.loanId },
    linkId,
  };
};

/** Which of `needles` occur in `bytes`, in any case (each compared byte for byte as UTF-8, ASCII letters folded). */
export const occurring = (bytes: ReadonlyArray<Buffer>, needles: ReadonlyArray<string | Uint8Array>): Array<string | Uint8Array> => {
  const folded = bytes.map((b) => b.toString("latin1").toLowerCase());
  return needles.filter((needle) =>
    typeof needle === "string"
      ? folded.some((text) => text.includes(Buffer.from(needle, "utf8").toString("latin1").toLowerCase()))
      : bytes.some((b) => b.indexOf(needle) >= 0),
  );
};
