// Hashing of spec §3: every hash in urne is SHA-512 over a sequence of items, each written as its
// length (8 bytes, big-endian) and its bytes, the first item being a domain tag. Challenges are
// digests read little-endian and reduced mod ℓ (strong Fiat–Shamir [BPW12]: every proof hashes
// its domain tag, the election, the whole statement and all commitments).

import { ristretto255_hasher, sha512 } from './deps.js';
import { bytesToBigIntLE, mod, scalarToBytes } from './encoding.js';

/** The domain tags of spec §3.1, one per use (the constants of urne-core's `hash.rs::tags`). */
export const TAGS = Object.freeze({
  MANIFEST: 'urne/v1/manifest',
  GENERATOR: 'urne/v1/generator',
  CHOICE_PROOF: 'urne/v1/ballot/choice-proof',
  COUNT_PROOF: 'urne/v1/ballot/count-proof',
  BALLOT_SIGNATURE: 'urne/v1/ballot/signature',
  TRACKER: 'urne/v1/ballot/tracker',
  CREDENTIAL_KEY: 'urne/v1/credential/key',
  CREDENTIAL_CHECKSUM: 'urne/v1/credential/checksum',
  CREDENTIAL_LIST: 'urne/v1/credential/list',
  TRUSTEE_KEY_PROOF: 'urne/v1/trustee/key-proof',
  DECRYPTION_PROOF: 'urne/v1/trustee/decryption-proof',
  LOG_LEAF: 'urne/v1/log/leaf',
  LOG_NODE: 'urne/v1/log/node',
  BOARD_TREE_HEAD: 'urne/v1/board/tree-head',
});

const utf8 = new TextEncoder();
const U64_MAX = (1n << 64n) - 1n;

/**
 * An incremental H(tag; items…). Each method appends one item (a list is its length then its
 * elements, so `len(n)` then the elements) and returns the hasher, so calls chain.
 */
export class ItemHasher {
  /** Starts H(tag; …). */
  constructor(tag) {
    this.h = sha512.create();
    this.str(tag);
  }

  /** An item holding raw bytes (a digest such as the election fingerprint). */
  bytes(b) {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(b.length));
    this.h.update(len);
    this.h.update(b);
    return this;
  }

  /** A string: its UTF-8 bytes. */
  str(s) {
    return this.bytes(utf8.encode(s));
  }

  /** An integer (u64) as 8 bytes big-endian; booleans are 1 and 0. */
  u64(n) {
    const v = typeof n === 'boolean' ? BigInt(n ? 1 : 0) : BigInt(n);
    if (v < 0n || v > U64_MAX) throw new RangeError('not a u64');
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v);
    return this.bytes(b);
  }

  /** A list's length item. */
  len(n) {
    return this.u64(n);
  }

  /** A point: its canonical 32-byte encoding. */
  point(P) {
    return this.bytes(P.toBytes());
  }

  /** A scalar: its 32-byte little-endian encoding. */
  scalar(s) {
    return this.bytes(scalarToBytes(s));
  }

  /** An independent copy, to hash a shared prefix with different endings. */
  clone() {
    const c = Object.create(ItemHasher.prototype);
    c.h = this.h.clone();
    return c;
  }

  /** The 64-byte SHA-512 digest. The hasher cannot be used afterwards. */
  digest() {
    return this.h.digest();
  }

  /** H₃₂: the first 32 bytes of the digest (fingerprints, trackers; spec §2.5). */
  digest32() {
    return this.digest().slice(0, 32);
  }

  /** Hc: the digest read little-endian and reduced mod ℓ (spec §3.2). */
  challenge() {
    return mod(bytesToBigIntLE(this.digest()));
  }
}

/**
 * generator(purpose, index) of spec §3.3: RFC 9496 §4.3.4's one-way map (element derivation) of
 * H(GENERATOR; purpose, index). Reserved for later versions of the protocol.
 */
export function generator(purpose, index) {
  const uniform = new ItemHasher(TAGS.GENERATOR).str(purpose).u64(index).digest();
  return ristretto255_hasher.deriveToCurve(uniform);
}
