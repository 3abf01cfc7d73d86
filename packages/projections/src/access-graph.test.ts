import { describe, expect, it } from "vitest";
import { fixtures } from "@linked-accounts/domain/testing";
import { accessAsOf, accessGraphProjection, accessNow, positionAtTime } from "./access-graph.js";
import { foldEvents } from "./projection.js";
import { history, referenceStory } from "./test-support.js";

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
