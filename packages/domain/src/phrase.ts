/**
 * Share phrases, as far as the pure core is concerned (R7): the alphabet they are
 * drawn from, how typed input is normalised, and a constant-time comparison of
 * derived hashes. Generating and hashing phrases needs randomness and scrypt, so
 * it lives in the adapters behind the `SharePhrases` port.
 */
import { DASHES, UNSEEN, normaliseTyped } from "./typed-text.js";

/**
 * Letters and digits a person can read aloud and type: no 0/O, 1/l/I. Lower case.
 * R7: entry is case-insensitive, so `i` is the letter `I` and is left out too.
 */
export const PHRASE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

/** Characters per phrase: 14 from 31 symbols is over 69 bits, above R7's 60. */
export const PHRASE_LENGTH = 14;

export const phraseEntropyBits = PHRASE_LENGTH * Math.log2(PHRASE_ALPHABET.length);

const PLAIN = /^[a-z0-9]*$/;
const toLower = (s: string): string => s.toLowerCase();

/**
 * R7: a phrase is checked as the person meant it, whatever its typography. The
 * rule, exactly: from what was typed or pasted
 * 1. remove every dash (`\p{Pd}`: hyphen-minus, U+2010 to U+2015 including the
 *    non-breaking hyphen U+2011, small and full-width hyphen-minus…) and the
 *    minus sign U+2212;
 * 2. remove every white-space character, every format character (`\p{Cf}`:
 *    soft hyphen U+00AD, zero-width space U+200B, joiners, direction marks,
 *    byte-order mark…) and every other default-ignorable code point;
 * 3. apply Unicode NFKC (full-width letters and digits, ligatures and the like
 *    become plain ones);
 * 4. lower-case (locale-independent), then NFKC again;
 * repeated until stable. The alphabet is lower-case ASCII, so on ASCII input
 * this is what it always was (spaces and dashes out, lower case), and every
 * verifier already stored still matches.
 */
export const normalisePhrase = (typed: string): string =>
  PLAIN.test(typed) ? typed : normaliseTyped(typed, [DASHES, UNSEEN], toLower);

/** Groups of four, as shown to the issuer: `k7qm-x3fa-9tbe-hw`. */
export const formatPhrase = (phrase: string): string => phrase.match(/.{1,4}/g)?.join("-") ?? phrase;

/**
 * Compares two encoded hashes without an early exit, so the time taken says
 * nothing about how much of a guess was right (R7).
 */
export const sameHash = (a: string, b: string): boolean => {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
};
