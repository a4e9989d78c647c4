//! `urne credentials`: the credential authority's tool, run on its own machine.
//!
//! The credential authority (spec §5.3) may be someone other than the server's operator: it
//! makes one secret credential per voter, gives the server only the public list (each X = x·G
//! with its weight), and hands each voter its credential over a private channel. Whoever holds
//! the authority's private file can vote for everyone in it, and the server never sees it.
//!
//! - `generate` reads the voter roll (urne-roll), makes the credentials in parallel, and writes
//!   `public-credentials.json` (the body of the server's credential upload, sorted by X's
//!   encoding so that its order says nothing about the roll) and `private-credentials.csv`
//!   (owner-only, never overwritten). It prints the list's fingerprint (spec §5.4), which the
//!   authority then looks for on the sealed board.
//! - `mail` sends each voter its credential (urne-mail), through an SMTP server or into a
//!   Maildir, and writes a delivery report.
//! - `replace` makes a new credential for a voter who lost theirs before the vote opens, and
//!   writes the body of the server's replacement request.
//!
//! No credential is ever printed or logged; they live in wiped buffers (see [`private`] for the
//! limits of that).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use clap::{Args, Subcommand};
use indicatif::ParallelProgressIterator;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use urne_core::credential::{Credential, MAX_TOTAL_WEIGHT, PublicCredential, list_fingerprint};
use urne_core::manifest::valid_election_id;

use crate::progress;
use private::Mode;

mod hand_over;
mod mail;
mod private;

/// The public list's file name, in the output directory.
pub const PUBLIC_FILE: &str = "public-credentials.json";
/// The private file's name, in the output directory.
pub const PRIVATE_FILE: &str = "private-credentials.csv";

/// Options of `urne credentials`.
#[derive(Args, Debug)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    command: CredentialsCommand,
}

#[derive(Subcommand, Debug)]
enum CredentialsCommand {
    /// Make one credential per voter of a roll: the public list for the server and the private
    /// file of credentials for the voters.
    Generate(Generate),
    /// Mail each voter its credential (SMTP, or a Maildir folder), with a delivery report.
    Mail(Box<mail::Mail>),
    /// Replace one voter's lost credential (before the vote opens): rewrites the private file
    /// and writes the server's replacement request.
    Replace(Replace),
    /// Print the fingerprint of a credential list: a public-credentials.json (with the
    /// replacements beside it), an election record, or the board of an election's address.
    Fingerprint(Fingerprint),
    /// The weaker mode: give the private credentials to the server, which mails them (its
    /// operator then sees them all; docs/voters.md §2.3).
    HandOver(hand_over::HandOver),
}

#[derive(Args, Debug)]
struct Fingerprint {
    /// A public-credentials.json, a record file (.jsonl), or an election's address
    /// (`https://vote.example/api/v1/elections/ID`, whose record is read).
    source: String,
}

#[derive(Args, Debug)]
struct Generate {
    /// The election id, as the administrator gave it: it enters every public credential.
    #[arg(long)]
    election: String,
    /// The voter roll: a .csv or .json file (see docs/voters.md).
    #[arg(long, value_name = "FILE")]
    roll: PathBuf,
    /// Directory for public-credentials.json and private-credentials.csv (made if missing).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct Replace {
    /// The private file written by `generate`.
    #[arg(long, value_name = "FILE")]
    private: PathBuf,
    /// The voter whose credential is replaced (their id on the roll).
    #[arg(long, value_name = "ID")]
    voter: String,
    /// The election id the credentials were made for.
    #[arg(long)]
    election: String,
}

/// The public credential list as the server takes it (`PUT /api/v1/admin/elections/{id}/
/// credentials`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicList {
    /// Each credential's X and weight.
    pub credentials: Vec<PublicCredential>,
}

/// A replacement request as the server takes it (`POST /api/v1/admin/elections/{id}/
/// credentials/replace`): the X to revoke and the new entry.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    /// The public credential that no longer counts.
    pub revoke: urne_core::group::Point,
    /// The new public credential, with the same weight.
    pub credential: PublicCredential,
}

