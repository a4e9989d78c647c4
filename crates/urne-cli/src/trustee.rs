//! `urne trustee`: a trustee's own steps, on its own (possibly air-gapped) machine, with files.
//!
//! A trustee's secret key never leaves its machine in the clear: it is written encrypted with a
//! passphrase (see [`crate::vault`]). The passphrase is read from the terminal, or from the
//! `URNE_PASSPHRASE` environment variable for scripted ceremonies.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use clap::{Args, Subcommand};
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
    }
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
    println!(
        "Created the key of trustee {} ({}) for election {}.",
        a.index, a.name, a.election
    );
    println!("  public key   {}", public.public_key);
    println!(
        "  public file  {} (with a proof that you hold the key)",
        public_path.display()
    );
    println!(
        "  secret file  {} (encrypted with your passphrase, readable by you only)",
        secret_path.display()
    );
    println!("Next: send the public file to the administrator, keep the secret file and its");
    println!(
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
    println!(
        "Checked: the passphrase opens {}, its key is the one in {},",
        a.secret.display(),
        a.public.display()
    );
    println!(
        "and the proof of knowledge verifies for election {} as trustee {} ({}).",
        a.election, a.index, public.name
    );
    Ok(())
}
