// The voter's checks of the board (web/src/urne/board.js): Merkle inclusion proofs against the
// tree heads of the frozen records, and signed tree heads.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  G, ItemHasher, TAGS, bytesEqual, encodePoint, encodeScalar, fromBase64Url, leafHash, mulSecret, nodeHash,
  proveSchnorr, randomScalar, toBase64Url, verifyInclusion, verifySignedTreeHead,
} from '../src/urne/index.js';

const record = new URL('../../test-vectors/records/v1-demo-12-voters.jsonl', import.meta.url);
const lines = readFileSync(record, 'utf8').split('\n').filter((l) => l.length > 0);
const head = JSON.parse(lines.at(-1));
const leaves = lines.slice(0, head.size).map(leafHash);

// The test's own reading of docs/record.md §4.1 and §4.2, recursive where the verifier iterates.
const split = (n) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
const root = (d) => (d.length === 1 ? d[0] : nodeHash(root(d.slice(0, split(d.length))), root(d.slice(split(d.length)))));
const path = (i, d) => {
  if (d.length === 1) return [];
  const k = split(d.length);
  return i < k ? [...path(i, d.slice(0, k)), root(d.slice(k))] : [...path(i - k, d.slice(k)), root(d.slice(0, k))];
};

test("the frozen record's tree head is the root of its lines", () => {
  assert.equal(head.type, 'tree_head');
  assert.equal(toBase64Url(root(leaves)), head.root);
});

test('every line of the frozen record is proved in its tree head', () => {
  const r = fromBase64Url(head.root, 32);
  for (let i = 0; i < leaves.length; i += 1) verifyInclusion(leaves[i], i, leaves.length, r, path(i, leaves));
  // and in every smaller tree, for a few sizes
  for (const n of [1, 2, 3, 7, 16, 17]) {
    const d = leaves.slice(0, n);
    for (let i = 0; i < n; i += 1) verifyInclusion(d[i], i, n, root(d), path(i, d));
  }
});

test('rejects_inclusion_of_a_changed_line_another_index_or_a_cut_proof', () => {
  const r = fromBase64Url(head.root, 32);
  const i = 20;
  const p = path(i, leaves);
  const changed = leafHash(`${lines[i]} `);
  assert.throws(() => verifyInclusion(changed, i, leaves.length, r, p), { kind: 'inclusion' });
  assert.throws(() => verifyInclusion(leaves[i], i + 1, leaves.length, r, p), { kind: 'inclusion' });
  assert.throws(() => verifyInclusion(leaves[i], i, leaves.length, r, p.slice(1)), { kind: 'inclusion' });
  assert.throws(() => verifyInclusion(leaves[i], i, leaves.length, r, [...p, p[0]]), { kind: 'inclusion' });
  assert.throws(() => verifyInclusion(leaves[i], leaves.length, leaves.length, r, p), { kind: 'inclusion' });
  const flipped = p.map((h, j) => (j === 2 ? h.map((b, k) => (k === 0 ? b ^ 1 : b)) : h));
  assert.throws(() => verifyInclusion(leaves[i], i, leaves.length, r, flipped), { kind: 'inclusion' });
  assert.ok(bytesEqual(root(leaves), r));
});

test('a signed tree head verifies under its board key and election only', () => {
  const b = randomScalar();
  const B = mulSecret(G, b);
  const fingerprint = new Uint8Array(32).fill(7);
  const election = { manifest: { board_key: B }, fingerprint };
  const at = '2026-06-08T18:00:05Z';
  const sign = (size, rootB64) => {
    const prefix = new ItemHasher(TAGS.BOARD_TREE_HEAD).bytes(fingerprint).point(B).u64(size).bytes(fromBase64Url(rootB64, 32)).str(at);
    const sig = proveSchnorr(prefix, b, randomScalar);
    return { size, root: rootB64, at, signature: { r: encodePoint(sig.r), s: encodeScalar(sig.s) } };
  };
  const signed = sign(head.size, head.root);
  assert.equal(verifySignedTreeHead(election, signed).size, head.size);
  assert.throws(() => verifySignedTreeHead(election, { ...signed, size: head.size + 1 }), { kind: 'equation' });
  assert.throws(() => verifySignedTreeHead(election, { ...signed, at: '2026-06-08T18:00:06Z' }), { kind: 'equation' });
  const other = { ...election, fingerprint: new Uint8Array(32).fill(8) };
  assert.throws(() => verifySignedTreeHead(other, signed), { kind: 'equation' });
  assert.throws(() => verifySignedTreeHead({ ...election, manifest: {} }, signed), { kind: 'board_key' });
});
