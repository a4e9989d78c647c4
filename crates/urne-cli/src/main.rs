//! `urne`: end-to-end verifiable online voting.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` for a command-line tool: when the reader has gone away (`urne verify … | head`),
/// the program ends quietly instead of panicking, with status 141 as if killed by SIGPIPE, so
/// that a cut-off run never passes for a successful one.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(141);
            }
        }
    }};
}

mod audit;
mod client;
mod credentials;
mod demo;
mod load;
mod progress;
mod serve;
mod simulate;
mod trustee;
mod vault;
mod verify;

/// urne: end-to-end verifiable online voting.
///
/// Ballots are encrypted and proved well formed on the voter's device, signed with a credential
/// the server never learns, counted homomorphically and decrypted by the trustees with proofs,
/// and everything goes into a public record that anyone re-checks with `urne verify`.
#[derive(Parser, Debug)]
#[command(name = "urne", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a whole election through the server: trustees, voters over HTTP, tally, record, verify.
    Demo(demo::DemoArgs),
    /// Run the voting server (HTTP API and bulletin boards).
    Serve(serve::ServeArgs),
    /// Manage the server's administrator accounts.
    Admin(serve::AdminArgs),
    /// Check an election record: every proof, signature, count and the log (exit 0 if valid).
    Verify(verify::VerifyArgs),
    /// Watch an election's bulletin board as an observer: forks, bad signatures, bad entries.
    Audit(audit::AuditArgs),
    /// Write the record of a simulated election of any size (for benchmarks and tests).
    Simulate(simulate::SimulateArgs),
    /// A trustee's own steps, offline with files or online with the server: its key, the
    /// key-generation ceremony and the decryption of the tally.
    Trustee(trustee::TrusteeArgs),
    /// The credential authority's tool, on its own machine: make the voters' credentials from
    /// the roll, mail them, replace a lost one.
    Credentials(credentials::CredentialsArgs),
    /// Load-test a running server over HTTP: prepare an election and its ballots, cast them
    /// concurrently and measure, check, then tally and verify.
    Load(load::LoadArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Demo(args) => demo::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Admin(args) => serve::admin(&args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => verify::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Simulate(args) => simulate::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Trustee(args) => trustee::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Load(args) => load::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Credentials(args) => credentials::run(&args),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("urne: {e:#}");
        ExitCode::from(2)
    })
}
