//! `urne demo`: a whole election through the real server, phase by phase, with the time of each.
//!
//! The demo starts `urne serve` in-process on the embedded store and a loopback port, and then
//! plays every part through the HTTP API, as separate people would: the administrator (login,
//! draft, setup, credential list, opening, closing, tally, publication), the trustees (identity,
//! key-generation ceremony, decryption, one of them absent), and the simulated voters, who
//! encrypt, prove and sign their ballots on their own side and cast them concurrently. The
//! record is then downloaded from the server and verified from scratch by the universal
//! verifier, and the result compared with the plaintext choices.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Args;
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::json;
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::board::SignedTreeHead;
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, vartime_judge_ceremony};
use urne_core::credential::{Credential, PublicCredential};
use urne_core::dkg::{Polynomial, Share};
use urne_core::election::Election;
use urne_core::group::Point;
use urne_core::manifest::{Counting, Manifest, Question, Timestamp};
use urne_core::tally::{ElectionResult, PartialDecryption};
use urne_core::trustee::TrusteeKey;
use urne_server::ServerConfig;
use urne_verify::merkle;
use urne_verify::record::TallyEntry;
use urne_verify::simulate::{count, empty_result, random_vote, rng_for};

use crate::client::Client;
use crate::progress::{bar, phase_line};
use crate::verify::verify_file;

/// Options of `urne demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Number of simulated voters.
    #[arg(long, default_value_t = 1000)]
    voters: usize,
    /// Number of trustees.
    #[arg(long, default_value_t = 3)]
    trustees: usize,
    /// How many trustees suffice to decrypt (a key-generation ceremony shares the key); with
    /// as many as there are trustees, each keeps an independent key and all must decrypt.
    #[arg(long, default_value_t = 2)]
    threshold: u32,
    /// Share of voters who cast a second ballot, which replaces their first (in percent).
    #[arg(long, default_value_t = 5)]
    revote_percent: u32,
    /// Ballots cast at the same time over HTTP.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seed for reproducible votes (keys always come from the operating system).
    #[arg(long)]
    seed: Option<u64>,
    /// Directory for the election record (`record.jsonl`) and the server's data (`server/`,
    /// replaced at each run).
    #[arg(long, default_value = "demo-election")]
    out: PathBuf,
    /// Port of the server on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Leave the election open and the server running after the voters have voted, and print
    /// the server's address and a few unused voters' credentials, to vote by hand.
    #[arg(long)]
    keep_open: bool,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
}

const ID: &str = "demo-agm-2026";

fn demo_questions() -> Vec<Question> {
    vec![
        Question {
            text: "Who should chair the association next year?".into(),
            answers: ["Ada", "Grace", "Alan", "Barbara", "Edsger"]
                .map(String::from)
                .to_vec(),
            min: 1,
            max: 1,
            blank: true,
            counting: Counting::Plurality,
        },
        Question {
            text: "Which projects should the budget fund? (up to 2)".into(),
            answers: ["Library", "Garden", "Bicycle workshop", "Choir"]
                .map(String::from)
                .to_vec(),
            min: 0,
            max: 2,
            blank: false,
            counting: Counting::Plurality,
        },
    ]
}

/// A trustee of the demo, on its own "machine".
struct Trustee {
    index: u32,
    key: TrusteeKey,
    token: String,
    share: Option<Share>,
}

/// Times each phase and prints it.
struct Phases {
    total: Duration,
}

impl Phases {
    fn run<T>(
        &mut self,
        name: &str,
        f: impl FnOnce() -> anyhow::Result<(T, String)>,
    ) -> anyhow::Result<T> {
        let t = Instant::now();
        let (value, what) = f().with_context(|| format!("phase `{name}`"))?;
        let time = t.elapsed();
        self.total += time;
        say!("{}", phase_line(name, time, &what));
        Ok(value)
    }
}

