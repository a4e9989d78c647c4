// A ranked election end to end (issue #8), against a real `urne serve`: the organizer creates,
// through the administration API, an election with a plurality question, a Schulze question (5
// candidates, ranked 1 to 5), an STV question (6 candidates, 2 seats, up to 4 ranked) and a
// majority-judgment question (3 options, 5 grades), with a roll of 8 voters and three trustees
// (any two decrypt); the trustees hold the key ceremony online with `urne trustee`; the credential
// authority generates the credentials (`urne credentials generate`), the organizer uploads the
// public list and seals, the authority mails the credentials into its Maildir outbox (`urne
// credentials mail --outbox-maildir`), the organizer opens the vote. The 8 voters, each in a
// fresh Chromium context, open the link in their letter, log in with the code the server mailed
// them and vote through the booth: some rank with the selects, some with the keyboard (Add, Move
// up) and grade with the arrow keys, some drag with the mouse; one votes in French; axe-core
// checks every step of one voter's booth. The organizer closes and tallies, two trustees decrypt
// the tally (`urne trustee decrypt`), two shuffle (`urne trustee shuffle`), two decrypt the last
// list (`urne trustee mix-decrypt`), while the election's administration page (logged in
// through /admin) shows the shuffles and mix decryptions done out of those needed and keeps
// Publish disabled until the result; the organizer publishes. Then:
// - the decrypted ballots the record publishes (its mixed_ballots lines) are, as a multiset, the
//   rows of the votes cast, and the plurality counts are those of the votes;
// - the API's result of each mixed question equals what this file counts from the votes with its
//   own reference code (Schulze's matrices, winners and ranking; STV's quota and elected; the
//   merit profiles, majority grades and ranking of majority judgment), after docs/counting.md;
// - the results page /elections/{id} shows the Schulze ranking and winner, the STV elected and the
//   majority grades, with no axe-core violation;
// - `urne verify` accepts the exported record.
//
// Run by crates/urne-cli/tests/ranked_e2e.rs. Needs URNE_BIN, Debian's chromium, playwright-core
// and axe-core (web/ devDependencies).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loginThroughPages, waitForPhase } from './admin-pages.js';
import { noViolations } from './axe.js';
import { gradeByClick, gradeByKeyboard, rankByDrag, rankByKeyboard, rankBySelect, ranksOf, stepHeading } from './booth-steps.js';
import { codeLetters, loginCode, votingLink } from './mail.js';
import { BIN, openForADay, sealCredentials, stopwatch, urne, urneEnv, useOrganizer } from './support.js';

const ID = 'ranked-e2e-2026';
const PASSWORD = "organizer's password";
const CONCURRENCY = 4;
const TRUSTEES = ['Alice Martin', 'Bruno Durand', 'Chloé Petit'];
const GRADES = ['Excellent', 'Very good', 'Good', 'Fair', 'Poor'];
const QUESTIONS = [
  { text: 'Approve the accounts?', answers: ['Yes', 'No'], min: 1, max: 1, blank: true, counting: 'plurality' },
  { text: 'Rank the logos', answers: ['Owl', 'Fox', 'Heron', 'Lynx', 'Stork'], min: 1, max: 5, blank: false, counting: 'schulze' },
  { text: 'Elect two delegates', answers: ['Ana', 'Bo', 'Chen', 'Dia', 'Eli', 'Fay'], min: 1, max: 4, blank: false, counting: 'stv', seats: 2 },
  { text: 'Grade the projects', answers: ['Library', 'Garden', 'Bridge'], min: 3, max: 3, blank: false, counting: 'majority_judgment', grades: GRADES },
];
const [PL, SCHULZE, STV, MJ] = [0, 1, 2, 3];

/**
 * The voters' choices: the plurality answer, the Schulze and STV orders (answers from the first
 * choice down), the grades (0 = Excellent); how the voter ranks and grades, and how the visit is
 * checked. STV's first choices give Ana 4 and Bo 3 of the 8 (quota 3): both are elected whatever
 * the transfers; the counts of this file's reference code decide the rest.
 */
