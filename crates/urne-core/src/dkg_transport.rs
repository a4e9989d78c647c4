//! Shares in transit during key generation, and the complaints that settle a bad one.
//!
//! A dealer sends trustee j its share through the (untrusted) server, encrypted to j's identity
//! key X_j = x_j·G by a KEM–DEM construction: the dealer draws e, publishes E = e·G, and both sides
//! derive the same point K = e·X_j = x_j·E; the key of ChaCha20-Poly1305 (RFC 8439) is the first 32
//! bytes of H(DKG_SHARE_KEY, election id, dealer, recipient, X_j, E, K), used for this one
//! message with the all-zero nonce. Only j can read the share; everyone sees that it was sent.
//!
//! If the share j decrypts does not match the dealer's Feldman commitments (or does not decrypt),
//! j publishes a **complaint**: the point K with a proof that log_G X_j = log_E K
//! ([`DleqProof`]). Anyone can then derive the key, decrypt the share and judge: if the share is
//! in fact valid, the complaint is unjustified; otherwise the dealer must **answer** by publishing
//! the share in the clear, which everyone checks against the commitments, or be disqualified.
//! Revealing K reveals only that one share, which the dealer's answer makes public anyway.
//!
//! Spec: docs/spec.md §8.5.3 (share transport) and §8.5.4 (complaints and answers).

#![allow(non_snake_case)] // E, K, X are points.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::dkg::{FeldmanCommitment, Share};
use crate::group::{Point, bytes_b64, random_scalar, scalar_decode};
use crate::hash::{ItemHasher, tags};
use crate::proofs::ProofError;
use crate::proofs::dleq::DleqProof;
use crate::trustee::TrusteeKey;

/// Which message a share belongs to: bound into its key and into any complaint about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareContext<'a> {
    /// The election id.
    pub election_id: &'a str,
    /// The dealer's trustee index.
    pub dealer: u32,
    /// The recipient's trustee index.
    pub recipient: u32,
}

/// A share encrypted to its recipient: the KEM's E and the AEAD ciphertext (32 + 16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedShare {
    /// E = e·G.
    pub ephemeral: Point,
    /// ChaCha20-Poly1305 of the share's 32-byte encoding, tag appended.
    #[serde(with = "bytes_b64")]
    pub ciphertext: [u8; 48],
}

/// A recipient's complaint: the shared point of the share's KEM, and a proof that it is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaint {
    /// K = x_j·E.
    pub shared: Point,
    /// Proof that log_G X_j = log_E K.
    pub proof: DleqProof,
}

/// What everyone concludes from a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The share decrypts and matches the commitments: the recipient accused wrongly.
    Unjustified,
    /// The share does not decrypt or does not match: the dealer must answer with an opening.
    Justified,
}

/// Why a share could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// The AEAD tag does not verify: wrong recipient, or tampered in transit.
    #[error("the share from trustee {dealer} does not decrypt")]
    Decrypt {
        /// The dealer.
        dealer: u32,
    },
    /// It decrypts, but not to a canonical scalar.
    #[error("the share from trustee {dealer} is not a canonical scalar")]
    Encoding {
        /// The dealer.
        dealer: u32,
    },
    /// It decrypts, but does not match the dealer's commitments.
    #[error("the share from trustee {dealer} does not match its commitments")]
    Commitment {
        /// The dealer.
        dealer: u32,
    },
}

fn share_key(
    ctx: &ShareContext<'_>,
    recipient_key: &Point,
    ephemeral: &Point,
    shared: &Point,
) -> Zeroizing<[u8; 32]> {
    let mut h = ItemHasher::new(tags::DKG_SHARE_KEY);
    h.str(ctx.election_id)
        .u64(ctx.dealer.into())
        .u64(ctx.recipient.into());
    h.point(recipient_key).point(ephemeral).point(shared);
    let mut d = h.digest();
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&d[..32]);
    d.zeroize();
    key
}

