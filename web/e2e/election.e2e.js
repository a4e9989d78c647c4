// A whole election end to end in headless Chromium (issue #7), against a real `urne serve`,
// every role through its pages: the organizer logs in to the administration pages, creates the
// election through the draft form (two questions, three trustees of whom any two decrypt),
// uploads a roll of 20 voters and freezes the setup; the three trustees, each in its own
// browser opened from the invitation link the admin page showed, hold the key-generation
// ceremony through the trustee page (their sealed files downloaded and given back); the
// credential authority runs `urne credentials generate`, the organizer uploads the public list
// and seals through the page, the authority mails the credentials into its Maildir outbox
// (`urne credentials mail --outbox-maildir`), and the organizer opens the vote. Then 20 voters,
// each in a fresh browser context, open the link in their letter, log in with the code the
// server mailed them and vote through the booth: one audits a first encryption before casting
// a new one, another votes twice (the second ballot counts). The organizer follows the turnout,
// closes and tallies through the page, two trustees decrypt through the trustee page, the
// organizer publishes; the result (API and /elections/{id}) must be the counts of each voter's
// last choices, and `urne verify` must accept the exported record. Along the way axe-core
// (e2e/axe.js, under the pages' own Content-Security-Policy) checks every step of the booth for
// three voters (one in French, one at 200 % zoom), the /audit page, the results page in both
// languages and the board page; at 200 % zoom and on a 360-pixel phone no step scrolls sideways.
//
// Named *.e2e.js so that the booth's runner (`node --test e2e/`) does not pick it up:
// crates/urne-cli/tests/election_e2e.rs runs it. Needs URNE_BIN, Debian's chromium
// (/usr/bin/chromium or URNE_CHROMIUM) and playwright-core (web/ devDependencies).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { noHorizontalScroll, noViolations } from './axe.js';
import { codeLetters, loginCode, votingLink } from './mail.js';
import {
  ceremonyOnPage,
  createElectionThroughPages,
  decryptionOnPage,
  freezeSetupThroughPages,
  loginThroughPages,
  takeStepThroughPages,
  turnoutOnPage,
  uploadCredentialsThroughPages,
  uploadRollThroughPages,
  waitForPhase,
} from './admin-pages.js';
import { BIN, addAdmin, launchBrowser, serve, stop, urne, urneEnv } from './support.js';
import { TrusteeBrowser, holdCeremonyThroughPages } from './trustee-pages.js';

