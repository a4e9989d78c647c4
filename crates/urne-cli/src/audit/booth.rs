//! `urne audit booth`: an observer's check of the code the server serves to voters (spec §7.6,
//! "sealing").
//!
//! When an election opens, its server declares on the board, in a `booth` line just before the
//! `open` line, every file it serves to voters with the SHA-256 of the bytes served. This check
//! reads that line from the board, fetches each path from the server as a voter's browser would,
//! and compares. It shows what this observer was served, now; run it from several places and
//! times during the voting period to learn more. The line itself is read from the board's lines
//! as served; `urne audit watch` is the check that those lines are the ones the board signed.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;
use sha2::{Digest, Sha256};
use urne_core::group::b64_encode;
use urne_verify::record::{BoothFile, Entry, parse_line};

use super::{ElectionUrl, PAGE};
use crate::client::Client;

const BOOTH_HELP: &str = "\
Reads the election's `booth` line from its bulletin board (the files the server declared, when \
the election opened, that it serves to voters, each with the SHA-256 of its bytes) and fetches \
each of those paths from the same server, comparing the SHA-256 of the bytes received with the \
declaration. One line per file: `match` or `MISMATCH` (or `MISSING` when the server does not \
serve it), with the path.

Exit status: 0 every file matches, 1 at least one does not, 2 the check could not run (network, \
or no booth line on the board: the election is not open yet, or its server predates sealing).";

/// Options of `urne audit booth`.
#[derive(Args, Debug)]
#[command(after_long_help = BOOTH_HELP)]
pub struct BoothArgs {
    /// The election's address on its server: http(s)://HOST[:PORT]/api/v1/elections/ID.
    pub url: String,
    /// Write the outcome as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
}

/// The outcome for one declared file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    /// The bytes served hash to the declared digest.
    Match,
    /// The bytes served hash to another digest (given).
    Mismatch([u8; 32]),
    /// The server did not serve the path (the error given).
    Missing(String),
}

/// Reads the `booth` line of the election's board: its files, or `None` when the board has no
/// such line before its `open` line (or no `open` line yet).
pub fn booth_line(client: &Client, url: &ElectionUrl) -> anyhow::Result<Option<Vec<BoothFile>>> {
    let mut next = 0u64;
    loop {
        let path = url.api(&format!("/board/lines?from={next}&limit={PAGE}"));
        let page = client.get_text(&path)?;
        let before = next;
        for text in page.split_terminator('\n') {
            let line = parse_line(next + 1, text.as_bytes())
                .with_context(|| format!("the board's line {next}"))?;
            match line.entry {
                Entry::Booth(b) => return Ok(Some(b.files)),
                Entry::Open(_) | Entry::Ballot(_) | Entry::Close(_) => return Ok(None),
                _ => {}
            }
            next += 1;
        }
        if next == before {
            return Ok(None);
        }
    }
}

/// Fetches `file.path` from the server and compares the SHA-256 of its bytes with the
/// declaration.
pub fn check_file(client: &Client, file: &BoothFile) -> FileCheck {
    let mut body = Vec::new();
    match client.get_into(&file.path, &mut body) {
        Err(e) => FileCheck::Missing(format!("{e:#}")),
        Ok(_) => {
            let got: [u8; 32] = Sha256::digest(&body).into();
            if got == file.sha256 {
                FileCheck::Match
            } else {
                FileCheck::Mismatch(got)
            }
        }
    }
}

/// Runs `urne audit booth`.
pub fn run(args: &BoothArgs) -> anyhow::Result<ExitCode> {
    let Some(url) = ElectionUrl::parse(&args.url) else {
        bail!(
            "{}: not an election's address (http(s)://HOST[:PORT]/api/v1/elections/ID)",
            args.url
        );
    };
    let client = Client::new(&url.base);
    let Some(files) = booth_line(&client, &url)? else {
        bail!(
            "election {}: its board has no booth line (not open yet, or its server does not \
             declare its files)",
            url.id
        );
    };
    let mut bad = 0usize;
    let mut rows = Vec::new();
    for f in &files {
        let outcome = check_file(&client, f);
        let declared = b64_encode(&f.sha256);
        let (status, served, error) = match &outcome {
            FileCheck::Match => ("match", Some(declared.clone()), None),
            FileCheck::Mismatch(got) => ("MISMATCH", Some(b64_encode(got)), None),
            FileCheck::Missing(e) => ("MISSING", None, Some(e.clone())),
        };
        if outcome != FileCheck::Match {
            bad += 1;
        }
        if !args.json {
            match (&outcome, &served, &error) {
                (FileCheck::Match, _, _) => println!("match     {}", f.path),
                (_, Some(s), _) => {
                    println!("{status}  {}  declared {declared}, served {s}", f.path)
                }
                (_, _, e) => println!(
                    "{status}   {}  {}",
                    f.path,
                    e.as_deref().unwrap_or_default()
                ),
            }
        }
        rows.push(json!({
            "path": f.path, "status": status, "declared": declared, "served": served,
            "error": error,
        }));
    }
    if args.json {
        let out = json!({
            "election": url.id, "url": url.address(), "files": rows,
            "matching": files.len() - bad, "failing": bad,
        });
        println!("{out}");
    } else {
        eprintln!(
            "election {}: {} of {} declared files match what the server serves",
            url.id,
            files.len() - bad,
            files.len()
        );
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
