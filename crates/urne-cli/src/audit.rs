//! `urne audit watch`: an observer's monitor of an election's bulletin board; `urne audit
//! booth` ([`booth`]): an observer's check of the files served to voters against the board.
//!
//! `urne verify` checks a record once. The watcher follows the board as it grows: it pins the
//! election's manifest (its fingerprint and board key), and at each poll fetches the server's
//! latest signed tree head, checks its signature, checks with a consistency proof that the board
//! only grew since the last head it verified, fetches the new lines, checks that they hash to the
//! signed root, and verifies them with the universal verifier fed line by line
//! ([`urne_verify::Verifier`]). Whatever breaks is reported with its evidence (docs/record.md §5.1).

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::json;
use urne_core::board::SignedTreeHead;
use urne_core::election::Election;
use urne_core::group::{Point, b64_decode, b64_encode};
use urne_core::manifest::{Fingerprint, Manifest};
use urne_verify::merkle::{Hash, MerkleBuilder, leaf_hash, verify_consistency};
use urne_verify::{Failure, Options, Verifier};

use crate::client::{Client, HttpError};

pub mod booth;

/// Options of `urne audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Watch an election's bulletin board: check each new signed tree head against the last one
    /// and verify every new line as it arrives; report any fork or bad entry.
    Watch(WatchArgs),
    /// Check the files the server serves to voters against those it declared on the board when
    /// the election opened (their SHA-256); report each match or mismatch.
    Booth(booth::BoothArgs),
}

const WATCH_HELP: &str = "\
Each poll fetches the latest signed tree head and checks its signature under the board key of \
the pinned manifest; if the board grew, checks the consistency proof from the last verified \
head, fetches the new lines, checks that they hash to the signed root, and verifies them \
(ballots, ceremony, tally, decryption factors, result). One status line per poll goes to \
standard error.

Alarms (exit 1, with both signed heads as evidence where there are two): FORK (two heads that \
are not consistent: same size and different roots, a consistency proof that fails or that the \
server cannot give), SHRUNK (a head smaller than the last), OLDER HEAD (signed before the last), \
BAD SIGNATURE, LINES DO NOT MATCH (the lines served are not those the head signed), MANIFEST \
(the election's manifest is not the pinned one). A BAD ENTRY (a line that fails a check of the \
V-list) is reported with its seq; the watch goes on, and --once exits 1 while the board holds \
one.

Exit status: 0 every line verified and no alarm, 1 an alarm or a bad entry, 2 the watch could \
not run (network, state file). Without --once, a failed poll is reported and retried.";

/// Options of `urne audit watch`.
#[derive(Args, Debug)]
#[command(after_long_help = WATCH_HELP)]
pub struct WatchArgs {
    /// The election's address on its server: http(s)://HOST[:PORT]/api/v1/elections/ID (the
    /// address that `GET` answers with the election and its manifest).
    pub url: String,
    /// Seconds between polls.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub interval: u64,
    /// Keep the watch in FILE (JSON: the pinned manifest's fingerprint and board key, the last
    /// verified signed tree head, the Merkle frontier) and the verified lines beside it (the
    /// same name with the extension `.lines.jsonl`), to go on from there at the next run.
    /// Without it, the watch starts from the board's first line and keeps nothing.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Poll once and exit (for scripts and cron).
    #[arg(long)]
    pub once: bool,
    /// Write one JSON object per poll on standard output.
    #[arg(long)]
    pub json: bool,
    /// The election's fingerprint as published out of band: refuse a manifest with another.
    #[arg(long, value_name = "FINGERPRINT")]
    pub fingerprint: Option<String>,
}

/// Runs `urne audit`.
pub fn run(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        AuditCommand::Watch(w) => watch(w),
        AuditCommand::Booth(b) => booth::run(b),
    }
}

/// An election's address on its server: the server's base URL and the election's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionUrl {
    /// `http(s)://host[:port]`, with any path prefix before `/api/v1`.
    pub base: String,
    /// The election's id.
    pub id: String,
}

