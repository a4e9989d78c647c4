//! Counting decrypted preferential ballots in the clear.
//!
//! Questions whose answers are rankings or grades cannot be summed homomorphically the way
//! approval answers are: their ballots are decrypted one by one (after a mix, so that no
//! decrypted ballot can be linked to its voter) and then counted by one of the methods here.
//! The count lives in the protocol core so that the universal verifier runs the very same code
//! on the decrypted ballots of the record and compares every number of the published result.
//!
//! Three methods, each a pure function of the candidates' number, the method's parameters and
//! the list of ballots, with no I/O, no randomness and no floating point:
//!
//! - [`schulze::schulze`]: the Condorcet–Schulze method (winning votes), one winner and a full
//!   ranking;
//! - [`stv::stv`]: the single transferable vote with the Droop quota and the weighted inclusive
//!   Gregory method, counted in exact rationals, for several seats;
//! - [`mj::majority_judgment`]: Balinski and Laraki's majority judgment, over grades.
//!
//! The ballot forms (each a `Vec<u32>`, or anything that is `AsRef<[u32]>`, with one entry per
//! candidate, in the question's order of candidates):
//!
//! - a **ranking ballot** gives entry `c` = the rank of candidate `c`: 1 is the first choice, 2
//!   the second and so on; 0 means "not ranked". A rank is at most the number of candidates.
//! - a **grades ballot** gives entry `c` = the grade of candidate `c`, an index in `0..grades`
//!   where 0 is the worst grade and `grades - 1` the best.
//!
//! Every method checks every ballot first and returns a [`CountError`] naming the ballot's index
//! (0-based, in the order given) and the candidate's entry; none panics on any input. The
//! results are plain serde types meant for the election record and the results pages; exact
//! fractions travel as [`Rational`], a canonical `"numerator/denominator"` string.
//!
//! Spec: docs/spec.md §8.6 and docs/counting.md, which describe each method precisely enough to
//! reimplement it.
//!
//! ```
//! use urne_core::count::{schulze::schulze, stv::stv};
//!
//! // Four ranking ballots over candidates 0, 1, 2: twice 0 > 1 > 2, then 0 > 2 > 1, 1 > 0 > 2.
//! let ballots = [vec![1, 2, 3], vec![1, 2, 3], vec![1, 3, 2], vec![2, 1, 3]];
//! assert_eq!(schulze(3, &ballots)?.winners, vec![0]);
//! // Two seats: quota 2; candidate 0's surplus of 1 passes on at 1/3, giving 1 two thirds.
//! let count = stv(3, 2, &ballots)?;
//! assert_eq!(count.quota, 2);
//! assert_eq!(count.rounds[1].votes[1].to_string(), "5/3");
//! assert_eq!(count.elected, vec![0, 1]);
//! # Ok::<(), urne_core::count::CountError>(())
//! ```

pub mod mj;
pub mod schulze;
pub mod stv;

