// Exponential ElGamal and the zero-knowledge proofs of spec §6 and §8, with their JSON forms.
//
// Notation as in the spec and the papers: upper-case names are points, lower-case are scalars
// (bigints mod ℓ). Provers take `draw`, a function returning a uniform scalar (spec §2.7), and
// call it in the exact order of spec §6.2 and §7.3, so that recorded randomness reproduces the
// reference implementation's proofs byte for byte (test-vectors/README.md, "Randomness").
//
// Timing (informative): JavaScript gives no constant-time guarantee. Secret scalars are only
// multiplied through @noble/curves' constant-time ladder (`mulSecret`), and the prover runs the
// same operations on every branch whichever one is true, as spec §6.2 asks; bigint arithmetic on
// secrets (z = t + c·r) is still variable-time, and a browser cannot promise better.

import {
  G,
  IDENTITY,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  mod,
  mulSecret,
  nonIdentity,
  vartimeMul,
} from './encoding.js';
import { UrneError } from './errors.js';
import { ItemHasher, TAGS } from './hash.js';
import { array, object } from './json.js';

// ---------------------------------------------------------------------------------------------
// Exponential ElGamal (spec §6.1) [ElG85, CGS97]: Enc(m; r) = (α, β) = (r·G, m·G + r·Y).

/**
 * Encrypts the small integer `m` under the election key `Y` with randomness `r`. Refuses the
 * identity as key (`identity_point`): it would show every message in the clear.
 */
export function encrypt(Y, m, r) {
  nonIdentity(Y);
  return { alpha: mulSecret(G, r), beta: mulSecret(G, mod(BigInt(m))).add(mulSecret(Y, r)) };
}

/** The component-wise sum of ciphertexts, which encrypts the sum of their messages. */
export function addCiphertexts(cts) {
  let alpha = IDENTITY;
  let beta = IDENTITY;
  for (const c of cts) {
    alpha = alpha.add(c.alpha);
    beta = beta.add(c.beta);
  }
  return { alpha, beta };
}

/** A ciphertext's JSON form `{"alpha", "beta"}`. */
export function encodeCiphertext(c) {
  return { alpha: encodePoint(c.alpha), beta: encodePoint(c.beta) };
}

/** Decodes a ciphertext's JSON form; errors carry the path of the bad field. */
export function decodeCiphertext(value, path = '') {
  return object(value, path, {
    alpha: [decodePoint, true],
    beta: [decodePoint, true],
  });
}

// ---------------------------------------------------------------------------------------------
// The disjunctive Chaum–Pedersen proof (spec §6.2): CDS94's OR-composition of CP92 proofs.
//
//   PK{ (r₀ … r_{m−1}) : OR_{j<k} AND_{i<m} ( αᵢ = rᵢ·G  and  βᵢ − m_{j,i}·G = rᵢ·Y ) }
//
// A proof is k branches {c, a[m], b[m], z[m]}, one per allowed tuple. The challenge is
// Hc(prefix items, then A_{j,i}, B_{j,i} for j, then i), and the branch challenges add up to it.

/**
 * Proves that `cts` encrypt, position by position, the tuple `allowed[real]`, knowing the
 * randomness `rs` of each ciphertext. `prefix` is an ItemHasher holding the tag and the whole
 * statement (choicePrefix, countPrefix). Draws, per branch in order, c′_j then t_{j,0} … t_{j,m−1}.
 */
export function proveDisjunctive(prefix, Y, cts, allowed, real, rs, draw) {
  const m = cts.length;
  const mine = allowed[real];
  const branches = allowed.map((tuple, j) => {
    const cDrawn = draw();
    const c = j === real ? 0n : cDrawn;
    const t = [];
    const a = [];
    const b = [];
    for (let i = 0; i < m; i++) {
      const ti = draw();
      const d = mod(BigInt(mine[i]) - BigInt(tuple[i]));
      t.push(ti);
      a.push(mulSecret(G, ti));
      b.push(mulSecret(Y, ti).subtract(mulSecret(G, mod(c * d))));
    }
    return { c, a, b, t };
  });
  const h = prefix.clone();
  for (const br of branches) for (let i = 0; i < m; i++) h.point(br.a[i]).point(br.b[i]);
  const challenge = h.challenge();
  let others = 0n;
  branches.forEach((br, j) => {
    if (j !== real) others += br.c;
  });
  branches[real].c = mod(challenge - others);
  return branches.map((br) => {
    const z = br.t.map((ti, i) => mod(ti + br.c * rs[i]));
    br.t.fill(0n);
    return { c: br.c, a: br.a, b: br.b, z };
  });
}

