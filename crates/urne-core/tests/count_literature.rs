//! The counting methods against published elections (docs/counting.md §5).
//!
//! STV: two real elections whose full ballot data are public, in the BLT format of the Electoral
//! Reform Society's counting programs, with the stage-by-stage counts under the Scottish Local
//! Government Elections Order 2007 (SSI 2007/42, Schedule 1 rules 45–52), which urne's STV follows
//! except that it counts in exact fractions where the Order truncates every transfer value to
//! five decimal places. Every stage must take the same action (whose surplus, whom to exclude),
//! elect the same candidates, and reach every candidate's total and the non-transferable votes
//! to within what the Order's truncation can remove (`valid × 10⁻⁵` per surplus transferred so
//! far); with no surplus transferred yet the totals must be equal.
//!
//! Majority judgment: the ballots of Balinski and Laraki's experiment at Orsay during the French
//! presidential election of 22 April 2007, against their published outcome.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Signed;
use urne_core::count::Rational;
use urne_core::count::mj::majority_judgment;
use urne_core::count::stv::{StvAction, StvResult, stv};

/// A ballot file in the BLT format: the first line `candidates seats`, then one line per group
/// of identical ballots (`weight c1 c2 … 0`, candidates numbered from 1, best first), a line
/// `0`, the candidates' names and the title, each in double quotes.
struct Blt {
    candidates: usize,
    seats: usize,
    /// Ranking ballots as urne counts them: entry `c` is the rank of candidate `c` (0 unranked).
    ballots: Vec<Vec<u32>>,
    names: Vec<String>,
    title: String,
}

fn parse_blt(text: &str) -> Blt {
    let mut lines = text.lines();
    let header: Vec<usize> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let (candidates, seats) = (header[0], header[1]);
    let mut ballots = Vec::new();
    for line in lines.by_ref() {
        let numbers: Vec<usize> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        if numbers == [0] {
            break;
        }
        let (&weight, rest) = numbers.split_first().unwrap();
        assert_eq!(
            rest.last(),
            Some(&0),
            "ballot line without its final 0: {line}"
        );
        let mut ranks = vec![0u32; candidates];
        for (place, &candidate) in rest[..rest.len() - 1].iter().enumerate() {
            assert_eq!(ranks[candidate - 1], 0, "candidate repeated: {line}");
            ranks[candidate - 1] = place as u32 + 1;
        }
        ballots.extend(std::iter::repeat_n(ranks, weight));
    }
    let mut quoted: Vec<String> = lines
        .map(|l| l.trim().trim_matches('"').to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let title = quoted.pop().unwrap();
    assert_eq!(quoted.len(), candidates);
    Blt {
        candidates,
        seats,
        ballots,
        names: quoted,
        title,
    }
}

/// What a stage of the published count did.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Did {
    FirstPreferences,
    Surplus(usize),
    Exclusion(usize),
}

/// One stage of the published count: its action, every candidate's votes and the
/// non-transferable votes at its end (as printed, five decimals), and whom it elected.
struct Stage {
    did: Did,
    votes: &'static [&'static str],
    non_transferable: &'static str,
    elected: &'static [usize],
}

/// `"2304.71570"` → 230471570/100000, exactly.
fn decimal(text: &str) -> BigRational {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits: BigInt = format!("{whole}{fraction}").parse().unwrap();
    BigRational::new(digits, BigInt::from(10u32).pow(fraction.len() as u32))
}

fn did(result: &StvResult, round: usize) -> Did {
    match result.rounds[round].action {
        StvAction::FirstPreferences => Did::FirstPreferences,
        StvAction::Surplus { candidate, .. } => Did::Surplus(candidate),
        StvAction::Exclusion { candidate, .. } => Did::Exclusion(candidate),
    }
}