#[derive(Deserialize)]
pub(crate) struct Invitations {
    pub(crate) invitations: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct CeremonyView {
    pub(crate) identities: Vec<Option<urne_core::manifest::TrusteePublic>>,
    pub(crate) dealings: Vec<Dealing>,
    pub(crate) complaints: Vec<ComplaintMessage>,
    pub(crate) answers: Vec<Answer>,
}

#[derive(Deserialize)]
struct ElectionView {
    manifest: Option<Manifest>,
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
struct Ack {
    tracker: String,
    seq: u64,
    duplicate: bool,
    receipt: SignedTreeHead,
}

#[derive(Deserialize)]
struct Location {
    seq: u64,
    leaf: String,
    inclusion: Vec<String>,
    head: SignedTreeHead,
}

#[derive(Deserialize)]
struct Consistency {
    path: Vec<String>,
}

/// Runs the demo election.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    ensure!(
        (1..=10_000_000).contains(&args.voters),
        "--voters must be between 1 and 10,000,000"
    );
    ensure!(
        (1..=64).contains(&args.trustees),
        "--trustees must be between 1 and 64"
    );
    ensure!(
        args.threshold >= 1 && args.threshold as usize <= args.trustees,
        "--threshold must be between 1 and --trustees"
    );
    ensure!(
        args.revote_percent <= 100,
        "--revote-percent must be at most 100"
    );
    ensure!(
        (1..=4096).contains(&args.concurrency),
        "--concurrency must be between 1 and 4096"
    );
    let data = args.out.join("server");
    prepare_data_dir(&data)?;
    let randomness = match args.seed {
        Some(s) => format!("votes from seed {s}"),
        None => "randomness from the operating system".into(),
    };
    say!(
        "urne demo: {} voters, {} trustees (any {} decrypt), {randomness}",
        args.voters,
        args.trustees,
        args.threshold
    );
    if args.trustees == 1 {
        eprintln!(
            "warning: with a single trustee, whoever holds its key (often the server's operator)\n\
             can decrypt every ballot alone; use several trustees for any vote that matters."
        );
    }

    let runtime = tokio::runtime::Runtime::new()?;
    let mut phases = Phases {
        total: Duration::ZERO,
    };

