//! `urne demo`: a whole election in one process, phase by phase, with the time of each phase.
//!
//! Setup (trustee keys and proofs, manifest, credentials), voting (each simulated voter encrypts,
//! proves and signs; some vote twice), checking (every ballot fully verified, credentials and the
//! revote rule applied), tally, decryption (each trustee's factors, with proofs, verified) and the
//! result, which is then compared with the plaintext choices the simulation made.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Args;
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use rand::{Rng, RngExt};
use rand_core::SeedableRng;
use rayon::prelude::*;
use urne_core::ballot::{Ballot, QuestionVote, Tracker};
use urne_core::credential::{Credential, CredentialKey, PublicCredential};
use urne_core::election::Election;
use urne_core::manifest::{
    Counting, Manifest, ManifestFormat, Question, RevotePolicy, Timestamp, WeightPolicy,
};
use urne_core::tally::{
    ElectionResult, TallyAccumulator, decrypt_result, vartime_verify_partial, vartime_verify_result,
};
use urne_core::trustee::{TrusteeKey, combine_public_keys};

/// Options of `urne demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Number of simulated voters.
    #[arg(long, default_value_t = 1000)]
    voters: usize,
    /// Number of trustees (all of them decrypt together).
    #[arg(long, default_value_t = 3)]
    trustees: usize,
    /// Share of voters who cast a second ballot, which replaces their first (in percent).
    #[arg(long, default_value_t = 5)]
    revote_percent: u32,
    /// Seed for a reproducible run (default: the operating system's randomness).
    #[arg(long)]
    seed: Option<u64>,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
}

type Rng64 = rand_chacha::ChaCha20Rng;

/// A generator for one simulated party: seeded from `--seed` and a label, or from the OS.
fn rng_for(seed: Option<u64>, label: u64) -> Rng64 {
    match seed {
        Some(s) => Rng64::seed_from_u64(s.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ label),
        None => Rng64::from_rng(&mut rand::rng()),
    }
}

fn demo_questions() -> Vec<Question> {
    let q1 = Question {
        text: "Who should chair the association next year?".into(),
        answers: ["Ada", "Grace", "Alan", "Barbara", "Edsger"]
            .map(String::from)
            .to_vec(),
        min: 1,
        max: 1,
        blank: true,
        counting: Counting::Plurality,
    };
    let q2 = Question {
        text: "Which projects should the budget fund? (up to 2)".into(),
        answers: ["Library", "Garden", "Bicycle workshop", "Choir"]
            .map(String::from)
            .to_vec(),
        min: 0,
        max: 2,
        blank: false,
        counting: Counting::Plurality,
    };
    vec![q1, q2]
}

/// A random vote for `questions`, as urne's booth would produce it.
fn random_vote(rng: &mut impl Rng, questions: &[Question]) -> Vec<QuestionVote> {
    questions
        .iter()
        .map(|q| {
            if q.blank && rng.random_ratio(1, 20) {
                return QuestionVote::Blank;
            }
            let n = rng.random_range(q.min as usize..=q.max as usize);
            let mut answers: Vec<usize> = (0..q.answers.len()).collect();
            for i in 0..n {
                let j = rng.random_range(i..answers.len());
                answers.swap(i, j);
            }
            answers.truncate(n);
            answers.sort_unstable();
            QuestionVote::Selected(answers)
        })
        .collect()
}

fn expected_counts(questions: &[Question], votes: &[&[QuestionVote]]) -> ElectionResult {
    use urne_core::tally::QuestionResult;
    let mut r = ElectionResult {
        questions: questions
            .iter()
            .map(|q| QuestionResult {
                counts: vec![0; q.answers.len()],
                blank: q.blank.then_some(0),
            })
            .collect(),
    };
    for vote in votes {
        for (qr, v) in r.questions.iter_mut().zip(vote.iter()) {
            match v {
                QuestionVote::Blank => *qr.blank.as_mut().expect("blank allowed") += 1,
                QuestionVote::Selected(s) => s.iter().for_each(|&a| qr.counts[a] += 1),
            }
        }
    }
    r
}

