// The mix phase in JavaScript (web/src/urne/mix.js, spec §8.7, §8.8): shuffles verify with the JS
// verifier written from spec §8.7, any changed, dropped or duplicated output row fails, a proof
// made by urne-core (test-vectors/mix/shuffle-rust.json) verifies here, and a whole mix of a small
// election (two independent trustees: shuffle, shuffle, decrypt, decrypt) gives back the votes.
// crates/urne-cli/tests/mix_js.rs checks this module's output with urne-core's verifier.
//
// `MIX_BENCH=1000x5 node --test test/mix.test.js` also times the prover on 1,000 rows of width 5.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  G,
  IDENTITY,
  ItemHasher,
  MIX_TAGS,
  decodeCiphertext,
  decodeDigest,
  decodePoint,
  decodeSchnorr,
  decodeShuffleProof,
  decodeDecryptionFactor,
  encodeCiphertext,
  encodePoint,
  encodeShuffleProof,
  encrypt,
  fromBase64Url,
  listDigest,
  makeShuffle,
  manifestFingerprint,
  mixDecryption,
  mixList,
  mixWidth,
  newIdentity,
  parseManifest,
  proveShuffle,
  randomScalar,
  shuffleRows,
  toBase64Url,
  verifyDecryptionFactor,
  verifySchnorr,
  verifyShuffle,
} from '../src/urne/trustee-index.js';

const ELECTION = 'mix-node';

/** An election key with its secret, and a random fingerprint. */
function setting() {
  const s = randomScalar();
  return { s, Y: G.multiply(s), fingerprint: toBase64Url(new Uint8Array(32).fill(7)) };
}

/** n rows of width w of encryptions of small values, with those values. */
function rows(Y, n, w) {
  const values = Array.from({ length: n }, (_, i) => Array.from({ length: w }, (_, k) => (i * 3 + k) % 5));
  return { values, cts: values.map((r) => r.map((v) => encrypt(Y, v, randomScalar()))) };
}

/** The value in 0 … 63 that a ciphertext decrypts to under s, or -1. */
function decryptSmall(s, ct) {
  const M = ct.beta.subtract(ct.alpha.multiply(s));
  let P = IDENTITY;
  for (let v = 0; v < 64; v++) {
    if (P.equals(M)) return v;
    P = P.add(G);
  }
  return -1;
}

const sorted = (list) => list.map((r) => r.join(',')).sort();

test('small shuffles verify, keep the plaintexts, and any changed row fails', () => {
  const { s, Y, fingerprint } = setting();
  const fp = decodeDigest(fingerprint);
  for (const [n, w] of [
    [1, 1],
    [2, 1],
    [3, 2],
    [6, 3],
  ]) {
    const { values, cts } = rows(Y, n, w);
    const { outputs, witness } = shuffleRows(Y, cts);
    const proof = proveShuffle(fp, Y, cts, outputs, witness);
    verifyShuffle(fp, Y, cts, outputs, proof);
    assert.deepEqual(sorted(outputs.map((r) => r.map((ct) => decryptSmall(s, ct)))), sorted(values));
    // The JSON form round-trips, and the decoded proof still verifies.
    const back = decodeShuffleProof(JSON.parse(JSON.stringify(encodeShuffleProof(proof))));
    verifyShuffle(fp, Y, cts, outputs, back);
    // Every output ciphertext changed alone: the proof fails.
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < w; k++) {
        for (const part of ['alpha', 'beta']) {
          const bad = outputs.map((r) => r.slice());
          bad[i][k] = { ...bad[i][k], [part]: bad[i][k][part].add(G) };
          assert.throws(() => verifyShuffle(fp, Y, cts, bad, proof), { kind: 'equation' }, `${n}x${w} ${i}.${k}.${part}`);
        }
      }
    }
    if (n >= 2) {
      // A row replaced by a re-encryption of another: one ballot counted twice, one dropped.
      const dup = outputs.map((r) => r.slice());
      dup[n - 1] = outputs[0].map((ct) => ({ alpha: ct.alpha.add(G.multiply(5n)), beta: ct.beta.add(Y.multiply(5n)) }));
      assert.throws(() => verifyShuffle(fp, Y, cts, dup, proof), { kind: 'equation' });
      // Two rows swapped.
      const swapped = outputs.slice();
      [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
      assert.throws(() => verifyShuffle(fp, Y, cts, swapped, proof), { kind: 'equation' });
      // A row dropped: refused by shape before any hashing.
      assert.throws(() => verifyShuffle(fp, Y, cts, outputs.slice(1), proof), { kind: 'shape' });
    }
    // Another election's fingerprint.
    assert.throws(() => verifyShuffle(new Uint8Array(32), Y, cts, outputs, proof), { kind: 'equation' });
  }
});

