//! Homomorphic tally, decryption factors and the result (spec §8).
//!
//! The encrypted tally of each answer is the weighted sum Σ w·C of the counted ballots' choice
//! ciphertexts (and likewise for each blank flag). Each trustee i publishes, for every tally
//! ciphertext (α, β), a factor Dᵢ = sᵢ·α with a Chaum–Pedersen proof. With independent trustee
//! keys, M = β − Σᵢ Dᵢ equals count·G, and the count is found by a bounded discrete logarithm:
//! it lies between 0 and the total weight of the counted ballots.
//!
//! Only plurality questions are summed: the ciphertexts of a ranked or graded question are never
//! added up (their sums would disclose more than the result, such as each answer's total of
//! ranks), so such a question's tally holds no ciphertext and its result no count; its ballots
//! are shuffled and decrypted one by one instead (spec §8.2).

use std::collections::HashMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::ballot::Ballot;
use crate::credential::MAX_TOTAL_WEIGHT;
use crate::dkg::{Share, lagrange_at_zero};
use crate::election::Election;
use crate::elgamal::Ciphertext;
use crate::error::{Check, VerifyError};
use crate::group::G;
use crate::manifest::KeySharing;
use crate::msm::Msm;
use crate::proofs::decryption::DecryptionFactor;
use crate::trustee::TrusteeKey;
use curve25519_dalek::traits::VartimeMultiscalarMul;

/// The encrypted tally of one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionTally {
    /// The weighted sum of each answer's choice ciphertexts.
    pub choices: Vec<Ciphertext>,
    /// The weighted sum of the blank flags, when the question allows a blank vote.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub blank: Option<Ciphertext>,
}

/// The encrypted tally of an election, one entry per question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedTally {
    /// Per question, in manifest order.
    pub questions: Vec<QuestionTally>,
}

impl EncryptedTally {
    /// Every tally ciphertext in canonical order: per question, its choices then its blank flag.
    /// Decryption factors follow this order.
    pub fn ciphertexts(&self) -> impl Iterator<Item = &Ciphertext> {
        self.questions
            .iter()
            .flat_map(|q| q.choices.iter().chain(q.blank.iter()))
    }
}

/// Running sums of ballots, kept as group elements (no encoding until the end).
#[derive(Debug, Clone)]
pub struct TallyAccumulator {
    /// Per question: one (α, β) sum per answer, then one for the blank flag when allowed.
    sums: Vec<Vec<(RistrettoPoint, RistrettoPoint)>>,
    blanks: Vec<bool>,
    ballots: u64,
    weight: u64,
}

impl TallyAccumulator {
    /// An empty tally for `election`.
    pub fn new(election: &Election) -> Self {
        let qs = &election.manifest().questions;
        let zero = (RistrettoPoint::identity(), RistrettoPoint::identity());
        TallyAccumulator {
            sums: qs
                .iter()
                .map(|q| match q.counting.is_mixed() {
                    true => Vec::new(),
                    false => vec![zero; q.answers.len() + usize::from(q.blank)],
                })
                .collect(),
            blanks: qs.iter().map(|q| q.blank).collect(),
            ballots: 0,
            weight: 0,
        }
    }

    /// Adds a verified ballot with its credential's weight. The ballot must have passed V-5.
    pub fn add(&mut self, ballot: &Ballot, weight: u64) {
        let answers = ballot
            .answers
            .iter()
            .map(|a| (&a.choices[..], a.blank.as_ref()));
        self.add_ciphertexts(answers, weight);
    }