const ID = 'e2e-election-2026';
const VOTERS = 20;
const CONCURRENCY = 4;
const AUDITOR = 0; // audits a first encryption, then casts
const REVOTER = 1; // votes twice; the second ballot counts
const PASSWORD = "organizer's password";
const TRUSTEES = [
  { name: 'Alice Martin', passphrase: 'passphrase of the first trustee' },
  { name: 'Bruno Durand', passphrase: 'passphrase of the second trustee' },
  { name: 'Chloé Petit', passphrase: 'passphrase of the third trustee' },
];
const QUESTIONS = [
  {
    text: 'Who should chair the association next year?',
    answers: ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger'],
    min: 1,
    max: 1,
    blank: true,
    counting: 'plurality',
  },
  {
    text: 'Which projects should the budget fund? (up to 2)',
    answers: ['Library', 'Garden', 'Bicycle workshop', 'Choir'],
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

async function view() {
  return (await fetch(`${base}/api/v1/elections/${ID}`)).json();
}

/** Uniform integer in [0, n). */
const pick = (n) => Math.floor(Math.random() * n);

/** A random valid choice: question 1 one of five or blank, question 2 zero to two of four. */
function randomVote() {
  const q0 = pick(6);
  const q1 = [0, 1, 2, 3].filter(() => Math.random() < 0.4).slice(0, 2);
  return [q0 === 5 ? { blank: true } : { selected: [q0] }, { selected: q1 }];
}

const voterId = (i) => `v${String(i + 1).padStart(2, '0')}`;
const email = (i) => `${voterId(i)}@example.org`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'urne-election-'));
  const data = join(dir, 'server');
  addAdmin(data, 'root', PASSWORD);
  ({ child: server, base } = await serve(data));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stop(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The server's and the authority's Maildir outboxes. */
const serverOutbox = () => join(dir, 'server', 'outbox');
const authorityOutbox = () => join(dir, 'authority', 'outbox');

/** Waits for the booth's step heading to read `text`. */
async function step(page, text) {
  await page.waitForFunction((t) => document.getElementById('heading')?.textContent === t, text, { timeout: 60_000 });
}

/** Ticks the booth's inputs for `vote`. */
async function choose(page, vote) {
  for (const [qi, c] of vote.entries()) {
    if (c.blank) await page.check(`#q${qi}-blank`);
    else for (const a of c.selected) await page.check(`#q${qi}-${a}`);
  }
}

/**
 * How some voters' visits are checked: every step of the booth (and, for the auditor, the
 * independent /audit page) goes through axe-core; at 200 % zoom (a 1280-pixel window at twice
 * the size, 640 CSS pixels) and on a 360-pixel phone, no step needs horizontal scrolling; one
 * voter's browser prefers French, and the booth is checked in French.
 */
const VISITS = {
  [AUDITOR]: { axe: true },
  2: { axe: true, zoom: true, viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 },
  3: { zoom: true, viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  4: { axe: true, locale: 'fr-FR' },
};

/** The booth's step headings in French (web/booth/i18n.js), for a visit in French. */
const IN_FRENCH = {
  'Say who you are': 'Identifiez-vous',
  'Enter your code': 'Saisissez votre code',
  'Your choices': 'Vos choix',
  'Check your choices': 'Vérifiez vos choix',
  'Your encryption, opened': 'Votre chiffrement, ouvert',
  'Your vote is cast': 'Votre vote est déposé',
};

/**
 * Voter `i` votes `vote` through the booth in a fresh browser context: the link from the
 * authority's letter, a login code from the server's letter, the choices, the review, then
 * (with `audit`) a first encryption opened and checked on the /audit page before a new one is
 * cast. The tracker.
 */
async function vote(i, choices, audit = false) {
  const visit = VISITS[i] ?? {};
  const { axe, zoom, ...shape } = visit;
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 }, ...shape });
  const who = `voter ${voterId(i)}`;
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // What the booth loads: the voter's code only, never the trustees' (argon2id, ChaCha20).
    const loaded = [];
    context.on('request', (r) => loaded.push(new URL(r.url()).pathname));
    /** The step's heading is `text`, and the visit's checks pass on it. */
    const at = async (english) => {
      const text = shape.locale === 'fr-FR' ? IN_FRENCH[english] : english;
      await step(page, text);
      if (axe) await noViolations(page, `booth, “${text}” (${who})`);
      if (zoom) await noHorizontalScroll(page, `booth, “${text}” (${who}, ${shape.viewport.width} px)`);
    };
    await page.goto(votingLink(authorityOutbox(), email(i)));
    await at('Say who you are');
    assert.equal(new URL(page.url()).hash, '', 'the credential leaves the address bar');
    const seen = codeLetters(serverOutbox(), email(i)).length;
    await page.fill('#voter', voterId(i));
    await page.press('#voter', 'Enter');
    await at('Enter your code');
    await page.fill('#code', await loginCode(serverOutbox(), email(i), seen));
    await page.press('#code', 'Enter');
    await at('Your choices');
    await choose(page, choices);
    if (axe) await noViolations(page, `booth, choices made (${who})`);
    await page.click('#to-review');
    await at('Check your choices');
    let audited;
    if (audit) {
      await page.click('#audit');
      await at('Your encryption, opened');
      const openedText = await page.inputValue('#opened');
      const opened = JSON.parse(openedText);
      assert.deepEqual(opened.vote, choices, 'the opened ballot holds the voter’s choices');
      audited = opened.tracker;
      // The independent check, in its own page as the booth's link opens it.
      const checker = await context.newPage();
      checker.on('pageerror', (e) => errors.push(`audit page: ${e}`));
      await checker.goto(new URL(await page.getAttribute('#audit-link', 'href'), page.url()).href);
      await checker.waitForSelector('#opened');
      await checker.fill('#opened', openedText);
      await checker.click('#check');
      await checker.waitForSelector('#verdict[data-ok]', { timeout: 60_000 });
      assert.equal(await checker.getAttribute('#verdict', 'data-ok'), 'true', await checker.textContent('#verdict'));
      if (axe) await noViolations(checker, `/audit, opened ballot checked (${who})`);
      await checker.close();
      await page.click('#recast');
    } else {
      await page.click('#cast');
    }
    await at('Your vote is cast');
    const tracker = (await page.textContent('#tracker')).trim();
    assert.match(tracker, /^[A-Za-z0-9_-]{43}$/);
    if (audited) assert.notEqual(tracker, audited, 'the cast ballot is a new encryption');
    assert.equal(await page.getAttribute('#receipt-check', 'data-ok'), 'true', await page.textContent('#receipt-check'));
    assert.deepEqual(errors, [], `no error in ${who}'s pages`);
    const trusteeCode = loaded.filter((p) => /argon2|@noble\/ciphers|trustee|vault\.js|dkg\.js/.test(p));
    assert.deepEqual(trusteeCode, [], `${who}'s booth loads none of the trustees' code`);
    assert.ok(loaded.includes('/static/src/urne/ballot.js'), `${who}'s booth loads the protocol modules`);
    return { tracker, audited };
  } finally {
    await context.close();
  }
}

