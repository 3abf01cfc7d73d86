/**
 * How the SQL stores read: in keyset pages. Each page starts just after the
 * last key of the one before, so no page holds a read open for long and no
 * offset is ever scanned; a page shorter than asked for ends the read.
 */
export interface KeysetPagesOptions<Row, Out> {
  /** One page of at most `size` rows with keys from `from` on, in key order. */
  readonly fetch: (from: bigint, size: number) => ReadonlyArray<Row> | Promise<ReadonlyArray<Row>>;
  readonly keyOf: (row: Row) => bigint;
  readonly from: bigint;
  readonly pageSize: number;
  /** Stop after this many rows (default: all). */
  readonly maxCount?: number;
  /**
   * What each row is yielded as (its decoding), applied as it is yielded, so a
   * row that fails stops the read there, after every row before it.
   */
  readonly map: (row: Row) => Out;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The rows of every page, each mapped as it is handed over, in key order.
 *
 * An iterator of its own rather than an async generator: a generator's `yield`
 * costs an await and a promise of its own per row, a fifth of reading a row
 * from SQLite. Here a row already fetched is handed over in a promise already
 * resolved; only a page's fetch waits. It behaves as the generator did: calls
 * to `next` are answered in the order made, even while a page is on its way;
 * the first error (a fetch that fails, a row that does not map) is the answer
 * to the `next` that met it, and every `next` after it answers done; `return`
 * (a `break` out of `for await`) ends it, and no page is fetched after.
 */
export const keysetPages = <Row, Out>(options: KeysetPagesOptions<Row, Out>): AsyncIterableIterator<Out> => {
  let next = options.from;
  let left = options.maxCount ?? Number.POSITIVE_INFINITY;
  let rows: ReadonlyArray<Row> = [];
  let at = 0;
  /** No page after the one in hand: it was short, the count is reached, or the read failed or was ended. */
  let last = left <= 0;
  let finished = false;
  /** The page being fetched; a `next` made meanwhile waits for it. */
  let fetching: Promise<void> | null = null;
  /** A fetch's failure, kept for the `next` that asked for the page (once). */
  let failure: { readonly error: unknown } | null = null;

  const fetchPage = async (): Promise<void> => {
    const size = Math.min(options.pageSize, left);
    const page = await options.fetch(next, size);
    if (finished) return; // ended while the page was on its way
    rows = page;
    at = 0;
    const final = page.at(-1);
    if (final === undefined || page.length < size) last = true;
    else {
      left -= page.length;
      if (left <= 0) last = true;
      next = options.keyOf(final) + 1n;
    }
  };

  /** The next answer when it can be given now; undefined when a page must be fetched first. */
  const step = (): IteratorResult<Out> | undefined => {
    if (finished) return DONE;
    if (at < rows.length) {
      const row = rows[at++]!;
      try {
        return { done: false, value: options.map(row) };
      } catch (error) {
        finish();
        throw error;
      }
    }
    if (last) {
      finish();
      return DONE;
    }
    return undefined;
  };

  const finish = (): void => {
    finished = true;
    rows = [];
    at = 0;
  };

  const iterator: AsyncIterableIterator<Out> = {
    next(): Promise<IteratorResult<Out>> {
      if (fetching !== null) return fetching.then(() => iterator.next());
      let answer: IteratorResult<Out> | undefined;
      try {
        answer = step();
      } catch (error) {
        return Promise.reject(error);
      }
      if (answer !== undefined) return Promise.resolve(answer);
      const page = fetchPage().then(
        () => {
          fetching = null;
        },
        (error: unknown) => {
          fetching = null;
          if (!finished) {
            finish();
            failure = { error };
          }
        },
      );
      fetching = page;
      return page.then(() => {
        if (failure !== null) {
          const { error } = failure;
          failure = null;
          throw error;
        }
        return iterator.next();
      });
    },
    return(): Promise<IteratorResult<Out>> {
      finish();
      return Promise.resolve(DONE);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
};
