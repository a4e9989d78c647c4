//! The online mode of `urne trustee`: the same steps as with files, with the messages sent to
//! and fetched from the server's trustee endpoints (`/api/v1/elections/{id}/trustees/{index}`,
//! `…/ceremony`, `…/ceremony/dealing`, `…/ceremony/complaints`, `…/ceremony/answers`,
//! `…/decryptions`).
//!
//! The server is only a relay, and is not trusted: every identity's key proof is checked here,
//! every ceremony message is signed and judged here as on the trustees' own machines, and the
//! sealed manifest is compared with the ceremony's outcome. The invitation token authenticates
//! the trustee to the server; it is sent only with the trustee's own messages, never printed.

use std::path::Path;

use anyhow::{Context, bail, ensure};
use clap::Args;
use serde::Deserialize;
use serde::Serialize;
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, Transcript};
use urne_core::group::Point;
use urne_core::manifest::{Manifest, TrusteePublic, valid_election_id};
use urne_core::tally::PartialDecryption;
use urne_core::trustee::TrusteeKey;
use zeroize::Zeroizing;

use super::{
    Ceremony, NewIdentity, Online, SHARE_PURPOSE, check_public, identity_key, judge, passphrase,
    polynomial, report_answers, report_complaints, sibling, write_json,
};
use crate::client::{Client, HttpError};
use crate::vault;

/// The environment variable that holds the invitation token.
const INVITATION_VAR: &str = "URNE_INVITATION";

/// How to reach the server, for the commands that always need it.
#[derive(Args, Debug)]
pub(super) struct Connect {
    /// The server (`https://vote.example.org`).
    #[arg(long, value_name = "URL")]
    server: String,
    /// This trustee's invitation token, from the administrator. Prefer the URNE_INVITATION
    /// environment variable: a command line is visible to the machine's other users.
    #[arg(long, value_name = "TOKEN")]
    invitation: Option<String>,
}

/// Options of `urne trustee register`.
#[derive(Args, Debug)]
pub(super) struct Register {
    /// The election id.
    #[arg(long)]
    election: String,
    /// This trustee's index (from 1).
    #[arg(long)]
    index: u32,
    #[command(flatten)]
    connect: Connect,
    /// The public file written by `urne trustee new-identity` (`trustee-INDEX.public.json`).
    public: std::path::PathBuf,
}

/// A server, and this trustee's credentials for it.
#[derive(Debug)]
pub(super) struct Server {
    url: String,
    anon: Client,
    trustee: Client,
}

/// The ceremony as the server relays it (`GET /api/v1/elections/{id}/ceremony`).
#[derive(Debug, Deserialize)]
pub(super) struct View {
    trustees: u32,
    threshold: u32,
    ceremony: bool,
    identities: Vec<Option<TrusteePublic>>,
    dealings: Vec<Dealing>,
    complained: Vec<u32>,
    complaints: Vec<ComplaintMessage>,
    answered: Vec<u32>,
    answers: Vec<Answer>,
}

#[derive(Debug, Deserialize)]
struct ElectionView {
    manifest: Option<Manifest>,
}

/// The server's answer to a decryption.
#[derive(Debug, Deserialize)]
struct DecryptionAck {
    trustees: u32,
    needed: u32,
    result: bool,
}

/// The API's error body.
#[derive(Debug, Deserialize)]
struct ApiErrorBody {
    error: ApiErrorInner,
}

#[derive(Debug, Deserialize)]
struct ApiErrorInner {
    code: String,
    #[serde(default)]
    field: Option<String>,
    message: String,
}

/// The HTTP error of a refused request, if the server answered one.
fn http_error(e: &anyhow::Error) -> Option<&HttpError> {
    e.chain().find_map(|c| c.downcast_ref::<HttpError>())
}

/// Says what the server answered, in words, rather than its raw JSON.
fn explain(e: anyhow::Error) -> anyhow::Error {
    let Some(h) = http_error(&e) else { return e };
    match serde_json::from_str::<ApiErrorBody>(&h.body) {
        Ok(b) => {
            let field = b
                .error
                .field
                .map(|f| format!(" (field `{f}`)"))
                .unwrap_or_default();
            anyhow::anyhow!(
                "{} {}: the server refused (HTTP {}, {}): {}{field}",
                h.method,
                h.path,
                h.status,
                b.error.code,
                b.error.message
            )
        }
        Err(_) => e,
    }
}

