//! The group: ristretto255 (RFC 9496), its canonical encodings and the JSON form of bytes.
//!
//! ristretto255 is a prime-order group of order ℓ = 2^252 + 27742317777372353535851937790883648493
//! built on Curve25519. Unlike the curve itself, it has no cofactor: every 32-byte string either
//! decodes to exactly one group element or is rejected, and every element has exactly one encoding.
//! That is what lets urne hash points as bytes and compare records byte for byte.
//!
//! Spec: docs/spec.md §2 (group and encodings).
//!
//! Decoding rejects, with a [`DecodeError`]:
//! - base64url text that has padding, non-alphabet characters or non-zero trailing bits;
//! - byte strings of the wrong length;
//! - point encodings that are not canonical ristretto255 encodings (RFC 9496 §4.3.1);
//! - scalar encodings that are not reduced mod ℓ (little-endian, < ℓ);
//! - the identity, where a caller asks for a non-identity element ([`Point::decode_nonidentity`]).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity};
use rand_core::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DecodeError;

/// The fixed generator G of ristretto255 (RFC 9496 §4; its encoding is the first vector of
/// Appendix A.1).
pub const G: RistrettoPoint = RISTRETTO_BASEPOINT_POINT;

/// A ristretto255 element together with its canonical 32-byte encoding.
///
/// Both forms are kept: hashing needs the bytes and arithmetic needs the point, and converting
/// either way costs a field inversion. A `Point` is always valid: it can only be built from a
/// group element or from bytes that decode canonically.
#[derive(Clone, Copy)]
pub struct Point {
    point: RistrettoPoint,
    bytes: [u8; 32],
}

impl Point {
    /// Wraps a group element, computing its encoding.
    pub fn from_element(point: RistrettoPoint) -> Self {
        Point {
            point,
            bytes: point.compress().to_bytes(),
        }
    }

    /// Decodes a canonical 32-byte encoding (RFC 9496 §4.3.1). The identity is accepted.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length {
            expected: 32,
            found: bytes.len(),
        })?;
        let point = CompressedRistretto(bytes)
            .decompress()
            .ok_or(DecodeError::InvalidPoint)?;
        Ok(Point { point, bytes })
    }

    /// Decodes like [`Point::decode`] and also rejects the identity, for keys and credentials.
    pub fn decode_nonidentity(bytes: &[u8]) -> Result<Self, DecodeError> {
        let p = Self::decode(bytes)?;
        if p.is_identity() {
            return Err(DecodeError::IdentityPoint);
        }
        Ok(p)
    }

    /// The identity element.
    pub fn identity() -> Self {
        Self::from_element(RistrettoPoint::identity())
    }

    /// The generator G.
    pub fn generator() -> Self {
        Self::from_element(G)
    }

    /// The group element.
    pub fn element(&self) -> &RistrettoPoint {
        &self.point
    }

    /// The canonical encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Whether this is the identity element.
    pub fn is_identity(&self) -> bool {
        self.point.is_identity()
    }
}

impl PartialEq for Point {
    fn eq(&self, other: &Self) -> bool {
        // Encodings are canonical, so byte equality is group equality.
        self.bytes == other.bytes
    }
}
impl Eq for Point {}

impl std::hash::Hash for Point {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Point({})", b64_encode(&self.bytes))
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64_encode(&self.bytes))
    }
}

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64_encode(&self.bytes))
    }
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = b64_decode(&text).map_err(serde::de::Error::custom)?;
        Point::decode(&bytes).map_err(serde::de::Error::custom)
    }
}

/// Decodes a canonical scalar: 32 bytes, little-endian, strictly less than ℓ.
pub fn scalar_decode(bytes: &[u8]) -> Result<Scalar, DecodeError> {
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length {
        expected: 32,
        found: bytes.len(),
    })?;
    Option::from(Scalar::from_canonical_bytes(bytes)).ok_or(DecodeError::NonCanonicalScalar)
}

/// A uniformly random scalar: 64 random bytes reduced mod ℓ, so the bias is below 2^-250.
pub fn random_scalar<R: CryptoRng + ?Sized>(rng: &mut R) -> Scalar {
    let mut wide = [0u8; 64];
    rng.fill_bytes(&mut wide);
    let s = Scalar::from_bytes_mod_order_wide(&wide);
    zeroize::Zeroize::zeroize(&mut wide);
    s
}

