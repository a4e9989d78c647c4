// One election's administration page, /admin/elections/{id}: what can be done in its phase, in
// the order of docs/server.md §2. A draft is edited and gets its voter roll (checked with a dry
// run first, every error by line); freezing it shows each trustee's invitation once, as a link
// to the trustee page; the ceremony's progress is followed, the credential list uploaded (with
// its fingerprint) and the setup sealed; then voting is opened, followed (turnout, mail, who
// voted), closed and tallied, the trustees' decryption followed, and the result published.
// Every irreversible step goes through confirm.js. While something can change without the
// organizer (trustees, voters), the page asks the API again every few seconds and updates only
// the sections that show it, so that the focus stays where it is.

import { el, svg } from '../common/dom.js';
import { api, electionPath, firstOfTypes } from './api.js';
import { confirmStep } from './confirm.js';
import { draftForm } from './draft.js';
import { named, percent, rich, t } from './words.js';

/**
 * The types of the board's lines from the open line on, and from the close line on (the mix
 * phase's too: a bisection that met one of its lines would otherwise go on past it).
 */
const MIX_LINES = ['shuffle_chunk', 'shuffle', 'mix_decryption', 'mixed_ballots'];
const FROM_OPEN = new Set(['open', 'ballot', 'close', 'tally', 'partial_decryption', ...MIX_LINES, 'result']);
const FROM_CLOSE = new Set(['close', 'tally', 'partial_decryption', ...MIX_LINES, 'result']);

/** How often the page asks again while trustees or voters act (milliseconds). */
const POLL_MS = 2000;

/** Steps of the election that the organizer takes, with their words. */
const STEPS = {
  setup: { path: '/setup', button: 'freeze', title: 'confirmFreeze', consequence: 'consequenceFreeze' },
  seal: { path: '/seal', button: 'seal', title: 'confirmSeal', consequence: 'consequenceSeal' },
  open: { path: '/open', button: 'open', title: 'confirmOpen', consequence: 'consequenceOpen' },
  close: { path: '/close', button: 'close', title: 'confirmClose', consequence: 'consequenceClose' },
  tally: { path: '/tally', button: 'tally', title: 'confirmTally', consequence: 'consequenceTally' },
  publish: { path: '/publish', button: 'publish', title: 'confirmPublish', consequence: 'consequencePublish' },
};

/**
 * The page of election `id`. `ctx` gives `status(text)` (the polite live region), `ready()`
 * (the page is drawn), `unauthorized()` (the session ended) and `notFound()`.
 * Returns `{start, render, stop}`.
 */
