/**
 * The read models forget what the store forgets. A store erases by forgetting
 * keys, so a read model rebuilt from it after an erasure reads `[erased]` from
 * the start; one folded live, before the key was forgotten, must come to the
 * same state when it folds the erasure event, or it would keep (and checkpoint)
 * what the patron had erased.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createInMemoryEventStore } from "@linked-accounts/adapters";
import type { EventEnvelope } from "@linked-accounts/domain/internal";
import { main } from "./command-line.js";
import { timelineOf } from "./audit-timeline.js";
import { type ReadModelsState, readModelsProjection } from "./read-models.js";
import type { PositionedEvent } from "./projection.js";
import { everyKindStory, exportText, storyValues } from "./test-support.js";

const story = everyKindStory();
const stored = (e: (typeof story)[number]) => {
  const { position: _p, stream: _s, ...event } = e;
  return event as EventEnvelope & { tags: ReadonlyArray<string> };
};
/** The story's events up to here hold no forgetting: 28 is the first (a loan's details), 32 kid's erasure. */
const BEFORE_FORGETTING = 27;

const fold = async (events: AsyncIterable<PositionedEvent>, state: ReadModelsState = readModelsProjection.initial()) => {
  for await (const event of events) readModelsProjection.evolve(state, event);
  return state;
};

const snapshot = (s: ReadModelsState) => JSON.stringify(readModelsProjection.serialise(s));

describe("erasure reaches every read model", () => {
  it("folded live, then fed the forgetting events, each read model equals the one rebuilt from the store afterwards; no snapshot keeps an erased value", async () => {
    const store = createInMemoryEventStore();
    for (const e of story.slice(0, BEFORE_FORGETTING)) await store.append([stored(e)]);
    const live = await fold(store.readAll());
    // Before: kid's data in the clear, live (so what follows is not vacuous).
    const before = snapshot(live);
    for (const value of storyValues.kid) expect(before, value).toContain(value);
    // The rest, one append at a time, each folded live as a runner would.
    for (const e of story.slice(BEFORE_FORGETTING)) {
      const { position } = await store.append([stored(e)]);
      await fold(store.readAll({ from: position }), live);
    }
    const rebuilt = await fold(store.readAll());
    // The store really forgot: rebuilt, kid's registration reads [erased] from the start.
    const kid = timelineOf(rebuilt.timeline, rebuilt.access, "kid");
    expect(kid.find((e) => e.type === "AccountRegistered")!.data["barcode"]).toBe("[erased]");
    expect(kid.find((e) => e.type === "LinkRevoked")!.data["reason"]).toBe("[erased]");
    // Each read model, as its checkpoint would hold it.
    const p = readModelsProjection.serialise(live) as Record<string, unknown>;
    const q = readModelsProjection.serialise(rebuilt) as Record<string, unknown>;
    expect(p["timeline"]).toEqual(q["timeline"]);
    expect(p["loans"]).toEqual(q["loans"]);
    expect(p["access"]).toEqual(q["access"]);
    const after = snapshot(live);
    for (const value of [...storyValues.kid, ...storyValues.both]) expect(after, value).not.toContain(value);
    for (const value of [...storyValues.mum, ...storyValues.nan]) expect(after, value).toContain(value);
    // A checkpoint read back is the same state, and folds on the same.
    const restored = readModelsProjection.deserialise(JSON.parse(after));
    expect(restored._tag).toBe("Right");
    if (restored._tag === "Right") expect(snapshot(restored.right)).toBe(after);
  });

  it("a loan's or hold's details forgotten: only that checkout's, that hold's placing and branch changes read [erased]", async () => {
    const s = await fold(
      (async function* () {
        yield* story.slice(0, 29); // up to both retention events, before kid's erasure
      })(),
    );
    const kid = timelineOf(s.timeline, s.access, "kid");
    const loan = (id: string) => kid.find((e) => e.type === "ItemCheckedOut" && e.data["loanId"] === id)!.data;
    const placed = (id: string) => kid.find((e) => e.type === "HoldPlaced" && e.data["holdId"] === id)!.data;
    expect(loan("loan-k1")).toMatchObject({ itemId: "[erased]", title: "[erased]", format: "physical" });
    expect(loan("loan-k2")).toMatchObject({ itemId: "item-k4", title: "The Lorax" });
    expect(placed("hold-k2")).toMatchObject({ itemId: "[erased]", title: "[erased]", pickupBranch: "[erased]" });
    expect(placed("hold-k1")).toMatchObject({ itemId: "item-k2", title: "Matilda", pickupBranch: "Newtown" });
    expect(kid.find((e) => e.type === "HoldPickupBranchChanged")!.data["pickupBranch"]).toBe("Karori");
    expect(kid.find((e) => e.type === "AccountRegistered")!.data["barcode"]).toBe("kid00001");
  });

  it("the command line's timeline of one account forgets what an erasure names in it too: the other party's typed barcode, their link's reason", async () => {
    const run = async (argv: string[]) => {
      let stdout = "";
      const status = await main(argv, { stdin: Readable.from([exportText(story)]), stdout: { write: (x: string) => (stdout += x) }, stderr: { write: () => true } });
      return { status, doc: JSON.parse(stdout) as { events: Array<{ type: string; data: Record<string, unknown> }> } };
    };
    const nan = await run(["timeline", "nan", "--json"]);
    expect(nan.status).toBe(0);
    const data = (type: string) => nan.doc.events.filter((e) => e.type === type).map((e) => e.data);
    // nan typed kid's barcode (kid's to erase); nan's reason for revoking their link (about both).
    expect(data("ConnectionAttemptFailed")).toEqual([
      expect.objectContaining({ connectorAccountId: "nan", attemptedBarcode: "[erased]" }),
      expect.objectContaining({ connectorAccountId: "kid", attemptedBarcode: "nan00001" }),
    ]);
    expect(data("LinkRevoked")[0]).toMatchObject({ reason: "[erased]" });
    expect(data("HoldPlaced")[0]).toMatchObject({ title: "Nan's Novel", pickupBranch: "Island Bay" });
    expect(data("AccountRegistered")[0]).toMatchObject({ barcode: "nan00001" });
  });
});
