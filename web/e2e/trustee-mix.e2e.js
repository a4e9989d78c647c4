// The mix phase on the trustees' page end to end in headless Chromium (issue #8), against a real
// `urne serve`, page and CLI trustees together: the organizer drafts an election with a plurality,
// a Schulze and a majority-judgment question and three trustees (any two decrypt), who hold the
// key ceremony with `urne trustee` (their sealed files, in the CLI's format, are what the page
// opens later); six ballots made with web/'s protocol code are cast; after the tally, trustee 1
// decrypts the tally through the page and trustee 2 with the CLI, upon which trustee 1's page
// moves to the mix by itself. Trustee 1 shuffles through the page (its progress bar and its
// words are followed: the list read, shuffled and proved in the worker, the rows and bytes sent);
// trustee 3's page starts the next shuffle, but trustee 2 shuffles with the CLI in the meantime
// (the test holds the page's first upload until then): the server refuses the page's upload at
// the taken position and the page shows the refusal next to the step, then moves on to the
// decryption, which it refuses for trustee 3 (no shuffle of its own on the board: the page sends
// it to `urne trustee mix-decrypt` before asking for any file). Trustee 1 comes back in a fresh
// context and decrypts the shuffled list through the page with its share file, once its page has
// checked that the list descends from its own shuffle (web/trustee/mix-chain.js), trustee 2 with
// the CLI; the result is published. The record's
// decrypted ballots must be the votes cast, the API's counts theirs, and `urne verify` must
// accept the record.
//
// axe-core finds no WCAG 2.1 A/AA violation on each of the mix's steps (trustee 1's in English
// and one in French; trustee 3's at 360 pixels wide, its refusal to decrypt included, where the
// page must not scroll sideways),
// and the pages log no error but the refusal the test provokes.
//
// crates/urne-cli/tests/trustee_mix_e2e.rs runs it. Needs URNE_BIN, Debian's chromium,
// playwright-core and axe-core. With URNE_SCREENSHOTS=DIR it writes trustee-mix-shuffle.png and
// trustee-mix-decrypt.png there.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { noHorizontalScroll, noViolations } from './axe.js';
import { BIN, castBallots, openForADay, privateCredentials, putRoll, sealCredentials, stopwatch, urne, urneEnv, useOrganizer } from './support.js';
import { TrusteeBrowser } from './trustee-pages.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'e2e-trustee-mix-2026';
const NAMES = ['Alice Martin', 'Bruno Durand', 'Chloé Petit'];
const GRADES = ['Good', 'Fair', 'Poor'];
const QUESTIONS = [
  { text: 'Approve the accounts?', answers: ['Yes', 'No'], min: 1, max: 1, blank: true, counting: 'plurality' },
  { text: 'Rank the venues', answers: ['Hall', 'Barn', 'Park', 'Pier'], min: 1, max: 4, blank: false, counting: 'schulze' },
  { text: 'Grade the menus', answers: ['Soup', 'Stew', 'Salad'], min: 3, max: 3, blank: false, counting: 'majority_judgment', grades: GRADES },
];
/** The votes: plurality, Schulze ranks (0 = not ranked), grades (0 = Good). */
const VOTES = [
  [{ selected: [0] }, { ranks: [1, 2, 3, 4] }, { grades: [0, 1, 2] }],
  [{ selected: [0] }, { ranks: [2, 1, 0, 0] }, { grades: [1, 1, 0] }],
  [{ selected: [1] }, { ranks: [0, 0, 1, 2] }, { grades: [2, 0, 0] }],
  [{ blank: true }, { ranks: [3, 1, 2, 0] }, { grades: [0, 0, 1] }],
  [{ selected: [0] }, { ranks: [1, 0, 0, 0] }, { grades: [1, 2, 2] }],
  [{ selected: [1] }, { ranks: [4, 3, 2, 1] }, { grades: [0, 2, 1] }],
];

const org = useOrganizer('urne-trustee-mix-', "organizer's password");
const admin = org.admin;
const view = () => org.view(ID);

/** Records, in the page, every value of the mix's progress bar and every text of its words. */
async function followProgress(page) {
  await page.evaluate(() => {
    const seen = { bar: [], words: [] };
    window.urneSeen = seen;
    new MutationObserver(() => {
      const bar = document.getElementById('mix-bar');
      const words = document.getElementById('mix-progress-text')?.textContent;
      if (bar && seen.bar.at(-1) !== bar.value) seen.bar.push(bar.value);
      if (words && seen.words.at(-1) !== words) seen.words.push(words);
    }).observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
  });
}