test('a proof made by urne-core verifies with the JS verifier (test-vectors/mix/shuffle-rust.json)', () => {
  const v = JSON.parse(readFileSync(fileURLToPath(new URL('../../test-vectors/mix/shuffle-rust.json', import.meta.url)), 'utf8'));
  const fp = decodeDigest(v.fingerprint);
  const Y = decodePoint(v.public_key);
  const inputs = v.inputs.map((r) => r.map((c) => decodeCiphertext(c)));
  const outputs = v.outputs.map((r) => r.map((c) => decodeCiphertext(c)));
  const proof = decodeShuffleProof(v.proof);
  verifyShuffle(fp, Y, inputs, outputs, proof);
  assert.deepEqual(encodeShuffleProof(proof), v.proof);
  const other = outputs.slice();
  [other[0], other[1]] = [other[1], other[0]];
  assert.throws(() => verifyShuffle(fp, Y, inputs, other, proof), { kind: 'equation' });
});

test('refuses shapes and proofs of another key', () => {
  const { Y, fingerprint } = setting();
  const fp = decodeDigest(fingerprint);
  assert.throws(() => shuffleRows(Y, []), { kind: 'shape' });
  assert.throws(() => shuffleRows(Y, [[]]), { kind: 'shape' });
  const { cts } = rows(Y, 3, 2);
  assert.throws(() => shuffleRows(Y, [cts[0], cts[1].slice(1)]), { kind: 'shape' });
  const { outputs, witness } = shuffleRows(Y, cts);
  const proof = proveShuffle(fp, Y, cts, outputs, witness);
  const Z = G.multiply(randomScalar());
  assert.throws(() => verifyShuffle(fp, Z, cts, outputs, proof), { kind: 'equation' });
  assert.throws(() => verifyShuffle(fp, Y, cts, outputs, { ...proof, s4: proof.s4.slice(1) }), { kind: 'shape' });
  // A shuffle under another key, proved under Y, fails.
  const bad = shuffleRows(Z, cts);
  const p = proveShuffle(fp, Y, cts, bad.outputs, bad.witness);
  assert.throws(() => verifyShuffle(fp, Y, cts, bad.outputs, p), { kind: 'equation' });
});

/** A mixed election with two independent trustees made here, its secrets and its manifest. */
function election() {
  const ids = [1, 2].map((index) => newIdentity({ electionId: ELECTION, index, name: `Trustee ${index}` }));
  const keys = ids.map((t) => decodePoint(t.public.public_key));
  const manifest = {
    format: 'urne/manifest/v1',
    id: ELECTION,
    title: 'Mix in node',
    description: '',
    questions: [
      { text: 'Adopt?', answers: ['Yes', 'No'], min: 1, max: 1, blank: false, counting: 'plurality' },
      { text: 'Rank', answers: ['A', 'B', 'C'], min: 1, max: 3, blank: false, counting: 'schulze' },
      {
        text: 'Grade',
        answers: ['X', 'Y'],
        min: 2,
        max: 2,
        blank: false,
        counting: 'majority_judgment',
        grades: ['Good', 'Fair', 'Poor'],
      },
    ],
    weights: 'equal',
    revote: 'last_counts',
    opens_at: '2026-03-01T08:00:00Z',
    closes_at: '2026-03-08T18:00:00Z',
    trustees: ids.map((t) => t.public),
    threshold: 2,
    public_key: encodePoint(keys[0].add(keys[1])),
  };
  return { manifest, secrets: ids.map((t) => t.secret) };
}

