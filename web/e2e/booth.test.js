// End to end in headless Chromium (issue #7): a real `urne demo --keep-open` (the real server,
// the credential authority's mail, an open election), and one voter who votes through the booth
// with the keyboard only: the credential link from the authority's letter, a login code from the
// server's letter, the questions, the review, the ballot made in the booth's worker, the
// acknowledgement with its tracker, the receipt's checks (after a Benaloh audit: a first
// encryption opened and checked on the independent /audit page, never cast); then the ballot is found on the board
// and `urne verify` accepts the board's record. It also checks the headers the pages are served
// with, and measures in Chromium the time to make a 1-of-5 ballot.
//
// Needs: URNE_BIN (the `urne` binary), Debian's chromium (/usr/bin/chromium or URNE_CHROMIUM)
// and playwright-core (web/ devDependencies). crates/urne-cli/tests/booth_e2e.rs runs it with
// the binary it builds. With URNE_SCREENSHOTS=DIR it writes the booth's screenshots there.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { noViolations } from './axe.js';
import { codeLetters, loginCode, votingLink } from './mail.js';
import { BIN, BROWSER_ARGS, CHROMIUM, keepOpenDemo, stop } from './support.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'demo-agm-2026';

let dir;
let demo;
let base;
let voters = [];
let context;
let page;

