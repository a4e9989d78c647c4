//! A verifiable shuffle of ElGamal ciphertext vectors: re-encrypt every ballot and permute the
//! list, then prove in zero knowledge that the output list holds the same plaintexts as the input
//! list, in an order nobody but the shuffler knows.
//!
//! Spec: docs/spec.md §8.7. Papers: D. Wikström, "A commitment-consistent proof of a shuffle",
//! ACISP 2009; B. Terelius, D. Wikström, "Proofs of restricted shuffles", AFRICACRYPT 2010;
//! R. Haenni, P. Locher, R. Koenig, E. Dubuis, "Pseudo-code algorithms for verifiable
//! re-encryption mix-nets", FC 2017 workshops (whose GenShuffleProof/CheckShuffleProof this
//! module follows, written additively for a prime-order group and for vectors of width w);
//! T. Haines, "A description and proof of a generalised and optimised variant of Wikström's
//! mixnet", arXiv:1901.08371 (the same proof over vectors of ciphertexts).
//!
//! Each ballot is a vector of w ≥ 1 exponential ElGamal ciphertexts (spec §6.1) under the
//! election key Y; the whole vector moves together. With N input vectors Eⱼ = (E_{j,0} …
//! E_{j,w−1}), the shuffler draws a uniform permutation π of {0 … N−1} and randomness r′_{i,k}, and
//! outputs E′ᵢ = E_{π(i)} + Enc(0; r′_{i,·}), that is
//! α′_{i,k} = α_{π(i),k} + r′_{i,k}·G and β′_{i,k} = β_{π(i),k} + r′_{i,k}·Y.
//!
//! Relation, for public Y, inputs E, outputs E′ and the independent generators H, H₀ … H_{N−1}
//! (spec §3.3, purpose [`GENERATOR_PURPOSE`]):
//!
//! PK{ (π, r′) : E′ᵢ = E_{π(i)} + Enc(0; r′_{i,·}) for every i }
//!
//! proved as in Terelius–Wikström: a Pedersen commitment to the permutation matrix,
//! Cⱼ = rⱼ·G + H_{π⁻¹(j)}, random challenges uⱼ = Hc(d, j) on the inputs, and a Schnorr-style
//! proof that the committed matrix is a permutation (its rows sum to one and Πᵢ u_{π(i)} =
//! Πⱼ uⱼ, through the chain Ĉᵢ = r̂ᵢ·G + u_{π(i)}·Ĉ_{i−1}, Ĉ₋₁ = H) that maps Σⱼ uⱼ·Eⱼ,ₖ to
//! Σᵢ u_{π(i)}·E′ᵢ,ₖ up to a re-encryption, for every component k with the same exponents.
//!
//! Prover (u′ᵢ = u_{π(i)}; Rᵢ = r̂ᵢ + u′ᵢ·R_{i−1}, Uᵢ = u′ᵢ·U_{i−1}, R₋₁ = 0, U₋₁ = 1, so that
//! Ĉᵢ = Rᵢ·G + Uᵢ·H and every Ĉᵢ is computed independently of the others):
//! draw ω₁, ω₂, ω₃, ω₄,ₖ, ω̂ᵢ, ω′ᵢ;
//! T₁ = ω₁·G, T₂ = ω₂·G, T₃ = ω₃·G + Σ ω′ᵢ·Hᵢ,
//! T₄,ₖ = (Σ ω′ᵢ·α′ᵢ,ₖ − ω₄,ₖ·G, Σ ω′ᵢ·β′ᵢ,ₖ − ω₄,ₖ·Y), T̂ᵢ = ω̂ᵢ·G + ω′ᵢ·Ĉ_{i−1};
//! c = Hc(d, Ĉ, T₁, T₂, T₃, T₄, T̂);
//! s₁ = ω₁ + c·Σ rⱼ, s₂ = ω₂ + c·R_{N−1}, s₃ = ω₃ + c·Σ rⱼ·uⱼ, s₄,ₖ = ω₄,ₖ + c·Σ u′ᵢ·r′ᵢ,ₖ,
//! ŝᵢ = ω̂ᵢ + c·r̂ᵢ, s′ᵢ = ω′ᵢ + c·u′ᵢ.
//!
//! Verifier: recompute d, the uⱼ and c, then check
//! s₁·G = T₁ + c·(Σ Cⱼ − Σ Hᵢ);  s₂·G = T₂ + c·(Ĉ_{N−1} − (Π uⱼ)·H);
//! s₃·G + Σ s′ᵢ·Hᵢ = T₃ + c·Σ uⱼ·Cⱼ;
//! Σ s′ᵢ·α′ᵢ,ₖ − s₄,ₖ·G = T₄,ₖ.α + c·Σ uⱼ·αⱼ,ₖ and Σ s′ᵢ·β′ᵢ,ₖ − s₄,ₖ·Y = T₄,ₖ.β + c·Σ uⱼ·βⱼ,ₖ;
//! ŝᵢ·G + s′ᵢ·Ĉ_{i−1} = T̂ᵢ + c·Ĉᵢ.
//! All N + 3 + 2w equations go into one variable-time multiscalar multiplication with independent
//! random 128-bit weights (spec §9), split into chunks of rows.
//!
//! Hash input: d = H(STATEMENT; fingerprint, Y, the generators' purpose, w, the inputs, the
//! outputs, the permutation commitments); uⱼ = Hc(VECTOR_CHALLENGE; d, j);
//! c = Hc(CHALLENGE; d, Ĉ, T₁, T₂, T₃, T₄, T̂). The digest d holds the whole statement, so every
//! challenge binds it (strong Fiat–Shamir, spec §3.2). Lists are items as in spec §3.1.
//!
//! Decoding (serde) rejects what [`Point`] and the scalar adapters reject (spec §2) and unknown
//! fields; the verifier rejects any list whose length differs from N or w with
//! [`ProofError::Shape`] before hashing.
//!
//! Side channels: group and scalar arithmetic on secrets is constant-time, but the shuffler
//! reads the inputs, the generators and the challenges at the permutation's positions, so its
//! memory access pattern depends on π (as in every implementation of a shuffle we know of). Run
//! it where other tenants cannot observe the cache.
//!
//! With the `parallel` feature, the re-encryption, the proof and the verification run on rayon's
//! thread pool; without it, on the calling thread. The results are the same.

