// The trustees' page end to end in headless Chromium (issue #7), against a real `urne serve`:
// the organizer drafts an election with three trustees, any two of whom decrypt, and invites
// them through the admin API; each trustee, in its own browser context, holds the whole
// key-generation ceremony through /elections/{id}/trustee (identity, dealing, checks, answers,
// share), saving each sealed file through the download and giving it back with the file input
// (one trustee reloads before dealing, another before answering, so that both reopen their
// files; a wrong passphrase, a wrong file and a wrong name are refused in words). The
// organizer uploads the credential authority's list, seals and opens; four ballots are made
// with web/'s protocol code in node and cast; after the close and the tally, two trustees come
// back in fresh contexts and decrypt through the page; the result is published and must be the
// count of the ballots, and `urne verify` must accept the record.
//
// The pages run as served, under their strict Content-Security-Policy, and must log no error;
// axe-core (evaluated through the DevTools protocol, which the policy does not govern) finds no
// WCAG 2.1 A/AA violation on each step, in English and on one step in French; one trustee uses
// a 360-pixel-wide window, which must not scroll sideways. The page's secret files are sealed
// with its test KDF (`?kdf=test`), which the page shows in a banner, but for trustee 2, whose
// files use the default argon2id (64 MiB, 3 passes).
//
// Named *.e2e.js so that the booth's runner does not pick it up:
// crates/urne-cli/tests/trustee_e2e.rs runs it. Needs URNE_BIN, Debian's chromium
// (/usr/bin/chromium or URNE_CHROMIUM), playwright-core and axe-core (web/ devDependencies).
// With URNE_SCREENSHOTS=DIR it writes the ceremony's and the decryption's screenshots there.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { noViolations } from './axe.js';
import { BIN, castBallots, openForADay, privateCredentials, putRoll, sealCredentials, stopwatch, urne, urneEnv, useOrganizer } from './support.js';
import { TrusteeBrowser } from './trustee-pages.js';

const SHOTS = process.env.URNE_SCREENSHOTS;
const ID = 'e2e-trustees-2026';
const NAMES = ['Alice Martin', 'Bruno Durand', 'Chloé Petit'];
const PASSPHRASES = ['first trustee passphrase', 'second trustee passphrase', 'third trustee passphrase'];
const QUESTION = { text: 'Which day suits the meeting?', answers: ['Monday', 'Wednesday', 'Friday'], min: 1, max: 1, blank: true, counting: 'plurality' };
const VOTES = [[{ selected: [0] }], [{ selected: [2] }], [{ selected: [2] }], [{ blank: true }]];

const org = useOrganizer('urne-trustee-', "organizer's password");
const admin = org.admin;
const view = () => org.view(ID);

