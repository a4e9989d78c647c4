//! `urne trustee`: a trustee's own steps, on its own (possibly air-gapped) machine, with files.
//!
//! A trustee's secret key never leaves its machine in the clear: it is written encrypted with a
//! passphrase (see [`crate::vault`]). The passphrase is read from the terminal, or from the
//! `URNE_PASSPHRASE` environment variable for scripted ceremonies.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use clap::{Args, Subcommand};
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, Transcript, vartime_judge_ceremony};
use urne_core::dkg::Polynomial;
use urne_core::group::Point;
use urne_core::manifest::{TrusteePublic, valid_election_id};
use urne_core::trustee::TrusteeKey;
use zeroize::Zeroizing;

use crate::vault;

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
    /// Create this trustee's key: a public file for the administrator and an encrypted secret.
    NewIdentity(NewIdentity),
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
}

/// What every ceremony step needs.
#[derive(Args, Debug)]
struct Ceremony {
    /// The election id.
    #[arg(long)]
    election: String,
    /// This trustee's index (from 1).
    #[arg(long)]
    index: u32,
    /// How many trustees suffice to decrypt.
    #[arg(long)]
    threshold: u32,
    /// This trustee's secret file (from `new-identity`).
    #[arg(long)]
    secret: PathBuf,
    /// The ceremony directory, where every trustee's messages are relayed.
    #[arg(long)]
    dir: PathBuf,
    /// Every trustee's public file, in index order.
    #[arg(long, num_args = 1.., required = true)]
    trustees: Vec<PathBuf>,
    /// Memory for the key derivation of new secret files, in KiB (argon2id).
    #[arg(long, default_value_t = vault::DEFAULT_MEMORY_KIB, hide = true)]
    kdf_memory_kib: u32,
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
        TrusteeCommand::CheckIdentity(a) => check_identity(a),
        TrusteeCommand::Deal(a) => deal(a),
        TrusteeCommand::Complain(a) => complain(a),
        TrusteeCommand::Answer(a) => answer(a),
        TrusteeCommand::Finalize(a) => finalize(a),
    }
}

const POLYNOMIAL_PURPOSE: &str = "urne trustee polynomial";
const SHARE_PURPOSE: &str = "urne trustee share";

/// Reads and checks every trustee's public file: each key proof must verify for its index.
fn identities(c: &Ceremony) -> anyhow::Result<Vec<Point>> {
    ensure!(
        valid_election_id(&c.election),
        "`{}` is not a valid election id",
        c.election
    );
    let n = c.trustees.len() as u32;
    ensure!(
        (1..=n).contains(&c.index),
        "--index must be between 1 and the number of trustees ({n})"
    );
    ensure!(
        (1..=n).contains(&c.threshold),
        "--threshold must be between 1 and the number of trustees ({n})"
    );
    let mut keys = Vec::with_capacity(c.trustees.len());
    for (i, path) in c.trustees.iter().enumerate() {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let t: TrusteePublic = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a trustee's public file", path.display()))?;
        let prefix = urne_core::manifest::trustee_key_proof_prefix(
            &c.election,
            i as u32 + 1,
            &t.name,
            &t.public_key,
        );
        t.key_proof
            .vartime_verify(&t.public_key, prefix)
            .map_err(|_| {
                anyhow::anyhow!(
                    "{}: its proof does not verify as trustee {} of {}",
                    path.display(),
                    i + 1,
                    c.election
                )
            })?;
        keys.push(t.public_key);
    }
    Ok(keys)
}

fn identity_key(c: &Ceremony, pass: &str) -> anyhow::Result<TrusteeKey> {
    let bytes = vault::read(&c.secret, IDENTITY_PURPOSE, pass.as_bytes())?;
    TrusteeKey::from_secret_bytes(&bytes).context("the secret file does not hold a valid key")
}

fn sibling(c: &Ceremony, what: &str) -> PathBuf {
    c.secret
        .with_file_name(format!("trustee-{}.{what}.secret", c.index))
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

fn deal(c: &Ceremony) -> anyhow::Result<()> {
    let ids = identities(c)?;
    let out = c.dir.join(format!("dealing-{}.json", c.index));
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
    let (dealing, poly) = key.deal(&mut rand::rng(), &c.election, c.index, c.threshold, &ids);
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

fn complain(c: &Ceremony) -> anyhow::Result<()> {
    let ids = identities(c)?;
    let pass = passphrase(false)?;
    let key = identity_key(c, &pass)?;
    let dealings: Vec<Dealing> = read_all(&c.dir, "dealing", ids.len())?;
    let complaints = key.complaints(&mut rand::rng(), &c.election, c.index, &ids, &dealings);
    write_json(
        &c.dir.join(format!("complaints-{}.json", c.index)),
        &complaints,
    )?;
    say!(
        "Read {} dealings of {} trustees.",
        dealings.len(),
        ids.len()
    );
    if complaints.is_empty() {
        say!("Every share this trustee received decrypts and matches its dealer's commitments.");
    }
    for m in &complaints {
        say!(
            "  complaint: the share from trustee {} is wrong; it must answer or be disqualified",
            m.dealer
        );
    }
    say!("Next: once every trustee has checked its shares, run `urne trustee answer`.");
    Ok(())
}

fn answer(c: &Ceremony) -> anyhow::Result<()> {
    let ids = identities(c)?;
    let pass = passphrase(false)?;
    let key = identity_key(c, &pass)?;
    let bytes = vault::read(
        &sibling(c, "polynomial"),
        POLYNOMIAL_PURPOSE,
        pass.as_bytes(),
    )?;
    let poly = Polynomial::from_secret_bytes(&bytes).context("the polynomial file is damaged")?;
    let complaints: Vec<ComplaintMessage> =
        read_all::<Vec<ComplaintMessage>>(&c.dir, "complaints", ids.len())?
            .into_iter()
            .flatten()
            .collect();
    let answers = key.answers(&mut rand::rng(), &c.election, c.index, &poly, &complaints);
    write_json(&c.dir.join(format!("answers-{}.json", c.index)), &answers)?;
    match answers.len() {
        0 => say!("No complaint against trustee {}.", c.index),
        k => say!(
            "Answered {k} complaint(s) against trustee {} with the shares in the clear.",
            c.index
        ),
    }
    say!("Next: once every trustee has answered, run `urne trustee finalize`.");
    Ok(())
}

fn finalize(c: &Ceremony) -> anyhow::Result<()> {
    let ids = identities(c)?;
    let n = ids.len();
    let t = Transcript {
        dealings: read_all(&c.dir, "dealing", n)?,
        complaints: read_all::<Vec<ComplaintMessage>>(&c.dir, "complaints", n)?
            .into_iter()
            .flatten()
            .collect(),
        answers: read_all::<Vec<Answer>>(&c.dir, "answers", n)?
            .into_iter()
            .flatten()
            .collect(),
    };
    let outcome = vartime_judge_ceremony(
        &c.election,
        c.threshold,
        &ids,
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
    say!("Next: send the public file to the administrator, keep the secret file and its");
    say!(
        "passphrase safe (a copy on separate media), and check both with `urne trustee check-identity`."
    );
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
