// The public pages end to end in headless Chromium (issue #7): an election run to its published
// result by `urne demo` (its data directory kept), then served by `urne serve` on that data;
// the election's page shows the result's numbers exactly as the API gives them, with the
// turnout from the record, and its record passes `urne verify`; the board page shows the
// signed tree head and finds a ballot by its tracker with its inclusion proof checked; and
// axe-core finds no WCAG 2.1 A/AA violation on these pages, in English and French, nor on the
// booth's first page (of an election kept open by a second `urne demo --keep-open`).
//
// The pages are loaded first as served, under their strict Content-Security-Policy, and must
// work there with no policy violation. axe-core is then injected with `page.addScriptTag`,
// which adds an inline script: for that only, the audits run in a second browser context with
// Playwright's `bypassCSP: true` (the pages' behaviour was already checked under the policy).
//
// This file is named *.e2e.js so that the booth's runner (`node --test e2e/`) does not pick it
// up: crates/urne-cli/tests/pages_e2e.rs runs it. Needs URNE_BIN, Debian's chromium
// (/usr/bin/chromium or URNE_CHROMIUM), playwright-core and axe-core (web/ devDependencies).
// With URNE_SCREENSHOTS=DIR it writes the results page's screenshots there.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

const BIN = process.env.URNE_BIN;
const CHROMIUM = process.env.URNE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'demo-agm-2026';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let dir;
let server;
let open;
let base;
let openBase;
let browser;
let strict; // the pages as served, under their Content-Security-Policy
let audit; // the same, with the policy bypassed so that axe-core can be injected
let record; // the published election's record, parsed lines

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Waits until `url` answers 200. */
async function ready(url, child, what) {
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer at ${url}`);
}

/** Starts `urne demo --keep-open` and resolves with its server's address once it waits. */
function startOpenDemo(out) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['demo', '--voters', '4', '--keep-open', '--quiet', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const timer = setTimeout(() => reject(new Error(`urne demo --keep-open did not get ready:\n${text}`)), 240_000);
    child.stdout.on('data', (d) => {
      text += d;
      const m = /Server: (http:\/\/\S+)/.exec(text);
      if (m && text.includes('Press Ctrl-C to stop the server.')) {
        clearTimeout(timer);
        resolve({ child, base: m[1] });
      }
    });
    child.stderr.on('data', () => {});
    child.on('exit', (code) => reject(new Error(`urne demo --keep-open exited (${code}):\n${text}`)));
  });
}

async function stop(child) {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGINT');
    await exited;
  }
}

before(async () => {
  assert.ok(BIN, 'URNE_BIN names the urne binary');
  dir = mkdtempSync(join(tmpdir(), 'urne-pages-'));
  const openDemo = startOpenDemo(join(dir, 'open'));
  // An election run to its published result, its data kept, then served again on that data.
  const demo = spawnSync(BIN, ['demo', '--voters', '9', '--revote-percent', '20', '--quiet', '--out', join(dir, 'demo')], { encoding: 'utf8' });
  assert.equal(demo.status, 0, `urne demo:\n${demo.stdout}\n${demo.stderr}`);
  record = readFileSync(join(dir, 'demo', 'record.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '--data-dir', join(dir, 'demo', 'server'), '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  await ready(`${base}/api/v1/elections/${ID}`, server, 'urne serve');
  ({ child: open, base: openBase } = await openDemo);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const options = { locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } };
  strict = await browser.newContext(options);
  audit = await browser.newContext({ ...options, bypassCSP: true });
});

after(async () => {
  await browser?.close();
  await stop(server);
  await stop(open);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens `url` in `context`, waits for the page's script to finish, and collects its errors. */
async function load(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    // The browser's own request for /favicon.ico (the server has none) is not the page's.
    if (m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
  return { page, errors };
}

/** Runs axe-core on the page and asserts no WCAG 2.1 A or AA violation. */
async function noViolations(page, what) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate((tags) => globalThis.axe.run(document, { runOnly: { type: 'tag', values: tags } }), WCAG);
  const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(found, [], `axe-core on ${what}:\n${found.join('\n')}`);
  assert.ok(result.passes.length > 10, `axe-core ran its checks on ${what}`);
  console.log(`# axe-core: ${what}: 0 violations, ${result.passes.length} rules passed`);
}

