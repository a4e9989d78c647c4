//! The conformance suite on SQLite, each test on a fresh database in a temporary directory;
//! then what only SQLite has: reopening a database file, refusing a newer schema, the pinned
//! schema, bad stored data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Deref;
use std::path::Path;
use std::time::Instant;

use urne_board::{Append, DATABASE_FILE, Item, ItemOutcome, Phase, SqliteStore, Store, StoreError};
use urne_verify::merkle::{MerkleBuilder, leaf_hash};

/// A store in a temporary directory, removed when dropped.
struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Deref for TempStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("data")).unwrap();
    TempStore { store, _dir: dir }
}

urne_board::conformance_tests!(Some(temp_store()));

fn ballot_line(seq: u64, at: i64) -> Vec<u8> {
    format!("{{\"seq\":{seq},\"type\":\"ballot\",\"at\":{at}}}").into_bytes()
}

fn append_ballots(store: &dyn Store, id: &str, from: u64, n: u64) -> urne_board::Appended {
    let items: Vec<Item> = (from..from + n)
        .map(|i| {
            let mut t = [0u8; 32];
            t[..8].copy_from_slice(&i.to_be_bytes());
            Item {
                tracker: Some(t),
                credential: None,
            }
        })
        .collect();
    store
        .append(
            id,
            &Append {
                expect: &[Phase::Open],
                set_phase: None,
                now: 100,
                items: &items,
                unique_credentials: false,
                expect_size: None,
                encode: &|_, seq, at| ballot_line(seq, at),
            },
        )
        .unwrap()
}

fn open_election(store: &dyn Store, id: &str) {
    store.create_election(id, "{}", 1).unwrap();
    store
        .set_phase(id, &[Phase::Draft], Phase::Open, None, 1)
        .unwrap();
}

#[test]
fn a_data_directory_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a/b/data");
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.path(), data.join(DATABASE_FILE));
    assert!(data.join(DATABASE_FILE).is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the data directory is private");
    }
    drop(store);
    // An existing directory.
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.path(), data.join(DATABASE_FILE));
    // A file path.
    let file = dir.path().join("c/board.sqlite3");
    let store = SqliteStore::open(&file).unwrap();
    assert_eq!(store.path(), file);
    assert!(file.is_file());
    store.ping().unwrap();
}

#[test]
fn reopen_keeps_the_board_and_goes_on_appending() {
    let dir = tempfile::tempdir().unwrap();
    let id = "reopen";
    let first = {
        let store = SqliteStore::open(dir.path()).unwrap();
        open_election(&store, id);
        store.put_message(id, "trustee", 1, "{}", 5).unwrap();
        append_ballots(&store, id, 0, 13)
    };
    let store = SqliteStore::open(dir.path()).unwrap();
    let e = store.election(id).unwrap().unwrap();
    assert_eq!(
        (e.phase, e.log_size, e.root, e.last_at),
        (Phase::Open, 13, first.root, 100)
    );
    // The frontier was kept: the next append's root is the root of all the lines.
    let second = append_ballots(&store, id, 13, 7);
    assert_eq!(second.size, 20);
    assert_eq!(
        second.items.first(),
        Some(&ItemOutcome::Appended { seq: 13 })
    );
    let lines = store.lines(id, 0, u64::MAX).unwrap();
    let mut tree = MerkleBuilder::new();
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.line, ballot_line(i as u64, 100));
        tree.push(leaf_hash(&l.line));
    }
    assert_eq!(tree.root(), second.root);
    // Trackers and message numbers survived too.
    let duplicate = append_ballots(&store, id, 0, 1);
    assert_eq!(duplicate.items, [ItemOutcome::Duplicate { seq: 0 }]);
    assert_eq!(store.put_message(id, "trustee", 2, "{}", 6).unwrap(), 1);
}

fn raw(store: &SqliteStore) -> rusqlite::Connection {
    rusqlite::Connection::open(store.path()).unwrap()
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    raw(&store)
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
            [],
        )
        .unwrap();
    drop(store);
    match SqliteStore::open(dir.path()) {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("newer"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junk.sqlite3");
    std::fs::write(&file, vec![0x55u8; 8192]).unwrap();
    assert!(matches!(
        SqliteStore::open(&file),
        Err(StoreError::Backend(_))
    ));
}

#[test]
fn bad_stored_data_is_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    open_election(&store, "bad-phase");
    open_election(&store, "bad-frontier");
    open_election(&store, "bad-root");
    append_ballots(&store, "bad-frontier", 0, 3);
    append_ballots(&store, "bad-root", 0, 3);
    let conn = raw(&store);
    conn.execute(
        "UPDATE elections SET phase = 'paused' WHERE id = 'bad-phase'",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE elections SET frontier = x'0102' WHERE id = 'bad-frontier'",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE elections SET root = zeroblob(32) WHERE id = 'bad-root'",
        [],
    )
    .unwrap();
    let corrupt = |r: Result<(), StoreError>, column: &str| match r {
        Err(StoreError::Corrupt(m)) => assert!(m.contains(column), "{m}"),
        other => panic!("expected Corrupt about {column}, got {other:?}"),
    };
    corrupt(store.election("bad-phase").map(drop), "elections.phase");
    corrupt(store.elections().map(drop), "elections.phase");
    let items = [Item::default()];
    let append = Append {
        expect: &[Phase::Open],
        set_phase: None,
        now: 1,
        items: &items,
        unique_credentials: false,
        expect_size: None,
        encode: &|_, seq, at| ballot_line(seq, at),
    };
    corrupt(
        store.append("bad-frontier", &append).map(drop),
        "elections.frontier",
    );
    corrupt(
        store.append("bad-root", &append).map(drop),
        "elections.root",
    );
    assert_eq!(store.lines("bad-root", 0, 10).unwrap().len(), 3);
}