before(async () => {
  assert.ok(BIN, 'URNE_BIN names the urne binary');
  dir = mkdtempSync(join(tmpdir(), 'urne-e2e-'));
  const started = await keepOpenDemo(['--voters', '6', '--out', join(dir, 'demo')]);
  demo = started.child;
  base = started.base;
  voters = [...started.out.matchAll(/^ {2}(\S+)\s+(\S+@\S+)\s+credential (\S+)$/gm)].map((m) => ({ id: m[1], email: m[2], credential: m[3] }));
  assert.equal(voters.length, 3, 'the demo kept three voters back');
  context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: BROWSER_ARGS,
    locale: 'en-GB',
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  await stop(demo);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The newest login code the server mailed to `email`. */
async function newestLoginCode(email) {
  const outbox = join(dir, 'demo', 'server', 'outbox');
  return loginCode(outbox, email, Math.max(codeLetters(outbox, email).length - 1, 0));
}

/**
 * Presses Tab (Shift+Tab with `back`) until the focused element matches `selector` (keyboard
 * only, as a voter would).
 */
async function tabTo(selector, back = false, most = 30, on = page) {
  for (let i = 0; i < most; i += 1) {
    await on.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await on.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Waits for a step's heading to read `text`, and checks the focus is on it. */
async function step(text) {
  await page.waitForFunction((t) => document.getElementById('heading')?.textContent === t, text, { timeout: 30_000 });
  const focused = await page.evaluate(() => document.activeElement?.id);
  assert.equal(focused, 'heading', `the focus moves to the heading of "${text}"`);
}

test('the pages are served with a strict policy and the right types', async () => {
  const pageAnswer = await fetch(`${base}/vote/${ID}`);
  assert.equal(pageAnswer.status, 200);
  assert.match(pageAnswer.headers.get('content-type'), /^text\/html/);
  const csp = pageAnswer.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe|https?:/);
  assert.equal(pageAnswer.headers.get('x-content-type-options'), 'nosniff');
  assert.doesNotMatch(await pageAnswer.text(), /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  const deps = await fetch(`${base}/static/src/urne/deps.js`);
  assert.match(deps.headers.get('content-type'), /^text\/javascript/);
  assert.match(await deps.text(), /vendor\/@noble\/curves\/ed25519\.js/, "the browser's deps.js names the vendored copies");
  const etag = deps.headers.get('etag');
  assert.ok(etag);
  assert.equal(deps.headers.get('cache-control'), 'no-cache');
  const again = await fetch(`${base}/static/src/urne/deps.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const vendored = await fetch(`${base}/static/vendor/@noble/curves/ed25519.js`);
  assert.equal(vendored.status, 200);
  assert.match(vendored.headers.get('content-type'), /^text\/javascript/);
  assert.equal((await fetch(`${base}/static/package.json`)).status, 404);
  const audit = await fetch(`${base}/audit?election=${ID}`);
  assert.equal(audit.status, 200);
  assert.match(audit.headers.get('content-type'), /^text\/html/);
  assert.equal(audit.headers.get('content-security-policy'), csp, 'the audit page has the same strict policy');
  assert.doesNotMatch(await audit.text(), /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script on the audit page');
});

test('a voter votes through the booth with the keyboard, and the ballot is on the board', async () => {
  const voter = voters[0];
  const link = votingLink(join(dir, 'demo', 'authority', 'outbox'), voter.email);
  const sent = [];
  page.on('request', (r) => sent.push(r.url() + (r.postData() ?? '')));
  await page.goto(link);
  // The credential is read and removed from the address bar.
  await step('Say who you are');
  assert.equal(new URL(page.url()).hash, '');

  await tabTo('#voter');
  await page.keyboard.type(voter.id);
  await page.keyboard.press('Enter');
  await step('Enter your code');
  await tabTo('#code');
  await page.keyboard.type(await newestLoginCode(voter.email));
  await page.keyboard.press('Enter');
  await step('Your choices');

  // The language switch: French, then back.
  await tabTo('#lang', true);
  await page.keyboard.press('Enter');
  await step('Vos choix');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await tabTo('#lang', true);
  await page.keyboard.press('Enter');
  await step('Your choices');

  // An empty second question is allowed (0 to 2), the first needs one answer: try the review
  // first, which must refuse and send the focus to the first question.
  await tabTo('#to-review');
  await page.keyboard.press('Enter');
  assert.match(await page.textContent('#q0-error'), /at least 1/);
  assert.equal(await page.evaluate(() => document.activeElement?.name), 'q0');

  // Question 1 (1 of 5, radios): the arrow keys choose Grace. Question 2 (up to 2 of 4,
  // checkboxes): Library and Garden, after which the other two are disabled.
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q0-1');
  await tabTo('#q1-0');
  await page.keyboard.press('Space');
  await tabTo('#q1-1');
  await page.keyboard.press('Space');
  assert.equal(await page.isDisabled('#q1-2'), true, 'a third project cannot be chosen');
  assert.match(await page.textContent('#q1-live'), /chosen 2|have chosen 2/);
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'booth-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 360, height: 740 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `no horizontal scrolling at 360 px (${wide})`);
    await page.screenshot({ path: join(SHOTS, 'booth-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  await tabTo('#to-review');
  await page.keyboard.press('Enter');
  await step('Check your choices');
  const review = await page.textContent('.review');
  assert.match(review, /Grace/);
  assert.match(review, /Library, Garden/);

  // The Benaloh audit: the booth opens a first encryption (never sent), the voter checks it on
  // the independent page in another tab, then has the booth encrypt again and cast.
  await tabTo('#audit');
  await page.keyboard.press('Enter');
  await step('Your encryption, opened');
  const auditedTracker = (await page.textContent('#audit-tracker')).trim();
  assert.match(auditedTracker, /^[A-Za-z0-9_-]{43}$/);
  const opened = await page.inputValue('#opened');
  const doc = JSON.parse(opened);
  assert.equal(doc.format, 'urne/opened-ballot/v1');
  assert.equal(doc.tracker, auditedTracker);
  assert.deepEqual(doc.vote, [{ selected: [1] }, { selected: [0, 1] }]);
  assert.match(await page.getAttribute('#audit-download', 'href'), /^blob:/);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'booth-audit.png'), fullPage: true });
  await noViolations(page, "the booth's audit step");
  const checker = await context.newPage();
  await checker.goto(new URL(await page.getAttribute('#audit-link', 'href'), base).href);
  assert.equal(await checker.inputValue('#election'), ID);
  const checkOpened = async (text, ok) => {
    await checker.fill('#opened', text);
    await tabTo('#check', false, 30, checker);
    await checker.keyboard.press('Enter');
    await checker.waitForSelector(`#verdict[data-ok="${ok}"]`, { timeout: 30_000 });
    assert.equal(await checker.evaluate(() => document.activeElement?.id), 'result-heading');
    return checker.textContent('#verdict');
  };
  assert.match(await checkOpened(opened, true), /^Matches/);
  assert.match(await checker.textContent('#audited-tracker'), new RegExp(auditedTracker));
  if (SHOTS) await checker.screenshot({ path: join(SHOTS, 'audit-check.png'), fullPage: true });
  await noViolations(checker, 'the /audit page with its result');
  // The page reads in French too, the result included.
  await checker.focus('#lang');
  await checker.keyboard.press('Enter');
  assert.equal(await checker.getAttribute('html', 'lang'), 'fr');
  assert.match(await checker.textContent('#verdict'), /^Correspond/);
  await checker.keyboard.press('Enter');
  assert.equal(await checker.getAttribute('html', 'lang'), 'en');
  // A booth that claimed another choice than it encrypted is caught, at the answers concerned.
  const lied = structuredClone(doc);
  lied.vote[0] = { selected: [0] };
  assert.match(await checkOpened(JSON.stringify(lied), false), /^Does not match/);
  assert.equal(await checker.locator('tbody tr[data-ok="false"]').count(), 2);
  await checker.close();
  await page.bringToFront();

  await tabTo('#recast');
  await page.keyboard.press('Enter');
  await step('Your vote is cast');
  const tracker = (await page.textContent('#tracker')).trim();
  assert.notEqual(tracker, auditedTracker, 'the cast ballot is a new encryption');
  assert.match(tracker, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await page.getAttribute('#receipt-check', 'data-ok'), 'true', await page.textContent('#receipt-check'));
  const ms = Number(await page.evaluate(() => document.body.dataset.ballotMs));
  console.log(`# the booth's worker made the demo's ballot (1 of 5 with blank, and up to 2 of 4) in ${ms} ms`);

  // The credential never left the page.
  const credential = voter.credential.replace(/-/g, '');
  for (const s of sent) assert.ok(!s.replace(/-/g, '').includes(credential), `the credential was sent: ${s}`);

  // The ballot is on the board, found by its tracker.
  const found = await fetch(`${base}/api/v1/elections/${ID}/ballots/${tracker}`);
  assert.equal(found.status, 200);
  const location = await found.json();
  assert.equal(location.tracker, tracker);
  assert.match(location.line, /"type":"ballot"/);
  // The audited ballot was never sent: its tracker is not on the board.
  assert.equal((await fetch(`${base}/api/v1/elections/${ID}/ballots/${auditedTracker}`)).status, 404);
  for (const s of sent) assert.ok(!s.includes(auditedTracker) && !s.includes(doc.ballot.answers[0].choices[0].alpha), `the audited ballot was sent: ${s}`);

  // The whole board so far passes the universal verifier.
  const verified = spawnSync(BIN, ['verify', `${base}/api/v1/elections/${ID}`], { encoding: 'utf8' });
  assert.equal(verified.status, 0, `urne verify:\n${verified.stdout}\n${verified.stderr}`);
});

test("a 1-of-5 ballot is made in Chromium in under 60 ms (the booth's code, median of 30)", async () => {
  const times = await page.evaluate(async (id) => {
    const urne = await import('/static/src/urne/index.js');
    const view = await (await fetch(`/api/v1/elections/${id}`)).json();
    const m = view.manifest;
    const manifest = { ...m, questions: [{ ...m.questions[0], blank: false }] };
    const election = urne.loadElection(manifest);
    const key = urne.deriveCredentialKey(manifest.id, urne.generateCredential());
    const out = [];
    for (let i = 0; i < 33; i += 1) {
      const t0 = performance.now();
      const made = urne.createBallot(election, key, [{ selected: [i % 5] }]);
      out.push(performance.now() - t0);
      if (made.tracker.length !== 43) throw new Error('no tracker');
    }
    return out.slice(3).sort((a, b) => a - b);
  }, ID);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `# 1-of-5 ballot in headless Chromium: median ${median.toFixed(1)} ms, 10th percentile ${times[3].toFixed(1)} ms, 90th ${times[26].toFixed(1)} ms`,
  );
  assert.ok(median < 60, `median ${median} ms`);
});
