/**
 * The tags the domain gives each event, for a history kept without them (an
 * export of schema version 1 carries none): what its commands would have
 * stored it under, so that a store it is copied into finds it as its own. A
 * revocation is tagged with its link's two accounts (whose keys seal its
 * reason), so the tagger remembers each link's parties as the events go by.
 */
import {
  type DomainEvent,
  type Id,
  type LinkingState,
  type Tag,
  accountTag,
  isWithheld,
  tagsOf,
} from "@linked-accounts/domain/internal";

/** A tagger over one history, in order: `tag(event)` for each event. */
export const domainTagger = (): ((event: DomainEvent) => ReadonlyArray<Tag>) => {
  const links = new Map<Id, { readonly linkId: Id; readonly issuerAccountId: Id; readonly connectedAccountId: Id }>();
  // `tagsOf` reads only the revoked link's parties from the state it was decided on.
  const state = { links: { get: (id: Id) => links.get(id) } } as unknown as LinkingState;
  return (event) => {
    switch (event.type) {
      case "AccountConnected": {
        const { linkId, issuerAccountId, connectedAccountId } = event.data;
        if (!links.has(linkId)) links.set(linkId, { linkId, issuerAccountId, connectedAccountId });
        break;
      }
      case "AccountRegistered":
        // An erased barcode is no barcode to be found by.
        if (isWithheld(event.data.barcode)) return [accountTag(event.data.accountId)];
        break;
      case "LinkRevoked":
        // A link this history never connected: only its own tag (a store then refuses to seal its reason, saying why).
        if (!links.has(event.data.linkId)) return [`link:${event.data.linkId}`];
        break;
      default:
        break;
    }
    return tagsOf(event, state);
  };
};
