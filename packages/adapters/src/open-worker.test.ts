import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DOES_NOT_OPEN_PART, NOT_JSON_PART, type OpenRequest, TOO_SHORT_PART, createOpenWorker, openHere } from "./open-worker.js";

/** `n` parts sealed under three keys, the fifth cut short and the seventh altered. */
const request = (n: number): OpenRequest => {
  const keys = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const parts = Array.from({ length: n }, (_, i) => {
    const iv = randomBytes(12);
    const aad = `ItemCheckedOut\n0190f2a0-1234-7abc-8def-${String(i).padStart(12, "0")}`;
    const cipher = createCipheriv("aes-256-gcm", keys[i % 3]!, iv);
    cipher.setAAD(Buffer.from(aad, "utf8"));
    let ct = Buffer.concat([cipher.update(JSON.stringify({ title: `Pukapuka ${i} — ā ē ī ō ū` }), "utf8"), cipher.final(), cipher.getAuthTag()]);
    if (i === 5) ct = ct.subarray(0, 10);
    if (i === 7) ct[0] = ct[0]! ^ 1;
    return { iv: iv.toString("base64url"), ct: ct.toString("base64url"), aad, key: i % 3 };
  });
  return { keys: parts.map((p) => keys[p.key]!), ivs: parts.map((p) => p.iv), cts: parts.map((p) => p.ct), aads: parts.map((p) => p.aad) };
};

describe("opening sealed parts on a worker thread", () => {
  it("answers what opening them here answers, part for part, failures included", async () => {
    const given = request(200);
    const here = openHere(given);
    expect(here[0]).toEqual({ title: "Pukapuka 0 — ā ē ī ō ū" });
    expect([here[5], here[7]]).toEqual([TOO_SHORT_PART, DOES_NOT_OPEN_PART]);
    const worker = createOpenWorker();
    try {
      expect(await worker.open(given)).toEqual(here);
    } finally {
      await worker.close();
    }
  });

  it("opens here what the worker still held when it was closed, and everything after", async () => {
    const given = request(100);
    const worker = createOpenWorker();
    const pending = worker.open(given);
    await worker.close();
    expect(await pending).toEqual(openHere(given));
    expect(await worker.open(given)).toEqual(openHere(given));
  });

  it("reads a plain text that is not one JSON object as what it is, alone, whatever its neighbours", async () => {
    const key = randomBytes(32);
    const texts = [JSON.stringify({ title: "a" }), "null", '{"x":1},{"y":"}', '{"}', "[1]", "not json", JSON.stringify({ title: "b" })];
    const parts = texts.map((text, i) => {
      const iv = randomBytes(12);
      const aad = `ItemCheckedOut\n0190f2a0-1234-7abc-8def-${String(i).padStart(12, "0")}`;
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(aad, "utf8"));
      const ct = Buffer.concat([cipher.update(text, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return { iv: iv.toString("base64url"), ct: ct.toString("base64url"), aad };
    });
    const given: OpenRequest = { keys: parts.map(() => key), ivs: parts.map((p) => p.iv), cts: parts.map((p) => p.ct), aads: parts.map((p) => p.aad) };
    const expected = [{ title: "a" }, null, NOT_JSON_PART, NOT_JSON_PART, [1], NOT_JSON_PART, { title: "b" }];
    expect(openHere(given)).toEqual(expected);
    const worker = createOpenWorker();
    try {
      expect(await worker.open(given)).toEqual(expected);
    } finally {
      await worker.close();
    }
  });
});
