//! `urne audit watch` against a real server (in this process, on a temporary SQLite store): a
//! board that grows honestly is followed poll after poll; a board rewritten under the watcher
//! (a fork) and a bad ballot slipped onto the board with its tree kept right are caught. And
//! `urne verify` on an election's address checks its record against the signed tree head.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::board::SignedTreeHead;
use urne_core::credential::{Credential, CredentialKey, PublicCredential};
use urne_core::election::Election;
use urne_core::manifest::{Counting, Question, Timestamp};
use urne_core::trustee::TrusteeKey;
use urne_server::{AppState, ServerConfig};
use urne_verify::merkle::{MerkleBuilder, leaf_hash};
use urne_verify::record::{BallotEntry, Entry, encode_line, parse_line};

const ID: &str = "audit-test";

/// The server, in this process, until stopped.
struct Server {
    runtime: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    state: AppState,
    base: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        Server::start_on(data, "127.0.0.1:0")
    }

    /// Starts the server on a given address (to come back on the same port).
    fn start_on(data: &Path, address: &str) -> Server {
        let config = ServerConfig {
            data_dir: data.to_owned(),
            ..ServerConfig::default()
        };
        let store = urne_server::open_store(&config).unwrap();
        let key = urne_server::load_board_key(&config.board_key_path()).unwrap();
        let state = AppState::new(store, key, config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(address))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = urne_server::app(state.clone());
        let serving = runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Server {
            runtime,
            stop,
            serving,
            state,
            base,
        }
    }

    /// Stops serving and lets go of the database.
    fn stop(self) {
        let Server {
            runtime,
            stop,
            serving,
            state,
            ..
        } = self;
        let _ = stop.send(());
        runtime.block_on(serving).unwrap().unwrap();
        drop(state);
        runtime.shutdown_timeout(Duration::from_secs(5));
    }

    fn election_url(&self) -> String {
        format!("{}/api/v1/elections/{ID}", self.base)
    }
}

/// A small HTTP client of the API.
struct Api {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Api {
    fn new(base: &str) -> Api {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        Api {
            base: base.to_owned(),
            agent: config.into(),
            token: None,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        let url = format!("{}{path}", self.base);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut r = match (method, body) {
            ("GET", _) => {
                let mut req = self.agent.get(url);
                if let Some(a) = &auth {
                    req = req.header("authorization", a);
                }
                req.call().unwrap()
            }
            (_, body) => {
                let mut req = match method {
                    "PUT" => self.agent.put(url),
                    _ => self.agent.post(url),
                };
                req = req.header("content-type", "application/json");
                if let Some(a) = &auth {
                    req = req.header("authorization", a);
                }
                let bytes = serde_json::to_vec(body.unwrap_or(&json!({}))).unwrap();
                req.send(&bytes[..]).unwrap()
            }
        };
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap())
    }