/// Runs a credentials command.
pub fn run(args: &CredentialsArgs) -> anyhow::Result<std::process::ExitCode> {
    match &args.command {
        CredentialsCommand::Generate(a) => generate(a).map(|()| std::process::ExitCode::SUCCESS),
        CredentialsCommand::Mail(a) => mail::run(a),
        CredentialsCommand::Replace(a) => replace(a).map(|()| std::process::ExitCode::SUCCESS),
        CredentialsCommand::Fingerprint(a) => {
            fingerprint(a).map(|()| std::process::ExitCode::SUCCESS)
        }
        CredentialsCommand::HandOver(a) => {
            hand_over::run(a).map(|()| std::process::ExitCode::SUCCESS)
        }
    }
}

fn check_election(id: &str) -> anyhow::Result<()> {
    ensure!(
        valid_election_id(id),
        "`{id}` is not a valid election id (1 to 64 of A-Z a-z 0-9 . _ -)"
    );
    Ok(())
}

/// The public list's JSON: one entry a line, so that it reads and diffs well.
fn public_json(list: &[PublicCredential]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(list.len() * 64 + 32);
    out.extend_from_slice(b"{\"credentials\":[");
    for (i, c) in list.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        serde_json::to_writer(&mut out, c)?;
    }
    out.extend_from_slice(b"\n]}\n");
    Ok(out)
}

/// `n` fresh credentials, from the operating system's randomness (through each thread's
/// generator), and their public credentials for election `id`, made on every core.
fn make_credentials(
    n: usize,
    id: &str,
    pb: &indicatif::ProgressBar,
) -> (Vec<Credential>, Vec<urne_core::group::Point>) {
    (0..n)
        .into_par_iter()
        .progress_with(pb.clone())
        .map(|_| {
            let credential = Credential::generate(&mut rand::rng());
            let x = *credential.derive_key(id).public();
            (credential, x)
        })
        .unzip()
}