test('trustees shuffle and decrypt the mix through the page and the CLI; the result is the votes and the record verifies', async () => {
  const { dir, base, browser } = org;
  const lap = stopwatch();

  await admin('POST', '/elections', {
    id: ID,
    draft: {
      title: 'The mix through the trustees’ page (e2e)',
      description: 'Ranked and graded questions; three trustees, any two decrypt.',
      questions: QUESTIONS,
      ...openForADay(),
      trustees: NAMES,
      threshold: 2,
      voter_auth: 'none',
      language: 'en',
      auto_open: false,
    },
  });
  const rollFile = await putRoll(admin, dir, ID, VOTES.length);
  const { invitations } = await admin('POST', `/elections/${ID}/setup`, {});

  // The key ceremony with the CLI: the files the page opens later are the CLI's.
  const cli = invitations.map((invitation, i) => {
    const out = join(dir, `trustee-${i + 1}`);
    mkdirSync(out);
    return { index: i + 1, invitation, out, secret: join(out, `trustee-${i + 1}.secret`), share: join(out, `trustee-${i + 1}.share.secret`) };
  });
  const passphrase = (index) => `passphrase of trustee ${index}`;
  const run = (t, cmd, args) =>
    urne(['trustee', cmd, '--election', ID, '--index', String(t.index), ...args], { URNE_PASSPHRASE: passphrase(t.index), URNE_INVITATION: t.invitation });
  const fast = ['--kdf-memory-kib', '1024'];
  for (const t of cli) run(t, 'new-identity', ['--name', NAMES[t.index - 1], '--out', t.out, '--server', base, ...fast]);
  for (const step of ['deal', 'complain', 'answer', 'finalize']) {
    for (const t of cli) run(t, step, ['--server', base, '--secret', t.secret, ...fast]);
  }
  const online = (t, cmd) => run(t, cmd, ['--server', base, '--secret', t.secret, '--quiet']);
  lap('key ceremony held with `urne trustee`');

  // Credentials, seal, open; six ballots; close and tally.
  const authority = await sealCredentials(admin, dir, ID, rollFile);
  await admin('POST', `/elections/${ID}/open`, {});
  const sealed = await view();
  await castBallots(base, ID, sealed.manifest, privateCredentials(authority), VOTES);
  await admin('POST', `/elections/${ID}/close`, {});
  await admin('POST', `/elections/${ID}/tally`, {});
  lap('sealed, six ballots cast, closed and tallied');

  const page = (i, viewport) => {
    const t = new TrusteeBrowser({
      browser,
      base,
      id: ID,
      dir,
      index: i + 1,
      invitation: invitations[i],
      name: NAMES[i],
      passphrase: passphrase(i + 1),
      viewport,
      axe: true,
    });
    t.files = { identity: cli[i].secret, share: cli[i].share };
    return t;
  };
  const t1 = page(0, { width: 1280, height: 900 });
  const t3 = page(2, { width: 360, height: 740 });

  // Trustee 1 decrypts the tally through the page with the CLI's share file, trustee 2 with the
  // CLI: trustee 1's page then moves to the mix by itself, where it is its turn.
  await t1.decrypt();
  assert.equal(await t1.page.getAttribute('#decrypted', 'data-result'), 'false');
  online(cli[1], 'decrypt');
  await t1.step('mix-shuffle');
  assert.equal(await t1.page.getAttribute('#mix-shuffles', 'data-done'), '0');
  assert.equal(await t1.page.getAttribute('#mix-shuffles', 'data-needed'), '2');
  assert.match(await t1.page.textContent('#mix-turn'), /your turn: your shuffle will be number 1 of the 2 needed/);
  // The step in French, then back in English.
  await t1.page.click('#lang');
  assert.equal(await t1.page.textContent('#heading'), 'Mélanger les bulletins');
  await noViolations(t1.page, 'the shuffle step in French');
  await t1.page.click('#lang');
  lap('tally decrypted by trustee 1 (page) and 2 (CLI); the page shows the mix');

  // Trustee 1 shuffles through the page with its identity file.
  await t1.unlock('identity');
  await t1.shot(SHOTS, 'trustee-mix-shuffle.png');
  await followProgress(t1.page);
  await t1.page.click('#act');
  await t1.step('mix-wait');
  assert.match(await t1.page.textContent('#mix-shuffled'), /number 1/);
  const seen = await t1.page.evaluate(() => window.urneSeen);
  assert.ok(
    seen.words.some((w) => /^Shuffling and proving: \d+ %\.$/.test(w)),
    `the shuffle's progress is shown: ${seen.words.join(' | ')}`,
  );
  assert.ok(
    seen.words.some((w) => w.startsWith(`Sending: ${VOTES.length} of ${VOTES.length} rows (`)),
    `the rows and bytes sent are shown: ${seen.words.join(' | ')}`,
  );
  assert.ok(seen.bar.some((v) => v > 0 && v < 1000) || seen.bar.includes(1000), `the bar moves: ${seen.bar.join(', ')}`);
  const mix1 = await (await fetch(`${base}/api/v1/elections/${ID}/mix?limit=0`)).json();
  assert.deepEqual(mix1.shufflers, [1]);
  lap(`trustee 1 shuffled through the page (progress: ${seen.words.length} messages)`);

  // Trustee 3's page starts shuffle number 2; its first upload is held while trustee 2 shuffles
  // with the CLI, then goes: the server refuses it, and the page says so next to the step.
  await t3.open();
  await t3.step('mix-shuffle');
  assert.match(await t3.page.textContent('#mix-turn'), /number 2 of the 2 needed/);
  await noHorizontalScroll(t3.page, 'the shuffle step at 360 px');
  let held;
  const reached = new Promise((resolve) => {
    t3.page.route('**/mix/shuffles/*/chunks', (route) => {
      held = route;
      resolve();
    });
  });
  t3.expected.push(/status of 409/);
  // Without a file first: the page asks for it.
  await t3.page.click('#act');
  await t3.page.waitForFunction(() => document.getElementById('identity-file-error')?.textContent !== '');
  assert.equal(await t3.page.textContent('#identity-file-error'), 'Choose the file.');
  await t3.unlock('identity');
  await t3.page.click('#act');
  await reached;
  online(cli[1], 'shuffle');
  await held.continue();
  await t3.page.waitForFunction(() => document.getElementById('step-error')?.textContent !== '', null, { timeout: 60_000 });
  assert.match(await t3.page.textContent('#step-error'), /HTTP 409, wrong_position\): the next shuffle is number 2 \(from 0\), not 1/);
  await t3.page.unroute('**/mix/shuffles/*/chunks');
  // Two shuffles are in: the page moves on to the decryption, the refusal still shown. Trustee 3
  // has no shuffle on the board, so its page will not decrypt (it decrypts only a list that
  // descends from the trustee's own shuffle): it says why and names the CLI, before any file.
  await t3.step('mix-cli');
  assert.match(await t3.page.textContent('#step-error'), /wrong_position/);
  assert.equal(await t3.page.getAttribute('#mix-shuffles', 'data-done'), '2');
  assert.match(await t3.page.textContent('#mix-cli'), /You have not shuffled.*urne trustee mix-decrypt/s);
  assert.match(await t3.page.textContent('#mix-cli-command'), new RegExp(`^urne trustee mix-decrypt --election ${ID} --index 3 `));
  assert.equal(await t3.page.$('#act'), null, 'no button to decrypt');
  assert.equal(await t3.page.$('input[type=file]'), null, 'no file asked');
  await noViolations(t3.page, 'the refusal to decrypt of a trustee who did not shuffle');
  await noHorizontalScroll(t3.page, 'the refusal to decrypt at 360 px');
  lap('trustee 2 shuffled with the CLI; trustee 3’s late shuffle refused by the server, shown by its page, which then sends it to the CLI');

  // Trustee 1 decrypts the shuffled list through the page, trustee 2 with the CLI. Its page,
  // still open, holds the share it opened for the tally; coming back in a fresh context, it gives
  // its share file again. At 640 pixels wide (a 1280-pixel window at 200 %), no sideways scroll.
  await t1.step('mix-decrypt');
  assert.equal(await t1.page.isVisible('#share-file'), false, 'the share is kept for the visit');
  await t1.open(true);
  await t1.step('mix-decrypt');
  assert.match(await t1.page.textContent('#mix-shuffles'), /2 of the 2 needed, by Alice Martin \(you\), Bruno Durand, in this order/);
  await t1.page.setViewportSize({ width: 640, height: 900 });
  await noHorizontalScroll(t1.page, 'the mix decryption step at 640 px');
  await t1.page.setViewportSize(t1.viewport);
  await t1.unlock('share');
  await t1.shot(SHOTS, 'trustee-mix-decrypt.png');
  await followProgress(t1.page);
  await t1.page.click('#act');
  await t1.step('mix-decrypted');
  assert.equal(await t1.page.getAttribute('#mix-result', 'data-result'), 'false');
  assert.match(await t1.page.textContent('#mix-decrypted'), /1 of the 2 needed/);
  const decrypting = await t1.page.evaluate(() => window.urneSeen.words);
  assert.ok(decrypting.some((w) => /^Computing the decryption factors and their proofs: \d+ %\.$/.test(w)), decrypting.join(' | '));
  // Before the factors, the page read the shuffles and the ballots (its shuffle was the first) and checked the chain.
  assert.ok(decrypting.includes('Reading the shuffles from the board.'), decrypting.join(' | '));
  assert.ok(decrypting.some((w) => /^Checking your shuffle’s signature and the later shuffles’ proofs: \d+ %\.$/.test(w)), decrypting.join(' | '));
  online(cli[1], 'mix-decrypt');
  await t1.page.waitForFunction(() => document.getElementById('mix-result')?.dataset.result === 'true', null, { timeout: 30_000 });
  await t1.step('mix-done');
  await t3.step('mix-done');
  assert.equal(await t3.page.getAttribute('#mix-result', 'data-result'), 'true');
  await admin('POST', `/elections/${ID}/publish`, {});
  await t1.step('published');
  lap('decrypted by trustee 1 (page) and 2 (CLI); published');

  // The record's decrypted ballots are the votes (Schulze ranks, then grades as values, 0 the
  // worst); the plurality counts are theirs; the record verifies.
  const record = await fetch(`${base}/api/v1/elections/${ID}/record`);
  const file = join(dir, `${ID}.record.jsonl`);
  writeFileSync(file, Buffer.from(await record.arrayBuffer()));
  const entries = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  assert.equal(entries.filter((l) => l.type === 'shuffle').length, 2, 'two shuffles in the record');
  const rows = VOTES.map(([, r, g]) => [...r.ranks, ...g.grades.map((x) => GRADES.length - 1 - x)]);
  const decrypted = entries.filter((l) => l.type === 'mixed_ballots').flatMap((l) => l.ballots);
  const key = (r) => JSON.stringify(r);
  assert.deepEqual(decrypted.map(key).sort(), rows.map(key).sort(), 'the decrypted ballots are the votes cast');
  const published = await view();
  assert.equal(published.phase, 'published');
  const [pl, schulze, mj] = published.result.questions;
  assert.deepEqual(pl, { counts: [3, 2], blank: 1 });
  assert.deepEqual([schulze.mixed.method, schulze.mixed.ballots], ['schulze', VOTES.length]);
  // Schulze's pairwise counts from the votes: i before j when i is ranked and j is not, or ranked after.
  const before = (r, i, j) => r[i] > 0 && (r[j] === 0 || r[i] < r[j]);
  const pairwise = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => VOTES.filter(([, r]) => i !== j && before(r.ranks, i, j)).length));
  assert.deepEqual(schulze.mixed.pairwise, pairwise, 'the Schulze pairwise counts are the votes’');
  const counts = [0, 1, 2].map((a) => GRADES.map((_, x) => VOTES.filter(([, , g]) => GRADES.length - 1 - g.grades[a] === x).length));
  assert.deepEqual(
    mj.mixed.profiles.map((p) => p.counts),
    counts,
    'the majority-judgment profiles are the votes’',
  );
  const verified = spawnSync(BIN, ['verify', '--quiet', file], { encoding: 'utf8', env: urneEnv() });
  assert.equal(verified.status, 0, `urne verify:\n${verified.stdout}\n${verified.stderr}`);
  assert.match(`${verified.stdout}${verified.stderr}`, /VALID/);
  for (const t of [t1, t3]) assert.deepEqual(t.errors, [], `no error in trustee ${t.index}'s pages`);
  lap('the record’s ballots are the votes, the result is their count, and the record verifies');
});
