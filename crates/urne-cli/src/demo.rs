//! `urne demo`: a whole election in one process, phase by phase, with the time of each phase.
//!
//! Setup (trustee keys and proofs, manifest, credentials), voting (each simulated voter encrypts,
//! proves and signs; some vote twice), tally, decryption (each trustee's factors, with proofs) and
//! the result, all written to a record as they happen; then the record is verified from scratch
//! by the universal verifier, and the result compared with the simulated voters' choices.

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use clap::Args;
use urne_core::election::Election;
use urne_core::manifest::{Counting, KeySharing, Question, Timestamp};
use urne_core::tally::ElectionResult;
use urne_core::testkit::ElectionBuilder;
use urne_verify::simulate::{SimConfig, rng_for};

use crate::progress::{phase_line, simulate_with_bar};
use crate::verify::verify_file;

/// Options of `urne demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Number of simulated voters.
    #[arg(long, default_value_t = 1000)]
    voters: usize,
    /// Number of trustees.
    #[arg(long, default_value_t = 3)]
    trustees: usize,
    /// How many trustees suffice to decrypt (a key-generation ceremony shares the key); with
    /// as many as there are trustees, each keeps an independent key and all must decrypt.
    #[arg(long, default_value_t = 2)]
    threshold: u32,
    /// Share of voters who cast a second ballot, which replaces their first (in percent).
    #[arg(long, default_value_t = 5)]
    revote_percent: u32,
    /// Seed for a reproducible run (default: the operating system's randomness).
    #[arg(long)]
    seed: Option<u64>,
    /// Directory for the election record (`record.jsonl`).
    #[arg(long, default_value = "demo-election")]
    out: PathBuf,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
}

fn demo_questions() -> Vec<Question> {
    vec![
        Question {
            text: "Who should chair the association next year?".into(),
            answers: ["Ada", "Grace", "Alan", "Barbara", "Edsger"]
                .map(String::from)
                .to_vec(),
            min: 1,
            max: 1,
            blank: true,
            counting: Counting::Plurality,
        },
        Question {
            text: "Which projects should the budget fund? (up to 2)".into(),
            answers: ["Library", "Garden", "Bicycle workshop", "Choir"]
                .map(String::from)
                .to_vec(),
            min: 0,
            max: 2,
            blank: false,
            counting: Counting::Plurality,
        },
    ]
}

/// Runs the demo election.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    ensure!(
        (1..=10_000_000).contains(&args.voters),
        "--voters must be between 1 and 10,000,000"
    );
    ensure!(
        (1..=64).contains(&args.trustees),
        "--trustees must be between 1 and 64"
    );
    ensure!(
        args.threshold >= 1 && args.threshold as usize <= args.trustees,
        "--threshold must be between 1 and --trustees"
    );
    ensure!(
        args.revote_percent <= 100,
        "--revote-percent must be at most 100"
    );
    let id = "demo-agm-2026";
    let randomness = match args.seed {
        Some(s) => format!("seed {s}"),
        None => "randomness from the operating system".into(),
    };
    say!(
        "urne demo: {} voters, {} trustees, {randomness}",
        args.voters,
        args.trustees
    );

    // The trustees hold a key-generation ceremony; the manifest is frozen with its key.
    let t = Instant::now();
    let mut builder = ElectionBuilder::with_questions(id, demo_questions())
        .titled(
            "Annual general meeting (demo)",
            "A simulated election run by `urne demo`.",
        )
        .period(
            Timestamp::parse("2026-06-01T08:00:00Z").map_err(anyhow::Error::msg)?,
            Timestamp::parse("2026-06-08T18:00:00Z").map_err(anyhow::Error::msg)?,
        )
        .trustees(args.trustees);
    if args.threshold < args.trustees as u32 {
        builder = builder.threshold(args.threshold);
    }
    let setup = builder.build(&mut rng_for(args.seed, u64::MAX));
    let election = &setup.election;
    election
        .manifest()
        .vartime_verify_trustee_keys()
        .context("trustee key proofs")?;
    let keys_time = t.elapsed();
    if args.trustees == 1 {
        eprintln!(
            "warning: with a single trustee, whoever holds its key (often the server's operator)\n\
             can decrypt every ballot alone; use several trustees for any vote that matters."
        );
    }
    let sharing = match election.manifest().key_sharing {
        KeySharing::Threshold => format!(
            "key-generation ceremony, any {} of {} decrypt",
            args.threshold, args.trustees
        ),
        KeySharing::Independent => format!("{} independent keys, all decrypt", args.trustees),
    };

    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let path = args.out.join("record.jsonl");
    let file = fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let cfg = SimConfig {
        voters: args.voters,
        revote_percent: args.revote_percent,
        seed: args.seed,
        chunk: 4096,
    };
    let outcome = simulate_with_bar(&setup, &cfg, file, args.quiet)?;
    let mut total = keys_time;
    let fingerprint = election.fingerprint();
    say!(
        "{}",
        phase_line(
            "trustees",
            keys_time,
            &format!("{sharing}, fingerprint {fingerprint}")
        )
    );
    for p in &outcome.phases {
        say!("{}", phase_line(p.name, p.time, &p.what));
        total += p.time;
    }

    // Anyone can now check the whole election from the record alone.
    let t = Instant::now();
    let report = verify_file(&path, args.quiet)?;
    let verify_time = t.elapsed();
    total += verify_time;
    let what = format!(
        "{} ballots, every check V-1..V-18 passed ({})",
        report.ballots_cast,
        path.display()
    );
    say!("{}", phase_line("verify", verify_time, &what));
    say!("{}", phase_line("total", total, "").trim_end());
    say!();
    print_result(election, &outcome.result);
    if outcome.result != outcome.expected || report.result.as_ref() != Some(&outcome.expected) {
        bail!(
            "the decrypted result differs from the simulated choices:\n  got      {:?}\n  expected {:?}",
            outcome.result,
            outcome.expected
        );
    }
    say!(
        "The result equals the count of the {} voters' plaintext choices (last ballot of each).",
        args.voters
    );
    say!("Check it yourself: urne verify {}", args.out.display());
    Ok(())
}

fn print_result(election: &Election, result: &ElectionResult) {
    for (q, r) in election.manifest().questions.iter().zip(&result.questions) {
        say!("{}", q.text);
        let total: u64 = r.counts.iter().sum::<u64>() + r.blank.unwrap_or(0);
        let named = q
            .answers
            .iter()
            .map(String::as_str)
            .zip(r.counts.iter().copied());
        for (name, count) in named.chain(r.blank.map(|b| ("(blank)", b))) {
            let share = if total == 0 {
                0.0
            } else {
                100.0 * count as f64 / total as f64
            };
            let bar = "█".repeat((share / 2.5).round() as usize);
            say!("  {name:<18} {count:>9}  {share:>5.1} %  {bar}");
        }
        say!();
    }
}
