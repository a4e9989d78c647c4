//! Exponential ElGamal under the joint election key (spec §6.1).
//!
//! A message m (a small non-negative integer) under key Y = s·G with randomness r is the pair
//! (α, β) = (r·G, m·G + r·Y). Ciphertexts add component-wise, which adds the messages: that is
//! what lets urne count without decrypting any single ballot. Decryption recovers m·G = β − s·α
//! and then m by a bounded discrete logarithm (spec §8.4).

use std::fmt;

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use serde::{Deserialize, Serialize};
use subtle::{Choice, ConditionallySelectable};

use crate::error::DecodeError;
use crate::group::{G, Point};

/// The election public key Y with a precomputed table for fast fixed-base multiplication.
#[derive(Clone)]
pub struct ElectionKey {
    point: Point,
    table: RistrettoBasepointTable,
}

impl fmt::Debug for ElectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ElectionKey({})", self.point)
    }
}

impl ElectionKey {
    /// Prepares the key for encryption and verification. The identity is refused, since a
    /// ciphertext under it would show its message in the clear.
    pub fn new(point: Point) -> Result<Self, DecodeError> {
        if point.is_identity() {
            return Err(DecodeError::IdentityPoint);
        }
        Ok(ElectionKey {
            point,
            table: RistrettoBasepointTable::create(point.element()),
        })
    }

    /// The key as a point.
    pub fn point(&self) -> &Point {
        &self.point
    }

    /// s·Y in constant time.
    pub(crate) fn mul(&self, s: &Scalar) -> RistrettoPoint {
        &self.table * s
    }
}

/// An exponential ElGamal ciphertext (α, β).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ciphertext {
    /// α = r·G.
    pub alpha: Point,
    /// β = m·G + r·Y.
    pub beta: Point,
}

impl Ciphertext {
    /// Encrypts a 0/1 choice in constant time.
    pub fn encrypt_bit(key: &ElectionKey, bit: Choice, r: &Scalar) -> Self {
        let m_g = RistrettoPoint::conditional_select(&RistrettoPoint::identity(), &G, bit);
        Self::from_parts(RistrettoPoint::mul_base(r), key.mul(r) + m_g)
    }

    /// Encrypts a small integer in constant time (in `m` and `r`).
    pub fn encrypt(key: &ElectionKey, m: u64, r: &Scalar) -> Self {
        let m_g = RistrettoPoint::mul_base(&Scalar::from(m));
        Self::from_parts(RistrettoPoint::mul_base(r), key.mul(r) + m_g)
    }

    /// Wraps two group elements.
    pub fn from_parts(alpha: RistrettoPoint, beta: RistrettoPoint) -> Self {
        Ciphertext {
            alpha: Point::from_element(alpha),
            beta: Point::from_element(beta),
        }
    }

    /// The homomorphic sum of ciphertexts: it encrypts the sum of their messages.
    pub fn sum<'a>(cts: impl IntoIterator<Item = &'a Ciphertext>) -> Self {
        let (a, b) = cts.into_iter().fold(
            (RistrettoPoint::identity(), RistrettoPoint::identity()),
            |(a, b), c| (a + c.alpha.element(), b + c.beta.element()),
        );
        Self::from_parts(a, b)
    }

    /// Appends (α, β) as two hash items.
    pub(crate) fn hash_into(&self, h: &mut crate::hash::ItemHasher) {
        h.point(&self.alpha).point(&self.beta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::random_scalar;

    fn decrypt(s: &Scalar, c: &Ciphertext) -> RistrettoPoint {
        c.beta.element() - c.alpha.element() * s
    }

    #[test]
    fn encrypt_then_decrypt_and_add() {
        let mut rng = rand::rng();
        let s = random_scalar(&mut rng);
        let key = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(&s))).unwrap();
        let c1 = Ciphertext::encrypt(&key, 3, &random_scalar(&mut rng));
        let c2 = Ciphertext::encrypt_bit(&key, Choice::from(1), &random_scalar(&mut rng));
        let c0 = Ciphertext::encrypt_bit(&key, Choice::from(0), &random_scalar(&mut rng));
        assert_eq!(
            decrypt(&s, &c1),
            RistrettoPoint::mul_base(&Scalar::from(3u64))
        );
        assert_eq!(decrypt(&s, &c0), RistrettoPoint::identity());
        let sum = Ciphertext::sum([&c1, &c2, &c0]);
        assert_eq!(
            decrypt(&s, &sum),
            RistrettoPoint::mul_base(&Scalar::from(4u64))
        );
    }

    #[test]
    fn rejects_identity_key() {
        assert_eq!(
            ElectionKey::new(Point::identity()).unwrap_err(),
            DecodeError::IdentityPoint
        );
    }
}
