// The trustee page's mix helpers (web/trustee/mix-progress.js): the stage and the trustee's
// possible action from the server's mix view, mirroring `urne trustee shuffle` / `mix-decrypt`;
// the progress that mix.js makeShuffle and mixDecryption report (`onProgress`), and that it
// changes nothing of their output; the throttled reporter; the byte counts of an upload.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  decodeCiphertext,
  decodePoint,
  encodeCiphertext,
  encodePoint,
  encrypt,
  listDigest,
  makeShuffle,
  mixDecryption,
  mixList,
  newIdentity,
  randomScalar,
  shuffleWork,
  toBase64Url,
} from '../src/urne/trustee-index.js';
import { formatBytes, fraction, mixStage, throttled, uploadPlan } from '../trustee/mix-progress.js';

/** A mix view as GET …/mix?limit=0 answers, with `over` changed. */
function view(over = {}) {
  return {
    ballots: 5,
    width: 3,
    shuffles_needed: 2,
    decryptions_needed: 2,
    tally_decryptions: 2,
    shufflers: [],
    next_shuffle: 0,
    decryptors: [],
    decrypted: false,
    result: false,
    list_digest: 'x',
    max_upload_bytes: 1 << 20,
    from: 0,
    rows: [],
    ...over,
  };
}

test('the stage waits for the tally, then the shuffles, then the decryptions', () => {
  assert.equal(mixStage(view({ tally_decryptions: 1 }), 1, 3).stage, 'tally');
  assert.equal(mixStage(view({ tally_decryptions: 1 }), 1, 3).canShuffle, false);
  const first = mixStage(view(), 1, 3);
  assert.equal(first.stage, 'shuffle');
  assert.equal(first.canShuffle, true);
  assert.equal(first.position, 0);
  assert.deepEqual(first.mayShuffle, [1, 2, 3]);
  assert.equal(first.shufflesLeft, 2);
  const second = view({ shufflers: [2], next_shuffle: 1 });
  assert.equal(mixStage(second, 2, 3).canShuffle, false, 'not twice');
  assert.equal(mixStage(second, 2, 3).shuffled, true);
  assert.equal(mixStage(second, 3, 3).canShuffle, true);
  assert.equal(mixStage(second, 3, 3).position, 1);
  assert.deepEqual(mixStage(second, 3, 3).mayShuffle, [1, 3]);
  assert.equal(mixStage(second, 3, 3).canDecrypt, false, 'no decryption before enough shuffles');
  const decrypting = view({ shufflers: [2, 1], next_shuffle: 2, decryptors: [1] });
  assert.equal(mixStage(decrypting, 3, 3).stage, 'decrypt');
  assert.equal(mixStage(decrypting, 3, 3).canShuffle, false);
  assert.equal(mixStage(decrypting, 3, 3).canDecrypt, true, 'a trustee who did not shuffle decrypts');
  assert.equal(mixStage(decrypting, 1, 3).canDecrypt, false, 'not twice');
  assert.equal(mixStage(decrypting, 1, 3).decryptionsLeft, 1);
  assert.equal(mixStage(view({ shufflers: [2, 1], decrypted: true }), 3, 3).stage, 'done');
  assert.equal(mixStage(view({ ballots: 0 }), 1, 3).canShuffle, false, 'nothing to shuffle');
});

test('makeShuffle and mixDecryption report their progress, and it changes nothing of what they make', () => {
  const ids = [1, 2].map((index) => newIdentity({ electionId: 'mix-progress', index, name: `T${index}` }));
  const keys = ids.map((t) => decodePoint(t.public.public_key));
  const manifest = {
    format: 'urne/manifest/v1',
    id: 'mix-progress',
    title: 'Progress',
    description: '',
    questions: [{ text: 'Rank', answers: ['A', 'B', 'C'], min: 1, max: 3, blank: false, counting: 'schulze' }],
    weights: 'equal',
    revote: 'last_counts',
    opens_at: '2026-03-01T08:00:00Z',
    closes_at: '2026-03-08T18:00:00Z',
    trustees: ids.map((t) => t.public),
    threshold: 2,
    public_key: encodePoint(keys[0].add(keys[1])),
  };
  const Y = keys[0].add(keys[1]);
  /** A deterministic draw: the same scalars for both runs of a pair. */
  const seeded = () => {
    let k = 1n;
    return () => {
      k = (k * 6364136223846793005n + 1442695040888963407n) % (1n << 250n);
      return k;
    };
  };
  for (const n of [1, 4, 9]) {
    const rows = Array.from({ length: n }, (_, i) => [1, 2, 3].map((v) => encodeCiphertext(encrypt(Y, (v + i) % 4, randomScalar()))));
    const digest = toBase64Url(listDigest(rows.map((r) => r.map((c) => decodeCiphertext(c)))));
    const list = mixList([view({ ballots: n, list_digest: digest, rows })]);
    const seen = [];
    const args = { electionId: 'mix-progress', index: 1, identitySecret: ids[0].secret, manifest };
    const withProgress = makeShuffle(list, { ...args, draw: seeded(), onProgress: (done, total) => seen.push([done, total]) });
    const without = makeShuffle(list, { ...args, draw: seeded() });
    assert.deepEqual(withProgress, without, `${n} rows: the same shuffle with and without progress`);
    const total = shuffleWork(n, 3);
    assert.ok(seen.length >= 2 * n, `${n} rows: ${seen.length} reports`);
    assert.ok(
      seen.every(([d, t], i) => t === total && d >= 0 && d <= t && (i === 0 || d >= seen[i - 1][0])),
      'monotonic, within the total',
    );
    assert.deepEqual(seen[0], [0, total]);
    assert.deepEqual(seen.at(-1), [total, total]);
    // The proof's sums (the slow part) come last: half the work is done only after the
    // re-encryption's n reports and the commitments' three.
    const half = seen.findIndex(([d]) => d >= total / 2);
    assert.ok(half > n + 3, `${n} rows: half the work done after ${half} reports`);

    const decrypting = mixList([view({ ballots: n, shufflers: [1, 2], next_shuffle: 2, list_digest: digest, rows })]);
    const counts = [];
    const dArgs = { electionId: 'mix-progress', index: 1, share: ids[0].secret, manifest };
    const d1 = mixDecryption(decrypting, { ...dArgs, draw: seeded(), onProgress: (done, t) => counts.push([done, t]) });
    const d2 = mixDecryption(decrypting, { ...dArgs, draw: seeded() });
    assert.deepEqual(d1, d2, 'the same factors with and without progress');
    assert.deepEqual(counts.at(-1), [3 * n, 3 * n]);
    assert.deepEqual(
      counts.slice(0, -1).map(([d]) => d),
      Array.from({ length: 3 * n }, (_, i) => i),
      'one report before each factor',
    );
  }
});

