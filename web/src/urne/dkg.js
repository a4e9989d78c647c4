// The key-generation ceremony of spec §8.5 (Pedersen's distributed key generation [Ped91] with
// Feldman's commitments [Fel87] and Shamir's sharing [Sha79]), in the browser: polynomials and
// their commitments (§8.5.2), shares sealed to identity keys (§8.5.3), complaints with their DLEQ
// proofs and answers (§8.5.4), the signed messages (§8.5.5), the public judgement (§8.5.6) and a
// trustee's share (§8.5.7). It follows urne-core's dkg.rs, dkg_transport.rs, proofs/dleq.rs and
// ceremony.rs step for step, drawing randomness in the same order, so that recorded randomness
// reproduces their messages byte for byte (test-vectors/trustee.json).
//
// Notation as in the spec: upper-case names are points (C, E, K, X, A, B), lower-case scalars
// (bigints mod ℓ). Messages are handled decoded: points as @noble/curves points, scalars as
// bigints, byte strings as Uint8Array; `encode…`/`decode…` convert to and from their JSON forms,
// which refuse unknown fields (spec §2.6).
//
// Timing (informative): secret scalars are multiplied only by @noble/curves' constant-time
// ladder (`mulSecret`); bigint arithmetic on secrets is variable-time, as in proofs.js. Bigints
// cannot be zeroed: byte forms of secrets are, where this module makes them.

import { chacha20poly1305 } from './trustee-deps.js';
import {
  G,
  IDENTITY,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  fromBase64Url,
  mod,
  mulSecret,
  scalarFromBytes,
  scalarToBytes,
  toBase64Url,
  vartimeMul,
} from './encoding.js';
import { UrneError } from './errors.js';
import { ItemHasher } from './hash.js';
import { array, object, unsigned } from './json.js';
import { decodeSchnorr, encodeSchnorr, proveSchnorr, verifySchnorr } from './proofs.js';

/** The domain tags of spec §8.5 (urne-core's `hash.rs::tags::DKG_*`). */
export const DKG_TAGS = Object.freeze({
  COEFFICIENT_PROOF: 'urne/v1/dkg/coefficient-proof',
  SHARE_KEY: 'urne/v1/dkg/share-key',
  COMPLAINT_PROOF: 'urne/v1/dkg/complaint-proof',
  DEALING: 'urne/v1/dkg/dealing',
  COMPLAINT: 'urne/v1/dkg/complaint',
  ANSWER: 'urne/v1/dkg/answer',
});

const u32 = unsigned(32);
const ZERO_NONCE = new Uint8Array(12);

// ---------------------------------------------------------------------------------------------
// JSON forms (spec §8.5.2–§8.5.5).

/** Decodes an encrypted share `{"ephemeral", "ciphertext"}` (48 bytes of ciphertext). */
export function decodeEncryptedShare(value, path = '') {
  return object(value, path, {
    ephemeral: [decodePoint, true],
    ciphertext: [(s) => fromBase64Url(s, 48), true],
  });
}

/** Decodes a DLEQ proof `{"a", "b", "z"}` (spec §8.5.4). */
export function decodeDleq(value, path = '') {
  return object(value, path, { a: [decodePoint, true], b: [decodePoint, true], z: [decodeScalar, true] });
}

/** Decodes a dealing (spec §8.5.5); the judgement checks its shape. */
export function decodeDealing(value, path = '') {
  return object(value, path, {
    dealer: [u32, true],
    commitment: [(v, p) => array(v, p, decodePoint), true],
    coefficient_proof: [decodeSchnorr, true],
    shares: [(v, p) => array(v, p, decodeEncryptedShare), true],
    signature: [decodeSchnorr, true],
  });
}

/** Decodes a complaint message (spec §8.5.5). */
export function decodeComplaintMessage(value, path = '') {
  return object(value, path, {
    accuser: [u32, true],
    dealer: [u32, true],
    complaint: [(v, p) => object(v, p, { shared: [decodePoint, true], proof: [decodeDleq, true] }), true],
    signature: [decodeSchnorr, true],
  });
}

/** Decodes an answer (spec §8.5.5). */
export function decodeAnswer(value, path = '') {
  return object(value, path, {
    dealer: [u32, true],
    accuser: [u32, true],
    share: [decodeScalar, true],
    signature: [decodeSchnorr, true],
  });
}

