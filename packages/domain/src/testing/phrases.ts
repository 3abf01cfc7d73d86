/**
 * A stand-in for the adapters' phrase port, for tests: a deterministic,
 * non-identity "hash" of a phrase with a salt. It is not cryptography; it only
 * has to differ for different phrases and never contain the phrase itself
 * (its output is upper-case, the alphabet lower-case: R6, R9 tests rely on it).
 */
import type { Verifier } from "../events.js";
import type { PhraseProof } from "../commands/index.js";
import { normalisePhrase } from "../phrase.js";

const fnv = (text: string, seed: number): number => {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

const UPPER_HEX = "ABCDEFGHIJKLMNOP";
const upperHex = (n: number): string => {
  let out = "";
  for (let i = 0; i < 8; i++) out += UPPER_HEX[(n >>> (28 - 4 * i)) & 15];
  return out;
};

/** The fake hash of a phrase (normalised first, as the adapters do: R7) with a salt. */
export const fakeHash = (phrase: string, salt: string): string => {
  const p = normalisePhrase(phrase);
  return `H${upperHex(fnv(`${salt}:${p}`, 0x811c9dc5))}${upperHex(fnv(`${p}:${salt}`, 0x2545f491))}`;
};

/** A verifier for `phrase`, as an issuer's adapters would store it. */
export const fakeVerifier = (phrase: string, salt: string): Verifier => ({
  algorithm: "scrypt",
  salt,
  hash: fakeHash(phrase, salt),
  N: 16384,
  r: 8,
  p: 1,
});

/**
 * The proofs a connector's adapters would send for a typed phrase: one per
 * phrase `phrasesToCheck` named, each the typed phrase hashed with that phrase's salt.
 */
export const proofsFor = (
  typed: string,
  candidates: ReadonlyArray<{ readonly phraseId: string; readonly verifier: Verifier }>,
): PhraseProof[] =>
  candidates.map(({ phraseId, verifier }) => ({ phraseId, hash: fakeHash(typed, verifier.salt) }));
