// workerClient (web/common/worker.js): answers by id, progress in-band before the answer, and
// messages for no pending request ignored. The Worker is a stand-in that records what it is sent
// and lets the test post what a worker would.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { workerClient } from '../common/worker.js';

let made;
const original = globalThis.Worker;

class FakeWorker {
  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.sent = [];
    made.push(this);
  }
  postMessage(m) {
    this.sent.push(m);
  }
  answer(data) {
    this.onmessage({ data });
  }
}

beforeEach(() => {
  made = [];
  globalThis.Worker = FakeWorker;
});
afterEach(() => {
  globalThis.Worker = original;
});

test('progress messages reach the request’s callback in order, then the answer resolves', async () => {
  const work = workerClient('w.js');
  const seen = [];
  const done = work('mixShuffle', { rows: 3 }, (p) => seen.push(p));
  const [w] = made;
  assert.equal(made.length, 1);
  assert.deepEqual(w.options, { type: 'module' });
  const { id } = w.sent[0];
  assert.equal(w.sent[0].op, 'mixShuffle');
  assert.equal(w.sent[0].rows, 3);
  w.answer({ id, progress: { phase: 'check', fraction: 0 } });
  w.answer({ id, progress: { phase: 'shuffle', fraction: 0.5 } });
  w.answer({ id, ok: true, rows: 3 });
  const out = await done;
  assert.equal(out.rows, 3);
  assert.deepEqual(seen, [
    { phase: 'check', fraction: 0 },
    { phase: 'shuffle', fraction: 0.5 },
  ]);
  // After the answer, late messages for that id are ignored (no throw, no callback).
  w.answer({ id, progress: { phase: 'late', fraction: 1 } });
  assert.equal(seen.length, 2);
});

test('progress goes to its own request only, and is dropped without a callback', async () => {
  const work = workerClient('w.js');
  const a = [];
  const first = work('a', {}, (p) => a.push(p));
  const second = work('b');
  const [w] = made;
  assert.equal(made.length, 1, 'one worker for every request');
  const [ia, ib] = w.sent.map((m) => m.id);
  assert.notEqual(ia, ib);
  w.answer({ id: ib, progress: { phase: 'x', fraction: 0.1 } });
  w.answer({ id: ia, progress: { phase: 'y', fraction: 0.2 } });
  w.answer({ id: ib, ok: true, which: 'b' });
  w.answer({ id: ia, ok: true, which: 'a' });
  assert.equal((await second).which, 'b');
  assert.equal((await first).which, 'a');
  assert.deepEqual(a, [{ phase: 'y', fraction: 0.2 }]);
});

test('an error answer rejects with its fields after progress; unknown ids are ignored', async () => {
  const work = workerClient('w.js');
  const seen = [];
  const done = work('mixDecrypt', {}, (p) => seen.push(p.phase));
  const [w] = made;
  const { id } = w.sent[0];
  w.answer({ id: id + 100, progress: { phase: 'stray', fraction: 0 } });
  w.answer({ id: id + 100, ok: true });
  w.answer({ id, progress: { phase: 'board', fraction: 0 } });
  w.answer({ id, ok: false, error: { kind: 'chain', message: 'not descended' } });
  await assert.rejects(done, (e) => e instanceof Error && e.kind === 'chain' && e.message === 'not descended');
  assert.deepEqual(seen, ['board']);
});

test('a failing worker rejects every pending request', async () => {
  const work = workerClient('w.js');
  const one = work('a', {}, () => {});
  const two = work('b');
  made[0].onerror({ message: 'boom' });
  await assert.rejects(one, /boom/);
  await assert.rejects(two, /boom/);
});
