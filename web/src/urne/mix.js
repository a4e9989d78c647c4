// A trustee's part of the mix phase of ranked and graded questions in the browser (spec §8.7,
// §8.8): what `urne trustee shuffle` and `urne trustee mix-decrypt` compute and send
// (crates/urne-cli/src/trustee/mix.rs), over the JSON of the server's mix routes
// (crates/urne-server/src/mix.rs) instead of a downloaded record.
//
// The page's flow, three calls:
//
//   1. `mixList(pages)`: the list to shuffle or decrypt, from the pages of
//      GET /api/v1/elections/{id}/mix?from=F&limit=L (at most 4096 rows a page; ask from 0 until
//      `ballots` rows are in). Its digest is checked against the server's `list_digest`.
//   2. `makeShuffle(list, {...})`: re-encrypts and permutes the list, proves it (Terelius–Wikström,
//      spec §8.7) and signs it with the trustee's identity key (§8.8.2). Returns the bodies to
//      POST, in order: each of `chunks` to …/mix/shuffles/{position}/chunks, then `end` to
//      …/mix/shuffles/{position}.
//   3. `mixDecryption(list, {...})`: once enough trustees have shuffled, the trustee's decryption
//      factors of the last list with their proofs (§8.8.3), as `bodies`, each POSTed in order to
//      …/mix/decryptions.
//
// None of them talks to the network, stores or shows anything. The lower-level pieces
// (`shuffleRows`, `proveShuffle`, `verifyShuffle`, `listDigest`, the proof's JSON form) are
// exported for tests and for observers' pages.
//
// Trust (unlike the CLI, read this): the CLI rebuilds the list from the record it has verified
// from the start (V-1 … V-23 so far), so that a trustee never decrypts anything but the output of
// verified shuffles of the counted ballots. This module takes the list from the server and only
// checks that it is consistent with the server's own digest. A page that wants the CLI's guarantee
// must verify the record first (as docs/threat-model.md §3.1 says for the tally). The trustees'
// page decrypts only a list that descends from its trustee's own signed shuffle through shuffles
// it has verified (web/trustee/mix-chain.js, with `decodeShuffleLines`, `verifyShuffle` and
// `verifyShuffleSignature` from here).
//
// Secrets: the identity secret and the share come in as Uint8Array (the forms of vault.js) and the
// caller zeroes them. The permutation, the re-encryption randomness and the proof's nonces are
// bigints that JavaScript cannot erase; they are dropped as soon as the proof is made, and never
// logged nor put in an error message. Secret scalars only meet points through @noble/curves'
// constant-time multiplication (`mulSecret`), as the Rust prover uses constant-time arithmetic;
// `verifyShuffle` is variable time, on public data only. Bigint arithmetic on secrets (the
// responses, the Fisher–Yates indices) is variable time: a browser cannot promise better (see
// proofs.js). As in shuffle.rs, the shuffler's memory accesses depend on the permutation.
//
// Errors are UrneError: `format` (a view or manifest that does not parse, or pages that do not
// make one list), `argument`, `key` (the secret is not this trustee's), `state` (not the time for
// this step, as the server would answer), `shape` and `equation` (from `verifyShuffle`),
// `decryption` (the trustee's own factors do not verify, from trustee.js).

import {
  G,
  IDENTITY,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  mod,
  mulSecret,
  fromBase64Url,
  pointFromBytes,
  toBase64Url,
  vartimeMul,
} from './encoding.js';
import { decodeDocument, identityScalar } from './checks.js';
import { UrneError } from './errors.js';
import { ItemHasher, generator } from './hash.js';
import { array, boolean, object, string, unsigned } from './json.js';
import { isMixed, manifestFingerprint, parseManifest } from './manifest.js';
import { decodeCiphertext, decodeSchnorr, encodeCiphertext, encodeSchnorr, proveSchnorr, verifySchnorr } from './proofs.js';
import { randomScalar } from './random.js';
import { partialDecryption } from './trustee.js';

const u32 = unsigned(32);
const u64 = unsigned(64);

/** The domain tags and generator purpose of spec §8.7 and §8.8 (shuffle.rs `tags`, mix.rs `tags`). */
export const MIX_TAGS = Object.freeze({
  SHUFFLE_STATEMENT: 'urne/v1/shuffle/statement',
  SHUFFLE_VECTOR_CHALLENGE: 'urne/v1/shuffle/vector-challenge',
  SHUFFLE_CHALLENGE: 'urne/v1/shuffle/challenge',
  SHUFFLE_GENERATORS: 'urne/v1/shuffle/generators',
  LIST: 'urne/v1/mix/list',
  SHUFFLE_SIGNATURE: 'urne/v1/mix/shuffle-signature',
});

/** The record's largest chunk (urne_verify::record::CHUNK_BYTES): uploads stay below it too. */
const CHUNK_BYTES = 4 << 20;

/**
 * The canonical 32 bytes of a point, computed once per point object: a list's points are hashed
 * up to three times (statement digest, list digests, JSON), and each encoding costs an inversion.
 */
const encodings = new WeakMap();
function pointBytes(P) {
  let b = encodings.get(P);
  if (b === undefined) {
    b = P.toBytes();
    encodings.set(P, b);
  }
  return b;
}

/** Decodes a point from base64url text as `decodePoint` does, keeping its bytes in the cache. */
function decodeCachedPoint(text) {
  const b = fromBase64Url(text);
  const P = pointFromBytes(b);
  encodings.set(P, b);
  return P;
}

