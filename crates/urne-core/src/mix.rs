//! The mix phase of ranked and graded questions (spec §8.8): everything about it that is not the
//! shuffle proof itself (`proofs::shuffle`, spec §8.7) nor a record line.
//!
//! A *mixed* question's ballots are never summed. Instead, after the tally, the counted ballots'
//! ciphertexts of every mixed question are put side by side, one row per ballot (the **mix
//! input**, [`mix_row`]); at least `threshold` distinct trustees each shuffle the previous list
//! and sign their shuffle ([`TrusteeKey::sign_shuffle`]); trustees then publish a decryption
//! factor with its Chaum–Pedersen proof (spec §8.3) for every ciphertext of the last list
//! ([`TrusteeKey::decrypt_mix`], [`Share::decrypt_mix`]); anyone combines the factors
//! ([`mix_lambdas`], [`vartime_open_rows`]) into the plaintext rows, and counts them in the clear
//! ([`count_mixed`], with `crate::count`). As long as one shuffler is honest, no decrypted row
//! can be linked to its ballot, hence to its voter.
//!
//! Signature relation, for trustee i with identity key X (the manifest's `public_key` of i):
//! PK{ (x) : X = x·G } as a Schnorr signature (spec §7.3) with the prefix
//! H(SHUFFLE_SIGNATURE; fingerprint, X, i, position, list digest of the input, list digest of the
//! output), where a list digest is H(LIST; N, w, then every ciphertext row by row: α, β).
//!
//! Spec: docs/spec.md §8.8. Everything here that takes only public data is variable time and
//! says so; signing and decrypting use the trustee's secret in constant time.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_core::CryptoRng;

use crate::ballot::{Ballot, check_ranking};
use crate::count::{CountError, mj, schulze, stv};
use crate::dkg::{Share, lagrange_at_zero};
use crate::election::Election;
use crate::elgamal::Ciphertext;
use crate::error::{Check, VerifyError};
use crate::group::{G, Point};
use crate::hash::ItemHasher;
use crate::manifest::{Counting, KeySharing, Manifest, Question};
use crate::msm::Msm;
use crate::proofs::decryption::DecryptionFactor;
use crate::proofs::schnorr::SchnorrProof;
use crate::tally::{MixedCount, MixedResult};
use crate::trustee::TrusteeKey;

/// The mix phase's domain tags (spec §8.8).
pub mod tags {
    /// A list digest: the rows of a shuffle's input or output.
    pub const LIST: &str = "urne/v1/mix/list";
    /// A trustee's signature on its shuffle.
    pub const SHUFFLE_SIGNATURE: &str = "urne/v1/mix/shuffle-signature";
}

/// The mixed questions of a manifest, with their index, in manifest order.
pub fn mixed_questions(manifest: &Manifest) -> impl Iterator<Item = (usize, &Question)> {
    manifest
        .questions
        .iter()
        .enumerate()
        .filter(|(_, q)| q.counting.is_mixed())
}

/// The width w of a mix row: the number of answers of all mixed questions together (0 when the
/// election has none, and then there is no mix phase).
pub fn width(manifest: &Manifest) -> usize {
    mixed_questions(manifest)
        .map(|(_, q)| q.answers.len())
        .sum()
}

/// The largest value of each column of a mix row: the value bound (spec §6.3) of the column's
/// question.
pub fn column_bounds(manifest: &Manifest) -> Vec<u64> {
    mixed_questions(manifest)
        .flat_map(|(_, q)| std::iter::repeat_n(q.value_bound(), q.answers.len()))
        .collect()
}

/// A ballot's row of the mix input: for each mixed question in manifest order, its choice
/// ciphertexts in answer order. `None` when the ballot does not have the manifest's shape (it
/// then fails V-5 and is not counted).
pub fn mix_row(manifest: &Manifest, ballot: &Ballot) -> Option<Vec<Ciphertext>> {
    if ballot.answers.len() != manifest.questions.len() {
        return None;
    }
    let mut row = Vec::with_capacity(width(manifest));
    for (qi, q) in mixed_questions(manifest) {
        let choices = &ballot.answers[qi].choices;
        if choices.len() != q.answers.len() {
            return None;
        }
        row.extend_from_slice(choices);
    }
    Some(row)
}

