//! `urne demo`: a whole election through the real server, phase by phase, with the time of each.
//!
//! The demo starts `urne serve` in-process on the embedded store and a loopback port, and then
//! plays every part as separate people would in production:
//!
//! - the organizer (the server's administrator) drafts the election, checks the voter roll
//!   with a dry run and imports it, uploads the public credential list it was given, seals the
//!   setup, opens, closes, tallies and publishes;
//! - the trustees hold the key-generation ceremony through the server and decrypt the tally
//!   (one of them absent);
//! - the credential authority, on its own side, runs its own tool (`urne credentials`, as a
//!   separate process of this program, as it would on its own machine): it makes one credential
//!   per voter of the roll in `authority/`, gives the organizer only the public list, checks
//!   the list's fingerprint (spec §5.4) on the sealed board, and mails each voter their
//!   credential into its own Maildir outbox (`authority/outbox`);
//! - each simulated voter reads their credential in their mail, asks the server for a login
//!   code, reads it in the server's mail (a Maildir, `server/outbox`), logs in, and casts a
//!   ballot encrypted, proved and signed on their own side (some vote twice).
//!
//! The server never sees a private credential: the test `tests/authority.rs` searches its
//! database, outbox and logs for them after a whole demo. The record is then downloaded from
//! the server and verified from scratch by the universal verifier, and the result compared with
//! the plaintext choices.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Args;
use indicatif::ProgressBar;
use mailparse::MailHeaderMap;
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::json;
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::board::SignedTreeHead;
use urne_core::ceremony::{Answer, ComplaintMessage, Dealing, vartime_judge_ceremony};
use urne_core::credential::{Credential, list_fingerprint};
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
use zeroize::Zeroizing;

