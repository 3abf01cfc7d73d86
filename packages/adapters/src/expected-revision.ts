/** The one rule every store checks an append against, written once. */
import type { ExpectedRevision } from "./event-store.js";

/** Whether `expected` holds for a stream whose last revision is `current` (undefined: no such stream). */
export const expectationHolds = (expected: ExpectedRevision, current: bigint | undefined): boolean => {
  switch (expected) {
    case "any":
      return true;
    case "no-stream":
      return current === undefined;
    case "stream-exists":
      return current !== undefined;
    default:
      return current === expected;
  }
};
