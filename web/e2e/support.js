// What the end-to-end tests share: running `urne` (its binary from URNE_BIN), starting and
// stopping `urne serve` or `urne demo --keep-open` on a free loopback port, the organizer's API
// token, and Debian's chromium with the flags a headless run in a container needs; and the
// organizer's side of a test (useOrganizer: the server, the browser and the admin API; the
// draft's dates, the roll, the credentials and the seal, ballots cast from node).
//
// Not a test file itself (node's runner picks only *.test.js under e2e/; the *.e2e.js files
// are run by their launchers in crates/urne-cli/tests/).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

import { createBallot, deriveCredentialKey, loadElection } from '../src/urne/index.js';

/** The `urne` binary under test. */
export const BIN = process.env.URNE_BIN;

/** Debian's chromium (Playwright's own browser download is not used). */
export const CHROMIUM = process.env.URNE_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium's flags: headless in a container, no network of its own beyond the test's server. */
export const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless chromium. */
export function launchBrowser() {
  assert.ok(BIN, 'URNE_BIN names the urne binary');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
}

/** The environment for `urne`, with none of the caller's URNE_* settings choosing for it. */
export function urneEnv(extra = {}) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('URNE_')) out[k] = v;
  return { ...out, ...extra };
}

/** Runs `urne ARGS`, which must succeed; its stdout and stderr together. */
export function urne(args, extra = {}) {
  const o = spawnSync(BIN, args, { encoding: 'utf8', env: urneEnv(extra) });
  assert.equal(o.status, 0, `urne ${args.join(' ')}:\n${o.stdout}\n${o.stderr}`);
  return `${o.stdout}${o.stderr}`;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Waits until `url` answers 200, failing if `child` exits first or after a minute. */
export async function ready(url, child, what) {
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

/** Starts `urne serve` on `dataDir` and a free port; `{child, base}` once it answers. */
export async function serve(dataDir, extraArgs = []) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...extraArgs], {
    stdio: 'ignore',
    env: urneEnv(),
  });
  await ready(`${base}/healthz`, child, 'urne serve');
  return { child, base };
}

/**
 * Starts `urne demo --keep-open` with `args` (its --voters, --out…) and resolves once its
 * server waits: `{child, base, out}` where `out` is what it printed (the kept-back voters).
 */
export function keepOpenDemo(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['demo', '--keep-open', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: urneEnv() });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`urne demo --keep-open did not get ready:\n${out}\n${err}`)), 240_000);
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      const server = /Server: (http:\/\/\S+)/.exec(out);
      if (server && out.includes('Press Ctrl-C to stop the server.')) {
        clearTimeout(timer);
        resolve({ child, base: server[1], out });
      }
    });
    child.on('exit', (code) => reject(new Error(`urne demo --keep-open exited (${code}):\n${out}\n${err}`)));
  });
}

/** Stops a server started here (SIGINT, as an operator's Ctrl-C) and waits for it to exit. */
export async function stop(child) {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGINT');
    await exited;
  }
}

/** Adds the administrator `name` to the data directory (before the server starts). */
export function addAdmin(dataDir, name, password) {
  urne(['admin', 'add', name, '--data-dir', dataDir], { URNE_ADMIN_PASSWORD: password });
}

