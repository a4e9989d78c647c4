// The booth's ranked and graded questions end to end in headless Chromium (issue #8): the booth's
// page and files as a real `urne serve` serves them, under its strict Content-Security-Policy,
// given a mixed election through Playwright's `page.route` on the two API calls the booth makes
// before casting (GET /api/v1/elections/{id}, the election view with its manifest, for an open
// election without voter login) and on the cast (POST …/ballots), since the server still refuses
// mixed drafts. The voter ranks by select (and sees a rank given twice refused as they choose),
// reorders by keyboard (Move up, Remove, Add) and by dragging with the mouse, grades (a click and
// the arrow keys), reviews, audits a first encryption (the opened ballot checked on /audit in
// another tab, which names ranks and grades) and casts a new one; axe-core checks every step and the questions at 360 px.
//
// The ballot the booth sends is captured: the test checks it with the JavaScript verifier, and
// decrypts each answer's ciphertext with the trustee's key (made here) to find the ranks and
// grades the voter chose. It then writes the manifest, the ballot and its tracker to a file and
// names it on a line `# mixed ballot for urne-verify: PATH`, which the Rust launcher
// (crates/urne-cli/tests/booth_mixed_e2e.rs) reads to check the ballot with urne-core's verifier
// (V-5 to V-10, the tracker and the credential).
//
// The receipt's checks need the board's inclusion proof for a real board line: the routed cast
// answers with the ballot's tracker but no board, so the done page shows the receipt's check as
// failed; that check is the plurality e2e's (booth.test.js), against a real election.
//
// Needs URNE_BIN, Debian's chromium, playwright-core and axe-core (web/ devDependencies). With
// URNE_SCREENSHOTS=DIR it writes booth-ranking.png and booth-grades.png there.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  G,
  checkOpenedBallot,
  IDENTITY,
  deriveCredentialKey,
  encodePoint,
  encodeScalar,
  encodeSchnorr,
  generateCredential,
  keyProofPrefix,
  loadElection,
  mulSecret,
  proveSchnorr,
  randomScalar,
  toBase64Url,
  verifyBallot,
} from '../src/urne/index.js';
import { noHorizontalScroll, noViolations } from './axe.js';
import { announced, dragOnto, listed as listedOn, selected as selectedOn, tabTo as tabToOn } from './booth-steps.js';
import { launchBrowser, serve, stop } from './support.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'mixed-e2e-2026';

// The election: a trustee key made here (so that the test can decrypt), four questions.
const secret = randomScalar();
const Y = mulSecret(G, secret);
const manifest = {
  format: 'urne/manifest/v1',
  id: ID,
  title: 'Association meeting 2026',
  description: '',
  questions: [
    { text: 'Adopt the budget?', answers: ['Yes', 'No'], min: 1, max: 1, blank: true, counting: 'plurality' },
    { text: 'Rank the logos', answers: ['Owl', 'Fox', 'Heron', 'Lynx'], min: 1, max: 4, blank: false, counting: 'schulze' },
    { text: 'Elect two delegates', answers: ['Ana', 'Bo', 'Chen', 'Dia', 'Eli'], min: 0, max: 3, blank: false, counting: 'stv', seats: 2 },
    {
      text: 'Grade the projects',
      answers: ['Library', 'Garden', 'Bridge'],
      min: 3,
      max: 3,
      blank: false,
      counting: 'majority_judgment',
      grades: ['Excellent', 'Good', 'Fair', 'Poor'],
    },
  ],
  weights: 'equal',
  revote: 'last_counts',
  opens_at: '2026-03-01T08:00:00Z',
  closes_at: '2036-03-08T18:00:00Z',
  trustees: [{ name: 'Trustee 1', public_key: encodePoint(Y), key_proof: encodeSchnorr(proveSchnorr(keyProofPrefix(ID, 1, 'Trustee 1', Y), secret, randomScalar)) }],
  threshold: 1,
  public_key: encodePoint(Y),
};
const election = loadElection(JSON.stringify(manifest));
const credential = generateCredential();
const key = deriveCredentialKey(ID, credential);

let dir;
let server;
let base;
let browser;
let context;
let page;
let cast = null; // the body of the booth's POST …/ballots

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'urne-e2e-mixed-'));
  const started = await serve(join(dir, 'data'));
  server = started.child;
  base = started.base;
  browser = await launchBrowser();
  context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  const view = { id: ID, phase: 'open', voter_auth: 'none', manifest, fingerprint: toBase64Url(election.fingerprint) };
  await context.route(`${base}/api/v1/elections/${ID}`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(view) }));
  await context.route(`${base}/api/v1/elections/${ID}/ballots`, async (route) => {
    assert.equal(route.request().method(), 'POST');
    cast = route.request().postData();
    let tracker = 'refused';
    try {
      tracker = verifyBallot(election, cast).tracker;
    } catch (e) {
      return route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({ error: { message: e.message } }) });
    }
    const receipt = { size: 12, root: 'x', signature: 'x' };
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ seq: 11, tracker, receipt }) });
  });
  await context.route(`${base}/api/v1/elections/${ID}/board/**`, (route) =>
    route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { message: 'no board in this test' } }) }),
  );
});

