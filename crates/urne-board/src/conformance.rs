//! The conformance suite: what every [`Store`] must do, checked through the trait alone, so
//! that SQLite, PostgreSQL and any later backend behave the same.
//!
//! One public function per behaviour; each panics (with an assertion message) when the store
//! misbehaves. They use their own election ids and administrator names, so they can run one
//! after the other on one store ([`run_all`]) or each on a fresh one ([`conformance_tests!`]).
//!
//! [`conformance_tests!`]: crate::conformance_tests

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use urne_verify::merkle::{MerkleBuilder, empty_root, leaf_hash};

use crate::{Append, Appended, Bytes32, Item, ItemOutcome, Phase, Store, StoreError, TreeHeadRow};

/// One behaviour of the suite: checks a store, panicking when it misbehaves.
pub type Check = fn(&dyn Store);

/// Every behaviour, by name, in the order [`run_all`] runs them.
pub const ALL: &[(&str, Check)] = &[
    ("ping_and_backend", ping_and_backend),
    ("create_get_list_elections", create_get_list_elections),
    ("duplicate_election", duplicate_election),
    (
        "update_config_in_allowed_phases",
        update_config_in_allowed_phases,
    ),
    ("set_phase_compare_and_set", set_phase_compare_and_set),
    ("append_assigns_seqs_and_root", append_assigns_seqs_and_root),
    ("duplicate_trackers", duplicate_trackers),
    ("unique_credentials", unique_credentials),
    ("wrong_phase_writes_nothing", wrong_phase_writes_nothing),
    (
        "expected_size_is_compare_and_set",
        expected_size_is_compare_and_set,
    ),
    ("set_phase_with_append", set_phase_with_append),
    ("last_at_is_monotonic", last_at_is_monotonic),
    ("lines_and_leaves_ranges", lines_and_leaves_ranges),
    ("tracker_seq", tracker_seq),
    ("unknown_election", unknown_election),
    ("tree_heads", tree_heads),
    ("messages", messages),
    ("admins", admins),
    ("sessions", sessions),
    ("api_tokens", api_tokens),
    ("audit_log", audit_log),
    ("concurrent_appends", concurrent_appends),
];

/// Runs every behaviour on one store.
pub fn run_all(store: &dyn Store) {
    for (_, check) in ALL {
        check(store);
    }
}

/// Defines one `#[test]` per behaviour of the suite, each on a fresh store.
///
/// `$make` is an expression of type `Option<S>` evaluated once per test, where `S` dereferences
/// to a type implementing [`Store`] (and may hold what the store needs, such as a temporary
/// directory, until dropped); `None` skips the test (a backend that is not available here).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            ping_and_backend,
            create_get_list_elections,
            duplicate_election,
            update_config_in_allowed_phases,
            set_phase_compare_and_set,
            append_assigns_seqs_and_root,
            duplicate_trackers,
            unique_credentials,
            wrong_phase_writes_nothing,
            expected_size_is_compare_and_set,
            set_phase_with_append,
            last_at_is_monotonic,
            lines_and_leaves_ranges,
            tracker_seq,
            unknown_election,
            tree_heads,
            messages,
            admins,
            sessions,
            api_tokens,
            audit_log,
            concurrent_appends,
        );
    };
    (@each $make:expr; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                if let Some(store) = $make {
                    $crate::conformance::$name(&*store);
                }
            }
        )*

        #[test]
        fn every_behaviour_has_a_test() {
            let names: &[&str] = &[$(stringify!($name)),*];
            let all: Vec<&str> = $crate::conformance::ALL.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, all.as_slice());
        }

        #[test]
        fn run_all_on_one_store() {
            if let Some(store) = $make {
                $crate::conformance::run_all(&*store);
            }
        }
    };
}

// --- helpers ---

/// A 32-byte key made from a label and a number.
fn key(label: u8, n: u64) -> Bytes32 {
    let mut k = [0u8; 32];
    k[0] = label;
    k[1..9].copy_from_slice(&n.to_be_bytes());
    k
}

/// A ballot item with tracker `t` and credential `c`.
fn ballot(t: u64, c: u64) -> Item {
    Item {
        tracker: Some(key(b't', t)),
        credential: Some(key(b'c', c)),
    }
}

/// The line the suite's encoder writes.
fn line(seq: u64, at: i64, tag: &str) -> Vec<u8> {
    format!("{{\"seq\":{seq},\"type\":\"ballot\",\"at\":{at},\"tag\":\"{tag}\"}}").into_bytes()
}

/// An election in `phase` (created in draft and moved there).
fn election_in(store: &dyn Store, id: &str, phase: Phase) {
    store.create_election(id, "{}", 1000).unwrap();
    if phase != Phase::Draft {
        store
            .set_phase(id, &[Phase::Draft], phase, None, 1000)
            .unwrap();
    }
}

/// Appends `items` to an open election with `unique` credentials at `now`; lines tagged `tag`
/// and the item's index.
fn append_items(
    store: &dyn Store,
    id: &str,
    items: &[Item],
    unique: bool,
    now: i64,
    tag: &str,
) -> Result<Appended, StoreError> {
    let encode = |i: usize, seq: u64, at: i64| line(seq, at, &format!("{tag}-{i}"));
    store.append(
        id,
        &Append {
            expect: &[Phase::Open],
            set_phase: None,
            now,
            items,
            unique_credentials: unique,
            expect_size: None,
            encode: &encode,
        },
    )
}

