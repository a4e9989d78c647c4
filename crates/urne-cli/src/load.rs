//! `urne load`: a load test of a running server over HTTP, in steps, so that only casting is
//! timed.
//!
//! - `prepare` logs in as an administrator, runs an election's setup through the API (three
//!   trustees, any two decrypt, as `urne demo` does), opens it, and makes one ballot per voter
//!   in parallel: the bodies go to `DIR/ballots.jsonl`, their trackers to `DIR/trackers.txt`, and
//!   what the later steps need (the administrator's API token, the trustees' keys and
//!   invitation tokens, the expected result) to `DIR/state.json`, readable by its owner only.
//! - `cast` sends the prepared bodies over keep-alive connections, `--concurrency` at a time,
//!   round-robin over one or several servers, and measures each request from the client's
//!   side. It writes every acknowledgement (ballot index, tracker, seq) to `DIR/acks.jsonl`,
//!   the ballots left unacknowledged to `DIR/unacked.jsonl`, and its figures to
//!   `DIR/cast.json`.
//! - `check` reads the board of the open election and checks that every acknowledged ballot is
//!   on it at its acknowledged position (after a crash and a restart, say).
//! - `finish` closes the election, tallies, has two trustees decrypt, publishes, exports the
//!   record, verifies it with the universal verifier, and checks the acknowledgements against
//!   it; when every prepared ballot is on the record, the result must be the prepared votes'
//!   count.
//!
//! The client shares the machine with the server, so `cast` is lean: bodies are read once into
//! memory, each worker thread keeps one HTTP/1.1 connection per server and writes a request in
//! one system call, and responses are parsed by hand (docs/performance.md gives the measured
//! figures and the client's share of the CPU).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::{Args, Subcommand, ValueEnum};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::ceremony::vartime_judge_ceremony;
use urne_core::credential::{Credential, CredentialKey, PublicCredential};
use urne_core::election::Election;
use urne_core::group::{Point, b64_decode, b64_encode};
use urne_core::manifest::{Counting, Manifest, Question, Timestamp};
use urne_core::tally::{ElectionResult, PartialDecryption};
use urne_core::trustee::TrusteeKey;
use urne_verify::record::TallyEntry;
use urne_verify::simulate::{count, empty_result, random_vote, rng_for};

use crate::client::Client;
use crate::demo::{CeremonyView, Invitations};
use crate::progress::{bar, phase_line};
use crate::verify::verify_file;

/// Options of `urne load`.
#[derive(Args, Debug)]
pub struct LoadArgs {
    #[command(subcommand)]
    command: LoadCommand,
}

#[derive(Subcommand, Debug)]
enum LoadCommand {
    /// Set up and open an election through the API and prepare its ballots (not timed).
    Prepare(PrepareArgs),
    /// Cast the prepared ballots concurrently and measure (the timed step).
    Cast(CastArgs),
    /// Check that every acknowledged ballot is on the open election's board at its position.
    Check(CheckArgs),
    /// Close, tally, decrypt, publish, export and verify the record, and check the
    /// acknowledgements against it.
    Finish(FinishArgs),
}

/// Options of `urne load prepare`.
#[derive(Args, Debug)]
struct PrepareArgs {
    /// The server (`http://127.0.0.1:8080`).
    #[arg(long)]
    url: String,
    /// Number of voters, each casting one ballot.
    #[arg(long, default_value_t = 100_000)]
    ballots: usize,
    /// Directory for the prepared ballots and the state of the later steps.
    #[arg(long)]
    out: PathBuf,
    /// The administrator's login name (default: URNE_ADMIN_NAME, else `admin`).
    #[arg(long)]
    admin: Option<String>,
    /// The administrator's password (default: URNE_ADMIN_PASSWORD).
    #[arg(long)]
    password: Option<String>,
    /// The election's id.
    #[arg(long, default_value = "load-test")]
    election: String,
    /// Seed of the votes (credentials and keys always come from the operating system).
    #[arg(long)]
    seed: Option<u64>,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
}

/// How `cast` talks HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HttpClient {
    /// A minimal HTTP/1.1 client: one write per request, responses parsed by hand.
    Raw,
    /// The `ureq` client the other commands use (for comparison).
    Ureq,
}

