//! The single transferable vote: Droop quota, weighted inclusive Gregory method, exact rationals.
//!
//! Rules: the weighted inclusive Gregory method (WIGM) as in the Scottish Local Government
//! Elections Order 2007 (SSI 2007/42), Schedule 1 (the counting of votes), counted in exact
//! rationals instead of the Order's truncation to five decimal places, and with the candidates'
//! order instead of lot as the last tie-break. Why Gregory and not Meek (Hill, Wichmann and Woodall,
//! "Algorithm 123 — Single Transferable Vote by Meek's method", Computer Journal 30 (1987)):
//! Meek's keep values are the limit of an iteration that exact arithmetic cannot reach in
//! finitely many steps, so a Meek count needs a rounding or stopping convention that every
//! recount must reproduce to the digit; WIGM needs only one multiplication per transferred
//! surplus, so every number of the count is an exact fraction that a verifier recomputes without
//! any convention at all.
//!
//! The count, for `seats` seats among `n` candidates:
//!
//! 1. A ballot's ranks must be exactly `1..=k` for some `k` (no equal ranks, no gaps); ballots
//!    with `k = 0` are blank and not valid. `valid` is the number of the others.
//! 2. `quota = floor(valid / (seats + 1)) + 1` (Droop), an integer.
//! 3. Round 1: each valid ballot, of value 1, goes to its first preference.
//! 4. At the end of each round, every continuing candidate with at least `quota` votes is
//!    elected, most votes first. If the elected fill the seats, the count stops; if the
//!    continuing candidates are exactly as many as the seats left, they are all elected (most
//!    votes first, without the quota) and the count stops.
//! 5. Otherwise the next round transfers a surplus, if an elected candidate has more than
//!    `quota` votes and has not had their surplus transferred: the largest such surplus
//!    `s = votes − quota`. Every ballot the candidate holds (all of them: "inclusive") passes to
//!    its next preference among the continuing candidates with its value multiplied by the
//!    transfer value `s / votes`; a ballot with no further continuing preference is exhausted
//!    with that value. The candidate keeps exactly `quota`.
//! 6. Otherwise the next round excludes the continuing candidate with the fewest votes, and all
//!    their ballots pass at their current value to their next continuing preference (or are
//!    exhausted).
//!
//! Ties (equal votes when choosing whose surplus to transfer, whom to exclude, or the order of
//! candidates elected in one round) are broken by the "backwards" rule: the candidates' votes at
//! the end of the most recent earlier round at which they differed, the tied set shrinking to
//! those with the most (surplus, election) or fewest (exclusion) votes at each round looked at;
//! then, if still tied, by the public order of candidates: the smaller index has its surplus
//! transferred or is elected first, the larger index is excluded first.
//!
//! Without the Order's truncation nothing is lost to rounding: in every round the candidates'
//! votes (the elected ones' included, with any surplus not yet transferred) plus the exhausted
//! votes add up to `valid` exactly. Two published counts under the Order are reproduced stage by
//! stage in `tests/count_literature.rs`. Spec: docs/counting.md §3.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde::{Deserialize, Serialize};

use super::{CountError, Rational, strict_preferences};

/// Where a candidate stands at the end of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// Neither elected nor excluded: can receive transfers.
    Continuing,
    /// Elected (in this round or earlier).
    Elected,
    /// Excluded (in this round or earlier).
    Excluded,
}

/// How a tie was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum TieBreak {
    /// By the votes at the end of this earlier round (the backwards rule).
    EarlierRound {
        /// The round (1-based) whose totals decided.
        round: usize,
    },
    /// The candidates were tied in every round: decided by the public order of candidates.
    CandidateOrder,
}

/// What a round did before its elections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StvAction {
    /// Round 1: every valid ballot to its first preference.
    FirstPreferences,
    /// An elected candidate's surplus passed on.
    Surplus {
        /// The elected candidate whose surplus was transferred.
        candidate: usize,
        /// `votes − quota` before the transfer.
        surplus: Rational,
        /// `surplus / votes`: the factor applied to the value of each of their ballots.
        transfer_value: Rational,
        /// Set when several surpluses were equal.
        tie_break: Option<TieBreak>,
    },
    /// The continuing candidate with the fewest votes excluded, their ballots passed on.
    Exclusion {
        /// The excluded candidate.
        candidate: usize,
        /// Set when several candidates had the fewest votes.
        tie_break: Option<TieBreak>,
    },
}

