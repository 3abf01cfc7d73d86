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
 * What a read of the adapters' own stores hands over besides its events, one
 * by one: the same events a page at a time (`pagesOf`), for a layer above
 * (the sealing store) that works a page at a time and would otherwise pay for a
 * second async step per event.
 */
const PAGES: unique symbol = Symbol("linked-accounts.pages");
type Paged<Out> = AsyncIterable<Out> & { readonly [PAGES]?: () => AsyncIterable<ReadonlyArray<Out>> };

/**
 * The rows of every page, each mapped, in key order (`eventsOfPages` over the
 * pages: a row of a page in hand costs no await); and the same a page at a time
 * (`pagesOf`).
 */
export const keysetPages = <Row, Out>(options: KeysetPagesOptions<Row, Out>): AsyncIterableIterator<Out> =>
  Object.assign(eventsOfPages(pages(options)), { [PAGES]: () => pages(options) });

/**
 * The events of `events` a page at a time: the read's own pages when it has
 * them, else batches of `size` gathered from it. When an event fails to
 * decode, the page of those before it comes first, then the error.
 */
export async function* pagesOf<Out>(events: AsyncIterable<Out>, size: number): AsyncGenerator<ReadonlyArray<Out>> {
  const own = (events as Paged<Out>)[PAGES];
  if (own !== undefined) {
    yield* own();
    return;
  }
  let batch: Out[] = [];
  try {
    for await (const event of events) {
      batch.push(event);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
  } catch (error) {
    if (batch.length > 0) yield batch;
    throw error;
  }
  if (batch.length > 0) yield batch;
}

async function* pages<Row, Out>(options: KeysetPagesOptions<Row, Out>): AsyncGenerator<ReadonlyArray<Out>> {
  let next = options.from;
  let left = options.maxCount ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const size = Math.min(options.pageSize, left);
    const rows = await options.fetch(next, size);
    const page: Out[] = new Array(rows.length);
    let i = 0;
    try {
      for (; i < rows.length; i++) page[i] = options.map(rows[i]!);
    } catch (error) {
      // Every row before the one that does not map, then its error.
      if (i > 0) yield page.slice(0, i);
      throw error;
    }
    if (page.length > 0) yield page;
    const last = rows.at(-1);
    if (last === undefined || rows.length < size) return;
    left -= rows.length;
    next = options.keyOf(last) + 1n;
  }
}

/**
 * The events of pages, one by one: an event of a page in hand is handed over
 * in a promise already resolved, so only a page costs an await (an async
 * generator's `yield` costs one per event). When the pages fail (a fetch, or the
 * event after a page's last one), the error is thrown after every event before
 * it, and the read ends there. Calls to `next` made at once are answered in
 * order; `return` ends the read and the pages' (no page is fetched after).
 */
export const eventsOfPages = <T>(pages: AsyncGenerator<ReadonlyArray<T>>): AsyncIterableIterator<T> => {
  let page: ReadonlyArray<T> = [];
  let at = 0;
  let failure: { readonly error: unknown } | null = null;
  let finished = false;
  let fetching: Promise<unknown> | null = null;
  const iterator: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (fetching !== null) return fetching.then(() => iterator.next());
      if (at < page.length) return Promise.resolve({ done: false, value: page[at++]! });
      if (failure !== null) {
        const { error } = failure;
        failure = null;
        finished = true;
        return Promise.reject(error);
      }
      if (finished) return Promise.resolve(DONE);
      const fetched = pages.next().then(
        (result) => {
          fetching = null;
          if (finished) return; // ended while the page was on its way
          if (result.done === true) finished = true;
          else {
            page = result.value;
            at = 0;
          }
        },
        (error: unknown) => {
          fetching = null;
          if (finished) return;
          finished = true;
          failure = { error };
        },
      );
      fetching = fetched;
      return fetched.then(() => iterator.next());
    },
    async return(): Promise<IteratorResult<T>> {
      finished = true;
      page = [];
      failure = null;
      await pages.return(undefined);
      return DONE;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
};
