// The voting booth (issue #7, docs/booth.md): one page, served by `urne serve` at /vote/{id}.
//
// The voter's credential comes in the address's fragment (#credential=…), which browsers never
// send to a server; the page reads it, removes it from the address bar and keeps it in memory
// only (in sessionStorage only across a login at the organisation's identity provider, which
// leaves the page). The page loads the election, logs the voter in when the election wants it,
// shows the questions with their rules checked as the voter chooses, a review, then has the
// worker (worker.js) encrypt, prove and sign the ballot with web/src/urne, sends it, shows the
// tracker and has the worker check the signed receipt and the ballot's inclusion proof.
//
// Every step is rendered with DOM calls (never HTML from strings: the election's texts are not
// ours), titles its heading, and moves the focus to it, so that a screen reader announces it.

import { parseCredential } from '../src/urne/credential.js';
import { el } from '../common/dom.js';
import { callApi } from '../common/api.js';
import { workerClient } from '../common/worker.js';
import { language, preferredLanguage, setLanguage, t } from './i18n.js';
import { emptyChoice, gradingFieldset, gradingProblem, isGrading, isRanking, mixedReview, mixedVote, rankingFieldset, rankingProblem } from './mixed.js';

const OIDC_KEY = 'urne-booth-oidc';

const state = {
  id: null,
  credential: null, // canonical text, or null
  view: null, // GET /api/v1/elections/{id}
  choices: [], // per question: {selected: Set of answer indices, blank: boolean}, or for a
  // ranked question {ranks: [rank or 0 per answer]}, for a graded one {grades: [position or −1]}
  token: null, // voter session token, when logged in by code
  loggedIn: false,
  ballot: null, // {json, tracker, ms} once made
  step: null, // the function that renders the current step, for a change of language
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers.

const $ = (id) => document.getElementById(id);

function status(text) {
  $('status').textContent = text ?? '';
}

/** Shows a step: its heading (focused, so a screen reader reads it) and its content. */
function show(render) {
  state.step = render;
  const { heading, body } = render();
  $('heading').textContent = heading;
  document.title = `${heading} — ${t('title')} — urne`;
  $('step').replaceChildren(...[body].flat());
  $('heading').focus();
}

function field(id, label, hint, attrs = {}) {
  return [
    el('label', { class: 'field', for: id }, label),
    hint ? el('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    el('input', { type: 'text', id, name: id, 'aria-describedby': hint ? `${id}-hint` : undefined, ...attrs }),
    el('p', { class: 'error', id: `${id}-error`, role: 'alert' }),
  ];
}

function chrome() {
  document.documentElement.lang = language();
  const b = $('lang');
  b.textContent = t('switchTo');
  b.setAttribute('lang', language() === 'en' ? 'fr' : 'en');
  b.setAttribute('aria-label', t('switchLabel'));
  $('skip').textContent = t('skip');
  const f = state.view?.fingerprint;
  $('foot').textContent = f ? t('fingerprint', f) : '';
}

// ---------------------------------------------------------------------------------------------
// The worker: one request at a time, answered by id.

const work = workerClient(new URL('./worker.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// The API.

function api(path) {
  return `/api/v1/elections/${encodeURIComponent(state.id)}${path}`;
}

/** A call to the API for this election, with the voter's session token once logged in. */
function call(method, path, body) {
  return callApi(method, api(path), body, { token: state.token });
}

function message(answer) {
  return answer.json?.error?.message ?? `HTTP ${answer.status}`;
}

// ---------------------------------------------------------------------------------------------
// Steps.

function failure(text, retry) {
  return () => ({
    heading: t('title'),
    body: [el('p', { class: 'error' }, text), retry ? el('div', { class: 'actions' }, el('button', { type: 'button', onclick: retry }, t('retry'))) : null],
  });
}

async function start() {
  const match = /^\/vote\/([^/]+)\/?$/.exec(location.pathname);
  if (!match) return show(failure(t('badAddress')));
  state.id = decodeURIComponent(match[1]);
  // The credential: from the fragment (then removed from the address bar and the history), or
  // kept across an identity provider's login.
  const fragment = new URLSearchParams(location.hash.slice(1));
  const typed = fragment.get('credential');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  const kept = sessionStorage.getItem(OIDC_KEY);
  if (kept !== null) {
    sessionStorage.removeItem(OIDC_KEY);
    try {
      const saved = JSON.parse(kept);
      if (saved.id === state.id) {
        state.credential = saved.credential;
        state.loggedIn = true;
      }
    } catch {
      // a damaged entry: ask again
    }
  }
  if (typed) {
    try {
      state.credential = parseCredential(typed);
    } catch {
      state.credential = null;
    }
  }
  await load();
}

async function load() {
  show(() => ({ heading: t('title'), body: el('p', {}, el('span', { class: 'progress', 'aria-hidden': 'true' }), t('loading')) }));
  let answer;
  try {
    answer = await call('GET', '');
  } catch {
    return show(failure(t('network'), load));
  }
  if (answer.status === 404) return show(failure(t('notFound')));
  if (!answer.ok || !answer.json?.manifest) return show(failure(t('notFound')));
  state.view = answer.json;
  const questions = state.view.manifest.questions;
  state.choices = questions.map((q) => (isRanking(q) || isGrading(q) ? emptyChoice(q) : { selected: new Set(), blank: false }));
  chrome();
  if (state.view.phase !== 'open') return show(failure(t('notOpen', state.view.phase)));
  if (state.credential === null) return show(credentialStep);
  afterCredential();
}

function afterCredential() {
  if (state.view.voter_auth === 'none' || state.loggedIn) show(questionsStep);
  else if (state.view.voter_auth === 'oidc') show(oidcStep);
  else show(voterStep);
}

function form(onsubmit, ...children) {
  return el(
    'form',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        onsubmit(e);
      },
    },
    ...children,
  );
}

function credentialStep() {
  return {
    heading: t('credentialHeading'),
    body: [
      el('p', {}, t('credentialIntro')),
      form(
        () => {
          try {
            state.credential = parseCredential($('credential').value);
            afterCredential();
          } catch (e) {
            $('credential-error').textContent = t('credentialBad', e.detail ?? e.message);
            $('credential').setAttribute('aria-invalid', 'true');
            $('credential').focus();
          }
        },
        field('credential', t('credentialLabel'), t('credentialHint'), { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' }),
        el('div', { class: 'actions' }, el('button', { type: 'submit' }, t('next'))),
      ),
    ],
  };
}

function oidcStep() {
  return {
    heading: t('loginHeading'),
    body: [
      el('p', {}, t('oidcIntro')),
      el(
        'div',
        { class: 'actions' },
        el(
          'button',
          {
            type: 'button',
            onclick: () => {
              // The identity provider's login leaves this page: keep the credential for this
              // tab only, until the page comes back.
              sessionStorage.setItem(OIDC_KEY, JSON.stringify({ id: state.id, credential: state.credential }));
              location.assign(api('/voter/oidc'));
            },
          },
          t('oidcButton'),
        ),
      ),
    ],
  };
}

let voterId = '';

function voterStep() {
  return {
    heading: t('loginHeading'),
    body: [
      el('p', {}, t('loginIntro')),
      form(
        async () => {
          const id = $('voter').value.trim();
          if (!id) {
            $('voter').setAttribute('aria-invalid', 'true');
            $('voter').focus();
            return;
          }
          const button = $('send');
          button.disabled = true;
          try {
            const answer = await call('POST', '/voter/code', { voter: id });
            if (!answer.ok) throw new Error(message(answer));
            voterId = id;
            const minutes = answer.json?.minutes ?? 15;
            show(() => codeStep(minutes));
          } catch (e) {
            $('voter-error').textContent = t('loginFailed', e.message);
            button.disabled = false;
            $('voter').focus();
          }
        },
        field('voter', t('voterLabel'), t('voterHint'), { autocomplete: 'username', value: voterId || undefined }),
        el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'send' }, t('sendCode'))),
      ),
    ],
  };
}

function codeStep(minutes) {
  return {
    heading: t('codeHeading'),
    body: [
      el('p', {}, t('codeIntro', minutes)),
      form(
        async () => {
          const code = $('code').value.replace(/\s/g, '');
          const button = $('login');
          button.disabled = true;
          try {
            const answer = await call('POST', '/voter/login', { voter: voterId, code });
            if (!answer.ok) throw new Error(message(answer));
            state.token = answer.json?.token ?? null;
            state.loggedIn = true;
            if (state.ballot) show(castingStep);
            else show(questionsStep);
          } catch (e) {
            $('code-error').textContent = t('loginFailed', e.message);
            $('code').setAttribute('aria-invalid', 'true');
            button.disabled = false;
            $('code').focus();
          }
        },
        field('code', t('codeLabel'), t('codeHint'), { autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 12 }),
        el(
          'div',
          { class: 'actions' },
          el('button', { type: 'submit', id: 'login' }, t('logIn')),
          el('button', { type: 'button', class: 'secondary', onclick: () => show(voterStep) }, t('otherId')),
        ),
      ),
    ],
  };
}

/** The rule of a question, in words. */
function ruleText(q) {
  let rule;
  if (q.min === 1 && q.max === 1) rule = t('ruleOne');
  else if (q.min === 0 && q.max === 1) rule = t('ruleUpToOne');
  else if (q.min === q.max) rule = t('ruleExactly', q.max);
  else if (q.min === 0) rule = t('ruleUpTo', q.max);
  else rule = t('ruleBetween', q.min, q.max);
  return q.blank ? `${rule} ${t('ruleBlank')}` : rule;
}

/** Whether a question's choice follows its rules; the message when it does not. */
function problem(q, c) {
  if (isRanking(q)) return rankingProblem(q, c);
  if (isGrading(q)) return gradingProblem(q, c);
  if (c.blank) return null;
  const n = c.selected.size;
  if (n < q.min) return t('tooFew', q.min);
  if (n > q.max) return t('full', q.max);
  return null;
}

function questionsStep() {
  const questions = state.view.manifest.questions;
  const radio = (q) => q.min === 1 && q.max === 1;
  const summary = el('p', { class: 'error', id: 'questions-error', role: 'alert' });
  const settled = () => {
    if (questions.every((other, i) => !problem(other, state.choices[i]))) summary.textContent = '';
  };
  const fieldsets = questions.map((q, qi) => {
    const c = state.choices[qi];
    if (isRanking(q)) return rankingFieldset(q, qi, c, settled);
    if (isGrading(q)) return gradingFieldset(q, qi, c, settled);
    const name = `q${qi}`;
    const live = el('p', { class: 'hint', id: `${name}-live`, 'aria-live': 'polite' });
    const err = el('p', { class: 'error', id: `${name}-error` });
    const inputs = [];
    const refresh = () => {
      const n = c.selected.size;
      for (const { input, answer } of inputs) {
        if (answer === 'blank') input.checked = c.blank;
        else input.checked = c.selected.has(answer);
        // Checkboxes at the maximum: the others wait until one is removed.
        if (!radio(q) && answer !== 'blank') input.disabled = !c.selected.has(answer) && n >= q.max;
      }
      live.textContent = c.blank ? t('blank') : !radio(q) && n >= q.max ? t('full', q.max) : radio(q) ? '' : t('chosen', n, q.max);
      if (!problem(q, c)) {
        err.textContent = '';
        fs.removeAttribute('aria-invalid');
      }
      if (questions.every((other, i) => !problem(other, state.choices[i]))) summary.textContent = '';
    };
    const option = (answer, label, extra) => {
      const id = `${name}-${answer}`;
      const input = el('input', {
        type: radio(q) ? 'radio' : 'checkbox',
        id,
        name,
        value: String(answer),
        onchange: () => {
          if (answer === 'blank') {
            c.blank = input.checked;
            if (c.blank) c.selected.clear();
          } else if (radio(q)) {
            c.selected = new Set([answer]);
            c.blank = false;
          } else if (input.checked) {
            c.selected.add(answer);
            c.blank = false;
          } else {
            c.selected.delete(answer);
          }
          refresh();
        },
      });
      inputs.push({ input, answer });
      return el('div', { class: `choice${extra ? ` ${extra}` : ''}` }, input, el('label', { for: id }, label));
    };
    const fs = el(
      'fieldset',
      { id: `${name}-set`, 'aria-describedby': `${name}-rule ${name}-live ${name}-error` },
      el('legend', {}, q.text),
      el('p', { class: 'rule', id: `${name}-rule` }, ruleText(q)),
      q.answers.map((a, ai) => option(ai, a)),
      q.blank ? option('blank', t('blank'), 'blank') : null,
      live,
      err,
    );
    refresh();
    return fs;
  });
  return {
    heading: t('questionsHeading'),
    body: [
      el('p', {}, t('questionsIntro', questions.length)),
      form(
        () => {
          let first = null;
          questions.forEach((q, qi) => {
            const p = problem(q, state.choices[qi]);
            $(`q${qi}-error`).textContent = p ?? '';
            if (p) {
              $(`q${qi}-set`).setAttribute('aria-invalid', 'true');
              first ??= qi;
            }
          });
          if (first !== null) {
            summary.textContent = t('fix');
            // The first control to fix: a graded question's first answer without a grade.
            const ungraded = isGrading(questions[first]) ? state.choices[first].grades.findIndex((g) => g < 0) : -1;
            const target = ungraded >= 0 ? $(`q${first}-a${ungraded}-g0`) : $(`q${first}-set`).querySelector('input:not([disabled]), select');
            target?.focus();
            return;
          }
          show(reviewStep);
        },
        summary,
        fieldsets,
        el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'to-review' }, t('review'))),
      ),
    ],
  };
}

