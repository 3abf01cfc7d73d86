import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import type { Channel, EventEnvelope } from "@linked-accounts/domain/internal";
import { fixtures } from "@linked-accounts/domain/testing";
import { type AccessReport, type ReportActor, accessReport, renderAccessReport } from "./access-report.js";
import { main } from "./command-line.js";
import { everyKindStory, exportText, storyValues } from "./test-support.js";

const story = everyKindStory();
/** Everything but kid's erasure (the story's last event). */
const beforeErasure = story.slice(0, 31);

const you: ReportActor = { kind: "you" };
const desk: ReportActor = { kind: "staff", staffId: "desk-7" };
const system: ReportActor = { kind: "system" };
const account = (accountId: string, ...linkIds: string[]): ReportActor => ({ kind: "account", accountId, linkIds });
/** The act the story's event at `position` records (its own time is minute position − 1 of the fixtures' clock). */
const act = (position: number, by: ReportActor, channel: Channel | null) => ({
  at: fixtures.at(position - 1),
  by,
  channel,
  position: BigInt(position),
  eventId: story[position - 1]!.metadata.eventId,
});
const expiresOf = (position: number) => (story[position - 1] as EventEnvelope & { data: { expiresAt: string } }).data.expiresAt;

const json = (report: AccessReport | null) => JSON.parse(JSON.stringify(report, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)));

