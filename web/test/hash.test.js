// test-vectors/hash.json: hash items, digests, challenges and independent generators (spec §3).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemHasher, TAGS, encodePoint, encodeScalar, generator, toBase64Url } from '../src/urne/index.js';
import { hasherFromVector, hex, itemBytes, loadVectors, resolvedCases } from '../testkit/vectors.js';

const file = loadVectors('hash');

test('hash.json context: every domain tag of the protocol', () => {
  for (const [name, tag] of Object.entries(file.context.tags)) assert.equal(TAGS[name], tag, name);
});

for (const c of resolvedCases(file)) {
  test(`hash.json ${c.name}`, () => {
    assert.equal(c.valid, true, 'hash.json has valid cases only');
    if (c.kind === 'items') {
      const len = (b) => {
        const l = new Uint8Array(8);
        new DataView(l.buffer).setBigUint64(0, BigInt(b.length));
        return hex(l) + hex(b);
      };
      const preimage = len(new TextEncoder().encode(c.tag)) + c.items.map((i) => len(itemBytes(i))).join('');
      assert.equal(preimage, c.preimage_hex);
      assert.equal(toBase64Url(hasherFromVector(c).digest()), c.digest);
      assert.equal(encodeScalar(hasherFromVector(c).challenge()), c.challenge);
    } else if (c.kind === 'generator') {
      const uniform = new ItemHasher(TAGS.GENERATOR).str(c.purpose).u64(c.index).digest();
      assert.equal(toBase64Url(uniform), c.uniform_bytes);
      assert.equal(encodePoint(generator(c.purpose, c.index)), c.point);
    } else {
      assert.fail(`unknown kind ${c.kind}`);
    }
  });
}