const VOTERS = [
  { pl: { selected: [0] }, schulze: [1, 0, 2, 3, 4], stv: [0, 2, 1], mj: [0, 2, 1], how: 'select', axe: true },
  { pl: { selected: [0] }, schulze: [1, 2, 0], stv: [1, 2], mj: [1, 1, 3], how: 'keyboard' },
  { pl: { selected: [1] }, schulze: [0, 1, 3], stv: [0, 3, 4, 5], mj: [0, 3, 2], how: 'drag' },
  { pl: { blank: true }, schulze: [2, 1, 0, 4, 3], stv: [2, 0, 1], mj: [2, 2, 4], how: 'select', locale: 'fr-FR' },
  { pl: { selected: [0] }, schulze: [1, 3], stv: [0, 1], mj: [1, 0, 3], how: 'keyboard' },
  { pl: { selected: [1] }, schulze: [0, 2, 1], stv: [1, 0], mj: [0, 2, 2], how: 'drag' },
  { pl: { selected: [0] }, schulze: [3, 1, 0, 2, 4], stv: [0, 3, 1, 2], mj: [1, 4, 3], how: 'select' },
  { pl: { selected: [0] }, schulze: [1, 0], stv: [1, 5, 0], mj: [0, 1, 4], how: 'select' },
];

/** The booth's step headings in French (web/booth/i18n.js). */
const IN_FRENCH = {
  'Say who you are': 'Identifiez-vous',
  'Enter your code': 'Saisissez votre code',
  'Your choices': 'Vos choix',
  'Check your choices': 'Vérifiez vos choix',
  'Your vote is cast': 'Votre vote est déposé',
};

const voterId = (i) => `r${String(i + 1).padStart(2, '0')}`;
const email = (i) => `${voterId(i)}@example.org`;

const org = useOrganizer('urne-ranked-', PASSWORD);
const admin = org.admin;
const view = () => org.view(ID);

/** Runs `urne trustee CMD` as trustee `index` (1-based) with its passphrase and invitation. */
function trustee(index, invitation, cmd, args) {
  return urne(['trustee', cmd, '--election', ID, '--index', String(index), ...args], {
    URNE_PASSPHRASE: `passphrase of trustee ${index}`,
    URNE_INVITATION: invitation,
  });
}

/**
 * Voter `i` votes through the booth in a fresh browser context: the link from the authority's
 * letter, a login code from the server's letter, the choices the way `VOTERS[i].how` says, the
 * review, the cast. The tracker.
 */
