// What the trustee page checks before it computes its decryption factors of the encrypted tally
// (spec §8.3), so that it need not trust the server for the ballots' secrecy (docs/trustees.md,
// "Trust"). A factor decrypts whatever ciphertext it is asked for: a server that handed the page,
// as "the tally", one voter's ballot (or a sum that isolates one voter) would learn that vote from
// the result. `urne trustee decrypt` verifies the whole record first; the page checks this:
//
//   the tally it is asked to decrypt is the `tally` line of the board, and that line's `tally`,
//   `ballots` and `total_weight` are the weighted sum (spec §8.2), the number and the total
//   weight of the ballots counted from the board's ballot lines before it, where
//   1. the setup is read from the board: its manifest line (the one whose fingerprint the factors
//      bind), then its `credential` lines and `revocation` lines (spec §5.4, §5.5), all before the
//      `open` line and the first ballot (docs/record.md §2);
//   2. every ballot line before the `tally` line is of this election (V-6), has the manifest's
//      shape where it is summed, and is signed (V-8, spec §7.3) under its credential, which is
//      listed and not revoked (V-7); a ballot line that fails refuses the whole tally;
//   3. the counted ballots are those of the revote rule V-13: no ballot twice (V-13's repeated
//      tracker, see `ballotKey`), and under `last_counts` the last ballot of each credential in
//      board order, under `forbidden` no credential twice.
//
// A server cannot make a ballot pass 2 without the voter's credential: whatever it puts on the
// board, each summed ciphertext is one that a listed voter signed, weighted as the list says.
// The ballots' choice and count proofs (V-9, V-10), the trackers (V-11), the voting period
// (V-12) and the board's Merkle tree (V-18) are not checked here: they concern the tally's
// integrity, which is `urne verify`'s job, not the secrecy this check protects (a ballot whose
// proofs fail still carries its voter's signature). What the check cannot see (a server that
// lists credentials of its own, or leaves ballots off the board) is said in docs/trustees.md.
//
// Public data only: the checks are variable time. Errors are UrneError: `tally` (a check failed;
// the message says which, with the board line), `large` (a board over TALLY_CHECK_MAX_LINES
// lines: the CLI instead), `format` (lines that do not parse or come in the wrong order).

import {
  BALLOT_FORMAT,
  IDENTITY,
  UrneError,
  decodeCiphertext,
  decodeDigest,
  decodePoint,
  decodeScalar,
  encodePoint,
  fromBase64Url,
  isMixed,
  manifestFingerprint,
  parseManifest,
  parseTallyView,
  signaturePrefix,
  bytesEqual,
  vartimeMul,
  verifySchnorr,
} from '../src/urne/trustee-index.js';
import { LastBallots, readUpToTally } from './board-read.js';

/**
 * The largest board (in lines, the board's size when the page decrypts) that the page checks;
 * above it the trustee is sent to `urne trustee decrypt`. Measured (docs/trustees.md): 10,000
 * ballots took 32 s in node on the shared 2-core machine (3.2 ms a ballot), so a board of
 * 100,000 lines (a credential line and a ballot line per voter: some 50,000 voters) takes a few
 * minutes, and its ballot lines are a few hundred megabytes to download.
 */
export const TALLY_CHECK_MAX_LINES = 100_000;

function refuse(message, cause) {
  return new UrneError('tally', message, cause ? { cause } : {});
}

/**
 * A ballot's identity for V-13's "no tracker twice": its credential and signature (R, s) as the
 * line writes them (canonical encodings, checked when the ballot is parsed). Two lines with the
 * same key and a verified signature are the same ballot: the signature's challenge hashes the
 * whole body (spec §7.3), so two bodies under one (X, R, s) would be a collision of the hash.
 * It spares a second hash of every ballot for its tracker.
 */
function ballotKey(b) {
  return `${b.credential} ${b.signature?.r} ${b.signature?.s}`;
}

/**
 * A point item for hashing (spec §3.1): the 32 bytes its line writes. Decoding a point takes a
 * square root: a ballot holds some tens of them in its proofs, which the signature's hash needs
 * only as bytes. So only the points the check computes with are decoded (the credential, R and
 * the summed ciphertexts, each refused if not canonical, spec §2.2); the others are hashed as
 * they are written, and a non-canonical one, which V-5 refuses, is left to `urne verify`.
 */