/** A dealing's JSON form, fields in the order of spec §8.5.5. */
export function encodeDealing(d) {
  return {
    dealer: d.dealer,
    commitment: d.commitment.map(encodePoint),
    coefficient_proof: encodeSchnorr(d.coefficient_proof),
    shares: d.shares.map((s) => ({ ephemeral: encodePoint(s.ephemeral), ciphertext: toBase64Url(s.ciphertext) })),
    signature: encodeSchnorr(d.signature),
  };
}

/** A complaint message's JSON form. */
export function encodeComplaintMessage(m) {
  const { shared, proof } = m.complaint;
  return {
    accuser: m.accuser,
    dealer: m.dealer,
    complaint: {
      shared: encodePoint(shared),
      proof: { a: encodePoint(proof.a), b: encodePoint(proof.b), z: encodeScalar(proof.z) },
    },
    signature: encodeSchnorr(m.signature),
  };
}

/** An answer's JSON form. */
export function encodeAnswer(a) {
  return { dealer: a.dealer, accuser: a.accuser, share: encodeScalar(a.share), signature: encodeSchnorr(a.signature) };
}

// ---------------------------------------------------------------------------------------------
// Polynomials, Feldman commitments and shares (spec §8.5.2).

/** t fresh coefficients a_0 … a_{t−1}, drawn in that order (urne-core's `Polynomial::random`). */
export function randomPolynomial(threshold, draw) {
  const t = Math.max(threshold, 1);
  const out = [];
  for (let k = 0; k < t; k++) out.push(draw());
  return out;
}

/** The polynomial's secret bytes: each coefficient's 32 bytes, a_0 first (`to_secret_bytes`). */
export function polynomialToBytes(coefficients) {
  const out = new Uint8Array(32 * coefficients.length);
  coefficients.forEach((a, k) => {
    const b = scalarToBytes(a);
    out.set(b, 32 * k);
    b.fill(0);
  });
  return out;
}

/** Reads a polynomial's secret bytes: 1 to 64 canonical scalars (`from_secret_bytes`). */
export function polynomialFromBytes(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length % 32 !== 0 || bytes.length > 32 * 64) {
    throw new UrneError('wrong_length', 'a polynomial is 1 to 64 scalars of 32 bytes');
  }
  const out = [];
  for (let k = 0; k < bytes.length; k += 32) out.push(scalarFromBytes(bytes.subarray(k, k + 32)));
  return out;
}

/** f(j) mod ℓ by Horner's rule. */
export function evaluatePolynomial(coefficients, j) {
  const x = BigInt(j);
  let acc = 0n;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = mod(acc * x + coefficients[k]);
  return acc;
}

/** The Feldman commitments C_k = a_k·G. */
export function commitPolynomial(coefficients) {
  return coefficients.map((a) => mulSecret(G, a));
}

/** The public image Σ_k j^k·C_k of the share for index j (`vartime_share_point`). */
export function sharePoint(commitment, j) {
  const x = BigInt(j);
  let power = 1n;
  let acc = IDENTITY;
  for (const C of commitment) {
    acc = acc.add(vartimeMul(C, power));
    power = mod(power * x);
  }
  return acc;
}

/** The share check: j ≠ 0 and s·G = Σ_k j^k·C_k (`vartime_verify_share`, `vartime_check_answer`). */
export function verifyShare(commitment, j, s) {
  return j !== 0 && vartimeMul(G, s).equals(sharePoint(commitment, j));
}

/** The prefix of the proof of the constant term: tag, id, dealer, t, C_0 … C_{t−1}. */
export function constantTermPrefix(electionId, dealer, commitment) {
  const h = new ItemHasher(DKG_TAGS.COEFFICIENT_PROOF).str(electionId).u64(dealer).len(commitment.length);
  for (const C of commitment) h.point(C);
  return h;
}

/** Verifies the proof of the constant term; refuses an empty commitment (`shape`). */
export function verifyConstantTerm(electionId, dealer, commitment, proof) {
  if (commitment.length === 0) throw new UrneError('shape', 'a commitment without points has no C_0');
  verifySchnorr(constantTermPrefix(electionId, dealer, commitment), commitment[0], proof);
}

/** A share's secret bytes: the index (4 bytes, big-endian) then the value (`Share::to_secret_bytes`). */
export function shareToBytes(index, value) {
  const out = new Uint8Array(36);
  new DataView(out.buffer).setUint32(0, index);
  const b = scalarToBytes(value);
  out.set(b, 4);
  b.fill(0);
  return out;
}