/// Checks `result` stage by stage against the published count and returns the largest
/// difference seen between a total of ours and the published one.
fn compare(result: &StvResult, stages: &[Stage]) -> BigRational {
    assert_eq!(result.rounds.len(), stages.len(), "number of stages");
    assert_eq!(
        result.first_unbalanced_round(),
        None,
        "every round balances exactly"
    );
    let mut surpluses = 0u64;
    let mut largest = BigRational::from_integer(BigInt::from(0));
    for (round, stage) in stages.iter().enumerate() {
        let ours = &result.rounds[round];
        assert_eq!(did(result, round), stage.did, "stage {} action", round + 1);
        if let Did::Surplus(_) = stage.did {
            surpluses += 1;
        }
        let mut elected: Vec<usize> = ours.elected.iter().map(|e| e.candidate).collect();
        elected.sort_unstable();
        let mut expected_elected = stage.elected.to_vec();
        expected_elected.sort_unstable();
        assert_eq!(elected, expected_elected, "stage {} elected", round + 1);

        let bound = BigRational::new(
            BigInt::from(result.valid * surpluses),
            BigInt::from(100_000u32),
        );
        let totals = ours
            .votes
            .iter()
            .zip(stage.votes)
            .chain(std::iter::once((&ours.exhausted, &stage.non_transferable)));
        assert_eq!(stage.votes.len(), result.candidates);
        for (index, (ours, published)) in totals.enumerate() {
            let difference = (ours.as_big() - decimal(published)).abs();
            assert!(
                difference <= bound,
                "stage {}, {}: ours {} ≈ {:.6}, published {published}, bound {bound}",
                round + 1,
                if index < result.candidates {
                    format!("candidate {index}")
                } else {
                    "non-transferable".to_owned()
                },
                ours,
                rational_to_f64(ours),
            );
            largest = largest.max(difference);
        }
    }
    largest
}

fn rational_to_f64(value: &Rational) -> f64 {
    use num_traits::ToPrimitive;
    value.as_big().to_f64().unwrap()
}

/// The Green Party of the United States' steering committee election of 24 July 2005: 94
/// ballots, 13 candidates (two write-in lines), 4 seats, Droop quota floor(94/5) + 1 = 19. Two
/// candidates reach the quota at once, the second surplus is made partly of ballots already
/// carrying a fraction, a later surplus (Kramer's) is made of first preferences and of ballots
/// received at two different transfer values, and the last seat goes to the last continuing
/// candidate below the quota. Ballots: the file `SC.blt` distributed with the OpenSTV and Droop
/// STV programs; stages: the count of that file under the Scottish rules (Droop's reference
/// output `SC-scotland-fixed-p5-d5`).
#[test]
fn gpus_2005_steering_committee_matches_the_scottish_count() {
    let blt = parse_blt(include_str!("data/gpus-2005-steering-committee.blt"));
    assert_eq!(blt.title, "GPUS Steering Committee Election 2005-07-24");
    assert_eq!((blt.candidates, blt.seats, blt.ballots.len()), (13, 4, 94));
    let result = stv(blt.candidates, blt.seats, &blt.ballots).unwrap();
    assert_eq!(result.quota, 19);

    // Candidates: 0 Dickinson, 1 Mookerjee, 2 Sevigny, 3 LaMarche, 4 Piacsek, 5 Write-In 2,
    // 6 Rotzler, 7 Olsen, 8 Jones, 9 Write-In 1, 10 Greenfield, 11 Leas, 12 Kramer.
    let after_surpluses: &[&str] = &[
        "7.80300", "3.56060", "9.24240", "19", "2.69696", "0", "19", "12.72720", "1.42424", "0",
        "0", "0", "18.54544",
    ];
    let stages = [
        Stage {
            did: Did::FirstPreferences,
            votes: &[
                "6", "3", "8", "22", "2", "0", "33", "1", "1", "0", "0", "0", "18",
            ],
            non_transferable: "0",
            elected: &[6, 3],
        },
        Stage {
            did: Did::Surplus(6),
            votes: &[
                "6.84848", "3.42424", "8.42424", "22", "2.42424", "0", "19", "12.45448", "1.42424",
                "0", "0", "0", "18",
            ],
            non_transferable: "0",
            elected: &[],
        },
        Stage {
            did: Did::Surplus(3),
            votes: after_surpluses,
            non_transferable: "0",
            elected: &[],
        },
        // Four candidates have had no vote at any stage. The Order draws lots among them (the
        // reference count drew Write-In 2, Write-In 1, Greenfield, Leas); urne excludes the
        // larger index first. Excluding them moves no vote, so the totals are the same.
        Stage {
            did: Did::Exclusion(11),
            votes: after_surpluses,
            non_transferable: "0",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(10),
            votes: after_surpluses,
            non_transferable: "0",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(9),
            votes: after_surpluses,
            non_transferable: "0",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(5),
            votes: after_surpluses,
            non_transferable: "0",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(8),
            votes: &[
                "7.80300", "3.56060", "9.24240", "19", "2.69696", "0", "19", "14.15144", "0", "0",
                "0", "0", "18.54544",
            ],
            non_transferable: "0",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(4),
            votes: &[
                "8.80300", "3.69696", "9.24240", "19", "0", "0", "19", "14.57568", "0", "0", "0",
                "0", "19.68180",
            ],
            non_transferable: "0",
            elected: &[12],
        },
        Stage {
            did: Did::Surplus(12),
            votes: &[
                "9.01084", "3.95360", "9.45496", "19", "0", "0", "19", "14.57568", "0", "0", "0",
                "0", "19",
            ],
            non_transferable: "0.00472",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(1),
            votes: &[
                "9.36448", "0", "10.59132", "19", "0", "0", "19", "15.61032", "0", "0", "0", "0",
                "19",
            ],
            non_transferable: "1.43368",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(0),
            votes: &[
                "0", "0", "16.62204", "19", "0", "0", "19", "16.59988", "0", "0", "0", "0", "19",
            ],
            non_transferable: "3.77788",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(7),
            votes: &[
                "0", "0", "18.59172", "19", "0", "0", "19", "0", "0", "0", "0", "0", "19",
            ],
            non_transferable: "18.40808",
            elected: &[2],
        },
    ];
    let largest = compare(&result, &stages);
    assert_eq!(result.elected, vec![6, 3, 12, 2]);
    let names: Vec<&str> = result
        .elected
        .iter()
        .map(|&c| blt.names[c].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Rebecca Rotzler",
            "Pat LaMarche",
            "Steve Kramer",
            "Tom Sevigny"
        ]
    );
    // Measured: the exact count and the truncated one differ by at most 0.000101 of a vote.
    assert!(largest < decimal("0.001"), "largest difference {largest}");
}

