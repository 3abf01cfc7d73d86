/**
 * Every change of the event schema since version 1, in order (see
 * `upcasting.ts`). `SCHEMA_VERSION` in events.ts is `schemaChanges.length + 1`.
 *
 * To change an event: add a `SchemaChange` reading the current version here, raise
 * `SCHEMA_VERSION`, change the codec, and test the change on an event of the
 * old version. Released changes are never edited: old exports depend on them.
 */
import type { Channel } from "./codec.js";
import type { RawObject, SchemaChange } from "./upcasting.js";

/**
 * The channel a version-1 event most likely came through, from its actor: the
 * library's staff act at the desk, the system on its own; for an account
 * (portal or app) version 1 did not record it, so `null` ("not recorded").
 */
export const channelOfVersion1 = (actor: unknown): Channel | null => {
  const kind = typeof actor === "object" && actor !== null ? (actor as RawObject)["kind"] : undefined;
  return kind === "staff" ? "desk" : kind === "system" ? "system" : null;
};

/** 1 → 2: metadata gains `channel`, which way the command came in (a patron may link in one and manage in another). */
const metadataChannel: SchemaChange = {
  from: 1,
  summary: 'Event metadata gains `channel`: "portal", "app", "desk", "system" or null (not recorded).',
  metadata: ({ metadata }) => ({ ...metadata, channel: channelOfVersion1(metadata["actor"]) }),
};

/**
 * 2 → 3: an event's personal fields (personal.ts) may be stored sealed, and a
 * barcode is tagged by its keyed hash. An event of version 2 is a valid event
 * of version 3 in the clear, so nothing about it changes.
 */
const personalFieldsSealed: SchemaChange = {
  from: 2,
  summary: "Personal fields (a barcode, titles and items, pickup branches, revocation reasons) may be stored sealed, under their subjects' keys; nothing else changed.",
};

export const schemaChanges: ReadonlyArray<SchemaChange> = [metadataChannel, personalFieldsSealed];
