//! `urne trustee decrypt` and `urne trustee upload-decryption`: a trustee's part of the count.
//!
//! A trustee decrypts only the tally (docs/threat-model.md §3.1): before computing anything it
//! verifies the election record up to the tally line with the universal verifier, so that the
//! ciphertexts it decrypts are the weighted sum of the counted ballots (V-14) of an election
//! whose setup and ceremony check (V-1 … V-18 so far), and never, say, one voter's ballot
//! presented as a tally. Offline, the record is a copy carried to the trustee's machine and the
//! factors go to a file; online, the record is downloaded from the server and the factors sent
//! to it.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use clap::{ArgGroup, Args};
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, vartime_judge_ceremony};
use urne_core::dkg::Share;
use urne_core::election::Election;
use urne_core::group::Point;
use urne_core::manifest::{KeySharing, Manifest, TrusteePublic, valid_election_id};
use urne_core::tally::{PartialDecryption, vartime_verify_partial};
use urne_verify::record::{Entry, MAX_LINE_BYTES, TallyEntry, parse_line, read_line};

use super::online::{Connect, Server};
use super::{Online, SHARE_PURPOSE, passphrase, sibling_of, write_json};
use crate::progress::bar;
use crate::vault;

/// Options of `urne trustee decrypt`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["record", "server"])))]
pub(in crate::trustee) struct Decrypt {
    /// The election id.
    #[arg(long)]
    election: String,
    /// This trustee's index (from 1).
    #[arg(long)]
    index: u32,
    /// This trustee's secret file (from `new-identity`).
    #[arg(long)]
    secret: PathBuf,
    /// This trustee's share of the key, from `finalize` (threshold sharing only; by default
    /// `trustee-INDEX.share.secret` beside the secret file).
    #[arg(long)]
    share: Option<PathBuf>,
    /// Offline: a copy of the election record made after the tally (a file, or a directory
    /// holding `record.jsonl`), such as `GET /api/v1/elections/ID/record` exports.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    #[command(flatten)]
    online: Online,
    /// Where to write the factors (offline: by default `trustee-INDEX.decryption.json`;
    /// online: a copy is kept there only when given).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Hide the progress bar of the record's verification.
    #[arg(long)]
    quiet: bool,
}

/// Options of `urne trustee upload-decryption`.
#[derive(Args, Debug)]
pub(in crate::trustee) struct Upload {
    /// The election id.
    #[arg(long)]
    election: String,
    #[command(flatten)]
    connect: Connect,
    /// The file written by `urne trustee decrypt --record …`.
    file: PathBuf,
}

/// What decryption needs from a record, read without checking it (the verifier checks it).
struct Snapshot {
    manifest: Manifest,
    dealings: Vec<Dealing>,
    complaints: Vec<ComplaintMessage>,
    answers: Vec<Answer>,
    tally: TallyEntry,
    /// Trustees whose factors are on the record.
    decrypted: Vec<u32>,
    result: bool,
}

/// Reads the lines decryption needs; ballots and credentials are skipped unparsed.
fn scan(path: &Path) -> anyhow::Result<Snapshot> {
    let name = path.display();
    let file = File::open(path).with_context(|| format!("opening {name}"))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let (mut manifest, mut tally) = (None, None);
    let (mut dealings, mut complaints, mut answers) = (Vec::new(), Vec::new(), Vec::new());
    let (mut decrypted, mut result) = (Vec::new(), false);
    let mut number = 0u64;
    loop {
        let (n, complete) = read_line(&mut input, &mut buf, MAX_LINE_BYTES)
            .with_context(|| format!("reading {name}"))?;
        if n == 0 {
            break;
        }
        number += 1;
        ensure!(
            complete,
            "{name}: line {number} is longer than {MAX_LINE_BYTES} bytes"
        );
        let kind = urne_server::trustees::line_kind(&buf);
        if kind == b"ballot" || kind == b"credential" || buf.is_empty() {
            continue;
        }
        let line = parse_line(number, &buf).with_context(|| format!("{name} is malformed"))?;
        match line.entry {
            Entry::Manifest(m) => manifest = Some(*m),
            Entry::Dealing(d) => dealings.push(*d),
            Entry::Complaint(c) => complaints.push(*c),
            Entry::Answer(a) => answers.push(*a),
            Entry::Tally(t) => tally = Some(*t),
            Entry::PartialDecryption(p) => decrypted.push(p.trustee),
            Entry::Result(_) => result = true,
            _ => {}
        }
    }
    let manifest = manifest
        .with_context(|| format!("{name} has no manifest line: it is not an election record"))?;
    let tally = tally.with_context(|| {
        format!(
            "{name} has no tally line: the votes of {} are not tallied yet. Run this again with \
             a copy of the record made after the administrator's tally",
            manifest.id
        )
    })?;
    Ok(Snapshot {
        manifest,
        dealings,
        complaints,
        answers,
        tally,
        decrypted,
        result,
    })
}