use std::fmt;
use std::str::FromStr;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a count refused its input. Every variant about a ballot names the ballot's index (0-based,
/// in the order the ballots were given) and the candidate's entry in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    /// The question has no candidates.
    #[error("the question has no candidates")]
    NoCandidates,
    /// A ballot does not have exactly one entry per candidate.
    #[error("ballot {ballot}: {found} entries, expected one per candidate ({expected})")]
    WrongLength {
        /// Index of the ballot.
        ballot: usize,
        /// The number of candidates.
        expected: usize,
        /// The ballot's number of entries.
        found: usize,
    },
    /// A rank is larger than the number of candidates.
    #[error(
        "ballot {ballot}, candidate {candidate}: rank {rank} is larger than the number of \
         candidates ({candidates})"
    )]
    RankOutOfRange {
        /// Index of the ballot.
        ballot: usize,
        /// Index of the candidate (the entry).
        candidate: usize,
        /// The rank found.
        rank: u32,
        /// The number of candidates.
        candidates: usize,
    },
    /// Two candidates share a rank, which the single transferable vote does not accept.
    #[error(
        "ballot {ballot}, candidate {candidate}: rank {rank} is also given to candidate {other}; \
         STV needs a strict order"
    )]
    EqualRanks {
        /// Index of the ballot.
        ballot: usize,
        /// Index of the candidate (the later entry holding the rank).
        candidate: usize,
        /// The earlier candidate with the same rank.
        other: usize,
        /// The shared rank.
        rank: u32,
    },
    /// The ranks of a ballot skip a number, which the single transferable vote does not accept.
    #[error(
        "ballot {ballot}, candidate {candidate}: rank {rank} but no candidate has rank {missing}; \
         STV ranks must be 1, 2, 3, ... without gaps"
    )]
    RankGap {
        /// Index of the ballot.
        ballot: usize,
        /// Index of the candidate holding the smallest rank above the gap.
        candidate: usize,
        /// That candidate's rank.
        rank: u32,
        /// The smallest rank that no candidate holds.
        missing: u32,
    },
    /// A grade is not below the number of grades.
    #[error(
        "ballot {ballot}, candidate {candidate}: grade {grade} is not below the number of grades \
         ({grades})"
    )]
    GradeOutOfRange {
        /// Index of the ballot.
        ballot: usize,
        /// Index of the candidate (the entry).
        candidate: usize,
        /// The grade found.
        grade: u32,
        /// The number of grades.
        grades: u32,
    },
    /// The scale of grades is empty.
    #[error("the number of grades must be at least 1")]
    NoGrades,
    /// The number of seats is 0 or larger than the number of candidates.
    #[error("seats must be between 1 and the number of candidates ({candidates}), not {seats}")]
    InvalidSeats {
        /// The number of seats asked for.
        seats: usize,
        /// The number of candidates.
        candidates: usize,
    },
    /// Majority judgment has no median grade without ballots.
    #[error("majority judgment needs at least one ballot")]
    NoBallots,
}

/// Checks the shape shared by all ballots: candidates exist and the ballot has one entry each.
fn check_length(ballot: usize, entries: &[u32], candidates: usize) -> Result<(), CountError> {
    if candidates == 0 {
        return Err(CountError::NoCandidates);
    }
    if entries.len() != candidates {
        return Err(CountError::WrongLength {
            ballot,
            expected: candidates,
            found: entries.len(),
        });
    }
    Ok(())
}

/// Checks a ranking ballot for the Schulze method: each rank is 0 (not ranked) or at most the
/// number of candidates; equal ranks and gaps are allowed.
fn check_ranking(ballot: usize, ranks: &[u32], candidates: usize) -> Result<(), CountError> {
    check_length(ballot, ranks, candidates)?;
    for (candidate, &rank) in ranks.iter().enumerate() {
        if rank as usize > candidates {
            return Err(CountError::RankOutOfRange {
                ballot,
                candidate,
                rank,
                candidates,
            });
        }
    }
    Ok(())
}

/// Checks a ranking ballot for STV (ranks in range, no two equal, exactly 1..=k for some k) and
/// returns its candidates in order of preference.
fn strict_preferences(
    ballot: usize,
    ranks: &[u32],
    candidates: usize,
) -> Result<Vec<usize>, CountError> {
    check_ranking(ballot, ranks, candidates)?;
    // holder[r] = the candidate given rank r (ranks are at most `candidates`).
    let mut holder: Vec<Option<usize>> = vec![None; candidates + 1];
    for (candidate, &rank) in ranks.iter().enumerate() {
        if rank == 0 {
            continue;
        }
        let slot = &mut holder[rank as usize];
        if let Some(other) = *slot {
            return Err(CountError::EqualRanks {
                ballot,
                candidate,
                other,
                rank,
            });
        }
        *slot = Some(candidate);
    }
    let mut order = Vec::new();
    let mut missing = None;
    for (rank, slot) in holder.iter().enumerate().skip(1) {
        match (*slot, missing) {
            (Some(candidate), None) => order.push(candidate),
            (Some(candidate), Some(missing)) => {
                return Err(CountError::RankGap {
                    ballot,
                    candidate,
                    rank: rank as u32,
                    missing,
                });
            }
            (None, None) => missing = Some(rank as u32),
            (None, Some(_)) => {}
        }
    }
    Ok(order)
}