    // The server, on the embedded store.
    let (state, base) = phases.run("server", || {
        let config = ServerConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], args.port)),
            data_dir: data.clone(),
            ..ServerConfig::default()
        };
        let state = crate::serve::state_for(config)?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(state.config.listen))?;
        let base = format!("http://{}", listener.local_addr()?);
        runtime.spawn(crate::serve::serve(state.clone(), listener));
        let what = format!(
            "{base}, {} store in {}",
            state.store.backend(),
            data.display()
        );
        Ok(((state, base), what))
    })?;
    let anon = Client::new(&base);

    // The administrator: an account, a login, an API token, the draft.
    let (admin, invitations) = phases.run("draft", || {
        let password = crate::client::random_secret()?;
        urne_server::admin::create_admin(state.store.as_ref(), "demo-admin", &password)
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let token = anon.login("demo-admin", &password)?;
        let admin = anon.with_token(&token);
        let now = urne_server::clock::now();
        let draft = json!({
            "title": "Annual general meeting (demo)",
            "description": "A simulated election run by `urne demo` through the urne server.",
            "questions": demo_questions(),
            "opens_at": Timestamp::from_unix(now - 60).context("clock")?,
            "closes_at": Timestamp::from_unix(now + 7 * 86400).context("clock")?,
            "trustees": (1..=args.trustees).map(|i| format!("Trustee {i}")).collect::<Vec<_>>(),
            "threshold": args.threshold,
            "voter_auth": "none",
            "auto_open": false,
        });
        let _: serde_json::Value = admin.post(
            "/api/v1/admin/elections",
            &json!({ "id": ID, "draft": draft }),
        )?;
        let inv: Invitations =
            admin.post(&format!("/api/v1/admin/elections/{ID}/setup"), &json!({}))?;
        let what = format!(
            "election `{ID}` drafted and frozen; {} trustees invited",
            inv.invitations.len()
        );
        Ok(((admin, inv.invitations), what))
    })?;

    // The trustees: identities, then the ceremony, each round through the server.
    let mut trustees: Vec<Trustee> = invitations
        .iter()
        .enumerate()
        .map(|(i, token)| Trustee {
            index: i as u32 + 1,
            key: TrusteeKey::generate(&mut rand::rng()),
            token: token.clone(),
            share: None,
        })
        .collect();
    let threshold_mode = (args.threshold as usize) < args.trustees;
    phases.run("trustees", || {
        let parties: Vec<(u32, &TrusteeKey, &str)> = trustees
            .iter()
            .map(|t| (t.index, &t.key, t.token.as_str()))
            .collect();
        register_trustees(&anon, ID, &parties)?;
        if !threshold_mode {
            let what = format!(
                "{} independent keys registered; all must decrypt",
                trustees.len()
            );
            return Ok(((), what));
        }
        let view = hold_ceremony(&anon, ID, args.threshold, &parties)?;
        Ok((
            (),
            format!(
                "key-generation ceremony relayed by the server: {} dealings, {} complaints",
                view.dealings.len(),
                view.complaints.len()
            ),
        ))
    })?;

    // The credential authority: one credential per voter; the server gets the public list.
    let questions = demo_questions();
    let credentials: Vec<Credential> = phases.run("credentials", || {
        let creds: Vec<Credential> = (0..args.voters)
            .into_par_iter()
            .map(|v| Credential::generate(&mut rng_for(None, v as u64)))
            .collect();
        let list: Vec<PublicCredential> = creds
            .par_iter()
            .map(|c| PublicCredential {
                credential: *c.derive_key(ID).public(),
                weight: 1,
            })
            .collect();
        let _: serde_json::Value = admin.put(
            &format!("/api/v1/admin/elections/{ID}/credentials"),
            &json!({ "credentials": list }),
        )?;
        Ok((
            creds,
            format!("{} credentials made; public list uploaded", args.voters),
        ))
    })?;

    // Sealing and opening: the setup goes on the board, then the open line.
    let election = phases.run("open", || {
        let sealed: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{ID}/seal"), &json!({}))?;
        let _: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{ID}/open"), &json!({}))?;
        let view: ElectionView = anon.get(&format!("/api/v1/elections/{ID}"))?;
        let manifest = view
            .manifest
            .context("the sealed election has a manifest")?;
        let election = Election::new(manifest)?;
        ensure!(
            view.fingerprint.as_deref() == Some(&election.fingerprint().to_string()[..]),
            "fingerprint mismatch"
        );
        let what = format!(
            "setup sealed on the board ({} lines), voting open, fingerprint {}",
            sealed["board_size"],
            election.fingerprint()
        );
        Ok((election, what))
    })?;

    // The voters, each on their own device: votes, then encrypted, proved and signed ballots.
    let revoters = args.voters * args.revote_percent as usize / 100;
    let (first, second, expected) = phases.run("ballots", || {
        let votes: Vec<Vec<QuestionVote>> = (0..args.voters + revoters)
            .map(|i| random_vote(&mut rng_for(args.seed, i as u64), &questions))
            .collect();
        let make = |i: usize, v: usize| -> anyhow::Result<Ballot> {
            let key = credentials[v].derive_key(ID);
            Ok(Ballot::create(
                &mut rand::rng(),
                &election,
                &key,
                &votes[i],
            )?)
        };
        let first: Vec<Ballot> = (0..args.voters)
            .into_par_iter()
            .map(|v| make(v, v))
            .collect::<anyhow::Result<_>>()?;
        let second: Vec<Ballot> = (0..revoters)
            .into_par_iter()
            .map(|k| make(args.voters + k, k))
            .collect::<anyhow::Result<_>>()?;
        // The last vote of each voter counts: voters 0..revoters voted again.
        let mut expected = empty_result(&questions);
        for v in 0..args.voters {
            let i = if v < revoters { args.voters + v } else { v };
            count(&mut expected, &votes[i]);
        }
        let what = format!(
            "{} ballots encrypted, proved and signed on the voters' side ({} revotes)",
            first.len() + second.len(),
            revoters
        );
        Ok(((first, second, expected), what))
    })?;

    let kept_back = if args.keep_open {
        first.len().min(3)
    } else {
        0
    };
    let cast_now = &first[kept_back..];
    let acked = phases.run("casting", || {
        let t = Instant::now();
        let mut acked = cast_all(&anon, cast_now, args.concurrency, args.quiet)?;
        acked.extend(cast_all(&anon, &second, args.concurrency, args.quiet)?);
        let rate = acked.len() as f64 / t.elapsed().as_secs_f64();
        let m = state.metrics.render();
        let what = format!(
            "{} ballots cast over HTTP, {} at a time: {rate:.0} ballots/s, each acknowledged once durably stored ({})",
            acked.len(),
            args.concurrency,
            latency_summary(&m)
        );
        Ok((acked, what))
    })?;

    // Some voters check their receipt: the signed head they were given, their ballot's
    // inclusion proof in the board's latest head, and that this head extends their receipt.
    phases.run("receipts", || {
        let board_key = election.manifest().board_key.context("the manifest names the board key")?;
        let fingerprint = election.fingerprint();
        let sample: Vec<&Ack> = acked.iter().step_by((acked.len() / 20).max(1)).collect();
        for a in &sample {
            a.receipt.vartime_verify(&board_key, fingerprint).context("receipt signature")?;
            let loc: Location = anon.get(&format!("/api/v1/elections/{ID}/ballots/{}", a.tracker))?;
            ensure!(loc.seq == a.seq, "ballot {} moved from {} to {}", a.tracker, a.seq, loc.seq);
            loc.head.vartime_verify(&board_key, fingerprint).context("head signature")?;
            let leaf = hash32(&loc.leaf)?;
            let path = loc.inclusion.iter().map(|h| hash32(h)).collect::<anyhow::Result<Vec<_>>>()?;
            merkle::verify_inclusion(&leaf, loc.seq, loc.head.size, &path, &loc.head.root)
                .context("inclusion proof")?;
            let c: Consistency = anon.get(&format!(
                "/api/v1/elections/{ID}/board/consistency?from={}&to={}",
                a.receipt.size, loc.head.size
            ))?;
            let path = c.path.iter().map(|h| hash32(h)).collect::<anyhow::Result<Vec<_>>>()?;
            merkle::verify_consistency(a.receipt.size, loc.head.size, &a.receipt.root, &loc.head.root, &path)
                .context("consistency proof")?;
        }
        let what = format!(
            "{} voters checked their signed receipt, their ballot's inclusion proof and the board's consistency since",
            sample.len()
        );
        Ok(((), what))
    })?;
    let acked = acked.len();

    if args.keep_open {
        say!();
        say!("The election stays open. Server: {base}");
        say!("  election:   {base}/api/v1/elections/{ID}");
        say!("  board head: {base}/api/v1/elections/{ID}/board/head");
        say!(
            "  cast:       POST {base}/api/v1/elections/{ID}/ballots (a ballot made with a credential below)"
        );
        say!("The browser booth is not part of this version yet; these voters have not voted:");
        for c in &credentials[..kept_back] {
            say!("  {}", c.display().as_str());
        }
        say!("Press Ctrl-C to stop the server.");
        runtime.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        return Ok(());
    }

    phases.run("close", || {
        let change: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{ID}/close"), &json!({}))?;
        let late = anon.send_raw(
            "POST",
            &format!("/api/v1/elections/{ID}/ballots"),
            first[0].to_json().as_bytes(),
        );
        ensure!(late.is_err(), "a ballot was accepted after the close");
        Ok((
            (),
            format!(
                "closed at {}; a late ballot is refused",
                change["at"].as_str().unwrap_or("?")
            ),
        ))
    })?;
    let tally: TallyEntry = phases.run("tally", || {
        let ack: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{ID}/tally"), &json!({}))?;
        let tally: TallyEntry = anon.get(&format!("/api/v1/elections/{ID}/tally"))?;
        Ok((
            tally,
            format!(
                "{} ballots counted homomorphically of {} cast",
                ack["ballots"], ack["cast"]
            ),
        ))
    })?;

    // Decryption: the trustees in order until enough have decrypted; the last one is absent.
    phases.run("decrypt", || {
        let mut election = election.clone();
        if threshold_mode {
            let view: CeremonyView = anon.get(&format!("/api/v1/elections/{ID}/ceremony"))?;
            let identities: Vec<Point> = election
                .manifest()
                .trustees
                .iter()
                .map(|t| t.public_key)
                .collect();
            let outcome = vartime_judge_ceremony(
                ID,
                args.threshold,
                &identities,
                &view.dealings,
                &view.complaints,
                &view.answers,
            )?;
            election.set_verification_keys(&outcome.keys)?;
            for t in &mut trustees {
                t.share = Some(t.key.assemble_share(
                    ID,
                    t.index,
                    &identities,
                    &outcome,
                    &view.dealings,
                    &view.answers,
                )?);
            }
        }
        let needed = election.manifest().threshold as usize;
        for t in trustees.iter().take(needed) {
            let pd: PartialDecryption = match &t.share {
                Some(share) => share
                    .decrypt_tally(&mut rand::rng(), &election, &tally.tally)
                    .context("verification key")?,
                None => t
                    .key
                    .decrypt_tally(&mut rand::rng(), &election, t.index, &tally.tally),
            };
            let _: serde_json::Value = anon
                .with_token(&t.token)
                .post(&format!("/api/v1/elections/{ID}/decryptions"), &pd)?;
        }
        let absent = trustees.len() - needed;
        Ok((
            (),
            format!(
                "{needed} trustees sent factors with proofs, checked by the server; {absent} absent"
            ),
        ))
    })?;
    let result: ElectionResult = phases.run("publish", || {
        let _: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{ID}/publish"), &json!({}))?;
        let view: serde_json::Value = anon.get(&format!("/api/v1/elections/{ID}"))?;
        let result: ElectionResult =
            serde_json::from_value(view["result"].clone()).context("the published result")?;
        Ok((result, "result published".into()))
    })?;

    // Anyone can now download the record and check the whole election.
    fs::create_dir_all(&args.out)?;
    let path = args.out.join("record.jsonl");
    phases.run("export", || {
        let text = anon.get_text(&format!("/api/v1/elections/{ID}/record"))?;
        fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        Ok((
            (),
            format!(
                "{} lines, {} bytes, to {}",
                text.lines().count(),
                text.len(),
                path.display()
            ),
        ))
    })?;
    let report = phases.run("verify", || {
        let report = verify_file(&path, args.quiet)?;
        let what = format!(
            "{} ballots, every check V-1..V-18 passed",
            report.ballots_cast
        );
        Ok((report, what))
    })?;
    say!("{}", phase_line("total", phases.total, "").trim_end());
    say!();
    print_result(&election, &result);
    if report.ballots_cast != acked as u64 {
        bail!(
            "{} ballots acknowledged but {} on the record",
            acked,
            report.ballots_cast
        );
    }
    if result != expected || report.result.as_ref() != Some(&expected) {
        bail!(
            "the decrypted result differs from the simulated choices:\n  got      {result:?}\n  expected {expected:?}"
        );
    }
    say!(
        "Every acknowledged ballot is on the record, and the result equals the count of the {} voters'\nplaintext choices (last ballot of each).",
        args.voters
    );
    say!("Check it yourself: urne verify {}", args.out.display());
    drop(state);
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(())
}

