// The trustee page's worker: the slow steps (argon2id for the sealed files, the ceremony's
// proofs and checks, the decryption's proofs) run here so that the page never freezes, and the
// trustee's secrets stay here: the identity key, the polynomial, the share and the passphrase are
// kept in this worker's memory for the visit, and never go back to the page. Only what is
// public (messages for the server, keys) and the sealed files' text leave it.
//
// Messages are {id, op, ...}; each answer is {id, ok: true, ...} or
// {id, ok: false, error: {kind, message}}. The mix phase's and the tally check's long operations
// (a shuffle of 10,000 rows takes minutes) also report how far they are before their answer, as
// `{id, progress: {phase, fraction}}` messages (../common/worker.js): public counts only.

import {
  SECRET_PURPOSE,
  answer,
  complain,
  deal,
  finalize,
  identityPublic,
  makeShuffle,
  mixDecryption,
  mixList,
  newIdentity,
  openSecret,
  partialDecryption,
  sealSecret,
} from '../src/urne/trustee-index.js';
import { mixInputDigest, readShuffles, verifyMixChain } from './mix-chain.js';
import { throttled } from './mix-progress.js';
import { checkTally } from './tally-check.js';

/** The secrets of the visit, by name (identity, polynomial, share), and the passphrase. */
const kept = { identity: null, polynomial: null, share: null, passphrase: null };

function keep(slot, bytes) {
  kept[slot]?.fill(0);
  kept[slot] = bytes;
}

/** The requests of an upload, as JSON text with the rows each carries. */
function parts(bodies, rowsOf) {
  return bodies.map((b) => ({ body: JSON.stringify(b), rows: rowsOf(b).length }));
}

/** GET of the election's API `base` + `path` (public data; no cookie goes). */
async function get(base, path) {
  const r = await fetch(`${base}${path}`, { cache: 'no-store', credentials: 'omit' });
  if (!r.ok) throw Object.assign(new Error(`GET ${path}: HTTP ${r.status}`), { kind: 'network' });
  return r;
}

/** The board's lines `from` … `from + limit − 1`, parsed, from GET …/board/lines. */
function boardReader(base) {
  return async (from, limit) => {
    const text = await (await get(base, `/board/lines?from=${from}&limit=${limit}`)).text();
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l));
  };
}

function need(slot) {
  if (kept[slot] === null) throw Object.assign(new Error(`no ${slot} is unlocked`), { kind: 'locked' });
  return kept[slot];
}