fn generate(a: &Generate) -> anyhow::Result<()> {
    let start = Instant::now();
    check_election(&a.election)?;
    let format = urne_roll::Format::from_path(&a.roll).with_context(|| {
        format!(
            "{}: cannot tell the roll's format from its name: use a .csv or .json file",
            a.roll.display()
        )
    })?;
    let public_path = a.out.join(PUBLIC_FILE);
    let private_path = a.out.join(PRIVATE_FILE);
    for p in [&private_path, &public_path] {
        ensure!(
            !p.exists(),
            "{} exists already: it is never overwritten (move it away, or choose another --out); \
             nothing was written",
            p.display()
        );
    }
    let bytes = fs::read(&a.roll).with_context(|| format!("cannot read {}", a.roll.display()))?;

    // The roll is read on one thread while the credentials are made on every core: as many as
    // the CSV file has lines after its header (a JSON file's lines say little, so none). They
    // are topped up or cut to the number of voters once the roll is read, and wiped unused if
    // it has errors. A credential does not depend on its voter, only its weight does.
    let estimate = match format {
        urne_roll::Format::Csv => bytes.iter().filter(|&&b| b == b'\n').count(),
        urne_roll::Format::Json => 0,
    }
    .saturating_sub(1)
    .min(urne_roll::MAX_VOTERS as usize);
    let pb = progress::bar(a.quiet, estimate as u64, "credentials", false);
    let id = a.election.as_str();
    let (parsed, (mut secrets, mut xs)) = std::thread::scope(|s| {
        let early = s.spawn(|| make_credentials(estimate, id, &pb));
        let parsed = urne_roll::parse(&bytes, format);
        match early.join() {
            Ok(made) => (parsed, made),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    drop(bytes);
    let roll = match parsed {
        Ok(roll) => roll,
        Err(errors) => {
            pb.finish_and_clear();
            drop((secrets, xs));
            for e in &errors.errors {
                eprintln!("{}: {e}", a.roll.display());
            }
            if errors.more > 0 {
                eprintln!("{}: … and {} more errors", a.roll.display(), errors.more);
            }
            bail!(
                "{}: the voter roll has {} error{}: fix them and run again; nothing was written",
                a.roll.display(),
                errors.total(),
                if errors.total() == 1 { "" } else { "s" }
            );
        }
    };
    let voters = &roll.voters;
    if voters.len() > secrets.len() {
        pb.set_length(voters.len() as u64);
        let (more, more_xs) = make_credentials(voters.len() - secrets.len(), id, &pb);
        secrets.extend(more);
        xs.extend(more_xs);
    }
    secrets.truncate(voters.len());
    xs.truncate(voters.len());
    pb.finish_and_clear();
    for w in &roll.warnings {
        eprintln!("{}: warning: {w}", a.roll.display());
    }
    ensure!(
        !voters.is_empty(),
        "{}: the roll has no voter; nothing was written",
        a.roll.display()
    );
    let total: u64 = voters
        .iter()
        .try_fold(0u64, |t, v| t.checked_add(v.weight))
        .unwrap_or(u64::MAX);
    ensure!(
        total <= MAX_TOTAL_WEIGHT,
        "{}: the weights add up to {total}, more than an election allows ({MAX_TOTAL_WEIGHT}); \
         nothing was written",
        a.roll.display()
    );
    fs::create_dir_all(&a.out).with_context(|| format!("cannot make {}", a.out.display()))?;
    let mut public: Vec<PublicCredential> = xs
        .into_iter()
        .zip(voters)
        .map(|(credential, v)| PublicCredential {
            credential,
            weight: v.weight,
        })
        .collect();

    // In the roll's order, so that the authority finds its voters as it listed them.
    let mut private = private::buffer(voters.len() * 120);
    for (v, c) in voters.iter().zip(&secrets) {
        private::push_line(
            &mut private,
            &v.id,
            &v.email,
            v.name.as_deref(),
            v.lang.map(|l| l.as_str()),
            v.weight,
            c,
        );
    }
    drop(secrets);

    // Sorted by X's encoding: the order of the public list says nothing about the roll's.
    public.par_sort_unstable_by(|p, q| p.credential.as_bytes().cmp(q.credential.as_bytes()));
    // Two equal X would take 2^125 draws to happen; check anyway, the server would refuse them.
    ensure!(
        public
            .windows(2)
            .all(|w| w[0].credential != w[1].credential),
        "two credentials have the same public credential; nothing was written (run again)"
    );
    let fingerprint = list_fingerprint(&public);
    let json = public_json(&public)?;

    private::write_atomically(&private_path, &private, Mode::Secret, false)?;
    drop(private);
    if let Err(e) = private::write_atomically(&public_path, &json, Mode::Public, false) {
        // Credentials without their public list would be of no use, and are secrets.
        let _ = fs::remove_file(&private_path);
        return Err(e.context("the private file was removed again; nothing was written"));
    }

    let equal = voters.iter().all(|v| v.weight == 1);
    say!(
        "urne credentials: {} credentials for election `{}`, total weight {total}, in {:.1} s",
        voters.len(),
        a.election,
        start.elapsed().as_secs_f64()
    );
    say!(
        "  weights     {}",
        if equal {
            "all 1 (an election with equal or weighted votes takes this list)"
        } else {
            "not all 1: the election's manifest must say \"weights\": \"weighted\""
        }
    );
    say!("  public      {}", public_path.display());
    say!("  private     {} (owner-only)", private_path.display());
    say!("  fingerprint {fingerprint}");
    say!("");
    say!("Next:");
    say!(
        "  1. Give {} to the election's administrator, who uploads it to the server",
        public_path.display()
    );
    say!(
        "     (PUT /api/v1/admin/elections/{}/credentials).",
        a.election
    );
    say!(
        "  2. Once the setup is sealed, check that the credential list on the election's board has"
    );
    say!("     the fingerprint {fingerprint}. Do not mail anything before it does.");
    say!(
        "  3. Mail each voter its credential: urne credentials mail --private {} …",
        private_path.display()
    );
    say!("     (or hand the private file to the server for mailing: simpler, but then the");
    say!("     server's operator sees every credential and could vote in voters' place).");
    say!(
        "  4. Keep the private file offline (an encrypted drive), only as long as you may need to"
    );
    say!("     resend a credential or replace a lost one; then destroy it (shred, or destroy the");
    say!("     drive). Anyone who reads it can vote for every voter in it.");
    Ok(())
}

/// A file-name-safe form of a voter id.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The eligible list of the public list in `dir` with the replacements beside it applied, or
/// `None` when `dir` has no public list.
fn eligible_in(dir: &Path) -> anyhow::Result<Option<Vec<PublicCredential>>> {
    let public_path = dir.join(PUBLIC_FILE);
    if !public_path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&public_path)
        .with_context(|| format!("cannot read {}", public_path.display()))?;
    let list: PublicList = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a public credential list", public_path.display()))?;
    let (eligible, _) = apply_replacements(list.credentials, &replacements_in(dir)?)?;
    Ok(Some(eligible))
}

fn replace(a: &Replace) -> anyhow::Result<()> {
    check_election(&a.election)?;
    let mut entries = private::read(&a.private)?;
    let Some(at) = entries.iter().position(|e| e.voter_id == a.voter) else {
        bail!("{}: no voter `{}`", a.private.display(), a.voter);
    };
    let dir = match a.private.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let old = *entries[at].credential.derive_key(&a.election).public();
    if let Some(eligible) = eligible_in(&dir)?
        && !eligible.iter().any(|c| c.credential == old)
    {
        bail!(
            "voter `{}`'s credential does not give, for election `{}`, any eligible public \
             credential of {} and the replacements beside it: is --election right? Nothing was \
             written",
            a.voter,
            a.election,
            dir.join(PUBLIC_FILE).display()
        );
    }
    let credential = Credential::generate(&mut rand::rng());
    let new = PublicCredential {
        credential: *credential.derive_key(&a.election).public(),
        weight: entries[at].weight,
    };
    entries[at].credential = credential;

    let base = format!("replacement-{}", file_safe(&a.voter));
    let request_path = (1..)
        .map(|n| {
            dir.join(if n == 1 {
                format!("{base}.json")
            } else {
                format!("{base}-{n}.json")
            })
        })
        .find(|p| !p.exists())
        .context("no free file name for the replacement")?;
    let request = Replacement {
        revoke: old,
        credential: new,
    };
    let mut json = serde_json::to_vec(&request)?;
    json.push(b'\n');
    private::write_atomically(&request_path, &json, Mode::Public, false)?;

    let mut out = private::buffer(entries.len() * 120);
    for e in &entries {
        private::push_line(
            &mut out,
            &e.voter_id,
            &e.email,
            e.name.as_deref(),
            e.lang.as_deref(),
            e.weight,
            &e.credential,
        );
    }
    if let Err(e) = private::write_atomically(&a.private, &out, Mode::Secret, true) {
        let _ = fs::remove_file(&request_path);
        return Err(e.context("the private file is unchanged and no replacement was written"));
    }

    say!(
        "urne credentials: voter `{}` has a new credential (weight {}); the old one is in no file",
        a.voter,
        new.weight
    );
    say!("  private     {} (rewritten)", a.private.display());
    say!("  request     {}", request_path.display());
    say!("  revoked X   {old}");
    say!("  new X       {}", new.credential);
    if let Some(eligible) = eligible_in(&dir)? {
        say!(
            "  fingerprint {} (the eligible list once the server has taken every replacement \
             beside {PUBLIC_FILE})",
            list_fingerprint(&eligible)
        );
    }
    say!("");
    say!("Next:");
    say!(
        "  1. Give {} to the administrator, who sends it to the server before the vote opens",
        request_path.display()
    );
    say!(
        "     (POST /api/v1/admin/elections/{}/credentials/replace): until then the old",
        a.election
    );
    say!("     credential still counts and the new one does not.");
    say!(
        "  2. Mail the new credential: urne credentials mail --private {} --voter {} --replacement …",
        a.private.display(),
        a.voter
    );
    Ok(())
}

/// The replacement requests written beside a public list, in the order of their file names.
fn replacements_in(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Replacement)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("replacement-") && name.ends_with(".json") {
            let text = fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let r: Replacement = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a replacement request", path.display()))?;
            out.push((path, r));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The eligible list (spec §5.5): `list` with each replacement applied, a revoked entry giving
/// its place to the new one. A replacement may revoke the credential of an earlier one, so they
/// are applied until none applies any more. Returns the list and the number applied.
fn apply_replacements(
    list: Vec<PublicCredential>,
    replacements: &[(PathBuf, Replacement)],
) -> anyhow::Result<(Vec<PublicCredential>, usize)> {
    let mut eligible: std::collections::HashMap<[u8; 32], PublicCredential> = list
        .into_iter()
        .map(|c| (*c.credential.as_bytes(), c))
        .collect();
    let mut pending: Vec<&(PathBuf, Replacement)> = replacements.iter().collect();
    let mut applied = 0;
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|(_, r)| match eligible.remove(r.revoke.as_bytes()) {
            Some(_) => {
                eligible.insert(*r.credential.credential.as_bytes(), r.credential);
                false
            }
            None => true,
        });
        applied += before - pending.len();
        if pending.len() == before {
            bail!(
                "{} revokes a credential that is not in the list",
                pending[0].0.display()
            );
        }
    }
    Ok((eligible.into_values().collect(), applied))
}

/// The eligible credentials of a record's lines: `credential` lines, less those revoked.
fn record_list(text: &str, what: &str) -> anyhow::Result<Vec<PublicCredential>> {
    #[derive(Deserialize)]
    struct Line {
        #[serde(rename = "type")]
        kind: String,
        credential: Option<urne_core::group::Point>,
        weight: Option<u64>,
    }
    let mut list = Vec::new();
    let mut revoked = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if !line.contains("\"type\":\"credential\"") && !line.contains("\"type\":\"revocation\"") {
            continue;
        }
        let l: Line = serde_json::from_str(line)
            .with_context(|| format!("{what}, line {}: not a record line", i + 1))?;
        match (l.kind.as_str(), l.credential, l.weight) {
            ("credential", Some(credential), Some(weight)) => {
                list.push(PublicCredential { credential, weight })
            }
            ("revocation", Some(x), _) => {
                revoked.insert(*x.as_bytes());
            }
            _ => bail!(
                "{what}, line {}: a credential line without its fields",
                i + 1
            ),
        }
    }
    list.retain(|c| !revoked.contains(c.credential.as_bytes()));
    Ok(list)
}