function vote() {
  return state.choices.map((c) => {
    if (c.ranks || c.grades) return mixedVote(c);
    return c.blank ? { blank: true } : { selected: [...c.selected].sort((a, b) => a - b) };
  });
}

function reviewStep() {
  const questions = state.view.manifest.questions;
  return {
    heading: t('reviewHeading'),
    body: [
      el('p', {}, t('reviewIntro')),
      el(
        'dl',
        { class: 'review' },
        questions.map((q, qi) => {
          const c = state.choices[qi];
          if (isRanking(q) || isGrading(q)) return [el('dt', {}, q.text), el('dd', {}, mixedReview(q, c, qi))];
          const chosen = c.blank ? [t('blank')] : [...c.selected].sort((a, b) => a - b).map((a) => q.answers[a]);
          return [el('dt', {}, q.text), el('dd', {}, chosen.length ? chosen.join(', ') : t('none'))];
        }),
      ),
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'button', id: 'cast', onclick: () => show(castingStep) }, t('cast')),
        el('button', { type: 'button', class: 'secondary', onclick: () => show(questionsStep) }, t('change')),
      ),
      el('p', { class: 'hint', id: 'audit-why' }, t('auditWhy')),
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'button', id: 'audit', class: 'secondary', 'aria-describedby': 'audit-why', onclick: () => show(auditingStep) }, t('audit')),
      ),
    ],
  };
}

