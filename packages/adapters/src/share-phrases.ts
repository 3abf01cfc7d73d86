/**
 * The share phrase port and its default: phrases from nanoid's `customAlphabet`
 * over the domain's readable alphabet (R7), verified by salted scrypt (R6).
 *
 * Cost: OWASP's Password Storage Cheat Sheet (2024 revision, current as of this
 * writing) recommends scrypt with N=2^17 (128 MiB), r=8, p=1 as its first
 * choice. A share phrase is a 69-bit random secret, not a human password, so a
 * stolen verifier is already out of reach of guessing; the cost is defence in
 * depth, and it bounds online guessing at the connect endpoint together with the
 * lockouts (R10). We take OWASP's parameters as the default; the parameters are
 * stored in each verifier, so a host can raise them later without breaking old
 * phrases, and tests may lower them.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";
import { customAlphabet } from "nanoid";
import {
  PHRASE_ALPHABET,
  PHRASE_LENGTH,
  type Verifier,
  formatPhrase,
  normalisePhrase,
} from "@linked-accounts/domain/internal";

export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const OWASP_SCRYPT_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };

export interface SharePhrases {
  /** A fresh phrase, formatted for people (`k7qm-x3fa-9tbe-hw`). Shown once, never stored. */
  generate(): string;
  /** A new salted verifier for `phrase`. */
  verifierFor(phrase: string): Promise<Verifier>;
  /**
   * The hash of a typed phrase under one stored verifier's salt and cost: the
   * proof the domain compares (in constant time) with that verifier's hash.
   */
  proofFor(typed: string, verifier: Verifier): Promise<string>;
  /**
   * A verifier no phrase matches, at this port's cost. Deriving against it when a
   * barcode has fewer phrases than others keeps every attempt equally slow, so
   * timing does not tell an outsider whether a barcode exists (R9).
   */
  readonly decoy: Verifier;
  /** Constant-time check, for hosts that verify outside the domain. */
  verify(typed: string, verifier: Verifier): Promise<boolean>;
}

const KEY_LENGTH = 32;
const SALT_BYTES = 16;

const derive = (phrase: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scryptCallback(
      normalisePhrase(phrase),
      salt,
      KEY_LENGTH,
      // scrypt needs 128 * N * r bytes; allow twice that so any stored cost runs.
      { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );

export const scryptSharePhrases = (options: { readonly cost?: ScryptCost } = {}): SharePhrases => {
  const cost = options.cost ?? OWASP_SCRYPT_COST;
  const nextPhrase = customAlphabet(PHRASE_ALPHABET, PHRASE_LENGTH);
  return {
    decoy: {
      algorithm: "scrypt",
      salt: randomBytes(SALT_BYTES).toString("base64url"),
      hash: randomBytes(KEY_LENGTH).toString("base64url"),
      ...cost,
    },
    generate: () => formatPhrase(nextPhrase()),
    verifierFor: async (phrase) => {
      const salt = randomBytes(SALT_BYTES);
      const hash = await derive(phrase, salt, cost);
      return {
        algorithm: "scrypt",
        salt: salt.toString("base64url"),
        hash: hash.toString("base64url"),
        N: cost.N,
        r: cost.r,
        p: cost.p,
      };
    },
    proofFor: async (typed, verifier) =>
      (await derive(typed, Buffer.from(verifier.salt, "base64url"), verifier)).toString("base64url"),
    verify: async (typed, verifier) => {
      const expected = Buffer.from(verifier.hash, "base64url");
      const actual = await derive(typed, Buffer.from(verifier.salt, "base64url"), verifier);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
};
