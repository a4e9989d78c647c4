// The public pages end to end in headless Chromium (issue #7): an election run to its published
// result by `urne demo` (its data directory kept), then served by `urne serve` on that data;
// the election's page shows the result's numbers exactly as the API gives them, with the
// turnout from the record, and its record passes `urne verify`; the board page shows the
// signed tree head and finds a ballot by its tracker with its inclusion proof checked; and
// axe-core finds no WCAG 2.1 A/AA violation on these pages, in English and French, nor on the
// booth's first page (of an election kept open by a second `urne demo --keep-open`).
//
// The pages are loaded as served, under their strict Content-Security-Policy, and must work
// there with no policy violation; axe-core runs on them under that policy (e2e/axe.js).
//
// This file is named *.e2e.js so that the booth's runner (`node --test e2e/`) does not pick it
// up: crates/urne-cli/tests/pages_e2e.rs runs it. Needs URNE_BIN, Debian's chromium
// (/usr/bin/chromium or URNE_CHROMIUM), playwright-core and axe-core (web/ devDependencies).
// With URNE_SCREENSHOTS=DIR it writes the results page's screenshots there.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { noViolations } from './axe.js';
import { BIN, keepOpenDemo, launchBrowser, serve, stop } from './support.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'demo-agm-2026';

let dir;
let server;
let open;
let base;
let openBase;
let browser;
let strict; // the pages as served, under their Content-Security-Policy
let record; // the published election's record, parsed lines

before(async () => {
  assert.ok(BIN, 'URNE_BIN names the urne binary');
  dir = mkdtempSync(join(tmpdir(), 'urne-pages-'));
  const openDemo = keepOpenDemo(['--voters', '4', '--out', join(dir, 'open')]);
  // An election run to its published result, its data kept, then served again on that data.
  const demo = spawnSync(BIN, ['demo', '--voters', '9', '--revote-percent', '20', '--quiet', '--out', join(dir, 'demo')], { encoding: 'utf8' });
  assert.equal(demo.status, 0, `urne demo:\n${demo.stdout}\n${demo.stderr}`);
  record = readFileSync(join(dir, 'demo', 'record.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
  ({ child: server, base } = await serve(join(dir, 'demo', 'server')));
  ({ child: open, base: openBase } = await openDemo);
  browser = await launchBrowser();
  const options = { locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } };
  strict = await browser.newContext(options);
});

after(async () => {
  await browser?.close();
  await stop(server);
  await stop(open);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Opens `url` in `context`, waits for the page's script to finish, and collects its errors and
 * the paths it requested.
 */
async function load(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    // The browser's own request for /favicon.ico (the server has none) is not the page's.
    if (m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  // The paths the page asks for, its files and API calls.
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
  return { page, errors, requests };
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

  // The turnout comes with the view, as the record says it (no revocation in the demo).
  const weight = record.filter((l) => l.type === 'credential').reduce((s, l) => s + l.weight, 0);
  assert.deepEqual(view.turnout, { credentials, credentials_weight: weight, ballots: tally.ballots, ballots_weight: tally.total_weight });

  const { page, errors, requests } = await load(strict, `${base}/elections/${ID}`);
  // One API call, the view: the page never reads the board's lines, whose number grows with
  // the ballots.
  assert.ok(requests.includes(`/api/v1/elections/${ID}`), 'the page asks for the election');
  assert.deepEqual(requests.filter((p) => p.includes('/board/')), [], 'the results page reads no board line');
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
    const results = await load(strict, `${base}/elections/${ID}`);
    if (lang === 'fr') await results.page.click('#lang');
    await noViolations(results.page, `the results page (${lang})`);
    await results.page.close();

    const board = await load(strict, `${base}/elections/${ID}/ballots/${ballot.tracker}`);
    if (lang === 'fr') await board.page.click('#lang');
    await noViolations(board.page, `the board page with a ballot found (${lang})`);
    await board.page.close();
  }
  // The booth of a published election (voting is over) and of an open one (its first step).
  for (const [url, what, heading] of [
    [`${base}/vote/${ID}`, 'the booth of a closed election', null],
    [`${openBase}/vote/${ID}`, "the booth's credential step", 'Your voting credential'],
  ]) {
    const page = await strict.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('heading')?.textContent !== 'urne', null, { timeout: 30_000 });
    if (heading) assert.equal(await page.textContent('#heading'), heading);
    await noViolations(page, what);
    await page.close();
  }
});