/// The list digest of a shuffle's input or output (spec §8.8.2): H(LIST; N, w, every ciphertext
/// row by row). An empty list has w = 0.
pub fn list_digest(rows: &[Vec<Ciphertext>]) -> [u8; 64] {
    let mut h = ItemHasher::new(tags::LIST);
    h.len(rows.len()).len(rows.first().map_or(0, Vec::len));
    for row in rows {
        for ct in row {
            h.point(&ct.alpha).point(&ct.beta);
        }
    }
    h.digest()
}

fn shuffle_prefix(
    election: &Election,
    signer: &Point,
    trustee: u32,
    position: u32,
    inputs: &[u8; 64],
    outputs: &[u8; 64],
) -> ItemHasher {
    let mut h = ItemHasher::new(tags::SHUFFLE_SIGNATURE);
    h.bytes(&election.fingerprint().0)
        .point(signer)
        .u64(trustee.into())
        .u64(position.into())
        .bytes(inputs)
        .bytes(outputs);
    h
}

impl TrusteeKey {
    /// Signs shuffle number `position` (from 0) of the mix phase, made by trustee `trustee` (its
    /// index in the manifest, from 1, whose `public_key` is this key), from `inputs` to
    /// `outputs` (spec §8.8.2).
    pub fn sign_shuffle<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
        trustee: u32,
        position: u32,
        inputs: &[Vec<Ciphertext>],
        outputs: &[Vec<Ciphertext>],
    ) -> SchnorrProof {
        let prefix = shuffle_prefix(
            election,
            self.public(),
            trustee,
            position,
            &list_digest(inputs),
            &list_digest(outputs),
        );
        SchnorrProof::prove(rng, self.secret(), prefix)
    }

    /// This trustee's decryption factors, with proofs, for every ciphertext of `rows` (the last
    /// shuffle's output) under independent trustee keys (spec §8.8.3).
    pub fn decrypt_mix<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
        rows: &[Vec<Ciphertext>],
    ) -> Vec<Vec<DecryptionFactor>> {
        let fp = &election.fingerprint().0;
        rows.iter()
            .map(|row| {
                row.iter()
                    .map(|ct| DecryptionFactor::prove(rng, fp, self.secret(), self.public(), ct))
                    .collect()
            })
            .collect()
    }
}

impl Share {
    /// This share's decryption factors, with proofs against the trustee's verification key, for
    /// every ciphertext of `rows` under threshold sharing (spec §8.8.3). `None` when the
    /// election has no verification key for this share's trustee.
    pub fn decrypt_mix<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        election: &Election,
        rows: &[Vec<Ciphertext>],
    ) -> Option<Vec<Vec<DecryptionFactor>>> {
        let vk = *election.verification_key(self.index())?;
        let fp = &election.fingerprint().0;
        Some(
            rows.iter()
                .map(|row| {
                    row.iter()
                        .map(|ct| DecryptionFactor::prove(rng, fp, self.secret(), &vk, ct))
                        .collect()
                })
                .collect(),
        )
    }
}

/// V-20: `signature` is trustee `trustee`'s signature on shuffle `position` from `inputs` to
/// `outputs`, under the trustee's manifest `public_key`. Variable time: public data only.
pub fn vartime_verify_shuffle_signature(
    election: &Election,
    trustee: u32,
    position: u32,
    inputs: &[Vec<Ciphertext>],
    outputs: &[Vec<Ciphertext>],
    signature: &SchnorrProof,
) -> Result<(), VerifyError> {
    let trustees = &election.manifest().trustees;
    let Some(t) = (trustee as usize)
        .checked_sub(1)
        .and_then(|i| trustees.get(i))
    else {
        let detail = format!("{trustee} is not a trustee of the manifest");
        return Err(VerifyError::new(Check::V20, "trustee", detail));
    };
    let prefix = shuffle_prefix(
        election,
        &t.public_key,
        trustee,
        position,
        &list_digest(inputs),
        &list_digest(outputs),
    );
    signature
        .vartime_verify(&t.public_key, prefix)
        .map_err(|_| {
            let detail = format!("is not trustee {trustee}'s signature on this shuffle");
            VerifyError::new(Check::V20, "signature", detail)
        })
}