    /// A call that must succeed, answering JSON.
    fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, text) = self.call(method, path, body);
        assert!(status < 300, "{method} {path}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Logs in as a new administrator and keeps an API token.
    fn admin(base: &str, state: &AppState) -> Api {
        urne_server::admin::create_admin(state.store.as_ref(), "auditor", "a long test password")
            .unwrap();
        let api = Api::new(base);
        let r = api
            .agent
            .post(format!("{base}/api/v1/admin/login"))
            .header("content-type", "application/json")
            .send(r#"{"name":"auditor","password":"a long test password"}"#)
            .unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let mut r = api
            .agent
            .post(format!("{base}/api/v1/admin/tokens"))
            .header("content-type", "application/json")
            .header("cookie", cookie)
            .send(r#"{"label":"test"}"#)
            .unwrap();
        let token: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        Api {
            token: Some(token["token"].as_str().unwrap().to_owned()),
            ..api
        }
    }
}

/// An open election with one trustee and a few voters.
struct Setup {
    election: Election,
    voters: Vec<CredentialKey>,
    cast: usize,
}

fn open_election(server: &Server, voters: usize) -> Setup {
    let admin = Api::admin(&server.base, &server.state);
    let now = urne_server::clock::now();
    let question = Question {
        text: "Which way?".into(),
        answers: vec!["Left".into(), "Right".into()],
        min: 1,
        max: 1,
        blank: false,
        counting: Counting::Plurality,
        seats: None,
        grades: None,
    };
    let draft = json!({
        "title": "Audit test",
        "description": "An election watched by urne audit.",
        "questions": [question],
        "opens_at": Timestamp::from_unix(now - 60).unwrap(),
        "closes_at": Timestamp::from_unix(now + 86_400).unwrap(),
        "trustees": ["Trustee 1"],
        "threshold": 1,
        "voter_auth": "none",
        "auto_open": false,
    });
    admin.ok(
        "POST",
        "/api/v1/admin/elections",
        Some(&json!({ "id": ID, "draft": draft })),
    );
    let setup = admin.ok("POST", &format!("/api/v1/admin/elections/{ID}/setup"), None);
    let invitation = setup["invitations"][0].as_str().unwrap().to_owned();
    let trustee = TrusteeKey::generate(&mut rand::rng());
    let public = trustee.publish(&mut rand::rng(), ID, 1, "Trustee 1");
    let as_trustee = Api {
        token: Some(invitation),
        ..Api::new(&server.base)
    };
    as_trustee.ok(
        "POST",
        &format!("/api/v1/elections/{ID}/trustees/1"),
        Some(&serde_json::to_value(&public).unwrap()),
    );
    let keys: Vec<CredentialKey> = (0..voters)
        .map(|_| Credential::generate(&mut rand::rng()).derive_key(ID))
        .collect();
    let list: Vec<PublicCredential> = keys
        .iter()
        .map(|k| PublicCredential {
            credential: *k.public(),
            weight: 1,
        })
        .collect();
    admin.ok(
        "PUT",
        &format!("/api/v1/admin/elections/{ID}/credentials"),
        Some(&json!({ "credentials": list })),
    );
    admin.ok("POST", &format!("/api/v1/admin/elections/{ID}/seal"), None);
    admin.ok("POST", &format!("/api/v1/admin/elections/{ID}/open"), None);
    let view = Api::new(&server.base).ok("GET", &format!("/api/v1/elections/{ID}"), None);
    let election =
        Election::new(serde_json::from_value(view["manifest"].clone()).unwrap()).unwrap();
    Setup {
        election,
        voters: keys,
        cast: 0,
    }
}

/// Casts the ballots of the next `n` voters.
fn cast(server: &Server, setup: &mut Setup, n: usize) {
    let api = Api::new(&server.base);
    for _ in 0..n {
        let v = setup.cast;
        setup.cast += 1;
        let vote = [QuestionVote::Selected(vec![v % 2])];
        let ballot =
            Ballot::create(&mut rand::rng(), &setup.election, &setup.voters[v], &vote).unwrap();
        let (status, text) = api.call(
            "POST",
            &format!("/api/v1/elections/{ID}/ballots"),
            Some(&serde_json::from_str(&ballot.to_json()).unwrap()),
        );
        assert_eq!(status, 201, "{text}");
    }
}

fn urne(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn both(o: &Output) -> String {
    stdout(o) + &stderr(o)
}

fn watch_once(url: &str, state: &Path, json: bool) -> Output {
    let mut args = vec![
        "audit",
        "watch",
        "--once",
        "--state",
        state.to_str().unwrap(),
    ];
    if json {
        args.push("--json");
    }
    args.push(url);
    urne(&args)
}

/// The board of the election in the server's database, for playing a dishonest server.
struct Board {
    db: rusqlite::Connection,
}

impl Board {
    fn open(data: &Path) -> Board {
        let db = rusqlite::Connection::open(data.join(urne_board::DATABASE_FILE)).unwrap();
        db.busy_timeout(Duration::from_secs(10)).unwrap();
        Board { db }
    }

    fn lines(&self) -> Vec<Vec<u8>> {
        let mut stmt = self
            .db
            .prepare("SELECT line FROM log WHERE election = ?1 ORDER BY seq")
            .unwrap();
        stmt.query_map([ID], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Writes line `seq` (replacing it, or appending it), then the tree and size of the board.
    fn put(&self, seq: u64, line: &[u8]) {
        let leaf = leaf_hash(line);
        let changed = self
            .db
            .execute(
                "UPDATE log SET line = ?3, leaf = ?4 WHERE election = ?1 AND seq = ?2",
                rusqlite::params![ID, seq as i64, line, &leaf[..]],
            )
            .unwrap();
        if changed == 0 {
            self.db
                .execute(
                    "INSERT INTO log (election, seq, kind, line, leaf) \
                     VALUES (?1, ?2, 'ballot', ?3, ?4)",
                    rusqlite::params![ID, seq as i64, line, &leaf[..]],
                )
                .unwrap();
        }
        let mut tree = MerkleBuilder::new();
        for l in self.lines() {
            tree.push(leaf_hash(&l));
        }
        self.db
            .execute(
                "UPDATE elections SET log_size = ?2, frontier = ?3, root = ?4 WHERE id = ?1",
                rusqlite::params![
                    ID,
                    tree.size() as i64,
                    tree.frontier().concat(),
                    &tree.root()[..]
                ],
            )
            .unwrap();
    }

    /// Rewrites the bytes of line `seq` alone: the server keeps its leaf and its tree.
    fn put_bytes_only(&self, seq: u64, line: &[u8]) {
        self.db
            .execute(
                "UPDATE log SET line = ?3 WHERE election = ?1 AND seq = ?2",
                rusqlite::params![ID, seq as i64, line],
            )
            .unwrap();
    }

    /// Drops every line from `size` on, and sets the board's tree to the lines left.
    fn truncate(&self, size: u64) {
        for table in ["ballots", "log"] {
            self.db
                .execute(
                    &format!("DELETE FROM {table} WHERE election = ?1 AND seq >= ?2"),
                    rusqlite::params![ID, size as i64],
                )
                .unwrap();
        }
        let lines = self.lines();
        self.put(size - 1, &lines[size as usize - 1]);
    }

    /// Stores a signed tree head, which the server then serves as its latest.
    fn put_head(&self, head: &SignedTreeHead) {
        self.db
            .execute(
                "INSERT INTO tree_heads (election, size, body) VALUES (?1, ?2, ?3)",
                rusqlite::params![ID, head.size as i64, head.to_json()],
            )
            .unwrap();
    }

    /// Forgets the tree heads signed so far, so that the server signs its new tree afresh.
    fn forget_heads(&self) {
        self.db
            .execute("DELETE FROM tree_heads WHERE election = ?1", [ID])
            .unwrap();
    }
}

/// A ballot line of the board, as `seq`, with two choice proofs swapped: well formed, with the
/// tracker of its bytes, but its proofs fail.
fn forged_ballot(line: &[u8], seq: u64) -> (Vec<u8>, String) {
    let Entry::Ballot(mut entry) = parse_line(1, line).unwrap().entry else {
        panic!("not a ballot line");
    };
    entry.ballot.answers[0].choice_proofs.swap(0, 1);
    let tracker = entry.ballot.tracker();
    let entry = BallotEntry {
        cast_at: entry.cast_at,
        tracker,
        ballot: entry.ballot,
    };
    let (bytes, _) = encode_line(seq, &Entry::Ballot(Box::new(entry)));
    (bytes, tracker.to_string())
}

fn last_ballot(board: &Board) -> Vec<u8> {
    board
        .lines()
        .into_iter()
        .rev()
        .find(|l| l.windows(15).any(|w| w == b"\"type\":\"ballot\""))
        .unwrap()
}

fn temp() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let state = dir.path().join("watch.json");
    (dir, data, state)
}

#[test]
fn watch_follows_the_board_then_catches_a_fork() {
    let (dir, data, state) = temp();
    let server = Server::start(&data);
    let mut setup = open_election(&server, 8);
    cast(&server, &mut setup, 2);
    let url = server.election_url();

    let o = watch_once(&url, &state, false);
    assert!(o.status.success(), "{}", both(&o));
    let first_size: u64 = Board::open(&data).lines().len() as u64;
    assert!(
        stderr(&o).contains(&format!(
            "size {first_size} (+{first_size} lines, +2 ballots"
        )),
        "{}",
        both(&o)
    );
    assert!(stderr(&o).contains("every line verified"), "{}", both(&o));
    assert!(dir.path().join("watch.lines.jsonl").exists());

    // More ballots: the next poll checks the consistency proof and verifies only them.
    cast(&server, &mut setup, 3);
    let o = watch_once(&url, &state, true);
    assert!(o.status.success(), "{}", both(&o));
    let poll: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(poll["new_lines"], 3);
    assert_eq!(poll["new_ballots"], 3);
    assert_eq!(poll["ballots"], 5);
    assert_eq!(poll["valid"], true);
    assert_eq!(poll["alarm"], Value::Null);
    assert_eq!(poll["size"], first_size + 3);

    // Nothing new: a quiet poll.
    let o = watch_once(&url, &state, false);
    assert!(o.status.success(), "{}", both(&o));
    assert!(stderr(&o).contains("(+0 lines, +0 ballots"), "{}", both(&o));

    // urne verify on the election's address checks the record against the signed head.
    let o = urne(&["verify", "--quiet", &url]);
    assert!(o.status.success(), "{}", both(&o));
    assert!(
        stdout(&o).contains("signed head  ")
            && stdout(&o).contains("the record's tree head, signed"),
        "{}",
        both(&o)
    );
    let o = urne(&["verify", "--json", &url]);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["signed_head"]["ok"], true);

    // The server rewrites its second ballot and signs the new tree: a fork.
    server.stop();
    let board = Board::open(&data);
    let lines = board.lines();
    let seq = first_size - 1;
    let (forged, _) = forged_ballot(&lines[seq as usize], seq);
    board.put(seq, &forged);
    board.forget_heads();
    drop(board);
    let server = Server::start(&data);
    let url = server.election_url();
    let o = watch_once(&url, &state, false);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stdout(&o).contains("ALARM FORK: two heads of"),
        "{}",
        both(&o)
    );
    let evidence: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("watch.evidence.json")).unwrap(),
    )
    .unwrap();
    let e = &evidence["alarm"]["evidence"];
    assert_eq!(e["pinned_head"]["size"], e["new_head"]["size"]);
    assert_ne!(e["pinned_head"]["root"], e["new_head"]["root"]);

    // The board grows on the rewritten history: the consistency proof fails.
    cast(&server, &mut setup, 1);
    let o = watch_once(&url, &state, true);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let doc: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(doc["alarm"]["kind"], "fork");
    let message = doc["alarm"]["message"].as_str().unwrap();
    assert!(
        message.contains("consistency proof") && message.contains("does not verify"),
        "{message}"
    );
    assert_eq!(doc["alarm"]["evidence"]["new_head"]["size"], first_size + 4);

    // Pinning: the state is kept, so a watch with another fingerprint is refused at once.
    let o = urne(&[
        "audit",
        "watch",
        "--once",
        "--fingerprint",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &url,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stdout(&o).contains("ALARM MANIFEST"), "{}", both(&o));
    server.stop();
}

#[test]
fn watch_reports_a_bad_entry_with_its_seq() {
    let (_dir, data, state) = temp();
    let server = Server::start(&data);
    let mut setup = open_election(&server, 6);
    cast(&server, &mut setup, 2);
    let o = watch_once(&server.election_url(), &state, false);
    assert!(o.status.success(), "{}", both(&o));

    // A ballot whose proofs fail goes onto the board, its tree and size kept right.
    server.stop();
    let board = Board::open(&data);
    let seq = board.lines().len() as u64;
    let (forged, tracker) = forged_ballot(&last_ballot(&board), seq);
    board.put(seq, &forged);
    drop(board);
    let server = Server::start(&data);
    cast(&server, &mut setup, 1);

    let o = watch_once(&server.election_url(), &state, false);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("BAD ENTRY seq {seq}: V-")) && out.contains(&tracker),
        "{}",
        both(&o)
    );
    assert!(!out.contains("ALARM"), "{}", both(&o));
    assert!(stderr(&o).contains("BOARD INVALID"), "{}", both(&o));

