// What the trustee page checks before it decrypts the mix's last list (web/trustee/mix-chain.js):
// the list must descend, through shuffles whose proofs the page verifies, from a shuffle that this
// trustee signed. A board is made here in memory as the server writes it (ballot lines, the
// tally, the tally's factors, then each shuffle's `shuffle_chunk` lines and its `shuffle` line),
// with shuffles made by mix.js `makeShuffle`; the tests change one thing at a time and expect
// the refusal.
//
// `MIX_CHAIN_BENCH=1000x5 node --test test/trustee-mix-chain.test.js` also times the check of a
// chain of two shuffles of 1,000 rows of width 5 (the own shuffle first, so the ballots are read).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  G,
  addCiphertexts,
  createBallot,
  decodeCiphertext,
  decodePoint,
  encodeCiphertext,
  encodePoint,
  listDigest,
  loadElection,
  makeShuffle,
  mixList,
  mulSecret,
  newIdentity,
  randomScalar,
  toBase64Url,
} from '../src/urne/trustee-index.js';
import { mixInputDigest, readShuffles, verifyMixChain } from '../trustee/mix-chain.js';
import { checkTally } from '../trustee/tally-check.js';

const ELECTION = 'mix-chain';

/** Three independent trustees and a manifest with one ranked question of `w` answers. */
function election(w = 3, revote = 'last_counts') {
  const ids = [1, 2, 3].map((index) => newIdentity({ electionId: ELECTION, index, name: `Trustee ${index}` }));
  const keys = ids.map((t) => decodePoint(t.public.public_key));
  const answers = Array.from({ length: w }, (_, k) => `Answer ${k}`);
  const manifest = {
    format: 'urne/manifest/v1',
    id: ELECTION,
    title: 'Chain',
    description: '',
    questions: [
      { text: 'Adopt?', answers: ['Yes', 'No'], min: 1, max: 1, blank: false, counting: 'plurality' },
      { text: 'Rank', answers, min: 1, max: w, blank: false, counting: 'schulze' },
    ],
    weights: 'equal',
    revote,
    opens_at: '2026-03-01T08:00:00Z',
    closes_at: '2026-03-08T18:00:00Z',
    trustees: ids.map((t) => t.public),
    threshold: 3,
    public_key: encodePoint(keys.reduce((a, b) => a.add(b))),
  };
  return { manifest, election: loadElection(manifest), secrets: ids.map((t) => t.secret), Y: keys.reduce((a, b) => a.add(b)) };
}

/** A voter's credential key. */
function voter() {
  const x = randomScalar();
  return { x, X: mulSecret(G, x) };
}

/** A ballot line's JSON for the credential `key`, signed by it (ballot.js `createBallot`). */
function ballotOf(s, key) {
  const w = s.manifest.questions[1].answers.length;
  const ranks = Array.from({ length: w }, (_, k) => 1 + ((k * 7) % w));
  const made = createBallot(s.election, key, [{ selected: [randomScalar() % 2n === 0n ? 0 : 1] }, { ranks }]);
  return { type: 'ballot', cast_at: '2026-03-02T08:00:00Z', tracker: made.tracker, ballot: JSON.parse(made.json) };
}

/** The tally line of the counted ballot lines (spec §8.2), summed here by addCiphertexts. */
function tallyLine(counted) {
  const sum = (a) => encodeCiphertext(addCiphertexts(counted.map((l) => decodeCiphertext(l.ballot.answers[0].choices[a]))));
  return { type: 'tally', ballots: counted.length, total_weight: counted.length, tally: { questions: [{ choices: [sum(0), sum(1)] }, { choices: [] }] } };
}

/** GET …/mix of `rows` (JSON), one page. */
function mixView(rows, state = {}) {
  return {
    ballots: rows.length,
    width: rows[0]?.length ?? 0,
    shuffles_needed: 2,
    decryptions_needed: 3,
    tally_decryptions: 3,
    shufflers: [],
    next_shuffle: 0,
    decryptors: [],
    decrypted: false,
    result: false,
    list_digest: toBase64Url(listDigest(rows.map((r) => r.map((c) => decodeCiphertext(c))))),
    max_upload_bytes: 16 << 20,
    ...state,
    from: 0,
    rows,
  };
}

/**
 * A board: the manifest, `ballots` voters' credential lines, their signed ballot lines (the first
 * credential votes twice: its later ballot counts, in its place), the tally and its factors, then
 * shuffles by `shufflers` in turn. `tamper(ballotLines, s)` may change the ballot lines first (a
 * server's forgery): the tally and the shuffles then take the last ballot line of each credential
 * as the server would, without the page's checks. Returns the lines, the mix input's rows (JSON,
 * in the counted order) and each shuffle's output (JSON rows).
 */