    /// Adds the ciphertexts of a verified ballot, question by question (the choices, then the
    /// blank flag when the question has one), with its credential's weight: for a tally made
    /// from ballots whose proofs were checked earlier and need not be decoded again.
    pub fn add_ciphertexts<'a>(
        &mut self,
        answers: impl IntoIterator<Item = (&'a [Ciphertext], Option<&'a Ciphertext>)>,
        weight: u64,
    ) {
        let w = Scalar::from(weight);
        for (sums, (choices, blank)) in self.sums.iter_mut().zip(answers) {
            for (s, c) in sums.iter_mut().zip(choices.iter().chain(blank)) {
                if weight == 1 {
                    s.0 += c.alpha.element();
                    s.1 += c.beta.element();
                } else {
                    s.0 += c.alpha.element() * w;
                    s.1 += c.beta.element() * w;
                }
            }
        }
        self.ballots += 1;
        // Weights come from a list checked by V-4 (total at most MAX_TOTAL_WEIGHT); saturating
        // keeps a bad list from wrapping around, and decryption then refuses the bound.
        self.weight = self.weight.saturating_add(weight);
    }

    /// Takes back a ballot added earlier with the same weight, as when a revote replaces it.
    pub fn remove(&mut self, ballot: &Ballot, weight: u64) {
        let w = Scalar::from(weight);
        for (sums, a) in self.sums.iter_mut().zip(&ballot.answers) {
            for (s, c) in sums.iter_mut().zip(a.choices.iter().chain(a.blank.iter())) {
                s.0 -= c.alpha.element() * w;
                s.1 -= c.beta.element() * w;
            }
        }
        self.ballots = self.ballots.saturating_sub(1);
        self.weight = self.weight.saturating_sub(weight);
    }

    /// Adds another accumulator's ballots (for tallying in parallel).
    pub fn merge(&mut self, other: &TallyAccumulator) {
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            for (x, y) in a.iter_mut().zip(b) {
                x.0 += y.0;
                x.1 += y.1;
            }
        }
        self.ballots += other.ballots;
        self.weight = self.weight.saturating_add(other.weight);
    }

    /// Ballots added.
    pub fn ballots(&self) -> u64 {
        self.ballots
    }

    /// Total weight of the ballots added: the bound on every count.
    pub fn total_weight(&self) -> u64 {
        self.weight
    }

    /// The encrypted tally.
    pub fn finish(&self) -> EncryptedTally {
        let questions = self
            .sums
            .iter()
            .zip(&self.blanks)
            .map(|(sums, &blank)| {
                let mut cts: Vec<Ciphertext> = sums
                    .iter()
                    .map(|(a, b)| Ciphertext::from_parts(*a, *b))
                    .collect();
                let blank = if blank { cts.pop() } else { None };
                QuestionTally {
                    choices: cts,
                    blank,
                }
            })
            .collect();
        EncryptedTally { questions }
    }
}

/// One trustee's decryption factors for every tally ciphertext, in canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialDecryption {
    /// The trustee's index in the manifest, from 1.
    pub trustee: u32,
    /// One factor per tally ciphertext.
    pub factors: Vec<DecryptionFactor>,
}

impl TrusteeKey {
    /// Computes this trustee's factors on the tally, with proofs.
    pub fn decrypt_tally<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
        index: u32,
        tally: &EncryptedTally,
    ) -> PartialDecryption {
        let fp = &election.fingerprint().0;
        let factors = tally
            .ciphertexts()
            .map(|ct| DecryptionFactor::prove(rng, fp, self.secret(), self.public(), ct))
            .collect();
        PartialDecryption {
            trustee: index,
            factors,
        }
    }
}

impl Share {
    /// Computes this share's factors on the tally, with proofs against the trustee's
    /// verification key from the ceremony (threshold sharing, §8.5).
    pub fn decrypt_tally<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
        tally: &EncryptedTally,
    ) -> Option<PartialDecryption> {
        let vk = *election.verification_key(self.index())?;
        let fp = &election.fingerprint().0;
        let factors = tally
            .ciphertexts()
            .map(|ct| self.decryption_factor(rng, fp, &vk, ct))
            .collect();
        Some(PartialDecryption {
            trustee: self.index(),
            factors,
        })
    }
}

