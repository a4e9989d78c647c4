//! The crash test: the real `urne serve` is killed with SIGKILL in the middle of a load of
//! concurrent ballots, then restarted on the same data. Every ballot it acknowledged must be on
//! the board at the position given in its acknowledgement; submitting every ballot again must
//! answer each acknowledged one as a duplicate at that same position and accept the others;
//! and the election, finished, must have a record that verifies and holds every ballot once.
//!
//! On SQLite always; on PostgreSQL in a fresh schema of the database at
//! `URNE_TEST_POSTGRES_URL` when it is set (required when `URNE_REQUIRE_POSTGRES=1`, as in
//! `scripts/test.sh`). The load is driven by `urne load` (prepare, cast, check, finish).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

const URNE: &str = env!("CARGO_BIN_EXE_urne");
const BALLOTS: usize = 3000;
const CONCURRENCY: usize = 64;
/// Ballots the server must have acknowledged before it is killed.
const KILL_AFTER: u64 = 400;
const ADMIN: &str = "crash-admin";
const PASSWORD: &str = "crash-test-password-1234";

/// Where the server keeps its data: environment variables of `urne serve` and `urne admin`.
struct Storage {
    env: Vec<(&'static str, String)>,
}

/// A running `urne serve`, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(storage: &Storage, dir: &Path, name: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(URNE)
            .arg("serve")
            .envs(storage.env.iter().map(|(k, v)| (*k, v)))
            .env("URNE_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ureq::get(format!("{}/healthz", server.url)).call().is_ok() {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("{name} exited with {status}:\n{}", server.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not answer within 30 s:\n{}",
                server.log_text()
            );
            sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Ballots accepted so far, from the server's metrics.
    fn accepted(&self) -> u64 {
        let Ok(mut r) = ureq::get(format!("{}/metrics", self.url)).call() else {
            return 0;
        };
        let text = r.body_mut().read_to_string().unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("urne_ballots_accepted_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `urne ARGS` with `env`; panics with its output unless it succeeds within `limit`.
fn urne(storage_env: &[(&'static str, String)], args: &[&str], limit: Duration) -> String {
    let child = spawn_urne(storage_env, args);
    finish(child, args, limit)
}

fn spawn_urne(storage_env: &[(&'static str, String)], args: &[&str]) -> Child {
    Command::new(URNE)
        .args(args)
        .envs(storage_env.iter().map(|(k, v)| (*k, v)))
        .env("URNE_ADMIN_NAME", ADMIN)
        .env("URNE_ADMIN_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a child at most `limit` (killing it then); its output, if it succeeded.
fn finish(mut child: Child, args: &[&str], limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "urne {args:?} took more than {limit:?}:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "urne {args:?} failed:\n{text}");
    text
}

#[derive(Debug, Deserialize)]
struct Ack {
    index: usize,
    tracker: String,
    seq: u64,
    duplicate: bool,
}

fn read_acks(path: &Path) -> Vec<Ack> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn crash_and_recover(storage: &Storage, dir: &Path) {
    let load = dir.join("load");
    let load_s = load.to_str().unwrap();
    let at = |name: &str| load.join(name).to_str().unwrap().to_owned();
    let env = &storage.env;
    let minute = Duration::from_secs(60);

    urne(env, &["admin", "add", ADMIN], minute);
    let mut server = Server::start(storage, dir, "server-1");
    let url1 = server.url.clone();
    let n = BALLOTS.to_string();
    urne(
        env,
        &[
            "load",
            "prepare",
            "--url",
            &server.url,
            "--ballots",
            &n,
            "--out",
            load_s,
            "--quiet",
        ],
        Duration::from_secs(120),
    );

    // The load, and the kill in its middle.
    let (acks1, unacked1) = (at("acks-1.jsonl"), at("unacked-1.jsonl"));
    let concurrency = CONCURRENCY.to_string();
    let cast_args = [
        "load",
        "cast",
        "--url",
        &url1,
        "--dir",
        load_s,
        "--concurrency",
        &concurrency,
        "--tolerate-errors",
        "--timeout",
        "20",
        "--acks",
        &acks1,
        "--unacked",
        &unacked1,
        "--quiet",
    ];
    let cast = spawn_urne(env, &cast_args);
    let deadline = Instant::now() + minute;
    let killed_at = loop {
        let accepted = server.accepted();
        if accepted >= KILL_AFTER {
            server.kill();
            break accepted;
        }
        assert!(
            Instant::now() < deadline,
            "only {accepted} ballots accepted in 60 s:\n{}",
            server.log_text()
        );
        sleep(Duration::from_millis(2));
    };
    finish(cast, &cast_args, minute);
    let first = read_acks(Path::new(&acks1));
    assert!(
        first.len() >= KILL_AFTER as usize - CONCURRENCY && first.len() < BALLOTS,
        "{} ballots acknowledged before the kill (the server had accepted {killed_at}): the \
         kill did not fall in the middle of the load",
        first.len()
    );
    assert!(first.iter().all(|a| !a.duplicate));

    // The restart: every acknowledged ballot is on the board where its acknowledgement said.
    let server = Server::start(storage, dir, "server-2");
    urne(
        env,
        &[
            "load",
            "check",
            "--url",
            &server.url,
            "--dir",
            load_s,
            "--acks",
            &acks1,
        ],
        minute,
    );

    // Every ballot again: the acknowledged ones are duplicates at the same position, the
    // others are accepted (a few may have been written without their answer getting out: they
    // are duplicates too, at most as many as there were requests in flight).
    let acks2 = at("acks-2.jsonl");
    urne(
        env,
        &[
            "load",
            "cast",
            "--url",
            &server.url,
            "--dir",
            load_s,
            "--concurrency",
            &concurrency,
            "--acks",
            &acks2,
            "--unacked",
            &at("unacked-2.jsonl"),
            "--quiet",
        ],
        minute,
    );
    let second: HashMap<usize, Ack> = read_acks(Path::new(&acks2))
        .into_iter()
        .map(|a| (a.index, a))
        .collect();
    assert_eq!(second.len(), BALLOTS, "every ballot is acknowledged");
    for a in &first {
        let b = &second[&a.index];
        assert!(
            b.duplicate && b.seq == a.seq && b.tracker == a.tracker,
            "ballot {} was acknowledged at seq {} before the crash, and now {b:?}",
            a.index,
            a.seq
        );
    }
    let acked_before: HashSet<usize> = first.iter().map(|a| a.index).collect();
    let written_unanswered = second
        .values()
        .filter(|b| b.duplicate && !acked_before.contains(&b.index))
        .count();
    assert!(
        written_unanswered <= CONCURRENCY,
        "{written_unanswered} ballots were on the board without having been acknowledged"
    );
    let seqs: HashSet<u64> = second.values().map(|b| b.seq).collect();
    assert_eq!(seqs.len(), BALLOTS, "every ballot has its own position");

    // The end of the election: the record verifies, holds every acknowledged ballot at its
    // position and every prepared ballot once, and the result is the prepared votes' count.
    let out = urne(
        env,
        &[
            "load",
            "finish",
            "--url",
            &server.url,
            "--dir",
            load_s,
            "--acks",
            &acks2,
            "--quiet",
        ],
        Duration::from_secs(120),
    );
    assert!(
        out.contains(&format!("{BALLOTS} of {BALLOTS} prepared ballots in it"))
            && out.contains("the result is their votes' count"),
        "{out}"
    );
}

#[test]
fn sqlite_server_killed_mid_load_keeps_every_acknowledged_ballot() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage {
        env: vec![(
            "URNE_DATA_DIR",
            dir.path().join("data").display().to_string(),
        )],
    };
    crash_and_recover(&storage, dir.path());
}

/// The test database's URL, or `None` to skip; panics when PostgreSQL is required but not
/// given.
fn database_url() -> Option<String> {
    match std::env::var("URNE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("URNE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "URNE_REQUIRE_POSTGRES=1 but URNE_TEST_POSTGRES_URL is not set: the \
                 PostgreSQL tests cannot run"
            );
            eprintln!("skipped: URNE_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A fresh schema of the test database, dropped with this value.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str) -> Schema {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("urne_crash_{}_{nanos}", std::process::id());
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("CREATE SCHEMA \"{name}\""))
            .unwrap();
        Schema {
            url: url.to_owned(),
            name,
        }
    }

    /// The database URL with the schema first on the search path, for `urne serve`.
    fn server_url(&self) -> String {
        let option = format!("options=-csearch_path%3D{}", self.name);
        if self.url.contains("://") {
            let sep = if self.url.contains('?') { '&' } else { '?' };
            format!("{}{sep}{option}", self.url)
        } else {
            format!("{} options='-csearch_path={}'", self.url, self.name)
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", self.name));
        }
    }
}

#[test]
fn postgres_server_killed_mid_load_keeps_every_acknowledged_ballot() {
    let Some(url) = database_url() else { return };
    let schema = Schema::new(&url);
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage {
        env: vec![
            ("URNE_DATABASE_URL", schema.server_url()),
            (
                "URNE_DATA_DIR",
                dir.path().join("data").display().to_string(),
            ),
            (
                "URNE_BOARD_KEY_FILE",
                dir.path().join("board-key").display().to_string(),
            ),
        ],
    };
    crash_and_recover(&storage, dir.path());
}