test('an organizer and three trustees through the pages, 20 voters through the booth: the results page shows the counts and the record verifies', async () => {
  const t0 = Date.now();
  const lap = (what) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // The organizer, through the administration pages: the draft (three trustees, any two of
  // whom decrypt), the roll, the setup frozen; each trustee's invitation link is shown once.
  const organizer = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  const admin = await organizer.newPage();
  const adminErrors = [];
  admin.on('pageerror', (e) => adminErrors.push(String(e)));
  await loginThroughPages(admin, base, 'root', PASSWORD);
  const now = Math.floor(Date.now() / 1000);
  const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await createElectionThroughPages(admin, base, {
    id: ID,
    title: 'Annual general meeting (e2e)',
    description: 'Twenty voters through the booth, end to end.',
    questions: QUESTIONS,
    opens_at: iso(now - 60),
    closes_at: iso(now + 86400),
    trustees: TRUSTEES.map((t) => t.name),
    threshold: 2,
    voter_auth: 'email_code',
    language: 'en',
  });
  const roll = `id,email,name\n${Array.from({ length: VOTERS }, (_, i) => `${voterId(i)},${email(i)},Voter ${i + 1}\n`).join('')}`;
  const rollFile = join(dir, 'roll.csv');
  writeFileSync(rollFile, roll);
  const imported = await uploadRollThroughPages(admin, { name: 'roll.csv', text: roll });
  assert.deepEqual([imported.valid, imported.imported, imported.errors], [true, true, []], JSON.stringify(imported));
  const links = await freezeSetupThroughPages(admin, ID);
  assert.equal(links.length, TRUSTEES.length, 'one invitation link per trustee');
  lap('drafted, roll imported and setup frozen through the admin pages');

  // The three trustees, each in its own browser, hold the key-generation ceremony through the
  // trustee page opened from its invitation link.
  const trustees = links.map((link, i) => {
    const fragment = new URLSearchParams(new URL(link).hash.slice(1));
    assert.equal(fragment.get('index'), String(i + 1));
    return new TrusteeBrowser({
      browser,
      base,
      id: ID,
      dir,
      index: i + 1,
      invitation: fragment.get('invitation'),
      name: TRUSTEES[i].name,
      passphrase: TRUSTEES[i].passphrase,
    });
  });
  const keys = await holdCeremonyThroughPages(trustees);
  await admin.waitForFunction(() => document.querySelectorAll('#ceremony-table td[data-done="false"]').length === 0, null, { timeout: 30_000 });
  assert.deepEqual(
    await ceremonyOnPage(admin),
    TRUSTEES.map(() => ({ registered: true, dealt: true, complained: true, answered: true })),
    'the admin page follows the ceremony',
  );
  lap('key ceremony held by three trustees through the trustee page');

  // The credential authority's list, uploaded and sealed through the page; then the authority
  // mails the credentials and the organizer opens the vote.
  const authority = join(dir, 'authority');
  urne(['credentials', 'generate', '--quiet', '--election', ID, '--roll', rollFile, '--out', authority]);
  await uploadCredentialsThroughPages(admin, join(authority, 'public-credentials.json'));
  await takeStepThroughPages(admin, ID, 'seal');
  await waitForPhase(admin, 'setup', true);
  assert.equal((await view()).manifest.public_key, keys[0].election, 'the sealed manifest has the ceremony’s key');
  urne([
    'credentials',
    'mail',
    '--private',
    join(authority, 'private-credentials.csv'),
    '--election-url',
    `${base}/api/v1/elections/${ID}`,
    '--outbox-maildir',
    join(authority, 'outbox'),
    '--from',
    'Credential authority <credentials@example.org>',
    '--per-second',
    '1000000',
    '--quiet',
  ]);
  await takeStepThroughPages(admin, ID, 'open');
  await waitForPhase(admin, 'open');
  assert.equal((await view()).phase, 'open');
  lap('sealed and opened through the admin pages');

  // The voters, CONCURRENCY at a time; the revoter votes again once everyone has voted.
  const chosen = Array.from({ length: VOTERS }, randomVote);
  const trackers = new Array(VOTERS);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < VOTERS) {
        const i = next;
        next += 1;
        trackers[i] = await vote(i, chosen[i], i === AUDITOR);
      }
    }),
  );
  const first = trackers[REVOTER].tracker;
  let second = randomVote();
  while (JSON.stringify(second) === JSON.stringify(chosen[REVOTER])) second = randomVote();
  chosen[REVOTER] = second;
  trackers[REVOTER] = await vote(REVOTER, second);
  lap(`${VOTERS} voters voted (one audited, one voted twice)`);

  // Every cast ballot is on the board; the audited encryption never was.
  for (const t of [...trackers.map((x) => x.tracker), first]) {
    assert.equal((await fetch(`${base}/api/v1/elections/${ID}/ballots/${t}`)).status, 200, `ballot ${t} on the board`);
  }
  assert.equal((await fetch(`${base}/api/v1/elections/${ID}/ballots/${trackers[AUDITOR].audited}`)).status, 404);

  // The organizer closes and tallies through the page; trustees 1 and 3 decrypt through the
  // trustee page (any two suffice); the page shows the result ready and the organizer publishes.
  // The admin page's live turnout (it asks the server every few seconds): every voter, and
  // one ballot more for the revote.
  await admin.waitForFunction((n) => Number(document.getElementById('turnout-ballots')?.dataset.ballots) === n, VOTERS + 1, { timeout: 30_000 });
  assert.deepEqual(await turnoutOnPage(admin), { voted: VOTERS, voters: VOTERS, ballots: VOTERS + 1 }, 'the turnout on the admin page');
  await takeStepThroughPages(admin, ID, 'close');
  await waitForPhase(admin, 'closed');
  await takeStepThroughPages(admin, ID, 'tally');
  await waitForPhase(admin, 'tallied');
  for (const t of [trustees[0], trustees[2]]) await t.decrypt();
  await admin.waitForSelector('#result-ready', { timeout: 30_000 });
  assert.deepEqual(await decryptionOnPage(admin), { received: 2, needed: 2, result: true });
  await takeStepThroughPages(admin, ID, 'publish');
  await waitForPhase(admin, 'published');
  for (const t of trustees) {
    assert.deepEqual(t.errors, [], `no error in trustee ${t.index}'s pages`);
    await t.context.close();
  }
  assert.deepEqual(adminErrors, [], 'no error in the admin pages');
  await organizer.close();
  lap('closed, tallied, decrypted by two trustees and published through the pages');

  // The expected result: each voter's last choices, counted.
  const expected = QUESTIONS.map((q) => ({ counts: q.answers.map(() => 0), ...(q.blank ? { blank: 0 } : {}) }));
  for (const v of chosen) {
    for (const [qi, c] of v.entries()) {
      if (c.blank) expected[qi].blank += 1;
      else for (const a of c.selected) expected[qi].counts[a] += 1;
    }
  }
  const published = await view();
  assert.equal(published.phase, 'published');
  assert.deepEqual(published.result, { questions: expected }, 'the API gives the counts of the last ballots');

  // The results page shows those numbers.
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/elections/${ID}`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
  assert.equal(await page.getAttribute('#phase', 'data-phase'), 'published');
  const share = (n) => `${((n / VOTERS) * 100).toFixed(1)}%`;
  assert.equal(await page.textContent('#turnout'), `Turnout: ${VOTERS} ballots counted for ${VOTERS} voters (100.0%).`);
  for (const [qi, q] of expected.entries()) {
    const rows = QUESTIONS[qi].answers.map((a, i) => [a, String(q.counts[i]), share(q.counts[i])]);
    if (q.blank !== undefined) rows.push(['Blank votes', String(q.blank), share(q.blank)]);
    const shown = await page.$$eval(`#q${qi}-table tbody tr`, (trs) => trs.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(shown, rows, `question ${qi + 1}'s table on the results page`);
    const bars = await page.$$eval(`#q${qi}-chart rect`, (rects) => rects.map((r) => r.getAttribute('data-count')));
    assert.deepEqual(bars, rows.map((r) => r[1]), `question ${qi + 1}'s chart`);
  }
  await noViolations(page, 'results page');
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  await noViolations(page, 'results page, in French');
  await page.setViewportSize({ width: 640, height: 450 });
  await noHorizontalScroll(page, 'results page at 640 px');
  await page.setViewportSize({ width: 1280, height: 900 });

  // A voter looks their tracker up on the board, from the address their letter gives.
  const board = await context.newPage();
  board.on('pageerror', (e) => errors.push(`board page: ${e}`));
  await board.goto(`${base}/elections/${ID}/ballots/${trackers[REVOTER].tracker}`);
  await board.waitForSelector('#proof-check', { timeout: 30_000 });
  assert.equal(await board.getAttribute('#proof-check', 'data-ok'), 'true', await board.textContent('#proof-check'));
  await noViolations(board, 'board page, a tracker found');
  await board.close();
  assert.deepEqual(errors, [], 'no error in the results and board pages');

  // The record the page links to passes the universal verifier.
  const href = await page.getAttribute('#record-link', 'href');
  await context.close();
  const downloaded = await fetch(new URL(href, base));
  assert.equal(downloaded.status, 200);
  const file = join(dir, `${ID}.record.jsonl`);
  writeFileSync(file, Buffer.from(await downloaded.arrayBuffer()));
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.type === 'ballot').length, VOTERS + 1, 'every cast ballot is in the record, the revote too');
  const verified = spawnSync(BIN, ['verify', '--quiet', file], { encoding: 'utf8', env: urneEnv() });
  assert.equal(verified.status, 0, `urne verify:\n${verified.stdout}\n${verified.stderr}`);
  assert.match(`${verified.stdout}${verified.stderr}`, /VALID/);
  lap('results page checked and record verified');
});
