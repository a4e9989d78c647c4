//! Ballots: creation (encrypt, prove, sign), canonical encoding, tracker and verification.
//!
//! Spec: docs/spec.md §6 (encrypted answers and their proofs) and §7 (the ballot).
//!
//! For each plurality question with n answers, a ballot holds one ciphertext per answer (1 if
//! selected, else 0) with a *choice proof* that it encrypts 0 or 1 (§6.3), and a *count proof*
//! that the sum of the choices lies in [min, max] (§6.4). When the question allows a blank vote,
//! an extra *blank* ciphertext encrypts 1 for a blank vote and 0 otherwise, and the count proof
//! shows (blank, sum) ∈ {(1, 0)} ∪ {(0, k) : min ≤ k ≤ max}.
//!
//! A ranked question's ciphertexts hold each answer's rank (0 when not ranked, else 1 to `max`)
//! and a graded question's hold each answer's grade (0 for the worst to g − 1 for the best), each
//! with a choice proof over that range and no count proof: these *mixed* questions are shuffled
//! and decrypted ballot by ballot, and a ranking that is not 1, 2, …, k over distinct answers is
//! set aside as invalid when counted (docs/counting.md §1), without telling whose it was.
//!
//! The whole ballot is signed with the credential key (§7.3) and every proof's challenge binds
//! the public credential, so no proof can be lifted into another voter's ballot.

use std::collections::BTreeSet;
use std::fmt;

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use subtle::{
    Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater, ConstantTimeLess,
};
use zeroize::Zeroize;

use crate::credential::CredentialKey;
use crate::election::Election;
use crate::elgamal::Ciphertext;
use crate::error::{Check, ParseError, VerifyError, parse_json};
use crate::group::{Point, b64_encode, random_scalar};
use crate::hash::{ItemHasher, tags};
use crate::manifest::{Counting, Fingerprint, Question};
use crate::msm::Msm;
use crate::proofs::disjunctive::{CiphertextTerms, DisjunctiveProof, Witness};
use crate::proofs::schnorr::SchnorrProof;

/// The format version of a ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BallotFormat {
    /// This specification.
    #[serde(rename = "urne/ballot/v1")]
    V1,
}

/// The encrypted answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedAnswer {
    /// One ciphertext per answer: 1 if selected, else 0 (plurality); its rank or 0 (ranking);
    /// its grade (majority judgment).
    pub choices: Vec<Ciphertext>,
    /// One choice proof per answer, over the question's values (§6.3).
    pub choice_proofs: Vec<DisjunctiveProof>,
    /// The blank flag, present exactly when the question allows a blank vote.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub blank: Option<Ciphertext>,
    /// The count proof (§6.4), present exactly for plurality questions.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::group::some"
    )]
    pub count_proof: Option<DisjunctiveProof>,
}

/// A ballot as cast (spec §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ballot {
    /// The format version.
    pub format: BallotFormat,
    /// The fingerprint of the election this ballot is for.
    pub election: Fingerprint,
    /// The public credential that signs the ballot.
    pub credential: Point,
    /// One encrypted answer per question, in manifest order.
    pub answers: Vec<EncryptedAnswer>,
    /// Schnorr signature by the credential key over the rest of the ballot (§7.3).
    pub signature: SchnorrProof,
}

/// The ballot tracker: the first 32 bytes of H(TRACKER, the ballot's canonical items) (§7.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tracker(#[serde(with = "crate::group::bytes_b64")] pub [u8; 32]);

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracker({self})")
    }
}

impl fmt::Display for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64_encode(&self.0))
    }
}

/// A voter's choice on one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionVote {
    /// A blank vote, where the question allows it.
    Blank,
    /// The indices of the selected answers.
    Selected(Vec<usize>),
    /// A ranking: for each answer in order, its rank (1 for the first choice), or 0 when it is
    /// not ranked. The ranks given must be 1, 2, …, k for some k between the question's min
    /// and max.
    Ranked(Vec<u32>),
    /// A grade for each answer in order: its index in the question's `grades` (0 for the best).
    Graded(Vec<u32>),
}