/// Options of `urne load cast`.
#[derive(Args, Debug)]
struct CastArgs {
    /// The servers, comma-separated: ballot i goes to the (i mod n)-th.
    #[arg(long, value_delimiter = ',', required = true)]
    url: Vec<String>,
    /// The directory `prepare` wrote.
    #[arg(long)]
    dir: PathBuf,
    /// Requests in flight at once (one worker thread each).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Record connection errors and refused ballots and carry on, exiting 0 (for crash
    /// tests); without it any error makes the command fail after the run.
    #[arg(long)]
    tolerate_errors: bool,
    /// Where the acknowledgements go (default DIR/acks.jsonl).
    #[arg(long)]
    acks: Option<PathBuf>,
    /// Where the unacknowledged ballots go (default DIR/unacked.jsonl).
    #[arg(long)]
    unacked: Option<PathBuf>,
    /// Processes whose CPU time to report over the timed phase (the servers', on Linux).
    #[arg(long = "server-pid", value_delimiter = ',')]
    server_pids: Vec<u32>,
    /// A database server's main process: its CPU time and its children's (PostgreSQL's
    /// backends) are reported over the timed phase too (Linux).
    #[arg(long)]
    db_pid: Option<u32>,
    /// The HTTP client.
    #[arg(long, value_enum, default_value_t = HttpClient::Raw)]
    client: HttpClient,
    /// Seconds to wait for one answer before counting the request as failed.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Options of `urne load check`.
#[derive(Args, Debug)]
struct CheckArgs {
    /// The server.
    #[arg(long)]
    url: String,
    /// The directory `prepare` wrote.
    #[arg(long)]
    dir: PathBuf,
    /// The acknowledgements to check (default DIR/acks.jsonl).
    #[arg(long)]
    acks: Option<PathBuf>,
}

/// Options of `urne load finish`.
#[derive(Args, Debug)]
struct FinishArgs {
    /// The server.
    #[arg(long)]
    url: String,
    /// The directory `prepare` wrote; the record goes to DIR/record.jsonl.
    #[arg(long)]
    dir: PathBuf,
    /// The acknowledgements to check (default DIR/acks.jsonl).
    #[arg(long)]
    acks: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
}

/// Runs `urne load`.
pub fn run(args: &LoadArgs) -> anyhow::Result<()> {
    match &args.command {
        LoadCommand::Prepare(a) => prepare(a),
        LoadCommand::Cast(a) => cast(a),
        LoadCommand::Check(a) => check(a),
        LoadCommand::Finish(a) => finish(a),
    }
}

/// What the later steps need, written by `prepare` (it holds secrets: owner-only).
#[derive(Serialize, Deserialize)]
struct State {
    election: String,
    admin_token: String,
    threshold: u32,
    trustees: Vec<TrusteeState>,
    ballots: usize,
    expected: ElectionResult,
}

#[derive(Serialize, Deserialize)]
struct TrusteeState {
    index: u32,
    token: String,
    /// The trustee's identity key (base64url).
    secret: String,
}

/// One acknowledgement, as `cast` writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AckLine {
    /// The ballot's index in `ballots.jsonl`, from 0.
    pub index: usize,
    /// Its tracker.
    pub tracker: String,
    /// Its position on the board.
    pub seq: u64,
    /// Whether the server answered that it was already there.
    pub duplicate: bool,
}

const STATE: &str = "state.json";
const BALLOTS: &str = "ballots.jsonl";
const TRACKERS: &str = "trackers.txt";
const TRUSTEES: usize = 3;
const THRESHOLD: u32 = 2;

fn questions() -> Vec<Question> {
    // The benchmark shape of docs/performance.md: one question, choose 1 of 5.
    vec![Question {
        text: "Who should chair the association next year?".into(),
        answers: ["Ada", "Grace", "Alan", "Barbara", "Edsger"]
            .map(String::from)
            .to_vec(),
        min: 1,
        max: 1,
        blank: false,
        counting: Counting::Plurality,
        seats: None,
        grades: None,
    }]
}

#[derive(Deserialize)]
struct ElectionView {
    manifest: Option<Manifest>,
    fingerprint: Option<String>,
    #[serde(default)]
    board_size: u64,
    phase: String,
}

fn timed<T>(name: &str, f: impl FnOnce() -> anyhow::Result<(T, String)>) -> anyhow::Result<T> {
    let t = Instant::now();
    let (value, what) = f().with_context(|| format!("step `{name}`"))?;
    say!("{}", phase_line(name, t.elapsed(), &what));
    Ok(value)
}

