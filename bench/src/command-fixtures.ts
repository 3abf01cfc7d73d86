/**
 * What the command benchmarks share with the fresh host process they spawn: a
 * phrase port without scrypt, how a store is named on a command line, and
 * linking history built as decided facts (tagged as the handler tags them) so a
 * store can be filled with a million events without running a million commands.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  type DomainEvent,
  type EventMetadata,
  type Verifier,
  SCHEMA_VERSION,
  evolveLinking,
  initialLinkingState,
  normalisePhrase,
  tagsOf,
} from "@linked-accounts/domain/internal";
import { type EventStore, type NewEvent, type SharePhrases, uuidV7Ids } from "@linked-accounts/adapters";
import { createPostgresEventStore } from "@linked-accounts/adapters/postgres";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";

/**
 * A phrase port whose derivation is one SHA-256 instead of scrypt, so the
 * figures show the command path alone. The verifier says scrypt (the catalog
 * knows no other algorithm) with a cost no real verifier has. Never use it for real.
 */
export const unhashedPhrases = (): SharePhrases => {
  const digest = (phrase: string) => createHash("sha256").update(normalisePhrase(phrase)).digest("base64url");
  const verifier = (hash: string): Verifier => ({ algorithm: "scrypt", salt: "AA", hash, N: 2, r: 1, p: 1 });
  return {
    decoy: verifier(digest("decoy")),
    generate: () => `bench-${randomUUID()}`,
    verifierFor: async (phrase) => verifier(digest(phrase)),
    proofFor: async (typed) => digest(typed),
    verify: async (typed, v) => digest(typed) === v.hash,
  };
};

/** `sqlite:<path>` or `postgres:<schema>@<url>`: how the spawned host is told which store to open. */
export const openStore = (spec: string): Promise<EventStore> => {
  if (spec.startsWith("sqlite:")) return Promise.resolve(createSqliteEventStore({ path: spec.slice("sqlite:".length) }));
  const [schema = "", url = ""] = spec.slice("postgres:".length).split(/@(.*)/s);
  return createPostgresEventStore({ connectionString: url, schema });
};

const AT = Date.parse("2025-06-02T09:00:00.000Z");
/** Times of events are given as offsets from a day in the history. */
export const iso = (offsetMs: number): string => new Date(AT + offsetMs).toISOString();
/** The benchmarks' clock: after all of the history, within a week of `justBeforeNow`. */
export const NOW = "2026-03-03T09:00:00.000Z";
/** The offset of an hour before `NOW`: when the benchmarks' own pairs are set up. */
export const justBeforeNow = Date.parse(NOW) - AT - 3_600_000;

const metadata = (offsetMs: number): EventMetadata => ({
  eventId: uuidV7Ids.next(),
  schemaVersion: SCHEMA_VERSION,
  occurredAt: iso(offsetMs),
  actor: { kind: "system" },
  channel: "system",
  correlationId: null,
  causationId: null,
});

/** Tags each event as the handler would, folding only the events given (enough for a revocation's pair). */
export const tagged = (events: ReadonlyArray<DomainEvent>, offsetMs = 0): NewEvent[] => {
  let state = initialLinkingState;
  return events.map((event) => {
    const tags = tagsOf(event, state);
    if (event.type === "AccountConnected") state = evolveLinking(state, event);
    return { ...event, metadata: metadata(offsetMs), tags };
  });
};

export const registered = (accountId: string, barcode: string, minor = false, offsetMs = 0): DomainEvent => ({
  type: "AccountRegistered",
  data: { accountId, barcode, minor, registeredAt: iso(offsetMs) },
});

export const phraseIssued = (phraseId: string, issuerAccountId: string, verifier: Verifier, offsetMs = 0, direction: "one-way" | "two-way" = "one-way"): DomainEvent => ({
  type: "SharePhraseIssued",
  data: { phraseId, issuerAccountId, direction, verifier, issuedAt: iso(offsetMs), expiresAt: iso(offsetMs + 7 * 86_400_000) },
});

