/**
 * A library state as plain, sorted data, so two states compare structurally
 * (`expect(snapshot(a)).toEqual(snapshot(b))`) whatever the maps' internal shape.
 */
import type { LibraryState } from "../library-state.js";
import type { CirculationState } from "../circulation.js";
import type { PersistentMap } from "../persistent-map.js";

const byKey = <A, B>(entries: Iterable<readonly [string, A]>, f: (a: A) => B): Array<[string, B]> =>
  [...entries].map(([k, v]): [string, B] => [k, f(v)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const sortedMap = <A>(map: PersistentMap<A>): Array<[string, A]> => byKey(map.entries(), (v) => v);

const circulation = (c: CirculationState) => ({
  loans: byKey(c.loans.entries(), (v) => v),
  holds: byKey(c.holds.entries(), (v) => v),
});

export interface StateSnapshot {
  readonly accounts: unknown;
  readonly accountsByBarcode: unknown;
  readonly phrases: unknown;
  readonly links: unknown;
  readonly activeLinksByPair: unknown;
  readonly circulation: unknown;
}

export const snapshot = (state: LibraryState): StateSnapshot => ({
  accounts: sortedMap(state.linking.accounts),
  accountsByBarcode: sortedMap(state.linking.accountsByBarcode),
  phrases: sortedMap(state.linking.phrases),
  links: sortedMap(state.linking.links),
  activeLinksByPair: byKey(state.linking.activeLinksByPair.entries(), (ids) => [...ids]),
  circulation: byKey(state.circulation.entries(), circulation),
});
