// The booth's own round trip, beyond the fixed vectors: ballots made with fresh randomness for
// several election shapes verify and read back identically; changed ones are refused; votes that
// break a question's rules are refused before anything is encrypted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkVote,
  createBallot,
  deriveCredentialKey,
  generateCredential,
  loadElection,
  parseBallot,
  verifyBallot,
} from '../src/urne/index.js';
import { testManifest } from '../testkit/election.js';
import { assertRejects } from '../testkit/vectors.js';

const shapes = {
  'one of five': [[[5, 1, 1, false]], [[{ selected: [0] }], [{ selected: [4] }]]],
  'two or three of six, or blank': [[[6, 2, 3, true]], [[{ blank: true }], [{ selected: [1, 5] }], [{ selected: [0, 2, 3] }]]],
  'several questions': [
    [[3, 1, 1, false], [4, 0, 2, false], [2, 1, 1, true]],
    [[{ selected: [2] }, { selected: [] }, { blank: true }], [{ selected: [0] }, { selected: [3, 1] }, { selected: [1] }]],
  ],
};

for (const [name, [questions, votes]] of Object.entries(shapes)) {
  test(`fresh ballots verify: ${name}`, () => {
    const election = loadElection(testManifest('round-trip', questions));
    const key = deriveCredentialKey('round-trip', generateCredential());
    const trackers = new Set();
    for (const vote of votes) {
      for (let i = 0; i < 2; i++) {
        const made = createBallot(election, key, vote);
        const { ballot, tracker } = verifyBallot(election, made.json);
        assert.equal(tracker, made.tracker);
        assert.equal(JSON.stringify(JSON.parse(made.json)), made.json, 'compact canonical JSON');
        assert.ok(ballot.credential.equals(key.X));
        trackers.add(tracker);
      }
    }
    assert.equal(trackers.size, votes.length * 2, 'the same vote twice gives two trackers');
  });
}

test('rejects_ballot_for_other_election: a ballot checked against another manifest', () => {
  const questions = [[5, 1, 1, false]];
  const a = loadElection(testManifest('election-a', questions));
  const b = loadElection(testManifest('election-a', questions));
  const made = createBallot(a, deriveCredentialKey('election-a', generateCredential()), [{ selected: [1] }]);
  assertRejects(() => verifyBallot(b, made.json), { kind: 'V-6', path: 'election' }, 'other election');
});

test('rejects_swapped_choices: two choice ciphertexts exchanged', () => {
  const election = loadElection(testManifest('swap', [[3, 1, 1, false]]));
  const made = createBallot(election, deriveCredentialKey('swap', generateCredential()), [{ selected: [1] }]);
  const value = JSON.parse(made.json);
  const [c0, c1] = value.answers[0].choices;
  value.answers[0].choices[0] = c1;
  value.answers[0].choices[1] = c0;
  assertRejects(() => verifyBallot(election, JSON.stringify(value)), { kind: 'V-9', path: 'answers[0].choice_proofs[0]' }, 'swap');
});

test('rejects_duplicate_field in a ballot', () => {
  const election = loadElection(testManifest('dup', [[2, 1, 1, false]]));
  const made = createBallot(election, deriveCredentialKey('dup', generateCredential()), [{ selected: [0] }]);
  const text = made.json.replace('"format":"urne/ballot/v1"', '"format":"urne/ballot/v1","format":"urne/ballot/v1"');
  assertRejects(() => parseBallot(text), { kind: 'parse' }, 'duplicate');
});

test('refuses votes that break the rules, before encrypting', () => {
  const election = loadElection(testManifest('votes', [[4, 1, 2, false], [3, 1, 1, true]]));
  const m = election.manifest;
  const bad = [
    ['missing question', [{ selected: [0] }]],
    ['extra question', [{ selected: [0] }, { blank: true }, { blank: true }]],
    ['unknown answer', [{ selected: [4] }, { blank: true }]],
    ['answer twice', [{ selected: [1, 1] }, { blank: true }]],
    ['too few', [{ selected: [] }, { blank: true }]],
    ['too many', [{ selected: [0, 1, 2] }, { blank: true }]],
    ['blank not allowed', [{ blank: true }, { blank: true }]],
    ['blank and selection', [{ selected: [0] }, { blank: true, selected: [0] }]],
    ['not an index', [{ selected: ['0'] }, { blank: true }]],
  ];
  for (const [what, vote] of bad) assertRejects(() => checkVote(m, vote), { kind: 'vote' }, what);
  assert.deepEqual(checkVote(m, [{ selected: [3, 0] }, { blank: true }]), [
    { plaintexts: [1, 0, 0, 1], blank: 0 },
    { plaintexts: [0, 0, 0], blank: 1 },
  ]);
});