function board(s, ballots, shufflers, chunkRows = 2, tamper = (b) => b) {
  const { manifest, secrets } = s;
  const voters = Array.from({ length: ballots }, voter);
  const lines = [{ type: 'header', format: 'urne/record/v1' }, { type: 'manifest', manifest }];
  for (const v of voters) lines.push({ type: 'credential', credential: encodePoint(v.X), weight: 1 });
  lines.push({ type: 'open', at: '2026-03-01T08:00:00Z' });
  const cast = voters.map((v) => ballotOf(s, v));
  if (ballots > 0) cast.splice(2, 0, ballotOf(s, voters[0])); // a revote: c0's first ballot no longer counts
  const ballotLines = tamper(cast, s);
  lines.push(...ballotLines);
  const counted = ballotLines.filter((c, i) => !ballotLines.slice(i + 1).some((d) => d.ballot.credential === c.ballot.credential));
  const input = counted.map((l) => l.ballot.answers[1].choices);
  lines.push(tallyLine(counted));
  for (const t of [1, 2, 3]) lines.push({ type: 'partial_decryption', partial: { trustee: t } });
  let list = input;
  const outputs = [];
  shufflers.forEach((index, position) => {
    const current = mixList([mixView(list, { shufflers: shufflers.slice(0, position), next_shuffle: position })]);
    const made = makeShuffle(current, { electionId: ELECTION, index, identitySecret: secrets[index - 1], manifest, chunkRows });
    for (const c of made.chunks) lines.push({ type: 'shuffle_chunk', ...c });
    lines.push({ type: 'shuffle', ...made.end });
    list = made.outputs;
    outputs.push(made.outputs);
  });
  lines.forEach((l, seq) => {
    l.seq = seq;
  });
  return { lines, input, outputs, counted };
}

/** A reader of the board's lines (copies, as a server's answer would be), counting what it reads. */
function reader(lines) {
  const read = new Set();
  const f = async (from, limit) => {
    const out = lines.slice(from, from + limit);
    out.forEach((_, k) => read.add(from + k));
    return structuredClone(out);
  };
  f.read = read;
  return f;
}

const decode = (rows) => rows.map((r) => r.map((c) => decodeCiphertext(c)));

/** The whole check as the worker runs it, for trustee `index` and the server's list `rows`. */
async function check(setting, lines, index, rows) {
  const readLines = reader(lines);
  const found = await readShuffles(readLines, lines.length, index);
  if (found.own === null) verifyMixChain({ manifest: setting.manifest, index, found, rows: decode(rows) });
  const inputDigest = found.own === 0 ? await mixInputDigest(readLines, setting.manifest, lines.length) : undefined;
  verifyMixChain({ manifest: setting.manifest, index, found, rows: decode(rows), inputDigest });
  return { found, read: readLines.read };
}

test('a chain own shuffle, another trustee’s, then the server’s list verifies, for the first and the second shuffler', async () => {
  const s = election();
  const { lines, input, outputs } = board(s, 5, [1, 2]);
  // Trustee 1 shuffled first: its input is the counted ballots, read from the board.
  const first = await check(s, lines, 1, outputs[1]);
  assert.equal(first.found.own, 0);
  assert.deepEqual(
    first.found.shuffles.map((g) => [g.end.shuffle, g.end.trustee, g.chunks.length]),
    [
      [0, 1, 3],
      [1, 2, 3],
    ],
  );
  // Trustee 2 shuffled second: the first shuffle's output is its input; no ballot is read.
  const second = await check(s, lines, 2, outputs[1]);
  assert.equal(second.found.own, 1);
  const tally = lines.findIndex((l) => l.type === 'tally');
  assert.ok([...second.read].every((seq) => seq > tally), `lines read: ${[...second.read].sort((a, b) => a - b)}`);
  // The mix input digest is that of the counted ballots, the revote taken into account.
  const digest = await mixInputDigest(reader(lines), s.manifest, lines.length);
  assert.deepEqual(digest, listDigest(decode(input)));
  const firstBallots = lines.filter((l) => l.type === 'ballot').map((l) => l.ballot.answers[1].choices);
  firstBallots.splice(2, 1); // c0's first ballot counted instead of its revote
  assert.notDeepEqual(digest, listDigest(decode(firstBallots)));
});

test('a server list that is not the last verified output is refused', async () => {
  const s = election();
  const { lines, input, outputs } = board(s, 4, [1, 2]);
  // The own shuffle's output, one step behind.
  await assert.rejects(check(s, lines, 1, outputs[0]), { kind: 'chain', message: /not the output of the last shuffle/ });
  // The ballots in board order: the list the mix exists to keep from being decrypted.
  await assert.rejects(check(s, lines, 2, input), { kind: 'chain' });
  // The last output with two rows swapped.
  const swapped = [outputs[1][1], outputs[1][0], ...outputs[1].slice(2)];
  await assert.rejects(check(s, lines, 1, swapped), { kind: 'chain' });
});

