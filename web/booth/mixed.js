// The booth's ranked and graded questions (issue #8, spec §4.1, docs/booth.md).
//
// A ranking (counting "schulze" or "stv") is held as the vote's own form: per answer its rank,
// 0 when not ranked. The voter sets ranks two ways that stay in step: a select per answer ("not
// ranked", 1st … max-th), which may leave a rank twice or a gap until the voter fixes it (the
// rules are checked as they choose, with a message naming what is wrong); and the ordered list of
// the ranked answers, reordered by dragging with the mouse (or a finger) or by each item's Move
// up / Move down / Remove buttons, which always renumber the list 1, 2, …, k. Every list change is
// announced in the question's aria-live region.
//
// A grading (counting "majority_judgment") is one radio group per answer, a fieldset whose legend
// is the answer, with the grades from the best to the worst; it is laid out as a table on a wide
// screen (one column per grade, under a header row) and stacked on a phone. The vote names each
// grade by its position in the manifest's `grades` (0 = the best), as the protocol core expects.

import { el } from '../common/dom.js';
import { t } from './i18n.js';

/** Whether the voter ranks this question's answers. */
export function isRanking(q) {
  return q.counting === 'schulze' || q.counting === 'stv';
}

/** Whether the voter grades every answer of this question. */
export function isGrading(q) {
  return q.counting === 'majority_judgment';
}

/** The empty choice of a ranked or graded question. */
export function emptyChoice(q) {
  if (isRanking(q)) return { ranks: new Array(q.answers.length).fill(0) };
  return { grades: new Array(q.answers.length).fill(-1) };
}

/** The ranked answers in rank order (ties and gaps as the voter left them, by answer order). */
function order(c) {
  return c.ranks
    .map((r, a) => [r, a])
    .filter(([r]) => r > 0)
    .sort((x, y) => x[0] - y[0] || x[1] - y[1])
    .map(([, a]) => a);
}

/** Gives the answers of `list` the ranks 1, 2, …, k in that order, and 0 to the others. */
function renumber(c, list) {
  c.ranks.fill(0);
  list.forEach((a, i) => {
    c.ranks[a] = i + 1;
  });
}

/**
 * What breaks a ranking's rules (spec §7.1: the ranks are 1, 2, …, k over distinct answers, with
 * min ≤ k ≤ max), in the voter's words, or null. A rank given twice is named first, then a
 * missing rank, then the number ranked.
 */
export function rankingProblem(q, c) {
  const k = c.ranks.filter((r) => r > 0).length;
  for (let r = 1; r <= q.answers.length; r++) {
    const named = c.ranks.flatMap((x, a) => (x === r ? [q.answers[a]] : []));
    if (named.length > 1) return t('rankTwice', r, named);
  }
  for (let r = 1; r <= k; r++) {
    if (!c.ranks.includes(r)) return t('rankGap', r);
  }
  if (k < q.min) return t('rankTooFew', q.min);
  if (k > q.max) return t('rankTooMany', q.max);
  return null;
}

/** What is left to grade, in the voter's words, or null. */
export function gradingProblem(q, c) {
  const left = c.grades.filter((g) => g < 0).length;
  return left ? t('gradeMissing', left) : null;
}

/** The rule of a ranked or graded question, in words. */
export function mixedRule(q) {
  if (isGrading(q)) return t('gradeRule', q.grades.length);
  return t('rankRule', q.min, q.max, q.answers.length);
}

/** The vote of a ranked or graded question, in the protocol core's form. */
export function mixedVote(c) {
  return c.ranks ? { ranks: [...c.ranks] } : { grades: [...c.grades] };
}

/** The review of a ranked or graded question: an ordered list of names, or grades per answer. */
export function mixedReview(q, c, qi) {
  if (isRanking(q)) {
    const list = order(c);
    if (list.length === 0) return el('p', { class: 'review-none' }, t('rankNone'));
    return el('ol', { class: 'review-ranking', id: `review-q${qi}` }, list.map((a) => el('li', {}, q.answers[a])));
  }
  return el(
    'ul',
    { class: 'review-grades', id: `review-q${qi}` },
    q.answers.map((a, ai) => el('li', {}, el('span', { class: 'review-answer' }, `${a}${t('colon')}`), q.grades[c.grades[ai]] ?? '—')),
  );
}

/**
 * The fieldset of a ranked question `q` (index `qi`) for its choice `c`; `changed` is called
 * after every change (for the form's summary message).
 */
