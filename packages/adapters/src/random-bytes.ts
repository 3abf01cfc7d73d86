/**
 * Random bytes for the keys and nonces sealing makes, from the operating
 * system's CSPRNG (`randomFillSync`) a few kilobytes at a time rather than one
 * call each: a call costs several microseconds whatever its size, and sealing
 * an event needs one or two (its nonce, and a key for a new subject). Every
 * byte is handed out once, as a copy of its own, and wiped from the pool.
 */
import { randomBytes, randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
/** How many bytes of the pool were handed out since it was filled. */
let used = POOL_BYTES;

/** `size` fresh random bytes (as `crypto.randomBytes`). */
export const freshRandomBytes = (size: number): Buffer => {
  if (size > POOL_BYTES / 4) return randomBytes(size);
  if (used + size > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const bytes = Buffer.from(pool.subarray(used, used + size));
  pool.fill(0, used, used + size);
  used += size;
  return bytes;
};