/// A candidate elected at the end of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StvElected {
    /// The candidate.
    pub candidate: usize,
    /// True when elected by reaching the quota; false when elected because the continuing
    /// candidates were as many as the seats left.
    pub reached_quota: bool,
}

/// One round of an STV count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StvRound {
    /// The round's number, from 1.
    pub number: usize,
    /// What the round did.
    pub action: StvAction,
    /// The change of each candidate's votes in this round (round 1: the first preferences; a
    /// surplus: minus the surplus for its candidate; an exclusion: minus all the excluded
    /// candidate's votes).
    pub transfers: Vec<Rational>,
    /// The votes exhausted in this round (no further continuing preference).
    pub exhausted_transfer: Rational,
    /// Each candidate's votes at the end of the round (elected candidates keep theirs, which is
    /// `quota` once their surplus is transferred; excluded candidates have 0).
    pub votes: Vec<Rational>,
    /// All votes exhausted so far.
    pub exhausted: Rational,
    /// The candidates elected at the end of this round, in order.
    pub elected: Vec<StvElected>,
    /// Each candidate's status after this round's elections.
    pub status: Vec<CandidateStatus>,
}

/// The result of an STV count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StvResult {
    /// The number of candidates.
    pub candidates: usize,
    /// The number of seats.
    pub seats: usize,
    /// The number of ballots given, blank ones included.
    pub ballots: u64,
    /// The number of valid ballots: those ranking at least one candidate.
    pub valid: u64,
    /// The Droop quota, `floor(valid / (seats + 1)) + 1`.
    pub quota: u64,
    /// The elected candidates in the order of their election (exactly `seats` of them).
    pub elected: Vec<usize>,
    /// Every round, in order.
    pub rounds: Vec<StvRound>,
}

impl StvResult {
    /// The number of the first round whose candidates' votes plus exhausted votes differ from
    /// `valid`, or `None` when every round balances (as in every correct count). A reader of a
    /// published result can check this without recounting.
    pub fn first_unbalanced_round(&self) -> Option<usize> {
        let valid = Rational::from_integer(self.valid);
        self.rounds
            .iter()
            .find(|round| round.total() != valid)
            .map(|round| round.number)
    }
}

impl StvRound {
    /// The sum of all candidates' votes and the exhausted votes at the end of the round, which
    /// equals the number of valid ballots in every round of a correct count.
    pub fn total(&self) -> Rational {
        let mut sum = self.exhausted.as_big().clone();
        for v in &self.votes {
            sum += v.as_big();
        }
        Rational::from(sum)
    }
}

/// Ballots with the same preferences, moving together: they always carry the same value.
#[derive(Debug)]
struct Parcel {
    preferences: Vec<usize>,
    /// Index in `preferences` of the candidate now holding the parcel.
    position: usize,
    /// The total value of the parcel's ballots.
    value: BigRational,
}

