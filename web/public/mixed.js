// The result of a mixed question on the election's page (issue #8): counted in the clear after
// the verifiable shuffle, by Condorcet–Schulze, the single transferable vote or majority
// judgment (docs/counting.md). Each method's chart is SVG (`role="img"`, a title and a
// description) paired with a table of the same numbers:
//
// - Schulze: the pairwise matrix (shaded by margin, with a legend), the strongest paths, the
//   winners and the ranking with why each candidate is above the next;
// - STV: a bar chart of every round with the quota as a line, the rounds' table (exact
//   fractions with their decimals), what each round did, the elected in order;
// - majority judgment: the merit profiles as 100 % stacked bars with the 50 % line, the
//   majority grades, the ranking, the table of grade counts.
//
// The published shape (view.result.questions[i]): `{"counts": [], "mixed": {"method",
// "ballots", "invalid", ...the count's result fields}}`; numbers are prepared by mixed-data.js.

import { el, svg } from '../common/dom.js';
import { gradeShade, formatInteger, formatRational, MARGIN_STEPS, meritProfiles, pairwiseTable, pathsTable, schulzeRanking, stvElected, stvRounds, stvScale } from './mixed-data.js';
import { tm, tmIn } from './mixed-words.js';
import { language, percent } from './words.js';

const int = (n) => formatInteger(n, language());
const exact = (s, opts) => formatRational(s, language(), opts);

/** A list of names joined in the page's language ("A, B and C"). */
function joinNames(names) {
  try {
    return new Intl.ListFormat(language() === 'fr' ? 'fr' : 'en-GB', { type: 'conjunction' }).format(names);
  } catch {
    return names.join(', ');
  }
}

/**
 * A table in a region that scrolls on its own when wider than the page (never the page). Its
 * title stands above the region, where it wraps to the page's width (a caption would take the
 * table's), and names both the region and the table.
 */
function scroller(id, title, table) {
  table.setAttribute('aria-labelledby', `${id}-caption`);
  return [el('p', { class: 'table-title', id: `${id}-caption` }, title), el('div', { class: 'scroll', role: 'region', tabindex: '0', 'aria-labelledby': `${id}-caption` }, table)];
}

/** The section of mixed question `qi` (`q` the manifest's question, `r` its published result). */
export function mixedQuestion(qi, q, r) {
  const m = r?.mixed;
  const section = el('section', { class: 'question mixed', id: `q${qi}`, 'data-method': m?.method ?? q.counting, 'aria-labelledby': `q${qi}-heading` }, el('h3', { id: `q${qi}-heading` }, q.text));
  if (!m) {
    section.append(el('p', { class: 'rule' }, tm('noBallots')));
    return section;
  }
  const method = tm('methods')?.[m.method];
  if (method === undefined) {
    section.append(el('p', { class: 'rule' }, tm('unknownMethod', String(m.method))));
    return section;
  }
  section.append(el('p', { class: 'rule' }, typeof method === 'function' ? method(q.seats ?? m.seats) : method));
  // `ballots` is every decrypted ballot of the question; the method counted all but the
  // `invalid` ones (urne_core::tally::MixedResult).
  const facts = [
    [tm('ballots'), int(m.ballots), `q${qi}-ballots`],
    [tm('invalid'), int(m.invalid), `q${qi}-invalid`],
    [tm('counted'), int(m.ballots - m.invalid), `q${qi}-counted`],
  ];
  if (m.method === 'stv') {
    facts.push([tm('valid'), int(m.valid), `q${qi}-valid`], [tm('seats'), int(m.seats), `q${qi}-seats`], [tm('quota'), int(m.quota), `q${qi}-quota`]);
  }
  section.append(el('dl', { class: 'facts' }, facts.map(([k, v, id]) => [el('dt', {}, k), el('dd', { id }, v)])));
  try {
    const parts = m.method === 'schulze' ? schulzeParts(qi, q, m) : m.method === 'stv' ? stvParts(qi, q, m) : mjParts(qi, q, m);
    section.append(...parts.flat());
  } catch (e) {
    section.append(el('p', { class: 'error', role: 'alert' }, tm('unreadable', e.message)));
  }
  return section;
}

