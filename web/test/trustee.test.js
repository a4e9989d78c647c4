// test-vectors/trustee/trustee.json: a trustee's steps (spec §8.1, §8.3, §8.5) as urne-core
// computes them, with the randomness they drew. The JS API (web/src/urne/trustee.js) replays that
// randomness and must give the same messages, byte for byte, the same outcome and the same
// secrets; and it must open the secret file that `urne trustee` wrote.
// crates/urne-cli/tests/trustee_js.rs writes the file and checks the other direction.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  SECRET_PURPOSE,
  answer,
  ceremonyStatus,
  complain,
  decodeScalar,
  deal,
  finalize,
  fromBase64Url,
  identityPublic,
  judge,
  newIdentity,
  openSecret,
  partialDecryption,
  toBase64Url,
} from '../src/urne/trustee-index.js';

const file = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../test-vectors/trustee/trustee.json', import.meta.url)), 'utf8'),
);
const electionId = file.election;

/** A `draw` that replays recorded scalars and checks that all of them, no more, are used. */
function replay(draws) {
  let i = 0;
  const draw = () => {
    assert.ok(i < draws.length, 'drew more scalars than recorded');
    return decodeScalar(draws[i++]);
  };
  draw.done = () => assert.equal(i, draws.length, 'drew fewer scalars than recorded');
  return draw;
}

const secrets = file.identities.map((t) => fromBase64Url(t.secret, 32));
const publics = file.identities.map((t) => t.public);

function view(record, { dealings = [], complaints = null, answers = null } = {}) {
  return {
    trustees: file.trustees,
    threshold: file.threshold,
    ceremony: true,
    identities: publics,
    dealings,
    complained: complaints ? record.complaints.map((c) => c.accuser) : [],
    complaints: complaints ?? [],
    answered: answers ? record.answers.map((a) => a.dealer) : [],
    answers: answers ?? [],
  };
}

const allDealings = (r) => r.dealings.map((d) => d.dealing);
const allComplaints = (r) => r.complaints.flatMap((c) => c.complaints);
const allAnswers = (r) => r.answers.flatMap((a) => a.answers);

test('trustee.json identities: newIdentity reproduces each key and key proof', () => {
  for (const t of file.identities) {
    const draw = replay(t.draws);
    const made = newIdentity({ electionId, index: t.index, name: t.name, draw });
    draw.done();
    assert.equal(toBase64Url(made.secret), t.secret);
    assert.deepEqual(made.public, t.public);
    const again = identityPublic(made.secret, { electionId, index: t.index, name: t.name });
    assert.equal(again.public_key, t.public.public_key);
  }
});

for (const which of ['honest', 'bad_share']) {
  const record = file[which];
  test(`trustee.json ${which}: deal, complain, answer and finalize reproduce urne-core's`, () => {
    if (which === 'honest') {
      for (const d of record.dealings) {
        const draw = replay(d.draws);
        const out = deal(view(record), { electionId, index: d.dealer, identitySecret: secrets[d.dealer - 1], draw });
        draw.done();
        assert.deepEqual(out.dealing, d.dealing);
        assert.equal(toBase64Url(out.polynomial), d.polynomial);
      }
    }
    const dealings = allDealings(record);
    for (const c of record.complaints) {
      const draw = replay(c.draws);
      const out = complain(view(record, { dealings }), {
        electionId,
        index: c.accuser,
        identitySecret: secrets[c.accuser - 1],
        draw,
      });
      draw.done();
      assert.deepEqual(out.complaints, c.complaints);
      for (const r of out.report) {
        const wrong = which === 'bad_share' && c.accuser === 3 && r.dealer === 2;
        assert.equal(r.ok, !wrong, `trustee ${c.accuser} about dealer ${r.dealer}`);
        if (wrong) assert.equal(r.reason, 'decrypt');
      }
    }
    const complaints = allComplaints(record);
    const unanswered = view(record, { dealings, complaints, answers: [] });
    unanswered.answered = [1, 2, 3];
    assert.deepEqual(judge(unanswered, { electionId }), record.outcome_unanswered);
    for (const a of record.answers) {
      const draw = replay(a.draws);
      const polynomial = fromBase64Url(record.dealings[a.dealer - 1].polynomial);
      const out = answer(view(record, { dealings, complaints }), {
        electionId,
        index: a.dealer,
        identitySecret: secrets[a.dealer - 1],
        polynomial,
        draw,
      });
      draw.done();
      assert.deepEqual(out.answers, a.answers);
    }
    const full = view(record, { dealings, complaints, answers: allAnswers(record) });
    for (let j = 1; j <= file.trustees; j++) {
      const out = finalize(full, { electionId, index: j, identitySecret: secrets[j - 1] });
      assert.deepEqual(out.outcome, record.outcome);
      assert.equal(toBase64Url(out.share), record.shares[j - 1]);
      const status = ceremonyStatus(full, j);
      assert.equal(status.stage, 'done');
      assert.deepEqual(status.mine, { registered: true, dealt: true, complained: true, answered: true });
    }
  });
}

test('trustee.json decryption: partialDecryption reproduces each trustee factors and proofs', () => {
  const { manifest, tally, partials } = file.decryption;
  for (const p of partials) {
    const draw = replay(p.draws);
    const out = partialDecryption(tally, {
      electionId,
      index: p.trustee,
      share: fromBase64Url(file.honest.shares[p.trustee - 1], 36),
      manifest,
      verificationKey: p.verification_key,
      draw,
    });
    draw.done();
    assert.deepEqual(out, p.partial);
  }
});

test('trustee.json secret_file: a file written by urne trustee opens, and only as it should', async () => {
  const s = file.secret_file;
  const secret = await openSecret(s.file, SECRET_PURPOSE.identity, s.passphrase);
  const pub = identityPublic(secret, { electionId, index: s.index, name: s.name });
  assert.equal(pub.public_key, s.public.public_key);
  await assert.rejects(openSecret(s.file, SECRET_PURPOSE.identity, 'not it'), { kind: 'passphrase' });
  await assert.rejects(openSecret(s.file, SECRET_PURPOSE.share, s.passphrase), { kind: 'purpose' });
  const cheaper = s.file.replace('"iterations": 3', '"iterations": 2');
  assert.notEqual(cheaper, s.file);
  await assert.rejects(openSecret(cheaper, SECRET_PURPOSE.identity, s.passphrase), { kind: 'passphrase' });
});
