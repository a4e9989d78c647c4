// The booth's worker: everything slow happens here, so that the page never freezes. It makes
// the ballot (encrypts, proves, signs: web/src/urne, docs/spec.md §7), checks it as the server
// will, and checks the receipt the server gives back. Messages are {id, op, ...} and each answer
// is {id, ok: true, ...} or {id, ok: false, error: {kind, message, path}}.

import { checkOpenedBallot, createAuditedBallot, createBallot, deriveCredentialKey, loadElection, verifyBallot, verifyReceipt } from '../src/urne/index.js';

let loaded = null; // {text, election}: the election last loaded, kept for the receipt's check

function election(manifest) {
  const text = JSON.stringify(manifest);
  if (loaded === null || loaded.text !== text) loaded = { text, election: loadElection(manifest) };
  return loaded.election;
}

const ops = {
  /** Makes a ballot: {manifest, credential, vote} → {json, tracker, ms}. */
  ballot({ manifest, credential, vote }) {
    const e = election(manifest);
    const key = deriveCredentialKey(e.manifest.id, credential);
    const start = performance.now();
    const made = createBallot(e, key, vote);
    const ms = performance.now() - start;
    const checked = verifyBallot(e, made.json);
    if (checked.tracker !== made.tracker) throw new Error('the ballot changed when checked');
    return { json: made.json, tracker: made.tracker, ms };
  },
  /**
   * Makes a ballot to audit (Benaloh): {manifest, credential, vote} → {opened, tracker}, the
   * opened ballot's JSON text (indented) with the randomness of each ciphertext. It is checked
   * here as the verification page will check it; the booth never sends it.
   */
  audit({ manifest, credential, vote }) {
    const e = election(manifest);
    const key = deriveCredentialKey(e.manifest.id, credential);
    const made = createAuditedBallot(e, key, vote);
    if (!checkOpenedBallot(e, made.opened).ok) throw new Error('the opened ballot does not match its choices');
    return { opened: JSON.stringify(made.opened, null, 2), tracker: made.tracker };
  },
  /** Checks a receipt: {manifest, head, inclusion: {seq, line, path}, tracker, ballotJson}. */
  receipt({ manifest, head, inclusion, tracker, ballotJson }) {
    const { size } = verifyReceipt(election(manifest), head, inclusion, tracker, ballotJson);
    return { size };
  },
};

self.onmessage = (event) => {
  const { id, op, ...args } = event.data;
  try {
    self.postMessage({ id, ok: true, ...ops[op](args) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { kind: e.kind ?? 'error', message: String(e.message ?? e), path: e.path } });
  }
};
