//! What administrators edit before an election is frozen: its draft, kept as the store's
//! configuration document together with the server's own bookkeeping (invitation hashes).

use serde::{Deserialize, Serialize};
use urne_core::group::Point;
use urne_core::manifest::{
    KeySharing, Manifest, ManifestFormat, Question, RevotePolicy, Timestamp, TrusteePublic,
    WeightPolicy,
};
use urne_core::proofs::schnorr::SchnorrProof;

use crate::error::ApiError;

/// An election as its administrators describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionDraft {
    /// Title shown to voters.
    pub title: String,
    /// Longer description.
    #[serde(default)]
    pub description: String,
    /// The questions.
    pub questions: Vec<Question>,
    /// Equal or weighted votes.
    #[serde(default = "equal")]
    pub weights: WeightPolicy,
    /// What happens when a voter votes again.
    #[serde(default = "last_counts")]
    pub revote: RevotePolicy,
    /// When voting opens (RFC 3339, UTC).
    pub opens_at: Timestamp,
    /// When voting closes.
    pub closes_at: Timestamp,
    /// The trustees' names, in order; trustee i (from 1) is the i-th.
    pub trustees: Vec<String>,
    /// How many trustees suffice to decrypt. Equal to the number of trustees, every trustee
    /// keeps an independent key; fewer, they hold a key-generation ceremony (spec §8.5).
    pub threshold: u32,
    /// Open by the server's clock at `opens_at` once setup is complete, and close at
    /// `closes_at`. Closing at `closes_at` always happens; this only governs opening.
    #[serde(default = "yes")]
    pub auto_open: bool,
    /// How voters prove who they are before casting, besides holding a credential
    /// (docs/voters.md §3).
    #[serde(default)]
    pub voter_auth: VoterAuth,
    /// Who may see the list of voters who voted (never linked to ballots).
    #[serde(default)]
    pub voted_list: VotedList,
    /// Days after the result is published when the voters' personal data (addresses, the
    /// identity–credential links, who voted) is deleted.
    #[serde(default = "ninety")]
    pub retention_days: u32,
    /// The language of messages to voters whose roll line names none.
    #[serde(default)]
    pub language: Language,
}

/// How voters authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoterAuth {
    /// A one-time code mailed to the address in the roll (the default).
    #[default]
    EmailCode,
    /// The server's OpenID Connect provider (`[oidc]` in its configuration); the roll's `id`
    /// column holds the value of the provider's identity claim.
    Oidc,
    /// None: holding a credential is enough. Weaker (whoever intercepts a credential can vote
    /// with it) and meant for elections without a roll.
    None,
}

/// Who may see the list of voters who voted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VotedList {
    /// Administrators only (the default).
    #[default]
    Admin,
    /// Anyone.
    Public,
}

/// The language of messages to voters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
}

fn ninety() -> u32 {
    90
}

fn equal() -> WeightPolicy {
    WeightPolicy::Equal
}
fn last_counts() -> RevotePolicy {
    RevotePolicy::LastCounts
}
fn yes() -> bool {
    true
}

/// The store's configuration document of an election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredConfig {
    /// The draft.
    pub draft: ElectionDraft,
    /// SHA-256 of each trustee's invitation token (base64url), by trustee index − 1.
    #[serde(default)]
    pub invitations: Vec<String>,
    /// When the result was published (unix seconds), which starts the retention period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    /// When the voters' personal data was deleted (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<i64>,
    /// Whether the credential authority handed the private credentials to the server for
    /// mailing (the weaker mode, docs/voters.md §2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub server_mailing: bool,
}

impl StoredConfig {
    /// The document of a new draft.
    pub fn new(draft: ElectionDraft) -> Self {
        StoredConfig {
            draft,
            invitations: vec![],
            published_at: None,
            purged_at: None,
            server_mailing: false,
        }
    }

    /// Reads a stored document.
    pub fn from_json(text: &str) -> Result<Self, ApiError> {
        serde_json::from_str(text).map_err(|e| {
            ApiError::internal(format!("stored election configuration unreadable: {e}"))
        })
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ElectionDraft {
    /// Whether the trustees hold a ceremony.
    pub fn key_sharing(&self) -> KeySharing {
        if (self.threshold as usize) < self.trustees.len() {
            KeySharing::Threshold
        } else {
            KeySharing::Independent
        }
    }

    /// The manifest this draft becomes with its trustees' keys and the election key.
    pub fn manifest(
        &self,
        id: &str,
        trustees: Vec<TrusteePublic>,
        public_key: Point,
        board_key: Point,
    ) -> Manifest {
        Manifest {
            format: ManifestFormat::V1,
            id: id.to_owned(),
            title: self.title.clone(),
            description: self.description.clone(),
            questions: self.questions.clone(),
            weights: self.weights,
            revote: self.revote,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            trustees,
            threshold: self.threshold,
            key_sharing: self.key_sharing(),
            public_key,
            board_key: Some(board_key),
        }
    }

    /// Checks every rule of spec §4.2 that a draft can break, by building the manifest it would
    /// become with stand-in keys (distinct multiples of the generator). Errors name the field.
    pub fn validate(&self, id: &str) -> Result<(), ApiError> {
        let stand_in = |i: usize| {
            let p = Point::from_element(
                urne_core::group::Point::generator().element() * curve_scalar(i as u64 + 2),
            );
            TrusteePublic {
                name: self.trustees.get(i).cloned().unwrap_or_default(),
                public_key: p,
                key_proof: SchnorrProof {
                    r: Point::generator(),
                    s: curve_scalar(1),
                },
            }
        };
        if self.threshold == 0 || self.threshold as usize > self.trustees.len() {
            return Err(ApiError::invalid(
                "bad_draft",
                format!(
                    "must be between 1 and the number of trustees ({})",
                    self.trustees.len()
                ),
            )
            .field("threshold"));
        }
        let trustees = (0..self.trustees.len()).map(stand_in).collect();
        let manifest = self.manifest(id, trustees, Point::generator(), Point::generator());
        manifest
            .validate()
            .map_err(|e| ApiError::invalid("bad_draft", e.message.clone()).field(e.path.clone()))?;
        Ok(())
    }
}

fn curve_scalar(v: u64) -> curve25519_dalek::Scalar {
    curve25519_dalek::Scalar::from(v)
}
