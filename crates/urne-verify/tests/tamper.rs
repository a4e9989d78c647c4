//! The tamper suite: an honest record is accepted; each way of cheating is rejected with its
//! check id; batch and one-by-one verification agree on every case.
//!
//! Most cases model a server that rewrites the record *consistently*: lines renumbered and the
//! tree head recomputed, so that only the check about the cheat itself can catch it. The log
//! cases (reorder, truncate) leave the numbering or the tree head stale on purpose.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::io::Cursor;
use std::sync::OnceLock;

use urne_core::Scalar;
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::{Credential, CredentialKey};
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::group::Point;
use urne_core::tally::TallyAccumulator;
use urne_core::testkit::{ElectionBuilder, Setup};
use urne_verify::merkle::leaf_hash;
use urne_verify::record::{
    BallotEntry, BoothEntry, BoothFile, CredentialEntry, Entry, Line, Revocation, parse_line,
};
use urne_verify::simulate::{SimConfig, replacement_label, rng_for, simulate, simulate_revoking};
use urne_verify::{Options, Report, verify, verify_since};

#[path = "support/records.rs"]
mod records;

use records::{lines_of, write_lines};

const SEED: u64 = 2026;
const VOTERS: usize = 24;

struct Honest {
    setup: Setup,
    lines: Vec<Line>,
}

/// An honest record of 24 voters, a fifth of whom vote twice; two questions, one with a blank
/// vote; three trustees.
fn honest() -> &'static Honest {
    static H: OnceLock<Honest> = OnceLock::new();
    H.get_or_init(|| {
        let setup = ElectionBuilder::single_question("tamper", 4, 1, 1)
            .question(3, 1, 2, true)
            .trustees(3)
            .build(&mut rng_for(Some(SEED), u64::MAX));
        let cfg = SimConfig {
            voters: VOTERS,
            revote_percent: 20,
            seed: Some(SEED),
            chunk: 7,
        };
        let mut bytes = Vec::new();
        let outcome = simulate(&setup, &cfg, &mut bytes, &|_, _| {}).unwrap();
        assert_eq!(outcome.result, outcome.expected);
        let lines = lines_of(&bytes);
        Honest { setup, lines }
    })
}

fn election() -> &'static Election {
    &honest().setup.election
}

/// The credential key of simulated voter `v` (the simulation derives it from the seed).
fn voter_key(v: usize) -> CredentialKey {
    Credential::generate(&mut rng_for(Some(SEED), v as u64)).derive_key("tamper")
}

/// Writes lines as a record: renumbered from 0 when `renumber`, and ended with a tree head that
/// is recomputed when `rehead` (else the honest record's head).
fn write(lines: &[Line], renumber: bool, rehead: bool) -> Vec<u8> {
    let head = (!rehead).then(|| {
        let honest = write(&honest().lines, true, true);
        let last = honest
            .split(|&b| b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap();
        match parse_line(0, last).unwrap().entry {
            Entry::TreeHead(h) => h,
            _ => unreachable!(),
        }
    });
    write_lines(lines, renumber, head)
}

fn check(record: &[u8], batch: bool) -> Report {
    let options = Options {
        batch,
        chunk: 5,
        batch_size: 3,
        ..Options::default()
    };
    verify(Cursor::new(record), &options, &|_| {}).unwrap()
}

/// Verifies in both modes, asserts they agree, and returns the batch report.
fn both(record: &[u8]) -> Report {
    let batch = check(record, true);
    let alone = check(record, false);
    assert_eq!(
        batch.failed_checks(),
        alone.failed_checks(),
        "batch and one-by-one disagree"
    );
    assert_eq!(
        batch.failures, alone.failures,
        "batch and one-by-one name different failures"
    );
    assert_eq!(batch.valid, alone.valid);
    batch
}

fn assert_rejected(record: &[u8], expected: &str) -> Report {
    let r = both(record);
    assert!(!r.valid, "a record tampered for {expected} was accepted");
    assert!(
        r.has_failure(expected),
        "expected {expected}, got {:?}: {:#?}",
        r.failed_checks(),
        r.failures
    );
    r
}

fn ballot_positions(lines: &[Line]) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l.entry, Entry::Ballot(_)))
        .map(|(i, _)| i)
        .collect()
}

fn position_of(lines: &[Line], kind: &str) -> usize {
    lines.iter().position(|l| l.entry.kind() == kind).unwrap()
}

fn ballot_mut(line: &mut Line) -> &mut BallotEntry {
    match &mut line.entry {
        Entry::Ballot(b) => b,
        _ => panic!("not a ballot line"),
    }
}

