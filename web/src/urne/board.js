// What a voter checks of the bulletin board after casting (docs/record.md §4): that the server's
// signed tree head (the receipt) is signed by the board key of the manifest, and that the ballot's
// line is in the tree of that head (a Merkle inclusion proof, RFC 9162 §2.1.3 with urne's hashes).
// Together they show that the server put the ballot on the board in a state it signed: a later
// board without it would be inconsistent with a head the server signed.

import { decodeDigest, decodeScalar, decodePoint, bytesEqual, fromBase64Url } from './encoding.js';
import { UrneError } from './errors.js';
import { ItemHasher, TAGS } from './hash.js';
import { decodeTimestamp } from './manifest.js';
import { verifySchnorr } from './proofs.js';

const utf8 = new TextEncoder();

/** The leaf hash of a line of the log: its exact bytes, without the final line feed (§4.1). */
export function leafHash(line) {
  const bytes = typeof line === 'string' ? utf8.encode(line) : line;
  return new ItemHasher(TAGS.LOG_LEAF).bytes(bytes).digest32();
}

/** The hash of an inner node of the log's tree (§4.1). */
export function nodeHash(left, right) {
  return new ItemHasher(TAGS.LOG_NODE).bytes(left).bytes(right).digest32();
}

/**
 * Checks that `leaf` (32 bytes) is leaf `index` of the tree of `size` leaves whose root is `root`,
 * given the audit path `proof` (32-byte hashes, nearest sibling first), by the steps of
 * docs/record.md §4.2. Throws `inclusion` when it is not.
 */
export function verifyInclusion(leaf, index, size, root, proof) {
  const fail = (msg) => new UrneError('inclusion', msg);
  let f = BigInt(index);
  let s = BigInt(size);
  if (f >= s) throw fail(`leaf ${index} is not in a tree of ${size} leaves`);
  s -= 1n;
  let x = leaf;
  for (const p of proof) {
    if (s === 0n) throw fail('the proof is longer than the path');
    if (f % 2n === 1n || f === s) {
      x = nodeHash(p, x);
      while (f % 2n === 0n && f !== 0n) {
        f >>= 1n;
        s >>= 1n;
      }
    } else {
      x = nodeHash(x, p);
    }
    f >>= 1n;
    s >>= 1n;
  }
  if (s !== 0n) throw fail('the proof is shorter than the path');
  if (!bytesEqual(x, root)) throw fail("the path does not lead to the tree head's root");
}

/**
 * Checks a signed tree head (docs/record.md §4.4) of `election` (from `loadElection`), given as
 * its JSON value `{size, root, at, signature: {r, s}}`: the Schnorr signature by the manifest's
 * `board_key` over the election fingerprint, the key, the size, the root and the time. Returns
 * `{size, root}` (root as 32 bytes). Throws `board_key` for a manifest without one, `equation`
 * for a signature that does not verify, or a decoding error naming the field.
 */
export function verifySignedTreeHead(election, head) {
  const B = election.manifest.board_key;
  if (B === undefined) throw new UrneError('board_key', 'the manifest names no board key to check a tree head with');
  const size = head?.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new UrneError('format', 'is not a size', { path: 'size' });
  const root = decodeDigest(head.root);
  decodeTimestamp(head.at, 'at');
  const r = decodePoint(head.signature?.r);
  const s = decodeScalar(head.signature?.s);
  const prefix = new ItemHasher(TAGS.BOARD_TREE_HEAD).bytes(election.fingerprint).point(B).u64(size).bytes(root).str(head.at);
  verifySchnorr(prefix, B, { r, s });
  return { size, root };
}

/**
 * Checks the receipt of a cast ballot: `head` is a signed tree head of the election, and `line`
 * (the board's line `seq`, as the server gives it) is in its tree by the audit path `path`
 * (base64url hashes) and is the ballot line of `tracker`, holding `ballotJson` (the ballot's
 * canonical JSON text) when it is given. Returns the head's `{size, root}`; throws on any failure.
 */
export function verifyReceipt(election, head, { seq, line, path }, tracker, ballotJson) {
  const checked = verifySignedTreeHead(election, head);
  const proof = path.map((p) => fromBase64Url(p, 32));
  verifyInclusion(leafHash(line), seq, checked.size, checked.root, proof);
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    throw new UrneError('inclusion', 'the line of the proof is not JSON');
  }
  if (entry.type !== 'ballot' || entry.seq !== seq || entry.tracker !== tracker) {
    throw new UrneError('inclusion', 'the line of the proof is not this ballot');
  }
  if (ballotJson !== undefined && !line.includes(`"ballot":${ballotJson}`)) {
    throw new UrneError('inclusion', 'the ballot on the board is not the ballot sent');
  }
  return checked;
}