/// The trustees register their identities with the server, each with its invitation.
pub(crate) fn register_trustees(
    anon: &Client,
    id: &str,
    trustees: &[(u32, &TrusteeKey, &str)],
) -> anyhow::Result<()> {
    for &(index, key, token) in trustees {
        let public = key.publish(&mut rand::rng(), id, index, &format!("Trustee {index}"));
        let _: serde_json::Value = anon
            .with_token(token)
            .post(&format!("/api/v1/elections/{id}/trustees/{index}"), &public)?;
    }
    Ok(())
}

/// The key-generation ceremony of registered trustees, round by round through the server;
/// returns the ceremony as the server relayed it.
pub(crate) fn hold_ceremony(
    anon: &Client,
    id: &str,
    threshold: u32,
    trustees: &[(u32, &TrusteeKey, &str)],
) -> anyhow::Result<CeremonyView> {
    let path = format!("/api/v1/elections/{id}/ceremony");
    let view: CeremonyView = anon.get(&path)?;
    let identities: Vec<Point> = view
        .identities
        .iter()
        .flatten()
        .map(|t| t.public_key)
        .collect();
    let mut polys: Vec<Polynomial> = Vec::new();
    for &(index, key, token) in trustees {
        let (dealing, poly) = key.deal(&mut rand::rng(), id, index, threshold, &identities);
        polys.push(poly);
        let _: serde_json::Value = anon
            .with_token(token)
            .post(&format!("{path}/dealing"), &dealing)?;
    }
    let view: CeremonyView = anon.get(&path)?;
    for &(index, key, token) in trustees {
        let c = key.complaints(&mut rand::rng(), id, index, &identities, &view.dealings);
        let _: serde_json::Value = anon
            .with_token(token)
            .post(&format!("{path}/complaints"), &c)?;
    }
    let view: CeremonyView = anon.get(&path)?;
    for (&(index, key, token), poly) in trustees.iter().zip(&polys) {
        let a = key.answers(&mut rand::rng(), id, index, poly, &view.complaints);
        let _: serde_json::Value = anon
            .with_token(token)
            .post(&format!("{path}/answers"), &a)?;
    }
    anon.get(&path)
}

