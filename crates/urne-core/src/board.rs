//! Signed tree heads: the server's signature on the state of an election's bulletin board.
//!
//! The board is the election record, an append-only log hashed into a Merkle tree
//! (docs/record.md §4). A *tree head* names the tree's size and root at a moment; the server
//! signs it with its board key, whose public key the manifest carries as `board_key` (spec §4.1).
//! Anyone holding two signed tree heads of one election can then ask for a consistency proof
//! between them (docs/record.md §4.3), and a voter holding one can ask for the inclusion proof of
//! their ballot's line (§4.2): a server that showed two observers two different histories has
//! signed both, which is evidence against it.
//!
//! The signature is a Schnorr proof of knowledge of the board key's secret (spec §7.3) whose
//! prefix hashes the whole statement (docs/record.md §4.4):
//!
//! ```text
//! tag BOARD_TREE_HEAD = "urne/v1/board/tree-head", digest fingerprint, point board key,
//! integer size, digest root, string at
//! ```
//!
//! then, as for every Schnorr proof, point R.

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{DecodeError, ParseError, parse_json};
use crate::group::{Point, random_scalar, scalar_decode};
use crate::hash::{ItemHasher, tags};
use crate::manifest::{Fingerprint, Timestamp};
use crate::proofs::schnorr::SchnorrProof;

/// The server's signing key for the tree heads of its bulletin boards (docs/record.md §4.4).
/// The secret is zeroized on drop and never printed: `Debug` shows only the public key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BoardKey {
    secret: Scalar,
    #[zeroize(skip)]
    public: Point,
}

impl fmt::Debug for BoardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoardKey {{ public: {}, secret: <redacted> }}",
            self.public
        )
    }
}

impl BoardKey {
    /// Draws a fresh key pair (spec §2.7).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = random_scalar(rng);
        BoardKey {
            public: Point::from_element(RistrettoPoint::mul_base(&secret)),
            secret,
        }
    }

    /// The secret key's canonical encoding (spec §2.3), for storing it protected.
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// A key pair from a stored secret: a canonical, non-zero scalar (spec §2.3).
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let secret = scalar_decode(bytes)?;
        if secret == Scalar::ZERO {
            return Err(DecodeError::NonCanonicalScalar);
        }
        Ok(BoardKey {
            public: Point::from_element(RistrettoPoint::mul_base(&secret)),
            secret,
        })
    }

    /// The public key: the manifest's `board_key` (spec §4.1).
    pub fn public(&self) -> &Point {
        &self.public
    }

    /// Signs the tree head of the election with this `fingerprint`: its first `size` lines have
    /// the Merkle root `root`, as of `at` (docs/record.md §4.4).
    pub fn sign_tree_head<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        fingerprint: &Fingerprint,
        size: u64,
        root: [u8; 32],
        at: Timestamp,
    ) -> SignedTreeHead {
        let prefix = tree_head_prefix(fingerprint, &self.public, size, &root, at);
        SignedTreeHead {
            size,
            root,
            at,
            signature: SchnorrProof::prove(rng, &self.secret, prefix),
        }
    }
}

/// The signature's hash prefix (docs/record.md §4.4): the tag, then every value it vouches for.
fn tree_head_prefix(
    fingerprint: &Fingerprint,
    board_key: &Point,
    size: u64,
    root: &[u8; 32],
    at: Timestamp,
) -> ItemHasher {
    let mut h = ItemHasher::new(tags::BOARD_TREE_HEAD);
    h.bytes(&fingerprint.0)
        .point(board_key)
        .u64(size)
        .bytes(root)
        .str(&at.to_string());
    h
}

/// Why a signed tree head does not verify (docs/record.md §4.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeHeadError {
    /// The board key given is the identity, under which anyone could sign.
    #[error("the board key is the identity element")]
    IdentityKey,
    /// The signature does not verify for this board key, election, size, root and time.
    #[error(
        "the tree head's signature does not verify for this board key, election fingerprint, \
         size, root and time"
    )]
    Signature,
}

/// A tree head of an election's bulletin board, signed by the server's board key
/// (docs/record.md §4.4). JSON: `{"size": u64, "root": 32 bytes, "at": timestamp,
/// "signature": {"r": point, "s": scalar}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTreeHead {
    /// The number of lines (leaves) the tree covers.
    pub size: u64,
    /// The Merkle root of those lines (docs/record.md §4.1).
    #[serde(with = "crate::group::bytes_b64")]
    pub root: [u8; 32],
    /// When the server signed it, by its clock.
    pub at: Timestamp,
    /// The Schnorr signature by the board key.
    pub signature: SchnorrProof,
}

