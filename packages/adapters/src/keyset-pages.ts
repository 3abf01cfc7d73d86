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
const rows = <Row, Out>(options: KeysetPagesOptions<Row, Out>): AsyncIterableIterator<Out> => {
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

/**
 * What a read of the adapters' own stores hands over besides its events, one
 * by one: the same events a page at a time (`pagesOf`), for a layer above
 * (the sealing store) that works a page at a time and would otherwise pay for a
 * second async step per event.
 */
const PAGES: unique symbol = Symbol("linked-accounts.pages");
type Paged<Out> = AsyncIterable<Out> & { readonly [PAGES]?: () => AsyncIterable<ReadonlyArray<Out>> };

/** The rows of every page, each mapped as it is handed over, in key order; and the same a page at a time (`pagesOf`). */
export const keysetPages = <Row, Out>(options: KeysetPagesOptions<Row, Out>): AsyncIterableIterator<Out> =>
  Object.assign(rows(options), { [PAGES]: () => pages(options) });

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
    const page: Out[] = [];
    try {
      for (let i = 0; i < rows.length; i++) page.push(options.map(rows[i]!));
    } catch (error) {
      if (page.length > 0) yield page;
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
 * generator's `yield` costs one per event). A page may end with an error (the
 * event after its last one did not open): it is thrown after the page's
 * events, and the read ends there. Calls to `next` made at once are answered
 * in order; `return` ends the read and the pages'.
 */
export const eventsOfPages = <T>(pages: AsyncGenerator<{ readonly opened: ReadonlyArray<T>; readonly error?: unknown }>): AsyncIterableIterator<T> => {
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
          if (result.done === true) finished = true;
          else {
            page = result.value.opened;
            at = 0;
            if ("error" in result.value) failure = { error: result.value.error };
          }
        },
        (error: unknown) => {
          fetching = null;
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

