#!/usr/bin/env node
// How long the booth takes to encrypt, prove and sign a ballot, in Node. Usage:
//   node bench/ballot.js [runs]        (from web/; default 200 runs after 20 warm-up runs)
// Prints the median and the 10th and 90th percentiles per election shape, and the time of the
// booth's own check of a ballot (verifyBallot), which it runs before sending.

import { createBallot, deriveCredentialKey, generateCredential, loadElection, verifyBallot } from '../src/urne/index.js';
import { testManifest } from '../testkit/election.js';

const runs = Number(process.argv[2] ?? 200);

function stats(times) {
  const t = [...times].sort((a, b) => a - b);
  const at = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  return `median ${at(0.5).toFixed(1)} ms (p10 ${at(0.1).toFixed(1)}, p90 ${at(0.9).toFixed(1)})`;
}

const shapes = [
  ['1-of-5', [[5, 1, 1, false]], [{ selected: [2] }]],
  ['1-of-5 or blank', [[5, 1, 1, true]], [{ selected: [2] }]],
  ['up to 3 of 10', [[10, 0, 3, false]], [{ selected: [1, 4, 7] }]],
];

console.log(`node ${process.version}, ${runs} runs per shape`);
for (const [name, questions, vote] of shapes) {
  const election = loadElection(testManifest('bench', questions));
  const key = deriveCredentialKey('bench', generateCredential());
  const create = [];
  const check = [];
  for (let i = 0; i < runs + 20; i++) {
    const t0 = performance.now();
    const made = createBallot(election, key, vote);
    const t1 = performance.now();
    verifyBallot(election, made.json);
    const t2 = performance.now();
    if (i >= 20) {
      create.push(t1 - t0);
      check.push(t2 - t1);
    }
  }
  console.log(`${name.padEnd(16)} create ${stats(create)}; verify ${stats(check)}`);
}