/// Appends `ballot` as the last ballot before the close line, cast when the last one was.
fn cast_before_close(lines: &mut Vec<Line>, ballot: Ballot) {
    let at = position_of(lines, "close");
    let cast_at = ballot_mut(&mut lines[at - 1]).cast_at;
    let entry = BallotEntry {
        cast_at,
        tracker: ballot.tracker(),
        ballot,
    };
    lines.insert(
        at,
        Line {
            seq: 0,
            entry: Entry::Ballot(Box::new(entry)),
        },
    );
}

fn bump_point(p: &mut Point) {
    *p = Point::from_element(p.element() + Point::generator().element());
}

#[test]
fn honest_record_is_valid_and_complete() {
    let r = both(&write(&honest().lines, true, true));
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    assert_eq!(r.stage, "published");
    assert_eq!(r.credentials, VOTERS as u64);
    assert_eq!(r.ballots_counted, VOTERS as u64);
    assert!(r.ballots_cast > VOTERS as u64, "some voters revoted");
}

#[test]
fn rejects_dropped_ballot() {
    // The last ballot is a revote, so it counts. (Dropping a replaced ballot changes no count:
    // only its voter, checking the board, or an observer holding an older tree head sees it.)
    let mut lines = honest().lines.clone();
    lines.remove(*ballot_positions(&lines).last().unwrap());
    assert_rejected(&write(&lines, true, true), "V-14");
}

#[test]
fn rejects_duplicated_ballot() {
    let mut lines = honest().lines.clone();
    // Replayed at the end with a plausible casting time: the tracker gives it away.
    let mut copy = lines[ballot_positions(&lines)[2]].clone();
    let at = position_of(&lines, "close");
    ballot_mut(&mut copy).cast_at = ballot_mut(&mut lines[at - 1]).cast_at;
    lines.insert(at, copy);
    let r = assert_rejected(&write(&lines, true, true), "V-13");
    assert_eq!(r.failed_checks(), vec!["V-13"]);
}

#[test]
fn rejects_altered_ciphertext() {
    let mut lines = honest().lines.clone();
    let i = ballot_positions(&lines)[4];
    let entry = ballot_mut(&mut lines[i]);
    bump_point(&mut entry.ballot.answers[0].choices[1].beta);
    entry.tracker = entry.ballot.tracker();
    let tracker = entry.tracker.to_string();
    let r = assert_rejected(&write(&lines, true, true), "V-9");
    let f = r.failures.iter().find(|f| f.check == "V-9").unwrap();
    assert_eq!(f.item, "ballot.answers[0].choice_proofs[1]");
    assert_eq!(f.tracker.as_deref(), Some(tracker.as_str()));
}

#[test]
fn rejects_altered_proof() {
    let mut lines = honest().lines.clone();
    let i = ballot_positions(&lines)[5];
    let entry = ballot_mut(&mut lines[i]);
    entry.ballot.answers[1].choice_proofs[2].branches[0].z[0] += Scalar::ONE;
    entry.tracker = entry.ballot.tracker();
    let r = assert_rejected(&write(&lines, true, true), "V-9");
    assert!(
        r.failures
            .iter()
            .any(|f| f.item == "ballot.answers[1].choice_proofs[2]")
    );
}

#[test]
fn rejects_ballot_from_unknown_credential() {
    let mut lines = honest().lines.clone();
    let stranger = Credential::generate(&mut rng_for(Some(7), 7)).derive_key("tamper");
    let mut rng = rng_for(Some(8), 8);
    let vote = [QuestionVote::Selected(vec![0]), QuestionVote::Blank];
    let ballot = Ballot::create(&mut rng, election(), &stranger, &vote).unwrap();
    cast_before_close(&mut lines, ballot);
    let r = assert_rejected(&write(&lines, true, true), "V-7");
    assert_eq!(r.failed_checks(), vec!["V-7"]);
}

#[test]
fn rejects_proof_copied_into_another_voters_ballot() {
    // Voter 1 builds a ballot, replaces its first answer with voter 0's (ciphertexts and proofs),
    // and signs it: a valid signature, but the proofs were made for voter 0's credential.
    let mut lines = honest().lines.clone();
    let p0 = ballot_positions(&lines)[0];
    let first = ballot_mut(&mut lines[p0]).ballot.clone();
    let key = voter_key(1);
    assert_ne!(key.public(), &first.credential);
    let mut rng = rng_for(Some(9), 9);
    let vote = [
        QuestionVote::Selected(vec![2]),
        QuestionVote::Selected(vec![0]),
    ];
    let mut ballot = Ballot::create(&mut rng, election(), &key, &vote).unwrap();
    ballot.answers[0] = first.answers[0].clone();
    ballot.sign(&mut rng, &key);
    cast_before_close(&mut lines, ballot);
    let r = assert_rejected(&write(&lines, true, true), "V-9");
    assert!(!r.has_failure("V-8"), "the signature itself is valid");
}

