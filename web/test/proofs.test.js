// test-vectors/proofs.json: ElGamal encryption and every proof (spec §6, §8.1, §8.3). Valid
// cases are re-proved from their recorded randomness and must come out byte for byte, then verify;
// invalid ones must be refused with the recorded error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CHOICE_ALLOWED,
  G,
  choicePrefix,
  countAllowed,
  countPrefix,
  countStatement,
  decodeCiphertext,
  decodeDecryptionFactor,
  decodeDigest,
  decodeDisjunctive,
  decodePoint,
  decodeSchnorr,
  decodeScalar,
  encodeCiphertext,
  encodeDisjunctive,
  encodeSchnorr,
  encrypt,
  keyProofPrefix,
  mulSecret,
  proveDisjunctive,
  proveSchnorr,
  verifyDecryptionFactor,
  verifyDisjunctive,
  verifySchnorr,
} from '../src/urne/index.js';
import { assertRejects, hasherFromVector, loadVectors, nonceDraws, replay, resolvedCases } from '../testkit/vectors.js';

const file = loadVectors('proofs');

/** Asserts that our prefix and the vector's hash the same items. */
function assertPrefix(ours, vector) {
  assert.equal(Buffer.from(ours.clone().digest()).toString('hex'), Buffer.from(hasherFromVector(vector).digest()).toString('hex'), 'the prefix built from the statement is the recorded one');
}

const kinds = {
  encryption(c) {
    const Y = decodePoint(c.election_key);
    const ct = encrypt(Y, c.message, decodeScalar(c.randomness));
    assert.deepEqual(encodeCiphertext(ct), c.ciphertext);
  },

  choice_proof(c) {
    const fingerprint = decodeDigest(c.fingerprint);
    const Y = decodePoint(c.election_key);
    const X = decodePoint(c.credential);
    const ct = decodeCiphertext(c.ciphertext);
    const proof = decodeDisjunctive(c.proof);
    assert.deepEqual(c.allowed, CHOICE_ALLOWED);
    const prefix = choicePrefix(fingerprint, Y, X, c.question, c.answer, ct);
    assertPrefix(prefix, c.prefix);
    if (c.witness) {
      const r = decodeScalar(c.witness.randomness[0]);
      assert.deepEqual(encodeCiphertext(encrypt(Y, c.witness.plaintext, r)), c.ciphertext);
      const draw = replay(nonceDraws(c.nonces));
      const ours = proveDisjunctive(prefix, Y, [ct], CHOICE_ALLOWED, c.witness.branch, [r], draw);
      draw.done();
      assert.deepEqual(encodeDisjunctive(ours), c.proof, 'the proof re-made from the recorded randomness');
    }
    verifyDisjunctive(prefix, Y, [ct], CHOICE_ALLOWED, proof);
  },

  count_proof(c) {
    const fingerprint = decodeDigest(c.fingerprint);
    const Y = decodePoint(c.election_key);
    const X = decodePoint(c.credential);
    const question = { min: c.min, max: c.max, blank: c.blank };
    const choices = c.choices.map((x) => decodeCiphertext(x));
    const blankCt = c.blank_ciphertext === undefined ? undefined : decodeCiphertext(c.blank_ciphertext);
    const proof = decodeDisjunctive(c.proof);
    const statement = countStatement(question, choices, blankCt);
    assert.deepEqual(statement.map(encodeCiphertext), c.statement, 'the statement ciphertexts');
    assert.deepEqual(countAllowed(question), c.allowed, 'the allowed tuples');
    const prefix = countPrefix(fingerprint, Y, X, c.question, question, choices, blankCt);
    assertPrefix(prefix, c.prefix);
    if (c.witness) {
      const w = c.witness;
      w.choice_plaintexts.forEach((m, i) => {
        const ct = encrypt(Y, m, decodeScalar(w.choice_randomness[i]));
        assert.deepEqual(encodeCiphertext(ct), c.choices[i], `choice ${i}`);
      });
      if (c.blank) {
        const ct = encrypt(Y, w.blank_plaintext, decodeScalar(w.blank_randomness));
        assert.deepEqual(encodeCiphertext(ct), c.blank_ciphertext, 'blank flag');
      }
      const draw = replay(nonceDraws(c.nonces));
      const rs = w.randomness.map(decodeScalar);
      const ours = proveDisjunctive(prefix, Y, statement, c.allowed, w.branch, rs, draw);
      draw.done();
      assert.deepEqual(encodeDisjunctive(ours), c.proof, 'the proof re-made from the recorded randomness');
    }
    verifyDisjunctive(prefix, Y, statement, countAllowed(question), proof);
  },

  key_proof(c) {
    const Yi = decodePoint(c.public_key);
    const proof = decodeSchnorr(c.proof);
    const prefix = keyProofPrefix(c.election_id, c.trustee_index, c.trustee_name, Yi);
    assertPrefix(prefix, c.prefix);
    if (c.witness) {
      const s = decodeScalar(c.witness.secret_key);
      assert.ok(mulSecret(G, s).equals(Yi), 'the public key is s·G');
      const draw = replay([c.nonce]);
      assert.deepEqual(encodeSchnorr(proveSchnorr(prefix, s, draw)), c.proof);
      draw.done();
    }
    verifySchnorr(prefix, Yi, proof);
  },

  // A trustee's proof, not the booth's: checked here because the code is small and shared.
  decryption_factor(c) {
    const fingerprint = decodeDigest(c.fingerprint);
    const V = decodePoint(c.verification_key);
    const ct = decodeCiphertext(c.ciphertext);
    const f = decodeDecryptionFactor(c.decryption_factor);
    if (c.witness) {
      const s = decodeScalar(c.witness.secret_key);
      assert.ok(mulSecret(ct.alpha, s).equals(f.factor), 'D = s·α');
    }
    verifyDecryptionFactor(fingerprint, V, ct, f);
  },
};

for (const c of resolvedCases(file)) {
  test(`proofs.json ${c.name}`, () => {
    const run = kinds[c.kind];
    assert.ok(run, `unknown kind ${c.kind}`);
    if (c.valid) run(c);
    else assertRejects(() => run(c), { kind: c.error }, c.name);
  });
}
