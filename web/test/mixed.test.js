// Ranked and graded questions in the booth's protocol core (issue #8; spec §4.1, §4.2, §6.3,
// §7.1, §7.5): the manifest's helpers, votes checked before encrypting, ballots made with the
// system's randomness and verified, the JSON round trip, and the Benaloh audit of their values.
// The byte-exact behaviour against urne-core is in ballot.test.js and manifest.test.js (vectors).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ballotToJson,
  checkOpenedBallot,
  checkRanking,
  checkVote,
  choiceAllowed,
  createAuditedBallot,
  createBallot,
  deriveCredentialKey,
  encodeScalar,
  isGrading,
  isMixed,
  isRanking,
  loadElection,
  parseBallot,
  parseManifest,
  valueBound,
  verifyBallot,
} from '../src/urne/index.js';
import { assertRejects, loadVectors } from '../testkit/vectors.js';

const ctx = loadVectors('ballot').mixed_context;
const election = loadElection(JSON.stringify(ctx.manifest));
const key = deriveCredentialKey(ctx.manifest.id, ctx.voters[0].credential);
const [plurality, schulze, stv, mj] = election.manifest.questions;

const vote = () => [{ selected: [1] }, { ranks: [3, 1, 2, 0] }, { ranks: [0, 0, 2, 0, 1] }, { grades: [0, 3, 2] }];

test('question kinds and value bounds (spec §6.3)', () => {
  assert.deepEqual([plurality, schulze, stv, mj].map(isMixed), [false, true, true, true]);
  assert.deepEqual([plurality, schulze, stv, mj].map(isRanking), [false, true, true, false]);
  assert.deepEqual([plurality, schulze, stv, mj].map(isGrading), [false, false, false, true]);
  assert.deepEqual([plurality, schulze, stv, mj].map(valueBound), [1, 4, 3, 3]);
  assert.deepEqual(choiceAllowed(3), [[0], [1], [2], [3]]);
  assert.deepEqual(choiceAllowed(1), [[0], [1]]);
});

test('checkRanking names what is wrong, as urne-core does', () => {
  assert.equal(checkRanking(schulze, [2, 1, 4, 3]), null);
  assert.equal(checkRanking(schulze, [1, 1, 0, 0]), 'answer 1: rank 1 is given twice');
  assert.equal(checkRanking(schulze, [1, 3, 0, 0]), 'answer 1: rank 3, but only 2 answers are ranked (ranks go 1 to 2)');
  assert.equal(checkRanking(schulze, [0, 0, 0, 0]), '0 answers ranked, between 1 and 4 are allowed');
  assert.equal(checkRanking(stv, [1, 2, 3, 4, 0]), '4 answers ranked, between 0 and 3 are allowed');
  assert.equal(checkRanking(stv, [0, 0, 0, 0, 0]), null);
  assert.equal(checkRanking(schulze, [1, 2]), '2 ranks for 4 answers');
});

test('checkVote: ranks as given, grades from the worst (0) to the best (g − 1)', () => {
  const plan = checkVote(election.manifest, vote());
  assert.deepEqual(plan[1].plaintexts, [3, 1, 2, 0]);
  assert.deepEqual(plan[2].plaintexts, [0, 0, 2, 0, 1]);
  // Grades named best first: position 0 (Excellent) is value 3, position 3 (Poor) value 0.
  assert.deepEqual(plan[3].plaintexts, [3, 0, 1]);
});

test('rejects_vote_of_the_wrong_kind_or_shape on ranked and graded questions', () => {
  const bad = (qi, v) => {
    const x = vote();
    x[qi] = v;
    assertRejects(() => checkVote(election.manifest, x), { kind: 'vote', path: `[${qi}]` }, JSON.stringify(v));
  };
  bad(1, { ranks: [1, 2, 3, 4], selected: [] });
  bad(1, { ranks: [1, 2, 1.5, 0] });
  bad(1, { ranks: [1, 2, -1, 0] });
  bad(1, null);
  bad(3, { grades: [0, 1, '2'] });
  bad(3, { grades: [0, 1, -1] });
  bad(3, { grades: [0, 1, 2], blank: false });
  bad(0, { grades: [0, 1] });
});

