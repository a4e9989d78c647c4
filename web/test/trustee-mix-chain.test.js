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
  decodeCiphertext,
  decodePoint,
  encodeCiphertext,
  encodePoint,
  encrypt,
  listDigest,
  makeShuffle,
  mixList,
  newIdentity,
  randomScalar,
  toBase64Url,
} from '../src/urne/trustee-index.js';
import { mixInputDigest, readShuffles, verifyMixChain } from '../trustee/mix-chain.js';

const ELECTION = 'mix-chain';

/** Three independent trustees and a manifest with one ranked question of `w` answers. */
function election(w = 3) {
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
    revote: 'last_counts',
    opens_at: '2026-03-01T08:00:00Z',
    closes_at: '2026-03-08T18:00:00Z',
    trustees: ids.map((t) => t.public),
    threshold: 3,
    public_key: encodePoint(keys.reduce((a, b) => a.add(b))),
  };
  return { manifest, secrets: ids.map((t) => t.secret), Y: keys.reduce((a, b) => a.add(b)) };
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
 * A board: `ballots` ballot lines (the first credential votes twice: its later ballot counts, in
 * its place), the tally and its factors, then shuffles by `shufflers` in turn. Returns the lines,
 * the mix input's rows (JSON, in the counted order) and each shuffle's output (JSON rows).
 */
function board({ manifest, secrets, Y }, ballots, shufflers, chunkRows = 2) {
  const w = manifest.questions[1].answers.length;
  const lines = [{ type: 'manifest' }];
  const row = () => Array.from({ length: w }, (_, k) => encodeCiphertext(encrypt(Y, k % 2, randomScalar())));
  const plurality = () => ({ choices: [encodeCiphertext(encrypt(Y, 1, randomScalar())), encodeCiphertext(encrypt(Y, 0, randomScalar()))] });
  const cast = [];
  for (let b = 0; b < ballots; b += 1) cast.push({ credential: `c${b}`, row: row() });
  cast.splice(2, 0, { credential: 'c0', row: row() }); // a revote: c0's first ballot no longer counts
  for (const c of cast) lines.push({ type: 'ballot', ballot: { credential: c.credential, answers: [plurality(), { choices: c.row }] } });
  const counted = cast.filter((c, i) => !cast.slice(i + 1).some((d) => d.credential === c.credential)).map((c) => c.row);
  lines.push({ type: 'tally', ballots: counted.length });
  for (const t of [1, 2, 3]) lines.push({ type: 'partial_decryption', partial: { trustee: t } });
  let list = counted;
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
  return { lines, input: counted, outputs };
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
