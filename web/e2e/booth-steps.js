// The booth's ranked and graded questions, driven the three ways a voter can (issue #8): by the
// rank selects, by the keyboard (each item's Add, Move up and Remove buttons, activated with
// Enter) and by dragging an item of the ranked list with the mouse; grades by a click or by the
// arrow keys within an answer's radio group. Shared by booth-mixed.e2e.js (a routed API) and
// ranked.e2e.js (a real election). Every function takes the booth's page; `qi` is the question's
// index in the manifest, `order` the answers (indices) from the first choice down.
//
// Not a test file itself (node's runner picks only *.test.js under e2e/).

import assert from 'node:assert/strict';

/** Waits for the booth's step heading to read `text`. */
export async function stepHeading(page, text, timeout = 60_000) {
  await page.waitForFunction((t) => document.getElementById('heading')?.textContent === t, text, { timeout });
}

/** Presses Tab until the focused element matches `selector` (keyboard only). */
export async function tabTo(page, selector, most = 60) {
  for (let i = 0; i < most; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** The names of question `qi`'s ranked list, in order. */
export function listed(page, qi) {
  return page.$$eval(`#q${qi}-list .rank-name`, (names) => names.map((n) => n.textContent));
}

/** The values of question `qi`'s rank selects, per answer. */
export function selected(page, qi) {
  return page.$$eval(`#q${qi}-set select`, (s) => s.map((x) => Number(x.value)));
}

/** What question `qi`'s aria-live region last announced. */
export function announced(page, qi) {
  return page.textContent(`#q${qi}-live`);
}

/** The vote's ranks (per answer, 0 when not ranked) for `order` among `n` answers. */
export function ranksOf(order, n) {
  const ranks = new Array(n).fill(0);
  order.forEach((a, i) => {
    ranks[a] = i + 1;
  });
  return ranks;
}

/** Ranks `order` by giving each answer its rank in its select. */
export async function rankBySelect(page, qi, order) {
  for (const [i, a] of order.entries()) await page.selectOption(`#q${qi}-rank-${a}`, String(i + 1));
}

/**
 * Ranks `order` with the keyboard only: the answers after the first are added (Enter on their
 * Add button), then the first, which Move up (Enter again, the focus staying on the button) takes
 * to the top, one rank at a time; each move is announced, and the focus stays on the item.
 * `names` are the answers' names (the buttons' labels are in English).
 */
export async function rankByKeyboard(page, qi, order, names) {
  const press = async (label) => {
    await page.focus(`#q${qi}-set [aria-label="${label}"]`);
    await page.keyboard.press('Enter');
  };
  for (const a of [...order.slice(1), order[0]]) await press(`Add to my ranking: ${names[a]}`);
  const first = names[order[0]];
  if (order.length > 1) {
    await page.focus(`#q${qi}-set [aria-label="Move up: ${first}"]`);
    for (let r = order.length; r > 1; r -= 1) {
      await page.keyboard.press('Enter');
      assert.equal(await announced(page, qi), `${first} moved to rank ${r - 1}.`);
      // At the top Move up is disabled, and the focus goes to the item's Move down.
      const focus = r - 1 > 1 ? `Move up: ${first}` : `Move down: ${first}`;
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), focus, 'the focus stays on the item');
    }
  }
  assert.deepEqual(await listed(page, qi), order.map((a) => names[a]), `question ${qi + 1} ranked by keyboard`);
}

/**
 * Drags the item of answer `from` in question `qi`'s ranked list with the mouse and drops it on
 * the top half of the item of answer `onto` (which it then precedes).
 */
export async function dragOnto(page, qi, from, onto) {
  await page.$eval(`#q${qi}-list`, (e) => e.scrollIntoView({ block: 'center' }));
  const a = await (await page.$(`#q${qi}-list li[data-answer="${from}"]`)).boundingBox();
  const b = await (await page.$(`#q${qi}-list li[data-answer="${onto}"]`)).boundingBox();
  await page.mouse.move(a.x + 20, a.y + a.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 8; i += 1) await page.mouse.move(b.x + 20, a.y + ((b.y + 4 - a.y) * i) / 8);
  await page.mouse.up();
}

/**
 * Ranks `order` (two answers at least) by dragging: the selects rank the first answer last, then
 * the mouse drags it above the second, to the top.
 */
export async function rankByDrag(page, qi, order, names) {
  assert.ok(order.length >= 2, 'a drag needs two ranked answers');
  await rankBySelect(page, qi, [...order.slice(1), order[0]]);
  await dragOnto(page, qi, order[0], order[1]);
  assert.equal(await announced(page, qi), `${names[order[0]]} moved to rank 1.`);
  assert.deepEqual(await listed(page, qi), order.map((a) => names[a]), `question ${qi + 1} ranked by dragging`);
}

/** Grades every answer of question `qi` by a click: `grades[a]` is the grade's index (0 = the best). */
export async function gradeByClick(page, qi, grades) {
  for (const [a, g] of grades.entries()) await page.check(`#q${qi}-a${a}-g${g}`);
}

/** Grades every answer with the keyboard: Space on the best grade, then the right arrow `g` times. */
export async function gradeByKeyboard(page, qi, grades) {
  for (const [a, g] of grades.entries()) {
    await page.focus(`#q${qi}-a${a}-g0`);
    await page.keyboard.press('Space');
    for (let i = 0; i < g; i += 1) await page.keyboard.press('ArrowRight');
    assert.equal(await page.isChecked(`#q${qi}-a${a}-g${g}`), true, `answer ${a} of question ${qi + 1} graded by keyboard`);
  }
}