export function rankingFieldset(q, qi, c, changed) {
  const name = `q${qi}`;
  const live = el('p', { class: 'hint', id: `${name}-live`, 'aria-live': 'polite' });
  const err = el('p', { class: 'error', id: `${name}-error` });
  const count = el('p', { class: 'hint', id: `${name}-count` });
  const list = el('ol', { class: 'ranking', id: `${name}-list`, 'aria-labelledby': `${name}-list-label` });
  const empty = el('p', { class: 'hint', id: `${name}-empty` });
  const unranked = el('ul', { class: 'unranked', id: `${name}-unranked`, 'aria-labelledby': `${name}-unranked-label` });
  const unrankedLabel = el('p', { class: 'sub', id: `${name}-unranked-label` }, t('rankUnranked'));

  const selects = q.answers.map((answer, a) => {
    const id = `${name}-rank-${a}`;
    const select = el(
      'select',
      {
        id,
        name: id,
        onchange: () => {
          c.ranks[a] = Number(select.value);
          refresh();
        },
      },
      el('option', { value: '0' }, t('rankNotRanked')),
      Array.from({ length: q.max }, (_, i) => el('option', { value: String(i + 1) }, t('ordinal', i + 1))),
    );
    return { select, row: el('div', { class: 'rank-choice' }, el('label', { for: id }, answer), select) };
  });

  /** Applies a list change, announces it and puts the focus on `focus()` once redrawn. */
  const apply = (newOrder, words, focus) => {
    renumber(c, newOrder);
    refresh();
    live.textContent = words;
    focus?.()?.focus();
  };
  const button = (cls, label, a, onclick, disabled) =>
    el('button', { type: 'button', class: `small secondary ${cls}`, 'aria-label': `${label}${t('colon')}${q.answers[a]}`, onclick, disabled }, label);
  const byAnswer = (a, cls) => list.querySelector(`li[data-answer="${a}"] .${cls}`) ?? unranked.querySelector(`li[data-answer="${a}"] .${cls}`);

  // Moves answer `a` to position `to`; the focus stays on the button pressed (`pressed`), or goes
  // to the other direction's when the item reached the end of the list.
  const move = (a, to, pressed) => {
    const now = order(c);
    now.splice(now.indexOf(a), 1);
    now.splice(to, 0, a);
    apply(now, t('rankMoved', q.answers[a], to + 1), () => {
      if (!pressed) return null;
      const usable = (b) => (b && !b.disabled ? b : null);
      return usable(byAnswer(a, pressed)) ?? usable(byAnswer(a, pressed === 'up' ? 'down' : 'up')) ?? byAnswer(a, 'remove');
    });
  };

  // Dragging with the mouse or a finger (pointer events): the item follows no ghost; the place it
  // would drop at is marked, and it moves on release.
  let drag = null;
  const dropIndex = (y) => {
    const items = [...list.children];
    let i = 0;
    for (const li of items) {
      const r = li.getBoundingClientRect();
      if (y > r.top + r.height / 2) i += 1;
    }
    return i;
  };
  const mark = (i) => {
    [...list.children].forEach((li, j) => {
      li.classList.toggle('drop-before', j === i);
      li.classList.toggle('drop-after', i === list.children.length && j === list.children.length - 1);
    });
  };

  const refresh = () => {
    const now = order(c);
    selects.forEach(({ select }, a) => {
      select.value = String(Math.min(c.ranks[a], q.max));
    });
    list.replaceChildren(
      ...now.map((a, i) => {
        const li = el(
          'li',
          {
            class: 'rank-item',
            'data-answer': String(a),
            onpointerdown: (e) => {
              if (e.button !== 0 || e.target.closest('button')) return;
              e.preventDefault();
              li.setPointerCapture(e.pointerId);
              drag = { a, from: i };
              li.classList.add('dragging');
            },
            onpointermove: (e) => {
              if (drag?.a === a) mark(dropIndex(e.clientY));
            },
            onpointerup: (e) => {
              if (drag?.a !== a) return;
              let to = dropIndex(e.clientY);
              if (to > drag.from) to -= 1; // the item leaves its own place first
              drag = null;
              if (to === i) return refresh();
              move(a, to);
            },
            onpointercancel: () => {
              drag = null;
              refresh();
            },
          },
          el('span', { class: 'grip', 'aria-hidden': 'true' }, '⠿'),
          el('span', { class: 'rank-num' }, `${c.ranks[a]}.`),
          el('span', { class: 'rank-name' }, q.answers[a]),
          el(
            'span',
            { class: 'rank-buttons' },
            button('up', t('moveUp'), a, () => move(a, i - 1, 'up'), i === 0),
            button('down', t('moveDown'), a, () => move(a, i + 1, 'down'), i === now.length - 1),
            button('remove', t('remove'), a, () =>
              apply(
                now.filter((x) => x !== a),
                t('rankRemoved', q.answers[a]),
                () => byAnswer(a, 'add'),
              ),
            ),
          ),
        );
        return li;
      }),
    );
    const rest = q.answers.map((_, a) => a).filter((a) => c.ranks[a] === 0);
    const full = now.length >= q.max;
    unranked.replaceChildren(
      ...rest.map((a) =>
        el(
          'li',
          { 'data-answer': String(a) },
          el('span', { class: 'rank-name' }, q.answers[a]),
          button('add', t('add'), a, () => apply([...now, a], t('rankAdded', q.answers[a], now.length + 1), () => byAnswer(a, 'up') ?? byAnswer(a, 'remove')), full),
        ),
      ),
    );
    unrankedLabel.hidden = rest.length === 0;
    empty.textContent = now.length === 0 ? t('rankEmpty') : '';
    count.textContent = t('rankCount', now.length, q.max);
    const p = rankingProblem(q, c);
    // A rule broken on the way (a rank twice, a gap) is said at once; too few waits for Review.
    const now2 = p && p !== t('rankTooFew', q.min) ? p : '';
    if (!p) {
      err.textContent = '';
      fs.removeAttribute('aria-invalid');
    } else if (now2) {
      err.textContent = now2;
    }
    changed();
  };

  const fs = el(
    'fieldset',
    { id: `${name}-set`, class: 'ranking-set', 'aria-describedby': `${name}-rule ${name}-count ${name}-error` },
    el('legend', {}, q.text),
    el('p', { class: 'rule', id: `${name}-rule` }, mixedRule(q)),
    el('div', { class: 'rank-choices' }, selects.map((s) => s.row)),
    el('p', { class: 'sub', id: `${name}-list-label` }, t('rankList')),
    el('p', { class: 'hint' }, t('dragHint')),
    list,
    empty,
    unrankedLabel,
    unranked,
    count,
    err,
    live,
  );
  refresh();
  return fs;
}