/// The root of the board's lines, computed here from the lines the store returns.
fn independent_root(store: &dyn Store, id: &str) -> (u64, Bytes32) {
    let lines = store.lines(id, 0, u64::MAX).unwrap();
    let mut tree = MerkleBuilder::new();
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(
            l.seq, i as u64,
            "lines of {id} are numbered from 0 without gaps"
        );
        tree.push(leaf_hash(&l.line));
    }
    (tree.size(), tree.root())
}

fn appended_seqs(a: &Appended) -> Vec<u64> {
    a.items
        .iter()
        .filter_map(|o| match o {
            ItemOutcome::Appended { seq } => Some(*seq),
            _ => None,
        })
        .collect()
}

// --- the behaviours ---

/// The store answers and names its backend.
pub fn ping_and_backend(store: &dyn Store) {
    store.ping().unwrap();
    assert!(!store.backend().is_empty());
}

/// A created election is in draft with an empty board, and is found and listed by id.
pub fn create_get_list_elections(store: &dyn Store) {
    let created = store
        .create_election("cf-list-b", "{\"b\":1}", 1234)
        .unwrap();
    assert_eq!(created.id, "cf-list-b");
    assert_eq!(created.phase, Phase::Draft);
    assert_eq!(created.config, "{\"b\":1}");
    assert_eq!(created.log_size, 0);
    assert_eq!(created.root, empty_root());
    assert_eq!(created.last_at, 0);
    assert_eq!(created.created_at, 1234);
    assert_eq!(created.updated_at, 1234);
    assert_eq!(store.election("cf-list-b").unwrap(), Some(created.clone()));
    assert_eq!(store.election("cf-list-nope").unwrap(), None);

    store.create_election("cf-list-a", "{}", 1235).unwrap();
    store.create_election("cf-list-c", "{}", 1236).unwrap();
    let ids: Vec<String> = store
        .elections()
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .filter(|id| id.starts_with("cf-list-"))
        .collect();
    assert_eq!(ids, ["cf-list-a", "cf-list-b", "cf-list-c"]);
    let all: Vec<String> = store
        .elections()
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "elections() is ordered by id");
}

/// Creating an election whose id is taken fails and changes nothing.
pub fn duplicate_election(store: &dyn Store) {
    store.create_election("cf-dup", "{\"v\":1}", 10).unwrap();
    match store.create_election("cf-dup", "{\"v\":2}", 20) {
        Err(StoreError::ElectionExists(id)) => assert_eq!(id, "cf-dup"),
        other => panic!("expected ElectionExists, got {other:?}"),
    }
    let e = store.election("cf-dup").unwrap().unwrap();
    assert_eq!(e.config, "{\"v\":1}");
    assert_eq!(e.created_at, 10);
}

/// The configuration changes only in the expected phases.
pub fn update_config_in_allowed_phases(store: &dyn Store) {
    store.create_election("cf-config", "{\"v\":1}", 10).unwrap();
    let e = store
        .update_config("cf-config", &[Phase::Draft], "{\"v\":2}", 20)
        .unwrap();
    assert_eq!(e.config, "{\"v\":2}");
    assert_eq!(e.updated_at, 20);
    assert_eq!(e.created_at, 10);
    assert_eq!(store.election("cf-config").unwrap().unwrap(), e);

    store
        .set_phase("cf-config", &[Phase::Draft], Phase::Setup, None, 30)
        .unwrap();
    match store.update_config("cf-config", &[Phase::Draft], "{\"v\":3}", 40) {
        Err(StoreError::WrongPhase { actual, expected }) => {
            assert_eq!(actual, Phase::Setup);
            assert_eq!(expected, [Phase::Draft]);
        }
        other => panic!("expected WrongPhase, got {other:?}"),
    }
    let e = store.election("cf-config").unwrap().unwrap();
    assert_eq!(e.config, "{\"v\":2}");
    assert_eq!(e.updated_at, 30);
    let e = store
        .update_config("cf-config", &[Phase::Draft, Phase::Setup], "{\"v\":4}", 50)
        .unwrap();
    assert_eq!(e.config, "{\"v\":4}");
    assert!(matches!(
        store.update_config("cf-config-nope", &[Phase::Draft], "{}", 1),
        Err(StoreError::NoElection(_))
    ));
}

