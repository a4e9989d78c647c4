// What the trustee page checks before it decrypts the encrypted tally (web/trustee/tally-check.js):
// the tally must be the board's tally line and the weighted sum of the ballots counted from the
// board's signed ballot lines. A board is made here in memory as the server writes it (header,
// manifest, credential lines, open, ballot lines, close, tally), with real ballots made by
// ballot.js `createBallot`, as trustee-mix-chain.test.js makes its boards; the tests change one
// thing at a time and expect the refusal.
//
// `TALLY_CHECK_BENCH=10000 node --test test/trustee-tally-check.test.js` also times the check of
// a board of that many ballots (each re-signed copies of one ballot: the check never looks at
// the proofs).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  G,
  addCiphertexts,
  createBallot,
  decodeCiphertext,
  encodeBallot,
  encodeCiphertext,
  encodePoint,
  loadElection,
  mulSecret,
  newIdentity,
  decodePoint,
  parseBallot,
  proveSchnorr,
  randomScalar,
  signaturePrefix,
  toBase64Url,
  ballotTracker,
  vartimeMul,
} from '../src/urne/trustee-index.js';
import { LastBallots } from '../trustee/board-read.js';
import { TALLY_CHECK_MAX_LINES, checkTally } from '../trustee/tally-check.js';

const ELECTION = 'tally-check';

/**
 * Three trustees, a plurality question with blank votes and, under equal weights, a ranked one
 * (not summed; spec §4.2 allows no mixed question under weights).
 */
function election({ weights = 'equal', revote = 'last_counts' } = {}) {
  const ids = [1, 2, 3].map((index) => newIdentity({ electionId: ELECTION, index, name: `Trustee ${index}` }));
  const keys = ids.map((t) => decodePoint(t.public.public_key));
  const manifest = {
    format: 'urne/manifest/v1',
    id: ELECTION,
    title: 'Tally check',
    description: '',
    questions: [
      { text: 'Adopt?', answers: ['Yes', 'No', 'Later'], min: 1, max: 1, blank: true, counting: 'plurality' },
      { text: 'Rank', answers: ['A', 'B', 'C'], min: 1, max: 3, blank: false, counting: 'schulze' },
    ].slice(0, weights === 'equal' ? 2 : 1),
    weights,
    revote,
    opens_at: '2026-03-01T08:00:00Z',
    closes_at: '2026-03-08T18:00:00Z',
    trustees: ids.map((t) => t.public),
    threshold: 3,
    public_key: encodePoint(keys.reduce((a, b) => a.add(b))),
  };
  return { manifest, election: loadElection(manifest) };
}

/** A voter: a credential key (the string itself is not needed) and its weight. */
function voter(weight = 1) {
  const x = randomScalar();
  return { key: { x, X: mulSecret(G, x) }, weight };
}

/** A ballot line's JSON for `v` voting `choice` (an answer index, or 'blank'). */
function ballotOf(s, v, choice) {
  const first = choice === 'blank' ? { blank: true } : { selected: [choice] };
  const made = createBallot(s.election, v.key, [first, { ranks: [1, 2, 3] }].slice(0, s.manifest.questions.length));
  return { type: 'ballot', cast_at: '2026-03-02T08:00:00Z', tracker: made.tracker, ballot: JSON.parse(made.json) };
}

/**
 * The tally line of the counted `ballots` (JSON lines) with the weights `weightOf(credential)`,
 * summed as spec §8.2 says (here by addCiphertexts and vartimeMul, not by the code under test).
 */
function tallyLine(s, counted, weightOf) {
  const qs = s.manifest.questions.map((q, qi) => {
    if (q.counting !== 'plurality') return { choices: [] };
    const at = (pick) =>
      encodeCiphertext(
        addCiphertexts(
          counted.map((l) => {
            const c = decodeCiphertext(pick(l.ballot.answers[qi]));
            const w = BigInt(weightOf(l.ballot.credential));
            return { alpha: vartimeMul(c.alpha, w), beta: vartimeMul(c.beta, w) };
          }),
        ),
      );
    const out = { choices: q.answers.map((_, a) => at((ans) => ans.choices[a])) };
    if (q.blank) out.blank = at((ans) => ans.blank);
    return out;
  });
  const total = counted.reduce((w, l) => w + weightOf(l.ballot.credential), 0);
  return { type: 'tally', ballots: counted.length, total_weight: total, tally: { questions: qs } };
}

