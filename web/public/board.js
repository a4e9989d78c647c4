// The election's bulletin board (issue #7), served by `urne serve` at /elections/{id}/board and,
// with a tracker filled in, at /elections/{id}/ballots/{tracker} (the address the voters' letters
// give): the latest signed tree head, checked against the manifest's board key; a search by
// ballot tracker, which shows the ballot's line and checks its inclusion proof against the
// signed head it comes with (web/src/urne/board.js: verifySignedTreeHead, verifyInclusion); and
// the latest lines of the board.

import { $, el, electionId, getJson } from '../common/dom.js';
import { loadElection, verifyReceipt, verifySignedTreeHead } from '../src/urne/index.js';
import { language, named, setLanguage, t, when } from './words.js';

const RECENT = 20;
const TRACKER = /^[A-Za-z0-9_-]{43}$/;

const state = {
  id: null,
  view: null,
  election: null,
  head: null,
  headCheck: null, // null (checked) or the failure's message
  recent: [],
  tracker: '',
  search: null, // {kind: 'busy'|'bad'|'missing'|'found'|'error', ...}
  error: null,
};

const api = (path) => `/api/v1/elections/${encodeURIComponent(state.id)}${path}`;

function render() {
  const b = $('lang');
  b.textContent = t('switchTo');
  b.setAttribute('lang', language() === 'en' ? 'fr' : 'en');
  $('skip').textContent = t('skip');
  const content = $('content');
  if (state.error) {
    $('heading').textContent = t('boardTitle');
    document.title = `${t('boardTitle')} — urne`;
    content.replaceChildren(el('p', { class: 'error', role: 'alert' }, state.error()));
    return;
  }
  if (!state.view) {
    $('heading').textContent = t('boardTitle');
    content.replaceChildren(el('p', {}, t('loading')));
    return;
  }
  const title = state.view.manifest.title;
  $('heading').textContent = `${t('boardTitle')} — ${title}`;
  document.title = `${t('boardTitle')} — ${title} — urne`;
  content.replaceChildren(
    el('p', {}, el('a', { href: `/elections/${encodeURIComponent(state.id)}` }, t('resultsLink'))),
    headSection(),
    searchSection(),
    recentSection(),
  );
}

function headSection() {
  const h = state.head;
  return el(
    'section',
    { 'aria-labelledby': 'head-heading', id: 'head' },
    el('h2', { id: 'head-heading' }, t('headHeading')),
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, t('headSize')),
      el('dd', { id: 'head-size' }, String(h.size)),
      el('dt', {}, t('headRoot')),
      el('dd', {}, el('code', { class: 'digest', id: 'head-root' }, h.root)),
      el('dt', {}, t('headAt')),
      el('dd', {}, el('time', { datetime: h.at }, when(h.at))),
    ),
    state.headCheck === null
      ? el('p', { class: 'ok', id: 'head-check', 'data-ok': 'true' }, t('headOk'))
      : el('p', { class: 'error', id: 'head-check', 'data-ok': 'false' }, t('headBad', state.headCheck)),
  );
}

function searchSection() {
  const s = state.search;
  const input = el('input', {
    type: 'text',
    id: 'tracker',
    name: 'tracker',
    value: state.tracker,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'tracker-hint',
    'aria-invalid': s?.kind === 'bad' ? 'true' : undefined,
  });
  return el(
    'section',
    { 'aria-labelledby': 'search-heading', id: 'search' },
    el('h2', { id: 'search-heading' }, t('searchHeading')),
    el(
      'form',
      { id: 'search-form', onsubmit: (e) => (e.preventDefault(), search(input.value)) },
      el('label', { class: 'field', for: 'tracker' }, t('trackerLabel')),
      el('p', { class: 'hint', id: 'tracker-hint' }, t('trackerHint')),
      input,
      el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'find' }, t('search'))),
    ),
    el('div', { id: 'search-answer', role: 'status', 'aria-live': 'polite' }, answerNode()),
  );
}

/** What the search found, or null before any search. */
function answerNode() {
  const s = state.search;
  let answer = null;
  if (s?.kind === 'busy') answer = el('p', {}, t('searching'));
  else if (s?.kind === 'bad') answer = el('p', { class: 'error' }, t('badTracker'));
  else if (s?.kind === 'missing') answer = el('p', { class: 'error' }, t('notOnBoard'));
  else if (s?.kind === 'error') answer = el('p', { class: 'error' }, t('network'));
  else if (s?.kind === 'found') {
    answer = el(
      'div',
      {},
      el('p', { id: 'found-line', 'data-seq': s.seq }, t('found', s.seq)),
      s.castAt ? el('p', {}, t('castAt', when(s.castAt))) : null,
      s.failure === null
        ? el('p', { class: 'ok', id: 'proof-check', 'data-ok': 'true' }, t('proofOk', s.size))
        : el('p', { class: 'error', id: 'proof-check', 'data-ok': 'false' }, t('proofBad', s.failure)),
    );
  }
  return answer;
}