/// V-15: checks every factor of `pd` in one multiscalar multiplication; when it fails, names the
/// first bad factor.
pub fn vartime_verify_partial<R: CryptoRng + ?Sized>(
    rng: &mut R,
    election: &Election,
    tally: &EncryptedTally,
    pd: &PartialDecryption,
) -> Result<(), VerifyError> {
    let item = format!("trustee {}", pd.trustee);
    let Some(&vk) = election.verification_key(pd.trustee) else {
        let detail = "no verification key: not a trustee of the manifest, or the key-generation ceremony was not judged";
        return Err(VerifyError::new(Check::V15, item, detail));
    };
    let cts: Vec<&Ciphertext> = tally.ciphertexts().collect();
    if pd.factors.len() != cts.len() {
        return Err(VerifyError::new(
            Check::V15,
            item,
            format!(
                "{} factors for {} tally ciphertexts",
                pd.factors.len(),
                cts.len()
            ),
        ));
    }
    let fp = &election.fingerprint().0;
    let mut msm = Msm::with_capacity(4 * cts.len() + 1);
    let mut vk_coef = Scalar::ZERO;
    for (f, ct) in pd.factors.iter().zip(&cts) {
        f.vartime_collect(rng, fp, &vk, ct, &mut msm, &mut vk_coef);
    }
    msm.push(vk_coef, &vk);
    if msm.vartime_is_identity(election.key().point().element()) {
        return Ok(());
    }
    for (k, (f, ct)) in pd.factors.iter().zip(&cts).enumerate() {
        if f.vartime_verify(rng, fp, &vk, ct).is_err() {
            return Err(VerifyError::new(
                Check::V15,
                format!("trustee {} factor {k}", pd.trustee),
                "the proof does not verify",
            ));
        }
    }
    Err(VerifyError::new(
        Check::V15,
        item,
        "the combined check failed although each factor verifies alone",
    ))
}

/// The counts of one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionResult {
    /// Weighted selections of each answer (empty for a mixed question).
    pub counts: Vec<u64>,
    /// Weighted blank votes, when the question allows them.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub blank: Option<u64>,
    /// For a mixed question (ranked or graded), the count of its decrypted ballots after the mix
    /// phase (spec §8.8); absent for plurality questions, and when no ballot was counted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub mixed: Option<MixedResult>,
}

/// The count of one mixed question (spec §8.8.5): its decrypted ballots, those set aside as
/// invalid, and the method's result over the others.
///
/// In JSON it is one object: `ballots`, `invalid`, then `method` (`"schulze"`, `"stv"` or
/// `"majority_judgment"`) and the members of the method's result, whose own `ballots` member is
/// not repeated: it is always `ballots − invalid`, the ballots the method counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedResult {
    /// Decrypted ballots of the question (every ballot of the mix, invalid ones included).
    pub ballots: u64,
    /// Rankings set aside because they are not a valid ranking for the question
    /// ([`crate::ballot::check_ranking`]); always 0 for grades.
    pub invalid: u64,
    /// The method's result over the `ballots − invalid` valid ballots.
    pub count: MixedCount,
}

/// The method-specific part of a [`MixedResult`], tagged by `method` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum MixedCount {
    /// Condorcet–Schulze (docs/counting.md §2).
    Schulze(crate::count::schulze::SchulzeResult),
    /// Single transferable vote (docs/counting.md §3).
    Stv(crate::count::stv::StvResult),
    /// Majority judgment (docs/counting.md §4).
    MajorityJudgment(crate::count::mj::MjResult),
}

impl MixedCount {
    /// The ballots the method counted (its result's own `ballots`).
    pub fn ballots(&self) -> u64 {
        match self {
            MixedCount::Schulze(r) => r.ballots,
            MixedCount::Stv(r) => r.ballots,
            MixedCount::MajorityJudgment(r) => r.ballots,
        }
    }

    fn set_ballots(&mut self, n: u64) {
        match self {
            MixedCount::Schulze(r) => r.ballots = n,
            MixedCount::Stv(r) => r.ballots = n,
            MixedCount::MajorityJudgment(r) => r.ballots = n,
        }
    }
}

impl Serialize for MixedResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let inner = serde_json::to_value(&self.count).map_err(S::Error::custom)?;
        let serde_json::Value::Object(members) = inner else {
            return Err(S::Error::custom("a method's result is a JSON object"));
        };
        let mut map = s.serialize_map(Some(members.len() + 1))?;
        map.serialize_entry("ballots", &self.ballots)?;
        map.serialize_entry("invalid", &self.invalid)?;
        if let Some(m) = members.get("method") {
            map.serialize_entry("method", m)?;
        }
        for (k, v) in &members {
            if k != "ballots" && k != "method" {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MixedResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut members = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut take = |key: &'static str| -> Result<u64, D::Error> {
            let v = members
                .remove(key)
                .ok_or_else(|| D::Error::missing_field(key))?;
            v.as_u64()
                .ok_or_else(|| D::Error::custom(format!("`{key}` is not an unsigned integer")))
        };
        let ballots = take("ballots")?;
        let invalid = take("invalid")?;
        let counted = ballots
            .checked_sub(invalid)
            .ok_or_else(|| D::Error::custom("`invalid` is larger than `ballots`"))?;
        members.insert("ballots".into(), counted.into());
        let mut count: MixedCount =
            serde_json::from_value(serde_json::Value::Object(members)).map_err(D::Error::custom)?;
        count.set_ballots(counted);
        Ok(MixedResult {
            ballots,
            invalid,
            count,
        })
    }
}

