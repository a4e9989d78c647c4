//! `urne verify`: the universal verifier, from a file, a directory or a URL; on an election's
//! address, the record it serves is also checked against its latest signed tree head.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use urne_core::board::SignedTreeHead;
use urne_core::election::Election;
use urne_core::tally::{ElectionResult, MixedCount};
use urne_verify::merkle::{Hash, MerkleBuilder, leaf_hash, verify_consistency};
use urne_verify::record::{Entry, MAX_LINE_BYTES, parse_line, read_line};
use urne_verify::{Options, Report, Status, verify, verify_since};

use crate::audit::ElectionUrl;
use crate::client::{Client, HttpError};
use crate::progress::bar;

/// Options of `urne verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The record: a file, a directory holding `record.jsonl`, an http(s) URL of a record, or an
    /// election's address on its server (http(s)://HOST[:PORT]/api/v1/elections/ID): its record
    /// is downloaded, verified, and checked against the server's latest signed tree head.
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
            let old_src = open(&record_location(old), true)?;
            let new_src = open(&record_location(&args.record), true)?;
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
    let quiet = args.quiet || args.json;
    let (report, signed_head) = match ElectionUrl::parse(&args.record) {
        Some(url) => {
            let src = open(&record_location(&args.record), quiet)?;
            let report = check_source(&src, &options, quiet)?;
            (report, Some(check_signed_head(&url, &src.file)?))
        }
        None => (check(&args.record, &options, quiet)?, None),
    };
    let valid = report.valid
        && since.as_ref().is_none_or(|s| s.extends)
        && signed_head.as_ref().is_none_or(|h| h.ok);
    if args.json {
        let mut doc = serde_json::json!({ "record": args.record, "valid": valid, "since": since, "report": report });
        if let Some(h) = &signed_head {
            doc["signed_head"] = serde_json::to_value(h)?;
        }
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
        print_summary(&args.record, &report, signed_head.as_ref());
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(record: &str, r: &Report, signed_head: Option<&HeadCheck>) {
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
    if let Some(m) = &r.mix {
        say!(
            "  mix phase    {} rows shuffled by trustees {:?}, decrypted by trustees {:?}, {} decrypted ballots published",
            m.ballots,
            m.shufflers,
            m.decryptors,
            m.decrypted
        );
    }
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
    if let Some(h) = signed_head {
        let status = if h.ok { "" } else { "FAILED: " };
        say!("  signed head  {status}{}", h.detail);
    }
    if let Some(result) = &r.result {
        print_result(result);
    }
    let verdict = if !r.valid {
        "INVALID: see the failures above"
    } else if signed_head.is_some_and(|h| !h.ok) {
        "INVALID: the record does not agree with the server's signed tree head"
    } else {
        "VALID: every check passed"
    };
    let mode = if r.batch {
        "batch verification"
    } else {
        "one ballot at a time"
    };
    say!("  verdict      {verdict} ({:.2} s, {mode})", r.seconds);
}

fn print_result(result: &ElectionResult) {
    say!("  result (recomputed from the tally, the trustees' factors and the mix phase)");
    for (i, q) in result.questions.iter().enumerate() {
        if let Some(m) = &q.mixed {
            // Candidates are answer indices, as in the plurality lines.
            let list = |v: &[usize]| {
                v.iter()
                    .map(|a| format!("answer {a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let counted = format!(
                "{} decrypted ballots, {} set aside as invalid",
                m.ballots, m.invalid
            );
            match &m.count {
                MixedCount::Schulze(s) => say!(
                    "    question {i} (Schulze): {counted}; winners {}; ranking {}",
                    list(&s.winners),
                    list(&s.ranking)
                ),
                MixedCount::Stv(s) => say!(
                    "    question {i} (STV, quota {}): {counted}; elected in order {}",
                    s.quota,
                    list(&s.elected)
                ),
                MixedCount::MajorityJudgment(j) => say!(
                    "    question {i} (majority judgment): {counted}; winners {}; ranking {}",
                    list(&j.winners),
                    list(&j.ranking)
                ),
            }
            continue;
        }
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
    check_source(&src, options, quiet)
}

/// Verifies an opened record, with a progress bar over its bytes.
fn check_source(src: &Source, options: &Options, quiet: bool) -> anyhow::Result<Report> {
    let pb = bar(quiet, src.len, "verifying", true);
    let mut file = &src.file;
    file.seek(SeekFrom::Start(0))?;
    let report = verify(BufReader::with_capacity(1 << 20, file), options, &|done| {
        pb.set_position(done)
    })?;
    pb.finish_and_clear();
    Ok(report)
}

/// Where the record is: an election's address stands for the record it serves.
fn record_location(location: &str) -> String {
    match ElectionUrl::parse(location) {
        Some(url) => format!("{}{}", url.base, url.api("/record")),
        None => location.to_owned(),
    }
}

/// The record checked against the server's latest signed tree head (docs/record.md §4.4).
#[derive(Debug, Serialize)]
pub struct HeadCheck {
    /// Whether the head's signature verifies and the record agrees with it.
    pub ok: bool,
    /// The server's signed tree head.
    pub head: SignedTreeHead,
    /// Lines of the record before its tree head, when it has one.
    pub record_size: Option<u64>,
    /// What was checked, or what failed.
    pub detail: String,
}

/// What the head check needs of a record, read in one pass.
struct RecordHead {
    election: Option<Election>,
    size: u64,
    root: Option<Hash>,
    /// The root of the record's first lines, as many as asked for, if it has that many.
    prefix: Option<Hash>,
}

/// Reads the record's manifest and tree head, and the root of its first `prefix` lines.
fn read_record_head(file: &File, prefix: u64) -> anyhow::Result<RecordHead> {
    let mut file = file;
    file.seek(SeekFrom::Start(0))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut out = RecordHead {
        election: None,
        size: 0,
        root: None,
        prefix: None,
    };
    let mut tree = MerkleBuilder::new();
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        if tree.size() == prefix && out.prefix.is_none() {
            out.prefix = Some(tree.root());
        }
        let (n, complete) = read_line(&mut input, &mut buf, MAX_LINE_BYTES)?;
        if n == 0 {
            break;
        }
        number += 1;
        let head = &buf[..buf.len().min(48)];
        let is = |kind: &[u8]| head.windows(kind.len()).any(|w| w == kind);
        if complete && is(b"\"type\":\"tree_head\"") {
            if let Ok(Entry::TreeHead(h)) = parse_line(number, &buf).map(|l| l.entry) {
                out.size = h.size;
                out.root = Some(h.root);
            }
            break;
        }
        if complete && out.election.is_none() && is(b"\"type\":\"manifest\"") {
            if let Ok(Entry::Manifest(m)) = parse_line(number, &buf).map(|l| l.entry) {
                out.election = Election::new(*m).ok();
            }
        }
        tree.push(leaf_hash(if complete { &buf } else { b"" }));
    }
    Ok(out)
}

/// Checks the record served by an election's server against the server's latest signed tree
/// head: its signature under the manifest's board key, then the record's tree head against it
/// (the same root at the same size, a consistency proof to a larger board, or the root of the
/// record's first lines for a smaller one).
fn check_signed_head(url: &ElectionUrl, record: &File) -> anyhow::Result<HeadCheck> {
    let client = Client::new(&url.base);
    let text = client.get_text(&url.api("/board/head"))?;
    let head = SignedTreeHead::from_json(&text)
        .map_err(|e| anyhow::anyhow!("the server's head is not a signed tree head: {e}"))?;
    let rec = read_record_head(record, head.size)?;
    let record_size = rec.root.map(|_| rec.size);
    let done = |ok: bool, detail: String| HeadCheck {
        ok,
        head,
        record_size,
        detail,
    };
    let Some(election) = &rec.election else {
        return Ok(done(
            false,
            "the record has no valid manifest to check it by".into(),
        ));
    };
    let Some(key) = election.manifest().board_key else {
        let why = "the manifest names no board key: the server's tree heads cannot be checked";
        return Ok(done(false, why.into()));
    };
    if let Err(e) = head.vartime_verify(&key, election.fingerprint()) {
        return Ok(done(false, format!("the server's latest head: {e}")));
    }
    let Some(root) = rec.root else {
        return Ok(done(false, "the record has no tree head".into()));
    };
    let (r, s) = (rec.size, head.size);
    let signed = format!("{s} lines signed at {}", head.at);
    Ok(if s == r {
        if head.root == root {
            done(true, format!("{signed}: the record's tree head, signed"))
        } else {
            let why = format!("{signed} with another root than the record's: a fork");
            done(false, why)
        }
    } else if s > r {
        let path = url.api(&format!("/board/consistency?from={r}&to={s}"));
        #[derive(serde::Deserialize)]
        struct View {
            path: Vec<String>,
        }
        let proof: Option<Vec<Hash>> = match client.get::<View>(&path) {
            Ok(v) => v
                .path
                .iter()
                .map(|h| urne_core::group::b64_decode(h).ok()?.try_into().ok())
                .collect(),
            Err(e)
                if e.downcast_ref::<HttpError>()
                    .is_some_and(|h| h.status < 500) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        match proof.map(|p| verify_consistency(r, s, &root, &head.root, &p)) {
            Some(Ok(())) => done(
                true,
                format!(
                    "{signed}: the board grew by {} lines since the record, by appending only \
                     (consistency proof verified)",
                    s - r
                ),
            ),
            Some(Err(e)) => done(
                false,
                format!("{signed}: the consistency proof from the record's {r} lines: {e}"),
            ),
            None => done(
                false,
                format!(
                    "{signed}: the server gives no consistency proof from the record's {r} lines"
                ),
            ),
        }
    } else if rec.prefix == Some(head.root) {
        done(
            true,
            format!("{signed}: the root of the record's first {s} lines"),
        )
    } else {
        let why = format!("{signed}: not the root of the record's first {s} lines: a fork");
        done(false, why)
    })
}

/// Verifies a record file and returns the report (for the demo).
pub fn verify_file(path: &Path, quiet: bool) -> anyhow::Result<Report> {
    let location = path.to_string_lossy();
    let report = check(&location, &Options::default(), quiet)?;
    if !report.valid {
        print_summary(&location, &report, None);
        bail!("the demo's own record does not verify");
    }
    Ok(report)
}
