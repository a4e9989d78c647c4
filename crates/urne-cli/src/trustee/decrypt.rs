//! `urne trustee decrypt` and `urne trustee upload-decryption`: a trustee's part of the count.
//!
//! A trustee decrypts only the tally (docs/threat-model.md §3.1): before computing anything it
//! verifies the election record up to the tally line with the universal verifier, so that the
//! ciphertexts it decrypts are the weighted sum of the counted ballots (V-14) of an election
//! whose setup and ceremony check (V-1 … V-18 so far), and never, say, one voter's ballot
//! presented as a tally. Offline, the record is a copy carried to the trustee's machine and the
//! factors go to a file; online, the record is downloaded from the server and the factors sent
//! to it.
//!
//! The record is read once, by the verifier, which hands over the tally line it checked, the
//! election with its ceremony's verification keys and the trustees who decrypted already
//! ([`urne_verify::Verification`]). Before that pass, the record's header and manifest alone are
//! read to check the election id, the index and the secret file ([`Claim::check_head`], shared
//! with `shuffle` and `mix-decrypt`): a trustee who typed one of them wrong is told at once, not
//! after the verification of every ballot.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use clap::{ArgGroup, Args};
use urne_core::dkg::Share;
use urne_core::election::Election;
use urne_core::group::Point;
use urne_core::manifest::{KeySharing, Manifest, TrusteePublic, valid_election_id};
use urne_core::mix::width;
use urne_core::tally::{EncryptedTally, PartialDecryption, vartime_verify_partial};
use urne_verify::Verification;
use urne_verify::record::{Entry, MAX_LINE_BYTES, parse_line, read_line};

use super::online::{Connect, Server};
use super::{Online, SHARE_PURPOSE, passphrase, sibling_of, write_json};
use crate::progress::bar;
use crate::vault;

/// The election and this trustee's files, named alike by `decrypt`, `shuffle` and
/// `mix-decrypt`.
#[derive(Args, Debug)]
pub(in crate::trustee) struct TrusteeFiles {
    /// The election id.
    #[arg(long)]
    pub(in crate::trustee) election: String,
    /// This trustee's index (from 1).
    #[arg(long)]
    pub(in crate::trustee) index: u32,
    /// This trustee's secret file (from `new-identity`).
    #[arg(long)]
    pub(in crate::trustee) secret: PathBuf,
    /// This trustee's share of the key, from `finalize` (`decrypt` and `mix-decrypt` under
    /// threshold sharing only; by default `trustee-INDEX.share.secret` beside the secret file).
    #[arg(long)]
    share: Option<PathBuf>,
}

impl TrusteeFiles {
    /// Refuses a malformed election id or an index of 0, before anything is read.
    pub(in crate::trustee) fn check(&self) -> anyhow::Result<()> {
        ensure!(
            valid_election_id(&self.election),
            "`{}` is not a valid election id",
            self.election
        );
        ensure!(self.index >= 1, "--index starts at 1");
        Ok(())
    }

    /// The share file: `--share`, or by default `trustee-INDEX.share.secret` beside the
    /// secret file.
    fn share_path(&self) -> PathBuf {
        self.share
            .clone()
            .unwrap_or_else(|| sibling_of(&self.secret, self.index, "share"))
    }

    /// Opens this trustee's share of the key with `pass` and checks that it is this
    /// trustee's (threshold sharing).
    pub(in crate::trustee) fn open_share(&self, pass: &str) -> anyhow::Result<Share> {
        let path = self.share_path();
        let bytes = vault::read(&path, SHARE_PURPOSE, pass.as_bytes())?;
        let share = Share::from_secret_bytes(&bytes)
            .with_context(|| format!("{} does not hold a valid share", path.display()))?;
        ensure!(
            share.index() == self.index,
            "{} holds trustee {}'s share, not trustee {}'s",
            path.display(),
            share.index(),
            self.index
        );
        Ok(share)
    }
}

/// Options of `urne trustee decrypt`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["record", "server"])))]
pub(in crate::trustee) struct Decrypt {
    #[command(flatten)]
    files: TrusteeFiles,
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

/// What a trustee's command works on, as far as the manifest tells whether it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// The decryption of the tally (`decrypt`): every election has one.
    Tally,
    /// The mix phase (`shuffle`, `mix-decrypt`): only an election with a ranked or graded
    /// question has one.
    Mix,
}

/// Who a trustee says it is on the command line, and what for: checked against a record's
/// manifest.
#[derive(Debug)]
pub(super) struct Claim<'a> {
    /// The election id given (`--election`).
    pub(super) election: &'a str,
    /// The trustee index given (`--index`, from 1).
    pub(super) index: u32,
    /// The secret file given (`--secret`), named in errors.
    pub(super) secret: &'a Path,
    /// The public key of the identity key in the secret file.
    pub(super) public: &'a Point,
    /// What the command does.
    pub(super) step: Step,
}

