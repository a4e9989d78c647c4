//! Hashing: one unambiguous encoding of every hash input, and every domain tag in one place.
//!
//! Every hash in urne is SHA-512 over the concatenation of *items*. An item is a byte string
//! written as its length (8 bytes, big-endian) followed by its bytes. The first item is always a
//! domain tag naming the use and the protocol version. Integers are items of 8 bytes
//! (big-endian), points are items of their 32-byte encoding, scalars of their 32-byte canonical
//! encoding, and strings of their UTF-8 bytes. A list is an item holding its length as an integer
//! followed by its elements. Because every item carries its length, two different sequences of
//! items never hash the same input.
//!
//! A *challenge* is the 64-byte digest read as a little-endian integer and reduced mod ℓ.
//!
//! Spec: docs/spec.md §3 (hashing).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

use crate::group::Point;

/// Domain-separation tags. Each names exactly one use; the `v1` is the protocol version.
pub mod tags {
    /// The election fingerprint: hash of the manifest's canonical bytes (spec §4.3).
    pub const MANIFEST: &str = "urne/v1/manifest";
    /// Derivation of independent generators by hash-to-group (spec §3.3).
    pub const GENERATOR: &str = "urne/v1/generator";
    /// Proof that one choice ciphertext encrypts 0 or 1 (spec §6.3).
    pub const CHOICE_PROOF: &str = "urne/v1/ballot/choice-proof";
    /// Proof that a question's number of selections lies in range, or is a blank vote (spec §6.4).
    pub const COUNT_PROOF: &str = "urne/v1/ballot/count-proof";
    /// The ballot's Schnorr signature by the credential key (spec §7.3).
    pub const BALLOT_SIGNATURE: &str = "urne/v1/ballot/signature";
    /// The ballot tracker (spec §7.4).
    pub const TRACKER: &str = "urne/v1/ballot/tracker";
    /// Derivation of the credential signing key from the credential string (spec §5.2).
    pub const CREDENTIAL_KEY: &str = "urne/v1/credential/key";
    /// The checksum characters of a credential string (spec §5.1).
    pub const CREDENTIAL_CHECKSUM: &str = "urne/v1/credential/checksum";
    /// The fingerprint of a public credential list, independent of the list's order (spec §5.4).
    pub const CREDENTIAL_LIST: &str = "urne/v1/credential/list";
    /// A trustee's proof of knowledge of its secret key (spec §8.1).
    pub const TRUSTEE_KEY_PROOF: &str = "urne/v1/trustee/key-proof";
    /// A decryption factor's Chaum–Pedersen proof (spec §8.3).
    pub const DECRYPTION_PROOF: &str = "urne/v1/trustee/decryption-proof";
    /// A dealer's proof of knowledge of its polynomial's constant term in key generation
    /// (crate::dkg; to be specified with the threshold key-sharing mode).
    pub const DKG_COEFFICIENT_PROOF: &str = "urne/v1/dkg/coefficient-proof";
    /// The key that encrypts one share to its recipient in key generation (crate::dkg_transport).
    pub const DKG_SHARE_KEY: &str = "urne/v1/dkg/share-key";
    /// The proof of a recipient's complaint about a share (crate::dkg_transport).
    pub const DKG_COMPLAINT_PROOF: &str = "urne/v1/dkg/complaint-proof";
    /// A dealer's signature on its dealing (crate::ceremony).
    pub const DKG_DEALING: &str = "urne/v1/dkg/dealing";
    /// An accuser's signature on its complaint (crate::ceremony).
    pub const DKG_COMPLAINT: &str = "urne/v1/dkg/complaint";
    /// A dealer's signature on its answer to a complaint (crate::ceremony).
    pub const DKG_ANSWER: &str = "urne/v1/dkg/answer";
    /// A leaf of the bulletin board's Merkle tree: one line of the record (docs/record.md).
    pub const LOG_LEAF: &str = "urne/v1/log/leaf";
    /// An inner node of the bulletin board's Merkle tree (docs/record.md).
    pub const LOG_NODE: &str = "urne/v1/log/node";
    /// The server's signature on a tree head of an election's board (docs/record.md §4.4).
    pub const BOARD_TREE_HEAD: &str = "urne/v1/board/tree-head";
}

/// An incremental hash over a sequence of items, started with a domain tag.
#[derive(Clone)]
pub struct ItemHasher {
    sha: Sha512,
}

impl std::fmt::Debug for ItemHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ItemHasher")
    }
}

impl ItemHasher {
    /// Starts a hash whose first item is `tag`.
    pub fn new(tag: &str) -> Self {
        let mut h = ItemHasher { sha: Sha512::new() };
        h.bytes(tag.as_bytes());
        h
    }

    /// Appends one item of raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.sha.update((b.len() as u64).to_be_bytes());
        self.sha.update(b);
        self
    }

    /// Appends an integer item (8 bytes, big-endian).
    pub fn u64(&mut self, n: u64) -> &mut Self {
        self.bytes(&n.to_be_bytes())
    }

    /// Appends a string item (its UTF-8 bytes).
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Appends a point item (its canonical encoding).
    pub fn point(&mut self, p: &Point) -> &mut Self {
        self.bytes(p.as_bytes())
    }

    /// Appends a scalar item (its canonical encoding).
    pub fn scalar(&mut self, s: &Scalar) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Appends a list-length item, to be followed by that many elements.
    pub fn len(&mut self, n: usize) -> &mut Self {
        self.u64(n as u64)
    }

    /// The 64-byte digest.
    pub fn digest(self) -> [u8; 64] {
        self.sha.finalize().into()
    }

    /// The digest reduced mod ℓ: a Fiat–Shamir challenge or a derived scalar.
    pub fn challenge(self) -> Scalar {
        Scalar::from_bytes_mod_order_wide(&self.digest())
    }
}

/// The `index`-th independent generator for `purpose` (spec §3.3): the RFC 9496 one-way map
/// applied to H(GENERATOR, purpose, index). Nobody knows its discrete log to base G.
pub fn generator(purpose: &str, index: u64) -> RistrettoPoint {
    let mut h = ItemHasher::new(tags::GENERATOR);
    h.str(purpose).u64(index);
    RistrettoPoint::from_uniform_bytes(&h.digest())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_length_prefixed() {
        // ("ab","c") and ("a","bc") must not collide.
        let mut a = ItemHasher::new("t");
        a.str("ab").str("c");
        let mut b = ItemHasher::new("t");
        b.str("a").str("bc");
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn encoding_is_as_specified() {
        let mut h = ItemHasher::new("t");
        h.u64(5);
        let mut raw = Sha512::new();
        raw.update([0, 0, 0, 0, 0, 0, 0, 1, b't']);
        raw.update([0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5]);
        let expected: [u8; 64] = raw.finalize().into();
        assert_eq!(h.digest(), expected);
    }

    #[test]
    fn generators_differ() {
        assert_ne!(generator("x", 0), generator("x", 1));
        assert_ne!(generator("x", 0), generator("y", 0));
    }
}
