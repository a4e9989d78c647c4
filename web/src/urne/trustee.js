// A trustee's steps in the browser: what `urne trustee` does on the command line
// (crates/urne-cli/src/trustee.rs, trustee/online.rs, trustee/decrypt.rs), over the JSON of the
// server's trustee API (crates/urne-server/src/trustees.rs) instead of files: its identity key
// (spec §8.1), the key-generation ceremony (§8.5) and its decryption factors (§8.3, §8.5.8).
//
// Every function takes what the server relays as it was received (the parsed JSON value, or its
// text) and returns the JSON body to send; none talks to the network, stores anything or shows
// anything. The server is only a relay and is not trusted: as the CLI does, every identity's key
// proof, every signature and the whole ceremony are checked here. Secrets go in and out as
// Uint8Array, in the byte forms the CLI seals in its secret files (vault.js, SECRET_PURPOSE); the
// caller seals them, and zeroes its copies with `.fill(0)` when done.
//
// Errors are UrneError, with these kinds besides the decoding ones of errors.js:
// - `format`: a view, manifest or tally that does not parse (with the field's path);
// - `argument`: an election id, index or name the protocol refuses;
// - `identity`: a trustee's identity missing on the server, or its key proof does not verify;
// - `key`: the secret given is not this trustee's (its key differs from the registered one, or a
//   polynomial or share does not match the ceremony);
// - `state`: the step was done already, or other trustees have not done the previous one (give
//   `force: true` to go on without them, as `--force` does);
// - `ceremony`: the ceremony has no outcome (§8.5.6);
// - `share`: the trustee gets no valid share from a qualified dealer (§8.5.7);
// - `decryption`: the trustee's own factors do not verify.
//
// Every function that draws randomness takes an optional `draw` (a function returning a uniform
// scalar, spec §2.7; by default `randomScalar`), so that tests can replay recorded randomness.

import {
  assembleShare,
  decodeAnswer,
  decodeComplaintMessage,
  decodeDealing,
  encodeAnswer,
  encodeComplaintMessage,
  encodeDealing,
  judgeCeremony,
  makeAnswers,
  makeComplaints,
  makeDealing,
  polynomialFromBytes,
  polynomialToBytes,
  commitPolynomial,
  shareFromBytes,
  shareToBytes,
} from './dkg.js';
import { G, decodePoint, encodePoint, encodeScalar, mod, mulSecret, scalarToBytes } from './encoding.js';
import { decodeDocument, identityScalar } from './checks.js';
import { UrneError } from './errors.js';
import { ItemHasher, TAGS } from './hash.js';
import { array, boolean, object, string, unsigned } from './json.js';
import { manifestFingerprint, parseManifest } from './manifest.js';
import {
  decodeCiphertext,
  decodeSchnorr,
  encodeSchnorr,
  keyProofPrefix,
  proveSchnorr,
  verifyDecryptionFactor,
  verifySchnorr,
} from './proofs.js';
import { randomScalar } from './random.js';

export { SECRET_PURPOSE, DEFAULT_KDF, sealSecret, openSecret } from './vault.js';

const u32 = unsigned(32);
const u64 = unsigned(64);

function argumentError(msg, path) {
  return new UrneError('argument', msg, path === undefined ? {} : { path });
}

/** An election id of spec §4.2: 1 to 64 characters among A–Z a–z 0–9 . _ - (`valid_election_id`). */
function checkElectionId(electionId) {
  if (typeof electionId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(electionId)) {
    throw argumentError(`\`${electionId}\` is not a valid election id`, 'electionId');
  }
}

function checkIndex(index) {
  if (!Number.isInteger(index) || index < 1 || index > 0xffffffff) {
    throw argumentError('the trustee index starts at 1', 'index');
  }
}

// ---------------------------------------------------------------------------------------------
// Identity keys (spec §8.1, §8.5.1).

/** Decodes a TrusteePublic `{"name", "public_key", "key_proof"}`. */
export function decodeTrusteePublic(value, path = '') {
  return object(value, path, {
    name: [string, true],
    public_key: [decodePoint, true],
    key_proof: [decodeSchnorr, true],
  });
}

