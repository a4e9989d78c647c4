//! `urne trustee shuffle` and `urne trustee mix-decrypt`: a trustee's part of the mix phase of
//! ranked and graded questions (spec §8.8), online.
//!
//! As for `decrypt`, the trustee first downloads the election record and runs the universal
//! verifier on it: every check so far must pass. The list it shuffles or decrypts is the one the
//! verifier checked, handed over at the end of its single pass over the record
//! ([`urne_verify::Verifier::finish_with_state`]): the counted ballots' rows of mixed
//! ciphertexts, or the last shuffle's output. It is not taken from the server, whose list digest
//! must match it. A trustee thus never decrypts, say, one voter's ballot presented as a shuffled
//! list: the list it decrypts is the output of a chain of verified shuffles of the counted
//! ballots.
//!
//! Uploads go in chunks of rows below the server's `max_upload_bytes`, with a progress bar.

use anyhow::{Context, ensure};
use clap::Args;
use serde::Deserialize;
use urne_core::election::Election;
use urne_core::group::b64_encode;
use urne_core::manifest::KeySharing;
use urne_core::mix::{list_digest, vartime_verify_mix_factors, width};
use urne_core::proofs::shuffle::{prove_shuffle, shuffle};
use urne_core::trustee::TrusteeKey;
use urne_verify::record::{Entry, mix_decryption_lines, shuffle_lines};
use urne_verify::{MixState, Verification};

use super::decrypt::{Claim, Step, TrusteeFiles, download_record, verify_record};
use super::online::Server;
use super::{Online, passphrase};
use crate::progress::bar;

/// Options of `urne trustee shuffle` and `urne trustee mix-decrypt`.
#[derive(Args, Debug)]
pub(in crate::trustee) struct Mix {
    #[command(flatten)]
    files: TrusteeFiles,
    #[command(flatten)]
    online: Online,
    /// Hide the progress bars.
    #[arg(long)]
    quiet: bool,
    /// Rows per upload request (by default as many as fit in half the server's
    /// `max_upload_bytes`, at most 4 MiB of JSON): for tests of chunked uploads.
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    chunk_rows: Option<u64>,
}

/// The server's view of the mix phase (`GET /api/v1/elections/{id}/mix`).
#[derive(Debug, Deserialize)]
struct MixView {
    ballots: u64,
    shuffles_needed: u32,
    decryptions_needed: u32,
    next_shuffle: u32,
    decryptors: Vec<u32>,
    decrypted: bool,
    list_digest: String,
    max_upload_bytes: u64,
}

/// The server's answer to an upload.
#[derive(Debug, Deserialize)]
struct MixAck {
    shufflers: Vec<u32>,
    decryptors: Vec<u32>,
    result: bool,
}

/// What both commands do first: open the secret, download and verify the record, take the
/// verifier's election and mix state, and compare its list with the server's.
struct Prepared {
    server: Server,
    key: TrusteeKey,
    pass: zeroize::Zeroizing<String>,
    /// The record's election, with the verification keys of its ceremony (from the verifier).
    election: Election,
    /// The trustees whose factors of the tally are on the record.
    tally_decryptors: Vec<u32>,
    /// The mix phase as the verifier left it at the record's end.
    mix: MixState,
    view: MixView,
}

fn prepare(a: &Mix) -> anyhow::Result<Prepared> {
    a.files.check()?;
    let server = Server::from_online(&a.online)?;
    // The secrets first: a wrong passphrase stops here, before anything is read or sent.
    let pass = passphrase(false)?;
    let key = super::open_identity(&a.files.secret, &pass)?;
    let temp = download_record(&server, &a.files.election)?;
    let record_name = format!("the record of {} from {}", a.files.election, server.url());
    let claim = Claim {
        election: &a.files.election,
        index: a.files.index,
        secret: &a.files.secret,
        public: key.public(),
        step: Step::Mix,
    };
    claim.check_head(temp.path(), &record_name)?;
    // One pass over the record: the verifier's, which hands over the list it checked.
    let Verification {
        report,
        election,
        tally_decryptors,
        mix,
        ..
    } = verify_record(temp.path(), a.quiet).with_context(|| record_name.clone())?;
    drop(temp);
    let election = election.with_context(|| {
        format!("{record_name} has no manifest line: it is not an election record")
    })?;
    let m = election.manifest();
    claim.check(m, &record_name)?;
    // The verifier's mix state exists once the tally line is read.
    let mix = mix.with_context(|| {
        format!("{record_name} has no tally line: the mix phase follows the administrator's tally")
    })?;
    ensure!(
        report.result.is_none(),
        "the result of {} is on the record already: nothing to do",
        m.id
    );
    say!(
        "Checked {record_name}: {} lines, every check so far passed ({}).",
        report.lines,
        report.stage
    );
    let view: MixView = server
        .public()
        .get(&format!(
            "/api/v1/elections/{}/mix?limit=0",
            a.files.election
        ))
        .with_context(|| {
            format!(
                "reading the mix phase of {} from {}",
                a.files.election,
                server.url()
            )
        })?;
    let digest = b64_encode(&list_digest(&mix.list));
    ensure!(
        view.list_digest == digest && view.ballots == mix.list.len() as u64,
        "the server's current list ({} rows, digest {}) is not the one the record gives ({} rows, \
         digest {digest}): nothing was sent; tell the administrator and the observers",
        view.ballots,
        view.list_digest,
        mix.list.len()
    );
    Ok(Prepared {
        server,
        key,
        pass,
        election,
        tally_decryptors,
        mix,
        view,
    })
}

