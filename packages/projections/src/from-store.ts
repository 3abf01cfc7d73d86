/** The three-line way in: fold a store's whole log into a read model and ask it. */
import { type Policy, defaultPolicy } from "@linked-accounts/domain";
import { type AccessView, accessGraphProjectionUnder, accessNow } from "./access-graph.js";
import { type ReadModelsState, readModelsProjectionUnder } from "./read-models.js";
import { type EventSource, createRunner } from "./runner.js";

/**
 * The access graph of everything `store` holds now (a one-off read; use `createRunner` to follow a store),
 * answering under `policy` (pass the one the host's commands are decided under).
 */
export const accessGraphFrom = async (store: EventSource, policy: Policy = defaultPolicy): Promise<AccessView> => {
  const runner = createRunner({ source: store, projection: accessGraphProjectionUnder(policy), batchSize: 5000 });
  await runner.catchUp();
  return accessNow(runner.state());
};

/** All three read models over everything `store` holds now; ask them with `accessOf`, `linkedLoansOf`, `auditTimelineOf`. */
export const readModelsFrom = async (store: EventSource, policy: Policy = defaultPolicy): Promise<ReadModelsState> => {
  const runner = createRunner({ source: store, projection: readModelsProjectionUnder(policy), batchSize: 5000 });
  await runner.catchUp();
  return runner.state();
};