/** GET …/mix as the server answers it, in pages of `page` rows. */
function pages(list, state, page) {
  const out = [];
  for (let from = 0; from === 0 || from < list.length; from += page) {
    out.push({
      ballots: list.length,
      width: list[0]?.length ?? 0,
      shuffles_needed: 2,
      decryptions_needed: 2,
      tally_decryptions: 2,
      shufflers: [],
      next_shuffle: 0,
      decryptors: [],
      decrypted: false,
      result: false,
      list_digest: toBase64Url(listDigest(list.map((r) => r.map((c) => decodeCiphertext(c))))),
      max_upload_bytes: 16 << 20,
      ...state,
      from,
      rows: list.slice(from, from + page),
    });
  }
  return out;
}

test('two trustees shuffle and decrypt a small election: the bodies check and give the votes back', () => {
  const { manifest, secrets } = election();
  const m = parseManifest(manifest);
  const fp = manifestFingerprint(m);
  const Y = m.public_key;
  const w = mixWidth(m);
  assert.equal(w, 5);
  const votes = [
    [1, 2, 3, 0, 2],
    [2, 1, 0, 1, 1],
    [3, 0, 0, 2, 0],
    [1, 3, 2, 0, 0],
    [0, 0, 1, 1, 2],
  ];
  let list = votes.map((r) => r.map((v) => encodeCiphertext(encrypt(Y, v, randomScalar()))));

  // Tampered pages are refused.
  const good = pages(list, {}, 2);
  const wrongDigest = structuredClone(good);
  wrongDigest[1].rows[0] = wrongDigest[0].rows[0];
  assert.throws(() => mixList(wrongDigest), { kind: 'format' });
  assert.throws(() => mixList([good[0], good[2]]), { kind: 'format' });

  for (const [index, position] of [
    [2, 0],
    [1, 1],
  ]) {
    const state = { shufflers: position === 0 ? [] : [2], next_shuffle: position };
    const current = mixList(pages(list, state, 2));
    // Not with the other trustee's secret.
    assert.throws(
      () => makeShuffle(current, { electionId: ELECTION, index, identitySecret: secrets[2 - index], manifest }),
      { kind: 'key' },
    );
    const r = makeShuffle(current, { electionId: ELECTION, index, identitySecret: secrets[index - 1], manifest, chunkRows: 2 });
    assert.equal(r.position, position);
    assert.deepEqual(
      r.chunks.map((c) => [c.offset, c.outputs.length]),
      [
        [0, 2],
        [2, 2],
        [4, 1],
      ],
    );
    // Reassemble the proof as the server does, and check proof and signature.
    const proof = decodeShuffleProof({
      permutation_commitments: r.chunks.flatMap((c) => c.permutation_commitments),
      chain_commitments: r.chunks.flatMap((c) => c.chain_commitments),
      t1: r.end.t1,
      t2: r.end.t2,
      t3: r.end.t3,
      t4: r.end.t4,
      t_hat: r.chunks.flatMap((c) => c.t_hat),
      s1: r.end.s1,
      s2: r.end.s2,
      s3: r.end.s3,
      s4: r.end.s4,
      s_hat: r.chunks.flatMap((c) => c.s_hat),
      s_prime: r.chunks.flatMap((c) => c.s_prime),
    });
    const outputs = r.chunks.flatMap((c) => c.outputs).map((row) => row.map((c) => decodeCiphertext(c)));
    assert.equal(r.end.ballots, 5);
    assert.equal(r.end.shuffle, position);
    assert.ok(r.chunks.every((c) => c.trustee === index && c.shuffle === position));
    verifyShuffle(fp, Y, current.rows, outputs, proof);
    const prefix = new ItemHasher(MIX_TAGS.SHUFFLE_SIGNATURE)
      .bytes(fp)
      .point(m.trustees[index - 1].public_key)
      .u64(index)
      .u64(position)
      .bytes(listDigest(current.rows))
      .bytes(listDigest(outputs));
    verifySchnorr(prefix, m.trustees[index - 1].public_key, decodeSchnorr(r.end.signature));
    assert.throws(() => verifySchnorr(prefix, m.trustees[2 - index].public_key, decodeSchnorr(r.end.signature)), {
      kind: 'equation',
    });
    // The same trustee again: refused.
    const again = mixList(pages(r.outputs, { shufflers: [index], next_shuffle: position + 1 }, 4096));
    assert.throws(() => makeShuffle(again, { electionId: ELECTION, index, identitySecret: secrets[index - 1], manifest }), {
      kind: 'state',
    });
    list = r.outputs;
  }

  // Both trustees decrypt the last list; the combined factors give the votes, in another order.
  const last = mixList(pages(list, { shufflers: [2, 1], next_shuffle: 2 }, 3));
  const early = mixList(pages(list, { shufflers: [2], next_shuffle: 1 }, 3));
  assert.throws(() => mixDecryption(early, { electionId: ELECTION, index: 1, share: secrets[0], manifest }), { kind: 'state' });
  const factors = [1, 2].map((index) => {
    const { bodies } = mixDecryption(last, { electionId: ELECTION, index, share: secrets[index - 1], manifest, chunkRows: 2 });
    assert.deepEqual(
      bodies.map((b) => [b.trustee, b.offset, b.factors.length]),
      [
        [index, 0, 2],
        [index, 2, 2],
        [index, 4, 1],
      ],
    );
    const all = bodies.flatMap((b) => b.factors).map((row) => row.map((f) => decodeDecryptionFactor(f)));
    all.forEach((row, i) => row.forEach((f, k) => verifyDecryptionFactor(fp, m.trustees[index - 1].public_key, last.rows[i][k], f)));
    return all;
  });
  const opened = last.rows.map((row, i) =>
    row.map((ct, k) => {
      const M = ct.beta.subtract(factors[0][i][k].factor).subtract(factors[1][i][k].factor);
      let P = IDENTITY;
      for (let v = 0; v < 64; v++, P = P.add(G)) if (P.equals(M)) return v;
      return -1;
    }),
  );
  assert.deepEqual(sorted(opened), sorted(votes));
});