const ops = {
  /** A new identity, sealed: {electionId, index, name, passphrase, kdf} → {public, file}. */
  async create({ electionId, index, name, passphrase, kdf }) {
    const made = await newIdentity({ electionId, index, name });
    const file = await sealSecret(SECRET_PURPOSE.identity, made.secret, passphrase, kdf);
    keep('identity', made.secret);
    kept.passphrase = passphrase;
    return { public: made.public, file };
  },
  /** The kept identity's public part under another name (a name the server refused). */
  async rename({ electionId, index, name }) {
    return { public: await identityPublic(need('identity'), { electionId, index, name }) };
  },
  /**
   * Opens a sealed file and keeps its secret: {slot, text, passphrase} → {public_key} (the
   * identity's public key, for the page to compare with the registered one).
   */
  async unlock({ slot, text, passphrase, electionId, index, name }) {
    const bytes = await openSecret(text, SECRET_PURPOSE[slot], passphrase);
    keep(slot, bytes);
    kept.passphrase = passphrase;
    if (slot === 'identity') return { publicKey: (await identityPublic(bytes, { electionId, index, name })).public_key };
    return {};
  },
  /** Which secrets are kept. */
  has() {
    return { identity: kept.identity !== null, polynomial: kept.polynomial !== null, share: kept.share !== null };
  },
  /** Round 1: {view, electionId, index, kdf} → {dealing, file} (the polynomial, sealed). */
  async deal({ view, electionId, index, kdf }) {
    const made = await deal(view, { electionId, index, identitySecret: need('identity') });
    const file = await sealSecret(SECRET_PURPOSE.polynomial, made.polynomial, need('passphrase'), kdf);
    keep('polynomial', made.polynomial);
    return { dealing: made.dealing, file };
  },
  /** Round 2: {view, electionId, index} → {complaints, report}. */
  async complain({ view, electionId, index }) {
    return await complain(view, { electionId, index, identitySecret: need('identity') });
  },
  /** Round 3: {view, electionId, index} → {answers}. */
  async answer({ view, electionId, index }) {
    return await answer(view, { electionId, index, identitySecret: need('identity'), polynomial: need('polynomial') });
  },
  /** The share: {view, electionId, index, kdf} → {outcome, file} (the share, sealed). */
  async finalize({ view, electionId, index, kdf }) {
    const made = await finalize(view, { electionId, index, identitySecret: need('identity') });
    const file = await sealSecret(SECRET_PURPOSE.share, made.share, need('passphrase'), kdf);
    keep('share', made.share);
    return { outcome: made.outcome, file };
  },
  /**
   * The decryption factors of the tally: {tallyView, manifest, verificationKey?, electionId,
   * index, slot, base} → {body}. `base` is the election's API path. Before any factor,
   * the tally must be the board's tally line and the weighted sum of the ballots counted from
   * the board's signed ballot lines (tally-check.js): `tally`, `large` or `format` otherwise.
   * Progress (`post`): phases `setup`, `ballots`, `decrypt`.
   */
  async decrypt({ tallyView, manifest, verificationKey, electionId, index, slot, base }, post) {
    need(slot);
    post({ phase: 'setup', fraction: 0 });
    const size = (await (await get(base, '')).json()).board_size;
    if (!Number.isSafeInteger(size) || size < 0) throw Object.assign(new Error('the election view gives no board size'), { kind: 'format' });
    let phase = 'setup';
    const read = throttled(size, (p) => post({ phase, fraction: p.done / Math.max(1, p.total) }), 0.01);
    await checkTally({
      readLines: boardReader(base),
      size,
      manifest,
      tallyView,
      onProgress: (ph, done) => {
        if (ph !== phase) post({ phase: (phase = ph), fraction: done / Math.max(1, size) });
        read(done);
      },
    });
    post({ phase: 'decrypt', fraction: 0 });
    return { body: await partialDecryption(tallyView, { electionId, index, share: need(slot), manifest, verificationKey }) };
  },
  /**
   * A shuffle of the current mix list (mix.js makeShuffle) with the identity key:
   * {pages (GET …/mix answers, as text), manifest, electionId, index} →
   * {position, rows, chunks: [{body, rows}], end} (the bodies as JSON text, to send in order).
   */
  mixShuffle({ pages, manifest, electionId, index }, post) {
    post({ phase: 'check', fraction: 0 });
    const list = mixList(pages);
    const n = list.rows.length;
    let report = null;
    const onProgress = (done, total) => {
      report ??= throttled(total, (p) => post({ phase: 'shuffle', fraction: p.done / Math.max(1, p.total) }), 0.002);
      report(done);
    };
    const made = makeShuffle(list, { electionId, index, identitySecret: need('identity'), manifest, onProgress });
    post({ phase: 'encode', fraction: 1 });
    return { position: made.position, rows: n, chunks: parts(made.chunks, (c) => c.outputs), end: JSON.stringify(made.end) };
  },
  /**
   * This trustee's factors of the last mix list (mix.js mixDecryption) with the share (or the
   * identity under independent keys): {pages, manifest, verificationKey?, electionId, index,
   * slot, base} → {rows, bodies: [{body, rows}]}. `base` is the election's API path
   * (/api/v1/elections/{id}). Before any factor, the list must descend from this trustee's own
   * signed shuffle through shuffles whose proofs the worker verifies here (mix-chain.js), read
   * from the board: `unshuffled` or `chain` otherwise.
   */
  async mixDecrypt({ pages, manifest, verificationKey, electionId, index, slot, base }, post) {
    post({ phase: 'check', fraction: 0 });
    const list = mixList(pages);
    // The signatures are checked with the manifest's key of this trustee: when the visit holds
    // the identity (always under independent keys), that key must be the identity's.
    if (kept.identity !== null) {
      const entry = (typeof manifest === 'string' ? JSON.parse(manifest) : manifest)?.trustees?.[index - 1];
      const mine = (await identityPublic(kept.identity, { electionId, index, name: entry?.name ?? '' })).public_key;
      if (entry?.public_key !== mine) {
        throw Object.assign(new Error(`chain: the manifest's key of trustee ${index} is not your identity's`), { kind: 'chain' });
      }
    }
    post({ phase: 'board', fraction: 0 });
    const size = (await (await get(base, '')).json()).board_size;
    if (!Number.isSafeInteger(size) || size < 0) throw Object.assign(new Error('the election view gives no board size'), { kind: 'format' });
    const readLines = boardReader(base);
    const found = await readShuffles(readLines, size, index);
    // Refused before anything else is read or computed (verifyMixChain says why).
    if (found.own === null) verifyMixChain({ manifest, index, found, rows: list.rows });
    let inputDigest;
    if (found.own === 0) {
      const read = throttled(size, (p) => post({ phase: 'ballots', fraction: p.done / Math.max(1, p.total) }), 0.01);
      inputDigest = await mixInputDigest(readLines, manifest, size, read);
    }
    let verified = null;
    const onVerify = (done, total) => {
      verified ??= throttled(total, (p) => post({ phase: 'verify', fraction: p.done / Math.max(1, p.total) }), 0.002);
      verified(done);
    };
    verifyMixChain({ manifest, index, found, rows: list.rows, inputDigest, onProgress: onVerify });
    let report = null;
    const onProgress = (done, total) => {
      report ??= throttled(total, (p) => post({ phase: 'decrypt', fraction: p.done / Math.max(1, p.total) }), 0.002);
      report(done);
    };
    const made = mixDecryption(list, { electionId, index, share: need(slot), manifest, verificationKey, onProgress });
    post({ phase: 'encode', fraction: 1 });
    return { rows: list.rows.length, bodies: parts(made.bodies, (b) => b.factors) };
  },
  /** Forgets the secret of one slot (a file that turned out not to be this trustee's). */
  drop({ slot }) {
    keep(slot, null);
    return {};
  },
  /** Forgets every secret of the visit. */
  forget() {
    for (const slot of ['identity', 'polynomial', 'share']) keep(slot, null);
    kept.passphrase = null;
    return {};
  },
};

self.onmessage = async (event) => {
  const { id, op, ...args } = event.data;
  try {
    const f = ops[op];
    if (!f) throw new Error(`unknown operation ${op}`);
    // Progress of a long step goes before the answer, under the request's id.
    const out = await f(args, (progress) => self.postMessage({ id, progress }));
    self.postMessage({ id, ok: true, ...out });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { kind: e?.kind ?? 'error', message: String(e?.message ?? e) } });
  }
};