impl Server {
    /// A server at `url`, with the invitation token from `invitation` or URNE_INVITATION.
    pub(super) fn new(url: &str, invitation: Option<&str>) -> anyhow::Result<Server> {
        ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "--server must be an http:// or https:// address, not `{url}`"
        );
        let token = match invitation {
            Some(t) => Zeroizing::new(t.to_owned()),
            None => Zeroizing::new(std::env::var(INVITATION_VAR).map_err(|_| {
                anyhow::anyhow!(
                    "give this trustee's invitation token in {INVITATION_VAR} (or with --invitation)"
                )
            })?),
        };
        let token = token.trim();
        ensure!(
            !token.is_empty(),
            "the invitation token is empty: give the one the administrator sent"
        );
        let anon = Client::new(url);
        Ok(Server {
            url: url.trim_end_matches('/').to_owned(),
            trustee: anon.with_token(token),
            anon,
        })
    }

    pub(super) fn from_online(o: &Online) -> anyhow::Result<Server> {
        let url = o.server.as_deref().context("--server is missing")?;
        Server::new(url, o.invitation.as_deref())
    }

    pub(super) fn from_connect(c: &Connect) -> anyhow::Result<Server> {
        Server::new(&c.server, c.invitation.as_deref())
    }

    /// The server's address, for messages.
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// The unauthenticated client, for public reads.
    pub(super) fn public(&self) -> &Client {
        &self.anon
    }

    /// The relayed ceremony.
    pub(super) fn ceremony(&self, election: &str) -> anyhow::Result<View> {
        self.anon
            .get(&format!("/api/v1/elections/{election}/ceremony"))
            .map_err(explain)
            .with_context(|| format!("reading the ceremony of {election} from {}", self.url))
    }

    /// The sealed manifest, or `None` while the setup is not sealed (the election is not
    /// public yet).
    fn manifest(&self, election: &str) -> anyhow::Result<Option<Manifest>> {
        let path = format!("/api/v1/elections/{election}");
        match self.anon.get::<ElectionView>(&path) {
            Ok(v) => Ok(v.manifest),
            Err(e) if http_error(&e).is_some_and(|h| h.status == 404) => Ok(None),
            Err(e) => Err(explain(e)).context("reading the election's manifest"),
        }
    }

    /// Sends one of this trustee's messages.
    pub(super) fn send<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<serde_json::Value> {
        self.trustee.post(path, body).map_err(explain)
    }

    /// Sends this trustee's decryption factors and prints the server's answer.
    pub(super) fn send_decryption(
        &self,
        election: &str,
        pd: &PartialDecryption,
    ) -> anyhow::Result<()> {
        let ack: DecryptionAck = self
            .trustee
            .post(&format!("/api/v1/elections/{election}/decryptions"), pd)
            .map_err(explain)
            .with_context(|| format!("sending trustee {}'s factors", pd.trustee))?;
        say!(
            "Sent trustee {}'s {} factors to {}: the server checked their proofs (V-15) and put them on the board.",
            pd.trustee,
            pd.factors.len(),
            self.url
        );
        say!(
            "  decrypted    {} trustee(s), {} needed",
            ack.trustees,
            ack.needed
        );
        if ack.result {
            say!("  result       on the board: the factors of enough trustees were combined");
            say!(
                "Next: nothing more for this trustee. Once the administrator has published the result, check the"
            );
            say!(
                "whole election: `urne verify {}/api/v1/elections/{election}/record`.",
                self.url
            );
        } else if ack.trustees >= ack.needed {
            say!(
                "  result       not yet: the ranked and graded questions go through the mix phase"
            );
            say!(
                "Next: trustees shuffle (`urne trustee shuffle`), then decrypt the last list (`urne trustee mix-decrypt`)."
            );
        } else {
            say!(
                "  result       not yet: {} more trustee(s) must decrypt",
                ack.needed.saturating_sub(ack.trustees)
            );
            say!(
                "Next: nothing more for this trustee; the result comes once enough trustees have decrypted."
            );
        }
        Ok(())
    }
}