impl Claim<'_> {
    /// Checks that `manifest` (read from `record_name`) is election `election`'s, that the
    /// secret file holds trustee `index`'s key in it, and, for the mix phase, that the election
    /// has one; that trustee's entry.
    pub(super) fn check<'m>(
        &self,
        manifest: &'m Manifest,
        record_name: &str,
    ) -> anyhow::Result<&'m TrusteePublic> {
        let (m, election, index) = (manifest, self.election, self.index);
        ensure!(
            m.id == election,
            "{record_name} is the record of election {}, not {election}",
            m.id
        );
        let me = (index as usize)
            .checked_sub(1)
            .and_then(|i| m.trustees.get(i))
            .with_context(|| {
                format!(
                    "election {} has {} trustees: there is no trustee {index}",
                    m.id,
                    m.trustees.len()
                )
            })?;
        ensure!(
            self.public == &me.public_key,
            "the secret file {} is not trustee {index}'s key in the manifest of {}",
            self.secret.display(),
            m.id
        );
        ensure!(
            self.step != Step::Mix || width(m) > 0,
            "election {} has no ranked or graded question: it has no mix phase",
            m.id
        );
        Ok(me)
    }

    /// Fails fast: runs [`Claim::check`] on the manifest of the record at `path`, read from its
    /// first two lines as the verifier reads them, before the verification's pass over the
    /// whole record. A wrong `--election`, `--index` or secret file is thus told at once.
    /// A record that does not start with a well-formed header and manifest is left to the
    /// verifier, which says what is wrong with it; the caller checks the verified manifest
    /// again.
    pub(super) fn check_head(&self, path: &Path, record_name: &str) -> anyhow::Result<()> {
        match read_manifest(path).with_context(|| format!("reading {}", path.display()))? {
            Some(m) => self.check(&m, record_name).map(|_| ()),
            None => Ok(()),
        }
    }
}

/// The manifest of the record at `path` when its first line is a `header` line and its second
/// a `manifest` line, both well formed (docs/record.md); nothing else is read.
fn read_manifest(path: &Path) -> std::io::Result<Option<Manifest>> {
    let mut input = BufReader::new(File::open(path)?);
    let mut buf = Vec::new();
    for number in 1..=2 {
        let (n, complete) = read_line(&mut input, &mut buf, MAX_LINE_BYTES)?;
        if n == 0 || !complete {
            return Ok(None);
        }
        match parse_line(number, &buf).map(|l| l.entry) {
            Ok(Entry::Header(_)) if number == 1 => {}
            Ok(Entry::Manifest(m)) if number == 2 => return Ok(Some(*m)),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// This trustee's factors of `tally`, checked against its verification key. `election` is the
/// verifier's: under threshold sharing it carries the verification keys of the record's
/// ceremony, judged in the verifier's pass (V-3).
fn compute(
    d: &Decrypt,
    election: &Election,
    tally: &EncryptedTally,
    pass: &str,
    key: &urne_core::trustee::TrusteeKey,
) -> anyhow::Result<(PartialDecryption, Point)> {
    let m = election.manifest();
    let pd = match m.key_sharing {
        KeySharing::Independent => {
            key.decrypt_tally(&mut rand::rng(), election, d.files.index, tally)
        }
        KeySharing::Threshold => d
            .files
            .open_share(pass)?
            .decrypt_tally(&mut rand::rng(), election, tally)
            .with_context(|| format!("no verification key for trustee {}", d.files.index))?,
    };
    let vk = *election
        .verification_key(d.files.index)
        .with_context(|| format!("no verification key for trustee {}", d.files.index))?;
    vartime_verify_partial(&mut rand::rng(), election, tally, &pd).map_err(|e| {
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
    d.files.check()?;
    let server = match &d.online.server {
        Some(_) => Some(Server::from_online(&d.online)?),
        None => None,
    };
    let out = match (&d.out, &server) {
        (Some(p), _) => Some(p.clone()),
        (None, None) => Some(PathBuf::from(format!(
            "trustee-{}.decryption.json",
            d.files.index
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
    let key = super::open_identity(&d.files.secret, &pass)?;
    let source = match (&server, &d.record) {
        (Some(s), _) => Source::Download(download_record(s, &d.files.election)?),
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
        (Some(s), _) => format!("the record of {} from {}", d.files.election, s.url()),
        (None, src) => src.path().display().to_string(),
    };
    let claim = Claim {
        election: &d.files.election,
        index: d.files.index,
        secret: &d.files.secret,
        public: key.public(),
        step: Step::Tally,
    };
    claim.check_head(source.path(), &record_name)?;
    // One pass over the record: the verifier's, which hands over the tally it checked (V-14),
    // the election with its ceremony's verification keys, and the trustees who decrypted.
    let Verification {
        report,
        election,
        tally_decryptors,
        tally,
        ..
    } = verify_record(source.path(), d.quiet).with_context(|| record_name.clone())?;
    drop(source);
    let election = election.with_context(|| {
        format!("{record_name} has no manifest line: it is not an election record")
    })?;
    let m = election.manifest();
    let me = claim.check(m, &record_name)?;
    let tally = tally.with_context(|| {
        format!(
            "{record_name} has no tally line: the votes of {} are not tallied yet. Run this again \
             with a copy of the record made after the administrator's tally",
            m.id
        )
    })?;
    ensure!(
        report.result.is_none(),
        "the result of {} is on the record already: nothing to decrypt",
        m.id
    );
    ensure!(
        !tally_decryptors.contains(&d.files.index),
        "trustee {}'s factors are on the record of {} already: nothing to decrypt",
        d.files.index,
        m.id
    );
    let (pd, vk) = compute(d, &election, &tally.tally, &pass, &key)?;
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
        d.files.index,
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
        Some(s) => s.send_decryption(&d.files.election, &pd)?,
        None => {
            let file = out.as_deref().map(Path::display);
            let file = file.map(|f| f.to_string()).unwrap_or_default();
            say!("Next: carry {file} to a connected machine and send it with");
            say!(
                "  urne trustee upload-decryption --server URL --election {} {file}",
                d.files.election
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
