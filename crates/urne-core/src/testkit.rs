//! Deterministic election setups for tests, the demo, benchmarks and test-vector generation.
//!
//! Everything here draws from a seeded ChaCha20 generator, so runs are reproducible. A real
//! election never uses this module: its keys come from the trustees' own machines and its
//! randomness from the operating system.

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};

use crate::election::Election;
use crate::manifest::{
    Counting, Manifest, ManifestFormat, Question, RevotePolicy, Timestamp, WeightPolicy,
};
use crate::trustee::{TrusteeKey, combine_public_keys};

/// A seeded ChaCha20 generator.
pub fn rng_from_seed(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// An election with its trustees' secret keys.
#[derive(Debug)]
pub struct Setup {
    /// The prepared election.
    pub election: Election,
    /// The trustees' keys, in manifest order.
    pub trustees: Vec<TrusteeKey>,
}

/// Builds a manifest and trustee keys.
#[derive(Debug, Clone)]
pub struct ElectionBuilder {
    id: String,
    questions: Vec<Question>,
    trustees: usize,
    weights: WeightPolicy,
    revote: RevotePolicy,
}

impl ElectionBuilder {
    /// An election whose only question has `answers` answers, `min` to `max` to select.
    pub fn single_question(id: &str, answers: usize, min: u32, max: u32) -> Self {
        ElectionBuilder {
            id: id.into(),
            questions: vec![],
            trustees: 1,
            weights: WeightPolicy::Equal,
            revote: RevotePolicy::LastCounts,
        }
        .question(answers, min, max, false)
    }

    /// Adds a question.
    pub fn question(mut self, answers: usize, min: u32, max: u32, blank: bool) -> Self {
        let n = self.questions.len() + 1;
        self.questions.push(Question {
            text: format!("Question {n}"),
            answers: (1..=answers).map(|a| format!("Answer {a}")).collect(),
            min,
            max,
            blank,
            counting: Counting::Plurality,
        });
        self
    }

    /// Sets the number of trustees (all needed to decrypt).
    pub fn trustees(mut self, n: usize) -> Self {
        self.trustees = n;
        self
    }

    /// Sets the weights policy.
    pub fn weights(mut self, w: WeightPolicy) -> Self {
        self.weights = w;
        self
    }

    /// Draws trustee keys and builds the election.
    pub fn build<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Setup {
        let keys: Vec<TrusteeKey> = (0..self.trustees)
            .map(|_| TrusteeKey::generate(rng))
            .collect();
        let trustees = keys
            .iter()
            .enumerate()
            .map(|(i, k)| k.publish(rng, &self.id, i as u32 + 1, &format!("Trustee {}", i + 1)))
            .collect();
        let manifest = Manifest {
            format: ManifestFormat::V1,
            id: self.id.clone(),
            title: format!("Election {}", self.id),
            description: String::new(),
            questions: self.questions.clone(),
            weights: self.weights,
            revote: self.revote,
            opens_at: Timestamp::parse("2026-01-01T08:00:00Z").expect("valid"),
            closes_at: Timestamp::parse("2026-01-02T20:00:00Z").expect("valid"),
            public_key: combine_public_keys(keys.iter().map(|k| k.public())),
            trustees,
            threshold: self.trustees as u32,
        };
        let election = Election::new(manifest).expect("the builder makes valid manifests");
        Setup {
            election,
            trustees: keys,
        }
    }
}