/// An exact rational number, as counted by STV.
///
/// It serializes as a canonical string: the integer alone when the denominator is 1
/// (`"7"`, `"-2"`), otherwise `"numerator/denominator"` in lowest terms with a positive
/// denominator (`"19/3"`), in decimal digits without leading zeros or `+`. Parsing accepts only
/// that form, so each value has exactly one spelling in the record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rational(BigRational);

impl Rational {
    /// Zero.
    pub fn zero() -> Self {
        Rational(BigRational::zero())
    }

    /// The integer `n`.
    pub fn from_integer(n: u64) -> Self {
        Rational(BigRational::from_integer(BigInt::from(n)))
    }

    /// `numerator / denominator`, reduced; `None` when the denominator is 0.
    pub fn new(numerator: i64, denominator: i64) -> Option<Self> {
        if denominator == 0 {
            return None;
        }
        Some(Rational(BigRational::new(
            BigInt::from(numerator),
            BigInt::from(denominator),
        )))
    }

    /// The underlying big rational.
    pub fn as_big(&self) -> &BigRational {
        &self.0
    }

    /// Whether this is 0.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl From<BigRational> for Rational {
    fn from(value: BigRational) -> Self {
        Rational(value)
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.denom().is_one() {
            write!(f, "{}", self.0.numer())
        } else {
            write!(f, "{}/{}", self.0.numer(), self.0.denom())
        }
    }
}

/// Why a string is not a canonical [`Rational`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a canonical rational (`n` or `n/d` in lowest terms, d > 1)")]
pub struct ParseRationalError(String);

impl FromStr for Rational {
    type Err = ParseRationalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseRationalError(s.to_owned());
        let (numerator, denominator) = match s.split_once('/') {
            Some((n, d)) => (n, Some(d)),
            None => (s, None),
        };
        let numerator = BigInt::from_str(numerator).map_err(|_| bad())?;
        let value = match denominator {
            None => BigRational::from_integer(numerator),
            Some(d) => {
                let d = BigInt::from_str(d).map_err(|_| bad())?;
                if d.is_zero() {
                    return Err(bad());
                }
                BigRational::new(numerator, d)
            }
        };
        let value = Rational(value);
        // Canonical form only: the value must print back to the very same string (this refuses
        // "+1", "01", "2/4", "3/1", "1/-2" and "-0").
        if value.to_string() != s {
            return Err(bad());
        }
        Ok(value)
    }
}