function publicJson(electionId, index, name, x, draw) {
  checkElectionId(electionId);
  checkIndex(index);
  if (typeof name !== 'string' || name.trim() === '') throw argumentError('the name must not be empty', 'name');
  const X = mulSecret(G, x);
  return {
    name,
    public_key: encodePoint(X),
    key_proof: encodeSchnorr(proveSchnorr(keyProofPrefix(electionId, index, name, X), x, draw)),
  };
}

/**
 * A fresh identity key for trustee `index` (from 1) of `electionId`, named `name` (spec §8.1,
 * `urne trustee new-identity`): `secret` is the key's 32 bytes, which the CLI seals under
 * SECRET_PURPOSE.identity, and `public` the TrusteePublic JSON `{name, public_key, key_proof}`,
 * the body of POST /api/v1/elections/{id}/trustees/{index}. Draws x, then the proof's nonce.
 *
 * @param {{electionId: string, index: number, name: string, draw?: () => bigint}} args
 * @returns {{secret: Uint8Array, public: {name: string, public_key: string, key_proof: {r: string, s: string}}}}
 */
export function newIdentity({ electionId, index, name, draw = randomScalar }) {
  checkElectionId(electionId);
  let x = draw();
  while (x === 0n) x = draw();
  return { secret: scalarToBytes(x), public: publicJson(electionId, index, name, x, draw) };
}

/**
 * The TrusteePublic JSON of an identity secret again (spec §8.1), with a fresh key proof: for a
 * trustee who kept its secret file but not its public one. Draws the proof's nonce.
 *
 * @param {Uint8Array} secret
 * @param {{electionId: string, index: number, name: string, draw?: () => bigint}} args
 */
export function identityPublic(secret, { electionId, index, name, draw = randomScalar }) {
  return publicJson(electionId, index, name, identityScalar(secret), draw);
}