async function vote(i) {
  const { dir, browser } = org;
  const v = VOTERS[i];
  const french = v.locale === 'fr-FR';
  const context = await browser.newContext({ locale: v.locale ?? 'en-GB', viewport: { width: 1280, height: 900 } });
  const who = `voter ${voterId(i)} (${v.how}${french ? ', in French' : ''})`;
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const at = async (english) => {
      const text = french ? IN_FRENCH[english] : english;
      await stepHeading(page, text);
      if (v.axe) await noViolations(page, `booth, “${text}” (${who})`);
    };
    const serverOutbox = join(dir, 'server', 'outbox');
    await page.goto(votingLink(join(dir, 'authority', 'outbox'), email(i)));
    await at('Say who you are');
    const seen = codeLetters(serverOutbox, email(i)).length;
    await page.fill('#voter', voterId(i));
    await page.press('#voter', 'Enter');
    await at('Enter your code');
    await page.fill('#code', await loginCode(serverOutbox, email(i), seen));
    await page.press('#code', 'Enter');
    await at('Your choices');

    if (v.pl.blank) await page.check(`#q${PL}-blank`);
    else await page.check(`#q${PL}-${v.pl.selected[0]}`);
    const rank = { select: rankBySelect, keyboard: rankByKeyboard, drag: rankByDrag }[v.how];
    await rank(page, SCHULZE, v.schulze, QUESTIONS[SCHULZE].answers);
    await rank(page, STV, v.stv, QUESTIONS[STV].answers);
    await (v.how === 'keyboard' ? gradeByKeyboard : gradeByClick)(page, MJ, v.mj);
    if (v.axe) await noViolations(page, `booth, choices made (${who})`);
    await page.click('#to-review');
    await at('Check your choices');
    const names = (qi, order) => order.map((a) => QUESTIONS[qi].answers[a]);
    assert.deepEqual(await page.$$eval(`#review-q${SCHULZE} li`, (l) => l.map((x) => x.textContent)), names(SCHULZE, v.schulze), `${who}: the review`);
    assert.deepEqual(await page.$$eval(`#review-q${STV} li`, (l) => l.map((x) => x.textContent)), names(STV, v.stv), `${who}: the review`);
    await page.click('#cast');
    await at('Your vote is cast');
    const tracker = (await page.textContent('#tracker')).trim();
    assert.match(tracker, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await page.getAttribute('#receipt-check', 'data-ok'), 'true', await page.textContent('#receipt-check'));
    assert.deepEqual(errors, [], `no error in ${who}'s pages`);
    return tracker;
  } finally {
    await context.close();
  }
}

// Reference counts (docs/counting.md), written here independently of urne-core and web/src.

/** Schulze (winning votes, index order breaking ties): pairwise, strongest paths, winners, ranking. */
function schulzeRef(n, ballots) {
  const prefers = (r, i, j) => r[i] > 0 && (r[j] === 0 || r[i] < r[j]);
  const d = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => ballots.filter((r) => i !== j && prefers(r, i, j)).length));
  const p = d.map((row, i) => row.map((x, j) => (x > d[j][i] ? x : 0)));
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) {
      for (let k = 0; k < n; k += 1) {
        if (j !== i && k !== i && k !== j) p[j][k] = Math.max(p[j][k], Math.min(p[j][i], p[i][k]));
      }
    }
  }
  const beats = (i, j) => p[i][j] > p[j][i];
  const all = [...Array(n).keys()];
  const winners = all.filter((i) => !all.some((j) => beats(j, i)));
  const ranking = [];
  const left = new Set(all);
  while (left.size > 0) {
    const next = [...left].find((i) => ![...left].some((j) => beats(j, i)));
    ranking.push(next);
    left.delete(next);
  }
  return { pairwise: d, strongest_paths: p, winners, ranking };
}

/** STV's quota, and the elected when first choices alone fill the seats (as this profile does). */
function stvRef(n, seats, ballots) {
  const quota = Math.floor(ballots.length / (seats + 1)) + 1;
  const first = Array.from({ length: n }, (_, c) => ballots.filter((r) => r[c] === 1).length);
  const elected = [...Array(n).keys()].filter((c) => first[c] >= quota).sort((a, b) => first[b] - first[a] || a - b);
  assert.equal(elected.length, seats, 'the profile fills the seats on first choices');
  return { quota, elected };
}

/** Majority judgment (grades 0 = the worst): merit profiles, majority grades, ranking by majority value. */
function mjRef(n, g, ballots) {
  const sorted = (c) => ballots.map((r) => r[c]).sort((a, b) => a - b);
  const majorityValue = (c) => {
    const xs = sorted(c);
    const out = [];
    while (xs.length > 0) out.push(xs.splice(Math.floor((xs.length + 1) / 2) - 1, 1)[0]);
    return out;
  };
  const values = [...Array(n).keys()].map(majorityValue);
  const cmp = (a, b) => {
    for (let k = 0; k < values[a].length; k += 1) if (values[a][k] !== values[b][k]) return values[b][k] - values[a][k];
    return a - b;
  };
  const ranking = [...Array(n).keys()].sort(cmp);
  return {
    counts: [...Array(n).keys()].map((c) => Array.from({ length: g }, (_, x) => ballots.filter((r) => r[c] === x).length)),
    majority: values.map((v) => v[0]),
    ranking,
    winners: ranking.filter((c) => JSON.stringify(values[c]) === JSON.stringify(values[ranking[0]])),
  };
}