test('a later shuffle whose proof does not verify is refused', async () => {
  const s = election();
  const { lines, outputs } = board(s, 4, [1, 2, 3]);
  // Shuffle 2's output rows reordered (its signature is left as it is: the proof fails first).
  const bad = structuredClone(lines);
  const chunk = bad.find((l) => l.type === 'shuffle_chunk' && l.shuffle === 1 && l.offset === 0);
  [chunk.outputs[0], chunk.outputs[1]] = [chunk.outputs[1], chunk.outputs[0]];
  await assert.rejects(check(s, bad, 1, outputs[2]), { kind: 'chain', message: /proof of shuffle number 2 \(trustee 2\)/ });
  // A response of the last shuffle changed.
  const bad2 = structuredClone(lines);
  const end = bad2.find((l) => l.type === 'shuffle' && l.shuffle === 2);
  end.s1 = bad2.find((l) => l.type === 'shuffle' && l.shuffle === 1).s1;
  await assert.rejects(check(s, bad2, 1, outputs[2]), { kind: 'chain', message: /proof of shuffle number 3/ });
  // The earlier shuffle's proof is not checked by a later shuffler: only its output's digest counts.
  await check(s, lines, 2, outputs[2]);
});

test('a chunk of the own shuffle altered, or a list that was never shuffled, fails the own signature', async () => {
  const s = election();
  const { lines, outputs } = board(s, 4, [1, 2]);
  const bad = structuredClone(lines);
  const chunk = bad.find((l) => l.type === 'shuffle_chunk' && l.shuffle === 0 && l.offset === 2);
  [chunk.outputs[0], chunk.outputs[1]] = [chunk.outputs[1], chunk.outputs[0]];
  await assert.rejects(check(s, bad, 1, outputs[1]), { kind: 'chain', message: /signature of shuffle number 1, by this trustee/ });
  // A server that puts the ballots in another order (another mix input) cannot reuse the signature.
  const reordered = structuredClone(lines);
  const tally = reordered.findIndex((l) => l.type === 'tally');
  [reordered[tally - 2], reordered[tally - 1]] = [reordered[tally - 1], reordered[tally - 2]];
  await assert.rejects(check(s, reordered, 1, outputs[1]), { kind: 'chain', message: /by this trustee/ });
  // A shuffle put in trustee 2's name by someone else: trustee 1 checks its signature.
  const forged = structuredClone(lines);
  forged.find((l) => l.type === 'shuffle' && l.shuffle === 1).signature = forged.find((l) => l.type === 'shuffle' && l.shuffle === 0).signature;
  await assert.rejects(check(s, forged, 1, outputs[1]), { kind: 'chain', message: /signature of shuffle number 2 by trustee 2/ });
});

test('a trustee with no shuffle on the board is refused, without reading the ballots', async () => {
  const s = election();
  const { lines, outputs } = board(s, 4, [1, 2]);
  await assert.rejects(check(s, lines, 3, outputs[1]), { kind: 'unshuffled' });
  const readLines = reader(lines);
  const found = await readShuffles(readLines, lines.length, 3);
  assert.equal(found.own, null);
  const tally = lines.findIndex((l) => l.type === 'tally');
  assert.ok([...readLines.read].every((seq) => seq >= tally), 'no ballot line is read');
  // A board with no shuffle at all.
  const none = board(s, 3, []);
  await assert.rejects(check(s, none.lines, 1, none.input), { kind: 'unshuffled' });
  // Lines that do not make a shuffle are refused as such.
  const cut = lines.filter((l) => !(l.type === 'shuffle_chunk' && l.shuffle === 1 && l.offset === 0));
  await assert.rejects(readShuffles(reader(cut), cut.length, 1), { kind: 'format' });
});

/** The whole check of trustee 1, the first shuffler, on a board tampered by `tamper`. */
async function firstShufflerCheck(s, tamper) {
  const { lines, outputs } = board(s, 4, [1, 2], 2, tamper);
  return check(s, lines, 1, outputs[1]);
}

