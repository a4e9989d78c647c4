//! Trustee keys in the independent mode of this version (spec §8.1): each of the n trustees
//! draws its own key pair, the election key is the sum of their public keys, and all n must take
//! part in decryption. Threshold sharing among n trustees comes with distributed key generation.

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::DecodeError;
use crate::group::scalar_decode;

use crate::group::{Point, random_scalar};
use crate::manifest::{TrusteePublic, trustee_key_proof_prefix};
use crate::proofs::schnorr::SchnorrProof;

/// A trustee's secret key and its public key. The secret is zeroized on drop and never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TrusteeKey {
    secret: Scalar,
    #[zeroize(skip)]
    public: Point,
}

impl fmt::Debug for TrusteeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TrusteeKey {{ public: {}, secret: <redacted> }}",
            self.public
        )
    }
}

impl TrusteeKey {
    /// Draws a fresh key pair.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = random_scalar(rng);
        TrusteeKey {
            public: Point::from_element(RistrettoPoint::mul_base(&secret)),
            secret,
        }
    }

    /// The secret key's canonical encoding, for storing it encrypted (never in the clear).
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// A key pair from a stored secret: a canonical, non-zero scalar.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let secret = scalar_decode(bytes)?;
        if secret == Scalar::ZERO {
            return Err(DecodeError::NonCanonicalScalar);
        }
        Ok(TrusteeKey {
            public: Point::from_element(RistrettoPoint::mul_base(&secret)),
            secret,
        })
    }

    /// The public key (the trustee's verification key).
    pub fn public(&self) -> &Point {
        &self.public
    }

    pub(crate) fn secret(&self) -> &Scalar {
        &self.secret
    }

    /// The manifest entry for trustee number `index` (from 1), with its key proof.
    pub fn publish<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election_id: &str,
        index: u32,
        name: &str,
    ) -> TrusteePublic {
        let prefix = trustee_key_proof_prefix(election_id, index, name, &self.public);
        TrusteePublic {
            name: name.to_owned(),
            public_key: self.public,
            key_proof: SchnorrProof::prove(rng, &self.secret, prefix),
        }
    }
}

/// The election key of independent trustees: the sum of their public keys.
pub fn combine_public_keys<'a>(keys: impl IntoIterator<Item = &'a Point>) -> Point {
    Point::from_element(keys.into_iter().map(|k| *k.element()).sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::b64_encode;
    use crate::testkit::rng_from_seed;

    #[test]
    fn secret_bytes_round_trip_and_debug_hides_the_secret() {
        let k = TrusteeKey::generate(&mut rng_from_seed(5));
        let bytes = k.to_secret_bytes();
        let back = TrusteeKey::from_secret_bytes(&bytes[..]).unwrap();
        assert_eq!(back.public(), k.public());
        let shown = format!("{k:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains(&b64_encode(&bytes[..])));
        assert!(TrusteeKey::from_secret_bytes(&[0u8; 32]).is_err());
        assert!(TrusteeKey::from_secret_bytes(&[0xffu8; 32]).is_err());
    }
}
