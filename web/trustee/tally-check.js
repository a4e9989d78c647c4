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
// (1 to 3 are counted-ballots.js `readCountedBallots`, which the mix input's check shares.)
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
  IDENTITY,
  UrneError,
  decodeCiphertext,
  isMixed,
  parseManifest,
  parseTallyView,
  vartimeMul,
} from '../src/urne/trustee-index.js';
import { readCountedBallots, refuse } from './counted-ballots.js';

/**
 * The largest board (in lines, the board's size when the page decrypts) that the page checks;
 * above it the trustee is sent to `urne trustee decrypt`. Measured (docs/trustees.md): 10,000
 * ballots took 32 s in node on the shared 2-core machine (3.2 ms a ballot), so a board of
 * 100,000 lines (a credential line and a ballot line per voter: some 50,000 voters) takes a few
 * minutes, and its ballot lines are a few hundred megabytes to download.
 */
export const TALLY_CHECK_MAX_LINES = 100_000;

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
  const wanted = parseTallyView(tallyView);
  const shape = tallyShape(m);
  const width = shape.reduce((n, s) => n + s.choices + (s.blank ? 1 : 0), 0);
  // The counted ballots' running sums: a revote takes back the ballot it replaces (decoded again
  // from its line's JSON, kept rather than its decoded points to hold less memory).
  const acc = Array.from({ length: width }, () => ({ alpha: IDENTITY, beta: IDENTITY }));
  const { tally, seq, counted, lines } = await readCountedBallots({
    readLines,
    size,
    m,
    value: (ballot, at) => summed(ballot, shape, at),
    onCount: (cts, before, weight, at) => {
      if (before !== undefined) add(acc, before.map((c) => decodeCiphertext(c)), weight, -1);
      let decoded;
      try {
        decoded = cts.map((c) => decodeCiphertext(c));
      } catch (e) {
        throw refuse(`board line ${at}: a ciphertext of the ballot does not decode (${e.detail ?? e.message})`, e);
      }
      add(acc, decoded, weight, 1);
    },
    onProgress,
  });
  let line;
  try {
    line = parseTallyView({ ballots: tally.ballots, total_weight: tally.total_weight, tally: tally.tally });
  } catch (e) {
    throw new UrneError('format', `board line ${seq}: the tally does not parse (${e.detail ?? e.message})`, { cause: e });
  }
  const weight = counted.reduce((w, c) => w + c.weight, 0);
  if (line.ballots !== counted.length) throw refuse(`board line ${seq}: the tally says ${line.ballots} ballots counted, the board's ballots give ${counted.length}`);
  if (line.total_weight !== weight) throw refuse(`board line ${seq}: the tally says a total weight of ${line.total_weight}, the counted ballots weigh ${weight}`);
  sameTally(line, acc, shape, `the tally on board line ${seq} is not the weighted sum of the counted ballots`);
  sameTally(wanted, acc, shape, 'the tally the server gives to decrypt is not the one on the board');
  if (wanted.ballots !== line.ballots || wanted.total_weight !== line.total_weight) {
    throw refuse('the tally the server gives to decrypt does not count the ballots the board’s tally line counts');
  }
  return { ballots: counted.length, total_weight: weight, lines };
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
