// test-vectors/ballot.json: whole ballots of a small election and broken ones (spec §6, §7,
// V-5 to V-10). Valid ballots are re-made from their recorded randomness and must come out byte
// for byte, with their tracker; invalid ones must fail the recorded check at the recorded path.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createBallot,
  deriveCredentialKey,
  encodePoint,
  hashBallotBody,
  loadElection,
  toBase64Url,
  verifyBallot,
} from '../src/urne/index.js';
import { RecordingHasher, assertItems, assertRejects, loadVectors, nonceDraws, replay, resolvedCases } from '../testkit/vectors.js';

const file = loadVectors('ballot');
const ctx = file.context;
const election = loadElection(JSON.stringify(ctx.manifest));

/** The recorded randomness of a ballot, in the order the booth draws it (spec §7.1). */
function ballotDraws(randomness) {
  const out = [];
  for (const q of randomness.questions) {
    out.push(...q.choice_randomness);
    for (const nonces of q.choice_proof_nonces) out.push(...nonceDraws(nonces));
    if (q.blank_randomness !== undefined) out.push(q.blank_randomness);
    out.push(...nonceDraws(q.count_proof_nonces));
  }
  out.push(randomness.signature_nonce);
  return out;
}

test('ballot.json context: the election and the voters', () => {
  assert.equal(toBase64Url(election.fingerprint), ctx.fingerprint);
  assert.equal(encodePoint(election.key), ctx.election_key);
  for (const v of ctx.voters) {
    assert.equal(encodePoint(deriveCredentialKey(ctx.manifest.id, v.credential).X), v.public_credential);
  }
});

for (const c of resolvedCases(file)) {
  test(`ballot.json ${c.name}`, () => {
    assert.equal(c.kind, 'ballot', `unknown kind ${c.kind}`);
    if (!c.valid) {
      assertRejects(() => verifyBallot(election, c.ballot), { kind: c.error, path: c.path }, c.name);
      // The same through the strict JSON reader.
      assertRejects(() => verifyBallot(election, JSON.stringify(c.ballot)), { kind: c.error, path: c.path }, c.name);
      return;
    }
    const key = deriveCredentialKey(ctx.manifest.id, ctx.voters[c.voter].credential);
    const draw = replay(ballotDraws(c.randomness));
    const made = createBallot(election, key, c.vote, draw);
    draw.done();
    assert.equal(made.json, JSON.stringify(c.ballot), 'the ballot re-made from the recorded randomness');
    assert.equal(made.tracker, c.tracker);
    if (c.body_items) assertItems(hashBallotBody(new RecordingHasher(), made.ballot).items, c.body_items, 'body items');
    const checked = verifyBallot(election, JSON.stringify(c.ballot));
    assert.equal(checked.tracker, c.tracker);
  });
}