/// Runs the universal verifier on the record: every check must pass so far. Returns its report
/// with the state it built (the election, the mix phase's current list), so that nothing needs
/// to read the record again.
pub(super) fn verify_record(path: &Path, quiet: bool) -> anyhow::Result<urne_verify::Verification> {
    let name = path.display();
    let file = File::open(path).with_context(|| format!("opening {name}"))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let pb = bar(quiet, len, "verifying", true);
    let verified = urne_verify::verify_with_state(
        BufReader::with_capacity(1 << 20, file),
        &urne_verify::Options::default(),
        &|done| pb.set_position(done),
    )
    .with_context(|| format!("verifying {name}"))?;
    pb.finish_and_clear();
    let report = &verified.report;
    if !report.valid {
        let first: Vec<String> = report
            .failures
            .iter()
            .take(5)
            .map(|f| {
                let line = f.line.map(|l| format!(" line {l}")).unwrap_or_default();
                format!("{}{line}: {}: {}", f.check, f.item, f.detail)
            })
            .collect();
        bail!(
            "{name} does not verify ({} failure(s); {}): nothing was decrypted. A trustee decrypts \
             only the tally of a valid record; tell the administrator and the observers \
             (`urne verify` shows every failure)",
            report.failures_total,
            first.join("; ")
        );
    }
    Ok(verified)
}

/// This trustee's factors on the record's tally, checked against its verification key.
/// Downloads election `election`'s record from `server` into a temporary file.
pub(super) fn download_record(
    server: &Server,
    election: &str,
) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut temp = tempfile::NamedTempFile::new().context("creating a temporary file")?;
    let path = format!("/api/v1/elections/{election}/record");
    server
        .public()
        .get_into(&path, temp.as_file_mut())
        .with_context(|| format!("downloading the record from {}", server.url()))?;
    temp.as_file_mut().flush()?;
    Ok(temp)
}

/// Checks that `manifest` (read from `record_name`) is election `election`'s and that the
/// secret file `secret`, whose public key is `public`, holds trustee `index`'s key in it; that
/// trustee's entry.
pub(super) fn check_trustee<'m>(
    manifest: &'m Manifest,
    record_name: &str,
    election: &str,
    index: u32,
    secret: &Path,
    public: &Point,
) -> anyhow::Result<&'m TrusteePublic> {
    let m = manifest;
    ensure!(
        m.id == election,
        "{record_name} is the record of election {}, not {election}",
        m.id
    );
    let me = m.trustees.get(index as usize - 1).with_context(|| {
        format!(
            "election {} has {} trustees: there is no trustee {index}",
            m.id,
            m.trustees.len()
        )
    })?;
    ensure!(
        public == &me.public_key,
        "the secret file {} is not trustee {index}'s key in the manifest of {}",
        secret.display(),
        m.id
    );
    Ok(me)
}

fn compute(
    d: &Decrypt,
    snap: &Snapshot,
    pass: &str,
    key: &urne_core::trustee::TrusteeKey,
) -> anyhow::Result<(PartialDecryption, Point)> {
    let m = &snap.manifest;
    let mut election = Election::new(m.clone()).context("the record's manifest")?;
    let pd = match m.key_sharing {
        KeySharing::Independent => {
            key.decrypt_tally(&mut rand::rng(), &election, d.index, &snap.tally.tally)
        }
        KeySharing::Threshold => {
            let identities: Vec<Point> = m.trustees.iter().map(|t| t.public_key).collect();
            let outcome = vartime_judge_ceremony(
                &m.id,
                m.threshold,
                &identities,
                &snap.dealings,
                &snap.complaints,
                &snap.answers,
            )
            .context("judging the record's key-generation ceremony")?;
            election
                .set_verification_keys(&outcome.keys)
                .context("the record's ceremony")?;
            let path = d
                .share
                .clone()
                .unwrap_or_else(|| sibling_of(&d.secret, d.index, "share"));
            let bytes = vault::read(&path, SHARE_PURPOSE, pass.as_bytes())?;
            let share = Share::from_secret_bytes(&bytes)
                .with_context(|| format!("{} does not hold a valid share", path.display()))?;
            ensure!(
                share.index() == d.index,
                "{} holds trustee {}'s share, not trustee {}'s",
                path.display(),
                share.index(),
                d.index
            );
            share
                .decrypt_tally(&mut rand::rng(), &election, &snap.tally.tally)
                .with_context(|| format!("no verification key for trustee {}", d.index))?
        }
    };
    let vk = *election
        .verification_key(d.index)
        .with_context(|| format!("no verification key for trustee {}", d.index))?;
    vartime_verify_partial(&mut rand::rng(), &election, &snap.tally.tally, &pd).map_err(|e| {
        let what = match m.key_sharing {
            KeySharing::Independent => "the secret file is not this trustee's key".to_owned(),
            KeySharing::Threshold => format!(
                "the share file is not this trustee's share of the key of the record's ceremony \
                 (verification key {vk})"
            ),
        };
        anyhow::anyhow!(
            "this trustee's own factors do not verify ({e}): {what}; nothing was written or sent"
        )
    })?;
    Ok((pd, vk))
}