// The Benaloh audit (docs/booth.md): the worker makes a ballot and keeps its randomness; the
// booth shows it opened and never sends it (state.ballot stays empty), then casts a new one.

let audited = null; // {opened, tracker}: the last audited ballot, shown until the voter moves on

function auditingStep() {
  const line = el('p', {}, el('span', { class: 'progress', 'aria-hidden': 'true' }), t('auditWorking'));
  queueMicrotask(async () => {
    try {
      state.ballot = null;
      audited = await work('audit', { manifest: state.view.manifest, credential: state.credential, vote: vote() });
      show(auditStep);
    } catch (e) {
      show(() => ({
        heading: t('reviewHeading'),
        body: [
          el('p', { class: 'error', role: 'alert' }, e.message),
          el('div', { class: 'actions' }, el('button', { type: 'button', onclick: () => show(reviewStep) }, t('retry'))),
        ],
      }));
    }
  });
  return { heading: t('audit'), body: line };
}

function auditStep() {
  const { opened, tracker } = audited;
  const copied = el('span', { class: 'ok', id: 'audit-copied', 'aria-live': 'polite' });
  const download = el('a', { id: 'audit-download', class: 'button secondary', download: `opened-ballot-${tracker.slice(0, 8)}.json` }, t('auditDownload'));
  download.href = URL.createObjectURL(new Blob([opened], { type: 'application/json' }));
  const verify = `/audit?election=${encodeURIComponent(state.id)}`;
  return {
    heading: t('auditHeading'),
    body: [
      el('p', {}, t('auditIntro')),
      el('h2', { id: 'audit-tracker-label' }, t('auditTrackerLabel')),
      el('p', { class: 'tracker', id: 'audit-tracker', 'aria-labelledby': 'audit-tracker-label' }, tracker),
      el('p', { class: 'hint' }, t('auditTrackerHint')),
      el('label', { class: 'field', for: 'opened' }, t('auditDocLabel')),
      el('textarea', { id: 'opened', class: 'document', readonly: true, rows: 8, spellcheck: 'false' }, opened),
      el(
        'div',
        { class: 'actions' },
        el(
          'button',
          {
            type: 'button',
            id: 'audit-copy',
            class: 'secondary',
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(opened);
              } catch {
                $('opened').select(); // no clipboard access: select it for the voter to copy
              }
              copied.textContent = t('auditCopied');
            },
          },
          t('auditCopy'),
        ),
        download,
        copied,
      ),
      el('h2', {}, t('auditCheckHeading')),
      el('p', {}, t('auditCheck')),
      el('p', {}, el('a', { id: 'audit-link', href: verify, target: '_blank', rel: 'noopener' }, t('auditLink'))),
      el('h2', {}, t('auditNextHeading')),
      el('p', {}, t('auditNext')),
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'button', id: 'recast', onclick: () => show(castingStep) }, t('recast')),
        el('button', { type: 'button', class: 'secondary', onclick: () => show(questionsStep) }, t('change')),
      ),
    ],
  };
}

