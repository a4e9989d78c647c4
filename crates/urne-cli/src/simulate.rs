//! `urne simulate`: the record of a simulated election of any size, written as it is made.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, ensure};
use clap::Args;
use urne_core::manifest::WeightPolicy;
use urne_core::testkit::ElectionBuilder;
use urne_verify::simulate::{SimConfig, rng_for};

use crate::progress::{phase_line, simulate_with_bar};

/// Options of `urne simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Number of voters.
    #[arg(long, default_value_t = 1000)]
    pub voters: usize,
    /// Answers of the one question.
    #[arg(long, default_value_t = 5)]
    pub answers: usize,
    /// How many answers each voter selects (exactly).
    #[arg(long, default_value_t = 1)]
    pub select: u32,
    /// Number of trustees.
    #[arg(long, default_value_t = 3)]
    pub trustees: usize,
    /// Share of voters who vote twice, in percent.
    #[arg(long, default_value_t = 0)]
    pub revote_percent: u32,
    /// Seed for a reproducible record (default: the operating system's randomness).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write the record.
    #[arg(long)]
    pub out: PathBuf,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Writes the record.
pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    ensure!(
        args.voters >= 1 && args.voters <= 50_000_000,
        "--voters must be between 1 and 50,000,000"
    );
    ensure!(
        (1..=64).contains(&args.trustees),
        "--trustees must be between 1 and 64"
    );
    ensure!(
        args.select >= 1 && args.select as usize <= args.answers,
        "--select must be between 1 and --answers"
    );
    let id = format!("sim-{}", args.voters);
    let setup = ElectionBuilder::single_question(&id, args.answers, args.select, args.select)
        .trustees(args.trustees)
        .weights(WeightPolicy::Equal)
        .build(&mut rng_for(args.seed, u64::MAX));
    let file =
        File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let cfg = SimConfig {
        voters: args.voters,
        revote_percent: args.revote_percent,
        seed: args.seed,
        chunk: 8192,
    };
    let outcome = simulate_with_bar(&setup, &cfg, file, args.quiet)?;
    ensure!(
        outcome.result == outcome.expected,
        "the decrypted result differs from the simulated votes"
    );
    for p in &outcome.phases {
        eprintln!("{}", phase_line(p.name, p.time, &p.what));
    }
    say!(
        "{}: {} ballots, {} lines",
        args.out.display(),
        outcome.ballots_cast,
        outcome.head.size + 1
    );
    Ok(())
}