fn complaint_prefix(
    ctx: &ShareContext<'_>,
    recipient_key: &Point,
    e: &EncryptedShare,
    shared: &Point,
) -> ItemHasher {
    let mut h = ItemHasher::new(tags::DKG_COMPLAINT_PROOF);
    h.str(ctx.election_id)
        .u64(ctx.dealer.into())
        .u64(ctx.recipient.into());
    h.point(recipient_key)
        .point(&e.ephemeral)
        .bytes(&e.ciphertext)
        .point(shared);
    h
}

fn open(ctx: &ShareContext<'_>, key: &[u8; 32], e: &EncryptedShare) -> Result<Share, ShareError> {
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let plain = Zeroizing::new(
        cipher
            .decrypt(&Nonce::default(), e.ciphertext.as_slice())
            .map_err(|_| ShareError::Decrypt { dealer: ctx.dealer })?,
    );
    let value = scalar_decode(&plain).map_err(|_| ShareError::Encoding { dealer: ctx.dealer })?;
    Ok(Share::from_parts(ctx.recipient, value))
}

impl EncryptedShare {
    /// Encrypts `share` (for trustee `ctx.recipient`) to the recipient's identity key.
    pub fn seal<R: CryptoRng + ?Sized>(
        rng: &mut R,
        share: &Share,
        recipient_key: &Point,
        ctx: &ShareContext<'_>,
    ) -> Self {
        let mut e = random_scalar(rng);
        let ephemeral = Point::from_element(RistrettoPoint::mul_base(&e));
        let shared = Point::from_element(recipient_key.element() * e);
        e.zeroize();
        let key = share_key(ctx, recipient_key, &ephemeral, &shared);
        let cipher = ChaCha20Poly1305::new(&Key::from(*key));
        let sealed = cipher
            .encrypt(&Nonce::default(), share.secret().as_bytes().as_slice())
            .expect("32 bytes always encrypt");
        let mut ciphertext = [0u8; 48];
        ciphertext.copy_from_slice(&sealed);
        EncryptedShare {
            ephemeral,
            ciphertext,
        }
    }

    /// The recipient decrypts its share and checks it against the dealer's commitments.
    pub fn open(
        &self,
        identity: &TrusteeKey,
        ctx: &ShareContext<'_>,
        commitment: &FeldmanCommitment,
    ) -> Result<Share, ShareError> {
        let shared = Point::from_element(self.ephemeral.element() * identity.secret());
        let key = share_key(ctx, identity.public(), &self.ephemeral, &shared);
        let share = open(ctx, &key, self)?;
        if !commitment.vartime_verify_share(&share) {
            return Err(ShareError::Commitment { dealer: ctx.dealer });
        }
        Ok(share)
    }

    /// The recipient's complaint about this share, revealing its KEM point with a proof.
    pub fn complain<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        identity: &TrusteeKey,
        ctx: &ShareContext<'_>,
    ) -> Complaint {
        let shared = Point::from_element(self.ephemeral.element() * identity.secret());
        let prefix = complaint_prefix(ctx, identity.public(), self, &shared);
        Complaint {
            shared,
            proof: DleqProof::prove(rng, identity.secret(), &self.ephemeral, prefix),
        }
    }
}

impl Complaint {
    /// Anyone's judgement of a complaint about `encrypted`, sent by dealer `ctx.dealer` to the
    /// trustee whose identity key is `recipient_key`. A complaint whose proof fails is itself
    /// invalid (an error).
    pub fn vartime_judge(
        &self,
        ctx: &ShareContext<'_>,
        recipient_key: &Point,
        encrypted: &EncryptedShare,
        commitment: &FeldmanCommitment,
    ) -> Result<Verdict, ProofError> {
        let prefix = complaint_prefix(ctx, recipient_key, encrypted, &self.shared);
        self.proof
            .vartime_verify(recipient_key, &encrypted.ephemeral, &self.shared, prefix)?;
        let key = share_key(ctx, recipient_key, &encrypted.ephemeral, &self.shared);
        Ok(match open(ctx, &key, encrypted) {
            Ok(share) if commitment.vartime_verify_share(&share) => Verdict::Unjustified,
            _ => Verdict::Justified,
        })
    }
}

