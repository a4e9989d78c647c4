//! Disjunctive Chaum–Pedersen proof: a list of ciphertexts encrypts one of several allowed tuples
//! of plaintexts, without revealing which.
//!
//! Spec: docs/spec.md §6.2. Paper: R. Cramer, I. Damgård, B. Schoenmakers, "Proofs of partial
//! knowledge and simplified design of witness hiding protocols", CRYPTO 1994 (OR-composition);
//! D. Chaum, T. Pedersen, "Wallet databases with observers", CRYPTO 1992 (equality of logs).
//!
//! Relation, for public election key Y, ciphertexts Cᵢ = (αᵢ, βᵢ) (i < m) and allowed tuples
//! (m_{j,0} … m_{j,m-1}) (j < k):
//!
//! PK{ (r₀ … r_{m-1}) : ∨_j ∧_i ( αᵢ = rᵢ·G ∧ βᵢ − m_{j,i}·G = rᵢ·Y ) }
//!
//! The proof holds, for each branch j: a challenge c_j, and for each ciphertext i the commitments
//! A_{j,i}, B_{j,i} and the response z_{j,i}.
//!
//! Prover (real branch ρ, witnesses rᵢ). For every branch j and ciphertext i, draw t_{j,i} and
//! set A_{j,i} = t_{j,i}·G and B_{j,i} = t_{j,i}·Y − (c_j·(m_{ρ,i} − m_{j,i}))·G, with random
//! c_j for j ≠ ρ and c_ρ = 0 for now. The challenge is c = H(prefix ‖ commitments); then c_ρ is
//! set to c − Σ_{j≠ρ} c_j, and z_{j,i} = t_{j,i} + c_j·rᵢ for every j. For j ≠ ρ this is the usual
//! simulation (A = z·G − c·α, B = z·Y − c·(β − m·G)) computed from the witness; for j = ρ it is
//! the honest Chaum–Pedersen run. Every branch takes the same operations, in constant time.
//!
//! Verifier. Recompute c from the prefix and the carried commitments; check Σ_j c_j = c; check for
//! every j, i that z_{j,i}·G = A_{j,i} + c_j·αᵢ and z_{j,i}·Y = B_{j,i} + c_j·(βᵢ − m_{j,i}·G).
//! The equations go into an [`Msm`] with independent random weights.
//!
//! Hash input: the caller's prefix (domain tag, fingerprint, election key, credential, the
//! question's position and the statement's ciphertexts and bounds; spec §6.3, §6.4), then for
//! each branch j and each ciphertext i, A_{j,i} and B_{j,i}.

#![allow(non_snake_case)] // A, B, G, Y are points, as in the papers.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use super::ProofError;
use crate::elgamal::{Ciphertext, ElectionKey};
use crate::group::{Point, random_scalar, random_scalar_128, scalar_b64, scalar_vec_b64};
use crate::hash::ItemHasher;
use crate::msm::{Msm, Term};

/// One branch of a disjunctive proof. Decoding rejects a branch whose `a`, `b` and `z` differ in
/// length, so that the proof's hash items (§6.2) are an injective encoding of every decoded proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "BranchWire")]
pub struct Branch {
    /// The branch challenge c_j.
    #[serde(with = "scalar_b64")]
    pub c: Scalar,
    /// Commitments A_{j,i} = z_{j,i}·G − c_j·αᵢ, one per ciphertext.
    pub a: Vec<Point>,
    /// Commitments B_{j,i} = z_{j,i}·Y − c_j·(βᵢ − m_{j,i}·G), one per ciphertext.
    pub b: Vec<Point>,
    /// Responses z_{j,i}, one per ciphertext.
    #[serde(with = "scalar_vec_b64")]
    pub z: Vec<Scalar>,
}

/// The JSON form of a [`Branch`], before its lengths are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BranchWire {
    #[serde(with = "scalar_b64")]
    c: Scalar,
    a: Vec<Point>,
    b: Vec<Point>,
    #[serde(with = "scalar_vec_b64")]
    z: Vec<Scalar>,
}

impl TryFrom<BranchWire> for Branch {
    type Error = String;

    fn try_from(w: BranchWire) -> Result<Self, String> {
        if w.a.len() != w.b.len() || w.a.len() != w.z.len() {
            return Err(format!(
                "a branch needs as many a, b and z entries; found {}, {} and {}",
                w.a.len(),
                w.b.len(),
                w.z.len()
            ));
        }
        Ok(Branch {
            c: w.c,
            a: w.a,
            b: w.b,
            z: w.z,
        })
    }
}

/// A disjunctive Chaum–Pedersen proof: one [`Branch`] per allowed plaintext tuple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisjunctiveProof {
    /// The branches, in the order of the allowed tuples.
    pub branches: Vec<Branch>,
}