#[test]
fn rejects_old_revote_counted_instead_of_latest() {
    // The server counts each revoter's first ballot and drops the latest.
    let mut lines = honest().lines.clone();
    let e = election();
    let mut first: std::collections::HashMap<Point, Ballot> = Default::default();
    let mut last: std::collections::HashMap<Point, Ballot> = Default::default();
    for l in &lines {
        if let Entry::Ballot(b) = &l.entry {
            first
                .entry(b.ballot.credential)
                .or_insert_with(|| b.ballot.clone());
            last.insert(b.ballot.credential, b.ballot.clone());
        }
    }
    assert!(first.values().zip(last.values()).count() > 0);
    let mut acc = TallyAccumulator::new(e);
    for b in first.values() {
        acc.add(b, 1);
    }
    let t = position_of(&lines, "tally");
    if let Entry::Tally(tally) = &mut lines[t].entry {
        assert_ne!(tally.tally, acc.finish(), "the record has revotes");
        tally.tally = acc.finish();
    }
    assert_rejected(&write(&lines, true, true), "V-14");
}

#[test]
fn rejects_ballot_after_closing() {
    let mut lines = honest().lines.clone();
    let mut rng = rng_for(Some(10), 10);
    let vote = [
        QuestionVote::Selected(vec![3]),
        QuestionVote::Selected(vec![1, 2]),
    ];
    let ballot = Ballot::create(&mut rng, election(), &voter_key(5), &vote).unwrap();
    let cast_at = e_closes();
    let entry = BallotEntry {
        cast_at,
        tracker: ballot.tracker(),
        ballot,
    };
    lines.insert(
        position_of(&lines, "close") + 1,
        Line {
            seq: 0,
            entry: Entry::Ballot(Box::new(entry)),
        },
    );
    assert_rejected(&write(&lines, true, true), "V-12");
}

fn e_closes() -> urne_core::manifest::Timestamp {
    election().manifest().closes_at
}

#[test]
fn rejects_changed_count_in_result() {
    let mut lines = honest().lines.clone();
    let r = position_of(&lines, "result");
    if let Entry::Result(result) = &mut lines[r].entry {
        result.questions[1].counts[0] += 1;
    }
    let report = assert_rejected(&write(&lines, true, true), "V-17");
    assert_eq!(report.failed_checks(), vec!["V-17"]);
}

#[test]
fn rejects_changed_decryption_factor() {
    let mut lines = honest().lines.clone();
    let p = position_of(&lines, "partial_decryption") + 1;
    if let Entry::PartialDecryption(pd) = &mut lines[p].entry {
        bump_point(&mut pd.factors[2].factor);
    }
    let r = assert_rejected(&write(&lines, true, true), "V-15");
    assert!(
        r.failures.iter().any(|f| f.item == "trustee 2 factor 2"),
        "{:#?}",
        r.failures
    );
}

#[test]
fn rejects_forged_trustee_key_proof() {
    let mut lines = honest().lines.clone();
    let m = position_of(&lines, "manifest");
    if let Entry::Manifest(manifest) = &mut lines[m].entry {
        manifest.trustees[1].key_proof.s += Scalar::ONE;
    }
    let r = assert_rejected(&write(&lines, true, true), "V-3");
    assert!(r.failures.iter().any(|f| f.item == "trustees[1].key_proof"));
}

#[test]
fn rejects_reordered_log() {
    let mut lines = honest().lines.clone();
    let b = ballot_positions(&lines);
    lines.swap(b[1], b[6]);
    // Stale numbering and head: the positions give it away.
    assert_rejected(&write(&lines, false, false), "V-18");
    // Renumbered with a fresh head: the casting times still run backwards.
    assert_rejected(&write(&lines, true, true), "V-18");
}

#[test]
fn rejects_truncated_log() {
    let honest_bytes = write(&honest().lines, true, true);
    let mut cut: Vec<&[u8]> = honest_bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    cut.truncate(cut.len() - 4);
    let record: Vec<u8> = cut
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    let r = assert_rejected(&record, "V-18");
    assert!(r.failures.iter().any(|f| f.detail.contains("truncated")));
    // Lines cut from the middle under the old tree head.
    let mut lines = honest().lines.clone();
    let b = ballot_positions(&lines);
    lines.drain(b[2]..b[4]);
    assert_rejected(&write(&lines, false, false), "V-18");
}

#[test]
fn rejects_swapped_manifest_with_other_answers() {
    let mut lines = honest().lines.clone();
    let m = position_of(&lines, "manifest");
    if let Entry::Manifest(manifest) = &mut lines[m].entry {
        manifest.questions[0].answers[2] = "Someone else".into();
    }
    let r = assert_rejected(&write(&lines, true, true), "V-6");
    assert!(r.failures.iter().filter(|f| f.check == "V-6").count() >= VOTERS);
}

