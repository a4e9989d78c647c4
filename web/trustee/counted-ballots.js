// The ballots counted from the board's lines before its tally, with the checks that make them
// ballots the voters cast: shared by the trustee page's two checks before a decryption, the
// encrypted tally (tally-check.js) and the mix input of a first shuffler (mix-chain.js), so that
// both count the same ballots. The rule (spec §8.2, §8.8.1):
//
//   1. the setup is read from the board: its manifest line (the manifest the page decrypts for),
//      then its `credential` lines and `revocation` lines (spec §5.4, §5.5), all before the
//      `open` line and the first ballot (docs/record.md §2);
//   2. every ballot line before the `tally` line is of this election (V-6), has the manifest's
//      shape where the caller uses it, and is signed (V-8, spec §7.3) under its credential, which
//      is listed and not revoked (V-7); a ballot line that fails refuses the whole board;
//   3. the counted ballots are those of the revote rule V-13: no ballot twice (V-13's repeated
//      tracker, see `ballotKey`), and under `last_counts` the last ballot of each credential in
//      board order, under `forbidden` no credential twice.
//
// Public data only: the checks are variable time. Errors are UrneError: `tally` (a check failed;
// the message says which, with the board line), `format` (lines that do not parse or come in the
// wrong order).

import {
  BALLOT_FORMAT,
  UrneError,
  decodeDigest,
  decodePoint,
  decodeScalar,
  encodePoint,
  fromBase64Url,
  manifestFingerprint,
  parseManifest,
  signaturePrefix,
  bytesEqual,
  verifySchnorr,
} from '../src/urne/trustee-index.js';
import { LastBallots, readUpToTally } from './board-read.js';

/** A `tally` refusal (UrneError) with `message`, and the error it comes from. */
export function refuse(message, cause) {
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

/**
 * Reads the board of `size` lines up to its tally line by the rule above, for the manifest `m`
 * (parsed), and returns `{tally, seq, counted, lines}`: the tally line and its position, the
 * counted ballots as `{value, weight}` in board order, and the number of ballot lines read.
 * For each ballot line, once its election, answers' count and credential are checked,
 * `value(ballot, seq)` gives what is kept of it (it throws when the ballot lacks the shape the
 * caller needs); once the ballot is counted, `onCount?.(value, replaced, weight, seq)` is called
 * (`replaced` the value of the ballot its revote replaces, or undefined). `onProgress(phase,
 * done, total)` tells how far it is: phase `setup`, then `ballots` (lines read, of `size`).
 *
 * @param {{readLines: (from: number, limit: number) => Promise<object[]>, size: number, m: object,
 *   value: (ballot: object, seq: number) => any,
 *   onCount?: (value: any, replaced: any, weight: number, seq: number) => void,
 *   onProgress?: (phase: string, done: number, total: number) => void}} args
 */
export async function readCountedBallots({ readLines, size, m, value, onCount, onProgress }) {
  const fingerprint = manifestFingerprint(m);
  const forbidden = m.revote === 'forbidden';
  // The setup: credentials by their encoding, with weight and whether revoked.
  const credentials = new Map();
  let manifestSeen = false;
  let revocation = null; // the weight the next line's replacement must have
  let revoked = 0;
  let sealed = false; // after `open` or a ballot: the list may no longer change
  // The counted ballots: each credential's last ballot (the caller's value of it).
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
      const kept = value(line.ballot, seq);
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
      const before = last.cast(credential, { value: kept, weight: entry.weight });
      onCount?.(kept, before?.value, entry.weight, seq);
    } else if (type === 'header' || type === 'close' || type === 'booth' || type === 'dealing' || type === 'complaint' || type === 'answer') {
      // Nothing to check here for the tally's secrecy (the ceremony is checked by the page's steps).
    } else {
      throw new UrneError('format', `board line ${seq}: a ${String(type)} line before the tally`);
    }
  };
  const { tally, seq } = await readUpToTally(readLines, size, visit, (done, total) => onProgress?.(phase, done, total));
  if (!manifestSeen) throw new UrneError('format', 'the board has no manifest line before its tally');
  return { tally, seq, counted: last.counted(), lines: ballotLines };
}
