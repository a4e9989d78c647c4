// The numbers of a mixed question's result (Schulze, STV, majority judgment: docs/counting.md),
// made ready for the results page's tables and charts, with no DOM: exact rationals read and
// written in English and French, the pairwise matrix and its margins, the STV rounds, the merit
// profiles. web/public/mixed.js draws them; web/test/mixed-data.test.js checks them.

/** The canonical spelling of a rational (docs/counting.md §1): `n` or `n/d`, d > 1, lowest terms. */
const RATIONAL = /^(-?)(0|[1-9][0-9]*)(?:\/([1-9][0-9]*))?$/;

function gcd(a, b) {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * Reads a rational of a published result, `"p/q"` or `"p"`, as `{num, den}` (BigInts, den > 0).
 * Throws on any other spelling ("2/4", "3/1", "+1", "-0", "01"), as the counting rules require
 * of a reader.
 */
export function parseRational(text) {
  const m = typeof text === 'string' ? RATIONAL.exec(text) : null;
  if (!m) throw new Error(`“${text}” is not an exact number of the count`);
  const num = BigInt(m[1] + m[2]);
  const den = m[3] === undefined ? 1n : BigInt(m[3]);
  if ((m[1] === '-' && num === 0n) || (m[3] !== undefined && (den === 1n || gcd(num < 0n ? -num : num, den) !== 1n))) {
    throw new Error(`“${text}” is not an exact number of the count`);
  }
  return { num, den };
}

/** A rational as a JavaScript number (for drawing only; tables show the exact value). */
export function toNumber(r) {
  return Number(r.num) / Number(r.den);
}

const locale = (lang) => (lang === 'fr' ? 'fr-FR' : 'en-GB');
const MINUS = '\u2212';

/** An integer (BigInt or number) with the language's digit grouping, and a true minus sign. */
export function formatInteger(n, lang) {
  const b = BigInt(n);
  const digits = (b < 0n ? -b : b).toLocaleString(locale(lang));
  return b < 0n ? `${MINUS}${digits}` : digits;
}

/**
 * The decimal of a rational rounded to `places` (half away from zero), in the language's
 * notation: "6.33" in English, "6,33" in French.
 */
export function formatDecimal(r, lang, places = 2) {
  const negative = r.num < 0n;
  const scaled = (negative ? -r.num : r.num) * 10n ** BigInt(places);
  let q = scaled / r.den;
  if (2n * (scaled % r.den) >= r.den) q += 1n;
  const unit = 10n ** BigInt(places);
  const whole = formatInteger(q / unit, lang);
  const frac = places > 0 ? (lang === 'fr' ? ',' : '.') + String(q % unit).padStart(places, '0') : '';
  return `${negative && q !== 0n ? MINUS : ''}${whole}${frac}`;
}

/**
 * A rational of the count for display: `exact` ("19/3", "7", "−5"), `approx` (the decimal to 2
 * places, or null for an integer) and `text` ("19/3 ≈ 6.33", "7"). With `signed`, positive
 * values get a "+" (the transfers of a round).
 */
export function formatRational(text, lang, { signed = false } = {}) {
  const r = parseRational(text);
  const sign = signed && r.num > 0n ? '+' : '';
  const exact = r.den === 1n ? `${sign}${formatInteger(r.num, lang)}` : `${sign}${formatInteger(r.num, lang)}/${formatInteger(r.den, lang)}`;
  const approx = r.den === 1n ? null : `${sign}${formatDecimal(r, lang)}`;
  return { exact, approx, text: approx === null ? exact : `${exact} ≈ ${approx}`, value: toNumber(r) };
}

// --- Schulze -------------------------------------------------------------------------------

/** Margins (share of the ballots) from which a duel's cell is shaded darker: 20 %, 10 %, > 0. */
export const MARGIN_STEPS = [0.2, 0.1, 0];

/** The shade of a margin: 'w3'…'w1' (the row wins), 't' (tie), 'l1'…'l3' (the row loses). */
export function marginLevel(margin, ballots) {
  if (margin === 0) return 't';
  const share = Math.abs(margin) / Math.max(1, ballots);
  const step = MARGIN_STEPS.findIndex((s) => share >= s && (s > 0 || share > 0));
  return `${margin > 0 ? 'w' : 'l'}${MARGIN_STEPS.length - step}`;
}

/** Checks that `m` is an n×n matrix of non-negative integers. */
function checkMatrix(m, n, what) {
  if (!Array.isArray(m) || m.length !== n || m.some((row) => !Array.isArray(row) || row.length !== n || row.some((x) => !Number.isInteger(x) || x < 0))) {
    throw new Error(`${what} is not a ${n}×${n} matrix of counts`);
  }
}

/** Checks that `list` holds candidate indices below n. */
function checkCandidates(list, n, what) {
  if (!Array.isArray(list) || list.some((c) => !Number.isInteger(c) || c < 0 || c >= n)) throw new Error(`${what} names an unknown candidate`);
}

/**
 * The pairwise matrix of a Schulze result: `rows[i].cells[j]` = `{value: d[i][j], margin:
 * d[i][j] − d[j][i], level, diagonal}`, the row's candidate against the column's.
 */
export function pairwiseTable(result) {
  const n = result.candidates;
  checkMatrix(result.pairwise, n, 'pairwise');
  const d = result.pairwise;
  return d.map((row, i) => ({
    candidate: i,
    cells: row.map((value, j) =>
      i === j ? { candidate: j, diagonal: true } : { candidate: j, value, margin: value - d[j][i], level: marginLevel(value - d[j][i], result.ballots), diagonal: false },
    ),
  }));
}

/**
 * The strongest paths of a Schulze result: `rows[i].cells[j]` = `{value: p[i][j], beats:
 * p[i][j] > p[j][i], diagonal}`.
 */
export function pathsTable(result) {
  const n = result.candidates;
  checkMatrix(result.strongest_paths, n, 'strongest_paths');
  const p = result.strongest_paths;
  return p.map((row, i) => ({
    candidate: i,
    cells: row.map((value, j) => (i === j ? { candidate: j, diagonal: true } : { candidate: j, value, against: p[j][i], beats: value > p[j][i], diagonal: false })),
  }));
}

/**
 * The Schulze ranking, best first: each `{candidate, place, winner, next}` where `next` says how
 * the candidate stands against the one placed after it: `{beats: true, strength, against}` when
 * its strongest path is the stronger, `{beats: false, strength, against}` when they are equal
 * (the order of the candidates on the ballot paper then decides).
 */
export function schulzeRanking(result) {
  const n = result.candidates;
  checkCandidates(result.ranking, n, 'ranking');
  checkCandidates(result.winners, n, 'winners');
  const p = result.strongest_paths;
  return result.ranking.map((c, k) => {
    const after = result.ranking[k + 1];
    const next = after === undefined ? null : { candidate: after, strength: p[c][after], against: p[after][c], beats: p[c][after] > p[after][c] };
    return { candidate: c, place: k + 1, winner: result.winners.includes(c), next };
  });
}

// --- STV -----------------------------------------------------------------------------------

/**
 * The rounds of an STV result, each `{number, action, candidates, exhausted, exhaustedTransfer,
 * elected}` where `candidates[c]` = `{votes, transfer, status, shown, electedHere,
 * reachedQuota, excludedHere}` (votes and transfer as the count's strings). A candidate is
 * `shown` in a round unless excluded in an earlier one.
 */
export function stvRounds(result) {
  const n = result.candidates;
  if (!Array.isArray(result.rounds) || result.rounds.length === 0) throw new Error('an STV result has rounds');
  let before = Array(n).fill('continuing');
  return result.rounds.map((round) => {
    for (const key of ['votes', 'transfers', 'status']) {
      if (!Array.isArray(round[key]) || round[key].length !== n) throw new Error(`round ${round.number}: ${key} has not one entry per candidate`);
    }
    round.votes.forEach(parseRational);
    round.transfers.forEach(parseRational);
    parseRational(round.exhausted);
    parseRational(round.exhausted_transfer);
    const electedHere = new Map(round.elected.map((e) => [e.candidate, e.reached_quota]));
    const candidates = round.votes.map((votes, c) => ({
      candidate: c,
      votes,
      transfer: round.transfers[c],
      status: round.status[c],
      shown: before[c] !== 'excluded',
      electedHere: electedHere.has(c),
      reachedQuota: electedHere.get(c) ?? null,
      excludedHere: round.action.kind === 'exclusion' && round.action.candidate === c,
    }));
    before = round.status;
    return {
      number: round.number,
      action: round.action,
      candidates,
      exhausted: round.exhausted,
      exhaustedTransfer: round.exhausted_transfer,
      elected: round.elected,
    };
  });
}

/** The elected of an STV count in order, each with the round of its election and whether it reached the quota. */
export function stvElected(result) {
  checkCandidates(result.elected, result.candidates, 'elected');
  return result.elected.map((c) => {
    const round = result.rounds.find((r) => r.elected.some((e) => e.candidate === c));
    return { candidate: c, round: round?.number ?? null, reachedQuota: round?.elected.find((e) => e.candidate === c).reached_quota ?? null };
  });
}

/** The largest number an STV chart must show: the quota or the most votes of any round. */
export function stvScale(result) {
  let most = result.quota;
  for (const r of result.rounds) for (const v of r.votes) most = Math.max(most, toNumber(parseRational(v)));
  return most;
}

// --- Majority judgment ---------------------------------------------------------------------

/**
 * The merit profiles of a majority judgment result, in the order of its ranking: each
 * `{candidate, place, tied, winner, majorityGrade, gauge, segments}` where `segments` runs from
 * the best grade to the worst, `{grade, name, count, share, start}` (share and start in percent
 * of the ballots, for a 100 % stacked bar); `grades` are the manifest's names, best first, and
 * grade values count from the worst (0). `place` is shared by candidates with equal profiles.
 */
export function meritProfiles(result, grades) {
  const n = result.candidates;
  const g = result.grades;
  if (!Array.isArray(grades) || grades.length !== g) throw new Error(`the question names ${grades?.length} grades, the result counts ${g}`);
  checkCandidates(result.ranking, n, 'ranking');
  const name = (x) => grades[g - 1 - x];
  let place = 0;
  let previous = null;
  return result.ranking.map((c, k) => {
    const p = result.profiles[c];
    if (!p || !Array.isArray(p.counts) || p.counts.length !== g) throw new Error(`candidate ${c}'s profile has not one count per grade`);
    const key = p.counts.join(',');
    const tied = previous === key;
    if (!tied) place = k + 1;
    previous = key;
    const total = p.counts.reduce((s, x) => s + x, 0);
    let start = 0;
    const segments = [];
    for (let x = g - 1; x >= 0; x -= 1) {
      const share = total > 0 ? (100 * p.counts[x]) / total : 0;
      segments.push({ grade: x, name: name(x), count: p.counts[x], share, start });
      start += share;
    }
    return {
      candidate: c,
      place,
      tied,
      winner: result.winners.includes(c),
      majorityGrade: { grade: p.majority_grade, name: name(p.majority_grade) },
      gauge: { above: p.gauge.above, below: p.gauge.below, sign: p.gauge.above > p.gauge.below ? '+' : MINUS },
      segments,
    };
  });
}

/**
 * The palette position (0 the best colour, 6 the worst) of grade `x` of `g`, spreading any
 * number of grades over the seven colours of public.css.
 */
export function gradeShade(x, g) {
  return g <= 1 ? 0 : Math.round(((g - 1 - x) * 6) / (g - 1));
}