/// `set_phase` is a compare-and-set on the phase, optionally replacing the configuration.
pub fn set_phase_compare_and_set(store: &dyn Store) {
    store.create_election("cf-phase", "{\"v\":1}", 10).unwrap();
    let e = store
        .set_phase("cf-phase", &[Phase::Draft], Phase::Setup, None, 20)
        .unwrap();
    assert_eq!(e.phase, Phase::Setup);
    assert_eq!(e.config, "{\"v\":1}");
    assert_eq!(e.updated_at, 20);

    // A second writer that read the old phase loses.
    match store.set_phase("cf-phase", &[Phase::Draft], Phase::Setup, None, 30) {
        Err(StoreError::WrongPhase { actual, expected }) => {
            assert_eq!(actual, Phase::Setup);
            assert_eq!(expected, [Phase::Draft]);
        }
        other => panic!("expected WrongPhase, got {other:?}"),
    }
    let e = store
        .set_phase(
            "cf-phase",
            &[Phase::Draft, Phase::Setup],
            Phase::Open,
            Some("{\"v\":2}"),
            40,
        )
        .unwrap();
    assert_eq!(e.phase, Phase::Open);
    assert_eq!(e.config, "{\"v\":2}");
    assert_eq!(store.election("cf-phase").unwrap().unwrap(), e);
    match store.set_phase("cf-phase", &[], Phase::Closed, Some("{\"v\":3}"), 50) {
        Err(StoreError::WrongPhase { actual, .. }) => assert_eq!(actual, Phase::Open),
        other => panic!("expected WrongPhase, got {other:?}"),
    }
    let e = store.election("cf-phase").unwrap().unwrap();
    assert_eq!((e.phase, e.config.as_str()), (Phase::Open, "{\"v\":2}"));
    assert!(matches!(
        store.set_phase("cf-phase-nope", &[Phase::Draft], Phase::Setup, None, 1),
        Err(StoreError::NoElection(_))
    ));
}

/// Appends number lines from the board's size, hand the encoder each seq and time, and keep a
/// root equal to one computed independently over the stored lines.
pub fn append_assigns_seqs_and_root(store: &dyn Store) {
    let id = "cf-append";
    election_in(store, id, Phase::Open);
    let calls = AtomicUsize::new(0);
    let encode = |i: usize, seq: u64, at: i64| {
        calls.fetch_add(1, Ordering::SeqCst);
        line(seq, at, &format!("first-{i}"))
    };
    let items = [ballot(1, 1), Item::default(), ballot(2, 2)];
    let a = store
        .append(
            id,
            &Append {
                expect: &[Phase::Open],
                set_phase: None,
                now: 5000,
                items: &items,
                unique_credentials: false,
                expect_size: None,
                encode: &encode,
            },
        )
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        a.items,
        [
            ItemOutcome::Appended { seq: 0 },
            ItemOutcome::Appended { seq: 1 },
            ItemOutcome::Appended { seq: 2 },
        ]
    );
    assert_eq!(a.size, 3);
    assert_eq!(a.at, 5000);

    let stored = store.lines(id, 0, 100).unwrap();
    let expected: Vec<Vec<u8>> = (0..3u64)
        .map(|i| line(i, 5000, &format!("first-{i}")))
        .collect();
    assert_eq!(
        stored.iter().map(|l| l.line.clone()).collect::<Vec<_>>(),
        expected,
        "the stored bytes are the encoder's"
    );
    let mut tree = MerkleBuilder::new();
    for l in &expected {
        tree.push(leaf_hash(l));
    }
    assert_eq!(a.root, tree.root());
    assert_eq!(independent_root(store, id), (3, tree.root()));

    let b = append_items(
        store,
        id,
        &[ballot(3, 3), ballot(4, 4)],
        false,
        5001,
        "second",
    )
    .unwrap();
    assert_eq!(appended_seqs(&b), [3, 4]);
    assert_eq!(b.size, 5);
    assert_eq!(independent_root(store, id), (5, b.root));
    let e = store.election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.root, e.last_at), (5, b.root, 5001));
    assert_eq!(e.updated_at, 5001);

    // An empty append changes nothing and reports the board as it is.
    let c = append_items(store, id, &[], false, 6000, "none").unwrap();
    assert!(c.items.is_empty());
    assert_eq!((c.size, c.root), (5, b.root));
    let e = store.election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.root, e.last_at), (5, b.root, 5001));

    // Many lines in one append, past several powers of two.
    let many: Vec<Item> = (100..200).map(|n| ballot(n, n)).collect();
    let d = append_items(store, id, &many, false, 6001, "many").unwrap();
    assert_eq!(appended_seqs(&d), (5..105).collect::<Vec<_>>());
    assert_eq!(independent_root(store, id), (105, d.root));
}

