/**
 * Host inputs: what a host passes a command method. Each is an io-ts codec that
 * also refuses fields it does not know, naming them, so a misspelt field is
 * never silently dropped. Every input may carry the host's `commandId` (R15)
 * and `correlationId`.
 */
import * as t from "io-ts";
import { Id, Text } from "./codec.js";

const common = { commandId: Id, correlationId: t.union([Text("CorrelationId", 1, 200), t.null]) };

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u);

export type InputOf<R extends t.Props, O extends t.Props> = t.TypeOf<t.TypeC<R>> &
  Partial<t.TypeOf<t.TypeC<O>>> & { readonly commandId?: Id; readonly correlationId?: string | null };

/** An input codec: `required` and `optional` fields, and nothing else. */
export const input = <R extends t.Props, O extends t.Props = {}>(
  name: string,
  required: R,
  optional?: O,
): t.Type<InputOf<R, O>, unknown, unknown> => {
  const base = t.exact(t.intersection([t.type(required), t.partial({ ...common, ...(optional ?? {}) })]), name);
  const known = new Set([...Object.keys(required), ...Object.keys(optional ?? {}), ...Object.keys(common)]);
  const unknownField = new t.Type<never>(`no such field (${name} takes ${[...known].join(", ")})`, (_): _ is never => false, t.failure, t.identity);
  return new t.Type<InputOf<R, O>, unknown, unknown>(
    name,
    (u): u is InputOf<R, O> => base.is(u) && isRecord(u) && Object.keys(u).every((k) => known.has(k)),
    (u, c) => {
      if (isRecord(u)) {
        const extra = Object.keys(u).filter((k) => !known.has(k));
        if (extra.length > 0)
          return t.failures(extra.map((k) => ({ value: u[k], context: [...c, { key: k, type: unknownField, actual: u[k] }] })));
      }
      // The intersection named as the parent, so error paths skip its member indexes.
      return base.validate(u, t.appendContext(c, "", base, u)) as t.Validation<InputOf<R, O>>;
    },
    (a) => base.encode(a as never),
  );
};

/** An input's own fields, without the handler's `commandId` and `correlationId`. */
export const withoutCommonFields = <A extends { commandId?: unknown; correlationId?: unknown }>({
  commandId: _commandId,
  correlationId: _correlationId,
  ...rest
}: A): Omit<A, "commandId" | "correlationId"> => rest;
