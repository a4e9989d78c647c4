//! Schnorr proof of knowledge of a discrete logarithm, used as the ballot signature (spec §7.3)
//! and as a trustee's proof of knowledge of its secret key (spec §8.1).
//!
//! Paper: C.-P. Schnorr, "Efficient signature generation by smart cards", J. Cryptology 1991.
//!
//! Relation, for a public key X: PK{ (x) : X = x·G }.
//!
//! Prover: draw k, R = k·G, c = H(prefix ‖ R), s = k + c·x.
//! Verifier: c = H(prefix ‖ R); check s·G = R + c·X.
//!
//! Hash input: the caller's prefix, which holds the domain tag, the context, the public key X and
//! the message (for a signature), then the commitment R. The proof carries (R, s), not (c, s),
//! so that many can be checked in one multiscalar multiplication.

#![allow(non_snake_case)] // R and X are points.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::ProofError;
use crate::group::{Point, random_scalar, random_scalar_128, scalar_b64};
use crate::hash::ItemHasher;
use crate::msm::Msm;

/// A Schnorr proof (or signature): the commitment R and the response s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchnorrProof {
    /// The commitment R = k·G.
    pub r: Point,
    /// The response s = k + c·x.
    #[serde(with = "scalar_b64")]
    pub s: Scalar,
}

impl SchnorrProof {
    /// Proves knowledge of `x`. `prefix` holds everything the challenge binds besides R.
    pub fn prove<R: CryptoRng + ?Sized>(rng: &mut R, x: &Scalar, prefix: ItemHasher) -> Self {
        let mut k = random_scalar(rng);
        let r = Point::from_element(RistrettoPoint::mul_base(&k));
        let mut h = prefix;
        h.point(&r);
        let c = h.challenge();
        let s = k + c * x;
        k.zeroize();
        SchnorrProof { r, s }
    }

    /// Adds the equation s·G − R − c·X = 0 to `msm` with a random weight; `x_weight` receives
    /// the coefficient of X, so a caller holding X as a shared term can fold it.
    pub fn vartime_collect<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        prefix: ItemHasher,
        msm: &mut Msm,
    ) -> Scalar {
        let mut h = prefix;
        h.point(&self.r);
        let c = h.challenge();
        let w = random_scalar_128(rng);
        msm.add_g(w * self.s);
        msm.push(-w, &self.r);
        -(w * c)
    }

    /// Verifies the proof alone for public key `x_pub`.
    pub fn vartime_verify(&self, x_pub: &Point, prefix: ItemHasher) -> Result<(), ProofError> {
        let mut h = prefix;
        h.point(&self.r);
        let c = h.challenge();
        let expect =
            RistrettoPoint::vartime_double_scalar_mul_basepoint(&-c, x_pub.element(), &self.s);
        if expect == *self.r.element() {
            Ok(())
        } else {
            Err(ProofError::Equation)
        }
    }

    /// Appends (R, s) as two hash items.
    pub(crate) fn hash_into(&self, h: &mut ItemHasher) {
        h.point(&self.r).scalar(&self.s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_proof_verifies_and_binds_prefix() {
        let mut rng = rand::rng();
        let x = random_scalar(&mut rng);
        let X = Point::from_element(RistrettoPoint::mul_base(&x));
        let p = SchnorrProof::prove(&mut rng, &x, ItemHasher::new("a"));
        p.vartime_verify(&X, ItemHasher::new("a")).unwrap();
        assert_eq!(
            p.vartime_verify(&X, ItemHasher::new("b")),
            Err(ProofError::Equation)
        );
        let mut msm = Msm::default();
        let cx = p.vartime_collect(&mut rng, ItemHasher::new("a"), &mut msm);
        msm.push(cx, &X);
        assert!(msm.vartime_is_identity(X.element()));
    }
}