const run = async (argv: string[], stdin = "") => {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, { stdin: Readable.from([stdin]), stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
};

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-access-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("accessReport: everything held about one patron", () => {
  it("a story with every kind of event: the patron's report, field by field", async () => {
    const report = await accessReport(beforeErasure, "kid");
    expect(report).toEqual<AccessReport>({
      accountId: "kid",
      position: 31n,
      account: {
        accountId: "kid",
        barcode: "kid00001",
        minor: true,
        registered: act(2, desk, "desk"),
        datesOfBirth: [{ dateOfBirth: "2015-05-01", recorded: act(4, desk, "desk") }],
        closed: act(31, desk, "desk"),
        erased: null,
      },
      sharePhrases: [
        { phraseId: "ph-k1", direction: "two-way", issued: act(7, you, "app"), expiresAt: expiresOf(7), revoked: null },
        { phraseId: "ph-k2", direction: "one-way", issued: act(12, you, "app"), expiresAt: expiresOf(12), revoked: { ...act(13, you, "app"), reason: "issuer" } },
      ],
      links: [
        {
          linkId: "link-mk",
          otherAccountId: "mum",
          direction: "one-way",
          phraseId: "ph-m1",
          issuedBy: "other",
          manages: [{ manager: "mum", account: "kid" }],
          connected: act(6, you, "app"),
          revoked: null,
        },
        {
          linkId: "link-kn",
          otherAccountId: "nan",
          direction: "two-way",
          phraseId: "ph-k1",
          issuedBy: "you",
          // Two-way, but kid is a minor: only nan manages (R4).
          manages: [{ manager: "nan", account: "kid" }],
          connected: act(11, account("nan", "link-kn"), "portal"),
          revoked: { ...act(30, account("nan"), "portal"), revokedBy: { kind: "account", accountId: "nan" }, reason: "Moving to Dunedin" },
        },
      ],
      connectionAttempts: [
        // nan typed kid's barcode: kid's own data, shown to kid.
        { attempted: act(8, account("nan"), "portal"), made: "on-you", otherAccountId: "nan", reason: "phrase-mismatch", typedBarcode: "kid00001" },
        { attempted: act(9, you, "app"), made: "by-you", otherAccountId: null, reason: "unknown-barcode", typedBarcode: "NOSUCH99" },
        // kid typed nan's barcode: nan's data, never shown to kid.
        { attempted: act(10, you, "app"), made: "by-you", otherAccountId: "nan", reason: "phrase-mismatch", typedBarcode: null },
      ],
      loans: [
        {
          loanId: "loan-k1",
          // Returned, and its details forgotten by the retention run at 28.
          itemId: "[erased]",
          title: "[erased]",
          format: "physical",
          checkedOut: act(14, desk, "desk"),
          dueAt: fixtures.at(13 + 42 * 1440),
          renewals: [{ dueAt: fixtures.at(13 + 42 * 1440), renewed: act(15, account("mum", "link-mk"), "portal") }],
          returned: act(16, desk, "desk"),
          detailsForgotten: { ...act(28, system, "system"), retentionDays: 30 },
        },
        {
          loanId: "loan-k2",
          itemId: "item-k4",
          title: "The Lorax",
          format: "digital",
          checkedOut: act(24, you, "app"),
          dueAt: fixtures.at(23 + 14 * 1440),
          renewals: [],
          returned: null,
          detailsForgotten: null,
        },
      ],
      holds: [
        {
          holdId: "hold-k1",
          itemId: "item-k2",
          title: "Matilda",
          pickupBranch: "Newtown",
          placed: act(17, you, "app"),
          changes: [
            { kind: "suspended", until: fixtures.at(17 + 7 * 1440), changed: act(18, account("mum", "link-mk"), "portal") },
            { kind: "resumed", changed: act(19, account("nan", "link-kn"), "portal") },
            { kind: "pickup-branch-changed", pickupBranch: "Karori", changed: act(20, account("mum", "link-mk"), "portal") },
          ],
          ended: { ...act(21, desk, "desk"), how: "fulfilled" },
          detailsForgotten: null,
        },
        {
          holdId: "hold-k2",
          itemId: "[erased]",
          title: "[erased]",
          pickupBranch: "[erased]",
          placed: act(22, you, "app"),
          changes: [],
          ended: { ...act(23, you, "app"), how: "cancelled" },
          detailsForgotten: { ...act(29, system, "system"), retentionDays: 30 },
        },
      ],
      readingHistory: [{ keep: false, chosen: act(25, you, "app") }],
      actionsOnOtherAccounts: [],
    });
  });

  it("a manager's report lists what it did on the accounts it manages, by ids, without their titles or branches", async () => {
    const report = (await accessReport(beforeErasure, "mum"))!;
    const on = (position: number, type: string, extra: { loanId?: string; holdId?: string }) => ({
      type,
      accountId: "kid",
      loanId: extra.loanId ?? null,
      holdId: extra.holdId ?? null,
      linkIds: ["link-mk"],
      done: act(position, you, "portal"),
    });
    expect(report.actionsOnOtherAccounts).toEqual([
      on(15, "LoanRenewed", { loanId: "loan-k1" }),
      on(18, "HoldSuspended", { holdId: "hold-k1" }),
      on(20, "HoldPickupBranchChanged", { holdId: "hold-k1" }),
    ]);
    expect(report.links.map((l) => [l.linkId, l.otherAccountId, l.issuedBy, l.manages])).toEqual([["link-mk", "kid", "you", [{ manager: "mum", account: "kid" }]]]);
    expect(report.sharePhrases.map((p) => p.phraseId)).toEqual(["ph-m1"]);
    expect(report.loans.map((l) => [l.loanId, l.title])).toEqual([["loan-m1", "Mum Reads Alone"]]);
  });

  it("one patron's report holds none of another patron's barcode, titles, items or branches, and never a verifier", async () => {
    const owners = { mum: storyValues.mum, kid: storyValues.kid, nan: storyValues.nan } as const;
    for (const [patron, mine] of Object.entries(owners)) {
      const report = (await accessReport(beforeErasure, patron))!;
      const text = renderAccessReport(report);
      const document = JSON.stringify(json(report));
      for (const [other, theirs] of Object.entries(owners)) {
        if (other === patron) continue;
        for (const value of theirs) {
          expect(text, `${patron}'s report holds ${other}'s ${value}`).not.toContain(value);
          expect(document, `${patron}'s report holds ${other}'s ${value}`).not.toContain(value);
        }
      }
      // Not vacuous: its own are there.
      expect(text).toContain(mine[0]);
      for (const hidden of ["verifier", "salt-", "scrypt"]) {
        expect(text).not.toContain(hidden);
        expect(document).not.toContain(hidden);
      }
    }
  });

  it("after erasure: the report shows [erased] for every personal field, says what it means, and keeps the record of who did what", async () => {
    const report = (await accessReport(story, "kid"))!;
    expect(report.account).toMatchObject({ barcode: "[erased]", erased: act(32, desk, "desk") });
    expect(report.loans.map((l) => [l.itemId, l.title])).toEqual([["[erased]", "[erased]"], ["[erased]", "[erased]"]]);
    expect(report.holds.map((h) => [h.title, h.pickupBranch, h.changes.map((c) => (c.kind === "pickup-branch-changed" ? c.pickupBranch : c.kind))])).toEqual([
      ["[erased]", "[erased]", ["suspended", "resumed", "[erased]"]],
      ["[erased]", "[erased]", []],
    ]);
    expect(report.connectionAttempts.map((a) => a.typedBarcode)).toEqual(["[erased]", "[erased]", null]);
    expect(report.links[1]!.revoked).toMatchObject({ reason: "[erased]", revokedBy: { accountId: "nan" } });
    const text = renderAccessReport(report);
    for (const value of [...storyValues.kid, ...storyValues.both]) expect(text).not.toContain(value);
    expect(text).toContain("  Barcode         [erased]\n");
    expect(text).toContain("  Erased          2026-03-02 09:31 UTC by library staff desk-7, at the library desk: your personal data was erased and reads [erased]\n");
    expect(text).toContain("\n[erased]: erased at your request or by the library's retention rules; the library can no longer read it.\n");
    // The renewal is still there, and who made it.
    expect(text).toContain("    renewed     2026-03-02 09:14 UTC by account mum (managing you through link link-mk), on the patron portal, now due 2026-04-13 09:13 UTC\n");
  });

  it("an account no one registered is no report", async () => {
    expect(await accessReport(story, "nobody")).toBeNull();
  });
});

describe("renderAccessReport: a report a person reads", () => {
  it("headings, dates in UTC, who acted and through which channel on each entry", async () => {
    const text = renderAccessReport((await accessReport(beforeErasure, "kid"))!);
    expect(text.split("\n").slice(0, 13).join("\n")).toBe(
      [
        "Everything the library holds about account kid",
        "Up to event 31 of the library's records. Times are in UTC.",
        "",
        "Your account",
        "------------",
        "  Account id      kid",
        "  Barcode         kid00001",
        "  Minor           yes",
        "  Date of birth   2015-05-01 (recorded 2026-03-02 09:03 UTC by library staff desk-7, at the library desk)",
        "  Registered      2026-03-02 09:01 UTC by library staff desk-7, at the library desk",
        "  Closed          2026-03-02 09:30 UTC by library staff desk-7, at the library desk",
        "  Erased          no",
        "",
      ].join("\n"),
    );
    for (const heading of ["Share phrases you issued (2)", "Links with other accounts (2)", "Failed attempts to link (3)", "Loans (2)", "Holds (2)", "Reading history (1)", "What you did on accounts you manage (0)"])
      expect(text).toContain(`\n${heading}\n${"-".repeat(heading.length)}\n`);
    expect(text).toContain("  link-kn, with account nan, two-way: account nan manages you\n");
    expect(text).toContain("    revoked   2026-03-02 09:29 UTC by account nan, on the patron portal, reason: \"Moving to Dunedin\"\n");
    expect(text).toContain("  2026-03-02 09:08 UTC by you, in the app: you tried to link; refused: the barcode named no account\n    barcode typed: \"NOSUCH99\"\n");
    expect(text).toContain("  2026-03-02 09:09 UTC by you, in the app: you tried to link to account nan; refused: the share phrase did not match\n\nLoans (2)\n");
    expect(text).toContain("  hold-k1: \"Matilda\" (item item-k2), to collect at Newtown\n");
    expect(text).toContain("    branch      2026-03-02 09:19 UTC by account mum (managing you through link link-mk), on the patron portal: now Karori\n");
    expect(text).toContain("    forgotten   2026-03-02 09:27 UTC by the library's system: what was borrowed was erased after 30 days\n");
    expect(text).toContain("  2026-03-02 09:24 UTC by you, in the app: do not keep my reading history past the retention period\n");
  });
});

describe("linked-accounts access-report", () => {
  const file = join(dir, "story.ndjson");
  writeFileSync(file, exportText(beforeErasure));

  it("prints the report as text, or as one JSON document, by id or by barcode", async () => {
    const expected = (await accessReport(beforeErasure, "kid"))!;
    const text = await run(["access-report", "kid", "--from", file]);
    expect(text.status).toBe(0);
    expect(text.stdout).toBe(renderAccessReport(expected));
    const byBarcode = await run(["access-report", "KID00001", "--json", "--from", file]);
    expect(byBarcode.status).toBe(0);
    expect(JSON.parse(byBarcode.stdout)).toEqual(json(expected));
  });

  it("from a store it reads its own keys; from its export without --keys, personal fields read [sealed] and the report says so", async () => {
    const path = join(dir, "store.sqlite");
    const store = createSqliteEventStore({ path });
    for (const { position: _p, stream: _s, ...e } of beforeErasure) await store.append([e as EventEnvelope & { tags: ReadonlyArray<string> }]);
    await store.close();
    const fromStore = await run(["access-report", "kid", "--json", "--from", `sqlite:${path}`]);
    expect(fromStore.stderr).toBe("");
    const doc = JSON.parse(fromStore.stdout);
    // The store assigns its own positions and ids are the story's: compare everything but positions.
    const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === "position" ? undefined : x)));
    expect(strip(doc)).toEqual(strip(json((await accessReport(beforeErasure, "kid"))!)));
    const exported = await run(["export", `sqlite:${path}`]);
    const sealed = join(dir, "sealed.ndjson");
    writeFileSync(sealed, exported.stdout);
    const withoutKeys = await run(["access-report", "kid", "--from", sealed]);
    expect(withoutKeys.status).toBe(0);
    expect(withoutKeys.stderr).toBe("linked-accounts: personal fields read [sealed]: no --keys given\n");
    expect(withoutKeys.stdout).toContain("  Barcode         [sealed]\n");
    expect(withoutKeys.stdout).toContain("\n[sealed]: kept encrypted, and this report was made without the keys to read it.\n");
    const withKeys = await run(["access-report", "kid", "--from", sealed, "--keys", `sqlite:${path}`]);
    expect(withKeys.stdout).toContain("  Barcode         kid00001\n");
  });

  it("bad usage and unknown accounts, as every command: status 2 or 1, one line, nothing on stdout", async () => {
    const unknown = await run(["access-report", "nobody", "--from", file]);
    expect(unknown).toMatchObject({ status: 1, stdout: "" });
    expect(unknown.stderr).toContain('no account with id or barcode "nobody"');
    const asOf = await run(["access-report", "kid", "--as-of", "3", "--from", file]);
    expect(asOf).toMatchObject({ status: 2, stdout: "", stderr: "linked-accounts: access-report takes no --as-of: it reports everything held now (see linked-accounts --help)\n" });
    const noAccount = await run(["access-report", "--from", file]);
    expect(noAccount).toMatchObject({ status: 2, stdout: "" });
    expect(noAccount.stderr).toContain("access-report takes one argument, got 0");
    const bad = exportText(beforeErasure).replace('"title":"Matilda"', '"title":""');
    const badLine = await run(["access-report", "kid"], bad);
    expect(badLine).toMatchObject({ status: 2, stdout: "" });
    expect(badLine.stderr).toMatch(/^linked-accounts: line 17: HoldPlaced\.data\.title: /);
  });
});