#[test]
fn rejects_unknown_record_version_clearly() {
    let mut lines = honest().lines.clone();
    if let Entry::Header(h) = &mut lines[0].entry {
        h.format = "urne/record/v9".into();
    }
    let r = assert_rejected(&write(&lines, true, true), "V-1");
    assert!(
        r.failures[0]
            .detail
            .contains("not a record format this verifier knows")
    );
    assert_eq!(r.failed_checks(), vec!["V-1"]);
}

#[test]
fn rejects_malformed_ballot_line_naming_the_field() {
    let record = write(&honest().lines, true, true);
    let text = String::from_utf8(record).unwrap();
    let bad = text.replacen("\"alpha\":\"", "\"alpha\":\"!", 1);
    let r = assert_rejected(bad.as_bytes(), "V-5");
    let f = r.failures.iter().find(|f| f.check == "V-5").unwrap();
    assert_eq!(f.item, "ballot.answers[0].choices[0].alpha");
}

#[test]
fn snapshot_in_progress_is_valid_and_extended_by_the_final_record() {
    let lines = &honest().lines;
    let b = ballot_positions(lines);
    let snapshot = write(&lines[..b[10]], true, true);
    let r = both(&snapshot);
    assert!(r.valid && !r.complete, "{:#?}", r.failures);
    assert_eq!(r.stage, "open");
    let full = write(lines, true, true);
    let since = verify_since(Cursor::new(&snapshot), Cursor::new(&full)).unwrap();
    assert!(since.extends, "{:#?}", since.failures);
    assert_eq!(since.old_size, b[10] as u64);
    // A final record that rewrote an early ballot does not extend the snapshot.
    let mut rewritten = lines.clone();
    let other = ballot_mut(&mut rewritten[b[12]].clone()).ballot.clone();
    let entry = ballot_mut(&mut rewritten[b[3]]);
    entry.ballot = other;
    entry.tracker = entry.ballot.tracker();
    let since = verify_since(
        Cursor::new(&snapshot),
        Cursor::new(write(&rewritten, true, true)),
    )
    .unwrap();
    assert!(!since.extends);
    assert_eq!(since.failures[0].check, "V-18");
}

#[test]
fn rejects_overlong_line_without_reading_it_whole() {
    // One ballot line padded to over 64 KiB under a 32 KiB limit (honest lines here are under
    // 8 KiB): reported and skipped, and every other line still read.
    let lines = &honest().lines;
    let i = ballot_positions(lines)[1];
    let text = String::from_utf8(write(lines, true, true)).unwrap();
    let target = text.lines().nth(i).unwrap().to_owned();
    let long = target.replacen(
        "{\"seq\"",
        &format!("{{\"pad\":\"{}\",\"seq\"", "x".repeat(64 << 10)),
        1,
    );
    let record = text.replacen(&target, &long, 1).into_bytes();
    for batch in [true, false] {
        let options = Options {
            batch,
            max_line_bytes: 32 << 10,
            ..Options::default()
        };
        let r = verify(Cursor::new(&record), &options, &|_| {}).unwrap();
        assert!(!r.valid);
        let over: Vec<_> = r
            .failures
            .iter()
            .filter(|f| f.detail.contains("longer than 32768"))
            .collect();
        assert_eq!(over.len(), 1, "{:#?}", r.failures);
        assert_eq!(
            (over[0].check.as_str(), over[0].line),
            ("V-18", Some(i as u64 + 1))
        );
        assert_eq!(
            r.lines,
            lines.len() as u64 + 1,
            "every line was still counted"
        );
    }
}

/// An honest record under threshold sharing: 2 of 3 trustees, a key-generation ceremony.
fn honest_threshold() -> &'static Vec<Line> {
    static H: OnceLock<Vec<Line>> = OnceLock::new();
    H.get_or_init(|| {
        let setup = ElectionBuilder::single_question("tamper-t", 3, 1, 1)
            .trustees(3)
            .threshold(2)
            .build(&mut rng_for(Some(SEED), u64::MAX));
        let cfg = SimConfig {
            voters: 8,
            revote_percent: 0,
            seed: Some(SEED),
            chunk: 3,
        };
        let mut bytes = Vec::new();
        simulate(&setup, &cfg, &mut bytes, &|_, _| {}).unwrap();
        lines_of(&bytes)
    })
}

#[test]
fn threshold_record_is_valid_with_its_ceremony() {
    let r = both(&write(honest_threshold(), true, true));
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    let c = r.ceremony.unwrap();
    assert_eq!(c.qualified, vec![1, 2, 3]);
}

