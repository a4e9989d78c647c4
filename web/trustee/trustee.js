// The trustee's page (issue #7, docs/trustees.md): served by `urne serve` at
// /elections/{id}/trustee, it takes a trustee through the key-generation ceremony relayed by
// the server (spec §8.5), once the votes are counted through the decryption of the tally, and,
// for an election with ranked or graded questions, through the mix phase (spec §8.8): the
// shuffles in turn, then the decryption of the last shuffled list.
// It does in the browser what `urne trustee … --server` does on the command line, which stays
// the air-gapped alternative; the secret files are the same (urne/secret/v1), with the CLI's
// names, so a trustee may switch between the two at any step.
//
// The invitation comes in the address's fragment (#index=N&invitation=TOKEN, which browsers
// never send to a server); the page removes it from the address bar and keeps it in
// sessionStorage for the visit. The keys are made and used in a Web Worker (worker.js), which
// also keeps the secrets of the visit: the page only ever sees public messages and sealed files.
// The page polls GET …/ceremony every few seconds, shows who has done what, and moves to the
// trustee's next step by itself.
//
// `?kdf=test` in the address seals the files with a weak argon2id (for automated tests only);
// the page says so in a banner on every step.
//
// Every step is rendered with DOM calls (no HTML from strings), titles its heading and moves
// the focus to it, so that a screen reader announces it.

import { DEFAULT_KDF, ceremonyStatus, checkManifest } from '../src/urne/trustee-index.js';
import { $, el } from '../common/dom.js';
import { callApi } from '../common/api.js';
import { workerClient } from '../common/worker.js';
import { formatBytes, fraction, mixStage, uploadPlan } from './mix-progress.js';
import { TALLY_CHECK_MAX_LINES } from './tally-check.js';
import { language, setLanguage, t } from './words.js';

const SESSION_KEY = 'urne-trustee';
const POLL_MS = 3000;
// Rows of a page of GET …/mix (the server's most).
const MIX_PAGE_ROWS = 4096;
// The test mode's argon2id: 1 MiB and one pass. Only through `?kdf=test`, which the page shows.
const TEST_KDF_MEMORY_KIB = 1024;

const state = {
  id: null,
  index: null,
  invitation: null,
  kdf: DEFAULT_KDF,
  testKdf: false,
  ceremony: null, // GET …/ceremony
  status: null, // ceremonyStatus(ceremony, index)
  election: null, // GET /api/v1/elections/{id}, once public (null before the seal)
  kept: { identity: false, polynomial: false, share: false }, // secrets the worker holds
  pending: null, // {slot, name, file, body, saved}: a sealed file to save before sending `body`
  report: null, // the complaints step's report
  finalized: null, // {outcome, file, saved}
  tally: null, // GET …/tally, once counted
  counting: null, // {decrypted: [trustee indexes], result}: the board's decryption lines, once counted
  ack: null, // the server's answer to this trustee's decryption
  mix: null, // GET …/mix?limit=0, once counted, for an election with ranked or graded questions
  mixError: null, // the last refusal of a mix step, shown until the next attempt
  key: null, // the step shown
  render: null, // its renderer, for a change of language
  busy: false,
  timer: null,
};

// ---------------------------------------------------------------------------------------------
// The worker.

const work = workerClient(new URL('./worker.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// The API.

function api(path) {
  return `/api/v1/elections/${encodeURIComponent(state.id)}${path}`;
}

/** A call to the API: {status, ok, json}; POSTs carry the invitation token, and no cookie goes. */
function call(method, path, body) {
  return callApi(method, api(path), body, { token: method !== 'GET' ? state.invitation : null, credentials: 'omit' });
}

/** The server's refusal, in words. */
function refusal(answer) {
  const e = answer.json?.error;
  return t('refused', answer.status, e?.code ?? 'error', e?.message ?? '');
}

/** Sends one of this trustee's messages; throws an Error whose message says the refusal. */
async function send(path, body) {
  const answer = await call('POST', path, body);
  if (!answer.ok) throw Object.assign(new Error(refusal(answer)), { answer });
  return answer.json;
}

// ---------------------------------------------------------------------------------------------
// Rendering.

function status(text) {
  $('status').textContent = text ?? '';
}

function chrome() {
  document.documentElement.lang = language();
  const b = $('lang');
  b.textContent = t('switchTo');
  b.setAttribute('lang', language() === 'en' ? 'fr' : 'en');
  b.setAttribute('aria-label', t('switchLabel'));
  $('skip').textContent = t('skip');
  const banner = $('test-kdf');
  banner.hidden = !state.testKdf;
  banner.textContent = state.testKdf ? t('testKdf') : '';
  $('who').textContent = state.id && state.index ? t('who', state.id, state.index) : '';
  const f = state.election?.fingerprint;
  $('foot').textContent = f ? t('fingerprint', f) : '';
}

/** Shows step `key` (its heading focused, so that a screen reader reads it). */
function show(key, render) {
  state.key = key;
  state.render = render;
  const { heading, body } = render();
  $('heading').textContent = heading;
  document.title = `${heading} — ${t('title')} — urne`;
  $('step').replaceChildren(...[body].flat().filter(Boolean));
  document.body.dataset.step = key;
  progress();
  $('heading').focus();
}

/** The ceremony's progress: the stage, who has done what, and who is awaited. */
function progress() {
  const box = $('progress');
  const c = state.ceremony;
  const phase = state.election?.phase ?? 'setup';
  if (phase === 'tallied' && state.mix && mixNow()?.stage !== 'tally') {
    box.hidden = false;
    box.replaceChildren(...mixPanel().filter(Boolean));
    return;
  }
  if (!c || !c.ceremony || !state.status || phase !== 'setup') {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const s = state.status;
  const done = (yes) => el('td', { class: yes ? 'done' : 'todo' }, yes ? t('yes') : t('no'));
  const rows = [];
  for (let i = 1; i <= c.trustees; i += 1) {
    const name = c.identities[i - 1]?.name ?? t('unnamed', i);
    rows.push(
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, i === state.index ? t('you', name) : name),
        done(c.identities[i - 1] != null),
        done(c.dealings.some((d) => d.dealer === i)),
        done(c.complained.includes(i)),
        done(c.answered.includes(i)),
      ),
    );
  }
  box.hidden = false;
  box.replaceChildren(
    el('h2', { id: 'progress-heading' }, t('progressCaption')),
    el('p', { id: 'stage', 'data-stage': s.stage }, t('stages')[s.stage]),
    el(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'progress-heading' },
      el(
        'table',
        { class: 'ceremony', id: 'ceremony-table' },
        el(
          'thead',
          {},
          el('tr', {}, ...['colTrustee', 'colRegistered', 'colDealt', 'colChecked', 'colAnswered'].map((k) => el('th', { scope: 'col' }, t(k)))),
        ),
        el('tbody', {}, rows),
      ),
    ),
  );
}