/// A tracker already on the board, or earlier in the same append, is a duplicate: nothing is
/// written for it, the other items go on.
pub fn duplicate_trackers(store: &dyn Store) {
    let id = "cf-dup-tracker";
    election_in(store, id, Phase::Open);
    let a = append_items(store, id, &[ballot(1, 1), ballot(2, 2)], false, 100, "a").unwrap();
    assert_eq!(appended_seqs(&a), [0, 1]);

    let calls = AtomicUsize::new(0);
    let encode = |i: usize, seq: u64, at: i64| {
        calls.fetch_add(1, Ordering::SeqCst);
        line(seq, at, &format!("b-{i}"))
    };
    // Across appends (item 0), within this append (item 2 repeats item 1), and a ballot with
    // the same tracker but another credential (item 3) is still the same tracker.
    let items = [
        ballot(2, 2),
        ballot(3, 3),
        ballot(3, 3),
        ballot(1, 9),
        ballot(4, 4),
    ];
    let b = store
        .append(
            id,
            &Append {
                expect: &[Phase::Open],
                set_phase: None,
                now: 200,
                items: &items,
                unique_credentials: false,
                expect_size: None,
                encode: &encode,
            },
        )
        .unwrap();
    assert_eq!(
        b.items,
        [
            ItemOutcome::Duplicate { seq: 1 },
            ItemOutcome::Appended { seq: 2 },
            ItemOutcome::Duplicate { seq: 2 },
            ItemOutcome::Duplicate { seq: 0 },
            ItemOutcome::Appended { seq: 3 },
        ]
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "no line is encoded for a duplicate"
    );
    assert_eq!(b.size, 4);
    assert_eq!(independent_root(store, id), (4, b.root));
    let lines = store.lines(id, 0, 10).unwrap();
    assert_eq!(lines[2].line, line(2, 200, "b-1"));
    assert_eq!(lines[3].line, line(3, 200, "b-4"));

    // Only duplicates: nothing is written and last_at stays.
    let c = append_items(store, id, &[ballot(1, 1)], false, 300, "c").unwrap();
    assert_eq!(c.items, [ItemOutcome::Duplicate { seq: 0 }]);
    assert_eq!((c.size, c.root), (4, b.root));
    assert_eq!(c.at, 300);
    let e = store.election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.last_at), (4, 200));

    // Trackers are per election.
    election_in(store, "cf-dup-tracker-2", Phase::Open);
    let d = append_items(store, "cf-dup-tracker-2", &[ballot(1, 1)], false, 1, "d").unwrap();
    assert_eq!(d.items, [ItemOutcome::Appended { seq: 0 }]);
}

/// With unique credentials, a credential that has a ballot (on the board or earlier in the
/// append) cannot cast another; without, it can.
pub fn unique_credentials(store: &dyn Store) {
    let id = "cf-unique";
    election_in(store, id, Phase::Open);
    // Without the rule, a credential may cast several ballots (revoting).
    let a = append_items(store, id, &[ballot(1, 1), ballot(2, 1)], false, 10, "a").unwrap();
    assert_eq!(appended_seqs(&a), [0, 1]);

    let items = [
        ballot(3, 1), // the board has credential 1 at seq 0 (its first ballot)
        ballot(4, 2), // new
        ballot(5, 2), // credential 2 earlier in this append
        ballot(1, 7), // a tracker on the board: a duplicate first
        ballot(6, 3), // new
        Item {
            tracker: Some(key(b't', 7)),
            credential: None,
        },
    ];
    let b = append_items(store, id, &items, true, 20, "b").unwrap();
    assert_eq!(
        b.items,
        [
            ItemOutcome::CredentialUsed { seq: 0 },
            ItemOutcome::Appended { seq: 2 },
            ItemOutcome::CredentialUsed { seq: 2 },
            ItemOutcome::Duplicate { seq: 0 },
            ItemOutcome::Appended { seq: 3 },
            ItemOutcome::Appended { seq: 4 },
        ]
    );
    assert_eq!(independent_root(store, id), (5, b.root));
    // A refused item's tracker was not stored: it can come back with a fresh credential.
    let c = append_items(store, id, &[ballot(5, 8)], true, 30, "c").unwrap();
    assert_eq!(c.items, [ItemOutcome::Appended { seq: 5 }]);
    assert_eq!(store.tracker_seq(id, &key(b't', 5)).unwrap(), Some(5));
    assert_eq!(store.tracker_seq(id, &key(b't', 3)).unwrap(), None);
}

/// An append that expects a board size writes nothing when the board has another size, and
/// goes through when it has that size.
pub fn expected_size_is_compare_and_set(store: &dyn Store) {
    let id = "cf-expect-size";
    election_in(store, id, Phase::Open);
    append_items(store, id, &[ballot(1, 1)], false, 100, "a").unwrap();
    let before = store.election(id).unwrap().unwrap();
    let encode = |_: usize, seq: u64, at: i64| line(seq, at, "once");
    let once = |expect_size| {
        store.append(
            id,
            &Append {
                expect: &[Phase::Open],
                set_phase: None,
                now: 200,
                items: &[Item::default()],
                unique_credentials: false,
                expect_size: Some(expect_size),
                encode: &encode,
            },
        )
    };
    for stale in [0, 2, 7] {
        match once(stale) {
            Err(StoreError::BoardMoved { expected, actual }) => {
                assert_eq!((expected, actual), (stale, 1));
            }
            other => panic!("expected BoardMoved, got {other:?}"),
        }
        assert_eq!(store.election(id).unwrap().unwrap(), before);
    }
    let done = once(1).unwrap();
    assert_eq!(done.size, 2);
    assert!(matches!(
        once(1),
        Err(StoreError::BoardMoved { actual: 2, .. })
    ));
    assert_eq!(independent_root(store, id), (2, done.root));
}