/// The key a trustee's decryption factors are checked against: its manifest key under
/// independent keys, its verification key from the ceremony under threshold sharing.
fn factor_key(election: &Election, trustee: u32) -> Option<Point> {
    election.verification_key(trustee).copied()
}

/// V-21: checks trustee `trustee`'s `factors` for `rows` in one multiscalar multiplication
/// (spec §9); `offset` is the position of `rows[0]` in the whole list, to name a bad factor as
/// `rows[r][k]`. Variable time: public data only.
pub fn vartime_verify_mix_factors<R: CryptoRng + ?Sized>(
    rng: &mut R,
    election: &Election,
    trustee: u32,
    offset: u64,
    rows: &[Vec<Ciphertext>],
    factors: &[Vec<DecryptionFactor>],
) -> Result<(), VerifyError> {
    let Some(vk) = factor_key(election, trustee) else {
        let detail = "no verification key: not a trustee of the manifest, or the key-generation \
                      ceremony was not judged";
        return Err(VerifyError::new(Check::V21, "trustee", detail));
    };
    if factors.len() != rows.len() {
        let detail = format!("{} rows of factors for {} rows", factors.len(), rows.len());
        return Err(VerifyError::new(Check::V21, "factors", detail));
    }
    for (r, (f, row)) in factors.iter().zip(rows).enumerate() {
        if f.len() != row.len() {
            let detail = format!("{} factors for {} ciphertexts", f.len(), row.len());
            return Err(VerifyError::new(
                Check::V21,
                format!("factors[{r}]"),
                detail,
            ));
        }
    }
    let fp = &election.fingerprint().0;
    let n: usize = rows.iter().map(Vec::len).sum();
    let mut msm = Msm::with_capacity(4 * n + 1);
    let mut vk_coef = Scalar::ZERO;
    for (f, row) in factors.iter().zip(rows) {
        for (f, ct) in f.iter().zip(row) {
            f.vartime_collect(rng, fp, &vk, ct, &mut msm, &mut vk_coef);
        }
    }
    msm.push(vk_coef, &vk);
    if msm.vartime_is_identity(election.key().point().element()) {
        return Ok(());
    }
    for (r, (f, row)) in factors.iter().zip(rows).enumerate() {
        for (k, (f, ct)) in f.iter().zip(row).enumerate() {
            if f.vartime_verify(rng, fp, &vk, ct).is_err() {
                return Err(VerifyError::new(
                    Check::V21,
                    format!("factors[{r}][{k}]"),
                    format!(
                        "the proof of trustee {trustee}'s factor on row {} does not verify",
                        offset + r as u64
                    ),
                ));
            }
        }
    }
    Err(VerifyError::new(
        Check::V21,
        "factors",
        "the combined check failed although each factor verifies alone",
    ))
}

/// V-21: the trustees whose factors are combined, `set` (each index once, in the order their
/// factors are given), can decrypt: every trustee under independent keys, at least `threshold`
/// under threshold sharing. Returns each one's coefficient in the combination: 1 under
/// independent keys, the Lagrange coefficient at zero over `set` under threshold sharing
/// (spec §8.5.8).
pub fn mix_lambdas(election: &Election, set: &[u32]) -> Result<Vec<Scalar>, VerifyError> {
    let m = election.manifest();
    let n = m.trustees.len() as u32;
    match m.key_sharing {
        KeySharing::Independent => {
            let mut seen = vec![false; n as usize];
            for &j in set {
                let i = (j as usize).wrapping_sub(1);
                if i >= seen.len() || std::mem::replace(&mut seen[i], true) {
                    let detail = "unknown or repeated trustee";
                    return Err(VerifyError::new(Check::V21, format!("trustee {j}"), detail));
                }
            }
            if let Some(missing) = seen.iter().position(|s| !s) {
                let detail = "every trustee's factors are needed under independent keys";
                return Err(VerifyError::new(
                    Check::V21,
                    format!("trustee {}", missing + 1),
                    detail,
                ));
            }
            Ok(vec![Scalar::ONE; set.len()])
        }
        KeySharing::Threshold => lagrange_at_zero(set, m.threshold, n)
            .map_err(|e| VerifyError::new(Check::V21, "trustees", e.to_string())),
    }
}

