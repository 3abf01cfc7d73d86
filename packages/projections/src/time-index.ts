/**
 * The time index behind "as of time T": for each event at which the running
 * maximum of `occurredAt` advanced, its position P, that maximum M (epoch ms)
 * and the position V applied just before it. "As of T" is V of the first entry
 * whose M passes T.
 *
 * A log has an entry for nearly every event, so entries are delta-encoded in a
 * byte buffer (typically 2 bytes each: the position step and the time step),
 * with a header every CHUNK entries for a binary search by time.
 *
 * Times are decoded events' `occurredAt`: exactly what `toISOString()` writes
 * with a 4-digit year (the domain's IsoTime codec), so they parse to ms and
 * format back to the same string, and compare as their strings do.
 */
import { utcMs } from "@linked-accounts/domain/internal";
import { grownFloat64, grownUint8 } from "./string-index.js";

const CHUNK = 128;

/** Epoch ms of an IsoTime (`2026-03-03T09:15:00.000Z`), by its fixed layout (no Date). */
export const isoMs = (at: string): number => {
  if (at.length !== 24 || at.charCodeAt(23) !== 90 /* Z */) return Date.parse(at);
  return utcMs(
    at.charCodeAt(0) * 1000 + at.charCodeAt(1) * 100 + at.charCodeAt(2) * 10 + at.charCodeAt(3) - 53328,
    at.charCodeAt(5) * 10 + at.charCodeAt(6) - 528,
    at.charCodeAt(8) * 10 + at.charCodeAt(9) - 528,
    at.charCodeAt(11) * 10 + at.charCodeAt(12) - 528,
    at.charCodeAt(14) * 10 + at.charCodeAt(15) - 528,
    at.charCodeAt(17) * 10 + at.charCodeAt(18) - 528,
    at.charCodeAt(20) * 100 + at.charCodeAt(21) * 10 + at.charCodeAt(22) - 5328,
  );
};

const zigzag = (x: number): number => (x >= 0 ? 2 * x : -2 * x - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

export class TimeIndex {
  /** Entries so far. */
  count = 0;
  private bytes = new Uint8Array(256);
  private length = 0;
  private lastP = 0;
  /** The running maximum (epoch ms); -Infinity before any entry. */
  lastM = -Infinity;
  /** Per chunk: byte offset of its first entry, the P and M before it, and its first M. */
  private chunkOffset = new Float64Array(16);
  private chunkPrevP = new Float64Array(16);
  private chunkPrevM = new Float64Array(16);
  private chunkFirstM = new Float64Array(16);

  /** Records that the event at `p` (ms `m`, > every earlier one) came right after position `v`. */
  push(p: number, m: number, v: number): void {
    const k = this.count;
    if (k % CHUNK === 0) {
      const c = k / CHUNK;
      if (c >= this.chunkOffset.length) {
        this.chunkOffset = grownFloat64(this.chunkOffset, c + 1);
        this.chunkPrevP = grownFloat64(this.chunkPrevP, c + 1);
        this.chunkPrevM = grownFloat64(this.chunkPrevM, c + 1);
        this.chunkFirstM = grownFloat64(this.chunkFirstM, c + 1);
      }
      this.chunkOffset[c] = this.length;
      this.chunkPrevP[c] = this.lastP;
      this.chunkPrevM[c] = k === 0 ? 0 : this.lastM;
      this.chunkFirstM[c] = m;
    }
    const dp = p - this.lastP;
    const dv = p - v;
    // Usually V is the previous entry's P (every event advanced time): one flag bit says so.
    if (dv === dp) this.varint(2 * zigzag(dp));
    else {
      this.varint(2 * zigzag(dp) + 1);
      this.varint(zigzag(dv));
    }
    // The first time absolutely (it may be before 1970), then steps (> 0, time advanced).
    this.varint(k === 0 ? zigzag(m) : m - this.lastM);
    this.lastP = p;
    this.lastM = m;
    this.count = k + 1;
  }

  private varint(x: number): void {
    if (this.length + 10 > this.bytes.length) this.bytes = grownUint8(this.bytes, this.length + 10);
    const b = this.bytes;
    let n = this.length;
    while (x >= 128) {
      b[n++] = (x % 128) | 128;
      x = Math.floor(x / 128);
    }
    b[n++] = x;
    this.length = n;
  }

  /** Walks the entries from the start of chunk `c`; `visit` returns false to stop. */
  private walk(c: number, visit: (p: number, m: number, v: number) => boolean): void {
    const b = this.bytes;
    let at = this.chunkOffset[c]!;
    let p = this.chunkPrevP[c]!;
    let m = this.chunkPrevM[c]!;
    const read = (): number => {
      let x = 0;
      let scale = 1;
      for (;;) {
        const byte = b[at++]!;
        x += (byte & 127) * scale;
        if (byte < 128) return x;
        scale *= 128;
      }
    };
    for (let k = c * CHUNK; k < this.count; k++) {
      const head = read();
      const dp = unzigzag(Math.floor(head / 2));
      const v = head % 2 === 0 ? p : p + dp - unzigzag(read());
      p += dp;
      m = k === 0 ? unzigzag(read()) : m + read();
      if (!visit(p, m, v)) return;
    }
  }

  /** The running maximum (ms) at position `p`: the M of the last entry at or before it; -Infinity when none is. */
  timeAt(p: number): number {
    // The last chunk that starts after a position before p.
    let lo = 0;
    let hi = Math.ceil(this.count / CHUNK) - 1;
    let c = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunkPrevP[mid]! < p || mid === 0) {
        c = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (c < 0) return -Infinity;
    let answer = c === 0 ? -Infinity : this.chunkPrevM[c]!;
    this.walk(c, (q, m) => {
      if (q > p) return false;
      answer = m;
      return true;
    });
    return answer;
  }

  /**
   * V of the first entry whose M is after `t` (ms), or `applied` when none is:
   * the last position applied before anything occurred after t.
   */
  positionBefore(t: number, applied: number): number {
    if (this.count === 0) return applied;
    // The last chunk whose first entry is at or before t (or the first chunk).
    let lo = 0;
    let hi = Math.ceil(this.count / CHUNK) - 1;
    let c = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunkFirstM[mid]! <= t) {
        c = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    let answer = applied;
    this.walk(c, (_p, m, v) => {
      if (m > t) {
        answer = v;
        return false;
      }
      return true;
    });
    return answer;
  }

  /** Every entry, in order: the checkpoint's form. */
  entries(): { positions: number[]; maxima: number[]; previous: number[] } {
    const positions: number[] = [];
    const maxima: number[] = [];
    const previous: number[] = [];
    if (this.count > 0)
      this.walk(0, (p, m, v) => {
        positions.push(p);
        maxima.push(m);
        previous.push(v);
        return true;
      });
    return { positions, maxima, previous };
  }

  /** Bytes held (for the bench's account of memory). */
  get byteLength(): number {
    return this.bytes.byteLength + this.chunkOffset.byteLength + this.chunkPrevP.byteLength + this.chunkPrevM.byteLength + this.chunkFirstM.byteLength;
  }
}
