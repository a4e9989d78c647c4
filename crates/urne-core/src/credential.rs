//! Voter credentials (spec §5).
//!
//! A credential is a secret string given to one voter: 26 random characters of a 32-letter
//! alphabet (130 bits) and 4 checksum characters, shown as six groups of five, such as
//! `7QK2M-XR4TB-9HZC0-PWD3F-GY6NA-KE81S`. The alphabet (Crockford's base 32) leaves out I, L, O
//! and U, and reading is forgiving: lower case is accepted, O reads as 0 and I, L as 1, dashes
//! and spaces are ignored. The checksum catches typing mistakes before anything is signed.
//!
//! The signing key is x = H(CREDENTIAL_KEY, election id, the 26 characters) mod ℓ and the public
//! credential is X = x·G. The server only ever sees X; whoever holds the string can sign ballots.

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::group::Point;
use crate::hash::{ItemHasher, tags};

/// The 32 characters of a credential, by value 0..31.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random characters in a credential.
pub const DATA_CHARS: usize = 26;
/// Checksum characters in a credential.
pub const CHECKSUM_CHARS: usize = 4;

/// Why a credential string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// A character outside the alphabet (position counted without dashes and spaces).
    #[error("character {position} is not a credential character")]
    Character {
        /// Position, from 1, among the credential's characters.
        position: usize,
    },
    /// Too few or too many characters.
    #[error("a credential has {expected} characters, found {found}")]
    Length {
        /// The required count.
        expected: usize,
        /// The count found.
        found: usize,
    },
    /// The checksum does not match: the credential was mistyped.
    #[error("the credential's checksum does not match: it was probably mistyped")]
    Checksum,
}

/// A secret credential string in canonical form (30 alphabet characters, no dashes).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Credential([u8; DATA_CHARS + CHECKSUM_CHARS]);

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<secret>)")
    }
}

fn checksum(data: &[u8]) -> [u8; CHECKSUM_CHARS] {
    let mut h = ItemHasher::new(tags::CREDENTIAL_CHECKSUM);
    h.bytes(data);
    let d = h.digest();
    // The first 20 bits of the digest, as four 5-bit characters.
    let bits = (u32::from(d[0]) << 12) | (u32::from(d[1]) << 4) | (u32::from(d[2]) >> 4);
    let mut out = [0u8; CHECKSUM_CHARS];
    for (i, c) in out.iter_mut().enumerate() {
        *c = ALPHABET[((bits >> (15 - 5 * i)) & 31) as usize];
    }
    out
}

fn char_value(c: u8) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        c => c,
    };
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u8)
}

impl Credential {
    /// Draws a fresh credential: 26 uniform characters (5 random bits each) and the checksum.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut random = Zeroizing::new([0u8; DATA_CHARS]);
        rng.fill_bytes(&mut random[..]);
        let mut s = [0u8; DATA_CHARS + CHECKSUM_CHARS];
        for (c, r) in s.iter_mut().zip(random.iter()) {
            *c = ALPHABET[(r & 31) as usize];
        }
        let sum = checksum(&s[..DATA_CHARS]);
        s[DATA_CHARS..].copy_from_slice(&sum);
        Credential(s)
    }

    /// Reads a credential as a voter may type it.
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let mut s = Zeroizing::new([0u8; DATA_CHARS + CHECKSUM_CHARS]);
        let mut n = 0;
        for ch in text.chars() {
            if ch == '-' || ch == ' ' {
                continue;
            }
            let v = u8::try_from(ch)
                .ok()
                .and_then(char_value)
                .ok_or(CredentialError::Character { position: n + 1 })?;
            if n < s.len() {
                s[n] = ALPHABET[v as usize];
            }
            n += 1;
        }
        if n != s.len() {
            return Err(CredentialError::Length {
                expected: s.len(),
                found: n,
            });
        }
        if checksum(&s[..DATA_CHARS]) != s[DATA_CHARS..] {
            return Err(CredentialError::Checksum);
        }
        Ok(Credential(*s))
    }

    /// The credential as shown to voters: six groups of five characters.
    pub fn display(&self) -> Zeroizing<String> {
        let mut out = String::with_capacity(35);
        for (i, chunk) in self.0.chunks(5).enumerate() {
            if i > 0 {
                out.push('-');
            }
            out.extend(chunk.iter().map(|&c| c as char));
        }
        Zeroizing::new(out)
    }

    /// Derives the signing key of this credential for election `election_id`.
    pub fn derive_key(&self, election_id: &str) -> CredentialKey {
        let mut h = ItemHasher::new(tags::CREDENTIAL_KEY);
        h.str(election_id).bytes(&self.0[..DATA_CHARS]);
        CredentialKey::from_secret(h.challenge())
    }
}