fn prepare(args: &PrepareArgs) -> anyhow::Result<()> {
    ensure!(
        (1..=10_000_000).contains(&args.ballots),
        "--ballots must be between 1 and 10,000,000"
    );
    let admin_name = match &args.admin {
        Some(n) => n.clone(),
        None => std::env::var("URNE_ADMIN_NAME").unwrap_or_else(|_| "admin".into()),
    };
    let password = match &args.password {
        Some(p) => zeroize::Zeroizing::new(p.clone()),
        None => zeroize::Zeroizing::new(
            std::env::var("URNE_ADMIN_PASSWORD")
                .context("no password: give --password or set URNE_ADMIN_PASSWORD")?,
        ),
    };
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let id = args.election.as_str();
    let n = args.ballots;
    say!(
        "urne load prepare: election `{id}` on {}, {n} voters, {TRUSTEES} trustees (any {THRESHOLD} decrypt)",
        args.url
    );
    let anon = Client::new(&args.url);

    let (admin, admin_token, invitations) = timed("draft", || {
        let token = anon.login(&admin_name, &password)?;
        let admin = anon.with_token(&token);
        let now = urne_server::clock::now();
        let draft = json!({
            "title": "Load test",
            "description": "An election cast by `urne load`.",
            "questions": questions(),
            "opens_at": Timestamp::from_unix(now - 60).context("clock")?,
            "closes_at": Timestamp::from_unix(now + 7 * 86400).context("clock")?,
            "trustees": (1..=TRUSTEES).map(|i| format!("Trustee {i}")).collect::<Vec<_>>(),
            "threshold": THRESHOLD,
            "voter_auth": "none",
            "auto_open": false,
        });
        let _: serde_json::Value = admin.post(
            "/api/v1/admin/elections",
            &json!({ "id": id, "draft": draft }),
        )?;
        let inv: Invitations =
            admin.post(&format!("/api/v1/admin/elections/{id}/setup"), &json!({}))?;
        let what = format!("logged in as `{admin_name}`, election drafted and frozen");
        Ok(((admin, token, inv.invitations), what))
    })?;

    let trustees: Vec<(u32, TrusteeKey, String)> = invitations
        .iter()
        .enumerate()
        .map(|(i, token)| {
            (
                i as u32 + 1,
                TrusteeKey::generate(&mut rand::rng()),
                token.clone(),
            )
        })
        .collect();
    ensure!(
        trustees.len() == TRUSTEES,
        "the server sent {} invitations",
        trustees.len()
    );
    timed("trustees", || {
        ceremony(&anon, id, &trustees)?;
        Ok(((), "key-generation ceremony relayed by the server".into()))
    })?;

    let keys: Vec<CredentialKey> = timed("credentials", || {
        let pb = bar(args.quiet, n as u64, "credentials", false);
        let keys: Vec<CredentialKey> = (0..n)
            .into_par_iter()
            .map(|v| {
                pb.inc(1);
                Credential::generate(&mut rng_for(None, v as u64)).derive_key(id)
            })
            .collect();
        pb.finish_and_clear();
        let list: Vec<PublicCredential> = keys
            .iter()
            .map(|k| PublicCredential {
                credential: *k.public(),
                weight: 1,
            })
            .collect();
        let _: serde_json::Value = admin.put(
            &format!("/api/v1/admin/elections/{id}/credentials"),
            &json!({ "credentials": list }),
        )?;
        Ok((keys, format!("{n} credentials made; public list uploaded")))
    })?;

    let election = timed("open", || {
        let _: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{id}/seal"), &json!({}))?;
        let _: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{id}/open"), &json!({}))?;
        let view: ElectionView = anon.get(&format!("/api/v1/elections/{id}"))?;
        let manifest = view.manifest.context("the open election has no manifest")?;
        let election = Election::new(manifest)?;
        ensure!(
            view.fingerprint.as_deref() == Some(&election.fingerprint().to_string()[..]),
            "the server's fingerprint differs from the manifest's"
        );
        let what = format!("sealed ({} lines on the board) and open", view.board_size);
        Ok((election, what))
    })?;

    let expected = timed("ballots", || {
        let questions = &election.manifest().questions;
        let mut expected = empty_result(questions);
        let mut ballots = BufWriter::new(create(&args.out.join(BALLOTS), false)?);
        let mut trackers = BufWriter::new(create(&args.out.join(TRACKERS), false)?);
        let pb = bar(args.quiet, n as u64, "ballots", false);
        const CHUNK: usize = 4096;
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let made: Vec<(String, String, Vec<QuestionVote>)> = (start..end)
                .into_par_iter()
                .map(|i| {
                    let vote = random_vote(&mut rng_for(args.seed, i as u64), questions);
                    let ballot = Ballot::create(&mut rand::rng(), &election, &keys[i], &vote)?;
                    pb.inc(1);
                    Ok((ballot.to_json(), ballot.tracker().to_string(), vote))
                })
                .collect::<anyhow::Result<_>>()?;
            for (body, tracker, vote) in made {
                ballots.write_all(body.as_bytes())?;
                ballots.write_all(b"\n")?;
                trackers.write_all(tracker.as_bytes())?;
                trackers.write_all(b"\n")?;
                count(&mut expected, &vote);
            }
        }
        pb.finish_and_clear();
        ballots
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        trackers
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        let what = format!(
            "{n} ballots encrypted, proved and signed, written to {}",
            args.out.join(BALLOTS).display()
        );
        Ok((expected, what))
    })?;

    let state = State {
        election: id.to_owned(),
        admin_token,
        threshold: THRESHOLD,
        trustees: trustees
            .iter()
            .map(|(index, key, token)| TrusteeState {
                index: *index,
                token: token.clone(),
                secret: b64_encode(&key.to_secret_bytes()[..]),
            })
            .collect(),
        ballots: n,
        expected,
    };
    let path = args.out.join(STATE);
    let mut f = create(&path, true)?;
    f.write_all(serde_json::to_string_pretty(&state)?.as_bytes())?;
    f.sync_all()?;
    say!(
        "ready: urne load cast --url {} --dir {}",
        args.url,
        args.out.display()
    );
    Ok(())
}

/// Creates (replacing) a file; `secret` files are readable by their owner only.
fn create(path: &Path, secret: bool) -> anyhow::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

/// The trustees' identities and key-generation ceremony, through the server.
fn ceremony(anon: &Client, id: &str, trustees: &[(u32, TrusteeKey, String)]) -> anyhow::Result<()> {
    let parties: Vec<(u32, &TrusteeKey, &str)> = trustees
        .iter()
        .map(|(i, k, t)| (*i, k, t.as_str()))
        .collect();
    crate::demo::register_trustees(anon, id, &parties)?;
    crate::demo::hold_ceremony(anon, id, THRESHOLD, &parties)?;
    Ok(())
}

