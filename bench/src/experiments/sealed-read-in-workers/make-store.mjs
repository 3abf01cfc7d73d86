// Experiment (sealed reads in workers): writes a sealed SQLite store to read, through the sealing
// store, from the domain benchmark's synthetic history (about ten events per account, 60 % sealed).
// node bench/src/experiments/sealed-read-in-workers/make-store.mjs /tmp/somewhere/store.sqlite [events]
// Needs `npx tsc -b` first (it uses the bench's compiled history generator).
import { SCHEMA_VERSION, evolveLinking, initialLinkingState, isLinkingEvent, tagsOf } from "@linked-accounts/domain/internal";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { uuidV7 } from "../../../dist/deterministic.js";
import { syntheticHistory } from "../../../dist/domain.js";

const file = process.argv[2];
const count = Number(process.argv[3] ?? 100_000);
const start = Date.parse("2026-01-05T08:00:00.000Z");
let linking = initialLinkingState;
const { events } = syntheticHistory(count, Math.round(count / 10));
const store = await createSqliteEventStore({ path: file, durability: "normal" });
for (let i = 0; i < events.length; i += 1000) {
  const batch = events.slice(i, i + 1000).map((event, j) => {
    const at = start + (i + j) * 400;
    const tags = tagsOf(event, linking);
    if (isLinkingEvent(event)) linking = evolveLinking(linking, event);
    const metadata = { eventId: uuidV7(at, i + j), schemaVersion: SCHEMA_VERSION, occurredAt: new Date(at).toISOString(), actor: { kind: "system" }, channel: "system", correlationId: null, causationId: null };
    return { ...event, metadata, tags };
  });
  await store.append(batch);
}
console.log(`${file}: ${await store.head()} events`);
await store.close();
