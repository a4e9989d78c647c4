//! `urne trustee shuffle` and `urne trustee mix-decrypt`: a trustee's part of the mix phase of
//! ranked and graded questions (spec §8.8), online.
//!
//! As for `decrypt`, the trustee first downloads the election record and runs the universal
//! verifier on it: every check so far must pass. The list it shuffles or decrypts is then
//! rebuilt **from the verified record** (the counted ballots' rows of mixed ciphertexts, or the
//! last shuffle's output), not taken from the server, and the server's list digest must match
//! it. A trustee thus never decrypts, say, one voter's ballot presented as a shuffled list:
//! the list it decrypts is the output of a chain of verified shuffles of the counted ballots.
//!
//! Uploads go in chunks of rows below the server's `max_upload_bytes`, with a progress bar.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use clap::Args;
use serde::Deserialize;
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, vartime_judge_ceremony};
use urne_core::dkg::Share;
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::group::{Point, b64_encode};
use urne_core::manifest::{KeySharing, Manifest, valid_election_id};
use urne_core::mix::{list_digest, mixed_questions, vartime_verify_mix_factors, width};
use urne_core::proofs::shuffle::{prove_shuffle, shuffle};
use urne_core::trustee::TrusteeKey;
use urne_verify::record::{
    Entry, MAX_LINE_BYTES, mix_decryption_lines, parse_line, read_line, shuffle_lines,
};

use super::decrypt::{check_trustee, download_record};
use super::online::Server;
use super::{Online, SHARE_PURPOSE, passphrase, sibling_of};
use crate::progress::bar;
use crate::vault;

/// Options of `urne trustee shuffle` and `urne trustee mix-decrypt`.
#[derive(Args, Debug)]
pub(in crate::trustee) struct Mix {
    /// The election id.
    #[arg(long)]
    election: String,
    /// This trustee's index (from 1).
    #[arg(long)]
    index: u32,
    /// This trustee's secret file (from `new-identity`).
    #[arg(long)]
    secret: PathBuf,
    /// This trustee's share of the key, from `finalize` (`mix-decrypt` under threshold
    /// sharing only; by default `trustee-INDEX.share.secret` beside the secret file).
    #[arg(long)]
    share: Option<PathBuf>,
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

/// What the mix needs from a record, read without checking it (the verifier checks it).
struct Snapshot {
    manifest: Manifest,
    dealings: Vec<Dealing>,
    complaints: Vec<ComplaintMessage>,
    answers: Vec<Answer>,
    tally: bool,
    partials: usize,
    /// The list to shuffle or decrypt next: the mix input, or the last shuffle's output.
    list: Vec<Vec<Ciphertext>>,
    shufflers: Vec<u32>,
    mix_decryption: bool,
    result: bool,
}

#[derive(Deserialize)]
struct LightLine {
    ballot: LightBallot,
}

#[derive(Deserialize)]
struct LightBallot {
    credential: String,
    answers: Vec<LightAnswer>,
}

#[derive(Deserialize)]
struct LightAnswer {
    choices: Vec<Ciphertext>,
}

/// Reads the record: the ceremony, the counted ballots' mixed rows and the mix lines.
fn scan(path: &Path) -> anyhow::Result<Snapshot> {
    let name = path.display();
    let file = File::open(path).with_context(|| format!("opening {name}"))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let mut manifest: Option<Manifest> = None;
    let (mut dealings, mut complaints, mut answers) = (Vec::new(), Vec::new(), Vec::new());
    let mut last: HashMap<String, (u64, Vec<Ciphertext>)> = HashMap::new();
    let mut list = Vec::new();
    let mut building = Vec::new();
    let (mut tally, mut partials, mut shufflers) = (false, 0, Vec::new());
    let (mut mix_decryption, mut result) = (false, false);
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
        if kind == b"credential" || buf.is_empty() {
            continue;
        }
        if kind == b"ballot" {
            let m = manifest
                .as_ref()
                .with_context(|| format!("{name}: a ballot before the manifest"))?;
            let b: LightLine = serde_json::from_slice(&buf)
                .with_context(|| format!("{name}: line {number} is not a ballot"))?;
            let mut row = Vec::new();
            let mut answers = b.ballot.answers;
            for (qi, q) in mixed_questions(m) {
                match answers.get_mut(qi) {
                    Some(a) if a.choices.len() == q.answers.len() => {
                        row.append(&mut a.choices);
                    }
                    _ => bail!("{name}: the ballot on line {number} has not the manifest's shape"),
                }
            }
            last.insert(b.ballot.credential, (number, row));
            continue;
        }
        let line = parse_line(number, &buf).with_context(|| format!("{name} is malformed"))?;
        match line.entry {
            Entry::Manifest(m) => manifest = Some(*m),
            Entry::Dealing(d) => dealings.push(*d),
            Entry::Complaint(c) => complaints.push(*c),
            Entry::Answer(a) => answers.push(*a),
            Entry::Tally(_) => {
                tally = true;
                let mut rows: Vec<_> = std::mem::take(&mut last).into_values().collect();
                rows.sort_unstable_by_key(|(n, _)| *n);
                list = rows.into_iter().map(|(_, r)| r).collect();
            }
            Entry::PartialDecryption(_) => partials += 1,
            Entry::ShuffleChunk(c) => building.extend(c.outputs),
            Entry::Shuffle(s) => {
                shufflers.push(s.trustee);
                list = std::mem::take(&mut building);
            }
            Entry::MixDecryption(_) | Entry::MixedBallots(_) => mix_decryption = true,
            Entry::Result(_) => result = true,
            _ => {}
        }
    }
    let manifest = manifest
        .with_context(|| format!("{name} has no manifest line: it is not an election record"))?;
    Ok(Snapshot {
        manifest,
        dealings,
        complaints,
        answers,
        tally,
        partials,
        list,
        shufflers,
        mix_decryption,
        result,
    })
}

