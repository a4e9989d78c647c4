//! A validated election, ready to create and check ballots: the manifest, its fingerprint and
//! the election key prepared for fast multiplication.

use crate::elgamal::ElectionKey;
use crate::error::ParseError;
use crate::group::Point;
use crate::manifest::{Fingerprint, KeySharing, Manifest};

/// A validated manifest with its fingerprint and prepared election key.
#[derive(Debug, Clone)]
pub struct Election {
    manifest: Manifest,
    fingerprint: Fingerprint,
    key: ElectionKey,
    verification_keys: Option<Vec<Point>>,
}

impl Election {
    /// Validates `manifest` (spec §4.2) and prepares it. Trustee key proofs (V-3) are checked by
    /// [`Manifest::vartime_verify_trustee_keys`].
    pub fn new(manifest: Manifest) -> Result<Self, ParseError> {
        manifest.validate()?;
        let key = ElectionKey::new(manifest.public_key)
            .map_err(|e| ParseError::new("manifest", "public_key", e.to_string()))?;
        // Independent trustees verify decryption factors with their own keys; under threshold
        // sharing the keys come from the ceremony (`set_verification_keys`).
        let verification_keys = (manifest.key_sharing == KeySharing::Independent)
            .then(|| manifest.trustees.iter().map(|t| t.public_key).collect());
        Ok(Election {
            fingerprint: manifest.fingerprint(),
            manifest,
            key,
            verification_keys,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The fingerprint.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Trustee `index`'s verification key (from 1), once known.
    pub fn verification_key(&self, index: u32) -> Option<&Point> {
        self.verification_keys
            .as_ref()?
            .get((index as usize).checked_sub(1)?)
    }

    /// Sets the verification keys found by judging the key-generation ceremony (§8.5), after
    /// checking that the ceremony's election key is the manifest's.
    pub fn set_verification_keys(
        &mut self,
        keys: &crate::dkg::ThresholdKeys,
    ) -> Result<(), crate::error::VerifyError> {
        use crate::error::{Check, VerifyError};
        if keys.election_key != self.manifest.public_key {
            return Err(VerifyError::new(
                Check::V3,
                "public_key",
                "is not the key of the key-generation ceremony",
            ));
        }
        if keys.threshold != self.manifest.threshold
            || keys.verification_keys.len() != self.manifest.trustees.len()
        {
            let detail = "the ceremony was for another threshold or number of trustees";
            return Err(VerifyError::new(Check::V3, "threshold", detail));
        }
        self.verification_keys = Some(keys.verification_keys.clone());
        Ok(())
    }

    /// The election key.
    pub fn key(&self) -> &ElectionKey {
        &self.key
    }
}
