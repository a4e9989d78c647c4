//! The conformance suite on PostgreSQL, each test in a fresh schema of the database at
//! `URNE_TEST_POSTGRES_URL`; then what only PostgreSQL has: several stores (as several servers
//! would) appending to one election, the pinned schema, a newer schema refused.
//!
//! Without `URNE_TEST_POSTGRES_URL` the tests are skipped, unless `URNE_REQUIRE_POSTGRES=1`
//! (as in `scripts/test.sh`), when they fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Deref;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use urne_board::{
    Append, Item, ItemOutcome, Phase, PostgresOptions, PostgresStore, Store, StoreError,
};
use urne_verify::merkle::{MerkleBuilder, leaf_hash};

/// The test database's URL, or `None` to skip; panics when PostgreSQL is required but not
/// given.
fn database_url() -> Option<String> {
    match std::env::var("URNE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("URNE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!(
                    "URNE_REQUIRE_POSTGRES=1 but URNE_TEST_POSTGRES_URL is not set: the \
                     PostgreSQL tests cannot run"
                );
            }
            eprintln!("skipped: URNE_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A fresh schema name, unique across test processes.
fn fresh_schema() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "urne_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store in its own schema, dropped with it.
struct SchemaStore {
    store: PostgresStore,
    url: String,
    schema: String,
}

impl SchemaStore {
    fn new(url: &str) -> SchemaStore {
        let schema = fresh_schema();
        SchemaStore {
            store: connect(url, &schema),
            url: url.to_owned(),
            schema,
        }
    }
}

fn connect(url: &str, schema: &str) -> PostgresStore {
    PostgresStore::connect_with(
        url,
        PostgresOptions {
            pool_size: 10,
            schema: Some(schema.to_owned()),
        },
    )
    .unwrap()
}

impl Deref for SchemaStore {
    type Target = PostgresStore;
    fn deref(&self) -> &PostgresStore {
        &self.store
    }
}

impl Drop for SchemaStore {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", self.schema));
        }
    }
}

fn fresh_store() -> Option<SchemaStore> {
    database_url().map(|url| SchemaStore::new(&url))
}

urne_board::conformance_tests!(fresh_store());

/// Runs SQL on the store's schema directly.
fn raw(store: &SchemaStore, sql: &str) {
    let mut client = postgres::Client::connect(&store.url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("SET search_path TO \"{}\"; {sql}", store.schema))
        .unwrap();
}

fn ballot_line(seq: u64, at: i64) -> Vec<u8> {
    format!("{{\"seq\":{seq},\"type\":\"ballot\",\"at\":{at}}}").into_bytes()
}

fn tracker(i: u64) -> Item {
    let mut t = [0u8; 32];
    t[..8].copy_from_slice(&i.to_be_bytes());
    Item {
        tracker: Some(t),
        credential: None,
    }
}

fn append_ballots(store: &dyn Store, id: &str, from: u64, n: u64) -> urne_board::Appended {
    let items: Vec<Item> = (from..from + n).map(tracker).collect();
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

/// Three stores on one schema, as three servers sharing the database, append to one election
/// at once: the row lock serializes them; no seq is given twice and none is skipped.
#[test]
fn several_servers_share_one_election() {
    let Some(first) = fresh_store() else { return };
    let others = [
        connect(&first.url, &first.schema),
        connect(&first.url, &first.schema),
    ];
    let id = "shared";
    open_election(&*first, id);
    let stores: [&dyn Store; 3] = [&*first, &others[0], &others[1]];
    std::thread::scope(|s| {
        for (k, store) in stores.into_iter().enumerate() {
            for t in 0..2u64 {
                s.spawn(move || {
                    let base = (k as u64 * 2 + t) * 1000;
                    for i in 0..40 {
                        let a = append_ballots(store, id, base + i * 3, 3);
                        assert_eq!(a.items.len(), 3);
                    }
                });
            }
        }
    });
    let lines = first.lines(id, 0, u64::MAX).unwrap();
    assert_eq!(lines.len(), 6 * 40 * 3);
    let mut tree = MerkleBuilder::new();
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.seq, i as u64);
        assert_eq!(l.line, ballot_line(i as u64, 100));
        tree.push(leaf_hash(&l.line));
    }
    let e = others[1].election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.root), (lines.len() as u64, tree.root()));
}