function castingStep() {
  const line = el('p', {}, el('span', { class: 'progress', 'aria-hidden': 'true' }), t(state.ballot ? 'sending' : 'encrypting'));
  queueMicrotask(() => cast(line));
  return { heading: t('cast'), body: line };
}

async function cast(line) {
  try {
    if (state.ballot === null) {
      state.ballot = await work('ballot', { manifest: state.view.manifest, credential: state.credential, vote: vote() });
      document.body.dataset.ballotMs = state.ballot.ms.toFixed(1);
    }
    line.lastChild.textContent = t('sending');
    status(t('sending'));
    const answer = await call('POST', '/ballots', state.ballot.json);
    if (answer.status === 401) {
      // Not logged in, or the session expired: log in, then send the same ballot.
      state.loggedIn = false;
      state.token = null;
      status('');
      return afterCredential();
    }
    if (!answer.ok) throw new Error(message(answer));
    const ack = answer.json;
    state.credential = null; // the ballot is cast: the credential is no longer needed here
    status(t('checking'));
    const done = { ack, checks: null, error: null };
    try {
      const proof = await call('GET', `/board/inclusion/${ack.seq}?size=${ack.receipt.size}`);
      if (!proof.ok) throw new Error(message(proof));
      const { size } = await work('receipt', {
        manifest: state.view.manifest,
        head: ack.receipt,
        inclusion: proof.json,
        tracker: ack.tracker,
        ballotJson: state.ballot.json,
      });
      done.checks = { seq: ack.seq, size };
    } catch (e) {
      done.error = e.message;
    }
    status('');
    show(() => doneStep(done));
  } catch (e) {
    status('');
    show(() => ({
      heading: t('reviewHeading'),
      body: [
        el('p', { class: 'error', role: 'alert' }, t('refused', e.message)),
        el('div', { class: 'actions' }, el('button', { type: 'button', onclick: () => show(reviewStep) }, t('retry'))),
      ],
    }));
  }
}

