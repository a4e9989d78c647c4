// test-vectors/encoding.json: base64url, points and scalars (spec §2).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  G,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  fromBase64Url,
  mulSecret,
  nonIdentity,
  toBase64Url,
} from '../src/urne/index.js';
import { assertRejects, hex, loadVectors, resolvedCases } from '../testkit/vectors.js';

const file = loadVectors('encoding');

const decoders = {
  base64: (c) => fromBase64Url(c.text),
  point: (c) => decodePoint(c.encoding),
  point_nonidentity: (c) => nonIdentity(decodePoint(c.encoding)),
  scalar: (c) => decodeScalar(c.encoding),
};

for (const c of resolvedCases(file)) {
  test(`encoding.json ${c.name}`, () => {
    const decode = decoders[c.kind];
    assert.ok(decode, `unknown kind ${c.kind}`);
    if (!c.valid) {
      assertRejects(() => decode(c), { kind: c.error }, c.name);
      return;
    }
    const v = decode(c);
    switch (c.kind) {
      case 'base64':
        assert.equal(hex(v), c.hex);
        assert.equal(toBase64Url(v), c.text, 'the canonical text round trip');
        break;
      case 'point':
      case 'point_nonidentity':
        assert.equal(hex(v.toBytes()), c.hex);
        assert.equal(encodePoint(v), c.encoding);
        assert.ok(mulSecret(G, BigInt(c.k)).equals(v), 'encoding = k·G');
        break;
      case 'scalar':
        assert.equal(v, BigInt(c.decimal));
        assert.equal(encodeScalar(v), c.encoding);
        assert.equal(hex(fromBase64Url(c.encoding)), c.hex);
        break;
    }
  });
}