/// Rows per upload request for rows of about `row_bytes` bytes of JSON: half the server's
/// limit, at most the record's chunk size, at least one row.
fn rows_per_request(max_upload: u64, row_bytes: usize) -> usize {
    let budget = (max_upload / 2).min(urne_verify::record::CHUNK_BYTES as u64) as usize;
    (budget / row_bytes.max(1)).max(1)
}

/// `urne trustee shuffle`.
pub(in crate::trustee) fn shuffle_cmd(a: &Mix) -> anyhow::Result<()> {
    let p = prepare(a)?;
    let election = &p.election;
    let m = election.manifest();
    let needed = match m.key_sharing {
        KeySharing::Independent => m.trustees.len(),
        KeySharing::Threshold => m.threshold as usize,
    };
    ensure!(
        p.tally_decryptors.len() >= needed,
        "{} of the {needed} trustees' factors of the tally are on the record: the shuffles \
         follow them (run `urne trustee decrypt` first)",
        p.tally_decryptors.len()
    );
    let decrypting = !p.mix.factor_trustees.is_empty() || p.mix.decrypted > 0;
    ensure!(
        !decrypting && p.view.decryptors.is_empty() && !p.view.decrypted,
        "trustees are decrypting the last shuffle of {} already: no more shuffles",
        m.id
    );
    ensure!(
        !p.mix.shufflers.contains(&a.files.index),
        "trustee {} has shuffled already (shuffles by {:?})",
        a.files.index,
        p.mix.shufflers
    );
    ensure!(
        !p.mix.list.is_empty(),
        "no ballot was counted: nothing to shuffle"
    );
    // The verifier's count of the shuffles ended: on a valid record, one per shuffler.
    let position = p.mix.shuffles;
    ensure!(
        p.view.next_shuffle == position,
        "the server expects shuffle {}, the record gives {position}",
        p.view.next_shuffle
    );
    let fp = &election.fingerprint().0;
    let mut rng = rand::rng();
    let n = p.mix.list.len();
    say!(
        "Shuffling {n} rows of {} ciphertexts (shuffle {position}) …",
        width(m)
    );
    let (outputs, witness) = shuffle(&mut rng, election.key(), &p.mix.list).context("shuffling")?;
    let proof = prove_shuffle(
        &mut rng,
        fp,
        election.key(),
        &p.mix.list,
        &outputs,
        &witness,
    )
    .context("proving the shuffle")?;
    drop(witness);
    let signature = p.key.sign_shuffle(
        &mut rng,
        election,
        a.files.index,
        position,
        &p.mix.list,
        &outputs,
    );
    drop(p.key);
    let rows = a.chunk_rows.map_or_else(
        || rows_per_request(p.view.max_upload_bytes, 110 * width(m) + 240),
        |r| r as usize,
    );
    let lines = shuffle_lines(
        position,
        a.files.index,
        &outputs,
        &proof,
        signature,
        Some(rows),
    );
    let pb = bar(a.quiet, n as u64, "uploading", false);
    let base = format!(
        "/api/v1/elections/{}/mix/shuffles/{position}",
        a.files.election
    );
    let mut ack = None;
    for line in &lines {
        match line {
            Entry::ShuffleChunk(c) => {
                p.server
                    .send(&format!("{base}/chunks"), c)
                    .with_context(|| format!("sending rows {} of the shuffle", c.offset))?;
                pb.inc(c.outputs.len() as u64);
            }
            Entry::Shuffle(s) => {
                let v = p
                    .server
                    .send(&base, s)
                    .context("sending the end of the shuffle")?;
                ack = Some(serde_json::from_value::<MixAck>(v)?);
            }
            _ => {}
        }
    }
    pb.finish_and_clear();
    let ack = ack.context("the shuffle had no end line")?;
    say!(
        "Sent shuffle {position} of {} by trustee {}: the server checked its proof and \
         signature (V-19, V-20) and put it on the board.",
        m.id,
        a.files.index
    );
    say!(
        "  shuffled     by trustees {:?}, {} needed",
        ack.shufflers,
        p.view.shuffles_needed
    );
    if ack.shufflers.len() >= p.view.shuffles_needed as usize {
        say!(
            "Next: enough trustees have shuffled; trustees decrypt the last list with `urne \
             trustee mix-decrypt`."
        );
    } else {
        say!("Next: other trustees shuffle with `urne trustee shuffle`.");
    }
    Ok(())
}

