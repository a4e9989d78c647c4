// Driving the administration pages (web/admin/) from a test, for any scenario: the admin
// e2e (admin.e2e.js) and the 20-voter election (election.e2e.js).

import assert from 'node:assert/strict';

/** Waits until the page's script has drawn what it shows (body[data-ready="true"]). */
export async function ready(page) {
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
}

/** Opens `${base}/admin` and logs in through the login form; the list of elections is shown. */
export async function loginThroughPages(page, base, name, password) {
  await page.goto(`${base}/admin`);
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#new-election');
  await ready(page);
}

/** The page's local date-time input value for the UTC time `iso` (the page's time zone). */
function localValue(page, iso) {
  return page.evaluate((t) => {
    const d = new Date(t);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }, iso);
}

/**
 * Fills the draft form of /admin/new with `draft` ({id, title, description, questions, opens_at,
 * closes_at, trustees, threshold, and optionally voter_auth, voted_list, weights, revote,
 * language, retention_days, auto_open}), adding questions, answers and trustees with the
 * form's buttons. A question's optional `counting` is chosen in its select, with its `seats`
 * (STV) and `grades` (majority judgment, added or removed to match). Times are UTC, typed in the page's local time.
 */
export async function fillDraftForm(page, draft) {
  await page.fill('#f-id', draft.id);
  await page.fill('#f-title', draft.title);
  await page.fill('#f-description', draft.description ?? '');
  for (const [qi, q] of draft.questions.entries()) {
    if (qi > 0) await page.click('#add-question');
    await page.fill(`#q${qi}-text`, q.text);
    for (const [ai, a] of q.answers.entries()) {
      if (ai >= 2) await page.click(`#q${qi}-add-answer`);
      await page.fill(`#q${qi}-a${ai}`, a);
    }
    if (q.counting !== undefined && q.counting !== 'plurality') {
      await page.selectOption(`#q${qi}-counting`, q.counting);
      if (q.seats !== undefined) await page.fill(`#q${qi}-seats`, String(q.seats));
      if (q.grades !== undefined) {
        // The form starts with its own grades: remove the extra ones, add the missing ones.
        let shown = await page.locator(`#q${qi}-grades input[type="text"]`).count();
        for (; shown > Math.max(q.grades.length, 2); shown -= 1) await page.click(`#q${qi}-g${shown - 1}-remove`);
        for (; shown < q.grades.length; shown += 1) await page.click(`#q${qi}-add-grade`);
        for (const [gi, g] of q.grades.entries()) await page.fill(`#q${qi}-g${gi}`, g);
      }
    }
    // A graded question's min and max are the number of answers, set by the form itself.
    if (q.counting !== 'majority_judgment') {
      await page.fill(`#q${qi}-min`, String(q.min));
      await page.fill(`#q${qi}-max`, String(q.max));
    }
    // A ranked or graded question has no blank vote, and so no check box.
    if (q.counting === undefined || q.counting === 'plurality') await page.setChecked(`#q${qi}-blank`, q.blank);
  }
  await page.fill('#f-opens_at', await localValue(page, draft.opens_at));
  await page.fill('#f-closes_at', await localValue(page, draft.closes_at));
  await page.setChecked('#f-auto_open', draft.auto_open ?? false);
  for (const [i, name] of draft.trustees.entries()) {
    if (i > 0) await page.click('#add-trustee');
    await page.fill(`#t${i}-name`, name);
  }
  await page.fill('#f-threshold', String(draft.threshold));
  for (const key of ['voter_auth', 'voted_list', 'weights', 'revote', 'language']) {
    if (draft[key] !== undefined) await page.selectOption(`#f-${key}`, draft[key]);
  }
  if (draft.retention_days !== undefined) await page.fill('#f-retention_days', String(draft.retention_days));
}

/** Creates the election `draft` (see fillDraftForm) through /admin/new; its page is then shown. */
export async function createElectionThroughPages(page, base, draft) {
  await page.goto(`${base}/admin/new`);
  await page.waitForSelector('#draft-form');
  await fillDraftForm(page, draft);
  await page.click('#draft-submit');
  await page.waitForURL(`${base}/admin/elections/${encodeURIComponent(draft.id)}`);
  await waitForPhase(page, 'draft');
}

