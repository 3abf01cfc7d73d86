/**
 * Reading a checked export lean (`readOnly`, lean-lines.ts) must fold to the
 * very same access graph as decoding every line in full, and must never let a
 * value the catalog refuses through: such a line is decoded in full and
 * refused with its line and field named.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DomainEvent, type EventEnvelope, Id, IsoTime, SCHEMA_VERSION } from "@linked-accounts/domain/internal";
import { fixtures, validHistory } from "@linked-accounts/domain/testing";
import { type AccessGraphState, accessGraphReads, accessNow, evolveAccessGraph, initialAccessGraph } from "./access-graph.js";
import { isoTimeMsAt, leanLine, leanPlan } from "./lean-lines.js";
import { isoMs } from "./time-index.js";
import { type ExportedEvent, ExportFormatError, type ReadExportOptions, exportLine, readExportBatches } from "./ndjson.js";
import { checkedExportText, everyKindStory, positioned, referenceStory, stamped } from "./test-support.js";

const numRuns = Number(process.env["FC_RUNS"] ?? 100);
const plan = leanPlan(accessGraphReads);

/** `text` in pieces cut at `cuts` (fractions of its length), as a file or a pipe might hand it over. */
const piecesOf = (text: string, cuts: ReadonlyArray<number> = []): Buffer[] => {
  const bytes = Buffer.from(text, "utf8");
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut > from) out.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return out;
};

async function* chunks(pieces: ReadonlyArray<Buffer>): AsyncGenerator<Buffer> {
  yield* pieces;
}

const fold = async (text: string, options: ReadExportOptions, cuts: ReadonlyArray<number> = []): Promise<AccessGraphState> => {
  const state = initialAccessGraph();
  for await (const batch of readExportBatches(chunks(piecesOf(text, cuts)), options)) for (const e of batch) evolveAccessGraph(state, e);
  return state;
};

const refusal = async (text: string, options: ReadExportOptions): Promise<ExportFormatError> => {
  try {
    await fold(text, options);
  } catch (error) {
    if (error instanceof ExportFormatError) return error;
    throw error;
  }
  throw new Error("expected the export to be refused");
};

/** The lines of `text` as `[buffer, start, end]` (no newline). */
const linesOf = (text: string): Array<[Buffer, number, number]> => {
  const buf = Buffer.from(text, "utf8");
  const out: Array<[Buffer, number, number]> = [];
  for (let start = 0; start < buf.length; ) {
    const nl = buf.indexOf(10, start);
    out.push([buf, start, nl]);
    start = nl + 1;
  }
  return out;
};

