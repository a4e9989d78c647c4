//! `urne`: end-to-end verifiable online voting.

use clap::{Parser, Subcommand};

mod demo;

/// urne: end-to-end verifiable online voting.
///
/// Ballots are encrypted and proved well formed on the voter's device, signed with a credential
/// the server never learns, counted homomorphically and decrypted by the trustees with proofs,
/// so anyone can re-check the result.
#[derive(Parser, Debug)]
#[command(name = "urne", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a whole simulated election in this process and check its result.
    Demo(demo::DemoArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(&args),
    }
}
