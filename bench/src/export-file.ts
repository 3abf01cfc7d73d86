/**
 * Writes a large, valid NDJSON export for measuring the audit command line at
 * scale (issues 10 and 11): `node bench/dist/export-file.js OUT [EVENTS]`
 * (default 1,050,000 events, about 150,000 of them links). Every event is built
 * with the domain's types and written by the projections package's own
 * `writeExport`, so the file is exactly what `linked-accounts export` writes,
 * trailer included. Deterministic: the same arguments give the same file.
 *
 * The history is a plausible library's: accounts registering (one in ten a
 * minor), share phrases issued and used (a third two-way), some failed attempts,
 * links revoked, accounts closed, and circulation (checkouts, renewals, some by
 * a manager, returns, holds and what happens to them), one event every 50 ms.
 *
 * Measure each command with, for example:
 *   /usr/bin/time -v node packages/projections/dist/cli.js grants --from OUT > /dev/null
 */
import { createWriteStream } from "node:fs";
import type { DomainEvent, EventEnvelope } from "@linked-accounts/domain";
import { type ExportedEvent, writeExport } from "@linked-accounts/projections";
import { random, uuidV7 } from "./deterministic.js";

const out = process.argv[2];
const total = Number(process.argv[3] ?? 1_050_000);
if (out === undefined || !Number.isSafeInteger(total) || total < 1) {
  console.error("usage: node bench/dist/export-file.js OUT [EVENTS]");
  process.exit(2);
}

/** A deterministic pseudo-random source (mulberry32). */
const titles = ["The Bone People", "Potiki", "The Luminaries", "Mister Pip", "Once Were Warriors", "Tangi", "The Whale Rider"];
const branches = ["Central", "Ponsonby", "Grey Lynn", "Devonport", "Otara"];
const verifier = { algorithm: "scrypt" as const, salt: "c2FsdHNhbHRzYWx0", hash: "aGFzaGhhc2hoYXNoaGFzaGhhc2g", N: 16384, r: 8, p: 1 };

// About 150,000 links in 1,050,000 events: links are one step in seven.
const accounts = Math.max(2, Math.round(total * 0.17));
const rnd = random(2026);
const start = Date.parse("2026-01-01T00:00:00.000Z");