/// The secret side of a statement: the real branch and the randomness of each ciphertext.
pub struct Witness<'a> {
    /// Index of the allowed tuple the ciphertexts really encrypt.
    pub branch: usize,
    /// Randomness rᵢ of each ciphertext.
    pub randomness: &'a [Scalar],
}

impl std::fmt::Debug for Witness<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Witness(<secret>)")
    }
}

/// A ciphertext of the statement as seen by the verifier: the sum of some terms of an [`Msm`]
/// (one term for a choice; all of a question's choices for its count).
#[derive(Debug, Clone)]
pub struct CiphertextTerms {
    /// Terms whose sum is α.
    pub alpha: Vec<Term>,
    /// Terms whose sum is β.
    pub beta: Vec<Term>,
}

impl DisjunctiveProof {
    /// Proves that `cts` encrypt `allowed[witness.branch]`.
    ///
    /// `prefix` must already hold the tag and the whole statement. Runs in time independent of
    /// the real branch and of the plaintexts.
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        key: &ElectionKey,
        prefix: ItemHasher,
        allowed: &[Vec<u64>],
        witness: &Witness<'_>,
        m: usize,
    ) -> Self {
        debug_assert_eq!(witness.randomness.len(), m);
        // The real tuple, selected by scanning every branch: no memory access depends on which
        // branch is real.
        let real: Vec<u64> = (0..m)
            .map(|i| {
                allowed.iter().enumerate().fold(0u64, |acc, (j, tuple)| {
                    let here = (j as u64).ct_eq(&(witness.branch as u64));
                    u64::conditional_select(&acc, &tuple[i], here)
                })
            })
            .collect();
        let mut h = prefix;
        let mut cs = Vec::with_capacity(allowed.len());
        let mut ts = Vec::with_capacity(allowed.len());
        let mut branches = Vec::with_capacity(allowed.len());
        for (j, tuple) in allowed.iter().enumerate() {
            let is_real = (j as u64).ct_eq(&(witness.branch as u64));
            let c_sim = random_scalar(rng);
            let c = Scalar::conditional_select(&c_sim, &Scalar::ZERO, is_real);
            let mut t_row = Vec::with_capacity(m);
            let (mut a, mut b) = (Vec::with_capacity(m), Vec::with_capacity(m));
            for i in 0..m {
                let t = random_scalar(rng);
                let d = Scalar::from(real[i]) - Scalar::from(tuple[i]);
                let A = RistrettoPoint::mul_base(&t);
                let B = key.mul(&t) - RistrettoPoint::mul_base(&(c * d));
                let (A, B) = (Point::from_element(A), Point::from_element(B));
                h.point(&A).point(&B);
                a.push(A);
                b.push(B);
                t_row.push(t);
            }
            cs.push(c);
            ts.push(t_row);
            branches.push(Branch {
                c: Scalar::ZERO,
                a,
                b,
                z: Vec::new(),
            });
        }
        let challenge = h.challenge();
        let others: Scalar = cs.iter().sum();
        let fix = challenge - others;
        for (j, (branch, (c, t_row))) in branches
            .iter_mut()
            .zip(cs.iter_mut().zip(ts.iter_mut()))
            .enumerate()
        {
            let is_real = (j as u64).ct_eq(&(witness.branch as u64));
            c.conditional_assign(&fix, is_real);
            branch.c = *c;
            branch.z = t_row
                .iter()
                .zip(witness.randomness)
                .map(|(t, r)| t + *c * r)
                .collect();
            t_row.zeroize();
        }
        cs.zeroize();
        DisjunctiveProof { branches }
    }

    /// Checks the proof's shape and challenge, and adds its equations to `msm` with fresh random
    /// weights. The equations themselves are decided when `msm` is evaluated.
    pub fn vartime_collect<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        prefix: ItemHasher,
        allowed: &[Vec<u64>],
        cts: &[CiphertextTerms],
        msm: &mut Msm,
    ) -> Result<(), ProofError> {
        let m = cts.len();
        if self.branches.len() != allowed.len() {
            return Err(ProofError::Shape {
                what: "branches",
                expected: allowed.len(),
                found: self.branches.len(),
            });
        }
        let mut h = prefix;
        for br in &self.branches {
            for (what, n) in [
                ("commitments a", br.a.len()),
                ("commitments b", br.b.len()),
                ("responses z", br.z.len()),
            ] {
                if n != m {
                    return Err(ProofError::Shape {
                        what,
                        expected: m,
                        found: n,
                    });
                }
            }
            for (A, B) in br.a.iter().zip(&br.b) {
                h.point(A).point(B);
            }
        }
        let challenge = h.challenge();
        if self.branches.iter().map(|b| b.c).sum::<Scalar>() != challenge {
            return Err(ProofError::ChallengeSum);
        }
        for (br, tuple) in self.branches.iter().zip(allowed) {
            for i in 0..m {
                // z·G − c·α − A = 0, weighted by w1; z·Y − c·β + c·m·G − B = 0, weighted by w2.
                let (w1, w2) = (random_scalar_128(rng), random_scalar_128(rng));
                let z = br.z[i];
                msm.add_g(w1 * z + w2 * br.c * Scalar::from(tuple[i]));
                msm.add_y(w2 * z);
                for &t in &cts[i].alpha {
                    msm.add(t, -(w1 * br.c));
                }
                for &t in &cts[i].beta {
                    msm.add(t, -(w2 * br.c));
                }
                msm.push(-w1, &br.a[i]);
                msm.push(-w2, &br.b[i]);
            }
        }
        Ok(())
    }

    /// Verifies the proof alone against concrete ciphertexts (variable time, public data).
    pub fn vartime_verify<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        key: &ElectionKey,
        prefix: ItemHasher,
        allowed: &[Vec<u64>],
        cts: &[Ciphertext],
    ) -> Result<(), ProofError> {
        let mut msm = Msm::with_capacity(2 * cts.len() * (allowed.len() + 1));
        let terms: Vec<CiphertextTerms> = cts
            .iter()
            .map(|c| CiphertextTerms {
                alpha: vec![msm.term(&c.alpha)],
                beta: vec![msm.term(&c.beta)],
            })
            .collect();
        self.vartime_collect(rng, prefix, allowed, &terms, &mut msm)?;
        if msm.vartime_is_identity(key.point().element()) {
            Ok(())
        } else {
            Err(ProofError::Equation)
        }
    }

    /// Appends the whole proof to a hash as items (for ballot digests): the number of branches,
    /// then per branch c, the number of ciphertexts, then each A, B, z.
    pub(crate) fn hash_into(&self, h: &mut ItemHasher) {
        h.len(self.branches.len());
        for br in &self.branches {
            h.scalar(&br.c).len(br.a.len());
            for ((A, B), z) in br.a.iter().zip(&br.b).zip(&br.z) {
                h.point(A).point(B).scalar(z);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::random_scalar;

    fn setup() -> (ElectionKey, rand::rngs::ThreadRng) {
        let mut rng = rand::rng();
        let s = random_scalar(&mut rng);
        let key = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(&s))).unwrap();
        (key, rng)
    }

    fn prefix() -> ItemHasher {
        ItemHasher::new("test")
    }

    #[test]
    fn honest_proofs_verify_for_every_branch() {
        let (key, mut rng) = setup();
        let allowed = vec![vec![1, 0], vec![0, 2], vec![0, 3]];
        for branch in 0..allowed.len() {
            let r = [random_scalar(&mut rng), random_scalar(&mut rng)];
            let cts: Vec<Ciphertext> = (0..2)
                .map(|i| Ciphertext::encrypt(&key, allowed[branch][i], &r[i]))
                .collect();
            let w = Witness {
                branch,
                randomness: &r,
            };
            let p = DisjunctiveProof::prove(&mut rng, &key, prefix(), &allowed, &w, 2);
            p.vartime_verify(&mut rng, &key, prefix(), &allowed, &cts)
                .unwrap();
        }
    }

    #[test]
    fn rejects_proof_for_disallowed_plaintext() {
        let (key, mut rng) = setup();
        let allowed = vec![vec![0], vec![1]];
        let r = [random_scalar(&mut rng)];
        let ct = Ciphertext::encrypt(&key, 2, &r[0]);
        // A cheating prover claims branch 1 for an encryption of 2.
        let p = DisjunctiveProof::prove(
            &mut rng,
            &key,
            prefix(),
            &allowed,
            &Witness {
                branch: 1,
                randomness: &r,
            },
            1,
        );
        assert_eq!(
            p.vartime_verify(&mut rng, &key, prefix(), &allowed, &[ct]),
            Err(ProofError::Equation)
        );
    }

    #[test]
    fn rejects_proof_with_other_prefix() {
        let (key, mut rng) = setup();
        let allowed = vec![vec![0], vec![1]];
        let r = [random_scalar(&mut rng)];
        let ct = Ciphertext::encrypt(&key, 1, &r[0]);
        let p = DisjunctiveProof::prove(
            &mut rng,
            &key,
            prefix(),
            &allowed,
            &Witness {
                branch: 1,
                randomness: &r,
            },
            1,
        );
        assert_eq!(
            p.vartime_verify(&mut rng, &key, ItemHasher::new("other"), &allowed, &[ct]),
            Err(ProofError::ChallengeSum)
        );
    }
}