/// `urne trustee mix-decrypt`.
pub(in crate::trustee) fn mix_decrypt(a: &Mix) -> anyhow::Result<()> {
    let p = prepare(a)?;
    let election = &p.election;
    let m = election.manifest();
    ensure!(
        p.mix.shufflers.len() >= m.threshold as usize,
        "{} of the {} trustees needed have shuffled on the record: the decryption follows \
         (run `urne trustee shuffle`)",
        p.mix.shufflers.len(),
        m.threshold
    );
    let decrypting = !p.mix.factor_trustees.is_empty() || p.mix.decrypted > 0;
    ensure!(
        !decrypting && !p.view.decrypted,
        "the last list of {} is decrypted already: nothing to do",
        m.id
    );
    ensure!(
        !p.view.decryptors.contains(&a.files.index),
        "trustee {} has sent its factors of the last list already",
        a.files.index
    );
    let mut rng = rand::rng();
    let factors = match m.key_sharing {
        KeySharing::Independent => p.key.decrypt_mix(&mut rng, election, &p.mix.list),
        KeySharing::Threshold => {
            // The verifier's election carries the verification keys of the record's ceremony,
            // judged in its pass (V-3).
            a.files
                .open_share(&p.pass)?
                .decrypt_mix(&mut rng, election, &p.mix.list)
                .with_context(|| format!("no verification key for trustee {}", a.files.index))?
        }
    };
    drop(p.key);
    vartime_verify_mix_factors(&mut rng, election, a.files.index, 0, &p.mix.list, &factors)
        .map_err(|e| {
            anyhow::anyhow!(
                "this trustee's own factors do not verify ({e}): the secret or share file is not \
                 this trustee's; nothing was sent"
            )
        })?;
    let rows = a.chunk_rows.map_or_else(
        || rows_per_request(p.view.max_upload_bytes, 220 * width(m) + 8),
        |r| r as usize,
    );
    let lines = mix_decryption_lines(a.files.index, &factors, Some(rows));
    let pb = bar(a.quiet, factors.len() as u64, "uploading", false);
    let path = format!("/api/v1/elections/{}/mix/decryptions", a.files.election);
    let mut ack = None;
    for line in &lines {
        if let Entry::MixDecryption(d) = line {
            let v = p
                .server
                .send(&path, d)
                .with_context(|| format!("sending factors of rows from {}", d.offset))?;
            pb.inc(d.factors.len() as u64);
            ack = Some(serde_json::from_value::<MixAck>(v)?);
        }
    }
    pb.finish_and_clear();
    let ack = ack.context("no factor to send")?;
    say!(
        "Sent trustee {}'s factors of the {} rows of the last list of {}, checked (V-21) by the \
         server.",
        a.files.index,
        factors.len(),
        m.id
    );
    say!(
        "  decrypted    by trustees {:?}, {} needed",
        ack.decryptors,
        p.view.decryptions_needed
    );
    if ack.result {
        say!("  result       on the board, with the count of the ranked and graded questions");
        say!(
            "Next: nothing more for this trustee. Once the administrator has published the \
             result, check the whole election: `urne verify {}/api/v1/elections/{}/record`.",
            p.server.url(),
            a.files.election
        );
    } else {
        say!(
            "Next: nothing more for this trustee; the result comes once enough trustees have decrypted."
        );
    }
    Ok(())
}
