//! `urne verify`: the universal verifier, from a file, a directory or a URL.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use urne_core::tally::ElectionResult;
use urne_verify::{Options, Report, Status, verify, verify_since};

use crate::progress::bar;

/// Options of `urne verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The record: a file, a directory holding `record.jsonl`, or an http(s) URL.
    pub record: String,
    /// An older snapshot of the same record: check that RECORD extends it (nothing removed or
    /// rewritten), then verify RECORD.
    #[arg(long, value_name = "OLD")]
    pub since: Option<String>,
    /// Print a machine-readable JSON report instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Check each ballot alone instead of in batches (slower; same verdict).
    #[arg(long)]
    pub no_batch: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// A record opened for reading: a local file, or a download kept in a temporary file.
struct Source {
    file: File,
    len: u64,
    _temp: Option<tempfile::NamedTempFile>,
}

fn open(location: &str, quiet: bool) -> anyhow::Result<Source> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let mut response = ureq::get(location)
            .call()
            .with_context(|| format!("downloading {location}"))?;
        let len = response.body().content_length().unwrap_or(0);
        let pb = bar(quiet, len, "download", true);
        let mut temp = tempfile::NamedTempFile::new().context("creating a temporary file")?;
        let mut reader = response.body_mut().as_reader();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader
                .read(&mut buf)
                .with_context(|| format!("downloading {location}"))?;
            if n == 0 {
                break;
            }
            temp.write_all(&buf[..n])?;
            pb.inc(n as u64);
        }
        pb.finish_and_clear();
        let file = temp.reopen()?;
        let len = file.metadata()?.len();
        return Ok(Source {
            file,
            len,
            _temp: Some(temp),
        });
    }
    let mut path = PathBuf::from(location);
    if path.is_dir() {
        path = path.join("record.jsonl");
    }
    let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata()?.len();
    Ok(Source {
        file,
        len,
        _temp: None,
    })
}

/// Runs the verifier; the exit code is 0 for a valid record, 1 for an invalid one.
pub fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let since = match &args.since {
        Some(old) => {
            let old_src = open(old, true)?;
            let new_src = open(&args.record, true)?;
            Some(verify_since(
                BufReader::new(old_src.file),
                BufReader::new(new_src.file),
            )?)
        }
        None => None,
    };
    let options = Options {
        batch: !args.no_batch,
        ..Options::default()
    };
    let report = check(&args.record, &options, args.quiet || args.json)?;
    let valid = report.valid && since.as_ref().is_none_or(|s| s.extends);
    if args.json {
        let doc = serde_json::json!({ "record": args.record, "valid": valid, "since": since, "report": report });
        say!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        if let Some(s) = &since {
            let old = args.since.as_deref().unwrap_or_default();
            if s.extends {
                say!(
                    "{} extends {old}: its first {} lines are unchanged, {} lines were added",
                    args.record,
                    s.old_size,
                    s.new_size.saturating_sub(s.old_size)
                );
            } else {
                say!("{} does NOT extend {old}:", args.record);
                for f in &s.failures {
                    say!(
                        "  {} line {}: {} {}",
                        f.check,
                        f.line.unwrap_or(0),
                        f.item,
                        f.detail
                    );
                }
            }
        }
        print_summary(&args.record, &report);
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(record: &str, r: &Report) {
    say!("urne verify: {record}");
    if let (Some(id), Some(title)) = (&r.election_id, &r.title) {
        say!("  election     {id}: {title}");
    }
    if let Some(f) = &r.fingerprint {
        say!("  fingerprint  {f}");
    }
    say!(
        "  stage        {}{}",
        r.stage,
        if r.complete {
            " (complete: result verified)"
        } else {
            ""
        }
    );
    if let Some(c) = &r.ceremony {
        let (q, d, i) = (&c.qualified, c.disqualified.len(), c.ignored);
        say!("  ceremony     qualified dealers {q:?}, {d} disqualified, {i} messages set aside");
    }
    if r.trustees == 1 {
        say!(
            "  note         a single trustee holds the whole key: whoever holds it can decrypt any ballot"
        );
    }
    say!(
        "  ballots      {} cast, {} counted after revotes (total weight {}), {:.1} points decoded per ballot",
        r.ballots_cast,
        r.ballots_counted,
        r.total_weight,
        r.points_per_ballot
    );
    if let Some(root) = &r.root {
        say!("  tree head    {} lines, root {root}", r.lines - 1);
    }
    say!("  checks");
    for c in &r.checks {
        let status = match c.status {
            Status::Passed => "passed".to_string(),
            Status::Failed => format!("FAILED ({})", c.failures),
            Status::NotApplicable => "not yet".to_string(),
        };
        say!("    {:<5} {:<12} {}", c.id, status, c.description);
    }
    if !r.failures.is_empty() {
        say!("  failures ({} in all)", r.failures_total);
        for f in &r.failures {
            let line = f.line.map(|l| format!("line {l}")).unwrap_or_default();
            let tracker = f
                .tracker
                .as_deref()
                .map(|t| format!(" ballot {t}"))
                .unwrap_or_default();
            say!("    {} {line}{tracker}: {}: {}", f.check, f.item, f.detail);
        }
    }
    if let Some(result) = &r.result {
        print_result(result);
    }
    let verdict = if r.valid {
        "VALID: every check passed"
    } else {
        "INVALID: see the failures above"
    };
    let mode = if r.batch {
        "batch verification"
    } else {
        "one ballot at a time"
    };
    say!("  verdict      {verdict} ({:.2} s, {mode})", r.seconds);
}

fn print_result(result: &ElectionResult) {
    say!("  result (recomputed from the tally and the trustees' factors)");
    for (i, q) in result.questions.iter().enumerate() {
        let counts: Vec<String> = q
            .counts
            .iter()
            .enumerate()
            .map(|(a, c)| format!("answer {a}: {c}"))
            .collect();
        let blank = q.blank.map(|b| format!(", blank: {b}")).unwrap_or_default();
        say!("    question {i}: {}{blank}", counts.join(", "));
    }
}

/// Opens a record and verifies it, with a progress bar over its bytes.
fn check(location: &str, options: &Options, quiet: bool) -> anyhow::Result<Report> {
    let src = open(location, quiet)?;
    let pb = bar(quiet, src.len, "verifying", true);
    let report = verify(
        BufReader::with_capacity(1 << 20, src.file),
        options,
        &|done| pb.set_position(done),
    )?;
    pb.finish_and_clear();
    Ok(report)
}

/// Verifies a record file and returns the report (for the demo).
pub fn verify_file(path: &Path, quiet: bool) -> anyhow::Result<Report> {
    let location = path.to_string_lossy();
    let report = check(&location, &Options::default(), quiet)?;
    if !report.valid {
        print_summary(&location, &report);
        bail!("the demo's own record does not verify");
    }
    Ok(report)
}