/// The result of an election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionResult {
    /// Per question, in manifest order.
    pub questions: Vec<QuestionResult>,
}

impl ElectionResult {
    fn values(&self) -> impl Iterator<Item = u64> + '_ {
        self.questions
            .iter()
            .flat_map(|q| q.counts.iter().copied().chain(q.blank))
    }
}

/// V-16: the partial decryptions come from distinct trustees of the manifest: every one of them
/// under independent keys, at least `threshold` under threshold sharing;
/// and (V-15) each has one factor per tally ciphertext, so that combining them cannot fail.
fn check_trustee_set(
    election: &Election,
    tally: &EncryptedTally,
    partials: &[PartialDecryption],
) -> Result<(), VerifyError> {
    let n = election.manifest().trustees.len();
    let cts = tally.ciphertexts().count();
    let mut seen = vec![false; n];
    for pd in partials {
        if pd.factors.len() != cts {
            let detail = format!("{} factors for {cts} tally ciphertexts", pd.factors.len());
            return Err(VerifyError::new(
                Check::V15,
                format!("trustee {}", pd.trustee),
                detail,
            ));
        }
        let i = pd.trustee as usize;
        if i == 0 || i > n || std::mem::replace(&mut seen[i - 1], true) {
            return Err(VerifyError::new(
                Check::V16,
                format!("trustee {i}"),
                "unknown or repeated trustee",
            ));
        }
    }
    let manifest = election.manifest();
    if manifest.key_sharing == KeySharing::Threshold {
        let present = seen.iter().filter(|s| **s).count();
        if present < manifest.threshold as usize {
            let detail = format!(
                "{present} trustees' factors, {} are needed",
                manifest.threshold
            );
            return Err(VerifyError::new(Check::V16, "partial decryptions", detail));
        }
        return Ok(());
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(VerifyError::new(
            Check::V16,
            format!("trustee {}", missing + 1),
            "every trustee's factors are needed",
        ));
    }
    Ok(())
}

/// M = β − s·α for every tally ciphertext, the counts times G, where s·α = Σ Dᵢ under
/// independent keys and Σ λᵢ·Dᵢ (Lagrange at zero over the trustees present) under threshold
/// sharing. The trustee set must have passed [`check_trustee_set`].
fn combine(
    election: &Election,
    tally: &EncryptedTally,
    partials: &[PartialDecryption],
) -> Vec<RistrettoPoint> {
    let m = election.manifest();
    let lambdas = match m.key_sharing {
        KeySharing::Independent => vec![Scalar::ONE; partials.len()],
        KeySharing::Threshold => {
            let set: Vec<u32> = partials.iter().map(|pd| pd.trustee).collect();
            lagrange_at_zero(&set, m.threshold, m.trustees.len() as u32)
                .expect("the trustee set was checked")
        }
    };
    tally
        .ciphertexts()
        .enumerate()
        .map(|(k, ct)| {
            let s_alpha = RistrettoPoint::vartime_multiscalar_mul(
                &lambdas,
                partials.iter().map(|pd| *pd.factors[k].factor.element()),
            );
            ct.beta.element() - s_alpha
        })
        .collect()
}

/// Why the result cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TallyError {
    /// The factors fail a check.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The total weight exceeds [`MAX_TOTAL_WEIGHT`].
    #[error("total weight {0} exceeds the maximum of {MAX_TOTAL_WEIGHT}")]
    WeightBound(u64),
    /// A decrypted value is not a count between 0 and the total weight.
    #[error("tally ciphertext {index} does not decrypt to a count between 0 and {bound}")]
    OutOfRange {
        /// Position of the ciphertext in canonical order.
        index: usize,
        /// The total weight.
        bound: u64,
    },
}