// --- Schulze -------------------------------------------------------------------------------

function schulzeParts(qi, q, m) {
  const name = (c) => q.answers[c] ?? `#${c + 1}`;
  const ranking = schulzeRanking(m);
  const winners = m.winners.map(name);
  const parts = [
    el('h4', {}, tm('winnerHeading', winners.length)),
    el('p', { id: `q${qi}-winners`, class: 'winners' }, tm('winnerText', joinNames(winners))),
  ];
  if (winners.length > 1) parts.push(el('p', {}, tm('tieText')));
  parts.push(
    el('h4', {}, tm('rankingHeading')),
    el('p', { class: 'hint' }, tm('rankingHow')),
    el(
      'ol',
      { class: 'result-order', id: `q${qi}-ranking` },
      ranking.map((x) =>
        el(
          'li',
          { 'data-candidate': x.candidate },
          el('strong', {}, name(x.candidate)),
          x.next ? ` — ${x.next.beats ? tm('beatsNext', name(x.candidate), name(x.next.candidate), int(x.next.strength), int(x.next.against)) : tm('tiedNext', name(x.candidate), name(x.next.candidate), int(x.next.strength))}` : '',
        ),
      ),
    ),
  );

  // The pairwise matrix, shaded by margin.
  const d = pairwiseTable(m);
  const pct = (s) => percent(s, 1).replace(/[.,]0(?=\D*$)/, '');
  const [s3, s2] = MARGIN_STEPS;
  const legend = [
    ['w3', tmIn('legend', 'w3', pct(s3))],
    ['w2', tmIn('legend', 'w2', pct(s2), pct(s3))],
    ['w1', tmIn('legend', 'w1', pct(s2))],
    ['t', tmIn('legend', 't')],
    ['l1', tmIn('legend', 'l1', pct(s2))],
    ['l2', tmIn('legend', 'l2', pct(s2), pct(s3))],
    ['l3', tmIn('legend', 'l3', pct(s3))],
  ];
  const head = () => [
    el('thead', {}, el('tr', {}, el('td', {}), q.answers.map((a) => el('th', { scope: 'col' }, a)))),
  ];
  const diagonal = () => el('td', { class: 'diag' }, el('span', { 'aria-hidden': 'true' }, '—'), el('span', { class: 'visually-hidden' }, tm('same')));
  const pairwiseId = `q${qi}-pairwise`;
  parts.push(
    el('h4', {}, tm('pairwiseHeading')),
    el('p', { class: 'hint' }, tm('pairwiseHow')),
    el(
      'div',
      { class: 'legend', id: `q${qi}-legend` },
      el('p', { class: 'legend-title' }, tm('legendHeading')),
      el('ul', {}, legend.map(([level, text]) => el('li', {}, el('span', { class: `swatch m-${level}`, 'aria-hidden': 'true' }), text))),
    ),
    scroller(
      pairwiseId,
      tm('pairwiseCaption'),
      el(
        'table',
        { class: 'numbers matrix', id: pairwiseId },
        head(),
        el(
          'tbody',
          {},
          d.map((row) =>
            el(
              'tr',
              {},
              el('th', { scope: 'row' }, name(row.candidate)),
              row.cells.map((c) =>
                c.diagonal
                  ? diagonal()
                  : el(
                      'td',
                      { class: `num m-${c.level}`, 'data-value': c.value, 'data-margin': c.margin },
                      el('span', { class: 'cell-main' }, int(c.value)),
                      el('span', { class: 'cell-sub' }, el('span', { class: 'visually-hidden' }, `${tm('margin')} `), c.margin > 0 ? `+${int(c.margin)}` : c.margin === 0 ? '±0' : int(c.margin)),
                    ),
              ),
            ),
          ),
        ),
      ),
    ),
  );

  // The strongest paths.
  const p = pathsTable(m);
  const pathsId = `q${qi}-paths`;
  parts.push(
    el('h4', {}, tm('pathsHeading')),
    el('p', { class: 'hint' }, tm('pathsHow')),
    scroller(
      pathsId,
      tm('pathsCaption'),
      el(
        'table',
        { class: 'numbers matrix', id: pathsId },
        head(),
        el(
          'tbody',
          {},
          p.map((row) =>
            el(
              'tr',
              {},
              el('th', { scope: 'row' }, name(row.candidate)),
              row.cells.map((c) =>
                c.diagonal
                  ? diagonal()
                  : el(
                      'td',
                      { class: c.beats ? 'num path-beats' : 'num', 'data-value': c.value, 'data-beats': String(c.beats) },
                      el('span', { class: 'cell-main' }, int(c.value)),
                      c.beats ? el('span', { class: 'cell-sub' }, tm('beats')) : '',
                    ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  return parts;
}

// --- STV -----------------------------------------------------------------------------------

function stvParts(qi, q, m) {
  const name = (c) => q.answers[c] ?? `#${c + 1}`;
  const rounds = stvRounds(m);
  const elected = stvElected(m);
  const parts = [
    el('h4', {}, tm('electedHeading')),
    el(
      'ol',
      { class: 'result-order', id: `q${qi}-elected` },
      elected.map((e) => el('li', { 'data-candidate': e.candidate }, el('strong', {}, name(e.candidate)), ` — ${tm('electedAt', e.round, e.reachedQuota)}`)),
    ),
    el('h4', {}, tm('roundsHeading')),
    el('p', { class: 'hint' }, tm('roundsHow')),
    el(
      'ol',
      { class: 'actions-list', id: `q${qi}-actions` },
      rounds.map((r) => el('li', { value: r.number }, el('strong', {}, tm('roundLabel', r.number)), language() === 'fr' ? ' : ' : ': ', roundText(r, name))),
    ),
    stvChart(qi, q, m, rounds, name),
    stvTable(qi, m, rounds, name),
  ];
  return parts;
}

/** What round `r` did, in words. */
function roundText(r, name) {
  const a = r.action;
  let text;
  if (a.kind === 'first_preferences') text = tmIn('actions', 'first_preferences');
  else if (a.kind === 'surplus') {
    const tv = exact(a.transfer_value);
    text = tmIn('actions', 'surplus', name(a.candidate), exact(a.surplus).text, tv.approx ? `${tv.exact} (≈ ${tv.approx})` : tv.exact);
  } else if (a.kind === 'exclusion') text = tmIn('actions', 'exclusion', name(a.candidate));
  else text = String(a.kind);
  if (a.tie_break) text += tmIn('tieBreak', a.tie_break.by, a.tie_break.round);
  if (r.elected.length > 0) text += tm('roundElected', joinNames(r.elected.map((e) => name(e.candidate))));
  return text;
}

/** One chart of all the rounds: per round, a bar per candidate still in the count, and the quota. */
function stvChart(qi, q, m, rounds, name) {
  const LINE = 22; // a label line
  const BAR = 16;
  const GAP = 8;
  const scale = 96 / stvScale(m);
  const titleId = `q${qi}-chart-title`;
  const descId = `q${qi}-chart-desc`;
  const desc = [];
  const body = [];
  let y = 0;
  for (const r of rounds) {
    const shown = r.candidates.filter((c) => c.shown);
    const top = y;
    body.push(svg('text', { x: 0, y: y + 18, class: 'chart-round' }, tm('roundLabel', r.number)));
    y += LINE + 4;
    const rows = [];
    for (const c of shown) {
      const v = exact(c.votes);
      // Elected or excluded in this round, or elected earlier: said in words, not by colour alone.
      const [mark, markClass] = c.electedHere
        ? [tm('electedMark'), 'mark-elected']
        : c.excludedHere
          ? [tm('excludedMark'), 'mark-excluded']
          : c.status === 'elected'
            ? [tm('electedBefore'), 'mark-before']
            : ['', ''];
      rows.push(`${name(c.candidate)} ${v.text}${mark ? ` ${mark}` : ''}`);
      body.push(
        svg('text', { x: 0, y: y + 16, class: 'chart-label' }, `${name(c.candidate)}: ${v.text}`, mark ? svg('tspan', { class: markClass, dx: 8 }, mark) : ''),
        svg('rect', {
          x: 0,
          y: y + LINE,
          width: `${Math.max(0, v.value * scale)}%`,
          height: BAR,
          rx: 2,
          class: `chart-bar ${c.status === 'elected' ? 'elected' : ''}`.trim(),
          'data-candidate': c.candidate,
          'data-round': r.number,
          'data-votes': c.votes,
        }),
      );
      y += LINE + BAR + GAP;
    }
    const qx = `${m.quota * scale}%`;
    body.push(
      svg('line', { x1: qx, x2: qx, y1: top + LINE + 2, y2: y - GAP + 2, class: 'quota-line', 'data-quota': m.quota }),
      svg('text', { x: qx, y: top + 18, dx: -4, class: 'quota-label', 'text-anchor': 'end' }, tm('quotaLabel', int(m.quota))),
    );
    desc.push(`${tm('roundLabel', r.number)}: ${rows.join(', ')}`);
    y += GAP;
  }
  return svg(
    'svg',
    { class: 'chart stv-chart', id: `q${qi}-chart`, width: '100%', height: y, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, focusable: 'false' },
    svg('title', { id: titleId }, tm('chartTitle', q.text)),
    svg('desc', { id: descId }, `${tm('quotaLabel', int(m.quota))}. ${desc.join('. ')}.`),
    body,
  );
}

/** The table of rounds: a row per candidate, a column per round (votes, then the change). */
function stvTable(qi, m, rounds, name) {
  const id = `q${qi}-rounds`;
  const cell = (votes, change, mark, attrs = {}) => {
    const v = exact(votes);
    const t = exact(change, { signed: true });
    return el(
      'td',
      { class: 'num', ...attrs },
      el('span', { class: 'cell-main' }, v.exact),
      v.approx ? el('span', { class: 'cell-dec' }, `≈ ${v.approx}`) : '',
      el('span', { class: 'cell-sub' }, `${tm('change')} ${t.exact}${t.approx ? ` (≈ ${t.approx})` : ''}`),
      mark ? el('span', { class: 'cell-mark' }, mark) : '',
    );
  };
  const body = [];
  for (let c = 0; c < m.candidates; c += 1) {
    body.push(
      el(
        'tr',
        { 'data-candidate': c },
        el('th', { scope: 'row' }, name(c)),
        rounds.map((r) => {
          const x = r.candidates[c];
          if (!x.shown) return el('td', { class: 'num out' }, '—');
          const mark = x.electedHere ? tm('electedWord') : x.excludedHere ? tm('excludedWord') : '';
          return cell(x.votes, x.transfer, mark, { 'data-round': r.number, 'data-votes': x.votes });
        }),
      ),
    );
  }
  body.push(
    el(
      'tr',
      { class: 'blank-row', 'data-exhausted': 'true' },
      el('th', { scope: 'row' }, tm('exhausted')),
      rounds.map((r) => cell(r.exhausted, r.exhaustedTransfer, '', { 'data-round': r.number, 'data-votes': r.exhausted })),
    ),
  );
  return scroller(
    id,
    tm('tableCaption'),
    el(
      'table',
      { class: 'numbers rounds', id },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, tm('rowCandidate')), rounds.map((r) => el('th', { scope: 'col', class: 'num' }, tm('roundLabel', r.number))))),
      el('tbody', {}, body),
    ),
  );
}

// --- Majority judgment ---------------------------------------------------------------------

function mjParts(qi, q, m) {
  const name = (c) => q.answers[c] ?? `#${c + 1}`;
  const grades = q.grades ?? [];
  const profiles = meritProfiles(m, grades);
  const winners = profiles.filter((p) => p.winner).map((p) => name(p.candidate));
  const share = (s) => percent(s, 100);
  const parts = [
    el('p', { id: `q${qi}-winners`, class: 'winners' }, tm('winnerMj', joinNames(winners), winners.length)),
    el('h4', {}, tm('mjRankingHeading')),
    el('p', { class: 'hint' }, tm('mjHow')),
    el(
      'ol',
      { class: 'result-order', id: `q${qi}-ranking` },
      profiles.map((p) => el('li', { 'data-candidate': p.candidate, value: p.place }, el('strong', {}, name(p.candidate)), ` — ${tm('mjGradeText', p.majorityGrade.name, p.gauge.sign)}`, p.tied ? ` ${tm('tiedPlace')}` : '')),
    ),
  ];

  // The merit profiles: a 100 % stacked bar per candidate, best grade on the left.
  const LINE = 22;
  const BAR = 26;
  const GAP = 12;
  const titleId = `q${qi}-chart-title`;
  const descId = `q${qi}-chart-desc`;
  const g = m.grades;
  let y = 20;
  const body = [];
  const counts = [];
  const desc = [];
  for (const p of profiles) {
    body.push(svg('text', { x: 0, y: y + 16, class: 'chart-label' }, `${p.place}. ${name(p.candidate)}`, svg('tspan', { class: 'chart-value', dx: 8 }, `${p.majorityGrade.name} ${p.gauge.sign}`)));
    for (const s of p.segments) {
      if (s.count === 0) continue;
      body.push(
        svg('rect', { x: `${s.start}%`, y: y + LINE, width: `${s.share}%`, height: BAR, class: `mj-seg mj-p${gradeShade(s.grade, g)}`, 'data-candidate': p.candidate, 'data-grade': s.grade, 'data-count': s.count }),
      );
      // The count inside its segment, where there is room (drawn over the 50 % line).
      if (s.share >= 9) counts.push(svg('text', { x: `${s.start + s.share / 2}%`, y: y + LINE + 18, class: 'mj-count', 'text-anchor': 'middle' }, int(s.count)));
    }
    // The 50 % line, over the bar only (not through the labels).
    counts.unshift(svg('line', { x1: '50%', x2: '50%', y1: y + LINE - 4, y2: y + LINE + BAR + 4, class: 'median-line' }));
    desc.push(tm('mjDescRow', p.place, name(p.candidate), p.majorityGrade.name, p.gauge.sign, p.segments.map((s) => tm('mjPart', s.name, int(s.count), share(s.share))).join(', ')));
    y += LINE + BAR + GAP;
  }
  body.push(
    svg('text', { x: '50%', y: 14, class: 'median-label', 'text-anchor': 'middle' }, tm('median')),
    counts,
  );
  parts.push(
    svg(
      'svg',
      { class: 'chart mj-chart', id: `q${qi}-chart`, width: '100%', height: y, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, focusable: 'false' },
      svg('title', { id: titleId }, tm('mjChartTitle', q.text)),
      svg('desc', { id: descId }, desc.join('. ')),
      body,
    ),
    el(
      'div',
      { class: 'legend', id: `q${qi}-legend` },
      el('p', { class: 'legend-title' }, tm('legendGrades')),
      el('ul', {}, grades.map((gname, i) => el('li', {}, el('span', { class: `swatch mj-p${gradeShade(g - 1 - i, g)}`, 'aria-hidden': 'true' }), gname))),
    ),
  );

  // The grade counts.
  const id = `q${qi}-grades`;
  parts.push(
    scroller(
      id,
      tm('countsCaption'),
      el(
        'table',
        { class: 'numbers grades', id },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th', { scope: 'col', class: 'num' }, tm('place')),
            el('th', { scope: 'col' }, tm('rowCandidate')),
            grades.map((gname) => el('th', { scope: 'col', class: 'num' }, gname)),
            el('th', { scope: 'col' }, tm('majorityGrade')),
            el('th', { scope: 'col', class: 'num' }, tm('above')),
            el('th', { scope: 'col', class: 'num' }, tm('below')),
          ),
        ),
        el(
          'tbody',
          {},
          profiles.map((p) =>
            el(
              'tr',
              { 'data-candidate': p.candidate },
              el('td', { class: 'num' }, String(p.place)),
              el('th', { scope: 'row' }, name(p.candidate)),
              p.segments.map((s) => el('td', { class: 'num', 'data-count': s.count }, el('span', { class: 'cell-main' }, int(s.count)), el('span', { class: 'cell-dec' }, share(s.share)))),
              el('td', { class: 'majority-grade' }, `${p.majorityGrade.name} ${p.gauge.sign}`),
              el('td', { class: 'num' }, int(p.gauge.above)),
              el('td', { class: 'num' }, int(p.gauge.below)),
            ),
          ),
        ),
      ),
    ),
  );
  return parts;
}