/// A vote that breaks a question's rules; nothing is encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteError {
    /// The vote does not answer every question exactly once.
    #[error("the election has {expected} questions, the vote answers {found}")]
    Questions {
        /// Questions in the manifest.
        expected: usize,
        /// Answers given.
        found: usize,
    },
    /// An answer index out of range or selected twice.
    #[error("question {question}: answer {answer} does not exist or is selected twice")]
    Answer {
        /// The question's index.
        question: usize,
        /// The offending answer index.
        answer: usize,
    },
    /// Too few or too many selections.
    #[error("question {question}: {found} answers selected, between {min} and {max} are allowed")]
    Count {
        /// The question's index.
        question: usize,
        /// Selections made.
        found: usize,
        /// The question's minimum.
        min: u32,
        /// The question's maximum.
        max: u32,
    },
    /// A blank vote on a question that does not allow it.
    #[error("question {question} does not allow a blank vote")]
    Blank {
        /// The question's index.
        question: usize,
    },
    /// A vote of another kind than the question's counting asks for (a selection for a ranked
    /// question, a ranking for a plurality question…).
    #[error("question {question} is counted by {counting}: {expected}")]
    Kind {
        /// The question's index.
        question: usize,
        /// The question's counting.
        counting: &'static str,
        /// What the vote must be.
        expected: &'static str,
    },
    /// A ranking or grading with a value per answer that is wrong: the wrong length, a rank out
    /// of order or repeated, a grade that does not exist.
    #[error("question {question}: {detail}")]
    Values {
        /// The question's index.
        question: usize,
        /// What is wrong.
        detail: String,
    },
}

/// The allowed plaintexts of a question's choice proofs (§6.3): 0 to the question's value
/// bound (1 for plurality).
pub fn choice_allowed(q: &Question) -> Vec<Vec<u64>> {
    (0..=q.value_bound()).map(|v| vec![v]).collect()
}

/// Checks a ranking against its question (spec §4.1: the ranks 1 to k, each given once, with
/// min ≤ k ≤ max); the error says what is wrong. Used by the booth's side before
/// encrypting, and by the count on decrypted ballots.
pub fn check_ranking(q: &Question, ranks: &[u32]) -> Result<(), String> {
    let n = q.answers.len();
    if ranks.len() != n {
        return Err(format!("{} ranks for {n} answers", ranks.len()));
    }
    let k = ranks.iter().filter(|&&r| r != 0).count();
    if k < q.min as usize || k > q.max as usize {
        return Err(format!(
            "{k} answers ranked, between {} and {} are allowed",
            q.min, q.max
        ));
    }
    let mut seen = vec![false; k];
    for (a, &r) in ranks.iter().enumerate() {
        if r == 0 {
            continue;
        }
        match seen.get_mut(r as usize - 1) {
            Some(s) if !*s => *s = true,
            Some(_) => return Err(format!("answer {a}: rank {r} is given twice")),
            None => {
                return Err(format!(
                    "answer {a}: rank {r}, but only {k} answers are ranked (ranks go 1 to {k})"
                ));
            }
        }
    }
    Ok(())
}

/// The allowed tuples of a question's count proof (§6.4): (sum) for min ≤ sum ≤ max, or, with a
/// blank vote allowed, (blank, sum) in {(1, 0)} ∪ {(0, k)}.
pub fn count_allowed(q: &Question) -> Vec<Vec<u64>> {
    let range = u64::from(q.min)..=u64::from(q.max);
    if q.blank {
        std::iter::once(vec![1, 0])
            .chain(range.map(|k| vec![0, k]))
            .collect()
    } else {
        range.map(|k| vec![k]).collect()
    }
}

