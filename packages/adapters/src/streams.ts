/**
 * Which stream each event lives in: the consistency boundaries.
 *
 * The linking context (accounts, phrases, connections, links) is one stream.
 * Its invariants span accounts: barcodes are unique, a failed guess counts
 * against both the issuer and the connector (R10), and a pair's links decide
 * whether a connection adds anything (R8). One stream makes every one of them
 * exact under concurrency through a single expected revision, which matters
 * most for lockouts: parallel guesses cannot slip past the count. It is
 * low-traffic (people link accounts rarely) and its state is folded
 * incrementally, so the cost is one serialised append per linking command.
 *
 * Each account's circulation (loans and holds, where the volume is) has its
 * own stream, so checkouts and renewals of different accounts never contend.
 */
import type { Id } from "@linked-accounts/domain";

export const LINKING_STREAM = "linking";

export const circulationStream = (accountId: Id): string => `circulation-${accountId}`;