/** Decodes a ciphertext `{"alpha", "beta"}` as `decodeCiphertext` does, keeping its bytes. */
function decodeRowCiphertext(value, path) {
  return object(value, path, { alpha: [decodeCachedPoint, true], beta: [decodeCachedPoint, true] });
}

/** A ciphertext's JSON form, through the cache of encodings. */
function ciphertextJson(ct) {
  return { alpha: toBase64Url(pointBytes(ct.alpha)), beta: toBase64Url(pointBytes(ct.beta)) };
}

function shapeError(msg) {
  return new UrneError('shape', msg);
}

// ---------------------------------------------------------------------------------------------
// Lists (spec §8.8.1, §8.8.2).

/** The width w of a manifest's mix rows: the answers of all its mixed questions (0: no mix phase). */
export function mixWidth(manifest) {
  return manifest.questions.filter(isMixed).reduce((w, q) => w + q.answers.length, 0);
}

/**
 * The list digest of spec §8.8.2 (`urne_core::mix::list_digest`): H(LIST; N, w, then every
 * ciphertext row by row, α then β), 64 bytes. `rows` are decoded ciphertexts ({alpha, beta} of
 * points); an empty list has w = 0.
 */
export function listDigest(rows) {
  const h = new ItemHasher(MIX_TAGS.LIST).len(rows.length).len(rows.length === 0 ? 0 : rows[0].length);
  for (const row of rows) for (const ct of row) h.bytes(pointBytes(ct.alpha)).bytes(pointBytes(ct.beta));
  return h.digest();
}

/**
 * Decodes rows of ciphertexts in their JSON form (`[[{"alpha", "beta"}, …], …]`, as the mix view
 * and the record's lines write them) strictly, keeping each point's bytes for `listDigest`.
 */
export function decodeMixRows(value, path = '') {
  return array(value, path, (r, s) => array(r, s, decodeRowCiphertext));
}

/**
 * Decodes one page of GET /api/v1/elections/{id}/mix (the server's `MixView`), strictly. Field
 * names stay as the server writes them; `rows` are decoded ciphertexts.
 */
export function parseMixView(view) {
  return decodeDocument(view, (v, p) =>
    object(v, p, {
      ballots: [u64, true],
      width: [u32, true],
      shuffles_needed: [u32, true],
      decryptions_needed: [u32, true],
      tally_decryptions: [u32, true],
      shufflers: [(x, q) => array(x, q, u32), true],
      next_shuffle: [u32, true],
      decryptors: [(x, q) => array(x, q, u32), true],
      decrypted: [boolean, true],
      result: [boolean, true],
      list_digest: [string, true],
      max_upload_bytes: [u64, true],
      from: [u64, true],
      rows: [(x, q) => array(x, q, (r, s) => array(r, s, decodeRowCiphertext)), true],
    }),
  );
}

/**
 * The current list of the mix phase (the list to shuffle next, or the last shuffle's output to
 * decrypt) from the pages of GET /api/v1/elections/{id}/mix, as values or JSON text, in order:
 * each page must start where the previous one ended (`from`), all must agree on the state, and
 * together they must hold exactly `ballots` rows of `width` ciphertexts whose list digest is the
 * server's `list_digest` (`format` otherwise). A single page with `limit=0` is enough for an empty
 * list. Returns `{view, rows}`: `view` is the last page's state (without its rows), `rows` the
 * decoded list.
 *
 * @param {(object|string)[]} pages
 * @returns {{view: object, rows: {alpha: object, beta: object}[][]}}
 */
export function mixList(pages) {
  if (!Array.isArray(pages) || pages.length === 0) throw new UrneError('argument', 'no page of the list', { path: 'pages' });
  const rows = [];
  let view;
  pages.forEach((page, i) => {
    const v = parseMixView(page);
    if (v.from !== rows.length) {
      throw new UrneError('format', `page ${i} starts at row ${v.from}, the pages before it hold ${rows.length} rows`);
    }
    if (view !== undefined && (v.list_digest !== view.list_digest || v.ballots !== view.ballots)) {
      throw new UrneError('format', `page ${i} is of another list: the list changed while it was read; read it again`);
    }
    v.rows.forEach((r, k) => {
      if (r.length !== v.width) {
        throw new UrneError('format', `row ${v.from + k} has ${r.length} ciphertexts, the rows have ${v.width}`);
      }
    });
    rows.push(...v.rows);
    view = v;
  });
  delete view.rows;
  delete view.from;
  if (rows.length !== view.ballots) {
    throw new UrneError('format', `the pages hold ${rows.length} rows, the list has ${view.ballots}`);
  }
  if (toBase64Url(listDigest(rows)) !== view.list_digest) {
    throw new UrneError('format', "the rows are not the list whose digest the server gives: nothing can be sent; tell the administrator and the observers");
  }
  return { view, rows };
}

// ---------------------------------------------------------------------------------------------
// The shuffle (spec §8.7; urne_core::proofs::shuffle).
//
//   PK{ (π, r′) : α′_{i,k} = α_{π(i),k} + r′_{i,k}·G  and  β′_{i,k} = β_{π(i),k} + r′_{i,k}·Y }
//
// Papers: D. Wikström, "A commitment-consistent proof of a shuffle", ACISP 2009; B. Terelius,
// D. Wikström, "Proofs of restricted shuffles", AFRICACRYPT 2010; R. Haenni, P. Locher, R. Koenig,
// E. Dubuis, "Pseudo-code algorithms for verifiable re-encryption mix-nets", FC 2017 workshops
// (GenShuffleProof, CheckShuffleProof), written additively and for vectors of w ciphertexts.