/// Expands `(count, grades)` groups into grades ballots.
fn graded(groups: &[(usize, &[u32])]) -> Vec<Vec<u32>> {
    groups
        .iter()
        .flat_map(|&(count, grades)| std::iter::repeat_n(grades.to_vec(), count))
        .collect()
}

/// The "Tennessee capital" example that Wikipedia and electowiki use for every voting method,
/// graded as on electowiki's "Majority Judgment" page: each voter gives the four grades
/// Excellent, Good, Fair, Poor to the four cities in their order of preference (the page shows
/// the profiles of Nashville and Chattanooga; the other two follow from the same preferences).
/// 42 voters prefer Memphis > Nashville > Chattanooga > Knoxville, 26 Nashville > Chattanooga >
/// Knoxville > Memphis, 15 Chattanooga > Knoxville > Nashville > Memphis, 17 Knoxville >
/// Chattanooga > Nashville > Memphis. Merit profiles (Excellent/Good/Fair/Poor): Memphis
/// 42/0/0/58, Nashville 26/42/32/0, Chattanooga 15/43/42/0, Knoxville 17/15/26/42. Majority
/// grades: Poor, Good, Good, Fair. Nashville and Chattanooga are both "Good−" (more voters below
/// than above: 32 > 26 and 42 > 15); of two minus gauges the smaller share below wins, so
/// Nashville (the real capital) wins, then Chattanooga, Knoxville, Memphis.
#[test]
fn tennessee_capital_example() {
    // Grades: 0 Poor, 1 Fair, 2 Good, 3 Excellent. Candidates: Memphis, Nashville,
    // Chattanooga, Knoxville.
    let ballots = graded(&[
        (42, &[3, 2, 1, 0]),
        (26, &[0, 3, 2, 1]),
        (15, &[0, 1, 3, 2]),
        (17, &[0, 1, 2, 3]),
    ]);
    let result = majority_judgment(4, 4, &ballots).unwrap();
    let counts: Vec<Vec<u64>> = result.profiles.iter().map(|p| p.counts.clone()).collect();
    assert_eq!(
        counts,
        vec![
            vec![58, 0, 0, 42],
            vec![0, 32, 42, 26],
            vec![0, 42, 43, 15],
            vec![42, 26, 15, 17],
        ]
    );
    let majority: Vec<u32> = result.profiles.iter().map(|p| p.majority_grade).collect();
    assert_eq!(majority, vec![0, 2, 2, 1]);
    let gauges: Vec<(u64, u64)> = result
        .profiles
        .iter()
        .map(|p| (p.gauge.above, p.gauge.below))
        .collect();
    assert_eq!(gauges[1], (26, 32));
    assert_eq!(gauges[2], (15, 42));
    assert_eq!(result.winners, vec![1]);
    assert_eq!(result.ranking, vec![1, 2, 3, 0]);
}

