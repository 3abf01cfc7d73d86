/**
 * What a person types or pastes carries characters they never meant: spaces
 * (of every width), invisible format characters (zero-width space, word joiner,
 * byte-order mark, direction marks, soft hyphen) and compatibility forms
 * (full-width letters, ligatures, mathematical letters). These are the character
 * classes barcode.ts and phrase.ts ignore or fold (R7).
 */

/**
 * Characters no one sees or means: every `White_Space` character (space, tab,
 * line breaks, no-break and ideographic spaces…), every format character
 * (`\p{Cf}`: zero-width space, joiners, direction marks, soft hyphen U+00AD,
 * byte-order mark…) and every other default-ignorable code point (variation
 * selectors, combining grapheme joiner, Hangul fillers…).
 */
export const UNSEEN = /[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/** Any dash: `\p{Pd}` (hyphen-minus, U+2010 to U+2015, the non-breaking hyphen U+2011 among them, full-width and small hyphen-minus…) and the minus sign U+2212. */
export const DASHES = /[\p{Pd}\u2212]/gu;

/**
 * `s` with `ignored` removed and folded by `fold`, applied until nothing changes
 * (at most a few rounds: NFKC and case mapping can each uncover the other's
 * work), so that normalising twice gives what normalising once gave.
 */
export const normaliseTyped = (s: string, ignored: ReadonlyArray<RegExp>, fold: (s: string) => string): string => {
  let current = s;
  for (let round = 0; round < 4; round++) {
    let next = current;
    for (const re of ignored) next = next.replace(re, "");
    next = fold(next.normalize("NFKC")).normalize("NFKC");
    if (next === current) return next;
    current = next;
  }
  return current;
};