function form(onsubmit, ...children) {
  return el(
    'form',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        if (!state.busy) onsubmit(e);
      },
    },
    ...children,
  );
}

function field(id, label, hint, attrs = {}) {
  const described = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  return [
    el('label', { class: 'field', for: id }, label),
    hint ? el('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    el('input', { type: 'text', id, name: id, 'aria-describedby': described, ...attrs }),
    el('p', { class: 'error', id: `${id}-error` }),
  ];
}

/** Shows `text` as the error of field `id` and moves the focus there. */
function fieldError(id, text) {
  $(`${id}-error`).textContent = text;
  $(id).setAttribute('aria-invalid', 'true');
  $(id).focus();
}

function clearErrors() {
  for (const p of document.querySelectorAll('#step .error')) p.textContent = '';
  for (const i of document.querySelectorAll('#step [aria-invalid]')) i.removeAttribute('aria-invalid');
}

/** The step's error, read out (role alert). */
function stepError(text) {
  const p = $('step-error');
  if (p) p.textContent = text;
}

function errorBox(text = '') {
  return el('p', { class: 'error', id: 'step-error', role: 'alert' }, text);
}

function button(id, text, attrs = {}) {
  return el('button', { type: 'submit', id, ...attrs }, text);
}

/** Runs `task` with the form's buttons disabled and the status saying what happens. */
async function busy(task, slow = false) {
  state.busy = true;
  for (const b of document.querySelectorAll('#step button')) b.disabled = true;
  document.body.dataset.busy = 'true';
  status(slow ? t('slow') : t('working'));
  try {
    await task();
  } finally {
    state.busy = false;
    delete document.body.dataset.busy;
    for (const b of document.querySelectorAll('#step button')) b.disabled = false;
    status('');
  }
}

// ---------------------------------------------------------------------------------------------
// Secret files: saving and opening.

/** The CLI's name of this trustee's file for `slot` (urne trustee new-identity, deal, finalize). */
function fileName(slot) {
  return slot === 'identity' ? `trustee-${state.index}.secret` : `trustee-${state.index}.${slot}.secret`;
}

/** A link that saves `text` as `name`; `onsaved` runs when it is followed. */
function downloadLink(id, name, text, onsaved) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  return el('a', { class: 'button', id, href: url, download: name, onclick: onsaved }, t('download', name));
}

/** The fields that unlock a sealed file for `slot`, when the worker does not hold it yet. */
function unlockFields(slot) {
  if (state.kept[slot]) return null;
  const label = { identity: 'unlockFileLabel', polynomial: 'unlockPolyLabel', share: 'unlockShareLabel' }[slot];
  const name = fileName(slot);
  return el(
    'fieldset',
    { class: 'unlock', id: `${slot}-unlock` },
    el('legend', {}, t(label, name)),
    el('label', { class: 'field', for: `${slot}-file` }, t('fileLabel')),
    el('input', { type: 'file', id: `${slot}-file`, accept: '.secret,.json,application/json', 'aria-describedby': `${slot}-file-error` }),
    el('p', { class: 'error', id: `${slot}-file-error` }),
    el('label', { class: 'field', for: `${slot}-pass` }, t('unlockPassLabel')),
    el('input', { type: 'password', id: `${slot}-pass`, autocomplete: 'current-password', 'aria-describedby': `${slot}-pass-error` }),
    el('p', { class: 'error', id: `${slot}-pass-error` }),
  );
}

