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

use crate::{
    Append, Appended, Bytes32, CodeCheck, Item, ItemOutcome, LinkOutcome, MailReport, MailStatus,
    MailUpdate, NewMail, Phase, PurgeCounts, RollStats, Store, StoreError, TreeHeadRow, VoterRow,
};

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
    ("delete_messages_from", delete_messages_from),
    ("admins", admins),
    ("sessions", sessions),
    ("api_tokens", api_tokens),
    ("audit_log", audit_log),
    ("concurrent_appends", concurrent_appends),
    (
        "roll_replace_is_atomic_and_phase_checked",
        roll_replace_is_atomic_and_phase_checked,
    ),
    ("roll_paging", roll_paging),
    ("link_outcomes", link_outcomes),
    ("batch_links", batch_links),
    ("concurrent_links", concurrent_links),
    ("voted_sorted_by_identifier", voted_sorted_by_identifier),
    ("login_codes", login_codes),
    ("login_code_rate_limit", login_code_rate_limit),
    ("voter_sessions", voter_sessions),
    ("mail_queue", mail_queue),
    ("concurrent_mail_claims", concurrent_mail_claims),
    ("bounce_by_message_id", bounce_by_message_id),
    ("mail_report_and_list", mail_report_and_list),
    ("purge_personal_data", purge_personal_data),
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
            delete_messages_from,
            admins,
            sessions,
            api_tokens,
            audit_log,
            concurrent_appends,
            roll_replace_is_atomic_and_phase_checked,
            roll_paging,
            link_outcomes,
            batch_links,
            concurrent_links,
            voted_sorted_by_identifier,
            login_codes,
            login_code_rate_limit,
            voter_sessions,
            mail_queue,
            concurrent_mail_claims,
            bounce_by_message_id,
            mail_report_and_list,
            purge_personal_data,
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
    no(
        store.message_heads(id, "x", 0, 8).map(drop),
        "message_heads",
    );
    no(store.delete_messages(id, "x").map(drop), "delete_messages");
    no(
        store
            .delete_messages_from(id, "x", Some(1), Some(1))
            .map(drop),
        "delete_messages_from",
    );
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

    // Heads: the same messages, each body cut to its first characters (whole when shorter).
    let heads = store.message_heads(id, "dealing", 1, 4).unwrap();
    assert_eq!(
        heads
            .iter()
            .map(|m| (m.idx, m.sender, m.body.as_str(), m.at))
            .collect::<Vec<_>>(),
        [(2, 2, "{\"d\"", 12), (4, 3, "{\"d\"", 14)]
    );
    assert!(heads.iter().all(|m| m.kind == "dealing"));
    let whole = store.message_heads(id, "dealing", 0, 100).unwrap();
    assert_eq!(whole, dealings);
    assert!(
        store
            .message_heads(id, "complaint", 0, 4)
            .unwrap()
            .is_empty()
    );
    // Characters, not bytes: a cut never splits one.
    let wide = store.put_message(id, "wide", 1, "\"éé€x\"", 16).unwrap();
    let cut = store.message_heads(id, "wide", 0, 3).unwrap();
    assert_eq!(
        cut.iter()
            .map(|m| (m.idx, m.body.as_str()))
            .collect::<Vec<_>>(),
        [(wide, "\"éé")]
    );
    assert_eq!(store.message_heads(id, "wide", 0, 0).unwrap()[0].body, "");

    assert_eq!(store.delete_messages(id, "dealing").unwrap(), 3);
    assert_eq!(store.delete_messages(id, "dealing").unwrap(), 0);
    let left = store.messages(id, None, 0).unwrap();
    assert_eq!(left.iter().map(|m| m.idx).collect::<Vec<_>>(), [1, 3, 5]);
    assert_eq!(
        store
            .put_message(id, "dealing", 1, "{\"d\":4}", 15)
            .unwrap(),
        6
    );

    // Numbers are per election.
    store.create_election("cf-messages-2", "{}", 1).unwrap();
    assert_eq!(
        store.put_message("cf-messages-2", "x", 0, "{}", 1).unwrap(),
        0
    );
}

