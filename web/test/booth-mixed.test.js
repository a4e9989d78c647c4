// The booth's ranked and graded questions (web/booth/mixed.js): the rules checked as the voter
// chooses, in their words and in the order they are said, and the vote handed to the protocol
// core. The page itself is driven in Chromium by web/e2e/booth-mixed.e2e.js.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkRanking, checkVote } from '../src/urne/index.js';
import { setLanguage } from '../booth/i18n.js';
import { emptyChoice, gradingProblem, mixedRule, mixedVote, rankingProblem } from '../booth/mixed.js';

const schulze = { text: 'Rank', answers: ['Owl', 'Fox', 'Heron', 'Lynx'], min: 1, max: 4, blank: false, counting: 'schulze' };
const stv = { text: 'Elect', answers: ['Ana', 'Bo', 'Chen', 'Dia', 'Eli'], min: 0, max: 3, blank: false, counting: 'stv', seats: 2 };
const mj = { text: 'Grade', answers: ['Library', 'Garden'], min: 2, max: 2, blank: false, counting: 'majority_judgment', grades: ['Good', 'Fair', 'Poor'] };

test('a ranking problem is named as the voter chooses, in English and in French', () => {
  setLanguage('en');
  const c = emptyChoice(schulze);
  assert.deepEqual(c.ranks, [0, 0, 0, 0]);
  assert.equal(rankingProblem(schulze, c), 'Rank at least 1 answer.');
  c.ranks = [1, 0, 1, 0];
  assert.equal(rankingProblem(schulze, c), 'Rank 1 is given to Owl and Heron: give each rank to one answer only.');
  c.ranks = [1, 0, 3, 0];
  assert.equal(rankingProblem(schulze, c), 'Rank 2 is missing: the ranks go 1, 2, 3… without a gap.');
  c.ranks = [2, 1, 0, 3];
  assert.equal(rankingProblem(schulze, c), null);
  const s = emptyChoice(stv);
  assert.equal(rankingProblem(stv, s), null, 'min 0: ranking nothing is allowed');
  s.ranks = [1, 2, 3, 0, 3];
  assert.match(rankingProblem(stv, s), /Rank 3 is given to Chen and Eli/);
  setLanguage('fr');
  assert.equal(rankingProblem(schulze, { ranks: [1, 0, 3, 0] }), 'Le rang 2 manque : les rangs vont 1, 2, 3… sans trou.');
  assert.match(mixedRule(stv), /Classez au plus 3 réponses/);
  setLanguage('en');
  assert.match(mixedRule(schulze), /Rank between 1 and 4 answers/);
});

test('the booth and the protocol core agree on which rankings are valid', () => {
  // Every ranking of 4 answers with ranks 0 to 4.
  for (let n = 0; n < 5 ** 4; n++) {
    const ranks = [0, 1, 2, 3].map((i) => Math.floor(n / 5 ** i) % 5);
    for (const q of [schulze, { ...schulze, min: 0, max: 2 }]) {
      const booth = rankingProblem(q, { ranks }) === null;
      const core = checkRanking(q, ranks) === null;
      assert.equal(booth, core, `${JSON.stringify(ranks)} min ${q.min} max ${q.max}`);
    }
  }
});

test('a grading lists what is left, and its vote names grades by position (0 = best)', () => {
  setLanguage('en');
  const c = emptyChoice(mj);
  assert.equal(gradingProblem(mj, c), 'Grade every answer: 2 are left.');
  c.grades[0] = 2;
  assert.equal(gradingProblem(mj, c), 'Grade every answer: 1 is left.');
  c.grades[1] = 0;
  assert.equal(gradingProblem(mj, c), null);
  assert.deepEqual(mixedVote(c), { grades: [2, 0] });
  const manifest = { questions: [mj] };
  assert.deepEqual(checkVote(manifest, [mixedVote(c)])[0].plaintexts, [0, 2], 'Poor is 0, Good is 2');
  assert.deepEqual(mixedVote({ ranks: [2, 1, 0, 0] }), { ranks: [2, 1, 0, 0] });
});