#[test]
fn rejects_ceremony_rewritten_after_the_fact() {
    // A dealing's commitments changed: its signature fails, the dealer is left without a dealing,
    // and the ceremony's key is no longer the manifest's (V-3).
    let mut lines = honest_threshold().clone();
    let d = position_of(&lines, "dealing");
    if let Entry::Dealing(dealing) = &mut lines[d].entry {
        bump_point(&mut dealing.commitment.coefficients[1]);
    }
    let r = assert_rejected(&write(&lines, true, true), "V-3");
    assert!(
        r.failures.iter().any(|f| f.item == "public_key"),
        "{:#?}",
        r.failures
    );
    // A dealing dropped from the record: the same.
    let mut lines = honest_threshold().clone();
    lines.remove(position_of(&lines, "dealing") + 1);
    assert_rejected(&write(&lines, true, true), "V-3");
}

#[test]
fn rejects_threshold_factor_or_too_few_trustees() {
    let mut lines = honest_threshold().clone();
    let p = position_of(&lines, "partial_decryption");
    if let Entry::PartialDecryption(pd) = &mut lines[p].entry {
        bump_point(&mut pd.factors[0].factor);
    }
    assert_rejected(&write(&lines, true, true), "V-15");
    let mut lines = honest_threshold().clone();
    lines.remove(position_of(&lines, "partial_decryption"));
    assert_rejected(&write(&lines, true, true), "V-16");
}

#[test]
fn rejects_ceremony_lines_under_independent_keys() {
    let mut lines = honest().lines.clone();
    let dealing = honest_threshold()[position_of(honest_threshold(), "dealing")].clone();
    lines.insert(position_of(&lines, "manifest") + 1, dealing);
    assert_rejected(&write(&lines, true, true), "V-18");
}

// Replacing a lost credential before voting opens (spec §5.5).

/// Simulates `setup` with the credentials of its first `revoked` voters replaced before opening,
/// checks the simulation's own count, and returns the record's lines without the tree head.
fn simulate_lines(setup: &Setup, cfg: &SimConfig, revoked: usize) -> Vec<Line> {
    let mut bytes = Vec::new();
    let outcome = simulate_revoking(setup, cfg, revoked, &mut bytes, &|_, _| {}).unwrap();
    assert_eq!(outcome.result, outcome.expected);
    lines_of(&bytes)
}

/// Voters whose credential the revoking records replace.
const REVOKED: usize = 3;

/// The honest election of [`honest`], with the credentials of its first [`REVOKED`] voters
/// replaced before opening.
fn honest_revoking() -> &'static Vec<Line> {
    static H: OnceLock<Vec<Line>> = OnceLock::new();
    H.get_or_init(|| {
        let cfg = SimConfig {
            voters: VOTERS,
            revote_percent: 20,
            seed: Some(SEED),
            chunk: 7,
        };
        simulate_lines(&honest().setup, &cfg, REVOKED)
    })
}

/// The replacement credential key of simulated voter `v`.
fn replacement_key(v: usize) -> CredentialKey {
    Credential::generate(&mut rng_for(Some(SEED), replacement_label(v))).derive_key("tamper")
}

fn revocation(key: &CredentialKey) -> Line {
    Line {
        seq: 0,
        entry: Entry::Revocation(Revocation {
            credential: *key.public(),
        }),
    }
}

fn credential(key: &CredentialKey) -> Line {
    Line {
        seq: 0,
        entry: Entry::Credential(CredentialEntry {
            credential: *key.public(),
            weight: 1,
        }),
    }
}

fn positions(lines: &[Line], kind: &str) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.entry.kind() == kind)
        .map(|(i, _)| i)
        .collect()
}

fn failure_with<'r>(r: &'r Report, check: &str, text: &str) -> &'r urne_verify::Failure {
    r.failures
        .iter()
        .find(|f| f.check == check && f.detail.contains(text))
        .unwrap_or_else(|| panic!("no {check} failure saying `{text}`: {:#?}", r.failures))
}

#[test]
fn honest_record_with_one_revocation_is_valid() {
    let cfg = SimConfig {
        voters: 6,
        revote_percent: 50,
        seed: Some(SEED),
        chunk: 4,
    };
    let lines = simulate_lines(&honest().setup, &cfg, 1);
    let r = both(&write(&lines, true, true));
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    assert_eq!((r.credentials, r.revoked), (6, 1));
    assert_eq!(r.ballots_counted, 6);
    // The revocation names voter 0's first credential, and its replacement follows.
    let at = position_of(&lines, "revocation");
    assert_eq!(
        lines[at].entry,
        revocation(&voter_key(0)).entry,
        "the revoked credential is voter 0's"
    );
    assert_eq!(lines[at + 1].entry, credential(&replacement_key(0)).entry);
    assert_eq!(lines[at + 2].entry.kind(), "open");
}

