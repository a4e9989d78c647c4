// The draft form with ranked and graded questions, in headless Chromium against a real
// `urne serve`: the organizer creates through /admin/new an election with a Schulze question, an
// STV question and a majority-judgment question. A first submission with as many seats as answers
// shows the server's error next to the seats field (marked invalid, focused), then a repeated grade
// next to that grade; axe-core finds no
// WCAG 2.1 A/AA violation on the form with these questions, in English and in French; the draft
// the API stores carries each question's counting, seats, grades, min and max as chosen.
//
// Named *.e2e.js so that the booth's runner (`node --test e2e/`) does not pick it up:
// crates/urne-cli/tests/admin_e2e.rs runs it. Needs URNE_BIN, Debian's chromium
// (/usr/bin/chromium or URNE_CHROMIUM), playwright-core and axe-core (web/ devDependencies).
// With URNE_SCREENSHOTS=DIR it writes the form's screenshot there (admin-draft-ranked.png).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { fillDraftForm, loginThroughPages, ready, waitForPhase } from './admin-pages.js';
import { noHorizontalScroll, noViolations } from './axe.js';
import { addAdmin, launchBrowser, serve, stop } from './support.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'e2e-admin-mixed-2026';
const ADMIN = 'organizer';
const PASSWORD = 'organizer password for the mixed e2e test';
const QUESTIONS = [
  {
    text: 'Rank the venues for the congress',
    answers: ['Lyon', 'Nantes', 'Lille', 'Rennes'],
    min: 0,
    max: 3,
    blank: false,
    counting: 'schulze',
  },
  {
    text: 'Elect two members of the board',
    answers: ['Ada', 'Grace', 'Alan', 'Edsger'],
    min: 1,
    max: 4,
    blank: false,
    counting: 'stv',
    seats: 2,
  },
  {
    text: 'Grade each proposal for the budget',
    answers: ['Library', 'Garden', 'Choir'],
    min: 3,
    max: 3,
    blank: false,
    counting: 'majority_judgment',
    grades: ['Great', 'Good', 'Passable', 'Reject'],
  },
];

let dir;
let server;
let base;
let browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'urne-admin-mixed-'));
  const data = join(dir, 'server');
  addAdmin(data, ADMIN, PASSWORD);
  ({ child: server, base } = await serve(data));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stop(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the organizer drafts ranked and graded questions through the form', async () => {
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Paris', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    // The bad draft's 422 is expected; policy violations and script errors count.
    const expected = /the server responded with a status of 4\d\d/.test(m.text()) || m.location().url?.endsWith('/favicon.ico');
    if (m.type() === 'error' && !expected) errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));

  await loginThroughPages(page, base, ADMIN, PASSWORD);
  const now = Math.floor(Date.now() / 60_000) * 60;
  const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const draft = {
    id: ID,
    title: 'Congress (ranked and graded questions)',
    description: 'Drafted through the administration pages.',
    questions: QUESTIONS,
    opens_at: iso(now + 3600),
    closes_at: iso(now + 86400),
    trustees: ['Trustee One', 'Trustee Two'],
    threshold: 2,
    language: 'en',
    auto_open: false,
  };
  await page.click('#new-election');
  await page.waitForSelector('#draft-form');
  await ready(page);

  // Choosing the countings: seats for STV, grades for majority judgment, no blank check box.
  await page.selectOption('#q0-counting', 'stv');
  assert.equal(await page.inputValue('#q0-seats'), '1', 'STV starts with one seat');
  await page.selectOption('#q0-counting', 'majority_judgment');
  assert.equal(await page.$('#q0-seats'), null, 'seats are for STV only');
  assert.equal(await page.locator('#q0-grades input[type="text"]').count(), 5, 'five grades by default');
  assert.equal(await page.inputValue('#q0-g0'), 'Excellent', 'best first, in the page’s language');
  assert.equal(await page.isDisabled('#q0-min'), true, 'min is set by the form for a graded question');
  assert.equal(await page.inputValue('#q0-max'), '2', 'max = the number of answers');
  await page.click('#q0-add-answer');
  assert.equal(await page.inputValue('#q0-max'), '3', 'max follows the number of answers');
  await page.goto(`${base}/admin/new`);
  await page.waitForSelector('#draft-form');
  await ready(page);

  // A first submission with as many seats as answers: the server's error lands next to seats.
  await fillDraftForm(page, { ...draft, questions: [QUESTIONS[0], { ...QUESTIONS[1], seats: 4 }, QUESTIONS[2]] });
  assert.equal(await page.$('#q0-blank'), null, 'a ranked question has no blank check box');
  assert.equal(await page.$('#q2-blank'), null, 'a graded question has no blank check box');
  assert.equal(await page.inputValue('#q2-min'), '3');
  await page.click('#draft-submit');
  await page.waitForSelector('#q1-seats-error:not([hidden])');
  assert.match(await page.textContent('#q1-seats-error'), /between 1 and one less than the number of answers \(4\)/);
  assert.equal(await page.getAttribute('#q1-seats', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#q1-seats', 'aria-describedby'), /q1-seats-error/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q1-seats', 'the focus goes to the seats field');
  await noViolations(page, 'draft form with ranked and graded questions and the server’s error (en)');
  if (SHOTS) await page.locator('#q1').screenshot({ path: join(SHOTS, 'admin-draft-ranked.png') });
  await page.setViewportSize({ width: 640, height: 900 });
  await noHorizontalScroll(page, 'draft form with ranked and graded questions at 640 px');
  await page.setViewportSize({ width: 1280, height: 900 });

  // In French: the same form, with its words.
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await page.waitForFunction(() => document.querySelector('#q2-grades legend')?.textContent.startsWith('Mentions'));
  await noViolations(page, 'draft form with ranked and graded questions (fr)');
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#q2-grades legend')?.textContent.startsWith('Grades'));

  // A repeated grade: the server's error lands next to that grade.
  await page.fill('#q1-seats', '2');
  await page.fill('#q2-g1', 'Great');
  await page.click('#draft-submit');
  await page.waitForSelector('#q2-g1-error:not([hidden])');
  assert.match(await page.textContent('#q2-g1-error'), /repeats an earlier grade/);
  assert.equal(await page.getAttribute('#q2-g1', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q2-g1', 'the focus goes to the grade');
  assert.equal(await page.getAttribute('#q1-seats', 'aria-invalid'), null, 'the seats error is gone');

  await page.fill('#q2-g1', 'Good');
  await page.click('#draft-submit');
  await page.waitForURL(`${base}/admin/elections/${ID}`);
  await waitForPhase(page, 'draft');
  const stored = await page.evaluate(async (id) => (await fetch(`/api/v1/admin/elections/${id}`)).json(), ID);
  assert.deepEqual(stored.draft.questions, QUESTIONS, 'the API holds each question as chosen');
  assert.equal(stored.draft.weights, 'equal');
  // The election's page shows the same form with the stored questions.
  assert.equal(await page.inputValue('#q1-seats'), '2');
  assert.equal(await page.inputValue('#q2-g3'), 'Reject');
  await noViolations(page, 'election page (draft with ranked and graded questions)');
  assert.deepEqual(errors, [], 'no script error or policy violation');
  await context.close();
});