impl ElectionUrl {
    /// Parses `http(s)://HOST[:PORT][/PREFIX]/api/v1/elections/ID` (a final `/` allowed);
    /// `None` for any other address, such as that of a record file.
    pub fn parse(url: &str) -> Option<Self> {
        let scheme = ["http://", "https://"]
            .into_iter()
            .find(|s| url.starts_with(s))?;
        let (base, id) = url
            .trim_end_matches('/')
            .rsplit_once("/api/v1/elections/")?;
        let bad = |c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace();
        if base.len() <= scheme.len() || id.is_empty() || id.contains(bad) {
            return None;
        }
        Some(ElectionUrl {
            base: base.to_owned(),
            id: id.to_owned(),
        })
    }

    /// The API path of the election followed by `tail`.
    pub fn api(&self, tail: &str) -> String {
        format!("/api/v1/elections/{}{tail}", self.id)
    }

    /// The whole address of the election.
    pub fn address(&self) -> String {
        format!("{}{}", self.base, self.api(""))
    }
}

/// What the server shows of an election.
#[derive(Deserialize)]
struct ElectionView {
    manifest: Option<Manifest>,
    fingerprint: Option<String>,
}

/// The election as pinned: its manifest's fingerprint and board key.
struct Pinned {
    election: Election,
    board_key: Point,
}

impl Pinned {
    fn fingerprint(&self) -> &Fingerprint {
        self.election.fingerprint()
    }
}

/// Something that shows the server misbehaving, with the evidence.
#[derive(Debug)]
struct Alarm {
    kind: &'static str,
    message: String,
    evidence: serde_json::Value,
}

/// Why a poll stopped: an alarm, or a failure to poll at all.
enum Stop {
    Alarm(Alarm),
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Error(e)
    }
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Error(e.into())
    }
}

fn alarm(kind: &'static str, message: String, evidence: serde_json::Value) -> Stop {
    Stop::Alarm(Alarm {
        kind,
        message,
        evidence,
    })
}

/// The state file's format.
const STATE_FORMAT: &str = "urne/audit-state/v1";

/// The state kept between runs.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedState {
    format: String,
    election: String,
    fingerprint: Fingerprint,
    board_key: Point,
    /// The last signed tree head verified, and the Merkle frontier of its tree.
    head: SignedTreeHead,
    frontier: Vec<String>,
    /// Bytes of the lines file that hold the head's lines.
    lines_bytes: u64,
    /// The address last watched (the state is the election's, whatever server shows it).
    url: String,
}

/// The file of verified lines beside a state file.
fn lines_path(state: &Path) -> PathBuf {
    state.with_extension("lines.jsonl")
}

/// Lines asked for at a time (the server's maximum).
const PAGE: u64 = 10_000;

/// What one poll found.
struct Poll {
    head: SignedTreeHead,
    new_lines: u64,
    new_ballots: u64,
    /// Failures this run had not reported yet: the first poll of a run also reports those of
    /// the lines it keeps, verified again when it starts.
    new_failures: Vec<Failure>,
    unlisted_failures: u64,
}

/// The watch of one board.
struct Watcher<'o> {
    client: Client,
    url: ElectionUrl,
    pinned: Pinned,
    /// The last signed tree head verified, and the tree of its lines.
    head: Option<SignedTreeHead>,
    tree: MerkleBuilder,
    /// The verified lines, `bytes` long (anything after is an unverified tail).
    lines: File,
    bytes: u64,
    verifier: Verifier<'o>,
    manifest_checked: bool,
    state: Option<PathBuf>,
    /// Failures already reported: listed, and in all.
    listed: usize,
    reported: u64,
}

