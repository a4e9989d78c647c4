// Driving the trustees' page (/elections/{id}/trustee, web/trustee/) from a test, for any
// scenario: the trustees' e2e (trustee.e2e.js, which also provokes its refusals) and the
// 20-voter election (election.e2e.js, the plain path).
//
// Each trustee has its own browser context, as on its own machine. Its sealed files go through
// the page's download link (Playwright's download event) and come back through the page's file
// inputs. With `testKdf`, the page is opened with `?kdf=test`, which seals with a weak argon2id
// (1 MiB, one pass) and says so in a banner; otherwise with the default (64 MiB, 3 passes).

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { noHorizontalScroll, noViolations } from './axe.js';

/** One trustee in its own browser context: its page, invitation and files. */
export class TrusteeBrowser {
  /**
   * @param {object} o
   * @param {import('playwright-core').Browser} o.browser
   * @param {string} o.base the server's address
   * @param {string} o.id the election id
   * @param {string} o.dir where the trustee's files are saved
   * @param {number} o.index the trustee's index, from 1
   * @param {string} o.invitation its invitation token
   * @param {string} o.name its name in the draft
   * @param {string} o.passphrase the passphrase of its files
   * @param {{width: number, height: number}} [o.viewport]
   * @param {boolean} [o.testKdf] seal with the page's test KDF (`?kdf=test`)
   * @param {boolean} [o.axe] run axe-core (and the reflow check at 360 px) on every step
   * @param {string} [o.locale]
   */
  constructor(o) {
    Object.assign(this, { viewport: { width: 1280, height: 900 }, testKdf: true, axe: false, locale: 'en-GB' }, o);
    this.errors = [];
    this.expected = []; // errors the test provokes, which the browser logs
    this.files = {};
  }

  /** The invitation link the organizer gives this trustee. */
  get link() {
    const query = this.testKdf ? '?kdf=test' : '';
    return `${this.base}/elections/${this.id}/trustee${query}#index=${this.index}&invitation=${encodeURIComponent(this.invitation)}`;
  }

  /** Opens the invitation link in a new page (in a fresh context with `fresh`). */
  async open(fresh = false) {
    if (fresh || !this.context) {
      await this.context?.close();
      this.context = await this.browser.newContext({ locale: this.locale, viewport: this.viewport, acceptDownloads: true });
    }
    this.page = await this.context.newPage();
    this.page.on('console', (m) => {
      const text = `${m.text()} (${m.location().url})`;
      const expected = m.location().url?.endsWith('/favicon.ico') || this.expected.some((r) => r.test(text));
      if (m.type() === 'error' && !expected) this.errors.push(text);
    });
    this.page.on('pageerror', (e) => this.errors.push(String(e)));
    await this.page.goto(this.link);
    assert.equal(new URL(this.page.url()).hash, '', 'the invitation leaves the address bar');
  }

  /** Waits for the page's step to be one of `keys` (and not busy); returns the one reached. */
  async step(...keys) {
    await this.page.waitForFunction((ks) => ks.includes(document.body.dataset.step) && document.body.dataset.busy !== 'true', keys, {
      timeout: 120_000,
    });
    const key = await this.page.evaluate(() => document.body.dataset.step);
    if (this.axe) {
      await noViolations(this.page, `trustee ${this.index}'s step ${key}`);
      if (this.viewport.width <= 360) await noHorizontalScroll(this.page, `trustee ${this.index}'s step ${key} at 360 px`);
    }
    return key;
  }

  /**
   * Saves the file of the page's download link as `slot` (identity, polynomial, share), checking
   * that it has the CLI's name and is sealed with the expected KDF. Trustee 1 follows the link
   * with the keyboard.
   */
  async download(slot, name) {
    const follow = this.index === 1 ? this.page.focus('#download').then(() => this.page.keyboard.press('Enter')) : this.page.click('#download');
    const [d] = await Promise.all([this.page.waitForEvent('download'), follow]);
    assert.equal(d.suggestedFilename(), name);
    const path = join(this.dir, `t${this.index}-${name}`);
    await d.saveAs(path);
    const sealed = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(sealed.format, 'urne/secret/v1', `${name} is a urne secret file`);
    assert.equal(sealed.kdf.memory_kib, this.testKdf ? 1024 : 65536, `${name}'s argon2id memory`);
    this.files[slot] = path;
  }

  /** Gives the page the sealed file of `slot` and its passphrase. */
  async unlock(slot, passphrase = this.passphrase, file = this.files[slot]) {
    await this.page.setInputFiles(`#${slot}-file`, file);
    await this.page.fill(`#${slot}-pass`, passphrase);
  }

  /** A full-page screenshot into `dir` (without the focus ring of the step's heading). */
  async shot(dir, name) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    await this.page.evaluate(() => document.activeElement?.blur());
    await this.page.screenshot({ path: join(dir, name), fullPage: true });
  }

  /** Step 1: makes its identity, saves the file and registers it. */
  async register() {
    await this.open();
    await this.step('identity');
    await this.page.fill('#name', this.name);
    await this.page.fill('#pass', this.passphrase);
    await this.page.fill('#pass2', this.passphrase);
    await this.page.click('#create');
    await this.step('save-identity');
    await this.download('identity', `trustee-${this.index}.secret`);
    await this.page.click('#send');
    await this.step('wait-identities', 'deal');
  }

  /** Step 2: deals (opening its identity file first if the page no longer holds it). */
  async deal() {
    await this.step('deal');
    if (await this.page.isVisible('#identity-file')) await this.unlock('identity');
    await this.page.click('#act');
    await this.step('save-polynomial');
    await this.download('polynomial', `trustee-${this.index}.polynomial.secret`);
    await this.page.click('#send');
    await this.step('wait-dealing', 'check');
  }

  /** Step 3: checks the shares dealt to it. */
  async check() {
    await this.step('check');
    await this.page.click('#act');
    await this.step('wait-complaints', 'answer');
  }

  /** Step 4: answers the complaints against it (none when everyone dealt honestly). */
  async answer() {
    await this.step('answer');
    if (await this.page.isVisible('#identity-file')) await this.unlock('identity');
    if (await this.page.isVisible('#polynomial-file')) await this.unlock('polynomial');
    await this.page.click('#act');
    await this.step('wait-answers', 'final');
  }

  /** Step 5: assembles and saves its share; the election key and its verification key. */
  async finalize() {
    await this.step('final');
    await this.page.click('#act');
    await this.step('final-done');
    await this.download('share', `trustee-${this.index}.share.secret`);
    return { election: await this.page.textContent('#election-key'), verification: await this.page.textContent('#verification-key') };
  }

  /** After the tally: comes back in a fresh context and decrypts with its share file. */
  async decrypt() {
    await this.open(true);
    await this.step('decrypt');
    await this.unlock('share');
    await this.page.click('#act');
    await this.step('decrypted');
  }
}

/**
 * The whole key-generation ceremony through the page, every trustee in its own context, round
 * by round (each round waits for every trustee, as the ceremony does). The keys each trustee's
 * page shows at the end: one election key, one verification key per trustee.
 */
export async function holdCeremonyThroughPages(trustees) {
  for (const round of ['register', 'deal', 'check', 'answer']) {
    await Promise.all(trustees.map((t) => t[round]()));
  }
  const keys = await Promise.all(trustees.map((t) => t.finalize()));
  assert.equal(new Set(keys.map((k) => k.election)).size, 1, 'the trustees agree on one election key');
  assert.equal(new Set(keys.map((k) => k.verification)).size, trustees.length, 'each trustee has its own verification key');
  return keys;
}