fn choice_prefix(e: &Election, x: &Point, q: usize, a: usize, ct: &Ciphertext) -> ItemHasher {
    let mut h = ItemHasher::new(tags::CHOICE_PROOF);
    h.bytes(&e.fingerprint().0)
        .point(e.key().point())
        .point(x)
        .u64(q as u64)
        .u64(a as u64);
    ct.hash_into(&mut h);
    h
}

fn count_prefix(
    e: &Election,
    x: &Point,
    qi: usize,
    q: &Question,
    ans: &EncryptedAnswer,
) -> ItemHasher {
    let mut h = ItemHasher::new(tags::COUNT_PROOF);
    h.bytes(&e.fingerprint().0)
        .point(e.key().point())
        .point(x)
        .u64(qi as u64);
    h.u64(q.min.into())
        .u64(q.max.into())
        .u64(q.blank.into())
        .len(ans.choices.len());
    for c in &ans.choices {
        c.hash_into(&mut h);
    }
    if let Some(b) = &ans.blank {
        b.hash_into(&mut h);
    }
    h
}

/// The values question `qi`'s ciphertexts will encrypt for vote `v`, and whether it is a blank
/// vote; a vote that breaks the question's rules is refused. Valid votes are read without
/// branching or indexing on their secret values; only a refusal takes a data-dependent path, to
/// name what is wrong.
fn question_values(
    qi: usize,
    q: &Question,
    v: &QuestionVote,
) -> Result<(Vec<u64>, bool), VoteError> {
    let n = q.answers.len();
    let kind = |expected| VoteError::Kind {
        question: qi,
        counting: q.counting.as_str(),
        expected,
    };
    match (q.counting, v) {
        (Counting::Plurality, QuestionVote::Blank) if q.blank => Ok((vec![0; n], true)),
        (Counting::Plurality, QuestionVote::Blank) => Err(VoteError::Blank { question: qi }),
        (Counting::Plurality, QuestionVote::Selected(sel)) => {
            if let Some(&answer) = sel.iter().find(|&&a| a >= n) {
                return Err(VoteError::Answer {
                    question: qi,
                    answer,
                });
            }
            // Mark the selections by comparing every answer with every selection, so that no
            // memory access depends on which answers were chosen.
            let mut bits = vec![0u64; n];
            let mut marked = 0usize;
            for (k, bit) in bits.iter_mut().enumerate() {
                let mut hit = Choice::from(0);
                for &a in sel {
                    hit |= (a as u64).ct_eq(&(k as u64));
                }
                bit.conditional_assign(&1, hit);
                marked += *bit as usize;
            }
            if marked != sel.len() {
                // A repeated selection: the vote is refused, so timing no longer matters.
                let mut seen = BTreeSet::new();
                let answer = sel.iter().copied().find(|&a| !seen.insert(a)).unwrap_or(0);
                return Err(VoteError::Answer {
                    question: qi,
                    answer,
                });
            }
            if sel.len() < q.min as usize || sel.len() > q.max as usize {
                return Err(VoteError::Count {
                    question: qi,
                    found: sel.len(),
                    min: q.min,
                    max: q.max,
                });
            }
            Ok((bits, false))
        }
        (Counting::Plurality, _) => Err(kind("a selection of answers, or a blank vote")),
        (Counting::Schulze | Counting::Stv, QuestionVote::Ranked(ranks)) => {
            if ranks.len() != n {
                let detail = format!("{} ranks for {n} answers", ranks.len());
                return Err(VoteError::Values {
                    question: qi,
                    detail,
                });
            }
            // With k answers ranked, a valid ranking uses each of the ranks 1..=k exactly once
            // and no other: count, for every rank j, the answers that have it.
            let ranked: u64 = ranks
                .iter()
                .map(|&r| u64::from((!r.ct_eq(&0)).unwrap_u8()))
                .sum();
            let mut ok = Choice::from(1);
            for j in 1..=n as u64 {
                let mut have = 0u64;
                for &r in ranks {
                    have += u64::from(u64::from(r).ct_eq(&j).unwrap_u8());
                }
                let expected = u64::from((!j.ct_gt(&ranked)).unwrap_u8());
                ok &= have.ct_eq(&expected);
            }
            // A rank above n leaves one of 1..=ranked without its answer, so it fails above.
            if !bool::from(ok) || ranked < u64::from(q.min) || ranked > u64::from(q.max) {
                let detail = check_ranking(q, ranks)
                    .err()
                    .unwrap_or_else(|| "the ranks are not 1, 2, …, k".into());
                return Err(VoteError::Values {
                    question: qi,
                    detail,
                });
            }
            Ok((ranks.iter().map(|&r| u64::from(r)).collect(), false))
        }
        (Counting::Schulze | Counting::Stv, _) => {
            Err(kind("a ranking: a rank or 0 for every answer"))
        }
        (Counting::MajorityJudgment, QuestionVote::Graded(grades)) => {
            let g = q.grades.as_ref().map_or(0, Vec::len) as u64;
            if grades.len() != n {
                let detail = format!("{} grades for {n} answers", grades.len());
                return Err(VoteError::Values {
                    question: qi,
                    detail,
                });
            }
            let mut ok = Choice::from(1);
            for &x in grades {
                ok &= u64::from(x).ct_lt(&g);
            }
            if !bool::from(ok) {
                let (a, x) = grades
                    .iter()
                    .enumerate()
                    .find(|&(_, &x)| u64::from(x) >= g)
                    .map_or((0, 0), |(a, &x)| (a, x));
                let detail = format!("answer {a}: grade {x} does not exist (there are {g})");
                return Err(VoteError::Values {
                    question: qi,
                    detail,
                });
            }
            // Encrypted from the worst (0) to the best (g − 1); the vote names them best first.
            Ok((
                grades.iter().map(|&x| g - 1 - u64::from(x)).collect(),
                false,
            ))
        }
        (Counting::MajorityJudgment, _) => Err(kind("a grade for every answer")),
    }
}

