// test-vectors/ballot.json: whole ballots of a small election and broken ones (spec §6, §7,
// V-5 to V-10). Valid ballots are re-made from their recorded randomness and must come out byte
// for byte, with their tracker; invalid ones must fail the recorded check at the recorded path.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkVote,
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
// The mixed election (a plurality question beside Schulze, STV and majority judgment), for the
// cases whose `context` names it.
const elections = {
  context: { ctx, election },
  mixed_context: { ctx: file.mixed_context, election: loadElection(JSON.stringify(file.mixed_context.manifest)) },
};

/** The recorded randomness of a ballot, in the order the booth draws it (spec §7.1). */
function ballotDraws(randomness) {
  const out = [];
  for (const q of randomness.questions) {
    out.push(...q.choice_randomness);
    for (const nonces of q.choice_proof_nonces) out.push(...nonceDraws(nonces));
    if (q.blank_randomness !== undefined) out.push(q.blank_randomness);
    // A mixed question has no count proof, and so no count proof nonces.
    if (q.count_proof_nonces !== undefined) out.push(...nonceDraws(q.count_proof_nonces));
  }
  out.push(randomness.signature_nonce);
  return out;
}

for (const [name, { ctx, election }] of Object.entries(elections)) {
  test(`ballot.json ${name}: the election and the voters`, () => {
    assert.equal(toBase64Url(election.fingerprint), ctx.fingerprint);
    assert.equal(encodePoint(election.key), ctx.election_key);
    for (const v of ctx.voters) {
      assert.equal(encodePoint(deriveCredentialKey(ctx.manifest.id, v.credential).X), v.public_credential);
    }
  });
}

test('ballot.json has mixed cases: valid ballots, broken ones and refused votes', () => {
  const mixed = file.cases.filter((c) => c.context === 'mixed_context' || file.cases.find((b) => b.name === c.base)?.context === 'mixed_context');
  assert.ok(mixed.filter((c) => c.valid).length >= 2);
  assert.ok(mixed.filter((c) => c.kind === 'vote').length >= 5);
  assert.ok(mixed.filter((c) => !c.valid && c.kind === 'ballot').length >= 5);
});

for (const c of resolvedCases(file)) {
  test(`ballot.json ${c.name}`, () => {
    const { ctx, election } = elections[c.context ?? 'context'];
    assert.ok(election, `unknown context ${c.context}`);
    if (c.kind === 'vote') {
      // A vote the booth refuses before encrypting anything (spec §7.1).
      const key = deriveCredentialKey(ctx.manifest.id, ctx.voters[c.voter].credential);
      assertRejects(() => checkVote(election.manifest, c.vote), { kind: c.error, path: c.path }, c.name);
      assertRejects(() => createBallot(election, key, c.vote, () => assert.fail('drew randomness')), { kind: c.error, path: c.path }, c.name);
      return;
    }
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