/// An append in the wrong phase fails, calls no encoder and writes nothing.
pub fn wrong_phase_writes_nothing(store: &dyn Store) {
    let id = "cf-wrong-phase";
    election_in(store, id, Phase::Open);
    let a = append_items(store, id, &[ballot(1, 1)], false, 100, "a").unwrap();
    store
        .set_phase(id, &[Phase::Open], Phase::Closed, None, 150)
        .unwrap();
    let before = store.election(id).unwrap().unwrap();

    let calls = AtomicUsize::new(0);
    let encode = |_: usize, seq: u64, at: i64| {
        calls.fetch_add(1, Ordering::SeqCst);
        line(seq, at, "late")
    };
    let result = store.append(
        id,
        &Append {
            expect: &[Phase::Open],
            set_phase: Some(Phase::Tallied),
            now: 200,
            items: &[ballot(2, 2)],
            unique_credentials: false,
            expect_size: None,
            encode: &encode,
        },
    );
    match result {
        Err(StoreError::WrongPhase { actual, expected }) => {
            assert_eq!(actual, Phase::Closed);
            assert_eq!(expected, [Phase::Open]);
        }
        other => panic!("expected WrongPhase, got {other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(store.election(id).unwrap().unwrap(), before);
    assert_eq!(store.lines(id, 0, 10).unwrap().len(), 1);
    assert_eq!(store.tracker_seq(id, &key(b't', 2)).unwrap(), None);
    assert_eq!(independent_root(store, id), (1, a.root));

    // A draft election takes no append expecting open either.
    store.create_election("cf-wrong-phase-2", "{}", 1).unwrap();
    assert!(matches!(
        append_items(store, "cf-wrong-phase-2", &[ballot(1, 1)], false, 1, "x"),
        Err(StoreError::WrongPhase {
            actual: Phase::Draft,
            ..
        })
    ));
    assert!(matches!(
        append_items(store, "cf-wrong-phase-nope", &[ballot(1, 1)], false, 1, "x"),
        Err(StoreError::NoElection(_))
    ));
}

/// `set_phase` of an append moves the phase in the same transaction, even when no item is
/// appended.
pub fn set_phase_with_append(store: &dyn Store) {
    let id = "cf-append-phase";
    election_in(store, id, Phase::Open);
    append_items(store, id, &[ballot(1, 1)], false, 100, "a").unwrap();
    let close = |_: usize, seq: u64, at: i64| {
        format!("{{\"seq\":{seq},\"type\":\"close\",\"at\":{at}}}").into_bytes()
    };
    let a = store
        .append(
            id,
            &Append {
                expect: &[Phase::Open],
                set_phase: Some(Phase::Closed),
                now: 200,
                items: &[Item::default()],
                unique_credentials: false,
                expect_size: None,
                encode: &close,
            },
        )
        .unwrap();
    assert_eq!(a.items, [ItemOutcome::Appended { seq: 1 }]);
    let e = store.election(id).unwrap().unwrap();
    assert_eq!((e.phase, e.log_size, e.last_at), (Phase::Closed, 2, 200));
    // The close line is the last: a ballot expecting open is refused.
    assert!(matches!(
        append_items(store, id, &[ballot(2, 2)], false, 300, "late"),
        Err(StoreError::WrongPhase { .. })
    ));

    // Nothing appended (all duplicates), the phase still moves; the board does not.
    let id = "cf-append-phase-2";
    election_in(store, id, Phase::Open);
    let first = append_items(store, id, &[ballot(1, 1)], false, 100, "a").unwrap();
    let b = store
        .append(
            id,
            &Append {
                expect: &[Phase::Open],
                set_phase: Some(Phase::Closed),
                now: 500,
                items: &[ballot(1, 1)],
                unique_credentials: false,
                expect_size: None,
                encode: &close,
            },
        )
        .unwrap();
    assert_eq!(b.items, [ItemOutcome::Duplicate { seq: 0 }]);
    let e = store.election(id).unwrap().unwrap();
    assert_eq!(e.phase, Phase::Closed);
    assert_eq!((e.log_size, e.root, e.last_at), (1, first.root, 100));
}

/// The time given to the encoder never goes back, even when a server's clock does.
pub fn last_at_is_monotonic(store: &dyn Store) {
    let id = "cf-last-at";
    election_in(store, id, Phase::Open);
    let a = append_items(store, id, &[ballot(1, 1)], false, 1000, "a").unwrap();
    assert_eq!(a.at, 1000);
    let b = append_items(store, id, &[ballot(2, 2)], false, 900, "b").unwrap();
    assert_eq!(b.at, 1000, "an earlier clock gets last_at");
    assert_eq!(store.lines(id, 1, 1).unwrap()[0].line, line(1, 1000, "b-0"));
    assert_eq!(store.election(id).unwrap().unwrap().last_at, 1000);
    let c = append_items(store, id, &[ballot(3, 3)], false, 1100, "c").unwrap();
    assert_eq!(c.at, 1100);
    assert_eq!(store.election(id).unwrap().unwrap().last_at, 1100);
    let d = append_items(store, id, &[], false, 1050, "d").unwrap();
    assert_eq!(d.at, 1100);
}

/// `lines` and `leaves` return the asked ranges, clipped to the board.
pub fn lines_and_leaves_ranges(store: &dyn Store) {
    let id = "cf-ranges";
    election_in(store, id, Phase::Open);
    let items: Vec<Item> = (0..10).map(|n| ballot(n, n)).collect();
    append_items(store, id, &items, false, 10, "r").unwrap();
    let all = store.lines(id, 0, u64::MAX).unwrap();
    assert_eq!(all.len(), 10);

    let some = store.lines(id, 3, 4).unwrap();
    assert_eq!(some.iter().map(|l| l.seq).collect::<Vec<_>>(), [3, 4, 5, 6]);
    assert_eq!(some[0].line, line(3, 10, "r-3"));
    assert_eq!(store.lines(id, 8, 100).unwrap().len(), 2);
    assert!(store.lines(id, 10, 5).unwrap().is_empty());
    assert!(store.lines(id, 3, 0).unwrap().is_empty());
    assert!(store.lines(id, u64::MAX, u64::MAX).unwrap().is_empty());

    let leaves = store.leaves(id, 2, 5).unwrap();
    let expected: Vec<Bytes32> = all[2..5].iter().map(|l| leaf_hash(&l.line)).collect();
    assert_eq!(leaves, expected);
    assert_eq!(store.leaves(id, 0, 100).unwrap().len(), 10);
    assert_eq!(store.leaves(id, 0, u64::MAX).unwrap().len(), 10);
    assert!(store.leaves(id, 5, 5).unwrap().is_empty());
    assert!(store.leaves(id, 6, 2).unwrap().is_empty());
    assert!(store.leaves(id, 10, 20).unwrap().is_empty());

    let mut tree = MerkleBuilder::new();
    for leaf in store.leaves(id, 0, 10).unwrap() {
        tree.push(leaf);
    }
    assert_eq!(tree.root(), store.election(id).unwrap().unwrap().root);
}

/// `tracker_seq` finds ballot lines by tracker.
pub fn tracker_seq(store: &dyn Store) {
    let id = "cf-tracker";
    election_in(store, id, Phase::Open);
    append_items(store, id, &[Item::default()], false, 1, "x").unwrap();
    append_items(store, id, &[ballot(1, 1), ballot(2, 2)], false, 2, "y").unwrap();
    assert_eq!(store.tracker_seq(id, &key(b't', 1)).unwrap(), Some(1));
    assert_eq!(store.tracker_seq(id, &key(b't', 2)).unwrap(), Some(2));
    assert_eq!(store.tracker_seq(id, &key(b't', 3)).unwrap(), None);
    store.create_election("cf-tracker-2", "{}", 1).unwrap();
    assert_eq!(
        store.tracker_seq("cf-tracker-2", &key(b't', 1)).unwrap(),
        None
    );
}

/// Every method about one election fails with `NoElection` when it does not exist.
pub fn unknown_election(store: &dyn Store) {
    let id = "cf-does-not-exist";
    let no = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::NoElection(e)) => assert_eq!(e, id, "{what}"),
        other => panic!("{what}: expected NoElection, got {other:?}"),
    };
    assert_eq!(store.election(id).unwrap(), None);
    no(store.lines(id, 0, 10).map(drop), "lines");
    no(store.leaves(id, 0, 10).map(drop), "leaves");
    no(
        store.tracker_seq(id, &key(b't', 1)).map(drop),
        "tracker_seq",
    );
    no(
        store
            .put_tree_head(
                id,
                &TreeHeadRow {
                    size: 0,
                    body: "{}".into(),
                },
            )
            .map(drop),
        "put_tree_head",
    );
    no(store.tree_head(id, None).map(drop), "tree_head");
    no(
        store.put_message(id, "x", 0, "{}", 1).map(drop),
        "put_message",
    );
    no(store.messages(id, None, 0).map(drop), "messages");
    no(store.delete_messages(id, "x").map(drop), "delete_messages");
    no(
        append_items(store, id, &[], false, 1, "x").map(drop),
        "append",
    );
}

