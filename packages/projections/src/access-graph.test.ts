import { describe, expect, it } from "vitest";
import { makePolicy } from "@linked-accounts/domain";
import { fixtures } from "@linked-accounts/domain/testing";
import { accessAsOf, accessAt, accessGraphProjection, accessGraphProjectionUnder, accessNow, positionAtTime } from "./access-graph.js";
import { foldEvents } from "./projection.js";
import { auditTimelineOf, readModelsProjectionUnder } from "./read-models.js";
import { history, positioned, referenceStory, stamped } from "./test-support.js";

const graphOf = (events: Parameters<typeof foldEvents>[1]) => foldEvents(accessGraphProjection, events);

describe("access graph: the rules", () => {
  const story = referenceStory();
  const graph = graphOf(story);
  const now = accessNow(graph);

  it("R2: a 1-way link gives issuer → connector only", () => {
    expect(now.canManage("parent", "child")).toBe(true);
    expect(now.canManage("child", "parent")).toBe(false);
  });

  it("R4: a 2-way link with a minor works towards the minor only", () => {
    expect(now.canManage("partner", "child")).toBe(true);
    expect(now.canManage("child", "partner")).toBe(false);
    expect(now.explain("child", "partner")).toMatchObject({ granted: false, refusals: [{ code: "manager-is-minor" }] });
  });

  it("R11: a revoked 2-way link removes both grants; the explanation names the position", () => {
    expect(now.canManage("parent", "partner")).toBe(false);
    expect(now.canManage("partner", "parent")).toBe(false);
    expect(now.explain("parent", "partner")).toMatchObject({
      granted: false,
      refusals: [{ code: "link-revoked", linkId: "link-pp", position: 13n }],
    });
  });

  it("R3: no transitivity (parent → child, partner → child give nothing between parent and partner after revocation)", () => {
    expect(now.managersOf("child")).toEqual(["parent", "partner"]);
    expect(now.managedBy("parent")).toEqual(["child"]);
    expect(now.managedBy("partner")).toEqual(["child"]);
  });

  it("R1: an account manages itself; accounts answer by barcode", () => {
    expect(now.canManage("child", "child")).toBe(true);
    expect(now.account(fixtures.barcodeOf("child"))?.accountId).toBe("child");
    expect(now.account("nobody")).toBeUndefined();
  });

  it("explain names the link and its AccountConnected event", () => {
    const e = now.explain("parent", "child");
    expect(e).toMatchObject({ granted: true, self: false, sources: [{ linkId: "link-pc", connectedPosition: 5n, since: 5n }] });
    if (e.granted && !e.self) expect(e.sources[0]?.connectedEventId).toBe(story[4]?.metadata.eventId);
  });

  it("as of a position: the revoked link was in force before its revocation, not at it", () => {
    expect(accessAsOf(graph, 12n).canManage("partner", "parent")).toBe(true);
    expect(accessAsOf(graph, 12n).linksOf("parent", "partner")).toEqual(["link-pp"]);
    expect(accessAsOf(graph, 13n).canManage("partner", "parent")).toBe(false);
    expect(accessAsOf(graph, 4n).grants()).toEqual([]);
    expect(accessAsOf(graph, 5n).grants()).toEqual([{ manager: "parent", account: "child", linkIds: ["link-pc"] }]);
  });

  it("as of a time: the events that occurred by then (one per minute here)", () => {
    expect(positionAtTime(graph, fixtures.at(6))).toBe(7n);
    expect(positionAtTime(graph, fixtures.at(6.5))).toBe(7n);
    expect(positionAtTime(graph, "2000-01-01T00:00:00.000Z")).toBe(0n);
    expect(positionAtTime(graph, "2100-01-01T00:00:00.000Z")).toBe(14n);
  });

  it("R12: closing an account ends every grant to and from it, for good", () => {
    const closed = graphOf([...story.slice(0, 7), ...history([[fixtures.accountClosed("parent"), "parent"]]).map((e) => ({ ...e, position: 8n }))]);
    const view = accessNow(closed);
    expect(view.grants()).toEqual([]);
    expect(view.canManage("parent", "parent")).toBe(false);
    expect(view.explain("partner", "parent")).toMatchObject({ granted: false, refusals: [{ code: "account-closed", accountId: "parent", position: 8n }] });
    expect(accessAsOf(closed, 7n).canManage("partner", "parent")).toBe(true);
  });

  it("a link to an account registered later is in force from that registration", () => {
    const events = history([
      [fixtures.registered("a"), "a"],
      [fixtures.connected("l1", "p1", "a", "b", "one-way"), "b"],
      [fixtures.registered("b"), "b"],
    ]);
    const g = graphOf(events);
    expect(accessAsOf(g, 2n).canManage("a", "b")).toBe(false);
    expect(accessNow(g).explain("a", "b")).toMatchObject({ granted: true, sources: [{ linkId: "l1", connectedPosition: 2n, since: 3n }] });
  });

  it("a checkpoint round trip gives the same answers", () => {
    const json = JSON.parse(JSON.stringify(accessGraphProjection.serialise(graph)));
    const back = accessGraphProjection.deserialise(json);
    expect(back._tag).toBe("Right");
    if (back._tag === "Right") {
      expect(accessGraphProjection.serialise(back.right)).toEqual(accessGraphProjection.serialise(graph));
      expect(accessAsOf(back.right, 12n).grants()).toEqual(accessAsOf(graph, 12n).grants());
    }
    expect(accessGraphProjection.deserialise({ version: 2 })._tag).toBe("Left");
  });
});