/// Relayed messages deleted by kind, sender and bound: only those of the kind, of the sender
/// (or of every sender) and below the bound go; other kinds, senders, elections and later
/// messages stay, and numbers are not given again.
pub fn delete_messages_from(store: &dyn Store) {
    let id = "cf-delete-from";
    store.create_election(id, "{}", 1).unwrap();
    store.create_election("cf-delete-from-2", "{}", 1).unwrap();
    // idx: 0 chunk/1, 1 chunk/2, 2 other/1, 3 chunk/1, 4 chunk/2, 5 chunk/1
    for (kind, sender) in [
        ("chunk", 1),
        ("chunk", 2),
        ("other", 1),
        ("chunk", 1),
        ("chunk", 2),
        ("chunk", 1),
    ] {
        store.put_message(id, kind, sender, "{}", 20).unwrap();
    }
    store
        .put_message("cf-delete-from-2", "chunk", 1, "{}", 20)
        .unwrap();
    let left = |s: &dyn Store| -> Vec<(u64, String, u32)> {
        s.messages(id, None, 0)
            .unwrap()
            .into_iter()
            .map(|m| (m.idx, m.kind, m.sender))
            .collect()
    };

    // Sender 1's chunks below 5: 0 and 3, not 5 (stored after what the caller read).
    assert_eq!(
        store
            .delete_messages_from(id, "chunk", Some(1), Some(5))
            .unwrap(),
        2
    );
    assert_eq!(
        left(store),
        [
            (1, "chunk".to_owned(), 2),
            (2, "other".to_owned(), 1),
            (4, "chunk".to_owned(), 2),
            (5, "chunk".to_owned(), 1),
        ]
    );
    assert_eq!(
        store
            .delete_messages_from(id, "chunk", Some(1), Some(5))
            .unwrap(),
        0
    );
    // A sender without messages of the kind, and a bound of 0, delete nothing.
    assert_eq!(
        store
            .delete_messages_from(id, "chunk", Some(3), None)
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_messages_from(id, "chunk", None, Some(0))
            .unwrap(),
        0
    );
    // Every sender below a bound; then every one of the kind.
    assert_eq!(
        store
            .delete_messages_from(id, "chunk", None, Some(5))
            .unwrap(),
        2
    );
    assert_eq!(
        left(store),
        [(2, "other".to_owned(), 1), (5, "chunk".to_owned(), 1)]
    );
    assert_eq!(
        store
            .delete_messages_from(id, "chunk", Some(1), None)
            .unwrap(),
        1
    );
    assert_eq!(left(store), [(2, "other".to_owned(), 1)]);
    assert_eq!(
        store
            .delete_messages_from(id, "chunk", None, Some(u64::MAX))
            .unwrap(),
        0
    );
    // The other election keeps its message; numbers go on.
    assert_eq!(
        store
            .messages("cf-delete-from-2", Some("chunk"), 0)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.put_message(id, "chunk", 1, "{}", 21).unwrap(), 6);
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

// --- voters, login codes, voter sessions, mail ---

/// Voter `n` of a test roll: identifier `v{n:03}`, weight 1 to 3, a name and a language for
/// some, no link, not voted.
fn roll_voter(n: u64) -> VoterRow {
    VoterRow {
        voter: format!("v{n:03}"),
        email: format!("voter{n}@example.org"),
        name: (n % 2 == 0).then(|| format!("Voter {n}")),
        weight: 1 + n % 3,
        lang: match n % 3 {
            0 => Some("fr".into()),
            1 => Some("en".into()),
            _ => None,
        },
        credential: None,
        voted_at: None,
    }
}

/// An election in `phase` whose roll is voters `0..n`.
fn election_with_roll(store: &dyn Store, id: &str, phase: Phase, n: u64) -> Vec<VoterRow> {
    store.create_election(id, "{}", 1000).unwrap();
    let roll: Vec<VoterRow> = (0..n).map(roll_voter).collect();
    assert_eq!(
        store
            .replace_roll(id, &[Phase::Draft], &roll, 1000)
            .unwrap(),
        n
    );
    if phase != Phase::Draft {
        store
            .set_phase(id, &[Phase::Draft], phase, None, 1000)
            .unwrap();
    }
    roll
}

fn whole_roll(store: &dyn Store, id: &str) -> Vec<VoterRow> {
    store.roll(id, None, u64::MAX).unwrap()
}

fn is_no_election(r: Result<impl std::fmt::Debug, StoreError>, id: &str) {
    match r {
        Err(StoreError::NoElection(e)) => assert_eq!(e, id),
        other => panic!("expected NoElection({id}), got {other:?}"),
    }
}

/// A mail of the suite: Message-ID `<{tag}@urne.test>`, a message that names it.
fn new_mail<'a>(voter: &'a str, kind: &'a str, message_id: &'a str) -> NewMail<'a> {
    NewMail {
        voter,
        kind,
        recipient: "someone@example.org",
        message_id,
        message: message_id.as_bytes(),
    }
}

/// Replacing the roll: exactly the rows given, in one transaction, only in the phases
/// allowed; codes and sessions of removed voters go with them; bad rolls change nothing.
pub fn roll_replace_is_atomic_and_phase_checked(store: &dyn Store) {
    let id = "cf-roll";
    store.create_election(id, "{}", 1000).unwrap();
    assert!(whole_roll(store, id).is_empty());
    assert_eq!(store.roll_stats(id).unwrap(), RollStats::default());

    // Given out of order, read back in identifier order, exactly as given.
    let mut roll: Vec<VoterRow> = (0..6).map(roll_voter).collect();
    roll[1].credential = Some(key(b'k', 1));
    roll[2].voted_at = Some(1500);
    let mut shuffled = roll.clone();
    shuffled.reverse();
    assert_eq!(
        store
            .replace_roll(id, &[Phase::Draft, Phase::Setup], &shuffled, 1100)
            .unwrap(),
        6
    );
    assert_eq!(whole_roll(store, id), roll);
    assert_eq!(store.election(id).unwrap().unwrap().updated_at, 1100);
    assert_eq!(store.voter(id, "v002").unwrap(), Some(roll[2].clone()));
    assert_eq!(store.voter(id, "v999").unwrap(), None);
    assert_eq!(
        store.roll_stats(id).unwrap(),
        RollStats {
            voters: 6,
            total_weight: roll.iter().map(|v| v.weight).sum(),
            linked: 1,
            voted: 1,
        }
    );

    // Codes and sessions of v001 and v004.
    for v in ["v001", "v004"] {
        assert!(store.put_code(id, v, &key(b'h', 1), 5000, 1200, 5).unwrap());
    }
    let (s1, s4) = (key(b'S', 1), key(b'S', 4));
    store.create_voter_session(&s1, id, "v001", 5000).unwrap();
    store.create_voter_session(&s4, id, "v004", 5000).unwrap();

    // Bad rolls: nothing changes.
    let mut twice = roll.clone();
    twice.push(roll_voter(3));
    assert!(matches!(
        store.replace_roll(id, &[Phase::Draft], &twice, 1300),
        Err(StoreError::Exists(m)) if m.contains("v003")
    ));
    let mut shared = roll.clone();
    shared[4].credential = Some(key(b'k', 1));
    assert!(matches!(
        store.replace_roll(id, &[Phase::Draft], &shared, 1300),
        Err(StoreError::Exists(_))
    ));
    // A weight the database cannot hold, last: the rows before it are not kept either.
    let mut heavy = roll.clone();
    heavy.push(VoterRow {
        weight: u64::MAX,
        ..roll_voter(50)
    });
    assert!(
        store
            .replace_roll(id, &[Phase::Draft], &heavy, 1300)
            .is_err()
    );
    assert_eq!(
        whole_roll(store, id),
        roll,
        "a refused roll changes nothing"
    );
    assert_eq!(store.election(id).unwrap().unwrap().updated_at, 1100);

    // A new roll without v004, v001's address changed: v004's code and session are gone.
    let mut next: Vec<VoterRow> = roll.iter().filter(|v| v.voter != "v004").cloned().collect();
    next[1].email = "new@example.org".into();
    next.push(roll_voter(7));
    assert_eq!(
        store
            .replace_roll(id, &[Phase::Draft], &next, 1400)
            .unwrap(),
        6
    );
    assert_eq!(whole_roll(store, id), next);
    assert_eq!(store.voter(id, "v004").unwrap(), None);
    assert_eq!(store.voter_session(&s4, 0).unwrap(), None);
    assert_eq!(
        store
            .check_code(id, "v004", &key(b'h', 1), 1500, 5)
            .unwrap(),
        CodeCheck::NoCode
    );
    assert_eq!(
        store.voter_session(&s1, 0).unwrap(),
        Some((id.to_owned(), "v001".to_owned()))
    );
    assert_eq!(
        store
            .check_code(id, "v001", &key(b'h', 1), 1500, 5)
            .unwrap(),
        CodeCheck::Valid
    );

    // Wrong phase: refused, nothing changed.
    store
        .set_phase(id, &[Phase::Draft], Phase::Open, None, 1500)
        .unwrap();
    match store.replace_roll(id, &[Phase::Draft, Phase::Setup], &roll, 1600) {
        Err(StoreError::WrongPhase { actual, expected }) => {
            assert_eq!(actual, Phase::Open);
            assert_eq!(expected, [Phase::Draft, Phase::Setup]);
        }
        other => panic!("expected WrongPhase, got {other:?}"),
    }
    assert_eq!(whole_roll(store, id), next);

    // An empty roll.
    assert_eq!(
        store.replace_roll(id, &[Phase::Open], &[], 1700).unwrap(),
        0
    );
    assert!(whole_roll(store, id).is_empty());
    assert_eq!(store.roll_stats(id).unwrap(), RollStats::default());

    let none = "cf-roll-none";
    is_no_election(store.replace_roll(none, &Phase::ALL, &roll, 1), none);
    is_no_election(store.roll(none, None, 10), none);
    is_no_election(store.voter(none, "v001"), none);
    is_no_election(store.roll_stats(none), none);
}