export const connected = (linkId: string, phraseId: string, issuerAccountId: string, connectedAccountId: string, offsetMs = 0): DomainEvent => ({
  type: "AccountConnected",
  data: { linkId, phraseId, issuerAccountId, connectedAccountId, direction: "one-way", connectedAt: iso(offsetMs) },
});

export const checkedOut = (loanId: string, accountId: string, dueAt: string, offsetMs = 0): DomainEvent => ({
  type: "ItemCheckedOut",
  data: { loanId, accountId, itemId: "item-1", title: "The Very Hungry Caterpillar", format: "physical", checkedOutAt: iso(offsetMs), dueAt },
});

/** Events per family of `historyFamily`. */
export const FAMILY_SIZE = 10;

/**
 * Ten linking events of two accounts of the history, `h<f>a` and `h<f>b`, over
 * a few days: registrations, a phrase, two failed attempts, the phrase
 * superseded by another, a connect, an attempt on an unknown barcode, and the
 * link revoked (every fourth family) or a two-way phrase issued.
 */
export const historyFamily = (f: number, verifier: Verifier): NewEvent[] => {
  const [a, b] = [`h${f}a`, `h${f}b`];
  const [barcodeA, barcodeB] = [`HA${String(f).padStart(7, "0")}`, `HB${String(f).padStart(7, "0")}`];
  const day = (f % 250) * 86_400_000;
  const events: DomainEvent[] = [
    registered(a, barcodeA, false, day),
    registered(b, barcodeB, f % 5 === 0, day),
    phraseIssued(`h${f}p1`, a, verifier, day + 60_000),
    failedAttempt(b, barcodeA, a, "phrase-mismatch", day + 120_000),
    failedAttempt(b, barcodeA, a, "phrase-mismatch", day + 180_000),
    { type: "SharePhraseRevoked", data: { phraseId: `h${f}p1`, issuerAccountId: a, reason: "superseded", revokedAt: iso(day + 240_000) } },
    phraseIssued(`h${f}p2`, a, verifier, day + 240_000),
    connected(`h${f}l`, `h${f}p2`, a, b, day + 300_000),
    failedAttempt(b, "", null, "unknown-barcode", day + 360_000),
    f % 4 === 0
      ? { type: "LinkRevoked", data: { linkId: `h${f}l`, revokedBy: { kind: "account", accountId: b }, reason: "moved out", revokedAt: iso(day + 86_400_000) } }
      : phraseIssued(`h${f}p3`, b, verifier, day + 86_400_000, "two-way"),
  ];
  return tagged(events, day);
};

const failedAttempt = (
  connectorAccountId: string,
  attemptedBarcode: string,
  issuerAccountId: string | null,
  reason: "phrase-mismatch" | "unknown-barcode",
  offsetMs: number,
): DomainEvent => ({
  type: "ConnectionAttemptFailed",
  data: { connectorAccountId, attemptedBarcode, issuerAccountId, reason, attemptedAt: iso(offsetMs) },
});

/**
 * Appends `count` events of history (rounded up to whole families) in batches
 * of `batch` events, built batch by batch so they are never all in memory.
 * Resolves to the number appended.
 */
export const seedHistory = async (store: EventStore, count: number, batch = 5000, onProgress?: (appended: number) => void): Promise<number> => {
  const verifier: Verifier = { algorithm: "scrypt", salt: "AA", hash: "AA", N: 2, r: 1, p: 1 };
  const families = Math.ceil(count / FAMILY_SIZE);
  const perBatch = Math.max(1, Math.floor(batch / FAMILY_SIZE));
  let appended = 0;
  for (let f = 0; f < families; f += perBatch) {
    const events: NewEvent[] = [];
    for (let g = f; g < Math.min(families, f + perBatch); g++) events.push(...historyFamily(g, verifier));
    await store.append(events);
    appended += events.length;
    onProgress?.(appended);
  }
  return appended;
};