/** N and w of a statement: N ≥ 1 inputs of one width w ≥ 1 and N outputs of width w. */
function statementShape(inputs, outputs) {
  if (!Array.isArray(inputs) || inputs.length === 0) throw shapeError('0 input vectors where at least 1 is required');
  const w = inputs[0].length;
  if (w === 0) throw shapeError('an input vector has no ciphertext');
  inputs.forEach((r, j) => {
    if (r.length !== w) throw shapeError(`input vector ${j} has ${r.length} ciphertexts, not ${w}`);
  });
  if (outputs !== undefined) {
    if (outputs.length !== inputs.length) throw shapeError(`${outputs.length} output vectors for ${inputs.length} inputs`);
    outputs.forEach((r, i) => {
      if (r.length !== w) throw shapeError(`output vector ${i} has ${r.length} ciphertexts, not ${w}`);
    });
  }
  return { n: inputs.length, w };
}

/** H = generator(P, 0) and Hᵢ = generator(P, i + 1) for i < n (spec §3.3, §8.7). */
export function shuffleGenerators(n) {
  const H = generator(MIX_TAGS.SHUFFLE_GENERATORS, 0);
  const Hs = new Array(n);
  for (let i = 0; i < n; i++) Hs[i] = generator(MIX_TAGS.SHUFFLE_GENERATORS, i + 1);
  return { H, Hs };
}

/** The statement digest d (spec §8.7, items 1–8). */
function statementDigest(fingerprint, Y, w, inputs, outputs, C) {
  const h = new ItemHasher(MIX_TAGS.SHUFFLE_STATEMENT).bytes(fingerprint).point(Y).str(MIX_TAGS.SHUFFLE_GENERATORS).u64(w);
  for (const list of [inputs, outputs]) {
    h.len(list.length);
    for (const row of list) for (const ct of row) h.bytes(pointBytes(ct.alpha)).bytes(pointBytes(ct.beta));
  }
  h.len(C.length);
  for (const P of C) h.point(P);
  return h.digest();
}

/** uⱼ = Hc(VECTOR_CHALLENGE; d, j) for j < n. */
function vectorChallenges(d, n) {
  const u = new Array(n);
  for (let j = 0; j < n; j++) u[j] = new ItemHasher(MIX_TAGS.SHUFFLE_VECTOR_CHALLENGE).bytes(d).u64(j).challenge();
  return u;
}

/** c = Hc(CHALLENGE; d, Ĉ, T₁, T₂, T₃, T₄, T̂). */
function proofChallenge(d, p) {
  const h = new ItemHasher(MIX_TAGS.SHUFFLE_CHALLENGE).bytes(d).len(p.chain_commitments.length);
  for (const P of p.chain_commitments) h.point(P);
  h.point(p.t1).point(p.t2).point(p.t3).len(p.t4.length);
  for (const t of p.t4) h.point(t.alpha).point(t.beta);
  h.len(p.t_hat.length);
  for (const P of p.t_hat) h.point(P);
  return h.challenge();
}

/**
 * A uniform permutation of 0 … n−1 (Fisher–Yates; Knuth, TAOCP vol. 2, §3.4.2). Each index is a
 * fresh uniform scalar reduced mod (i + 1): its bias is below (i + 1)/ℓ < 2^-200, where the Rust
 * shuffler rejects to get none (spec §8.7 leaves the method to the implementation).
 */
