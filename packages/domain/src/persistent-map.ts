/**
 * A persistent (immutable) hash map: `set` returns a new map and leaves the old one
 * untouched, sharing every node it did not change. It lets `evolve` stay pure over
 * a state that holds every account of a library without copying it per event:
 * each update copies one path of at most seven small nodes (a hash array mapped
 * trie, 32-way, keyed by string). A replay hands out maps whose entries sit in a
 * built-in `Map` no one writes (see `PersistentMap`), so deciding on a replayed
 * state looks a key up with one `Map.get`.
 */

// Each node carries a numeric `tag` first: telling the three kinds apart by a
// field read stays fast where an `in` check goes megamorphic (the maps hold many
// value types).
interface Leaf<V> {
  readonly tag: 0;
  readonly key: string;
  readonly hash: number;
  readonly value: V;
}
interface Branch<V> {
  readonly tag: 1;
  readonly bitmap: number;
  readonly children: ReadonlyArray<Node<V>>;
}
/** Keys whose 32-bit hashes collide entirely. */
interface Collision<V> {
  readonly tag: 2;
  readonly hash: number;
  readonly leaves: ReadonlyArray<Leaf<V>>;
}
type Node<V> = Leaf<V> | Branch<V> | Collision<V>;

const BITS = 5;
const MASK = (1 << BITS) - 1;

const isLeaf = <V>(n: Node<V>): n is Leaf<V> => n.tag === 0;
const isBranch = <V>(n: Node<V>): n is Branch<V> => n.tag === 1;

