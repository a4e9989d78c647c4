// test-vectors/credential.json: credentials, their forgiving reading, key derivation and the
// fingerprint of a public credential list (spec §5).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  credentialListFingerprint,
  decodePoint,
  deriveCredentialKey,
  displayCredential,
  encodePoint,
  encodeScalar,
  generateCredential,
  parseCredential,
  toBase64Url,
} from '../src/urne/index.js';
import { assertRejects, loadVectors, resolvedCases } from '../testkit/vectors.js';

const file = loadVectors('credential');

for (const c of resolvedCases(file)) {
  test(`credential.json ${c.name}`, () => {
    if (c.kind === 'credential') {
      if (!c.valid) {
        assertRejects(() => parseCredential(c.text), { kind: c.error, position: c.position, found: c.found }, c.name);
        return;
      }
      assert.equal(displayCredential(parseCredential(c.text)), c.canonical);
      assert.ok(c.keys.length > 0);
      for (const k of c.keys) {
        const { x, X } = deriveCredentialKey(k.election_id, c.text);
        assert.equal(encodeScalar(x), k.secret_key, k.election_id);
        assert.equal(encodePoint(X), k.public_credential, k.election_id);
      }
    } else if (c.kind === 'credential_list') {
      assert.equal(c.valid, true);
      const entries = c.credentials.map((e) => ({ credential: decodePoint(e.credential), weight: e.weight }));
      assert.equal(toBase64Url(credentialListFingerprint(entries)), c.fingerprint);
    } else {
      assert.fail(`unknown kind ${c.kind}`);
    }
  });
}

test('generated credentials read back, and differ', () => {
  const a = generateCredential();
  const b = generateCredential();
  assert.match(a, /^([0-9A-HJKMNP-TV-Z]{5}-){5}[0-9A-HJKMNP-TV-Z]{5}$/);
  assert.equal(displayCredential(parseCredential(a)), a);
  assert.notEqual(a, b);
});
