//! A validated election, ready to create and check ballots: the manifest, its fingerprint and
//! the election key prepared for fast multiplication.

use crate::elgamal::ElectionKey;
use crate::error::ParseError;
use crate::manifest::{Fingerprint, Manifest};

/// A validated manifest with its fingerprint and prepared election key.
#[derive(Debug, Clone)]
pub struct Election {
    manifest: Manifest,
    fingerprint: Fingerprint,
    key: ElectionKey,
}

impl Election {
    /// Validates `manifest` (spec §4.2) and prepares it. Trustee key proofs (V-3) are checked by
    /// [`Manifest::vartime_verify_trustee_keys`].
    pub fn new(manifest: Manifest) -> Result<Self, ParseError> {
        manifest.validate()?;
        let key = ElectionKey::new(manifest.public_key)
            .map_err(|e| ParseError::new("manifest", "public_key", e.to_string()))?;
        Ok(Election {
            fingerprint: manifest.fingerprint(),
            manifest,
            key,
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

    /// The election key.
    pub fn key(&self) -> &ElectionKey {
        &self.key
    }
}