export function electionView(id, ctx) {
  const s = {
    admin: null,
    pub: null,
    roll: null,
    ceremony: null,
    invitations: null,
    rollCheck: null,
    creds: null,
    handOver: null,
    sealed: null,
    turnout: { open: undefined, close: undefined, ballots: 0 },
    mail: null,
    voted: null,
    votedOpen: false,
    tally: null,
    counting: null,
    errors: {},
    form: null,
  };
  let timer = null;
  let stopped = false;

  const phase = () => s.admin?.phase;
  const sealed = () => (s.admin?.board_size ?? 0) > 0;

  async function handle(e) {
    if (e?.status === 401) return ctx.unauthorized();
    if (e?.status === 404 && !s.admin) return ctx.notFound();
    throw e;
  }

  /** Reads what the page shows in the election's phase. */
  async function load() {
    s.admin = await api('GET', electionPath(id));
    const p = phase();
    const jobs = [];
    if (p === 'draft') jobs.push(api('GET', electionPath(id, '/roll?limit=1')).then((r) => (s.roll = r)));
    if (p === 'setup') jobs.push(api('GET', `/elections/${encodeURIComponent(id)}/ceremony`).then((r) => (s.ceremony = r)));
    if (sealed()) jobs.push(api('GET', `/elections/${encodeURIComponent(id)}`).then(readCounting));
    if (['open', 'closed', 'tallied', 'published'].includes(p)) {
      jobs.push(api('GET', electionPath(id, '/roll?limit=1')).then((r) => (s.roll = r)));
      jobs.push(countBallots());
    }
    if (['open', 'closed'].includes(p)) {
      jobs.push(api('GET', electionPath(id, '/mail')).then((r) => (s.mail = r)));
      jobs.push(api('GET', electionPath(id, '/voted')).then((r) => (s.voted = r)));
    }
    await Promise.all(jobs);
  }

  /**
   * Counts the ballots on the board without reading them: they are the lines between the open
   * line and the close line (or the board's end while voting is open), whose places are found
   * once each by bisection.
   */
  async function countBallots() {
    const size = s.admin.board_size;
    if (s.turnout.open === undefined) s.turnout.open = await firstOfTypes(id, 0, size, FROM_OPEN);
    if (s.turnout.open >= size) return;
    if (phase() === 'open') {
      s.turnout.ballots = size - s.turnout.open - 1;
      return;
    }
    if (s.turnout.close === undefined) s.turnout.close = await firstOfTypes(id, s.turnout.open + 1, size, FROM_CLOSE);
    s.turnout.ballots = s.turnout.close - s.turnout.open - 1;
  }

  /**
   * The public view `pub`, with the tally's count (its `turnout`) and the trustees' decryption
   * factors of the tally (its `decryption`, once tallied), which the server finds on the board:
   * the page reads none of the board's lines for them, however big the mix phase's lines.
   */
  function readCounting(pub) {
    s.pub = pub;
    const d = pub.decryption;
    s.counting = d
      ? {
          partials: d.trustees,
          needed: d.needed,
          result: d.result,
          tally: pub.turnout?.ballots == null ? null : { ballots: pub.turnout.ballots, total_weight: pub.turnout.ballots_weight },
        }
      : null;
  }

  // ---- Drawing ----

  function section(key, heading, ...children) {
    return el(
      'section',
      { id: `${key}-section`, 'aria-labelledby': `${key}-heading`, class: 'panel' },
      el('h2', { id: `${key}-heading` }, heading),
      ...children,
    );
  }

  function errorSlot(key) {
    const e = s.errors[key];
    return el('p', { id: `${key}-error`, class: 'error', role: 'alert' }, e ? t('refused', e.message) : '');
  }

  function facts() {
    const p = phase();
    const phaseText = p === 'setup' && sealed() ? t('sealedSetup') : named('phases', p);
    return el(
      'dl',
      { class: 'facts' },
      el('dt', {}, t('colId')),
      el('dd', {}, el('code', {}, id)),
      el('dt', {}, t('colPhase')),
      el('dd', { id: 'phase', 'data-phase': p, 'data-sealed': String(sealed()) }, phaseText),
      el('dt', {}, t('boardSize')),
      el('dd', { id: 'board-size' }, String(s.admin.board_size)),
      s.pub?.fingerprint ? [el('dt', {}, t('electionFingerprint')), el('dd', {}, el('code', { class: 'digest', id: 'fingerprint' }, s.pub.fingerprint))] : null,
    );
  }

  function stepButton(kind, disabled = false) {
    const w = STEPS[kind];
    return el('button', { type: 'button', id: `${kind}-button`, class: 'danger', disabled, onclick: () => takeStep(kind) }, t(w.button));
  }

  function draftSections() {
    if (!s.form) {
      s.form = draftForm({
        draft: s.admin.draft,
        id,
        creating: false,
        onSubmit: async (_id, draft) => {
          s.admin = await api('PUT', electionPath(id), draft);
          ctx.status(t('saved'));
        },
      });
    }
    return [
      section('draft', t('draftHeading'), s.form),
      rollSection(),
      section('setup', t('freezeHeading'), el('p', {}, t('freezeIntro')), errorSlot('setup'), el('div', { class: 'actions' }, stepButton('setup'))),
    ];
  }

  function rollSection() {
    const file = el('input', { type: 'file', id: 'roll-file', accept: '.csv,.json,text/csv,application/json', 'aria-describedby': 'roll-file-hint' });
    const count = s.roll?.voters_total
      ? el('p', { id: 'roll-count' }, t('rollCount', s.roll.voters_total, s.roll.total_weight))
      : el('p', { id: 'roll-count' }, t('rollNone'));
    const parts = [
      count,
      el('label', { class: 'field', for: 'roll-file' }, t('rollFile')),
      file,
      el('p', { class: 'hint', id: 'roll-file-hint' }, t('rollHint')),
      el('div', { class: 'actions' }, el('button', { type: 'button', id: 'roll-check', class: 'secondary', onclick: () => checkRoll(file) }, t('check'))),
      el('div', { id: 'roll-result' }, rollResult()),
    ];
    return section('roll', t('rollHeading'), ...parts);
  }

  function problemsTable(id2, caption, problems) {
    return el(
      'div',
      { class: 'scroll' },
      el(
        'table',
        { class: 'numbers problems', id: id2 },
        el('caption', {}, caption),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('line')), el('th', { scope: 'col' }, t('field')), el('th', { scope: 'col' }, t('problem')))),
        el(
          'tbody',
          {},
          problems.map((p) => el('tr', { 'data-line': p.line }, el('td', { class: 'num' }, String(p.line)), el('td', {}, p.field ?? ''), el('td', {}, p.message))),
        ),
      ),
    );
  }

  function rollResult() {
    const r = s.rollCheck;
    if (!r) return null;
    if (r.error) return el('p', { class: 'error', role: 'alert' }, r.error);
    const a = r.answer;
    const out = [];
    const errors = a.errors ?? [];
    if (errors.length > 0 || a.valid === false) {
      out.push(el('p', { class: 'error', role: 'alert', id: 'roll-verdict', 'data-valid': 'false' }, t('rollInvalid', errors.length + (a.more_errors ?? 0))));
      out.push(problemsTable('roll-errors', t('errorsCaption'), errors));
      if (a.more_errors) out.push(el('p', {}, t('moreErrors', a.more_errors)));
    } else if (r.imported) {
      out.push(el('p', { class: 'ok', role: 'status', id: 'roll-verdict', 'data-valid': 'true', 'data-imported': 'true' }, t('rollImported', a.voters)));
    } else {
      out.push(el('p', { class: 'ok', id: 'roll-verdict', 'data-valid': 'true' }, t('rollValid', a.voters, a.total_weight)));
    }
    if (a.warnings?.length) out.push(problemsTable('roll-warnings', t('warningsCaption'), a.warnings));
    if (a.sample?.length && !r.imported && errors.length === 0) {
      out.push(
        el(
          'div',
          { class: 'scroll' },
          el(
            'table',
            { class: 'numbers', id: 'roll-sample' },
            el('caption', {}, t('sample')),
            el('thead', {}, el('tr', {}, ['id', 'email', 'weight', 'name', 'lang'].map((c) => el('th', { scope: 'col' }, c)))),
            el(
              'tbody',
              {},
              a.sample.map((v) => el('tr', {}, ['id', 'email', 'weight', 'name', 'lang'].map((c) => el('td', {}, v[c] === undefined || v[c] === null ? '' : String(v[c]))))),
            ),
          ),
        ),
      );
    }
    if (a.valid !== false && errors.length === 0 && !r.imported) {
      out.push(el('div', { class: 'actions' }, el('button', { type: 'button', id: 'roll-import', onclick: () => importRoll(r.file) }, t('import'))));
    }
    return out;
  }

  function rollFormat(file) {
    return /\.json$/i.test(file.name) || file.type === 'application/json' ? 'json' : 'csv';
  }

  async function sendRoll(file, dryRun) {
    const format = rollFormat(file);
    const type = format === 'json' ? 'application/json' : 'text/csv';
    const text = await file.text();
    try {
      const answer = await api('PUT', electionPath(id, `/roll?format=${format}${dryRun ? '&dry_run=true' : ''}`), text, type);
      return { answer, file, imported: answer.imported };
    } catch (e) {
      if (e.status === 401) throw e;
      if (e.code === 'bad_roll') return { answer: { valid: false, errors: e.details ?? [], warnings: [] }, file };
      return { error: t('refused', e.message), file };
    }
  }

  async function checkRoll(input) {
    const file = input.files?.[0];
    redraw('roll-result', el('p', {}, t('loading')));
    if (!file) {
      s.rollCheck = { error: t('chooseFile') };
    } else {
      s.rollCheck = await sendRoll(file, true).catch(handle);
    }
    redraw('roll-result', rollResult());
    document.getElementById('roll-verdict')?.setAttribute('tabindex', '-1');
    (document.getElementById('roll-verdict') ?? document.getElementById('roll-result'))?.focus?.();
    ctx.ready();
  }

  async function importRoll(file) {
    redraw('roll-result', el('p', {}, t('loading')));
    s.rollCheck = await sendRoll(file, false).catch(handle);
    if (s.rollCheck?.imported) {
      s.roll = await api('GET', electionPath(id, '/roll?limit=1'));
      document.getElementById('roll-count').textContent = t('rollCount', s.roll.voters_total, s.roll.total_weight);
    }
    redraw('roll-result', rollResult());
    document.getElementById('roll-verdict')?.setAttribute('tabindex', '-1');
    document.getElementById('roll-verdict')?.focus();
    ctx.ready();
  }

  function invitationsSection() {
    if (!s.invitations) return null;
    const names = s.admin.draft.trustees;
    const rows = s.invitations.map((token, i) => {
      const n = i + 1;
      const link = `${location.origin}/elections/${encodeURIComponent(id)}/trustee#index=${n}&invitation=${token}`;
      const input = el('input', { type: 'text', readonly: true, id: `invitation-${n}`, value: link, class: 'link-field', spellcheck: 'false' });
      const said = el('span', { class: 'copied', id: `invitation-${n}-copied`, role: 'status' });
      return el(
        'div',
        { class: 'field-row' },
        el('label', { class: 'field', for: `invitation-${n}` }, t('invitationLink', n, names[i] ?? '')),
        el(
          'div',
          { class: 'copy-row' },
          input,
          el(
            'button',
            {
              type: 'button',
              class: 'secondary',
              id: `copy-${n}`,
              'aria-label': t('copyLabel', n),
              onclick: async () => {
                try {
                  await navigator.clipboard.writeText(link);
                  said.textContent = t('copied');
                } catch {
                  input.select();
                  said.textContent = t('copyFailed');
                }
              },
            },
            t('copy'),
          ),
          said,
        ),
      );
    });
    return section('invitations', t('invitationsHeading'), el('p', { class: 'warning' }, t('invitationsOnce')), ...rows);
  }

  function ceremonyTable() {
    const c = s.ceremony;
    if (!c) return null;
    const names = s.admin.draft.trustees;
    const dealt = new Set(c.dealings.map((d) => d.dealer));
    const yes = (b) => el('td', { 'data-done': String(b) }, b ? t('yes') : t('no'));
    return [
      el('p', {}, c.ceremony ? t('ceremonyNote', c.threshold, c.trustees) : t('independentNote', c.trustees)),
      el(
        'div',
        { class: 'scroll' },
        el(
          'table',
          { class: 'numbers', id: 'ceremony-table' },
          el('caption', { class: 'visually-hidden' }, t('ceremonyHeading')),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col' }, t('colTrustee')),
              el('th', { scope: 'col' }, t('colRegistered')),
              c.ceremony ? [el('th', { scope: 'col' }, t('colDealt')), el('th', { scope: 'col' }, t('colComplained')), el('th', { scope: 'col' }, t('colAnswered'))] : null,
            ),
          ),
          el(
            'tbody',
            {},
            c.identities.map((who, i) =>
              el(
                'tr',
                { id: `trustee-${i + 1}` },
                el('th', { scope: 'row' }, `${i + 1}. ${names[i] ?? ''}`),
                yes(who !== null),
                c.ceremony ? [yes(dealt.has(i + 1)), yes(c.complained.includes(i + 1)), yes(c.answered.includes(i + 1))] : null,
              ),
            ),
          ),
        ),
      ),
    ];
  }

  function credentialsSection() {
    const file = el('input', { type: 'file', id: 'credentials-file', accept: '.json,application/json' });
    const stored = s.admin.credentials
      ? el('p', { id: 'credentials-count' }, credentialsCount())
      : el('p', { id: 'credentials-count' }, t('credentialsNone'));
    const fp = s.creds?.fingerprint
      ? el(
          'dl',
          { class: 'facts' },
          el('dt', {}, t('listFingerprint')),
          el('dd', {}, el('code', { class: 'digest', id: 'credentials-fingerprint' }, s.creds.fingerprint), el('p', { class: 'hint' }, t('fingerprintHint'))),
        )
      : null;
    return section(
      'credentials',
      t('credentialsHeading'),
      el('p', {}, rich(t('credentialsIntro'))),
      stored,
      fp,
      el('label', { class: 'field', for: 'credentials-file' }, t('credentialsFile')),
      file,
      errorSlot('credentials'),
      el('div', { class: 'actions' }, el('button', { type: 'button', id: 'credentials-upload', class: 'secondary', onclick: () => uploadCredentials(file) }, t('upload'))),
      handOverBlock(),
    );
  }

  function credentialsCount() {
    const ack = s.creds?.ack;
    return ack && ack.credentials === s.admin.credentials ? t('credentialsStored', ack.credentials, ack.total_weight) : t('credentialsCount', s.admin.credentials);
  }

  /** The weaker mode (docs/voters.md §2.3), behind its warning: during setup, sealed or not. */
  function handOverBlock() {
    const hoFile = el('input', { type: 'file', id: 'handover-file', accept: '.csv,text/csv' });
    const agree = el('input', { type: 'checkbox', id: 'handover-agree' });
    return el(
      'details',
      { class: 'weaker', id: 'handover', open: Boolean(s.handOver || s.errors.handover) },
      el('summary', {}, t('handOverSummary')),
      el('p', { class: 'warning' }, t('handOverWarning')),
      el('label', { class: 'field', for: 'handover-file' }, t('handOverFile')),
      hoFile,
      el('div', { class: 'choice' }, agree, el('label', { for: 'handover-agree' }, t('handOverAgree'))),
      errorSlot('handover'),
      s.handOver ? el('p', { class: 'ok', id: 'handover-result' }, t('handedOver', s.handOver.queued)) : null,
      el('div', { class: 'actions' }, el('button', { type: 'button', class: 'secondary', id: 'handover-send', onclick: () => handOverCredentials(hoFile, agree) }, t('handOver'))),
    );
  }

  async function uploadCredentials(input) {
    const file = input.files?.[0];
    s.errors.credentials = null;
    if (!file) {
      s.errors.credentials = { message: t('chooseFile') };
    } else {
      const text = await file.text();
      try {
        const ack = await api('PUT', electionPath(id, '/credentials'), text);
        s.creds = { ack, fingerprint: await listFingerprint(text) };
        s.admin = await api('GET', electionPath(id));
        ctx.status(t('credentialsStored', ack.credentials, ack.total_weight));
      } catch (e) {
        if (e.status === 401) return ctx.unauthorized();
        s.errors.credentials = e;
      }
    }
    render();
    document.getElementById(s.errors.credentials ? 'credentials-error' : 'credentials-count')?.setAttribute('tabindex', '-1');
    document.getElementById(s.errors.credentials ? 'credentials-error' : 'credentials-count')?.focus();
  }

  /** The list's fingerprint (spec §5.4), computed here with the booth's protocol code. */
  async function listFingerprint(text) {
    try {
      const core = await import('../src/urne/index.js');
      const list = JSON.parse(text).credentials;
      const entries = list.map((e) => ({ credential: core.decodePoint(e.credential), weight: e.weight }));
      return core.toBase64Url(core.credentialListFingerprint(entries));
    } catch {
      return null;
    }
  }

  async function handOverCredentials(input, agree) {
    const file = input.files?.[0];
    s.errors.handover = null;
    if (!file) s.errors.handover = { message: t('chooseFile') };
    else if (!agree.checked) s.errors.handover = { message: t('handOverAgree') };
    else {
      const rows = parseCsv(await file.text());
      const head = rows.shift() ?? [];
      const vi = head.indexOf('voter_id');
      const ci = head.indexOf('credential');
      const credentials = rows.filter((r) => r.length > ci).map((r) => ({ voter: r[vi], credential: r[ci] }));
      try {
        s.handOver = await api('POST', electionPath(id, '/credentials/private'), { credentials });
      } catch (e) {
        if (e.status === 401) return ctx.unauthorized();
        s.errors.handover = e;
      }
    }
    render();
    const focus = document.getElementById(s.errors.handover ? 'handover-error' : 'handover-result');
    focus?.setAttribute('tabindex', '-1');
    focus?.focus();
  }

  function sealSections() {
    const force = el('input', { type: 'checkbox', id: 'seal-force' });
    return [
      credentialsSection(),
      section(
        'seal',
        t('sealHeading'),
        el('p', {}, t('sealIntro')),
        s.ceremony?.ceremony ? el('div', { class: 'choice' }, force, el('label', { for: 'seal-force' }, t('force'))) : null,
        errorSlot('seal'),
        el('div', { class: 'actions' }, stepButton('seal')),
      ),
    ];
  }

  function turnoutBlock() {
    const roll = s.roll?.voters_total ?? 0;
    const of = roll > 0 ? roll : s.admin.credentials;
    const voted = roll > 0 ? s.roll.voted : null;
    const parts = [];
    if (voted !== null) {
      parts.push(
        el('p', { id: 'turnout-voted', 'data-voted': voted, 'data-voters': of }, el('span', { id: 'turnout-label' }, t('voted', voted, of, percent(voted, of)))),
        el('progress', { id: 'turnout-progress', max: String(Math.max(of, 1)), value: String(voted), 'aria-labelledby': 'turnout-label' }),
      );
    }
    parts.push(el('p', { id: 'turnout-ballots', 'data-ballots': s.turnout.ballots }, t('ballotsOnBoard', s.turnout.ballots)));
    if (voted === null && of > 0) parts.push(bar(s.turnout.ballots, of));
    return parts;
  }

  /** A small bar: `n` of `of`, drawn in SVG with its text alternative. */
  function bar(n, of) {
    const w = 300;
    const filled = Math.round((Math.min(n, of) / of) * w);
    return svg(
      'svg',
      { viewBox: `0 0 ${w} 16`, width: '100%', height: '16', role: 'img', 'aria-label': `${n} / ${of}`, class: 'meter' },
      svg('rect', { x: 0, y: 0, width: w, height: 16, class: 'meter-back' }),
      svg('rect', { x: 0, y: 0, width: filled, height: 16, class: 'meter-bar' }),
    );
  }

  function mailBlock() {
    const m = s.mail;
    if (!m) return null;
    const cols = ['colVoter', 'colKind', 'colRecipient', 'colStatus', 'colAttempts', 'colLastError'];
    return [
      el('p', { id: 'mail-counts' }, t('mailCounts', m.queued, m.sent, m.failed, m.bounced)),
      m.problems.length
        ? el(
            'div',
            { class: 'scroll' },
            el(
              'table',
              { class: 'numbers', id: 'mail-problems' },
              el('caption', {}, t('mailProblems')),
              el('thead', {}, el('tr', {}, cols.map((c) => el('th', { scope: 'col' }, t(c))))),
              el(
                'tbody',
                {},
                m.problems.map((p) =>
                  el('tr', {}, [p.voter, p.kind, p.recipient, p.status, String(p.attempts), p.last_error ?? ''].map((v) => el('td', {}, v))),
                ),
              ),
            ),
          )
        : null,
    ];
  }

  function votedBlock() {
    const v = s.voted;
    if (!v) return null;
    const details = el(
      'details',
      { id: 'voted-details', open: s.votedOpen },
      el('summary', {}, t('whoVoted', v.voters.length)),
      el(
        'ul',
        { id: 'voted-list', class: 'columns' },
        v.voters.map((x) => el('li', {}, x)),
      ),
    );
    details.addEventListener('toggle', () => {
      s.votedOpen = details.open;
    });
    return details;
  }

  function countingBlock() {
    const c = s.counting;
    const m = s.pub?.manifest;
    if (!c || !m) return null;
    const needed = c.needed ?? (m.key_sharing === 'threshold' ? m.threshold : m.trustees.length);
    const got = new Set(c.partials).size;
    return [
      c.tally ? el('p', { id: 'tally-count' }, t('tallied', c.tally.ballots, s.turnout.ballots)) : null,
      el('p', { id: 'decryption-label', 'data-received': got, 'data-needed': needed }, t('decryption', Math.min(got, needed), needed)),
      el('progress', { id: 'decryption-progress', max: String(needed), value: String(Math.min(got, needed)), 'aria-labelledby': 'decryption-label' }),
      got ? el('p', { id: 'decryption-who' }, t('decryptionWho', [...new Set(c.partials)].sort((a, b) => a - b).join(', '))) : null,
      mixBlock(got >= needed),
      c.result ? el('p', { class: 'ok', id: 'result-ready' }, t('resultReady')) : el('p', { class: 'hint' }, rich(t('decryptionWait'))),
    ];
  }

  /**
   * The mix phase of an election with a ranked or graded question (the admin view's `mix`,
   * docs/server.md §2): shuffles on the board and who made them, then the trustees' factors of
   * the last list. The result, and so Publish, waits for its end. `tallyDecrypted` whether
   * enough factors of the tally are in.
   */
  function mixBlock(tallyDecrypted) {
    const m = s.admin?.mix;
    if (!m) return null;
    const shuffles = new Set(m.shufflers).size;
    const decryptions = m.decrypted ? m.decryptions_needed : m.decryptors.length;
    const started = tallyDecrypted || m.shufflers.length > 0;
    const list = (xs) => [...xs].sort((a, b) => a - b).join(', ');
    return el(
      'div',
      { id: 'mix', class: 'panel' },
      el('h3', { id: 'mix-heading' }, t('mixHeading')),
      el('p', { id: 'mix-ballots' }, t('mixBallots', m.ballots)),
      el('p', { id: 'mix-shuffles-label', 'data-done': shuffles, 'data-needed': m.shuffles_needed }, t('mixShuffles', Math.min(shuffles, m.shuffles_needed), m.shuffles_needed)),
      el('progress', { id: 'mix-shuffles', max: String(m.shuffles_needed), value: String(Math.min(shuffles, m.shuffles_needed)), 'aria-labelledby': 'mix-shuffles-label' }),
      m.shufflers.length ? el('p', { id: 'mix-shufflers' }, t('mixShufflers', m.shufflers.join(', '))) : null,
      el(
        'p',
        { id: 'mix-decryptions-label', 'data-done': decryptions, 'data-needed': m.decryptions_needed },
        t('mixDecryptions', Math.min(decryptions, m.decryptions_needed), m.decryptions_needed),
      ),
      el('progress', {
        id: 'mix-decryptions',
        max: String(m.decryptions_needed),
        value: String(Math.min(decryptions, m.decryptions_needed)),
        'aria-labelledby': 'mix-decryptions-label',
      }),
      m.decryptors.length ? el('p', { id: 'mix-decryptors' }, t('mixDecryptors', list(m.decryptors))) : null,
      m.decrypted
        ? el('p', { class: 'ok', id: 'mix-done' }, t('mixDone'))
        : !started
          ? el('p', { class: 'hint', id: 'mix-wait' }, t('mixWaitTally'))
          : el('p', { class: 'hint', id: 'mix-wait' }, rich(`${t('mixWaitShuffle')} ${t('mixWaitDecrypt')}`)),
    );
  }

  function phaseSections() {
    const p = phase();
    if (p === 'draft') return draftSections();
    if (p === 'setup') {
      const parts = [invitationsSection(), section('ceremony', t('ceremonyHeading'), el('div', { id: 'ceremony' }, ceremonyTable()))];
      if (!sealed()) parts.push(...sealSections());
      else {
        parts.push(
          section('credentials', t('credentialsHeading'), el('p', { id: 'credentials-count' }, credentialsCount()), handOverBlock()),
          section('open', t('openHeading'), errorSlot('open'), el('div', { class: 'actions' }, stepButton('open'))),
        );
      }
      return parts;
    }
    const turnout = section('turnout', t('turnoutHeading'), el('div', { id: 'turnout', 'aria-live': 'off' }, turnoutBlock()));
    if (p === 'open') {
      return [
        turnout,
        section('mail', t('mailHeading'), el('div', { id: 'mail' }, mailBlock())),
        el('div', { id: 'voted' }, votedBlock()),
        section('close', t('closeHeading'), errorSlot('close'), el('div', { class: 'actions' }, stepButton('close'))),
      ];
    }
    if (p === 'closed') {
      return [turnout, section('mail', t('mailHeading'), el('div', { id: 'mail' }, mailBlock())), section('tally', t('tallyHeading'), errorSlot('tally'), el('div', { class: 'actions' }, stepButton('tally')))];
    }
    if (p === 'tallied') {
      return [
        turnout,
        section('decryption', t('decryptionHeading'), el('div', { id: 'counting' }, countingBlock())),
        section('publish', t('publishHeading'), errorSlot('publish'), el('div', { class: 'actions' }, stepButton('publish', !s.counting?.result))),
      ];
    }
    return [
      section(
        'published',
        t('publishedHeading'),
        el('p', {}, el('a', { href: `/elections/${encodeURIComponent(id)}`, id: 'public-link' }, t('publicPage'))),
        el('div', { id: 'counting' }, countingBlock()),
      ),
      turnout,
    ];
  }

  function redraw(containerId, children) {
    const c = document.getElementById(containerId);
    if (c) c.replaceChildren(...[children].flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false));
  }

  /** Draws the whole page. */
  function render() {
    if (!s.admin) return;
    document.getElementById('heading').textContent = s.admin.draft.title || id;
    document.title = `${s.admin.draft.title || id} — ${t('admin')}`;
    if (s.form) s.form.rerender();
    document.getElementById('content').replaceChildren(facts(), ...phaseSections().filter(Boolean));
    ctx.ready();
  }

  async function takeStep(kind) {
    const w = STEPS[kind];
    const ok = await confirmStep({ title: t(w.title, id), consequence: t(w.consequence), id, action: t(w.button) });
    if (!ok) return;
    s.errors[kind] = null;
    const query = kind === 'seal' && document.getElementById('seal-force')?.checked ? '?force=true' : '';
    try {
      const r = await api('POST', electionPath(id, `${w.path}${query}`), {});
      if (kind === 'setup') s.invitations = r.invitations;
      if (kind === 'seal') s.sealed = r;
      await load();
      render();
      ctx.status(t('done')[kind]);
      document.getElementById('heading').focus();
    } catch (e) {
      if (e.status === 401) return ctx.unauthorized();
      s.errors[kind] = e;
      render();
      document.getElementById(`${kind}-error`)?.setAttribute('tabindex', '-1');
      document.getElementById(`${kind}-error`)?.focus();
    }
  }

  /** Asks again while others act, and updates what they change. */
  async function poll() {
    if (stopped) return;
    const before = `${phase()}/${sealed()}`;
    try {
      await load();
    } catch (e) {
      if (e?.status === 401) return ctx.unauthorized();
      // A failed poll is tried again at the next tick.
    }
    if (stopped) return;
    if (`${phase()}/${sealed()}` !== before) render();
    else {
      redraw('board-size', String(s.admin.board_size));
      if (phase() === 'setup') redraw('ceremony', ceremonyTable());
      redraw('turnout', turnoutBlock());
      redraw('mail', mailBlock());
      if (!document.getElementById('voted-details')?.contains(document.activeElement)) redraw('voted', votedBlock());
      redraw('counting', countingBlock());
      const publish = document.getElementById('publish-button');
      if (publish) publish.disabled = !s.counting?.result;
    }
    // Nothing changes after publication but by the organizer's own hand.
    if (phase() !== 'published') timer = setTimeout(poll, POLL_MS);
  }

  return {
    async start() {
      try {
        await load();
      } catch (e) {
        return handle(e);
      }
      render();
      timer = setTimeout(poll, POLL_MS);
    },
    render,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Rows of a CSV text (RFC 4180: quoted fields, doubled quotes, LF or CRLF). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}
