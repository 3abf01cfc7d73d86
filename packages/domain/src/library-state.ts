/**
 * What a decision is made on: the linking facts and the circulation of the
 * accounts it read. The same fold serves a whole library (replays, property
 * tests) and the few events one command's query selected.
 */
import type { Id } from "./codec.js";
import { type CirculationState, evolveCirculation, initialCirculationState } from "./circulation.js";
import { type DomainEvent, isLinkingEvent } from "./events.js";
import { type LinkingState, evolveLinking, initialLinkingState } from "./linking-state.js";
import { PersistentMap } from "./persistent-map.js";

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
