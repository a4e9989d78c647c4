//! Threshold keys: Pedersen's distributed key generation with Feldman commitments, and the
//! Lagrange interpolation that lets any t of the n trustees decrypt.
//!
//! Paper: T. P. Pedersen, "A threshold cryptosystem without a trusted party", EUROCRYPT 1991;
//! P. Feldman, "A practical scheme for non-interactive verifiable secret sharing", FOCS 1987;
//! A. Shamir, "How to share a secret", CACM 1979.
//!
//! Each trustee i (from 1 to n) deals a random polynomial fᵢ of degree t − 1 over the scalars,
//! publishes the commitments C_{i,k} = a_{i,k}·G to its coefficients with a proof of knowledge of
//! a_{i,0}, and gives every trustee j the share s_{i,j} = fᵢ(j). Trustee j checks each share it
//! receives against the dealer's commitments:
//!
//! s_{i,j}·G = Σ_k j^k·C_{i,k}
//!
//! Over the set Q of qualified dealers, the election key is Y = Σ_{i∈Q} C_{i,0}, trustee j's secret
//! share is s_j = Σ_{i∈Q} s_{i,j}, and its public verification key V_j = s_j·G is computable by
//! anyone from the commitments alone: V_j = Σ_{i∈Q} Σ_k j^k·C_{i,k}. The secret key
//! s = Σ_{i∈Q} a_{i,0} is never assembled: for any set S of t trustees,
//! s = Σ_{j∈S} λ_{S,j}·s_j with the Lagrange coefficients at zero λ_{S,j} = Π_{m∈S, m≠j} m/(m − j),
//! so decryption factors D_j = s_j·α combine into s·α = Σ_{j∈S} λ_{S,j}·D_j. Fewer than t shares
//! reveal nothing about s.
//!
//! Spec: docs/spec.md §8.5.1 (setting), §8.5.2 (polynomials, commitments, shares and the
//! proof of the constant term, hashed as `urne/v1/dkg/coefficient-proof` over the election id,
//! the dealer's index and its commitments), §8.5.8 (threshold decryption).

#![allow(non_snake_case)] // C, V, Y, D are points.

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::DecodeError;

use crate::elgamal::Ciphertext;
use crate::group::{Point, random_scalar, scalar_decode};
use crate::hash::{ItemHasher, tags};
use crate::proofs::ProofError;
use crate::proofs::decryption::DecryptionFactor;
use crate::proofs::schnorr::SchnorrProof;

/// Why a set of trustees or shares is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// t must be between 1 and n.
    #[error(
        "a threshold of {threshold} with {trustees} trustees: it must be between 1 and the number of trustees"
    )]
    Threshold {
        /// The threshold asked for.
        threshold: u32,
        /// The number of trustees.
        trustees: u32,
    },
    /// A trustee index outside 1..=n, or repeated.
    #[error("trustee index {0} is out of range or repeated")]
    Index(u32),
    /// Fewer trustees than the threshold.
    #[error("{found} trustees take part, {needed} are needed")]
    TooFew {
        /// Trustees taking part.
        found: usize,
        /// The threshold.
        needed: u32,
    },
}

/// A dealer's secret polynomial f(x) = a₀ + a₁x + … + a_{t−1}x^{t−1}. Zeroized on drop, never
/// printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Polynomial {
    coefficients: Vec<Scalar>,
}

impl fmt::Debug for Polynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Polynomial {{ degree: {}, coefficients: <secret> }}",
            self.coefficients.len() - 1
        )
    }
}

/// One trustee's share of a secret: f(index). Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Share {
    #[zeroize(skip)]
    index: u32,
    value: Scalar,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Share {{ index: {}, value: <secret> }}", self.index)
    }
}

impl Share {
    pub(crate) fn from_parts(index: u32, value: Scalar) -> Self {
        Share { index, value }
    }