#[test]
fn honest_record_with_several_revocations_is_valid() {
    let lines = honest_revoking();
    let r = both(&write(lines, true, true));
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    assert_eq!(r.credentials, VOTERS as u64);
    assert_eq!(r.revoked, REVOKED as u64);
    assert_eq!(r.ballots_counted, VOTERS as u64);
    assert_eq!(positions(lines, "revocation").len(), REVOKED);
    assert_eq!(positions(lines, "credential").len(), VOTERS + REVOKED);
    // A snapshot taken between the replacements and the opening is a valid setup.
    let snapshot = both(&write(&lines[..position_of(lines, "open")], true, true));
    assert!(
        snapshot.valid && !snapshot.complete,
        "{:#?}",
        snapshot.failures
    );
    assert_eq!(
        (snapshot.stage, snapshot.revoked),
        ("setup", REVOKED as u64)
    );
}

#[test]
fn threshold_record_with_a_revocation_after_the_ceremony_is_valid() {
    let setup = ElectionBuilder::single_question("tamper-t", 3, 1, 1)
        .trustees(3)
        .threshold(2)
        .build(&mut rng_for(Some(SEED), u64::MAX));
    let cfg = SimConfig {
        voters: 5,
        revote_percent: 0,
        seed: Some(SEED),
        chunk: 3,
    };
    let lines = simulate_lines(&setup, &cfg, 2);
    let r = both(&write(&lines, true, true));
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    assert_eq!((r.credentials, r.revoked), (5, 2));
    // Inside the ceremony, a revocation is out of place.
    let mut moved = lines.clone();
    let at = position_of(&moved, "revocation");
    let pair: Vec<Line> = moved.drain(at..at + 2).collect();
    let first_answer = positions(&moved, "dealing")[1];
    moved.splice(first_answer..first_answer, pair);
    assert_rejected(&write(&moved, true, true), "V-18");
}

#[test]
fn rejects_revocation_after_opening() {
    // The server revokes a credential once voting has started, after its voter cast a ballot.
    let mut lines = honest().lines.clone();
    let b = ballot_positions(&lines);
    let voter = ballot_mut(&mut lines[b[3]]).ballot.credential;
    let line = Line {
        seq: 0,
        entry: Entry::Revocation(Revocation { credential: voter }),
    };
    lines.splice(b[5]..b[5], [line, credential(&replacement_key(3))]);
    let r = assert_rejected(&write(&lines, true, true), "V-18");
    let f = r.failures.iter().find(|f| f.check == "V-18").unwrap();
    assert_eq!(f.line, Some(b[5] as u64 + 1));
    // The revocation is not applied: the voter's ballots are still eligible.
    assert!(!r.has_failure("V-7"), "{:#?}", r.failures);
    // The pair moved just after the `open` line: the same.
    let mut lines = honest_revoking().clone();
    let at = position_of(&lines, "revocation");
    let pair: Vec<Line> = lines.drain(at..at + 2).collect();
    let open = position_of(&lines, "open");
    lines.splice(open + 1..open + 1, pair);
    assert_rejected(&write(&lines, true, true), "V-18");
}

#[test]
fn rejects_revocation_of_unknown_credential() {
    let mut lines = honest_revoking().clone();
    let at = position_of(&lines, "revocation");
    let stranger = Credential::generate(&mut rng_for(Some(7), 7)).derive_key("tamper");
    lines[at] = revocation(&stranger);
    let r = assert_rejected(&write(&lines, true, true), "V-4");
    // Voter 0's first credential is still eligible; no ballot uses it, so nothing else fails.
    assert_eq!(r.failed_checks(), vec!["V-4"]);
    let f = failure_with(&r, "V-4", "not listed on an earlier credential line");
    assert_eq!(
        (f.line, f.item.as_str()),
        (Some(at as u64 + 1), "credential")
    );
    assert_eq!(r.revoked, REVOKED as u64 - 1);
}

#[test]
fn rejects_revocation_of_a_replacement_listed_after_it() {
    // A revocation only names a credential listed on an earlier line.
    let mut lines = honest_revoking().clone();
    let at = position_of(&lines, "revocation");
    lines[at] = revocation(&replacement_key(0));
    let r = assert_rejected(&write(&lines, true, true), "V-4");
    failure_with(&r, "V-4", "not listed on an earlier credential line");
}

#[test]
fn rejects_credential_revoked_twice() {
    let mut lines = honest_revoking().clone();
    let open = position_of(&lines, "open");
    let another = Credential::generate(&mut rng_for(Some(11), 11)).derive_key("tamper");
    lines.splice(
        open..open,
        [revocation(&voter_key(0)), credential(&another)],
    );
    let r = assert_rejected(&write(&lines, true, true), "V-4");
    assert_eq!(r.failed_checks(), vec!["V-4"]);
    let f = failure_with(&r, "V-4", "already revoked");
    assert_eq!(f.line, Some(open as u64 + 1));
}

