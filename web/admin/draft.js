// The draft's form: every field of the draft API (crates/urne-server/src/draft.rs) — id, title,
// description, questions with their answers and rules, the voting period (in the browser's
// local time, sent in UTC), trustees and threshold, and the voters' settings. The server
// validates; its error names a field (`questions[1].max`), and the form shows the message
// next to that field, marks it invalid and moves the focus to it.

import { el } from '../common/dom.js';
import { named, t } from './words.js';

/** A new draft's starting values (the API's defaults where it has one). */
export function newDraft(language = 'en') {
  const hour = 3600_000;
  const start = new Date(Math.ceil(Date.now() / hour) * hour + 24 * hour);
  const end = new Date(start.getTime() + 7 * 24 * hour);
  return {
    title: '',
    description: '',
    questions: [newQuestion()],
    weights: 'equal',
    revote: 'last_counts',
    opens_at: utcString(start),
    closes_at: utcString(end),
    trustees: [''],
    threshold: 1,
    auto_open: true,
    voter_auth: 'email_code',
    voted_list: 'admin',
    retention_days: 90,
    language,
  };
}

function newQuestion() {
  return { text: '', answers: ['', ''], min: 1, max: 1, blank: false, counting: 'plurality' };
}

/** The countings the form offers (spec §4.1), in the select's order. */
const COUNTINGS = ['plurality', 'schulze', 'stv', 'majority_judgment'];
/** The countings whose voters rank the answers. */
const RANKED = new Set(['schulze', 'stv']);

/**
 * Switches question `q` to counting `name`, with the fields that counting needs (spec §4.2):
 * `seats` for STV, `grades` for majority judgment, no blank vote for a ranking or a grading.
 */
function setCounting(q, name) {
  const before = q.counting;
  q.counting = name;
  if (name === 'stv') q.seats ??= 1;
  else delete q.seats;
  if (name === 'majority_judgment') q.grades ??= [...t('defaultGrades')];
  else delete q.grades;
  if (name === 'plurality') {
    if (before === 'majority_judgment') {
      q.min = 1;
      q.max = 1;
    }
    return;
  }
  q.blank = false;
  if (RANKED.has(name) && !RANKED.has(before)) {
    // By default a voter ranks as many answers as they like, or none (min 0: abstaining).
    q.min = 0;
    q.max = q.answers.length;
  }
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the one form of time the API takes. */
export function utcString(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The value of a datetime-local input showing the UTC time `iso` in this browser's zone. */
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  const secs = d.getSeconds() ? `:${p(d.getSeconds())}` : '';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${secs}`;
}

/** The UTC time of a datetime-local value read in this browser's zone, or '' if there is none. */
export function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value); // a date-time without offset is local time (ECMA-262 Date.parse)
  return Number.isNaN(d.getTime()) ? '' : utcString(d);
}

/** This browser's time zone, with its offset now (`Europe/Paris, UTC+01:00`). */
function zoneName() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? '';
  const off = -new Date().getTimezoneOffset();
  const sign = off >= 0 ? '+' : '−';
  const p = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${zone ? `${zone}, ` : ''}UTC${sign}${p(off / 60)}:${p(off % 60)}`;
}

/** A labelled field: its row (label, control, hint, room for the server's error). */
function row(id, label, path, control, hint = null, checkbox = false) {
  control.id = id;
  if (path) control.dataset.field = path;
  const hintEl = hint === null ? null : el('p', { class: 'hint', id: `${id}-hint` }, hint);
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const labelEl = el('label', { class: checkbox ? '' : 'field', for: id }, label);
  const error = el('p', { class: 'error field-error', id: `${id}-error`, hidden: true });
  if (checkbox) return el('div', { class: 'field-row check-row' }, el('div', { class: 'choice' }, control, labelEl), hintEl, error);
  return el('div', { class: 'field-row' }, labelEl, control, hintEl, error);
}

function select(options, value, onchange) {
  return el(
    'select',
    { onchange: (e) => onchange(e.target.value) },
    options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)),
  );
}

/**
 * The draft's form. `draft` the starting values; `id` the election's id (editable when
 * `creating`); `onSubmit(id, draft)` sends it and throws the API's error, which the form shows.
 * Returns the form element.
 */