test('a ranked election through the booth with three trustees: shuffled, decrypted, counted, shown and verified', async () => {
  const { dir, base, browser } = org;
  const lap = stopwatch();

  // The organizer's draft, roll and frozen setup (the administration API).
  await admin('POST', '/elections', {
    id: ID,
    draft: {
      title: 'Association meeting (ranked e2e)',
      description: 'Ranked and graded questions, end to end.',
      questions: QUESTIONS,
      ...openForADay(),
      trustees: TRUSTEES,
      threshold: 2,
      voter_auth: 'email_code',
      auto_open: false,
    },
  });
  const roll = `id,email,name\n${VOTERS.map((_, i) => `${voterId(i)},${email(i)},Voter ${i + 1}\n`).join('')}`;
  const rollFile = join(dir, 'roll.csv');
  writeFileSync(rollFile, roll);
  await admin('PUT', `/elections/${ID}/roll`, roll, 'text/csv');
  const { invitations } = await admin('POST', `/elections/${ID}/setup`, {});
  assert.equal(invitations.length, 3);

  // The key ceremony, online, with `urne trustee`.
  const trustees = invitations.map((invitation, i) => {
    const out = join(dir, `trustee-${i + 1}`);
    mkdirSync(out);
    return { index: i + 1, invitation, out, secret: join(out, `trustee-${i + 1}.secret`) };
  });
  const fast = ['--kdf-memory-kib', '1024'];
  for (const t of trustees) trustee(t.index, t.invitation, 'new-identity', ['--name', TRUSTEES[t.index - 1], '--out', t.out, '--server', base, ...fast]);
  for (const step of ['deal', 'complain', 'answer', 'finalize']) {
    for (const t of trustees) trustee(t.index, t.invitation, step, ['--server', base, '--secret', t.secret, ...fast]);
  }
  lap('drafted, setup frozen, key ceremony held by three trustees with `urne trustee`');

  // The credentials: generated by the authority, uploaded and sealed, mailed; the vote opens.
  const authority = await sealCredentials(admin, dir, ID, rollFile);
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
  await admin('POST', `/elections/${ID}/open`, {});
  assert.equal((await view()).phase, 'open');
  lap('credentials generated, sealed, mailed; the vote is open');

  // The voters, CONCURRENCY at a time.
  const trackers = new Array(VOTERS.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < VOTERS.length) {
        const i = next;
        next += 1;
        trackers[i] = await vote(i);
      }
    }),
  );
  for (const t of trackers) assert.equal((await fetch(`${base}/api/v1/elections/${ID}/ballots/${t}`)).status, 200, `ballot ${t} on the board`);
  lap(`${VOTERS.length} voters voted through the booth (select, keyboard, drag; one in French)`);

  // Close and tally; trustees 1 and 2 decrypt the tally, 1 and 2 shuffle, 2 and 3 decrypt the
  // last list; the organizer publishes.
  await admin('POST', `/elections/${ID}/close`, {});
  await admin('POST', `/elections/${ID}/tally`, {});
  const online = (t, cmd) => trustee(t.index, t.invitation, cmd, ['--server', base, '--secret', t.secret, '--quiet']);
  for (const t of [trustees[0], trustees[1]]) online(t, 'decrypt');
  // The election's administration page follows the mix phase; Publish waits for its end.
  const adminContext = await browser.newContext({ locale: 'en-GB' });
  const adminPage = await adminContext.newPage();
  await loginThroughPages(adminPage, base, 'root', PASSWORD);
  await adminPage.goto(`${base}/admin/elections/${ID}`);
  await waitForPhase(adminPage, 'tallied');
  const mixShows = async (shuffles, decryptions) => {
    await adminPage.waitForSelector(`#mix-shuffles-label[data-done="${shuffles}"][data-needed="2"]`, { timeout: 30_000 });
    await adminPage.waitForSelector(`#mix-decryptions-label[data-done="${decryptions}"][data-needed="2"]`, { timeout: 30_000 });
    assert.equal(await adminPage.isDisabled('#publish-button'), decryptions < 2, `Publish after ${shuffles} shuffle(s) and ${decryptions} mix decryption(s)`);
  };
  await mixShows(0, 0);
  assert.match(await adminPage.textContent('#mix-wait'), /urne trustee shuffle.*urne trustee mix-decrypt/);
  await noViolations(adminPage, 'election page during the mix phase');
  for (const [k, t] of [trustees[0], trustees[1]].entries()) {
    online(t, 'shuffle');
    await mixShows(k + 1, 0);
  }
  assert.equal(await adminPage.textContent('#mix-shufflers'), `Shuffled by trustee(s) ${trustees[0].index}, ${trustees[1].index}, in this order.`);
  // The tally's factors, behind the shuffles' lines on the board, are still shown as sent.
  assert.equal(await adminPage.getAttribute('#decryption-label', 'data-received'), '2');
  const tallyDecryptors = [trustees[0].index, trustees[1].index].sort((a, b) => a - b);
  assert.equal(await adminPage.textContent('#decryption-who'), `From trustee(s) ${tallyDecryptors.join(', ')}.`);
  for (const t of [trustees[1], trustees[2]]) online(t, 'mix-decrypt');
  await mixShows(2, 2);
  await adminPage.waitForSelector('#mix-done');
  await adminPage.waitForSelector('#result-ready');
  await adminContext.close();
  await admin('POST', `/elections/${ID}/publish`, {});
  const published = await view();
  assert.equal(published.phase, 'published');
  lap('closed, tallied, decrypted, shuffled twice, mix-decrypted and published');

  // The votes as the mix decrypts them: per voter, the Schulze and STV ranks then the grades
  // (0 = the worst), in manifest order.
  const schulzeRows = VOTERS.map((v) => ranksOf(v.schulze, QUESTIONS[SCHULZE].answers.length));
  const stvRows = VOTERS.map((v) => ranksOf(v.stv, QUESTIONS[STV].answers.length));
  const mjRows = VOTERS.map((v) => v.mj.map((g) => GRADES.length - 1 - g));
  const rows = VOTERS.map((_, i) => [...schulzeRows[i], ...stvRows[i], ...mjRows[i]]);

  // The record: its decrypted ballots are the votes cast (as a multiset), and it verifies.
  const downloaded = await fetch(`${base}/api/v1/elections/${ID}/record`);
  assert.equal(downloaded.status, 200);
  const file = join(dir, `${ID}.record.jsonl`);
  writeFileSync(file, Buffer.from(await downloaded.arrayBuffer()));
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.type === 'ballot').length, VOTERS.length, 'every cast ballot is in the record');
  assert.equal(lines.filter((l) => l.type === 'shuffle').length, 2, 'two shuffles in the record');
  const decrypted = lines.filter((l) => l.type === 'mixed_ballots').flatMap((l) => l.ballots);
  const key = (r) => JSON.stringify(r);
  assert.deepEqual(decrypted.map(key).sort(), rows.map(key).sort(), 'the decrypted ballots are the votes cast');
  const verified = spawnSync(BIN, ['verify', '--quiet', file], { encoding: 'utf8', env: urneEnv() });
  assert.equal(verified.status, 0, `urne verify:\n${verified.stdout}\n${verified.stderr}`);
  assert.match(`${verified.stdout}${verified.stderr}`, /VALID/);

  // The API's result: the plurality counts and each mixed question as counted here.
  const result = published.result.questions;
  const yes = VOTERS.filter((v) => v.pl.selected?.[0] === 0).length;
  const no = VOTERS.filter((v) => v.pl.selected?.[0] === 1).length;
  assert.deepEqual(result[PL], { counts: [yes, no], blank: VOTERS.length - yes - no }, 'the plurality counts');
  const schulze = schulzeRef(QUESTIONS[SCHULZE].answers.length, schulzeRows);
  const s = result[SCHULZE].mixed;
  assert.equal(s.method, 'schulze');
  assert.deepEqual([s.ballots, s.invalid], [VOTERS.length, 0]);
  assert.deepEqual({ pairwise: s.pairwise, strongest_paths: s.strongest_paths, winners: s.winners, ranking: s.ranking }, schulze, 'Schulze');
  const stv = stvRef(QUESTIONS[STV].answers.length, QUESTIONS[STV].seats, stvRows);
  const t = result[STV].mixed;
  assert.equal(t.method, 'stv');
  assert.deepEqual({ quota: t.quota, elected: t.elected }, stv, 'STV');
  const mj = mjRef(QUESTIONS[MJ].answers.length, GRADES.length, mjRows);
  const m = result[MJ].mixed;
  assert.equal(m.method, 'majority_judgment');
  assert.deepEqual(
    { counts: m.profiles.map((p) => p.counts), majority: m.profiles.map((p) => p.majority_grade), ranking: m.ranking, winners: m.winners },
    mj,
    'majority judgment',
  );
  const named = (qi, list) => list.map((c) => QUESTIONS[qi].answers[c]).join(', ');
  console.log(`Schulze ranking ${named(SCHULZE, schulze.ranking)}; STV elected ${named(STV, stv.elected)} (quota ${stv.quota}); majority judgment ${mj.ranking.map((c) => `${QUESTIONS[MJ].answers[c]} (${GRADES[GRADES.length - 1 - mj.majority[c]]})`).join(', ')}`);
  lap('the record’s ballots are the votes, the result is their count, and the record verifies');

  // The results page shows the same, and passes axe-core.
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/elections/${ID}`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
  const answers = (qi) => QUESTIONS[qi].answers;
  const winners = await page.textContent(`#q${SCHULZE}-winners`);
  for (const w of schulze.winners) assert.ok(winners.includes(answers(SCHULZE)[w]), `Schulze winner ${answers(SCHULZE)[w]} in “${winners}”`);
  assert.deepEqual(await page.$$eval(`#q${SCHULZE}-ranking li`, (li) => li.map((x) => Number(x.dataset.candidate))), schulze.ranking, 'the Schulze ranking shown');
  assert.deepEqual(await page.$$eval(`#q${STV}-elected li`, (li) => li.map((x) => Number(x.dataset.candidate))), stv.elected, 'the STV elected shown');
  assert.equal(await page.textContent(`#q${STV}-quota`), String(stv.quota));
  const grades = await page.$$eval(`#q${MJ}-grades tbody tr`, (tr) => tr.map((r) => [Number(r.dataset.candidate), r.querySelector('.majority-grade').textContent]));
  assert.deepEqual(
    grades.map(([c]) => c),
    mj.ranking,
    'the majority-judgment ranking shown',
  );
  for (const [c, text] of grades) assert.ok(text.startsWith(GRADES[GRADES.length - 1 - mj.majority[c]]), `${answers(MJ)[c]}'s majority grade in “${text}”`);
  const counts = await page.$$eval(`#q${PL}-table tbody td[data-count]`, (c) => c.map((x) => Number(x.dataset.count)));
  assert.deepEqual(counts, [...result[PL].counts, result[PL].blank]);
  await noViolations(page, 'results page of the ranked election');
  assert.deepEqual(errors, [], 'no error in the results page');
  await context.close();
  lap('results page checked');
});
