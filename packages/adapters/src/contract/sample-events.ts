/**
 * Valid events for tests of a store: the contract suite builds its events here,
 * and a host testing its own store can too. Each helper takes the tags the
 * event is found by (none unless given), so a test that tags its events
 * uniquely can read exactly its own back from a shared store.
 */
import type { EventMetadata, Tag } from "@linked-accounts/domain/internal";
import { v7 as uuidv7 } from "uuid";
import type { NewEvent } from "../event-store.js";

const START = Date.parse("2026-03-03T09:00:00.000Z");

/** Metadata as a command handler writes it, at `START + offsetMs`. */
export const sampleMetadata = (offsetMs = 0, overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  eventId: uuidv7(),
  schemaVersion: 3,
  occurredAt: new Date(START + offsetMs).toISOString(),
  actor: { kind: "system" },
  channel: "system",
  correlationId: null,
  causationId: null,
  ...overrides,
});

/** An `AccountRegistered` for account `n`; its barcode carries `n` so events tell apart. */
export const accountRegistered = (n: number, metadata: Partial<EventMetadata> = {}, tags: ReadonlyArray<Tag> = []): NewEvent => ({
  type: "AccountRegistered",
  data: {
    accountId: `account-${n}`,
    barcode: `B${String(n).padStart(9, "0")}`,
    minor: n % 2 === 1,
    registeredAt: new Date(START + n).toISOString(),
  },
  metadata: sampleMetadata(n, metadata),
  tags,
});

/** A `LoanRenewed`: a manager renewing a loan of the account, with richer metadata. */
export const loanRenewed = (n: number, accountId = "account-1", tags: ReadonlyArray<Tag> = []): NewEvent => ({
  type: "LoanRenewed",
  data: {
    loanId: `loan-${n}`,
    accountId,
    dueAt: new Date(START + 14 * 86_400_000 + n).toISOString(),
    renewedBy: "manager-1",
    renewedAt: new Date(START + n).toISOString(),
  },
  metadata: sampleMetadata(n, {
    actor: { kind: "account", accountId: "manager-1" },
    correlationId: `command-${n}`,
    causationId: "cause-1",
  }),
  tags,
});

/** An `ItemCheckedOut` of `title`, tagged with its loan and account (what the command handler tags it with). */
export const itemCheckedOut = (accountId: string, loanId: string, title: string): NewEvent => ({
  type: "ItemCheckedOut",
  data: {
    loanId,
    accountId,
    itemId: `item-of-${loanId}`,
    title,
    format: "physical",
    checkedOutAt: "2026-03-03T09:00:00.000Z",
    dueAt: "2026-03-24T09:00:00.000Z",
  },
  metadata: sampleMetadata(),
  tags: [`loan:${loanId}`, `account:${accountId}`],
});

/** `count` distinct valid events, alternating `AccountRegistered` (even) and `LoanRenewed` (odd), each carrying `tags`. */
export const sampleEvents = (count: number, from = 0, tags: ReadonlyArray<Tag> = []): NewEvent[] =>
  Array.from({ length: count }, (_, i) =>
    (from + i) % 2 === 0 ? accountRegistered(from + i, {}, tags) : loanRenewed(from + i, "account-1", tags),
  );

/** `event` carrying `tags` instead of its own. */
export const withTags = (event: NewEvent, tags: ReadonlyArray<Tag>): NewEvent => ({ ...event, tags });
