// The election's public page (issue #7), served by `urne serve` at /elections/{id}: its title,
// description, dates and phase; once published, the result of each question as an SVG bar chart
// and a table (counts, percentages, blank votes), the turnout, and the election record to
// download with how to verify it (`urne verify`). Printable (public.css's print rules).
//
// Everything comes from the API, in one request: GET /api/v1/elections/{id} (manifest, phase,
// fingerprint, result, and the turnout: the credentials registered and the tally's count of
// ballots, which the server keeps, so that the page never reads the board however many ballots
// it holds). The page is built with DOM calls; the election's texts are never parsed as HTML.
// Questions counted in the clear after the shuffle (Schulze, STV, majority judgment: issue #8)
// are drawn by mixed.js.

import { $, el, electionId, getJson, svg } from '../common/dom.js';
import { mixedQuestion } from './mixed.js';
import { language, named, percent, setLanguage, t, when } from './words.js';

const state = { id: null, view: null, error: null };

function render() {
  const content = $('content');
  const b = $('lang');
  b.textContent = t('switchTo');
  b.setAttribute('lang', language() === 'en' ? 'fr' : 'en');
  $('skip').textContent = t('skip');
  if (state.error) {
    $('heading').textContent = 'urne';
    document.title = 'urne';
    content.replaceChildren(el('p', { class: 'error', role: 'alert' }, state.error()));
    return;
  }
  const view = state.view;
  if (!view) {
    content.replaceChildren(el('p', {}, t('loading')));
    return;
  }
  const m = view.manifest;
  $('heading').textContent = m.title;
  document.title = `${m.title} — urne`;
  const parts = [];
  if (m.description) parts.push(el('p', { class: 'lead' }, m.description));
  parts.push(
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, t('phase')),
      el('dd', { id: 'phase', 'data-phase': view.phase }, named('phases', view.phase)),
      el('dt', {}, t('opens')),
      el('dd', {}, el('time', { datetime: m.opens_at }, when(m.opens_at))),
      el('dt', {}, t('closes')),
      el('dd', {}, el('time', { datetime: m.closes_at }, when(m.closes_at))),
      el('dt', {}, t('fingerprint')),
      el('dd', {}, el('code', { class: 'digest', id: 'fingerprint' }, view.fingerprint)),
    ),
  );
  parts.push(view.result ? resultSection(m, view.result) : el('p', { id: 'no-result' }, t('noResult')));
  parts.push(recordSection());
  content.replaceChildren(...parts);
}

function resultSection(m, result) {
  // The server's turnout (GET /api/v1/elections/{id}): `ballots` is null until the tally.
  const turnout = state.view.turnout ?? {};
  const counted = turnout.ballots ?? null;
  const voters = turnout.credentials ?? 0;
  const section = el('section', { 'aria-labelledby': 'result-heading', id: 'result' }, el('h2', { id: 'result-heading' }, t('resultHeading')));
  if (counted !== null && voters > 0) section.append(el('p', { id: 'turnout' }, t('turnout', counted, voters, percent(counted, voters))));
  else if (counted !== null) section.append(el('p', { id: 'turnout' }, t('counted', counted)));
  // Shares are only shown for the questions counted by plurality; mixed questions (ranked or
  // graded, counted in the clear after the shuffle) have their own numbers (mixed.js).
  if (m.questions.some((q) => (q.counting ?? 'plurality') === 'plurality')) section.append(el('p', { class: 'hint' }, t('percentNote')));
  result.questions.forEach((r, qi) => {
    const q = m.questions[qi];
    if (!q) return;
    if (r.mixed || (q.counting ?? 'plurality') !== 'plurality') {
      section.append(mixedQuestion(qi, q, r));
      return;
    }
    const rows = q.answers.map((a, i) => ({ label: a, n: r.counts[i] ?? 0, blank: false }));
    if (r.blank !== undefined) rows.push({ label: t('blank'), n: r.blank, blank: true });
    // Shares of the ballots counted (of their weight, which the counts are, under weighted
    // votes); without the tally's count, of the votes shown.
    const base = turnout.ballots_weight ?? counted ?? rows.reduce((s, x) => s + x.n, 0);
    section.append(
      el(
        'section',
        { class: 'question', 'aria-labelledby': `q${qi}-heading` },
        el('h3', { id: `q${qi}-heading` }, q.text),
        el('p', { class: 'rule' }, t('rules', q.min, q.max)),
        chart(qi, q.text, rows, base),
        table(qi, q.text, rows, base),
      ),
    );
  });
  section.append(el('div', { class: 'actions' }, el('button', { type: 'button', class: 'secondary', onclick: () => window.print() }, t('print'))));
  return section;
}

