// The trustee page's worker: the slow steps (argon2id for the sealed files, the ceremony's
// proofs and checks, the decryption's proofs) run here so that the page never freezes, and the
// trustee's secrets stay here: the identity key, the polynomial, the share and the passphrase are
// kept in this worker's memory for the visit, and never go back to the page. Only what is
// public (messages for the server, keys) and the sealed files' text leave it.
//
// Messages are {id, op, ...}; each answer is {id, ok: true, ...} or
// {id, ok: false, error: {kind, message}}. The mix phase's long operations (a shuffle of 10,000
// rows takes minutes) also report how far they are, on the BroadcastChannel whose name the page
// gives (`channel`): public counts only, `{phase, fraction}`.

import {
  Point,
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
  randomScalar,
  sealSecret,
} from '../src/urne/trustee-index.js';
import { meterMultiplications, shuffleFraction, shuffleMultiplications, throttled } from './mix-progress.js';

/** The secrets of the visit, by name (identity, polynomial, share), and the passphrase. */
const kept = { identity: null, polynomial: null, share: null, passphrase: null };

function keep(slot, bytes) {
  kept[slot]?.fill(0);
  kept[slot] = bytes;
}

/** A sender of progress on the page's channel (nothing without one). */
function reporter(channel) {
  if (!channel || typeof BroadcastChannel !== 'function') return Object.assign(() => {}, { close() {} });
  const bc = new BroadcastChannel(channel);
  return Object.assign((m) => bc.postMessage(m), { close: () => bc.close() });
}

/** The requests of an upload, as JSON text with the rows each carries. */
function parts(bodies, rowsOf) {
  return bodies.map((b) => ({ body: JSON.stringify(b), rows: rowsOf(b).length }));
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
  /** The decryption factors of the tally: {tallyView, manifest, verificationKey?, electionId, index, slot} → {body}. */
  async decrypt({ tallyView, manifest, verificationKey, electionId, index, slot }) {
    return { body: await partialDecryption(tallyView, { electionId, index, share: need(slot), manifest, verificationKey }) };
  },
  /**
   * A shuffle of the current mix list (mix.js makeShuffle) with the identity key:
   * {pages (GET …/mix answers, as text), manifest, electionId, index, channel} →
   * {position, rows, chunks: [{body, rows}], end} (the bodies as JSON text, to send in order).
   */
  mixShuffle({ pages, manifest, electionId, index, channel }) {
    const post = reporter(channel);
    try {
      post({ phase: 'check', fraction: 0 });
      const list = mixList(pages);
      const n = list.rows.length;
      const w = list.view.width;
      const report = throttled(shuffleMultiplications(n, w).total, ({ done }) => post({ phase: 'shuffle', fraction: shuffleFraction(done, n, w) }), 0.002);
      const restore = meterMultiplications(Point.prototype, report);
      let made;
      try {
        made = makeShuffle(list, { electionId, index, identitySecret: need('identity'), manifest });
      } finally {
        restore();
      }
      post({ phase: 'encode', fraction: 1 });
      return { position: made.position, rows: n, chunks: parts(made.chunks, (c) => c.outputs), end: JSON.stringify(made.end) };
    } finally {
      post.close();
    }
  },
  /**
   * This trustee's factors of the last mix list (mix.js mixDecryption) with the share (or the
   * identity under independent keys): {pages, manifest, verificationKey?, electionId, index,
   * slot, channel} → {rows, bodies: [{body, rows}]}. One nonce is drawn per ciphertext: the count
   * of draws is the progress.
   */
  mixDecrypt({ pages, manifest, verificationKey, electionId, index, slot, channel }) {
    const post = reporter(channel);
    try {
      post({ phase: 'check', fraction: 0 });
      const list = mixList(pages);
      const total = list.rows.length * list.view.width;
      const report = throttled(total, ({ done }) => post({ phase: 'decrypt', fraction: done / Math.max(1, total) }), 0.002);
      let drawn = 0;
      const draw = () => {
        report(drawn);
        drawn += 1;
        return randomScalar();
      };
      const made = mixDecryption(list, { electionId, index, share: need(slot), manifest, verificationKey, draw });
      post({ phase: 'encode', fraction: 1 });
      return { rows: list.rows.length, bodies: parts(made.bodies, (b) => b.factors) };
    } finally {
      post.close();
    }
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
    const out = await f(args);
    self.postMessage({ id, ok: true, ...out });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { kind: e?.kind ?? 'error', message: String(e?.message ?? e) } });
  }
};
