// The administration pages end to end in headless Chromium (issue #7), against a real
// `urne serve` whose administrator was made with `urne admin add`. The organizer logs in through
// the login page and creates an election through the draft form (two questions, one trustee,
// threshold 1; a first submission with a bad rule shows the server's error next to its field),
// edits it; uploads a roll with a bad line (the dry run lists the error with its line number,
// nothing is imported), then a good one (a shared address is a warning); freezes the setup and
// reads the trustee's invitation link; the trustee registers with `urne trustee new-identity
// --server`; the organizer uploads the list made by `urne credentials generate` (the page's
// fingerprint must be the authority's), seals, hands the private credentials over in the weaker
// mode, and opens, each step behind its confirmation dialog (opening with the keyboard alone); three voters log in with their mailed codes and cast
// ballots made by the booth's protocol code in node (one votes twice), and the page's turnout
// moves to 3 voters and 4 ballots; the organizer closes and tallies, the trustee decrypts with
// `urne trustee decrypt --server`, the page shows the decryption done, the organizer publishes,
// and the public page shows the counts of the last ballots. axe-core finds no WCAG 2.1 A/AA
// violation on every page and state (the login and the open election in French too), and at
// 640 px wide (a 1280-pixel window at 200 % zoom) no page scrolls sideways.
//
// The steps through the pages are e2e/admin-pages.js's, shared with the 20-voter election.
//
// Named *.e2e.js so that the booth's runner (`node --test e2e/`) does not pick it up:
// crates/urne-cli/tests/admin_e2e.rs runs it. Needs URNE_BIN, Debian's chromium
// (/usr/bin/chromium or URNE_CHROMIUM), playwright-core and axe-core (web/ devDependencies).
// With URNE_SCREENSHOTS=DIR it writes the pages' screenshots there (docs/screenshots/admin-*).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { createBallot, deriveCredentialKey, loadElection } from '../src/urne/index.js';
import {
  ceremonyOnPage,
  decryptionOnPage,
  fillDraftForm,
  freezeSetupThroughPages,
  loginThroughPages,
  ready,
  takeStepThroughPages,
  turnoutOnPage,
  uploadCredentialsThroughPages,
  uploadRollThroughPages,
  waitForPhase,
} from './admin-pages.js';
import { noHorizontalScroll, noViolations } from './axe.js';
import { codeLetters, loginCode } from './mail.js';
import { addAdmin, launchBrowser, serve, stop, urne } from './support.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'e2e-admin-2026';
const ADMIN = 'organizer';
const PASSWORD = 'organizer password for the e2e test';
const VOTERS = 5;
const CAST = 3;
const QUESTIONS = [
  {
    text: 'Who should chair the association next year?',
    answers: ['Ada', 'Grace', 'Alan'],
    min: 1,
    max: 1,
    blank: true,
    counting: 'plurality',
  },
  {
    text: 'Which projects should the budget fund? (up to 2)',
    answers: ['Library', 'Garden', 'Choir'],
    min: 0,
    max: 2,
    blank: false,
    counting: 'plurality',
  },
];

let dir;
let server;
let base;
let browser;

const voterId = (i) => `m-${String(i + 1).padStart(3, '0')}`;
const email = (i) => `${voterId(i)}@example.org`;

/**
 * Takes a screenshot into URNE_SCREENSHOTS, if set: of the whole page, of its element `selector`,
 * or (`selector` = 'viewport') of what the window shows.
 */
async function shot(page, name, selector = null) {
  const path = join(SHOTS ?? '', `admin-${name}.png`);
  if (!SHOTS) return;
  if (selector === 'viewport') await page.screenshot({ path });
  else if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path, fullPage: true });
}

