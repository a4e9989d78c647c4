// The trustee API's refusals and edge cases (web/src/urne/trustee.js, dkg.js, vault.js): secret
// files that must not open, steps out of turn or with the wrong secret, and the public judgement's
// rules (spec §8.5.6) on dealings and complaints that the honest API never makes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  G,
  SECRET_PURPOSE,
  answer,
  ceremonyStatus,
  complain,
  complainAbout,
  complaintPrefix,
  deal,
  decodeDealing,
  decodePoint,
  encodeComplaintMessage,
  encodeDealing,
  encodePoint,
  finalize,
  fromBase64Url,
  judge,
  makeDealing,
  mulSecret,
  newIdentity,
  openSecret,
  partialDecryption,
  proveSchnorr,
  randomScalar,
  scalarFromBytes,
  sealSecret,
  verifyIdentity,
} from '../src/urne/trustee-index.js';

const LIGHT = { memory_kib: 1024, iterations: 3, parallelism: 1 };
const electionId = 'api-test';

/** Three registered trustees and an empty ceremony with threshold 2. */
function setup() {
  const ids = [1, 2, 3].map((index) => newIdentity({ electionId, index, name: `Trustee ${index}` }));
  const view = {
    trustees: 3,
    threshold: 2,
    ceremony: true,
    identities: ids.map((t) => t.public),
    dealings: [],
    complained: [],
    complaints: [],
    answered: [],
    answers: [],
  };
  return { ids, view, secret: (i) => ids[i - 1].secret };
}

/** Runs the honest rounds on `view` in place; returns the polynomials. */
function runAll({ ids, view }) {
  const polys = [];
  for (let i = 1; i <= 3; i++) {
    const r = deal(view, { electionId, index: i, identitySecret: ids[i - 1].secret });
    view.dealings.push(r.dealing);
    polys.push(r.polynomial);
  }
  for (let i = 1; i <= 3; i++) {
    const r = complain(view, { electionId, index: i, identitySecret: ids[i - 1].secret });
    view.complained.push(i);
    view.complaints.push(...r.complaints);
  }
  for (let i = 1; i <= 3; i++) {
    const r = answer(view, { electionId, index: i, identitySecret: ids[i - 1].secret, polynomial: polys[i - 1] });
    view.answered.push(i);
    view.answers.push(...r.answers);
  }
  return polys;
}

test('secret files: a round trip, and every refusal with its kind', async () => {
  const secret = new Uint8Array(32).fill(9);
  const text = await sealSecret(SECRET_PURPOSE.polynomial, secret, 'a long passphrase', LIGHT);
  const doc = JSON.parse(text);
  assert.deepEqual(Object.keys(doc), ['format', 'purpose', 'kdf', 'nonce', 'ciphertext']);
  assert.deepEqual(Object.keys(doc.kdf), ['algorithm', 'memory_kib', 'iterations', 'parallelism', 'salt']);
  assert.ok(!text.includes('CQkJCQ'), 'the secret is not in the clear');
  assert.deepEqual(await openSecret(text, SECRET_PURPOSE.polynomial, 'a long passphrase'), secret);
  // A fresh salt and nonce each time.
  assert.notEqual(await sealSecret(SECRET_PURPOSE.polynomial, secret, 'a long passphrase', LIGHT), text);

  await assert.rejects(sealSecret(SECRET_PURPOSE.share, secret, '', LIGHT), { kind: 'passphrase' });
  await assert.rejects(sealSecret(SECRET_PURPOSE.share, secret, 'pw', { ...LIGHT, memory_kib: 4 }), { kind: 'format' });
  await assert.rejects(openSecret(text, SECRET_PURPOSE.polynomial, 'wrong'), { kind: 'passphrase' });
  await assert.rejects(openSecret(text, SECRET_PURPOSE.identity, 'a long passphrase'), { kind: 'purpose' });
  await assert.rejects(openSecret('not json', SECRET_PURPOSE.polynomial, 'x'), { kind: 'format' });
  const edit = (f) => {
    const d = JSON.parse(text);
    f(d);
    return JSON.stringify(d, null, 2);
  };
  await assert.rejects(openSecret(edit((d) => (d.extra = 1)), SECRET_PURPOSE.polynomial, 'x'), { kind: 'format' });
  await assert.rejects(openSecret(edit((d) => (d.format = 'urne/secret/v2')), SECRET_PURPOSE.polynomial, 'x'), { kind: 'format' });
  await assert.rejects(openSecret(edit((d) => (d.kdf.algorithm = 'scrypt')), SECRET_PURPOSE.polynomial, 'x'), { kind: 'format' });
  await assert.rejects(openSecret(edit((d) => (d.kdf.memory_kib = 5 * 1024 * 1024)), SECRET_PURPOSE.polynomial, 'x'), { kind: 'format' });
  await assert.rejects(openSecret(edit((d) => (d.nonce = d.nonce.slice(0, 8))), SECRET_PURPOSE.polynomial, 'x'), { kind: 'format' });
  // Relabelling the purpose or lowering a cost breaks the tag.
  const relabelled = edit((d) => (d.purpose = SECRET_PURPOSE.share));
  await assert.rejects(openSecret(relabelled, SECRET_PURPOSE.share, 'a long passphrase'), { kind: 'passphrase' });
  const cheaper = edit((d) => (d.kdf.iterations = 2));
  await assert.rejects(openSecret(cheaper, SECRET_PURPOSE.polynomial, 'a long passphrase'), { kind: 'passphrase' });
});

