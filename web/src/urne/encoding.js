// Encodings of spec §2: the group ristretto255 (RFC 9496), its points and scalars, and the
// base64url text (RFC 4648 §5, no padding) in which JSON carries every byte string.
//
// Points are @noble/curves RistrettoPoint objects; scalars are bigints in [0, ℓ). Decoders are
// strict: a byte string has exactly one accepted text form, a point or scalar exactly one accepted
// encoding (spec §2.2–2.4), so that hashing encodings is hashing values.

import { ristretto255 } from './deps.js';
import { UrneError } from './errors.js';

/** The ristretto255 point class of @noble/curves. */
export const Point = ristretto255.Point;

/** ℓ, the prime order of the group: 2^252 + 27742317777372353535851937790883648493. */
export const ORDER = Point.Fn.ORDER;

/** G, the standard generator (spec §2.1). */
export const G = Point.BASE;

/** The identity element. */
export const IDENTITY = Point.ZERO;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Base64url text without padding (RFC 4648 §5) of `bytes`. */
export function toBase64Url(bytes) {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}

/**
 * Decodes base64url text without padding (spec §2.4). Refuses padding, any character outside
 * `A–Z a–z 0–9 - _` (whitespace included), a length of 1 mod 4 and non-zero unused bits in the
 * last character (`bad_base64`); with `length`, a decoded length other than it (`wrong_length`).
 */
export function fromBase64Url(text, length) {
  if (typeof text !== 'string') throw new UrneError('bad_base64', 'expected a string');
  if (text.length % 4 === 1) throw new UrneError('bad_base64', 'a length of 1 mod 4 is no whole byte');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const v = code < 128 ? VALUE[code] : -1;
    if (v < 0) throw new UrneError('bad_base64', `character ${i + 1} is not base64url without padding`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) throw new UrneError('bad_base64', 'non-zero unused bits in the last character');
  if (length !== undefined && out.length !== length) {
    throw new UrneError('wrong_length', `${out.length} bytes where ${length} are required`);
  }
  return out;
}

/** Reads bytes as a little-endian unsigned integer. */
export function bytesToBigIntLE(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** The 32-byte little-endian encoding of a scalar in [0, ℓ) (spec §2.3). */
export function scalarToBytes(s) {
  if (typeof s !== 'bigint' || s < 0n || s >= ORDER) throw new RangeError('not a scalar below ℓ');
  const out = new Uint8Array(32);
  let n = s;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** Decodes a 32-byte scalar, refusing any other length and any value ≥ ℓ (no reduction). */
export function scalarFromBytes(bytes) {
  if (bytes.length !== 32) throw new UrneError('wrong_length', `${bytes.length} bytes where 32 are required`);
  const s = bytesToBigIntLE(bytes);
  if (s >= ORDER) throw new UrneError('non_canonical_scalar', 'not below the group order ℓ');
  return s;
}

/** The canonical 32-byte encoding of a point (RFC 9496 §4.3.2). */
export function pointToBytes(P) {
  return P.toBytes();
}

/**
 * Decodes a point by RFC 9496 §4.3.1, refusing any length but 32 (`wrong_length`) and every
 * non-canonical or invalid encoding (`non_canonical_point`): a field element ≥ p, a negative one,
 * or one that names no group element. The identity is accepted; see `nonIdentity`.
 */
export function pointFromBytes(bytes) {
  if (bytes.length !== 32) throw new UrneError('wrong_length', `${bytes.length} bytes where 32 are required`);
  try {
    return Point.fromBytes(bytes);
  } catch {
    throw new UrneError('non_canonical_point', 'not a canonical ristretto255 encoding');
  }
}

/** Refuses the identity where the protocol forbids it (keys, credentials: spec §2.2). */
export function nonIdentity(P) {
  if (P.is0()) throw new UrneError('identity_point', 'the identity is not allowed here');
  return P;
}

/** A point's base64url text. */
export function encodePoint(P) {
  return toBase64Url(P.toBytes());
}

/** Decodes a point from base64url text: base64url, then length, then the point. */
export function decodePoint(text) {
  return pointFromBytes(fromBase64Url(text));
}

/** A scalar's base64url text. */
export function encodeScalar(s) {
  return toBase64Url(scalarToBytes(s));
}

/** Decodes a scalar from base64url text: base64url, then length, then the value. */
export function decodeScalar(text) {
  return scalarFromBytes(fromBase64Url(text));
}

/** Decodes a 32-byte digest (a fingerprint or tracker) from base64url text. */
export function decodeDigest(text) {
  return fromBase64Url(text, 32);
}

/** x mod ℓ, in [0, ℓ). */
export function mod(x) {
  const r = x % ORDER;
  return r < 0n ? r + ORDER : r;
}

/**
 * k·P for a secret scalar k, by @noble/curves' constant-time multiplication (which refuses 0, so
 * 0 is special-cased: a zero scalar only occurs for public values such as an unselected answer).
 */
export function mulSecret(P, k) {
  return k === 0n ? IDENTITY : P.multiply(k);
}

/** k·P for public values (verification): variable time. */
export function vartimeMul(P, k) {
  return P.multiplyUnsafe(k);
}

/** Whether two byte strings are equal. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
