//! `urne trustee`: a trustee's own steps, on its own machine: its key, the key-generation
//! ceremony and the decryption of the tally.
//!
//! Every step works in two ways. **Offline**, on a machine that may be air-gapped, messages are
//! files: the ceremony goes through a directory that someone carries between the trustees
//! (`--dir`, `--trustees`), and `decrypt` reads a copy of the election record and writes the
//! trustee's factors to a file, which `upload-decryption` sends from a connected machine.
//! **Online**, with `--server URL` and the trustee's invitation token (`URNE_INVITATION`, or
//! `--invitation`), the same steps send and fetch the messages through the server's trustee
//! endpoints; the number of trustees and the threshold then come from the server.
//!
//! A trustee's secret key never leaves its machine in the clear: it is written encrypted with a
//! passphrase (see [`crate::vault`]). The passphrase is read from the terminal, or from the
//! `URNE_PASSPHRASE` environment variable for scripted ceremonies. Neither the passphrase, nor
//! the invitation token, nor any secret is ever printed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use clap::{ArgGroup, Args, Subcommand};
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, Transcript, vartime_judge_ceremony};
use urne_core::dkg::Polynomial;
use urne_core::group::Point;
use urne_core::manifest::{TrusteePublic, valid_election_id};
use urne_core::trustee::TrusteeKey;
use zeroize::Zeroizing;

use crate::vault;

mod decrypt;
mod mix;
mod online;

/// What a trustee's secret file holds.
const IDENTITY_PURPOSE: &str = "urne trustee key";

/// Options of `urne trustee`.
#[derive(Args, Debug)]
pub struct TrusteeArgs {
    #[command(subcommand)]
    command: TrusteeCommand,
}

#[derive(Subcommand, Debug)]
enum TrusteeCommand {
    /// Create this trustee's key: a public file for the administrator and an encrypted secret
    /// (online: also register the public key with the server).
    NewIdentity(NewIdentity),
    /// Register a public file made by `new-identity` on another machine with the server.
    Register(online::Register),
    /// Check that a secret file opens with the passphrase and matches its public file.
    CheckIdentity(CheckIdentity),
    /// Ceremony round 1: deal shares of a fresh secret to every trustee.
    Deal(Ceremony),
    /// Ceremony round 2: check the shares received; complain about any that is wrong.
    Complain(Ceremony),
    /// Ceremony round 3: answer the complaints against this trustee.
    Answer(Ceremony),
    /// After the ceremony: judge it, print its outcome and keep this trustee's share of the key.
    Finalize(Ceremony),
    /// After the tally: check the record, compute this trustee's decryption factors with
    /// proofs, check them, and write them to a file (offline) or send them (online).
    Decrypt(decrypt::Decrypt),
    /// Send a file written by an offline `decrypt` to the server.
    UploadDecryption(decrypt::Upload),
    /// Mix phase (ranked and graded questions), online: check the record, shuffle the list
    /// of mixed ciphertexts it gives, prove and sign the shuffle, and send it.
    Shuffle(mix::Mix),
    /// Mix phase, online, once enough trustees have shuffled: check the record, compute this
    /// trustee's decryption factors of the last shuffle's output with proofs, and send them.
    MixDecrypt(mix::Mix),
}

/// How to reach the server, for the online mode.
#[derive(Args, Debug, Clone)]
struct Online {
    /// The server (`https://vote.example.org`): go through its trustee endpoints instead of
    /// files.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// This trustee's invitation token, from the administrator. Prefer the URNE_INVITATION
    /// environment variable: a command line is visible to the machine's other users.
    #[arg(long, value_name = "TOKEN", requires = "server")]
    invitation: Option<String>,
}

/// What every ceremony step needs.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("relay").required(true).args(["dir", "server"])))]
struct Ceremony {
    /// The election id.
    #[arg(long)]
    election: String,
    /// This trustee's index (from 1).
    #[arg(long)]
    index: u32,
    /// How many trustees suffice to decrypt (online: from the server; if given, checked
    /// against it).
    #[arg(long, required_unless_present = "server")]
    threshold: Option<u32>,
    /// This trustee's secret file (from `new-identity`).
    #[arg(long)]
    secret: PathBuf,
    /// The ceremony directory, where every trustee's messages are relayed (offline).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Every trustee's public file, in index order (offline).
    #[arg(long, num_args = 1.., requires = "dir", required_unless_present = "server")]
    trustees: Vec<PathBuf>,
    #[command(flatten)]
    online: Online,
    /// Online: go on although some trustees have not sent the previous round yet (they are
    /// left out, as the administrator's forced seal would leave them out).
    #[arg(long, requires = "server")]
    force: bool,
    /// Memory for the key derivation of new secret files, in KiB (argon2id).
    #[arg(long, default_value_t = vault::DEFAULT_MEMORY_KIB, hide = true)]
    kdf_memory_kib: u32,
}

