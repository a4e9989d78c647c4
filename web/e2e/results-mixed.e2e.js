// The results page of mixed questions (issue #8) end to end in headless Chromium: the page is
// served by a real `urne serve` at /elections/{id}, under its strict Content-Security-Policy,
// and its one API call (GET /api/v1/elections/{id}) is answered by Playwright's `page.route`
// with a published election whose result holds the real counts of
// web/test/fixtures/mixed-results.json (written by `cargo run -p urne-core --example
// count_fixtures`): the server cannot run a mixed election to its result yet. The test checks
// every number the page shows against the fixture (Schulze's matrices and ranking, every STV
// round's votes and decimals, the merit profiles and grade counts, ballots set aside), in
// English and French, and that a fraction in a non-canonical spelling is refused in words; runs
// axe-core (WCAG 2.1 A/AA) in both languages; checks that nothing
// scrolls sideways at 360 px; and, with URNE_SCREENSHOTS=DIR, writes results-schulze.png,
// results-stv.png and results-mj.png there.
//
// Run by crates/urne-cli/tests/results_e2e.rs. Needs URNE_BIN, Debian's chromium, playwright-core
// and axe-core (web/ devDependencies).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { noHorizontalScroll, noViolations } from './axe.js';
import { launchBrowser, serve, stop } from './support.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'agm-mixed-2026';
const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/mixed-results.json', import.meta.url), 'utf8'));

/** A plurality question beside the mixed ones, as an election may mix them. */
const plurality = {
  question: { text: 'Approve the accounts of 2025?', answers: ['Yes', 'No'], min: 1, max: 1, blank: true, counting: 'plurality' },
  result: { counts: [31, 12], blank: 2 },
};
const questions = [plurality, ...fixture.questions];

/** The published election view the API would give (GET /api/v1/elections/{id}). */
const view = {
  id: ID,
  phase: 'published',
  title: 'General assembly 2026',
  manifest: {
    id: ID,
    title: 'General assembly 2026',
    description: 'The association’s yearly votes: accounts, committee chair, board members and the town’s project.',
    opens_at: '2026-11-20T08:00:00Z',
    closes_at: '2026-11-27T18:00:00Z',
    questions: questions.map((q) => q.question),
  },
  fingerprint: 'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGhI',
  board_size: 0,
  voter_auth: 'credential',
  result: { questions: questions.map((q) => q.result) },
};
const qi = (method) => questions.findIndex((q) => q.result.mixed?.method === method);

let dir;
let server;
let base;
let browser;
let context;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'urne-results-mixed-'));
  ({ child: server, base } = await serve(join(dir, 'server')));
  browser = await launchBrowser();
  context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await browser?.close();
  await stop(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the election's page with its API answered from the fixture; collects its errors. */
async function open(answer = view) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const asked = [];
  await page.route(`${base}/api/v1/**`, (route) => {
    const url = new URL(route.request().url());
    asked.push(url.pathname);
    if (url.pathname === `/api/v1/elections/${ID}`) return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(answer) });
    return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"not_found"}' });
  });
  await page.goto(`${base}/elections/${ID}`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
  return { page, errors, asked };
}

/** The decimal of "p/q" to two places as the page writes it in `lang` (checked independently of the page's code for these small values). */
function decimal(text, lang) {
  const [p, q = '1'] = text.split('/');
  const s = (Math.abs(Number(p) / Number(q)) + 1e-9).toFixed(2);
  return `${Number(p) < 0 ? '\u2212' : ''}${lang === 'fr' ? s.replace('.', ',') : s}`;
}
const cellsOf = (page, selector) => page.$$eval(selector, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => ({ main: c.querySelector('.cell-main')?.textContent ?? c.textContent, sub: c.querySelector('.cell-sub')?.textContent ?? null, dec: c.querySelector('.cell-dec')?.textContent ?? null, data: { ...c.dataset } }))));