impl SignedTreeHead {
    /// Parses a signed tree head from JSON (spec §2.6). Errors name the offending field.
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        parse_json("signed tree head", text)
    }

    /// The canonical JSON form (spec §2.6).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a signed tree head always serializes")
    }

    /// Checks the signature under `board_key` (the manifest's `board_key`) for the election with
    /// this `fingerprint` (docs/record.md §4.4). It binds the size, root and time; whether the
    /// root is that of the record's lines is for the Merkle proofs to show.
    pub fn vartime_verify(
        &self,
        board_key: &Point,
        fingerprint: &Fingerprint,
    ) -> Result<(), TreeHeadError> {
        if board_key.is_identity() {
            return Err(TreeHeadError::IdentityKey);
        }
        let prefix = tree_head_prefix(fingerprint, board_key, self.size, &self.root, self.at);
        self.signature
            .vartime_verify(board_key, prefix)
            .map_err(|_| TreeHeadError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::b64_encode;
    use crate::testkit::rng_from_seed;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn signed() -> (BoardKey, Fingerprint, SignedTreeHead) {
        let mut rng = rng_from_seed(41);
        let key = BoardKey::generate(&mut rng);
        let fp = Fingerprint([7; 32]);
        let sth = key.sign_tree_head(&mut rng, &fp, 12, [9; 32], at("2026-06-01T08:00:00Z"));
        (key, fp, sth)
    }

    #[test]
    fn sign_verify_round_trip() {
        let (key, fp, sth) = signed();
        sth.vartime_verify(key.public(), &fp).unwrap();
        assert_eq!(sth.size, 12);
        assert_eq!(sth.root, [9; 32]);
        let back = SignedTreeHead::from_json(&sth.to_json()).unwrap();
        assert_eq!(back, sth);
        back.vartime_verify(key.public(), &fp).unwrap();
    }

    #[test]
    fn canonical_json_form() {
        let (_, _, sth) = signed();
        let json = sth.to_json();
        let root = b64_encode(&[9; 32]);
        assert!(
            json.starts_with(&format!(
                r#"{{"size":12,"root":"{root}","at":"2026-06-01T08:00:00Z","signature":{{"r":""#
            )),
            "{json}"
        );
    }

    #[test]
    fn rejects_wrong_fingerprint() {
        let (key, _, sth) = signed();
        assert_eq!(
            sth.vartime_verify(key.public(), &Fingerprint([8; 32])),
            Err(TreeHeadError::Signature)
        );
    }

    #[test]
    fn rejects_wrong_size() {
        let (key, fp, mut sth) = signed();
        sth.size = 13;
        assert_eq!(
            sth.vartime_verify(key.public(), &fp),
            Err(TreeHeadError::Signature)
        );
    }

    #[test]
    fn rejects_wrong_root() {
        let (key, fp, mut sth) = signed();
        sth.root[31] ^= 1;
        assert_eq!(
            sth.vartime_verify(key.public(), &fp),
            Err(TreeHeadError::Signature)
        );
    }

    #[test]
    fn rejects_wrong_time() {
        let (key, fp, mut sth) = signed();
        sth.at = at("2026-06-01T08:00:01Z");
        assert_eq!(
            sth.vartime_verify(key.public(), &fp),
            Err(TreeHeadError::Signature)
        );
    }

    #[test]
    fn rejects_wrong_key() {
        let (_, fp, sth) = signed();
        let other = BoardKey::generate(&mut rng_from_seed(42));
        assert_eq!(
            sth.vartime_verify(other.public(), &fp),
            Err(TreeHeadError::Signature)
        );
        assert_eq!(
            sth.vartime_verify(&Point::identity(), &fp),
            Err(TreeHeadError::IdentityKey)
        );
    }

    #[test]
    fn rejects_tampered_signature() {
        let (key, fp, mut sth) = signed();
        sth.signature.s += Scalar::ONE;
        assert_eq!(
            sth.vartime_verify(key.public(), &fp),
            Err(TreeHeadError::Signature)
        );
    }

    #[test]
    fn rejects_malformed_json() {
        let (_, _, sth) = signed();
        let json = sth.to_json();
        let extra = json.replacen("{\"size\"", "{\"extra\":1,\"size\"", 1);
        assert!(SignedTreeHead::from_json(&extra).is_err());
        let short = json.replacen(&b64_encode(&[9; 32]), &b64_encode(&[9; 31]), 1);
        let e = SignedTreeHead::from_json(&short).unwrap_err();
        assert_eq!(e.path, "root");
        let negative = json.replacen("\"size\":12", "\"size\":-1", 1);
        assert!(SignedTreeHead::from_json(&negative).is_err());
        let offset = json.replacen("08:00:00Z", "08:00:00+00:00", 1);
        assert_eq!(SignedTreeHead::from_json(&offset).unwrap_err().path, "at");
        let missing = json.replacen("\"size\":12,", "", 1);
        assert!(SignedTreeHead::from_json(&missing).is_err());
    }

    /// The hash input is exactly the items of docs/record.md §4.4, in order.
    #[test]
    fn signature_hashes_the_documented_items() {
        let (key, _, sth) = signed();
        let mut h = ItemHasher::new("urne/v1/board/tree-head");
        h.bytes(&[7; 32])
            .bytes(key.public().as_bytes())
            .bytes(&12u64.to_be_bytes())
            .bytes(&[9; 32])
            .bytes(b"2026-06-01T08:00:00Z");
        sth.signature.vartime_verify(key.public(), h).unwrap();
    }

    #[test]
    fn secret_bytes_round_trip_and_debug_hides_the_secret() {
        let k = BoardKey::generate(&mut rng_from_seed(5));
        let bytes = k.to_secret_bytes();
        let back = BoardKey::from_secret_bytes(&bytes[..]).unwrap();
        assert_eq!(back.public(), k.public());
        let shown = format!("{k:?}");
        assert!(shown.contains("<redacted>"));
        assert!(shown.contains(&k.public().to_string()));
        assert!(!shown.contains(&b64_encode(&bytes[..])));
        assert!(!shown.contains(&format!("{:?}", &bytes[..])));
        assert!(!shown.contains(&format!("{:x?}", &bytes[..])));
        assert!(BoardKey::from_secret_bytes(&[0u8; 32]).is_err());
        assert!(BoardKey::from_secret_bytes(&[0xffu8; 32]).is_err());
        assert!(BoardKey::from_secret_bytes(&[1u8; 31]).is_err());
    }
}