/// The offline relay of a ceremony step: its directory, the public files and the threshold.
struct Files<'a> {
    dir: &'a Path,
    trustees: &'a [PathBuf],
    threshold: u32,
}

impl Ceremony {
    fn files(&self) -> anyhow::Result<Files<'_>> {
        Ok(Files {
            dir: self.dir.as_deref().context("--dir is missing")?,
            trustees: &self.trustees,
            threshold: self.threshold.context("--threshold is missing")?,
        })
    }
}

#[derive(Args, Debug)]
struct NewIdentity {
    /// The election id, as the administrator gave it.
    #[arg(long)]
    election: String,
    /// This trustee's index in the election's trustee list (from 1).
    #[arg(long)]
    index: u32,
    /// This trustee's name, as observers will see it.
    #[arg(long)]
    name: String,
    /// Directory for `trustee-INDEX.public.json` and `trustee-INDEX.secret`.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    #[command(flatten)]
    online: Online,
    /// Memory for the passphrase's key derivation, in KiB (argon2id).
    #[arg(long, default_value_t = vault::DEFAULT_MEMORY_KIB, hide = true)]
    kdf_memory_kib: u32,
}

#[derive(Args, Debug)]
struct CheckIdentity {
    /// The election id.
    #[arg(long)]
    election: String,
    /// This trustee's index (from 1).
    #[arg(long)]
    index: u32,
    /// The secret file.
    #[arg(long)]
    secret: PathBuf,
    /// The public file.
    #[arg(long)]
    public: PathBuf,
}

fn passphrase(confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var("URNE_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("Passphrase for the trustee key: ")
            .context("reading the passphrase")?,
    );
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("The same passphrase again: ")
                .context("reading the passphrase")?,
        );
        ensure!(
            *first == *again,
            "the two passphrases differ; nothing was written"
        );
        ensure!(
            first.chars().count() >= 12,
            "choose a passphrase of at least 12 characters; nothing was written"
        );
    }
    Ok(first)
}

/// Runs a trustee command.
pub fn run(args: &TrusteeArgs) -> anyhow::Result<()> {
    match &args.command {
        TrusteeCommand::NewIdentity(a) => new_identity(a),
        TrusteeCommand::Register(a) => online::register(a),
        TrusteeCommand::CheckIdentity(a) => check_identity(a),
        TrusteeCommand::Deal(a) => match &a.online.server {
            Some(_) => online::deal(a),
            None => deal(a, &a.files()?),
        },
        TrusteeCommand::Complain(a) => match &a.online.server {
            Some(_) => online::complain(a),
            None => complain(a, &a.files()?),
        },
        TrusteeCommand::Answer(a) => match &a.online.server {
            Some(_) => online::answer(a),
            None => answer(a, &a.files()?),
        },
        TrusteeCommand::Finalize(a) => match &a.online.server {
            Some(_) => online::finalize(a),
            None => finalize(a, &a.files()?),
        },
        TrusteeCommand::Decrypt(a) => decrypt::decrypt(a),
        TrusteeCommand::UploadDecryption(a) => decrypt::upload(a),
        TrusteeCommand::Shuffle(a) => mix::shuffle_cmd(a),
        TrusteeCommand::MixDecrypt(a) => mix::mix_decrypt(a),
    }
}

const POLYNOMIAL_PURPOSE: &str = "urne trustee polynomial";
const SHARE_PURPOSE: &str = "urne trustee share";

/// Checks a trustee's public identity: its key proof must verify as trustee `index` of
/// `election` (spec §8.1). `what` names where it comes from, for the error.
fn check_public(
    election: &str,
    index: u32,
    t: &TrusteePublic,
    what: &dyn std::fmt::Display,
) -> anyhow::Result<()> {
    let prefix =
        urne_core::manifest::trustee_key_proof_prefix(election, index, &t.name, &t.public_key);
    t.key_proof
        .vartime_verify(&t.public_key, prefix)
        .map_err(|_| {
            anyhow::anyhow!("{what}: its proof does not verify as trustee {index} of {election}")
        })
}