async function checkNumbers(page, lang) {
  // Every mixed question: the ballots decrypted, set aside, counted.
  for (const q of fixture.questions) {
    const m = q.result.mixed;
    const i = qi(m.method);
    assert.equal(await page.textContent(`#q${i}-heading`), q.question.text);
    assert.equal(await page.textContent(`#q${i}-ballots`), String(m.ballots), `${m.method}: ballots`);
    assert.equal(await page.textContent(`#q${i}-invalid`), String(m.invalid), `${m.method}: invalid`);
    assert.equal(await page.textContent(`#q${i}-counted`), String(m.ballots - m.invalid), `${m.method}: counted`);
  }

  // Schulze: both matrices, the winners and the ranking.
  {
    const i = qi('schulze');
    const { question, result } = fixture.questions[i - 1];
    const m = result.mixed;
    const n = m.candidates;
    const d = await cellsOf(page, `#q${i}-pairwise tbody tr`);
    const p = await cellsOf(page, `#q${i}-paths tbody tr`);
    for (let a = 0; a < n; a += 1) {
      for (let b = 0; b < n; b += 1) {
        if (a === b) {
          assert.ok(d[a][b].data.value === undefined && p[a][b].data.value === undefined, 'the diagonal holds no number');
          continue;
        }
        const margin = m.pairwise[a][b] - m.pairwise[b][a];
        assert.equal(d[a][b].main, String(m.pairwise[a][b]), `d[${a}][${b}]`);
        assert.match(d[a][b].sub, new RegExp(`${margin > 0 ? `\\+${margin}` : margin === 0 ? '±0' : `\u2212${-margin}`}$`), `margin ${a}–${b}`);
        assert.equal(p[a][b].main, String(m.strongest_paths[a][b]), `p[${a}][${b}]`);
        assert.equal(p[a][b].data.beats, String(m.strongest_paths[a][b] > m.strongest_paths[b][a]));
      }
    }
    const ranking = await page.$$eval(`#q${i}-ranking li`, (li) => li.map((x) => [Number(x.dataset.candidate), x.querySelector('strong').textContent]));
    assert.deepEqual(
      ranking,
      m.ranking.map((c) => [c, question.answers[c]]),
    );
    const winners = await page.textContent(`#q${i}-winners`);
    for (const w of m.winners) assert.ok(winners.includes(question.answers[w]));
    const headers = await page.$$eval(`#q${i}-pairwise thead th`, (th) => th.map((x) => x.textContent));
    assert.deepEqual(headers, question.answers);
  }

  // STV: the quota, the elected in order, every round in the table and the chart.
  {
    const i = qi('stv');
    const { question, result } = fixture.questions[i - 1];
    const m = result.mixed;
    assert.equal(await page.textContent(`#q${i}-quota`), String(m.quota));
    assert.equal(await page.textContent(`#q${i}-valid`), String(m.valid));
    const elected = await page.$$eval(`#q${i}-elected li`, (li) => li.map((x) => Number(x.dataset.candidate)));
    assert.deepEqual(elected, m.elected);
    const table = await cellsOf(page, `#q${i}-rounds tbody tr`);
    assert.equal(table.length, m.candidates + 1, 'a row per candidate and the exhausted votes');
    const excludedBefore = new Set();
    for (const [k, round] of m.rounds.entries()) {
      const column = [...round.votes.map((v, c) => [v, round.transfers[c], c]), [round.exhausted, round.exhausted_transfer, m.candidates]];
      for (const [votes, transfer, row] of column) {
        const cell = table[row][k];
        if (row < m.candidates && excludedBefore.has(row)) {
          assert.equal(cell.main, '—', `round ${round.number}: candidate ${row} is out`);
          continue;
        }
        assert.equal(cell.data.votes, votes);
        assert.equal(cell.main, votes.replace('-', '\u2212'), `round ${round.number}, row ${row}`);
        assert.equal(cell.dec, votes.includes('/') ? `≈ ${decimal(votes, lang)}` : null);
        const change = transfer.startsWith('-') ? transfer.replace('-', '\u2212') : transfer === '0' ? '0' : `+${transfer}`;
        assert.ok(cell.sub.includes(change), `round ${round.number}, row ${row}: change ${change} in “${cell.sub}”`);
      }
      const bars = await page.$$eval(`#q${i}-chart rect[data-round="${round.number}"]`, (r) => r.map((x) => [Number(x.dataset.candidate), x.dataset.votes]));
      assert.deepEqual(
        bars,
        round.votes.map((v, c) => [c, v]).filter(([c]) => !excludedBefore.has(c)),
        `round ${round.number}'s bars`,
      );
      round.status.forEach((s, c) => s === 'excluded' && excludedBefore.add(c));
    }
    const quotas = await page.$$eval(`#q${i}-chart line.quota-line`, (l) => l.map((x) => x.dataset.quota));
    assert.deepEqual(
      quotas,
      m.rounds.map(() => String(m.quota)),
    );
    const desc = await page.textContent(`#q${i}-chart-desc`);
    assert.ok(desc.includes(`${question.answers[1]} 19/3 ≈ ${decimal('19/3', lang)}`), desc);
    const actions = await page.$$eval(`#q${i}-actions li`, (li) => li.length);
    assert.equal(actions, m.rounds.length);
  }

  // Majority judgment: the bars' segments, the table of grade counts, the majority grades.
  {
    const i = qi('majority_judgment');
    const { question, result } = fixture.questions[i - 1];
    const m = result.mixed;
    const g = m.grades;
    const rows = await page.$$eval(`#q${i}-grades tbody tr`, (tr) => tr.map((r) => ({ candidate: Number(r.dataset.candidate), counts: [...r.querySelectorAll('td[data-count]')].map((c) => c.querySelector('.cell-main').textContent), grade: r.querySelector('.majority-grade').textContent })));
    assert.deepEqual(
      rows.map((r) => r.candidate),
      m.ranking,
    );
    for (const r of rows) {
      const profile = m.profiles[r.candidate];
      assert.deepEqual(r.counts, [...profile.counts].reverse().map(String), `candidate ${r.candidate}'s grades`);
      assert.ok(r.grade.startsWith(question.grades[g - 1 - profile.majority_grade]));
      const segments = await page.$$eval(`#q${i}-chart rect[data-candidate="${r.candidate}"]`, (s) => s.map((x) => [Number(x.dataset.grade), Number(x.dataset.count), x.getAttribute('width')]));
      const total = profile.counts.reduce((a, b) => a + b, 0);
      assert.deepEqual(
        segments.map(([x, n]) => [x, n]),
        profile.counts.map((n, x) => [x, n]).reverse().filter(([, n]) => n > 0),
      );
      for (const [, n, width] of segments) assert.ok(Math.abs(parseFloat(width) - (100 * n) / total) < 1e-6);
    }
    const medians = await page.$$eval(`#q${i}-chart line.median-line`, (l) => l.map((x) => x.getAttribute('x1')));
    assert.deepEqual(
      medians,
      m.ranking.map(() => '50%'),
      'a 50 % line over each bar',
    );
    const winners = await page.textContent(`#q${i}-winners`);
    for (const w of m.winners) assert.ok(winners.includes(question.answers[w]));
  }

  // The plurality question beside them keeps its chart and table.
  const counts = await page.$$eval('#q0-table tbody td[data-count]', (c) => c.map((x) => Number(x.dataset.count)));
  assert.deepEqual(counts, [...plurality.result.counts, plurality.result.blank]);
}