/** Has the worker open the files of `slots` it does not hold; false (with the error shown) on failure. */
async function unlock(slots) {
  for (const slot of slots) {
    if (state.kept[slot]) continue;
    const file = $(`${slot}-file`).files?.[0];
    if (!file) {
      fieldError(`${slot}-file`, t('fileMissing'));
      return false;
    }
    const passphrase = $(`${slot}-pass`).value;
    if (!passphrase) {
      fieldError(`${slot}-pass`, t('passMissing'));
      return false;
    }
    const name = state.ceremony?.identities?.[state.index - 1]?.name ?? '';
    try {
      const opened = await work('unlock', { slot, text: await file.text(), passphrase, electionId: state.id, index: state.index, name });
      if (slot === 'identity') {
        const registered = state.ceremony?.identities?.[state.index - 1]?.public_key;
        if (registered && opened.publicKey !== registered) {
          await work('drop', { slot });
          fieldError('identity-file', t('notYourIdentity', state.index));
          return false;
        }
      }
      state.kept[slot] = true;
    } catch (e) {
      const words = t('errors')[e.kind];
      if (e.kind === 'passphrase') fieldError(`${slot}-pass`, words);
      else fieldError(`${slot}-file`, words ?? t('failed', e.message));
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Steps.

function message(text, retry) {
  return () => ({
    heading: t('title'),
    body: [el('p', { class: 'error', role: 'alert' }, text), retry ? el('div', { class: 'actions' }, el('button', { type: 'button', onclick: retry }, t('retry'))) : null],
  });
}

function inviteStep() {
  return {
    heading: t('inviteHeading'),
    body: [
      el('p', {}, t('inviteIntro')),
      form(
        () => {
          clearErrors();
          const index = Number($('index').value);
          const token = $('token').value.trim();
          if (!Number.isInteger(index) || index < 1) return fieldError('index', t('indexBad'));
          if (!token) return fieldError('token', t('tokenBad'));
          state.index = index;
          state.invitation = token;
          remember();
          chrome();
          refresh(true);
        },
        field('index', t('indexLabel'), null, { type: 'number', min: '1', inputmode: 'numeric', autocomplete: 'off' }),
        field('token', t('tokenLabel'), t('tokenHint'), { autocomplete: 'off', spellcheck: 'false' }),
        el('div', { class: 'actions' }, button('invite-next', t('next'))),
      ),
    ],
  };
}

function identityStep() {
  return {
    heading: t('identityHeading'),
    body: [
      el('p', {}, t('identityIntro')),
      form(
        () => {
          clearErrors();
          const name = $('name').value.trim();
          const pass = $('pass').value;
          if (!name) return fieldError('name', t('nameBad'));
          if ([...pass].length < 12) return fieldError('pass', t('passShort'));
          if ($('pass2').value !== pass) return fieldError('pass2', t('passDiffer'));
          busy(async () => {
            try {
              const made = await work('create', { electionId: state.id, index: state.index, name, passphrase: pass, kdf: state.kdf });
              state.kept.identity = true;
              state.pending = { slot: 'identity', name, file: made.file, body: made.public, saved: false };
              route(true);
            } catch (e) {
              stepError(t('failed', e.message));
            }
          }, true);
        },
        field('name', t('nameLabel'), t('nameHint'), { autocomplete: 'name', value: state.fragmentName ?? undefined }),
        field('pass', t('passLabel'), t('passHint'), { type: 'password', autocomplete: 'new-password' }),
        field('pass2', t('pass2Label'), null, { type: 'password', autocomplete: 'new-password' }),
        errorBox(),
        el('div', { class: 'actions' }, button('create', t('create'))),
      ),
    ],
  };
}

/** A step that saves a sealed file (state.pending) and then sends its message. */
function saveStep(headingKey, introKey, sendKey, sendPath, done) {
  return () => {
    const p = state.pending;
    const name = fileName(p.slot);
    return {
      heading: t(headingKey),
      body: [
        el('p', {}, t(introKey, name)),
        el('p', { class: 'actions' }, downloadLink('download', name, p.file, () => {
          p.saved = true;
        })),
        form(
          () => {
            clearErrors();
            if (!p.saved) {
              stepError(t('registerFirst'));
              $('download').focus();
              return;
            }
            busy(async () => {
              try {
                if (p.slot === 'identity' && $('rename')) {
                  const name2 = $('rename').value.trim();
                  if (!name2) return fieldError('rename', t('nameBad'));
                  if (name2 !== p.name) {
                    p.body = (await work('rename', { electionId: state.id, index: state.index, name: name2 })).public;
                    p.name = name2;
                  }
                }
                await send(sendPath(), p.body);
                state.pending = null;
                status(t(done));
                await refresh(true);
              } catch (e) {
                if (e.answer?.json?.error?.code === 'wrong_name') {
                  p.nameRefused = true;
                  show(state.key, state.render);
                  fieldError('rename', `${e.message} ${t('renamed')}`);
                } else stepError(e.message);
              }
            });
          },
          p.nameRefused ? field('rename', t('nameLabel'), t('nameHint'), { autocomplete: 'name', value: p.name }) : null,
          errorBox(),
          el('div', { class: 'actions' }, button('send', t(sendKey))),
        ),
      ],
    };
  };
}

function waitStep(key) {
  return () => ({
    heading: t({ identities: 'registered', dealing: 'dealt', complaints: 'checkedHeading', answers: 'answered' }[key]),
    body: [
      state.report && key === 'complaints' ? reportTable() : null,
      key === 'complaints' ? el('p', { class: 'ok' }, t('checked', state.report?.filter((r) => !r.ok).length ?? 0)) : null,
      state.status?.waitingFor?.length ? el('p', { id: 'waiting-for' }, t('waitingFor', state.status.waitingFor)) : null,
    ],
  });
}

/** A ceremony step: unlock what it needs, run `op` in the worker, send what it gives. */
function roundStep(headingKey, introKey, buttonKey, slots, run) {
  return () => ({
    heading: t(headingKey),
    body: [
      el('p', {}, t(introKey)),
      form(
        () => {
          clearErrors();
          busy(async () => {
            if (!(await unlock(slots))) return;
            try {
              await run();
            } catch (e) {
              stepError(e.answer ? e.message : t('errors')[e.kind] ?? t('failed', e.message));
            }
          }, slots.some((s) => !state.kept[s]));
        },
        slots.map(unlockFields),
        errorBox(),
        el('div', { class: 'actions' }, button('act', t(buttonKey))),
      ),
    ],
  });
}

const dealStep = roundStep('dealHeading', 'dealIntro', 'dealButton', ['identity'], async () => {
  const made = await work('deal', { view: state.ceremony, electionId: state.id, index: state.index, kdf: state.kdf });
  state.kept.polynomial = true;
  state.pending = { slot: 'polynomial', file: made.file, body: made.dealing, saved: false };
  route(true);
});

const checkStep = roundStep('checkHeading', 'checkIntro', 'checkButton', ['identity'], async () => {
  const made = await work('complain', { view: state.ceremony, electionId: state.id, index: state.index });
  await send('/ceremony/complaints', made.complaints);
  state.report = made.report;
  await refresh(true);
});

const answerStep = roundStep('answerHeading', 'answerIntro', 'answerButton', ['identity', 'polynomial'], async () => {
  const made = await work('answer', { view: state.ceremony, electionId: state.id, index: state.index });
  await send('/ceremony/answers', made.answers);
  status(t('answered'));
  await refresh(true);
});

const finalStep = roundStep('finalHeading', 'finalIntro', 'finalButton', ['identity'], async () => {
  const made = await work('finalize', { view: state.ceremony, electionId: state.id, index: state.index, kdf: state.kdf });
  state.kept.share = true;
  state.finalized = { outcome: made.outcome, file: made.file, saved: false };
  route(true);
});

function reportTable() {
  const c = state.ceremony;
  const who = (i) => c?.identities?.[i - 1]?.name ?? t('unnamed', i);
  return el(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'report-caption' },
    el(
      'table',
      { class: 'report', id: 'report' },
      el('caption', { id: 'report-caption' }, t('reportCaption')),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('colDealer')), el('th', { scope: 'col' }, t('colVerdict')))),
      el(
        'tbody',
        {},
        state.report.map((r) => el('tr', {}, el('th', { scope: 'row' }, who(r.dealer)), el('td', { class: r.ok ? 'done' : 'error' }, r.ok ? t('shareOk') : t('shareBad', r.reason)))),
      ),
    ),
  );
}