/// Fetches the manifest and pins its fingerprint and board key.
fn fetch_pinned(
    client: &Client,
    url: &ElectionUrl,
    expected: Option<&str>,
) -> Result<Pinned, Stop> {
    let view: ElectionView = client.get(&url.api(""))?;
    let manifest = view
        .manifest
        .context("the server shows no manifest for this election (is it sealed?)")?;
    if manifest.id != url.id {
        return Err(anyhow!(
            "the server answered with election `{}` for `{}`",
            manifest.id,
            url.id
        )
        .into());
    }
    let board_key = manifest.board_key.context(
        "the manifest names no board key: this server signs no tree heads, so there is nothing \
         to watch (urne verify checks its record)",
    )?;
    let election = Election::new(manifest).context("the election's manifest is not valid")?;
    let fingerprint = election.fingerprint().to_string();
    if let Some(shown) = view.fingerprint.filter(|f| *f != fingerprint) {
        return Err(anyhow!(
            "the server shows fingerprint {shown}, but its manifest's is {fingerprint}"
        )
        .into());
    }
    if let Some(want) = expected.filter(|want| *want != fingerprint) {
        return Err(alarm(
            "manifest",
            format!(
                "MANIFEST: the election's manifest has fingerprint {fingerprint}, not the \
                 {want} you gave: another election, or a manifest changed after it was published"
            ),
            json!({ "expected_fingerprint": want, "manifest_fingerprint": fingerprint }),
        ));
    }
    Ok(Pinned {
        election,
        board_key,
    })
}

fn decode_hash(text: &str) -> Option<Hash> {
    b64_decode(text).ok()?.try_into().ok()
}