test('three trustees hold the ceremony and two decrypt through the page; the result is right and the record verifies', async () => {
  const { dir, base, browser } = org;
  const lap = stopwatch();

  // The organizer: a draft with three trustees, any two of whom decrypt, and its roll.
  await admin('POST', '/elections', {
    id: ID,
    draft: {
      title: 'Trustees through the browser (e2e)',
      description: 'Three trustees, any two decrypt.',
      questions: [QUESTION],
      ...openForADay(),
      trustees: NAMES,
      threshold: 2,
      voter_auth: 'none',
      language: 'en',
      auto_open: false,
    },
  });
  const rollFile = await putRoll(admin, dir, ID, VOTES.length);
  // Before the setup, the page says the trustees are not invited yet.
  const early = await browser.newContext({ locale: 'en-GB' });
  const draft = await early.newPage();
  await draft.goto(`${base}/elections/${ID}/trustee#index=1&invitation=not-yet`);
  await draft.waitForFunction(() => document.body.dataset.step === 'draft');
  assert.match(await draft.textContent('#step'), /still a draft/);
  // Without an invitation in its address, it asks for one.
  const bare = await early.newPage();
  await bare.goto(`${base}/elections/${ID}/trustee`);
  await bare.waitForFunction(() => document.body.dataset.step === 'invite');
  await noViolations(bare, 'the invitation step');
  await early.close();
  const { invitations } = await admin('POST', `/elections/${ID}/setup`, {});
  assert.equal(invitations.length, 3);

  const desktop = { width: 1280, height: 900 };
  // Trustee 2 seals its files with the default argon2id, the others with the test mode's.
  const trustee = (i, viewport) =>
    new TrusteeBrowser({
      browser,
      base,
      id: ID,
      dir,
      i,
      index: i + 1,
      invitation: invitations[i],
      name: NAMES[i],
      passphrase: PASSPHRASES[i],
      viewport,
      testKdf: i !== 1,
    });
  const trustees = [trustee(0, desktop), trustee(1, desktop), trustee(2, { width: 360, height: 740 })];
  const [t1, t2, t3] = trustees;
  t1.axe = true;
  t3.axe = true;
  const all = (f) => Promise.all(trustees.map(f));
  // A round: trustees 1 and 3 first, so that their pages show the waiting step (checked by
  // axe-core too), then trustee 2.
  const round = async (f) => {
    await Promise.all([t1, t3].map(f));
    await f(t2);
  };

  // 1. Identities. Trustee 3 first types another name than the organizer's, which the server
  // refuses; the same identity file stays valid under the corrected name.
  await round(async (t) => {
    await t.open();
    await t.step('identity');
    if (t === t2) assert.equal(await t.page.isVisible('#test-kdf'), false, 'no test banner with the default KDF');
    else assert.match(await t.page.textContent('#test-kdf'), /kdf=test/);
    if (t === t1) {
      // The page in French, then back in English.
      await t.page.click('#lang');
      assert.equal(await t.page.textContent('#heading'), 'Créer votre identité');
      await noViolations(t.page, 'the identity step in French');
      await t.page.click('#lang');
      assert.equal(await t.page.textContent('#heading'), 'Make your identity');
      // Passphrases that differ are refused before anything is made.
      await t.page.fill('#name', NAMES[t.i]);
      await t.page.fill('#pass', PASSPHRASES[t.i]);
      await t.page.fill('#pass2', 'something else entirely');
      await t.page.press('#pass2', 'Enter');
      assert.equal(await t.page.textContent('#pass2-error'), 'The two passphrases differ.');
      assert.equal(await t.page.evaluate(() => document.activeElement.id), 'pass2');
    }
    await t.page.fill('#name', t === t3 ? 'Chloe Petit' : NAMES[t.i]);
    await t.page.fill('#pass', PASSPHRASES[t.i]);
    await t.page.fill('#pass2', PASSPHRASES[t.i]);
    if (t === t1) await t.page.press('#pass2', 'Enter'); // the keyboard submits the form
    else await t.page.click('#create');
    await t.step('save-identity');
    // Sending before saving the file is refused.
    if (t === t1) {
      await t.page.click('#send');
      assert.equal(await t.page.textContent('#step-error'), 'Download the file first.');
    }
    await t.download('identity', `trustee-${t.index}.secret`);
    // The refusal of the wrong name, which the browser logs.
    if (t === t3) t.expected.push(/status of 422 .*\/trustees\/3\)$/);
    await t.page.click('#send');
    if (t === t3) {
      await t.page.waitForSelector('#rename');
      assert.match(await t.page.textContent('#rename-error'), /wrong_name.*named `Chloé Petit`/);
      await t.step('save-identity');
      await t.page.fill('#rename', NAMES[t.i]);
      await t.page.click('#send');
    }
    await t.step('wait-identities', 'deal');
  });
  lap('identities registered');

  // 2. Dealing. Trustee 2 reloads first: its identity is no longer in memory, so it gives its
  // file back, after a wrong passphrase.
  await t2.page.close();
  await t2.open();
  await round(async (t) => {
    await t.step('deal');
    if (t === t2) {
      assert.ok(await t.page.isVisible('#identity-file'), 'the reloaded page asks for the identity file');
      await noViolations(t.page, 'the dealing step with the identity file to open');
      await t.unlock('identity', 'not the passphrase at all');
      await t.page.click('#act');
      await t.page.waitForFunction(() => document.getElementById('identity-pass-error')?.textContent !== '', null, { timeout: 60_000 });
      assert.equal(await t.page.textContent('#identity-pass-error'), 'Wrong passphrase, or the file was altered.');
      await t.unlock('identity');
    }
    await t.page.click('#act');
    await t.step('save-polynomial');
    await t.download('polynomial', `trustee-${t.index}.polynomial.secret`);
    await t.page.click('#send');
    await t.step('wait-dealing', 'check');
  });
  lap('dealt');

  // 3. Every trustee checks its shares: none is refused.
  await round(async (t) => {
    await t.step('check');
    if (t === t1) await t.shot(SHOTS, 'trustee-ceremony.png');
    await t.page.click('#act');
    await t.step('wait-complaints', 'answer');
  });
  await t1.step('answer');
  lap('shares checked');

  // 4. Answers. Trustee 3 reloads first and gives back its identity and polynomial files (first
  // trustee 1's identity file, then its own polynomial file in the identity's place, each
  // refused).
  await t3.page.close();
  await t3.open();
  await round(async (t) => {
    await t.step('answer');
    if (t === t3) {
      // Trustee 1's identity file, with its passphrase: it opens, but it is not trustee 3's key.
      await t.unlock('identity', PASSPHRASES[0], t1.files.identity);
      await t.unlock('polynomial');
      await t.page.click('#act');
      await t.page.waitForFunction(() => document.getElementById('identity-file-error')?.textContent !== '', null, { timeout: 60_000 });
      assert.equal(await t.page.textContent('#identity-file-error'), 'This identity file is not the key trustee 3 registered with the server.');
      await t.unlock('identity', PASSPHRASES[t.i], t.files.polynomial);
      await t.unlock('polynomial');
      await t.page.click('#act');
      await t.page.waitForFunction(() => document.getElementById('identity-file-error')?.textContent !== '', null, { timeout: 60_000 });
      assert.equal(await t.page.textContent('#identity-file-error'), 'This file holds another secret (check which file you chose).');
      await t.unlock('identity');
    }
    await t.page.click('#act');
    await t.step('wait-answers', 'final');
  });
  lap('answered');

  // 5. Every trustee keeps its share; they agree on the election key.
  const keys = await Promise.all(
    trustees.map(async (t) => {
      await t.step('final');
      await t.page.click('#act');
      await t.step('final-done');
      if (t === t1) await t.shot(SHOTS, 'trustee-share.png');
      await t.download('share', `trustee-${t.index}.share.secret`);
      return { election: await t.page.textContent('#election-key'), verification: await t.page.textContent('#verification-key') };
    }),
  );
  assert.equal(new Set(keys.map((k) => k.election)).size, 1, 'one election key');
  assert.equal(new Set(keys.map((k) => k.verification)).size, 3, 'three verification keys');
  const ceremony = await (await fetch(`${base}/api/v1/elections/${ID}/ceremony`)).json();
  assert.equal(ceremony.dealings.length, 3);
  assert.deepEqual(ceremony.complaints, []);
  // The CLI opens the page's identity file: it holds the key trustee 1 registered.
  const publicFile = join(dir, 'trustee-1.public.json');
  writeFileSync(publicFile, JSON.stringify(ceremony.identities[0]));
  urne(['trustee', 'check-identity', '--election', ID, '--index', '1', '--secret', t1.files.identity, '--public', publicFile], {
    URNE_PASSPHRASE: PASSPHRASES[0],
  });
  lap('ceremony complete');

  // The organizer: the credential authority's list, the seal; each page checks the manifest.
  const authority = await sealCredentials(admin, dir, ID, rollFile);
  const sealed = await view();
  assert.equal(sealed.manifest.public_key, keys[0].election, 'the manifest has the ceremony’s key');
  await all(async (t) => {
    await t.step('final-done-sealed');
    assert.equal(await t.page.getAttribute('#manifest-check', 'data-ok'), 'true');
  });
  await admin('POST', `/elections/${ID}/open`, {});

  // Four ballots, made with web/'s protocol code and cast.
  const credentials = privateCredentials(authority);
  assert.equal(credentials.length, VOTES.length);
  await castBallots(base, ID, sealed.manifest, credentials, VOTES);
  await admin('POST', `/elections/${ID}/close`, {});
  await admin('POST', `/elections/${ID}/tally`, {});
  lap('voted, closed and tallied');

  // 6. Trustees 1 and 3 come back in fresh browser contexts and decrypt; trustee 1 first gives
  // its polynomial file, which is refused.
  for (const t of [t1, t3]) {
    await t.open(true);
    await t.step('decrypt');
    assert.match(await t.page.textContent('#tally-summary'), /4 ballot/);
    if (t === t1) {
      await t.shot(SHOTS, 'trustee-decryption.png');
      await t.unlock('share', PASSPHRASES[t.i], t.files.polynomial);
      await t.page.click('#act');
      await t.page.waitForFunction(() => document.getElementById('share-file-error')?.textContent !== '', null, { timeout: 60_000 });
    }
    await t.unlock('share');
    // The page's words as they change, and what they were when the factors went to the server:
    // the worker read the board's setup and checked the ballots before it computed any factor
    // (web/trustee/tally-check.js).
    await t.page.evaluate(() => {
      const seen = [];
      window.urneWords = seen;
      new MutationObserver(() => {
        const words = document.getElementById('mix-progress-text')?.textContent;
        if (words && seen.at(-1) !== words) seen.push(words);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    let wordsAtSend = null;
    await t.page.route('**/decryptions', async (r) => {
      if (r.request().method() === 'POST') wordsAtSend = await t.page.evaluate(() => [...window.urneWords]);
      await r.continue();
    });
    await t.page.click('#act');
    await t.step('decrypted');
    assert.ok(wordsAtSend, 'the factors were sent');
    const checking = wordsAtSend.findIndex((w) => w.startsWith('Reading the ballots, checking their signatures'));
    const factors = wordsAtSend.findIndex((w) => w.startsWith('The tally is the sum of the signed ballots.'));
    assert.ok(wordsAtSend[0]?.startsWith('Reading the election’s setup from the board'), wordsAtSend.join(' | '));
    // (The factors' phase is announced by an in-band progress message before the worker's answer;
    // the check only requires it, if shown, to come after the signatures' phase.)
    assert.ok(checking > 0 && (factors === -1 || factors > checking), wordsAtSend.join(' | '));
    assert.equal(await t.page.getAttribute('#decrypted', 'data-result'), String(t === t3));
    if (t === t1) await t.shot(SHOTS, 'trustee-decrypted.png');
  }
  // Trustee 1's page, still open, follows the board: the result is there now. Coming back, it
  // finds its decryption on the board and does not ask for the share again.
  await t1.page.waitForFunction(() => document.getElementById('decrypted')?.dataset.result === 'true', null, { timeout: 30_000 });
  assert.equal(await t1.page.getAttribute('#decrypted', 'data-trustees'), '2');
  await t1.open(true);
  await t1.step('decrypted');
  await admin('POST', `/elections/${ID}/publish`, {});
  await t1.step('published');
  lap('decrypted by trustees 1 and 3, published');

  // The result is the count of the ballots.
  const expected = { counts: [0, 0, 0], blank: 0 };
  for (const [c] of VOTES) {
    if (c.blank) expected.blank += 1;
    else expected.counts[c.selected[0]] += 1;
  }
  const published = await view();
  assert.equal(published.phase, 'published');
  assert.deepEqual(published.result, { questions: [expected] });

  // The record passes the universal verifier.
  const record = await fetch(`${base}/api/v1/elections/${ID}/record`);
  assert.equal(record.status, 200);
  const file = join(dir, `${ID}.record.jsonl`);
  writeFileSync(file, Buffer.from(await record.arrayBuffer()));
  const verified = spawnSync(BIN, ['verify', '--quiet', file], { encoding: 'utf8', env: urneEnv() });
  assert.equal(verified.status, 0, `urne verify:\n${verified.stdout}\n${verified.stderr}`);
  assert.match(`${verified.stdout}${verified.stderr}`, /VALID/);
  for (const t of trustees) assert.deepEqual(t.errors, [], `no error in trustee ${t.index}'s pages`);
  lap('result checked and record verified');
});