describe("a checked export read lean folds to the same access graph", () => {
  it("over random valid histories, cut into random chunks, the state equals the one from every line decoded in full", async () => {
    await fc.assert(
      fc.asyncProperty(validHistory({ maxMoves: 80 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), async (h, cuts) => {
        const text = checkedExportText(positioned(h.events));
        const full = await fold(text, {});
        const lean = await fold(text, { readOnly: accessGraphReads }, cuts);
        expect(lean).toEqual(full);
        expect(accessNow(lean).grants()).toEqual(accessNow(full).grants());
      }),
      { numRuns },
    );
  });

  it("every line export writes of every kind of event is read lean (none falls back to the full decode)", () => {
    const text = checkedExportText(everyKindStory());
    const lines = linesOf(text).slice(1, -1);
    expect(lines.length).toBeGreaterThan(15);
    let previous = 0;
    for (const [buf, start, end] of lines) {
      const lean = leanLine(buf, start, end, previous, plan, true);
      expect(lean, buf.toString("utf8", start, end)).toBeDefined();
      previous = Number(lean!.position);
    }
  });

  it("takes an id exactly when the catalog's Id accepts it (its bytes are checked without the regular expression)", () => {
    const alphabet = fc.constantFrom(..."aZ09_-./ é\"\\\u0000\u007f\u00ff{},:[]");
    const id = fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: alphabet, maxLength: 70 }), fc.stringMatching(/^[A-Za-z0-9_-]{60,70}$/));
    fc.assert(
      fc.property(id, (accountId) => {
        const closed = stamped({ type: "AccountClosed", data: { accountId: "a", closedAt: fixtures.at(1) } }, "a", 1, 1);
        const line = exportLine({ ...closed, data: { accountId, closedAt: fixtures.at(1) }, position: 1n, stream: "s" } as unknown as ExportedEvent);
        const buf = Buffer.from(line, "utf8");
        const lean = leanLine(buf, 0, buf.length, 0, plan, true);
        expect(lean !== undefined).toBe(Id.is(accountId));
        if (lean !== undefined) expect((lean as { data?: unknown }).data).toEqual({ accountId });
      }),
      { numRuns: numRuns * 10 },
    );
  });

  it("checks a time on its bytes exactly as the catalog's IsoTime does", () => {
    const digit = fc.constantFrom(..."0123456789");
    const near = fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 999 }))
      .map(([y, mo, d, h, mi, s, ms]) => `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}:${String(s).padStart(2, "0")}.${String(ms).padStart(3, "0")}Z`);
    const mangled = fc.tuple(near, fc.nat(23), fc.oneof(digit, fc.constantFrom(..."-T:.Z /x"))).map(([t, k, c]) => t.slice(0, k) + c + t.slice(k + 1));
    fc.assert(
      fc.property(fc.oneof(near, mangled, fc.string({ minLength: 24, maxLength: 24 })), (time) => {
        const bytes = Buffer.from(time, "utf8");
        const ms = bytes.length === 24 ? isoTimeMsAt(bytes, 0) : NaN;
        expect(ms === ms).toBe(IsoTime.is(time));
        if (ms === ms) expect(ms).toBe(isoMs(time));
      }),
      { numRuns: numRuns * 20 },
    );
    expect(isoTimeMsAt(Buffer.from("2024-02-29T23:59:59.999Z"), 0)).toBe(Date.parse("2024-02-29T23:59:59.999Z"));
    expect(isoTimeMsAt(Buffer.from("2100-02-29T00:00:00.000Z"), 0)).toBeNaN();
  });
});

