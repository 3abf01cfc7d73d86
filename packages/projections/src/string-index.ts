/**
 * Interning: each distinct string (an account id, a link id, a barcode) gets a
 * small integer, so the read models keep columns of numbers (typed arrays)
 * instead of an object and a map entry per row. Open addressing over typed
 * arrays, keyed by our own hash of the string's characters: a lookup touches
 * one slot, and compares a stored string only when the hashes agree.
 */

/** FNV-1a over UTF-16 code units: cheap, and good enough for ids. */
export const hashOf = (s: string): number => {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
};

/** Spreads a 32-bit hash over the low bits a table index uses. */
export const spread = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
};

export class StringIndex {
  /** The strings, by index (first added first). */
  readonly keys: string[] = [];
  /** `hashOf(keys[i])`. */
  hashes = new Int32Array(16);
  /** index + 1 per slot; 0: empty. Never more than half full. */
  private slots = new Int32Array(32);
  private mask = 31;

  get size(): number {
    return this.keys.length;
  }

  /** The index of `s`, or -1. */
  find(s: string, h: number = hashOf(s)): number {
    const { slots, mask, hashes, keys } = this;
    for (let i = spread(h) & mask; ; i = (i + 1) & mask) {
      const k = slots[i]!;
      if (k === 0) return -1;
      if (hashes[k - 1] === h && keys[k - 1] === s) return k - 1;
    }
  }

  /** The index of `s`, added when new. */
  intern(s: string): number {
    const h = hashOf(s);
    const found = this.find(s, h);
    return found >= 0 ? found : this.add(s, h);
  }

  private add(s: string, h: number): number {
    const index = this.keys.length;
    this.keys.push(s);
    if (index >= this.hashes.length) this.hashes = grownInt32(this.hashes, index + 1);
    this.hashes[index] = h;
    if (2 * (index + 1) > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(index);
    return index;
  }

  private place(index: number): void {
    const { slots, mask } = this;
    let i = spread(this.hashes[index]!) & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = index + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let index = 0; index < this.keys.length; index++) this.place(index);
  }
}

/** A copy of `a` with room for at least `n` elements (capacity grows by half). */
export const grownInt32 = (a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> => {
  const b = new Int32Array(Math.max(n, Math.ceil(a.length * 1.5), 16));
  b.set(a);
  return b;
};
export const grownFloat64 = (a: Float64Array<ArrayBuffer>, n: number, fill = 0): Float64Array<ArrayBuffer> => {
  const b = new Float64Array(Math.max(n, Math.ceil(a.length * 1.5), 16));
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
};
export const grownUint8 = (a: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> => {
  const b = new Uint8Array(Math.max(n, Math.ceil(a.length * 1.5), 16));
  b.set(a);
  return b;
};

/**
 * Sorts `ix`, indexes into `keys`, by their strings in the order `<` gives
 * (UTF-16 code units, a prefix first), with no comparison function: a
 * multikey quicksort, which reads each string a character at a time and
 * compares a common prefix once rather than at every comparison. Listing
 * a few hundred thousand ids sorted this way takes a fraction of a
 * comparator's time. Equal strings keep no particular order. The work waits
 * on a stack of its own, so no input can run out of call stack.
 */
export const sortByKey = (keys: ReadonlyArray<string>, ix: Int32Array): void => {
  /** The code unit of key `k` at `d`, -1 past its end. */
  const at = (k: number, d: number): number => {
    const s = keys[k]!;
    return d < s.length ? s.charCodeAt(d) : -1;
  };
  const swap = (a: number, b: number): void => {
    const x = ix[a]!;
    ix[a] = ix[b]!;
    ix[b] = x;
  };
  // Ranges [lo, hi) whose keys agree on their first d code units.
  let stack = new Int32Array(96);
  let top = 0;
  const push = (lo: number, hi: number, d: number): void => {
    if (hi - lo < 2) return;
    if (top + 3 > stack.length) stack = grownInt32(stack, top + 3);
    stack[top++] = lo;
    stack[top++] = hi;
    stack[top++] = d;
  };
  push(0, ix.length, 0);
  while (top > 0) {
    const d = stack[--top]!;
    const hi = stack[--top]!;
    const lo = stack[--top]!;
    if (hi - lo <= 8) {
      // A few: by insertion (they agree up to d, so comparing them whole is as good).
      for (let i = lo + 1; i < hi; i++) {
        const k = ix[i]!;
        const s = keys[k]!;
        let j = i - 1;
        for (; j >= lo && keys[ix[j]!]! > s; j--) ix[j + 1] = ix[j]!;
        ix[j + 1] = k;
      }
      continue;
    }
    // Three ways on the code unit at d: below, equal to and above the middle one's.
    const v = at(ix[(lo + hi) >>> 1]!, d);
    let lt = lo;
    let gt = hi - 1;
    for (let i = lo; i <= gt; ) {
      const c = at(ix[i]!, d);
      if (c < v) swap(lt++, i++);
      else if (c > v) swap(i, gt--);
      else i++;
    }
    push(lo, lt, d);
    push(gt + 1, hi, d);
    // Those equal at d go on to d + 1, unless they all ended there (equal strings).
    if (v >= 0) push(lt, gt + 1, d + 1);
  }
};
