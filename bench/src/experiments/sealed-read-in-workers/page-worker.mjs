// Experiment (sealed reads in workers; see README.md here): the page worker. It reads pages of a
// sealed SQLite store by position on a read-only connection of its own, deciphers their sealed parts
// and answers one JSON text per page, each event's personal fields put back in place (or `[erased]`),
// or the code of why its part did not open. Keys it lacks it asks the calling thread for, once per
// page; it keeps them for the store's keyCacheMs, and drops those the calling thread says are forgotten.
import { parentPort, workerData } from "node:worker_threads";
import { createDecipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { personalFieldsOf } from "@linked-accounts/domain/internal";
import { keySubjectOf, sealingKeyOf } from "../../../../packages/adapters/dist/personal-data.js";
import { openPart } from "../../../../packages/adapters/dist/open-worker.js";

const cpu = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
db.pragma("busy_timeout = 5000");
const range = db.prepare("SELECT position, type, data, metadata, tags FROM events WHERE position >= ? AND position < ? ORDER BY position").raw(true);
const keyed = db.prepare("SELECT position, type, data, metadata, tags FROM events WHERE position >= ? ORDER BY position LIMIT ?").raw(true);

const ttl = workerData.keyCacheMs;
/** subject -> { key: Buffer | null, at } */
const cache = new Map();
const forgotten = new Set();
const derived = new Map();
let asked = 0;
const waitingKeys = new Map();

// Failure codes, as the calling thread names them.
const TOO_SHORT = 1, DOES_NOT_OPEN = 2, NO_KEY_IN_STORE = 3, NOT_AN_OBJECT = 4, NOT_SEALED_AS_EXPECTED = 5;
const SEALED_AT = ',"sealed":{';

const ownerGone = (subject) => {
  const slash = subject.indexOf("/");
  return slash !== -1 && forgotten.has(subject.slice(0, slash));
};
const keyOf = (subject, t) => {
  if (forgotten.has(subject) || ownerGone(subject)) return null;
  const hit = cache.get(subject);
  if (hit !== undefined && (hit.key === null || t - hit.at < ttl)) return hit.key;
  return undefined;
};

const askKeys = (subjects) =>
  new Promise((resolve) => {
    const id = asked++;
    waitingKeys.set(id, resolve);
    parentPort.postMessage({ keysFor: subjects, id });
  });

// The adapters' own decipher (its codes: 0 too short, 1 does not open), in this worker's codes.
const decipher = (key, iv, ct, aad) => {
  const opened = openPart(createDecipheriv, key, iv, ct, aad);
  return typeof opened === "string" ? opened : opened === 0 ? TOO_SHORT : DOES_NOT_OPEN;
};

const erasedFields = new Map();
const erasedOf = (type) => {
  let text = erasedFields.get(type);
  if (text === undefined) {
    text = personalFieldsOf(type).map((f) => `${JSON.stringify(f)}:"[erased]"`).join(",");
    erasedFields.set(type, text);
  }
  return text;
};

const S = '{"subjects":"', IV = '","iv":"', CT = '","ct":"';
const sealedAt = (data, start) => {
  if (data.startsWith(S, start)) {
    const iv = data.indexOf(IV, start + S.length);
    const ct = iv === -1 ? -1 : data.indexOf(CT, iv + IV.length);
    const end = ct === -1 ? -1 : data.indexOf('"', ct + CT.length);
    if (end !== -1 && end === data.length - 3) {
      const subjects = data.slice(start + S.length, iv);
      if (!subjects.includes('"') && !subjects.includes("\\")) return { subjects, iv: data.slice(iv + IV.length, ct), ct: data.slice(ct + CT.length, end) };
    }
  }
  try {
    const sealed = JSON.parse(data.slice(start, data.length - 1));
    return typeof sealed?.subjects === "string" && typeof sealed.iv === "string" && typeof sealed.ct === "string" ? sealed : undefined;
  } catch {
    return undefined;
  }
};
const quoted = new Map();
const quote = (type) => {
  let q = quoted.get(type);
  if (q === undefined) quoted.set(type, (q = JSON.stringify(type)));
  return q;
};
const readPage = async ({ from, to, size }) => {
  const rows = to !== undefined ? range.all(from, to) : keyed.all(from, size);
  const t = Date.now();
  // Pass 1: find each sealed part and its key subject; what the cache lacks is asked for in one go.
  const parts = new Array(rows.length);
  let missing;
  for (let i = 0; i < rows.length; i++) {
    const data = rows[i][2];
    const at = data.lastIndexOf(SEALED_AT);
    if (at === -1) continue;
    // The part as the store writes it: {"subjects":"…","iv":"…","ct":"…"} (none of the three holds a quote or a
    // backslash: the log's codec checks their patterns); anything else is parsed, and failing that, refused.
    const sealed = sealedAt(data, at + SEALED_AT.length - 1);
    if (sealed === undefined) {
      parts[i] = NOT_SEALED_AS_EXPECTED;
      continue;
    }
    const one = keySubjectOf(sealed.subjects);
    parts[i] = { at, sealed, one };
    for (const s of one === null ? sealed.subjects.split(" ") : [one]) if (keyOf(s, t) === undefined) (missing ??= new Set()).add(s);
  }
  if (missing !== undefined) {
    const found = await askKeys([...missing]);
    for (const [s, k] of found) cache.set(s, { key: k === null ? null : Buffer.from(k), at: t });
  }
  // Pass 2: open and write the page's text.
  const out = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [position, type, data, metadata, tags] = rows[i];
    const part = parts[i];
    const head = `[${position},${quote(type)},`;
    if (part === undefined) {
      out[i] = `${head}${data},${metadata},${tags}]`;
      continue;
    }
    if (typeof part === "number") {
      out[i] = `${head}${data},${metadata},${tags},${part}]`;
      continue;
    }
    const { at, sealed, one } = part;
    let key;
    if (one !== null) key = keyOf(one, t);
    else {
      const keys = sealed.subjects.split(" ").map((s) => keyOf(s, t));
      if (keys.includes(undefined)) key = undefined;
      else if (keys.includes(null)) key = null;
      else {
        const hit = derived.get(sealed.subjects);
        key = hit !== undefined && t - hit.at < ttl ? hit.key : sealingKeyOf(keys, sealed.subjects);
        derived.set(sealed.subjects, { key, at: t });
      }
    }
    if (key === undefined) {
      out[i] = `${head}${data},${metadata},${tags},${NO_KEY_IN_STORE}]`;
      continue;
    }
    const before = data.slice(0, at);
    if (key === null) {
      out[i] = `${head}${before},${erasedOf(type)}},${metadata},${tags}]`;
      continue;
    }
    const e = metadata.indexOf('"eventId":"');
    const plain = e === -1 ? DOES_NOT_OPEN : decipher(key, sealed.iv, sealed.ct, `${type}\n${metadata.slice(e + 11, metadata.indexOf('"', e + 11))}`);
    if (typeof plain === "number") out[i] = `${head}${data},${metadata},${tags},${plain}]`;
    else if (plain.charCodeAt(0) !== 123 || plain.charCodeAt(plain.length - 1) !== 125) out[i] = `${head}${data},${metadata},${tags},${NOT_AN_OBJECT}]`;
    else out[i] = `${head}${before}${plain.length > 2 ? "," + plain.slice(1) : "}"},${metadata},${tags}]`;
  }
  return { text: `[${out.join(",")}]`, count: rows.length, last: rows.length > 0 ? Number(rows[rows.length - 1][0]) : from - 1 };
};

// Pages are answered in the order asked for (a key lookup in between keeps the order).
let queue = Promise.resolve();
let cpuSpent = 0;
parentPort.on("message", (message) => {
  if (message.keysAnswer !== undefined) {
    const resolve = waitingKeys.get(message.id);
    waitingKeys.delete(message.id);
    resolve(message.keysAnswer);
    return;
  }
  if (message.forget !== undefined) {
    for (const s of message.forget) forgotten.add(s);
    return;
  }
  if (message.cpu !== undefined) {
    parentPort.postMessage({ cpu: cpuSpent });
    cpuSpent = 0;
    return;
  }
  queue = queue.then(async () => {
    const c0 = cpu();
    let answer;
    try {
      answer = await readPage(message);
    } catch (error) {
      answer = { error: String(error) };
    }
    cpuSpent += cpu() - c0;
    parentPort.postMessage({ page: message.page, ...answer });
  });
});
