// The results page's numbers for mixed questions (web/public/mixed-data.js): exact rationals
// read strictly and written in English and French, and the tables built from the real counts of
// web/test/fixtures/mixed-results.json (written by `cargo run -p urne-core --example
// count_fixtures` from urne_core::count), each checked against the fixture by an independent
// computation here.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { formatDecimal, formatInteger, formatRational, gradeShade, marginLevel, meritProfiles, pairwiseTable, parseRational, pathsTable, schulzeRanking, stvElected, stvRounds, stvScale } from '../public/mixed-data.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/mixed-results.json', import.meta.url), 'utf8'));
const byMethod = (method) => {
  const q = fixture.questions.find((x) => x.result.mixed.method === method);
  assert.ok(q, `the fixture has a ${method} question`);
  return { question: q.question, result: q.result.mixed };
};
const NNBSP = '\u202f';

test('rationals are read only in their canonical spelling', () => {
  assert.deepEqual(parseRational('19/3'), { num: 19n, den: 3n });
  assert.deepEqual(parseRational('-5'), { num: -5n, den: 1n });
  assert.deepEqual(parseRational('0'), { num: 0n, den: 1n });
  assert.deepEqual(parseRational('123456789012345678901234567891/2'), { num: 123456789012345678901234567891n, den: 2n });
  for (const bad of ['2/4', '3/1', '+1', '-0', '01', '1/0', '1/-2', '1.5', ' 1', '1/', '/2', '', '1/2/3', '0/2', 7, null]) {
    assert.throws(() => parseRational(bad), /not an exact number/, `${JSON.stringify(bad)} refused`);
  }
});

test('rationals are shown exact and to two decimal places, in English and in French', () => {
  assert.deepEqual(
    ['19/3', '17/3', '20/3', '5/12', '7', '0'].map((s) => formatRational(s, 'en').text),
    ['19/3 ≈ 6.33', '17/3 ≈ 5.67', '20/3 ≈ 6.67', '5/12 ≈ 0.42', '7', '0'],
  );
  assert.deepEqual(
    ['19/3', '17/3', '5/12', '7'].map((s) => formatRational(s, 'fr').text),
    ['19/3 ≈ 6,33', '17/3 ≈ 5,67', '5/12 ≈ 0,42', '7'],
  );
  // Transfers carry their sign; a true minus sign.
  assert.deepEqual(formatRational('10/3', 'en', { signed: true }), { exact: '+10/3', approx: '+3.33', text: '+10/3 ≈ +3.33', value: 10 / 3 });
  assert.equal(formatRational('-17/3', 'en', { signed: true }).text, '\u221217/3 ≈ \u22125.67');
  assert.equal(formatRational('-5', 'fr', { signed: true }).text, '\u22125');
  assert.equal(formatRational('0', 'en', { signed: true }).text, '0');
  // Rounding half away from zero, on the exact value; a value that rounds to 0 has no sign.
  assert.equal(formatDecimal(parseRational('1/200'), 'en'), '0.01');
  assert.equal(formatDecimal(parseRational('-1/200'), 'en'), '\u22120.01');
  assert.equal(formatDecimal(parseRational('1/201'), 'en'), '0.00');
  assert.equal(formatDecimal(parseRational('-1/300'), 'en'), '0.00');
  assert.equal(formatDecimal(parseRational('199/200'), 'fr'), '1,00');
  // Digit grouping of each language, also beyond 2^53.
  assert.equal(formatRational('1234567/2', 'en').text, '1,234,567/2 ≈ 617,283.50');
  assert.equal(formatRational('1234567/2', 'fr').text, `1${NNBSP}234${NNBSP}567/2 ≈ 617${NNBSP}283,50`);
  assert.equal(formatInteger(12345678901234567890n, 'en'), '12,345,678,901,234,567,890');
  assert.equal(formatInteger(-45, 'fr'), '\u221245');
});