/// A credential's signing key x and public credential X = x·G.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CredentialKey {
    secret: Scalar,
    #[zeroize(skip)]
    public: Point,
}

impl fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CredentialKey {{ public: {}, secret: <redacted> }}",
            self.public
        )
    }
}

impl CredentialKey {
    fn from_secret(secret: Scalar) -> Self {
        CredentialKey {
            public: Point::from_element(RistrettoPoint::mul_base(&secret)),
            secret,
        }
    }

    /// The public credential X.
    pub fn public(&self) -> &Point {
        &self.public
    }

    pub(crate) fn secret(&self) -> &Scalar {
        &self.secret
    }
}

/// Largest total weight of a credential list (2^40): it bounds every count, and so the discrete
/// logarithms of decryption (spec §5.4, §8.4).
pub const MAX_TOTAL_WEIGHT: u64 = 1 << 40;

/// The public credential list as a verifier or server holds it: each credential's index and
/// weight, checked entry by entry (V-4) as the list is read.
#[derive(Debug, Clone)]
pub struct CredentialIndex {
    policy: crate::manifest::WeightPolicy,
    index: std::collections::HashMap<[u8; 32], u32>,
    weights: Vec<u64>,
    total: u64,
}

impl CredentialIndex {
    /// An empty list under a weights policy.
    pub fn new(policy: crate::manifest::WeightPolicy) -> Self {
        CredentialIndex {
            policy,
            index: Default::default(),
            weights: Vec::new(),
            total: 0,
        }
    }

    /// V-4 for one more entry: a non-identity point not seen before, weight 1 under equal weights
    /// and at least 1 under weighted ones, and a total of at most [`MAX_TOTAL_WEIGHT`]. Nothing
    /// is added when the entry is refused. `item` names the entry in errors.
    pub fn push(
        &mut self,
        c: &PublicCredential,
        item: impl Fn() -> String,
    ) -> Result<u32, crate::error::VerifyError> {
        use crate::error::{Check, VerifyError};
        use crate::manifest::WeightPolicy;
        let fail = |detail: String| Err(VerifyError::new(Check::V4, item(), detail));
        if c.credential.is_identity() {
            return fail("the credential is the identity".into());
        }
        if self.index.contains_key(c.credential.as_bytes()) {
            return fail("the credential appears twice".into());
        }
        match self.policy {
            WeightPolicy::Equal if c.weight != 1 => {
                return fail("weights must be 1 under equal weights".into());
            }
            WeightPolicy::Weighted if c.weight == 0 => {
                return fail("a weight must be at least 1".into());
            }
            _ => {}
        }
        let total = self.total.saturating_add(c.weight);
        if total > MAX_TOTAL_WEIGHT {
            return fail(format!("the total weight exceeds {MAX_TOTAL_WEIGHT}"));
        }
        let Ok(i) = u32::try_from(self.weights.len()) else {
            return fail("more than 2^32 credentials".into());
        };
        self.index.insert(*c.credential.as_bytes(), i);
        self.weights.push(c.weight);
        self.total = total;
        Ok(i)
    }

    /// The index and weight of a credential, if it is in the list (V-7).
    pub fn get(&self, credential: &Point) -> Option<(u32, u64)> {
        self.index
            .get(credential.as_bytes())
            .map(|&i| (i, self.weights[i as usize]))
    }

    /// Number of credentials.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Total weight of the list.
    pub fn total_weight(&self) -> u64 {
        self.total
    }
}

/// V-4 over a whole list: see [`CredentialIndex::push`]. Returns the total weight.
pub fn check_credential_list(
    list: &[PublicCredential],
    policy: crate::manifest::WeightPolicy,
) -> Result<u64, crate::error::VerifyError> {
    let mut index = CredentialIndex::new(policy);
    for (i, c) in list.iter().enumerate() {
        index.push(c, || format!("credentials[{i}]"))?;
    }
    Ok(index.total_weight())
}

/// One entry of the public credential list: a public credential and its weight (spec §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicCredential {
    /// The public credential X.
    pub credential: Point,
    /// The number of votes this credential carries (1 under the equal-weights policy).
    pub weight: u64,
}