/// The indices in 1..=n missing from `done`.
fn missing(n: u32, done: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let done: Vec<u32> = done.into_iter().collect();
    (1..=n).filter(|i| !done.contains(i)).collect()
}

/// Stops when trustees have not sent the previous round, unless `--force`.
fn wait_for(c: &Ceremony, waiting: &[u32], what: &str) -> anyhow::Result<()> {
    if waiting.is_empty() {
        return Ok(());
    }
    if c.force {
        say!("Going on without trustees {waiting:?}, who have not {what} yet (--force).");
        return Ok(());
    }
    bail!(
        "trustees {waiting:?} have not {what} yet: nothing was sent. Run this again once they have \
         (or with --force to leave them out)"
    )
}

/// Checks the ceremony's identities as the server relays them: every trustee registered, with
/// a key proof that verifies for its index. Returns the identity keys.
fn identities(c: &Ceremony, v: &View) -> anyhow::Result<Vec<Point>> {
    ensure!(
        valid_election_id(&c.election),
        "`{}` is not a valid election id",
        c.election
    );
    let n = v.trustees;
    ensure!(
        v.identities.len() == n as usize && (1..=n).contains(&v.threshold),
        "the server's ceremony is inconsistent: {} identities for {n} trustees, threshold {}",
        v.identities.len(),
        v.threshold
    );
    ensure!(
        (1..=n).contains(&c.index),
        "--index must be between 1 and the number of trustees ({n})"
    );
    if let Some(t) = c.threshold {
        ensure!(
            t == v.threshold,
            "--threshold is {t}, but election {} has threshold {} on the server",
            c.election,
            v.threshold
        );
    }
    ensure!(
        v.ceremony,
        "election {} has independent trustee keys (all {n} decrypt): there is no key-generation \
         ceremony. Once the votes are tallied, run `urne trustee decrypt`",
        c.election
    );
    let absent = missing(
        n,
        v.identities
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some())
            .map(|(i, _)| i as u32 + 1),
    );
    ensure!(
        absent.is_empty(),
        "trustees {absent:?} have not registered their identity yet: nothing was sent. Run this \
         again once they have"
    );
    let mut keys = Vec::with_capacity(n as usize);
    for (i, t) in v.identities.iter().flatten().enumerate() {
        let index = i as u32 + 1;
        check_public(
            &c.election,
            index,
            t,
            &format!("trustee {index}'s identity on the server"),
        )?;
        keys.push(t.public_key);
    }
    Ok(keys)
}

/// Opens this trustee's identity key and checks that it is the one registered.
fn own_key(c: &Ceremony, ids: &[Point], pass: &str) -> anyhow::Result<TrusteeKey> {
    let key = identity_key(c, pass)?;
    ensure!(
        key.public() == &ids[c.index as usize - 1],
        "the secret file {} is not the key trustee {} registered with the server",
        c.secret.display(),
        c.index
    );
    Ok(key)
}

fn next_step(server: &Server, c: &Ceremony, waiting: &[u32], what: &str, step: &str) {
    if waiting.is_empty() {
        say!("Every trustee has {what}. Next: run `urne trustee {step}` with the same options.");
    } else {
        say!(
            "Waiting for trustees {waiting:?}, who have not {what} yet ({}, election {}).",
            server.url(),
            c.election
        );
        say!("Next: once they have, run `urne trustee {step}` with the same options.");
    }
}