test('the results page shows every number of the mixed counts, in English and in French', async () => {
  const { page, errors, asked } = await open();
  assert.deepEqual(asked, [`/api/v1/elections/${ID}`], 'the page asked the API for the election only');
  assert.equal(await page.textContent('h1'), view.title);
  for (const q of fixture.questions) {
    const i = qi(q.result.mixed.method);
    const role = await page.$eval(`#q${i}`, (s, id) => document.getElementById(id)?.getAttribute('role') ?? null, `q${i}-chart`);
    assert.equal(role, q.result.mixed.method === 'schulze' ? null : 'img', `${q.result.mixed.method}: its chart is an image with a text alternative`);
  }
  await checkNumbers(page, 'en');
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.textContent(`#q${qi('schulze')} h4`), 'Vainqueur');
  await checkNumbers(page, 'fr');
  assert.deepEqual(errors, [], 'no error (nor policy violation) in the page');
  await page.close();

  // A result with a fraction in a non-canonical spelling is refused in words, not guessed; the
  // other questions are still drawn.
  const broken = structuredClone(view);
  const stv = qi('stv');
  broken.result.questions[stv].mixed.rounds[1].votes[1] = '38/6';
  const bad = await open(broken);
  const alert = await bad.page.textContent(`#q${stv} [role="alert"]`);
  assert.match(alert, /cannot be shown: “38\/6” is not an exact number/);
  assert.equal(await bad.page.$(`#q${stv}-chart`), null);
  assert.ok(await bad.page.$(`#q${qi('majority_judgment')}-chart`));
  assert.deepEqual(bad.errors, []);
  await bad.page.close();
});

test('axe-core finds no WCAG 2.1 A/AA violation, in English and French, and nothing scrolls sideways at 360 px', async () => {
  for (const lang of ['en', 'fr']) {
    const { page, errors } = await open();
    if (lang === 'fr') await page.click('#lang');
    await noViolations(page, `the results page of mixed questions (${lang})`);
    await page.setViewportSize({ width: 360, height: 740 });
    await noHorizontalScroll(page, `the results page of mixed questions at 360 px (${lang})`);
    // The wide tables scroll inside their own region, which the keyboard can reach.
    const regions = await page.$$eval('.mixed .scroll', (r) => r.map((x) => x.getAttribute('tabindex')));
    assert.ok(regions.length >= 4 && regions.every((t) => t === '0'));
    await noViolations(page, `the results page of mixed questions at 360 px (${lang})`);
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test('the charts are drawn and printable', async () => {
  const { page, errors } = await open();
  for (const method of ['stv', 'majority_judgment']) {
    const box = await page.locator(`#q${qi(method)}-chart`).boundingBox();
    assert.ok(box.width > 300 && box.height > 100, `${method}'s chart has a size (${box.width}×${box.height})`);
  }
  // The rankings and the elected are numbered lists (a style of another page must not hide it).
  const lists = await page.$$eval('.mixed ol', (ol) => ol.map((l) => [l.id, getComputedStyle(l).listStyleType]));
  assert.ok(lists.length >= 4);
  for (const [id, style] of lists) assert.equal(style, 'decimal', `#${id} shows its numbers`);
  // Print media: the charts stay, the language button goes.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.isVisible('#lang'), false);
  assert.equal(await page.isVisible(`#q${qi('stv')}-chart`), true);
  await page.emulateMedia({ media: 'screen' });
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    for (const [method, file] of [
      ['schulze', 'results-schulze.png'],
      ['stv', 'results-stv.png'],
      ['majority_judgment', 'results-mj.png'],
    ]) {
      await page.locator(`#q${qi(method)}`).screenshot({ path: join(SHOTS, file) });
    }
  }
  assert.deepEqual(errors, []);
  await page.close();
});