test('the reporter sends about one message per step, and the last', () => {
  const sent = [];
  const report = throttled(1000, (m) => sent.push(m), 0.1);
  for (let i = 1; i <= 1000; i += 1) report(i);
  assert.ok(sent.length >= 10 && sent.length <= 12, `${sent.length} messages`);
  assert.deepEqual(sent.at(-1), { done: 1000, total: 1000 });
  assert.equal(fraction(5, 10), 0.5);
  assert.equal(fraction(10, 10, true), 0.99);
  assert.equal(fraction(0, 0), 1);
  assert.equal(fraction(12, 10), 1);
});

test('an upload counts its rows and bytes; sizes read in words', () => {
  const plan = uploadPlan([
    { body: '{"a":1}', rows: 2 },
    { body: '{"b":"é"}', rows: 3 },
  ]);
  assert.equal(plan.rows, 5);
  assert.equal(plan.bytes, 7 + 10);
  assert.deepEqual(
    plan.parts.map((p) => p.bytes),
    [7, 10],
  );
  assert.equal(formatBytes(512, 'en'), '512 byte');
  assert.equal(formatBytes(1_500, 'en'), '1.5 kB');
  assert.equal(formatBytes(2_345_678, 'en'), '2.3 MB');
  assert.match(formatBytes(2_345_678, 'fr'), /^2,3\sMo$/);
});

test('the mix steps have their words in English and in French', async () => {
  globalThis.document ??= { documentElement: {} };
  const { t, setLanguage } = await import('../trustee/words.js');
  const keys = [
    'mixCaption',
    'mixYourTurn',
    'mixNext',
    'mixShuffles',
    'mixDecryptions',
    'mixDecryptedAll',
    'colShuffle',
    'colMixDecrypted',
    'shuffleNumber',
    'mixShuffleHeading',
    'mixShuffleIntro',
    'mixTrust',
    'mixShuffleButton',
    'mixProgressLabel',
    'mixReading',
    'mixChecking',
    'mixShuffling',
    'mixDecrypting',
    'mixEncoding',
    'mixSending',
    'mixShuffledAlready',
    'mixCannotShuffle',
    'mixNoMoreShuffles',
    'mixShuffledHeading',
    'mixWaitHeading',
    'mixShuffled',
    'mixWaitShuffles',
    'mixNoBallot',
    'mixDecryptHeading',
    'mixDecryptIntro',
    'mixDecryptedAlready',
    'mixCannotDecrypt',
    'mixDecryptedHeading',
    'mixDoneHeading',
    'mixDecryptedMine',
    'mixDecryptTrust',
    'mixNotShuffled',
    'mixCliHow',
    'mixCliSecret',
    'mixChainRefused',
    'mixReadingBoard',
    'mixReadingBallots',
    'mixVerifying',
  ];
  const say = (k) => t(k, 2, 3, 'A, B', 'x');
  setLanguage('en');
  const en = keys.map(say);
  setLanguage('fr');
  const fr = keys.map(say);
  keys.forEach((k, i) => {
    assert.notEqual(en[i], k, `${k} has English words`);
    assert.notEqual(fr[i], en[i], `${k} has French words`);
  });
  assert.match(t('mixNext', 2, 2, 'Chloé Petit'), /assesseur/, 'French pages say assesseur');
  assert.match(t('mixNotShuffled'), /urne trustee mix-decrypt/, 'the refusal points to the CLI');
  setLanguage('en');
});