function pointBytes(text) {
  const bytes = fromBase64Url(text, 32);
  return { toBytes: () => bytes };
}

const list = (v, what) => {
  if (!Array.isArray(v)) throw new UrneError('parse', `${what} is not an array`);
  return v;
};

/** A proof's branches (spec §6.2) for hashing: c, a, b, z with the points as bytes. */
function proofForHash(v) {
  return list(v, 'a proof').map((br) => {
    const a = list(br?.a, 'a').map(pointBytes);
    const b = list(br?.b, 'b').map(pointBytes);
    const z = list(br?.z, 'z').map(decodeScalar);
    if (a.length !== b.length || a.length !== z.length) throw new UrneError('shape', 'a, b and z must be as long as each other');
    return { c: decodeScalar(br.c), a, b, z };
  });
}

/** A ballot's JSON value as ballot.js `signaturePrefix` hashes it (points as their bytes). */
function forSignature(v) {
  if (v?.format !== BALLOT_FORMAT) throw new UrneError('parse', `the format is not ${BALLOT_FORMAT}`);
  return {
    format: v.format,
    election: decodeDigest(v.election),
    credential: pointBytes(v.credential),
    answers: list(v.answers, 'answers').map((a) => ({
      choices: list(a?.choices, 'choices').map((c) => ({ alpha: pointBytes(c?.alpha), beta: pointBytes(c?.beta) })),
      choice_proofs: list(a.choice_proofs, 'choice_proofs').map(proofForHash),
      blank: a.blank === undefined ? undefined : { alpha: pointBytes(a.blank?.alpha), beta: pointBytes(a.blank?.beta) },
      count_proof: a.count_proof === undefined ? undefined : proofForHash(a.count_proof),
    })),
    signature: { s: decodeScalar(v.signature?.s) },
  };
}

/** The positions summed (spec §8.2): per plurality question, its choices then its blank. */
function tallyShape(m) {
  return m.questions.map((q) => (isMixed(q) ? { choices: 0, blank: false } : { choices: q.answers.length, blank: q.blank }));
}

/** The ciphertexts a ballot adds to the tally (JSON, as on its line), in canonical order. */
function summed(ballot, shape, seq) {
  const out = [];
  shape.forEach((s, qi) => {
    if (s.choices === 0) return;
    const a = ballot.answers[qi];
    if (a.choices.length !== s.choices || (a.blank !== undefined) !== s.blank) {
      throw refuse(`board line ${seq}: the ballot's answer to question ${qi + 1} does not have the manifest's shape`);
    }
    out.push(...a.choices);
    if (s.blank) out.push(a.blank);
  });
  return out;
}

/** acc ± w·C for each position, C the ciphertexts `cts` (decoded). */
function add(acc, cts, w, sign) {
  const k = BigInt(w);
  cts.forEach((c, i) => {
    let alpha = k === 1n ? c.alpha : vartimeMul(c.alpha, k);
    let beta = k === 1n ? c.beta : vartimeMul(c.beta, k);
    if (sign < 0) {
      alpha = alpha.negate();
      beta = beta.negate();
    }
    acc[i] = { alpha: acc[i].alpha.add(alpha), beta: acc[i].beta.add(beta) };
  });
}

/**
 * Checks the rule above and returns `{ballots, total_weight, lines}` (the counted ballots, their
 * weight, the ballot lines read) when the tally `tallyView` (GET …/tally, the one the factors
 * would decrypt) may be decrypted; throws `tally`, `large` or `format` (see above).
 * `onProgress(phase, done, total)` tells how far it is: phase `setup` (the manifest and the
 * credential list), then `ballots` (lines read and ballots checked, of `size`).
 *
 * @param {{readLines: (from: number, limit: number) => Promise<object[]>, size: number,
 *   manifest: object|string, tallyView: object|string,
 *   onProgress?: (phase: string, done: number, total: number) => void}} args
 */