after(async () => {
  await browser?.close();
  await stop(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Waits for a step's heading to read `text`, and checks the focus is on it. */
async function step(text) {
  await page.waitForFunction((t) => document.getElementById('heading')?.textContent === t, text, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'heading', `the focus moves to the heading of "${text}"`);
}

// The booth's steps shared with ranked.e2e.js (e2e/booth-steps.js), on this file's page.
const tabTo = (selector) => tabToOn(page, selector);
const listed = (qi) => listedOn(page, qi);
const selected = (qi) => selectedOn(page, qi);
const live = (qi) => announced(page, qi);

test('a voter ranks by select, by keyboard and by dragging, grades, reviews and casts', async () => {
  await page.goto(`${base}/vote/${ID}#credential=${credential}`);
  await step('Your choices');
  await noViolations(page, 'the mixed questions, untouched');

  // The plurality question beside them works as before.
  await page.check('#q0-0');

  // Ranking by select; a rank given twice is refused as the voter chooses, and fixed.
  await page.selectOption('#q1-rank-1', '1');
  await page.selectOption('#q1-rank-0', '2');
  await page.selectOption('#q1-rank-2', '2');
  assert.match(await page.textContent('#q1-error'), /Rank 2 is given to Owl and Heron/);
  await noViolations(page, 'a ranking with a rank given twice');
  await page.selectOption('#q1-rank-2', '3');
  await page.selectOption('#q1-rank-3', '4');
  assert.equal(await page.textContent('#q1-error'), '');
  assert.deepEqual(await listed(1), ['Fox', 'Owl', 'Heron', 'Lynx']);

  // Reordering by keyboard: Lynx up twice (the focus stays on its button), Heron removed, added.
  await page.focus('#q1-rank-3');
  await tabTo('[aria-label="Move up: Lynx"]');
  await page.keyboard.press('Enter');
  assert.equal(await live(1), 'Lynx moved to rank 3.');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Move up: Lynx');
  await page.keyboard.press('Enter');
  assert.equal(await live(1), 'Lynx moved to rank 2.');
  assert.deepEqual(await listed(1), ['Fox', 'Lynx', 'Owl', 'Heron']);
  assert.deepEqual(await selected(1), [3, 1, 4, 2], 'the selects follow the list');
  await tabTo('[aria-label="Remove: Heron"]');
  await page.keyboard.press('Enter');
  assert.equal(await live(1), 'Heron removed from the ranking.');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Add to my ranking: Heron');
  await page.keyboard.press('Enter');
  assert.equal(await live(1), 'Heron added at rank 4.');
  assert.deepEqual(await listed(1), ['Fox', 'Lynx', 'Owl', 'Heron']);

  // The STV question: three ranked by select (min 0, max 3: a fourth cannot be added), then Eli
  // dragged with the mouse to the top.
  await page.selectOption('#q2-rank-0', '1');
  await page.selectOption('#q2-rank-2', '2');
  await page.selectOption('#q2-rank-4', '3');
  assert.equal(await page.isDisabled('[aria-label="Add to my ranking: Bo"]'), true, 'the ranking is full at max');
  await dragOnto(page, 2, 4, 0);
  assert.deepEqual(await listed(2), ['Eli', 'Ana', 'Chen']);
  assert.equal(await live(2), 'Eli moved to rank 1.');
  assert.deepEqual(await selected(2), [2, 0, 3, 0, 1]);

  // Asking for the review with the grades missing: the question says what is left, and the focus
  // goes to its first answer without a grade.
  await page.check('#q3-a1-g3');
  await page.click('#to-review');
  assert.equal(await page.textContent('#q3-error'), 'Grade every answer: 2 are left.');
  assert.equal(await page.getAttribute('#q3-set', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q3-a0-g0');
  assert.match(await page.textContent('#questions-error'), /do not follow the rules/);
  await noViolations(page, 'the mixed questions with a grading left unfinished');

  // Grades: clicks, and the arrow keys within one answer's radio group.
  await page.check('#q3-a0-g0');
  await page.check('#q3-a1-g3');
  await page.focus('#q3-a2-g0');
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isChecked('#q3-a2-g1'), true, 'an arrow key moves to the next grade');
  assert.equal(await page.textContent('#q3-count'), '3 of 3 answers graded.');
  await noViolations(page, 'the mixed questions, answered');
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await (await page.$('#q1-set')).screenshot({ path: join(SHOTS, 'booth-ranking.png') });
    await (await page.$('#q3-set')).screenshot({ path: join(SHOTS, 'booth-grades.png') });
  }

  // At 360 px: nothing reaches past the edge, the grades are stacked with their names shown.
  await page.setViewportSize({ width: 360, height: 780 });
  await noHorizontalScroll(page, 'the mixed questions at 360 px');
  assert.equal(await page.isVisible('#q3-set .grade-head'), false, 'no header row on a phone');
  const label = await page.$('label[for="q3-a0-g0"]');
  assert.ok((await label.boundingBox()).width > 20, 'the grade names show beside the radios on a phone');
  await noViolations(page, 'the mixed questions at 360 px');
  await page.setViewportSize({ width: 1280, height: 900 });

  // French: the rules and the list in the other language, the choices kept.
  await page.click('#lang');
  await step('Vos choix');
  assert.match(await page.textContent('#q1-rule'), /Classez entre 1 et 4 réponses/);
  assert.deepEqual(await listed(1), ['Fox', 'Lynx', 'Owl', 'Heron']);
  await noViolations(page, 'the mixed questions in French');
  await page.click('#lang');
  await step('Your choices');

  await page.click('#to-review');
  await step('Check your choices');
  assert.deepEqual(await page.$$eval('#review-q1 li', (l) => l.map((x) => x.textContent)), ['Fox', 'Lynx', 'Owl', 'Heron']);
  assert.deepEqual(await page.$$eval('#review-q2 li', (l) => l.map((x) => x.textContent)), ['Eli', 'Ana', 'Chen']);
  assert.deepEqual(await page.$$eval('#review-q3 li', (l) => l.map((x) => x.textContent)), ['Library: Excellent', 'Garden: Poor', 'Bridge: Good']);
  await noViolations(page, 'the review of a mixed ballot');

  // The Benaloh audit: the opened ballot claims the ranks and grades, and /audit (another tab)
  // finds that every answer matches, in words (ranks, grade names).
  await page.click('#audit');
  await step('Your encryption, opened');
  const opened = await page.inputValue('#opened');
  assert.deepEqual(JSON.parse(opened).vote, [{ selected: [0] }, { ranks: [3, 1, 4, 2] }, { ranks: [2, 0, 3, 0, 1] }, { grades: [0, 3, 1] }]);
  assert.equal(checkOpenedBallot(election, opened).ok, true);
  const checker = await context.newPage();
  await checker.goto(new URL(await page.getAttribute('#audit-link', 'href'), base).href);
  await checker.fill('#opened', opened);
  await checker.click('#check');
  await checker.waitForSelector('#verdict[data-ok="true"]', { timeout: 30_000 });
  const claims = await checker.$$eval('#details tbody tr', (rows) => rows.map((r) => [...r.cells].slice(1, 3).map((c) => c.textContent).join(' = ')));
  assert.ok(claims.includes('Fox = rank 1') && claims.includes('Bo = not ranked') && claims.includes('Garden = Poor'), claims.join('; '));
  await noViolations(checker, 'the /audit page with a mixed ballot');
  await checker.close();
  assert.equal(cast, null, 'an audited ballot is never sent');
  await page.click('#recast');

  await step('Your vote is cast');
  await noViolations(page, 'the acknowledgement');
  assert.ok(cast, 'the booth sent a ballot');
});

test('the ballot cast verifies and decrypts to the ranks and grades chosen', () => {
  assert.ok(cast, 'a ballot was captured');
  const { ballot, tracker } = verifyBallot(election, cast);
  assert.equal(encodePoint(ballot.credential), encodePoint(key.X));
  assert.equal(JSON.parse(cast).answers.filter((a) => a.count_proof).length, 1, 'a count proof for the plurality question only');
  const small = (ct) => {
    const m = ct.beta.subtract(ct.alpha.multiply(secret));
    for (let v = 0; v <= 8; v++) if (m.equals(v === 0 ? IDENTITY : mulSecret(G, BigInt(v)))) return v;
    return assert.fail('not a small value');
  };
  const values = ballot.answers.map((a) => a.choices.map(small));
  assert.deepEqual(values, [
    [1, 0],
    [3, 1, 4, 2],
    [2, 0, 3, 0, 1],
    [3, 0, 2], // grades from the worst (0): Excellent 3, Poor 0, Good 2
  ]);
  const out = join(tmpdir(), `urne-booth-mixed-${process.pid}.json`);
  writeFileSync(out, JSON.stringify({ manifest: JSON.stringify(manifest), ballot: cast, tracker, credential: encodePoint(key.X), trustee_secret: encodeScalar(secret) }));
  console.log(`# mixed ballot for urne-verify: ${out}`);
});