impl<'o> Watcher<'o> {
    /// Opens the watch: from the state file if there is one, else from nothing.
    fn open(args: &WatchArgs, url: ElectionUrl, options: &'o Options) -> Result<Self, Stop> {
        let client = Client::new(&url.base);
        let pinned = fetch_pinned(&client, &url, args.fingerprint.as_deref())?;
        let mut w = Watcher {
            client,
            url,
            pinned,
            head: None,
            tree: MerkleBuilder::new(),
            lines: tempfile::tempfile().context("creating a temporary file")?,
            bytes: 0,
            verifier: Verifier::new(options),
            manifest_checked: false,
            state: args.state.clone(),
            listed: 0,
            reported: 0,
        };
        let Some(path) = &args.state else {
            return Ok(w);
        };
        let lines = lines_path(path);
        if !path.exists() {
            w.lines = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&lines)
                .with_context(|| format!("creating {}", lines.display()))?;
            return Ok(w);
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let saved: SavedState = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a watch's state", path.display()))?;
        if saved.format != STATE_FORMAT {
            return Err(anyhow!("{}: unknown format `{}`", path.display(), saved.format).into());
        }
        if saved.election != w.url.id {
            return Err(anyhow!(
                "{} is the watch of election `{}`, not `{}`",
                path.display(),
                saved.election,
                w.url.id
            )
            .into());
        }
        if saved.fingerprint != *w.pinned.fingerprint() || saved.board_key != w.pinned.board_key {
            return Err(alarm(
                "manifest",
                format!(
                    "MANIFEST: the server now shows a manifest (fingerprint {}, board key {}) \
                     other than the one pinned in {} (fingerprint {}, board key {}): the \
                     election was changed after it was sealed",
                    w.pinned.fingerprint(),
                    w.pinned.board_key,
                    path.display(),
                    saved.fingerprint,
                    saved.board_key
                ),
                json!({
                    "pinned": { "fingerprint": saved.fingerprint, "board_key": saved.board_key,
                                "head": saved.head },
                    "shown": { "fingerprint": w.pinned.fingerprint(),
                               "board_key": w.pinned.board_key },
                }),
            ));
        }
        let damaged = |what: &str| {
            anyhow!(
                "the watch's state in {} is damaged ({what}); start a new watch with another \
                 --state",
                path.display()
            )
        };
        saved
            .head
            .vartime_verify(&w.pinned.board_key, w.pinned.fingerprint())
            .map_err(|_| damaged("its head's signature does not verify"))?;
        let frontier: Vec<Hash> = saved
            .frontier
            .iter()
            .map(|h| decode_hash(h))
            .collect::<Option<_>>()
            .ok_or_else(|| damaged("a malformed frontier"))?;
        w.tree = MerkleBuilder::from_frontier(saved.head.size, &frontier)
            .filter(|t| t.root() == saved.head.root)
            .ok_or_else(|| damaged("its frontier is not its head's tree"))?;
        w.lines = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&lines)
            .with_context(|| format!("opening {}", lines.display()))?;
        if w.lines.metadata()?.len() < saved.lines_bytes {
            return Err(damaged("its lines file is shorter than it says").into());
        }
        // A run that stopped after writing lines but before saving leaves a tail: drop it.
        w.lines.set_len(saved.lines_bytes)?;
        w.bytes = saved.lines_bytes;
        w.head = Some(saved.head);
        eprintln!(
            "urne audit: {}: verifying again the {} lines kept in {}",
            w.url.id,
            saved.head.size,
            lines.display()
        );
        w.feed()?;
        if w.verifier.tree_size() != saved.head.size || w.verifier.root() != saved.head.root {
            return Err(damaged("its lines are not its head's").into());
        }
        w.check_manifest()?;
        Ok(w)
    }

    /// Verifies the lines written since the verifier's last read.
    fn feed(&mut self) -> anyhow::Result<()> {
        let mut input = BufReader::with_capacity(1 << 20, &self.lines);
        input.seek(SeekFrom::Start(self.verifier.offset()))?;
        self.verifier.feed(&mut input, &|_| {})?;
        Ok(())
    }

    /// The board's manifest line must be the manifest pinned.
    fn check_manifest(&mut self) -> Result<(), Stop> {
        if self.manifest_checked {
            return Ok(());
        }
        let Some(e) = self.verifier.election() else {
            return Ok(());
        };
        self.manifest_checked = true;
        if e.fingerprint() != self.pinned.fingerprint() {
            return Err(alarm(
                "manifest",
                format!(
                    "MANIFEST: the manifest line of the board (seq 1, fingerprint {}) is not the \
                     manifest the server shows (fingerprint {}), whose fingerprint its heads sign",
                    e.fingerprint(),
                    self.pinned.fingerprint()
                ),
                json!({ "board_fingerprint": e.fingerprint(),
                        "shown_fingerprint": self.pinned.fingerprint() }),
            ));
        }
        Ok(())
    }

    /// The consistency proof between two sizes, from the server. An answer that refuses it is
    /// an alarm: the server signed both heads.
    fn consistency(&self, last: &SignedTreeHead, head: &SignedTreeHead) -> Result<Vec<Hash>, Stop> {
        #[derive(Deserialize)]
        struct View {
            from: u64,
            to: u64,
            path: Vec<String>,
        }
        let (from, to) = (last.size, head.size);
        let path = self
            .url
            .api(&format!("/board/consistency?from={from}&to={to}"));
        let view: View = match self.client.get(&path) {
            Ok(v) => v,
            Err(e) => {
                let refused = e
                    .downcast_ref::<HttpError>()
                    .filter(|h| (400..500).contains(&h.status));
                return Err(match refused {
                    Some(h) => fork(
                        last,
                        head,
                        format!(
                            "the server cannot give the consistency proof from {from} to {to} \
                             lines (HTTP {}: {})",
                            h.status, h.body
                        ),
                        None,
                    ),
                    None => Stop::Error(e),
                });
            }
        };
        let proof: Option<Vec<Hash>> = view.path.iter().map(|h| decode_hash(h)).collect();
        match proof {
            Some(p) if view.from == from && view.to == to => Ok(p),
            _ => Err(fork(
                last,
                head,
                format!("the server answers a malformed consistency proof from {from} to {to}"),
                None,
            )),
        }
    }

    /// Fetches lines `from..to` after the verified ones, adding them to `tree`; returns the bytes
    /// written. They are not verified yet.
    fn fetch_lines(&mut self, from: u64, to: u64, tree: &mut MerkleBuilder) -> anyhow::Result<u64> {
        self.lines.set_len(self.bytes)?;
        let mut out = BufWriter::with_capacity(1 << 20, &self.lines);
        out.seek(SeekFrom::Start(self.bytes))?;
        let (mut next, mut written) = (from, 0u64);
        while next < to {
            let limit = (to - next).min(PAGE);
            let path = self
                .url
                .api(&format!("/board/lines?from={next}&limit={limit}"));
            let page = self.client.get_text(&path)?;
            let before = next;
            for line in page.split_terminator('\n').take((to - next) as usize) {
                tree.push(leaf_hash(line.as_bytes()));
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
                written += line.len() as u64 + 1;
                next += 1;
            }
            if next == before {
                bail!("the server serves no line {next}, though its head signs {to} lines");
            }
        }
        out.flush()?;
        Ok(written)
    }

    /// One poll.
    fn poll(&mut self) -> Result<Poll, Stop> {
        let text = self.client.get_text(&self.url.api("/board/head"))?;
        let head = SignedTreeHead::from_json(&text)
            .map_err(|e| anyhow!("the server's head is not a signed tree head: {e}"))?;
        if let Err(e) = head.vartime_verify(&self.pinned.board_key, self.pinned.fingerprint()) {
            return Err(alarm(
                "bad_signature",
                format!(
                    "BAD SIGNATURE: the head of {} lines signed at {} does not verify under the \
                     manifest's board key {}: {e}",
                    head.size, head.at, self.pinned.board_key
                ),
                json!({ "head": head, "board_key": self.pinned.board_key,
                        "fingerprint": self.pinned.fingerprint() }),
            ));
        }
        let from = self.head.map_or(0, |h| h.size);
        if let Some(last) = self.head {
            let pair = || json!({ "pinned_head": last, "new_head": head });
            if head.size < last.size {
                return Err(alarm(
                    "shrunk",
                    format!(
                        "SHRUNK: the server signed a head of {} lines (at {}) after one of {} \
                         lines (at {}): a board only grows",
                        head.size, head.at, last.size, last.at
                    ),
                    pair(),
                ));
            }
            if head.at < last.at {
                return Err(alarm(
                    "older_head",
                    format!(
                        "OLDER HEAD: the server's head of {} lines is signed at {}, before the \
                         head of {} lines already verified (signed at {})",
                        head.size, head.at, last.size, last.at
                    ),
                    pair(),
                ));
            }
            if head.size == last.size {
                if head.root != last.root {
                    return Err(fork(
                        &last,
                        &head,
                        format!("two heads of {} lines with different roots", head.size),
                        None,
                    ));
                }
                self.head = Some(head);
                self.save()?;
                return Ok(self.outcome(head, 0, 0));
            }
            let proof = self.consistency(&last, &head)?;
            if let Err(e) = verify_consistency(last.size, head.size, &last.root, &head.root, &proof)
            {
                return Err(fork(
                    &last,
                    &head,
                    format!(
                        "the consistency proof from {} to {} lines does not verify: {e}",
                        last.size, head.size
                    ),
                    Some(&proof),
                ));
            }
        }
        let mut tree = self.tree.clone();
        let written = self.fetch_lines(from, head.size, &mut tree)?;
        if tree.root() != head.root {
            self.lines.set_len(self.bytes)?;
            return Err(alarm(
                "lines_mismatch",
                format!(
                    "LINES DO NOT MATCH: the lines {from} to {} the server serves do not hash to \
                     the root of its signed head of {} lines (they give {})",
                    head.size.saturating_sub(1),
                    head.size,
                    b64_encode(&tree.root())
                ),
                json!({ "head": head, "from": from, "computed_root": b64_encode(&tree.root()) }),
            ));
        }
        self.lines.sync_data()?;
        let ballots = self.verifier.ballots();
        self.feed()?;
        self.bytes += written;
        self.tree = tree;
        self.head = Some(head);
        self.check_manifest()?;
        self.save()?;
        let new_ballots = self.verifier.ballots() - ballots;
        Ok(self.outcome(head, head.size - from, new_ballots))
    }

    /// The poll's findings, with the failures not yet reported.
    fn outcome(&mut self, head: SignedTreeHead, new_lines: u64, new_ballots: u64) -> Poll {
        let failures = self.verifier.failures();
        let new_failures = failures[self.listed.min(failures.len())..].to_vec();
        let total = self.verifier.failures_total();
        let unlisted = (total - self.reported).saturating_sub(new_failures.len() as u64);
        self.listed = failures.len();
        self.reported = total;
        Poll {
            head,
            new_lines,
            new_ballots,
            new_failures,
            unlisted_failures: unlisted,
        }
    }

    /// Saves the state, the verified lines first (durably), then the state file by renaming.
    fn save(&self) -> anyhow::Result<()> {
        let (Some(path), Some(head)) = (&self.state, self.head) else {
            return Ok(());
        };
        self.lines.sync_data()?;
        let saved = SavedState {
            format: STATE_FORMAT.into(),
            election: self.url.id.clone(),
            fingerprint: *self.pinned.fingerprint(),
            board_key: self.pinned.board_key,
            head,
            frontier: self.tree.frontier().iter().map(|h| b64_encode(h)).collect(),
            lines_bytes: self.bytes,
            url: self.url.address(),
        };
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut f = File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(serde_json::to_string_pretty(&saved)?.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// A fork: two signed heads that are not consistent.
fn fork(last: &SignedTreeHead, head: &SignedTreeHead, why: String, proof: Option<&[Hash]>) -> Stop {
    let proof: Option<Vec<String>> = proof.map(|p| p.iter().map(|h| b64_encode(h)).collect());
    alarm(
        "fork",
        format!(
            "FORK: {why}. Both heads verify under the election's board key: the server has shown \
             two histories of the board that cannot both be true. Pinned head: {} lines, root {}, \
             signed at {}; new head: {} lines, root {}, signed at {}",
            last.size,
            b64_encode(&last.root),
            last.at,
            head.size,
            b64_encode(&head.root),
            head.at
        ),
        json!({ "pinned_head": last, "new_head": head, "consistency_proof": proof }),
    )
}

/// `urne audit watch`.
fn watch(args: &WatchArgs) -> anyhow::Result<ExitCode> {
    let url = ElectionUrl::parse(&args.url).with_context(|| {
        format!(
            "`{}` is not an election's address: http(s)://HOST[:PORT]/api/v1/elections/ID",
            args.url
        )
    })?;
    let options = Options {
        max_failures: 10_000,
        ..Options::default()
    };
    let mut watcher = match Watcher::open(args, url.clone(), &options) {
        Ok(w) => w,
        Err(Stop::Alarm(a)) => return Ok(raise(args, &url, &a)),
        Err(Stop::Error(e)) => return Err(e),
    };
    loop {
        match watcher.poll() {
            Ok(poll) => {
                show(args, &watcher, &poll);
                if args.once {
                    let clean = watcher.verifier.failures_total() == 0;
                    return Ok(ExitCode::from(if clean { 0 } else { 1 }));
                }
            }
            Err(Stop::Alarm(a)) => return Ok(raise(args, &url, &a)),
            Err(Stop::Error(e)) if args.once => return Err(e),
            Err(Stop::Error(e)) => {
                eprintln!(
                    "urne audit: {}: this poll failed, next in {} s: {e:#}",
                    url.id, args.interval
                );
            }
        }
        std::thread::sleep(Duration::from_secs(args.interval));
    }
}

/// Reports one poll: a status line on standard error, bad entries (or the JSON object) on
/// standard output.
fn show(args: &WatchArgs, w: &Watcher<'_>, poll: &Poll) {
    let report = w.verifier.report();
    let total = w.verifier.failures_total();
    if args.json {
        let doc = json!({
            "election": w.url.id,
            "url": w.url.address(),
            "size": poll.head.size,
            "head": poll.head,
            "new_lines": poll.new_lines,
            "new_ballots": poll.new_ballots,
            "ballots": report.ballots_cast,
            "stage": report.stage,
            "valid": report.valid,
            "failures_total": total,
            "failures": poll.new_failures,
            "alarm": null,
        });
        say!("{doc}");
    } else {
        for f in &poll.new_failures {
            let at = f
                .line
                .map(|l| format!(" seq {}", l.saturating_sub(1)))
                .unwrap_or_default();
            let tracker = f
                .tracker
                .as_deref()
                .map(|t| format!(" ballot {t}"))
                .unwrap_or_default();
            say!(
                "BAD ENTRY{at}: {}{tracker}: {}: {}",
                f.check,
                f.item,
                f.detail
            );
        }
        if poll.unlisted_failures > 0 {
            say!("... and {} more failures", poll.unlisted_failures);
        }
    }
    let verdict = match total {
        0 => "every line verified".to_owned(),
        1 => "BOARD INVALID: 1 failure".to_owned(),
        n => format!("BOARD INVALID: {n} failures"),
    };
    eprintln!(
        "urne audit: {}: size {} (+{} lines, +{} ballots; {} ballots in all), head signed {}, \
         stage {}: {verdict}",
        w.url.id,
        poll.head.size,
        poll.new_lines,
        poll.new_ballots,
        report.ballots_cast,
        poll.head.at,
        report.stage
    );
}

/// Reports an alarm loudly, keeps its evidence beside the state file, and gives exit status 1.
fn raise(args: &WatchArgs, url: &ElectionUrl, a: &Alarm) -> ExitCode {
    let doc = json!({
        "election": url.id,
        "url": url.address(),
        "alarm": { "kind": a.kind, "message": a.message, "evidence": a.evidence },
    });
    if let Some(state) = &args.state {
        let path = state.with_extension("evidence.json");
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        match std::fs::write(&path, text + "\n") {
            Ok(()) => eprintln!("urne audit: evidence kept in {}", path.display()),
            Err(e) => eprintln!(
                "urne audit: could not keep the evidence in {}: {e}",
                path.display()
            ),
        }
    }
    if args.json {
        say!("{doc}");
    } else {
        say!("ALARM {}", a.message);
        let evidence = serde_json::to_string_pretty(&a.evidence).unwrap_or_default();
        say!("evidence: {evidence}");
    }
    eprintln!("urne audit: {}: ALARM: {}", url.id, a.message);
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn election_urls() {
        let u = ElectionUrl::parse("http://127.0.0.1:8080/api/v1/elections/agm-2026").unwrap();
        assert_eq!(u.base, "http://127.0.0.1:8080");
        assert_eq!(u.id, "agm-2026");
        assert_eq!(
            u.api("/board/head"),
            "/api/v1/elections/agm-2026/board/head"
        );
        let u = ElectionUrl::parse("https://vote.example/urne/api/v1/elections/x/").unwrap();
        assert_eq!(u.base, "https://vote.example/urne");
        assert_eq!(u.address(), "https://vote.example/urne/api/v1/elections/x");
        for not in [
            "http://h/api/v1/elections/x/record",
            "http://h/api/v1/elections/",
            "http://h/record.jsonl",
            "ftp://h/api/v1/elections/x",
            "http:///api/v1/elections/x",
            "record.jsonl",
            "http://h/api/v1/elections/x?y",
        ] {
            assert_eq!(ElectionUrl::parse(not), None, "{not}");
        }
    }

    #[test]
    fn lines_beside_the_state() {
        assert_eq!(
            lines_path(Path::new("w/watch.json")),
            Path::new("w/watch.lines.jsonl")
        );
        assert_eq!(
            lines_path(Path::new("state")),
            Path::new("state.lines.jsonl")
        );
    }
}