use crate::client::Client;
use crate::credentials::{PRIVATE_FILE, PUBLIC_FILE, PublicList};
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
    /// Directory for the election record (`record.jsonl`), the organizer's roll (`roll.csv`),
    /// the server's data (`server/`, with its mail in `server/outbox`) and the credential
    /// authority's files (`authority/`, with its mail in `authority/outbox`), all replaced at
    /// each run. With RUST_LOG set, the logs go to standard error.
    #[arg(long, default_value = "demo-election")]
    out: PathBuf,
    /// Port of the server on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Leave the election open and the server running after the voters have voted, and print
    /// the server's address, three voters who have not voted with their credentials, and how
    /// they log in and cast.
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
            seats: None,
            grades: None,
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
            seats: None,
            grades: None,
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
    let authority_dir = args.out.join("authority");
    prepare_data_dir(&data)?;
    prepare_authority_dir(&authority_dir)?;
    if std::env::var_os("RUST_LOG").is_some() {
        crate::serve::init_tracing();
    }
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

    // The server, on the embedded store; its letters go to the Maildir DATA_DIR/outbox.
    let (state, base) = phases.run("server", || {
        let listener = runtime.block_on(tokio::net::TcpListener::bind(
            std::net::SocketAddr::from(([127, 0, 0, 1], args.port)),
        ))?;
        let listen = listener.local_addr()?;
        let base = format!("http://{listen}");
        let mut config = ServerConfig {
            listen,
            data_dir: data.clone(),
            // The address the letters' links point to.
            public_url: Some(base.clone()),
            ..ServerConfig::default()
        };
        config.mail.from = "Demo election office <elections@example.org>".into();
        // Every voter asks for a login code within a second or two: at a real mail relay's
        // pace (20 a second by default) they would wait for minutes.
        config.mail.per_second = 1e6;
        let state = crate::serve::state_for(config)?;
        runtime.spawn(crate::serve::serve(state.clone(), listener));
        let what = format!(
            "{base}, {} store in {}, mail to {}",
            state.store.backend(),
            data.display(),
            data.join("outbox").display()
        );
        Ok(((state, base), what))
    })?;
    let anon = Client::new(&base);
    let election_url = format!("{base}/api/v1/elections/{ID}");

    // The organizer: an account, a login, an API token, the draft.
    let admin = phases.run("draft", || {
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
            "voter_auth": "email_code",
            "voted_list": "admin",
            "language": "en",
            "auto_open": false,
        });
        let _: serde_json::Value = admin.post(
            "/api/v1/admin/elections",
            &json!({ "id": ID, "draft": draft }),
        )?;
        let what =
            format!("election `{ID}` drafted; voters log in with a code mailed to their address");
        Ok((admin, what))
    })?;

    // The organizer's voter roll: checked by a dry run, then imported, then the setup frozen.
    let roll = synthetic_roll(args.voters);
    let roll_path = args.out.join("roll.csv");
    let invitations = phases.run("roll", || {
        fs::write(&roll_path, roll_csv(&roll))
            .with_context(|| format!("writing {}", roll_path.display()))?;
        let body = fs::read(&roll_path)?;
        let path = format!("/api/v1/admin/elections/{ID}/roll?format=csv");
        let (_, text) = admin.send_raw("PUT", &format!("{path}&dry_run=true"), &body)?;
        let dry: RollAnswer = serde_json::from_str(&text).context("the roll's dry run")?;
        ensure!(
            dry.valid && !dry.imported && dry.voters == roll.len() as u64,
            "the dry run of the roll found {} voters and {} errors: {text}",
            dry.voters,
            dry.errors.len()
        );
        let (_, text) = admin.send_raw("PUT", &path, &body)?;
        let imported: RollAnswer = serde_json::from_str(&text).context("the roll's import")?;
        ensure!(imported.imported, "the roll was not imported: {text}");
        let inv: Invitations =
            admin.post(&format!("/api/v1/admin/elections/{ID}/setup"), &json!({}))?;
        let what = format!(
            "{} voters (ids, names, addresses at example.org) in {}: dry run with {} errors and \
             {} warnings, imported; setup frozen, {} trustees invited",
            dry.voters,
            roll_path.display(),
            dry.errors.len(),
            dry.warnings.len(),
            inv.invitations.len()
        );
        Ok((inv.invitations, what))
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

    // The credential authority, on its side: credentials from the roll, the public list only
    // to the organizer, who uploads it.
    let fingerprint = phases.run("credentials", || {
        let out = authority(&[
            "generate".as_ref(),
            "--election".as_ref(),
            ID.as_ref(),
            "--roll".as_ref(),
            roll_path.as_os_str(),
            "--out".as_ref(),
            authority_dir.as_os_str(),
            "--quiet".as_ref(),
        ])?;
        let printed = printed_fingerprint(&out)?;
        let public = fs::read(authority_dir.join(PUBLIC_FILE))?;
        let list: PublicList =
            serde_json::from_slice(&public).context("the authority's public list")?;
        let fingerprint = list_fingerprint(&list.credentials).to_string();
        ensure!(
            printed == fingerprint,
            "the authority's tool printed the fingerprint {printed}, its list has {fingerprint}"
        );
        admin.send_raw(
            "PUT",
            &format!("/api/v1/admin/elections/{ID}/credentials"),
            &public,
        )?;
        let what = format!(
            "the credential authority made {} credentials from the roll in {}; only the public \
             list uploaded (fingerprint {fingerprint})",
            list.credentials.len(),
            authority_dir.display()
        );
        Ok((fingerprint, what))
    })?;

    // Sealing: the setup goes on the board, where the authority looks for its list.
    phases.run("seal", || {
        let sealed: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{ID}/seal"), &json!({}))?;
        let out = authority(&["fingerprint".as_ref(), election_url.as_ref()])?;
        let on_board = printed_fingerprint(&out)?;
        ensure!(
            on_board == fingerprint,
            "the sealed board's credential list has the fingerprint {on_board}, the authority's \
             {fingerprint}: the authority must not mail the credentials"
        );
        let what = format!(
            "setup sealed on the board ({} lines); the authority found its list's fingerprint \
             there",
            sealed["board_size"]
        );
        Ok(((), what))
    })?;

    // Only then does the authority mail the credentials, into its own outbox.
    let authority_outbox = authority_dir.join("outbox");
    phases.run("mail", || {
        authority(&[
            "mail".as_ref(),
            "--private".as_ref(),
            authority_dir.join(PRIVATE_FILE).as_os_str(),
            "--election-url".as_ref(),
            election_url.as_ref(),
            "--outbox-maildir".as_ref(),
            authority_outbox.as_os_str(),
            "--from".as_ref(),
            "Demo credential authority <credentials@example.org>".as_ref(),
            "--per-second".as_ref(),
            "1000000".as_ref(),
            "--connections".as_ref(),
            "8".as_ref(),
            "--quiet".as_ref(),
        ])?;
        let report: DeliveryReport = serde_json::from_slice(
            &fs::read(authority_dir.join("delivery-report.json"))
                .context("the authority's delivery report")?,
        )?;
        let what = format!(
            "the authority mailed {} credentials into its outbox {} ({} failed, {} bounced)",
            report.sent.len(),
            authority_outbox.display(),
            report.failed.len(),
            report.bounced.len()
        );
        Ok(((), what))
    })?;

    let election = phases.run("open", || {
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
            "voting open, election fingerprint {}",
            election.fingerprint()
        );
        Ok((election, what))
    })?;

    // The voters: each reads their credential in their mail; all but those kept back for
    // `--keep-open` ask for a login code, read it in the server's mail and log in.
    let kept_back = if args.keep_open {
        args.voters.min(3)
    } else {
        0
    };
    let (credentials, tokens) = phases.run("login", || {
        let credentials = credentials_from_mail(&authority_outbox, &roll)?;
        let tokens = log_in(&anon, &roll, kept_back, &data.join("outbox"), args)?;
        let what = format!(
            "{} voters found their credential in their mail; {} asked for a login code, found \
             it in the server's mail and logged in",
            credentials.len(),
            tokens.len() - kept_back
        );
        Ok(((credentials, tokens), what))
    })?;

    // The voters, each on their own device: votes, then encrypted, proved and signed ballots.
    let questions = demo_questions();
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

    // Voters kept back for `--keep-open` cast neither ballot.
    let acked = phases.run("casting", || {
        let t = Instant::now();
        let mut acked = cast_all(
            &anon,
            &first[kept_back..],
            &tokens[kept_back..],
            args.concurrency,
            args.quiet,
        )?;
        let again = kept_back.min(second.len());
        acked.extend(cast_all(
            &anon,
            &second[again..],
            &tokens[again..second.len()],
            args.concurrency,
            args.quiet,
        )?);
        let rate = acked.len() as f64 / t.elapsed().as_secs_f64();
        let m = state.metrics.render();
        let what = format!(
            "{} ballots cast over HTTP by logged-in voters, {} at a time: {rate:.0} ballots/s, each acknowledged once durably stored ({})",
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

    // The organizer's view of the voters: who voted, and what became of the server's mail.
    phases.run("turnout", || {
        let voted: Voted = admin.get(&format!("/api/v1/admin/elections/{ID}/voted"))?;
        let voting = args.voters - kept_back;
        ensure!(
            voted.voters.len() == voting,
            "{voting} voters cast a ballot, but the server lists {} who voted",
            voted.voters.len()
        );
        let mail: MailReport = admin.get(&format!("/api/v1/admin/elections/{ID}/mail"))?;
        let what = format!(
            "{} of {} voters voted (the organizer's list, linked to no ballot); the server's \
             mail: {} sent, {} queued, {} failed, {} bounced",
            voted.voters.len(),
            args.voters,
            mail.sent,
            mail.queued,
            mail.failed,
            mail.bounced
        );
        Ok(((), what))
    })?;

    if args.keep_open {
        say!();
        say!("The election stays open. Server: {base}");
        say!("  election:   {election_url}");
        say!("  board head: {election_url}/board/head");
        say!(
            "In a browser, each opens the link in their letter from the authority ({}), logs in \
             with a code from the server's mail, and votes. These voters have not voted:",
            authority_outbox.join("new").display()
        );
        for (v, c) in roll.iter().zip(&credentials).take(kept_back) {
            say!(
                "  {:<16} {:<28} credential {}",
                v.id,
                v.email,
                c.display().as_str()
            );
        }
        say!("Without a browser, each votes in four steps:");
        say!("  1. POST {election_url}/voter/code  {{\"voter\": \"ID\"}}");
        say!(
            "  2. read the code in the server's mail: {}",
            data.join("outbox").join("new").display()
        );
        say!("  3. POST {election_url}/voter/login  {{\"voter\": \"ID\", \"code\": \"CODE\"}}");
        say!("     answers {{\"token\": TOKEN, …}}");
        say!("  4. POST {election_url}/ballots  a ballot made with the credential (spec §7),");
        say!("     with the header `Authorization: Bearer TOKEN`");
        say!("Press Ctrl-C to stop the server.");
        runtime.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        return Ok(());
    }

    phases.run("close", || {
        let change: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{ID}/close"), &json!({}))?;
        // A logged-in voter's ballot, sent again after the close.
        let late = anon.with_token(&tokens[0]).send_raw(
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

/// Removes the credential authority's folder of an earlier demo: `urne credentials generate`
/// never overwrites its files. Only a folder holding nothing but what the authority's tool
/// writes is removed.
fn prepare_authority_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name();
        let known = [PUBLIC_FILE, PRIVATE_FILE, "delivery-report.json", "outbox"];
        ensure!(
            known.iter().any(|k| name == *k),
            "{} holds {}, which an urne demo did not write there; choose another --out",
            dir.display(),
            name.to_string_lossy()
        );
    }
    fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))
}

/// A voter of the demo's roll.
struct Voter {
    id: String,
    email: String,
    name: String,
}

/// `n` synthetic voters: identifiers long enough never to appear by chance in the record's
/// base64 (a test looks for them there), names, and addresses at example.org (RFC 2606).
fn synthetic_roll(n: usize) -> Vec<Voter> {
    const FIRST: [&str; 16] = [
        "Alice", "Bruno", "Claire", "David", "Emma", "Farid", "Gaelle", "Hugo", "Ines", "Jules",
        "Karim", "Lea", "Marc", "Nora", "Oscar", "Paula",
    ];
    const LAST: [&str; 13] = [
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Michel", "Garcia",
    ];
    (0..n)
        .map(|i| {
            let (first, last) = (FIRST[i % FIRST.len()], LAST[i % LAST.len()]);
            Voter {
                id: format!("member-{:06}", i + 1),
                email: format!(
                    "{}.{}.{}@example.org",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase(),
                    i + 1
                ),
                name: format!("{first} {last}"),
            }
        })
        .collect()
}

/// The roll as a CSV file (docs/voters.md §1.2).
fn roll_csv(voters: &[Voter]) -> String {
    let mut out = String::with_capacity(voters.len() * 64 + 16);
    out.push_str("id,email,name\n");
    for v in voters {
        out.push_str(&format!("{},{},{}\n", v.id, v.email, v.name));
    }
    out
}

/// What the server says of a roll upload (the fields the demo reads).
#[derive(Deserialize)]
struct RollAnswer {
    valid: bool,
    imported: bool,
    voters: u64,
    warnings: Vec<serde_json::Value>,
    errors: Vec<serde_json::Value>,
}

/// The authority's `delivery-report.json` (the fields the demo reads).
#[derive(Deserialize)]
struct DeliveryReport {
    sent: Vec<String>,
    failed: Vec<serde_json::Value>,
    bounced: Vec<serde_json::Value>,
}

/// Who voted, as the server lists them for the organizer.
#[derive(Deserialize)]
struct Voted {
    voters: Vec<String>,
}

/// The server's mail report.
#[derive(Deserialize)]
struct MailReport {
    queued: u64,
    sent: u64,
    failed: u64,
    bounced: u64,
}

/// Runs `urne credentials ARGS` as the credential authority does on its own machine: a
/// separate process of this program, whose output is kept (and shown only when it fails).
fn authority(args: &[&OsStr]) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("finding this program to run `urne credentials`")?;
    let out = Command::new(exe)
        .arg("credentials")
        .args(args)
        .output()
        .context("running `urne credentials`")?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        // The first lines say what went wrong; a failed mailing lists every voter after them.
        let said = stdout.clone() + &String::from_utf8_lossy(&out.stderr);
        let mut lines: Vec<&str> = said.lines().take(21).collect();
        if lines.len() > 20 {
            lines[20] = "…";
        }
        bail!(
            "the credential authority's `urne credentials {}` failed ({}):\n{}",
            args.first()
                .map(|a| a.to_string_lossy())
                .unwrap_or_default(),
            out.status,
            lines.join("\n")
        );
    }
    Ok(stdout)
}

/// The fingerprint `urne credentials generate` or `fingerprint` printed.
fn printed_fingerprint(output: &str) -> anyhow::Result<String> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix("fingerprint "))
        .map(|f| f.trim().to_owned())
        .with_context(|| format!("`urne credentials` printed no fingerprint:\n{output}"))
}