/** The ceremony's outcome for this trustee, with its share file to save. */
function finalDoneStep() {
  const f = state.finalized;
  const o = f.outcome;
  const name = fileName('share');
  const manifest = state.election?.manifest;
  let matches = null;
  if (manifest) {
    try {
      checkManifest(manifest, o, state.ceremony);
      matches = true;
    } catch {
      matches = false;
    }
  }
  return {
    heading: t('finalDoneHeading'),
    body: [
      el('p', { class: 'ok' }, t('finalDone')),
      el(
        'dl',
        { class: 'keys' },
        el('dt', {}, t('electionKey')),
        el('dd', {}, el('p', { class: 'key', id: 'election-key' }, String(o.publicKey))),
        el('dt', {}, t('yourKey')),
        el('dd', {}, el('p', { class: 'key', id: 'verification-key' }, String(o.verificationKeys[state.index - 1]))),
      ),
      o.disqualified?.length ? el('p', { class: 'error' }, t('disqualified', o.disqualified)) : null,
      el('p', {}, t('saveShare', name)),
      el('p', { class: 'actions' }, downloadLink('download', name, f.file, () => {
        f.saved = true;
      })),
      matches === null
        ? el('p', {}, t('waitSeal'))
        : matches
          ? el('p', { class: 'ok', id: 'manifest-check', 'data-ok': 'true' }, t('manifestMatches'))
          : el('p', { class: 'error', id: 'manifest-check', 'data-ok': 'false', role: 'alert' }, t('manifestDiffers')),
    ],
  };
}

function waitTallyStep() {
  const phase = state.election?.phase ?? 'setup';
  return {
    heading: t('waitHeading'),
    body: [
      state.ceremony && !state.ceremony.ceremony ? el('p', {}, t('noCeremony')) : null,
      el('p', {}, t('waitIntro', t('phases')[phase] ?? phase)),
      state.ceremony?.ceremony && state.status?.stage === 'done' && phase !== 'published'
        ? el('div', { class: 'actions' }, el('button', { type: 'button', class: 'secondary', id: 'remake', onclick: () => show('final', finalStep) }, t('remake')))
        : null,
    ],
  };
}

/** The slot of the secret that decrypts: the share, or the identity under independent keys. */
function decryptSlot() {
  return state.ceremony && !state.ceremony.ceremony ? 'identity' : 'share';
}

/** What a failed decryption of the tally says: the server's refusal, the check's, or a wrong file. */
function decryptFailure(e) {
  if (e.answer) return e.message;
  if (e.kind === 'tally') return t('tallyRefused', e.message.replace(/^tally: /, ''));
  if (e.kind === 'large') return t('tallyTooLarge', TALLY_CHECK_MAX_LINES);
  return t('errors')[e.kind] ?? t('failed', e.message);
}

// Before its factors, the worker checks that the tally is the board's tally line and the
// weighted sum of the ballots counted from the board's signed ballot lines (tally-check.js);
// the bar and its words say what it reads and checks.
function decryptStep() {
  const slot = decryptSlot();
  return {
    heading: t('decryptHeading'),
    body: [
      el('p', {}, t('decryptIntro')),
      el('p', { class: 'hint' }, t('decryptTrust')),
      state.tally ? el('p', { id: 'tally-summary' }, t('tallySummary', state.tally.ballots)) : null,
      form(
        () => {
          clearErrors();
          busy(async () => {
            if (!(await unlock([slot]))) return;
            try {
              const tally = await call('GET', '/tally');
              if (!tally.ok) throw new Error(refusal(tally));
              const made = await mixWork(
                'decrypt',
                {
                  tallyView: tally.json,
                  verificationKey: state.finalized?.outcome?.verificationKeys?.[state.index - 1],
                  manifest: state.election.manifest,
                  electionId: state.id,
                  index: state.index,
                  slot,
                  base: api(''),
                },
                (phase, p) => (phase === 'setup' ? t('tallyReadingSetup') : phase === 'ballots' ? t('tallyCheckingBallots', p) : t('tallyDecrypting')),
              );
              state.ack = await send('/decryptions', made.body);
              route(true);
            } catch (e) {
              $('mix-progress')?.setAttribute('hidden', '');
              stepError(decryptFailure(e));
            }
          }, !state.kept[slot]);
        },
        unlockFields(slot),
        mixProgressBox(),
        errorBox(),
        el('div', { class: 'actions' }, button('act', t('decryptButton'))),
      ),
    ],
  };
}