/** Voter `i` logs in with a mailed code and casts `vote` with `credential`, as the booth does. */
async function castBallot(i, credential, vote) {
  const api = `${base}/api/v1/elections/${ID}`;
  const post = (path, body, headers = {}) =>
    fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const outbox = join(dir, 'server', 'outbox');
  const seen = codeLetters(outbox, email(i)).length;
  assert.ok((await post('/voter/code', { voter: voterId(i) })).ok, 'a login code is requested');
  const login = await post('/voter/login', { voter: voterId(i), code: await loginCode(outbox, email(i), seen) });
  assert.ok(login.ok, `voter ${voterId(i)} logs in: ${login.status}`);
  const { token } = await login.json();
  const view = await (await fetch(api)).json();
  const election = loadElection(JSON.stringify(view.manifest));
  const made = createBallot(election, deriveCredentialKey(ID, credential), vote);
  const cast = await post('/ballots', made.json, { authorization: `Bearer ${token}` });
  assert.equal(cast.status, 201, `ballot of ${voterId(i)}: ${await cast.clone().text()}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'urne-admin-'));
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

test('the organizer runs an election through the administration pages, from login to published result', async () => {
  const t0 = Date.now();
  const lap = (what) => console.log(`# ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // Paris time, so that the page's local time differs from the UTC it sends.
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Paris', viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    // The browser reports every 4xx answer, which the test provokes (a wrong password, a bad
    // draft, the session ended) and the pages handle; policy violations and script errors count.
    const expected = /the server responded with a status of 4\d\d/.test(m.text()) || m.location().url?.endsWith('/favicon.ico');
    if (m.type() === 'error' && !expected) errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));

  // The login page, in both languages; a wrong password is refused.
  await page.goto(`${base}/admin`);
  await page.waitForSelector('#login-form');
  await ready(page);
  const csp = (await page.goto(`${base}/admin`)).headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/, 'the page is served with the strict policy');
  await page.waitForSelector('#login-form');
  await noViolations(page, 'login (en)');
  await shot(page, 'login');
  await page.click('#lang');
  assert.equal(await page.textContent('#login-submit'), 'Se connecter');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await noViolations(page, 'login (fr)');
  await page.click('#lang');
  await page.fill('#login-name', ADMIN);
  await page.fill('#login-password', 'not the password at all');
  await page.press('#login-password', 'Enter');
  await page.waitForFunction(() => document.getElementById('login-error')?.textContent === 'Wrong name or password.');
  await loginThroughPages(page, base, ADMIN, PASSWORD);
  assert.equal(await page.textContent('#no-elections'), 'No election yet.');
  await noViolations(page, 'list of elections (empty)');

  // The draft: a first submission whose second question allows more answers than it has.
  const now = Math.floor(Date.now() / 60_000) * 60; // whole minutes: the form's inputs show minutes
  const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const draft = {
    id: ID,
    title: 'Annual general meeting (admin e2e)',
    description: 'Created and run through the administration pages.',
    questions: QUESTIONS,
    opens_at: iso(now - 120),
    closes_at: iso(now + 86400),
    trustees: ['Trustee One'],
    threshold: 1,
    voter_auth: 'email_code',
    voted_list: 'admin',
    language: 'en',
    retention_days: 30,
    auto_open: false,
  };
  await page.click('#new-election');
  await page.waitForSelector('#draft-form');
  await ready(page);
  await noViolations(page, 'new draft form');
  await fillDraftForm(page, { ...draft, questions: [QUESTIONS[0], { ...QUESTIONS[1], max: 5 }] });
  await page.click('#draft-submit');
  await page.waitForSelector('#q1-max-error:not([hidden])');
  assert.match(await page.textContent('#q1-max-error'), /between 1 and the number of answers \(3\)/);
  assert.equal(await page.getAttribute('#q1-max', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#q1-max', 'aria-describedby'), /q1-max-error/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q1-max', 'the focus goes to the field at fault');
  await noViolations(page, 'draft form with the server’s error');
  await shot(page, 'draft');
  await page.setViewportSize({ width: 640, height: 900 });
  await noHorizontalScroll(page, 'draft form at 640 px (200 % zoom)');
  await page.setViewportSize({ width: 360, height: 740 });
  await noHorizontalScroll(page, 'draft form at 360 px (a phone)');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.fill('#q1-max', '2');
  await page.click('#draft-submit');
  await page.waitForURL(`${base}/admin/elections/${ID}`);
  await waitForPhase(page, 'draft');
  // The API holds the draft as typed, the times in UTC.
  const stored = await page.evaluate(async (id) => (await fetch(`/api/v1/admin/elections/${id}`)).json(), ID);
  assert.deepEqual(stored.draft.questions, QUESTIONS);
  assert.equal(stored.draft.opens_at, draft.opens_at, 'the local time typed is sent in UTC');
  assert.equal(stored.draft.closes_at, draft.closes_at);
  assert.deepEqual(
    [stored.draft.trustees, stored.draft.threshold, stored.draft.voter_auth, stored.draft.retention_days, stored.draft.auto_open],
    [['Trustee One'], 1, 'email_code', 30, false],
  );
  await noViolations(page, 'election page (draft)');
  // Edited on the election's page: the description changes, the rest stays.
  await page.fill('#f-description', 'Created and run through the administration pages, then edited.');
  await page.click('#draft-submit');
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Draft saved.');
  const edited = await page.evaluate(async (id) => (await fetch(`/api/v1/admin/elections/${id}`)).json(), ID);
  assert.equal(edited.draft.description, 'Created and run through the administration pages, then edited.');
  assert.deepEqual(edited.draft.questions, QUESTIONS);
  lap('logged in and drafted');

  // The roll: first with a bad address on line 3, then right.
  // The last voter shares the address of the one before: a warning, not an error.
  const good = `id,email,name\n${Array.from({ length: VOTERS }, (_, i) => `${voterId(i)},${email(i === VOTERS - 1 ? i - 1 : i)},Voter ${i + 1}\n`).join('')}`;
  const bad = good.replace(`${email(1)}`, 'not-an-address');
  const rejected = await uploadRollThroughPages(page, { name: 'roll.csv', text: bad });
  assert.equal(rejected.valid, false);
  assert.deepEqual(
    rejected.errors.map((e) => [e.line, e.field]),
    [[3, 'email']],
    JSON.stringify(rejected.errors),
  );
  assert.equal(await page.$('#roll-import'), null, 'no import is offered while errors remain');
  const roll = await page.evaluate(async (id) => (await fetch(`/api/v1/admin/elections/${id}/roll?limit=1`)).json(), ID);
  assert.equal(roll.voters_total, 0, 'nothing was imported');
  await noViolations(page, 'roll with errors');
  await shot(page, 'roll-errors', '#roll-section');
  // The same check reads JSON: an element with an unknown key, reported on its own line.
  const json = `[\n  {"id": "a", "email": "a@example.org"},\n  {"id": "b", "email": "b@example.org", "mail": "x"}\n]\n`;
  const jsonChecked = await uploadRollThroughPages(page, { name: 'roll.json', text: json });
  assert.equal(jsonChecked.valid, false);
  assert.deepEqual(
    jsonChecked.errors.map((e) => e.line),
    [3],
    JSON.stringify(jsonChecked.errors),
  );
  const rollFile = join(dir, 'roll.csv');
  writeFileSync(rollFile, good);
  const imported = await uploadRollThroughPages(page, { name: 'roll.csv', text: good });
  assert.deepEqual([imported.valid, imported.imported], [true, true]);
  assert.deepEqual(
    imported.warnings.map((w) => w.line),
    [VOTERS + 1],
    `the shared address is a warning on the last line: ${JSON.stringify(imported.warnings)}`,
  );
  assert.equal(await page.textContent('#roll-count'), `${VOTERS} voters on the roll (total weight ${VOTERS}).`);
  await shot(page, 'roll-imported', '#roll-section');

  // Freezing: Escape cancels; then confirmed, the invitation is shown once.
  await page.click('#setup-button');
  await page.waitForSelector('dialog#confirm[open]');
  await noViolations(page, 'confirmation dialog');
  await shot(page, 'confirm', 'viewport');
  await page.keyboard.press('Escape');
  await page.waitForSelector('dialog#confirm', { state: 'detached' });
  assert.equal(await page.getAttribute('#phase', 'data-phase'), 'draft', 'cancelled: still a draft');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'setup-button', 'the focus returns to the button');
  const links = await freezeSetupThroughPages(page, ID);
  assert.equal(links.length, 1);
  const link = new URL(links[0]);
  assert.equal(link.origin + link.pathname, `${base}/elections/${ID}/trustee`);
  const fragment = new URLSearchParams(link.hash.slice(1));
  assert.equal(fragment.get('index'), '1');
  const invitation = fragment.get('invitation');
  assert.match(invitation, /^[A-Za-z0-9_-]{43}$/);
  await page.click('#copy-1');
  await page.waitForFunction(() => document.getElementById('invitation-1-copied')?.textContent === 'Copied.');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), links[0], 'the copy button copies the link');
  await noViolations(page, 'setup with the invitation');
  lap('roll imported and setup frozen');

  // The trustee registers through the server; the page shows it.
  const trusteeDir = join(dir, 'trustee');
  mkdirSync(trusteeDir);
  const trustee = { URNE_PASSPHRASE: 'passphrase of trustee one', URNE_INVITATION: invitation };
  const online = ['--election', ID, '--index', '1', '--server', base];
  urne(['trustee', 'new-identity', ...online, '--name', 'Trustee One', '--out', trusteeDir, '--kdf-memory-kib', '1024'], trustee);
  await page.waitForSelector('#trustee-1 td[data-done="true"]', { timeout: 30_000 });
  assert.deepEqual(await ceremonyOnPage(page), [{ registered: true }]);

  // The credential authority's list, uploaded; its fingerprint on the page is the authority's.
  const authority = join(dir, 'authority');
  const made = urne(['credentials', 'generate', '--quiet', '--election', ID, '--roll', rollFile, '--out', authority]);
  const printed = /fingerprint\s+([A-Za-z0-9_-]{43})/.exec(made)?.[1];
  assert.ok(printed, `the authority's fingerprint:\n${made}`);
  const creds = await uploadCredentialsThroughPages(page, join(authority, 'public-credentials.json'));
  assert.equal(creds.fingerprint, printed, 'the page computes the authority’s fingerprint');
  assert.match(creds.count, new RegExp(`^${VOTERS} credentials stored`));
  await ready(page);
  await noViolations(page, 'setup with the ceremony and credentials');
  await shot(page, 'setup');

  // Sealed, then opened.
  await takeStepThroughPages(page, ID, 'seal');
  await waitForPhase(page, 'setup', true);
  assert.match(await page.textContent('#fingerprint'), /^[A-Za-z0-9_-]{43}$/);
  // The weaker mode: refused without the checkbox, then the server queues one letter per voter.
  await page.click('#handover summary');
  await page.setInputFiles('#handover-file', join(authority, 'private-credentials.csv'));
  await page.click('#handover-send');
  await page.waitForSelector('#handover-error:not(:empty)');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'handover-error');
  await page.setInputFiles('#handover-file', join(authority, 'private-credentials.csv'));
  await page.check('#handover-agree');
  await page.click('#handover-send');
  await page.waitForSelector('#handover-result');
  assert.equal(await page.textContent('#handover-result'), `${VOTERS} letters queued by the server.`);
  await noViolations(page, 'sealed setup with the credentials handed over');
  // Opened with the keyboard alone: the button, the id typed in the dialog, Enter.
  await page.focus('#open-button');
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog#confirm[open]');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-id', 'the dialog takes the focus');
  await page.keyboard.press('Enter');
  assert.equal(await page.$('dialog#confirm[open]') !== null, true, 'Enter without the id confirms nothing');
  await page.keyboard.type(ID);
  await page.keyboard.press('Enter');
  await waitForPhase(page, 'open');
  assert.deepEqual(await turnoutOnPage(page), { voted: 0, voters: VOTERS, ballots: 0 });
  lap('sealed and opened');

  // Three voters vote; the page's turnout follows.
  const rows = readFileSync(join(authority, 'private-credentials.csv'), 'utf8').trim().split('\n');
  const head = rows.shift().split(',');
  const credentialOf = new Map(rows.map((r) => r.split(',')).map((f) => [f[head.indexOf('voter_id')], f[head.indexOf('credential')]]));
  const votes = [
    [{ selected: [0] }, { selected: [1] }],
    [{ selected: [1] }, { selected: [0, 1] }],
    [{ blank: true }, { selected: [] }],
  ];
  // The first voter votes twice (the last ballot counts): four ballots, three voters.
  await castBallot(0, credentialOf.get(voterId(0)), [{ selected: [2] }, { selected: [2] }]);
  await page.waitForSelector('#turnout-ballots[data-ballots="1"]', { timeout: 30_000 });
  assert.deepEqual(await turnoutOnPage(page), { voted: 1, voters: VOTERS, ballots: 1 }, 'the turnout moves');
  for (let i = 0; i < CAST; i += 1) await castBallot(i, credentialOf.get(voterId(i)), votes[i]);
  await page.waitForSelector(`#turnout-ballots[data-ballots="${CAST + 1}"]`, { timeout: 30_000 });
  await page.waitForSelector(`#turnout-voted[data-voted="${CAST}"]`, { timeout: 30_000 });
  assert.deepEqual(await turnoutOnPage(page), { voted: CAST, voters: VOTERS, ballots: CAST + 1 });
  assert.equal(await page.getAttribute('#turnout-progress', 'value'), String(CAST));
  // The mail: the credentials handed over and the login codes.
  await page.waitForFunction((n) => /^(\d+) sent/.exec(document.getElementById('mail-counts')?.textContent ?? '')?.[1] >= n, VOTERS + CAST + 1);
  await page.click('#voted-details summary');
  assert.deepEqual(await page.$$eval('#voted-list li', (li) => li.map((x) => x.textContent)), [0, 1, 2].map(voterId));
  await noViolations(page, 'open election with turnout (en)');
  await shot(page, 'turnout');
  await page.setViewportSize({ width: 640, height: 900 });
  await noHorizontalScroll(page, 'open election at 640 px (200 % zoom)');
  await page.setViewportSize({ width: 360, height: 740 });
  await noHorizontalScroll(page, 'open election at 360 px (a phone)');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#lang');
  await page.waitForFunction(() => document.getElementById('close-button')?.textContent === 'Clore le vote');
  await noViolations(page, 'open election with turnout (fr)');
  await page.click('#lang');
  lap(`${CAST} ballots cast and followed`);

  // Closed and tallied; the trustee decrypts; published.
  await takeStepThroughPages(page, ID, 'close');
  await waitForPhase(page, 'closed');
  // From the tally on, the page follows the decryption through the public view's `decryption`,
  // not the board's lines: it reads no more than single lines (its bisection of the ballots).
  const boardReads = [];
  const onRequest = (r) => {
    const u = new URL(r.url());
    if (u.pathname.endsWith('/board/lines')) boardReads.push(u.search);
  };
  page.on('request', onRequest);
  await takeStepThroughPages(page, ID, 'tally');
  await waitForPhase(page, 'tallied');
  await page.waitForSelector('#decryption-label');
  assert.deepEqual(await decryptionOnPage(page), { received: 0, needed: 1, result: false });
  assert.equal(await page.isDisabled('#publish-button'), true, 'nothing to publish before the decryption');
  await noViolations(page, 'tallied, waiting for the trustees');
  urne(['trustee', 'decrypt', ...online, '--secret', join(trusteeDir, 'trustee-1.secret'), '--quiet'], trustee);
  await page.waitForSelector('#result-ready', { timeout: 30_000 });
  assert.deepEqual(await decryptionOnPage(page), { received: 1, needed: 1, result: true });
  assert.equal(await page.textContent('#decryption-who'), 'From trustee(s) 1.');
  assert.equal(await page.textContent('#tally-count'), `${CAST} ballots counted of ${CAST + 1} cast.`);
  page.off('request', onRequest);
  assert.deepEqual(
    boardReads.filter((q) => new URLSearchParams(q).get('limit') !== '1'),
    [],
    'the page reads no range of the board’s lines to follow the decryption',
  );
  assert.deepEqual(await turnoutOnPage(page), { voted: CAST, voters: VOTERS, ballots: CAST + 1 }, 'the ballots between open and close');
  await noViolations(page, 'tallied and decrypted');
  await shot(page, 'tally');
  await takeStepThroughPages(page, ID, 'publish');
  await waitForPhase(page, 'published');
  await noViolations(page, 'published');
  await shot(page, 'published');
  lap('tallied, decrypted and published');

  // The public page shows the counts of the three ballots, and reads none of the board's lines.
  const publicReads = [];
  const onPublicRequest = (r) => publicReads.push(new URL(r.url()).pathname);
  page.on('request', onPublicRequest);
  await page.click('#public-link');
  await page.waitForURL(`${base}/elections/${ID}`);
  await ready(page);
  assert.equal(await page.getAttribute('#phase', 'data-phase'), 'published');
  const counts = await page.$$eval('#q0-table tbody tr', (trs) => trs.map((r) => r.children[1].textContent));
  assert.deepEqual(counts, ['1', '1', '0', '1'], 'question 1: Ada, Grace, Alan, blank');
  const counts2 = await page.$$eval('#q1-table tbody tr', (trs) => trs.map((r) => r.children[1].textContent));
  assert.deepEqual(counts2, ['1', '2', '0'], 'question 2: Library, Garden, Choir');
  assert.equal(await page.textContent('#turnout'), `Turnout: ${CAST} ballots counted for ${VOTERS} voters (${((CAST / VOTERS) * 100).toFixed(1)}%).`);
  page.off('request', onPublicRequest);
  assert.ok(publicReads.includes(`/api/v1/elections/${ID}`), 'the results page asks for the election');
  assert.deepEqual(publicReads.filter((p) => p.includes('/board/')), [], 'the results page reads no board line');

  // The list shows the election as published; logging out shows the login form again.
  await page.goto(`${base}/admin`);
  await page.waitForSelector(`#elections tr[data-id="${ID}"] td[data-phase="published"]`);
  await ready(page);
  await noViolations(page, 'list of elections');
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  const status = await page.evaluate(async () => (await fetch('/api/v1/admin/elections')).status);
  assert.equal(status, 401, 'the session is over');
  assert.deepEqual(errors, [], 'no error in the pages');
  await context.close();
  lap('public page checked, logged out');
});