fn read_state(dir: &Path) -> anyhow::Result<State> {
    let path = dir.join(STATE);
    let text = fs::read_to_string(&path)
        .with_context(|| format!("reading {} (run `urne load prepare` first)", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: unexpected content", path.display()))
}

// --- cast ---

/// The prepared bodies, in one buffer.
struct Bodies {
    data: Vec<u8>,
    /// Start and end of each body in `data`.
    spans: Vec<(usize, usize)>,
}

impl Bodies {
    fn read(path: &Path) -> anyhow::Result<Bodies> {
        let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut spans = Vec::new();
        let mut start = 0;
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' {
                if i > start {
                    spans.push((start, i));
                }
                start = i + 1;
            }
        }
        if start < data.len() {
            spans.push((start, data.len()));
        }
        Ok(Bodies { data, spans })
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        self.spans.get(i).map(|&(a, b)| &self.data[a..b])
    }
}

/// What the server answers to a cast ballot.
#[derive(Deserialize)]
struct AckBody {
    tracker: String,
    seq: u64,
    duplicate: bool,
}

/// One server, as the raw client addresses it.
struct Target {
    url: String,
    addr: SocketAddr,
    /// The request line and headers up to `Content-Length: ` included.
    head: Vec<u8>,
}

impl Target {
    fn new(url: &str, election: &str) -> anyhow::Result<Target> {
        let url = url.trim_end_matches('/').to_owned();
        let hostport = url
            .strip_prefix("http://")
            .with_context(|| format!("{url}: `urne load cast` speaks plain http:// only"))?;
        ensure!(
            !hostport.contains('/'),
            "{url}: give the server's address without a path"
        );
        let addr = hostport
            .to_socket_addrs()
            .with_context(|| format!("resolving {hostport}"))?
            .next()
            .with_context(|| format!("{hostport} has no address"))?;
        let head = format!(
            "POST /api/v1/elections/{election}/ballots HTTP/1.1\r\nHost: {hostport}\r\n\
             Content-Type: application/json\r\nContent-Length: "
        )
        .into_bytes();
        Ok(Target { url, addr, head })
    }
}

/// A keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr, timeout: Duration) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends one request (already whole in `request`) and reads the answer: its status, its
    /// body, and whether the connection may be used again.
    fn exchange(&mut self, request: &[u8]) -> std::io::Result<(u16, &[u8], bool)> {
        use std::io::{Error, ErrorKind};
        let bad = |what: &str| Error::new(ErrorKind::InvalidData, what.to_owned());
        self.stream.write_all(request)?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p + 4;
            }
            if self.buf.len() > 64 * 1024 {
                return Err(bad("response headers too long"));
            }
        };
        let head =
            std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("headers not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status"))?;
        let mut length = None;
        let mut keep = status_line.starts_with("HTTP/1.1");
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("connection") {
                keep = !value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(bad("chunked answers are not expected here"));
            }
        }
        let length = length.ok_or_else(|| bad("no Content-Length"))?;
        ensure_io(length <= 1 << 20, || bad("answer too long"))?;
        while self.buf.len() < head_end + length {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server closed the connection mid-answer",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        ensure_io(self.buf.len() == head_end + length, || {
            bad("more bytes than the answer")
        })?;
        Ok((status, &self.buf[head_end..], keep))
    }
}

fn ensure_io(ok: bool, e: impl FnOnce() -> std::io::Error) -> std::io::Result<()> {
    if ok { Ok(()) } else { Err(e()) }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What became of one ballot.
enum Outcome {
    Acked(AckBody),
    Failed(String),
}

/// One worker's way to the servers.
enum Worker<'a> {
    Raw {
        targets: &'a [Target],
        conns: Vec<Option<Conn>>,
        request: Vec<u8>,
        timeout: Duration,
    },
    Ureq {
        agent: ureq::Agent,
        urls: Vec<String>,
    },
}

impl Worker<'_> {
    fn send(&mut self, server: usize, body: &[u8]) -> Outcome {
        let answer = match self {
            Worker::Raw {
                targets,
                conns,
                request,
                timeout,
            } => {
                let target = &targets[server];
                request.clear();
                request.extend_from_slice(&target.head);
                request.extend_from_slice(body.len().to_string().as_bytes());
                request.extend_from_slice(b"\r\n\r\n");
                request.extend_from_slice(body);
                let slot = &mut conns[server];
                let conn = match slot {
                    Some(c) => c,
                    None => match Conn::open(target.addr, *timeout) {
                        Ok(c) => slot.insert(c),
                        Err(e) => {
                            return Outcome::Failed(format!("{}: connecting: {e}", target.url));
                        }
                    },
                };
                match conn.exchange(request) {
                    Ok((status, body, keep)) => {
                        let r = answer(status, body);
                        if !keep {
                            *slot = None;
                        }
                        r
                    }
                    Err(e) => {
                        *slot = None;
                        Err(format!("{}: {e}", target.url))
                    }
                }
            }
            Worker::Ureq { agent, urls } => {
                let r = agent
                    .post(&urls[server])
                    .header("content-type", "application/json")
                    .send(body);
                match r {
                    Ok(mut r) => {
                        let status = r.status().as_u16();
                        match r.body_mut().read_to_vec() {
                            Ok(b) => answer(status, &b),
                            Err(e) => Err(format!("{}: {e}", urls[server])),
                        }
                    }
                    Err(e) => Err(format!("{}: {e}", urls[server])),
                }
            }
        };
        match answer {
            Ok(a) => Outcome::Acked(a),
            Err(e) => Outcome::Failed(e),
        }
    }
}