/// Wikipedia's example of majority judgment electing someone other than the Condorcet winner
/// ("Condorcet winner criterion", section on majority judgment): 35 voters grade A Excellent,
/// B Fair, C Poor; 34 grade C Excellent, B Fair, A Poor; 31 grade B Excellent, C Good, A Fair.
/// B beats A 65 to 35 and C 66 to 34, but B's majority grade is Fair while C's is Good: C wins.
#[test]
fn majority_judgment_need_not_elect_the_condorcet_winner() {
    // Grades: 0 Poor, 1 Fair, 2 Good, 3 Excellent. Candidates A, B, C.
    let ballots = graded(&[(35, &[3, 1, 0]), (34, &[0, 1, 3]), (31, &[1, 3, 2])]);
    let result = majority_judgment(3, 4, &ballots).unwrap();
    let majority: Vec<u32> = result.profiles.iter().map(|p| p.majority_grade).collect();
    assert_eq!(majority, vec![1, 1, 2]);
    assert_eq!(result.winners, vec![2]);

    // The same voters' rankings elect B under Schulze: B is the Condorcet winner.
    let rankings: Vec<Vec<u32>> = [(35, [1, 2, 3]), (34, [3, 2, 1]), (31, [3, 1, 2])]
        .iter()
        .flat_map(|&(count, ranks)| std::iter::repeat_n(ranks.to_vec(), count))
        .collect();
    let schulze = urne_core::count::schulze::schulze(3, &rankings).unwrap();
    assert_eq!(schulze.winners, vec![1]);
}

/// Glasgow City Council's election of 3 May 2007, Partick West ward: 12,744 valid ballots, 9
/// candidates, 4 seats, quota floor(12744/5) + 1 = 2,549, counted under the Order itself. The
/// council published every ward's ballot data after the count; the file here is the ward's
/// data as distributed with the Droop STV program's test suite (`Partick-West-2007.blt`), and
/// the stages are the count of that file under the Order (Droop's reference output
/// `Partick-West-2007-scotland-fixed-p5-d5`). It elects McLean, Mason, Colleran and Clay; BBC
/// News reported on 4 May 2007 the election of Stuart Clay, Glasgow's first Green councillor,
/// with 1,594 first preferences, the figure counted here.
#[test]
fn glasgow_2007_partick_west_matches_the_declared_count() {
    let blt = parse_blt(include_str!("data/glasgow-2007-partick-west.blt"));
    assert_eq!(
        (blt.candidates, blt.seats, blt.ballots.len()),
        (9, 4, 12_744)
    );
    let result = stv(blt.candidates, blt.seats, &blt.ballots).unwrap();
    assert_eq!(result.quota, 2_549);

    // Candidates: 0 Atkinson, 1 Clay, 2 Colleran, 3 Graham, 4 Gray, 5 Mason, 6 McLean,
    // 7 Ross, 8 Sullivan.
    let stages = [
        Stage {
            did: Did::FirstPreferences,
            votes: &[
                "265", "1594", "2099", "1699", "240", "2259", "2811", "373", "1404",
            ],
            non_transferable: "0",
            elected: &[6],
        },
        Stage {
            did: Did::Surplus(6),
            votes: &[
                "268.63480",
                "1652.43640",
                "2115.31000",
                "1716.89440",
                "253.14120",
                "2300.94000",
                "2549",
                "402.82400",
                "1419.37800",
            ],
            non_transferable: "65.42640",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(4),
            votes: &[
                "271.00760",
                "1744.81680",
                "2128.58960",
                "1732.73320",
                "0",
                "2325.68560",
                "2549",
                "465.20440",
                "1419.84400",
            ],
            non_transferable: "107.10400",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(0),
            votes: &[
                "0",
                "1789.56240",
                "2150.68280",
                "1741.82640",
                "0",
                "2354.96520",
                "2549",
                "472.57720",
                "1516.14880",
            ],
            non_transferable: "169.22240",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(7),
            votes: &[
                "0",
                "1963.33080",
                "2199.26720",
                "1785.97000",
                "0",
                "2411.06600",
                "2549",
                "0",
                "1529.10600",
            ],
            non_transferable: "306.24520",
            elected: &[],
        },
        Stage {
            did: Did::Exclusion(8),
            votes: &[
                "0",
                "2175.33840",
                "2275.01280",
                "1866.71560",
                "0",
                "2910.75120",
                "2549",
                "0",
                "0",
            ],
            non_transferable: "967.16720",
            elected: &[5],
        },
        Stage {
            did: Did::Surplus(5),
            votes: &[
                "0",
                "2304.71570",
                "2316.49150",
                "1920.15992",
                "0",
                "2549",
                "2549",
                "0",
                "0",
            ],
            non_transferable: "1104.61340",
            elected: &[],
        },
        // Colleran reaches the quota; Clay is then the only continuing candidate for the last
        // seat (rule 52).
        Stage {
            did: Did::Exclusion(3),
            votes: &[
                "0",
                "2531.20856",
                "3522.28506",
                "0",
                "0",
                "2549",
                "2549",
                "0",
                "0",
            ],
            non_transferable: "1592.48690",
            elected: &[2, 1],
        },
    ];
    let largest = compare(&result, &stages);
    let names: Vec<&str> = result
        .elected
        .iter()
        .map(|&c| blt.names[c].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Kenny McLean",
            "Christopher Mason",
            "Aileen Colleran",
            "Stuart Clay"
        ]
    );
    assert!(!result.rounds[7].elected[1].reached_quota);
    // Measured: the exact count and the Order's differ by at most 0.0087 of a vote.
    assert!(largest < decimal("0.01"), "largest difference {largest}");
}