/// The record to decrypt: the given file, or a download kept in a temporary file.
enum Source {
    File(PathBuf),
    Download(tempfile::NamedTempFile),
}

impl Source {
    fn path(&self) -> &Path {
        match self {
            Source::File(p) => p,
            Source::Download(t) => t.path(),
        }
    }
}

/// `urne trustee decrypt`.
pub(in crate::trustee) fn decrypt(d: &Decrypt) -> anyhow::Result<()> {
    ensure!(
        valid_election_id(&d.election),
        "`{}` is not a valid election id",
        d.election
    );
    ensure!(d.index >= 1, "--index starts at 1");
    let server = match &d.online.server {
        Some(_) => Some(Server::from_online(&d.online)?),
        None => None,
    };
    let out = match (&d.out, &server) {
        (Some(p), _) => Some(p.clone()),
        (None, None) => Some(PathBuf::from(format!(
            "trustee-{}.decryption.json",
            d.index
        ))),
        (None, Some(_)) => None,
    };
    if let Some(p) = &out {
        ensure!(
            !p.exists(),
            "{} exists already: nothing was written",
            p.display()
        );
    }
    // The secrets first: a wrong passphrase stops here, before anything is read or sent.
    let pass = passphrase(false)?;
    let key = super::open_identity(&d.secret, &pass)?;
    let source = match (&server, &d.record) {
        (Some(s), _) => Source::Download(download_record(s, &d.election)?),
        (None, Some(r)) => {
            let p = if r.is_dir() {
                r.join("record.jsonl")
            } else {
                r.clone()
            };
            Source::File(p)
        }
        (None, None) => bail!("give the record with --record, or the server with --server"),
    };
    let record_name = match (&server, &source) {
        (Some(s), _) => format!("the record of {} from {}", d.election, s.url()),
        (None, src) => src.path().display().to_string(),
    };
    let snap = scan(source.path()).with_context(|| record_name.clone())?;
    let m = &snap.manifest;
    let me = check_trustee(
        m,
        &record_name,
        &d.election,
        d.index,
        &d.secret,
        key.public(),
    )?;
    ensure!(
        !snap.result,
        "the result of {} is on the record already: nothing to decrypt",
        m.id
    );
    ensure!(
        !snap.decrypted.contains(&d.index),
        "trustee {}'s factors are on the record of {} already: nothing to decrypt",
        d.index,
        m.id
    );
    let report = verify_record(source.path(), d.quiet)
        .with_context(|| record_name.clone())?
        .report;
    let (pd, vk) = compute(d, &snap, &pass, &key)?;
    drop(key);
    say!(
        "Checked {record_name}: {} lines, every check so far passed ({}),",
        report.lines,
        report.stage
    );
    say!(
        "so the tally is the sum of the {} counted ballots (total weight {}).",
        report.ballots_counted,
        report.total_weight
    );
    say!(
        "The manifest (fingerprint {}) lists this trustee's key as trustee {} ({}).",
        m.fingerprint(),
        d.index,
        me.name
    );
    let how = match m.key_sharing {
        KeySharing::Independent => "its key",
        KeySharing::Threshold => "its share of the ceremony's key",
    };
    say!(
        "Computed {} decryption factors with {how}, with proofs, and checked them (V-15)",
        pd.factors.len()
    );
    say!("against its verification key {vk}.");
    if let Some(p) = &out {
        write_json(p, &pd)?;
        say!("  factors      {} (public)", p.display());
    }
    match &server {
        Some(s) => s.send_decryption(&d.election, &pd)?,
        None => {
            let file = out.as_deref().map(Path::display);
            let file = file.map(|f| f.to_string()).unwrap_or_default();
            say!("Next: carry {file} to a connected machine and send it with");
            say!(
                "  urne trustee upload-decryption --server URL --election {} {file}",
                d.election
            );
            say!("with this trustee's invitation token in URNE_INVITATION.");
        }
    }
    Ok(())
}

/// `urne trustee upload-decryption`.
pub(in crate::trustee) fn upload(u: &Upload) -> anyhow::Result<()> {
    ensure!(
        valid_election_id(&u.election),
        "`{}` is not a valid election id",
        u.election
    );
    let name = u.file.display();
    let text = std::fs::read_to_string(&u.file).with_context(|| format!("reading {name}"))?;
    let pd: PartialDecryption = serde_json::from_str(&text).with_context(|| {
        format!("{name} is not a trustee's decryption factors (from `urne trustee decrypt`)")
    })?;
    ensure!(
        pd.trustee >= 1 && !pd.factors.is_empty(),
        "{name}: `trustee` must be an index from 1 and `factors` must not be empty"
    );
    let server = Server::from_connect(&u.connect)?;
    say!(
        "Read {name}: trustee {}'s {} decryption factors.",
        pd.trustee,
        pd.factors.len()
    );
    server.send_decryption(&u.election, &pd)
}
