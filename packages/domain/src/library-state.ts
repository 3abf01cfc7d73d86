/**
 * What a decision is made on: the linking facts and the circulation of the
 * accounts it read. The same fold serves a whole library (replays, property
 * tests) and the few events one command's query selected.
 */
import type { Id } from "./codec.js";
import { type CirculationState, CirculationReplay, evolveCirculation, initialCirculationState } from "./circulation.js";
import { type DomainEvent, isLinkingEvent } from "./events.js";
import { type LinkingState, evolveLinking, initialLinkingState } from "./linking-state.js";
import { PersistentMap, PersistentMapBuilder, setAllTaking } from "./persistent-map.js";

export interface LibraryState {
  readonly linking: LinkingState;
  readonly circulation: PersistentMap<CirculationState>;
}

export const initialLibraryState: LibraryState = { linking: initialLinkingState, circulation: PersistentMap.empty() };

export const circulationOf = (state: LibraryState, accountId: Id): CirculationState =>
  state.circulation.get(accountId) ?? initialCirculationState;

export const evolveLibrary = (state: LibraryState, event: DomainEvent): LibraryState =>
  isLinkingEvent(event)
    ? { ...state, linking: evolveLinking(state.linking, event) }
    : {
        ...state,
        circulation: state.circulation.update(event.data.accountId, (current = initialCirculationState) =>
          evolveCirculation(current, event),
        ),
      };

/** A builder standing in for a persistent map inside one replay (it has every method `evolve` calls on one). */
const transient = <V>(map: PersistentMap<V>) => new PersistentMapBuilder(map);
const asMap = <V>(builder: PersistentMapBuilder<V>): PersistentMap<V> => builder as unknown as PersistentMap<V>;

/**
 * Folds `events` from `state`: the same result as `evolveLibrary` event by event
 * (the property tests hold them equal), faster, for a replay of a whole history.
 * The linking events go through the very same `evolveLinking`, over a state
 * whose maps are transient builders made here; the circulation events through
 * `CirculationReplay`, which decides as `evolveCirculation` does but writes into
 * maps of its own. Everything is turned into persistent maps before returning
 * (a replay's own `Map`s become their bases, uncopied when the replay started
 * from empty maps), so no map is copied per event. Neither `state` nor
 * anything in it is changed, and nothing mutable made here is reachable by
 * anyone until the replay is over, and never written after: from outside, a
 * pure function of its inputs.
 */
export const evolveLibraryAll = (state: LibraryState, events: Iterable<DomainEvent>): LibraryState => {
  const { linking: start } = state;
  const builders = {
    accounts: transient(start.accounts),
    accountsByBarcode: transient(start.accountsByBarcode),
    phrases: transient(start.phrases),
    links: transient(start.links),
    activeLinksByPair: transient(start.activeLinksByPair),
  };
  const circulation = new CirculationReplay((accountId) => state.circulation.get(accountId));
  let linking: LinkingState = {
    accounts: asMap(builders.accounts),
    accountsByBarcode: asMap(builders.accountsByBarcode),
    phrases: asMap(builders.phrases),
    links: asMap(builders.links),
    activeLinksByPair: asMap(builders.activeLinksByPair),
  };
  for (const event of events) {
    if (isLinkingEvent(event)) linking = evolveLinking(linking, event);
    else circulation.apply(event);
  }
  // evolveLinking only ever sets a map field to what the map's own methods return: the builders themselves.
  for (const key of Object.keys(builders) as Array<keyof typeof builders>)
    if ((linking[key] as unknown) !== builders[key]) throw new Error(`evolveLibraryAll: linking.${key} was replaced during the replay`);
  return {
    ...state,
    linking: {
      ...linking,
      accounts: builders.accounts.build(),
      accountsByBarcode: builders.accountsByBarcode.build(),
      phrases: builders.phrases.build(),
      links: builders.links.build(),
      activeLinksByPair: builders.activeLinksByPair.build(),
    },
    circulation: setAllTaking(state.circulation, circulation.done()),
  };
};
