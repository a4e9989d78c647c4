//! Errors. Decoding ("this is not a well-formed object") is kept apart from verification
//! ("this is well formed, but a check fails"), and each verification failure names the check of
//! the spec's V-list that failed and the item it failed on. No error ever carries secret material.

use std::fmt;

/// Bytes or text that are not a canonical encoding of the expected object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not strict base64url without padding.
    #[error("not canonical base64url without padding")]
    Base64,
    /// A byte string has the wrong length.
    #[error("expected {expected} bytes, found {found}")]
    Length {
        /// The length the format requires.
        expected: usize,
        /// The length that was given.
        found: usize,
    },
    /// 32 bytes that are not the canonical encoding of a ristretto255 element.
    #[error("not a canonical ristretto255 point encoding")]
    InvalidPoint,
    /// The identity element where the protocol forbids it (keys, credentials).
    #[error("the identity element is not allowed here")]
    IdentityPoint,
    /// 32 bytes that are not a scalar reduced mod ℓ.
    #[error("not a canonical scalar (must be little-endian and below the group order)")]
    NonCanonicalScalar,
}

/// A JSON document that does not parse into the expected object: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: at `{path}`: {message}")]
pub struct ParseError {
    /// What was being parsed ("ballot", "manifest", ...).
    pub what: &'static str,
    /// The JSON path of the offending field, such as `answers[0].choices[2].alpha`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(
        what: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ParseError {
            what,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Parses JSON into `T`, reporting the path of the first offending field.
pub(crate) fn parse_json<'a, T: serde::Deserialize<'a>>(
    what: &'static str,
    text: &'a str,
) -> Result<T, ParseError> {
    // The fast path parses without tracking paths; only a document that fails is parsed again
    // to find where. serde_json refuses trailing characters after the document.
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        ParseError::new(what, path, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| ParseError::new(what, ".", e.to_string()))?;
    Ok(value)
}

/// A check of the spec's V-list (docs/spec.md §10). Verifiers report failures by these ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// V-1: the record's format version is one this verifier knows.
    V1,
    /// V-2: the manifest is well formed and its fingerprint is recomputed.
    V2,
    /// V-3: each trustee's key proof is valid and the election key is their sum (independent
    /// keys) or the key of their judged ceremony (threshold sharing).
    V3,
    /// V-4: the public credential list is well formed: valid distinct credentials, valid weights.
    V4,
    /// V-5: the ballot is well formed for the manifest.
    V5,
    /// V-6: the ballot names this election's fingerprint.
    V6,
    /// V-7: the ballot's credential is in the public credential list.
    V7,
    /// V-8: the ballot's signature is valid.
    V8,
    /// V-9: each choice proof (the choice is 0 or 1) is valid.
    V9,
    /// V-10: each question's count proof (selections in range, or blank) is valid.
    V10,
    /// V-11: the ballot's tracker is the hash of the ballot.
    V11,
    /// V-12: the ballot was cast while the election was open.
    V12,
    /// V-13: the counted ballots follow the revote policy.
    V13,
    /// V-14: the encrypted tally is the weighted sum of the counted ballots.
    V14,
    /// V-15: each decryption factor's proof is valid for its trustee's verification key.
    V15,
    /// V-16: the decryption factors come from a set of trustees that can decrypt: all of them
    /// with independent keys, at least the threshold with threshold sharing.
    V16,
    /// V-17: the published result is the decryption of the encrypted tally.
    V17,
    /// V-18: the bulletin board log is consistent and contains every published item.
    V18,
    /// V-19: each shuffle of the mix phase is complete and its proof valid on its input (the mix
    /// input for the first, the previous shuffle's output for the others).
    V19,
    /// V-20: each shuffle is signed by its trustee; at least `threshold` distinct trustees
    /// shuffled.
    V20,
    /// V-21: each decryption factor of the mixed ballots is proved, from a set of trustees that
    /// can decrypt.
    V21,
    /// V-22: each published decrypted ballot is the combination of the factors.
    V22,
    /// V-23: each mixed question's result is the count of the decrypted ballots.
    V23,
}

impl Check {
    /// Every check, in the spec's order.
    pub const ALL: [Check; 23] = [
        Check::V1,
        Check::V2,
        Check::V3,
        Check::V4,
        Check::V5,
        Check::V6,
        Check::V7,
        Check::V8,
        Check::V9,
        Check::V10,
        Check::V11,
        Check::V12,
        Check::V13,
        Check::V14,
        Check::V15,
        Check::V16,
        Check::V17,
        Check::V18,
        Check::V19,
        Check::V20,
        Check::V21,
        Check::V22,
        Check::V23,
    ];

    /// What the check verifies, in a few words (docs/spec.md §10 says it in full).
    pub fn description(self) -> &'static str {
        match self {
            Check::V1 => "record format version known",
            Check::V2 => "manifest well formed, fingerprint recomputed",
            Check::V3 => "trustee keys proved, election key from them or their ceremony",
            Check::V4 => "public credential list well formed",
            Check::V5 => "ballots well formed for the manifest",
            Check::V6 => "ballots bound to this election's fingerprint",
            Check::V7 => "ballot credentials in the public list",
            Check::V8 => "ballot signatures",
            Check::V9 => "choice proofs (each choice 0 or 1)",
            Check::V10 => "count proofs (selections in range, or blank)",
            Check::V11 => "ballot trackers recomputed",
            Check::V12 => "ballots cast while the election was open",
            Check::V13 => "revote policy, no repeated tracker",
            Check::V14 => "encrypted tally is the sum of the counted ballots",
            Check::V15 => "decryption factors and their proofs",
            Check::V16 => "enough distinct trustees' factors",
            Check::V17 => "result is the decryption of the tally",
            Check::V18 => "log order, sequence and Merkle tree head",
            Check::V19 => "shuffles of the mixed ballots and their proofs",
            Check::V20 => "shuffles signed by enough distinct trustees",
            Check::V21 => "decryption factors of the mixed ballots",
            Check::V22 => "decrypted mixed ballots",
            Check::V23 => "mixed questions' results recounted",
        }
    }

    /// The id as written in the spec, such as `V-9`.
    pub fn id(self) -> &'static str {
        match self {
            Check::V1 => "V-1",
            Check::V2 => "V-2",
            Check::V3 => "V-3",
            Check::V4 => "V-4",
            Check::V5 => "V-5",
            Check::V6 => "V-6",
            Check::V7 => "V-7",
            Check::V8 => "V-8",
            Check::V9 => "V-9",
            Check::V10 => "V-10",
            Check::V11 => "V-11",
            Check::V12 => "V-12",
            Check::V13 => "V-13",
            Check::V14 => "V-14",
            Check::V15 => "V-15",
            Check::V16 => "V-16",
            Check::V17 => "V-17",
            Check::V18 => "V-18",
            Check::V19 => "V-19",
            Check::V20 => "V-20",
            Check::V21 => "V-21",
            Check::V22 => "V-22",
            Check::V23 => "V-23",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A well-formed object that fails a check of the V-list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{check} failed at {item}: {detail}")]
pub struct VerifyError {
    /// The check that failed.
    pub check: Check,
    /// Where: a JSON path or a description such as `question 0, answer 3`.
    pub item: String,
    /// What was expected and not found.
    pub detail: String,
}

impl VerifyError {
    pub(crate) fn new(check: Check, item: impl Into<String>, detail: impl Into<String>) -> Self {
        VerifyError {
            check,
            item: item.into(),
            detail: detail.into(),
        }
    }
}
