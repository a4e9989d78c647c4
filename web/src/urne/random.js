// Randomness of spec §2.7: every secret scalar is 64 bytes from a cryptographically secure
// generator (crypto.getRandomValues, through @noble/hashes' randomBytes), read little-endian and
// reduced mod ℓ; the bias is below 2^-250.

import { randomBytes } from './deps.js';
import { bytesToBigIntLE, mod } from './encoding.js';

/** A uniform scalar (ElGamal randomness, proof nonces, signature nonces). */
export function randomScalar() {
  const b = randomBytes(64);
  const s = mod(bytesToBigIntLE(b));
  b.fill(0);
  return s;
}
