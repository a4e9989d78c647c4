//! Majority judgment.
//!
//! Papers: Michel Balinski and Rida Laraki, "A theory of measuring, electing, and ranking",
//! Proceedings of the National Academy of Sciences 104 (2007) 8720–8725; and "Majority
//! Judgment: Measuring, Ranking, and Electing", MIT Press (2011), chapters 13–14 (the majority
//! value, the majority ranking and the majority gauge).
//!
//! Every voter gives every candidate a grade on a common scale `0..grades`, 0 the worst. A
//! candidate's **merit profile** is the number of ballots giving each grade. Sort the `N` grades
//! a candidate received from worst to best, `g_1 <= ... <= g_N`: the **majority grade** is the
//! lower middlemost one, `g_{floor((N+1)/2)}` (for even `N`, the lower of the two middle grades).
//! The **majority value** is the sequence of majority grades obtained by taking the majority grade
//! away, then the majority grade of what is left, and so on until nothing is left. Candidates are
//! ranked by comparing their majority values lexicographically, best first (the **majority
//! ranking**); two candidates with equal majority values have equal merit profiles, and are
//! ordered by their index in the question (the smaller index first).
//!
//! The **majority gauge** `(p, α, q)` is reported too: `α` the majority grade, `p` the number of
//! grades strictly above `α`, `q` strictly below (counts here, shares in the book). Balinski and
//! Laraki show that when the gauges order two candidates, the majority ranking orders them the
//! same way: a higher `α` wins; with equal `α`, a candidate with `p > q` beats one with
//! `p <= q`; two with `p > q` are ordered by the larger `p`, two with `p <= q` by the smaller `q`.
//! The gauge cannot separate everything (equal gauges, different profiles), so the ranking here
//! uses the majority value, which decides all those cases; a property test checks that the two
//! agree wherever the gauge decides. Spec: docs/counting.md §4.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::{CountError, check_length};

/// The majority gauge of a candidate, in numbers of ballots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MajorityGauge {
    /// `p`: the number of grades strictly above the majority grade.
    pub above: u64,
    /// `α`: the majority grade.
    pub grade: u32,
    /// `q`: the number of grades strictly below the majority grade.
    pub below: u64,
}

impl MajorityGauge {
    /// Compares two gauges by Balinski and Laraki's majority-gauge rule; `None` when the gauge
    /// does not decide (equal `α`, and equal `p` and `q` on the same side).
    pub fn decides(&self, other: &MajorityGauge) -> Option<Ordering> {
        match self.grade.cmp(&other.grade) {
            Ordering::Equal => {}
            decided => return Some(decided),
        }
        let plus = |g: &MajorityGauge| g.above > g.below;
        let order = match (plus(self), plus(other)) {
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (true, true) => self.above.cmp(&other.above),
            (false, false) => other.below.cmp(&self.below),
        };
        (order != Ordering::Equal).then_some(order)
    }
}

/// A candidate's grades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeritProfile {
    /// `counts[g]` = the number of ballots giving grade `g` (0 the worst).
    pub counts: Vec<u64>,
    /// The lower median grade.
    pub majority_grade: u32,
    /// The majority gauge `(p, α, q)`.
    pub gauge: MajorityGauge,
}

/// The result of a majority-judgment count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MjResult {
    /// The number of candidates.
    pub candidates: usize,
    /// The number of grades; grade 0 is the worst.
    pub grades: u32,
    /// The number of ballots.
    pub ballots: u64,
    /// Each candidate's merit profile, by candidate index.
    pub profiles: Vec<MeritProfile>,
    /// The candidates whose majority value is the best (more than one only when their merit
    /// profiles are equal), in increasing index order.
    pub winners: Vec<usize>,
    /// Every candidate, best first, by majority value and then by index.
    pub ranking: Vec<usize>,
}