    /// The share's encoding: its index (4 bytes, big-endian) then its value, for storing it
    /// encrypted.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(36));
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(self.value.as_bytes());
        out
    }

    /// A share from [`Share::to_secret_bytes`].
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (index, value) = match bytes {
            [a, b, c, d, rest @ ..] if rest.len() == 32 => {
                (u32::from_be_bytes([*a, *b, *c, *d]), scalar_decode(rest)?)
            }
            _ => {
                return Err(DecodeError::Length {
                    expected: 36,
                    found: bytes.len(),
                });
            }
        };
        Ok(Share { index, value })
    }

    /// The trustee index this share belongs to.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Adds the shares that several dealers gave the same trustee: its share of the joint key.
    pub fn sum<'a>(shares: impl IntoIterator<Item = &'a Share>) -> Option<Share> {
        let mut it = shares.into_iter();
        let first = it.next()?;
        let mut total = Share {
            index: first.index,
            value: first.value,
        };
        for s in it {
            if s.index != total.index {
                return None;
            }
            total.value += s.value;
        }
        Some(total)
    }

    /// The decryption factor D = s_j·α of this share on `ct`, with its Chaum–Pedersen proof
    /// against the trustee's verification key `vk` = s_j·G (spec §8.3).
    pub fn decryption_factor<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        fingerprint: &[u8; 32],
        vk: &Point,
        ct: &Ciphertext,
    ) -> DecryptionFactor {
        DecryptionFactor::prove(rng, fingerprint, &self.value, vk, ct)
    }

    pub(crate) fn secret(&self) -> &Scalar {
        &self.value
    }
}

/// Feldman commitments C_k = a_k·G to a dealer's coefficients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeldmanCommitment {
    /// C₀ … C_{t−1}.
    pub coefficients: Vec<Point>,
}

impl Polynomial {
    /// A random polynomial for threshold t (degree t − 1).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R, threshold: u32) -> Self {
        Polynomial {
            coefficients: (0..threshold.max(1)).map(|_| random_scalar(rng)).collect(),
        }
    }

    /// The coefficients' canonical encodings, a₀ first, for storing them encrypted.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(32 * self.coefficients.len()));
        for a in &self.coefficients {
            out.extend_from_slice(a.as_bytes());
        }
        out
    }

    /// A polynomial from [`Polynomial::to_secret_bytes`]: 1 to 64 canonical scalars.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.is_empty() || bytes.len() % 32 != 0 || bytes.len() > 32 * 64 {
            return Err(DecodeError::Length {
                expected: 32,
                found: bytes.len(),
            });
        }
        let coefficients = bytes
            .chunks(32)
            .map(scalar_decode)
            .collect::<Result<_, _>>()?;
        Ok(Polynomial { coefficients })
    }

    /// f(index), for index ≥ 1, by Horner's rule (constant time in the coefficients).
    pub fn share(&self, index: u32) -> Share {
        let x = Scalar::from(index);
        let value = self
            .coefficients
            .iter()
            .rev()
            .fold(Scalar::ZERO, |acc, a| acc * x + a);
        Share { index, value }
    }

    /// The Feldman commitments to the coefficients.
    pub fn commit(&self) -> FeldmanCommitment {
        FeldmanCommitment {
            coefficients: self
                .coefficients
                .iter()
                .map(|a| Point::from_element(RistrettoPoint::mul_base(a)))
                .collect(),
        }
    }

    /// A Schnorr proof of knowledge of a₀, bound to the election, the dealer and its
    /// commitments, so it cannot be replayed by another dealer or in another election.
    pub fn prove_constant_term<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election_id: &str,
        dealer: u32,
        commitment: &FeldmanCommitment,
    ) -> SchnorrProof {
        SchnorrProof::prove(
            rng,
            &self.coefficients[0],
            constant_term_prefix(election_id, dealer, commitment),
        )
    }
}

fn constant_term_prefix(
    election_id: &str,
    dealer: u32,
    commitment: &FeldmanCommitment,
) -> ItemHasher {
    let mut h = ItemHasher::new(tags::DKG_COEFFICIENT_PROOF);
    h.str(election_id)
        .u64(dealer.into())
        .len(commitment.coefficients.len());
    for c in &commitment.coefficients {
        h.point(c);
    }
    h
}

impl FeldmanCommitment {
    /// The threshold t these commitments are for.
    pub fn threshold(&self) -> u32 {
        self.coefficients.len() as u32
    }