/// Removes the data of an earlier demo (only a directory the demo made itself).
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let ours = dir.join("board-key").exists();
        ensure!(
            ours,
            "{} exists and is not an urne demo's data directory; choose another --out",
            dir.display()
        );
        fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(())
}

/// Casts ballots with `concurrency` voters at a time; returns how many were acknowledged.
fn cast_all(
    client: &Client,
    ballots: &[Ballot],
    concurrency: usize,
    quiet: bool,
) -> anyhow::Result<Vec<Ack>> {
    let bodies: Vec<String> = ballots.par_iter().map(Ballot::to_json).collect();
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    let acked = Mutex::new(Vec::with_capacity(bodies.len()));
    let pb = bar(quiet, bodies.len() as u64, "casting", false);
    let path = format!("/api/v1/elections/{ID}/ballots");
    std::thread::scope(|s| {
        for _ in 0..concurrency.min(bodies.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    match client.send_raw("POST", &path, body.as_bytes()) {
                        Ok((201, text)) => match serde_json::from_str::<Ack>(&text) {
                            Ok(a) if !a.duplicate => {
                                acked.lock().map(|mut v| v.push(a)).unwrap_or(())
                            }
                            _ => errors
                                .lock()
                                .map(|mut e| {
                                    e.push(format!("ballot {i}: unexpected answer {text}"))
                                })
                                .unwrap_or(()),
                        },
                        Ok((status, text)) => errors
                            .lock()
                            .map(|mut e| e.push(format!("ballot {i}: HTTP {status}: {text}")))
                            .unwrap_or(()),
                        Err(e) => errors
                            .lock()
                            .map(|mut v| v.push(format!("ballot {i}: {e:#}")))
                            .unwrap_or(()),
                    }
                    pb.inc(1);
                }
            });
        }
    });
    pb.finish_and_clear();
    let errors = errors.into_inner().unwrap_or_default();
    if let Some(first) = errors.first() {
        bail!(
            "{} ballots were not acknowledged; the first: {first}",
            errors.len()
        );
    }
    Ok(acked.into_inner().unwrap_or_default())
}