/** FNV-1a over UTF-16 code units: fast, deterministic, good enough for short ids. */
const hashOf = (key: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

const popcount = (x: number): number => {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
};

const fragment = (hash: number, shift: number): number => (hash >>> shift) & MASK;

const lookup = <V>(node: Node<V>, hash: number, key: string, shift: number): V | undefined => {
  for (;;) {
    if (isLeaf(node)) return node.key === key ? node.value : undefined;
    if (!isBranch(node)) return node.leaves.find((l) => l.key === key)?.value;
    const bit = 1 << fragment(hash, shift);
    if ((node.bitmap & bit) === 0) return undefined;
    node = node.children[popcount(node.bitmap & (bit - 1))]!;
    shift += BITS;
  }
};

/** A branch holding two nodes whose hashes differ (recursing while their fragments agree). */
const pair = <V>(a: Node<V>, aHash: number, b: Leaf<V>, shift: number): Node<V> => {
  if (shift >= 32) return { tag: 2, hash: aHash, leaves: [...(isLeaf(a) ? [a] : (a as Collision<V>).leaves), b] };
  const fa = fragment(aHash, shift);
  const fb = fragment(b.hash, shift);
  if (fa === fb) return { tag: 1, bitmap: 1 << fa, children: [pair(a, aHash, b, shift + BITS)] };
  return { tag: 1, bitmap: (1 << fa) | (1 << fb), children: fa < fb ? [a, b] : [b, a] };
};

/** Whether the last `insert` added a key (rather than replacing one): saves a second walk. */
interface Added {
  added: boolean;
}

/** Returns the same node when nothing changed, so callers can keep their identity. */
const insert = <V>(node: Node<V>, leaf: Leaf<V>, shift: number, out: Added): Node<V> => {
  if (isLeaf(node)) {
    if (node.key === leaf.key) return node.value === leaf.value ? node : leaf;
    out.added = true;
    if (node.hash === leaf.hash) return { tag: 2, hash: leaf.hash, leaves: [node, leaf] };
    return pair(node, node.hash, leaf, shift);
  }
  if (!isBranch(node)) {
    if (node.hash !== leaf.hash) {
      out.added = true;
      return pair(node, node.hash, leaf, shift);
    }
    const i = node.leaves.findIndex((l) => l.key === leaf.key);
    if (i < 0) {
      out.added = true;
      return { tag: 2, hash: node.hash, leaves: [...node.leaves, leaf] };
    }
    const leaves = node.leaves.slice();
    leaves[i] = leaf;
    return { tag: 2, hash: node.hash, leaves };
  }
  const bit = 1 << fragment(leaf.hash, shift);
  const index = popcount(node.bitmap & (bit - 1));
  if ((node.bitmap & bit) === 0) {
    out.added = true;
    const children = node.children.slice();
    children.splice(index, 0, leaf);
    return { tag: 1, bitmap: node.bitmap | bit, children };
  }
  const child = node.children[index]!;
  const updated = insert(child, leaf, shift + BITS, out);
  if (updated === child) return node;
  const children = node.children.slice();
  children[index] = updated;
  return { tag: 1, bitmap: node.bitmap, children };
};

function* leavesOf<V>(node: Node<V>): Generator<Leaf<V>> {
  if (isLeaf(node)) yield node;
  else if (isBranch(node)) for (const child of node.children) yield* leavesOf(child);
  else yield* node.leaves;
}

const EMPTY_ROOT: Branch<never> = { tag: 1, bitmap: 0, children: [] };

/** Makes a persistent map, for `setAll` and the builder in this module only. */
let mapOf!: <V>(base: ReadonlyMap<string, V> | null, root: Node<V>, overlaySize: number, size: number) => PersistentMap<V>;

/**
 * A persistent map is either a trie alone, or (what a replay hands out) a
 * built-in `Map` this module made and never writes again, its base, under a
 * trie of the entries set since, its overlay. A lookup in a replayed state is
 * then one `Map.get` (the overlay is empty) instead of a walk down the trie.
 * A `set` never touches the base: it goes into the overlay, and when the
 * overlay outgrows the base both are copied into a new base (so a set costs
 * amortised one copied entry, and a lookup at most a trie walk and a `Map.get`).
 *
 * Its iteration order is not specified (today: the base's entries in the order
 * they were added, then the overlay's in trie order). Two maps with the same
 * entries may iterate them in different orders; sort when order matters.
 */
export class PersistentMap<V> {
  static {
    mapOf = (base, root, overlaySize, size) => new PersistentMap(base, root, overlaySize, size);
  }

  private constructor(
    /** Never written once a map holds it; null: none. */
    private readonly base: ReadonlyMap<string, V> | null,
    /** The entries set over the base (or every entry, without one). */
    private readonly root: Node<V>,
    private readonly overlaySize: number,
    readonly size: number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(null, EMPTY_ROOT, 0, 0);
  }

  get(key: string): V | undefined {
    if (this.overlaySize !== 0) {
      const value = lookup(this.root, hashOf(key), key, 0);
      if (value !== undefined || this.base === null) return value;
    }
    return this.base === null ? undefined : this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** A map with `key` bound to `value`; `this` is unchanged. `undefined` values are not stored. */
  set(key: string, value: V): PersistentMap<V> {
    return this.setHashed(key, hashOf(key), value);
  }

  /** A map with `key` bound to `f(current)`; `this` is unchanged. The key is hashed once. */
  update(key: string, f: (current: V | undefined) => V): PersistentMap<V> {
    const hash = hashOf(key);
    return this.setHashed(key, hash, f(this.getHashed(key, hash)));
  }

  private getHashed(key: string, hash: number): V | undefined {
    if (this.overlaySize !== 0) {
      const value = lookup(this.root, hash, key, 0);
      if (value !== undefined || this.base === null) return value;
    }
    return this.base === null ? undefined : this.base.get(key);
  }

  private setHashed(key: string, hash: number, value: V): PersistentMap<V> {
    if (value === undefined) return this;
    if (this.base !== null && this.getHashed(key, hash) === value) return this;
    const out: Added = { added: false };
    const root = insert(this.root, { tag: 0, key, hash, value }, 0, out);
    if (root === this.root) return this;
    const { base } = this;
    if (base === null) return new PersistentMap(null, root, out.added ? this.overlaySize + 1 : this.overlaySize, out.added ? this.size + 1 : this.size);
    // Over a base: a key new to the overlay may still be in the base (then the size stays).
    if (!out.added) return new PersistentMap(base, root, this.overlaySize, this.size);
    const overlaySize = this.overlaySize + 1;
    const size = base.has(key) ? this.size : this.size + 1;
    if (overlaySize <= base.size) return new PersistentMap(base, root, overlaySize, size);
    const merged = new Map(base);
    collectInto(root, merged);
    return new PersistentMap(merged, EMPTY_ROOT, 0, merged.size);
  }

  *entries(): Generator<readonly [string, V]> {
    const { base, root, overlaySize } = this;
    if (base === null) {
      for (const leaf of leavesOf(root)) yield [leaf.key, leaf.value] as const;
      return;
    }
    if (overlaySize === 0) {
      for (const [key, value] of base) yield [key, value] as const;
      return;
    }
    for (const [key, value] of base) yield [key, lookup(root, hashOf(key), key, 0) ?? value] as const;
    for (const leaf of leavesOf(root)) if (!base.has(leaf.key)) yield [leaf.key, leaf.value] as const;
  }

  *values(): Generator<V> {
    for (const [, value] of this.entries()) yield value;
  }
}

/** Every entry of the trie under `node`, set into `map`. */
const collectInto = <V>(node: Node<V>, map: Map<string, V>): void => {
  if (isLeaf(node)) map.set(node.key, node.value);
  else if (isBranch(node)) for (const child of node.children) collectInto(child, map);
  else for (const leaf of node.leaves) map.set(leaf.key, leaf.value);
};

/**
 * `base` with every entry of `changes` set: the same entries, size and answers
 * as `set` one after the other would give, `base` unchanged (the order of
 * iteration may differ: see `PersistentMap`). A few changes (fewer than an
 * eighth of `base`) are set one by one into its overlay; many are copied, with
 * `base`, into a new built-in map, its base, in one pass.
 */
export const setAll = <V>(base: PersistentMap<V>, changes: ReadonlyMap<string, V>): PersistentMap<V> =>
  changes.size === 0 ? base : changes.size * 8 < base.size ? setEach(base, changes) : merged(base, new Map(changes));

/**
 * `setAll` for a `changes` map the caller made and hands over: no one may hold
 * it or write it after this call (it may become the new map's base, uncopied).
 * For a replay that built its changes in a `Map` of its own.
 */
export const setAllTaking = <V>(base: PersistentMap<V>, changes: Map<string, V>): PersistentMap<V> =>
  changes.size === 0 ? base : changes.size * 8 < base.size ? setEach(base, changes) : merged(base, changes);

const setEach = <V>(base: PersistentMap<V>, changes: ReadonlyMap<string, V>): PersistentMap<V> => {
  let map = base;
  for (const [key, value] of changes) map = map.set(key, value);
  return map;
};

/**
 * `base` with `changes` set, as a map with a base and no overlay: `changes`
 * itself when `base` is empty, else a copy of `base`'s entries followed by the
 * new keys. `changes` must be a map no one else holds or will ever write: it
 * may become the new map's base.
 */
const merged = <V>(base: PersistentMap<V>, changes: Map<string, V>): PersistentMap<V> => {
  for (const [key, value] of changes) if (value === undefined) changes.delete(key);
  if (base.size === 0) return mapOf(changes, EMPTY_ROOT, 0, changes.size);
  const all = new Map<string, V>(base.entries());
  for (const [key, value] of changes) all.set(key, value);
  return mapOf(all, EMPTY_ROOT, 0, all.size);
};

/**
 * A transient builder over a persistent map, for one replay: it answers like
 * the map it started from with every change made so far, keeps its changes in
 * a plain `Map` (no path copying per change), and `build()` makes the
 * persistent map once: with few changes, set into the map it started from;
 * with many, the changes' own `Map` becomes the new map's base (copied with
 * the old entries when there were any). The map it started from is never
 * changed. It is mutable: it must not outlive the replay that made it, and
 * must not be used after `build()` (see `evolveLibraryAll`).
 *
 * It offers the methods `evolve` uses (`get`, `has`, `set`, `update`), each
 * returning the builder itself where the persistent map returns a new map.
 */
export class PersistentMapBuilder<V> {
  private readonly changes = new Map<string, V>();
  private added = 0;
  private built = false;

  constructor(private readonly base: PersistentMap<V>) {}

  get size(): number {
    return this.base.size + this.added;
  }

  get(key: string): V | undefined {
    const changed = this.changes.get(key);
    return changed !== undefined || this.base.size === 0 ? changed : this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): this {
    if (this.built) throw new Error("PersistentMapBuilder: set after build()");
    if (value === undefined) return this;
    const { changes } = this;
    const before = changes.size;
    // A key new to the changes (the Map grew) is new to the map unless the base has it.
    if (changes.set(key, value).size !== before && (this.base.size === 0 || this.base.get(key) === undefined)) this.added++;
    return this;
  }

  update(key: string, f: (current: V | undefined) => V): this {
    return this.set(key, f(this.get(key)));
  }

  /** The persistent map with every change; the builder must not be used after. */
  build(): PersistentMap<V> {
    this.built = true;
    return setAllTaking(this.base, this.changes);
  }
}