/** Shows the search's answer in place, keeping the focus where it is. */
function showAnswer() {
  $('search-answer').replaceChildren(answerNode() ?? '');
  if (state.search?.kind === 'bad') $('tracker').setAttribute('aria-invalid', 'true');
  else $('tracker').removeAttribute('aria-invalid');
}

function recentSection() {
  return el(
    'section',
    { 'aria-labelledby': 'recent-heading', id: 'recent' },
    el('h2', { id: 'recent-heading' }, t('recentHeading')),
    el(
      'div',
      { class: 'scroll', role: 'region', 'aria-labelledby': 'recent-heading', tabindex: '0' },
      el(
        'table',
        { class: 'numbers lines' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', class: 'num' }, t('line')), el('th', { scope: 'col' }, t('type')), el('th', { scope: 'col' }, t('detail')))),
        el(
          'tbody',
          {},
          state.recent.map((l) =>
            el(
              'tr',
              {},
              el('td', { class: 'num' }, String(l.seq)),
              el('td', {}, named('types', l.type)),
              el('td', {}, detail(l)),
            ),
          ),
        ),
      ),
    ),
  );
}

/** What the table shows of a line: a ballot's tracker (a link to its search) or a time. */
function detail(l) {
  if (l.type === 'ballot' && typeof l.tracker === 'string') {
    return el('a', { class: 'digest', href: `/elections/${encodeURIComponent(state.id)}/ballots/${encodeURIComponent(l.tracker)}` }, l.tracker);
  }
  const at = l.at ?? l.cast_at;
  return typeof at === 'string' ? el('time', { datetime: at }, when(at)) : '';
}

async function search(text) {
  const tracker = text.trim();
  state.tracker = tracker;
  if (!TRACKER.test(tracker)) {
    state.search = { kind: 'bad' };
    showAnswer();
    $('tracker').focus();
    return;
  }
  state.search = { kind: 'busy' };
  showAnswer();
  try {
    const r = await fetch(api(`/ballots/${tracker}`));
    if (r.status === 404) state.search = { kind: 'missing' };
    else if (!r.ok) state.search = { kind: 'error' };
    else {
      const found = await r.json();
      let failure = null;
      let size = found.head?.size;
      try {
        // The signed head's signature, then the ballot's line in its tree (RFC 9162 §2.1.3.2).
        size = verifyReceipt(state.election, found.head, { seq: found.seq, line: found.line, path: found.inclusion }, tracker).size;
      } catch (e) {
        failure = e.message;
      }
      let castAt = null;
      try {
        castAt = JSON.parse(found.line).cast_at ?? null;
      } catch {
        castAt = null;
      }
      state.search = { kind: 'found', seq: found.seq, size, failure, castAt };
      history.replaceState(null, '', `/elections/${encodeURIComponent(state.id)}/ballots/${tracker}`);
    }
  } catch {
    state.search = { kind: 'error' };
  }
  showAnswer();
}

async function start() {
  setLanguage(language());
  $('lang').addEventListener('click', () => {
    setLanguage(language() === 'en' ? 'fr' : 'en');
    render();
  });
  state.id = electionId();
  const m = /^\/elections\/[^/]+\/ballots\/([^/]+)$/.exec(location.pathname);
  if (m) state.tracker = decodeURIComponent(m[1]);
  if (!state.id) {
    state.error = () => t('badAddress');
    render();
    return;
  }
  render();
  try {
    state.view = await getJson(api(''));
    state.election = loadElection(state.view.manifest);
    state.head = await getJson(api('/board/head'));
    try {
      verifySignedTreeHead(state.election, state.head);
      state.headCheck = null;
    } catch (e) {
      state.headCheck = e.message;
    }
    const from = Math.max(0, state.head.size - RECENT);
    const r = await fetch(api(`/board/lines?from=${from}&limit=${RECENT}`));
    if (!r.ok) throw Object.assign(new Error(`${r.status}`), { status: r.status });
    state.recent = (await r.text())
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l))
      .reverse();
  } catch (e) {
    state.view = null;
    state.error = () => (e.status === 404 ? t('notFound') : t('network'));
  }
  render();
  if (state.view && state.tracker) await search(state.tracker);
  document.body.dataset.ready = 'true';
}

start();