/// p50 and p99 of the server's cast latency histogram, from its metrics.
fn latency_summary(metrics: &str) -> String {
    let mut buckets: BTreeMap<u64, f64> = BTreeMap::new();
    let mut le_list = Vec::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("urne_ballot_cast_seconds_bucket{le=\"") else {
            continue;
        };
        let Some((le, count)) = rest.split_once("\"} ") else {
            continue;
        };
        let (Ok(count), Ok(le_value)) = (
            count.trim().parse::<f64>(),
            le.parse::<f64>().or_else(|_| {
                if le == "+Inf" {
                    Ok(f64::INFINITY)
                } else {
                    Err(())
                }
            }),
        ) else {
            continue;
        };
        buckets.insert(le_list.len() as u64, count);
        le_list.push(le_value);
    }
    let total = buckets.values().last().copied().unwrap_or(0.0);
    if total == 0.0 {
        return "no latency measured".into();
    }
    let quantile = |q: f64| {
        for (i, c) in &buckets {
            if *c >= q * total {
                return le_list[*i as usize];
            }
        }
        f64::INFINITY
    };
    format!(
        "server latency p50 ≤ {:.1} ms, p99 ≤ {:.1} ms",
        quantile(0.5) * 1e3,
        quantile(0.99) * 1e3
    )
}

fn hash32(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = urne_core::group::b64_decode(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    <[u8; 32]>::try_from(bytes).map_err(|_| anyhow::anyhow!("a hash is 32 bytes"))
}

fn print_result(election: &Election, result: &ElectionResult) {
    for (q, r) in election.manifest().questions.iter().zip(&result.questions) {
        say!("{}", q.text);
        let total: u64 = r.counts.iter().sum::<u64>() + r.blank.unwrap_or(0);
        let named = q
            .answers
            .iter()
            .map(String::as_str)
            .zip(r.counts.iter().copied());
        for (name, count) in named.chain(r.blank.map(|b| ("(blank)", b))) {
            let share = if total == 0 {
                0.0
            } else {
                100.0 * count as f64 / total as f64
            };
            let bar = "█".repeat((share / 2.5).round() as usize);
            say!("  {name:<18} {count:>9}  {share:>5.1} %  {bar}");
        }
        say!();
    }
}