/// Counts grades ballots by majority judgment.
///
/// Each ballot has one entry per candidate, a grade in `0..grades` (0 the worst); every candidate
/// must be graded. Errors: [`CountError::NoCandidates`], [`CountError::NoGrades`],
/// [`CountError::NoBallots`], and for the first bad ballot [`CountError::WrongLength`] or
/// [`CountError::GradeOutOfRange`].
pub fn majority_judgment<B: AsRef<[u32]>>(
    candidates: usize,
    grades: u32,
    ballots: &[B],
) -> Result<MjResult, CountError> {
    if candidates == 0 {
        return Err(CountError::NoCandidates);
    }
    if grades == 0 {
        return Err(CountError::NoGrades);
    }
    let mut counts = vec![vec![0u64; grades as usize]; candidates];
    for (index, ballot) in ballots.iter().enumerate() {
        let entries = ballot.as_ref();
        check_length(index, entries, candidates)?;
        for (candidate, &grade) in entries.iter().enumerate() {
            if grade >= grades {
                return Err(CountError::GradeOutOfRange {
                    ballot: index,
                    candidate,
                    grade,
                    grades,
                });
            }
            counts[candidate][grade as usize] += 1;
        }
    }
    if ballots.is_empty() {
        return Err(CountError::NoBallots);
    }
    let total = ballots.len() as u64;
    let profiles: Vec<MeritProfile> = counts
        .into_iter()
        .map(|counts| {
            let grade = grade_at(&counts, (total - 1) / 2);
            let below: u64 = counts[..grade as usize].iter().sum();
            let above: u64 = counts[grade as usize + 1..].iter().sum();
            MeritProfile {
                counts,
                majority_grade: grade,
                gauge: MajorityGauge {
                    above,
                    grade,
                    below,
                },
            }
        })
        .collect();

    let mut ranking: Vec<usize> = (0..candidates).collect();
    ranking.sort_by(|&a, &b| {
        compare_majority_values(&profiles[b].counts, &profiles[a].counts).then(a.cmp(&b))
    });
    let winners: Vec<usize> = {
        let mut w: Vec<usize> = ranking
            .iter()
            .copied()
            .filter(|&c| profiles[c].counts == profiles[ranking[0]].counts)
            .collect();
        w.sort_unstable();
        w
    };
    Ok(MjResult {
        candidates,
        grades,
        ballots: total,
        profiles,
        winners,
        ranking,
    })
}

/// The grade at `position` (0-based) in the grades sorted from worst to best.
fn grade_at(counts: &[u64], position: u64) -> u32 {
    let mut seen = 0u64;
    for (grade, &count) in counts.iter().enumerate() {
        seen += count;
        if position < seen {
            return grade as u32;
        }
    }
    // Positions are below the total by construction; the best grade is the safe answer.
    counts.len().saturating_sub(1) as u32
}

/// The majority value: the successive lower medians, as positions in the sorted grades. Taking
/// the lower median of what is left always takes the element next to the hole already made: from
/// the right when more elements are left on the right, else from the left.
fn majority_value(counts: &[u64]) -> impl Iterator<Item = u32> + '_ {
    let total: u64 = counts.iter().sum();
    let median = total.saturating_sub(1) / 2;
    // `left` elements remain at positions < left, `right` at positions >= total - right.
    let mut left = median;
    let mut right = total.saturating_sub(median + 1);
    let first = (total > 0).then_some(median);
    first
        .into_iter()
        .chain(std::iter::from_fn(move || {
            if right > left {
                right -= 1;
                Some(total - 1 - right)
            } else if left > 0 {
                left -= 1;
                Some(left)
            } else {
                None
            }
        }))
        .map(move |position| grade_at(counts, position))
}

