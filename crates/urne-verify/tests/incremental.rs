//! The incremental verifier: a record fed in pieces, as a board grows under an observer's eyes,
//! gets the same verdict as the record verified at once, whatever the cut.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::io::{Cursor, Seek, SeekFrom};
use std::path::Path;

use urne_core::testkit::ElectionBuilder;
use urne_verify::merkle::{MerkleBuilder, leaf_hash};
use urne_verify::simulate::{SimConfig, rng_for, simulate};
use urne_verify::{Options, Report, Verifier, verify};

/// A record of 20 voters, a quarter of whom vote twice (the tally re-reads the replaced ballots
/// from the pieces fed before it).
fn simulated() -> Vec<u8> {
    let setup = ElectionBuilder::single_question("incremental", 3, 1, 1)
        .question(3, 1, 2, true)
        .trustees(2)
        .build(&mut rng_for(Some(7), u64::MAX));
    let cfg = SimConfig {
        voters: 20,
        revote_percent: 25,
        seed: Some(7),
        chunk: 5,
    };
    let mut bytes = Vec::new();
    simulate(&setup, &cfg, &mut bytes, &|_, _| {}).unwrap();
    bytes
}

fn frozen(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/records");
    std::fs::read(dir.join(name)).unwrap()
}

/// The byte offsets just after each line.
fn line_ends(record: &[u8]) -> Vec<usize> {
    record
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .collect()
}

/// Feeds `record` cut at `cuts` (byte offsets at line ends), each piece as the input grows.
fn in_pieces(record: &[u8], cuts: &[usize], options: &Options) -> Report {
    let mut v = Verifier::new(options);
    for &end in cuts.iter().chain([record.len()].iter()) {
        let mut input = Cursor::new(&record[..end]);
        input.seek(SeekFrom::Start(v.offset())).unwrap();
        v.feed(&mut input, &|_| {}).unwrap();
        assert_eq!(v.offset(), end as u64);
    }
    v.finish()
}

fn same(a: &Report, b: &Report) {
    assert_eq!(a.valid, b.valid);
    assert_eq!(a.complete, b.complete);
    assert_eq!(a.stage, b.stage);
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(a.lines, b.lines);
    assert_eq!(a.ballots_cast, b.ballots_cast);
    assert_eq!(a.ballots_counted, b.ballots_counted);
    assert_eq!(a.total_weight, b.total_weight);
    assert_eq!(a.result, b.result);
    assert_eq!(a.root, b.root);
    assert_eq!(a.ceremony, b.ceremony);
    assert_eq!(a.failures, b.failures);
}

#[test]
fn every_line_alone_gives_the_verdict_of_the_whole_record() {
    let options = Options {
        chunk: 4,
        ..Options::default()
    };
    let mut replaced = 0;
    for record in [
        simulated(),
        frozen("v1-demo-12-voters.jsonl"),
        frozen("v1-demo-10-voters-2-of-3.jsonl"),
    ] {
        let whole = verify(Cursor::new(&record), &options, &|_| {}).unwrap();
        assert!(whole.valid, "{:?}", whole.failures);
        assert!(whole.complete);
        replaced += whole.ballots_cast - whole.ballots_counted;
        let ends = line_ends(&record);
        let one_by_one = in_pieces(&record, &ends[..ends.len() - 1], &options);
        same(&one_by_one, &whole);
        for cut in [1, 2, ends.len() / 3, ends.len() / 2, ends.len() - 2] {
            same(&in_pieces(&record, &ends[..cut], &options), &whole);
        }
    }
    assert!(
        replaced > 0,
        "no revote: the tally's re-reading went untested"
    );
}

#[test]
fn a_bad_ballot_is_found_in_the_piece_that_brings_it() {
    let record = simulated();
    let text = String::from_utf8(record.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let n = lines
        .iter()
        .position(|l| l.contains("\"type\":\"ballot\""))
        .unwrap()
        + 3;
    // A ballot cast with the tracker of the one before it: a replay (V-13).
    let previous: serde_json::Value = serde_json::from_str(lines[n - 1]).unwrap();
    let mut bad: serde_json::Value = serde_json::from_str(lines[n]).unwrap();
    let tracker = previous["tracker"].clone();
    bad["tracker"] = tracker;
    let bad = serde_json::to_string(&bad).unwrap();
    let board: Vec<&str> = lines[..n]
        .iter()
        .copied()
        .chain([bad.as_str()])
        .chain(lines[n + 1..lines.len() - 1].iter().copied())
        .collect();
    let board = board.join("\n") + "\n";
    let ends = line_ends(board.as_bytes());
    let options = Options::default();
    let mut v = Verifier::new(&options);
    let mut input = Cursor::new(&board.as_bytes()[..ends[n - 1]]);
    v.feed(&mut input, &|_| {}).unwrap();
    assert_eq!(v.failures_total(), 0);
    assert!(v.report().valid);
    let mut input = Cursor::new(board.as_bytes());
    input.seek(SeekFrom::Start(v.offset())).unwrap();
    v.feed(&mut input, &|_| {}).unwrap();
    assert!(v.failures_total() >= 1);
    let f = &v.failures()[0];
    assert_eq!(f.line, Some(n as u64 + 1), "{f:?}");
    // The board has no tree head line: the tree of its lines is the verifier's.
    let mut tree = MerkleBuilder::new();
    for l in board.lines() {
        tree.push(leaf_hash(l.as_bytes()));
    }
    assert_eq!(v.tree_size(), tree.size());
    assert_eq!(v.root(), tree.root());
    assert!(v.election().is_some());
    assert!(!v.report().valid);
}