/// A uniformly random 128-bit scalar, for the coefficients of batch verification (spec §9).
pub fn random_scalar_128<R: CryptoRng + ?Sized>(rng: &mut R) -> Scalar {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes[..16]);
    Scalar::from_bytes_mod_order(bytes)
}

/// Serde adapter for public scalars (responses and challenges of proofs), as base64url text.
pub mod scalar_b64 {
    use super::*;

    /// Serializes a scalar as the base64url of its canonical encoding.
    pub fn serialize<S: Serializer>(s: &Scalar, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&b64_encode(s.as_bytes()))
    }

    /// Deserializes a canonical scalar from base64url text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = b64_decode(&text).map_err(serde::de::Error::custom)?;
        scalar_decode(&bytes).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for vectors of public scalars.
pub mod scalar_vec_b64 {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Serializes each scalar as base64url text.
    pub fn serialize<S: Serializer>(v: &[Scalar], ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(Some(v.len()))?;
        for s in v {
            seq.serialize_element(&b64_encode(s.as_bytes()))?;
        }
        seq.end()
    }

    /// Deserializes a vector of canonical scalars.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Scalar>, D::Error> {
        #[derive(Deserialize)]
        struct S(#[serde(with = "scalar_b64")] Scalar);
        Ok(Vec::<S>::deserialize(d)?.into_iter().map(|s| s.0).collect())
    }
}

/// Serde adapter for fixed-size byte strings (digests) as base64url text.
pub mod bytes_b64 {
    use super::*;

    /// Serializes bytes as base64url text.
    pub fn serialize<S: Serializer, const N: usize>(
        b: &[u8; N],
        ser: S,
    ) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&b64_encode(b))
    }

    /// Deserializes exactly `N` bytes from base64url text.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = b64_decode(&text).map_err(serde::de::Error::custom)?;
        let found = bytes.len();
        bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom(DecodeError::Length { expected: N, found }))
    }
}

/// Deserializes an optional field that, when present, must hold a value: an explicit `null` is
/// refused, so that every value has one JSON form (absent or present, never `null`).
pub fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// base64url without padding (RFC 4648 §5), the one text form of bytes in urne's JSON.
pub fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding: no padding, no whitespace, canonical trailing bits.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| DecodeError::Base64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_point_noncanonical_field_element() {
        // 2^255 - 18 is p + 1 reduced: a non-canonical field encoding.
        let mut b = [0xffu8; 32];
        b[0] = 0xee;
        b[31] = 0x7f;
        assert_eq!(Point::decode(&b).unwrap_err(), DecodeError::InvalidPoint);
    }

    #[test]
    fn rejects_point_negative_encoding() {
        // Ristretto encodings must be non-negative field elements: 1 is odd, so "negative".
        let mut b = [0u8; 32];
        b[0] = 1;
        assert_eq!(Point::decode(&b).unwrap_err(), DecodeError::InvalidPoint);
    }

    #[test]
    fn rejects_point_identity_when_forbidden() {
        assert!(Point::decode(&[0u8; 32]).unwrap().is_identity());
        assert_eq!(
            Point::decode_nonidentity(&[0u8; 32]).unwrap_err(),
            DecodeError::IdentityPoint
        );
    }

    #[test]
    fn rejects_scalar_unreduced() {
        // ℓ itself is not a canonical scalar.
        let l = (-Scalar::ONE).to_bytes();
        let mut lb = l;
        lb[0] += 1;
        assert_eq!(
            scalar_decode(&lb).unwrap_err(),
            DecodeError::NonCanonicalScalar
        );
        assert!(scalar_decode(&l).is_ok());
    }

    #[test]
    fn rejects_base64_padding_and_trailing_bits() {
        assert!(b64_decode("AA==").is_err());
        assert!(b64_decode("AB").is_err());
        assert_eq!(b64_decode("AA").unwrap(), vec![0]);
        assert!(b64_decode("A+").is_err());
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            Point::decode(&[0u8; 31]).unwrap_err(),
            DecodeError::Length {
                expected: 32,
                found: 31
            }
        );
    }
}
