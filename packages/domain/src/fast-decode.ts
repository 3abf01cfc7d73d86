/**
 * A fast validity check compiled once from an io-ts codec: plain JavaScript,
 * generated from the codec's own structure, so it can never drift from it.
 *
 * io-ts decoding allocates a context per field and an Either per value; on a
 * store's read path, where nearly every event is valid, that is most of the
 * cost of reading. The compiled check answers, without allocating:
 *
 * - `INVALID` (0): the codec refuses the value;
 * - `SAME` (1): the codec accepts it and would return the very value given
 *   (nothing stripped, nothing copied): the caller may use it as it is;
 * - `COPY` (2): the codec accepts it but would return a copy (an exact type
 *   with keys it strips).
 *
 * Only `SAME` is a fast answer. On `INVALID` or `COPY` the caller decodes with
 * io-ts, which builds the error message naming the field, or the stripped copy;
 * so the outcome is always exactly what io-ts alone would give.
 *
 * Supported: exact and plain `t.type`, unions (tagged or not: the first member
 * that accepts decides, as io-ts does), literals, keyof, string, boolean, null,
 * and leaf codecs built with `new t.Type` (the library's refinements: `matching`,
 * `IsoTime`, `Text`, `PositiveInt`), whose `is` is their whole validation. Any
 * other codec is refused when compiling, so a new kind of codec in the catalog
 * fails loudly, never silently.
 */
import * as t from "io-ts";

export const INVALID = 0;
export const SAME = 1;
export const COPY = 2;
export type Verdict = typeof INVALID | typeof SAME | typeof COPY;

/** Leaf codecs made with `new t.Type`: no `_tag`, and `validate` succeeds with the value itself exactly when `is` holds. */
const isLeafType = (codec: t.Mixed): boolean => !("_tag" in codec) || (codec as { _tag?: unknown })._tag === undefined;

/** Whether `new Function` is allowed here (it is not under some content security policies). */
const canGenerate = (() => {
  try {
    return new Function("return 1")() === 1;
  } catch {
    return false;
  }
})();

/**
 * Compiles `codec` to a check giving the verdict io-ts's `decode` would reach,
 * or returns undefined where code cannot be generated (the caller then always
 * decodes with io-ts).
 */
export const compileCheck = (codec: t.Mixed): ((u: unknown) => Verdict) | undefined => {
  if (!canGenerate) return undefined;
  // Values the generated code refers to: leaf predicates and keyof key sets.
  const refs: unknown[] = [];
  const ref = (value: unknown): string => {
    refs.push(value);
    return `R[${refs.length - 1}]`;
  };
  const functions: string[] = [];

  /** A boolean expression over `x` for a leaf codec, or undefined for a composite one. */
  const leaf = (c: t.Mixed, x: string): string | undefined => {
    if (c instanceof t.StringType) return `typeof ${x} === "string"`;
    if (c instanceof t.BooleanType) return `typeof ${x} === "boolean"`;
    if (c instanceof t.NullType) return `${x} === null`;
    if (c instanceof t.LiteralType) {
      const value: unknown = c.value;
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return `${x} === ${JSON.stringify(value)}`;
      throw new Error(`compileCheck: unsupported literal ${String(value)}`);
    }
    if (c instanceof t.KeyofType) return `(typeof ${x} === "string" && HAS.call(${ref(c.keys)}, ${x}))`;
    if (isLeafType(c)) return `${ref(c.is.bind(c))}(${x})`;
    return undefined;
  };

  /** The name of a generated function `(v) => Verdict` for `c`. */
  const fn = (c: t.Mixed): string => {
    const name = `f${functions.length}`;
    functions.push("");
    const asLeaf = leaf(c, "v");
    let body: string;
    if (asLeaf !== undefined) body = `return ${asLeaf} ? 1 : 0;`;
    else if (c instanceof t.ExactType || c instanceof t.InterfaceType) {
      const exact = c instanceof t.ExactType;
      const inner = exact ? (c as t.ExactType<t.Mixed>).type : c;
      if (!(inner instanceof t.InterfaceType)) throw new Error(`compileCheck: exact of ${inner.name} is not supported`);
      const props = inner.props as Record<string, t.Mixed>;
      const lines = [`if (v === null || typeof v !== "object" || Array.isArray(v)) return 0;`, `let r = 1, x;`];
      for (const [key, prop] of Object.entries(props)) {
        const access = `v[${JSON.stringify(key)}]`;
        const simple = leaf(prop, "x");
        if (simple !== undefined) lines.push(`x = ${access}; if (!(${simple})) return 0;`);
        else lines.push(`x = ${fn(prop)}(${access}); if (x === 0) return 0; if (x === 2) r = 2;`);
      }
      if (exact) {
        // Exactly io-ts's stripKeys test: an own property name outside the props means a copy.
        const keys = ref(props);
        lines.push(`const names = Object.getOwnPropertyNames(v);`);
        lines.push(`for (let i = 0; i < names.length; i++) if (!HAS.call(${keys}, names[i])) return 2;`);
      }
      lines.push(`return r;`);
      body = lines.join("\n");
    } else if (c instanceof t.UnionType) {
      // The first member that accepts decides, as io-ts's union (and a tagged union, whose other members refuse the tag).
      const members = (c.types as ReadonlyArray<t.Mixed>).map((member) => fn(member));
      body = `let r;\n${members.map((m) => `r = ${m}(v); if (r !== 0) return r;`).join("\n")}\nreturn 0;`;
    } else throw new Error(`compileCheck: codec ${c.name} (${(c as { _tag?: string })._tag ?? "unknown kind"}) is not supported`);
    functions[Number(name.slice(1))] = `function ${name}(v) {\n${body}\n}`;
    return name;
  };

  const root = fn(codec);
  const source = `"use strict";\n${functions.join("\n")}\nreturn ${root};`;
  return new Function("R", "HAS", source)(refs, Object.prototype.hasOwnProperty) as (u: unknown) => Verdict;
};