/** A horizontal bar chart in SVG: one row per answer (label, bar, count and share). */
function chart(qi, text, rows, base) {
  const ROW = 50;
  const height = rows.length * ROW + 4;
  const titleId = `q${qi}-chart-title`;
  const descId = `q${qi}-chart-desc`;
  // The longest bar, the answer with most votes, takes three quarters of the width; the rest
  // is for its count and share.
  const scale = 75 / Math.max(1, ...rows.map((x) => x.n));
  const s = svg(
    'svg',
    { class: 'chart', id: `q${qi}-chart`, width: '100%', height, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, focusable: 'false' },
    svg('title', { id: titleId }, t('chartTitle', text)),
    svg('desc', { id: descId }, t('chartDesc', rows.map((x) => t('chartRow', x.label, x.n, percent(x.n, base))))),
  );
  rows.forEach((x, i) => {
    const y = i * ROW;
    const w = x.n * scale;
    s.append(
      svg('text', { x: 0, y: y + 17, class: 'chart-label' }, x.label),
      svg('rect', { x: 0, y: y + 24, width: `${w}%`, height: 18, rx: 2, class: x.blank ? 'chart-bar blank' : 'chart-bar', 'data-count': x.n }),
      svg('text', { x: `${w}%`, dx: x.n > 0 ? 6 : 0, y: y + 38, class: 'chart-value' }, `${x.n} (${percent(x.n, base)})`),
    );
  });
  return s;
}

/** The same numbers as a table, for every reader. */
function table(qi, text, rows, base) {
  return el(
    'table',
    { class: 'numbers', id: `q${qi}-table` },
    el('caption', { class: 'visually-hidden' }, text),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('answer')), el('th', { scope: 'col', class: 'num' }, t('votes')), el('th', { scope: 'col', class: 'num' }, t('percent')))),
    el(
      'tbody',
      {},
      rows.map((x) =>
        el(
          'tr',
          { class: x.blank ? 'blank-row' : undefined },
          el('th', { scope: 'row' }, x.label),
          el('td', { class: 'num', 'data-count': x.n }, String(x.n)),
          el('td', { class: 'num' }, percent(x.n, base)),
        ),
      ),
    ),
  );
}

function recordSection() {
  const api = `/api/v1/elections/${encodeURIComponent(state.id)}`;
  return el(
    'section',
    { 'aria-labelledby': 'record-heading', id: 'record' },
    el('h2', { id: 'record-heading' }, t('recordHeading')),
    el('p', {}, t('recordIntro')),
    el('p', {}, el('a', { href: `${api}/record`, download: `${state.id}.record.jsonl`, id: 'record-link' }, t('recordLink'))),
    el('p', {}, t('howTo')),
    el('pre', { class: 'command' }, el('code', { id: 'verify-command' }, `urne verify ${location.origin}${api}`)),
    el('p', {}, t('howToFile')),
    el('pre', { class: 'command' }, el('code', {}, `urne verify ${state.id}.record.jsonl`)),
    el('p', { class: 'no-print' }, el('a', { href: `/elections/${encodeURIComponent(state.id)}/board`, id: 'board-link' }, t('boardLink'))),
  );
}

async function start() {
  setLanguage(language());
  $('lang').addEventListener('click', () => {
    setLanguage(language() === 'en' ? 'fr' : 'en');
    render();
  });
  state.id = electionId();
  if (!state.id) {
    state.error = () => t('badAddress');
    render();
    return;
  }
  render();
  try {
    state.view = await getJson(`/api/v1/elections/${encodeURIComponent(state.id)}`);
  } catch (e) {
    state.error = () => (e.status === 404 ? t('notFound') : t('network'));
  }
  render();
  document.body.dataset.ready = 'true';
}

start();