/// Tree heads: the first one stored for a size is kept; the latest is the largest size.
pub fn tree_heads(store: &dyn Store) {
    let id = "cf-heads";
    store.create_election(id, "{}", 1).unwrap();
    assert_eq!(store.tree_head(id, None).unwrap(), None);
    let head = |size: u64, body: &str| TreeHeadRow {
        size,
        body: body.into(),
    };
    store.put_tree_head(id, &head(5, "five")).unwrap();
    store.put_tree_head(id, &head(5, "five again")).unwrap();
    store.put_tree_head(id, &head(3, "three")).unwrap();
    store.put_tree_head(id, &head(0, "zero")).unwrap();
    assert_eq!(store.tree_head(id, Some(5)).unwrap(), Some(head(5, "five")));
    assert_eq!(
        store.tree_head(id, Some(3)).unwrap(),
        Some(head(3, "three"))
    );
    assert_eq!(store.tree_head(id, Some(0)).unwrap(), Some(head(0, "zero")));
    assert_eq!(store.tree_head(id, Some(4)).unwrap(), None);
    assert_eq!(store.tree_head(id, None).unwrap(), Some(head(5, "five")));
    store.put_tree_head(id, &head(7, "seven")).unwrap();
    assert_eq!(store.tree_head(id, None).unwrap(), Some(head(7, "seven")));
    store.create_election("cf-heads-2", "{}", 1).unwrap();
    assert_eq!(store.tree_head("cf-heads-2", None).unwrap(), None);
}

