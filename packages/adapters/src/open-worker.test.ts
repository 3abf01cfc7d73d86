import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DOES_NOT_OPEN, type OpenRequest, TOO_SHORT, createOpenWorker, openHere } from "./open-worker.js";

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
  return { keys, keyOf: parts.map((p) => p.key), ivs: parts.map((p) => p.iv), cts: parts.map((p) => p.ct), aads: parts.map((p) => p.aad) };
};

describe("opening sealed parts on a worker thread", () => {
  it("answers what opening them here answers, part for part, failures included", async () => {
    const given = request(200);
    const here = openHere(given);
    expect(here[0]).toBe(JSON.stringify({ title: "Pukapuka 0 — ā ē ī ō ū" }));
    expect([here[5], here[7]]).toEqual([TOO_SHORT, DOES_NOT_OPEN]);
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
});