describe("access graph: a rule changed through the domain alone (minors manage from 16 by a recorded date of birth)", () => {
  const f = fixtures;
  const sixteen = makePolicy({ minorsMayManageFromAge: 16 });
  const DAY = 60 * 24;
  // The fixtures' clock starts 2026-03-02T09:00Z; kid turns 16 at midnight UTC on 2026-03-04.
  const events = positioned([
    stamped(f.registered("alice"), "alice", 0, 0), // 1
    stamped(f.registered("kid", true), "kid", 1, 1), // 2
    stamped(f.phraseIssued("P1", "alice", "two-way"), "alice", 2, 2), // 3
    stamped(f.connected("L1", "P1", "alice", "kid", "two-way"), "kid", 3, 3), // 4
    stamped(f.checkedOut("loan1", "alice"), { kind: "staff", staffId: "desk" }, 4, 4), // 5
    stamped(f.dateOfBirthRecorded("kid", "2010-03-04", 5), { kind: "staff", staffId: "desk" }, 5, 5), // 6: born 2010-03-04
    stamped(f.holdPlaced("hold1", "alice", 2 * DAY), "alice", 2 * DAY, 6), // 7: 2026-03-04T09:00Z, after the birthday
    stamped(
      { type: "LoanRenewed", data: { loanId: "loan1", accountId: "alice", dueAt: f.at(40 * DAY), renewedBy: "kid", renewedAt: f.at(2 * DAY + 1) } },
      "kid",
      2 * DAY + 1,
      7,
    ), // 8: the kid, now 16, renews alice's loan
  ]);
  const graph = foldEvents(accessGraphProjectionUnder(sixteen), events);
  const beforeBirthday = "2026-03-03T23:59:59.999Z";
  const onBirthday = "2026-03-04T00:00:00.000Z";

  it("as of any past position: before the birthday no, after it yes", () => {
    for (const p of [4n, 5n, 6n]) expect(accessAsOf(graph, p).canManage("kid", "alice")).toBe(false);
    for (const p of [7n, 8n]) expect(accessAsOf(graph, p).canManage("kid", "alice")).toBe(true);
    expect(accessAsOf(graph, 6n).grants()).toEqual([{ manager: "alice", account: "kid", linkIds: ["L1"] }]);
    expect(accessAsOf(graph, 7n).grants()).toEqual([
      { manager: "alice", account: "kid", linkIds: ["L1"] },
      { manager: "kid", account: "alice", linkIds: ["L1"] },
    ]);
    expect(accessAsOf(graph, 7n).managedBy("kid")).toEqual(["alice"]);
    expect(accessAsOf(graph, 6n).managersOf("alice")).toEqual([]);
  });

  it("as of a time, and now: the birthday counts at midnight, with no event then", () => {
    // Both times stand for position 6 (nothing happened between them); only the clock differs.
    expect(positionAtTime(graph, beforeBirthday)).toBe(6n);
    expect(positionAtTime(graph, onBirthday)).toBe(6n);
    expect(accessAt(graph, { time: beforeBirthday }).canManage("kid", "alice")).toBe(false);
    expect(accessAt(graph, { time: onBirthday }).canManage("kid", "alice")).toBe(true);
    expect(accessNow(graph, beforeBirthday).canManage("kid", "alice")).toBe(false);
    expect(accessNow(graph, onBirthday).linksOf("kid", "alice")).toEqual(["L1"]);
  });

  it("explain: refused as a minor before the birthday; after it, granted by the link, in force on the facts since the date of birth was recorded", () => {
    expect(accessAt(graph, { time: beforeBirthday }).explain("kid", "alice")).toMatchObject({
      granted: false,
      refusals: [{ code: "manager-is-minor", accountId: "kid" }],
    });
    expect(accessAsOf(graph, 7n).explain("kid", "alice")).toMatchObject({
      granted: true,
      self: false,
      sources: [{ linkId: "L1", connectedPosition: 4n, since: 6n }],
    });
  });

  it("the audit timeline names the link the 16-year-old renewed through", () => {
    const models = foldEvents(readModelsProjectionUnder(sixteen), events);
    const renewal = auditTimelineOf(models, "alice").find((e) => e.type === "LoanRenewed");
    expect(renewal?.managerAction).toEqual({ manager: "kid", account: "alice", linkIds: ["L1"] });
  });

  it("under the default policy the same events never let the minor manage", () => {
    const today = foldEvents(accessGraphProjection, events);
    expect(accessAsOf(today, 8n).canManage("kid", "alice")).toBe(false);
    expect(accessNow(today, "2030-01-01T00:00:00.000Z").canManage("kid", "alice")).toBe(false);
    expect(accessAsOf(today, 8n).explain("kid", "alice")).toMatchObject({ granted: false, refusals: [{ code: "manager-is-minor" }] });
  });

  it("a checkpoint keeps the dates of birth: read back under the policy, it answers the same as of every position", () => {
    const projection = accessGraphProjectionUnder(sixteen);
    const back = projection.deserialise(JSON.parse(JSON.stringify(projection.serialise(graph))));
    expect(back._tag).toBe("Right");
    if (back._tag === "Right")
      for (const e of events) expect(accessAsOf(back.right, e.position).grants()).toEqual(accessAsOf(graph, e.position).grants());
  });

  it("closing the managed account still ends the grant for good (R12)", () => {
    const closed = foldEvents(accessGraphProjectionUnder(sixteen), [
      ...events,
      ...positioned([stamped(f.accountClosed("alice", 3 * DAY), "alice", 3 * DAY, 8)]).map((e) => ({ ...e, position: 9n })),
    ]);
    expect(accessAsOf(closed, 8n).canManage("kid", "alice")).toBe(true);
    expect(accessAsOf(closed, 9n).canManage("kid", "alice")).toBe(false);
  });
});