/// Round 1, online. The dealing is kept beside the secret file before it is sent, so that a run
/// that could not reach the server sends the same dealing when run again.
pub(super) fn deal(c: &Ceremony) -> anyhow::Result<()> {
    let server = Server::from_online(&c.online)?;
    let v = server.ceremony(&c.election)?;
    let ids = identities(c, &v)?;
    ensure!(
        !v.dealings.iter().any(|d| d.dealer == c.index),
        "the server has trustee {}'s dealing already: nothing was sent. Next: once every trustee \
         has dealt, run `urne trustee complain`",
        c.index
    );
    let poly_path = sibling(c, "polynomial");
    let kept = c
        .secret
        .with_file_name(format!("trustee-{}.dealing.json", c.index));
    let pass = passphrase(false)?;
    let key = own_key(c, &ids, &pass)?;
    let resent = poly_path.exists();
    let dealing = if resent {
        // An earlier run dealt but did not reach the server: send that dealing again.
        ensure!(
            kept.exists(),
            "trustee {} has dealt already ({} exists) but its dealing {} is missing: nothing was sent",
            c.index,
            poly_path.display(),
            kept.display()
        );
        let poly = polynomial(c, &pass)?;
        let text = std::fs::read_to_string(&kept)
            .with_context(|| format!("reading {}", kept.display()))?;
        let d: Dealing = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a dealing", kept.display()))?;
        ensure!(
            d.dealer == c.index && d.commitment == poly.commit() && d.shares.len() == ids.len(),
            "{} is not trustee {}'s dealing of the polynomial in {}: nothing was sent",
            kept.display(),
            c.index,
            poly_path.display()
        );
        d
    } else {
        ensure!(
            !kept.exists(),
            "{} exists already: nothing was written",
            kept.display()
        );
        let (d, poly) = key.deal(&mut rand::rng(), &c.election, c.index, v.threshold, &ids);
        vault::write(
            &poly_path,
            super::POLYNOMIAL_PURPOSE,
            &poly.to_secret_bytes(),
            pass.as_bytes(),
            c.kdf_memory_kib,
        )?;
        write_json(&kept, &d)?;
        d
    };
    server
        .send(
            &format!("/api/v1/elections/{}/ceremony/dealing", c.election),
            &dealing,
        )
        .with_context(|| {
            format!(
                "sending the dealing (kept in {}: run `urne trustee deal` again to resend it)",
                kept.display()
            )
        })?;
    say!(
        "Checked the {} trustees' key proofs, as registered with {}. Dealt one share to each,",
        ids.len(),
        server.url()
    );
    say!(
        "encrypted to its key, for any {} of them to decrypt.",
        v.threshold
    );
    if resent {
        say!("  (the dealing of an earlier run, which had not reached the server)");
    }
    say!(
        "  dealing      sent to the server; a copy in {}",
        kept.display()
    );
    say!(
        "  polynomial   {} (secret, needed to answer complaints)",
        poly_path.display()
    );
    let v = server.ceremony(&c.election)?;
    let waiting = missing(v.trustees, v.dealings.iter().map(|d| d.dealer));
    next_step(&server, c, &waiting, "dealt", "complain");
    Ok(())
}

/// Round 2, online.
pub(super) fn complain(c: &Ceremony) -> anyhow::Result<()> {
    let server = Server::from_online(&c.online)?;
    let v = server.ceremony(&c.election)?;
    let ids = identities(c, &v)?;
    ensure!(
        !v.complained.contains(&c.index),
        "the server has trustee {}'s complaints already: nothing was sent. Next: once every \
         trustee has checked its shares, run `urne trustee answer`",
        c.index
    );
    wait_for(
        c,
        &missing(v.trustees, v.dealings.iter().map(|d| d.dealer)),
        "dealt",
    )?;
    let pass = passphrase(false)?;
    let key = own_key(c, &ids, &pass)?;
    let complaints = key.complaints(&mut rand::rng(), &c.election, c.index, &ids, &v.dealings);
    server.send(
        &format!("/api/v1/elections/{}/ceremony/complaints", c.election),
        &complaints,
    )?;
    report_complaints(v.dealings.len(), ids.len(), &complaints);
    say!(
        "Sent to the server ({} complaint(s); an empty list tells the others this trustee has none).",
        complaints.len()
    );
    let v = server.ceremony(&c.election)?;
    let waiting = missing(v.trustees, v.complained.iter().copied());
    next_step(&server, c, &waiting, "checked their shares", "answer");
    Ok(())
}

