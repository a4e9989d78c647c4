//! The Condorcet–Schulze method, with winning votes.
//!
//! Paper: Markus Schulze, "A new monotonic, clone-independent, reversal symmetric, and
//! Condorcet-consistent single-winner election method", Social Choice and Welfare 36 (2011)
//! 267–303, §2 (definition), §2.3 (the Floyd–Warshall-style computation of strongest paths) and
//! §4.1 (the order `O` is transitive).
//!
//! From the ballots we count `d[i][j]`, the number of voters who strictly prefer candidate `i` to
//! candidate `j`. A candidate ranked on a ballot is preferred to every candidate left unranked
//! (rank 0) on it; unranked candidates are equal to one another, and equal ranks are equal. A
//! link `i → j` exists when `d[i][j] > d[j][i]` and its strength is `d[i][j]` ("winning votes",
//! the paper's default measure). `p[i][j]` is the strength of the strongest path from `i` to `j`,
//! a path being as strong as its weakest link, and 0 when there is none. Candidate `i` beats `j`
//! when `p[i][j] > p[j][i]`; this relation `O` is a strict partial order (the paper's §4.1), and
//! the winners are the candidates that nobody beats.
//!
//! The full ranking is the linear extension of `O` that, at each place, takes the
//! smallest-index candidate not beaten by any candidate still unplaced. Ties, where `O` says
//! nothing, are thus broken by the public order of candidates in the question (their index), a
//! fixed tie-breaking ranking in the sense of the paper's §5; the first of the ranking is the
//! winner with the smallest index. Spec: docs/counting.md §2.

// The matrices are indexed d[i][j] and p[i][j] as in the paper; index loops read like it.
#![allow(clippy::needless_range_loop)]

use serde::{Deserialize, Serialize};

use super::{CountError, check_ranking};

/// The result of a Schulze count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchulzeResult {
    /// The number of candidates.
    pub candidates: usize,
    /// The number of ballots counted (blank ones included: they change no `d`).
    pub ballots: u64,
    /// `pairwise[i][j]` = `d[i][j]`, the number of ballots that rank `i` strictly above `j`
    /// (0 on the diagonal).
    pub pairwise: Vec<Vec<u64>>,
    /// `strongest_paths[i][j]` = `p[i][j]`, the winning-votes strength of the strongest path
    /// from `i` to `j` (0 on the diagonal and when there is no path).
    pub strongest_paths: Vec<Vec<u64>>,
    /// The candidates beaten by nobody (`p[w][x] >= p[x][w]` for all `x`), in increasing index
    /// order; more than one means a tie that the ranking breaks by index.
    pub winners: Vec<usize>,
    /// Every candidate, best first: the linear extension of Schulze's order that places the
    /// smallest-index unbeaten candidate first at each step.
    pub ranking: Vec<usize>,
}