/// A letter from a Maildir: its recipient's address and its plain-text part, decoded.
struct Letter {
    to: String,
    text: Zeroizing<String>,
}

/// Every letter delivered to the Maildir `dir` (its `new/` folder), read on every core.
fn read_letters(dir: &Path) -> anyhow::Result<Vec<Letter>> {
    let new = dir.join("new");
    let paths = fs::read_dir(&new)
        .with_context(|| format!("reading {}", new.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<PathBuf>, _>>()?;
    paths.par_iter().map(|p| read_letter(p)).collect()
}

fn read_letter(path: &Path) -> anyhow::Result<Letter> {
    let bytes =
        Zeroizing::new(fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    let mail =
        mailparse::parse_mail(&bytes).with_context(|| format!("{}: not a mail", path.display()))?;
    let to = mail
        .headers
        .get_first_value("To")
        .with_context(|| format!("{}: no To header", path.display()))?;
    // `Name <address>` or `address`.
    let to = match (to.rfind('<'), to.rfind('>')) {
        (Some(a), Some(b)) if a < b => to[a + 1..b].trim().to_owned(),
        _ => to.trim().to_owned(),
    };
    let text = mail
        .parts()
        .find(|p| p.ctype.mimetype == "text/plain")
        .with_context(|| format!("{}: no plain-text part", path.display()))?
        .get_body()
        .with_context(|| format!("{}: the plain-text part", path.display()))?;
    Ok(Letter {
        to,
        text: Zeroizing::new(text),
    })
}

/// Each voter's credential, as they read it in the authority's letter to them: from the
/// voting link's fragment `#credential=…`.
fn credentials_from_mail(outbox: &Path, roll: &[Voter]) -> anyhow::Result<Vec<Credential>> {
    let by_address: HashMap<&str, usize> = roll
        .iter()
        .enumerate()
        .map(|(i, v)| (v.email.as_str(), i))
        .collect();
    let mut found: Vec<Option<Credential>> = vec![None; roll.len()];
    for letter in read_letters(outbox)? {
        let Some(&v) = by_address.get(letter.to.as_str()) else {
            bail!("the authority mailed {}, who is not on the roll", letter.to);
        };
        let Some(at) = letter.text.find("#credential=") else {
            bail!("the authority's letter to {} has no voting link", letter.to);
        };
        let rest = &letter.text[at + "#credential=".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len());
        let credential = Credential::parse(&rest[..end])
            .with_context(|| format!("the credential in the letter to {}", letter.to))?;
        ensure!(
            found[v].replace(credential).is_none(),
            "{} got two letters from the authority",
            letter.to
        );
    }
    found
        .into_iter()
        .zip(roll)
        .map(|(c, v)| c.with_context(|| format!("voter {} got no credential", v.id)))
        .collect()
}

/// Voters `kept_back..` ask for a login code, read it in the server's outbox and log in;
/// returns each voter's session token (empty for those kept back).
fn log_in(
    anon: &Client,
    roll: &[Voter],
    kept_back: usize,
    server_outbox: &Path,
    args: &DemoArgs,
) -> anyhow::Result<Vec<String>> {
    let voters = &roll[kept_back..];
    let pb = bar(args.quiet, voters.len() as u64, "codes", false);
    concurrently(voters.len(), args.concurrency, &pb, |i| {
        let _: serde_json::Value = anon.post(
            &format!("/api/v1/elections/{ID}/voter/code"),
            &json!({ "voter": voters[i].id }),
        )?;
        Ok(())
    })?;
    pb.finish_and_clear();

    // The server's mail worker writes the letters in the background.
    let pb = bar(args.quiet, voters.len() as u64, "their mail", false);
    let new = server_outbox.join("new");
    let (mut seen, mut since) = (0, Instant::now());
    loop {
        let n = fs::read_dir(&new).map(|d| d.count()).unwrap_or(0);
        pb.set_position(n as u64);
        if n >= voters.len() {
            break;
        }
        if n > seen {
            (seen, since) = (n, Instant::now());
        }
        ensure!(
            since.elapsed() < Duration::from_secs(30),
            "the server's mail stopped at {n} of {} login codes in {} (its report: GET \
             /api/v1/admin/elections/{ID}/mail)",
            voters.len(),
            new.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    pb.finish_and_clear();

    let by_address: HashMap<&str, usize> = voters
        .iter()
        .enumerate()
        .map(|(i, v)| (v.email.as_str(), i))
        .collect();
    let mut codes: Vec<Option<Zeroizing<String>>> = vec![None; voters.len()];
    for letter in read_letters(server_outbox)? {
        let Some(&v) = by_address.get(letter.to.as_str()) else {
            bail!(
                "the server mailed {}, who did not ask for a code",
                letter.to
            );
        };
        // The code is six digits on a line of their own.
        let Some(code) = letter
            .text
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        else {
            bail!("the server's letter to {} has no login code", letter.to);
        };
        ensure!(
            codes[v].replace(Zeroizing::new(code.to_owned())).is_none(),
            "{} got two login codes",
            letter.to
        );
    }

    #[derive(Deserialize)]
    struct Session {
        token: String,
    }
    let pb = bar(args.quiet, voters.len() as u64, "login", false);
    let tokens = concurrently(voters.len(), args.concurrency, &pb, |i| {
        let code = codes[i]
            .as_ref()
            .with_context(|| format!("voter {} got no login code", voters[i].id))?;
        let session: Session = anon.post(
            &format!("/api/v1/elections/{ID}/voter/login"),
            &json!({ "voter": voters[i].id, "code": code.as_str() }),
        )?;
        Ok(session.token)
    })?;
    pb.finish_and_clear();
    Ok(std::iter::repeat_n(String::new(), kept_back)
        .chain(tokens)
        .collect())
}

/// Runs `job(i)` for each i in 0..n on `concurrency` threads (as many people at their
/// devices), moving `pb`; returns the answers in order, or says how many failed and the
/// first failure.
fn concurrently<R: Send>(
    n: usize,
    concurrency: usize,
    pb: &ProgressBar,
    job: impl Fn(usize) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..concurrency.min(n.max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    match job(i) {
                        Ok(r) => answers.lock().map(|mut a| a[i] = Some(r)).unwrap_or(()),
                        Err(e) => errors
                            .lock()
                            .map(|mut v| v.push((i, format!("{e:#}"))))
                            .unwrap_or(()),
                    }
                    pb.inc(1);
                }
            });
        }
    });
    let mut errors = errors.into_inner().unwrap_or_default();
    errors.sort();
    if let Some((i, first)) = errors.first() {
        bail!("{} of {n} failed; the first (#{i}): {first}", errors.len());
    }
    answers
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a thread panicked"))?
        .into_iter()
        .map(|a| a.context("a thread panicked"))
        .collect()
}

/// Casts ballots `concurrency` at a time, each with its voter's session token (`tokens[i]` for
/// `ballots[i]`); returns their acknowledgements.
fn cast_all(
    client: &Client,
    ballots: &[Ballot],
    tokens: &[String],
    concurrency: usize,
    quiet: bool,
) -> anyhow::Result<Vec<Ack>> {
    ensure!(ballots.len() == tokens.len(), "a token for each ballot");
    let bodies: Vec<String> = ballots.par_iter().map(Ballot::to_json).collect();
    let pb = bar(quiet, bodies.len() as u64, "casting", false);
    let path = format!("/api/v1/elections/{ID}/ballots");
    let acked = concurrently(bodies.len(), concurrency, &pb, |i| {
        let (status, text) =
            client
                .with_token(&tokens[i])
                .send_raw("POST", &path, bodies[i].as_bytes())?;
        let ack: Ack = serde_json::from_str(&text)
            .with_context(|| format!("ballot {i}: HTTP {status}: unexpected answer {text}"))?;
        ensure!(
            status == 201 && !ack.duplicate,
            "ballot {i}: HTTP {status}: unexpected answer {text}"
        );
        Ok(ack)
    });
    pb.finish_and_clear();
    acked.context("not every ballot was acknowledged")
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