#![allow(non_snake_case)] // C, Ĉ, H, T are points, as in the papers.

use std::ops::Range;

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity, MultiscalarMul, VartimeMultiscalarMul};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::ProofError;
use crate::elgamal::{Ciphertext, ElectionKey};
use crate::group::{G, Point, random_scalar, random_scalar_128, scalar_b64, scalar_vec_b64};
use crate::hash::{ItemHasher, generator};

/// The purpose string of the shuffle's independent generators (spec §3.3): H is
/// `generator(GENERATOR_PURPOSE, 0)` and Hᵢ is `generator(GENERATOR_PURPOSE, i + 1)`.
pub const GENERATOR_PURPOSE: &str = "urne/v1/shuffle/generators";

/// The shuffle proof's domain tags (spec §8.7).
pub mod tags {
    /// The statement digest d: fingerprint, key, generators, width, inputs, outputs, commitments.
    pub const STATEMENT: &str = "urne/v1/shuffle/statement";
    /// The challenge uⱼ on input vector j.
    pub const VECTOR_CHALLENGE: &str = "urne/v1/shuffle/vector-challenge";
    /// The Fiat–Shamir challenge c of the proof.
    pub const CHALLENGE: &str = "urne/v1/shuffle/challenge";
}

/// Rows per parallel task of the prover's constant-time multiscalar multiplications.
const PROVE_CHUNK: usize = 1024;
/// Rows per parallel task of the verifier's multiscalar multiplication.
const VERIFY_CHUNK: usize = 2048;

/// A proof that a list of ciphertext vectors is a re-encryption and permutation of another
/// (spec §8.7). Every list is checked against the statement's N and w by the verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleProof {
    /// The commitment to the permutation, Cⱼ = rⱼ·G + H_{π⁻¹(j)}, one per input vector.
    pub permutation_commitments: Vec<Point>,
    /// The commitment chain Ĉᵢ = r̂ᵢ·G + u_{π(i)}·Ĉ_{i−1} (Ĉ₋₁ = H), one per output vector.
    pub chain_commitments: Vec<Point>,
    /// T₁ = ω₁·G.
    pub t1: Point,
    /// T₂ = ω₂·G.
    pub t2: Point,
    /// T₃ = ω₃·G + Σ ω′ᵢ·Hᵢ.
    pub t3: Point,
    /// T₄,ₖ = (Σ ω′ᵢ·α′ᵢ,ₖ − ω₄,ₖ·G, Σ ω′ᵢ·β′ᵢ,ₖ − ω₄,ₖ·Y), one per component k.
    pub t4: Vec<Ciphertext>,
    /// T̂ᵢ = ω̂ᵢ·G + ω′ᵢ·Ĉ_{i−1}, one per output vector.
    pub t_hat: Vec<Point>,
    /// s₁ = ω₁ + c·Σ rⱼ.
    #[serde(with = "scalar_b64")]
    pub s1: Scalar,
    /// s₂ = ω₂ + c·R_{N−1}, the chain's combined randomness.
    #[serde(with = "scalar_b64")]
    pub s2: Scalar,
    /// s₃ = ω₃ + c·Σ rⱼ·uⱼ.
    #[serde(with = "scalar_b64")]
    pub s3: Scalar,
    /// s₄,ₖ = ω₄,ₖ + c·Σ u′ᵢ·r′ᵢ,ₖ, one per component k.
    #[serde(with = "scalar_vec_b64")]
    pub s4: Vec<Scalar>,
    /// ŝᵢ = ω̂ᵢ + c·r̂ᵢ, one per output vector.
    #[serde(with = "scalar_vec_b64")]
    pub s_hat: Vec<Scalar>,
    /// s′ᵢ = ω′ᵢ + c·u_{π(i)}, one per output vector.
    #[serde(with = "scalar_vec_b64")]
    pub s_prime: Vec<Scalar>,
}

/// The shuffler's secrets: the permutation and the re-encryption randomness, zeroized on drop.
///
/// Invariant: built only by [`shuffle`], so `permutation` is a permutation of 0 … N−1 and
/// `randomness` holds N·w scalars, row by row.
pub struct ShuffleWitness {
    /// Output i is a re-encryption of input `permutation[i]`.
    permutation: Zeroizing<Vec<usize>>,
    /// r′_{i,k} at index i·w + k.
    randomness: Zeroizing<Vec<Scalar>>,
    /// The vectors' width w.
    width: usize,
}

impl std::fmt::Debug for ShuffleWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShuffleWitness(<secret>)")
    }
}