function* history(): Generator<ExportedEvent> {
  let n = 0;
  const at = (offsetMs = 0) => new Date(start + n * 50 + offsetMs).toISOString();
  const make = (event: DomainEvent, actor: EventEnvelope["metadata"]["actor"], stream: string): ExportedEvent => {
    const ms = start + n * 50;
    n++;
    return {
      ...event,
      metadata: { eventId: uuidV7(ms, n), schemaVersion: 3, occurredAt: new Date(ms).toISOString(), actor, channel: actor.kind === "staff" ? "desk" : actor.kind === "system" ? "system" : "portal", correlationId: null, causationId: null },
      position: BigInt(n),
      stream,
    } as ExportedEvent;
  };
  const acct = (i: number) => `acct-${i}`;
  let registered = 0;
  const minor = (i: number) => i % 10 === 9;
  const someAccount = () => Math.floor(rnd() * registered);
  const links: Array<{ id: string; issuer: number; connected: number; twoWay: boolean; revoked: boolean }> = [];
  const openLoans: Array<{ loanId: string; account: number }> = [];
  const holds: Array<{ holdId: string; account: number }> = [];
  let loans = 0;
  let holdCount = 0;
  let phrases = 0;
  /** A manager of `account` if it has one (the last link giving it), else the account itself. */
  const actingFor = (account: number): number => {
    for (let k = links.length - 1; k >= Math.max(0, links.length - 50); k--) {
      const l = links[k]!;
      if (l.revoked) continue;
      if (l.connected === account && !minor(l.issuer)) return l.issuer;
      if (l.twoWay && l.issuer === account && !minor(l.connected)) return l.connected;
    }
    return account;
  };
  while (n < total) {
    const r = rnd();
    if (registered < 2 || (registered < accounts && r < 0.2)) {
      const i = registered++;
      yield make({ type: "AccountRegistered", data: { accountId: acct(i), barcode: `B${String(i).padStart(9, "0")}`, minor: minor(i), registeredAt: at() } }, { kind: "staff", staffId: "desk" }, `account-${acct(i)}`);
    } else if (r < 0.375) {
      const issuer = someAccount();
      let connector = someAccount();
      if (connector === issuer) connector = (issuer + 1) % registered;
      const phraseId = `ph-${phrases++}`;
      const direction = rnd() < 1 / 3 ? ("two-way" as const) : ("one-way" as const);
      yield make(
        { type: "SharePhraseIssued", data: { phraseId, issuerAccountId: acct(issuer), direction, verifier, issuedAt: at(), expiresAt: at(7 * 86_400_000) } },
        { kind: "account", accountId: acct(issuer) },
        `account-${acct(issuer)}`,
      );
      if (n >= total) break;
      if (rnd() < 0.06) {
        yield make(
          { type: "ConnectionAttemptFailed", data: { connectorAccountId: acct(connector), attemptedBarcode: `B${String(issuer).padStart(9, "0")}`, issuerAccountId: acct(issuer), reason: "phrase-mismatch", attemptedAt: at() } },
          { kind: "account", accountId: acct(connector) },
          `account-${acct(connector)}`,
        );
        if (n >= total) break;
      }
      const linkId = `link-${links.length}`;
      links.push({ id: linkId, issuer, connected: connector, twoWay: direction === "two-way", revoked: false });
      yield make(
        { type: "AccountConnected", data: { linkId, phraseId, issuerAccountId: acct(issuer), connectedAccountId: acct(connector), direction, connectedAt: at() } },
        { kind: "account", accountId: acct(connector) },
        `link-${linkId}`,
      );
    } else if (r < 0.39 && links.length > 0) {
      const link = links[Math.floor(rnd() * links.length)]!;
      if (link.revoked) continue;
      link.revoked = true;
      yield make(
        { type: "LinkRevoked", data: { linkId: link.id, revokedBy: { kind: "account", accountId: acct(link.issuer) }, reason: "", revokedAt: at() } },
        { kind: "account", accountId: acct(link.issuer) },
        `link-${link.id}`,
      );
    } else if (r < 0.392) {
      const id = acct(someAccount());
      yield make({ type: "AccountClosed", data: { accountId: id, closedAt: at() } }, { kind: "staff", staffId: "desk" }, `account-${id}`);
    } else if (r < 0.62) {
      const account = someAccount();
      const loanId = `loan-${loans++}`;
      openLoans.push({ loanId, account });
      const digital = rnd() < 0.2;
      yield make(
        {
          type: "ItemCheckedOut",
          data: { loanId, accountId: acct(account), itemId: `item-${loans % 20_000}`, title: titles[loans % titles.length]!, format: digital ? "digital" : "physical", checkedOutAt: at(), dueAt: at(21 * 86_400_000) },
        },
        digital ? { kind: "account", accountId: acct(account) } : { kind: "staff", staffId: "desk" },
        `circulation-${acct(account)}`,
      );
    } else if (r < 0.8 && openLoans.length > 0) {
      const k = Math.floor(rnd() * openLoans.length);
      const loan = openLoans[k]!;
      openLoans[k] = openLoans[openLoans.length - 1]!;
      openLoans.pop();
      yield make({ type: "ItemReturned", data: { loanId: loan.loanId, accountId: acct(loan.account), returnedAt: at() } }, { kind: "staff", staffId: "desk" }, `circulation-${acct(loan.account)}`);
    } else if (r < 0.86 && openLoans.length > 0) {
      const loan = openLoans[Math.floor(rnd() * openLoans.length)]!;
      const by = actingFor(loan.account);
      yield make(
        { type: "LoanRenewed", data: { loanId: loan.loanId, accountId: acct(loan.account), dueAt: at(28 * 86_400_000), renewedBy: acct(by), renewedAt: at() } },
        { kind: "account", accountId: acct(by) },
        `circulation-${acct(loan.account)}`,
      );
    } else if (r < 0.94) {
      const account = someAccount();
      const holdId = `hold-${holdCount++}`;
      holds.push({ holdId, account });
      yield make(
        { type: "HoldPlaced", data: { holdId, accountId: acct(account), itemId: `item-${holdCount % 20_000}`, title: titles[holdCount % titles.length]!, pickupBranch: branches[holdCount % branches.length]!, placedAt: at() } },
        { kind: "account", accountId: acct(account) },
        `circulation-${acct(account)}`,
      );
    } else if (holds.length > 0) {
      const k = Math.floor(rnd() * holds.length);
      const hold = holds[k]!;
      const id = acct(hold.account);
      const by = acct(actingFor(hold.account));
      const actor = { kind: "account" as const, accountId: by };
      const stream = `circulation-${id}`;
      const s = rnd();
      if (s < 0.4) {
        holds[k] = holds[holds.length - 1]!;
        holds.pop();
        yield make({ type: "HoldFulfilled", data: { holdId: hold.holdId, accountId: id, fulfilledAt: at() } }, { kind: "staff", staffId: "desk" }, stream);
      } else if (s < 0.6) {
        holds[k] = holds[holds.length - 1]!;
        holds.pop();
        yield make({ type: "HoldCancelled", data: { holdId: hold.holdId, accountId: id, cancelledBy: by, cancelledAt: at() } }, actor, stream);
      } else if (s < 0.8) yield make({ type: "HoldPickupBranchChanged", data: { holdId: hold.holdId, accountId: id, pickupBranch: branches[k % branches.length]!, changedBy: by, changedAt: at() } }, actor, stream);
      else if (s < 0.9) yield make({ type: "HoldSuspended", data: { holdId: hold.holdId, accountId: id, until: at(14 * 86_400_000), suspendedBy: by, suspendedAt: at() } }, actor, stream);
      else yield make({ type: "HoldResumed", data: { holdId: hold.holdId, accountId: id, resumedBy: by, resumedAt: at() } }, actor, stream);
    }
  }
  console.error(`${n.toLocaleString("en")} events: ${registered.toLocaleString("en")} accounts, ${links.length.toLocaleString("en")} links, ${loans.toLocaleString("en")} loans, ${holdCount.toLocaleString("en")} holds`);
}

const file = createWriteStream(out);
const write = (chunk: string): Promise<void> | void => {
  if (!file.write(chunk)) return new Promise<void>((resolve) => file.once("drain", () => resolve()));
};
await writeExport(
  (async function* () {
    yield* history();
  })(),
  write,
);
await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
