//! Deterministic election setups for tests, the demo, benchmarks and test-vector generation.
//!
//! Everything here draws from a seeded ChaCha20 generator, so runs are reproducible. A real
//! election never uses this module: its keys come from the trustees' own machines and its
//! randomness from the operating system.

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};

use crate::ceremony::{Transcript, vartime_judge_ceremony};
use crate::dkg::Share;
use crate::election::Election;
use crate::group::Point;
use crate::manifest::{
    Counting, KeySharing, Manifest, ManifestFormat, Question, RevotePolicy, Timestamp, WeightPolicy,
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
    /// The trustees' keys, in manifest order: their election keys under independent keys,
    /// their identity keys under threshold sharing.
    pub trustees: Vec<TrusteeKey>,
    /// Under threshold sharing, each trustee's share of the joint key, in index order.
    pub shares: Vec<Share>,
    /// Under threshold sharing, the ceremony's public transcript.
    pub ceremony: Option<Transcript>,
}

/// Builds a manifest and trustee keys.
#[derive(Debug, Clone)]
pub struct ElectionBuilder {
    id: String,
    questions: Vec<Question>,
    trustees: usize,
    weights: WeightPolicy,
    revote: RevotePolicy,
    threshold: Option<u32>,
    title: Option<String>,
    description: String,
    period: Option<(Timestamp, Timestamp)>,
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
            threshold: None,
            title: None,
            description: String::new(),
            period: None,
        }
        .question(answers, min, max, false)
    }

    /// An election with the given questions.
    pub fn with_questions(id: &str, questions: Vec<Question>) -> Self {
        let mut b = Self::single_question(id, 1, 1, 1);
        b.questions = questions;
        b
    }

    /// Sets the title and description.
    pub fn titled(mut self, title: &str, description: &str) -> Self {
        self.title = Some(title.into());
        self.description = description.into();
        self
    }

    /// Sets the voting period.
    pub fn period(mut self, opens_at: Timestamp, closes_at: Timestamp) -> Self {
        self.period = Some((opens_at, closes_at));
        self
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
            seats: None,
            grades: None,
        });
        self
    }

    /// Sets the number of trustees (all needed to decrypt).
    pub fn trustees(mut self, n: usize) -> Self {
        self.trustees = n;
        self
    }

    /// Shares the key among the trustees by the ceremony of §8.5, any `t` of them decrypting.
    pub fn threshold(mut self, t: u32) -> Self {
        self.threshold = Some(t);
        self
    }

    /// Sets the weights policy.
    pub fn weights(mut self, w: WeightPolicy) -> Self {
        self.weights = w;
        self
    }

    /// Draws trustee keys (running the ceremony under threshold sharing) and builds the election.
    pub fn build<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Setup {
        let keys: Vec<TrusteeKey> = (0..self.trustees)
            .map(|_| TrusteeKey::generate(rng))
            .collect();
        let trustees = keys
            .iter()
            .enumerate()
            .map(|(i, k)| k.publish(rng, &self.id, i as u32 + 1, &format!("Trustee {}", i + 1)))
            .collect();
        let n = self.trustees as u32;
        let identities: Vec<Point> = keys.iter().map(|k| *k.public()).collect();
        let (public_key, threshold, key_sharing, ceremony) = match self.threshold {
            None => (
                combine_public_keys(&identities),
                n,
                KeySharing::Independent,
                None,
            ),
            Some(t) => {
                let mut transcript = Transcript::default();
                let mut polys = Vec::new();
                for (i, k) in keys.iter().enumerate() {
                    let (d, p) = k.deal(rng, &self.id, i as u32 + 1, t, &identities);
                    transcript.dealings.push(d);
                    polys.push(p);
                }
                for (j, k) in keys.iter().enumerate() {
                    let c = k.complaints(
                        rng,
                        &self.id,
                        j as u32 + 1,
                        &identities,
                        &transcript.dealings,
                    );
                    transcript.complaints.extend(c);
                }
                for (i, k) in keys.iter().enumerate() {
                    let a = k.answers(
                        rng,
                        &self.id,
                        i as u32 + 1,
                        &polys[i],
                        &transcript.complaints,
                    );
                    transcript.answers.extend(a);
                }
                let outcome = vartime_judge_ceremony(
                    &self.id,
                    t,
                    &identities,
                    &transcript.dealings,
                    &transcript.complaints,
                    &transcript.answers,
                )
                .expect("honest trustees complete the ceremony");
                (
                    outcome.keys.election_key,
                    t,
                    KeySharing::Threshold,
                    Some((transcript, outcome)),
                )
            }
        };
        let manifest = Manifest {
            format: ManifestFormat::V1,
            id: self.id.clone(),
            title: self
                .title
                .clone()
                .unwrap_or_else(|| format!("Election {}", self.id)),
            description: self.description.clone(),
            questions: self.questions.clone(),
            weights: self.weights,
            revote: self.revote,
            opens_at: self.period.map_or_else(
                || Timestamp::parse("2026-01-01T08:00:00Z").expect("valid"),
                |p| p.0,
            ),
            closes_at: self.period.map_or_else(
                || Timestamp::parse("2026-01-02T20:00:00Z").expect("valid"),
                |p| p.1,
            ),
            public_key,
            trustees,
            threshold,
            key_sharing,
            board_key: None,
        };
        let mut election = Election::new(manifest).expect("the builder makes valid manifests");
        let (shares, ceremony) = match ceremony {
            None => (Vec::new(), None),
            Some((transcript, outcome)) => {
                election
                    .set_verification_keys(&outcome.keys)
                    .expect("the ceremony's own keys");
                let shares = keys
                    .iter()
                    .enumerate()
                    .map(|(j, k)| {
                        k.assemble_share(
                            &self.id,
                            j as u32 + 1,
                            &identities,
                            &outcome,
                            &transcript.dealings,
                            &transcript.answers,
                        )
                        .expect("honest trustees assemble their shares")
                    })
                    .collect();
                (shares, Some(transcript))
            }
        };
        Setup {
            election,
            trustees: keys,
            shares,
            ceremony,
        }
    }
}