/** Whether a TrusteePublic JSON's key proof verifies for trustee `index` of `electionId` (spec §8.1). */
export function verifyIdentity(trusteePublic, { electionId, index }) {
  const t = decodeDocument(trusteePublic, decodeTrusteePublic);
  try {
    verifySchnorr(keyProofPrefix(electionId, index, t.name, t.public_key), t.public_key, t.key_proof);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The ceremony as the server relays it (GET /api/v1/elections/{id}/ceremony).

/**
 * Decodes the server's ceremony view `{trustees, threshold, ceremony, identities, dealings,
 * complained, complaints, answered, answers}` (`CeremonyView`), strictly.
 */
export function parseCeremonyView(view) {
  return decodeDocument(view, (v, p) =>
    object(v, p, {
      trustees: [u32, true],
      threshold: [u32, true],
      ceremony: [boolean, true],
      identities: [(x, q) => array(x, q, (t, r) => (t === null ? null : decodeTrusteePublic(t, r))), true],
      dealings: [(x, q) => array(x, q, decodeDealing), true],
      complained: [(x, q) => array(x, q, u32), true],
      complaints: [(x, q) => array(x, q, decodeComplaintMessage), true],
      answered: [(x, q) => array(x, q, u32), true],
      answers: [(x, q) => array(x, q, decodeAnswer), true],
    }),
  );
}

function missing(n, done) {
  const set = new Set(done);
  const out = [];
  for (let i = 1; i <= n; i++) if (!set.has(i)) out.push(i);
  return out;
}

/**
 * Where the ceremony stands and what trustee `index` should do next. `stage` is the first round
 * not every trustee has done: 'identities' (registration), 'dealing', 'complaints', 'answers', or
 * 'done' (then `finalize`); with independent keys (`ceremony` false) there are no rounds, and the
 * stage is 'done' once every trustee has registered. `waitingFor` lists the trustees (from 1) who
 * have not done that stage; `mine` says what this trustee has done. Spec §8.5.5.
 *
 * @param {object|string} view the JSON of GET /api/v1/elections/{id}/ceremony
 * @param {number} index this trustee's index, from 1
 * @returns {{stage: string, waitingFor: number[], mine: {registered: boolean, dealt: boolean,
 *   complained: boolean, answered: boolean}, trustees: number, threshold: number, ceremony: boolean}}
 */
export function ceremonyStatus(view, index) {
  const v = parseCeremonyView(view);
  const n = v.trustees;
  if (!Number.isInteger(index) || index < 1 || index > n) {
    throw argumentError(`the index must be between 1 and the number of trustees (${n})`, 'index');
  }
  const registered = missing(
    n,
    v.identities.flatMap((t, i) => (t === null ? [] : [i + 1])),
  );
  const dealt = missing(n, v.dealings.map((d) => d.dealer));
  const complained = missing(n, v.complained);
  const answered = missing(n, v.answered);
  let stage;
  let waitingFor;
  if (registered.length > 0) [stage, waitingFor] = ['identities', registered];
  else if (!v.ceremony) [stage, waitingFor] = ['done', []];
  else if (dealt.length > 0) [stage, waitingFor] = ['dealing', dealt];
  else if (complained.length > 0) [stage, waitingFor] = ['complaints', complained];
  else if (answered.length > 0) [stage, waitingFor] = ['answers', answered];
  else [stage, waitingFor] = ['done', []];
  return {
    stage,
    waitingFor,
    mine: {
      registered: v.identities[index - 1] != null,
      dealt: !dealt.includes(index),
      complained: !complained.includes(index),
      answered: !answered.includes(index),
    },
    trustees: n,
    threshold: v.threshold,
    ceremony: v.ceremony,
  };
}

/**
 * The checks of every ceremony step (online.rs `identities` and `own_key`): a consistent view of
 * a threshold ceremony, every trustee registered with a key proof that verifies for its index,
 * and this trustee's secret the registered key. Returns the view, the identity keys and x.
 */
function prepare(view, { electionId, index, identitySecret }) {
  checkElectionId(electionId);
  const v = parseCeremonyView(view);
  const n = v.trustees;
  if (v.identities.length !== n || !(v.threshold >= 1 && v.threshold <= n)) {
    throw new UrneError(
      'format',
      `the server's ceremony is inconsistent: ${v.identities.length} identities for ${n} trustees, threshold ${v.threshold}`,
    );
  }
  if (!Number.isInteger(index) || index < 1 || index > n) {
    throw argumentError(`the index must be between 1 and the number of trustees (${n})`, 'index');
  }
  if (!v.ceremony) {
    throw new UrneError('state', `election ${electionId} has independent trustee keys: there is no key-generation ceremony`);
  }
  const absent = missing(n, v.identities.flatMap((t, i) => (t === null ? [] : [i + 1])));
  if (absent.length > 0) {
    throw new UrneError('identity', `trustees ${absent.join(', ')} have not registered their identity yet`);
  }
  const ids = v.identities.map((t, i) => {
    try {
      verifySchnorr(keyProofPrefix(electionId, i + 1, t.name, t.public_key), t.public_key, t.key_proof);
    } catch {
      throw new UrneError('identity', `trustee ${i + 1}'s key proof does not verify as trustee ${i + 1} of ${electionId}`, {
        path: `identities[${i}].key_proof`,
      });
    }
    return t.public_key;
  });
  const x = identityScalar(identitySecret);
  if (!mulSecret(G, x).equals(ids[index - 1])) {
    throw new UrneError('key', `the secret is not the key trustee ${index} registered with the server`);
  }
  return { v, ids, x };
}

function waitFor(waiting, what, force) {
  if (waiting.length > 0 && !force) {
    throw new UrneError('state', `trustees ${waiting.join(', ')} have not ${what} yet (give force: true to leave them out)`);
  }
}

/**
 * Ceremony round 1 (spec §8.5.2, §8.5.3, §8.5.5; `urne trustee deal`): checks every identity's key
 * proof, then deals: a fresh polynomial of degree t − 1, its commitments and proof, one share
 * sealed to each trustee's identity key, signed. Returns `dealing`, the body of POST
 * …/ceremony/dealing, and `polynomial`, the coefficients' bytes that the CLI seals under
 * SECRET_PURPOSE.polynomial (needed to answer complaints). Refuses (`state`) if the server has
 * this trustee's dealing already.
 *
 * @param {object|string} view the JSON of GET /api/v1/elections/{id}/ceremony
 * @param {{electionId: string, index: number, identitySecret: Uint8Array, draw?: () => bigint}} args
 * @returns {{dealing: object, polynomial: Uint8Array}}
 */
export function deal(view, { electionId, index, identitySecret, draw = randomScalar }) {
  const { v, ids, x } = prepare(view, { electionId, index, identitySecret });
  if (v.dealings.some((d) => d.dealer === index)) {
    throw new UrneError('state', `the server has trustee ${index}'s dealing already`);
  }
  const { dealing, coefficients } = makeDealing(electionId, index, v.threshold, x, ids, draw);
  return { dealing: encodeDealing(dealing), polynomial: polynomialToBytes(coefficients) };
}

/**
 * Ceremony round 2 (spec §8.5.3, §8.5.4; `urne trustee complain`): opens the share of every
 * other dealer's signed dealing and complains about each one refused. Returns `complaints`, the
 * body of POST …/ceremony/complaints (an empty list tells the others there is none), and `report`,
 * one `{dealer, ok, reason}` per other dealing (see dkg.js `makeComplaints`). Refuses (`state`) if
 * this trustee has complained already, or while trustees have not dealt unless `force`.
 *
 * @param {object|string} view
 * @param {{electionId: string, index: number, identitySecret: Uint8Array, force?: boolean, draw?: () => bigint}} args
 * @returns {{complaints: object[], report: {dealer: number, ok: boolean, reason: string|null}[]}}
 */
export function complain(view, { electionId, index, identitySecret, force = false, draw = randomScalar }) {
  const { v, ids, x } = prepare(view, { electionId, index, identitySecret });
  if (v.complained.includes(index)) throw new UrneError('state', `the server has trustee ${index}'s complaints already`);
  waitFor(missing(v.trustees, v.dealings.map((d) => d.dealer)), 'dealt', force);
  const { complaints, report } = makeComplaints(electionId, index, x, ids, v.dealings, draw);
  return { complaints: complaints.map(encodeComplaintMessage), report };
}

/**
 * Ceremony round 3 (spec §8.5.4; `urne trustee answer`): answers every complaint against this
 * trustee with the share in the clear, signed. `polynomial` is the bytes `deal` returned; it must
 * be the one of this trustee's dealing on the server (`key` otherwise). Returns `answers`, the body
 * of POST …/ceremony/answers. Refuses (`state`) if this trustee has answered already, or while
 * trustees have not complained unless `force`.
 *
 * @param {object|string} view
 * @param {{electionId: string, index: number, identitySecret: Uint8Array, polynomial: Uint8Array,
 *   force?: boolean, draw?: () => bigint}} args
 * @returns {{answers: object[]}}
 */
export function answer(view, { electionId, index, identitySecret, polynomial, force = false, draw = randomScalar }) {
  const { v, x } = prepare(view, { electionId, index, identitySecret });
  if (v.answered.includes(index)) throw new UrneError('state', `the server has trustee ${index}'s answers already`);
  waitFor(missing(v.trustees, v.complained), 'checked their shares', force);
  let coefficients;
  try {
    coefficients = polynomialFromBytes(polynomial);
  } catch (e) {
    throw new UrneError('key', 'the polynomial is damaged', { cause: e });
  }
  const commitment = commitPolynomial(coefficients);
  const mine = v.dealings.filter((d) => d.dealer === index);
  const matches = (d) => d.commitment.length === commitment.length && d.commitment.every((C, k) => C.equals(commitment[k]));
  if (mine.length > 0 && !mine.some(matches)) {
    throw new UrneError('key', `the polynomial is not the one of trustee ${index}'s dealing on the server`);
  }
  const answers = makeAnswers(electionId, index, x, coefficients, v.complaints, draw);
  return { answers: answers.map(encodeAnswer) };
}

/** The JSON-friendly outcome of a judgement: keys as base64url text. */
function outcomeJson(o) {
  return {
    publicKey: encodePoint(o.electionKey),
    verificationKeys: o.verificationKeys.map(encodePoint),
    qualified: o.qualified,
    disqualified: o.disqualified,
    ignored: o.ignored,
    threshold: o.threshold,
  };
}

/**
 * Judges the ceremony as relayed (spec §8.5.6), with no secret: the outcome every observer gets.
 * Throws `ceremony` when there is none. See `finalize` for the outcome's form.
 */
export function judge(view, { electionId }) {
  checkElectionId(electionId);
  const v = parseCeremonyView(view);
  const ids = v.identities.map((t, i) => {
    if (t === null) throw new UrneError('identity', `trustee ${i + 1} has not registered`);
    return t.public_key;
  });
  return outcomeJson(judgeCeremony(electionId, v.threshold, ids, v.dealings, v.complaints, v.answers));
}

/**
 * After the ceremony (spec §8.5.6, §8.5.7; `urne trustee finalize`): judges the whole ceremony as
 * the CLI does and assembles this trustee's share, checked against its verification key. Returns
 * `share`, the 36 bytes (index, big-endian, then s_j) that the CLI seals under
 * SECRET_PURPOSE.share, and `outcome`: `publicKey` (the election key Y) and `verificationKeys`
 * (V_1 … V_n) as base64url points, `qualified` (dealer indices), `disqualified`
 * (`{dealer, reason, accuser?}`), `ignored` and `threshold` (see dkg.js `judgeCeremony`). The
 * trustee should then check that the sealed manifest's public_key is `publicKey` (see
 * `checkManifest`). Refuses (`state`) while trustees have not answered, unless `force`.
 *
 * @param {object|string} view
 * @param {{electionId: string, index: number, identitySecret: Uint8Array, force?: boolean}} args
 * @returns {{share: Uint8Array, outcome: {publicKey: string, verificationKeys: string[], qualified: number[],
 *   disqualified: object[], ignored: object[], threshold: number}}}
 */
export function finalize(view, { electionId, index, identitySecret, force = false }) {
  const { v, ids, x } = prepare(view, { electionId, index, identitySecret });
  waitFor(missing(v.trustees, v.answered), 'answered', force);
  const o = judgeCeremony(electionId, v.threshold, ids, v.dealings, v.complaints, v.answers);
  const s = assembleShare(electionId, index, x, ids, o, v.dealings, v.answers);
  return { share: shareToBytes(index, s), outcome: outcomeJson(o) };
}

/**
 * The check `urne trustee finalize` makes once the setup is sealed: the manifest's public_key is
 * the ceremony's election key, and its trustees and threshold are the ceremony's. `manifest` is
 * the manifest JSON (value or text), `outcome` the one `finalize` returned, `view` the ceremony
 * view. Throws `key` with what differs: the vote must not open then.
 */
export function checkManifest(manifest, outcome, view) {
  const m = parseManifest(manifest);
  const v = parseCeremonyView(view);
  if (encodePoint(m.public_key) !== outcome.publicKey) {
    throw new UrneError('key', `the sealed manifest's public_key is NOT this ceremony's election key ${outcome.publicKey}`);
  }
  const same =
    m.threshold === v.threshold &&
    m.trustees.length === v.identities.length &&
    m.trustees.every((t, i) => v.identities[i] !== null && t.public_key.equals(v.identities[i].public_key));
  if (!same) throw new UrneError('key', "the sealed manifest's trustees or threshold are not the ceremony's");
}

// ---------------------------------------------------------------------------------------------
// Decryption (spec §8.3, §8.5.8; `urne trustee decrypt`).

/** Decodes the tally line `{ballots, total_weight, tally: {questions: [{choices, blank?}]}}`. */
export function parseTallyView(tallyView) {
  return decodeDocument(tallyView, (v, p) =>
    object(v, p, {
      ballots: [u64, true],
      total_weight: [u64, true],
      tally: [
        (t, q) =>
          object(t, q, {
            questions: [
              (x, r) =>
                array(x, r, (qt, s) =>
                  object(qt, s, {
                    choices: [(c, w) => array(c, w, decodeCiphertext), true],
                    blank: [decodeCiphertext, false],
                  }),
                ),
              true,
            ],
          }),
        true,
      ],
    }),
  );
}

/** The tally ciphertexts in canonical order: per question, its choices then its blank flag. */
function tallyCiphertexts(tally) {
  return tally.tally.questions.flatMap((q) => (q.blank ? [...q.choices, q.blank] : q.choices));
}

/** D = s·α with its proof (spec §8.3): draws w. */
function proveFactor(fingerprint, s, V, ct, draw) {
  const D = mulSecret(ct.alpha, s);
  const w = draw();
  const A = mulSecret(G, w);
  const B = mulSecret(ct.alpha, w);
  const c = new ItemHasher(TAGS.DECRYPTION_PROOF)
    .bytes(fingerprint)
    .point(V)
    .point(ct.alpha)
    .point(ct.beta)
    .point(D)
    .point(A)
    .point(B)
    .challenge();
  return { factor: D, a: A, b: B, z: mod(w + c * s) };
}

/**
 * Trustee `index`'s partial decryption of the tally (spec §8.3, §8.5.8; `urne trustee decrypt`):
 * one decryption factor D = s·α per tally ciphertext, in canonical order, with its proof against
 * the verification key V = s·G, each checked before it is returned. Returns the body of POST
 * /api/v1/elections/{id}/decryptions, `{trustee, factors: [{factor, a, b, z}]}`.
 *
 * `share` is what the trustee decrypts with: under threshold sharing, the 36 bytes `finalize`
 * returned (SECRET_PURPOSE.share); with independent keys, the identity secret's 32 bytes.
 * `manifest` (the sealed manifest, value or text; required) gives the fingerprint the proofs bind;
 * its id must be `electionId`, and with independent keys V must be trustee `index`'s public key.
 * `verificationKey` (base64url, e.g. `finalize`'s `outcome.verificationKeys[index − 1]`), when
 * given, must equal V. Unlike the CLI this does not verify the record up to the tally: the page
 * should show the trustee what it decrypts (docs/threat-model.md §3.1).
 *
 * @param {object|string} tallyView the JSON of GET /api/v1/elections/{id}/tally
 * @param {{electionId: string, index: number, share: Uint8Array, manifest: object|string,
 *   verificationKey?: string, draw?: () => bigint}} args
 * @returns {{trustee: number, factors: {factor: string, a: string, b: string, z: string}[]}}
 */
export function partialDecryption(tallyView, { electionId, index, share, manifest, verificationKey, draw = randomScalar }) {
  checkElectionId(electionId);
  checkIndex(index);
  if (manifest === undefined) throw argumentError('the manifest is needed for its fingerprint', 'manifest');
  const m = parseManifest(manifest);
  if (m.id !== electionId) throw argumentError(`the manifest is election ${m.id}'s, not ${electionId}'s`, 'manifest');
  if (index > m.trustees.length) throw argumentError(`election ${m.id} has ${m.trustees.length} trustees`, 'index');
  if (!(share instanceof Uint8Array)) throw new TypeError('share must be a Uint8Array');
  let s;
  if (m.key_sharing === 'threshold') {
    let parsed;
    try {
      parsed = shareFromBytes(share);
    } catch (e) {
      throw new UrneError('key', 'not a share of the key (36 bytes from finalize)', { cause: e });
    }
    if (parsed.index !== index) throw new UrneError('key', `the share is trustee ${parsed.index}'s, not trustee ${index}'s`);
    s = parsed.value;
  } else {
    s = identityScalar(share);
  }
  const V = mulSecret(G, s);
  if (m.key_sharing === 'independent' && !V.equals(m.trustees[index - 1].public_key)) {
    throw new UrneError('key', `the secret is not trustee ${index}'s key in the manifest`);
  }
  if (verificationKey !== undefined && encodePoint(V) !== verificationKey) {
    throw new UrneError('key', `the share does not match trustee ${index}'s verification key ${verificationKey}`);
  }
  const tally = parseTallyView(tallyView);
  const fingerprint = manifestFingerprint(m);
  const factors = tallyCiphertexts(tally).map((ct, k) => {
    const f = proveFactor(fingerprint, s, V, ct, draw);
    try {
      verifyDecryptionFactor(fingerprint, V, ct, f);
    } catch (e) {
      throw new UrneError('decryption', `this trustee's own factor ${k} does not verify`, { cause: e });
    }
    return { factor: encodePoint(f.factor), a: encodePoint(f.a), b: encodePoint(f.b), z: encodeScalar(f.z) };
  });
  return { trustee: index, factors };
}