    /// Σ_k index^k·C_k: the public image f(index)·G of the share of trustee `index`.
    /// Variable time: everything here is public.
    pub fn vartime_share_point(&self, index: u32) -> RistrettoPoint {
        let x = Scalar::from(index);
        let mut power = Scalar::ONE;
        let powers: Vec<Scalar> = self
            .coefficients
            .iter()
            .map(|_| {
                let p = power;
                power *= x;
                p
            })
            .collect();
        RistrettoPoint::vartime_multiscalar_mul(
            &powers,
            self.coefficients.iter().map(|c| *c.element()),
        )
    }

    /// Whether `share` is the value at its index of the committed polynomial.
    pub fn vartime_verify_share(&self, share: &Share) -> bool {
        share.index != 0
            && RistrettoPoint::mul_base(&share.value) == self.vartime_share_point(share.index)
    }

    /// Checks the dealer's proof of knowledge of its constant term.
    pub fn vartime_verify_constant_term(
        &self,
        election_id: &str,
        dealer: u32,
        proof: &SchnorrProof,
    ) -> Result<(), ProofError> {
        let c0 = self.coefficients.first().ok_or(ProofError::Shape {
            what: "coefficients",
            expected: 1,
            found: 0,
        })?;
        proof.vartime_verify(c0, constant_term_prefix(election_id, dealer, self))
    }
}

/// The public outcome of a key generation: the election key and every trustee's verification
/// key, computed from the qualified dealers' commitments alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdKeys {
    /// Y = Σ_{i∈Q} C_{i,0}.
    pub election_key: Point,
    /// V_j for j = 1 … n, in index order.
    pub verification_keys: Vec<Point>,
    /// t.
    pub threshold: u32,
}

impl ThresholdKeys {
    /// Combines the commitments of the qualified dealers for n trustees. Every commitment must
    /// be for the same threshold t ≤ n.
    pub fn vartime_from_commitments(
        commitments: &[&FeldmanCommitment],
        trustees: u32,
    ) -> Result<Self, ThresholdError> {
        let threshold = commitments.first().map_or(0, |c| c.threshold());
        if threshold == 0
            || threshold > trustees
            || commitments.iter().any(|c| c.threshold() != threshold)
        {
            return Err(ThresholdError::Threshold {
                threshold,
                trustees,
            });
        }
        let election_key = commitments
            .iter()
            .map(|c| *c.coefficients[0].element())
            .sum::<RistrettoPoint>();
        let verification_keys = (1..=trustees)
            .map(|j| {
                Point::from_element(commitments.iter().map(|c| c.vartime_share_point(j)).sum())
            })
            .collect();
        Ok(ThresholdKeys {
            election_key: Point::from_element(election_key),
            verification_keys,
            threshold,
        })
    }
}

/// The Lagrange coefficients at zero of the trustee indices in `set`, in the same order:
/// λ_j = Π_{m∈set, m≠j} m/(m − j). Indices must be distinct, between 1 and n, and at least t.
pub fn lagrange_at_zero(
    set: &[u32],
    threshold: u32,
    trustees: u32,
) -> Result<Vec<Scalar>, ThresholdError> {
    let mut seen = std::collections::HashSet::new();
    for &j in set {
        if j == 0 || j > trustees || !seen.insert(j) {
            return Err(ThresholdError::Index(j));
        }
    }
    if set.len() < threshold as usize {
        return Err(ThresholdError::TooFew {
            found: set.len(),
            needed: threshold,
        });
    }
    let mut numerators = Vec::with_capacity(set.len());
    let mut denominators = Vec::with_capacity(set.len());
    for &j in set {
        let (mut num, mut den) = (Scalar::ONE, Scalar::ONE);
        for &m in set.iter().filter(|&&m| m != j) {
            num *= Scalar::from(m);
            den *= Scalar::from(m) - Scalar::from(j);
        }
        numerators.push(num);
        denominators.push(den);
    }
    // Distinct non-zero indices below ℓ make every denominator invertible.
    Scalar::invert_batch_alloc(&mut denominators);
    Ok(numerators
        .iter()
        .zip(&denominators)
        .map(|(n, d)| n * d)
        .collect())
}