test('a first shuffler refuses a mix input with an unsigned or forged ballot line', async () => {
  const s = election();
  // The honest board passes, so that what follows is refused for the tampering alone.
  await firstShufflerCheck(s, (b) => b);
  // A ballot line whose signature is removed, added in a listed voter's name.
  const unsigned = (b) => {
    const extra = structuredClone(b[1]);
    delete extra.ballot.signature;
    return [...b, extra];
  };
  await assert.rejects(firstShufflerCheck(s, unsigned), { kind: 'chain', message: /mix input .*board line \d+: the ballot does not parse/ });
  // A listed voter's ballot with its ranked answer replaced by the server's (the signature kept).
  const forged = (b, st) => {
    const out = structuredClone(b);
    out[3].ballot.answers[1] = ballotOf(st, voter()).ballot.answers[1];
    return out;
  };
  await assert.rejects(firstShufflerCheck(s, forged), { kind: 'chain', message: /mix input .*board line \d+: the ballot's signature does not verify under its credential/ });
  // A ballot cast again (a replayed line): the tally check's "no ballot twice".
  const replayed = (b) => [...b, structuredClone(b[1])];
  await assert.rejects(firstShufflerCheck(s, replayed), { kind: 'chain', message: /a ballot already on the board, cast again/ });
});

test('a first shuffler refuses a ballot of a credential not on the sealed list', async () => {
  const s = election();
  // Signed, but by a key the server made: no credential line lists it.
  const stranger = (b, st) => [...b, ballotOf(st, voter())];
  await assert.rejects(firstShufflerCheck(s, stranger), { kind: 'chain', message: /mix input .*the ballot's credential is not on the sealed list/ });
});

test('the first shuffler counts the ballots the tally check counts, under both revote rules', async () => {
  // last_counts: the revote replaces c0's first ballot, in both checks.
  const s = election();
  const { lines, counted } = board(s, 5, [1, 2]);
  const tally = lines.find((l) => l.type === 'tally');
  const view = { ballots: tally.ballots, total_weight: tally.total_weight, tally: structuredClone(tally.tally) };
  const got = await checkTally({ readLines: reader(lines), size: lines.length, manifest: s.manifest, tallyView: view });
  assert.equal(got.ballots, 5);
  const digest = await mixInputDigest(reader(lines), s.manifest, lines.length);
  assert.deepEqual(digest, listDigest(decode(counted.map((l) => l.ballot.answers[1].choices))));
  // A board whose tally line sums every ballot line (the revoted one too) fails the tally check,
  // and its rows, the first ballot kept, are not the mix input either.
  const all = lines.filter((l) => l.type === 'ballot');
  const wrong = { ...tallyLine(all) };
  await assert.rejects(
    checkTally({ readLines: reader(lines), size: lines.length, manifest: s.manifest, tallyView: { ballots: wrong.ballots, total_weight: wrong.total_weight, tally: wrong.tally } }),
    { kind: 'tally' },
  );
  assert.notDeepEqual(digest, listDigest(decode(all.map((l) => l.ballot.answers[1].choices))));
  // forbidden: the same board's revote refuses both checks, with the same reason.
  const f = election(3, 'forbidden');
  const fb = board(f, 4, [1, 2]);
  const ft = fb.lines.find((l) => l.type === 'tally');
  const reason = /board line \d+: a second ballot of a credential under a policy that forbids revoting/;
  await assert.rejects(
    checkTally({ readLines: reader(fb.lines), size: fb.lines.length, manifest: f.manifest, tallyView: { ballots: ft.ballots, total_weight: ft.total_weight, tally: ft.tally } }),
    { kind: 'tally', message: reason },
  );
  await assert.rejects(check(f, fb.lines, 1, fb.outputs[1]), { kind: 'chain', message: reason });
  // Without the revote, both accept it.
  const once = board(f, 4, [1, 2], 2, (b) => b.filter((_, i) => i !== 2));
  const ot = once.lines.find((l) => l.type === 'tally');
  await checkTally({ readLines: reader(once.lines), size: once.lines.length, manifest: f.manifest, tallyView: { ballots: ot.ballots, total_weight: ot.total_weight, tally: ot.tally } });
  await check(f, once.lines, 1, once.outputs[1]);
});

const bench = process.env.MIX_CHAIN_BENCH;
test('chain check timing', { skip: bench ? false : 'set MIX_CHAIN_BENCH=NxW to time the check' }, async () => {
  const [n, w] = bench.split('x').map(Number);
  const s = election(w);
  const { lines, outputs } = board(s, n, [1, 2], 100_000);
  const t0 = performance.now();
  const readLines = reader(lines);
  const found = await readShuffles(readLines, lines.length, 1);
  const t1 = performance.now();
  const inputDigest = await mixInputDigest(readLines, s.manifest, lines.length);
  const t2 = performance.now();
  verifyMixChain({ manifest: s.manifest, index: 1, found, rows: decode(outputs[1]), inputDigest });
  const t3 = performance.now();
  console.log(
    `mix chain, ${n + 1} ballot lines, 2 shuffles of ${n} x ${w}: shuffles read ${(t1 - t0).toFixed(0)} ms, mix input digest ${(t2 - t1).toFixed(0)} ms, signature + 1 proof + list ${((t3 - t2) / 1000).toFixed(2)} s`,
  );
});