fn answer(status: u16, body: &[u8]) -> Result<AckBody, String> {
    if status == 200 || status == 201 {
        let ack: AckBody = serde_json::from_slice(body)
            .map_err(|e| format!("HTTP {status}: unexpected answer: {e}"))?;
        if ack.duplicate != (status == 200) {
            return Err(format!("HTTP {status} with duplicate = {}", ack.duplicate));
        }
        Ok(ack)
    } else {
        Err(format!("HTTP {status}: {}", String::from_utf8_lossy(body)))
    }
}

/// The parent and the CPU seconds (user and system) used so far of a process, from `/proc`
/// (Linux only).
fn proc_stat(pid: Option<u32>) -> Option<(u32, f64)> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let text = fs::read_to_string(path).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces: the
    // parent is field 4 of the line, utime and stime are fields 14 and 15, in clock ticks of
    // 1/100 s (USER_HZ, 100 on Linux).
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let parent = fields.get(1)?.parse().ok()?;
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((parent, ticks as f64 / 100.0))
}

/// CPU seconds a process has used so far (this one with `None`).
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    proc_stat(pid).map(|(_, cpu)| cpu)
}

/// CPU seconds used so far by a process and each of its descendants, by pid.
fn tree_cpu(root: u32) -> HashMap<u32, f64> {
    let mut parent_of = HashMap::new();
    let mut cpu = HashMap::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((parent, seconds)) = proc_stat(Some(pid)) {
                parent_of.insert(pid, parent);
                cpu.insert(pid, seconds);
            }
        }
    }
    let in_tree = |mut pid: u32| loop {
        if pid == root {
            return true;
        }
        match parent_of.get(&pid) {
            Some(&p) if p != pid && p != 0 => pid = p,
            _ => return false,
        }
    };
    cpu.iter()
        .filter(|(pid, _)| in_tree(**pid))
        .map(|(&pid, &c)| (pid, c))
        .collect()
}

/// Busy and total CPU time of the whole machine so far, in clock ticks, from `/proc/stat`
/// (Linux only).
fn machine_ticks() -> Option<(u64, u64)> {
    let text = fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = text
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, total))
}

/// The group-commit figures of a server's metrics: (ballots written, batches).
fn batch_totals(url: &str) -> Option<(f64, f64)> {
    let text = ureq::get(format!("{}/metrics", url.trim_end_matches('/')))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    let value = |name: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
    };
    Some((
        value("urne_group_commit_ballots_sum")?,
        value("urne_group_commit_ballots_count")?,
    ))
}