/// Round 3, online.
pub(super) fn answer(c: &Ceremony) -> anyhow::Result<()> {
    let server = Server::from_online(&c.online)?;
    let v = server.ceremony(&c.election)?;
    let ids = identities(c, &v)?;
    ensure!(
        !v.answered.contains(&c.index),
        "the server has trustee {}'s answers already: nothing was sent. Next: once every trustee \
         has answered, run `urne trustee finalize`",
        c.index
    );
    wait_for(
        c,
        &missing(v.trustees, v.complained.iter().copied()),
        "checked their shares",
    )?;
    let pass = passphrase(false)?;
    let key = own_key(c, &ids, &pass)?;
    let poly = polynomial(c, &pass)?;
    let answers = key.answers(&mut rand::rng(), &c.election, c.index, &poly, &v.complaints);
    server.send(
        &format!("/api/v1/elections/{}/ceremony/answers", c.election),
        &answers,
    )?;
    report_answers(c, &answers);
    say!("Sent to the server.");
    let v = server.ceremony(&c.election)?;
    let waiting = missing(v.trustees, v.answered.iter().copied());
    next_step(&server, c, &waiting, "answered", "finalize");
    Ok(())
}

/// After the ceremony, online: judge it as relayed, keep the share, and once the setup is
/// sealed, check the manifest against the outcome. Run again after the seal, it finds the same
/// share already kept and checks the manifest.
pub(super) fn finalize(c: &Ceremony) -> anyhow::Result<()> {
    let server = Server::from_online(&c.online)?;
    let v = server.ceremony(&c.election)?;
    let ids = identities(c, &v)?;
    wait_for(
        c,
        &missing(v.trustees, v.answered.iter().copied()),
        "answered",
    )?;
    let t = Transcript {
        dealings: v.dealings,
        complaints: v.complaints,
        answers: v.answers,
    };
    let outcome = judge(c, v.threshold, &ids, &t)?;
    let pass = passphrase(false)?;
    let key = own_key(c, &ids, &pass)?;
    let share = key.assemble_share(
        &c.election,
        c.index,
        &ids,
        &outcome,
        &t.dealings,
        &t.answers,
    )?;
    let vk = outcome.keys.verification_keys[c.index as usize - 1];
    let share_path = sibling(c, "share");
    if share_path.exists() {
        let kept = vault::read(&share_path, SHARE_PURPOSE, pass.as_bytes())?;
        ensure!(
            kept[..] == share.to_secret_bytes()[..],
            "{} holds another share than this ceremony gives trustee {}: it was left unchanged",
            share_path.display(),
            c.index
        );
        say!("This trustee's share matches its verification key {vk}.");
        say!(
            "  share        {} (secret, kept by an earlier run: the same share)",
            share_path.display()
        );
    } else {
        vault::write(
            &share_path,
            SHARE_PURPOSE,
            &share.to_secret_bytes(),
            pass.as_bytes(),
            c.kdf_memory_kib,
        )?;
        say!("This trustee's share matches its verification key {vk}.");
        say!(
            "  share        {} (secret: needed to decrypt the tally)",
            share_path.display()
        );
    }
    match server.manifest(&c.election)? {
        Some(m) => {
            let keys: Vec<Point> = m.trustees.iter().map(|t| t.public_key).collect();
            ensure!(
                m.public_key == outcome.keys.election_key,
                "the sealed manifest's public_key {} is NOT this ceremony's election key {}: do \
                 not let the vote open; tell the administrator and the observers",
                m.public_key,
                outcome.keys.election_key
            );
            ensure!(
                m.threshold == v.threshold && keys == ids,
                "the sealed manifest's trustees or threshold are not the ceremony's: do not let \
                 the vote open; tell the administrator and the observers"
            );
            say!(
                "Checked the sealed manifest (fingerprint {}): its public_key is this election key,",
                m.fingerprint()
            );
            say!("and its trustees and threshold are the ceremony's.");
            say!(
                "Next: keep the share file and its passphrase safe until the tally; then run `urne trustee decrypt`."
            );
            say!("The polynomial file is no longer needed and may be destroyed.");
        }
        None => {
            say!(
                "The setup is not sealed yet. Next: once the administrator has sealed it, and before the vote opens,"
            );
            say!(
                "run `urne trustee finalize` again: it checks that the manifest's public_key is the election key above."
            );
        }
    }
    Ok(())
}