/// Σ_{j∈S} λ_{S,j}·D_j: the factors of a set S of trustees combined into s·α.
/// Variable time: factors are public.
pub fn vartime_combine_factors(
    factors: &[(u32, &Point)],
    threshold: u32,
    trustees: u32,
) -> Result<RistrettoPoint, ThresholdError> {
    let set: Vec<u32> = factors.iter().map(|(j, _)| *j).collect();
    let lambdas = lagrange_at_zero(&set, threshold, trustees)?;
    Ok(RistrettoPoint::vartime_multiscalar_mul(
        &lambdas,
        factors.iter().map(|(_, d)| *d.element()),
    ))
}

/// Runs a whole key generation among honest dealers in one place: for tests and simulations
/// only, since one machine then sees every share. Returns the public keys and each trustee's
/// combined share.
#[cfg(feature = "testkit")]
pub fn deal_honestly<R: CryptoRng + ?Sized>(
    rng: &mut R,
    threshold: u32,
    trustees: u32,
) -> Result<(ThresholdKeys, Vec<Share>), ThresholdError> {
    if threshold == 0 || threshold > trustees {
        return Err(ThresholdError::Threshold {
            threshold,
            trustees,
        });
    }
    let polys: Vec<Polynomial> = (0..trustees)
        .map(|_| Polynomial::random(rng, threshold))
        .collect();
    let commitments: Vec<FeldmanCommitment> = polys.iter().map(Polynomial::commit).collect();
    let keys =
        ThresholdKeys::vartime_from_commitments(&commitments.iter().collect::<Vec<_>>(), trustees)?;
    let shares = (1..=trustees)
        .map(|j| {
            let received: Vec<Share> = polys.iter().map(|p| p.share(j)).collect();
            Share::sum(&received).unwrap_or(Share {
                index: j,
                value: Scalar::ZERO,
            })
        })
        .collect();
    Ok((keys, shares))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::ElectionKey;
    use crate::testkit::rng_from_seed;

    fn subsets(n: u32, k: usize) -> Vec<Vec<u32>> {
        let mut out = Vec::new();
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize == k {
                out.push((1..=n).filter(|j| mask & (1 << (j - 1)) != 0).collect());
            }
        }
        out
    }

    fn decrypt_with(
        keys: &ThresholdKeys,
        shares: &[Share],
        set: &[u32],
        ct: &Ciphertext,
    ) -> Result<RistrettoPoint, ThresholdError> {
        let mut rng = rng_from_seed(99);
        let fp = [7u8; 32];
        let factors: Vec<(u32, Point)> = set
            .iter()
            .map(|&j| {
                let vk = &keys.verification_keys[j as usize - 1];
                let f = shares[j as usize - 1].decryption_factor(&mut rng, &fp, vk, ct);
                // Each factor proves itself against the key derived from the commitments.
                f.vartime_verify(&mut rng, &fp, vk, ct).unwrap();
                (j, f.factor)
            })
            .collect();
        let refs: Vec<(u32, &Point)> = factors.iter().map(|(j, d)| (*j, d)).collect();
        let s_alpha = vartime_combine_factors(&refs, keys.threshold, shares.len() as u32)?;
        Ok(ct.beta.element() - s_alpha)
    }

    #[test]
    fn every_subset_of_t_trustees_decrypts_and_t_minus_1_do_not() {
        for (t, n) in [(1u32, 1u32), (2, 3), (3, 5)] {
            let mut rng = rng_from_seed(u64::from(10 * t + n));
            let (keys, shares) = deal_honestly(&mut rng, t, n).unwrap();
            for s in &shares {
                assert_eq!(
                    Point::from_element(RistrettoPoint::mul_base(s.secret())),
                    keys.verification_keys[s.index() as usize - 1]
                );
            }
            let key = ElectionKey::new(keys.election_key).unwrap();
            let ct = Ciphertext::encrypt(&key, 42, &random_scalar(&mut rng));
            let expected = RistrettoPoint::mul_base(&Scalar::from(42u64));
            for k in t as usize..=n as usize {
                for set in subsets(n, k) {
                    assert_eq!(
                        decrypt_with(&keys, &shares, &set, &ct).unwrap(),
                        expected,
                        "t={t} n={n} set={set:?}"
                    );
                }
            }
            if t > 1 {
                for set in subsets(n, t as usize - 1) {
                    assert_eq!(
                        decrypt_with(&keys, &shares, &set, &ct).unwrap_err(),
                        ThresholdError::TooFew {
                            found: t as usize - 1,
                            needed: t
                        }
                    );
                    // Interpolating t − 1 shares as if they were enough gives a wrong key.
                    let lambdas = lagrange_at_zero(&set, t - 1, n).unwrap();
                    let guess: Scalar = set
                        .iter()
                        .zip(&lambdas)
                        .map(|(&j, l)| l * shares[j as usize - 1].secret())
                        .sum();
                    assert_ne!(
                        Point::from_element(RistrettoPoint::mul_base(&guess)),
                        keys.election_key
                    );
                }
            }
        }
    }

    #[test]
    fn shares_are_checked_against_commitments() {
        let mut rng = rng_from_seed(1);
        let p = Polynomial::random(&mut rng, 3);
        let c = p.commit();
        for j in 1..=5 {
            assert!(c.vartime_verify_share(&p.share(j)));
        }
        let mut bad = p.share(2);
        bad.value += Scalar::ONE;
        assert!(!c.vartime_verify_share(&bad));
        let wrong_index = Share {
            index: 3,
            value: p.share(2).value,
        };
        assert!(!c.vartime_verify_share(&wrong_index));
        assert!(!c.vartime_verify_share(&p.share(0)));
    }

    #[test]
    fn constant_term_proof_binds_election_dealer_and_commitments() {
        let mut rng = rng_from_seed(2);
        let p = Polynomial::random(&mut rng, 2);
        let c = p.commit();
        let proof = p.prove_constant_term(&mut rng, "e", 1, &c);
        c.vartime_verify_constant_term("e", 1, &proof).unwrap();
        assert!(c.vartime_verify_constant_term("e", 2, &proof).is_err());
        assert!(c.vartime_verify_constant_term("f", 1, &proof).is_err());
        let other = Polynomial::random(&mut rng, 2).commit();
        assert!(other.vartime_verify_constant_term("e", 1, &proof).is_err());
    }

    #[test]
    fn lagrange_rejects_bad_sets() {
        assert_eq!(
            lagrange_at_zero(&[1, 1], 2, 3).unwrap_err(),
            ThresholdError::Index(1)
        );
        assert_eq!(
            lagrange_at_zero(&[0, 1], 2, 3).unwrap_err(),
            ThresholdError::Index(0)
        );
        assert_eq!(
            lagrange_at_zero(&[4, 1], 2, 3).unwrap_err(),
            ThresholdError::Index(4)
        );
        assert_eq!(
            lagrange_at_zero(&[2], 2, 3).unwrap_err(),
            ThresholdError::TooFew {
                found: 1,
                needed: 2
            }
        );
        // λ for {1, 2} at zero: 2/(2−1) = 2 and 1/(1−2) = −1.
        assert_eq!(
            lagrange_at_zero(&[1, 2], 2, 3).unwrap(),
            vec![Scalar::from(2u64), -Scalar::ONE]
        );
    }

    #[test]
    fn secret_encodings_round_trip() {
        let mut rng = rng_from_seed(4);
        let p = Polynomial::random(&mut rng, 3);
        let back = Polynomial::from_secret_bytes(&p.to_secret_bytes()).unwrap();
        assert_eq!(back.commit(), p.commit());
        let s = p.share(2);
        let t = Share::from_secret_bytes(&s.to_secret_bytes()).unwrap();
        assert_eq!((t.index(), t.secret()), (2, s.secret()));
        assert!(Polynomial::from_secret_bytes(&[0u8; 31]).is_err());
        assert!(Share::from_secret_bytes(&[0u8; 35]).is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut rng = rng_from_seed(3);
        let p = Polynomial::random(&mut rng, 2);
        let s = p.share(1);
        assert_eq!(
            format!("{p:?}"),
            "Polynomial { degree: 1, coefficients: <secret> }"
        );
        assert_eq!(format!("{s:?}"), "Share { index: 1, value: <secret> }");
    }
}