/** The fieldset of a graded question `q` (index `qi`) for its choice `c`. */
export function gradingFieldset(q, qi, c, changed) {
  const name = `q${qi}`;
  const err = el('p', { class: 'error', id: `${name}-error` });
  const count = el('p', { class: 'hint', id: `${name}-count`, 'aria-live': 'polite' });
  const refresh = () => {
    const done = c.grades.filter((g) => g >= 0).length;
    count.textContent = t('gradeCount', done, q.answers.length);
    if (!gradingProblem(q, c)) {
      err.textContent = '';
      fs.removeAttribute('aria-invalid');
    }
    changed();
  };
  const fs = el(
    'fieldset',
    { id: `${name}-set`, class: 'grading-set', 'aria-describedby': `${name}-rule ${name}-count ${name}-error` },
    el('legend', {}, q.text),
    el('p', { class: 'rule', id: `${name}-rule` }, mixedRule(q)),
    el('div', { class: 'grade-head', 'aria-hidden': 'true' }, el('span', { class: 'grade-corner' }), q.grades.map((g) => el('span', { class: 'grade-col' }, g))),
    q.answers.map((answer, a) =>
      el(
        'fieldset',
        { class: 'grade-row', id: `${name}-a${a}` },
        el('legend', {}, answer),
        el(
          'div',
          { class: 'grade-options' },
          q.grades.map((g, gi) => {
            const id = `${name}-a${a}-g${gi}`;
            const input = el('input', {
              type: 'radio',
              id,
              name: `${name}-a${a}`,
              value: String(gi),
              checked: c.grades[a] === gi,
              onchange: () => {
                c.grades[a] = gi;
                refresh();
              },
            });
            return el('span', { class: 'grade-option' }, input, el('label', { for: id, class: 'grade-label' }, g));
          }),
        ),
      ),
    ),
    count,
    err,
  );
  refresh();
  return fs;
}
