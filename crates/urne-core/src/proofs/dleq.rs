//! Chaum–Pedersen proof of equality of discrete logarithms for two arbitrary bases, used by a
//! trustee to reveal the key of one encrypted share in a complaint (crate::dkg_transport).
//!
//! Spec: docs/spec.md §8.5.4. Paper: D. Chaum, T. Pedersen, "Wallet databases with observers",
//! CRYPTO 1992.
//!
//! Relation, for public points P, H, Q: PK{ (x) : P = x·G ∧ Q = x·H }
//!
//! Prover: draw w; A = w·G, B = w·H; c = H(prefix ‖ A ‖ B); z = w + c·x.
//! Verifier: c = H(prefix ‖ A ‖ B); check z·G = A + c·P and z·H = B + c·Q.
//!
//! Hash input: the caller's prefix, which holds the tag and the whole statement (P, H, Q and
//! their context), then A and B. The decryption factor's proof (crate::proofs::decryption) is the
//! same relation with H = α, and keeps its own hash input (spec §8.3).

#![allow(non_snake_case)] // A, B, H, P, Q are points.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::ProofError;
use crate::group::{G, Point, random_scalar, scalar_b64};
use crate::hash::ItemHasher;

/// A proof that log_G P = log_H Q.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DleqProof {
    /// A = w·G.
    pub a: Point,
    /// B = w·H.
    pub b: Point,
    /// z = w + c·x.
    #[serde(with = "scalar_b64")]
    pub z: Scalar,
}

impl DleqProof {
    /// Proves log_G (x·G) = log_H (x·H). `prefix` holds the tag and the whole statement.
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        x: &Scalar,
        h: &Point,
        prefix: ItemHasher,
    ) -> Self {
        let mut w = random_scalar(rng);
        let a = Point::from_element(RistrettoPoint::mul_base(&w));
        let b = Point::from_element(h.element() * w);
        let mut hasher = prefix;
        hasher.point(&a).point(&b);
        let z = w + hasher.challenge() * x;
        w.zeroize();
        DleqProof { a, b, z }
    }

    /// Checks the proof for P = x·G and Q = x·H (variable time, public data).
    pub fn vartime_verify(
        &self,
        p: &Point,
        h: &Point,
        q: &Point,
        prefix: ItemHasher,
    ) -> Result<(), ProofError> {
        let mut hasher = prefix;
        hasher.point(&self.a).point(&self.b);
        let c = hasher.challenge();
        // z·G − A − c·P = 0 and z·H − B − c·Q = 0, checked separately: two small equations.
        let first = RistrettoPoint::vartime_multiscalar_mul(
            [self.z, -Scalar::ONE, -c],
            [G, *self.a.element(), *p.element()],
        );
        let second = RistrettoPoint::vartime_multiscalar_mul(
            [self.z, -Scalar::ONE, -c],
            [*h.element(), *self.b.element(), *q.element()],
        );
        let zero = RistrettoPoint::default();
        if first == zero && second == zero {
            Ok(())
        } else {
            Err(ProofError::Equation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::rng_from_seed;

    #[test]
    fn honest_proof_verifies_and_binds_everything() {
        let mut rng = rng_from_seed(5);
        let x = random_scalar(&mut rng);
        let h = Point::from_element(RistrettoPoint::mul_base(&random_scalar(&mut rng)));
        let p = Point::from_element(RistrettoPoint::mul_base(&x));
        let q = Point::from_element(h.element() * x);
        let proof = DleqProof::prove(&mut rng, &x, &h, ItemHasher::new("t"));
        proof
            .vartime_verify(&p, &h, &q, ItemHasher::new("t"))
            .unwrap();
        assert!(
            proof
                .vartime_verify(&p, &h, &q, ItemHasher::new("u"))
                .is_err()
        );
        let other = Point::from_element(q.element() + G);
        assert!(
            proof
                .vartime_verify(&p, &h, &other, ItemHasher::new("t"))
                .is_err()
        );
        assert!(
            proof
                .vartime_verify(&other, &h, &q, ItemHasher::new("t"))
                .is_err()
        );
    }
}