/**
 * A board: the setup (the voters' credential lines), then `casts` ([voter, choice] in order),
 * then its tally, counted by the revote rule (the last ballot per credential). Returns the lines
 * and the tally line.
 */
function board(s, voters, casts) {
  const lines = [{ type: 'header', format: 'urne/record/v1' }, { type: 'manifest', manifest: s.manifest }];
  for (const v of voters) lines.push({ type: 'credential', credential: encodePoint(v.key.X), weight: v.weight });
  lines.push({ type: 'open', at: '2026-03-01T08:00:00Z' });
  const ballots = casts.map(([v, choice]) => ballotOf(s, v, choice));
  lines.push(...ballots, { type: 'close', at: '2026-03-08T18:00:00Z' });
  const last = new Map();
  for (const b of ballots) {
    last.delete(b.ballot.credential);
    last.set(b.ballot.credential, b);
  }
  const weights = new Map(voters.map((v) => [encodePoint(v.key.X), v.weight]));
  const tally = tallyLine(s, [...last.values()], (c) => weights.get(c));
  lines.push(tally, { type: 'partial_decryption', partial: { trustee: 1 } });
  return finish(lines);
}

/** Numbers the lines; returns {lines, tally}. */
function finish(lines) {
  lines.forEach((l, seq) => {
    l.seq = seq;
  });
  return { lines, tally: lines.find((l) => l.type === 'tally') };
}

/** GET …/tally's answer for a tally line. */
const view = (t) => ({ ballots: t.ballots, total_weight: t.total_weight, tally: structuredClone(t.tally) });

/** A reader of the board's lines (copies, as a server's answer would be). */
function reader(lines) {
  return async (from, limit) => structuredClone(lines.slice(from, from + limit));
}

function check(s, lines, tallyView) {
  return checkTally({ readLines: reader(lines), size: lines.length, manifest: s.manifest, tallyView });
}

/** Five voters of weight 1 voting Yes, No, Later, blank, Yes. */
function honest(options) {
  const s = election(options);
  const voters = Array.from({ length: 5 }, () => voter());
  const b = board(s, voters, voters.map((v, i) => [v, [0, 1, 2, 'blank', 0][i]]));
  return { s, voters, ...b };
}

test('an honest tally passes, and the progress says what is read', async () => {
  const { s, lines, tally } = honest();
  const phases = [];
  const got = await checkTally({
    readLines: reader(lines),
    size: lines.length,
    manifest: s.manifest,
    tallyView: view(tally),
    onProgress: (phase, done, total) => phases.push([phase, done, total]),
  });
  assert.deepEqual(got, { ballots: 5, total_weight: 5, lines: 5 });
  assert.equal(phases[0][0], 'setup');
  assert.deepEqual(phases.at(-1), ['ballots', lines.length, lines.length]);
});