/** Reads a share's secret bytes (`Share::from_secret_bytes`): `{index, value}`. */
export function shareFromBytes(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 36) {
    throw new UrneError('wrong_length', 'a share is 36 bytes (index and scalar)');
  }
  const index = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  return { index, value: scalarFromBytes(bytes.subarray(4)) };
}

// ---------------------------------------------------------------------------------------------
// Share transport (spec §8.5.3): a Diffie–Hellman KEM on ristretto255 and ChaCha20-Poly1305
// (RFC 8439 §2.8) with the all-zero nonce, each key encrypting one message.

/** key = H₃₂(DKG_SHARE_KEY; id, i, j, X_j, E, K). */
function shareKey(ctx, Xj, E, K) {
  const d = new ItemHasher(DKG_TAGS.SHARE_KEY)
    .str(ctx.electionId)
    .u64(ctx.dealer)
    .u64(ctx.recipient)
    .point(Xj)
    .point(E)
    .point(K)
    .digest();
  const key = d.slice(0, 32);
  d.fill(0);
  return key;
}

/** Seals dealer ctx.dealer's share `s` for trustee ctx.recipient, whose identity key is Xj. Draws e. */
export function sealShare(ctx, s, Xj, draw) {
  const e = draw();
  const E = mulSecret(G, e);
  const K = mulSecret(Xj, e);
  const key = shareKey(ctx, Xj, E, K);
  const plain = scalarToBytes(s);
  try {
    return { ephemeral: E, ciphertext: chacha20poly1305(key, ZERO_NONCE).encrypt(plain) };
  } finally {
    key.fill(0);
    plain.fill(0);
  }
}

/** Decrypts with a derived key: `{value}` or `{reason: 'decrypt' | 'encoding'}`. */
function openWithKey(key, enc) {
  let plain;
  try {
    plain = chacha20poly1305(key, ZERO_NONCE).decrypt(enc.ciphertext);
  } catch {
    return { reason: 'decrypt' };
  } finally {
    key.fill(0);
  }
  try {
    return { value: scalarFromBytes(plain) };
  } catch {
    return { reason: 'encoding' };
  } finally {
    plain.fill(0);
  }
}

/**
 * Trustee ctx.recipient (secret x, identity key Xj) opens a share and checks it against the
 * dealer's commitments: `{value}`, or `{reason}` for the first refusal of spec §8.5.3 that
 * applies: 'decrypt', 'encoding' (not a canonical scalar) or 'commitment'.
 */
export function openShare(ctx, x, Xj, enc, commitment) {
  const K = mulSecret(enc.ephemeral, x);
  const r = openWithKey(shareKey(ctx, Xj, enc.ephemeral, K), enc);
  if (r.reason) return r;
  if (!verifyShare(commitment, ctx.recipient, r.value)) return { reason: 'commitment' };
  return r;
}

// ---------------------------------------------------------------------------------------------
// Complaints (spec §8.5.4): K = x_j·E with a DLEQ proof [CP92]
//   PK{ (x) : P = x·G and Q = x·U },  c = Hc(prefix, A, B),  z = w + c·x.

function complaintProofPrefix(ctx, Xj, enc, K) {
  return new ItemHasher(DKG_TAGS.COMPLAINT_PROOF)
    .str(ctx.electionId)
    .u64(ctx.dealer)
    .u64(ctx.recipient)
    .point(Xj)
    .point(enc.ephemeral)
    .bytes(enc.ciphertext)
    .point(K);
}

/** Proves log_G P = log_U Q for the secret x; draws w. */
export function proveDleq(prefix, x, U, draw) {
  const w = draw();
  const A = mulSecret(G, w);
  const B = mulSecret(U, w);
  const c = prefix.clone().point(A).point(B).challenge();
  return { a: A, b: B, z: mod(w + c * x) };
}

/** Verifies a DLEQ proof; throws `equation` unless z·G = A + c·P and z·U = B + c·Q. */
export function verifyDleq(prefix, P, U, Q, proof) {
  const c = prefix.clone().point(proof.a).point(proof.b).challenge();
  const ok1 = vartimeMul(G, proof.z).equals(proof.a.add(vartimeMul(P, c)));
  const ok2 = vartimeMul(U, proof.z).equals(proof.b.add(vartimeMul(Q, c)));
  if (!ok1 || !ok2) throw new UrneError('equation', 'a DLEQ equation fails');
}