/// Computes f(0) … f(n−1), on rayon's pool with the `parallel` feature.
fn map_range<U: Send>(n: usize, f: impl Fn(usize) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

/// The rows of chunk `c` of `size` rows out of `n`.
fn chunk(c: usize, size: usize, n: usize) -> Range<usize> {
    c * size..n.min((c + 1) * size)
}

/// The common width of the input vectors: at least one vector, each of the same width w ≥ 1.
fn input_width(inputs: &[Vec<Ciphertext>]) -> Result<usize, ProofError> {
    let first = inputs.first().ok_or(ProofError::Shape {
        what: "input vectors",
        expected: 1,
        found: 0,
    })?;
    let w = first.len();
    if w == 0 {
        return Err(ProofError::Shape {
            what: "ciphertexts in an input vector",
            expected: 1,
            found: 0,
        });
    }
    for row in inputs {
        if row.len() != w {
            return Err(ProofError::Shape {
                what: "ciphertexts in an input vector",
                expected: w,
                found: row.len(),
            });
        }
    }
    Ok(w)
}

/// Checks that inputs and outputs are N vectors of width w each, and returns (N, w).
fn statement_shape(
    inputs: &[Vec<Ciphertext>],
    outputs: &[Vec<Ciphertext>],
) -> Result<(usize, usize), ProofError> {
    let w = input_width(inputs)?;
    let n = inputs.len();
    if outputs.len() != n {
        return Err(ProofError::Shape {
            what: "output vectors",
            expected: n,
            found: outputs.len(),
        });
    }
    for row in outputs {
        if row.len() != w {
            return Err(ProofError::Shape {
                what: "ciphertexts in an output vector",
                expected: w,
                found: row.len(),
            });
        }
    }
    Ok((n, w))
}

/// H and H₀ … H_{n−1} (spec §3.3).
fn generators(n: usize) -> (RistrettoPoint, Vec<RistrettoPoint>) {
    let h = generator(GENERATOR_PURPOSE, 0);
    let hs = map_range(n, |i| generator(GENERATOR_PURPOSE, i as u64 + 1));
    (h, hs)
}

/// The statement digest d (spec §8.7).
fn statement_digest(
    fingerprint: &[u8; 32],
    key: &Point,
    w: usize,
    inputs: &[Vec<Ciphertext>],
    outputs: &[Vec<Ciphertext>],
    commitments: &[Point],
) -> [u8; 64] {
    let mut h = ItemHasher::new(tags::STATEMENT);
    h.bytes(fingerprint)
        .point(key)
        .str(GENERATOR_PURPOSE)
        .u64(w as u64);
    for list in [inputs, outputs] {
        h.len(list.len());
        for ct in list.iter().flatten() {
            ct.hash_into(&mut h);
        }
    }
    h.len(commitments.len());
    for c in commitments {
        h.point(c);
    }
    h.digest()
}

/// The challenges u₀ … u_{n−1} on the input vectors.
fn vector_challenges(d: &[u8; 64], n: usize) -> Vec<Scalar> {
    map_range(n, |j| {
        let mut h = ItemHasher::new(tags::VECTOR_CHALLENGE);
        h.bytes(d).u64(j as u64);
        h.challenge()
    })
}

/// The Fiat–Shamir challenge c over d and the prover's commitments.
fn proof_challenge(d: &[u8; 64], p: &ShuffleProof) -> Scalar {
    let mut h = ItemHasher::new(tags::CHALLENGE);
    h.bytes(d);
    h.len(p.chain_commitments.len());
    for c in &p.chain_commitments {
        h.point(c);
    }
    h.point(&p.t1).point(&p.t2).point(&p.t3);
    h.len(p.t4.len());
    for t in &p.t4 {
        t.hash_into(&mut h);
    }
    h.len(p.t_hat.len());
    for t in &p.t_hat {
        h.point(t);
    }
    h.challenge()
}

fn random_scalars<R: CryptoRng + ?Sized>(rng: &mut R, n: usize) -> Zeroizing<Vec<Scalar>> {
    Zeroizing::new((0..n).map(|_| random_scalar(rng)).collect())
}

/// A uniform integer in 0 … bound−1 (bound ≥ 1), by Lemire's method (D. Lemire, "Fast random
/// integer generation in an interval", ACM TOMACS 29(1), 2019): the high word of x·bound, for a
/// uniform 64-bit x, is uniform once the x whose low word falls below 2^64 mod bound are
/// rejected. Only the public bound is divided; the secret x is only multiplied.
fn uniform_below<R: CryptoRng + ?Sized>(rng: &mut R, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(bound);
        if m as u64 >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// A uniformly random permutation of 0 … n−1 (Fisher–Yates; Knuth, TAOCP vol. 2, §3.4.2).
fn random_permutation<R: CryptoRng + ?Sized>(rng: &mut R, n: usize) -> Zeroizing<Vec<usize>> {
    let mut p = Zeroizing::new((0..n).collect::<Vec<usize>>());
    for i in (1..n).rev() {
        let j = uniform_below(rng, i as u64 + 1) as usize;
        p.swap(i, j);
    }
    p
}

/// E + Enc(0; r): the same plaintext under fresh randomness.
fn reencrypt(key: &ElectionKey, ct: &Ciphertext, r: &Scalar) -> Ciphertext {
    Ciphertext::from_parts(
        ct.alpha.element() + RistrettoPoint::mul_base(r),
        ct.beta.element() + key.mul(r),
    )
}

/// Shuffles a list of ciphertext vectors: output i is input π(i) with each of its w components
/// re-encrypted under `key` with its own fresh randomness, for a uniformly random permutation π.
///
/// Fails with [`ProofError::Shape`] when the list is empty, a vector is empty, or the vectors
/// differ in width.
pub fn shuffle<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &ElectionKey,
    inputs: &[Vec<Ciphertext>],
) -> Result<(Vec<Vec<Ciphertext>>, ShuffleWitness), ProofError> {
    let w = input_width(inputs)?;
    let n = inputs.len();
    let permutation = random_permutation(rng, n);
    let randomness = random_scalars(rng, n * w);
    let outputs = map_range(n, |i| {
        inputs[permutation[i]]
            .iter()
            .zip(&randomness[i * w..(i + 1) * w])
            .map(|(ct, r)| reencrypt(key, ct, r))
            .collect()
    });
    let witness = ShuffleWitness {
        permutation,
        randomness,
        width: w,
    };
    Ok((outputs, witness))
}

/// Proves that `outputs` is a shuffle of `inputs` under `key`, with the `witness` that
/// [`shuffle`] returned (spec §8.7). The challenges bind the election `fingerprint`.
///
/// Fails with [`ProofError::Shape`] when the lists do not have the same number of vectors of one
/// width, or when the witness is for another shape. A witness for other outputs gives a proof
/// that does not verify.
pub fn prove_shuffle<R: CryptoRng + ?Sized>(
    rng: &mut R,
    fingerprint: &[u8; 32],
    key: &ElectionKey,
    inputs: &[Vec<Ciphertext>],
    outputs: &[Vec<Ciphertext>],
    witness: &ShuffleWitness,
) -> Result<ShuffleProof, ProofError> {
    let (n, w) = statement_shape(inputs, outputs)?;
    if witness.permutation.len() != n {
        return Err(ProofError::Shape {
            what: "entries in the witness's permutation",
            expected: n,
            found: witness.permutation.len(),
        });
    }
    if witness.width != w {
        return Err(ProofError::Shape {
            what: "ciphertexts per vector in the witness",
            expected: w,
            found: witness.width,
        });
    }
    let perm = &witness.permutation;
    let (H, Hs) = generators(n);
    let mut inverse = Zeroizing::new(vec![0usize; n]);
    for (i, &j) in perm.iter().enumerate() {
        inverse[j] = i;
    }

    // Permutation commitment, indexed by input: Cⱼ = rⱼ·G + H_{π⁻¹(j)}.
    let r = random_scalars(rng, n);
    let permutation_commitments: Vec<Point> = map_range(n, |j| {
        Point::from_element(RistrettoPoint::mul_base(&r[j]) + Hs[inverse[j]])
    });
    let d = statement_digest(
        fingerprint,
        key.point(),
        w,
        inputs,
        outputs,
        &permutation_commitments,
    );
    let u = vector_challenges(&d, n);
    let u_perm: Zeroizing<Vec<Scalar>> = Zeroizing::new(perm.iter().map(|&j| u[j]).collect());

    // The chain Ĉᵢ = Rᵢ·G + Uᵢ·H, with the prefix recurrences computed on scalars first so that
    // each point is independent of the others.
    let r_hat = random_scalars(rng, n);
    let mut R_acc = Zeroizing::new(Vec::with_capacity(n));
    let mut U_acc = Zeroizing::new(Vec::with_capacity(n));
    let (mut rr, mut uu) = (Scalar::ZERO, Scalar::ONE);
    for i in 0..n {
        rr = r_hat[i] + u_perm[i] * rr;
        uu *= u_perm[i];
        R_acc.push(rr);
        U_acc.push(uu);
    }
    rr.zeroize();
    uu.zeroize();
    let h_table = RistrettoBasepointTable::create(&H);
    let chain_commitments: Vec<Point> = map_range(n, |i| {
        Point::from_element(RistrettoPoint::mul_base(&R_acc[i]) + &h_table * &U_acc[i])
    });

    // The prover's commitments.
    let om = random_scalars(rng, 3);
    let om4 = random_scalars(rng, w);
    let om_hat = random_scalars(rng, n);
    let om_prime = random_scalars(rng, n);
    let t_hat: Vec<Point> = map_range(n, |i| {
        // T̂ᵢ = ω̂ᵢ·G + ω′ᵢ·Ĉ_{i−1} = (ω̂ᵢ + ω′ᵢ·R_{i−1})·G + (ω′ᵢ·U_{i−1})·H.
        let (r_prev, u_prev) = match i {
            0 => (Scalar::ZERO, Scalar::ONE),
            _ => (R_acc[i - 1], U_acc[i - 1]),
        };
        let mut a = om_hat[i] + om_prime[i] * r_prev;
        let mut b = om_prime[i] * u_prev;
        let p = RistrettoPoint::mul_base(&a) + &h_table * &b;
        a.zeroize();
        b.zeroize();
        Point::from_element(p)
    });
    // Σ ω′ᵢ·Hᵢ, then Σ ω′ᵢ·α′ᵢ,ₖ and Σ ω′ᵢ·β′ᵢ,ₖ for each k: constant-time, by chunks of rows.
    let chunks = n.div_ceil(PROVE_CHUNK);
    let partial = map_range(chunks, |c| {
        let rows = chunk(c, PROVE_CHUNK, n);
        let sc = &om_prime[rows.clone()];
        let mut sums = Vec::with_capacity(1 + 2 * w);
        sums.push(RistrettoPoint::multiscalar_mul(sc, &Hs[rows.clone()]));
        for k in 0..w {
            let out = &outputs[rows.clone()];
            sums.push(RistrettoPoint::multiscalar_mul(
                sc,
                out.iter().map(|row| row[k].alpha.element()),
            ));
            sums.push(RistrettoPoint::multiscalar_mul(
                sc,
                out.iter().map(|row| row[k].beta.element()),
            ));
        }
        sums
    });
    let mut sums = vec![RistrettoPoint::identity(); 1 + 2 * w];
    for part in partial {
        for (s, p) in sums.iter_mut().zip(part) {
            *s += p;
        }
    }
    let t4: Vec<Ciphertext> = (0..w)
        .map(|k| {
            Ciphertext::from_parts(
                sums[1 + 2 * k] - RistrettoPoint::mul_base(&om4[k]),
                sums[2 + 2 * k] - key.mul(&om4[k]),
            )
        })
        .collect();
    let mut proof = ShuffleProof {
        permutation_commitments,
        chain_commitments,
        t1: Point::from_element(RistrettoPoint::mul_base(&om[0])),
        t2: Point::from_element(RistrettoPoint::mul_base(&om[1])),
        t3: Point::from_element(RistrettoPoint::mul_base(&om[2]) + sums[0]),
        t4,
        t_hat,
        s1: Scalar::ZERO,
        s2: Scalar::ZERO,
        s3: Scalar::ZERO,
        s4: Vec::new(),
        s_hat: Vec::new(),
        s_prime: Vec::new(),
    };
    let c = proof_challenge(&d, &proof);

    // Responses.
    let mut r_sum: Scalar = r.iter().sum();
    let mut r_u: Scalar = r.iter().zip(&u).map(|(r, u)| r * u).sum();
    proof.s1 = om[0] + c * r_sum;
    proof.s2 = om[1] + c * R_acc[n - 1];
    proof.s3 = om[2] + c * r_u;
    r_sum.zeroize();
    r_u.zeroize();
    proof.s4 = (0..w)
        .map(|k| {
            let mut r_tilde: Scalar = (0..n)
                .map(|i| u_perm[i] * witness.randomness[i * w + k])
                .sum();
            let s = om4[k] + c * r_tilde;
            r_tilde.zeroize();
            s
        })
        .collect();
    proof.s_hat = (0..n).map(|i| om_hat[i] + c * r_hat[i]).collect();
    proof.s_prime = (0..n).map(|i| om_prime[i] + c * u_perm[i]).collect();
    Ok(proof)
}

/// Checks a shuffle proof: `outputs` is a re-encryption under `key` of a permutation of
/// `inputs` (spec §8.7), for the election `fingerprint`. Variable time: public data only.
///
/// Fails with [`ProofError::Shape`] when the lists, or the proof's lists, do not match N input
/// vectors of one width w, and with [`ProofError::Equation`] when the equations do not hold.
pub fn vartime_verify_shuffle<R: CryptoRng + ?Sized>(
    rng: &mut R,
    fingerprint: &[u8; 32],
    key: &ElectionKey,
    inputs: &[Vec<Ciphertext>],
    outputs: &[Vec<Ciphertext>],
    proof: &ShuffleProof,
) -> Result<(), ProofError> {
    let (n, w) = statement_shape(inputs, outputs)?;
    for (what, expected, found) in [
        (
            "permutation commitments",
            n,
            proof.permutation_commitments.len(),
        ),
        ("chain commitments", n, proof.chain_commitments.len()),
        ("t_hat commitments", n, proof.t_hat.len()),
        ("s_hat responses", n, proof.s_hat.len()),
        ("s_prime responses", n, proof.s_prime.len()),
        ("t4 commitments", w, proof.t4.len()),
        ("s4 responses", w, proof.s4.len()),
    ] {
        if found != expected {
            return Err(ProofError::Shape {
                what,
                expected,
                found,
            });
        }
    }
    let d = statement_digest(
        fingerprint,
        key.point(),
        w,
        inputs,
        outputs,
        &proof.permutation_commitments,
    );
    let u = vector_challenges(&d, n);
    let c = proof_challenge(&d, proof);
    let u_prod: Scalar = u.iter().product();

    // Weights, drawn after all the data is fixed (spec §9).
    let rho1 = random_scalar_128(rng);
    let rho2 = random_scalar_128(rng);
    let rho3 = random_scalar_128(rng);
    let rho4a: Vec<Scalar> = (0..w).map(|_| random_scalar_128(rng)).collect();
    let rho4b: Vec<Scalar> = (0..w).map(|_| random_scalar_128(rng)).collect();
    let rho5: Vec<Scalar> = (0..n).map(|_| random_scalar_128(rng)).collect();
    let ca: Vec<Scalar> = rho4a.iter().map(|r| c * r).collect();
    let cb: Vec<Scalar> = rho4b.iter().map(|r| c * r).collect();
    let rho1_c = rho1 * c;

    // The terms on G, Y, H and the proof's single points.
    let mut g = rho1 * proof.s1 + rho2 * proof.s2 + rho3 * proof.s3;
    let mut y = Scalar::ZERO;
    for k in 0..w {
        g -= rho4a[k] * proof.s4[k];
        y -= rho4b[k] * proof.s4[k];
    }
    g += rho5
        .iter()
        .zip(&proof.s_hat)
        .map(|(r, s)| r * s)
        .sum::<Scalar>();
    let H = generator(GENERATOR_PURPOSE, 0);
    let mut scalars = vec![
        g,
        y,
        rho2 * c * u_prod + rho5[0] * proof.s_prime[0],
        -rho1,
        -rho2,
        -rho3,
    ];
    let mut points = vec![
        G,
        *key.point().element(),
        H,
        *proof.t1.element(),
        *proof.t2.element(),
        *proof.t3.element(),
    ];
    for k in 0..w {
        scalars.push(-rho4a[k]);
        points.push(*proof.t4[k].alpha.element());
        scalars.push(-rho4b[k]);
        points.push(*proof.t4[k].beta.element());
    }
    let fixed = RistrettoPoint::vartime_multiscalar_mul(scalars, points);

    // The terms of each row i, by chunks of rows.
    let chunks = n.div_ceil(VERIFY_CHUNK);
    let partial = map_range(chunks, |ch| {
        let rows = chunk(ch, VERIFY_CHUNK, n);
        let cap = rows.len() * (4 + 4 * w);
        let mut scalars = Vec::with_capacity(cap);
        let mut points = Vec::with_capacity(cap);
        for i in rows {
            let s_prime = proof.s_prime[i];
            scalars.push(rho1_c + rho3 * s_prime);
            points.push(generator(GENERATOR_PURPOSE, i as u64 + 1));
            scalars.push(-(rho1_c + rho3 * c * u[i]));
            points.push(*proof.permutation_commitments[i].element());
            let next = match i + 1 < n {
                true => rho5[i + 1] * proof.s_prime[i + 1],
                false => -(rho2 * c),
            };
            scalars.push(next - rho5[i] * c);
            points.push(*proof.chain_commitments[i].element());
            scalars.push(-rho5[i]);
            points.push(*proof.t_hat[i].element());
            for k in 0..w {
                scalars.push(rho4a[k] * s_prime);
                points.push(*outputs[i][k].alpha.element());
                scalars.push(rho4b[k] * s_prime);
                points.push(*outputs[i][k].beta.element());
                scalars.push(-(ca[k] * u[i]));
                points.push(*inputs[i][k].alpha.element());
                scalars.push(-(cb[k] * u[i]));
                points.push(*inputs[i][k].beta.element());
            }
        }
        RistrettoPoint::vartime_multiscalar_mul(scalars, points)
    });
    let total: RistrettoPoint = fixed + partial.into_iter().sum::<RistrettoPoint>();
    if total.is_identity() {
        Ok(())
    } else {
        Err(ProofError::Equation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::rng_from_seed;
    use proptest::prelude::*;

    struct Fixture {
        s: Scalar,
        key: ElectionKey,
        inputs: Vec<Vec<Ciphertext>>,
    }

    const FP: [u8; 32] = [7u8; 32];

    /// N vectors of width w; vector j encrypts (j·w + k) in component k, so rows are distinct.
    fn fixture(rng: &mut impl CryptoRng, n: usize, w: usize) -> Fixture {
        let s = random_scalar(rng);
        let key = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(&s))).unwrap();
        let inputs = (0..n)
            .map(|j| {
                (0..w)
                    .map(|k| Ciphertext::encrypt(&key, (j * w + k) as u64, &random_scalar(rng)))
                    .collect()
            })
            .collect();
        Fixture { s, key, inputs }
    }

    fn decrypt_all(s: &Scalar, list: &[Vec<Ciphertext>]) -> Vec<Vec<[u8; 32]>> {
        list.iter()
            .map(|row| {
                row.iter()
                    .map(|ct| {
                        (ct.beta.element() - ct.alpha.element() * s)
                            .compress()
                            .to_bytes()
                    })
                    .collect()
            })
            .collect()
    }

    fn verify(
        f: &Fixture,
        outputs: &[Vec<Ciphertext>],
        p: &ShuffleProof,
    ) -> Result<(), ProofError> {
        vartime_verify_shuffle(&mut rng_from_seed(99), &FP, &f.key, &f.inputs, outputs, p)
    }

    fn bump(p: &mut Point) {
        *p = Point::from_element(p.element() + G);
    }

    fn fresh(rng: &mut impl CryptoRng, f: &Fixture, m: u64, w: usize) -> Vec<Ciphertext> {
        (0..w)
            .map(|_| Ciphertext::encrypt(&f.key, m, &random_scalar(rng)))
            .collect()
    }

    #[test]
    fn honest_shuffles_verify_and_decrypt_to_a_permutation() {
        let mut rng = rng_from_seed(1);
        for w in [1, 5] {
            for n in [1, 2, 10, 50] {
                let f = fixture(&mut rng, n, w);
                let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
                let proof =
                    prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
                verify(&f, &outputs, &proof).unwrap_or_else(|e| panic!("n={n} w={w}: {e}"));
                // Every output is a fresh encryption (no ciphertext is copied)...
                for (i, row) in outputs.iter().enumerate() {
                    assert_ne!(row, &f.inputs[witness.permutation[i]]);
                }
                // ...and the plaintexts are those of the inputs, in the witness's order.
                let plain_in = decrypt_all(&f.s, &f.inputs);
                let plain_out = decrypt_all(&f.s, &outputs);
                for (i, row) in plain_out.iter().enumerate() {
                    assert_eq!(row, &plain_in[witness.permutation[i]]);
                }
                let (mut a, mut b) = (plain_in, plain_out);
                a.sort();
                b.sort();
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn permutations_are_uniform_enough() {
        // All 6 permutations of 3 elements appear, each about 1/6 of 6000 draws.
        let mut rng = rng_from_seed(2);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..6000 {
            *counts
                .entry(random_permutation(&mut rng, 3).to_vec())
                .or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 6);
        assert!(
            counts.values().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn rejects_output_with_a_replaced_ballot() {
        let mut rng = rng_from_seed(3);
        for w in [1, 3] {
            let f = fixture(&mut rng, 10, w);
            let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
            let proof =
                prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
            let mut bad = outputs.clone();
            bad[4] = fresh(&mut rng, &f, 1000, w);
            assert_eq!(verify(&f, &bad, &proof), Err(ProofError::Equation));
            let forged = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &bad, &witness).unwrap();
            assert_eq!(verify(&f, &bad, &forged), Err(ProofError::Equation));
        }
    }

    #[test]
    fn rejects_output_with_a_dropped_ballot() {
        let mut rng = rng_from_seed(4);
        let f = fixture(&mut rng, 10, 2);
        let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
        let proof = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
        let short = outputs[..9].to_vec();
        let shape = Err(ProofError::Shape {
            what: "output vectors",
            expected: 10,
            found: 9,
        });
        assert_eq!(verify(&f, &short, &proof), shape);
        assert_eq!(
            prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &short, &witness).map(|_| ()),
            shape
        );
        // A dropped ballot whose place is taken by an encryption of zero.
        let mut zeroed = outputs.clone();
        zeroed[3] = fresh(&mut rng, &f, 0, 2);
        let forged = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &zeroed, &witness).unwrap();
        assert_eq!(verify(&f, &zeroed, &forged), Err(ProofError::Equation));
        assert_eq!(verify(&f, &zeroed, &proof), Err(ProofError::Equation));
    }

    #[test]
    fn rejects_output_with_a_duplicated_ballot() {
        let mut rng = rng_from_seed(5);
        let f = fixture(&mut rng, 10, 2);
        let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
        let proof = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
        // Output 7 becomes a fresh re-encryption of output 2's input: one ballot counted twice,
        // another dropped, the list's length unchanged.
        let mut dup = outputs.clone();
        let source = witness.permutation[2];
        dup[7] = f.inputs[source]
            .iter()
            .map(|ct| reencrypt(&f.key, ct, &random_scalar(&mut rng)))
            .collect();
        assert_eq!(verify(&f, &dup, &proof), Err(ProofError::Equation));
        let forged = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &dup, &witness).unwrap();
        assert_eq!(verify(&f, &dup, &forged), Err(ProofError::Equation));
        // The same with a witness whose "permutation" maps two outputs to one input.
        let mut twice = ShuffleWitness {
            permutation: witness.permutation.clone(),
            randomness: witness.randomness.clone(),
            width: 2,
        };
        twice.permutation[7] = source;
        let forged = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &dup, &twice).unwrap();
        assert_eq!(verify(&f, &dup, &forged), Err(ProofError::Equation));
        // A byte-for-byte copy fails too.
        let mut copy = outputs.clone();
        copy[7] = outputs[2].clone();
        assert_eq!(verify(&f, &copy, &proof), Err(ProofError::Equation));
    }

    /// Every single-element change of the outputs or of the proof, as (label, outputs, proof).
    fn mutations(
        outputs: &[Vec<Ciphertext>],
        proof: &ShuffleProof,
    ) -> Vec<(String, Vec<Vec<Ciphertext>>, ShuffleProof)> {
        let mut all = Vec::new();
        for i in 0..outputs.len() {
            for k in 0..outputs[i].len() {
                for part in 0..2 {
                    let mut o = outputs.to_vec();
                    bump(match part {
                        0 => &mut o[i][k].alpha,
                        _ => &mut o[i][k].beta,
                    });
                    all.push((format!("output {i}.{k}.{part}"), o, proof.clone()));
                }
            }
        }
        let mut push = |label: String, f: &dyn Fn(&mut ShuffleProof)| {
            let mut p = proof.clone();
            f(&mut p);
            all.push((label, outputs.to_vec(), p));
        };
        for i in 0..proof.permutation_commitments.len() {
            push(format!("C {i}"), &|p| {
                bump(&mut p.permutation_commitments[i])
            });
            push(format!("Ĉ {i}"), &|p| bump(&mut p.chain_commitments[i]));
            push(format!("T̂ {i}"), &|p| bump(&mut p.t_hat[i]));
            push(format!("ŝ {i}"), &|p| p.s_hat[i] += Scalar::ONE);
            push(format!("s′ {i}"), &|p| p.s_prime[i] += Scalar::ONE);
        }
        for k in 0..proof.t4.len() {
            push(format!("T4 {k} α"), &|p| bump(&mut p.t4[k].alpha));
            push(format!("T4 {k} β"), &|p| bump(&mut p.t4[k].beta));
            push(format!("s4 {k}"), &|p| p.s4[k] += Scalar::ONE);
        }
        push("T1".into(), &|p| bump(&mut p.t1));
        push("T2".into(), &|p| bump(&mut p.t2));
        push("T3".into(), &|p| bump(&mut p.t3));
        push("s1".into(), &|p| p.s1 += Scalar::ONE);
        push("s2".into(), &|p| p.s2 += Scalar::ONE);
        push("s3".into(), &|p| p.s3 += Scalar::ONE);
        all
    }

    #[test]
    fn rejects_any_single_change_of_output_commitment_or_response() {
        let mut rng = rng_from_seed(6);
        let f = fixture(&mut rng, 4, 2);
        let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
        let proof = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
        verify(&f, &outputs, &proof).unwrap();
        let all = mutations(&outputs, &proof);
        assert_eq!(all.len(), 4 * 2 * 2 + 4 * 5 + 2 * 3 + 6);
        for (label, o, p) in all {
            assert_eq!(verify(&f, &o, &p), Err(ProofError::Equation), "{label}");
        }
        // Changing an input breaks it too.
        let mut g = Fixture {
            s: f.s,
            key: f.key.clone(),
            inputs: f.inputs.clone(),
        };
        bump(&mut g.inputs[1][0].beta);
        assert_eq!(verify(&g, &outputs, &proof), Err(ProofError::Equation));
    }

    #[test]
    fn rejects_proof_for_another_key_or_context() {
        let mut rng = rng_from_seed(7);
        let f = fixture(&mut rng, 5, 2);
        let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
        let proof = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
        let other = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(
            &random_scalar(&mut rng),
        )))
        .unwrap();
        assert_eq!(
            vartime_verify_shuffle(&mut rng, &FP, &other, &f.inputs, &outputs, &proof),
            Err(ProofError::Equation)
        );
        assert_eq!(
            vartime_verify_shuffle(&mut rng, &[8u8; 32], &f.key, &f.inputs, &outputs, &proof),
            Err(ProofError::Equation)
        );
        // A shuffle under another key is not a re-encryption under this one, even when proved
        // with this key.
        let (bad, bad_witness) = shuffle(&mut rng, &other, &f.inputs).unwrap();
        let p = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &bad, &bad_witness).unwrap();
        assert_eq!(verify(&f, &bad, &p), Err(ProofError::Equation));
    }

    #[test]
    fn rejects_shapes() {
        let mut rng = rng_from_seed(8);
        let f = fixture(&mut rng, 3, 2);
        assert!(matches!(
            shuffle(&mut rng, &f.key, &[]),
            Err(ProofError::Shape { found: 0, .. })
        ));
        assert!(matches!(
            shuffle(&mut rng, &f.key, &[vec![]]),
            Err(ProofError::Shape { found: 0, .. })
        ));
        let mut ragged = f.inputs.clone();
        ragged[2].pop();
        assert!(matches!(
            shuffle(&mut rng, &f.key, &ragged),
            Err(ProofError::Shape {
                expected: 2,
                found: 1,
                ..
            })
        ));
        let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
        let proof = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
        let mut p = proof.clone();
        p.s_prime.pop();
        assert!(matches!(
            verify(&f, &outputs, &p),
            Err(ProofError::Shape {
                what: "s_prime responses",
                ..
            })
        ));
        let mut p = proof.clone();
        p.t4.push(p.t4[0]);
        assert!(matches!(
            verify(&f, &outputs, &p),
            Err(ProofError::Shape {
                what: "t4 commitments",
                ..
            })
        ));
        let mut narrow = outputs.clone();
        narrow[0].pop();
        assert!(matches!(
            verify(&f, &narrow, &proof),
            Err(ProofError::Shape {
                what: "ciphertexts in an output vector",
                ..
            })
        ));
    }

    #[test]
    fn json_round_trip_and_strict_decoding() {
        let mut rng = rng_from_seed(9);
        let f = fixture(&mut rng, 3, 2);
        let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
        let proof = prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
        let json = serde_json::to_string(&proof).unwrap();
        assert!(
            json.starts_with(r#"{"permutation_commitments":[""#),
            "{json}"
        );
        let back: ShuffleProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back, proof);
        verify(&f, &outputs, &back).unwrap();
        let unknown = json.replacen('{', r#"{"extra":1,"#, 1);
        assert!(serde_json::from_str::<ShuffleProof>(&unknown).is_err());
        // An unreduced scalar (ℓ itself) is refused, not reduced.
        let l = {
            let mut b = (-Scalar::ONE).to_bytes();
            b[0] += 1;
            crate::group::b64_encode(&b)
        };
        let s1 = crate::group::b64_encode(proof.s1.as_bytes());
        let bad = json.replacen(&s1, &l, 1);
        assert!(serde_json::from_str::<ShuffleProof>(&bad).is_err());
        assert!(format!("{witness:?}").contains("<secret>"));
    }

    /// A shuffle of 3 vectors of width 2 made by this implementation on 2026-11-29 (seed 2026 of
    /// the testkit's generator), and checked then by an independent verifier written from
    /// spec §8.7 alone (JavaScript, on @noble/curves): every later version must accept it, and
    /// write its proof back byte for byte. The same file is the vector web/test/mix.test.js reads.
    const FROZEN: &str = include_str!("../../../../test-vectors/mix/shuffle-rust.json");

    #[test]
    fn frozen_vector_still_verifies() {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Vector {
            #[allow(dead_code)]
            description: String,
            #[allow(dead_code)]
            generator: String,
            fingerprint: String,
            public_key: Point,
            inputs: Vec<Vec<Ciphertext>>,
            outputs: Vec<Vec<Ciphertext>>,
            proof: ShuffleProof,
        }
        let v: Vector = serde_json::from_str(FROZEN).unwrap();
        let fp: [u8; 32] = crate::group::b64_decode(&v.fingerprint)
            .unwrap()
            .try_into()
            .unwrap();
        let key = ElectionKey::new(v.public_key).unwrap();
        let mut rng = rng_from_seed(1);
        vartime_verify_shuffle(&mut rng, &fp, &key, &v.inputs, &v.outputs, &v.proof).unwrap();
        let proof_json = serde_json::to_string(&v.proof).unwrap();
        // The file is pretty-printed; without its whitespace (none is inside the proof's
        // strings) it must hold the proof exactly as it is written back, field order included.
        let compact: String = FROZEN.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(compact.contains(&format!(r#""proof":{proof_json}"#)));
        let mut other = v.outputs.clone();
        other.swap(0, 1);
        assert_eq!(
            vartime_verify_shuffle(&mut rng, &fp, &key, &v.inputs, &other, &v.proof),
            Err(ProofError::Equation)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn small_shuffles_verify_and_any_mutation_fails(
            seed in any::<u64>(),
            n in 1usize..6,
            w in 1usize..3,
            pick in any::<prop::sample::Index>(),
        ) {
            let mut rng = rng_from_seed(seed);
            let f = fixture(&mut rng, n, w);
            let (outputs, witness) = shuffle(&mut rng, &f.key, &f.inputs).unwrap();
            let proof =
                prove_shuffle(&mut rng, &FP, &f.key, &f.inputs, &outputs, &witness).unwrap();
            prop_assert_eq!(verify(&f, &outputs, &proof), Ok(()));
            let mut a = decrypt_all(&f.s, &f.inputs);
            let mut b = decrypt_all(&f.s, &outputs);
            a.sort();
            b.sort();
            prop_assert_eq!(a, b);
            let all = mutations(&outputs, &proof);
            let (label, o, p) = &all[pick.index(all.len())];
            prop_assert_eq!(verify(&f, o, p), Err(ProofError::Equation), "{}", label);
        }
    }
}