/// Pages of the roll follow the identifiers' byte order, after the last one seen.
pub fn roll_paging(store: &dyn Store) {
    let id = "cf-roll-pages";
    store.create_election(id, "{}", 1).unwrap();
    let mut names: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    names.extend(["B", "Z", "a", "é", "_x", "M10", "M9", "m-1", "ü"].map(String::from));
    let roll: Vec<VoterRow> = names
        .iter()
        .map(|n| VoterRow {
            voter: n.clone(),
            ..roll_voter(1)
        })
        .collect();
    store.replace_roll(id, &[Phase::Draft], &roll, 1).unwrap();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));

    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.roll(id, after.as_deref(), 7).unwrap();
        assert!(page.len() <= 7);
        if page.is_empty() {
            break;
        }
        after = page.last().map(|v| v.voter.clone());
        seen.extend(page.into_iter().map(|v| v.voter));
    }
    assert_eq!(
        seen, sorted,
        "pages in byte order, none skipped or repeated"
    );
    assert!(store.roll(id, None, 0).unwrap().is_empty());
    assert!(store.roll(id, Some("\u{10ffff}"), 10).unwrap().is_empty());
    let from_m = store.roll(id, Some("m"), 3).unwrap();
    let expected: Vec<&String> = sorted.iter().filter(|n| n.as_str() > "m").take(3).collect();
    let got: Vec<&String> = from_m.iter().map(|v| &v.voter).collect();
    assert_eq!(got, expected, "`after` need not be on the roll");
}

/// Linking a voter to a credential: each outcome, per election.
pub fn link_outcomes(store: &dyn Store) {
    let id = "cf-link";
    election_with_roll(store, id, Phase::Open, 4);
    let (c1, c2) = (key(b'C', 1), key(b'C', 2));
    assert_eq!(
        store.link_credential(id, "v001", &c1, 10).unwrap(),
        LinkOutcome::Linked
    );
    assert_eq!(
        store.link_credential(id, "v001", &c1, 11).unwrap(),
        LinkOutcome::Already
    );
    assert_eq!(
        store.link_credential(id, "v001", &c2, 12).unwrap(),
        LinkOutcome::VoterHasOther
    );
    assert_eq!(
        store.link_credential(id, "v002", &c1, 13).unwrap(),
        LinkOutcome::CredentialTaken
    );
    assert_eq!(
        store.voter(id, "v001").unwrap().unwrap().credential,
        Some(c1)
    );
    assert_eq!(store.voter(id, "v002").unwrap().unwrap().credential, None);
    assert_eq!(
        store.link_credential(id, "v002", &c2, 14).unwrap(),
        LinkOutcome::Linked
    );
    assert_eq!(store.roll_stats(id).unwrap().linked, 2);
    assert!(matches!(
        store.link_credential(id, "v404", &key(b'C', 3), 15),
        Err(StoreError::Backend(m)) if m.contains("v404")
    ));
    // A credential is unique per election only.
    let other = "cf-link-other";
    election_with_roll(store, other, Phase::Open, 2);
    assert_eq!(
        store.link_credential(other, "v000", &c1, 16).unwrap(),
        LinkOutcome::Linked
    );
    assert_eq!(
        store.voter(id, "v001").unwrap().unwrap().credential,
        Some(c1)
    );
    let none = "cf-link-none";
    is_no_election(store.link_credential(none, "v001", &c1, 1), none);
}

/// Many links in one call: outcomes in the order given, decided in the order of the voters'
/// identifiers; an unknown voter links nothing.
pub fn batch_links(store: &dyn Store) {
    let id = "cf-link-batch";
    election_with_roll(store, id, Phase::Open, 4);
    let (c1, c2, c3) = (key(b'B', 1), key(b'B', 2), key(b'B', 3));
    let outcomes = store
        .link_credentials(
            id,
            &[
                ("v002", c1),
                ("v001", c1),
                ("v001", c2),
                ("v003", c3),
                ("v003", c3),
            ],
            10,
        )
        .unwrap();
    assert_eq!(
        outcomes,
        [
            LinkOutcome::CredentialTaken,
            LinkOutcome::Linked,
            LinkOutcome::VoterHasOther,
            LinkOutcome::Linked,
            LinkOutcome::Already,
        ]
    );
    assert_eq!(
        store.voter(id, "v001").unwrap().unwrap().credential,
        Some(c1)
    );
    assert_eq!(store.voter(id, "v002").unwrap().unwrap().credential, None);
    assert!(store.link_credentials(id, &[], 11).unwrap().is_empty());
    // One unknown voter: the call fails and links nothing.
    assert!(matches!(
        store.link_credentials(id, &[("v002", c2), ("v404", key(b'B', 4))], 12),
        Err(StoreError::Backend(m)) if m.contains("v404")
    ));
    assert_eq!(store.voter(id, "v002").unwrap().unwrap().credential, None);
    assert_eq!(store.roll_stats(id).unwrap().linked, 2);
}

