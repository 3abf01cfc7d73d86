// Experiment (sealed reads in workers; see README.md here): where a page worker's CPU goes, step by
// step, on one thread: node where-time-goes.mjs COPY.sqlite
import Database from "better-sqlite3";
import { createDecipheriv } from "node:crypto";
const db = new Database(process.argv[2], { readonly: true });
const range = db.prepare("SELECT position, type, data, metadata, tags FROM events WHERE position >= ? AND position < ? ORDER BY position").raw(true);
const keys = new Map(db.prepare("SELECT subject, key FROM personal_keys").raw(true).all());
const t = {};
import { readFileSync } from "node:fs";
const now = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1e6;
const lap = (name, t0) => { const t1 = now(); t[name] = (t[name] ?? 0) + t1 - t0; return now(); };
let parts = 0;
for (let round = 0; round < 3; round++) for (let from = 1; from <= 100000; from += 1000) {
  let t0 = now();
  const rows = range.all(from, from + 1000);
  t0 = lap("sqlite rows", t0);
  const sealed = [];
  for (const r of rows) { const at = r[2].lastIndexOf(',"sealed":{'); if (at !== -1) sealed.push([r, JSON.parse(r[2].slice(at + 10, -1))]); }
  t0 = lap("find+parse sealed", t0);
  const ks = sealed.map(([r, s]) => keys.get(s.subjects.includes(" ") ? s.subjects.replace(" ", "/") : s.subjects));
  t0 = lap("key lookups", t0);
  const bufs = sealed.map(([r, s]) => [Buffer.from(s.ct, "base64url"), Buffer.from(s.iv, "base64url"), Buffer.from(`${r[1]}\n${r[3].slice(12, 48)}`)]);
  t0 = lap("base64 decode", t0);
  const ds = [];
  for (let i = 0; i < sealed.length; i++) { if (!ks[i]) continue; ds.push([createDecipheriv("aes-256-gcm", ks[i], bufs[i][1]), i]); }
  t0 = lap("createDecipheriv", t0);
  const plains = [];
  for (const [d, i] of ds) { d.setAAD(bufs[i][2]); const b = bufs[i][0]; d.setAuthTag(b.subarray(b.length - 16)); plains.push(d.update(b.subarray(0, b.length - 16))); try { d.final(); } catch {} }
  t0 = lap("aad+tag+update+final", t0);
  const texts = plains.map((p) => p.toString("utf8"));
  t0 = lap("toString", t0);
  const out = rows.map((r) => `[${r[0]},${JSON.stringify(r[1])},${r[2]},${r[3]},${r[4]}]`).join(",");
  t0 = lap("page text", t0);
  if (round === 0) parts += ds.length;
}
for (const [k, v] of Object.entries(t)) console.log(k.padEnd(22), (v / 3 / 100000 * 1000).toFixed(2), "us/event", k.includes("Decipher") || k.includes("aad") ? `(${(v / 3 / parts * 1000).toFixed(2)} us/part)` : "");
console.log("parts", parts);