/// Reads one polling station's Orsay ballots: a header `,name,…` and rows `number,g1,…,g12`
/// with 6 Très bien, 5 Bien, 4 Assez bien, 3 Passable, 2 Insuffisant, 1 À rejeter, 0 no opinion.
/// Returns the candidates' names and the ballots as urne grades them (0 the worst): a candidate
/// left ungraded counts as «À rejeter», as majority judgment counts a missing grade.
fn parse_orsay(text: &str) -> (Vec<String>, Vec<Vec<u32>>) {
    let mut lines = text.lines();
    let names: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(str::to_owned)
        .collect();
    let ballots = lines
        .map(|line| {
            let fields: Vec<u32> = line.split(',').map(|x| x.parse().unwrap()).collect();
            assert_eq!(fields.len(), names.len() + 1, "{line}");
            fields[1..].iter().map(|&g| g.max(1) - 1).collect()
        })
        .collect();
    (names, ballots)
}

/// Balinski and Laraki's experiment at Orsay during the first round of the French presidential
/// election of 22 April 2007: 1,752 voters of polling stations 1, 6 and 12 also graded the 12
/// candidates on the scale Très bien, Bien, Assez bien, Passable, Insuffisant, À rejeter; 1,733
/// ballots were valid. Published outcome ([BL11] and M. Balinski, R. Laraki, "Election by
/// majority judgement: experimental evidence", Cahier du Laboratoire d'Économétrie 2007-28,
/// École polytechnique, 2007): François Bayrou first with the majority grade Assez bien
/// ("Good") and more voters above it than below ("Good+"), Ségolène Royal second with Assez bien
/// and more voters below ("Good−"), where the official first round at these stations put Royal
/// first, Sarkozy second and Bayrou third. Ballots: MieuxVoter's majority-judgment-datasets.
#[test]
fn orsay_2007_experiment_elects_bayrou_then_royal() {
    let mut ballots = Vec::new();
    let mut names = Vec::new();
    for station in [
        include_str!("data/orsay-2007-bureau-01.csv"),
        include_str!("data/orsay-2007-bureau-06.csv"),
        include_str!("data/orsay-2007-bureau-12.csv"),
    ] {
        let (header, rows) = parse_orsay(station);
        if names.is_empty() {
            names = header.clone();
        }
        assert_eq!(header, names);
        ballots.extend(rows);
    }
    assert_eq!(ballots.len(), 1_733);
    let result = majority_judgment(names.len(), 6, &ballots).unwrap();
    let index = |name: &str| names.iter().position(|n| n == name).unwrap();
    let (bayrou, royal, sarkozy) = (index("Bayrou"), index("Royal"), index("Sarkozy"));

    // Merit profiles, À rejeter (with no opinion) first, Très bien last.
    assert_eq!(
        result.profiles[bayrou].counts,
        [51 + 78, 146, 256, 434, 532, 236]
    );
    assert_eq!(
        result.profiles[royal].counts,
        [31 + 187, 211, 291, 331, 393, 289]
    );
    assert_eq!(
        result.profiles[sarkozy].counts,
        [30 + 459, 123, 200, 247, 343, 331]
    );

    let assez_bien = 3;
    let bayrou_gauge = result.profiles[bayrou].gauge;
    assert_eq!(bayrou_gauge.grade, assez_bien);
    assert!(bayrou_gauge.above > bayrou_gauge.below, "Good+");
    let royal_gauge = result.profiles[royal].gauge;
    assert_eq!(royal_gauge.grade, assez_bien);
    assert!(royal_gauge.above < royal_gauge.below, "Good−");
    assert_eq!(result.winners, vec![bayrou]);
    assert_eq!(&result.ranking[..2], &[bayrou, royal]);
}