/// The figures of a `cast` run (`DIR/cast.json`).
#[derive(Debug, Serialize)]
struct CastReport {
    ballots: usize,
    servers: Vec<String>,
    concurrency: usize,
    client: String,
    acknowledged: usize,
    new: usize,
    duplicates: usize,
    errors: usize,
    seconds: f64,
    ballots_per_second: f64,
    latency_ms: Latency,
    mean_batch: Option<f64>,
    client_cores: Option<f64>,
    server_cores: Option<f64>,
    /// The database server and its children (`--db-pid`).
    db_cores: Option<f64>,
    /// Every process of the machine (servers, client, database, anything else running).
    machine_cores: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

fn cast(args: &CastArgs) -> anyhow::Result<()> {
    ensure!(
        (1..=4096).contains(&args.concurrency),
        "--concurrency must be between 1 and 4096"
    );
    ensure!(args.timeout > 0, "--timeout must be at least 1 second");
    let state = read_state(&args.dir)?;
    let id = state.election.as_str();
    let bodies = Bodies::read(&args.dir.join(BALLOTS))?;
    let n = bodies.spans.len();
    ensure!(
        n == state.ballots,
        "{} holds {n} ballots, {} were prepared",
        args.dir.join(BALLOTS).display(),
        state.ballots
    );
    let targets: Vec<Target> = args
        .url
        .iter()
        .map(|u| Target::new(u, id))
        .collect::<anyhow::Result<_>>()?;
    let timeout = Duration::from_secs(args.timeout);

    // Before the clock starts: each server loads the election (its credential list and
    // ceremony) and answers.
    for t in &targets {
        let view: ElectionView = Client::new(&t.url)
            .get(&format!("/api/v1/elections/{id}"))
            .with_context(|| format!("{}: the election", t.url))?;
        ensure!(
            view.phase == "open",
            "{}: the election is {}, not open",
            t.url,
            view.phase
        );
    }
    let batches_before: Vec<Option<(f64, f64)>> =
        targets.iter().map(|t| batch_totals(&t.url)).collect();

    say!(
        "urne load cast: {n} ballots to {} over {} connection(s) per server ({} client)",
        args.url.join(" and "),
        args.concurrency,
        match args.client {
            HttpClient::Raw => "raw HTTP/1.1",
            HttpClient::Ureq => "ureq",
        }
    );
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..n).map(|_| None).collect());
    let latencies: Mutex<Vec<u32>> = Mutex::new(Vec::with_capacity(n));
    let workers = args.concurrency.min(n.max(1));
    let pb = bar(args.quiet, n as u64, "casting", false);
    let cpu_client = cpu_seconds(None);
    let machine_before = machine_ticks();
    let cpu_servers: Vec<Option<f64>> = args
        .server_pids
        .iter()
        .map(|&p| cpu_seconds(Some(p)))
        .collect();
    let cpu_db = args.db_pid.map(tree_cpu);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut worker = match args.client {
                    HttpClient::Raw => Worker::Raw {
                        targets: &targets,
                        conns: targets.iter().map(|_| None).collect(),
                        request: Vec::with_capacity(8192),
                        timeout,
                    },
                    HttpClient::Ureq => Worker::Ureq {
                        agent: ureq::Agent::config_builder()
                            .http_status_as_error(false)
                            .timeout_global(Some(timeout))
                            .build()
                            .into(),
                        urls: targets
                            .iter()
                            .map(|t| format!("{}/api/v1/elections/{id}/ballots", t.url))
                            .collect(),
                    },
                };
                let mut mine = Vec::new();
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = Instant::now();
                    let outcome = worker.send(i % targets.len(), body);
                    if matches!(outcome, Outcome::Acked(_)) {
                        lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    mine.push((i, outcome));
                    done.fetch_add(1, Ordering::Relaxed);
                }
                if let Ok(mut o) = outcomes.lock() {
                    for (i, outcome) in mine {
                        o[i] = Some(outcome);
                    }
                }
                if let Ok(mut l) = latencies.lock() {
                    l.extend(lat);
                }
            });
        }
        // The bar follows from here, so that the workers never touch it.
        s.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                pb.set_position(done.load(Ordering::Relaxed) as u64);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        // Ends the bar's thread once every ballot is answered.
        while done.load(Ordering::Relaxed) < n {
            std::thread::sleep(Duration::from_millis(5));
        }
        finished.store(true, Ordering::Relaxed);
    });
    let seconds = start.elapsed().as_secs_f64();
    let machine_cores = machine_before
        .zip(machine_ticks())
        .and_then(|((b0, t0), (b1, t1))| {
            let cores = std::thread::available_parallelism().ok()?.get() as f64;
            (t1 > t0).then(|| cores * (b1 - b0) as f64 / (t1 - t0) as f64)
        });
    let client_cores = cpu_client
        .zip(cpu_seconds(None))
        .map(|(a, b)| (b - a) / seconds);
    let server_cores = if cpu_servers.is_empty() {
        None
    } else {
        let mut used = 0.0;
        let mut all = true;
        for (&pid, before) in args.server_pids.iter().zip(&cpu_servers) {
            match before.zip(cpu_seconds(Some(pid))) {
                Some((a, b)) => used += b - a,
                None => all = false,
            }
        }
        all.then_some(used / seconds)
    };
    // Processes started during the run count whole.
    let db_cores = args.db_pid.zip(cpu_db).map(|(pid, before)| {
        let used: f64 = tree_cpu(pid)
            .iter()
            .map(|(p, c)| c - before.get(p).copied().unwrap_or(0.0))
            .sum();
        used / seconds
    });
    pb.finish_and_clear();

    let mut mean_batch = None;
    let (mut sum, mut count) = (0.0, 0.0);
    for (t, before) in targets.iter().zip(&batches_before) {
        if let (Some((s0, c0)), Some((s1, c1))) = (before, batch_totals(&t.url)) {
            sum += s1 - s0;
            count += c1 - c0;
        }
    }
    if count > 0.0 {
        mean_batch = Some(sum / count);
    }

    let outcomes = outcomes
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
    let mut lat = latencies
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
    lat.sort_unstable();
    let acks_path = args
        .acks
        .clone()
        .unwrap_or_else(|| args.dir.join("acks.jsonl"));
    let unacked_path = args
        .unacked
        .clone()
        .unwrap_or_else(|| args.dir.join("unacked.jsonl"));
    let mut acks = BufWriter::new(create(&acks_path, false)?);
    let mut unacked = BufWriter::new(create(&unacked_path, false)?);
    let (mut new, mut duplicates, mut errors) = (0, 0, 0);
    let mut first_errors = Vec::new();
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Some(Outcome::Acked(a)) => {
                if a.duplicate {
                    duplicates += 1;
                } else {
                    new += 1;
                }
                let line = AckLine {
                    index,
                    tracker: a.tracker,
                    seq: a.seq,
                    duplicate: a.duplicate,
                };
                serde_json::to_writer(&mut acks, &line)?;
                acks.write_all(b"\n")?;
            }
            Some(Outcome::Failed(e)) => {
                errors += 1;
                if first_errors.len() < 5 {
                    first_errors.push(format!("ballot {index}: {e}"));
                }
                serde_json::to_writer(&mut unacked, &json!({ "index": index, "error": e }))?;
                unacked.write_all(b"\n")?;
            }
            None => bail!("ballot {index} was never sent"),
        }
    }
    acks.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    unacked
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;

    let acknowledged = new + duplicates;
    let report = CastReport {
        ballots: n,
        servers: args.url.clone(),
        concurrency: args.concurrency,
        client: format!("{:?}", args.client).to_lowercase(),
        acknowledged,
        new,
        duplicates,
        errors,
        seconds,
        ballots_per_second: acknowledged as f64 / seconds,
        latency_ms: Latency {
            p50: percentile(&lat, 0.50),
            p90: percentile(&lat, 0.90),
            p99: percentile(&lat, 0.99),
            max: percentile(&lat, 1.0),
        },
        mean_batch,
        client_cores,
        server_cores,
        db_cores,
        machine_cores,
    };
    let mut f = create(&args.dir.join("cast.json"), false)?;
    f.write_all(serde_json::to_string_pretty(&report)?.as_bytes())?;
    f.write_all(b"\n")?;
    let l = &report.latency_ms;
    say!(
        "  acknowledged {acknowledged} of {n} ({new} new, {duplicates} duplicates), {errors} errors"
    );
    say!(
        "  throughput   {:.0} ballots/s ({acknowledged} in {seconds:.2} s)",
        report.ballots_per_second
    );
    say!(
        "  latency      p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (client side, per request)",
        l.p50,
        l.p90,
        l.p99,
        l.max
    );
    if let Some(b) = mean_batch {
        say!("  batches      {b:.1} ballots per group commit on average (the servers' metrics)");
    }
    let mut cpu = Vec::new();
    if let Some(c) = client_cores {
        cpu.push(format!("client {c:.2}"));
    }
    if let Some(s) = server_cores {
        cpu.push(format!("server(s) {s:.2}"));
    }
    if let Some(d) = db_cores {
        cpu.push(format!("database {d:.2}"));
    }
    if let Some(m) = machine_cores {
        cpu.push(format!("whole machine {m:.2}"));
    }
    if !cpu.is_empty() {
        say!("  cpu          {} cores busy on average", cpu.join(", "));
    }
    say!("  acks         {}", acks_path.display());
    if errors > 0 {
        for e in &first_errors {
            eprintln!("  {e}");
        }
        say!(
            "  unacked      {} ({errors} ballots)",
            unacked_path.display()
        );
        if !args.tolerate_errors {
            bail!("{errors} ballots were not acknowledged");
        }
    }
    Ok(())
}