/// Reads and checks every trustee's public file: each key proof must verify for its index.
fn identities(c: &Ceremony, f: &Files<'_>) -> anyhow::Result<Vec<Point>> {
    ensure!(
        valid_election_id(&c.election),
        "`{}` is not a valid election id",
        c.election
    );
    let n = f.trustees.len() as u32;
    ensure!(
        (1..=n).contains(&c.index),
        "--index must be between 1 and the number of trustees ({n})"
    );
    ensure!(
        (1..=n).contains(&f.threshold),
        "--threshold must be between 1 and the number of trustees ({n})"
    );
    let mut keys = Vec::with_capacity(f.trustees.len());
    for (i, path) in f.trustees.iter().enumerate() {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let t: TrusteePublic = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a trustee's public file", path.display()))?;
        check_public(&c.election, i as u32 + 1, &t, &path.display())?;
        keys.push(t.public_key);
    }
    Ok(keys)
}

/// Opens a trustee's identity key.
fn open_identity(secret: &Path, pass: &str) -> anyhow::Result<TrusteeKey> {
    let bytes = vault::read(secret, IDENTITY_PURPOSE, pass.as_bytes())?;
    TrusteeKey::from_secret_bytes(&bytes).with_context(|| {
        format!(
            "the secret file {} does not hold a valid key",
            secret.display()
        )
    })
}

fn identity_key(c: &Ceremony, pass: &str) -> anyhow::Result<TrusteeKey> {
    let bytes = vault::read(&c.secret, IDENTITY_PURPOSE, pass.as_bytes())?;
    TrusteeKey::from_secret_bytes(&bytes).context("the secret file does not hold a valid key")
}

/// Trustee `index`'s file `trustee-INDEX.WHAT.secret` next to its identity's secret file.
fn sibling_of(secret: &Path, index: u32, what: &str) -> PathBuf {
    secret.with_file_name(format!("trustee-{index}.{what}.secret"))
}

