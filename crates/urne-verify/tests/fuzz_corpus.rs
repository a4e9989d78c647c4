//! Replays the saved inputs of the record fuzz targets through the same check functions the
//! fuzzer runs (`urne_verify::fuzzing`), so the corpora and regression inputs under `fuzz/` are
//! tested by plain `cargo test` on stable, without cargo-fuzz or a nightly toolchain.
//!
//! For each target, every file of `fuzz/corpus/<target>/` (which must exist and not be empty, so
//! that this test cannot pass by testing nothing) and of `fuzz/regressions/<target>/` (optional)
//! is run; a panic on any of them fails the test and names the file. The other fuzz targets are
//! replayed by urne-core's `tests/fuzz_corpus.rs`, which checks that every target of
//! `fuzz/fuzz_targets/` is replayed by one of the two.

use std::fs;
use std::panic;

use urne_verify::fuzzing;

#[path = "../../urne-core/tests/support/fuzz_replay.rs"]
mod fuzz_replay;

use fuzz_replay::{Check, files, fuzz_dir, report};

/// The fuzz targets replayed here, each with its check function. urne-core's replay test lists
/// the same names as replayed elsewhere.
const TARGETS: [(&str, Check); 2] = [
    ("record_line", fuzzing::record_line),
    ("record", fuzzing::record),
];

/// Replays the saved inputs of one of this crate's targets.
fn replay(target: &str) -> usize {
    let (_, check) = TARGETS
        .iter()
        .find(|(t, _)| *t == target)
        .unwrap_or_else(|| panic!("{target} is not in TARGETS"));
    fuzz_replay::replay(
        target,
        *check,
        "cargo run -p urne-verify --features testkit --example record_fuzz_seeds",
    )
}

#[test]
fn replays_record_line_corpus() {
    assert!(replay("record_line") > 0);
}

#[test]
fn replays_record_corpus() {
    assert!(replay("record") > 0);
}

/// Every target replayed here is a fuzz target. (urne-core's replay test checks the converse:
/// that every file of `fuzz/fuzz_targets/` is replayed by it or listed in this file's TARGETS.)
#[test]
fn every_target_here_is_a_fuzz_target() {
    for (t, _) in TARGETS {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{t}.rs"));
        assert!(path.is_file(), "no fuzz target {}", path.display());
    }
}

/// The honest record behind the `record` target verifies (checked when it is built) and has a
/// revote, and the saved corpus still holds an input that makes a valid and complete record,
/// whole or spliced into the honest one. Without it the fuzzer and this replay would only
/// exercise the early rejections: a change to the record format or the protocol that makes the
/// saved records stale fails here, rather than silently losing the later checks.
#[test]
fn corpus_still_reaches_a_complete_record() {
    let fx = fuzzing::fixture();
    assert!(
        fx.ballots_cast > fuzzing::FIXTURE_VOTERS as u64,
        "no voter of the honest fuzzing record votes twice: choose another FIXTURE_SEED"
    );
    for line in &fx.lines {
        fuzzing::record_line(line);
    }
    fuzzing::record(&fx.record);

    let reports: Vec<_> = files(&fuzz_dir().join("corpus").join("record"))
        .expect("the record corpus")
        .iter()
        .filter_map(|p| fs::read(p).ok())
        .flat_map(|data| {
            let spliced = fuzzing::splice_record(&data);
            [Some(data), spliced]
        })
        .flatten()
        .map(|record| fuzzing::check_record(&record))
        .filter(|r| r.complete)
        .collect();
    let complete = reports.len();
    assert!(
        complete > 0,
        "no input of fuzz/corpus/record makes a complete record: the corpus was made for \
         another honest record; write the seeds again and minimize the corpus (see \
         fuzz/README.md)"
    );
    // The same for a record that replaces a credential before opening (spec §5.5).
    let revoking = reports.iter().filter(|r| r.revoked > 0).count();
    assert!(
        revoking > 0,
        "no input of fuzz/corpus/record makes a complete record with a revocation: write the \
         seeds again (see fuzz/README.md)"
    );
    report(&format!(
        "fuzz corpus replay: {complete} corpus records (whole or spliced) verify as complete, \
         {revoking} of them with a revoked credential"
    ));
}