fn fingerprint(a: &Fingerprint) -> anyhow::Result<()> {
    let source = a.source.trim_end_matches('/');
    let (list, note) = if source.starts_with("http://") || source.starts_with("https://") {
        let Some((base, id)) = source.rsplit_once("/api/v1/elections/") else {
            bail!("`{source}` is not an election's address (…/api/v1/elections/ID)");
        };
        let text = crate::client::Client::new(base)
            .get_text(&format!("/api/v1/elections/{id}/record"))
            .with_context(|| format!("reading the record of {source}"))?;
        (
            record_list(&text, source)?,
            "the board's eligible credentials".to_owned(),
        )
    } else {
        let path = Path::new(source);
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        match serde_json::from_str::<PublicList>(&text) {
            Ok(public) => {
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let (list, n) = apply_replacements(public.credentials, &replacements_in(dir)?)?;
                let note = match n {
                    0 => "a public list".to_owned(),
                    1 => "a public list, with the replacement beside it".to_owned(),
                    n => format!("a public list, with the {n} replacements beside it"),
                };
                (list, note)
            }
            Err(_) => (
                record_list(&text, source)?,
                "a record's eligible credentials".to_owned(),
            ),
        }
    };
    let total: u64 = list.iter().map(|c| c.weight).sum();
    say!("{} credentials, total weight {total} ({note})", list.len());
    say!("fingerprint {}", list_fingerprint(&list));
    Ok(())
}
