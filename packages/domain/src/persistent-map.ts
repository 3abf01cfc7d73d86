/**
 * A persistent (immutable) hash map: `set` returns a new map and leaves the old one
 * untouched, sharing every node it did not change. It lets `evolve` stay pure over
 * a state that holds every account of a library without copying it per event:
 * each update copies one path of at most seven small nodes (a hash array mapped
 * trie, 32-way, keyed by string).
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

/** Every leaf under `node`, into `out` (no generator: a bulk build walks a whole map). */
const collectLeaves = <V>(node: Node<V>, out: Array<Leaf<V>>): void => {
  if (isLeaf(node)) out.push(node);
  else if (isBranch(node)) for (const child of node.children) collectLeaves(child, out);
  else for (const leaf of node.leaves) out.push(leaf);
};

/** A branch over `leaves` (distinct keys) at `shift`, children in fragment order. */
const branchOver = <V>(leaves: ReadonlyArray<Leaf<V>>, shift: number): Branch<V> => {
  const buckets: Array<Array<Leaf<V>> | undefined> = [];
  let bitmap = 0;
  for (const leaf of leaves) {
    const f = fragment(leaf.hash, shift);
    const bucket = buckets[f];
    if (bucket === undefined) buckets[f] = [leaf];
    else bucket.push(leaf);
    bitmap |= 1 << f;
  }
  const children: Array<Node<V>> = [];
  for (let f = 0; f <= MASK; f++) {
    const bucket = buckets[f];
    if (bucket !== undefined) children.push(nodeOver(bucket, shift + BITS));
  }
  return { tag: 1, bitmap, children };
};

/**
 * The node holding `leaves` (at least one, distinct keys) below a branch:
 * exactly the node `insert` makes for them, whatever their order (a lone leaf;
 * a collision where every hash is one; else a branch splitting them by fragment).
 */
const nodeOver = <V>(leaves: ReadonlyArray<Leaf<V>>, shift: number): Node<V> => {
  const first = leaves[0]!;
  if (leaves.length === 1) return first;
  if (leaves.every((l) => l.hash === first.hash)) return { tag: 2, hash: first.hash, leaves };
  return branchOver(leaves, shift);
};

/** The persistent map's insides, for `setAll` in this module only. */
let rootOf!: <V>(map: PersistentMap<V>) => Node<V>;
let mapOf!: <V>(root: Node<V>, size: number) => PersistentMap<V>;

export class PersistentMap<V> {
  static {
    rootOf = (map) => map.root;
    mapOf = (root, size) => new PersistentMap(root, size);
  }

  private constructor(
    private readonly root: Node<V>,
    readonly size: number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(EMPTY_ROOT, 0);
  }

  get(key: string): V | undefined {
    return lookup(this.root, hashOf(key), key, 0);
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
    return this.setHashed(key, hash, f(lookup(this.root, hash, key, 0)));
  }

  private setHashed(key: string, hash: number, value: V): PersistentMap<V> {
    const out: Added = { added: false };
    const root = insert(this.root, { tag: 0, key, hash, value }, 0, out);
    return root === this.root ? this : new PersistentMap(root, out.added ? this.size + 1 : this.size);
  }

  *entries(): Generator<readonly [string, V]> {
    for (const leaf of leavesOf(this.root)) yield [leaf.key, leaf.value] as const;
  }

  *values(): Generator<V> {
    for (const leaf of leavesOf(this.root)) yield leaf.value;
  }
}

/**
 * `base` with every entry of `changes` set, as `set` one after the other would
 * give (the same entries, the same trie), `base` unchanged. A few changes are
 * path-copied into `base`; many (an eighth of its size or more) are built in
 * one pass over every leaf, with no node copied per change.
 */
export const setAll = <V>(base: PersistentMap<V>, changes: ReadonlyMap<string, V>): PersistentMap<V> => {
  if (changes.size === 0) return base;
  if (changes.size * 8 < base.size) {
    let map = base;
    for (const [key, value] of changes) map = map.set(key, value);
    return map;
  }
  const leaves: Array<Leaf<V>> = [];
  if (base.size > 0) {
    const kept: Array<Leaf<V>> = [];
    collectLeaves(rootOf(base), kept);
    for (const leaf of kept) if (!changes.has(leaf.key)) leaves.push(leaf);
  }
  for (const [key, value] of changes) leaves.push({ tag: 0, key, hash: hashOf(key), value });
  // The root is a branch however few its leaves, as `insert` leaves it.
  return mapOf(branchOver(leaves, 0), leaves.length);
};

/**
 * A transient builder over a persistent map, for one replay: it answers like
 * the map it started from with every change made so far, keeps its changes in
 * a plain `Map` (no path copying per change), and `build()` writes them into
 * the persistent map once (`setAll`). The map it started from is never
 * changed. It is mutable: it must not outlive the replay that made it (see
 * `evolveLibraryAll`).
 *
 * It offers the methods `evolve` uses (`get`, `has`, `set`, `update`), each
 * returning the builder itself where the persistent map returns a new map.
 */
export class PersistentMapBuilder<V> {
  private readonly changes = new Map<string, V>();
  private added = 0;

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
    if (value !== undefined && !this.changes.has(key) && (this.base.size === 0 || this.base.get(key) === undefined)) this.added++;
    this.changes.set(key, value);
    return this;
  }

  update(key: string, f: (current: V | undefined) => V): this {
    return this.set(key, f(this.get(key)));
  }

  /** The persistent map with every change; the builder must not be used after. */
  build(): PersistentMap<V> {
    return setAll(this.base, this.changes);
  }
}