function doneStep({ ack, checks, error }) {
  const url = `${location.origin}${api(`/ballots/${ack.tracker}`)}`;
  return {
    heading: t('doneHeading'),
    body: [
      el('p', {}, t('doneIntro')),
      el('h2', { id: 'tracker-label' }, t('trackerLabel')),
      el('p', { class: 'tracker', id: 'tracker', 'aria-labelledby': 'tracker-label' }, ack.tracker),
      el('p', { class: 'hint' }, t('trackerHint')),
      error
        ? el('p', { class: 'error', id: 'receipt-check', role: 'alert', 'data-ok': 'false' }, t('checkFailed', error))
        : el(
            'ul',
            { class: 'checks ok', id: 'receipt-check', 'data-ok': 'true' },
            el('li', {}, `✓ ${t('checkReceipt')}`),
            el('li', {}, `✓ ${t('checkInclusion', checks.seq, checks.size)}`),
          ),
      el('h2', {}, t('laterHeading')),
      el('p', {}, t('later', url)),
      el('p', { class: 'hint' }, t('timing', Math.round(state.ballot.ms))),
      el('details', {}, el('summary', {}, t('receiptDetails')), el('pre', { class: 'tracker' }, JSON.stringify(ack.receipt, null, 1))),
    ],
  };
}

// ---------------------------------------------------------------------------------------------

setLanguage(preferredLanguage());
chrome();
$('lang').addEventListener('click', () => {
  setLanguage(language() === 'en' ? 'fr' : 'en');
  chrome();
  // A step that is working (casting) keeps going; its next step comes in the new language.
  if (state.step && state.step !== castingStep && state.step !== auditingStep) show(state.step);
});
start();