/// The schema that the migrations build, pinned in tests/schema/sqlite.txt. After changing the
/// migrations on purpose, rewrite the pin with `URNE_BLESS=1 cargo test -p urne-board`.
#[test]
fn schema_is_pinned() {
    let store = temp_store();
    let schema = store.schema().unwrap();
    let pin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/sqlite.txt");
    if std::env::var_os("URNE_BLESS").is_some() {
        std::fs::write(&pin, &schema).unwrap();
    }
    let pinned = std::fs::read_to_string(&pin).unwrap_or_default();
    assert!(
        schema == pinned,
        "the SQLite schema differs from {}: a migration changed it without updating the pin \
         (rewrite it with URNE_BLESS=1 if the change is intended)\n--- built:\n{schema}",
        pin.display()
    );
}

/// How long an append of 64 ballot lines of about 3 KB takes (printed; run with
/// `cargo test -p urne-board --release -- --ignored --nocapture append_timing`).
#[test]
#[ignore = "a measurement, not a check"]
fn append_timing() {
    let store = temp_store();
    open_election(&*store, "timing");
    let payload = "x".repeat(3000);
    let mut times = Vec::new();
    for round in 0..50u64 {
        let items: Vec<Item> = (0..64u64)
            .map(|i| {
                let mut t = [0u8; 32];
                t[..8].copy_from_slice(&(round * 64 + i).to_be_bytes());
                let mut c = t;
                c[31] = 1;
                Item {
                    tracker: Some(t),
                    credential: Some(c),
                }
            })
            .collect();
        let encode = |_: usize, seq: u64, at: i64| {
            format!("{{\"seq\":{seq},\"type\":\"ballot\",\"at\":{at},\"ballot\":\"{payload}\"}}")
                .into_bytes()
        };
        let start = Instant::now();
        store
            .append(
                "timing",
                &Append {
                    expect: &[Phase::Open],
                    set_phase: None,
                    now: 1,
                    items: &items,
                    unique_credentials: true,
                    expect_size: None,
                    encode: &encode,
                },
            )
            .unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    // One fsync of a file in the same directory, for comparison.
    let probe = store.path().with_extension("probe");
    let f = std::fs::File::create(&probe).unwrap();
    std::io::Write::write_all(&mut &f, &[0u8; 4096]).unwrap();
    let start = Instant::now();
    f.sync_all().unwrap();
    let fsync = start.elapsed();
    println!(
        "append of 64 x 3 KB ballot lines: median {:?}, p90 {:?}, max {:?}; one fsync {:?}",
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() - 1],
        fsync
    );
}

/// The tables and indexes of a database file with their SQL (whitespace collapsed), in a
/// stable order.
fn raw_schema(file: &Path) -> String {
    let conn = rusqlite::Connection::open(file).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
             ORDER BY type DESC, name",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "{} {}: {}\n",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// A database of schema version 1 (before the voters' tables) is brought up to date when
/// opened: its elections, boards, messages and administrators are kept, appends go on, and
/// the new tables work.
#[test]
fn a_version_1_database_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    // What version 1 of the store makes of an empty file.
    let v1_file = dir.path().join("v1-empty.sqlite3");
    {
        let conn = rusqlite::Connection::open(&v1_file).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (
                version INTEGER PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            ) STRICT",
        )
        .unwrap();
        conn.execute_batch(include_str!("../migrations/sqlite/0001_init.sql"))
            .unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'init', 0)",
            [],
        )
        .unwrap();
    }

    // A database with data, taken back to version 1 (everything migration 2 added removed).
    let file = dir.path().join("old.sqlite3");
    let id = "old";
    let first = {
        let store = SqliteStore::open(&file).unwrap();
        open_election(&store, id);
        store.put_message(id, "trustee", 1, "{}", 5).unwrap();
        store.create_admin("alice", "$argon2id$x", 1).unwrap();
        append_ballots(&store, id, 0, 10)
    };
    {
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.execute_batch(
            "DROP TABLE mail; DROP TABLE voter_sessions; DROP TABLE voter_codes; \
             DROP TABLE voters; DELETE FROM schema_migrations WHERE version = 2; \
             DELETE FROM sqlite_sequence WHERE name = 'mail';",
        )
        .unwrap();
    }
    assert_eq!(
        raw_schema(&file),
        raw_schema(&v1_file),
        "the old database has version 1's schema"
    );

    let store = SqliteStore::open(&file).unwrap();
    assert_eq!(store.schema().unwrap(), temp_store().schema().unwrap());
    let e = store.election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.root), (10, first.root));
    assert_eq!(store.messages(id, None, 0).unwrap().len(), 1);
    assert!(store.admin("alice").unwrap().is_some());
    assert_eq!(append_ballots(&store, id, 10, 2).size, 12);
    let voter = urne_board::VoterRow {
        voter: "v1".into(),
        email: "v1@example.org".into(),
        name: None,
        weight: 1,
        lang: Some("en".into()),
        credential: None,
        voted_at: None,
    };
    assert_eq!(
        store
            .replace_roll(id, &[Phase::Open], std::slice::from_ref(&voter), 7)
            .unwrap(),
        1
    );
    assert_eq!(store.voter(id, "v1").unwrap(), Some(voter));
    let mail = urne_board::NewMail {
        voter: "v1",
        kind: "code",
        recipient: "v1@example.org",
        message_id: "<1@urne.test>",
        message: b"hello",
    };
    assert_eq!(store.enqueue_mail(id, &[mail], 7).unwrap().len(), 1);
    // Opening again changes nothing.
    drop(store);
    let store = SqliteStore::open(&file).unwrap();
    assert_eq!(store.roll_stats(id).unwrap().voters, 1);
}