test('the Schulze matrices and ranking are those of the count (Schulze 2011, §3.1)', () => {
  const { result } = byMethod('schulze');
  const n = result.candidates;
  const d = result.pairwise;
  const rows = pairwiseTable(result);
  assert.equal(rows.length, n);
  for (let i = 0; i < n; i += 1) {
    assert.equal(rows[i].cells.length, n);
    for (let j = 0; j < n; j += 1) {
      const c = rows[i].cells[j];
      if (i === j) {
        assert.equal(c.diagonal, true);
        continue;
      }
      assert.equal(c.value, d[i][j]);
      assert.equal(c.margin, d[i][j] - d[j][i]);
      const share = Math.abs(c.margin) / result.ballots;
      const expected = c.margin === 0 ? 't' : `${c.margin > 0 ? 'w' : 'l'}${share >= 0.2 ? 3 : share >= 0.1 ? 2 : 1}`;
      assert.equal(c.level, expected, `d[${i}][${j}]`);
    }
  }
  // The paper's numbers: A–D 30 against 15 (a margin of 15 of 45 ballots), A–B 20 against 25.
  assert.deepEqual([rows[0].cells[3].margin, rows[0].cells[3].level], [15, 'w3']);
  assert.deepEqual([rows[0].cells[1].margin, rows[0].cells[1].level], [-5, 'l2']);

  const paths = pathsTable(result);
  const p = result.strongest_paths;
  for (let i = 0; i < n; i += 1) for (let j = 0; j < n; j += 1) if (i !== j) assert.equal(paths[i].cells[j].beats, p[i][j] > p[j][i]);
  // E beats everyone by strongest paths, as the winner must.
  const e = result.winners[0];
  assert.ok(paths[e].cells.every((c) => c.diagonal || c.beats));

  const ranking = schulzeRanking(result);
  assert.deepEqual(
    ranking.map((x) => x.candidate),
    result.ranking,
  );
  assert.deepEqual(ranking.map((x) => x.place), [1, 2, 3, 4, 5]);
  assert.deepEqual(ranking.filter((x) => x.winner).map((x) => x.candidate), result.winners);
  for (const [k, x] of ranking.entries()) {
    const after = result.ranking[k + 1];
    if (after === undefined) assert.equal(x.next, null);
    else assert.deepEqual(x.next, { candidate: after, strength: p[x.candidate][after], against: p[after][x.candidate], beats: p[x.candidate][after] > p[after][x.candidate] });
  }
  assert.throws(() => pairwiseTable({ ...result, pairwise: d.slice(1) }), /5×5/);
  assert.throws(() => schulzeRanking({ ...result, ranking: [9] }), /unknown candidate/);
});

test('the STV rounds balance exactly and mark who is elected and excluded', () => {
  const { result } = byMethod('stv');
  const rounds = stvRounds(result);
  assert.equal(rounds.length, result.rounds.length);
  // Every round: the candidates' votes and the exhausted votes sum to the valid ballots, exactly.
  const add = (a, b) => ({ num: a.num * b.den + b.num * a.den, den: a.den * b.den });
  for (const r of rounds) {
    let sum = parseRational(r.exhausted);
    for (const c of r.candidates) sum = add(sum, parseRational(c.votes));
    assert.equal(sum.num, BigInt(result.valid) * sum.den, `round ${r.number} balances`);
  }
  // Excluded candidates are no longer shown after the round of their exclusion.
  for (const [k, r] of rounds.entries()) {
    for (const c of r.candidates) {
      const earlier = result.rounds.slice(0, k).some((x) => x.status[c.candidate] === 'excluded');
      assert.equal(c.shown, !earlier);
      assert.equal(c.excludedHere, result.rounds[k].action.kind === 'exclusion' && result.rounds[k].action.candidate === c.candidate);
    }
  }
  const elected = stvElected(result);
  assert.deepEqual(
    elected.map((e) => e.candidate),
    result.elected,
  );
  for (const e of elected) {
    const round = result.rounds.find((r) => r.elected.some((x) => x.candidate === e.candidate));
    assert.equal(e.round, round.number);
  }
  // docs/counting.md §3: A reaches the quota in round 1, B is elected without it in round 4.
  assert.deepEqual(elected, [
    { candidate: 0, round: 1, reachedQuota: true },
    { candidate: 1, round: 4, reachedQuota: false },
  ]);
  assert.equal(stvScale(result), Math.max(result.quota, ...result.rounds.flatMap((r) => r.votes.map((v) => Number(parseRational(v).num) / Number(parseRational(v).den)))));
  const broken = structuredClone(result);
  broken.rounds[1].votes[1] = '38/6';
  assert.throws(() => stvRounds(broken), /not an exact number/);
});

