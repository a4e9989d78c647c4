#!/usr/bin/env node
// Makes ballots with the booth's code, for the Rust test that checks them with urne-verify
// (crates/urne-verify/tests/booth_js.rs). Reads on standard input
//   {"manifest": "<manifest JSON text>", "voters": [{"credential": "<string>", "vote": [...]}]}
// where a vote is, per question, {"selected": [answer indices]} or {"blank": true}, {"ranks":
// [rank or 0 per answer]} for a ranked question, {"grades": [grade position, 0 = best, per
// answer]} for a graded one (the protocol core's vote, docs/booth.md); writes on
// standard output
//   {"fingerprint": "<b64>", "ballots": [{"ballot": "<ballot JSON text>", "tracker": "<b64>"}]}
// Each ballot is made exactly as the booth makes it (fresh randomness from the system's
// generator) and checked by the booth's own verifier before it is written.

import { readFileSync } from 'node:fs';
import { createBallot, deriveCredentialKey, loadElection, toBase64Url, verifyBallot } from '../src/urne/index.js';

const input = JSON.parse(readFileSync(0, 'utf8'));
const election = loadElection(input.manifest);
const ballots = input.voters.map((voter, i) => {
  const key = deriveCredentialKey(election.manifest.id, voter.credential);
  const made = createBallot(election, key, voter.vote);
  const checked = verifyBallot(election, made.json);
  if (checked.tracker !== made.tracker) throw new Error(`voter ${i}: the tracker changed on verification`);
  return { ballot: made.json, tracker: made.tracker };
});
process.stdout.write(`${JSON.stringify({ fingerprint: toBase64Url(election.fingerprint), ballots })}\n`);