test('identities: bad arguments are refused, and a key proof binds its index', () => {
  assert.throws(() => newIdentity({ electionId: 'bad id', index: 1, name: 'A' }), { kind: 'argument' });
  assert.throws(() => newIdentity({ electionId, index: 0, name: 'A' }), { kind: 'argument' });
  assert.throws(() => newIdentity({ electionId, index: 1, name: '  ' }), { kind: 'argument' });
  const t = newIdentity({ electionId, index: 2, name: 'B' });
  assert.ok(verifyIdentity(t.public, { electionId, index: 2 }));
  assert.ok(!verifyIdentity(t.public, { electionId, index: 1 }));
  assert.ok(!verifyIdentity({ ...t.public, name: 'C' }, { electionId, index: 2 }));
});

test('ceremonyStatus follows the rounds', () => {
  const s = setup();
  const unregistered = { ...s.view, identities: [s.view.identities[0], null, null] };
  const st = ceremonyStatus(unregistered, 1);
  assert.equal(st.stage, 'identities');
  assert.deepEqual(st.waitingFor, [2, 3]);
  assert.equal(st.mine.registered, true);
  assert.equal(ceremonyStatus({ ...s.view, ceremony: false }, 1).stage, 'done');
  assert.equal(ceremonyStatus(s.view, 2).stage, 'dealing');
  assert.throws(() => ceremonyStatus(s.view, 0), { kind: 'argument' });
  assert.throws(() => ceremonyStatus(s.view, 4), { kind: 'argument' });
  const r = deal(s.view, { electionId, index: 2, identitySecret: s.secret(2) });
  s.view.dealings.push(r.dealing);
  const after = ceremonyStatus(s.view, 2);
  assert.deepEqual([after.stage, after.waitingFor, after.mine.dealt], ['dealing', [1, 3], true]);
  s.view.dealings = [];
  runAll(s);
  assert.equal(ceremonyStatus(s.view, 3).stage, 'done');
});

test('steps refuse the wrong secret, a bad identity, and steps out of turn', () => {
  const s = setup();
  const args = (i) => ({ electionId, index: i, identitySecret: s.secret(i) });
  assert.throws(() => deal(s.view, { ...args(1), identitySecret: s.secret(2) }), { kind: 'key' });
  assert.throws(() => deal(s.view, { ...args(1), identitySecret: new Uint8Array(32) }), { kind: 'key' });
  const forged = structuredClone(s.view);
  forged.identities[2].name = 'Someone else';
  assert.throws(() => deal(forged, args(1)), { kind: 'identity' });
  assert.throws(() => deal({ ...s.view, identities: [...s.view.identities.slice(0, 2), null] }, args(1)), { kind: 'identity' });
  assert.throws(() => deal({ ...s.view, extra: 1 }, args(1)), { kind: 'format' });
  const first = deal(s.view, args(1));
  s.view.dealings.push(first.dealing);
  assert.throws(() => deal(s.view, args(1)), { kind: 'state' });
  // Complaints wait for every dealing, unless forced.
  assert.throws(() => complain(s.view, args(2)), { kind: 'state' });
  const forced = complain(s.view, { ...args(2), force: true });
  assert.deepEqual(forced.complaints, []);
  assert.deepEqual(forced.report, [{ dealer: 1, ok: true, reason: null }]);
  // An answer needs this dealer's own polynomial.
  const other = deal({ ...s.view, dealings: [] }, args(1)).polynomial;
  s.view.complained = [1, 2, 3];
  assert.throws(() => answer(s.view, { ...args(1), polynomial: other }), { kind: 'key' });
  assert.throws(() => answer(s.view, { ...args(1), polynomial: new Uint8Array(31) }), { kind: 'key' });
  assert.deepEqual(answer(s.view, { ...args(1), polynomial: first.polynomial }).answers, []);
});