function randomPermutation(n, draw) {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Number(draw() % BigInt(i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * How much slower a secret multiplication of a point without a precomputed table is than one of
 * G, Y or H, which have one (about 6 with @noble/curves, measured in node and Chromium).
 */
const SLOW_MULTIPLICATION = 6;

/**
 * The work of a shuffle of `n` rows of `w` ciphertexts, in the units that `makeShuffle` reports
 * to its `onProgress`: one unit is a secret multiplication of a point with a table; one of a
 * point without a table (T₃'s and T₄'s sums) counts `SLOW_MULTIPLICATION` units. The
 * re-encryptions take 2nw units, the proof's commitments 5n, its sums 6n(1 + 2w), and T₁ … T₄
 * with the signature 2w + 4.
 */
export function shuffleWork(n, w) {
  return 2 * n * w + 5 * n + SLOW_MULTIPLICATION * n * (1 + 2 * w) + 2 * w + 4;
}

/**
 * Shuffles `inputs` (N ≥ 1 vectors of w ≥ 1 decoded ciphertexts) under the election key `Y`:
 * output i is input π(i) with each component re-encrypted, α′ = α + r′·G and β′ = β + r′·Y, for a
 * uniform permutation π and uniform r′ (spec §8.7, "Shuffling"). Draws π's indices, then the r′
 * row by row. Returns `{outputs, witness}`; the witness is secret: give it to `proveShuffle`, then
 * drop it. `onStep(units)`, when given, is called after each row with the work it took (see
 * `shuffleWork`).
 *
 * @param {object} Y the election key (a point)
 * @param {{alpha: object, beta: object}[][]} inputs
 * @param {() => bigint} [draw]
 * @param {(units: number) => void} [onStep]
 */
export function shuffleRows(Y, inputs, draw = randomScalar, onStep = undefined) {
  const { n, w } = statementShape(inputs);
  const permutation = randomPermutation(n, draw);
  const randomness = new Array(n * w);
  for (let i = 0; i < n * w; i++) randomness[i] = draw();
  const outputs = new Array(n);
  for (let i = 0; i < n; i++) {
    const src = inputs[permutation[i]];
    const row = new Array(w);
    for (let k = 0; k < w; k++) {
      const r = randomness[i * w + k];
      row[k] = { alpha: src[k].alpha.add(mulSecret(G, r)), beta: src[k].beta.add(mulSecret(Y, r)) };
    }
    outputs[i] = row;
    onStep?.(2 * w);
  }
  return { outputs, witness: { permutation, randomness, width: w } };
}

/**
 * Proves that `outputs` is a shuffle of `inputs` under `Y` for the election `fingerprint`
 * (32 bytes), with the `witness` of `shuffleRows` (spec §8.7, "Prover"; shuffle.rs
 * `prove_shuffle`). Draws r₀…r_{N−1}, r̂₀…r̂_{N−1}, ω₁, ω₂, ω₃, ω_{4,0…w−1}, ω̂₀…, ω′₀… in that
 * order, as the Rust prover does. Returns the decoded proof (see `encodeShuffleProof`).
 * `onStep(units)`, when given, is called as the work goes on (see `shuffleWork`); it changes
 * nothing of the proof.
 */
export function proveShuffle(fingerprint, Y, inputs, outputs, witness, draw = randomScalar, onStep = undefined) {
  const { n, w } = statementShape(inputs, outputs);
  const perm = witness.permutation;
  if (perm.length !== n) throw shapeError(`the witness's permutation has ${perm.length} entries for ${n} vectors`);
  if (witness.width !== w) throw shapeError(`the witness is for vectors of ${witness.width} ciphertexts, not ${w}`);
  const { H, Hs } = shuffleGenerators(n);
  // H is multiplied 2N times by secret scalars: a cached table makes that several times faster.
  H.precompute(8, false);
  const inverse = new Array(n);
  perm.forEach((j, i) => {
    inverse[j] = i;
  });

  // 1. Permutation commitment, by input: Cⱼ = rⱼ·G + H_{π⁻¹(j)}.
  const r = Array.from({ length: n }, () => draw());
  const C = r.map((rj, j) => mulSecret(G, rj).add(Hs[inverse[j]]));
  onStep?.(n);
  const d = statementDigest(fingerprint, Y, w, inputs, outputs, C);
  const u = vectorChallenges(d, n);
  const uP = perm.map((j) => u[j]);

  // 2. The chain Ĉᵢ = Rᵢ·G + Uᵢ·H (Rᵢ = r̂ᵢ + u′ᵢ·R_{i−1}, Uᵢ = u′ᵢ·U_{i−1}, R₋₁ = 0, U₋₁ = 1).
  const rHat = Array.from({ length: n }, () => draw());
  const Racc = new Array(n);
  const Uacc = new Array(n);
  let rr = 0n;
  let uu = 1n;
  for (let i = 0; i < n; i++) {
    rr = mod(rHat[i] + uP[i] * rr);
    uu = mod(uu * uP[i]);
    Racc[i] = rr;
    Uacc[i] = uu;
  }
  const chain = Racc.map((R, i) => mulSecret(G, R).add(mulSecret(H, Uacc[i])));
  onStep?.(2 * n);

  // 3. Commitments.
  const om = [draw(), draw(), draw()];
  const om4 = Array.from({ length: w }, () => draw());
  const omHat = Array.from({ length: n }, () => draw());
  const omPrime = Array.from({ length: n }, () => draw());
  // T̂ᵢ = ω̂ᵢ·G + ω′ᵢ·Ĉ_{i−1} = (ω̂ᵢ + ω′ᵢ·R_{i−1})·G + (ω′ᵢ·U_{i−1})·H.
  const tHat = new Array(n);
  for (let i = 0; i < n; i++) {
    const rPrev = i === 0 ? 0n : Racc[i - 1];
    const uPrev = i === 0 ? 1n : Uacc[i - 1];
    tHat[i] = mulSecret(G, mod(omHat[i] + omPrime[i] * rPrev)).add(mulSecret(H, mod(omPrime[i] * uPrev)));
  }
  onStep?.(2 * n);
  let sumH = IDENTITY;
  const sumA = new Array(w).fill(IDENTITY);
  const sumB = new Array(w).fill(IDENTITY);
  for (let i = 0; i < n; i++) {
    const o = omPrime[i];
    sumH = sumH.add(mulSecret(Hs[i], o));
    const row = outputs[i];
    for (let k = 0; k < w; k++) {
      sumA[k] = sumA[k].add(mulSecret(row[k].alpha, o));
      sumB[k] = sumB[k].add(mulSecret(row[k].beta, o));
    }
    onStep?.(SLOW_MULTIPLICATION * (1 + 2 * w));
  }
  const proof = {
    permutation_commitments: C,
    chain_commitments: chain,
    t1: mulSecret(G, om[0]),
    t2: mulSecret(G, om[1]),
    t3: mulSecret(G, om[2]).add(sumH),
    t4: om4.map((o, k) => ({ alpha: sumA[k].subtract(mulSecret(G, o)), beta: sumB[k].subtract(mulSecret(Y, o)) })),
    t_hat: tHat,
  };
  // 4. Challenge, 5. responses.
  const c = proofChallenge(d, proof);
  let rSum = 0n;
  let rU = 0n;
  for (let j = 0; j < n; j++) {
    rSum += r[j];
    rU += r[j] * u[j];
  }
  proof.s1 = mod(om[0] + c * mod(rSum));
  proof.s2 = mod(om[1] + c * Racc[n - 1]);
  proof.s3 = mod(om[2] + c * mod(rU));
  proof.s4 = om4.map((o, k) => {
    let rTilde = 0n;
    for (let i = 0; i < n; i++) rTilde += uP[i] * witness.randomness[i * w + k];
    return mod(o + c * mod(rTilde));
  });
  proof.s_hat = omHat.map((o, i) => mod(o + c * rHat[i]));
  proof.s_prime = omPrime.map((o, i) => mod(o + c * uP[i]));
  // The secrets are bigints in arrays: clear the arrays so that nothing outlives this call by
  // reference (the values themselves cannot be erased in JavaScript).
  for (const a of [r, rHat, Racc, Uacc, om, om4, omHat, omPrime, uP]) a.fill(0n);
  return proof;
}

/**
 * Checks a shuffle proof (spec §8.7, "Verifier"), one equation at a time. Variable time: public
 * data only. Throws `shape` when the lists do not match N vectors of width w (before hashing),
 * `equation` naming the first equation that fails. Written from the spec, independently of the
 * Rust verifier, which the tests also run on this module's proofs. `onProgress(done, total)`,
 * when given, is called after each row of the sums (in multiplications, about 4Nw + 3N in all).
 */
export function verifyShuffle(fingerprint, Y, inputs, outputs, proof, onProgress = undefined) {
  const { n, w } = statementShape(inputs, outputs);
  for (const [what, want, list] of [
    ['permutation_commitments', n, proof.permutation_commitments],
    ['chain_commitments', n, proof.chain_commitments],
    ['t_hat', n, proof.t_hat],
    ['s_hat', n, proof.s_hat],
    ['s_prime', n, proof.s_prime],
    ['t4', w, proof.t4],
    ['s4', w, proof.s4],
  ]) {
    if (list.length !== want) throw shapeError(`${what} has ${list.length} entries, not ${want}`);
  }
  const { H, Hs } = shuffleGenerators(n);
  const C = proof.permutation_commitments;
  const Ch = proof.chain_commitments;
  const d = statementDigest(fingerprint, Y, w, inputs, outputs, C);
  const u = vectorChallenges(d, n);
  const c = proofChallenge(d, proof);
  const mul = (P, s) => (s === 0n ? IDENTITY : vartimeMul(P, s));
  const fail = (which) => {
    throw new UrneError('equation', `the shuffle proof's ${which} equation fails`);
  };
  const total = 4 * n * w + 3 * n;
  let done = 0;
  const step = (units) => {
    done += units;
    onProgress?.(Math.min(done, total), total);
  };
  let sumC = IDENTITY;
  let sumH = IDENTITY;
  let uC = IDENTITY;
  let uProd = 1n;
  let sH = IDENTITY;
  for (let j = 0; j < n; j++) {
    sumC = sumC.add(C[j]);
    sumH = sumH.add(Hs[j]);
    uC = uC.add(mul(C[j], u[j]));
    uProd = mod(uProd * u[j]);
    sH = sH.add(mul(Hs[j], proof.s_prime[j]));
  }
  step(n);
  if (!mul(G, proof.s1).equals(proof.t1.add(mul(sumC.subtract(sumH), c)))) fail('first (s₁)');
  if (!mul(G, proof.s2).equals(proof.t2.add(mul(Ch[n - 1].subtract(mul(H, uProd)), c)))) fail('second (s₂)');
  if (!mul(G, proof.s3).add(sH).equals(proof.t3.add(mul(uC, c)))) fail('third (s₃)');
  for (let k = 0; k < w; k++) {
    let outA = IDENTITY;
    let outB = IDENTITY;
    let inA = IDENTITY;
    let inB = IDENTITY;
    for (let i = 0; i < n; i++) {
      outA = outA.add(mul(outputs[i][k].alpha, proof.s_prime[i]));
      outB = outB.add(mul(outputs[i][k].beta, proof.s_prime[i]));
      inA = inA.add(mul(inputs[i][k].alpha, u[i]));
      inB = inB.add(mul(inputs[i][k].beta, u[i]));
      if (onProgress) step(4);
    }
    if (!outA.subtract(mul(G, proof.s4[k])).equals(proof.t4[k].alpha.add(mul(inA, c)))) fail(`α of column ${k}`);
    if (!outB.subtract(mul(Y, proof.s4[k])).equals(proof.t4[k].beta.add(mul(inB, c)))) fail(`β of column ${k}`);
  }
  for (let i = 0; i < n; i++) {
    const prev = i === 0 ? H : Ch[i - 1];
    if (!mul(G, proof.s_hat[i]).add(mul(prev, proof.s_prime[i])).equals(proof.t_hat[i].add(mul(Ch[i], c)))) {
      fail(`chain (row ${i})`);
    }
  }
  step(total);
}

/**
 * The prefix of shuffle p's signature (spec §8.8.2): the election `fingerprint`, the trustee's
 * manifest key `X` and `index`, the `position` p, and the 64-byte list digests of its input and
 * output (`listDigest`). The signature is a Schnorr proof (§7.3, proofs.js) on it.
 */
export function shuffleSignaturePrefix(fingerprint, X, index, position, inputDigest, outputDigest) {
  return new ItemHasher(MIX_TAGS.SHUFFLE_SIGNATURE).bytes(fingerprint).point(X).u64(index).u64(position).bytes(inputDigest).bytes(outputDigest);
}

/**
 * Checks shuffle p's signature `{r, s}` (decoded, `decodeSchnorr`) by trustee `index` whose
 * manifest key is `X`, over the digests of its input and output. Variable time (public data).
 * Throws `equation` when it does not verify.
 */
export function verifyShuffleSignature(fingerprint, X, index, position, inputDigest, outputDigest, signature) {
  verifySchnorr(shuffleSignaturePrefix(fingerprint, X, index, position, inputDigest, outputDigest), X, signature);
}

/**
 * A shuffle as the record holds it (spec §8.8.2; docs/record.md), from its `shuffle_chunk` lines
 * in order and its `shuffle` line, as parsed JSON values (the record's `seq` and `type` members
 * are allowed and ignored): `{position, trustee, outputs, proof, signature}`, the output rows and
 * the proof decoded. Throws `format` naming the line when the chunks are not of this shuffle, do
 * not follow each other from offset 0, do not hold the shuffle's `ballots` rows of one width, or
 * when a member does not decode.
 */
export function decodeShuffleLines(chunks, end) {
  const plain = (line) => {
    if (line === null || typeof line !== 'object') return line;
    const { seq: _seq, type: _type, ...rest } = line;
    return rest;
  };
  const e = decodeDocument(plain(end), (v, p) =>
    object(v, p, {
      shuffle: [u32, true],
      trustee: [u32, true],
      ballots: [u64, true],
      t1: [(x) => x, true],
      t2: [(x) => x, true],
      t3: [(x) => x, true],
      t4: [(x) => x, true],
      s1: [(x) => x, true],
      s2: [(x) => x, true],
      s3: [(x) => x, true],
      s4: [(x) => x, true],
      signature: [decodeSchnorr, true],
    }),
  );
  const outputs = [];
  const perRow = { permutation_commitments: [], chain_commitments: [], t_hat: [], s_hat: [], s_prime: [] };
  if (!Array.isArray(chunks) || chunks.length === 0) throw new UrneError('format', `shuffle ${e.shuffle} has no chunk`);
  chunks.forEach((chunk, i) => {
    const c = decodeDocument(plain(chunk), (v, p) =>
      object(v, p, {
        shuffle: [u32, true],
        trustee: [u32, true],
        offset: [u64, true],
        outputs: [(x, q) => array(x, q, (r, s) => array(r, s, decodeRowCiphertext)), true],
        permutation_commitments: [(x, q) => array(x, q, (y) => y), true],
        chain_commitments: [(x, q) => array(x, q, (y) => y), true],
        t_hat: [(x, q) => array(x, q, (y) => y), true],
        s_hat: [(x, q) => array(x, q, (y) => y), true],
        s_prime: [(x, q) => array(x, q, (y) => y), true],
      }),
    );
    const where = `chunk ${i} of shuffle ${e.shuffle}`;
    if (c.shuffle !== e.shuffle || c.trustee !== e.trustee) {
      throw new UrneError('format', `${where} is shuffle ${c.shuffle}'s by trustee ${c.trustee}, not shuffle ${e.shuffle}'s by trustee ${e.trustee}`);
    }
    if (c.offset !== outputs.length) throw new UrneError('format', `${where} starts at row ${c.offset}, the chunks before it hold ${outputs.length} rows`);
    if (c.outputs.length === 0) throw new UrneError('format', `${where} holds no row`);
    for (const k of Object.keys(perRow)) {
      if (c[k].length !== c.outputs.length) throw new UrneError('format', `${where} has ${c[k].length} ${k} for ${c.outputs.length} rows`);
      perRow[k].push(...c[k]);
    }
    outputs.push(...c.outputs);
  });
  if (outputs.length !== e.ballots) throw new UrneError('format', `shuffle ${e.shuffle}'s chunks hold ${outputs.length} rows, its line says ${e.ballots}`);
  const w = outputs[0].length;
  outputs.forEach((r, i) => {
    if (r.length !== w || w === 0) throw new UrneError('format', `row ${i} of shuffle ${e.shuffle} has ${r.length} ciphertexts, its first row ${w}`);
  });
  const { shuffle: _s, trustee: _t, ballots: _b, signature, ...ends } = e;
  const proof = decodeDocument({ ...perRow, ...ends }, (v, p) => decodeShuffleProof(v, p));
  return { position: e.shuffle, trustee: e.trustee, outputs, proof, signature };
}

/** A shuffle proof's JSON form (spec §8.7, "JSON form"), its fields in the spec's order. */
export function encodeShuffleProof(p) {
  return {
    permutation_commitments: p.permutation_commitments.map(encodePoint),
    chain_commitments: p.chain_commitments.map(encodePoint),
    t1: encodePoint(p.t1),
    t2: encodePoint(p.t2),
    t3: encodePoint(p.t3),
    t4: p.t4.map(encodeCiphertext),
    t_hat: p.t_hat.map(encodePoint),
    s1: encodeScalar(p.s1),
    s2: encodeScalar(p.s2),
    s3: encodeScalar(p.s3),
    s4: p.s4.map(encodeScalar),
    s_hat: p.s_hat.map(encodeScalar),
    s_prime: p.s_prime.map(encodeScalar),
  };
}

/** Decodes a shuffle proof's JSON form strictly (unknown fields, bad points or scalars refused). */
export function decodeShuffleProof(value, path = '') {
  const points = (x, q) => array(x, q, decodePoint);
  const scalars = (x, q) => array(x, q, decodeScalar);
  return object(value, path, {
    permutation_commitments: [points, true],
    chain_commitments: [points, true],
    t1: [decodePoint, true],
    t2: [decodePoint, true],
    t3: [decodePoint, true],
    t4: [(x, q) => array(x, q, decodeCiphertext), true],
    t_hat: [points, true],
    s1: [decodeScalar, true],
    s2: [decodeScalar, true],
    s3: [decodeScalar, true],
    s4: [scalars, true],
    s_hat: [scalars, true],
    s_prime: [scalars, true],
  });
}

// ---------------------------------------------------------------------------------------------
// The trustee's steps (urne trustee shuffle, urne trustee mix-decrypt).

/** The manifest, checked against the election id and the trustee index. */
function loadManifest(manifest, electionId, index) {
  if (manifest === undefined) throw new UrneError('argument', 'the manifest is needed for its fingerprint and keys', { path: 'manifest' });
  const m = parseManifest(manifest);
  if (m.id !== electionId) throw new UrneError('argument', `the manifest is election ${m.id}'s, not ${electionId}'s`, { path: 'manifest' });
  if (!Number.isInteger(index) || index < 1 || index > m.trustees.length) {
    throw new UrneError('argument', `the index must be between 1 and the number of trustees (${m.trustees.length})`, { path: 'index' });
  }
  const w = mixWidth(m);
  if (w === 0) throw new UrneError('state', `election ${m.id} has no ranked or graded question: it has no mix phase`);
  return { m, w };
}

/** Rows per request for rows of about `rowBytes` bytes of JSON (trustee/mix.rs `rows_per_request`). */
function rowsPerRequest(maxUploadBytes, rowBytes) {
  const budget = Math.min(Math.floor(Number(maxUploadBytes) / 2), CHUNK_BYTES);
  return Math.max(1, Math.floor(budget / Math.max(1, rowBytes)));
}

function chunkSize(chunkRows, maxUploadBytes, rowBytes) {
  if (chunkRows !== undefined) {
    if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new UrneError('argument', 'chunkRows must be at least 1', { path: 'chunkRows' });
    return chunkRows;
  }
  return rowsPerRequest(maxUploadBytes, rowBytes);
}

function checkList(list, w) {
  if (list === null || typeof list !== 'object' || !Array.isArray(list.rows) || list.view === undefined) {
    throw new UrneError('argument', 'the list must be what mixList returned', { path: 'list' });
  }
  if (list.view.width !== w) throw new UrneError('format', `the server's rows have ${list.view.width} ciphertexts, the manifest's mixed questions ${w}`);
}

/**
 * Trustee `index`'s shuffle of the current list (spec §8.7, §8.8.2; `urne trustee shuffle`):
 * re-encrypts and permutes `list.rows` under the manifest's key with fresh randomness, proves it
 * and signs it with the identity key (the manifest's `public_key` of trustee `index`).
 *
 * Refuses (`state`) as the server would: while the tally's factors are not all in, once trustees
 * decrypt the last list, when this trustee has shuffled already, or with no row to shuffle.
 * `identitySecret` is the 32 bytes of the identity key (SECRET_PURPOSE.identity); `key` if it is
 * not trustee `index`'s key in the manifest. `manifest` is the sealed manifest (value or text).
 *
 * Returns the requests to make, in order, with the trustee's invitation token:
 * - each of `chunks`: POST /api/v1/elections/{id}/mix/shuffles/{position}/chunks, a
 *   `shuffle_chunk` body `{shuffle, trustee, offset, outputs, permutation_commitments,
 *   chain_commitments, t_hat, s_hat, s_prime}` (at most `chunkRows` rows each, or as many as fit
 *   in half of `list.view.max_upload_bytes`, as the CLI does);
 * - then `end`: POST /api/v1/elections/{id}/mix/shuffles/{position}, a `shuffle` body
 *   `{shuffle, trustee, ballots, t1, t2, t3, t4, s1, s2, s3, s4, signature: {r, s}}`.
 * A failed upload is started again from its first chunk (offset 0). `outputs` is the shuffled
 * list (JSON rows), which the next trustee will receive.
 *
 * `onProgress(done, total)`, when given, is called as the work goes on (after each row of the
 * re-encryption and of the proof's sums, and once at the end with done = total), in the units
 * of `shuffleWork(N, w)` = total: public counts only. It changes nothing of what is made.
 *
 * @param {{view: object, rows: object[][]}} list what `mixList` returned
 * @param {{electionId: string, index: number, identitySecret: Uint8Array, manifest: object|string,
 *   chunkRows?: number, draw?: () => bigint, onProgress?: (done: number, total: number) => void}} args
 * @returns {{position: number, chunks: object[], end: object, outputs: object[][]}}
 */
export function makeShuffle(list, { electionId, index, identitySecret, manifest, chunkRows, draw = randomScalar, onProgress }) {
  const { m, w } = loadManifest(manifest, electionId, index);
  checkList(list, w);
  const v = list.view;
  const needed = m.key_sharing === 'threshold' ? m.threshold : m.trustees.length;
  if (v.tally_decryptions < needed) {
    throw new UrneError('state', `${v.tally_decryptions} of the ${needed} trustees' factors of the tally are on the board: the shuffles follow them`);
  }
  if (v.decrypted || v.decryptors.length > 0) throw new UrneError('state', 'trustees are decrypting the last shuffle already: no more shuffles');
  if (v.shufflers.includes(index)) throw new UrneError('state', `trustee ${index} has shuffled already (shuffles by ${v.shufflers.join(', ')})`);
  if (list.rows.length === 0) throw new UrneError('state', 'no ballot was counted: nothing to shuffle');
  let x = identityScalar(identitySecret);
  const X = m.trustees[index - 1].public_key;
  if (!mulSecret(G, x).equals(X)) throw new UrneError('key', `the secret is not trustee ${index}'s key in the manifest`);
  const size = chunkSize(chunkRows, v.max_upload_bytes, 110 * w + 240);

  const position = v.next_shuffle;
  const fingerprint = manifestFingerprint(m);
  const Y = m.public_key;
  Y.precompute(8, false);
  const inputs = list.rows;
  const total = shuffleWork(inputs.length, w);
  let done = 0;
  const onStep =
    typeof onProgress === 'function'
      ? (units) => {
          done += units;
          onProgress(Math.min(done, total), total);
        }
      : undefined;
  onStep?.(0);
  let { outputs, witness } = shuffleRows(Y, inputs, draw, onStep);
  const proof = proveShuffle(fingerprint, Y, inputs, outputs, witness, draw, onStep);
  witness.permutation.fill(0);
  witness.randomness.fill(0n);
  witness = undefined;
  const prefix = shuffleSignaturePrefix(fingerprint, X, index, position, listDigest(inputs), listDigest(outputs));
  const signature = encodeSchnorr(proveSchnorr(prefix, x, draw));
  x = 0n;
  onStep?.(total);

  const json = encodeShuffleProof(proof);
  const rows = outputs.map((row) => row.map(ciphertextJson));
  const chunks = [];
  for (let o = 0; o < rows.length; o += size) {
    const end = Math.min(o + size, rows.length);
    chunks.push({
      shuffle: position,
      trustee: index,
      offset: o,
      outputs: rows.slice(o, end),
      permutation_commitments: json.permutation_commitments.slice(o, end),
      chain_commitments: json.chain_commitments.slice(o, end),
      t_hat: json.t_hat.slice(o, end),
      s_hat: json.s_hat.slice(o, end),
      s_prime: json.s_prime.slice(o, end),
    });
  }
  const end = {
    shuffle: position,
    trustee: index,
    ballots: rows.length,
    t1: json.t1,
    t2: json.t2,
    t3: json.t3,
    t4: json.t4,
    s1: json.s1,
    s2: json.s2,
    s3: json.s3,
    s4: json.s4,
    signature,
  };
  return { position, chunks, end, outputs: rows };
}

/**
 * Trustee `index`'s decryption factors of the last list (spec §8.8.3; `urne trustee
 * mix-decrypt`): for every ciphertext of `list.rows`, row then column, D = s·α with its
 * Chaum–Pedersen proof (§8.3), made and checked by trustee.js `partialDecryption` (so with the
 * same key checks: `share` is the 36-byte share under threshold sharing, the 32-byte identity
 * secret under independent keys; `verificationKey`, when given, must be V = s·G).
 *
 * Refuses (`state`) while fewer than `threshold` trustees have shuffled, once the rows are
 * decrypted, or when this trustee has sent its factors already.
 *
 * Returns `bodies`: each, in order, is POSTed to /api/v1/elections/{id}/mix/decryptions with the
 * trustee's invitation token, a `mix_decryption` body `{trustee, offset, factors}` of at most
 * `chunkRows` rows (or as many as fit in half of `list.view.max_upload_bytes`), each row w
 * factors `{factor, a, b, z}`. A failed upload is started again from its first body (offset 0).
 *
 * `onProgress(done, total)`, when given, is called before each ciphertext's factor with the
 * count done so far, and once at the end with done = total = N·w: public counts only.
 *
 * @param {{view: object, rows: object[][]}} list what `mixList` returned
 * @param {{electionId: string, index: number, share: Uint8Array, manifest: object|string,
 *   verificationKey?: string, chunkRows?: number, draw?: () => bigint,
 *   onProgress?: (done: number, total: number) => void}} args
 * @returns {{bodies: {trustee: number, offset: number, factors: object[][]}[]}}
 */
export function mixDecryption(list, { electionId, index, share, manifest, verificationKey, chunkRows, draw = randomScalar, onProgress }) {
  const { m, w } = loadManifest(manifest, electionId, index);
  checkList(list, w);
  const v = list.view;
  if (v.shufflers.length < m.threshold) {
    throw new UrneError('state', `${v.shufflers.length} of the ${m.threshold} trustees needed have shuffled: the decryption follows`);
  }
  if (v.decrypted) throw new UrneError('state', 'the last list is decrypted already: nothing to do');
  if (v.decryptors.includes(index)) throw new UrneError('state', `trustee ${index} has sent its factors of the last list already`);
  if (list.rows.length === 0) throw new UrneError('state', 'the list is empty: nothing to decrypt');
  const size = chunkSize(chunkRows, v.max_upload_bytes, 220 * w + 8);
  // The §8.3 factors of a list of ciphertexts are those of a tally holding them in order.
  const view = {
    ballots: 0,
    total_weight: 0,
    tally: { questions: [{ choices: list.rows.flatMap((row) => row.map(ciphertextJson)) }] },
  };
  // trustee.js draws one nonce per ciphertext, in order, as it proves each factor: the count of
  // draws is the progress.
  const total = list.rows.length * w;
  let drawn = 0;
  const counted =
    typeof onProgress === 'function'
      ? () => {
          onProgress(Math.min(drawn, total), total);
          drawn += 1;
          return draw();
        }
      : draw;
  const flat = partialDecryption(view, { electionId, index, share, manifest, verificationKey, draw: counted }).factors;
  if (counted !== draw) onProgress(total, total);
  const bodies = [];
  for (let o = 0; o < list.rows.length; o += size) {
    const end = Math.min(o + size, list.rows.length);
    const factors = [];
    for (let r = o; r < end; r++) factors.push(flat.slice(r * w, (r + 1) * w));
    bodies.push({ trustee: index, offset: o, factors });
  }
  return { bodies };
}