test('a tally that is one voter’s ballot, or a sum that isolates a voter, is refused', async () => {
  const { s, lines, tally } = honest();
  const one = lines.find((l) => l.type === 'ballot').ballot.answers[0];
  const single = { questions: [{ choices: one.choices, blank: one.blank }, { choices: [] }] };
  // Given by the server only: the board's tally line is honest.
  await assert.rejects(check(s, lines, { ...view(tally), tally: single }), { kind: 'tally', message: /the server gives to decrypt is not the one on the board/ });
  // Also given by the server as the count of one ballot.
  await assert.rejects(check(s, lines, { ballots: 1, total_weight: 1, tally: single }), { kind: 'tally' });
  // Written on the board as its tally line too.
  const forged = structuredClone(lines);
  const t = forged.find((l) => l.type === 'tally');
  Object.assign(t, { ballots: 1, total_weight: 1, tally: single });
  await assert.rejects(check(s, forged, view(t)), { kind: 'tally', message: /tally says 1 ballots counted, the board's ballots give 5/ });
  // With the right counts, the ciphertexts still differ.
  Object.assign(t, { ballots: 5, total_weight: 5 });
  await assert.rejects(check(s, forged, view(t)), { kind: 'tally', message: /not the weighted sum of the counted ballots \(question 1, ciphertext 1\)/ });
  // A sum without one ballot (the difference with the honest tally isolates that voter).
  const ballots = lines.filter((l) => l.type === 'ballot');
  const partial = tallyLine(s, ballots.slice(1), () => 1);
  const forged2 = structuredClone(lines);
  const t2 = forged2.find((l) => l.type === 'tally');
  Object.assign(t2, { tally: partial.tally });
  await assert.rejects(check(s, forged2, view(t2)), { kind: 'tally', message: /not the weighted sum/ });
});

test('a ballot line with a bad signature, an unknown or revoked credential, or of another election is refused', async () => {
  const { s, voters, lines, tally } = honest();
  const at = lines.findIndex((l) => l.type === 'ballot') + 1;
  // The signature of another ballot.
  const bad = structuredClone(lines);
  bad[at].ballot.signature = bad[at + 1].ballot.signature;
  await assert.rejects(check(s, bad, view(tally)), { kind: 'tally', message: new RegExp(`board line ${at}: the ballot's signature does not verify`) });
  // A choice changed after signing (a ciphertext of another ballot).
  const changed = structuredClone(lines);
  changed[at].ballot.answers[0].choices[0] = changed[at + 1].ballot.answers[0].choices[0];
  await assert.rejects(check(s, changed, view(tally)), { kind: 'tally', message: /signature does not verify/ });
  // A ballot properly signed by a credential the sealed list does not hold: the server's own.
  const stranger = voter();
  const unknown = structuredClone(lines);
  unknown.splice(at + 1, 0, ballotOf(s, stranger, 0));
  const { tally: t3, lines: l3 } = finish(unknown);
  await assert.rejects(check(s, l3, view(t3)), { kind: 'tally', message: /credential is not on the sealed list/ });
  // A credential line added once voting opened is refused as such.
  const late = structuredClone(lines);
  late.splice(at, 0, { type: 'credential', credential: encodePoint(stranger.key.X), weight: 1 });
  const { tally: t4, lines: l4 } = finish(late);
  await assert.rejects(check(s, l4, view(t4)), { kind: 'tally', message: /a credential line after voting opened/ });
  // A revoked credential's ballot (the revocation and its replacement before open).
  const revoked = structuredClone(lines);
  const open = revoked.findIndex((l) => l.type === 'open');
  revoked.splice(open, 0, { type: 'revocation', credential: encodePoint(voters[0].key.X) }, { type: 'credential', credential: encodePoint(stranger.key.X), weight: 1 });
  const { tally: t5, lines: l5 } = finish(revoked);
  await assert.rejects(check(s, l5, view(t5)), { kind: 'tally', message: /credential was revoked/ });
  // Another election's manifest (another title): the ballots are not of the manifest the page has.
  const other = { ...s.manifest, title: 'Another' };
  await assert.rejects(checkTally({ readLines: reader(lines), size: lines.length, manifest: other, tallyView: view(tally) }), {
    kind: 'tally',
    message: /board's manifest is not the one the page decrypts for/,
  });
});

test('a revote counts only the last ballot; a replayed ballot and a revote under "forbidden" are refused', async () => {
  const s = election();
  const [a, b, c] = [voter(), voter(), voter()];
  // a votes Yes, then No: only No counts.
  const { lines, tally } = board(s, [a, b, c], [
    [a, 0],
    [b, 1],
    [a, 1],
    [c, 2],
  ]);
  assert.equal(tally.ballots, 3);
  assert.deepEqual(await check(s, lines, view(tally)), { ballots: 3, total_weight: 3, lines: 4 });
  // A tally that counts a's first ballot instead of its last.
  const ballots = lines.filter((l) => l.type === 'ballot');
  const first = tallyLine(s, [ballots[0], ballots[1], ballots[3]], () => 1);
  const wrong = structuredClone(lines);
  Object.assign(wrong.find((l) => l.type === 'tally'), { tally: first.tally });
  await assert.rejects(check(s, wrong, view(first)), { kind: 'tally', message: /not the weighted sum/ });
  // Both of a's ballots summed (4 ballots).
  const both = tallyLine(s, ballots, () => 1);
  const wrong2 = structuredClone(lines);
  Object.assign(wrong2.find((l) => l.type === 'tally'), both, { seq: tally.seq });
  await assert.rejects(check(s, wrong2, view(both)), { kind: 'tally', message: /says 4 ballots counted, the board's ballots give 3/ });
  // a's first ballot cast again after its second (its signature is still valid): V-13 refuses it.
  const replay = structuredClone(lines);
  const close = replay.findIndex((l) => l.type === 'close');
  replay.splice(close, 0, structuredClone(ballots[0]));
  const r = finish(replay);
  await assert.rejects(check(s, r.lines, view(r.tally)), { kind: 'tally', message: /a ballot already on the board, cast again/ });
  // Under "forbidden", a second ballot of a is refused.
  const f = election({ revote: 'forbidden' });
  const fb = board(f, [a, b], [
    [a, 0],
    [a, 1],
    [b, 1],
  ]);
  await assert.rejects(check(f, fb.lines, view(fb.tally)), { kind: 'tally', message: /forbids revoting/ });
  // The helper the mix input shares: the last ballot per credential, in board order.
  const last = new LastBallots();
  assert.equal(last.cast('a', 1), undefined);
  last.cast('b', 2);
  assert.equal(last.cast('a', 3), 1);
  assert.deepEqual(last.counted(), [2, 3]);
});

test('weights are applied: each ballot counts its credential’s weight', async () => {
  const s = election({ weights: 'weighted' });
  const voters = [voter(3), voter(1), voter(7)];
  const { lines, tally } = board(s, voters, voters.map((v, i) => [v, i]));
  assert.equal(tally.total_weight, 11);
  assert.deepEqual(await check(s, lines, view(tally)), { ballots: 3, total_weight: 11, lines: 3 });
  // The same ballots summed with weight 1: refused, and the total weight too.
  const flat = tallyLine(s, lines.filter((l) => l.type === 'ballot'), () => 1);
  const wrong = structuredClone(lines);
  Object.assign(wrong.find((l) => l.type === 'tally'), { tally: flat.tally });
  await assert.rejects(check(s, wrong, view(flat)), { kind: 'tally', message: /not the weighted sum/ });
  const wrong2 = structuredClone(lines);
  Object.assign(wrong2.find((l) => l.type === 'tally'), { total_weight: 3 });
  await assert.rejects(check(s, wrong2, view(tally)), { kind: 'tally', message: /total weight of 3, the counted ballots weigh 11/ });
  // A weight other than 1 under equal weights is refused.
  const e = election();
  const eb = board(e, [voter(2)], []);
  await assert.rejects(check(e, eb.lines, view(eb.tally)), { kind: 'tally', message: /weight 2 is not allowed/ });
});

test('a board with no ballot has the empty tally; a board too large for the page is sent to the CLI', async () => {
  const s = election();
  const { lines, tally } = board(s, [voter()], []);
  assert.deepEqual(await check(s, lines, view(tally)), { ballots: 0, total_weight: 0, lines: 0 });
  await assert.rejects(checkTally({ readLines: reader(lines), size: TALLY_CHECK_MAX_LINES + 1, manifest: s.manifest, tallyView: view(tally) }), {
    kind: 'large',
  });
  // No tally line: nothing to decrypt yet.
  const cut = lines.slice(0, tally.seq);
  await assert.rejects(check(s, cut, view(tally)), { kind: 'format', message: /no tally line/ });
});

const bench = process.env.TALLY_CHECK_BENCH;
test('tally check timing', { skip: bench ? false : 'set TALLY_CHECK_BENCH=N to time the check of N ballots' }, async () => {
  const n = Number(bench);
  const s = election();
  const template = parseBallot(ballotOf(s, voter(), 0).ballot);
  const voters = [];
  const lines = [{ type: 'header', format: 'urne/record/v1' }, { type: 'manifest', manifest: s.manifest }];
  const ballots = [];
  for (let i = 0; i < n; i += 1) {
    const v = voter();
    voters.push(v);
    lines.push({ type: 'credential', credential: encodePoint(v.key.X), weight: 1 });
    const b = { ...template, credential: v.key.X };
    b.signature = proveSchnorr(signaturePrefix(b), v.key.x, randomScalar);
    ballots.push({ type: 'ballot', cast_at: '2026-03-02T08:00:00Z', tracker: toBase64Url(ballotTracker(b)), ballot: encodeBallot(b) });
  }
  lines.push({ type: 'open', at: '2026-03-01T08:00:00Z' }, ...ballots, { type: 'close', at: '2026-03-08T18:00:00Z' });
  lines.push(tallyLine(s, ballots, () => 1));
  const { tally } = finish(lines);
  const t0 = performance.now();
  const got = await check(s, lines, view(tally));
  const t1 = performance.now();
  assert.equal(got.ballots, n);
  console.log(`tally check, ${n} ballots (${lines.length} lines): ${((t1 - t0) / 1000).toFixed(2)} s, ${((t1 - t0) / n).toFixed(2)} ms a ballot`);
});