impl Ballot {
    /// Parses a ballot from JSON; errors name the offending field. Shape against the manifest is
    /// checked by verification (V-5).
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        parse_json("ballot", text)
    }

    /// The canonical JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a ballot always serializes")
    }

    /// Encrypts `vote`, proves every answer well formed and signs, with the credential `key`.
    /// Secret values (randomness, selections) are handled in constant time and zeroized.
    pub fn create<R: CryptoRng + ?Sized>(
        rng: &mut R,
        election: &Election,
        key: &CredentialKey,
        vote: &[QuestionVote],
    ) -> Result<Ballot, VoteError> {
        let questions = &election.manifest().questions;
        if vote.len() != questions.len() {
            return Err(VoteError::Questions {
                expected: questions.len(),
                found: vote.len(),
            });
        }
        // Check every rule before any secret work.
        let mut values = Vec::with_capacity(questions.len());
        for (qi, (q, v)) in questions.iter().zip(vote).enumerate() {
            values.push(question_values(qi, q, v)?);
        }

        let x = *key.public();
        let ekey = election.key();
        let mut answers = Vec::with_capacity(questions.len());
        for (qi, (q, (mut vals, is_blank))) in questions.iter().zip(values).enumerate() {
            let mut rs: Vec<Scalar> = (0..vals.len()).map(|_| random_scalar(rng)).collect();
            let choices: Vec<Ciphertext> = vals
                .iter()
                .zip(&rs)
                .map(|(&m, r)| Ciphertext::encrypt(ekey, m, r))
                .collect();
            let allowed = choice_allowed(q);
            let choice_proofs = choices
                .iter()
                .zip(vals.iter().zip(&rs))
                .enumerate()
                .map(|(ai, (ct, (&m, r)))| {
                    let w = Witness {
                        branch: m as usize,
                        randomness: std::slice::from_ref(r),
                    };
                    DisjunctiveProof::prove(
                        rng,
                        ekey,
                        choice_prefix(election, &x, qi, ai, ct),
                        &allowed,
                        &w,
                        1,
                    )
                })
                .collect();
            let mut ans = EncryptedAnswer {
                choices,
                choice_proofs,
                blank: None,
                count_proof: None,
            };
            if q.counting.is_mixed() {
                rs.zeroize();
                vals.zeroize();
                answers.push(ans);
                continue;
            }
            let count: u64 = vals.iter().sum();
            let mut r_sum: Scalar = rs.iter().sum();
            let allowed = count_allowed(q);
            if q.blank {
                let mut r_blank = random_scalar(rng);
                ans.blank = Some(Ciphertext::encrypt_bit(
                    ekey,
                    Choice::from(u8::from(is_blank)),
                    &r_blank,
                ));
                // Branch 0 is the blank vote (1, 0); branch 1 + k − min is (0, k).
                // A blank vote has no selection (count 0), so the subtraction wraps only
                // in the branch that the selection discards.
                let selected = count.wrapping_sub(u64::from(q.min)).wrapping_add(1);
                let blank = Choice::from(u8::from(is_blank));
                let branch = u64::conditional_select(&selected, &0, blank) as usize;
                let r = [r_blank, r_sum];
                let w = Witness {
                    branch,
                    randomness: &r,
                };
                ans.count_proof = Some(DisjunctiveProof::prove(
                    rng,
                    ekey,
                    count_prefix(election, &x, qi, q, &ans),
                    &allowed,
                    &w,
                    2,
                ));
                r_blank.zeroize();
            } else {
                let branch = (count - u64::from(q.min)) as usize;
                let w = Witness {
                    branch,
                    randomness: std::slice::from_ref(&r_sum),
                };
                ans.count_proof = Some(DisjunctiveProof::prove(
                    rng,
                    ekey,
                    count_prefix(election, &x, qi, q, &ans),
                    &allowed,
                    &w,
                    1,
                ));
            }
            r_sum.zeroize();
            rs.zeroize();
            vals.zeroize();
            answers.push(ans);
        }
        let mut ballot = Ballot {
            format: BallotFormat::V1,
            election: *election.fingerprint(),
            credential: x,
            answers,
            signature: SchnorrProof {
                r: Point::identity(),
                s: Scalar::ZERO,
            },
        };
        ballot.sign(rng, key);
        Ok(ballot)
    }

    /// Signs the ballot with `key` (§7.3), setting its credential to `key`'s public credential.
    /// Proofs bind the credential too: a ballot whose proofs were made for another credential
    /// keeps failing V-9/V-10 after signing.
    pub fn sign<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, key: &CredentialKey) {
        self.credential = *key.public();
        self.signature = SchnorrProof::prove(rng, key.secret(), self.signature_prefix());
    }

    /// Appends the canonical items of the ballot without its signature (§7.2).
    fn body_items(&self, h: &mut ItemHasher) {
        h.str("urne/ballot/v1")
            .bytes(&self.election.0)
            .point(&self.credential)
            .len(self.answers.len());
        for a in &self.answers {
            h.len(a.choices.len());
            for c in &a.choices {
                c.hash_into(h);
            }
            h.len(a.choice_proofs.len());
            for p in &a.choice_proofs {
                p.hash_into(h);
            }
            match &a.blank {
                Some(b) => {
                    h.u64(1);
                    b.hash_into(h);
                }
                None => {
                    h.u64(0);
                }
            }
            // Present exactly for plurality questions, as the manifest says: nothing otherwise.
            if let Some(p) = &a.count_proof {
                p.hash_into(h);
            }
        }
    }

    /// The signature's hash prefix: tag, fingerprint, credential, body items (§7.3).
    fn signature_prefix(&self) -> ItemHasher {
        let mut h = ItemHasher::new(tags::BALLOT_SIGNATURE);
        h.bytes(&self.election.0).point(&self.credential);
        self.body_items(&mut h);
        h
    }

    /// The ballot's tracker (§7.4).
    pub fn tracker(&self) -> Tracker {
        let mut h = ItemHasher::new(tags::TRACKER);
        self.body_items(&mut h);
        self.signature.hash_into(&mut h);
        let d = h.digest();
        let mut t = [0u8; 32];
        t.copy_from_slice(&d[..32]);
        Tracker(t)
    }

    /// V-5 (shape against the manifest) and V-6 (election fingerprint).
    pub fn check_shape(&self, election: &Election) -> Result<(), VerifyError> {
        if self.election != *election.fingerprint() {
            return Err(VerifyError::new(
                Check::V6,
                "election",
                format!(
                    "names {}, expected {}",
                    self.election,
                    election.fingerprint()
                ),
            ));
        }
        let v5 = |item: String, detail: String| Err(VerifyError::new(Check::V5, item, detail));
        if self.credential.is_identity() {
            return v5("credential".into(), "is the identity".into());
        }
        let qs = &election.manifest().questions;
        if self.answers.len() != qs.len() {
            return v5(
                "answers".into(),
                format!("{} answers for {} questions", self.answers.len(), qs.len()),
            );
        }
        for (qi, (q, a)) in qs.iter().zip(&self.answers).enumerate() {
            let n = q.answers.len();
            if a.choices.len() != n {
                return v5(
                    format!("answers[{qi}].choices"),
                    format!("{} ciphertexts for {n} answers", a.choices.len()),
                );
            }
            if a.choice_proofs.len() != n {
                return v5(
                    format!("answers[{qi}].choice_proofs"),
                    format!("{} proofs for {n} answers", a.choice_proofs.len()),
                );
            }
            if a.blank.is_some() != q.blank {
                let what = if q.blank {
                    "missing: the question allows a blank vote"
                } else {
                    "present: the question allows no blank vote"
                };
                return v5(format!("answers[{qi}].blank"), what.into());
            }
            if a.count_proof.is_some() == q.counting.is_mixed() {
                let what = if q.counting.is_mixed() {
                    format!(
                        "present: a question counted by {} has none",
                        q.counting.as_str()
                    )
                } else {
                    "missing: a plurality question has one".to_owned()
                };
                return v5(format!("answers[{qi}].count_proof"), what);
            }
        }
        Ok(())
    }

    /// Checks shape (V-5, V-6) and challenges, and adds every equation of the ballot (V-8, V-9,
    /// V-10) to `msm` with random weights. The public credential enters as one term. On error,
    /// `msm` is left as it was, so many ballots can share one combination.
    pub fn vartime_collect<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
        msm: &mut Msm,
    ) -> Result<(), VerifyError> {
        let cp = msm.checkpoint();
        self.vartime_collect_inner(rng, election, msm)
            .inspect_err(|_| msm.rollback(cp))
    }

    /// The body of [`Ballot::vartime_collect`], which may leave partial terms on error.
    fn vartime_collect_inner<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
        msm: &mut Msm,
    ) -> Result<(), VerifyError> {
        self.check_shape(election)?;
        let x = &self.credential;
        for (qi, (q, a)) in election
            .manifest()
            .questions
            .iter()
            .zip(&self.answers)
            .enumerate()
        {
            let allowed = choice_allowed(q);
            let mut alphas = Vec::with_capacity(a.choices.len());
            let mut betas = Vec::with_capacity(a.choices.len());
            for (ai, (ct, proof)) in a.choices.iter().zip(&a.choice_proofs).enumerate() {
                let terms = CiphertextTerms {
                    alpha: vec![msm.term(&ct.alpha)],
                    beta: vec![msm.term(&ct.beta)],
                };
                alphas.push(terms.alpha[0]);
                betas.push(terms.beta[0]);
                proof
                    .vartime_collect(
                        rng,
                        choice_prefix(election, x, qi, ai, ct),
                        &allowed,
                        &[terms],
                        msm,
                    )
                    .map_err(|e| {
                        VerifyError::new(
                            Check::V9,
                            format!("answers[{qi}].choice_proofs[{ai}]"),
                            e.to_string(),
                        )
                    })?;
            }
            // Shape checked: a count proof exactly for plurality questions.
            let Some(count_proof) = &a.count_proof else {
                continue;
            };
            let mut terms = vec![CiphertextTerms {
                alpha: alphas,
                beta: betas,
            }];
            if let Some(b) = &a.blank {
                terms.insert(
                    0,
                    CiphertextTerms {
                        alpha: vec![msm.term(&b.alpha)],
                        beta: vec![msm.term(&b.beta)],
                    },
                );
            }
            count_proof
                .vartime_collect(
                    rng,
                    count_prefix(election, x, qi, q, a),
                    &count_allowed(q),
                    &terms,
                    msm,
                )
                .map_err(|e| {
                    VerifyError::new(
                        Check::V10,
                        format!("answers[{qi}].count_proof"),
                        e.to_string(),
                    )
                })?;
        }
        let x_coef = self
            .signature
            .vartime_collect(rng, self.signature_prefix(), msm);
        msm.push(x_coef, x);
        Ok(())
    }

    /// Verifies the ballot alone: V-5, V-6, V-8, V-9, V-10 (V-7, membership of the credential, is
    /// the caller's). All equations are checked in one multiscalar multiplication; if it fails,
    /// each proof is checked on its own to name the one at fault.
    pub fn vartime_verify<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
    ) -> Result<Tracker, VerifyError> {
        let points: usize = self
            .answers
            .iter()
            .map(|a| 6 * a.choices.len() + 4)
            .sum::<usize>()
            + 2;
        let mut msm = Msm::with_capacity(points);
        self.vartime_collect(rng, election, &mut msm)?;
        if msm.vartime_is_identity(election.key().point().element()) {
            Ok(self.tracker())
        } else {
            Err(self.vartime_diagnose(rng, election))
        }
    }

    /// Names the first failing equation of a ballot whose combined check failed: proofs first, in
    /// ballot order, then the signature (a changed ciphertext breaks both, and the proof is the
    /// more telling).
    pub fn vartime_diagnose<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
    ) -> VerifyError {
        let questions = &election.manifest().questions;
        for (qi, (q, a)) in questions.iter().zip(&self.answers).enumerate() {
            let allowed = choice_allowed(q);
            for (ai, (ct, proof)) in a.choices.iter().zip(&a.choice_proofs).enumerate() {
                let prefix = choice_prefix(election, &self.credential, qi, ai, ct);
                if proof
                    .vartime_verify(rng, election.key(), prefix, &allowed, &[*ct])
                    .is_err()
                {
                    let item = format!("answers[{qi}].choice_proofs[{ai}]");
                    return VerifyError::new(Check::V9, item, "the equations do not hold");
                }
            }
            let Some(count_proof) = &a.count_proof else {
                continue;
            };
            let mut cts = vec![Ciphertext::sum(&a.choices)];
            if let Some(b) = &a.blank {
                cts.insert(0, *b);
            }
            let prefix = count_prefix(election, &self.credential, qi, q, a);
            if count_proof
                .vartime_verify(rng, election.key(), prefix, &count_allowed(q), &cts)
                .is_err()
            {
                let item = format!("answers[{qi}].count_proof");
                return VerifyError::new(Check::V10, item, "the equations do not hold");
            }
        }
        if self
            .signature
            .vartime_verify(&self.credential, self.signature_prefix())
            .is_err()
        {
            let detail = "the signature does not verify under the ballot's credential";
            return VerifyError::new(Check::V8, "signature", detail);
        }
        // Every part checks alone: only an unlucky draw of weights (probability 2^-128) or a
        // broken random generator could bring us here.
        VerifyError::new(
            Check::V8,
            "ballot",
            "the combined check failed although each part verifies alone",
        )
    }
}