/**
 * Verifies a disjunctive proof (spec §6.2, verifier steps 1–4). Throws `shape` (wrong number of
 * branches or entries), `challenge_sum` (the branch challenges do not add up to the Fiat–Shamir
 * challenge) or `equation` (a verification equation fails), in that order.
 */
export function verifyDisjunctive(prefix, Y, cts, allowed, proof) {
  const m = cts.length;
  if (proof.length !== allowed.length) {
    throw new UrneError('shape', `${proof.length} branches where the statement has ${allowed.length}`);
  }
  proof.forEach((br, j) => {
    if (br.a.length !== m || br.b.length !== m || br.z.length !== m) {
      throw new UrneError('shape', `branch ${j} does not have ${m} entries in a, b and z`);
    }
  });
  const h = prefix.clone();
  for (const br of proof) for (let i = 0; i < m; i++) h.point(br.a[i]).point(br.b[i]);
  const challenge = h.challenge();
  if (mod(proof.reduce((sum, br) => sum + br.c, 0n)) !== challenge) {
    throw new UrneError('challenge_sum', 'the branch challenges do not add up to the challenge');
  }
  proof.forEach((br, j) => {
    for (let i = 0; i < m; i++) {
      const { alpha, beta } = cts[i];
      const left1 = vartimeMul(G, br.z[i]);
      const right1 = br.a[i].add(vartimeMul(alpha, br.c));
      const shifted = beta.subtract(vartimeMul(G, mod(BigInt(allowed[j][i]))));
      const left2 = vartimeMul(Y, br.z[i]);
      const right2 = br.b[i].add(vartimeMul(shifted, br.c));
      if (!left1.equals(right1) || !left2.equals(right2)) {
        throw new UrneError('equation', `an equation of branch ${j} fails`);
      }
    }
  });
}

/** A disjunctive proof's JSON form: an array of branches {c, a, b, z}. */
export function encodeDisjunctive(proof) {
  return proof.map((br) => ({
    c: encodeScalar(br.c),
    a: br.a.map(encodePoint),
    b: br.b.map(encodePoint),
    z: br.z.map(encodeScalar),
  }));
}

/**
 * Decodes a disjunctive proof's JSON form. A branch whose `a`, `b` and `z` differ in length is
 * refused here (`shape`, at the branch), before any hashing, as spec §6.2 requires.
 */
export function decodeDisjunctive(value, path = '') {
  return array(value, path, (v, p) => {
    const br = object(v, p, {
      c: [decodeScalar, true],
      a: [(x, q) => array(x, q, decodePoint), true],
      b: [(x, q) => array(x, q, decodePoint), true],
      z: [(x, q) => array(x, q, decodeScalar), true],
    });
    if (br.a.length !== br.b.length || br.a.length !== br.z.length) {
      throw new UrneError('shape', 'a, b and z must be as long as each other', { path: p || '.' });
    }
    return br;
  });
}