#[test]
fn reconnect_keeps_the_board_and_goes_on_appending() {
    let Some(store) = fresh_store() else { return };
    let id = "reopen";
    open_election(&*store, id);
    let first = append_ballots(&*store, id, 0, 13);
    let again = connect(&store.url, &store.schema);
    let e = again.election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.root), (13, first.root));
    let second = append_ballots(&again, id, 13, 7);
    assert_eq!(second.items[0], ItemOutcome::Appended { seq: 13 });
    let mut tree = MerkleBuilder::new();
    for l in again.lines(id, 0, u64::MAX).unwrap() {
        tree.push(leaf_hash(&l.line));
    }
    assert_eq!(tree.root(), second.root);
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(store) = fresh_store() else { return };
    raw(
        &store,
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    );
    match PostgresStore::connect_with(
        &store.url,
        PostgresOptions {
            pool_size: 1,
            schema: Some(store.schema.clone()),
        },
    ) {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("newer"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn bad_stored_data_is_corrupt_not_a_panic() {
    let Some(store) = fresh_store() else { return };
    open_election(&*store, "bad-phase");
    open_election(&*store, "bad-frontier");
    append_ballots(&*store, "bad-frontier", 0, 3);
    raw(
        &store,
        "UPDATE elections SET phase = 'paused' WHERE id = 'bad-phase'; \
         UPDATE elections SET frontier = '\\x0102' WHERE id = 'bad-frontier'",
    );
    assert!(matches!(
        store.election("bad-phase"),
        Err(StoreError::Corrupt(m)) if m.contains("elections.phase")
    ));
    let items = [Item::default()];
    let result = store.append(
        "bad-frontier",
        &Append {
            expect: &[Phase::Open],
            set_phase: None,
            now: 1,
            items: &items,
            unique_credentials: false,
            expect_size: None,
            encode: &|_, seq, at| ballot_line(seq, at),
        },
    );
    assert!(matches!(result, Err(StoreError::Corrupt(m)) if m.contains("elections.frontier")));
    assert_eq!(store.lines("bad-frontier", 0, 10).unwrap().len(), 3);
}

#[test]
fn an_unreachable_database_is_a_backend_error() {
    if database_url().is_none() {
        return;
    }
    match PostgresStore::connect("postgres://nobody@127.0.0.1:1/none?connect_timeout=2") {
        Err(StoreError::Backend(m)) => assert!(m.contains("connect"), "{m}"),
        other => panic!("expected Backend, got {other:?}"),
    }
}

/// The schema that the migrations build, pinned in tests/schema/postgres.txt. After changing
/// the migrations on purpose, rewrite the pin with `URNE_BLESS=1 cargo test -p urne-board`.
#[test]
fn schema_is_pinned() {
    let Some(store) = fresh_store() else { return };
    let schema = store.schema().unwrap();
    assert!(
        !schema.contains(&store.schema),
        "the pin does not name the test's schema"
    );
    let pin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/postgres.txt");
    if std::env::var_os("URNE_BLESS").is_some() {
        std::fs::write(&pin, &schema).unwrap();
    }
    let pinned = std::fs::read_to_string(&pin).unwrap_or_default();
    assert!(
        schema == pinned,
        "the PostgreSQL schema differs from {}: a migration changed it without updating the \
         pin (rewrite it with URNE_BLESS=1 if the change is intended)\n--- built:\n{schema}",
        pin.display()
    );
}

/// How long an append of 64 ballot lines of about 3 KB takes (printed; run with
/// `cargo test -p urne-board --test conformance_postgres -- --ignored --nocapture`).
#[test]
#[ignore = "a measurement, not a check"]
fn append_timing() {
    let Some(store) = fresh_store() else { return };
    open_election(&*store, "timing");
    let payload = "x".repeat(3000);
    let mut times = Vec::new();
    for round in 0..50u64 {
        let items: Vec<Item> = (0..64u64)
            .map(|i| {
                let mut item = tracker(round * 64 + i);
                item.credential = item.tracker.map(|mut c| {
                    c[31] = 1;
                    c
                });
                item
            })
            .collect();
        let encode = |_: usize, seq: u64, at: i64| {
            format!("{{\"seq\":{seq},\"type\":\"ballot\",\"at\":{at},\"ballot\":\"{payload}\"}}")
                .into_bytes()
        };
        let start = std::time::Instant::now();
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
    println!(
        "append of 64 x 3 KB ballot lines: median {:?}, p90 {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() - 1]
    );
}

/// A database of schema version 1 (before the voters' tables) is brought up to date when a
/// store connects: its elections and boards are kept, appends go on, and the new tables work.
#[test]
fn a_version_1_database_is_migrated() {
    let Some(store) = fresh_store() else { return };
    let id = "old";
    open_election(&*store, id);
    store.put_message(id, "trustee", 1, "{}", 5).unwrap();
    let first = append_ballots(&*store, id, 0, 10);
    // Back to version 1: everything migration 2 added removed.
    raw(
        &store,
        "DROP TABLE mail; DROP TABLE voter_sessions; DROP TABLE voter_codes; DROP TABLE voters; \
         DELETE FROM schema_migrations WHERE version = 2",
    );
    let reference = fresh_store().unwrap();
    assert_ne!(store.schema().unwrap(), reference.schema().unwrap());

    let again = connect(&store.url, &store.schema);
    assert_eq!(again.schema().unwrap(), reference.schema().unwrap());
    let e = again.election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.root), (10, first.root));
    assert_eq!(again.messages(id, None, 0).unwrap().len(), 1);
    assert_eq!(append_ballots(&again, id, 10, 2).size, 12);
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
        again
            .replace_roll(id, &[Phase::Open], std::slice::from_ref(&voter), 7)
            .unwrap(),
        1
    );
    assert_eq!(again.voter(id, "v1").unwrap(), Some(voter));
}