    // The watch goes on from there: the next poll still says the board is invalid.
    cast(&server, &mut setup, 1);
    let o = watch_once(&server.election_url(), &state, true);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let doc: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["new_ballots"], 1);
    assert_eq!(doc["alarm"], Value::Null);
    let failures = doc["failures"].as_array().unwrap();
    assert!(
        failures.iter().any(|f| f["line"] == seq + 1),
        "{failures:?}"
    );

    // A fresh watch of the whole board finds it too, and so does urne verify.
    let o = urne(&["audit", "watch", "--once", &server.election_url()]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stdout(&o).contains(&format!("BAD ENTRY seq {seq}")));
    let o = urne(&["verify", "--quiet", &server.election_url()]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    server.stop();
}

/// The last head the watch verified, from its state file.
fn pinned_head(state: &Path) -> SignedTreeHead {
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    SignedTreeHead::from_json(&saved["head"].to_string()).unwrap()
}

#[test]
fn watch_raises_an_alarm_for_each_lie() {
    let (_dir, data, state) = temp();
    let server = Server::start(&data);
    let mut setup = open_election(&server, 6);
    cast(&server, &mut setup, 2);
    assert!(
        watch_once(&server.election_url(), &state, false)
            .status
            .success()
    );
    let pinned = pinned_head(&state);
    let alarm = |server: &Server, what: &str| {
        let o = watch_once(&server.election_url(), &state, false);
        assert_eq!(o.status.code(), Some(1), "{}", both(&o));
        assert!(
            stdout(&o).contains(&format!("ALARM {what}: ")),
            "{}",
            both(&o)
        );
        // The alarm leaves the pinned head as it was.
        assert_eq!(pinned_head(&state), pinned);
    };

    // A head of the same tree, signed with the board key, but dated before the pinned one.
    server.stop();
    let key_path = ServerConfig {
        data_dir: data.clone(),
        ..ServerConfig::default()
    }
    .board_key_path();
    let key = urne_server::load_board_key(&key_path).unwrap();
    let earlier = Timestamp::from_unix(pinned.at.unix() - 3600).unwrap();
    let older = key.sign_tree_head(
        &mut rand::rng(),
        setup.election.fingerprint(),
        pinned.size,
        pinned.root,
        earlier,
    );
    let board = Board::open(&data);
    board.forget_heads();
    board.put_head(&older);
    drop(board);
    let server = Server::start(&data);
    alarm(&server, "OLDER HEAD");

    // The server serves a line other than the one its tree and head hold.
    cast(&server, &mut setup, 1);
    server.stop();
    let board = Board::open(&data);
    let lines = board.lines();
    let n = pinned.size as usize;
    let (forged, _) = forged_ballot(&lines[n], n as u64);
    board.put_bytes_only(n as u64, &forged);
    drop(board);
    let server = Server::start(&data);
    alarm(&server, "LINES DO NOT MATCH");

    // The board loses lines.
    server.stop();
    let board = Board::open(&data);
    board.truncate(pinned.size - 1);
    board.forget_heads();
    drop(board);
    let server = Server::start(&data);
    alarm(&server, "SHRUNK");

    // Heads signed with another key than the manifest's.
    server.stop();
    std::fs::remove_file(&key_path).unwrap();
    Board::open(&data).forget_heads();
    let server = Server::start(&data);
    alarm(&server, "BAD SIGNATURE");
    server.stop();
}