// --- check and finish ---

fn read_acks(path: &Path) -> anyhow::Result<Vec<AckLine>> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{} line {}", path.display(), i + 1))?,
        );
    }
    Ok(out)
}

/// The head of a board line: its position, type and (for a ballot) tracker.
#[derive(Deserialize)]
struct LineHead<'a> {
    seq: u64,
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    tracker: Option<std::borrow::Cow<'a, str>>,
}

/// The ballots of a board, tracker to position.
#[derive(Default)]
struct BoardBallots {
    lines: u64,
    by_tracker: HashMap<String, u64>,
}

impl BoardBallots {
    fn add(&mut self, line: &[u8]) -> anyhow::Result<()> {
        let head: LineHead<'_> = serde_json::from_slice(line)
            .with_context(|| format!("board line {}: unexpected content", self.lines))?;
        ensure!(
            head.seq == self.lines,
            "board line {} says seq {}",
            self.lines,
            head.seq
        );
        self.lines += 1;
        if head.kind == "ballot" {
            let tracker = head
                .tracker
                .with_context(|| format!("ballot line {} has no tracker", head.seq))?;
            self.by_tracker.insert(tracker.into_owned(), head.seq);
        }
        Ok(())
    }

    /// Checks each acknowledgement; returns how many there were.
    fn check(&self, acks: &[AckLine]) -> anyhow::Result<usize> {
        let mut missing = Vec::new();
        for a in acks {
            match self.by_tracker.get(&a.tracker) {
                Some(&seq) if seq == a.seq => {}
                Some(&seq) => bail!(
                    "ballot {} ({}) was acknowledged at seq {} but is at seq {seq}",
                    a.index,
                    a.tracker,
                    a.seq
                ),
                None => missing.push(a),
            }
        }
        if let Some(a) = missing.first() {
            bail!(
                "{} acknowledged ballots are missing from the board, the first: ballot {} ({}) \
                 acknowledged at seq {}",
                missing.len(),
                a.index,
                a.tracker,
                a.seq
            );
        }
        Ok(acks.len())
    }
}

fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let state = read_state(&args.dir)?;
    let id = &state.election;
    let acks_path = args
        .acks
        .clone()
        .unwrap_or_else(|| args.dir.join("acks.jsonl"));
    let acks = read_acks(&acks_path)?;
    let anon = Client::new(&args.url);
    let view: ElectionView = anon.get(&format!("/api/v1/elections/{id}"))?;
    let mut board = BoardBallots::default();
    while board.lines < view.board_size {
        let page = anon.get_text(&format!(
            "/api/v1/elections/{id}/board/lines?from={}&limit=10000",
            board.lines
        ))?;
        let before = board.lines;
        for line in page.lines().filter(|l| !l.is_empty()) {
            board.add(line.as_bytes())?;
        }
        ensure!(board.lines > before, "the board stops at line {before}");
    }
    let checked = board.check(&acks)?;
    say!(
        "urne load check: the {checked} acknowledged ballots of {} are on the board at their positions ({} ballots on a board of {} lines)",
        acks_path.display(),
        board.by_tracker.len(),
        board.lines
    );
    Ok(())
}

