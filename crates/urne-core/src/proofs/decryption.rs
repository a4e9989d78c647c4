//! A decryption factor and its Chaum–Pedersen proof of correctness (spec §8.3).
//!
//! Paper: D. Chaum, T. Pedersen, "Wallet databases with observers", CRYPTO 1992.
//!
//! A trustee with secret share s and public verification key V = s·G publishes, for a ciphertext
//! (α, β), the factor D = s·α and proves that log_G V = log_α D:
//!
//! PK{ (s) : V = s·G ∧ D = s·α }
//!
//! Prover: draw w; A = w·G, B = w·α; c = H(prefix ‖ A ‖ B); z = w + c·s.
//! Verifier: c = H(prefix ‖ A ‖ B); check z·G = A + c·V and z·α = B + c·D.
//!
//! Hash input: DECRYPTION_PROOF tag, election fingerprint, V, α, β, D (the whole statement,
//! ciphertext and factor included), then A and B.

#![allow(non_snake_case)] // A, B, D, V are points.

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::ProofError;
use crate::elgamal::Ciphertext;
use crate::group::{Point, random_scalar, random_scalar_128, scalar_b64};
use crate::hash::{ItemHasher, tags};
use crate::msm::Msm;

/// A decryption factor D = s·α with its proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptionFactor {
    /// The factor D = s·α.
    pub factor: Point,
    /// Commitment A = w·G.
    pub a: Point,
    /// Commitment B = w·α.
    pub b: Point,
    /// Response z = w + c·s.
    #[serde(with = "scalar_b64")]
    pub z: Scalar,
}

fn prefix(fingerprint: &[u8; 32], vk: &Point, ct: &Ciphertext, factor: &Point) -> ItemHasher {
    let mut h = ItemHasher::new(tags::DECRYPTION_PROOF);
    h.bytes(fingerprint).point(vk);
    ct.hash_into(&mut h);
    h.point(factor);
    h
}

impl DecryptionFactor {
    /// Computes the factor of secret `s` (with `vk = s·G`) on `ct`, with its proof.
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        fingerprint: &[u8; 32],
        s: &Scalar,
        vk: &Point,
        ct: &Ciphertext,
    ) -> Self {
        let factor = Point::from_element(ct.alpha.element() * s);
        let mut w = random_scalar(rng);
        let a = Point::from_element(curve25519_dalek::RistrettoPoint::mul_base(&w));
        let b = Point::from_element(ct.alpha.element() * w);
        let mut h = prefix(fingerprint, vk, ct, &factor);
        h.point(&a).point(&b);
        let c = h.challenge();
        let z = w + c * s;
        w.zeroize();
        DecryptionFactor { factor, a, b, z }
    }

    /// Adds this proof's two equations to `msm` with random weights. The trustee's verification
    /// key is added as a new term; `vk_coefficient` receives its coefficient instead when given,
    /// so that a caller checking many factors of one trustee multiplies V only once.
    pub fn vartime_collect<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        fingerprint: &[u8; 32],
        vk: &Point,
        ct: &Ciphertext,
        msm: &mut Msm,
        vk_coefficient: &mut Scalar,
    ) {
        let mut h = prefix(fingerprint, vk, ct, &self.factor);
        h.point(&self.a).point(&self.b);
        let c = h.challenge();
        // z·G − A − c·V = 0 (weight w1);  z·α − B − c·D = 0 (weight w2).
        let (w1, w2) = (random_scalar_128(rng), random_scalar_128(rng));
        msm.add_g(w1 * self.z);
        msm.push(-w1, &self.a);
        *vk_coefficient -= w1 * c;
        msm.push(w2 * self.z, &ct.alpha);
        msm.push(-w2, &self.b);
        msm.push(-(w2 * c), &self.factor);
    }

    /// Verifies this factor alone.
    pub fn vartime_verify<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        fingerprint: &[u8; 32],
        vk: &Point,
        ct: &Ciphertext,
    ) -> Result<(), ProofError> {
        let mut msm = Msm::with_capacity(5);
        let mut vk_c = Scalar::ZERO;
        self.vartime_collect(rng, fingerprint, vk, ct, &mut msm, &mut vk_c);
        msm.push(vk_c, vk);
        // The Y slot is unused here: pass any point with a zero coefficient.
        if msm.vartime_is_identity(vk.element()) {
            Ok(())
        } else {
            Err(ProofError::Equation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::ElectionKey;
    use curve25519_dalek::RistrettoPoint;

    #[test]
    fn honest_factor_verifies_and_wrong_factor_fails() {
        let mut rng = rand::rng();
        let s = random_scalar(&mut rng);
        let vk = Point::from_element(RistrettoPoint::mul_base(&s));
        let key = ElectionKey::new(vk).unwrap();
        let ct = Ciphertext::encrypt(&key, 7, &random_scalar(&mut rng));
        let fp = [9u8; 32];
        let f = DecryptionFactor::prove(&mut rng, &fp, &s, &vk, &ct);
        f.vartime_verify(&mut rng, &fp, &vk, &ct).unwrap();
        let mut bad = f;
        bad.factor =
            Point::from_element(f.factor.element() + RistrettoPoint::mul_base(&Scalar::ONE));
        assert!(bad.vartime_verify(&mut rng, &fp, &vk, &ct).is_err());
        assert!(f.vartime_verify(&mut rng, &[8u8; 32], &vk, &ct).is_err());
    }
}