/** The decryption's step on a board too large for the page's check: the CLI verifies it. */
function tallyCliStep() {
  return {
    heading: t('decryptHeading'),
    body: [
      el('p', { class: 'warning', id: 'tally-cli' }, t('tallyTooLarge', TALLY_CHECK_MAX_LINES)),
      el('p', {}, t('tallyCliHow')),
      el('pre', { class: 'key', id: 'tally-cli-command' }, `urne trustee decrypt --election ${state.id} --index ${state.index} --secret ${t('mixCliSecret')} --server ${location.origin}`),
    ],
  };
}

function decryptedStep() {
  // The board's count once read again (other trustees decrypt meanwhile), else the server's answer.
  const c = state.counting;
  const needed = state.election?.manifest?.threshold ?? state.ack?.needed;
  const a = c?.decrypted.includes(state.index) ? { trustees: c.decrypted.length, needed, result: c.result } : state.ack;
  return {
    heading: t('decryptedHeading'),
    body: [
      el('p', { class: 'ok', id: 'decrypted', 'data-trustees': a.trustees, 'data-result': String(a.result) }, t('decrypted', a.trustees, a.needed)),
      el('p', {}, a.result ? t('resultReady') : t('resultNotYet', Math.max(0, a.needed - a.trustees))),
    ],
  };
}

function publishedStep() {
  return {
    heading: t('publishedHeading'),
    body: [
      el('p', {}, t('published')),
      el('p', {}, el('a', { href: `/elections/${encodeURIComponent(state.id)}`, id: 'result-link' }, t('resultLink'))),
      el('pre', { class: 'key' }, `urne verify ${location.origin}/api/v1/elections/${state.id}/record`),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The mix phase (spec §8.8): shuffles in turn, then the decryption of the last list. The list
// comes from the server in pages (GET …/mix), goes to the worker as text, which checks it against
// the server's digest, shuffles or decrypts it (web/src/urne/mix.js) and reports its progress
// before its answer (../common/worker.js); the page sends the bodies it gives back in order, and
// shows the rows and bytes sent. The checks before each step are those of `urne trustee shuffle`
// and `mix-decrypt` (mix-progress.js `mixStage`); the server makes them again and the page shows
// its refusal.
// Before it decrypts, the worker checks that the list descends from this trustee's own signed
// shuffle through shuffles whose proofs it verifies (mix-chain.js): a trustee with no shuffle on
// the board is pointed to `urne trustee mix-decrypt`, which verifies the whole record.

function trusteeCount() {
  return state.election?.manifest?.trustees?.length ?? state.ceremony?.trustees ?? 0;
}

function trusteeName(i) {
  const name = state.election?.manifest?.trustees?.[i - 1]?.name ?? state.ceremony?.identities?.[i - 1]?.name ?? t('unnamed', i);
  return i === state.index ? t('you', name) : name;
}

/** The mix phase's stage for this trustee, or null (no mixed question, or not counted). */
function mixNow() {
  return state.mix ? mixStage(state.mix, state.index, trusteeCount()) : null;
}

function mixNext(m) {
  if (m.stage === 'shuffle') return m.canShuffle ? ['mix-shuffle', mixShuffleStep] : ['mix-wait', mixWaitStep];
  // The page decrypts only a list that descends from this trustee's own shuffle (mix-chain.js):
  // a trustee who did not shuffle is sent to the CLI before opening any file.
  if (m.stage === 'decrypt' && m.canDecrypt) return m.shuffled ? ['mix-decrypt', mixDecryptStep] : ['mix-cli', mixCliStep];
  return [m.stage === 'done' ? 'mix-done' : 'mix-decrypted', mixDecryptedStep];
}

/** The mix's progress: shuffles and decryptions done and needed, whose turn, and who did what. */
function mixPanel() {
  const v = state.mix;
  const m = mixNow();
  const names = (list) => list.map(trusteeName).join(', ');
  // Once the list is decrypted the server no longer says who sent factors: the column goes.
  const columns = v.decrypted ? ['colTrustee', 'colShuffle'] : ['colTrustee', 'colShuffle', 'colMixDecrypted'];
  const rows = [];
  for (let i = 1; i <= trusteeCount(); i += 1) {
    const at = v.shufflers.indexOf(i);
    const sent = v.decryptors.includes(i);
    rows.push(
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, trusteeName(i)),
        el('td', { class: at >= 0 ? 'done' : 'todo' }, at >= 0 ? t('shuffleNumber', at + 1) : t('no')),
        v.decrypted ? null : el('td', { class: sent ? 'done' : 'todo' }, sent ? t('yes') : t('no')),
      ),
    );
  }
  return [
    el('h2', { id: 'progress-heading' }, t('mixCaption')),
    el(
      'p',
      { id: 'mix-shuffles', 'data-done': v.shufflers.length, 'data-needed': v.shuffles_needed },
      t('mixShuffles', v.shufflers.length, v.shuffles_needed, names(v.shufflers)),
    ),
    m.stage === 'shuffle' ? el('p', { id: 'mix-turn', 'data-position': m.position }, t(m.canShuffle ? 'mixYourTurn' : 'mixNext', m.position + 1, v.shuffles_needed, names(m.mayShuffle))) : null,
    el(
      'p',
      { id: 'mix-decryptions', 'data-done': v.decrypted ? v.decryptions_needed : v.decryptors.length, 'data-needed': v.decryptions_needed },
      v.decrypted ? t('mixDecryptedAll') : t('mixDecryptions', v.decryptors.length, v.decryptions_needed),
    ),
    el(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'progress-heading' },
      el(
        'table',
        { class: 'ceremony', id: 'mix-table' },
        el('thead', {}, el('tr', {}, ...columns.map((k) => el('th', { scope: 'col' }, t(k))))),
        el('tbody', {}, rows),
      ),
    ),
  ];
}