/** An API token for the administrator `name`, from a login. */
export async function adminToken(base, name, password, label = 'e2e') {
  const login = await fetch(`${base}/api/v1/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  assert.ok(login.ok, `login: ${login.status}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const made = await fetch(`${base}/api/v1/admin/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ label }),
  });
  const { token } = await made.json();
  assert.ok(token, 'an API token');
  return token;
}

/**
 * A test file's organizer and browser: `urne serve` on a fresh temporary directory (named from
 * `prefix`) with the administrator `root` (`password`) and an API token for it, and headless
 * chromium. Undone by `stopOrganizer`.
 */
export async function startOrganizer(prefix, password) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const data = join(dir, 'server');
  addAdmin(data, 'root', password);
  const { child: server, base } = await serve(data);
  const token = await adminToken(base, 'root', password);
  const browser = await launchBrowser();
  return { dir, server, base, token, browser };
}

/** Closes the browser, stops the server and removes the directory of `startOrganizer`. */
export async function stopOrganizer({ browser, server, dir }) {
  await browser?.close();
  await stop(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** The organizer's call to the admin API (`path` under /api/v1/admin), which must succeed; its JSON answer. */
export async function adminCall(base, token, method, path, body, type = 'application/json') {
  const r = await fetch(`${base}/api/v1/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: HTTP ${r.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The public view of election `id` (GET /api/v1/elections/{id}). */
export async function electionView(base, id) {
  return (await fetch(`${base}/api/v1/elections/${id}`)).json();
}

/**
 * A test file's organizer, started by a node:test `before` hook and stopped by an `after` hook
 * (`startOrganizer`, `stopOrganizer`): the object returned holds its `dir`, `server`, `base`,
 * `token` and `browser` once `before` has run, and calls the admin API (`admin`, as `adminCall`)
 * and the public view of an election (`view(id)`).
 */
export function useOrganizer(prefix, password) {
  const org = {
    admin: (...args) => adminCall(org.base, org.token, ...args),
    view: (id) => electionView(org.base, id),
  };
  before(async () => Object.assign(org, await startOrganizer(prefix, password)));
  after(() => stopOrganizer(org));
  return org;
}

/** A stopwatch for a test's log: `lap(what)` prints the seconds since `stopwatch()` was called. */
export function stopwatch() {
  const t0 = Date.now();
  return (what) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** A draft's `opens_at` a minute ago and `closes_at` a day from now (RFC 3339, whole seconds). */
export function openForADay() {
  const now = Math.floor(Date.now() / 1000);
  const iso = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { opens_at: iso(now - 60), closes_at: iso(now + 86400) };
}

/**
 * The roll of `n` voters v1…vn (v1@example.org, Voter 1, …): written to DIR/roll.csv and
 * uploaded to election `id` with `admin` (`useOrganizer`'s); the file's path.
 */
export async function putRoll(admin, dir, id, n) {
  const roll = `id,email,name\n${Array.from({ length: n }, (_, i) => `v${i + 1},v${i + 1}@example.org,Voter ${i + 1}\n`).join('')}`;
  const rollFile = join(dir, 'roll.csv');
  writeFileSync(rollFile, roll);
  await admin('PUT', `/elections/${id}/roll?format=csv`, roll, 'text/csv');
  return rollFile;
}

/**
 * The credential authority generates the credentials of `rollFile` into DIR/authority with
 * `urne credentials generate`; the organizer uploads its public list and seals. The authority's
 * directory.
 */
export async function sealCredentials(admin, dir, id, rollFile) {
  const authority = join(dir, 'authority');
  urne(['credentials', 'generate', '--quiet', '--election', id, '--roll', rollFile, '--out', authority]);
  await admin('PUT', `/elections/${id}/credentials`, readFileSync(join(authority, 'public-credentials.json'), 'utf8'));
  await admin('POST', `/elections/${id}/seal`, {});
  return authority;
}

/** The voters' credentials, in roll order, from the authority's private-credentials.csv. */
export function privateCredentials(authority) {
  const lines = readFileSync(join(authority, 'private-credentials.csv'), 'utf8').trim().split('\n');
  const column = lines[0].split(',').indexOf('credential');
  return lines.slice(1).map((l) => l.split(',')[column]);
}

/** Casts `votes[i]` with `credentials[i]` in election `id` (its sealed `manifest`), each a ballot made with web/'s protocol code. */
export async function castBallots(base, id, manifest, credentials, votes) {
  const election = loadElection(manifest);
  for (const [i, vote] of votes.entries()) {
    const { json } = createBallot(election, deriveCredentialKey(id, credentials[i]), vote);
    const r = await fetch(`${base}/api/v1/elections/${id}/ballots`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    assert.ok(r.ok, `ballot ${i + 1}: HTTP ${r.status}: ${await r.text()}`);
  }
}