export async function checkTally({ readLines, size, manifest, tallyView, onProgress }) {
  if (size > TALLY_CHECK_MAX_LINES) {
    throw new UrneError('large', `the board has ${size} lines, more than the ${TALLY_CHECK_MAX_LINES} the page checks`);
  }
  const m = parseManifest(manifest);
  const fingerprint = manifestFingerprint(m);
  const wanted = parseTallyView(tallyView);
  const shape = tallyShape(m);
  const width = shape.reduce((n, s) => n + s.choices + (s.blank ? 1 : 0), 0);
  const forbidden = m.revote === 'forbidden';
  // The setup: credentials by their encoding, with weight and whether revoked.
  const credentials = new Map();
  let manifestSeen = false;
  let revocation = null; // the weight the next line's replacement must have
  let revoked = 0;
  let sealed = false; // after `open` or a ballot: the list may no longer change
  // The counted ballots: running sums, and each credential's last ballot (its summed JSON).
  const acc = Array.from({ length: width }, () => ({ alpha: IDENTITY, beta: IDENTITY }));
  const last = new LastBallots();
  const seen = new Set();
  let ballotLines = 0;
  let phase = 'setup';
  const visit = (line, seq) => {
    const type = line?.type;
    if (revocation !== null && type !== 'credential') {
      throw refuse(`board line ${seq}: a revocation not followed by its replacement's credential line`);
    }
    if (type === 'manifest') {
      if (manifestSeen) throw new UrneError('format', `board line ${seq}: a second manifest`);
      manifestSeen = true;
      let fp;
      try {
        fp = manifestFingerprint(parseManifest(line.manifest));
      } catch (e) {
        throw new UrneError('format', `board line ${seq}: the manifest does not parse (${e.detail ?? e.message})`, { cause: e });
      }
      if (!bytesEqual(fp, fingerprint)) throw refuse(`board line ${seq}: the board's manifest is not the one the page decrypts for`);
    } else if (type === 'credential' || type === 'revocation') {
      if (!manifestSeen || sealed) throw refuse(`board line ${seq}: a ${type} line ${manifestSeen ? 'after voting opened' : 'before the manifest'}`);
      let key;
      try {
        key = encodePoint(decodePoint(line.credential));
      } catch (e) {
        throw new UrneError('format', `board line ${seq}: the credential is not a point (${e.detail ?? e.message})`, { cause: e });
      }
      const entry = credentials.get(key);
      if (type === 'revocation') {
        if (entry === undefined || entry.revoked) throw refuse(`board line ${seq}: a revocation of a credential that is ${entry ? 'already revoked' : 'not listed'}`);
        entry.revoked = true;
        revoked += 1;
        revocation = entry.weight;
        return;
      }
      const w = line.weight;
      if (!Number.isSafeInteger(w) || w < 1 || (m.weights === 'equal' && w !== 1)) throw refuse(`board line ${seq}: the weight ${w} is not allowed`);
      if (entry !== undefined) throw refuse(`board line ${seq}: a credential listed twice`);
      if (revocation === null && revoked > 0) throw refuse(`board line ${seq}: a credential added after a revocation that is not its replacement`);
      if (revocation !== null && w !== revocation) throw refuse(`board line ${seq}: the replacement's weight ${w} is not the revoked credential's ${revocation}`);
      revocation = null;
      credentials.set(key, { weight: w, revoked: false });
    } else if (type === 'open') {
      sealed = true;
    } else if (type === 'ballot') {
      sealed = true;
      ballotLines += 1;
      if (phase === 'setup') phase = 'ballots';
      let b;
      try {
        b = forSignature(line.ballot);
      } catch (e) {
        throw refuse(`board line ${seq}: the ballot does not parse (${e.detail ?? e.message})`, e);
      }
      if (!bytesEqual(b.election, fingerprint)) throw refuse(`board line ${seq}: the ballot is not of this election`);
      if (b.answers.length !== m.questions.length) throw refuse(`board line ${seq}: the ballot does not answer the manifest's questions`);
      const credential = line.ballot.credential;
      const entry = credentials.get(credential);
      if (entry === undefined) throw refuse(`board line ${seq}: the ballot's credential is not on the sealed list`);
      if (entry.revoked) throw refuse(`board line ${seq}: the ballot's credential was revoked`);
      const cts = summed(line.ballot, shape, seq);
      // Integrity (choice and count proofs, V-9 and V-10) is urne verify's: only the signature,
      // which nobody but the voter can make, is checked here.
      let X;
      let R;
      try {
        X = decodePoint(credential);
        R = decodePoint(line.ballot.signature.r);
      } catch (e) {
        throw refuse(`board line ${seq}: the ballot does not parse (${e.detail ?? e.message})`, e);
      }
      try {
        verifySchnorr(signaturePrefix(b), X, { r: R, s: b.signature.s });
      } catch (e) {
        throw refuse(`board line ${seq}: the ballot's signature does not verify under its credential`, e);
      }
      const key = ballotKey(line.ballot);
      if (seen.has(key)) throw refuse(`board line ${seq}: a ballot already on the board, cast again`);
      seen.add(key);
      if (forbidden && last.has(credential)) throw refuse(`board line ${seq}: a second ballot of a credential under a policy that forbids revoting`);
      // The running sum takes back the ballot a revote replaces (decoded again from its line's
      // JSON, kept rather than its decoded points to hold less memory).
      const before = last.cast(credential, { cts, weight: entry.weight });
      if (before !== undefined) add(acc, before.cts.map((c) => decodeCiphertext(c)), entry.weight, -1);
      let decoded;
      try {
        decoded = cts.map((c) => decodeCiphertext(c));
      } catch (e) {
        throw refuse(`board line ${seq}: a ciphertext of the ballot does not decode (${e.detail ?? e.message})`, e);
      }
      add(acc, decoded, entry.weight, 1);
    } else if (type === 'header' || type === 'close' || type === 'booth' || type === 'dealing' || type === 'complaint' || type === 'answer') {
      // Nothing to check here for the tally's secrecy (the ceremony is checked by the page's steps).
    } else {
      throw new UrneError('format', `board line ${seq}: a ${String(type)} line before the tally`);
    }
  };
  const { tally, seq } = await readUpToTally(readLines, size, visit, (done, total) => onProgress?.(phase, done, total));
  if (!manifestSeen) throw new UrneError('format', 'the board has no manifest line before its tally');
  let line;
  try {
    line = parseTallyView({ ballots: tally.ballots, total_weight: tally.total_weight, tally: tally.tally });
  } catch (e) {
    throw new UrneError('format', `board line ${seq}: the tally does not parse (${e.detail ?? e.message})`, { cause: e });
  }
  const counted = last.counted();
  const weight = counted.reduce((w, c) => w + c.weight, 0);
  if (line.ballots !== counted.length) throw refuse(`board line ${seq}: the tally says ${line.ballots} ballots counted, the board's ballots give ${counted.length}`);
  if (line.total_weight !== weight) throw refuse(`board line ${seq}: the tally says a total weight of ${line.total_weight}, the counted ballots weigh ${weight}`);
  sameTally(line, acc, shape, `the tally on board line ${seq} is not the weighted sum of the counted ballots`);
  sameTally(wanted, acc, shape, 'the tally the server gives to decrypt is not the one on the board');
  if (wanted.ballots !== line.ballots || wanted.total_weight !== line.total_weight) {
    throw refuse('the tally the server gives to decrypt does not count the ballots the board’s tally line counts');
  }
  return { ballots: counted.length, total_weight: weight, lines: ballotLines };
}

/** Throws `tally` with `message` unless `t` (parseTallyView's) has `shape` and equals `acc`. */
function sameTally(t, acc, shape, message) {
  const qs = t.tally.questions;
  if (qs.length !== shape.length) throw refuse(`${message} (${qs.length} questions, the manifest has ${shape.length})`);
  let k = 0;
  shape.forEach((s, qi) => {
    const q = qs[qi];
    if (q.choices.length !== s.choices || (q.blank !== undefined) !== s.blank) throw refuse(`${message} (question ${qi + 1} has another shape)`);
    for (const c of s.blank ? [...q.choices, q.blank] : q.choices) {
      const want = acc[k];
      if (!c.alpha.equals(want.alpha) || !c.beta.equals(want.beta)) throw refuse(`${message} (question ${qi + 1}, ciphertext ${k + 1})`);
      k += 1;
    }
  });
}