/** Waits until the election's page shows phase `phase` (and, for setup, sealed or not). */
export async function waitForPhase(page, phase, sealed = null) {
  const sel = `#phase[data-phase="${phase}"]${sealed === null ? '' : `[data-sealed="${sealed}"]`}`;
  await page.waitForSelector(sel, { timeout: 60_000 });
  await ready(page);
}

/**
 * Checks the roll `file` ({name, text}) with a dry run on the election's page and, when it is
 * valid, imports it. Returns {valid, errors: [{line, field, message}], warnings, imported}.
 */
export async function uploadRollThroughPages(page, file) {
  await page.setInputFiles('#roll-file', { name: file.name, mimeType: file.name.endsWith('.json') ? 'application/json' : 'text/csv', buffer: Buffer.from(file.text) });
  await page.click('#roll-check');
  await page.waitForSelector('#roll-verdict');
  const read = (sel) =>
    page.$$eval(`${sel} tbody tr`, (rows) => rows.map((r) => ({ line: Number(r.children[0].textContent), field: r.children[1].textContent, message: r.children[2].textContent })));
  const valid = (await page.getAttribute('#roll-verdict', 'data-valid')) === 'true';
  const errors = await read('#roll-errors');
  const warnings = await read('#roll-warnings');
  if (!valid) return { valid, errors, warnings, imported: false };
  await page.click('#roll-import');
  await page.waitForSelector('#roll-verdict[data-imported="true"]');
  return { valid, errors, warnings, imported: true };
}

/** In the open confirmation dialog, types the election id and confirms. */
export async function confirmThroughPages(page, id) {
  await page.waitForSelector('dialog#confirm[open]');
  assert.equal(await page.isDisabled('#confirm-ok'), true, 'the confirm button waits for the id');
  await page.fill('#confirm-id', id);
  await page.click('#confirm-ok');
  await page.waitForSelector('dialog#confirm', { state: 'detached' });
}

/** Takes step `kind` (seal, open, close, tally, publish) through its button and dialog. */
export async function takeStepThroughPages(page, id, kind) {
  await page.click(`#${kind}-button`);
  await confirmThroughPages(page, id);
}

/** Freezes the setup (confirming) and returns the trustees' invitation links shown once. */
export async function freezeSetupThroughPages(page, id) {
  await takeStepThroughPages(page, id, 'setup');
  await waitForPhase(page, 'setup', false);
  return page.$$eval('input[id^="invitation-"]', (inputs) => inputs.map((i) => i.value));
}

/** Uploads the public credential list at `path`; returns {count, fingerprint} as the page shows them. */
export async function uploadCredentialsThroughPages(page, path) {
  await page.setInputFiles('#credentials-file', path);
  await page.click('#credentials-upload');
  await page.waitForSelector('#credentials-fingerprint');
  const count = await page.textContent('#credentials-count');
  return { count, fingerprint: (await page.textContent('#credentials-fingerprint')).trim() };
}

/**
 * The trustees' progress the setup page shows, by trustee: {registered} and, under threshold
 * sharing, {dealt, complained, answered} (booleans).
 */
export async function ceremonyOnPage(page) {
  return page.$$eval('#ceremony-table tbody tr', (rows) =>
    rows.map((r) => {
      const done = [...r.querySelectorAll('td')].map((td) => td.dataset.done === 'true');
      return done.length > 1 ? { registered: done[0], dealt: done[1], complained: done[2], answered: done[3] } : { registered: done[0] };
    }),
  );
}

/** The turnout the election's page shows: {voted, voters, ballots} (voted null without a roll). */
export async function turnoutOnPage(page) {
  return page.evaluate(() => {
    const v = document.getElementById('turnout-voted');
    const b = document.getElementById('turnout-ballots');
    return {
      voted: v ? Number(v.dataset.voted) : null,
      voters: v ? Number(v.dataset.voters) : null,
      ballots: b ? Number(b.dataset.ballots) : null,
    };
  });
}

/** The decryption the page shows after the tally: {received, needed, result}. */
export async function decryptionOnPage(page) {
  return page.evaluate(() => {
    const l = document.getElementById('decryption-label');
    return { received: Number(l?.dataset.received), needed: Number(l?.dataset.needed), result: document.getElementById('result-ready') !== null };
  });
}
