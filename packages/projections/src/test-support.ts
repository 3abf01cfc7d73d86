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

/** `event` as stored, done by `actor` at minute `minutes` of the fixtures' clock. */
export const stamped = (event: DomainEvent, actor: Actor | string, minutes: number, counter: number): EventEnvelope =>
  ({
    ...event,
    metadata: {
      eventId: uuidV7(Date.parse(fixtures.at(minutes)), counter),
      schemaVersion: SCHEMA_VERSION,
      occurredAt: fixtures.at(minutes),
      actor: typeof actor === "string" ? { kind: "account", accountId: actor } : actor,
      channel: typeof actor === "string" ? "portal" : channelOfVersion1(actor),
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
