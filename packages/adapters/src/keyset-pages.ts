/**
 * How the SQL stores read: in keyset pages. Each page starts just after the
 * last key of the one before, so no page holds a read open for long and no
 * offset is ever scanned; a page shorter than asked for ends the read.
 */
export async function* keysetPages<Row, Out>(options: {
  /** One page of at most `size` rows with keys from `from` on, in key order. */
  readonly fetch: (from: bigint, size: number) => ReadonlyArray<Row> | Promise<ReadonlyArray<Row>>;
  readonly keyOf: (row: Row) => bigint;
  readonly from: bigint;
  readonly pageSize: number;
  /** Stop after this many rows (default: all). */
  readonly maxCount?: number;
  /**
   * What each row is yielded as (its decoding), applied as it is yielded, so a
   * row that fails stops the read there, after every row before it. Done here
   * rather than in a second generator: each layer of async generator costs a
   * promise per row.
   */
  readonly map: (row: Row) => Out;
}): AsyncGenerator<Out> {
  let next = options.from;
  let left = options.maxCount ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const size = Math.min(options.pageSize, left);
    const rows = await options.fetch(next, size);
    for (let i = 0; i < rows.length; i++) yield options.map(rows[i]!);
    const last = rows.at(-1);
    if (last === undefined || rows.length < size) return;
    left -= rows.length;
    next = options.keyOf(last) + 1n;
  }
}
