// Opened ballots (the booth's Benaloh audit, spec §7.5, docs/booth.md): a ballot made with its
// randomness kept opens to the voter's choices; a changed choice, nonce, ciphertext, tracker or
// election does not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  OPENED_BALLOT_FORMAT,
  checkOpenedBallot,
  createAuditedBallot,
  createBallot,
  deriveCredentialKey,
  encodeScalar,
  loadElection,
  parseOpenedBallot,
  randomScalar,
  verifyBallot,
} from '../src/urne/index.js';
import { loadVectors } from '../testkit/vectors.js';

const ctx = loadVectors('ballot').context;
const election = loadElection(JSON.stringify(ctx.manifest));
const key = deriveCredentialKey(ctx.manifest.id, ctx.voters[0].credential);
const questions = election.manifest.questions;

/** A vote allowed by the manifest: the first `min` (at least one when allowed) answers. */
function someVote() {
  return questions.map((q) => ({ selected: [...Array(Math.max(q.min, Math.min(1, q.max))).keys()] }));
}

/** A fresh opened ballot's JSON value, deep-copied so that a test can change it. */
function opened(vote = someVote()) {
  return JSON.parse(JSON.stringify(createAuditedBallot(election, key, vote).opened));
}

test('an audited ballot is a valid ballot, and opens to the choices it was made with', () => {
  const vote = someVote();
  const made = createAuditedBallot(election, key, vote);
  assert.equal(made.opened.format, OPENED_BALLOT_FORMAT);
  assert.equal(made.opened.election_id, ctx.manifest.id);
  assert.equal(made.opened.tracker, made.tracker);
  assert.equal(verifyBallot(election, made.json).tracker, made.tracker);
  const text = JSON.stringify(made.opened);
  const result = checkOpenedBallot(election, text);
  assert.equal(result.ok, true);
  assert.equal(result.tracker, made.tracker);
  const expected = questions.reduce((n, q) => n + q.answers.length + (q.blank ? 1 : 0), 0);
  assert.equal(result.answers.length, expected);
  for (const [qi, v] of vote.entries()) {
    for (const a of v.selected) assert.equal(result.answers.find((x) => x.question === qi && x.answer === a).m, 1);
  }
});

test('a blank vote opens too, with the blank flag checked', () => {
  const qi = questions.findIndex((q) => q.blank);
  assert.ok(qi >= 0, 'the vectors have a question with blank votes');
  const vote = someVote();
  vote[qi] = { blank: true };
  const result = checkOpenedBallot(election, opened(vote));
  assert.equal(result.ok, true);
  assert.deepEqual(
    result.answers.filter((x) => x.question === qi && x.m === 1).map((x) => x.answer),
    ['blank'],
  );
});

test('the same choices with the randomness of another ballot do not match', () => {
  const a = opened();
  const b = opened();
  a.randomness = b.randomness;
  const result = checkOpenedBallot(election, a);
  assert.equal(result.ok, false);
  assert.ok(result.answers.every((x) => !x.ok));
});

test('a changed nonce fails at its answer, and only there', () => {
  const doc = opened();
  doc.randomness[0].choices[1] = encodeScalar(randomScalar());
  const result = checkOpenedBallot(election, doc);
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.answers.filter((x) => !x.ok).map((x) => [x.question, x.answer]),
    [[0, 1]],
  );
});

test('a changed claimed choice fails at the answers it moves', () => {
  const q = questions[0];
  assert.ok(q.answers.length >= 2 && q.max === 1 && q.min === 1, 'question 0 is one of several');
  const doc = opened(someVote());
  doc.vote[0] = { selected: [1] };
  const result = checkOpenedBallot(election, doc);
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.answers.filter((x) => !x.ok).map((x) => [x.question, x.answer]),
    [
      [0, 0],
      [0, 1],
    ],
  );
});

test("another ballot under an opening, a wrong tracker or another election's document is refused", () => {
  const doc = opened();
  const other = createBallot(election, key, someVote());
  assert.throws(() => checkOpenedBallot(election, { ...doc, ballot: JSON.parse(other.json) }), (e) => e.kind === 'opening' && e.path === 'tracker');
  const wrong = { ...doc, ballot: JSON.parse(other.json), tracker: other.tracker };
  assert.equal(checkOpenedBallot(election, wrong).ok, false);
  const elsewhere = { ...doc, election: doc.tracker };
  assert.throws(() => checkOpenedBallot(election, elsewhere), (e) => e.kind === 'V-6');
  const changedCt = structuredClone(doc);
  changedCt.ballot.answers[0].choices[0].alpha = doc.ballot.answers[0].choices[1].alpha;
  assert.throws(() => checkOpenedBallot(election, changedCt), (e) => e.kind === 'V-9' && e.path === 'ballot.answers[0].choice_proofs[0]');
  const unparsable = structuredClone(doc);
  unparsable.ballot.answers[0].choices[0].beta = 'AAAA';
  assert.throws(() => parseOpenedBallot(unparsable), (e) => e.kind === 'parse' && e.path.startsWith('ballot.answers[0].choices[0]'));
});

test('an opened ballot that does not parse, or whose choices break the rules, is refused', () => {
  assert.throws(() => parseOpenedBallot('{}'), (e) => e.kind === 'parse');
  assert.throws(() => parseOpenedBallot({ ...opened(), extra: 1 }), (e) => e.kind === 'parse' && /extra/.test(e.message));
  const doc = opened();
  doc.randomness[0].choices[0] = 'AAAA';
  assert.throws(() => checkOpenedBallot(election, doc), (e) => e.kind === 'parse');
  const tooMany = opened();
  tooMany.vote[0] = { selected: [0, 1] };
  assert.throws(() => checkOpenedBallot(election, tooMany), (e) => e.kind === 'vote');
  const short = opened();
  short.randomness[0].choices.pop();
  assert.throws(() => checkOpenedBallot(election, short), (e) => e.kind === 'opening');
});
