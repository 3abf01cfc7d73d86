import * as t from "io-ts";
import { Barcode } from "./codec.js";

/**
 * R7: a barcode has one canonical form, used alike for registering, lookup and
 * uniqueness: trimmed, inner spaces and invisible characters removed, Unicode
 * NFKC, upper case. `p1234567`, ` P123 4567 ` and `P1234567` are one barcode.
 */
export const canonicalBarcode = (typed: string): string =>
  typed.normalize("NFKC").replace(/[\s\p{Cf}]+/gu, "").toUpperCase();

/** A barcode as a person typed it, decoded to its canonical form, which must be a `Barcode`. */
export const TypedBarcode = new t.Type<string, string, unknown>(
  "Barcode (5 to 20 letters and digits; case, spaces and invisible characters ignored)",
  (u): u is string => Barcode.is(u) && u === canonicalBarcode(u),
  (u, c) => {
    if (typeof u !== "string" || u.length > 200) return t.failure(u, c);
    const canonical = canonicalBarcode(u);
    return Barcode.is(canonical) ? t.success(canonical) : t.failure(u, c);
  },
  t.identity,
);
