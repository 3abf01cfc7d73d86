/**
 * The shape every command shares: its type, the command id (R15), the actor
 * the host authenticated, `now` from the host's clock (R14) and an optional
 * correlation id. Each command adds only what its decision needs.
 */
import * as t from "io-ts";
import { Actor, Id, IsoTime, Text } from "../codec.js";

export const command = <T extends string, P extends t.Props>(type: T, props: P) =>
  t.exact(
    t.intersection([
      t.type({ type: t.literal(type), commandId: Id, actor: Actor, now: IsoTime, ...props }),
      t.partial({ correlationId: t.union([Text("CorrelationId", 1, 200), t.null]) }),
    ]),
    type,
  );