/// Concurrent links never both link: 8 threads linking one voter to 8 credentials, then 8
/// voters to one credential, several rounds.
pub fn concurrent_links(store: &dyn Store) {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 4;
    let id = "cf-link-race";
    election_with_roll(store, id, Phase::Open, 1 + ROUNDS * (THREADS + 1));
    let race = |tasks: Vec<(String, Bytes32)>| -> Vec<LinkOutcome> {
        let barrier = std::sync::Barrier::new(tasks.len());
        std::thread::scope(|s| {
            let handles: Vec<_> = tasks
                .iter()
                .map(|(voter, credential)| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        store.link_credential(id, voter, credential, 1).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    };
    let count = |outcomes: &[LinkOutcome], which: LinkOutcome| {
        outcomes.iter().filter(|o| **o == which).count()
    };
    for round in 0..ROUNDS {
        // One voter, eight credentials.
        let voter = format!("v{:03}", round * (THREADS + 1));
        let tasks: Vec<(String, Bytes32)> = (0..THREADS)
            .map(|t| (voter.clone(), key(b'R', round * 100 + t)))
            .collect();
        let outcomes = race(tasks.clone());
        assert_eq!(count(&outcomes, LinkOutcome::Linked), 1, "{outcomes:?}");
        assert_eq!(
            count(&outcomes, LinkOutcome::VoterHasOther),
            THREADS as usize - 1
        );
        let winner = outcomes
            .iter()
            .position(|o| *o == LinkOutcome::Linked)
            .unwrap();
        assert_eq!(
            store.voter(id, &voter).unwrap().unwrap().credential,
            Some(tasks[winner].1)
        );

        // Eight voters, one credential.
        let credential = key(b'Q', round);
        let tasks: Vec<(String, Bytes32)> = (1..=THREADS)
            .map(|t| (format!("v{:03}", round * (THREADS + 1) + t), credential))
            .collect();
        let outcomes = race(tasks.clone());
        assert_eq!(count(&outcomes, LinkOutcome::Linked), 1, "{outcomes:?}");
        assert_eq!(
            count(&outcomes, LinkOutcome::CredentialTaken),
            THREADS as usize - 1
        );
        let holders: Vec<String> = whole_roll(store, id)
            .into_iter()
            .filter(|v| v.credential == Some(credential))
            .map(|v| v.voter)
            .collect();
        let winner = outcomes
            .iter()
            .position(|o| *o == LinkOutcome::Linked)
            .unwrap();
        assert_eq!(holders, [tasks[winner].0.clone()]);
    }
    assert_eq!(store.roll_stats(id).unwrap().linked, 2 * ROUNDS);
}

/// Who voted: marked once (the first time kept), listed by identifier, never by time.
pub fn voted_sorted_by_identifier(store: &dyn Store) {
    let id = "cf-voted";
    election_with_roll(store, id, Phase::Open, 12);
    assert!(store.voted(id).unwrap().is_empty());
    store.mark_voted(id, &["v009", "v002"], 100).unwrap();
    store.mark_voted(id, &["v011"], 200).unwrap();
    store
        .mark_voted(id, &["v000", "v009", "v009"], 300)
        .unwrap();
    store.mark_voted(id, &[], 400).unwrap();
    assert_eq!(store.voted(id).unwrap(), ["v000", "v002", "v009", "v011"]);
    assert_eq!(
        store.voter(id, "v009").unwrap().unwrap().voted_at,
        Some(100)
    );
    assert_eq!(
        store.voter(id, "v000").unwrap().unwrap().voted_at,
        Some(300)
    );
    assert_eq!(store.voter(id, "v001").unwrap().unwrap().voted_at, None);
    assert_eq!(store.roll_stats(id).unwrap().voted, 4);
    // An unknown voter: the whole call is refused.
    assert!(matches!(
        store.mark_voted(id, &["v005", "v404"], 500),
        Err(StoreError::Backend(m)) if m.contains("v404")
    ));
    assert_eq!(store.voter(id, "v005").unwrap().unwrap().voted_at, None);
    assert_eq!(store.voted(id).unwrap().len(), 4);
    let none = "cf-voted-none";
    is_no_election(store.mark_voted(none, &["v001"], 1), none);
    is_no_election(store.voted(none), none);
}

/// Login codes: consumed when right, counted when wrong, dead after too many wrong attempts,
/// expired at `expires_at`, replaced by a new one (attempts forgotten).
pub fn login_codes(store: &dyn Store) {
    let id = "cf-codes";
    election_with_roll(store, id, Phase::Open, 3);
    let (right, wrong) = (key(b'H', 1), key(b'H', 2));
    let check =
        |voter: &str, hash: &Bytes32, now: i64| store.check_code(id, voter, hash, now, 3).unwrap();
    assert_eq!(check("v001", &right, 10), CodeCheck::NoCode);
    assert_eq!(check("v404", &right, 10), CodeCheck::NoCode);
    assert!(store.put_code(id, "v001", &right, 100, 10, 5).unwrap());

    // Right: consumed.
    assert_eq!(check("v001", &right, 99), CodeCheck::Valid);
    assert_eq!(check("v001", &right, 99), CodeCheck::NoCode, "consumed");

    // Wrong attempts, then dead even for the right code.
    assert!(store.put_code(id, "v001", &right, 100, 20, 5).unwrap());
    assert_eq!(check("v001", &wrong, 21), CodeCheck::Wrong { remaining: 2 });
    assert_eq!(check("v001", &wrong, 22), CodeCheck::Wrong { remaining: 1 });
    assert_eq!(check("v001", &wrong, 23), CodeCheck::Wrong { remaining: 0 });
    assert_eq!(check("v001", &right, 24), CodeCheck::TooManyAttempts);
    assert_eq!(check("v001", &wrong, 25), CodeCheck::TooManyAttempts);

    // A new code: attempts forgotten.
    let fresh = key(b'H', 3);
    assert!(store.put_code(id, "v001", &fresh, 200, 30, 5).unwrap());
    assert_eq!(check("v001", &right, 31), CodeCheck::Wrong { remaining: 2 });
    assert_eq!(check("v001", &fresh, 32), CodeCheck::Valid);

    // Expiry: valid until expires_at, not at it; an expired attempt is not counted.
    assert!(store.put_code(id, "v002", &right, 100, 40, 5).unwrap());
    assert_eq!(check("v002", &wrong, 100), CodeCheck::Expired);
    assert_eq!(check("v002", &right, 100), CodeCheck::Expired);
    assert_eq!(check("v002", &right, 1000), CodeCheck::Expired);
    // Codes are per voter and per election.
    assert!(store.put_code(id, "v000", &right, 100, 40, 5).unwrap());
    let other = "cf-codes-other";
    election_with_roll(store, other, Phase::Open, 1);
    assert_eq!(
        store.check_code(other, "v000", &right, 41, 3).unwrap(),
        CodeCheck::NoCode
    );
    assert_eq!(check("v000", &right, 41), CodeCheck::Valid);

    assert!(matches!(
        store.put_code(id, "v404", &right, 100, 1, 5),
        Err(StoreError::Backend(m)) if m.contains("v404")
    ));
    let none = "cf-codes-none";
    is_no_election(store.put_code(none, "v001", &right, 100, 1, 5), none);
    is_no_election(store.check_code(none, "v001", &right, 1, 3), none);
}

/// At most `max_per_hour` codes per voter in a window of one hour; a refused code stores
/// nothing; consuming a code does not reset the window.
pub fn login_code_rate_limit(store: &dyn Store) {
    let id = "cf-code-rate";
    election_with_roll(store, id, Phase::Open, 2);
    let code = |n: u64| key(b'W', n);
    let put = |voter: &str, n: u64, now: i64| {
        store
            .put_code(id, voter, &code(n), now + 600, now, 3)
            .unwrap()
    };
    assert!(put("v000", 1, 1000));
    assert!(put("v000", 2, 1010));
    assert_eq!(
        store.check_code(id, "v000", &code(2), 1011, 5).unwrap(),
        CodeCheck::Valid
    );
    assert!(put("v000", 3, 1020));
    assert!(
        !put("v000", 4, 1030),
        "a fourth code in the hour is refused"
    );
    assert!(!put("v000", 5, 4599));
    // The refused codes stored nothing: the third is still the pending one.
    assert_eq!(
        store.check_code(id, "v000", &code(4), 1040, 5).unwrap(),
        CodeCheck::Wrong { remaining: 4 }
    );
    assert_eq!(
        store.check_code(id, "v000", &code(3), 1041, 5).unwrap(),
        CodeCheck::Valid
    );
    // Another voter has a window of its own.
    assert!(put("v001", 6, 1050));
    // An hour after the window opened, a new one.
    assert!(put("v000", 7, 4600));
    assert!(put("v000", 8, 4601));
    assert!(put("v000", 9, 4602));
    assert!(!put("v000", 10, 4603));
    assert_eq!(
        store.check_code(id, "v000", &code(9), 4604, 5).unwrap(),
        CodeCheck::Valid
    );
    // A limit of 0 refuses every code.
    assert!(
        !store
            .put_code(id, "v001", &code(11), 9000, 9999, 0)
            .unwrap()
    );
}

/// Voter sessions: found while unexpired, ended by delete; expired sessions (voters' and
/// administrators') are purged, the others kept.
pub fn voter_sessions(store: &dyn Store) {
    let id = "cf-vsessions";
    election_with_roll(store, id, Phase::Open, 3);
    let token = key(b'V', 1);
    store
        .create_voter_session(&token, id, "v001", 1000)
        .unwrap();
    assert!(matches!(
        store.create_voter_session(&token, id, "v002", 2000),
        Err(StoreError::Exists(_))
    ));
    let found = Some((id.to_owned(), "v001".to_owned()));
    assert_eq!(store.voter_session(&token, 999).unwrap(), found);
    assert_eq!(
        store.voter_session(&token, 1000).unwrap(),
        None,
        "expired at expires_at"
    );
    assert_eq!(store.voter_session(&key(b'V', 9), 0).unwrap(), None);
    store.delete_voter_session(&token).unwrap();
    assert_eq!(store.voter_session(&token, 0).unwrap(), None);
    store.delete_voter_session(&token).unwrap();
    assert!(matches!(
        store.create_voter_session(&key(b'V', 2), id, "v404", 1000),
        Err(StoreError::Backend(m)) if m.contains("v404")
    ));
    is_no_election(
        store.create_voter_session(&key(b'V', 3), "cf-vsessions-none", "v001", 1000),
        "cf-vsessions-none",
    );

    // Purging expired sessions, both kinds, at a time of the suite's own (far in the future,
    // so that the other behaviours' sessions sharing a store are all expired, and counted).
    let base = 4_000_000_000;
    store.create_admin("cf-vsession-admin", "h", 1).unwrap();
    let (a_old, a_new) = (key(b'A', 10), key(b'A', 11));
    store
        .create_session(&a_old, "cf-vsession-admin", base)
        .unwrap();
    store
        .create_session(&a_new, "cf-vsession-admin", base + 10)
        .unwrap();
    let (v_old, v_new) = (key(b'V', 10), key(b'V', 11));
    store
        .create_voter_session(&v_old, id, "v000", base - 5)
        .unwrap();
    store
        .create_voter_session(&v_new, id, "v002", base + 1)
        .unwrap();
    let purged = store.purge_expired_sessions(base).unwrap();
    assert!(
        purged >= 2,
        "at least the suite's two expired sessions: {purged}"
    );
    assert_eq!(store.purge_expired_sessions(base).unwrap(), 0);
    assert_eq!(store.session(&a_old, 0).unwrap(), None);
    assert_eq!(store.voter_session(&v_old, 0).unwrap(), None);
    assert_eq!(
        store.session(&a_new, base).unwrap().as_deref(),
        Some("cf-vsession-admin")
    );
    assert_eq!(
        store.voter_session(&v_new, base).unwrap(),
        Some((id.to_owned(), "v002".to_owned()))
    );
    assert_eq!(store.purge_expired_sessions(base + 10).unwrap(), 2);
    assert_eq!(store.session(&a_new, 0).unwrap(), None);
    assert_eq!(store.voter_session(&v_new, 0).unwrap(), None);
}

/// The mail queue: queued mails are claimed when due, most overdue first, leased; a retry
/// counts the attempt and waits; final states empty the message and are final.
pub fn mail_queue(store: &dyn Store) {
    let id = "cf-mail";
    election_with_roll(store, id, Phase::Setup, 3);
    // The suite's own time, after every other behaviour's mail.
    let t = 5_000_000_000;
    let ids = store
        .enqueue_mail(
            id,
            &[
                new_mail("v000", "credential", "<m0@urne.test>"),
                new_mail("v001", "credential", "<m1@urne.test>"),
                new_mail("v002", "code", "<m2@urne.test>"),
            ],
            t,
        )
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    let later = store
        .enqueue_mail(
            id,
            &[new_mail("v000", "replacement", "<m3@urne.test>")],
            t + 5,
        )
        .unwrap();
    assert!(later[0] > ids[2]);
    let m0 = store.mail(ids[0]).unwrap().unwrap();
    assert_eq!(
        (
            m0.election.as_str(),
            m0.voter.as_str(),
            m0.kind.as_str(),
            m0.recipient.as_str(),
            m0.message_id.as_str(),
            m0.message.as_slice(),
            m0.status,
            m0.attempts,
            m0.next_attempt_at,
            m0.last_error.as_deref(),
            m0.updated_at
        ),
        (
            id,
            "v000",
            "credential",
            "someone@example.org",
            "<m0@urne.test>",
            b"<m0@urne.test>".as_slice(),
            MailStatus::Queued,
            0,
            t,
            None,
            t
        )
    );
    let debug = format!("{m0:?}");
    assert!(
        debug.contains("message_len: 14") && !debug.contains("message: "),
        "Debug does not print the message: {debug}"
    );
    assert_eq!(store.mail(u64::MAX).unwrap(), None);

    // A Message-ID already stored: nothing of the batch is queued.
    let before = store.mail_list(id, None).unwrap().len();
    assert!(matches!(
        store.enqueue_mail(
            id,
            &[
                new_mail("v001", "code", "<m9@urne.test>"),
                new_mail("v001", "code", "<m1@urne.test>")
            ],
            t
        ),
        Err(StoreError::Exists(m)) if m.contains("<m1@urne.test>")
    ));
    assert_eq!(store.mail_list(id, None).unwrap().len(), before);

    // Not due yet; then the three due ones, in order, leased.
    assert!(store.claim_mail(t - 1, t + 100, 10).unwrap().is_empty());
    let claimed = store.claim_mail(t, t + 100, 10).unwrap();
    let claimed_ids: Vec<u64> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(claimed_ids, ids);
    assert!(claimed.iter().all(|m| m.next_attempt_at == t + 100));
    assert_eq!(claimed[1].message, b"<m1@urne.test>");
    // Leased: not claimed again until the lease ends (the fourth is due at t + 5).
    let next = store.claim_mail(t + 50, t + 200, 10).unwrap();
    assert_eq!(next.iter().map(|m| m.id).collect::<Vec<_>>(), later);
    assert!(store.claim_mail(t + 99, t + 300, 10).unwrap().is_empty());

    // A retry: counted, queued until its time, with its error.
    store
        .update_mail(
            ids[0],
            &MailUpdate::Retry {
                at: t + 1000,
                error: "421 try later",
            },
            t + 60,
        )
        .unwrap();
    let m = store.mail(ids[0]).unwrap().unwrap();
    assert_eq!(
        (
            m.status,
            m.attempts,
            m.next_attempt_at,
            m.last_error.as_deref(),
            m.updated_at
        ),
        (
            MailStatus::Queued,
            1,
            t + 1000,
            Some("421 try later"),
            t + 60
        )
    );
    assert_eq!(m.message, b"<m0@urne.test>", "kept for the retry");
    // At t + 100 the leases of m1 and m2 end: they are due again; m0 waits.
    let again = store.claim_mail(t + 100, t + 400, 10).unwrap();
    assert_eq!(
        again.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[1], ids[2]]
    );
    // The most overdue first, up to the limit: m3 (lease ended at t + 200), then m1 (t + 400,
    // before m2 by id); m0 (due at t + 1000) waits.
    let limited = store.claim_mail(t + 1000, t + 2000, 2).unwrap();
    assert_eq!(
        limited.iter().map(|m| m.id).collect::<Vec<_>>(),
        [later[0], ids[1]]
    );

    // Final states: message emptied, attempts counted, no more claims or changes.
    store
        .update_mail(ids[0], &MailUpdate::Sent, t + 1001)
        .unwrap();
    store
        .update_mail(
            ids[1],
            &MailUpdate::Failed {
                error: "550 no such user",
            },
            t + 1002,
        )
        .unwrap();
    store
        .update_mail(ids[2], &MailUpdate::Bounced { error: "bounced" }, t + 1003)
        .unwrap();
    let m = store.mail(ids[0]).unwrap().unwrap();
    assert_eq!(
        (
            m.status,
            m.attempts,
            m.message.len(),
            m.last_error.as_deref(),
            m.updated_at
        ),
        (MailStatus::Sent, 2, 0, Some("421 try later"), t + 1001)
    );
    let m = store.mail(ids[1]).unwrap().unwrap();
    assert_eq!(
        (
            m.status,
            m.attempts,
            m.message.len(),
            m.last_error.as_deref()
        ),
        (MailStatus::Failed, 1, 0, Some("550 no such user"))
    );
    let m = store.mail(ids[2]).unwrap().unwrap();
    assert_eq!(
        (
            m.status,
            m.attempts,
            m.message.len(),
            m.last_error.as_deref()
        ),
        (MailStatus::Bounced, 1, 0, Some("bounced"))
    );
    // A final mail stays as it is.
    store
        .update_mail(ids[0], &MailUpdate::Failed { error: "late" }, t + 2000)
        .unwrap();
    store
        .update_mail(
            ids[1],
            &MailUpdate::Retry {
                at: t,
                error: "late",
            },
            t + 2000,
        )
        .unwrap();
    assert_eq!(
        store.mail(ids[0]).unwrap().unwrap().status,
        MailStatus::Sent
    );
    let m = store.mail(ids[1]).unwrap().unwrap();
    assert_eq!((m.status, m.attempts), (MailStatus::Failed, 1));
    assert!(
        store
            .claim_mail(t + 10_000, t + 20_000, 10)
            .unwrap()
            .iter()
            .all(|m| m.id == later[0]),
        "final mails are never claimed"
    );
    // An unknown id is ignored.
    store.update_mail(u64::MAX, &MailUpdate::Sent, t).unwrap();
    is_no_election(
        store.enqueue_mail("cf-mail-none", &[new_mail("v", "code", "<x@urne.test>")], t),
        "cf-mail-none",
    );
    // Leave no mail due for the other behaviours sharing the store.
    store.purge_personal_data(id).unwrap();
}

/// Concurrent claimers never get the same mail: 8 threads claim 5 at a time until none is due.
pub fn concurrent_mail_claims(store: &dyn Store) {
    const THREADS: usize = 8;
    const MAILS: u64 = 240;
    let t = 6_000_000_000;
    let ids = ["cf-mail-race-a", "cf-mail-race-b"];
    let mut queued = BTreeSet::new();
    for (k, id) in ids.iter().enumerate() {
        election_with_roll(store, id, Phase::Setup, 1);
        let message_ids: Vec<String> = (0..MAILS / 2)
            .map(|i| format!("<race-{k}-{i}@urne.test>"))
            .collect();
        let mails: Vec<NewMail<'_>> = message_ids
            .iter()
            .map(|m| new_mail("v000", "credential", m))
            .collect();
        queued.extend(store.enqueue_mail(id, &mails, t + k as i64).unwrap());
    }
    let barrier = std::sync::Barrier::new(THREADS);
    let claimed: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let mut mine = Vec::new();
                    loop {
                        let batch = store.claim_mail(t + 10, t + 1000, 5).unwrap();
                        if batch.is_empty() {
                            return mine;
                        }
                        assert!(batch.len() <= 5);
                        mine.extend(batch.iter().map(|m| m.id));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = BTreeSet::new();
    for id in claimed.iter().flatten() {
        assert!(all.insert(*id), "mail {id} claimed twice");
    }
    assert_eq!(all, queued, "every due mail claimed once");
    assert!(store.claim_mail(t + 999, t + 2000, 100).unwrap().is_empty());
    for id in ids {
        store.purge_personal_data(id).unwrap();
    }
}

/// A bounce report finds its mail by Message-ID: a sent or queued mail becomes bounced (its
/// message emptied); a failed or bounced one stays as it is.
pub fn bounce_by_message_id(store: &dyn Store) {
    let id = "cf-bounce";
    election_with_roll(store, id, Phase::Setup, 1);
    let t = 7_000_000_000;
    let ids = store
        .enqueue_mail(
            id,
            &[
                new_mail("v000", "credential", "<b0@urne.test>"),
                new_mail("v000", "code", "<b1@urne.test>"),
                new_mail("v000", "code", "<b2@urne.test>"),
            ],
            t,
        )
        .unwrap();
    store.update_mail(ids[0], &MailUpdate::Sent, t + 1).unwrap();
    store
        .update_mail(ids[2], &MailUpdate::Failed { error: "gave up" }, t + 1)
        .unwrap();
    assert!(
        store
            .bounce_mail("<b0@urne.test>", "550 mailbox unknown", t + 10)
            .unwrap()
    );
    let m = store.mail(ids[0]).unwrap().unwrap();
    assert_eq!(
        (
            m.status,
            m.message.len(),
            m.last_error.as_deref(),
            m.updated_at
        ),
        (MailStatus::Bounced, 0, Some("550 mailbox unknown"), t + 10)
    );
    // A queued mail: bounced, and no longer claimed.
    assert!(store.bounce_mail("<b1@urne.test>", "full", t + 11).unwrap());
    let m = store.mail(ids[1]).unwrap().unwrap();
    assert_eq!((m.status, m.message.len()), (MailStatus::Bounced, 0));
    assert!(store.claim_mail(t + 20, t + 30, 10).unwrap().is_empty());
    // Final already: found, unchanged.
    assert!(store.bounce_mail("<b2@urne.test>", "late", t + 12).unwrap());
    let m = store.mail(ids[2]).unwrap().unwrap();
    assert_eq!(
        (m.status, m.last_error.as_deref()),
        (MailStatus::Failed, Some("gave up"))
    );
    assert!(
        store
            .bounce_mail("<b0@urne.test>", "again", t + 13)
            .unwrap()
    );
    assert_eq!(
        store.mail(ids[0]).unwrap().unwrap().last_error.as_deref(),
        Some("550 mailbox unknown")
    );
    assert!(!store.bounce_mail("<nobody@urne.test>", "x", t).unwrap());
    store.purge_personal_data(id).unwrap();
}

/// The report counts an election's mails by status; the list gives them by id without their
/// messages, all or of one status.
pub fn mail_report_and_list(store: &dyn Store) {
    let id = "cf-mail-report";
    let other = "cf-mail-report-other";
    election_with_roll(store, id, Phase::Setup, 1);
    election_with_roll(store, other, Phase::Setup, 1);
    let t = 8_000_000_000;
    assert_eq!(store.mail_report(id).unwrap(), MailReport::default());
    assert!(store.mail_list(id, None).unwrap().is_empty());
    let message_ids: Vec<String> = (0..7).map(|i| format!("<r{i}@urne.test>")).collect();
    let mails: Vec<NewMail<'_>> = message_ids
        .iter()
        .map(|m| new_mail("v000", "credential", m))
        .collect();
    let ids = store.enqueue_mail(id, &mails, t).unwrap();
    store
        .enqueue_mail(other, &[new_mail("v000", "code", "<r-other@urne.test>")], t)
        .unwrap();
    store.update_mail(ids[0], &MailUpdate::Sent, t).unwrap();
    store.update_mail(ids[1], &MailUpdate::Sent, t).unwrap();
    store.update_mail(ids[2], &MailUpdate::Sent, t).unwrap();
    store
        .update_mail(ids[3], &MailUpdate::Failed { error: "x" }, t)
        .unwrap();
    store
        .update_mail(ids[4], &MailUpdate::Bounced { error: "y" }, t)
        .unwrap();
    store
        .update_mail(
            ids[5],
            &MailUpdate::Retry {
                at: t + 5,
                error: "z",
            },
            t,
        )
        .unwrap();
    assert_eq!(
        store.mail_report(id).unwrap(),
        MailReport {
            queued: 2,
            sent: 3,
            failed: 1,
            bounced: 1
        }
    );
    let all = store.mail_list(id, None).unwrap();
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert!(all.iter().all(|m| m.message.is_empty() && m.election == id));
    assert_eq!(all[5].last_error.as_deref(), Some("z"));
    let queued = store.mail_list(id, Some(MailStatus::Queued)).unwrap();
    assert_eq!(
        queued.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[5], ids[6]]
    );
    assert!(queued.iter().all(|m| m.message.is_empty()));
    assert_eq!(
        store.mail_list(id, Some(MailStatus::Sent)).unwrap().len(),
        3
    );
    assert_eq!(
        store
            .mail_list(id, Some(MailStatus::Bounced))
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        [ids[4]]
    );
    // The queued mail's message is still stored, for its sending.
    assert_eq!(
        store.mail(ids[6]).unwrap().unwrap().message,
        b"<r6@urne.test>"
    );
    let none = "cf-mail-report-none";
    is_no_election(store.mail_report(none), none);
    is_no_election(store.mail_list(none, None), none);
    store.purge_personal_data(id).unwrap();
    store.purge_personal_data(other).unwrap();
}

/// Purging an election's personal data deletes its roll, codes, voter sessions and mail, and
/// nothing else: not its board, not its messages, not another election's data.
pub fn purge_personal_data(store: &dyn Store) {
    let t = 9_000_000_000;
    let ids = ["cf-purge", "cf-purge-kept"];
    for id in ids {
        election_with_roll(store, id, Phase::Open, 5);
        store.link_credential(id, "v001", &key(b'P', 1), t).unwrap();
        store.mark_voted(id, &["v001", "v003"], t).unwrap();
        store
            .put_code(id, "v002", &key(b'P', 2), t + 600, t, 5)
            .unwrap();
        store
            .put_code(id, "v004", &key(b'P', 4), t + 600, t, 5)
            .unwrap();
        let session = key(b'P', if id == ids[0] { 10 } else { 11 });
        store
            .create_voter_session(&session, id, "v001", t + 600)
            .unwrap();
        let message_ids: Vec<String> = (0..3).map(|i| format!("<p{i}-{id}@urne.test>")).collect();
        let mails: Vec<NewMail<'_>> = message_ids
            .iter()
            .map(|m| new_mail("v001", "credential", m))
            .collect();
        let mail_ids = store.enqueue_mail(id, &mails, t).unwrap();
        store
            .update_mail(mail_ids[0], &MailUpdate::Sent, t)
            .unwrap();
        append_items(store, id, &[ballot(1, 1), ballot(2, 2)], false, t, "purge").unwrap();
        store.put_message(id, "trustee", 1, "{}", t).unwrap();
    }
    store.create_admin("cf-purge-admin", "h", 1).unwrap();
    store
        .create_session(&key(b'P', 20), "cf-purge-admin", t + 600)
        .unwrap();
    let before = |id: &str| {
        (
            store.election(id).unwrap().unwrap(),
            store.lines(id, 0, u64::MAX).unwrap(),
            store.messages(id, None, 0).unwrap(),
        )
    };
    let (board_before, kept_before) = (before(ids[0]), before(ids[1]));
    let kept_roll = whole_roll(store, ids[1]);
    let kept_mail = store.mail_list(ids[1], None).unwrap();

    let counts = store.purge_personal_data(ids[0]).unwrap();
    assert_eq!(
        counts,
        PurgeCounts {
            voters: 5,
            codes: 2,
            sessions: 1,
            mail: 3
        }
    );
    let id = ids[0];
    assert!(whole_roll(store, id).is_empty());
    assert_eq!(store.roll_stats(id).unwrap(), RollStats::default());
    assert!(store.voted(id).unwrap().is_empty());
    assert_eq!(store.voter_session(&key(b'P', 10), t).unwrap(), None);
    assert_eq!(
        store.check_code(id, "v002", &key(b'P', 2), t, 5).unwrap(),
        CodeCheck::NoCode
    );
    assert!(store.mail_list(id, None).unwrap().is_empty());
    assert_eq!(store.mail_report(id).unwrap(), MailReport::default());
    assert!(
        !store
            .bounce_mail("<p1-cf-purge@urne.test>", "x", t)
            .unwrap()
    );
    // Nothing else: the board, the messages, the other election, administrators' sessions.
    assert_eq!(before(id), board_before);
    assert_eq!(before(ids[1]), kept_before);
    assert_eq!(whole_roll(store, ids[1]), kept_roll);
    assert_eq!(store.mail_list(ids[1], None).unwrap(), kept_mail);
    assert_eq!(
        store.voter_session(&key(b'P', 11), t).unwrap(),
        Some((ids[1].to_owned(), "v001".to_owned()))
    );
    assert_eq!(
        store
            .check_code(ids[1], "v002", &key(b'P', 2), t, 5)
            .unwrap(),
        CodeCheck::Valid
    );
    assert_eq!(
        store.session(&key(b'P', 20), t).unwrap().as_deref(),
        Some("cf-purge-admin")
    );
    // Twice: nothing left to delete.
    assert_eq!(
        store.purge_personal_data(id).unwrap(),
        PurgeCounts::default()
    );
    // Mail ids are not given again after a purge.
    let next = store
        .enqueue_mail(id, &[new_mail("v001", "code", "<p-after@urne.test>")], t)
        .unwrap();
    assert!(next[0] > kept_mail.last().unwrap().id);
    is_no_election(store.purge_personal_data("cf-purge-none"), "cf-purge-none");
    store.purge_personal_data(id).unwrap();
    store.purge_personal_data(ids[1]).unwrap();
}