/// The fingerprint of a public credential list (spec §5.4): the first 32 bytes of
/// H(CREDENTIAL_LIST; n, then X and weight of each entry in ascending order of X's encoding).
///
/// The order makes the fingerprint independent of the order of `list`, so the credential
/// authority and an observer of the board get the same string for the same set of entries. It is
/// shown like the election fingerprint. The list is not checked (V-4 is
/// [`check_credential_list`]); entries with the same X, which V-4 refuses, are taken in order of
/// weight.
pub fn list_fingerprint(list: &[PublicCredential]) -> crate::manifest::Fingerprint {
    let mut sorted: Vec<&PublicCredential> = list.iter().collect();
    sorted.sort_unstable_by(|a, b| {
        a.credential
            .as_bytes()
            .cmp(b.credential.as_bytes())
            .then(a.weight.cmp(&b.weight))
    });
    let mut h = ItemHasher::new(tags::CREDENTIAL_LIST);
    h.len(sorted.len());
    for c in sorted {
        h.point(&c.credential).u64(c.weight);
    }
    let d = h.digest();
    let mut f = [0u8; 32];
    f.copy_from_slice(&d[..32]);
    crate::manifest::Fingerprint(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some_list(n: usize) -> Vec<PublicCredential> {
        let mut rng = rand::rng();
        (0..n)
            .map(|i| PublicCredential {
                credential: *Credential::generate(&mut rng).derive_key("e").public(),
                weight: i as u64 + 1,
            })
            .collect()
    }

    #[test]
    fn list_fingerprint_does_not_depend_on_order() {
        let list = some_list(20);
        let mut shuffled = list.clone();
        shuffled.reverse();
        shuffled.swap(3, 11);
        assert_ne!(list, shuffled);
        assert_eq!(list_fingerprint(&list), list_fingerprint(&shuffled));
    }

    #[test]
    fn list_fingerprint_is_as_specified() {
        let list = some_list(5);
        let mut sorted = list.clone();
        sorted.sort_by_key(|c| *c.credential.as_bytes());
        let mut raw = ItemHasher::new("urne/v1/credential/list");
        raw.u64(5);
        for c in &sorted {
            raw.bytes(c.credential.as_bytes()).u64(c.weight);
        }
        assert_eq!(list_fingerprint(&list).0[..], raw.digest()[..32]);
    }

    #[test]
    fn list_fingerprint_changes_with_weight_entry_and_count() {
        let list = some_list(4);
        let before = list_fingerprint(&list);
        let mut heavier = list.clone();
        heavier[2].weight += 1;
        assert_ne!(list_fingerprint(&heavier), before);
        let mut other = list.clone();
        other[0] = some_list(1)[0];
        other[0].weight = list[0].weight;
        assert_ne!(list_fingerprint(&other), before);
        assert_ne!(list_fingerprint(&list[..3]), before);
        assert_ne!(list_fingerprint(&[]), before);
    }

    #[test]
    fn display_parse_round_trip_and_forgiving_reading() {
        let mut rng = rand::rng();
        let c = Credential::generate(&mut rng);
        let shown = c.display();
        assert_eq!(shown.len(), 35);
        assert_eq!(Credential::parse(&shown).unwrap(), c);
        let sloppy = shown
            .to_lowercase()
            .replace('-', " ")
            .replace('0', "o")
            .replace('1', "l");
        assert_eq!(Credential::parse(&sloppy).unwrap(), c);
    }

    #[test]
    fn rejects_credential_with_typo() {
        let mut rng = rand::rng();
        let c = Credential::generate(&mut rng);
        let mut s = c.display().to_string();
        let first = s.remove(0);
        s.insert(0, if first == '2' { '3' } else { '2' });
        assert_eq!(Credential::parse(&s), Err(CredentialError::Checksum));
    }

    #[test]
    fn rejects_credential_bad_character_and_length() {
        assert_eq!(
            Credential::parse("U"),
            Err(CredentialError::Character { position: 1 })
        );
        assert_eq!(
            Credential::parse("AB-C"),
            Err(CredentialError::Length {
                expected: 30,
                found: 3
            })
        );
    }

    #[test]
    fn key_depends_on_election() {
        let mut rng = rand::rng();
        let c = Credential::generate(&mut rng);
        assert_ne!(c.derive_key("a").public(), c.derive_key("b").public());
        assert_eq!(c.derive_key("a").public(), c.derive_key("a").public());
    }
}