/// Relayed messages: numbered from 0 in order, filtered by kind and by `after`, deleted by kind
/// without their numbers being given again.
pub fn messages(store: &dyn Store) {
    let id = "cf-messages";
    store.create_election(id, "{}", 1).unwrap();
    assert!(store.messages(id, None, 0).unwrap().is_empty());
    assert_eq!(
        store
            .put_message(id, "dealing", 1, "{\"d\":1}", 10)
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .put_message(id, "trustee", 2, "{\"t\":2}", 11)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put_message(id, "dealing", 2, "{\"d\":2}", 12)
            .unwrap(),
        2
    );
    assert_eq!(
        store.put_message(id, "credentials", 0, "[]", 13).unwrap(),
        3
    );
    assert_eq!(
        store
            .put_message(id, "dealing", 3, "{\"d\":3}", 14)
            .unwrap(),
        4
    );

    let all = store.messages(id, None, 0).unwrap();
    assert_eq!(
        all.iter().map(|m| m.idx).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(
        (
            all[1].kind.as_str(),
            all[1].sender,
            all[1].body.as_str(),
            all[1].at
        ),
        ("trustee", 2, "{\"t\":2}", 11)
    );
    let dealings = store.messages(id, Some("dealing"), 0).unwrap();
    assert_eq!(
        dealings.iter().map(|m| m.idx).collect::<Vec<_>>(),
        [0, 2, 4]
    );
    assert!(dealings.iter().all(|m| m.kind == "dealing"));
    let later = store.messages(id, Some("dealing"), 2).unwrap();
    assert_eq!(later.iter().map(|m| m.idx).collect::<Vec<_>>(), [2, 4]);
    let later = store.messages(id, None, 3).unwrap();
    assert_eq!(later.iter().map(|m| m.idx).collect::<Vec<_>>(), [3, 4]);
    assert!(store.messages(id, None, 5).unwrap().is_empty());
    assert!(store.messages(id, Some("complaint"), 0).unwrap().is_empty());

    assert_eq!(store.delete_messages(id, "dealing").unwrap(), 3);
    assert_eq!(store.delete_messages(id, "dealing").unwrap(), 0);
    let left = store.messages(id, None, 0).unwrap();
    assert_eq!(left.iter().map(|m| m.idx).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(
        store
            .put_message(id, "dealing", 1, "{\"d\":4}", 15)
            .unwrap(),
        5
    );

    // Numbers are per election.
    store.create_election("cf-messages-2", "{}", 1).unwrap();
    assert_eq!(
        store.put_message("cf-messages-2", "x", 0, "{}", 1).unwrap(),
        0
    );
}

/// Administrator accounts: created once, found by name, counted.
pub fn admins(store: &dyn Store) {
    let before = store.admin_count().unwrap();
    store
        .create_admin("cf-alice", "$argon2id$alice", 100)
        .unwrap();
    store.create_admin("cf-bob", "$argon2id$bob", 101).unwrap();
    assert!(matches!(
        store.create_admin("cf-alice", "$argon2id$other", 102),
        Err(StoreError::Exists(_))
    ));
    assert_eq!(store.admin_count().unwrap(), before + 2);
    let alice = store.admin("cf-alice").unwrap().unwrap();
    assert_eq!(
        (
            alice.name.as_str(),
            alice.password_hash.as_str(),
            alice.created_at
        ),
        ("cf-alice", "$argon2id$alice", 100)
    );
    assert_eq!(store.admin("cf-nobody").unwrap(), None);
}

/// Sessions: found while unexpired (`expires_at > now`), ended by `delete_session`.
pub fn sessions(store: &dyn Store) {
    store.create_admin("cf-session-admin", "h", 1).unwrap();
    let token = key(b's', 1);
    store
        .create_session(&token, "cf-session-admin", 1000)
        .unwrap();
    assert!(matches!(
        store.create_session(&token, "cf-session-admin", 2000),
        Err(StoreError::Exists(_))
    ));
    assert_eq!(
        store.session(&token, 999).unwrap().as_deref(),
        Some("cf-session-admin")
    );
    assert_eq!(
        store.session(&token, 1000).unwrap(),
        None,
        "expired at expires_at"
    );
    assert_eq!(store.session(&token, 5000).unwrap(), None);
    assert_eq!(store.session(&key(b's', 2), 0).unwrap(), None);
    let other = key(b's', 3);
    store
        .create_session(&other, "cf-session-admin", 1000)
        .unwrap();
    store.delete_session(&token).unwrap();
    assert_eq!(store.session(&token, 0).unwrap(), None);
    store.delete_session(&token).unwrap();
    assert_eq!(
        store.session(&other, 0).unwrap().as_deref(),
        Some("cf-session-admin")
    );
    assert!(
        store
            .create_session(&key(b's', 4), "cf-no-such-admin", 1000)
            .is_err()
    );
}

/// API tokens: stored under their hash, found, unique.
pub fn api_tokens(store: &dyn Store) {
    store.create_admin("cf-token-admin", "h", 1).unwrap();
    let token = key(b'a', 1);
    assert_eq!(store.api_token(&token).unwrap(), None);
    store
        .create_api_token(&token, "cf-token-admin", "ci", 10)
        .unwrap();
    assert_eq!(
        store.api_token(&token).unwrap().as_deref(),
        Some("cf-token-admin")
    );
    assert!(matches!(
        store.create_api_token(&token, "cf-token-admin", "again", 11),
        Err(StoreError::Exists(_))
    ));
    assert_eq!(store.api_token(&key(b'a', 2)).unwrap(), None);
    assert!(
        store
            .create_api_token(&key(b'a', 3), "cf-no-such-admin", "x", 1)
            .is_err()
    );
}

/// The audit log: ids increase in the order written; filtered by election.
pub fn audit_log(store: &dyn Store) {
    let before = store.audit_log(None).unwrap().len();
    let a = store
        .audit(
            "cf-auditor",
            Some("cf-audit-1"),
            "election.create",
            "{\"a\":1}",
            100,
        )
        .unwrap();
    let b = store
        .audit("system", None, "server.start", "{}", 101)
        .unwrap();
    let c = store
        .audit("cf-auditor", Some("cf-audit-1"), "election.open", "{}", 102)
        .unwrap();
    let d = store
        .audit(
            "cf-auditor",
            Some("cf-audit-2"),
            "election.create",
            "{}",
            103,
        )
        .unwrap();
    assert!(a >= 1 && a < b && b < c && c < d);

    let all = store.audit_log(None).unwrap();
    assert_eq!(all.len(), before + 4);
    let ids: Vec<u64> = all.iter().map(|r| r.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    let tail = &all[before..];
    assert_eq!(tail.iter().map(|r| r.id).collect::<Vec<_>>(), [a, b, c, d]);
    assert_eq!(tail[0].at, 100);
    assert_eq!(tail[0].actor, "cf-auditor");
    assert_eq!(tail[0].election.as_deref(), Some("cf-audit-1"));
    assert_eq!(tail[0].action, "election.create");
    assert_eq!(tail[0].detail, "{\"a\":1}");
    assert_eq!(tail[1].election, None);

    let one = store.audit_log(Some("cf-audit-1")).unwrap();
    assert_eq!(one.iter().map(|r| r.id).collect::<Vec<_>>(), [a, c]);
    assert_eq!(one[1].action, "election.open");
    assert!(store.audit_log(Some("cf-audit-none")).unwrap().is_empty());
}

/// 8 threads append 200 ballots each, in batches of varying size, at once: every seq from 0 to
/// 1599 is on the board exactly once, every ballot once, and the root is the lines' root.
pub fn concurrent_appends(store: &dyn Store) {
    const THREADS: u64 = 8;
    const EACH: u64 = 200;
    let id = "cf-concurrent";
    election_in(store, id, Phase::Open);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                let mut done = 0u64;
                let mut batch = 1 + t % 4;
                while done < EACH {
                    let n = batch.min(EACH - done);
                    let items: Vec<Item> = (done..done + n)
                        .map(|i| ballot(t * 1000 + i, t * 1000 + i))
                        .collect();
                    let encode = |i: usize, seq: u64, at: i64| {
                        format!(
                            "{{\"seq\":{seq},\"type\":\"ballot\",\"at\":{at},\"thread\":{t},\
                             \"i\":{}}}",
                            done + i as u64
                        )
                        .into_bytes()
                    };
                    let a = store
                        .append(
                            id,
                            &Append {
                                expect: &[Phase::Open],
                                set_phase: None,
                                now: 1000 + done as i64,
                                items: &items,
                                unique_credentials: true,
                                expect_size: None,
                                encode: &encode,
                            },
                        )
                        .unwrap();
                    let seqs = appended_seqs(&a);
                    assert_eq!(seqs.len() as u64, n, "every item of thread {t} appended");
                    assert!(
                        seqs.windows(2).all(|w| w[1] == w[0] + 1),
                        "a batch is never interleaved: {seqs:?}"
                    );
                    assert_eq!(seqs.last().map(|s| s + 1), Some(a.size));
                    done += n;
                    batch = batch % 7 + 1;
                }
            });
        }
    });

    let total = THREADS * EACH;
    let lines = store.lines(id, 0, u64::MAX).unwrap();
    assert_eq!(lines.len() as u64, total);
    let mut seen = BTreeSet::new();
    let mut at = 0i64;
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.seq, i as u64, "no gap, no repeat");
        let text = String::from_utf8(l.line.clone()).unwrap();
        assert!(
            text.starts_with(&format!("{{\"seq\":{i},")),
            "line {i} carries its own seq: {text}"
        );
        let this_at: i64 = text
            .split("\"at\":")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(this_at >= at, "times on the board never decrease");
        at = this_at;
        let who = text.split(",\"thread\":").nth(1).unwrap().to_owned();
        assert!(seen.insert(who), "each ballot once");
    }
    assert_eq!(seen.len() as u64, total);
    let (size, root) = independent_root(store, id);
    let e = store.election(id).unwrap().unwrap();
    assert_eq!((e.log_size, e.root), (size, root));
    assert_eq!(size, total);
    for t in 0..THREADS {
        for i in [0, EACH / 2, EACH - 1] {
            assert!(
                store
                    .tracker_seq(id, &key(b't', t * 1000 + i))
                    .unwrap()
                    .is_some()
            );
        }
    }
}
