// test-vectors/manifest.json: manifests, their fingerprints, validation rules and trustee key
// proofs (spec §4, §8.1).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hashManifest,
  loadElection,
  manifestFingerprint,
  parseManifest,
  toBase64Url,
  verifyTrusteeKeys,
} from '../src/urne/index.js';
import { RecordingHasher, assertItems, assertRejects, hasherFromVector, loadVectors, resolvedCases } from '../testkit/vectors.js';

const file = loadVectors('manifest');

for (const c of resolvedCases(file)) {
  test(`manifest.json ${c.name}`, () => {
    assert.equal(c.kind, 'manifest', `unknown kind ${c.kind}`);
    const input = c.manifest_text ?? c.manifest;
    assert.ok(input !== undefined, 'a manifest or manifest_text');
    if (!c.valid) {
      assertRejects(() => verifyTrusteeKeys(parseManifest(input)), { kind: c.error, path: c.path }, c.name);
      return;
    }
    const m = parseManifest(input);
    verifyTrusteeKeys(m);
    assert.equal(toBase64Url(manifestFingerprint(m)), c.fingerprint);
    assert.equal(c.fingerprint_items.tag, 'urne/v1/manifest');
    assertItems(hashManifest(new RecordingHasher(), m).items, c.fingerprint_items.items, 'fingerprint items');
    assert.equal(toBase64Url(hasherFromVector(c.fingerprint_items).digest32()), c.fingerprint);
    // The same manifest as JSON text, through the strict reader, gives the same election.
    const election = loadElection(JSON.stringify(c.manifest));
    assert.equal(toBase64Url(election.fingerprint), c.fingerprint);
  });
}

test('rejects_duplicate_field: a field written twice', () => {
  const c = file.cases.find((x) => x.name === 'simple');
  const text = JSON.stringify(c.manifest).replace('"title":', '"title":"x","title":');
  assertRejects(() => parseManifest(text), { kind: 'format' }, 'duplicate');
});

test('rejects_fractional_integer: 1.0 is not an integer in JSON text', () => {
  const c = file.cases.find((x) => x.name === 'simple');
  const text = JSON.stringify(c.manifest).replace('"threshold":1', '"threshold":1.0');
  assert.notEqual(text, JSON.stringify(c.manifest));
  assertRejects(() => parseManifest(text), { kind: 'format', path: 'threshold' }, '1.0');
});

test('rejects_invalid_date: 30 February', () => {
  const c = file.cases.find((x) => x.name === 'simple');
  const m = { ...c.manifest, opens_at: '2026-02-30T08:00:00Z' };
  assertRejects(() => parseManifest(m), { kind: 'format', path: 'opens_at' }, 'date');
});