#[test]
fn rejects_revoked_credential_listed_again() {
    // Voter 1's credential revoked, and voter 0's revoked one put back in its place.
    let mut lines = honest_revoking().clone();
    let open = position_of(&lines, "open");
    lines.splice(
        open..open,
        [revocation(&replacement_key(1)), credential(&voter_key(0))],
    );
    let r = assert_rejected(&write(&lines, true, true), "V-4");
    let f = failure_with(&r, "V-4", "a revoked credential is not listed again");
    assert_eq!(f.line, Some(open as u64 + 2));
    // Voter 1's ballots, under the credential now revoked, no longer count.
    assert!(r.has_failure("V-7"));
    // Listed again on its own, without a revocation before it: refused as well.
    let mut lines = honest_revoking().clone();
    let open = position_of(&lines, "open");
    lines.insert(open, credential(&voter_key(2)));
    let r = assert_rejected(&write(&lines, true, true), "V-4");
    failure_with(&r, "V-4", "a revoked credential is not listed again");
}

#[test]
fn rejects_ballot_under_revoked_credential() {
    let mut lines = honest_revoking().clone();
    let mut rng = rng_for(Some(12), 12);
    let vote = [QuestionVote::Selected(vec![1]), QuestionVote::Blank];
    let ballot = Ballot::create(&mut rng, election(), &voter_key(1), &vote).unwrap();
    let tracker = ballot.tracker().to_string();
    cast_before_close(&mut lines, ballot.clone());
    let r = assert_rejected(&write(&lines, true, true), "V-7");
    // The honest tally left it out, so only eligibility fails.
    assert_eq!(r.failed_checks(), vec!["V-7"]);
    let f = failure_with(&r, "V-7", "was revoked on line");
    assert_eq!(f.tracker.as_deref(), Some(tracker.as_str()));
    assert_eq!(f.item, "ballot.credential");
    // A server that counts it anyway gets the tally wrong as well.
    let t = position_of(&lines, "tally");
    if let Entry::Tally(tally) = &mut lines[t].entry {
        let mut acc = TallyAccumulator::new(election());
        acc.add(&ballot, 1);
        let mut sum = tally.tally.clone();
        for (q, extra) in sum.questions.iter_mut().zip(acc.finish().questions) {
            let ours = q.choices.iter_mut().chain(q.blank.as_mut());
            for (c, e) in ours.zip(extra.choices.iter().chain(extra.blank.as_ref())) {
                *c = Ciphertext::sum([&*c, e]);
            }
        }
        tally.tally = sum;
        tally.ballots += 1;
        tally.total_weight += 1;
    }
    let r = assert_rejected(&write(&lines, true, true), "V-14");
    assert!(r.has_failure("V-7"));
}

#[test]
fn rejects_revocation_before_the_manifest() {
    let mut lines = honest_revoking().clone();
    let at = position_of(&lines, "revocation");
    let line = lines.remove(at);
    lines.insert(position_of(&lines, "manifest"), line);
    let r = assert_rejected(&write(&lines, true, true), "V-18");
    failure_with(&r, "V-18", "a revocation before the manifest");
}

#[test]
fn rejects_revocation_without_its_replacement() {
    let mut lines = honest_revoking().clone();
    let at = positions(&lines, "revocation")[REVOKED - 1];
    lines.remove(at + 1);
    let r = assert_rejected(&write(&lines, true, true), "V-4");
    let f = failure_with(&r, "V-4", "not followed by the credential that replaces it");
    assert_eq!(f.line, Some(at as u64 + 2), "named on the `open` line");
    // The voter's ballots under the replacement that never was listed do not count.
    assert!(r.has_failure("V-7"));
}

#[test]
fn rejects_credential_added_after_the_revocations() {
    // A new credential after a revocation that does not replace one: the list grew after sealing.
    let mut lines = honest_revoking().clone();
    let open = position_of(&lines, "open");
    let extra = Credential::generate(&mut rng_for(Some(13), 13)).derive_key("tamper");
    lines.insert(open, credential(&extra));
    let r = assert_rejected(&write(&lines, true, true), "V-4");
    assert_eq!(r.failed_checks(), vec!["V-4"]);
    let f = failure_with(&r, "V-4", "as its replacement");
    assert_eq!((f.line, f.item.as_str()), (Some(open as u64 + 1), "type"));
}

/// A `booth` line listing `paths` in the given order, each with a digest made from its path.
fn booth(paths: &[&str]) -> Line {
    let files = paths
        .iter()
        .map(|p| BoothFile {
            path: (*p).to_owned(),
            sha256: leaf_hash(p.as_bytes()),
        })
        .collect();
    Line {
        seq: 0,
        entry: Entry::Booth(BoothEntry { files }),
    }
}

const BOOTH_PATHS: [&str; 3] = ["/static/app.js", "/static/deps.js", "/vote/tamper"];

/// The honest record with a `booth` line inserted at `at`.
fn with_booth_at(line: Line, at: impl Fn(&[Line]) -> usize) -> Vec<Line> {
    let mut lines = honest().lines.clone();
    let i = at(&lines);
    lines.insert(i, line);
    lines
}