/** The bar and the words of a long step's progress (the words are read out as they change). */
function mixProgressBox() {
  return el(
    'div',
    { class: 'mix-progress', id: 'mix-progress', hidden: true },
    el('label', { for: 'mix-bar', id: 'mix-bar-label' }, t('mixProgressLabel')),
    el('progress', { id: 'mix-bar', max: '1000', value: '0' }),
    el('p', { id: 'mix-progress-text', 'aria-live': 'polite' }),
  );
}

/** Shows `f` (0 to 1) on the bar, and `words` when they change. */
function mixProgress(f, words) {
  const box = $('mix-progress');
  if (!box) return;
  box.hidden = false;
  $('mix-bar').value = Math.round(fraction(f, 1) * 1000);
  const p = $('mix-progress-text');
  if (words !== undefined && p.textContent !== words) p.textContent = words;
}

const percent = (f) => Math.floor(fraction(f, 1, true) * 100);

/** Reads the current list in pages, as text (the worker parses it); `total` rows are expected. */
async function readMixList(total) {
  const pages = [];
  let from = 0;
  do {
    mixProgress(fraction(from, total), t('mixReading', from, total));
    const r = await fetch(`${api('/mix')}?from=${from}&limit=${MIX_PAGE_ROWS}`, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'omit' });
    const text = await r.text();
    if (!r.ok) {
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      throw Object.assign(new Error(refusal({ status: r.status, json })), { answer: { status: r.status, json } });
    }
    pages.push(text);
    from += MIX_PAGE_ROWS;
  } while (from < total);
  mixProgress(1, t('mixReading', total, total));
  return pages;
}

/** Runs worker operation `op`, showing the progress it reports; `words(phase, f)` says it. */
async function mixWork(op, args, words) {
  let shown = -1;
  let phase = null;
  return await work(op, args, (data) => {
    // The words change with the phase and every 5 % (a screen reader reads them), the bar at
    // every message.
    const p = percent(data.fraction);
    const step = Math.floor(p / 5);
    if (data.phase === phase && step === shown) return mixProgress(data.fraction);
    phase = data.phase;
    shown = step;
    mixProgress(data.fraction, words(data.phase, p));
  });
}

/** Sends `parts` ({body, rows} of JSON text) in order to `pathOf(i)`; shows rows and bytes sent. */
async function mixUpload(parts, pathOf) {
  const plan = uploadPlan(parts);
  let rows = 0;
  let bytes = 0;
  const say = () => t('mixSending', rows, plan.rows, formatBytes(bytes, language()), formatBytes(plan.bytes, language()));
  mixProgress(0, say());
  let ack = null;
  for (const [i, p] of plan.parts.entries()) {
    ack = await send(pathOf(i), p.body);
    rows += p.rows;
    bytes += p.bytes;
    mixProgress(fraction(bytes, plan.bytes), say());
  }
  return ack;
}

/** Reads the mix's state again; refuses (as the CLI) when `allowed(stage)` is false. */
async function freshMix(allowed) {
  const answer = await call('GET', '/mix?limit=0');
  if (!answer.ok) throw Object.assign(new Error(refusal(answer)), { answer });
  state.mix = answer.json;
  const m = mixNow();
  const why = allowed(m);
  if (why) throw Object.assign(new Error(why), { kind: 'refused' });
  return m;
}

/** What a failed mix step says: the server's refusal, a wrong secret, or what went wrong. */
function mixFailure(e) {
  if (e.answer || e.kind === 'refused') return e.message;
  if (e.kind === 'unshuffled') return t('mixNotShuffled');
  if (e.kind === 'chain') return t('mixChainRefused', e.message.replace(/^chain: /, ''));
  if (e.kind === 'key') return t('errors').key;
  return t('failed', e.message);
}

/** A mix step: unlock `slot`, then `run()`; a failure stays shown until the next attempt. */
function mixForm(slot, buttonKey, run) {
  return form(
    () => {
      clearErrors();
      state.mixError = null;
      let sent = false;
      busy(async () => {
        if (!(await unlock([slot]))) return;
        status(t('working'));
        try {
          await run();
          sent = true;
          await refresh();
        } catch (e) {
          state.mixError = mixFailure(e);
          stepError(state.mixError);
          $('mix-progress')?.setAttribute('hidden', '');
        }
      }, !state.kept[slot]).then(() => {
        if (sent) route(true);
      });
    },
    unlockFields(slot),
    mixProgressBox(),
    errorBox(state.mixError ?? ''),
    el('div', { class: 'actions' }, button('act', t(buttonKey))),
  );
}

