/**
 * Barcodes have one canonical form (R7): `p1234567`, ` P1234567 `, `P 1234 567`
 * and `Ｐ１２３４５６７` are all `P1234567`. Registering stores the canonical
 * form, and lookup and uniqueness compare canonical forms, so a barcode is found
 * however it was typed, and no two accounts hold barcodes that differ only in
 * how they were typed.
 *
 * The rule, exactly: from what was typed
 * 1. remove every white-space character (anywhere: leading, trailing, inner),
 *    every format character (`\p{Cf}`: zero-width space, joiners, direction
 *    marks, soft hyphen, byte-order mark…) and every other default-ignorable
 *    code point;
 * 2. apply Unicode NFKC (full-width and other compatibility forms become plain
 *    letters and digits);
 * 3. upper-case (locale-independent), then NFKC again;
 * repeated until stable, so the canonical form of a canonical form is itself.
 * Dashes and other punctuation are kept: a barcode has none, so a barcode typed
 * with one is not a barcode.
 */
import { UNSEEN, normaliseTyped } from "./typed-text.js";

const CANONICAL = /^[A-Z0-9]*$/;

const toUpper = (s: string): string => s.toUpperCase();

/** The canonical form of a typed barcode (see the rule above). */
export const canonicalBarcode = (typed: string): string =>
  CANONICAL.test(typed) ? typed : normaliseTyped(typed, [UNSEEN], toUpper);