describe("a line lean reading cannot vouch for is decoded in full: refused with its line and field named, or read as it says", () => {
  const story = referenceStory();
  /** The story with one event's data changed, exported with a trailer made to match (not something export writes). */
  const crafted = (type: DomainEvent["type"], change: (data: Record<string, unknown>) => Record<string, unknown>): { text: string; line: number } => {
    const at = story.findIndex((e) => e.type === type);
    const events = story.map((e, i) => (i === at ? ({ ...e, data: change({ ...(e.data as Record<string, unknown>) }) } as ExportedEvent) : e));
    return { text: checkedExportText(events), line: at + 2 };
  };
  const refused: Array<[string, DomainEvent["type"], (d: Record<string, unknown>) => Record<string, unknown>, RegExp]> = [
    ["a direction the catalog does not have", "AccountConnected", (d) => ({ ...d, direction: "both" }), /AccountConnected\.data\.direction: expected "one-way" \| "two-way", got "both"/],
    ["an account id with a space", "AccountRegistered", (d) => ({ ...d, accountId: "par ent" }), /AccountRegistered\.data\.accountId: expected Id/],
    ["an id of 65 characters", "AccountConnected", (d) => ({ ...d, linkId: "l".repeat(65) }), /AccountConnected\.data\.linkId: expected Id/],
    ["an empty id", "LinkRevoked", (d) => ({ ...d, linkId: "" }), /LinkRevoked\.data\.linkId: expected Id/],
    ["minor as a string", "AccountRegistered", (d) => ({ ...d, minor: "no" }), /AccountRegistered\.data\.minor: expected boolean, got "no"/],
    ["a field missing", "AccountConnected", ({ issuerAccountId: _gone, ...d }) => d, /AccountConnected\.data\.issuerAccountId: expected Id/],
  ];
  for (const [name, type, change, message] of refused)
    it(name, async () => {
      const { text, line } = crafted(type, change);
      const error = await refusal(text, { readOnly: accessGraphReads });
      expect(error.line).toBe(line);
      expect(error.message).toMatch(message);
    });

  it("a line of a type not read, with a time the catalog refuses or a schema version it does not know, is refused by line", async () => {
    const lines = checkedExportText(story).split("\n");
    const at = story.findIndex((e) => e.type === "ItemCheckedOut") + 1;
    for (const [changed, message] of [
      [lines[at]!.replace(/"occurredAt":"2026-(\d\d)/, '"occurredAt":"2026-13'), /ItemCheckedOut\.metadata\.occurredAt: expected IsoTime/],
      [lines[at]!.replace(`"schemaVersion":${SCHEMA_VERSION}`, `"schemaVersion":${SCHEMA_VERSION + 1}`), /schemaVersion/],
    ] as const) {
      const events = [...lines.slice(1, at), changed, ...lines.slice(at + 1, -2)];
      const body = lines[0] + "\n" + events.join("\n") + "\n";
      const { createHash } = await import("node:crypto");
      const text = body + `{"trailer":{"events":${events.length},"sha256":"${createHash("sha256").update(body).digest("hex")}"}}\n`;
      const error = await refusal(text, { readOnly: accessGraphReads });
      expect(error.line).toBe(at + 1);
      expect(error.message).toMatch(message);
    }
  });

  it("a barcode both sealed and in the clear is left to the full decode, which reads it as it always has", async () => {
    const { text } = crafted("AccountRegistered", (d) => ({ ...d, sealed: { subjects: "account:parent", iv: "AAAAAAAAAAAAAAAA", ct: "A".repeat(30) } }));
    const [buf, start, end] = linesOf(text)[1]!;
    expect(leanLine(buf, start, end, 0, plan, true)).toBeUndefined();
    expect(await fold(text, { readOnly: accessGraphReads })).toEqual(await fold(text, {}));
  });

  it("a line laid out otherwise (spaces, escapes, keys in another order) is read in full, to the same graph", async () => {
    const text = checkedExportText(story);
    const lines = text.trimEnd().split("\n");
    const relaid = lines.map((l, i) => {
      if (i === 0 || i === lines.length - 1) return l;
      const o = JSON.parse(l) as Record<string, unknown>;
      if (i % 3 === 0) return JSON.stringify(o, null, 1).replace(/\n/g, "");
      if (i % 3 === 1) return JSON.stringify({ type: o["type"], position: o["position"], stream: o["stream"], metadata: o["metadata"], data: o["data"] });
      return l.replace(/"(parent|child|partner)"/g, (_m, id: string) => `"${id.slice(0, 1)}\\u00${id.charCodeAt(1).toString(16)}${id.slice(2)}"`);
    });
    const body = relaid.slice(0, -1).join("\n") + "\n";
    const { createHash } = await import("node:crypto");
    const recomputed = body + `{"trailer":{"events":${lines.length - 2},"sha256":"${createHash("sha256").update(body).digest("hex")}"}}\n`;
    expect(await fold(recomputed, { readOnly: accessGraphReads })).toEqual(await fold(text, {}));
  });
});

describe("a sealed line read lean", () => {
  it("without keys, its barcode reads [sealed] and the reader is told once; with keys it is opened in full", async () => {
    const registered = stamped(fixtures.registered("parent"), "parent", 1, 1);
    const sealed = {
      ...registered,
      data: { accountId: "parent", minor: false, registeredAt: fixtures.at(1), sealed: { subjects: "account:parent", iv: "AAAAAAAAAAAAAAAA", ct: "A".repeat(40) } },
    } as unknown as EventEnvelope;
    const text = checkedExportText([{ ...sealed, position: 1n, stream: "s" } as unknown as ExportedEvent]);
    const [buf, start, end] = linesOf(text)[1]!;
    expect((leanLine(buf, start, end, 0, plan, true) as { data?: unknown } | undefined)?.data).toEqual({ accountId: "parent", barcode: "[sealed]", minor: false });
    expect(leanLine(buf, start, end, 0, plan, false)).toBeUndefined();
    let told = 0;
    const lean = await fold(text, { readOnly: accessGraphReads, onSealed: () => told++ });
    expect(told).toBe(1);
    expect(lean).toEqual(await fold(text, {}));
  });
});