/// Counts ranking ballots by STV (Droop quota, weighted inclusive Gregory, exact rationals) for
/// `seats` seats.
///
/// Each ballot has one entry per candidate: the rank given (1 = first), or 0 for unranked; the
/// ranks must be `1..=k` without equal ranks or gaps (a blank ballot, all 0, is accepted and not
/// valid). Errors: [`CountError::NoCandidates`], [`CountError::InvalidSeats`] (0 or more than the
/// candidates), and for the first bad ballot [`CountError::WrongLength`],
/// [`CountError::RankOutOfRange`], [`CountError::EqualRanks`], [`CountError::RankGap`].
pub fn stv<B: AsRef<[u32]>>(
    candidates: usize,
    seats: usize,
    ballots: &[B],
) -> Result<StvResult, CountError> {
    let n = candidates;
    if n == 0 {
        return Err(CountError::NoCandidates);
    }
    if seats == 0 || seats > n {
        return Err(CountError::InvalidSeats {
            seats,
            candidates: n,
        });
    }
    // Group equal preference lists: a sorted map, so the count does not depend on ballot order.
    let mut groups: BTreeMap<Vec<usize>, u64> = BTreeMap::new();
    let mut valid = 0u64;
    for (index, ballot) in ballots.iter().enumerate() {
        let preferences = strict_preferences(index, ballot.as_ref(), n)?;
        if !preferences.is_empty() {
            valid += 1;
            *groups.entry(preferences).or_insert(0) += 1;
        }
    }
    let quota = valid / (seats as u64 + 1) + 1;
    let mut count = Count {
        quota: BigRational::from_integer(BigInt::from(quota)),
        seats,
        votes: vec![BigRational::zero(); n],
        piles: vec![Vec::new(); n],
        status: vec![CandidateStatus::Continuing; n],
        pending_surplus: vec![false; n],
        exhausted: BigRational::zero(),
        parcels: Vec::new(),
        history: Vec::new(),
        elected: Vec::new(),
        rounds: Vec::new(),
    };

    // Round 1.
    let mut transfers = vec![BigRational::zero(); n];
    for (preferences, ballots) in groups {
        let first = preferences[0];
        let value = BigRational::from_integer(BigInt::from(ballots));
        count.votes[first] += &value;
        transfers[first] += &value;
        count.piles[first].push(count.parcels.len());
        count.parcels.push(Parcel {
            preferences,
            position: 0,
            value,
        });
    }
    let mut done = count.finish_round(StvAction::FirstPreferences, transfers, BigRational::zero());
    while !done {
        let mut transfers = vec![BigRational::zero(); n];
        let before = count.exhausted.clone();
        let pending: Vec<usize> = (0..n).filter(|&c| count.pending_surplus[c]).collect();
        let action = if !pending.is_empty() {
            let (candidate, tie_break) = count.pick(&pending, Extreme::Most, Index::Smallest);
            let votes = count.votes[candidate].clone();
            let surplus = &votes - &count.quota;
            let factor = &surplus / &votes;
            count.pending_surplus[candidate] = false;
            count.votes[candidate] = count.quota.clone();
            transfers[candidate] = -surplus.clone();
            count.pass_on(candidate, Some(&factor), &mut transfers);
            StvAction::Surplus {
                candidate,
                surplus: surplus.into(),
                transfer_value: factor.into(),
                tie_break,
            }
        } else {
            let continuing: Vec<usize> = (0..n)
                .filter(|&c| count.status[c] == CandidateStatus::Continuing)
                .collect();
            let (candidate, tie_break) = count.pick(&continuing, Extreme::Fewest, Index::Largest);
            count.status[candidate] = CandidateStatus::Excluded;
            transfers[candidate] = -count.votes[candidate].clone();
            count.votes[candidate] = BigRational::zero();
            count.pass_on(candidate, None, &mut transfers);
            StvAction::Exclusion {
                candidate,
                tie_break,
            }
        };
        let exhausted_transfer = &count.exhausted - &before;
        done = count.finish_round(action, transfers, exhausted_transfer);
    }

    Ok(StvResult {
        candidates: n,
        seats,
        ballots: ballots.len() as u64,
        valid,
        quota,
        elected: count.elected,
        rounds: count.rounds,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extreme {
    Most,
    Fewest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    Smallest,
    Largest,
}

/// The state of a count between rounds.
#[derive(Debug)]
struct Count {
    quota: BigRational,
    seats: usize,
    votes: Vec<BigRational>,
    /// The parcels each candidate holds (indices into `parcels`).
    piles: Vec<Vec<usize>>,
    status: Vec<CandidateStatus>,
    /// Elected candidates with more than the quota whose surplus is still to transfer.
    pending_surplus: Vec<bool>,
    exhausted: BigRational,
    parcels: Vec<Parcel>,
    /// Each finished round's votes, for the backwards tie-breaking rule.
    history: Vec<Vec<BigRational>>,
    elected: Vec<usize>,
    rounds: Vec<StvRound>,
}

impl Count {
    /// Moves all of `from`'s parcels to their next continuing preference (or to the exhausted
    /// votes), their value multiplied by `factor` if given.
    fn pass_on(
        &mut self,
        from: usize,
        factor: Option<&BigRational>,
        transfers: &mut [BigRational],
    ) {
        let pile = std::mem::take(&mut self.piles[from]);
        for index in pile {
            let parcel = &mut self.parcels[index];
            if let Some(factor) = factor {
                parcel.value *= factor;
            }
            let next = parcel.preferences[parcel.position + 1..]
                .iter()
                .position(|&c| self.status[c] == CandidateStatus::Continuing);
            match next {
                Some(offset) => {
                    parcel.position += 1 + offset;
                    let to = parcel.preferences[parcel.position];
                    self.votes[to] += &parcel.value;
                    transfers[to] += &parcel.value;
                    self.piles[to].push(index);
                }
                None => {
                    self.exhausted += &parcel.value;
                    parcel.value = BigRational::zero();
                }
            }
        }
    }

    /// Chooses one of `tied` (not empty) with the most or fewest current votes, breaking ties
    /// by the backwards rule and then by index.
    fn pick(&self, among: &[usize], extreme: Extreme, index: Index) -> (usize, Option<TieBreak>) {
        let keep = |set: &[usize], values: &[BigRational]| -> Vec<usize> {
            let best = set
                .iter()
                .map(|&c| &values[c])
                .reduce(|a, b| match extreme {
                    Extreme::Most => a.max(b),
                    Extreme::Fewest => a.min(b),
                });
            set.iter()
                .copied()
                .filter(|&c| Some(&values[c]) == best)
                .collect()
        };
        let mut tied = keep(among, &self.votes);
        if tied.len() <= 1 {
            return (tied.first().copied().unwrap_or(0), None);
        }
        // The current votes are the last round's; look at the rounds before it, latest first.
        let earlier = self.history.len().saturating_sub(1);
        for round in (0..earlier).rev() {
            tied = keep(&tied, &self.history[round]);
            if tied.len() == 1 {
                return (tied[0], Some(TieBreak::EarlierRound { round: round + 1 }));
            }
        }
        let chosen = match index {
            Index::Smallest => tied.iter().copied().min(),
            Index::Largest => tied.iter().copied().max(),
        };
        (chosen.unwrap_or(0), Some(TieBreak::CandidateOrder))
    }

    /// Elects whoever the round's totals elect, records the round, and says whether the count is
    /// over.
    fn finish_round(
        &mut self,
        action: StvAction,
        transfers: Vec<BigRational>,
        exhausted_transfer: BigRational,
    ) -> bool {
        self.history.push(self.votes.clone());
        let mut elected = Vec::new();
        let mut reaching: Vec<usize> = (0..self.votes.len())
            .filter(|&c| {
                self.status[c] == CandidateStatus::Continuing && self.votes[c] >= self.quota
            })
            .collect();
        while !reaching.is_empty() && self.elected.len() < self.seats {
            let (candidate, _) = self.pick(&reaching, Extreme::Most, Index::Smallest);
            reaching.retain(|&c| c != candidate);
            self.elect(candidate, true, &mut elected);
        }
        let mut done = self.elected.len() == self.seats;
        if !done {
            let mut continuing: Vec<usize> = (0..self.votes.len())
                .filter(|&c| self.status[c] == CandidateStatus::Continuing)
                .collect();
            if continuing.len() <= self.seats - self.elected.len() {
                while !continuing.is_empty() {
                    let (candidate, _) = self.pick(&continuing, Extreme::Most, Index::Smallest);
                    continuing.retain(|&c| c != candidate);
                    self.elect(candidate, false, &mut elected);
                }
                done = true;
            }
        }
        self.rounds.push(StvRound {
            number: self.rounds.len() + 1,
            action,
            transfers: transfers.into_iter().map(Rational::from).collect(),
            exhausted_transfer: exhausted_transfer.into(),
            votes: self.votes.iter().cloned().map(Rational::from).collect(),
            exhausted: self.exhausted.clone().into(),
            elected,
            status: self.status.clone(),
        });
        // Without candidates left to exclude or surpluses to transfer the count cannot go on;
        // with seats <= candidates this does not happen (step 4 elects the last ones first).
        done || !self
            .status
            .iter()
            .zip(&self.pending_surplus)
            .any(|(s, &p)| *s == CandidateStatus::Continuing || p)
    }

    fn elect(&mut self, candidate: usize, reached_quota: bool, elected: &mut Vec<StvElected>) {
        self.status[candidate] = CandidateStatus::Elected;
        self.pending_surplus[candidate] = (&self.votes[candidate] - &self.quota).is_positive();
        self.elected.push(candidate);
        elected.push(StvElected {
            candidate,
            reached_quota,
        });
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn r(numerator: i64, denominator: i64) -> Rational {
        Rational::new(numerator, denominator).unwrap()
    }

    fn ints(values: &[i64]) -> Vec<Rational> {
        values.iter().map(|&v| r(v, 1)).collect()
    }

    /// Expands "count × order" groups (orders as candidate letters, best first) into ballots.
    fn profile(candidates: usize, groups: &[(usize, &str)]) -> Vec<Vec<u32>> {
        let mut ballots = Vec::new();
        for &(count, order) in groups {
            let mut ranks = vec![0u32; candidates];
            for (place, letter) in order.bytes().enumerate() {
                ranks[usize::from(letter - b'A')] = place as u32 + 1;
            }
            ballots.extend(std::iter::repeat_n(ranks, count));
        }
        ballots
    }

    fn assert_balanced(result: &StvResult) {
        let valid = Rational::from_integer(result.valid);
        for round in &result.rounds {
            assert_eq!(round.total(), valid, "round {}", round.number);
        }
        assert_eq!(result.first_unbalanced_round(), None);
    }

    #[test]
    fn an_altered_round_is_found_unbalanced() {
        let ballots = profile(4, &[(8, "ABC"), (4, "AC"), (3, "BD"), (4, "C"), (1, "D")]);
        let mut result = stv(4, 2, &ballots).unwrap();
        result.rounds[2].votes[1] = r(20, 3);
        assert_eq!(result.first_unbalanced_round(), Some(3));
    }

    /// Worked by hand: 20 ballots, 2 seats, quota floor(20/3) + 1 = 7.
    /// 8 × ABC, 4 × AC, 3 × BD, 4 × C, 1 × D.
    /// Round 1: A 12, B 3, C 4, D 1; A elected.
    /// Round 2: A's surplus 5 at transfer value 5/12: the 8 ABC ballots give B 8·5/12 = 10/3,
    ///   the 4 AC ballots give C 4·5/12 = 5/3; A 7, B 19/3, C 17/3, D 1.
    /// Round 3: D excluded, their ballot exhausted (1).
    /// Round 4: C excluded (17/3 < 19/3): 4 C ballots (4) and the AC ballots (5/3) exhausted,
    ///   20/3 in all; B alone continuing for the last seat, elected without the quota.
    #[test]
    fn hand_worked_example_with_fractional_surplus_and_exhaustion() {
        let ballots = profile(4, &[(8, "ABC"), (4, "AC"), (3, "BD"), (4, "C"), (1, "D")]);
        let result = stv(4, 2, &ballots).unwrap();
        assert_eq!((result.valid, result.quota), (20, 7));
        assert_eq!(result.elected, vec![0, 1]);
        assert_eq!(result.rounds.len(), 4);

        let first = &result.rounds[0];
        assert_eq!(first.action, StvAction::FirstPreferences);
        assert_eq!(first.votes, ints(&[12, 3, 4, 1]));
        assert_eq!(first.transfers, ints(&[12, 3, 4, 1]));
        assert_eq!(
            first.elected,
            vec![StvElected {
                candidate: 0,
                reached_quota: true
            }]
        );

        let second = &result.rounds[1];
        assert_eq!(
            second.action,
            StvAction::Surplus {
                candidate: 0,
                surplus: r(5, 1),
                transfer_value: r(5, 12),
                tie_break: None
            }
        );
        assert_eq!(second.transfers, vec![r(-5, 1), r(10, 3), r(5, 3), r(0, 1)]);
        assert_eq!(second.votes, vec![r(7, 1), r(19, 3), r(17, 3), r(1, 1)]);
        assert_eq!(second.exhausted, Rational::zero());
        assert!(second.elected.is_empty());

        let third = &result.rounds[2];
        assert_eq!(
            third.action,
            StvAction::Exclusion {
                candidate: 3,
                tie_break: None
            }
        );
        assert_eq!(third.exhausted_transfer, r(1, 1));
        assert_eq!(third.votes, vec![r(7, 1), r(19, 3), r(17, 3), r(0, 1)]);

        let fourth = &result.rounds[3];
        assert_eq!(
            fourth.action,
            StvAction::Exclusion {
                candidate: 2,
                tie_break: None
            }
        );
        assert_eq!(fourth.exhausted_transfer, r(17, 3));
        assert_eq!(fourth.exhausted, r(20, 3));
        assert_eq!(fourth.votes, vec![r(7, 1), r(19, 3), r(0, 1), r(0, 1)]);
        assert_eq!(
            fourth.elected,
            vec![StvElected {
                candidate: 1,
                reached_quota: false
            }]
        );
        assert_eq!(
            fourth.status,
            vec![
                CandidateStatus::Elected,
                CandidateStatus::Elected,
                CandidateStatus::Excluded,
                CandidateStatus::Excluded
            ]
        );
        assert_balanced(&result);
    }

    /// The "food election" often used to explain STV (20 voters, 3 seats, Droop quota 6):
    /// candidates A Oranges, B Pears, C Chocolate, D Strawberries, E Hamburgers;
    /// 4 × A, 2 × BA, 8 × CD, 4 × CE, 1 × D, 1 × E.
    /// Round 1: C 12 elected. Round 2: surplus 6 at 1/2: D 1 + 4 = 5, E 1 + 2 = 3.
    /// Round 3: B (2) excluded, A 4 + 2 = 6 elected. Round 4: E (3) excluded, 1 + 2 exhausted;
    /// D alone continuing for the last seat. Elected: Chocolate, Oranges, Strawberries.
    #[test]
    fn food_election_example() {
        let ballots = profile(
            5,
            &[
                (4, "A"),
                (2, "BA"),
                (8, "CD"),
                (4, "CE"),
                (1, "D"),
                (1, "E"),
            ],
        );
        let result = stv(5, 3, &ballots).unwrap();
        assert_eq!(result.quota, 6);
        assert_eq!(result.elected, vec![2, 0, 3]);
        let votes: Vec<Vec<Rational>> = result.rounds.iter().map(|x| x.votes.clone()).collect();
        assert_eq!(
            votes,
            vec![
                ints(&[4, 2, 12, 1, 1]),
                ints(&[4, 2, 6, 5, 3]),
                ints(&[6, 0, 6, 5, 3]),
                ints(&[6, 0, 6, 5, 0]),
            ]
        );
        assert_eq!(
            result.rounds[1].action,
            StvAction::Surplus {
                candidate: 2,
                surplus: r(6, 1),
                transfer_value: r(1, 2),
                tie_break: None
            }
        );
        assert_eq!(result.rounds[3].exhausted, r(3, 1));
        assert_balanced(&result);
    }

    /// A second surplus made of ballots that already carry a fraction: 3 seats, 13 ballots,
    /// quota floor(13/4) + 1 = 4. 7 × ABC, 3 × C, 2 × D, 1 × E.
    /// Round 1: A 7 elected. Round 2: surplus 3 at 3/7: B gets 7·3/7 = 3.
    /// Round 3: E (1) excluded, exhausted. Round 4: D (2) excluded, exhausted (3 in all);
    /// B (3) and C (3) are the two continuing candidates for the two seats left: elected,
    /// equal votes now and in rounds 2 and 3, but in round 1 C had 3 and B 0, so C first.
    #[test]
    fn elections_without_quota_ordered_by_the_backwards_rule() {
        let ballots = profile(5, &[(7, "ABC"), (3, "C"), (2, "D"), (1, "E")]);
        let result = stv(5, 3, &ballots).unwrap();
        assert_eq!(result.quota, 4);
        assert_eq!(result.elected, vec![0, 2, 1]);
        assert_eq!(
            result.rounds[1].action,
            StvAction::Surplus {
                candidate: 0,
                surplus: r(3, 1),
                transfer_value: r(3, 7),
                tie_break: None
            }
        );
        assert_eq!(result.rounds[1].votes, ints(&[4, 3, 3, 2, 1]));
        assert_eq!(result.rounds.len(), 4);
        assert_eq!(result.rounds[3].exhausted, r(3, 1));
        assert_balanced(&result);
    }

    /// B and C tie at 1 in the only round: the backwards rule cannot decide, so the larger
    /// index, C, is excluded first.
    #[test]
    fn exclusion_tie_broken_by_candidate_order() {
        let ballots = profile(3, &[(2, "A"), (1, "B"), (1, "C")]);
        let result = stv(3, 1, &ballots).unwrap();
        assert_eq!(
            result.rounds[1].action,
            StvAction::Exclusion {
                candidate: 2,
                tie_break: Some(TieBreak::CandidateOrder)
            }
        );
        assert_eq!(result.elected, vec![0]);
    }

    /// B and C tie at 3 after D's exclusion; in round 1 C had 2 and B 3, so C is excluded.
    #[test]
    fn exclusion_tie_broken_by_earlier_round() {
        let ballots = profile(4, &[(5, "A"), (3, "B"), (2, "C"), (1, "DC")]);
        let result = stv(4, 1, &ballots).unwrap();
        assert_eq!(result.rounds[1].votes, ints(&[5, 3, 3, 0]));
        assert_eq!(
            result.rounds[2].action,
            StvAction::Exclusion {
                candidate: 2,
                tie_break: Some(TieBreak::EarlierRound { round: 1 })
            }
        );
        assert_eq!(result.elected, vec![0]);
    }

    #[test]
    fn blank_ballots_are_not_valid() {
        let result = stv(2, 1, &[vec![0, 0], vec![1, 2], vec![0, 1]]).unwrap();
        assert_eq!((result.ballots, result.valid, result.quota), (3, 2, 2));
        assert_balanced(&result);
    }

    #[test]
    fn rejects_ballot_with_equal_ranks_naming_both_entries() {
        assert_eq!(
            stv(3, 1, &[vec![1, 2, 3], vec![1, 2, 2]]),
            Err(CountError::EqualRanks {
                ballot: 1,
                candidate: 2,
                other: 1,
                rank: 2
            })
        );
    }

    #[test]
    fn rejects_ballot_with_rank_gap() {
        assert_eq!(
            stv(3, 1, &[vec![2, 0, 0]]),
            Err(CountError::RankGap {
                ballot: 0,
                candidate: 0,
                rank: 2,
                missing: 1
            })
        );
    }

    #[test]
    fn rejects_seats_zero_or_above_candidates() {
        let ballots = [vec![1, 2]];
        for seats in [0, 3] {
            assert_eq!(
                stv(2, seats, &ballots),
                Err(CountError::InvalidSeats {
                    seats,
                    candidates: 2
                })
            );
        }
    }

    #[test]
    fn rejects_wrong_length_and_rank_out_of_range() {
        assert_eq!(
            stv(2, 1, &[vec![1, 2], vec![1]]),
            Err(CountError::WrongLength {
                ballot: 1,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            stv(2, 1, &[vec![3, 1]]),
            Err(CountError::RankOutOfRange {
                ballot: 0,
                candidate: 0,
                rank: 3,
                candidates: 2
            })
        );
    }

    #[test]
    fn result_serializes_and_reads_back() {
        let ballots = profile(4, &[(8, "ABC"), (4, "AC"), (3, "BD"), (4, "C"), (1, "D")]);
        let result = stv(4, 2, &ballots).unwrap();
        let json = serde_json::to_string(&result).unwrap();
        assert!(json.contains("\"transfer_value\":\"5/12\""), "{json}");
        assert_eq!(serde_json::from_str::<StvResult>(&json).unwrap(), result);
    }

    /// Strict partial rankings: a shuffled list of candidates and how many of them are ranked.
    fn ballots_strategy() -> impl Strategy<Value = (usize, usize, Vec<Vec<u32>>)> {
        (1usize..7).prop_flat_map(|n| {
            let ballot = (Just((0..n).collect::<Vec<usize>>()).prop_shuffle(), 0..=n).prop_map(
                move |(order, ranked)| {
                    let mut ranks = vec![0u32; n];
                    for (place, &c) in order.iter().take(ranked).enumerate() {
                        ranks[c] = place as u32 + 1;
                    }
                    ranks
                },
            );
            (Just(n), 1..=n, prop::collection::vec(ballot, 0..60))
        })
    }

    /// Instant-runoff by its definition, in integers and independently of the code above: the
    /// winner of a one-seat STV count, or `None` when a tie would need breaking.
    fn brute_instant_runoff(n: usize, ballots: &[Vec<u32>]) -> Option<usize> {
        let orders: Vec<Vec<usize>> = ballots
            .iter()
            .map(|b| {
                let mut ranked: Vec<usize> = (0..n).filter(|&c| b[c] != 0).collect();
                ranked.sort_by_key(|&c| b[c]);
                ranked
            })
            .filter(|order| !order.is_empty())
            .collect();
        let quota = orders.len() as u64 / 2 + 1;
        let mut excluded = vec![false; n];
        loop {
            let mut tally = vec![0u64; n];
            for order in &orders {
                if let Some(&c) = order.iter().find(|&&c| !excluded[c]) {
                    tally[c] += 1;
                }
            }
            let continuing: Vec<usize> = (0..n).filter(|&c| !excluded[c]).collect();
            if let Some(&w) = continuing.iter().find(|&&c| tally[c] >= quota) {
                return Some(w);
            }
            if continuing.len() == 1 {
                return Some(continuing[0]);
            }
            let fewest = continuing.iter().map(|&c| tally[c]).min()?;
            let lowest: Vec<usize> = continuing
                .iter()
                .copied()
                .filter(|&c| tally[c] == fewest)
                .collect();
            if lowest.len() > 1 {
                return None;
            }
            excluded[lowest[0]] = true;
        }
    }

    /// 20,000 ballots over 12 candidates for 5 seats, from a fixed generator: the count stays
    /// exact (every round balances) and quick.
    #[test]
    fn large_count_balances_exactly() {
        let mut state = 7u64;
        let mut next = |bound: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % bound
        };
        let n = 12;
        let ballots: Vec<Vec<u32>> = (0..20_000)
            .map(|_| {
                let mut order: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    order.swap(i, next(i + 1));
                }
                let ranked = next(n + 1);
                let mut ranks = vec![0u32; n];
                for (place, &c) in order.iter().take(ranked).enumerate() {
                    ranks[c] = place as u32 + 1;
                }
                ranks
            })
            .collect();
        let result = stv(n, 5, &ballots).unwrap();
        assert_eq!(result.elected.len(), 5);
        assert_balanced(&result);
    }

    proptest! {
        #[test]
        fn one_seat_is_instant_runoff((n, _, ballots) in ballots_strategy()) {
            let result = stv(n, 1, &ballots).unwrap();
            let tie_broken = result.rounds.iter().any(|round| match &round.action {
                StvAction::Exclusion { tie_break, .. } => tie_break.is_some(),
                _ => false,
            });
            match brute_instant_runoff(n, &ballots) {
                Some(winner) => prop_assert_eq!(&result.elected, &vec![winner]),
                None => prop_assert!(tie_broken),
            }
        }

        #[test]
        fn every_round_balances_and_seats_are_filled((n, seats, ballots) in ballots_strategy()) {
            let result = stv(n, seats, &ballots).unwrap();
            let valid = ballots.iter().filter(|b| b.iter().any(|&x| x != 0)).count() as u64;
            prop_assert_eq!(result.valid, valid);
            prop_assert_eq!(result.quota, valid / (seats as u64 + 1) + 1);
            prop_assert_eq!(result.elected.len(), seats);
            let mut distinct = result.elected.clone();
            distinct.sort_unstable();
            distinct.dedup();
            prop_assert_eq!(distinct.len(), seats);
            let quota = Rational::from_integer(result.quota);
            let zero = Rational::zero();
            for (i, round) in result.rounds.iter().enumerate() {
                prop_assert_eq!(round.number, i + 1);
                prop_assert_eq!(round.total(), Rational::from_integer(valid));
                let mut moved = round.exhausted_transfer.as_big().clone();
                for t in &round.transfers {
                    moved += t.as_big();
                }
                let expected_moved = if i == 0 { valid } else { 0 };
                prop_assert_eq!(Rational::from(moved), Rational::from_integer(expected_moved));
                for v in &round.votes {
                    prop_assert!(*v >= zero);
                }
                for e in &round.elected {
                    prop_assert_eq!(e.reached_quota, round.votes[e.candidate] >= quota);
                }
            }
            let last = result.rounds.last().unwrap();
            for &c in &result.elected {
                prop_assert_eq!(last.status[c], CandidateStatus::Elected);
            }
        }

        #[test]
        fn deterministic_and_independent_of_ballot_order(
            (n, seats, mut ballots) in ballots_strategy(),
            seed in any::<u64>(),
        ) {
            let first = stv(n, seats, &ballots).unwrap();
            prop_assert_eq!(&first, &stv(n, seats, &ballots).unwrap());
            let mut state = seed;
            for i in (1..ballots.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ballots.swap(i, (state >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(first, stv(n, seats, &ballots).unwrap());
        }
    }
}
