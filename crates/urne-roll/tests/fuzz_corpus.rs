//! Replays the saved inputs of the `roll` fuzz target (`fuzz/corpus/roll/`, and
//! `fuzz/regressions/roll/` when it exists) through the same check the fuzzer runs
//! (`tests/support/fuzz_roll.rs`), so they are tested by plain `cargo test` on stable. urne-core's
//! `tests/fuzz_corpus.rs` checks that every target of `fuzz/fuzz_targets/` is replayed somewhere:
//! it looks for `("roll", check::roll)` here.

#![allow(clippy::unwrap_used)]

use std::fs;

use urne_roll::{Format, parse};

#[path = "../../urne-core/tests/support/fuzz_replay.rs"]
mod fuzz_replay;

#[path = "support/fuzz_roll.rs"]
mod check;

use fuzz_replay::{Check, files, fuzz_dir};

/// The fuzz targets replayed here, each with its check function.
const TARGETS: [(&str, Check); 1] = [("roll", check::roll)];

const SEEDS: &str = "write a few valid and invalid rolls by hand (see fuzz/README.md)";

#[test]
fn replays_roll_corpus() {
    let (target, check) = TARGETS[0];
    assert!(fuzz_replay::replay(target, check, SEEDS) > 0);
}

/// Every target replayed here is a fuzz target.
#[test]
fn every_target_here_is_a_fuzz_target() {
    for (t, _) in TARGETS {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{t}.rs"));
        assert!(path.is_file(), "no fuzz target {}", path.display());
    }
}

/// The corpus still holds rolls accepted in each format and rolls refused in each: without them
/// the fuzzer would start far from half of the code.
#[test]
fn corpus_reaches_rolls_and_errors_in_both_formats() {
    let mut seen = [[0; 2]; 2];
    for path in files(&fuzz_dir().join("corpus").join("roll")).unwrap() {
        let data = fs::read(&path).unwrap();
        for (f, format) in [Format::Csv, Format::Json].into_iter().enumerate() {
            seen[f][usize::from(parse(&data, format).is_ok())] += 1;
        }
    }
    assert!(
        seen.iter().flatten().all(|&n| n > 0),
        "fuzz/corpus/roll lacks an accepted or refused roll in some format: \
         [csv [refused, accepted], json [refused, accepted]] = {seen:?}"
    );
}