/** Trustee ctx.recipient's complaint about an encrypted share: `{shared: K, proof}`. Draws w. */
export function complainAbout(ctx, x, Xj, enc, draw) {
  const K = mulSecret(enc.ephemeral, x);
  return { shared: K, proof: proveDleq(complaintProofPrefix(ctx, Xj, enc, K), x, enc.ephemeral, draw) };
}

/**
 * Anyone's judgement of a complaint (`Complaint::vartime_judge`): 'invalid' if its proof fails,
 * 'unjustified' if the revealed share opens and passes the share check, else 'justified'.
 */
export function judgeComplaint(ctx, Xj, enc, commitment, complaint) {
  const prefix = complaintProofPrefix(ctx, Xj, enc, complaint.shared);
  try {
    verifyDleq(prefix, Xj, enc.ephemeral, complaint.shared, complaint.proof);
  } catch {
    return 'invalid';
  }
  const r = openWithKey(shareKey(ctx, Xj, enc.ephemeral, complaint.shared), enc);
  return r.reason || !verifyShare(commitment, ctx.recipient, r.value) ? 'justified' : 'unjustified';
}

// ---------------------------------------------------------------------------------------------
// Signed messages (spec §8.5.5): Schnorr signatures by the sender's identity key.

/** The dealing's signature prefix. */
export function dealingPrefix(electionId, signer, d) {
  const h = new ItemHasher(DKG_TAGS.DEALING).str(electionId).point(signer).u64(d.dealer).len(d.commitment.length);
  for (const C of d.commitment) h.point(C);
  h.point(d.coefficient_proof.r).scalar(d.coefficient_proof.s);
  h.len(d.shares.length);
  for (const s of d.shares) h.point(s.ephemeral).bytes(s.ciphertext);
  return h;
}

/** The complaint message's signature prefix. */
export function complaintPrefix(electionId, signer, m) {
  const { shared, proof } = m.complaint;
  return new ItemHasher(DKG_TAGS.COMPLAINT)
    .str(electionId)
    .point(signer)
    .u64(m.accuser)
    .u64(m.dealer)
    .point(shared)
    .point(proof.a)
    .point(proof.b)
    .scalar(proof.z);
}

/** The answer's signature prefix. */
export function answerPrefix(electionId, signer, a) {
  return new ItemHasher(DKG_TAGS.ANSWER).str(electionId).point(signer).u64(a.dealer).u64(a.accuser).scalar(a.share);
}

function signed(prefix, signer, signature) {
  try {
    verifySchnorr(prefix, signer, signature);
    return true;
  } catch {
    return false;
  }
}

/**
 * Round 1 for dealer `dealer` with identity secret x (`TrusteeKey::deal`): draws the t
 * coefficients, the coefficient proof's nonce, e for each recipient j = 1 … n, then the signature
 * nonce. Returns `{dealing, coefficients}` (decoded).
 */
export function makeDealing(electionId, dealer, threshold, x, identities, draw) {
  const coefficients = randomPolynomial(threshold, draw);
  const commitment = commitPolynomial(coefficients);
  const coefficient_proof = proveSchnorr(constantTermPrefix(electionId, dealer, commitment), coefficients[0], draw);
  const shares = identities.map((Xj, k) => {
    const recipient = k + 1;
    return sealShare({ electionId, dealer, recipient }, evaluatePolynomial(coefficients, recipient), Xj, draw);
  });
  const d = { dealer, commitment, coefficient_proof, shares };
  d.signature = proveSchnorr(dealingPrefix(electionId, mulSecret(G, x), d), x, draw);
  return { dealing: d, coefficients };
}

/**
 * Round 2 for trustee `me` (`TrusteeKey::complaints`): goes through the dealings in order and, for
 * every one whose dealer is not `me`, is a known trustee, whose signature verifies and that has a
 * share at position me − 1, opens that share; a refused share gets a signed complaint (DLEQ nonce,
 * then signature nonce). Returns `{complaints, report}`, the report saying for each such dealing
 * `{dealer, ok, reason}` (reason: 'decrypt' | 'encoding' | 'commitment', or, for a dealing left
 * to the public judgement without a complaint, 'unknown_dealer' | 'signature' | 'no_share').
 */