/// The plaintext values of `rows` (the whole last list) from the decryption factors of the
/// trustees in `set`: `factors[j]` holds trustee `set[j]`'s factors of every row, in the list's
/// order. It combines them with [`mix_lambdas`] and opens the rows with [`vartime_open_rows`]
/// under the manifest's [`column_bounds`]. Errors: those of [`mix_lambdas`]. Variable time:
/// public data only.
pub fn vartime_open_with_factors(
    election: &Election,
    set: &[u32],
    rows: &[Vec<Ciphertext>],
    factors: &[Vec<Vec<DecryptionFactor>>],
) -> Result<Vec<Vec<Option<u64>>>, VerifyError> {
    let lambdas = mix_lambdas(election, set)?;
    let points: Vec<Vec<Vec<Point>>> = factors
        .iter()
        .map(|f| {
            f.iter()
                .map(|row| row.iter().map(|x| x.factor).collect())
                .collect()
        })
        .collect();
    let slices: Vec<&[Vec<Point>]> = points.iter().map(Vec::as_slice).collect();
    Ok(vartime_open_rows(
        rows,
        &column_bounds(election.manifest()),
        &lambdas,
        &slices,
    ))
}

/// The plaintext values of `rows` (the last shuffle's output, or some of its rows): for each
/// ciphertext (α, β) at column k, the value v in [0, `bounds[k]`] with v·G = β − Σⱼ λⱼ·Dⱼ, or
/// `None` if there is none (spec §8.8.4). `factors[j]` holds trustee j's factor points for the
/// same rows, in the order of `lambdas`. Variable time: public data only.
pub fn vartime_open_rows(
    rows: &[Vec<Ciphertext>],
    bounds: &[u64],
    lambdas: &[Scalar],
    factors: &[&[Vec<Point>]],
) -> Vec<Vec<Option<u64>>> {
    let top = bounds.iter().copied().max().unwrap_or(0);
    let mut table = Vec::with_capacity(top as usize + 1);
    let mut p = RistrettoPoint::default();
    for _ in 0..=top {
        table.push(p);
        p += G;
    }
    rows.iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(k, ct)| {
                    let points = factors
                        .iter()
                        .map(|f| f.get(r).and_then(|row| row.get(k)).map(|p| *p.element()));
                    let points: Option<Vec<RistrettoPoint>> = points.collect();
                    let s_alpha = RistrettoPoint::vartime_multiscalar_mul(lambdas, points?);
                    let m = ct.beta.element() - s_alpha;
                    let bound = *bounds.get(k)?;
                    table
                        .iter()
                        .take(bound as usize + 1)
                        .position(|t| *t == m)
                        .map(|v| v as u64)
                })
                .collect()
        })
        .collect()
}

/// Why the decrypted rows cannot be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixCountError {
    /// A row does not have the mix width.
    #[error("row {row}: {found} values, the mixed questions have {expected} answers")]
    Width {
        /// The row's position.
        row: usize,
        /// The mix width.
        expected: usize,
        /// The row's length.
        found: usize,
    },
    /// The method refused its ballots.
    #[error("question {question}: {error}")]
    Count {
        /// The question's index in the manifest.
        question: usize,
        /// The method's error.
        error: CountError,
    },
}

