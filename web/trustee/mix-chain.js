// What the trustee page checks before it decrypts the last list of the mix phase (spec §8.8.3),
// so that it need not trust the server for the ballots' secrecy (docs/trustees.md, "Trust").
//
// The rule: the page decrypts a list only if it descends, through shuffles whose proofs the page
// has verified itself (§8.7), from a shuffle output that this trustee signed (§8.8.2). This
// trustee's shuffle permuted its input with a permutation that only it knew and forgot; whatever
// comes out of it through proven shuffles is unlinkable to the order of that input, whatever the
// server did before it. So the page:
//
//   1. finds this trustee's `shuffle` line and its `shuffle_chunk` lines at the end of the board,
//      rebuilds its output and checks its signature with the manifest key X_i of this trustee.
//      The signature is over the digests of the shuffle's input and output: the input's digest is
//      the previous shuffle's output's (rebuilt from its chunks; its proof is not needed, only
//      the value this trustee signed), or, for the first shuffle, the mix input's (§8.8.1), the
//      counted ballots' rows, read from the board's ballot lines with the tally check's rules
//      (counted-ballots.js: signed, listed credentials, the revote rule);
//   2. for every later shuffle, rebuilds its output, verifies its proof from the previous
//      output and its signature by its trustee;
//   3. requires the list the server gives to decrypt to be the last output so verified.
//
// A trustee whose shuffle is not on the board is refused: the page cannot vouch for a list that
// no shuffle of its own went into (`urne trustee mix-decrypt` verifies the whole record instead).
// Public data only: the checks are variable time. The reading goes through `readLines(from,
// limit)`, which returns the board's lines from `from` as parsed JSON values (the worker reads
// GET /api/v1/elections/{id}/board/lines; the tests give a board in memory).
//
// Errors are UrneError: `unshuffled` (this trustee has no shuffle on the board), `chain` (a check
// failed; the message says which), `format` (lines that do not parse or do not follow each other).

import {
  UrneError,
  bytesEqual,
  decodeMixRows,
  decodeShuffleLines,
  isMixed,
  listDigest,
  manifestFingerprint,
  parseManifest,
  verifyShuffle,
  verifyShuffleSignature,
} from '../src/urne/trustee-index.js';
import { readRange } from './board-read.js';
import { readCountedBallots } from './counted-ballots.js';

/** The mix phase's lines: they follow the tally's lines, at the end of the board (docs/record.md). */
const MIX_LINES = new Set(['shuffle_chunk', 'shuffle', 'mix_decryption', 'mixed_ballots', 'result']);

/** Lines read per request going back from the end of the board (a chunk line is up to ~4 MiB). */
const BACK_PAGE = 4;


/**
 * The shuffles at the end of a board of `size` lines that the check of trustee `index` needs,
 * read backward: this trustee's shuffle, every later one, and the one just before it (for its
 * input's digest). Returns `{shuffles, own}`: `shuffles` as `{chunks, end}` (the parsed lines) by
 * position, `own` this trustee's position, or null when no shuffle of this trustee is on the board
 * (the reading stops at the first line before the mix phase).
 *
 * @param {(from: number, limit: number) => Promise<object[]>} readLines
 * @param {number} size the board's size
 * @param {number} index this trustee's index
 */
export async function readShuffles(readLines, size, index) {
  const groups = [];
  let current = null;
  let own = null;
  let at = size;
  const complete = () => current === null && own !== null && (own === 0 || groups.some((g) => g.end.shuffle === own - 1));
  scan: while (at > 0 && !complete()) {
    const from = Math.max(0, at - BACK_PAGE);
    const lines = await readRange(readLines, from, at - from);
    for (let k = lines.length - 1; k >= 0; k -= 1) {
      const line = lines[k];
      const seq = from + k;
      const type = line?.type;
      if (type === 'shuffle') {
        if (current !== null) throw new UrneError('format', `board line ${seq}: a shuffle line where shuffle ${current.end.shuffle}'s chunks were expected`);
        current = { chunks: [], end: line };
        groups.unshift(current);
        if (line.trustee === index && own === null) own = line.shuffle;
      } else if (type === 'shuffle_chunk') {
        if (current === null) throw new UrneError('format', `board line ${seq}: a shuffle chunk that no shuffle line follows`);
        current.chunks.unshift(line);
        if (line.offset === 0) {
          current = null;
          if (complete()) break scan;
        }
      } else if (!MIX_LINES.has(type)) {
        // The first line before the mix phase (a factor of the tally, the tally, a ballot).
        break scan;
      }
    }
    at = from;
  }
  if (current !== null) throw new UrneError('format', `shuffle ${current.end.shuffle}'s chunks do not begin at row 0 on the board`);
  if (own === null) return { shuffles: [], own: null };
  return { shuffles: groups.filter((g) => g.end.shuffle >= own - 1), own };
}

/**
 * The list digest of the mix input (spec §8.8.1): the counted ballots' rows, read from the
 * board's first lines up to its `tally` line. The ballots counted are exactly those the tally's
 * check counts (counted-ballots.js `readCountedBallots`: the sealed credential list, each ballot
 * of this election, signed under a listed credential not revoked, none cast twice, and the revote
 * rule), so that a server cannot slip into this trustee's input a ballot no voter signed. Needed
 * only when this trustee's shuffle is the first. Throws `chain` when a ballot line fails a check
 * (the message says which, with the board line), `format` (lines that do not parse or come in
 * the wrong order).
 *
 * @param {(from: number, limit: number) => Promise<object[]>} readLines
 * @param {object|string} manifest
 * @param {number} size the board's size
 * @param {(done: number, total: number) => void} [onProgress] lines read of `size`
 */