/// Combines verified partial decryptions and recovers the counts, each at most `total_weight`.
/// Checks V-16 here; V-15 is [`vartime_verify_partial`]'s.
pub fn decrypt_result(
    election: &Election,
    tally: &EncryptedTally,
    partials: &[PartialDecryption],
    total_weight: u64,
) -> Result<ElectionResult, TallyError> {
    check_trustee_set(election, tally, partials)?;
    if total_weight > MAX_TOTAL_WEIGHT {
        return Err(TallyError::WeightBound(total_weight));
    }
    let table = DlogTable::new(total_weight);
    let mut values = Vec::new();
    for (index, m) in combine(election, tally, partials).iter().enumerate() {
        values.push(table.vartime_dlog(m).ok_or(TallyError::OutOfRange {
            index,
            bound: total_weight,
        })?);
    }
    let mut it = values.into_iter();
    let questions = tally
        .questions
        .iter()
        .map(|q| QuestionResult {
            counts: it.by_ref().take(q.choices.len()).collect(),
            blank: q.blank.map(|_| it.next().unwrap_or_default()),
            mixed: None,
        })
        .collect();
    Ok(ElectionResult { questions })
}

/// V-16 and V-17: the factors come from every trustee and the published result is their
/// combination: count·G = β − Σ Dᵢ for every tally ciphertext, with the result's shape matching
/// the tally. No discrete logarithm is needed to check a result.
pub fn vartime_verify_result(
    election: &Election,
    tally: &EncryptedTally,
    partials: &[PartialDecryption],
    result: &ElectionResult,
) -> Result<(), VerifyError> {
    check_trustee_set(election, tally, partials)?;
    let shape_ok = result.questions.len() == tally.questions.len()
        && result.questions.iter().zip(&tally.questions).all(|(r, t)| {
            r.counts.len() == t.choices.len() && r.blank.is_some() == t.blank.is_some()
        });
    if !shape_ok {
        return Err(VerifyError::new(
            Check::V17,
            "result",
            "its shape does not match the tally",
        ));
    }
    for (k, (m, v)) in combine(election, tally, partials)
        .iter()
        .zip(result.values())
        .enumerate()
    {
        if RistrettoPoint::mul_base(&Scalar::from(v)) != *m {
            return Err(VerifyError::new(
                Check::V17,
                format!("result value {k}"),
                format!("{v} is not the decryption of the tally"),
            ));
        }
    }
    Ok(())
}

/// Baby-step giant-step table for discrete logarithms in [0, bound] (spec §8.4).
#[derive(Debug)]
pub struct DlogTable {
    baby: HashMap<[u8; 32], u64>,
    step: u64,
    giant: RistrettoPoint,
    bound: u64,
}

impl DlogTable {
    /// Precomputes ⌈√(bound + 1)⌉ baby steps. `bound` is clamped to [`MAX_TOTAL_WEIGHT`].
    pub fn new(bound: u64) -> Self {
        let bound = bound.min(MAX_TOTAL_WEIGHT);
        let step = ((bound as f64 + 1.0).sqrt().ceil() as u64).max(1);
        let mut baby = HashMap::with_capacity(step as usize);
        let mut p = RistrettoPoint::identity();
        for j in 0..step {
            baby.insert(p.compress().to_bytes(), j);
            p += G;
        }
        DlogTable {
            baby,
            step,
            giant: -p,
            bound,
        }
    }

    /// The m in [0, bound] with m·G = `target`, if any. Variable time: for public values.
    pub fn vartime_dlog(&self, target: &RistrettoPoint) -> Option<u64> {
        let mut p = *target;
        let mut i = 0u64;
        while i * self.step <= self.bound {
            if let Some(&j) = self.baby.get(&p.compress().to_bytes()) {
                let m = i * self.step + j;
                return (m <= self.bound).then_some(m);
            }
            p += self.giant;
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlog_finds_every_value_in_range_and_nothing_beyond() {
        let t = DlogTable::new(1000);
        for m in [0u64, 1, 2, 31, 32, 999, 1000] {
            assert_eq!(
                t.vartime_dlog(&RistrettoPoint::mul_base(&Scalar::from(m))),
                Some(m)
            );
        }
        assert_eq!(
            t.vartime_dlog(&RistrettoPoint::mul_base(&Scalar::from(1001u64))),
            None
        );
        assert_eq!(
            t.vartime_dlog(&RistrettoPoint::mul_base(&-Scalar::ONE)),
            None
        );
    }
}