test('secret material never shows in the bodies', () => {
  const { manifest, secrets } = election();
  const m = parseManifest(manifest);
  const list = [[0, 1, 2, 0, 1]].map((r) => r.map((v) => encodeCiphertext(encrypt(m.public_key, v, randomScalar()))));
  const r = makeShuffle(mixList(pages(list, {}, 10)), { electionId: ELECTION, index: 1, identitySecret: secrets[0], manifest });
  const text = JSON.stringify(r);
  assert.ok(!text.includes(toBase64Url(secrets[0])));
  assert.equal(fromBase64Url(r.end.s1).length, 32);
});

const bench = process.env.MIX_BENCH;
test('prover timing', { skip: bench ? false : 'set MIX_BENCH=NxW to time the prover' }, () => {
  const [n, w] = bench.split('x').map(Number);
  const { manifest, secrets } = election();
  const m = parseManifest(manifest);
  assert.equal(mixWidth(m), 5, 'the bench election has rows of width 5');
  assert.equal(w, 5, 'MIX_BENCH=Nx5');
  const Y = m.public_key;
  const list = Array.from({ length: n }, () => Array.from({ length: w }, () => encodeCiphertext(encrypt(Y, 1, randomScalar()))));
  const served = pages(list, {}, 4096);
  const t0 = performance.now();
  const current = mixList(served);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const r = makeShuffle(current, { electionId: ELECTION, index: 1, identitySecret: secrets[0], manifest });
  const cpu1 = process.cpuUsage(c1);
  const t2 = performance.now();
  const bytes = r.chunks.reduce((a, c) => a + JSON.stringify(c).length, JSON.stringify(r.end).length);
  console.log(
    `mix.js makeShuffle, ${n} rows x ${w}: ${((t2 - t1) / 1000).toFixed(2)} s, CPU ${(cpu1.user / 1e6).toFixed(2)} s (shuffle, proof, signature, ` +
      `${r.chunks.length} bodies of ${(bytes / 1e6).toFixed(1)} MB in all); reading the pages ${((t1 - t0) / 1000).toFixed(2)} s`,
  );
  const last = mixList(pages(r.outputs, { shufflers: [1, 2], next_shuffle: 2 }, 4096));
  const t3 = performance.now();
  const c3 = process.cpuUsage();
  const d = mixDecryption(last, {
    electionId: ELECTION,
    index: 1,
    share: secrets[0],
    manifest,
  });
  const cpu3 = process.cpuUsage(c3);
  console.log(
    `mix.js mixDecryption, ${n} rows x ${w}: ${((performance.now() - t3) / 1000).toFixed(2)} s, CPU ${(cpu3.user / 1e6).toFixed(2)} s (${d.bodies.length} bodies)`,
  );
});