/// Before `new-identity` writes anything: the election is in its setup on the server and
/// trustee `index` has not registered yet.
pub(super) fn check_slot(server: &Server, a: &NewIdentity) -> anyhow::Result<View> {
    let v = server.ceremony(&a.election)?;
    ensure!(
        (1..=v.trustees).contains(&a.index),
        "election {} has {} trustees on the server: --index must be between 1 and {}",
        a.election,
        v.trustees,
        v.trustees
    );
    ensure!(
        v.identities
            .get(a.index as usize - 1)
            .is_some_and(Option::is_none),
        "trustee {} of {} has registered an identity already: nothing was written",
        a.index,
        a.election
    );
    Ok(v)
}

/// Registers a public identity; on the server's refusal of a key just made, removes its files
/// (the key was never used), so that `new-identity` can run again.
pub(super) fn register_new(
    server: &Server,
    a: &NewIdentity,
    public: &TrusteePublic,
    files: [&Path; 2],
) -> anyhow::Result<()> {
    let path = format!("/api/v1/elections/{}/trustees/{}", a.election, a.index);
    match server.trustee.post::<_, serde_json::Value>(&path, public) {
        Ok(_) => Ok(()),
        Err(e) => {
            let refused = http_error(&e).is_some_and(|h| (400..500).contains(&h.status));
            let e = explain(e);
            if refused {
                for f in files {
                    let _ = std::fs::remove_file(f);
                }
                Err(e.context(
                    "registering the new identity; the server refused it, so the new key was \
                     never used and its files were removed",
                ))
            } else {
                let public_file = files[1].display();
                Err(e.context(format!(
                    "registering the new identity; its files are kept: once the server answers, \
                     run `urne trustee register --server {} --election {} --index {} {public_file}`",
                    server.url(),
                    a.election,
                    a.index
                )))
            }
        }
    }
}

/// What comes after registering, from the ceremony's state.
pub(super) fn after_registration(
    server: &Server,
    election: &str,
    index: u32,
    secret: Option<&Path>,
) {
    let secret = secret.map_or("…".to_owned(), |p| p.display().to_string());
    match server.ceremony(election) {
        Ok(v) => {
            let waiting = missing(
                v.trustees,
                v.identities
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.is_some())
                    .map(|(i, _)| i as u32 + 1),
            );
            if !waiting.is_empty() {
                say!("Waiting for trustees {waiting:?} to register.");
            }
            if v.ceremony {
                say!(
                    "Next: once every trustee has registered, run `urne trustee deal --server {} --election {election} --index {index} --secret {secret}`.",
                    server.url()
                );
            } else {
                say!(
                    "Next: the election has independent keys (all {} trustees decrypt): keep the secret file safe and,",
                    v.trustees
                );
                say!("once the votes are tallied, run `urne trustee decrypt`.");
            }
        }
        Err(e) => say!("(could not read the ceremony's state: {e:#})"),
    }
    say!("Keep the secret file and its passphrase safe (a copy on separate media).");
}

/// `urne trustee register`: sends a public file made elsewhere (for instance on an air-gapped
/// machine) to the server, after checking its key proof.
pub(super) fn register(a: &Register) -> anyhow::Result<()> {
    ensure!(
        valid_election_id(&a.election),
        "`{}` is not a valid election id",
        a.election
    );
    ensure!(a.index >= 1, "--index starts at 1");
    let text = std::fs::read_to_string(&a.public)
        .with_context(|| format!("reading {}", a.public.display()))?;
    let public: TrusteePublic = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a trustee's public file", a.public.display()))?;
    check_public(&a.election, a.index, &public, &a.public.display())?;
    let server = Server::from_connect(&a.connect)?;
    server
        .send(
            &format!("/api/v1/elections/{}/trustees/{}", a.election, a.index),
            &public,
        )
        .context("registering the identity")?;
    say!(
        "Checked the key proof of {} for trustee {} ({}) of {}, and registered it with {}.",
        a.public.display(),
        a.index,
        public.name,
        a.election,
        server.url()
    );
    say!("  public key   {}", public.public_key);
    after_registration(&server, &a.election, a.index, None);
    Ok(())
}