/// Compares two candidates' majority values lexicographically (equal numbers of grades).
fn compare_majority_values(a: &[u64], b: &[u64]) -> Ordering {
    majority_value(a).cmp(majority_value(b))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The majority value by its definition, independently of the code above: sort, take the
    /// lower median away, repeat.
    fn brute_majority_value(mut grades: Vec<u32>) -> Vec<u32> {
        grades.sort_unstable();
        let mut value = Vec::new();
        while !grades.is_empty() {
            value.push(grades.remove((grades.len() - 1) / 2));
        }
        value
    }

    fn column(ballots: &[Vec<u32>], candidate: usize) -> Vec<u32> {
        ballots.iter().map(|b| b[candidate]).collect()
    }

    /// Worked by hand on the six-grade scale 0 Reject, 1 Poor, 2 Acceptable, 3 Good, 4 Very good,
    /// 5 Excellent, five voters. Sorted grades: candidate 0 (0,1,2,4,5), candidate 1
    /// (1,2,2,3,3), candidate 2 (0,2,2,2,2): all three have majority grade 2 (Acceptable).
    /// Gauges (p, α, q): 0 → (2, 2, 2), 1 → (2, 2, 1), 2 → (0, 2, 1). Balinski–Laraki's gauge
    /// rule: candidate 1 is "2+" (p > q) and wins; 0 and 2 are "2−", and the smaller q wins, so
    /// 2 before 0. Majority values: 1 → 2,2,3,1,3; 2 → 2,2,2,0,2; 0 → 2,1,4,0,5, the same order.
    #[test]
    fn hand_worked_equal_majority_grades_decided_by_the_gauge() {
        let ballots = vec![
            vec![5, 3, 2],
            vec![4, 3, 2],
            vec![2, 2, 2],
            vec![1, 2, 2],
            vec![0, 1, 0],
        ];
        let result = majority_judgment(3, 6, &ballots).unwrap();
        assert_eq!(result.profiles[0].counts, vec![1, 1, 1, 0, 1, 1]);
        assert_eq!(result.profiles[1].counts, vec![0, 1, 2, 2, 0, 0]);
        assert_eq!(result.profiles[2].counts, vec![1, 0, 4, 0, 0, 0]);
        for profile in &result.profiles {
            assert_eq!(profile.majority_grade, 2);
        }
        let gauges: Vec<(u64, u32, u64)> = result
            .profiles
            .iter()
            .map(|p| (p.gauge.above, p.gauge.grade, p.gauge.below))
            .collect();
        assert_eq!(gauges, vec![(2, 2, 2), (2, 2, 1), (0, 2, 1)]);
        assert_eq!(
            majority_value(&result.profiles[1].counts).collect::<Vec<_>>(),
            vec![2, 2, 3, 1, 3]
        );
        assert_eq!(result.ranking, vec![1, 2, 0]);
        assert_eq!(result.winners, vec![1]);
    }

    /// An even number of voters takes the lower of the two middle grades (Balinski and Laraki's
    /// lower middlemost): (0, 0, 3, 3) has majority grade 0 and loses to (1, 1, 1, 1), though
    /// its mean is higher.
    #[test]
    fn even_number_of_voters_takes_the_lower_middle_grade() {
        let ballots = vec![vec![0, 1], vec![0, 1], vec![3, 1], vec![3, 1]];
        let result = majority_judgment(2, 4, &ballots).unwrap();
        assert_eq!(result.profiles[0].majority_grade, 0);
        assert_eq!(result.profiles[1].majority_grade, 1);
        assert_eq!(result.ranking, vec![1, 0]);
    }

    /// Majority grades differ: the higher majority grade wins whatever the rest.
    #[test]
    fn higher_majority_grade_wins() {
        // Candidate 0: (0, 2, 2) → 2; candidate 1: (1, 1, 3) → 1; candidate 2: (3, 3, 0) → 3.
        let ballots = vec![vec![0, 1, 3], vec![2, 1, 3], vec![2, 3, 0]];
        let result = majority_judgment(3, 4, &ballots).unwrap();
        let grades: Vec<u32> = result.profiles.iter().map(|p| p.majority_grade).collect();
        assert_eq!(grades, vec![2, 1, 3]);
        assert_eq!(result.ranking, vec![2, 0, 1]);
    }

    #[test]
    fn equal_profiles_are_tied_winners_ordered_by_index() {
        let ballots = vec![vec![1, 2, 2], vec![0, 1, 1]];
        let result = majority_judgment(3, 3, &ballots).unwrap();
        assert_eq!(result.winners, vec![1, 2]);
        assert_eq!(result.ranking, vec![1, 2, 0]);
    }

    #[test]
    fn rejects_grade_out_of_range_naming_ballot_and_entry() {
        assert_eq!(
            majority_judgment(3, 3, &[vec![0, 1, 2], vec![2, 3, 0]]),
            Err(CountError::GradeOutOfRange {
                ballot: 1,
                candidate: 1,
                grade: 3,
                grades: 3
            })
        );
    }

    #[test]
    fn rejects_wrong_length_no_grades_no_ballots_no_candidates() {
        assert_eq!(
            majority_judgment(2, 3, &[vec![0, 1], vec![2, 1, 0]]),
            Err(CountError::WrongLength {
                ballot: 1,
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            majority_judgment(2, 0, &[vec![0, 0]]),
            Err(CountError::NoGrades)
        );
        assert_eq!(
            majority_judgment::<Vec<u32>>(2, 3, &[]),
            Err(CountError::NoBallots)
        );
        assert_eq!(
            majority_judgment::<Vec<u32>>(0, 3, &[]),
            Err(CountError::NoCandidates)
        );
    }

    fn ballots_strategy() -> impl Strategy<Value = (usize, u32, Vec<Vec<u32>>)> {
        (1usize..6, 1u32..7).prop_flat_map(|(n, g)| {
            (
                Just(n),
                Just(g),
                prop::collection::vec(prop::collection::vec(0..g, n), 1..40),
            )
        })
    }

    proptest! {
        #[test]
        fn ranking_follows_majority_grades_and_values((n, g, ballots) in ballots_strategy()) {
            let result = majority_judgment(n, g, &ballots).unwrap();
            let mut sorted = result.ranking.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());
            for c in 0..n {
                let value = brute_majority_value(column(&ballots, c));
                prop_assert_eq!(result.profiles[c].majority_grade, value[0]);
                let counts = &result.profiles[c].counts;
                prop_assert_eq!(counts.iter().sum::<u64>(), ballots.len() as u64);
                prop_assert_eq!(majority_value(counts).collect::<Vec<_>>(), value);
            }
            for pair in result.ranking.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let (ga, gb) = (&result.profiles[a], &result.profiles[b]);
                prop_assert!(ga.majority_grade >= gb.majority_grade);
                let va = brute_majority_value(column(&ballots, a));
                let vb = brute_majority_value(column(&ballots, b));
                prop_assert!(va > vb || (va == vb && a < b));
            }
            // Wherever the majority gauge decides, the ranking agrees (Balinski–Laraki).
            let place = |c: usize| result.ranking.iter().position(|&x| x == c).unwrap();
            for a in 0..n {
                for b in 0..n {
                    let decided = result.profiles[a].gauge.decides(&result.profiles[b].gauge);
                    if decided == Some(Ordering::Greater) {
                        prop_assert!(place(a) < place(b), "gauge puts {} above {}", a, b);
                    }
                }
            }
            let top = brute_majority_value(column(&ballots, result.ranking[0]));
            for c in 0..n {
                let tied = brute_majority_value(column(&ballots, c)) == top;
                prop_assert_eq!(tied, result.winners.contains(&c));
            }
        }

        #[test]
        fn deterministic_and_independent_of_ballot_order(
            (n, g, mut ballots) in ballots_strategy(),
            seed in any::<u64>(),
        ) {
            let first = majority_judgment(n, g, &ballots).unwrap();
            prop_assert_eq!(&first, &majority_judgment(n, g, &ballots).unwrap());
            let mut state = seed;
            for i in (1..ballots.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ballots.swap(i, (state >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(first, majority_judgment(n, g, &ballots).unwrap());
        }
    }
}