/// A dealer's answer to a justified complaint: the share in the clear. It keeps the dealer
/// qualified exactly when it matches the commitments at the complainer's index.
pub fn vartime_check_answer(
    commitment: &FeldmanCommitment,
    recipient: u32,
    value: &Scalar,
) -> bool {
    commitment.vartime_verify_share(&Share::from_parts(recipient, *value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkg::Polynomial;
    use crate::testkit::rng_from_seed;

    fn ctx() -> ShareContext<'static> {
        ShareContext {
            election_id: "dkg",
            dealer: 1,
            recipient: 2,
        }
    }

    #[test]
    fn only_the_recipient_reads_its_share() {
        let mut rng = rng_from_seed(21);
        let (alice, bob) = (
            TrusteeKey::generate(&mut rng),
            TrusteeKey::generate(&mut rng),
        );
        let poly = Polynomial::random(&mut rng, 2);
        let c = poly.commit();
        let sealed = EncryptedShare::seal(&mut rng, &poly.share(2), bob.public(), &ctx());
        let share = sealed.open(&bob, &ctx(), &c).unwrap();
        assert_eq!(share.index(), 2);
        assert_eq!(
            sealed.open(&alice, &ctx(), &c).unwrap_err(),
            ShareError::Decrypt { dealer: 1 }
        );
        // Bound to its context: the same bytes presented as another dealer's do not open.
        let other = ShareContext { dealer: 3, ..ctx() };
        assert_eq!(
            sealed.open(&bob, &other, &c).unwrap_err(),
            ShareError::Decrypt { dealer: 3 }
        );
    }

    #[test]
    fn a_bad_share_leads_to_a_justified_complaint_and_an_answer_settles_it() {
        let mut rng = rng_from_seed(22);
        let bob = TrusteeKey::generate(&mut rng);
        let poly = Polynomial::random(&mut rng, 2);
        let c = poly.commit();
        // The dealer sends the share of index 3 to trustee 2.
        let sealed = EncryptedShare::seal(&mut rng, &poly.share(3), bob.public(), &ctx());
        assert_eq!(
            sealed.open(&bob, &ctx(), &c).unwrap_err(),
            ShareError::Commitment { dealer: 1 }
        );
        let complaint = sealed.complain(&mut rng, &bob, &ctx());
        assert_eq!(
            complaint
                .vartime_judge(&ctx(), bob.public(), &sealed, &c)
                .unwrap(),
            Verdict::Justified
        );
        // The dealer answers with the right share: it stays qualified; a wrong answer does not.
        assert!(vartime_check_answer(&c, 2, poly.share(2).secret()));
        assert!(!vartime_check_answer(&c, 2, poly.share(3).secret()));
    }

    #[test]
    fn a_false_or_forged_complaint_is_caught() {
        let mut rng = rng_from_seed(23);
        let bob = TrusteeKey::generate(&mut rng);
        let poly = Polynomial::random(&mut rng, 2);
        let c = poly.commit();
        let sealed = EncryptedShare::seal(&mut rng, &poly.share(2), bob.public(), &ctx());
        let complaint = sealed.complain(&mut rng, &bob, &ctx());
        assert_eq!(
            complaint
                .vartime_judge(&ctx(), bob.public(), &sealed, &c)
                .unwrap(),
            Verdict::Unjustified
        );
        // A complaint with a made-up shared point fails its proof.
        let mut forged = complaint;
        forged.shared = Point::from_element(forged.shared.element() + crate::group::G);
        assert_eq!(
            forged
                .vartime_judge(&ctx(), bob.public(), &sealed, &c)
                .unwrap_err(),
            ProofError::Equation
        );
    }
}