export function draftForm({ draft, id = '', creating, onSubmit }) {
  const model = structuredClone(draft);
  let electionId = id;
  // Labelled by the page's heading for a new election, by its section's heading on the election's page.
  const form = el('form', { id: 'draft-form', class: 'draft', novalidate: true, 'aria-labelledby': creating ? 'heading' : 'draft-heading' });
  const summary = el('div', { id: 'draft-summary', class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });

  const text = (value, set, attrs = {}) => el('input', { type: 'text', value, oninput: (e) => set(e.target.value), ...attrs });
  const number = (value, set, attrs = {}) =>
    el('input', { type: 'number', inputmode: 'numeric', value: String(value), oninput: (e) => set(Number.parseInt(e.target.value, 10)), ...attrs });

  /** Rebuilds the form from the model, then focuses `focus` (an element id) if given. */
  function render(focus = null) {
    const parts = [summary];
    // The election.
    const general = el('fieldset', {}, el('legend', {}, t('secElection')));
    if (creating) {
      general.append(row('f-id', t('id'), 'id', text(electionId, (v) => (electionId = v), { autocomplete: 'off', spellcheck: 'false' }), t('idHint')));
    }
    general.append(row('f-title', t('title'), 'title', text(model.title, (v) => (model.title = v))));
    const desc = el('textarea', { rows: '3', oninput: (e) => (model.description = e.target.value) });
    desc.value = model.description;
    general.append(row('f-description', t('description'), 'description', desc));
    parts.push(general);

    // The questions.
    const questions = el(
      'fieldset',
      { 'data-field': 'questions', id: 'f-questions' },
      el('legend', {}, t('secQuestions')),
      el('p', { class: 'error field-error', id: 'f-questions-error', hidden: true }),
    );
    model.questions.forEach((q, qi) => questions.append(questionBlock(q, qi)));
    questions.append(
      el(
        'div',
        { class: 'actions' },
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            id: 'add-question',
            onclick: () => {
              model.questions.push(newQuestion());
              render(`q${model.questions.length - 1}-text`);
            },
          },
          t('addQuestion'),
        ),
      ),
    );
    parts.push(questions);

    // The voting period.
    const period = el('fieldset', {}, el('legend', {}, t('secPeriod')));
    for (const [key, label] of [
      ['opens_at', t('opensAt')],
      ['closes_at', t('closesAt')],
    ]) {
      const sent = el('span', { id: `f-${key}-utc` }, model[key] ? t('sentAs', model[key]) : '');
      const input = el('input', {
        type: 'datetime-local',
        value: toLocalInput(model[key]),
        oninput: (e) => {
          model[key] = fromLocalInput(e.target.value);
          sent.textContent = model[key] ? t('sentAs', model[key]) : '';
        },
      });
      const r = row(`f-${key}`, label, key, input, '');
      r.querySelector('.hint').append(`${t('localTime', zoneName())} `, sent);
      period.append(r);
    }
    const auto = el('input', { type: 'checkbox', checked: model.auto_open, onchange: (e) => (model.auto_open = e.target.checked) });
    period.append(row('f-auto_open', t('autoOpen'), 'auto_open', auto, null, true));
    parts.push(period);

    // The trustees.
    const trustees = el(
      'fieldset',
      { 'data-field': 'trustees', id: 'f-trustees' },
      el('legend', {}, t('secTrustees')),
      el('p', { class: 'error field-error', id: 'f-trustees-error', hidden: true }),
    );
    model.trustees.forEach((name, i) => {
      const r = row(`t${i}-name`, t('trustee', i + 1), `trustees[${i}]`, text(name, (v) => (model.trustees[i] = v)));
      if (model.trustees.length > 1) {
        r.append(
          el(
            'button',
            {
              type: 'button',
              class: 'link remove',
              onclick: () => {
                model.trustees.splice(i, 1);
                render('add-trustee');
              },
            },
            t('removeTrustee', i + 1),
          ),
        );
      }
      trustees.append(r);
    });
    trustees.append(
      el(
        'div',
        { class: 'actions' },
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            id: 'add-trustee',
            onclick: () => {
              model.trustees.push('');
              render(`t${model.trustees.length - 1}-name`);
            },
          },
          t('addTrustee'),
        ),
      ),
      row('f-threshold', t('threshold'), 'threshold', number(model.threshold, (v) => (model.threshold = v), { min: '1' }), t('thresholdHint')),
    );
    parts.push(trustees);

    // The voters.
    const voters = el('fieldset', {}, el('legend', {}, t('secVoters')));
    const choices = (key, table, values) =>
      row(
        `f-${key}`,
        t(key === 'voter_auth' ? 'voterAuth' : key === 'voted_list' ? 'votedList' : key),
        key,
        select(
          values.map((v) => [v, named(table, v)]),
          model[key],
          (v) => (model[key] = v),
        ),
      );
    voters.append(
      choices('voter_auth', 'voterAuths', ['email_code', 'oidc', 'none']),
      choices('voted_list', 'votedLists', ['admin', 'public']),
      choices('weights', 'weightsChoices', ['equal', 'weighted']),
      choices('revote', 'revotes', ['last_counts', 'forbidden']),
      choices('language', 'languages', ['en', 'fr']),
      row('f-retention_days', t('retention'), 'retention_days', number(model.retention_days, (v) => (model.retention_days = v), { min: '0' })),
    );
    parts.push(voters);

    parts.push(el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'draft-submit' }, creating ? t('create') : t('save'))));
    form.replaceChildren(...parts);
    if (focus) document.getElementById(focus)?.focus();
  }

  function questionBlock(q, qi) {
    const block = el('fieldset', { class: 'question-block', id: `q${qi}` }, el('legend', {}, t('question', qi + 1)));
    block.append(row(`q${qi}-text`, t('questionText'), `questions[${qi}].text`, text(q.text, (v) => (q.text = v))));
    const answers = el(
      'fieldset',
      { class: 'answers', 'data-field': `questions[${qi}].answers`, id: `q${qi}-answers` },
      el('legend', {}, t('answers')),
      el('p', { class: 'error field-error', id: `q${qi}-answers-error`, hidden: true }),
    );
    q.answers.forEach((a, ai) => {
      const r = row(`q${qi}-a${ai}`, t('answer', ai + 1), `questions[${qi}].answers[${ai}]`, text(a, (v) => (q.answers[ai] = v)));
      if (q.answers.length > 1) {
        r.append(
          el(
            'button',
            {
              type: 'button',
              class: 'link remove',
              'aria-label': `${t('removeAnswer', ai + 1)} (${t('question', qi + 1)})`,
              onclick: () => {
                q.answers.splice(ai, 1);
                render(`q${qi}-add-answer`);
              },
            },
            t('removeAnswer', ai + 1),
          ),
        );
      }
      answers.append(r);
    });
    answers.append(
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          id: `q${qi}-add-answer`,
          'aria-label': `${t('addAnswer')} (${t('question', qi + 1)})`,
          onclick: () => {
            q.answers.push('');
            render(`q${qi}-a${q.answers.length - 1}`);
          },
        },
        t('addAnswer'),
      ),
    );
    block.append(answers);
    const ranked = RANKED.has(q.counting);
    const graded = q.counting === 'majority_judgment';
    if (graded) {
      // Every answer is graded: min = max = the number of answers, kept in step here.
      q.min = q.answers.length;
      q.max = q.answers.length;
    }
    block.append(
      row(
        `q${qi}-counting`,
        t('counting'),
        `questions[${qi}].counting`,
        select(
          COUNTINGS.map((c) => [c, named('countings', c)]),
          q.counting,
          (v) => {
            setCounting(q, v);
            render(`q${qi}-counting`);
          },
        ),
        t('countingHints')[q.counting] ?? null,
      ),
    );
    if (q.counting === 'stv') {
      block.append(row(`q${qi}-seats`, t('seats'), `questions[${qi}].seats`, number(q.seats, (v) => (q.seats = v), { min: '1' }), t('seatsHint', q.answers.length - 1)));
    }
    if (graded) block.append(gradesBlock(q, qi));
    const numbers = el('div', { class: 'pair' });
    const minInput = number(q.min, (v) => (q.min = v), { min: '0', disabled: graded });
    const maxInput = number(q.max, (v) => (q.max = v), { min: '1', disabled: graded });
    numbers.append(
      row(`q${qi}-min`, t(ranked ? 'minRanked' : graded ? 'minGraded' : 'min'), `questions[${qi}].min`, minInput),
      row(`q${qi}-max`, t(ranked ? 'maxRanked' : graded ? 'maxGraded' : 'max'), `questions[${qi}].max`, maxInput),
    );
    block.append(numbers);
    if (ranked || graded) {
      // Shared by both numbers: what they mean for this counting.
      const hint = el('p', { class: 'hint', id: `q${qi}-minmax-hint` }, graded ? t('gradedMinMaxHint', q.answers.length) : t('rankedMinMaxHint'));
      minInput.setAttribute('aria-describedby', hint.id);
      maxInput.setAttribute('aria-describedby', hint.id);
      block.append(hint);
      // No blank vote (spec §4.2): a voter abstains by ranking nothing, or grades every answer.
      q.blank = false;
      block.append(el('p', { class: 'hint', id: `q${qi}-blank-none`, 'data-field': `questions[${qi}].blank` }, t(graded ? 'blankNoneGraded' : 'blankNoneRanked')));
    } else {
      const blank = el('input', { type: 'checkbox', checked: q.blank, onchange: (e) => (q.blank = e.target.checked) });
      block.append(row(`q${qi}-blank`, t('blank'), `questions[${qi}].blank`, blank, t('blankHint'), true));
    }
    if (model.questions.length > 1) {
      block.append(
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            id: `q${qi}-remove`,
            onclick: () => {
              model.questions.splice(qi, 1);
              render('add-question');
            },
          },
          t('removeQuestion', qi + 1),
        ),
      );
    }
    return block;
  }

  /** The grades of a majority-judgment question, best first, each editable and removable. */
  function gradesBlock(q, qi) {
    const box = el(
      'fieldset',
      { class: 'answers grades', 'data-field': `questions[${qi}].grades`, id: `q${qi}-grades`, 'aria-describedby': `q${qi}-grades-hint` },
      el('legend', {}, t('grades')),
      el('p', { class: 'hint', id: `q${qi}-grades-hint` }, t('gradesHint')),
      el('p', { class: 'error field-error', id: `q${qi}-grades-error`, hidden: true }),
    );
    q.grades.forEach((g, gi) => {
      const r = row(`q${qi}-g${gi}`, t('grade', gi + 1), `questions[${qi}].grades[${gi}]`, text(g, (v) => (q.grades[gi] = v)));
      if (q.grades.length > 2) {
        r.append(
          el(
            'button',
            {
              type: 'button',
              class: 'link remove',
              id: `q${qi}-g${gi}-remove`,
              'aria-label': `${t('removeGrade', gi + 1)} (${t('question', qi + 1)})`,
              onclick: () => {
                q.grades.splice(gi, 1);
                render(`q${qi}-add-grade`);
              },
            },
            t('removeGrade', gi + 1),
          ),
        );
      }
      box.append(r);
    });
    box.append(
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          id: `q${qi}-add-grade`,
          'aria-label': `${t('addGrade')} (${t('question', qi + 1)})`,
          onclick: () => {
            q.grades.push('');
            render(`q${qi}-g${q.grades.length - 1}`);
          },
        },
        t('addGrade'),
      ),
    );
    return box;
  }

  /** Clears the errors shown. */
  function clearErrors() {
    summary.hidden = true;
    summary.replaceChildren();
    for (const e of form.querySelectorAll('.field-error')) {
      e.hidden = true;
      e.textContent = '';
    }
    for (const c of form.querySelectorAll('[aria-invalid]')) {
      c.removeAttribute('aria-invalid');
      const d = (c.getAttribute('aria-describedby') ?? '').split(' ').filter((x) => x && !x.endsWith('-error'));
      if (d.length) c.setAttribute('aria-describedby', d.join(' '));
      else c.removeAttribute('aria-describedby');
    }
  }

  /** Shows the API's error next to the field it names (or the nearest enclosing one). */
  function showError(e) {
    let path = (e.field ?? '').replace(/^draft\./, '');
    let target = null;
    while (path) {
      target = form.querySelector(`[data-field="${CSS.escape(path)}"]`);
      if (target) break;
      const shorter = path.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
      if (shorter === path) break;
      path = shorter;
    }
    summary.hidden = false;
    summary.replaceChildren(el('p', {}, t('fixErrors')), el('p', { id: 'draft-error-message' }, e.field ? `${e.field}: ${e.message}` : e.message));
    if (!target) {
      summary.focus();
      return;
    }
    const error = target.matches('fieldset')
      ? target.querySelector(':scope > .field-error')
      : target.closest('.field-row')?.querySelector('.field-error');
    if (error) {
      error.textContent = e.message;
      error.hidden = false;
      error.dataset.for = path;
    }
    const control = target.matches('fieldset') ? target.querySelector('input, select, textarea') : target;
    if (control && error) {
      if (!target.matches('fieldset')) control.setAttribute('aria-invalid', 'true');
      const d = (control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
      control.setAttribute('aria-describedby', [...d, error.id].join(' '));
    }
    (control ?? summary).focus();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    const button = document.getElementById('draft-submit');
    button.disabled = true;
    try {
      await onSubmit(electionId.trim(), structuredClone(model));
    } catch (e) {
      if (e?.status === undefined) throw e;
      showError(e);
    } finally {
      button.disabled = false;
    }
  });
  render();
  form.rerender = () => render();
  return form;
}