#[test]
fn honest_record_with_a_booth_line_is_valid_and_reports_its_files() {
    let lines = with_booth_at(booth(&BOOTH_PATHS), |l| position_of(l, "open"));
    let r = both(&write(&lines, true, true));
    assert!(r.valid, "{:#?}", r.failures);
    assert!(r.complete);
    let files = r.booth_files.unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, BOOTH_PATHS);
    assert_eq!(files[1].sha256, leaf_hash(b"/static/deps.js"));
    // Without one, the report has none.
    assert!(
        both(&write(&honest().lines, true, true))
            .booth_files
            .is_none()
    );
}

#[test]
fn rejects_booth_line_after_opening() {
    let lines = with_booth_at(booth(&BOOTH_PATHS), |l| position_of(l, "open") + 1);
    assert_rejected(&write(&lines, true, true), "V-18");
    let lines = with_booth_at(booth(&BOOTH_PATHS), |l| ballot_positions(l)[2]);
    assert_rejected(&write(&lines, true, true), "V-18");
}

#[test]
fn rejects_booth_line_not_just_before_open() {
    // Among the credentials.
    let lines = with_booth_at(booth(&BOOTH_PATHS), |l| position_of(l, "open") - 1);
    assert_rejected(&write(&lines, true, true), "V-18");
    // At the end of a setup snapshot, with no `open` after it.
    let mut lines = honest().lines.clone();
    let open = position_of(&lines, "open");
    lines.truncate(open);
    lines.push(booth(&BOOTH_PATHS));
    assert_rejected(&write(&lines, true, true), "V-18");
}

#[test]
fn rejects_booth_line_twice() {
    let mut lines = with_booth_at(booth(&BOOTH_PATHS), |l| position_of(l, "open"));
    let open = position_of(&lines, "open");
    lines.insert(open, booth(&BOOTH_PATHS));
    assert_rejected(&write(&lines, true, true), "V-18");
}

#[test]
fn rejects_booth_paths_unsorted_or_repeated() {
    for paths in [
        ["/vote/tamper", "/static/app.js", "/static/deps.js"],
        ["/static/app.js", "/static/app.js", "/vote/tamper"],
        ["/static/app.js", "static/deps.js", "/vote/tamper"],
    ] {
        let lines = with_booth_at(booth(&paths), |l| position_of(l, "open"));
        let r = assert_rejected(&write(&lines, true, true), "V-18");
        assert!(r.booth_files.is_none());
    }
}

#[test]
fn rejects_booth_line_with_bad_digest_or_unknown_field() {
    let lines = with_booth_at(booth(&BOOTH_PATHS), |l| position_of(l, "open"));
    let record = write(&lines, true, true);
    let text = String::from_utf8(record).unwrap();
    let digest = urne_core::group::b64_encode(&leaf_hash(b"/static/deps.js"));
    assert!(text.contains(&digest));
    let short = &digest[..digest.len() - 2];
    for bad in [
        text.replacen(&digest, short, 1),
        text.replacen(&digest, &format!("{digest}AA"), 1),
        text.replacen("\"type\":\"booth\",", "\"type\":\"booth\",\"extra\":1,", 1),
    ] {
        assert_ne!(bad, text);
        let r = both(bad.as_bytes());
        assert!(!r.valid, "a malformed booth line was accepted");
        assert!(r.booth_files.is_none());
    }
}

#[test]
fn a_record_with_a_ranked_question_verifies_under_independent_keys() {
    // Ballots with range proofs on each rank, a tally without the ranked question, the
    // plurality question decrypted, and the mix phase: both trustees shuffle, both decrypt
    // (spec §8.8), and the ranked question's result is the recount of its decrypted ballots.
    let mut ranked =
        urne_core::manifest::Question::plurality("Rank", &["A", "B", "C", "D"], 1, 4, false);
    ranked.counting = urne_core::manifest::Counting::Schulze;
    let setup = ElectionBuilder::with_questions(
        "ranked",
        vec![
            urne_core::manifest::Question::plurality("Yes?", &["Yes", "No"], 1, 1, true),
            ranked,
        ],
    )
    .trustees(2)
    .build(&mut rng_for(Some(SEED), u64::MAX));
    let cfg = SimConfig {
        voters: 6,
        revote_percent: 0,
        seed: Some(SEED),
        chunk: 4,
    };
    let mut bytes = Vec::new();
    let outcome = simulate(&setup, &cfg, &mut bytes, &|_, _| {}).unwrap();
    assert_eq!(outcome.result, outcome.expected);
    assert!(outcome.result.questions[1].counts.is_empty());
    assert_eq!(
        outcome.result.questions[1].mixed.as_ref().unwrap().ballots,
        6
    );
    let report = both(&bytes);
    assert!(report.valid && report.complete, "{:#?}", report.failures);
    assert_eq!(report.result, Some(outcome.result));
}