test('the merit profiles run from the best grade to the worst, in the order of the ranking', () => {
  const { question, result } = byMethod('majority_judgment');
  const profiles = meritProfiles(result, question.grades);
  assert.deepEqual(
    profiles.map((p) => p.candidate),
    result.ranking,
  );
  const g = result.grades;
  for (const p of profiles) {
    const counts = result.profiles[p.candidate].counts;
    assert.deepEqual(
      p.segments.map((s) => s.grade),
      [...Array(g).keys()].reverse(),
    );
    assert.deepEqual(
      p.segments.map((s) => s.count),
      [...counts].reverse(),
    );
    assert.deepEqual(
      p.segments.map((s) => s.name),
      question.grades,
    );
    const total = counts.reduce((a, b) => a + b, 0);
    let start = 0;
    for (const s of p.segments) {
      assert.ok(Math.abs(s.start - start) < 1e-9);
      assert.ok(Math.abs(s.share - (100 * s.count) / total) < 1e-9);
      start += s.share;
    }
    assert.ok(Math.abs(start - 100) < 1e-9);
    // The majority grade is where the stacked bar crosses 50 %: the lower middle grade.
    const sorted = counts.flatMap((c, x) => Array(c).fill(x));
    const median = sorted[Math.floor((sorted.length + 1) / 2) - 1];
    assert.equal(p.majorityGrade.grade, median);
    assert.equal(p.majorityGrade.name, question.grades[g - 1 - median]);
    const gauge = result.profiles[p.candidate].gauge;
    assert.equal(p.gauge.sign, gauge.above > gauge.below ? '+' : '\u2212');
  }
  // The hand-worked example: all three have "Acceptable"; the bike path (2+) wins.
  assert.deepEqual(
    profiles.map((p) => [p.place, p.majorityGrade.name, p.gauge.sign]),
    [
      [1, 'Acceptable', '+'],
      [2, 'Acceptable', '\u2212'],
      [3, 'Acceptable', '\u2212'],
    ],
  );
  // Equal profiles share a place.
  const tied = meritProfiles(
    {
      candidates: 2,
      grades: 2,
      ballots: 1,
      profiles: [
        { counts: [0, 1], majority_grade: 1, gauge: { above: 0, grade: 1, below: 0 } },
        { counts: [0, 1], majority_grade: 1, gauge: { above: 0, grade: 1, below: 0 } },
      ],
      winners: [0, 1],
      ranking: [0, 1],
    },
    ['Good', 'Bad'],
  );
  assert.deepEqual(
    tied.map((p) => [p.place, p.tied]),
    [
      [1, false],
      [1, true],
    ],
  );
  assert.throws(() => meritProfiles(result, question.grades.slice(1)), /grades/);
});

test('shades: margins by share of the ballots, grades spread over seven colours', () => {
  assert.equal(marginLevel(0, 10), 't');
  assert.equal(marginLevel(2, 10), 'w3');
  assert.equal(marginLevel(1, 10), 'w2');
  assert.equal(marginLevel(-1, 100), 'l1');
  assert.deepEqual(
    [5, 4, 3, 2, 1, 0].map((x) => gradeShade(x, 6)),
    [0, 1, 2, 4, 5, 6],
  );
  assert.deepEqual(
    [1, 0].map((x) => gradeShade(x, 2)),
    [0, 6],
  );
  for (let g = 2; g <= 16; g += 1) for (let x = 0; x < g; x += 1) assert.ok(gradeShade(x, g) >= 0 && gradeShade(x, g) <= 6);
});

test('every word of the mixed results has its French', async () => {
  globalThis.document = { documentElement: {} };
  const { setLanguage } = await import('../public/words.js');
  const { tm } = await import('../public/mixed-words.js');
  const keysOf = (lang) => {
    setLanguage(lang);
    const out = [];
    for (const key of ['methods', 'legend', 'actions', 'tieBreak']) out.push(...Object.keys(tm(key)).map((k) => `${key}.${k}`));
    return out.sort();
  };
  assert.deepEqual(keysOf('fr'), keysOf('en'));
  setLanguage('fr');
  const fr = tm('invalid');
  setLanguage('en');
  assert.notEqual(fr, tm('invalid'));
  assert.equal(tm('methods').stv(2).includes('2 seats'), true);
});