fn bar(quiet: bool, len: usize, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template("  {msg:<11} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

struct Phases(Vec<(&'static str, Duration, String)>);

impl Phases {
    fn record(&mut self, name: &'static str, start: Instant, what: String) {
        let d = start.elapsed();
        println!("  {name:<11} {:>9.3} s  {what}", d.as_secs_f64());
        self.0.push((name, d, what));
    }
}

/// Runs the demo election.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    ensure!(args.voters >= 1, "--voters must be at least 1");
    ensure!(
        (1..=64).contains(&args.trustees),
        "--trustees must be between 1 and 64"
    );
    ensure!(
        args.revote_percent <= 100,
        "--revote-percent must be at most 100"
    );
    let id = "demo-agm-2026";
    println!(
        "urne demo: {} voters, {} trustees, {}",
        args.voters,
        args.trustees,
        match args.seed {
            Some(s) => format!("seed {s}"),
            None => "randomness from the operating system".into(),
        }
    );
    let mut phases = Phases(Vec::new());

    // Setup: trustees draw keys and prove them; the manifest is frozen; credentials are issued.
    let t = Instant::now();
    let mut rng = rng_for(args.seed, u64::MAX);
    let trustees: Vec<TrusteeKey> = (0..args.trustees)
        .map(|_| TrusteeKey::generate(&mut rng))
        .collect();
    let manifest = Manifest {
        format: ManifestFormat::V1,
        id: id.into(),
        title: "Annual general meeting (demo)".into(),
        description: "A simulated election run by `urne demo`.".into(),
        questions: demo_questions(),
        weights: WeightPolicy::Equal,
        revote: RevotePolicy::LastCounts,
        opens_at: Timestamp::parse("2026-06-01T08:00:00Z").map_err(anyhow::Error::msg)?,
        closes_at: Timestamp::parse("2026-06-08T18:00:00Z").map_err(anyhow::Error::msg)?,
        trustees: trustees
            .iter()
            .enumerate()
            .map(|(i, k)| k.publish(&mut rng, id, i as u32 + 1, &format!("Trustee {}", i + 1)))
            .collect(),
        threshold: args.trustees as u32,
        public_key: combine_public_keys(trustees.iter().map(|k| k.public())),
    };
    let election = Election::new(manifest).context("demo manifest")?;
    election
        .manifest()
        .vartime_verify_trustee_keys()
        .context("trustee key proofs")?;
    let credentials: Vec<(Credential, CredentialKey)> = (0..args.voters)
        .into_par_iter()
        .map(|v| {
            let c = Credential::generate(&mut rng_for(args.seed, v as u64));
            let k = c.derive_key(id);
            (c, k)
        })
        .collect();
    let list: Vec<PublicCredential> = credentials
        .iter()
        .map(|(_, k)| PublicCredential {
            credential: *k.public(),
            weight: 1,
        })
        .collect();
    let index: HashMap<_, usize> = list
        .iter()
        .enumerate()
        .map(|(i, c)| (c.credential, i))
        .collect();
    ensure!(
        index.len() == list.len(),
        "two voters drew the same credential"
    );
    phases.record(
        "setup",
        t,
        format!(
            "fingerprint {}, {} credentials",
            election.fingerprint(),
            list.len()
        ),
    );

    // Voting: every voter encrypts, proves and signs on their own device; some vote twice.
    let t = Instant::now();
    let pb = bar(args.quiet, args.voters, "voting");
    let cast: Vec<Vec<(Vec<QuestionVote>, Ballot)>> = credentials
        .par_iter()
        .enumerate()
        .progress_with(pb.clone())
        .map(|(v, (_, key))| {
            let mut rng = rng_for(args.seed, (1 << 32) + v as u64);
            let times = if rng.random_ratio(args.revote_percent, 100) {
                2
            } else {
                1
            };
            (0..times)
                .map(|_| {
                    let vote = random_vote(&mut rng, &election.manifest().questions);
                    let ballot = Ballot::create(&mut rng, &election, key, &vote)
                        .expect("valid simulated vote");
                    (vote, ballot)
                })
                .collect()
        })
        .collect();
    pb.finish_and_clear();
    // The order in which ballots reach the board: first ballots, then the second ones.
    let board: Vec<(usize, &Ballot)> = (0..2)
        .flat_map(|round| {
            cast.iter()
                .enumerate()
                .filter_map(move |(v, b)| b.get(round).map(|(_, b)| (v, b)))
        })
        .collect();
    let per_sec = board.len() as f64 / t.elapsed().as_secs_f64();
    phases.record(
        "voting",
        t,
        format!(
            "{} ballots encrypted, proved and signed ({per_sec:.0}/s)",
            board.len()
        ),
    );

    // Checking: each ballot is fully verified as the server and any verifier would.
    let t = Instant::now();
    let pb = bar(args.quiet, board.len(), "checking");
    let trackers: Vec<Tracker> = board
        .par_iter()
        .progress_with(pb.clone())
        .map_init(
            || rng_for(None, 0),
            |rng, (_, ballot)| {
                ensure!(
                    index.contains_key(&ballot.credential),
                    "V-7: unknown credential"
                );
                ballot
                    .vartime_verify(rng, &election)
                    .map_err(anyhow::Error::from)
            },
        )
        .collect::<anyhow::Result<_>>()?;
    pb.finish_and_clear();
    // Revote rule: the last ballot of each credential counts.
    let mut counted: HashMap<usize, usize> = HashMap::new();
    for (pos, (_, ballot)) in board.iter().enumerate() {
        counted.insert(index[&ballot.credential], pos);
    }
    let per_sec = board.len() as f64 / t.elapsed().as_secs_f64();
    phases.record(
        "checking",
        t,
        format!(
            "{} ballots verified ({per_sec:.0}/s), {} distinct trackers, {} counted after revotes",
            board.len(),
            trackers
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            counted.len()
        ),
    );

    // Tally: the weighted sum of the counted ballots, without decrypting any.
    let t = Instant::now();
    let positions: Vec<usize> = counted.values().copied().collect();
    let acc = positions
        .par_chunks(4096)
        .map(|chunk| {
            let mut acc = TallyAccumulator::new(&election);
            for &p in chunk {
                acc.add(board[p].1, list[index[&board[p].1.credential]].weight);
            }
            acc
        })
        .reduce_with(|mut a, b| {
            a.merge(&b);
            a
        })
        .context("no ballots")?;
    let tally = acc.finish();
    phases.record(
        "tally",
        t,
        format!(
            "{} ballots, total weight {}",
            acc.ballots(),
            acc.total_weight()
        ),
    );

    // Decryption: each trustee computes its factors with proofs; they are checked.
    let t = Instant::now();
    let partials: Vec<_> = trustees
        .par_iter()
        .enumerate()
        .map(|(i, k)| {
            k.decrypt_tally(
                &mut rng_for(args.seed, (2 << 32) + i as u64),
                &election,
                i as u32 + 1,
                &tally,
            )
        })
        .collect();
    for pd in &partials {
        vartime_verify_partial(&mut rng_for(None, 0), &election, &tally, pd)?;
    }
    phases.record(
        "decryption",
        t,
        format!("{} trustees' factors computed and verified", partials.len()),
    );

    let t = Instant::now();
    let result = decrypt_result(&election, &tally, &partials, acc.total_weight())?;
    vartime_verify_result(&election, &tally, &partials, &result)?;
    phases.record("result", t, "counts recovered and re-checked".into());

    let total: Duration = phases.0.iter().map(|p| p.1).sum();
    println!("  {:<11} {:>9.3} s", "total", total.as_secs_f64());
    println!();
    print_result(&election, &result);

    let last_votes: Vec<&[QuestionVote]> = cast
        .iter()
        .map(|b| b.last().expect("every voter voted").0.as_slice())
        .collect();
    let expected = expected_counts(&election.manifest().questions, &last_votes);
    if result != expected {
        bail!(
            "the decrypted result differs from the simulated choices:\n  got      {result:?}\n  expected {expected:?}"
        );
    }
    println!(
        "The result equals the count of the {} voters' plaintext choices (last ballot of each).",
        args.voters
    );
    Ok(())
}

fn print_result(election: &Election, result: &ElectionResult) {
    for (q, r) in election.manifest().questions.iter().zip(&result.questions) {
        println!("{}", q.text);
        let total: u64 = r.counts.iter().sum::<u64>() + r.blank.unwrap_or(0);
        let rows = q
            .answers
            .iter()
            .map(String::as_str)
            .zip(r.counts.iter().copied())
            .chain(r.blank.map(|b| ("(blank)", b)));
        for (name, count) in rows {
            let share = if total == 0 {
                0.0
            } else {
                100.0 * count as f64 / total as f64
            };
            let bar = "█".repeat((share / 2.5).round() as usize);
            println!("  {name:<18} {count:>9}  {share:>5.1} %  {bar}");
        }
        println!();
    }
}