/// What both commands do first: open the secret, download and verify the record, rebuild the
/// list from it and compare it with the server's.
struct Prepared {
    server: Server,
    key: TrusteeKey,
    pass: zeroize::Zeroizing<String>,
    snap: Snapshot,
    view: MixView,
}

fn prepare(a: &Mix) -> anyhow::Result<Prepared> {
    ensure!(
        valid_election_id(&a.election),
        "`{}` is not a valid election id",
        a.election
    );
    ensure!(a.index >= 1, "--index starts at 1");
    let server = Server::from_online(&a.online)?;
    // The secrets first: a wrong passphrase stops here, before anything is read or sent.
    let pass = passphrase(false)?;
    let key = super::open_identity(&a.secret, &pass)?;
    let temp = download_record(&server, &a.election)?;
    let record_name = format!("the record of {} from {}", a.election, server.url());
    let snap = scan(temp.path()).with_context(|| record_name.clone())?;
    let m = &snap.manifest;
    check_trustee(
        m,
        &record_name,
        &a.election,
        a.index,
        &a.secret,
        key.public(),
    )?;
    ensure!(
        width(m) > 0,
        "election {} has no ranked or graded question: it has no mix phase",
        m.id
    );
    ensure!(
        snap.tally,
        "{record_name} has no tally line: the mix phase follows the administrator's tally"
    );
    ensure!(
        !snap.result,
        "the result of {} is on the record already: nothing to do",
        m.id
    );
    let report =
        super::decrypt::verify_record(temp.path(), a.quiet).with_context(|| record_name.clone())?;
    say!(
        "Checked {record_name}: {} lines, every check so far passed ({}).",
        report.lines,
        report.stage
    );
    let view: MixView = server
        .public()
        .get(&format!("/api/v1/elections/{}/mix?limit=0", a.election))
        .with_context(|| {
            format!(
                "reading the mix phase of {} from {}",
                a.election,
                server.url()
            )
        })?;
    let digest = b64_encode(&list_digest(&snap.list));
    ensure!(
        view.list_digest == digest && view.ballots == snap.list.len() as u64,
        "the server's current list ({} rows, digest {}) is not the one the record gives ({} rows, \
         digest {digest}): nothing was sent; tell the administrator and the observers",
        view.ballots,
        view.list_digest,
        snap.list.len()
    );
    Ok(Prepared {
        server,
        key,
        pass,
        snap,
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
    let m = &p.snap.manifest;
    let needed = match m.key_sharing {
        KeySharing::Independent => m.trustees.len(),
        KeySharing::Threshold => m.threshold as usize,
    };
    ensure!(
        p.snap.partials >= needed,
        "{} of the {needed} trustees' factors of the tally are on the record: the shuffles \
         follow them (run `urne trustee decrypt` first)",
        p.snap.partials
    );
    ensure!(
        !p.snap.mix_decryption && p.view.decryptors.is_empty() && !p.view.decrypted,
        "trustees are decrypting the last shuffle of {} already: no more shuffles",
        m.id
    );
    ensure!(
        !p.snap.shufflers.contains(&a.index),
        "trustee {} has shuffled already (shuffles by {:?})",
        a.index,
        p.snap.shufflers
    );
    ensure!(
        !p.snap.list.is_empty(),
        "no ballot was counted: nothing to shuffle"
    );
    let position = p.snap.shufflers.len() as u32;
    ensure!(
        p.view.next_shuffle == position,
        "the server expects shuffle {}, the record gives {position}",
        p.view.next_shuffle
    );
    let election = Election::new(m.clone()).context("the record's manifest")?;
    let fp = &election.fingerprint().0;
    let mut rng = rand::rng();
    let n = p.snap.list.len();
    say!(
        "Shuffling {n} rows of {} ciphertexts (shuffle {position}) …",
        width(m)
    );
    let (outputs, witness) =
        shuffle(&mut rng, election.key(), &p.snap.list).context("shuffling")?;
    let proof = prove_shuffle(
        &mut rng,
        fp,
        election.key(),
        &p.snap.list,
        &outputs,
        &witness,
    )
    .context("proving the shuffle")?;
    drop(witness);
    let signature = p.key.sign_shuffle(
        &mut rng,
        &election,
        a.index,
        position,
        &p.snap.list,
        &outputs,
    );
    drop(p.key);
    let rows = a.chunk_rows.map_or_else(
        || rows_per_request(p.view.max_upload_bytes, 110 * width(m) + 240),
        |r| r as usize,
    );
    let lines = shuffle_lines(position, a.index, &outputs, &proof, signature, Some(rows));
    let pb = bar(a.quiet, n as u64, "uploading", false);
    let base = format!("/api/v1/elections/{}/mix/shuffles/{position}", a.election);
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
        a.index
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
    let m = &p.snap.manifest;
    ensure!(
        p.snap.shufflers.len() >= m.threshold as usize,
        "{} of the {} trustees needed have shuffled on the record: the decryption follows \
         (run `urne trustee shuffle`)",
        p.snap.shufflers.len(),
        m.threshold
    );
    ensure!(
        !p.snap.mix_decryption && !p.view.decrypted,
        "the last list of {} is decrypted already: nothing to do",
        m.id
    );
    ensure!(
        !p.view.decryptors.contains(&a.index),
        "trustee {} has sent its factors of the last list already",
        a.index
    );
    let mut election = Election::new(m.clone()).context("the record's manifest")?;
    let mut rng = rand::rng();
    let factors = match m.key_sharing {
        KeySharing::Independent => p.key.decrypt_mix(&mut rng, &election, &p.snap.list),
        KeySharing::Threshold => {
            let identities: Vec<Point> = m.trustees.iter().map(|t| t.public_key).collect();
            let outcome = vartime_judge_ceremony(
                &m.id,
                m.threshold,
                &identities,
                &p.snap.dealings,
                &p.snap.complaints,
                &p.snap.answers,
            )
            .context("judging the record's key-generation ceremony")?;
            election
                .set_verification_keys(&outcome.keys)
                .context("the record's ceremony")?;
            let path = a
                .share
                .clone()
                .unwrap_or_else(|| sibling_of(&a.secret, a.index, "share"));
            let bytes = vault::read(&path, SHARE_PURPOSE, p.pass.as_bytes())?;
            let share = Share::from_secret_bytes(&bytes)
                .with_context(|| format!("{} does not hold a valid share", path.display()))?;
            ensure!(
                share.index() == a.index,
                "{} holds trustee {}'s share, not trustee {}'s",
                path.display(),
                share.index(),
                a.index
            );
            share
                .decrypt_mix(&mut rng, &election, &p.snap.list)
                .with_context(|| format!("no verification key for trustee {}", a.index))?
        }
    };
    drop(p.key);
    vartime_verify_mix_factors(&mut rng, &election, a.index, 0, &p.snap.list, &factors).map_err(
        |e| {
            anyhow::anyhow!(
                "this trustee's own factors do not verify ({e}): the secret or share file is not \
                 this trustee's; nothing was sent"
            )
        },
    )?;
    let rows = a.chunk_rows.map_or_else(
        || rows_per_request(p.view.max_upload_bytes, 220 * width(m) + 8),
        |r| r as usize,
    );
    let lines = mix_decryption_lines(a.index, &factors, Some(rows));
    let pb = bar(a.quiet, factors.len() as u64, "uploading", false);
    let path = format!("/api/v1/elections/{}/mix/decryptions", a.election);
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
        a.index,
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
            a.election
        );
    } else {
        say!(
            "Next: nothing more for this trustee; the result comes once enough trustees have decrypted."
        );
    }
    Ok(())
}