/** A disjunctive proof's items, where it is hashed inside a ballot (spec §6.2, "Proof items"). */
export function hashDisjunctive(h, proof) {
  h.len(proof.length);
  for (const br of proof) {
    h.scalar(br.c).len(br.a.length);
    for (let i = 0; i < br.a.length; i++) h.point(br.a[i]).point(br.b[i]).scalar(br.z[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// Choice proofs (spec §6.3) and count proofs (spec §6.4).

/** The allowed tuples of a choice proof: (0) "not selected", then (1) "selected". */
export const CHOICE_ALLOWED = Object.freeze([[0], [1]]);

/**
 * The allowed tuples of a choice proof over 0 … `bound` (`choice_allowed`, spec §6.3): (0), (1),
 * …, (bound), branch v standing for the value v. A plurality question's bound is 1
 * (CHOICE_ALLOWED); a ranking's is its `max`, a grading's g − 1 (`valueBound`).
 */
export function choiceAllowed(bound) {
  if (bound === 1) return CHOICE_ALLOWED;
  return Object.freeze(Array.from({ length: bound + 1 }, (_, v) => Object.freeze([v])));
}

/**
 * The choice proof's prefix for answer `a` of question `q` (`choice_prefix`): tag, fingerprint,
 * Y, X, q, a, α, β.
 */
export function choicePrefix(fingerprint, Y, X, q, a, ct) {
  return new ItemHasher(TAGS.CHOICE_PROOF)
    .bytes(fingerprint)
    .point(Y)
    .point(X)
    .u64(q)
    .u64(a)
    .point(ct.alpha)
    .point(ct.beta);
}

/**
 * The allowed tuples of a question's count proof (`count_allowed`): (v) for v = min … max; with
 * blank votes, (1, 0) first and then (0, v).
 */
export function countAllowed(question) {
  const out = question.blank ? [[1, 0]] : [];
  for (let v = question.min; v <= question.max; v++) out.push(question.blank ? [0, v] : [v]);
  return out;
}

/**
 * The count proof's prefix for question `q` (`count_prefix`): tag, fingerprint, Y, X, q, min,
 * max, blank, the number of choices and each choice's α and β, then the blank ciphertext's.
 */
export function countPrefix(fingerprint, Y, X, q, question, choices, blankCt) {
  const h = new ItemHasher(TAGS.COUNT_PROOF)
    .bytes(fingerprint)
    .point(Y)
    .point(X)
    .u64(q)
    .u64(question.min)
    .u64(question.max)
    .u64(question.blank)
    .len(choices.length);
  for (const c of choices) h.point(c.alpha).point(c.beta);
  if (question.blank) h.point(blankCt.alpha).point(blankCt.beta);
  return h;
}

/** The ciphertexts a count proof speaks about: [S] or [C_blank, S], S the sum of the choices. */
export function countStatement(question, choices, blankCt) {
  const sum = addCiphertexts(choices);
  return question.blank ? [blankCt, sum] : [sum];
}

// ---------------------------------------------------------------------------------------------
// Schnorr proofs of knowledge [Sch91] (spec §7.3): the ballot signature and trustee key proofs.
//
//   PK{ (x) : X = x·G },  carried as (R, s): c = Hc(prefix, R), s = k + c·x, s·G = R + c·X.

/** Proves knowledge of `x` with X = x·G for the given prefix; draws the nonce k. */
export function proveSchnorr(prefix, x, draw) {
  const k = draw();
  const R = mulSecret(G, k);
  const c = prefix.clone().point(R).challenge();
  const s = mod(k + c * x);
  return { r: R, s };
}

/** Verifies a Schnorr proof for X; throws `equation` if s·G ≠ R + c·X. */
export function verifySchnorr(prefix, X, proof) {
  const c = prefix.clone().point(proof.r).challenge();
  if (!vartimeMul(G, proof.s).equals(proof.r.add(vartimeMul(X, c)))) {
    throw new UrneError('equation', 's·G ≠ R + c·X');
  }
}

/** A Schnorr proof's JSON form `{"r", "s"}`. */
export function encodeSchnorr(p) {
  return { r: encodePoint(p.r), s: encodeScalar(p.s) };
}

/** Decodes a Schnorr proof's JSON form. */
export function decodeSchnorr(value, path = '') {
  return object(value, path, { r: [decodePoint, true], s: [decodeScalar, true] });
}

/** The key proof prefix of trustee `index` (from 1) (spec §8.1): tag, election id, index, name, Yᵢ. */
export function keyProofPrefix(electionId, index, name, Yi) {
  return new ItemHasher(TAGS.TRUSTEE_KEY_PROOF).str(electionId).u64(index).str(name).point(Yi);
}

// ---------------------------------------------------------------------------------------------
// Decryption factors (spec §8.3), a trustee's work: only their verification is here, so that the
// booth's code can check the vectors' proofs too.
//
//   PK{ (sᵢ) : Vᵢ = sᵢ·G  and  D = sᵢ·α },  c = Hc(DECRYPTION_PROOF; fingerprint, Vᵢ, α, β, D, A, B).

/** Decodes a decryption factor `{"factor", "a", "b", "z"}`. */
export function decodeDecryptionFactor(value, path = '') {
  return object(value, path, {
    factor: [decodePoint, true],
    a: [decodePoint, true],
    b: [decodePoint, true],
    z: [decodeScalar, true],
  });
}

/** Verifies a decryption factor's proof; throws `equation` if z·G ≠ A + c·V or z·α ≠ B + c·D. */
export function verifyDecryptionFactor(fingerprint, V, ct, f) {
  const c = new ItemHasher(TAGS.DECRYPTION_PROOF)
    .bytes(fingerprint)
    .point(V)
    .point(ct.alpha)
    .point(ct.beta)
    .point(f.factor)
    .point(f.a)
    .point(f.b)
    .challenge();
  const ok1 = vartimeMul(G, f.z).equals(f.a.add(vartimeMul(V, c)));
  const ok2 = vartimeMul(ct.alpha, f.z).equals(f.b.add(vartimeMul(f.factor, c)));
  if (!ok1 || !ok2) throw new UrneError('equation', 'a decryption factor equation fails');
}