fn sibling(c: &Ceremony, what: &str) -> PathBuf {
    sibling_of(&c.secret, c.index, what)
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    ensure!(
        !path.exists(),
        "{} exists already: nothing was written",
        path.display()
    );
    fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// Every `PREFIX-I.json` file of the ceremony directory, parsed, in index order.
fn read_all<T: serde::de::DeserializeOwned>(
    dir: &Path,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    for i in 1..=n {
        let path = dir.join(format!("{prefix}-{i}.json"));
        if path.exists() {
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            out.push(
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is malformed", path.display()))?,
            );
        }
    }
    Ok(out)
}

fn deal(c: &Ceremony, f: &Files<'_>) -> anyhow::Result<()> {
    let ids = identities(c, f)?;
    let out = f.dir.join(format!("dealing-{}.json", c.index));
    let poly_path = sibling(c, "polynomial");
    ensure!(
        !out.exists() && !poly_path.exists(),
        "trustee {} has dealt already: nothing was written",
        c.index
    );
    let pass = passphrase(false)?;
    let key = identity_key(c, &pass)?;
    ensure!(
        key.public() == &ids[c.index as usize - 1],
        "the secret file is not trustee {}'s key",
        c.index
    );
    let (dealing, poly) = key.deal(&mut rand::rng(), &c.election, c.index, f.threshold, &ids);
    vault::write(
        &poly_path,
        POLYNOMIAL_PURPOSE,
        &poly.to_secret_bytes(),
        pass.as_bytes(),
        c.kdf_memory_kib,
    )?;
    write_json(&out, &dealing)?;
    say!(
        "Checked the {} trustees' key proofs. Dealt one share to each, encrypted to its key.",
        ids.len()
    );
    say!("  dealing      {} (public)", out.display());
    say!(
        "  polynomial   {} (secret, needed to answer complaints)",
        poly_path.display()
    );
    say!("Next: once every trustee has dealt, run `urne trustee complain`.");
    Ok(())
}

/// What `complain` says about the complaints it made.
fn report_complaints(dealings: usize, n: usize, complaints: &[ComplaintMessage]) {
    say!("Read {dealings} dealings of {n} trustees.");
    if complaints.is_empty() {
        say!("Every share this trustee received decrypts and matches its dealer's commitments.");
    }
    for m in complaints {
        say!(
            "  complaint: the share from trustee {} is wrong; it must answer or be disqualified",
            m.dealer
        );
    }
}

fn complain(c: &Ceremony, f: &Files<'_>) -> anyhow::Result<()> {
    let ids = identities(c, f)?;
    let pass = passphrase(false)?;
    let key = identity_key(c, &pass)?;
    let dealings: Vec<Dealing> = read_all(f.dir, "dealing", ids.len())?;
    let complaints = key.complaints(&mut rand::rng(), &c.election, c.index, &ids, &dealings);
    write_json(
        &f.dir.join(format!("complaints-{}.json", c.index)),
        &complaints,
    )?;
    report_complaints(dealings.len(), ids.len(), &complaints);
    say!("Next: once every trustee has checked its shares, run `urne trustee answer`.");
    Ok(())
}

/// Opens this trustee's polynomial, kept by `deal`.
fn polynomial(c: &Ceremony, pass: &str) -> anyhow::Result<Polynomial> {
    let bytes = vault::read(
        &sibling(c, "polynomial"),
        POLYNOMIAL_PURPOSE,
        pass.as_bytes(),
    )?;
    Polynomial::from_secret_bytes(&bytes).context("the polynomial file is damaged")
}

fn report_answers(c: &Ceremony, answers: &[Answer]) {
    match answers.len() {
        0 => say!("No complaint against trustee {}.", c.index),
        k => say!(
            "Answered {k} complaint(s) against trustee {} with the shares in the clear.",
            c.index
        ),
    }
}

fn answer(c: &Ceremony, f: &Files<'_>) -> anyhow::Result<()> {
    let ids = identities(c, f)?;
    let pass = passphrase(false)?;
    let key = identity_key(c, &pass)?;
    let poly = polynomial(c, &pass)?;
    let complaints: Vec<ComplaintMessage> =
        read_all::<Vec<ComplaintMessage>>(f.dir, "complaints", ids.len())?
            .into_iter()
            .flatten()
            .collect();
    let answers = key.answers(&mut rand::rng(), &c.election, c.index, &poly, &complaints);
    write_json(&f.dir.join(format!("answers-{}.json", c.index)), &answers)?;
    report_answers(c, &answers);
    say!("Next: once every trustee has answered, run `urne trustee finalize`.");
    Ok(())
}

/// Judges a ceremony and prints its outcome.
fn judge(
    c: &Ceremony,
    threshold: u32,
    ids: &[Point],
    t: &Transcript,
) -> anyhow::Result<urne_core::ceremony::CeremonyOutcome> {
    let outcome = vartime_judge_ceremony(
        &c.election,
        threshold,
        ids,
        &t.dealings,
        &t.complaints,
        &t.answers,
    )?;
    say!(
        "Judged the ceremony: {} dealings, {} complaints, {} answers.",
        t.dealings.len(),
        t.complaints.len(),
        t.answers.len()
    );
    say!("  qualified    {:?}", outcome.qualified);
    for (i, reason) in &outcome.disqualified {
        say!("  disqualified trustee {i}: {reason:?}");
    }
    say!("  election key {}", outcome.keys.election_key);
    Ok(outcome)
}

fn finalize(c: &Ceremony, f: &Files<'_>) -> anyhow::Result<()> {
    let ids = identities(c, f)?;
    let n = ids.len();
    let t = Transcript {
        dealings: read_all(f.dir, "dealing", n)?,
        complaints: read_all::<Vec<ComplaintMessage>>(f.dir, "complaints", n)?
            .into_iter()
            .flatten()
            .collect(),
        answers: read_all::<Vec<Answer>>(f.dir, "answers", n)?
            .into_iter()
            .flatten()
            .collect(),
    };
    let outcome = judge(c, f.threshold, &ids, &t)?;
    let pass = passphrase(false)?;
    let key = identity_key(c, &pass)?;
    let share = key.assemble_share(
        &c.election,
        c.index,
        &ids,
        &outcome,
        &t.dealings,
        &t.answers,
    )?;
    let share_path = sibling(c, "share");
    vault::write(
        &share_path,
        SHARE_PURPOSE,
        &share.to_secret_bytes(),
        pass.as_bytes(),
        c.kdf_memory_kib,
    )?;
    let vk = outcome.keys.verification_keys[c.index as usize - 1];
    say!("This trustee's share matches its verification key {vk}.");
    say!(
        "  share        {} (secret: needed to decrypt the tally)",
        share_path.display()
    );
    say!(
        "Next: check that the manifest's public_key is the election key above before the vote opens;"
    );
    say!("the polynomial file is no longer needed and may be destroyed.");
    Ok(())
}

fn new_identity(a: &NewIdentity) -> anyhow::Result<()> {
    ensure!(
        valid_election_id(&a.election),
        "`{}` is not a valid election id",
        a.election
    );
    ensure!(a.index >= 1, "--index starts at 1");
    ensure!(!a.name.trim().is_empty(), "--name must not be empty");
    let public_path = a.out.join(format!("trustee-{}.public.json", a.index));
    let secret_path = a.out.join(format!("trustee-{}.secret", a.index));
    for p in [&public_path, &secret_path] {
        ensure!(
            !p.exists(),
            "{} exists already: nothing was written",
            p.display()
        );
    }
    // Online, the server must be expecting this trustee before a key is made for it.
    let server = match &a.online.server {
        Some(_) => {
            let server = online::Server::from_online(&a.online)?;
            online::check_slot(&server, a)?;
            Some(server)
        }
        None => None,
    };
    let pass = passphrase(true)?;
    let key = TrusteeKey::generate(&mut rand::rng());
    let public = key.publish(&mut rand::rng(), &a.election, a.index, &a.name);
    vault::write(
        &secret_path,
        IDENTITY_PURPOSE,
        &key.to_secret_bytes()[..],
        pass.as_bytes(),
        a.kdf_memory_kib,
    )?;
    let text = serde_json::to_string_pretty(&public)? + "\n";
    fs::write(&public_path, text).with_context(|| format!("writing {}", public_path.display()))?;
    if let Some(server) = &server {
        online::register_new(server, a, &public, [&secret_path, &public_path])?;
    }
    say!(
        "Created the key of trustee {} ({}) for election {}.",
        a.index,
        a.name,
        a.election
    );
    say!("  public key   {}", public.public_key);
    say!(
        "  public file  {} (with a proof that you hold the key)",
        public_path.display()
    );
    say!(
        "  secret file  {} (encrypted with your passphrase, readable by you only)",
        secret_path.display()
    );
    match &server {
        None => {
            say!("Next: send the public file to the administrator, keep the secret file and its");
            say!(
                "passphrase safe (a copy on separate media), and check both with `urne trustee check-identity`."
            );
        }
        Some(server) => {
            say!(
                "Registered it with {}, which checked its proof of knowledge.",
                server.url()
            );
            online::after_registration(server, &a.election, a.index, Some(&secret_path));
        }
    }
    Ok(())
}

fn check_identity(a: &CheckIdentity) -> anyhow::Result<()> {
    let text =
        fs::read_to_string(&a.public).with_context(|| format!("reading {}", a.public.display()))?;
    let public: TrusteePublic = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a trustee's public file", a.public.display()))?;
    let pass = passphrase(false)?;
    let bytes = vault::read(&a.secret, IDENTITY_PURPOSE, pass.as_bytes())?;
    let key = TrusteeKey::from_secret_bytes(&bytes)
        .context("the secret file does not hold a valid key")?;
    if key.public() != &public.public_key {
        bail!(
            "the secret file belongs to key {}, the public file to {}",
            key.public(),
            public.public_key
        );
    }
    let prefix = urne_core::manifest::trustee_key_proof_prefix(
        &a.election,
        a.index,
        &public.name,
        &public.public_key,
    );
    public
        .key_proof
        .vartime_verify(&public.public_key, prefix)
        .map_err(|e| {
            anyhow::anyhow!(
                "the public file's proof does not verify for election {} and index {}: {e}",
                a.election,
                a.index
            )
        })?;
    say!(
        "Checked: the passphrase opens {}, its key is the one in {},",
        a.secret.display(),
        a.public.display()
    );
    say!(
        "and the proof of knowledge verifies for election {} as trustee {} ({}).",
        a.election,
        a.index,
        public.name
    );
    Ok(())
}
