/** The three-line way in: fold a store's whole log into a read model and ask it. */
import { type AccessView, accessGraphProjection, accessNow } from "./access-graph.js";
import { type ReadModelsState, readModelsProjection } from "./read-models.js";
import { type EventSource, createRunner } from "./runner.js";

/** The access graph of everything `store` holds now (a one-off read; use `createRunner` to follow a store). */
export const accessGraphFrom = async (store: EventSource): Promise<AccessView> => {
  const runner = createRunner({ source: store, projection: accessGraphProjection, batchSize: 5000 });
  await runner.catchUp();
  return accessNow(runner.state());
};

/** All three read models over everything `store` holds now; ask them with `accessOf`, `linkedLoansOf`, `auditTimelineOf`. */
export const readModelsFrom = async (store: EventSource): Promise<ReadModelsState> => {
  const runner = createRunner({ source: store, projection: readModelsProjection, batchSize: 5000 });
  await runner.catchUp();
  return runner.state();
};