export function makeComplaints(electionId, me, x, identities, dealings, draw) {
  const complaints = [];
  const report = [];
  if (me === 0) return { complaints, report };
  const Xme = identities[me - 1];
  for (const d of dealings) {
    if (d.dealer === me) continue;
    const key = d.dealer >= 1 ? identities[d.dealer - 1] : undefined;
    if (!key) {
      report.push({ dealer: d.dealer, ok: false, reason: 'unknown_dealer' });
      continue;
    }
    if (!signed(dealingPrefix(electionId, key, d), key, d.signature)) {
      report.push({ dealer: d.dealer, ok: false, reason: 'signature' });
      continue;
    }
    const enc = d.shares[me - 1];
    if (!enc) {
      report.push({ dealer: d.dealer, ok: false, reason: 'no_share' });
      continue;
    }
    const ctx = { electionId, dealer: d.dealer, recipient: me };
    const r = openShare(ctx, x, Xme, enc, d.commitment);
    if (!r.reason) {
      report.push({ dealer: d.dealer, ok: true, reason: null });
      continue;
    }
    report.push({ dealer: d.dealer, ok: false, reason: r.reason });
    const m = { accuser: me, dealer: d.dealer, complaint: complainAbout(ctx, x, Xme, enc, draw) };
    m.signature = proveSchnorr(complaintPrefix(electionId, Xme, m), x, draw);
    complaints.push(m);
  }
  return { complaints, report };
}

/** Round 3 for dealer `dealer` (`TrusteeKey::answers`): a signed answer to every complaint naming it. */
export function makeAnswers(electionId, dealer, x, coefficients, complaints, draw) {
  const X = mulSecret(G, x);
  return complaints
    .filter((c) => c.dealer === dealer)
    .map((c) => {
      const a = { dealer, accuser: c.accuser, share: evaluatePolynomial(coefficients, c.accuser) };
      a.signature = proveSchnorr(answerPrefix(electionId, X, a), x, draw);
      return a;
    });
}

// ---------------------------------------------------------------------------------------------
// The public judgement (spec §8.5.6, `vartime_judge_ceremony`) and a trustee's share (§8.5.7).

function dealingKey(d) {
  return JSON.stringify(encodeDealing(d));
}

/**
 * Judges a ceremony from its transcript, by the rules of spec §8.5.6 in their order. Returns
 * `{qualified, disqualified, ignored, electionKey, verificationKeys, threshold, valid}`:
 * `disqualified` lists `{dealer, reason}` in dealer order, reason one of 'no_dealing',
 * 'equivocation', 'shape', 'coefficient_proof', 'unanswered' (with `accuser`); `ignored` lists
 * `{kind: 'invalid', from, message}` (message 'dealing' | 'complaint' | 'answer') and
 * `{kind: 'unjustified_complaint', accuser, dealer}`, dealings first, then complaints, then
 * answers; `valid` maps each qualified dealer to its dealing. Throws UrneError `ceremony` for a
 * threshold outside 1 … n or when no dealer is qualified (there is no outcome).
 */