export async function mixInputDigest(readLines, manifest, size, onProgress) {
  const m = parseManifest(manifest);
  const mixed = m.questions.map((q, i) => [i, q]).filter(([, q]) => isMixed(q));
  const row = (ballot, seq) => {
    const out = [];
    for (const [qi, q] of mixed) {
      const choices = ballot.answers?.[qi]?.choices;
      if (!Array.isArray(choices) || choices.length !== q.answers.length) {
        throw new UrneError('format', `board line ${seq}: a ballot without the manifest's shape`);
      }
      out.push(...choices);
    }
    return out;
  };
  let counted;
  try {
    ({ counted } = await readCountedBallots({ readLines, size, m, value: row, onProgress: onProgress && ((_, done, total) => onProgress(done, total)) }));
  } catch (e) {
    if (e instanceof UrneError && e.kind === 'tally') throw chainError(`the mix input is not the board's counted ballots: ${e.detail}`, e);
    throw e;
  }
  return listDigest(decodeMixRows(counted.map((c) => c.value), 'ballots'));
}

function chainError(message, cause) {
  return new UrneError('chain', message, cause ? { cause } : {});
}

/**
 * Checks the rule above on the shuffles `readShuffles` found (`{shuffles, own}`) and returns
 * nothing when `rows` (the decoded list the server gives to decrypt, `mixList(...).rows`) may be
 * decrypted by trustee `index`. `inputDigest` (64 bytes) is the mix input's digest, needed when
 * this trustee's shuffle is the first (`mixInputDigest`). `onProgress(done, total)` tells how
 * far the checks are (the later shuffles' proofs take nearly all the time). Throws `unshuffled`
 * or `chain` (see above).
 *
 * @param {{manifest: object|string, index: number, found: {shuffles: {chunks: object[], end: object}[], own: number|null},
 *   rows: object[][], inputDigest?: Uint8Array, onProgress?: (done: number, total: number) => void}} args
 */
export function verifyMixChain({ manifest, index, found, rows, inputDigest, onProgress }) {
  if (found.own === null) {
    throw new UrneError('unshuffled', `trustee ${index} has no shuffle on the board: the page decrypts only a list that descends from its own shuffle`);
  }
  const m = parseManifest(manifest);
  const fingerprint = manifestFingerprint(m);
  const Y = m.public_key;
  const shuffles = found.shuffles.map((g) => decodeShuffleLines(g.chunks, g.end));
  const first = found.own === 0 ? 0 : 1;
  shuffles.forEach((s, i) => {
    const want = found.own - first + i;
    if (s.position !== want) throw new UrneError('format', `the board's shuffle ${i} from the one checked first is number ${s.position}, not ${want}`);
  });
  const ownShuffle = shuffles[first];
  if (ownShuffle === undefined || ownShuffle.trustee !== index) throw new UrneError('format', `shuffle ${found.own} is not trustee ${index}'s`);
  const before = found.own === 0 ? inputDigest : listDigest(shuffles[0].outputs);
  if (!(before instanceof Uint8Array) || before.length !== 64) throw new UrneError('argument', 'the digest of the first shuffle’s input is needed', { path: 'inputDigest' });
  const later = shuffles.slice(first + 1);
  // One unit for the own signature, 1,000 for each later shuffle (its proof, row by row).
  const total = 1 + 1000 * later.length;
  onProgress?.(0, total);
  const key = (t) => {
    const trustee = m.trustees[t - 1];
    if (trustee === undefined) throw chainError(`shuffle by trustee ${t}, who is not in the manifest`);
    return trustee.public_key;
  };
  let prev = ownShuffle.outputs;
  let prevDigest = listDigest(prev);
  try {
    verifyShuffleSignature(fingerprint, key(index), index, ownShuffle.position, before, prevDigest, ownShuffle.signature);
  } catch (e) {
    throw chainError(`the signature of shuffle number ${ownShuffle.position + 1}, by this trustee, does not verify: this is not the list it shuffled`, e);
  }
  onProgress?.(1, total);
  later.forEach((s, i) => {
    const n = s.position + 1;
    try {
      verifyShuffle(fingerprint, Y, prev, s.outputs, s.proof, (d, t) => onProgress?.(1 + 1000 * i + Math.floor((999 * d) / t), total));
    } catch (e) {
      throw chainError(`the proof of shuffle number ${n} (trustee ${s.trustee}) does not verify (${e.detail ?? e.message})`, e);
    }
    const digest = listDigest(s.outputs);
    try {
      verifyShuffleSignature(fingerprint, key(s.trustee), s.trustee, s.position, prevDigest, digest, s.signature);
    } catch (e) {
      throw chainError(`the signature of shuffle number ${n} by trustee ${s.trustee} does not verify`, e);
    }
    prev = s.outputs;
    prevDigest = digest;
    onProgress?.(1 + 1000 * (i + 1), total);
  });
  if (rows.length !== prev.length || !bytesEqual(listDigest(rows), prevDigest)) {
    throw chainError(`the list the server gives to decrypt is not the output of the last shuffle on the board (number ${shuffles.at(-1).position + 1})`);
  }
}