/** The share as the page writes it in English (one decimal). */
const share = (n, of) => `${((of > 0 ? n / of : 0) * 100).toFixed(1)}%`;

test('the results page shows the published result, the turnout and the record, as the API gives them', async () => {
  const view = await (await fetch(`${base}/api/v1/elections/${ID}`)).json();
  assert.equal(view.phase, 'published');
  assert.ok(view.result, 'the API gives the result');
  const tally = record.find((l) => l.type === 'tally');
  const credentials = record.filter((l) => l.type === 'credential').length;
  assert.ok(tally.ballots > 0 && credentials >= tally.ballots);

  const answer = await fetch(`${base}/elections/${ID}`);
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-type'), /^text\/html/);
  assert.match(answer.headers.get('content-security-policy'), /script-src 'self'(;|$)/);

  const { page, errors } = await load(strict, `${base}/elections/${ID}`);
  assert.equal(await page.textContent('h1'), view.manifest.title);
  assert.equal(await page.getAttribute('#phase', 'data-phase'), 'published');
  assert.equal(await page.textContent('#fingerprint'), view.fingerprint);
  assert.equal(
    await page.textContent('#turnout'),
    `Turnout: ${tally.ballots} ballots counted for ${credentials} voters (${share(tally.ballots, credentials)}).`,
  );
  for (const [qi, q] of view.result.questions.entries()) {
    const question = view.manifest.questions[qi];
    const expected = q.counts.map((n, i) => [question.answers[i], String(n), share(n, tally.ballots)]);
    if (q.blank !== undefined) expected.push(['Blank votes', String(q.blank), share(q.blank, tally.ballots)]);
    const shown = await page.$$eval(`#q${qi}-table tbody tr`, (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(shown, expected, `question ${qi}'s table`);
    const bars = await page.$$eval(`#q${qi}-chart rect`, (rects) => rects.map((r) => r.getAttribute('data-count')));
    assert.deepEqual(bars, expected.map((e) => e[1]), `question ${qi}'s chart`);
    const label = await page.$eval(`#q${qi}-chart`, (s) => s.getAttribute('role'));
    assert.equal(label, 'img');
    const desc = await page.textContent(`#q${qi}-chart-desc`);
    for (const [a, n] of expected) assert.ok(desc.includes(`${a}: ${n} (`), `the chart's description gives ${a}: ${n}`);
  }
  assert.equal(await page.textContent('#verify-command'), `urne verify ${base}/api/v1/elections/${ID}`);

  // The record the page links to is the election's, and the verifier accepts it.
  const href = await page.getAttribute('#record-link', 'href');
  const downloaded = await fetch(new URL(href, base));
  assert.equal(downloaded.status, 200);
  const file = join(dir, `${ID}.record.jsonl`);
  writeFileSync(file, Buffer.from(await downloaded.arrayBuffer()));
  const verified = spawnSync(BIN, ['verify', '--quiet', file], { encoding: 'utf8' });
  assert.equal(verified.status, 0, `urne verify:\n${verified.stdout}\n${verified.stderr}`);

  // In French.
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.textContent('#result-heading'), 'Résultat');
  assert.match(await page.textContent('#turnout'), new RegExp(`^Participation : ${tally.ballots} bulletins comptés pour ${credentials} électeurs`));
  assert.deepEqual(errors, [], 'no error (nor policy violation) in the page');

  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.click('#lang');
    await page.screenshot({ path: join(SHOTS, 'results-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 360, height: 740 });
    await page.screenshot({ path: join(SHOTS, 'results-phone.png'), fullPage: true });
  }
  await page.setViewportSize({ width: 360, height: 740 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, `no horizontal scrolling at 360 px (${wide})`);
  await page.close();
});

test('the board page shows the signed tree head and finds a ballot by its tracker, with its proof checked', async () => {
  const head = await (await fetch(`${base}/api/v1/elections/${ID}/board/head`)).json();
  const ballots = record.filter((l) => l.type === 'ballot');
  const ballot = ballots[Math.floor(ballots.length / 2)];

  const { page, errors } = await load(strict, `${base}/elections/${ID}/board`);
  assert.equal(await page.textContent('#head-size'), String(head.size));
  assert.equal(await page.textContent('#head-root'), head.root);
  assert.equal(await page.getAttribute('#head-check', 'data-ok'), 'true', await page.textContent('#head-check'));
  const recent = await page.$$eval('#recent tbody tr td:first-child', (cells) => cells.map((c) => Number(c.textContent)));
  assert.equal(recent[0], head.size - 1, 'the newest line first');
  assert.deepEqual(recent, [...Array(Math.min(20, head.size)).keys()].map((i) => head.size - 1 - i));

  // A tracker typed with the keyboard.
  await page.focus('#tracker');
  await page.keyboard.type(ballot.tracker);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#proof-check');
  assert.equal(await page.getAttribute('#found-line', 'data-seq'), String(ballot.seq));
  assert.equal(await page.getAttribute('#proof-check', 'data-ok'), 'true', await page.textContent('#proof-check'));
  assert.equal(new URL(page.url()).pathname, `/elections/${ID}/ballots/${ballot.tracker}`);

  // A tracker that is not on the board, and text that is no tracker.
  await page.fill('#tracker', 'A'.repeat(43));
  await page.click('#find');
  await page.waitForFunction(() => /No ballot/.test(document.getElementById('search-answer').textContent));
  await page.fill('#tracker', 'not a tracker');
  await page.click('#find');
  assert.equal(await page.getAttribute('#tracker', 'aria-invalid'), 'true');
  // The browser reports the API's 404 for the missing tracker, which the page expects.
  const missing = `/api/v1/elections/${ID}/ballots/${'A'.repeat(43)}`;
  assert.deepEqual(
    errors.filter((e) => !e.includes(missing)),
    [],
    'no other error (nor policy violation) in the page',
  );
  await page.close();

  // The address of the voters' letters: the board with the tracker looked up.
  const other = ballots[0];
  const letter = await load(strict, `${base}/elections/${ID}/ballots/${other.tracker}`);
  assert.equal(await letter.page.inputValue('#tracker'), other.tracker);
  assert.equal(await letter.page.getAttribute('#found-line', 'data-seq'), String(other.seq));
  assert.equal(await letter.page.getAttribute('#proof-check', 'data-ok'), 'true');
  assert.deepEqual(letter.errors, []);
  await letter.page.close();
});

test('axe-core finds no WCAG 2.1 A/AA violation on the results, board and booth pages', async () => {
  const ballot = record.find((l) => l.type === 'ballot');
  for (const lang of ['en', 'fr']) {
    const results = await load(audit, `${base}/elections/${ID}`);
    if (lang === 'fr') await results.page.click('#lang');
    await noViolations(results.page, `the results page (${lang})`);
    await results.page.close();

    const board = await load(audit, `${base}/elections/${ID}/ballots/${ballot.tracker}`);
    if (lang === 'fr') await board.page.click('#lang');
    await noViolations(board.page, `the board page with a ballot found (${lang})`);
    await board.page.close();
  }
  // The booth of a published election (voting is over) and of an open one (its first step).
  for (const [url, what, heading] of [
    [`${base}/vote/${ID}`, 'the booth of a closed election', null],
    [`${openBase}/vote/${ID}`, "the booth's credential step", 'Your voting credential'],
  ]) {
    const page = await audit.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('heading')?.textContent !== 'urne', null, { timeout: 30_000 });
    if (heading) assert.equal(await page.textContent('#heading'), heading);
    await noViolations(page, what);
    await page.close();
  }
});