test('judgement: unsigned and equivocating dealings, wrong shapes and unjustified complaints', () => {
  const s = setup();
  runAll(s);
  const base = judge(s.view, { electionId });
  assert.deepEqual(base.qualified, [1, 2, 3]);

  // A dealing altered in transit is not its dealer's: ignored, and the dealer has no dealing.
  const altered = structuredClone(s.view);
  altered.dealings[0].commitment.reverse();
  const a = judge(altered, { electionId });
  assert.deepEqual(a.disqualified, [{ dealer: 1, reason: 'no_dealing' }]);
  assert.deepEqual(a.ignored[0], { kind: 'invalid', from: 1, message: 'dealing' });
  assert.notEqual(a.publicKey, base.publicKey);

  // Two different dealings signed by dealer 2: equivocation. An identical copy counts once.
  const x2 = scalarFromBytes(s.secret(2));
  const keys = s.view.identities.map((t) => decodePoint(t.public_key));
  const second = encodeDealing(makeDealing(electionId, 2, 2, x2, keys, randomScalar).dealing);
  assert.deepEqual(judge({ ...s.view, dealings: [...s.view.dealings, s.view.dealings[1]] }, { electionId }).qualified, [1, 2, 3]);
  const e = judge({ ...s.view, dealings: [...s.view.dealings, second] }, { electionId });
  assert.deepEqual(e.disqualified, [{ dealer: 2, reason: 'equivocation' }]);

  // A signed dealing for another threshold: shape.
  const wrongT = encodeDealing(makeDealing(electionId, 2, 3, x2, keys, randomScalar).dealing);
  const dealings = s.view.dealings.map((d) => (d.dealer === 2 ? wrongT : d));
  assert.deepEqual(judge({ ...s.view, dealings }, { electionId }).disqualified, [{ dealer: 2, reason: 'shape' }]);

  // Trustee 3 accuses dealer 1 of a share that was good: ignored as unjustified.
  const x3 = scalarFromBytes(s.secret(3));
  const d1 = decodeDealing(s.view.dealings[0]);
  const ctx = { electionId, dealer: 1, recipient: 3 };
  const m = { accuser: 3, dealer: 1, complaint: complainAbout(ctx, x3, keys[2], d1.shares[2], randomScalar) };
  m.signature = proveSchnorr(complaintPrefix(electionId, keys[2], m), x3, randomScalar);
  const u = judge({ ...s.view, complaints: [encodeComplaintMessage(m)] }, { electionId });
  assert.deepEqual(u.qualified, [1, 2, 3]);
  assert.deepEqual(u.ignored, [{ kind: 'unjustified_complaint', accuser: 3, dealer: 1 }]);
  // Signed by another trustee than the accuser: invalid.
  const forged = { ...m, signature: proveSchnorr(complaintPrefix(electionId, keys[1], m), x2, randomScalar) };
  const f = judge({ ...s.view, complaints: [encodeComplaintMessage(forged)] }, { electionId });
  assert.deepEqual(f.ignored, [{ kind: 'invalid', from: 3, message: 'complaint' }]);
});

test('finalize waits for the answers, and its shares decrypt with independent keys too', () => {
  const s = setup();
  runAll(s);
  const answered = s.view.answered;
  s.view.answered = [1];
  assert.throws(() => finalize(s.view, { electionId, index: 2, identitySecret: s.secret(2) }), { kind: 'state' });
  s.view.answered = answered;
  const out = finalize(s.view, { electionId, index: 2, identitySecret: s.secret(2) });
  assert.equal(out.share.length, 36);
  assert.equal(encodePoint(mulSecret(G, scalarFromBytes(out.share.subarray(4)))), out.outcome.verificationKeys[1]);

  // The vectors' election, turned into one with independent keys: the identity secret decrypts.
  const file = JSON.parse(readFileSync(fileURLToPath(new URL('../../test-vectors/trustee/trustee.json', import.meta.url)), 'utf8'));
  const m = structuredClone(file.decryption.manifest);
  delete m.key_sharing;
  m.threshold = 3;
  const sum = m.trustees.map((t) => decodePoint(t.public_key)).reduce((p, q) => p.add(q));
  m.public_key = encodePoint(sum);
  const secret = fromBase64Url(file.identities[1].secret, 32);
  const pd = partialDecryption(file.decryption.tally, { electionId: file.election, index: 2, share: secret, manifest: m });
  assert.equal(pd.trustee, 2);
  assert.equal(pd.factors.length, 6);
  const other = fromBase64Url(file.identities[0].secret, 32);
  assert.throws(() => partialDecryption(file.decryption.tally, { electionId: file.election, index: 2, share: other, manifest: m }), { kind: 'key' });
  // Under threshold sharing, a share of another trustee or another verification key is refused.
  const share = fromBase64Url(file.honest.shares[0], 36);
  const args = { electionId: file.election, share, manifest: file.decryption.manifest };
  assert.throws(() => partialDecryption(file.decryption.tally, { ...args, index: 2 }), { kind: 'key' });
  assert.throws(
    () => partialDecryption(file.decryption.tally, { ...args, index: 1, verificationKey: file.decryption.partials[1].verification_key }),
    { kind: 'key' },
  );
  assert.throws(() => partialDecryption(file.decryption.tally, { ...args, index: 1, electionId: 'other' }), { kind: 'argument' });
});