export function judgeCeremony(electionId, threshold, identities, dealings, complaints, answers) {
  const n = identities.length;
  if (!(threshold >= 1 && threshold <= n)) {
    throw new UrneError('ceremony', `a threshold of ${threshold} with ${n} trustees`);
  }
  const known = (i) => Number.isInteger(i) && i >= 1 && i <= n;
  const disqualified = new Map();
  const ignored = [];
  const signedBy = new Map();
  for (const d of dealings) {
    const ok = known(d.dealer) && signed(dealingPrefix(electionId, identities[d.dealer - 1], d), identities[d.dealer - 1], d.signature);
    if (!ok) {
      ignored.push({ kind: 'invalid', from: d.dealer, message: 'dealing' });
      continue;
    }
    const list = signedBy.get(d.dealer) ?? new Map();
    list.set(dealingKey(d), d);
    signedBy.set(d.dealer, list);
  }
  const valid = new Map();
  for (let i = 1; i <= n; i++) {
    const mine = [...(signedBy.get(i)?.values() ?? [])];
    if (mine.length === 0) {
      disqualified.set(i, { dealer: i, reason: 'no_dealing' });
      continue;
    }
    if (mine.length > 1) {
      disqualified.set(i, { dealer: i, reason: 'equivocation' });
      continue;
    }
    const d = mine[0];
    if (d.commitment.length !== threshold || d.shares.length !== n) {
      disqualified.set(i, { dealer: i, reason: 'shape' });
      continue;
    }
    try {
      verifyConstantTerm(electionId, i, d.commitment, d.coefficient_proof);
    } catch {
      disqualified.set(i, { dealer: i, reason: 'coefficient_proof' });
      continue;
    }
    valid.set(i, d);
  }
  const justified = [];
  for (const m of complaints) {
    const ok = known(m.accuser) && m.accuser !== m.dealer && valid.has(m.dealer);
    const Xj = ok ? identities[m.accuser - 1] : undefined;
    if (!Xj || !signed(complaintPrefix(electionId, Xj, m), Xj, m.signature)) {
      ignored.push({ kind: 'invalid', from: m.accuser, message: 'complaint' });
      continue;
    }
    const d = valid.get(m.dealer);
    const ctx = { electionId, dealer: m.dealer, recipient: m.accuser };
    const verdict = judgeComplaint(ctx, Xj, d.shares[m.accuser - 1], d.commitment, m.complaint);
    if (verdict === 'justified') justified.push([m.dealer, m.accuser]);
    else ignored.push({ kind: 'unjustified_complaint', accuser: m.accuser, dealer: m.dealer });
  }
  const answered = new Set();
  for (const a of answers) {
    const ok = known(a.dealer) && signed(answerPrefix(electionId, identities[a.dealer - 1], a), identities[a.dealer - 1], a.signature);
    const d = valid.get(a.dealer);
    if (ok && d) {
      if (verifyShare(d.commitment, a.accuser, a.share)) answered.add(`${a.dealer}/${a.accuser}`);
    } else {
      ignored.push({ kind: 'invalid', from: a.dealer, message: 'answer' });
    }
  }
  justified.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  for (const [dealer, accuser] of justified) {
    if (!answered.has(`${dealer}/${accuser}`) && valid.delete(dealer)) {
      disqualified.set(dealer, { dealer, reason: 'unanswered', accuser });
    }
  }
  if (valid.size === 0) throw new UrneError('ceremony', 'no dealer is qualified');
  const qualified = [...valid.keys()].sort((p, q) => p - q);
  let electionKey = IDENTITY;
  for (const i of qualified) electionKey = electionKey.add(valid.get(i).commitment[0]);
  const verificationKeys = [];
  for (let j = 1; j <= n; j++) {
    let V = IDENTITY;
    for (const i of qualified) V = V.add(sharePoint(valid.get(i).commitment, j));
    verificationKeys.push(V);
  }
  return {
    qualified,
    disqualified: [...disqualified.keys()].sort((p, q) => p - q).map((i) => disqualified.get(i)),
    ignored,
    electionKey,
    verificationKeys,
    threshold,
    valid,
  };
}

/**
 * Trustee `me`'s share of the joint key (spec §8.5.7, `TrusteeKey::assemble_share`): for each
 * qualified dealer, the share of its first signed dealing if it opens, else the first answer
 * that passes the share check; the sum is checked against V_me. Returns the share's value s_me.
 * Throws UrneError `share` naming the dealer with no valid share, or when the sum does not match.
 */
export function assembleShare(electionId, me, x, identities, outcome, dealings, answers) {
  if (!(me >= 1 && me <= identities.length)) throw new UrneError('share', `no trustee ${me}`);
  const Xme = identities[me - 1];
  let total = 0n;
  for (const i of outcome.qualified) {
    const key = identities[i - 1];
    const d = dealings.find((c) => c.dealer === i && signed(dealingPrefix(electionId, key, c), key, c.signature));
    if (!d) throw new UrneError('share', `no valid share from qualified dealer ${i}`);
    const enc = d.shares[me - 1];
    const r = enc ? openShare({ electionId, dealer: i, recipient: me }, x, Xme, enc, d.commitment) : { reason: 'missing' };
    let value = r.reason ? undefined : r.value;
    if (value === undefined) {
      const a = answers.find((c) => c.dealer === i && c.accuser === me && verifyShare(d.commitment, me, c.share));
      if (!a) throw new UrneError('share', `no valid share from qualified dealer ${i}`);
      value = a.share;
    }
    total = mod(total + value);
  }
  if (!mulSecret(G, total).equals(outcome.verificationKeys[me - 1])) {
    throw new UrneError('share', `the share does not match trustee ${me}'s verification key`);
  }
  return total;
}