/// Counts the decrypted rows (spec §8.8.5): for each question, in manifest order, `None` for a
/// plurality question, and for a mixed one its [`MixedResult`]: its columns of every row, the
/// rankings that [`check_ranking`] refuses set aside as invalid, the others counted by the
/// question's method (grades are counted as decrypted: 0 the worst). With no row, there is no
/// count: every entry is `None`.
pub fn count_mixed(
    manifest: &Manifest,
    rows: &[Vec<u64>],
) -> Result<Vec<Option<MixedResult>>, MixCountError> {
    let w = width(manifest);
    for (row, r) in rows.iter().enumerate() {
        if r.len() != w {
            return Err(MixCountError::Width {
                row,
                expected: w,
                found: r.len(),
            });
        }
    }
    let mut out = vec![None; manifest.questions.len()];
    if rows.is_empty() {
        return Ok(out);
    }
    let mut column = 0;
    for (qi, q) in mixed_questions(manifest) {
        let n = q.answers.len();
        let start = column;
        let values = rows.iter().map(|r| {
            r[start..start + n]
                .iter()
                .map(|&v| u32::try_from(v).unwrap_or(u32::MAX))
                .collect::<Vec<u32>>()
        });
        column += n;
        let mut valid = Vec::with_capacity(rows.len());
        let mut invalid = 0u64;
        for v in values {
            if q.counting.is_ranking() && check_ranking(q, &v).is_err() {
                invalid += 1;
            } else {
                valid.push(v);
            }
        }
        let err = |error| MixCountError::Count {
            question: qi,
            error,
        };
        let count = match q.counting {
            Counting::Schulze => MixedCount::Schulze(schulze::schulze(n, &valid).map_err(err)?),
            Counting::Stv => {
                let seats = q.seats.unwrap_or(1) as usize;
                MixedCount::Stv(stv::stv(n, seats, &valid).map_err(err)?)
            }
            Counting::MajorityJudgment => {
                let g = q.grades.as_ref().map_or(0, Vec::len) as u32;
                MixedCount::MajorityJudgment(mj::majority_judgment(n, g, &valid).map_err(err)?)
            }
            Counting::Plurality => continue,
        };
        out[qi] = Some(MixedResult {
            ballots: rows.len() as u64,
            invalid,
            count,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Question;

    fn ranked(counting: Counting) -> Question {
        let mut q = Question::plurality("Rank", &["A", "B", "C"], 1, 3, false);
        q.counting = counting;
        if counting == Counting::Stv {
            q.seats = Some(1);
        }
        q
    }

    #[test]
    fn count_sets_invalid_rankings_aside() {
        let setup = crate::testkit::ElectionBuilder::with_questions(
            "mix-count",
            vec![
                Question::plurality("Yes?", &["Yes", "No"], 1, 1, false),
                ranked(Counting::Schulze),
                ranked(Counting::Stv),
            ],
        )
        .build(&mut crate::testkit::rng_from_seed(1));
        let m = setup.election.manifest();
        assert_eq!(width(m), 6);
        // Row 1's Schulze ranking gives rank 1 twice; row 2's STV ranking skips rank 2.
        let rows = vec![
            vec![1, 2, 3, 2, 1, 0],
            vec![1, 1, 0, 1, 2, 3],
            vec![3, 2, 1, 1, 0, 3],
        ];
        let counts = count_mixed(m, &rows).unwrap();
        assert!(counts[0].is_none());
        let s = counts[1].as_ref().unwrap();
        assert_eq!((s.ballots, s.invalid, s.count.ballots()), (3, 1, 2));
        let t = counts[2].as_ref().unwrap();
        assert_eq!((t.ballots, t.invalid, t.count.ballots()), (3, 1, 2));
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["ballots"], 3);
        assert_eq!(json["invalid"], 1);
        assert_eq!(json["method"], "schulze");
        assert!(json["pairwise"].is_array());
        let back: MixedResult = serde_json::from_value(json).unwrap();
        assert_eq!(&back, s);
        assert!(count_mixed(m, &[vec![1, 2]]).is_err());
        // Every ranking invalid: each method counts no ballot.
        let none = count_mixed(m, &[vec![1, 1, 0, 2, 2, 0]]).unwrap();
        assert_eq!(none[2].as_ref().unwrap().invalid, 1);
        assert_eq!(none[2].as_ref().unwrap().count.ballots(), 0);
        assert!(count_mixed(m, &[]).unwrap().iter().all(Option::is_none));
    }
}
