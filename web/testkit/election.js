// A small election for tests and benchmarks: a manifest with one trustee whose key and key proof
// are made on the spot, so that it passes V-2 and V-3 like a real one.

import { G, encodePoint, encodeSchnorr, keyProofPrefix, mulSecret, proveSchnorr, randomScalar } from '../src/urne/index.js';

/**
 * The JSON text of a manifest with the given questions, each `[answers, min, max, blank]`.
 * `extra` overrides top-level fields (e.g. `{weights: 'weighted'}`).
 */
export function testManifest(id, questions, extra = {}) {
  const s = randomScalar();
  const Y = mulSecret(G, s);
  const proof = proveSchnorr(keyProofPrefix(id, 1, 'Trustee 1', Y), s, randomScalar);
  return JSON.stringify({
    format: 'urne/manifest/v1',
    id,
    title: 'Test election',
    description: '',
    questions: questions.map(([n, min, max, blank], i) => ({
      text: `Question ${i + 1}`,
      answers: Array.from({ length: n }, (_, a) => `Answer ${a + 1}`),
      min,
      max,
      blank,
      counting: 'plurality',
    })),
    weights: 'equal',
    revote: 'last_counts',
    opens_at: '2026-03-01T08:00:00Z',
    closes_at: '2026-03-08T18:00:00Z',
    trustees: [{ name: 'Trustee 1', public_key: encodePoint(Y), key_proof: encodeSchnorr(proof) }],
    threshold: 1,
    public_key: encodePoint(Y),
    ...extra,
  });
}