/// Counts ranking ballots by the Schulze method (winning votes).
///
/// Each ballot has one entry per candidate: the rank given (1 = first), or 0 for unranked.
/// Equal ranks, gaps and empty ballots are accepted. Errors name the first bad ballot and entry:
/// [`CountError::NoCandidates`], [`CountError::WrongLength`], [`CountError::RankOutOfRange`].
pub fn schulze<B: AsRef<[u32]>>(
    candidates: usize,
    ballots: &[B],
) -> Result<SchulzeResult, CountError> {
    if candidates == 0 {
        return Err(CountError::NoCandidates);
    }
    let n = candidates;
    let mut d = vec![vec![0u64; n]; n];
    for (index, ballot) in ballots.iter().enumerate() {
        let ranks = ballot.as_ref();
        check_ranking(index, ranks, n)?;
        // Unranked (0) comes after every rank.
        let key = |c: usize| match ranks[c] {
            0 => u64::MAX,
            r => u64::from(r),
        };
        for i in 0..n {
            for j in 0..n {
                if key(i) < key(j) {
                    d[i][j] += 1;
                }
            }
        }
    }

    // Schulze 2011 §2.3: links of winning-votes strength, then widest paths.
    let mut p = vec![vec![0u64; n]; n];
    for i in 0..n {
        for j in 0..n {
            if i != j && d[i][j] > d[j][i] {
                p[i][j] = d[i][j];
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            if j == i {
                continue;
            }
            for k in 0..n {
                if k == i || k == j {
                    continue;
                }
                let through = p[j][i].min(p[i][k]);
                if through > p[j][k] {
                    p[j][k] = through;
                }
            }
        }
    }

    let beats = |a: usize, b: usize| p[a][b] > p[b][a];
    let winners: Vec<usize> = (0..n).filter(|&w| (0..n).all(|x| !beats(x, w))).collect();

    let mut unplaced: Vec<usize> = (0..n).collect();
    let mut ranking = Vec::with_capacity(n);
    while !unplaced.is_empty() {
        // O is a strict partial order, so some unplaced candidate is unbeaten by the others;
        // should that ever fail, the smallest index is taken rather than panicking.
        let pos = unplaced
            .iter()
            .position(|&c| unplaced.iter().all(|&x| !beats(x, c)))
            .unwrap_or(0);
        ranking.push(unplaced.remove(pos));
    }

    Ok(SchulzeResult {
        candidates: n,
        ballots: ballots.len() as u64,
        pairwise: d,
        strongest_paths: p,
        winners,
        ranking,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Expands "count × order" groups (orders as candidate letters, best first) into ballots.
    fn profile(candidates: usize, groups: &[(usize, &str)]) -> Vec<Vec<u32>> {
        let mut ballots = Vec::new();
        for &(count, order) in groups {
            let mut ranks = vec![0u32; candidates];
            for (place, letter) in order.bytes().enumerate() {
                ranks[usize::from(letter - b'A')] = place as u32 + 1;
            }
            for _ in 0..count {
                ballots.push(ranks.clone());
            }
        }
        ballots
    }

    /// Schulze 2011, §3.1 (example 1): 45 voters, 5 candidates; the paper's pairwise matrix and
    /// strongest paths, winner E, and the order E > A > C > B > D.
    #[test]
    fn schulze_2011_example_1_matrices_and_winner() {
        let ballots = profile(
            5,
            &[
                (5, "ACBED"),
                (5, "ADECB"),
                (8, "BEDAC"),
                (3, "CABED"),
                (7, "CAEBD"),
                (2, "CBADE"),
                (7, "DCEBA"),
                (8, "EBADC"),
            ],
        );
        let result = schulze(5, &ballots).unwrap();
        assert_eq!(
            result.pairwise,
            vec![
                vec![0, 20, 26, 30, 22],
                vec![25, 0, 16, 33, 18],
                vec![19, 29, 0, 17, 24],
                vec![15, 12, 28, 0, 14],
                vec![23, 27, 21, 31, 0],
            ]
        );
        assert_eq!(
            result.strongest_paths,
            vec![
                vec![0, 28, 28, 30, 24],
                vec![25, 0, 28, 33, 24],
                vec![25, 29, 0, 29, 24],
                vec![25, 28, 28, 0, 24],
                vec![25, 28, 28, 31, 0],
            ]
        );
        assert_eq!(result.winners, vec![4]);
        assert_eq!(result.ranking, vec![4, 0, 2, 1, 3]);
        assert_eq!(result.ballots, 45);
    }

    /// Schulze 2011, §3.2 (example 2): 30 voters, 4 candidates, winner D.
    #[test]
    fn schulze_2011_example_2_winner_d() {
        let ballots = profile(
            4,
            &[
                (5, "ACBD"),
                (2, "ACDB"),
                (3, "ADCB"),
                (4, "BACD"),
                (3, "CBDA"),
                (3, "CDBA"),
                (1, "DACB"),
                (5, "DBAC"),
                (4, "DCBA"),
            ],
        );
        let result = schulze(4, &ballots).unwrap();
        assert_eq!(result.pairwise[0], vec![0, 11, 20, 14]);
        assert_eq!(result.strongest_paths[3], vec![18, 18, 18, 0]);
        assert_eq!(result.winners, vec![3]);
        assert_eq!(result.ranking[0], 3);
    }

    /// Schulze 2011, §3.4 (example 4): 9 voters, B and D are both potential winners
    /// (p[B][D] = p[D][B] = 5); the tie goes to the smaller index, B. Schulze's order has only
    /// B > C and D > A, so the ranking by smallest unbeaten index is B, C, D, A.
    #[test]
    fn schulze_2011_example_4_tie_broken_by_index() {
        let ballots = profile(4, &[(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")]);
        let result = schulze(4, &ballots).unwrap();
        assert_eq!(result.winners, vec![1, 3]);
        assert_eq!(result.strongest_paths[1][3], 5);
        assert_eq!(result.strongest_paths[3][1], 5);
        assert_eq!(result.ranking, vec![1, 2, 3, 0]);
    }

    #[test]
    fn partial_and_equal_ranks_follow_the_documented_preferences() {
        // Candidate 0 ranked, 1 and 2 unranked; then 1 and 2 tied first, 0 unranked.
        let result = schulze(3, &[vec![1, 0, 0], vec![0, 1, 1]]).unwrap();
        assert_eq!(
            result.pairwise,
            vec![vec![0, 1, 1], vec![1, 0, 0], vec![1, 0, 0]]
        );
        assert_eq!(result.winners, vec![0, 1, 2]);
        assert_eq!(result.ranking, vec![0, 1, 2]);
    }

    #[test]
    fn rejects_ballot_wrong_length_naming_ballot() {
        assert_eq!(
            schulze(3, &[vec![1, 2, 3], vec![1, 2]]),
            Err(CountError::WrongLength {
                ballot: 1,
                expected: 3,
                found: 2
            })
        );
    }

    #[test]
    fn rejects_rank_above_candidates_naming_entry() {
        assert_eq!(
            schulze(3, &[vec![1, 2, 3], vec![1, 4, 0]]),
            Err(CountError::RankOutOfRange {
                ballot: 1,
                candidate: 1,
                rank: 4,
                candidates: 3
            })
        );
    }

    #[test]
    fn rejects_no_candidates() {
        assert_eq!(schulze::<Vec<u32>>(0, &[]), Err(CountError::NoCandidates));
    }

    /// Random ballots with ties and unranked candidates: ranks in 0..=n.
    fn ballots_strategy() -> impl Strategy<Value = (usize, Vec<Vec<u32>>)> {
        (1usize..6).prop_flat_map(|n| {
            (
                Just(n),
                prop::collection::vec(prop::collection::vec(0..=n as u32, n), 0..40),
            )
        })
    }

    /// Brute force, independent of the code above: the candidate that more voters prefer to
    /// each other candidate than the reverse, if any.
    fn condorcet_winner(n: usize, ballots: &[Vec<u32>]) -> Option<usize> {
        let prefers = |b: &Vec<u32>, x: usize, y: usize| b[x] != 0 && (b[y] == 0 || b[x] < b[y]);
        (0..n).find(|&w| {
            (0..n).filter(|&x| x != w).all(|x| {
                let for_w = ballots.iter().filter(|b| prefers(b, w, x)).count();
                let for_x = ballots.iter().filter(|b| prefers(b, x, w)).count();
                for_w > for_x
            })
        })
    }

    /// The strongest path by its definition, independently of the Floyd–Warshall loop above:
    /// the best of the weakest links over every simple path of links `d[x][y] > d[y][x]`.
    fn brute_strongest_path(d: &[Vec<u64>], from: usize, to: usize) -> u64 {
        fn walk(d: &[Vec<u64>], at: usize, to: usize, seen: &mut Vec<bool>, weakest: u64) -> u64 {
            if at == to {
                return weakest;
            }
            let mut best = 0;
            for next in 0..d.len() {
                if !seen[next] && d[at][next] > d[next][at] {
                    seen[next] = true;
                    best = best.max(walk(d, next, to, seen, weakest.min(d[at][next])));
                    seen[next] = false;
                }
            }
            best
        }
        let mut seen = vec![false; d.len()];
        seen[from] = true;
        walk(d, from, to, &mut seen, u64::MAX)
    }

    proptest! {
        #[test]
        fn strongest_paths_match_the_definition((n, ballots) in ballots_strategy()) {
            let result = schulze(n, &ballots).unwrap();
            for i in 0..n {
                for j in 0..n {
                    let expected = if i == j {
                        0
                    } else {
                        brute_strongest_path(&result.pairwise, i, j)
                    };
                    prop_assert_eq!(result.strongest_paths[i][j], expected, "p[{}][{}]", i, j);
                }
            }
        }

        #[test]
        fn condorcet_winner_is_the_schulze_winner((n, ballots) in ballots_strategy()) {
            let result = schulze(n, &ballots).unwrap();
            if let Some(w) = condorcet_winner(n, &ballots) {
                prop_assert_eq!(&result.winners, &vec![w]);
                prop_assert_eq!(result.ranking[0], w);
            }
        }

        #[test]
        fn winners_are_unbeaten_and_ranking_extends_the_order(
            (n, ballots) in ballots_strategy()
        ) {
            let result = schulze(n, &ballots).unwrap();
            let p = &result.strongest_paths;
            prop_assert!(!result.winners.is_empty());
            for w in 0..n {
                let unbeaten = (0..n).all(|x| p[w][x] >= p[x][w]);
                prop_assert_eq!(unbeaten, result.winners.contains(&w));
            }
            prop_assert!(result.winners.contains(&result.ranking[0]));
            let mut sorted = result.ranking.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());
            // Whoever beats another in p is ranked above it.
            for (i, &a) in result.ranking.iter().enumerate() {
                for &b in &result.ranking[i + 1..] {
                    prop_assert!(p[b][a] <= p[a][b]);
                }
            }
            for i in 0..n {
                for j in 0..n {
                    let both = result.pairwise[i][j] + result.pairwise[j][i];
                    prop_assert!(both <= ballots.len() as u64);
                }
            }
        }

        #[test]
        fn deterministic_and_independent_of_ballot_order(
            (n, mut ballots) in ballots_strategy(),
            seed in any::<u64>(),
        ) {
            let first = schulze(n, &ballots).unwrap();
            prop_assert_eq!(&first, &schulze(n, &ballots).unwrap());
            // A permutation from the seed (a simple LCG-driven Fisher–Yates shuffle).
            let mut state = seed;
            for i in (1..ballots.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ballots.swap(i, (state >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(first, schulze(n, &ballots).unwrap());
        }
    }
}