test('a mixed ballot verifies, round-trips through JSON, and has no count proof where mixed', () => {
  const made = createBallot(election, key, vote());
  const { tracker } = verifyBallot(election, made.json);
  assert.equal(tracker, made.tracker);
  const json = JSON.parse(made.json);
  assert.ok(json.answers[0].count_proof && json.answers[0].blank);
  for (const qi of [1, 2, 3]) {
    assert.equal(json.answers[qi].count_proof, undefined);
    assert.equal(json.answers[qi].blank, undefined);
  }
  assert.equal(json.answers[1].choice_proofs[0].length, 5);
  assert.equal(json.answers[2].choice_proofs[0].length, 4);
  assert.equal(json.answers[3].choice_proofs[0].length, 4);
  assert.equal(ballotToJson(parseBallot(made.json)), made.json);
});

test('rejects_mixed_ballot_changed: a count proof added, a proof branch dropped, a choice swapped', () => {
  const made = JSON.parse(createBallot(election, key, vote()).json);
  const added = structuredClone(made);
  added.answers[2].count_proof = added.answers[0].count_proof;
  assertRejects(() => verifyBallot(election, added), { kind: 'V-5', path: 'answers[2].count_proof' }, 'count proof');
  const dropped = structuredClone(made);
  dropped.answers[1].choice_proofs[2].pop();
  assertRejects(() => verifyBallot(election, dropped), { kind: 'V-9', path: 'answers[1].choice_proofs[2]' }, 'branch');
  const swapped = structuredClone(made);
  [swapped.answers[3].choices[0], swapped.answers[3].choices[1]] = [swapped.answers[3].choices[1], swapped.answers[3].choices[0]];
  assertRejects(() => verifyBallot(election, swapped), { kind: 'V-9', path: 'answers[3].choice_proofs[0]' }, 'swap');
});

test('the Benaloh audit opens ranks and grades, and catches a changed claim', () => {
  const made = createAuditedBallot(election, key, vote());
  assert.deepEqual(made.opened.vote, vote());
  assert.equal(made.opened.randomness[1].choices.length, 4);
  assert.equal(made.opened.randomness[1].blank, undefined);
  const checked = checkOpenedBallot(election, JSON.parse(JSON.stringify(made.opened)));
  assert.equal(checked.ok, true);
  const grades = checked.answers.filter((a) => a.question === 3).map((a) => a.m);
  assert.deepEqual(grades, [3, 0, 1]);
  // The voter claims other ranks: the opening fails at the answers whose rank changed.
  const lie = JSON.parse(JSON.stringify(made.opened));
  lie.vote[1] = { ranks: [1, 3, 2, 0] };
  const out = checkOpenedBallot(election, lie);
  assert.equal(out.ok, false);
  assert.deepEqual(
    out.answers.filter((a) => !a.ok).map((a) => [a.question, a.answer]),
    [
      [1, 0],
      [1, 1],
    ],
  );
  // A changed randomness fails at its answer.
  const changed = JSON.parse(JSON.stringify(made.opened));
  changed.randomness[3].choices[2] = encodeScalar(7n);
  assert.deepEqual(
    checkOpenedBallot(election, changed).answers.filter((a) => !a.ok).map((a) => [a.question, a.answer]),
    [[3, 2]],
  );
  // An opened vote that breaks the ranking rules is refused as a vote.
  const broken = JSON.parse(JSON.stringify(made.opened));
  broken.vote[1] = { ranks: [1, 1, 2, 0] };
  assertRejects(() => checkOpenedBallot(election, broken), { kind: 'vote', path: '[1]' }, 'opened vote');
});

test('manifest rules of mixed questions, with urne-core paths', () => {
  const m = structuredClone(ctx.manifest);
  m.questions[2].seats = 5;
  assertRejects(() => parseManifest(m), { kind: 'rule', path: 'questions[2].seats' }, 'seats');
  const w = structuredClone(ctx.manifest);
  w.weights = 'weighted';
  w.closes_at = w.opens_at; // also broken, but the weights rule comes first, as in urne-core
  assertRejects(() => parseManifest(w), { kind: 'rule', path: 'weights' }, 'weights');
});

test('checkVote (counted over every answer) and checkRanking agree on every ranking of 4', () => {
  for (const q of [schulze, { ...schulze, min: 0, max: 2 }, { ...schulze, min: 4, max: 4 }]) {
    const manifest = { questions: [q] };
    for (let n = 0; n < 6 ** 4; n++) {
      const ranks = [0, 1, 2, 3].map((i) => Math.floor(n / 6 ** i) % 6);
      let refused = null;
      try {
        checkVote(manifest, [{ ranks }]);
      } catch (e) {
        refused = e.detail ?? e.message;
      }
      assert.equal(refused, checkRanking(q, ranks), `${JSON.stringify(ranks)} min ${q.min} max ${q.max}`);
    }
  }
});
