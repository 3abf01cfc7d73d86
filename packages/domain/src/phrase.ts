/**
 * Share phrases, as far as the pure core is concerned (R7): the alphabet they are
 * drawn from, how typed input is normalised, and a constant-time comparison of
 * derived hashes. Generating and hashing phrases needs randomness and scrypt, so
 * it lives in the adapters behind the `SharePhrases` port.
 */

/**
 * Letters and digits a person can read aloud and type: no 0/O, 1/l/I. Lower case.
 * R7: entry is case-insensitive, so `i` is the letter `I` and is left out too.
 */
export const PHRASE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

/** Characters per phrase: 14 from 31 symbols is over 69 bits, above R7's 60. */
export const PHRASE_LENGTH = 14;

export const phraseEntropyBits = PHRASE_LENGTH * Math.log2(PHRASE_ALPHABET.length);

/** R7: case-insensitive, spaces and dashes ignored. */
export const normalisePhrase = (typed: string): string => typed.replace(/[\s-]+/g, "").toLowerCase();

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