/// Waits until `file` holds `what` (or panics after a while).
fn wait_for(file: &Path, what: &str) -> String {
    for _ in 0..300 {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.contains(what) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "no `{what}` in:\n{}",
        std::fs::read_to_string(file).unwrap_or_default()
    );
}

#[test]
fn a_running_watch_polls_rides_out_an_outage_and_stops_at_a_fork() {
    let (dir, data, state) = temp();
    let server = Server::start(&data);
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut setup = open_election(&server, 6);
    cast(&server, &mut setup, 1);
    let log = dir.path().join("watch.stderr");
    let mut watch = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(["audit", "watch", "--interval", "1", "--state"])
        .arg(&state)
        .arg(server.election_url())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for(&log, "+1 ballots; 1 ballots in all");
    cast(&server, &mut setup, 2);
    wait_for(&log, "; 3 ballots in all");

    // The server goes away: the watch says so and goes on.
    server.stop();
    wait_for(&log, "this poll failed, next in 1 s");
    assert_eq!(watch.try_wait().unwrap(), None);

    // It comes back with its first ballot rewritten: the watch stops at the fork.
    let board = Board::open(&data);
    let lines = board.lines();
    let seq = lines.len() as u64 - 3;
    let (forged, _) = forged_ballot(&lines[seq as usize], seq);
    board.put(seq, &forged);
    board.forget_heads();
    drop(board);
    let server = Server::start_on(&data, &address);
    let mut status = None;
    for _ in 0..300 {
        status = watch.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if status.is_none() {
        watch.kill().unwrap();
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{text}");
    assert!(text.contains("ALARM: FORK"), "{text}");
    server.stop();
}

#[test]
fn watch_refuses_an_address_that_is_not_an_election() {
    let o = urne(&[
        "audit",
        "watch",
        "--once",
        "http://127.0.0.1:1/record.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("not an election's address"),
        "{}",
        both(&o)
    );
    let o = urne(&[
        "audit",
        "watch",
        "--once",
        "http://127.0.0.1:1/api/v1/elections/x",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
}

#[test]
fn audit_booth_matches_the_served_files_then_catches_a_changed_one() {
    let (_dir, data, _state) = temp();
    let server = Server::start(&data);
    open_election(&server, 2);
    let url = server.election_url();
    let o = urne(&["audit", "booth", "--json", &url]);
    assert!(o.status.success(), "{}", both(&o));
    let doc: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert!(files.len() > 4, "{doc}");
    assert!(files.iter().all(|f| f["status"] == "match"), "{doc}");
    assert!(
        files.iter().any(|f| f["path"] == format!("/vote/{ID}")),
        "{doc}"
    );
    assert_eq!(doc["failing"], 0);

    // The board declares another digest for the booth's script: as if the server now served
    // other code than it declared.
    server.stop();
    let board = Board::open(&data);
    let lines = board.lines();
    let seq = lines
        .iter()
        .position(|l| l.windows(14).any(|w| w == b"\"type\":\"booth\""))
        .unwrap();
    let Entry::Booth(mut booth) = parse_line(1, &lines[seq]).unwrap().entry else {
        panic!("not a booth line");
    };
    let changed = booth
        .files
        .iter_mut()
        .find(|f| f.path == "/static/booth/booth.js")
        .unwrap();
    changed.sha256[0] ^= 1;
    board.put(seq as u64, &encode_line(seq as u64, &Entry::Booth(booth)).0);
    drop(board);
    let server = Server::start(&data);
    let o = urne(&["audit", "booth", &server.election_url()]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    let bad: Vec<&str> = out.lines().filter(|l| !l.starts_with("match")).collect();
    assert_eq!(bad.len(), 1, "{out}");
    assert!(
        bad[0].starts_with("MISMATCH") && bad[0].contains("/static/booth/booth.js"),
        "{out}"
    );
    server.stop();
}

#[test]
fn audit_booth_refuses_an_address_that_is_not_an_election() {
    let o = urne(&["audit", "booth", "http://127.0.0.1:9/not-an-election"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
}