function mixShuffleStep() {
  return {
    heading: t('mixShuffleHeading'),
    body: [
      el('p', {}, t('mixShuffleIntro')),
      el('p', { class: 'hint' }, t('mixTrust')),
      mixForm('identity', 'mixShuffleButton', async () => {
        await freshMix((x) =>
          x.canShuffle ? null : x.shuffled ? t('mixShuffledAlready', state.index) : x.stage === 'shuffle' ? t('mixCannotShuffle') : t('mixNoMoreShuffles'),
        );
        const pages = await readMixList(state.mix.ballots);
        const made = await mixWork(
          'mixShuffle',
          { pages, manifest: state.election.manifest, electionId: state.id, index: state.index },
          (phase, p) => (phase === 'check' ? t('mixChecking') : phase === 'encode' ? t('mixEncoding') : t('mixShuffling', p)),
        );
        const base = `/mix/shuffles/${made.position}`;
        await mixUpload([...made.chunks, { body: made.end, rows: 0 }], (i) => (i < made.chunks.length ? `${base}/chunks` : base));
      }),
    ],
  };
}

function mixWaitStep() {
  const m = mixNow();
  return {
    heading: t(m.shuffled ? 'mixShuffledHeading' : 'mixWaitHeading'),
    body: [
      m.shuffled ? el('p', { class: 'ok', id: 'mix-shuffled' }, t('mixShuffled', state.mix.shufflers.indexOf(state.index) + 1)) : null,
      state.mix.ballots === 0 ? el('p', {}, t('mixNoBallot')) : el('p', {}, t('mixWaitShuffles', m.shufflesLeft)),
      state.mixError ? errorBox(state.mixError) : null,
    ],
  };
}

function mixDecryptStep() {
  const slot = decryptSlot();
  return {
    heading: t('mixDecryptHeading'),
    body: [
      el('p', {}, t('mixDecryptIntro')),
      el('p', { class: 'hint' }, t('mixDecryptTrust')),
      mixForm(slot, 'decryptButton', async () => {
        await freshMix((x) => (x.canDecrypt ? null : x.decrypted ? t('mixDecryptedAlready', state.index) : t('mixCannotDecrypt')));
        const pages = await readMixList(state.mix.ballots);
        const made = await mixWork(
          'mixDecrypt',
          {
            pages,
            manifest: state.election.manifest,
            verificationKey: state.finalized?.outcome?.verificationKeys?.[state.index - 1],
            electionId: state.id,
            index: state.index,
            slot,
            base: api(''),
          },
          (phase, p) =>
            phase === 'check'
              ? t('mixChecking')
              : phase === 'board'
                ? t('mixReadingBoard')
                : phase === 'ballots'
                  ? t('mixReadingBallots', p)
                  : phase === 'verify'
                    ? t('mixVerifying', p)
                    : phase === 'encode'
                      ? t('mixEncoding')
                      : t('mixDecrypting', p),
        );
        await mixUpload(made.bodies, () => '/mix/decryptions');
      }),
    ],
  };
}

/** The decryption's step for a trustee who did not shuffle: the page refuses, the CLI remains. */
function mixCliStep() {
  return {
    heading: t('mixDecryptHeading'),
    body: [
      el('p', { class: 'warning', id: 'mix-cli' }, t('mixNotShuffled')),
      el('p', {}, t('mixCliHow')),
      el('pre', { class: 'key', id: 'mix-cli-command' }, `urne trustee mix-decrypt --election ${state.id} --index ${state.index} --secret ${t('mixCliSecret')} --server ${location.origin}`),
      state.mixError ? errorBox(state.mixError) : null,
    ],
  };
}

