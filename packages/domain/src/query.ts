/**
 * What a decision reads: a query over event types and tags (the Dynamic
 * Consistency Boundary model). A command's consistency boundary is exactly the
 * query it decided on; its append is conditional on nothing matching that query
 * having been stored since (R13, R16).
 */
import type { EventType } from "./events.js";

/** A label an event is indexed by, such as `account:A1` or `pair:A1 B2`. */
export type Tag = string;

/**
 * An event matches an item when its type is one of `types` (or `types` is
 * absent) and it carries every tag of `tags` (or `tags` is absent).
 */
export interface QueryItem {
  readonly types?: ReadonlyArray<EventType>;
  readonly tags?: ReadonlyArray<Tag>;
}

/** An event matches a query when it matches at least one item; no items match nothing. */
export interface Query {
  readonly items: ReadonlyArray<QueryItem>;
}

export const everything: Query = { items: [{}] };
export const nothingAtAll: Query = { items: [] };

const matchesItem = (item: QueryItem, type: string, tags: ReadonlyArray<Tag>): boolean =>
  (item.types === undefined || (item.types as ReadonlyArray<string>).includes(type)) &&
  (item.tags === undefined || item.tags.every((tag) => tags.includes(tag)));

export const matchesQuery = (query: Query, event: { readonly type: string; readonly tags: ReadonlyArray<Tag> }): boolean =>
  query.items.some((item) => matchesItem(item, event.type, event.tags));

/** Both queries' items, each once (compared by their sorted types and tags). */
export const unionOf = (...queries: ReadonlyArray<Query>): Query => {
  const seen = new Set<string>();
  const items: QueryItem[] = [];
  for (const query of queries)
    for (const item of query.items) {
      const key = `${[...(item.types ?? ["*"])].sort().join(",")}|${[...(item.tags ?? [])].sort().join(",")}`;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push(item);
    }
  return { items };
};

/** Whether every item of `inner` is also an item of `outer`: reading `outer` read all `inner` asks for. */
export const covers = (outer: Query, inner: Query): boolean => unionOf(outer, inner).items.length === unionOf(outer).items.length;

/** Whether every event `inner` selects, `outer` selects too (each item of `inner` within one item of `outer`). */
export const selectsWithin = (inner: Query, outer: Query): boolean =>
  inner.items.every((i) =>
    outer.items.some(
      (o) =>
        (o.types === undefined || (i.types !== undefined && i.types.every((type) => o.types!.includes(type)))) &&
        (o.tags ?? []).every((tag) => (i.tags ?? []).includes(tag)),
    ),
  );