impl Serialize for Rational {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rational {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Rational::from_str(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rational_strings_are_canonical() {
        let third = Rational::new(19, 3).unwrap();
        assert_eq!(third.to_string(), "19/3");
        assert_eq!(Rational::new(8, 4).unwrap().to_string(), "2");
        assert_eq!("19/3".parse::<Rational>().unwrap(), third);
        assert_eq!("0".parse::<Rational>().unwrap(), Rational::zero());
        assert_eq!(serde_json::to_string(&third).unwrap(), "\"19/3\"");
        assert_eq!(serde_json::from_str::<Rational>("\"19/3\"").unwrap(), third);
    }

    #[test]
    fn rejects_rational_non_canonical_spellings() {
        for s in [
            "", "+1", "01", "2/4", "3/1", "1/-2", "-0", "1/0", "1/", "/2", "1.5", " 1", "1/2/3",
        ] {
            assert!(s.parse::<Rational>().is_err(), "{s:?} accepted");
        }
        assert!(serde_json::from_str::<Rational>("\"2/4\"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn rational_strings_round_trip(
            numerator in proptest::prelude::any::<i64>(),
            denominator in 1i64..,
        ) {
            let value = Rational::new(numerator, denominator).unwrap();
            let text = value.to_string();
            proptest::prop_assert_eq!(text.parse::<Rational>(), Ok(value));
        }

        #[test]
        fn parsed_rationals_print_back_identically(text in "-?[0-9]{0,4}(/-?[0-9]{0,4})?") {
            if let Ok(value) = text.parse::<Rational>() {
                proptest::prop_assert_eq!(value.to_string(), text);
            }
        }
    }

    /// Any ballots at all, of any length and values: a few candidates, entries up to 5.
    fn any_ballots() -> impl proptest::strategy::Strategy<Value = (usize, Vec<Vec<u32>>)> {
        use proptest::prelude::*;
        (
            0usize..4,
            prop::collection::vec(prop::collection::vec(0u32..6, 0..5), 0..8),
        )
    }

    /// Whether a ballot is a valid STV ranking, by the definition: right length, ranks at most
    /// n, and the non-zero ranks are exactly 1..=k.
    fn valid_stv_ballot(n: usize, ballot: &[u32]) -> bool {
        let mut ranks: Vec<u32> = ballot.iter().copied().filter(|&r| r != 0).collect();
        ranks.sort_unstable();
        ballot.len() == n && ranks.iter().enumerate().all(|(i, &r)| r == i as u32 + 1)
    }

    proptest::proptest! {
        /// Never a panic, and an error always names the first ballot that is wrong.
        #[test]
        fn bad_input_is_refused_at_the_first_bad_ballot((n, ballots) in any_ballots()) {
            use proptest::{prop_assert, prop_assert_eq};
            let named = |error: &CountError| match *error {
                CountError::WrongLength { ballot, .. }
                | CountError::RankOutOfRange { ballot, .. }
                | CountError::EqualRanks { ballot, .. }
                | CountError::RankGap { ballot, .. }
                | CountError::GradeOutOfRange { ballot, .. } => Some(ballot),
                _ => None,
            };
            let first_bad = |ok: &dyn Fn(&[u32]) -> bool| ballots.iter().position(|b| !ok(b));
            let ranking_ok = |b: &[u32]| b.len() == n && b.iter().all(|&r| r as usize <= n);
            let grades_ok = |b: &[u32]| b.len() == n && b.iter().all(|&g| g < 3);
            let stv_ok = |b: &[u32]| valid_stv_ballot(n, b);
            let schulze = schulze::schulze(n, &ballots);
            let stv = stv::stv(n, 1, &ballots);
            let mj = mj::majority_judgment(n, 3, &ballots);
            if n == 0 {
                prop_assert_eq!(schulze, Err(CountError::NoCandidates));
                prop_assert_eq!(stv, Err(CountError::NoCandidates));
                prop_assert_eq!(mj, Err(CountError::NoCandidates));
                return Ok(());
            }
            prop_assert_eq!(schulze.err().as_ref().and_then(named), first_bad(&ranking_ok));
            prop_assert_eq!(stv.err().as_ref().and_then(named), first_bad(&stv_ok));
            match mj {
                Err(CountError::NoBallots) => prop_assert!(ballots.is_empty()),
                other => {
                    let error = other.err();
                    prop_assert_eq!(error.as_ref().and_then(named), first_bad(&grades_ok));
                }
            }
        }
    }

    #[test]
    fn rejects_stv_ballot_with_gap_naming_entry() {
        assert_eq!(
            strict_preferences(4, &[1, 0, 3], 3),
            Err(CountError::RankGap {
                ballot: 4,
                candidate: 2,
                rank: 3,
                missing: 2
            })
        );
        assert_eq!(strict_preferences(0, &[2, 1, 0], 3), Ok(vec![1, 0]));
        assert_eq!(strict_preferences(0, &[0, 0, 0], 3), Ok(vec![]));
    }
}