function mixDecryptedStep() {
  const v = state.mix;
  const m = mixNow();
  const done = v.decrypted || v.result;
  return {
    heading: t(m.decrypted || !done ? 'mixDecryptedHeading' : 'mixDoneHeading'),
    body: [
      m.decrypted ? el('p', { class: 'ok', id: 'mix-decrypted' }, t('mixDecryptedMine', v.decryptors.length, v.decryptions_needed)) : null,
      el('p', { id: 'mix-result', 'data-result': String(done) }, done ? t('resultReady') : t('resultNotYet', m.decryptionsLeft)),
      state.mixError ? errorBox(state.mixError) : null,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Which step: from the election's phase, the ceremony's stage and what this visit did.

function next() {
  if (state.index === null || state.invitation === null) return ['invite', inviteStep];
  const phase = state.election?.phase ?? 'setup';
  if (phase === 'published') return ['published', publishedStep];
  if (phase === 'tallied') {
    const m = mixNow();
    if (m && m.stage !== 'tally') return mixNext(m);
    const done = state.ack || state.counting?.decrypted.includes(state.index);
    if (done) return ['decrypted', decryptedStep];
    // The page checks the tally against the board's ballots only up to a size (tally-check.js).
    return (state.election?.board_size ?? 0) > TALLY_CHECK_MAX_LINES ? ['tally-cli', tallyCliStep] : ['decrypt', decryptStep];
  }
  if (state.pending?.slot === 'identity') return ['save-identity', saveStep('saveHeading', 'saveIdentity', 'register', () => `/trustees/${state.index}`, 'registered')];
  if (state.pending?.slot === 'polynomial') return ['save-polynomial', saveStep('savePolyHeading', 'savePoly', 'sendDealing', () => '/ceremony/dealing', 'dealt')];
  if (state.finalized) return [state.election?.manifest ? 'final-done-sealed' : 'final-done', finalDoneStep];
  const c = state.ceremony;
  const s = state.status;
  if (!c || !s) return ['loading', loadingStep];
  if (phase !== 'setup') return ['wait-tally', waitTallyStep];
  if (!s.mine.registered) return ['identity', identityStep];
  if (!c.ceremony) return ['wait-tally', waitTallyStep];
  switch (s.stage) {
    case 'identities':
      return ['wait-identities', waitStep('identities')];
    case 'dealing':
      return s.mine.dealt ? ['wait-dealing', waitStep('dealing')] : ['deal', dealStep];
    case 'complaints':
      return s.mine.complained ? ['wait-complaints', waitStep('complaints')] : ['check', checkStep];
    case 'answers':
      return s.mine.answered ? ['wait-answers', waitStep('answers')] : ['answer', answerStep];
    default:
      return ['final', finalStep];
  }
}

function loadingStep() {
  return { heading: t('title'), body: el('p', {}, el('span', { class: 'progress', 'aria-hidden': 'true' }), t('loading')) };
}

/** Shows the step the state calls for; a step shown already is only re-rendered when `force`. */
function route(force = false) {
  const [key, render] = next();
  if (key === state.key && !force) {
    progress();
    if (key.startsWith('wait-') || key === 'decrypted' || key === 'mix-wait' || key === 'mix-decrypted' || key === 'mix-cli' || key === 'tally-cli') refreshStep();
    return;
  }
  // The step to re-make the share stays until the trustee leaves it.
  if (state.key === 'final' && key === 'wait-tally' && !force) return progress();
  show(key, render);
}

/** Re-renders a waiting step in place (its lists change), without moving the focus. */
function refreshStep() {
  const { body } = state.render();
  $('step').replaceChildren(...[body].flat().filter(Boolean));
}

/** Reads the ceremony and the election again, then routes. */
async function refresh(force = false) {
  if (state.index === null) return route(force);
  try {
    const answer = await call('GET', '/ceremony');
    // A message shown already stays as it is (and keeps the focus) while the page polls.
    const once = (key, render) => (state.key === key ? undefined : show(key, render));
    if (answer.status === 404) return once('not-found', message(t('notFound')));
    if (answer.status === 409 && answer.json?.error?.code === 'wrong_phase') return once('draft', message(t('draft'), () => refresh(true)));
    if (!answer.ok) return once('refused', message(refusal(answer), () => refresh(true)));
    state.ceremony = answer.json;
    state.status = ceremonyStatus(state.ceremony, state.index);
    // The election's public view exists once the setup is sealed; until then it is looked for in
    // the list of public elections, which does not answer 404 meanwhile.
    if (state.election === null) {
      const list = await fetch('/api/v1/elections', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      const listed = list.ok ? await list.json() : [];
      if (Array.isArray(listed) && listed.some((e) => e.id === state.id)) state.election = (await call('GET', '')).json;
    } else {
      const election = await call('GET', '');
      if (election.ok) state.election = election.json;
    }
    if (state.election?.phase === 'tallied') {
      if (!state.tally) {
        const tally = await call('GET', '/tally');
        if (tally.ok) state.tally = tally.json;
      }
      // The trustees' factors of the tally and the result, from the election's view (the board's
      // last lines, read by servers without it, are the mix phase's big lines once it begins).
      const d = state.election.decryption;
      state.counting = d ? { decrypted: d.trustees, result: d.result } : await readCounting(state.election.board_size);
      if (state.election.mix) {
        const mix = await call('GET', '/mix?limit=0');
        if (mix.ok) state.mix = mix.json;
      }
    }
  } catch {
    status(t('network'));
    return;
  }
  chrome();
  if (!state.busy) route(force);
}

/** The trustees whose decryption is on the board, and whether the result is, from its last lines. */
async function readCounting(size) {
  const from = Math.max(0, size - 256);
  const r = await fetch(`${api('/board/lines')}?from=${from}&limit=256`, { cache: 'no-store' });
  if (!r.ok) return state.counting;
  const c = { decrypted: [], result: false };
  for (const l of (await r.text()).split('\n')) {
    // Only the counting lines are parsed; a line's type is near its start.
    if (l.includes('"type":"partial_decryption"')) c.decrypted.push(JSON.parse(l).partial.trustee);
    else if (l.includes('"type":"result"')) c.result = true;
  }
  return c;
}

function poll() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    if (state.key !== 'published' && !document.hidden) await refresh();
    poll();
  }, POLL_MS);
}

// ---------------------------------------------------------------------------------------------
// Start.

/** Keeps the invitation for the visit (sessionStorage: gone when the tab closes). */
function remember() {
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ id: state.id, index: state.index, invitation: state.invitation }));
  } catch {
    // A browser that refuses storage keeps the invitation in memory for this page only.
  }
}

function start() {
  const match = /^\/elections\/([^/]+)\/trustee\/?$/.exec(location.pathname);
  state.testKdf = new URLSearchParams(location.search).get('kdf') === 'test';
  if (state.testKdf) state.kdf = testKdf();
  $('lang').addEventListener('click', () => {
    setLanguage(language() === 'en' ? 'fr' : 'en');
    chrome();
    if (state.render) show(state.key, state.render);
  });
  setLanguage(language());
  chrome();
  if (!match) return show('bad-address', message(t('badAddress')));
  state.id = decodeURIComponent(match[1]);
  // The invitation: from the fragment (then removed from the address bar and the history), or
  // kept from earlier in this visit.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (saved?.id === state.id) {
      state.index = saved.index;
      state.invitation = saved.invitation;
    }
  } catch {
    // A damaged entry: ask again.
  }
  const index = Number(fragment.get('index'));
  const invitation = fragment.get('invitation');
  if (Number.isInteger(index) && index >= 1 && invitation) {
    state.index = index;
    state.invitation = invitation;
    remember();
  }
  state.fragmentName = fragment.get('name');
  chrome();
  show('loading', loadingStep);
  refresh(true).then(poll);
}

/** DEFAULT_KDF with the test mode's memory, whatever the field is called. */
function testKdf() {
  const out = { ...DEFAULT_KDF };
  for (const k of Object.keys(out)) {
    if (/mem/i.test(k)) out[k] = TEST_KDF_MEMORY_KIB;
    if (/iter|pass|time/i.test(k)) out[k] = 1;
  }
  return out;
}

start();