fn finish(args: &FinishArgs) -> anyhow::Result<()> {
    let state = read_state(&args.dir)?;
    let id = state.election.as_str();
    let acks_path = args
        .acks
        .clone()
        .unwrap_or_else(|| args.dir.join("acks.jsonl"));
    let acks = read_acks(&acks_path)?;
    let anon = Client::new(&args.url);
    let admin = anon.with_token(&state.admin_token);
    say!("urne load finish: election `{id}` on {}", args.url);

    timed("close", || {
        let change: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{id}/close"), &json!({}))?;
        Ok((
            (),
            format!("closed with {} lines on the board", change["board_size"]),
        ))
    })?;
    let tally: TallyEntry = timed("tally", || {
        let ack: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{id}/tally"), &json!({}))?;
        let tally: TallyEntry = anon.get(&format!("/api/v1/elections/{id}/tally"))?;
        Ok((
            tally,
            format!("{} ballots counted of {} cast", ack["ballots"], ack["cast"]),
        ))
    })?;
    timed("decrypt", || {
        let view: ElectionView = anon.get(&format!("/api/v1/elections/{id}"))?;
        let mut election = Election::new(view.manifest.context("no manifest")?)?;
        let ceremony: CeremonyView = anon.get(&format!("/api/v1/elections/{id}/ceremony"))?;
        let identities: Vec<Point> = election
            .manifest()
            .trustees
            .iter()
            .map(|t| t.public_key)
            .collect();
        let outcome = vartime_judge_ceremony(
            id,
            state.threshold,
            &identities,
            &ceremony.dealings,
            &ceremony.complaints,
            &ceremony.answers,
        )?;
        election.set_verification_keys(&outcome.keys)?;
        let needed = state.threshold as usize;
        for t in state.trustees.iter().take(needed) {
            let secret = b64_decode(&t.secret).context("a trustee's key in the state")?;
            let key = TrusteeKey::from_secret_bytes(&secret)?;
            let share = key.assemble_share(
                id,
                t.index,
                &identities,
                &outcome,
                &ceremony.dealings,
                &ceremony.answers,
            )?;
            let pd: PartialDecryption = share
                .decrypt_tally(&mut rand::rng(), &election, &tally.tally)
                .context("no verification key for this trustee")?;
            let _: serde_json::Value = anon
                .with_token(&t.token)
                .post(&format!("/api/v1/elections/{id}/decryptions"), &pd)?;
        }
        Ok((
            (),
            format!(
                "{needed} of {} trustees sent their factors",
                state.trustees.len()
            ),
        ))
    })?;
    timed("publish", || {
        let _: serde_json::Value =
            admin.post(&format!("/api/v1/admin/elections/{id}/publish"), &json!({}))?;
        Ok(((), "result published".into()))
    })?;
    let path = args.dir.join("record.jsonl");
    timed("export", || {
        let bytes = download(&args.url, &format!("/api/v1/elections/{id}/record"), &path)?;
        Ok(((), format!("{bytes} bytes to {}", path.display())))
    })?;
    let report = timed("verify", || {
        let report = verify_file(&path, args.quiet)?;
        let what = format!(
            "{} ballots, every check V-1..V-18 passed",
            report.ballots_cast
        );
        Ok((report, what))
    })?;
    timed("acks", || {
        let mut board = BoardBallots::default();
        let f = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        for line in BufReader::with_capacity(1 << 20, f).split(b'\n') {
            let line = line?;
            if !line.is_empty() {
                board.add(&line)?;
            }
        }
        let checked = board.check(&acks)?;
        let trackers = fs::read_to_string(args.dir.join(TRACKERS))?;
        let prepared: Vec<&str> = trackers.lines().collect();
        let present = prepared
            .iter()
            .filter(|t| board.by_tracker.contains_key(**t))
            .count();
        ensure!(
            board.by_tracker.len() == present,
            "the record holds {} ballots that were not prepared",
            board.by_tracker.len() - present
        );
        let mut what = format!(
            "the {checked} acknowledged ballots are in the record at their seq; {present} of {} prepared ballots in it",
            prepared.len()
        );
        if present == prepared.len() {
            ensure!(
                report.result.as_ref() == Some(&state.expected),
                "the result differs from the prepared votes' count:\n  got      {:?}\n  expected {:?}",
                report.result,
                state.expected
            );
            what.push_str("; the result is their votes' count");
        }
        Ok(((), what))
    })?;
    Ok(())
}

/// Streams `path` of the server to a file; returns its length.
fn download(base: &str, path: &str, to: &Path) -> anyhow::Result<u64> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let mut r = ureq::get(&url)
        .call()
        .with_context(|| format!("GET {path}"))?;
    let mut out = BufWriter::new(create(to, false)?);
    let n = std::io::copy(&mut r.body_mut().as_reader(), &mut out)
        .with_context(|| format!("GET {path}"))?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(n)
}
