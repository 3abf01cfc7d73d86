// Experiment (sealed reads in workers; see README.md here): the CPU one AES-256-GCM part costs to open,
// by each of node:crypto's ways (a Buffer key, a KeyObject, WebCrypto): node decipher-ways.mjs
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
const cpu = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
const N = 20000;
const keys = Array.from({ length: 1000 }, () => randomBytes(32));
const keyObjects = keys.map((k) => createSecretKey(k));
const parts = Array.from({ length: N }, (_, i) => {
  const key = keys[i % 1000], iv = randomBytes(12), aad = Buffer.from(`ItemCheckedOut\n019b8d2b-8c00-7000-8000-${String(i).padStart(12, "0")}`);
  const c = createCipheriv("aes-256-gcm", key, iv); c.setAAD(aad);
  const ct = Buffer.concat([c.update(JSON.stringify({ itemId: "item" + i, title: "A title of some length " + i })), c.final(), c.getAuthTag()]);
  return { k: i % 1000, iv, aad, ct, ivs: iv.toString("base64url"), cts: ct.toString("base64url") };
});
const ways = {
  "createDecipheriv (Buffers)": (p) => { const d = createDecipheriv("aes-256-gcm", keys[p.k], p.iv); d.setAAD(p.aad); d.setAuthTag(p.ct.subarray(p.ct.length - 16)); const o = d.update(p.ct.subarray(0, p.ct.length - 16)); d.final(); return o; },
  "createDecipheriv (KeyObject)": (p) => { const d = createDecipheriv("aes-256-gcm", keyObjects[p.k], p.iv); d.setAAD(p.aad); d.setAuthTag(p.ct.subarray(p.ct.length - 16)); const o = d.update(p.ct.subarray(0, p.ct.length - 16)); d.final(); return o; },
  "createDecipheriv (authTagLength)": (p) => { const d = createDecipheriv("aes-256-gcm", keyObjects[p.k], p.iv, { authTagLength: 16 }); d.setAAD(p.aad); d.setAuthTag(p.ct.subarray(p.ct.length - 16)); const o = d.update(p.ct.subarray(0, p.ct.length - 16)); d.final(); return o; },
  "base64url x2 only": (p) => [Buffer.from(p.cts, "base64url"), Buffer.from(p.ivs, "base64url")],
};
for (let r = 0; r < 2; r++) for (const [name, f] of Object.entries(ways)) {
  const c0 = cpu();
  for (const p of parts) f(p);
  if (r === 1) console.log(name.padEnd(34), ((cpu() - c0) / N / 1000).toFixed(2), "us CPU per part");
}
const cryptoKeys = await Promise.all(keys.map((k) => webcrypto.subtle.importKey("raw", k, "AES-GCM", false, ["decrypt"])));
for (let r = 0; r < 2; r++) {
  const c0 = cpu(); const p0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(parts.map((p) => webcrypto.subtle.decrypt({ name: "AES-GCM", iv: p.iv, additionalData: p.aad }, cryptoKeys[p.k], p.ct)));
  const pu = process.cpuUsage(p0);
  if (r === 1) console.log("subtle.decrypt (all at once)".padEnd(34), ((cpu() - c0) / N / 1000).toFixed(2), "us main-thread CPU;", ((pu.user + pu.system) / N).toFixed(2), "us process CPU;", ((performance.now() - t0) / N * 1000).toFixed(2), "us wall per part");
}
