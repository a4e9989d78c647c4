//! Replays the saved inputs of urne-core's fuzz targets through the same check functions the
//! fuzzer runs (`urne_core::fuzzing`), so the corpora and regression inputs under `fuzz/` are
//! tested by plain `cargo test` on stable, without cargo-fuzz or a nightly toolchain. The record
//! targets are replayed by urne-verify's `tests/fuzz_corpus.rs`; this test checks that they are.
//!
//! For each target, every file of `fuzz/corpus/<target>/` (which must exist and not be empty, so
//! that this test cannot pass by testing nothing) and of `fuzz/regressions/<target>/` (optional)
//! is run; a panic on any of them fails the test and names the file.

use std::fs;
use std::panic;
use std::path::Path;

use urne_core::ballot::Ballot;
use urne_core::fuzzing;
use urne_core::tally::{PartialDecryption, vartime_verify_partial};

#[path = "support/fuzz_replay.rs"]
mod fuzz_replay;

use fuzz_replay::{Check, files, fuzz_dir, report};

/// The fuzz targets, each with its check function. Must match `fuzz/fuzz_targets/`.
const TARGETS: [(&str, Check); 6] = [
    ("ballot", fuzzing::ballot),
    ("manifest", fuzzing::manifest),
    ("credential", fuzzing::credential),
    ("tally", fuzzing::tally),
    ("point_scalar", fuzzing::point_scalar),
    ("shuffle", fuzzing::shuffle),
];

/// The fuzz targets whose check functions live in `urne_verify::fuzzing` (the election record):
/// urne-core cannot depend on urne-verify, so `crates/urne-verify/tests/fuzz_corpus.rs` replays
/// them, and this test only checks that it does.
const REPLAYED_BY_URNE_VERIFY: [&str; 2] = ["record_line", "record"];

/// The fuzz targets of the server's API (`urne_server::public`), replayed by
/// `crates/urne-server/tests/fuzz_corpus.rs` with the check of its
/// `tests/support/fuzz_api_ballot.rs`.
const REPLAYED_BY_URNE_SERVER: [&str; 1] = ["api_ballot"];

/// The fuzz target of the voter roll (`urne_roll::parse`), replayed by
/// `crates/urne-roll/tests/fuzz_corpus.rs` with the check of its `tests/support/fuzz_roll.rs`.
const REPLAYED_BY_URNE_ROLL: [&str; 1] = ["roll"];

/// Compact JSON of a protocol object.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("protocol objects serialize")
}

/// Replays the saved inputs of one of this crate's targets.
fn replay(target: &str) -> usize {
    let (_, check) = TARGETS
        .iter()
        .find(|(t, _)| *t == target)
        .unwrap_or_else(|| panic!("{target} is not in TARGETS"));
    fuzz_replay::replay(
        target,
        *check,
        "cargo run -p urne-core --features testkit --example fuzz_seeds",
    )
}

#[test]
fn replays_ballot_corpus() {
    assert!(replay("ballot") > 0);
}

#[test]
fn replays_manifest_corpus() {
    assert!(replay("manifest") > 0);
}

#[test]
fn replays_shuffle_corpus() {
    assert!(replay("shuffle") > 0);
}

#[test]
fn replays_credential_corpus() {
    assert!(replay("credential") > 0);
}

#[test]
fn replays_tally_corpus() {
    assert!(replay("tally") > 0);
}

#[test]
fn replays_point_scalar_corpus() {
    assert!(replay("point_scalar") > 0);
}

/// Names of the entries of `dir`, without extension, sorted.
fn names(dir: &Path, only_files: bool) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file() == only_files)
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
        .collect();
    names.sort();
    names
}

/// A target added to `fuzz/` without a replay here or in urne-verify's or urne-server's replay
/// test, or a corpus without a target, fails.
#[test]
fn every_fuzz_target_has_a_corpus_and_a_replay() {
    let mut expected: Vec<String> = TARGETS
        .iter()
        .map(|(t, _)| *t)
        .chain(REPLAYED_BY_URNE_VERIFY)
        .chain(REPLAYED_BY_URNE_SERVER)
        .chain(REPLAYED_BY_URNE_ROLL)
        .map(str::to_owned)
        .collect();
    expected.sort();
    let fuzz = fuzz_dir();
    assert_eq!(
        names(&fuzz.join("fuzz_targets"), true),
        expected,
        "fuzz/fuzz_targets/ and this test's TARGETS and REPLAYED_BY_URNE_VERIFY differ"
    );
    assert_eq!(
        names(&fuzz.join("corpus"), false),
        expected,
        "fuzz/corpus/ and this test's TARGETS and REPLAYED_BY_URNE_VERIFY differ"
    );
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("../urne-verify/tests/fuzz_corpus.rs");
    let other_text = fs::read_to_string(&other)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", other.display()));
    for t in REPLAYED_BY_URNE_VERIFY {
        assert!(
            other_text.contains(&format!("(\"{t}\", fuzzing::{t})")),
            "{} does not list the fuzz target {t} in its TARGETS",
            other.display()
        );
    }
    let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("../urne-server/tests/fuzz_corpus.rs");
    let server_text = fs::read_to_string(&server)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", server.display()));
    for t in REPLAYED_BY_URNE_SERVER {
        assert!(
            server_text.contains(&format!("(\"{t}\", check::{t})")),
            "{} does not list the fuzz target {t} in its TARGETS",
            server.display()
        );
    }
    let roll = Path::new(env!("CARGO_MANIFEST_DIR")).join("../urne-roll/tests/fuzz_corpus.rs");
    let roll_text =
        fs::read_to_string(&roll).unwrap_or_else(|e| panic!("cannot read {}: {e}", roll.display()));
    for t in REPLAYED_BY_URNE_ROLL {
        assert!(
            roll_text.contains(&format!("(\"{t}\", check::{t})")),
            "{} does not list the fuzz target {t} in its TARGETS",
            roll.display()
        );
    }
    if fuzz.join("regressions").is_dir() {
        for dir in names(&fuzz.join("regressions"), false) {
            assert!(
                expected.contains(&dir),
                "fuzz/regressions/{dir} has no fuzz target"
            );
        }
    }
}

/// The fixture's own documents pass every check, and the saved corpus still holds a ballot and a
/// partial decryption made for the current fixture. Without them the fuzzer and this replay
/// would only exercise the parsers: a change to the protocol's hashing or encodings that makes
/// the saved inputs stale fails here, rather than silently losing the verification paths.
#[test]
fn corpus_still_reaches_verification() {
    let fx = fuzzing::fixture();
    let election = fx.election();
    for b in &fx.ballots {
        fuzzing::ballot(b.to_json().as_bytes());
    }
    fuzzing::manifest(election.manifest().to_json().as_bytes());
    for c in &fx.credentials {
        fuzzing::credential(c.display().as_bytes());
    }
    fuzzing::tally(json(&fx.tally).as_bytes());
    for pd in &fx.partials {
        fuzzing::tally(json(pd).as_bytes());
    }
    fuzzing::tally(json(&fx.result).as_bytes());

    let fuzz = fuzz_dir();
    let read = |target: &str| -> Vec<String> {
        files(&fuzz.join("corpus").join(target))
            .unwrap_or_default()
            .iter()
            .filter_map(|p| String::from_utf8(fs::read(p).ok()?).ok())
            .collect()
    };
    let mut rng = urne_core::testkit::rng_from_seed(0);
    let ballots = read("ballot")
        .iter()
        .filter_map(|t| Ballot::from_json(t).ok())
        .filter(|b| b.vartime_verify(&mut rng, election).is_ok())
        .count();
    let partials = read("tally")
        .iter()
        .filter_map(|t| serde_json::from_str::<PartialDecryption>(t).ok())
        .filter(|pd| vartime_verify_partial(&mut rng, election, &fx.tally, pd).is_ok())
        .count();
    let stale = "was made for another fixture election: write the seeds again and minimize \
                 the corpus (see fuzz/README.md)";
    assert!(
        ballots > 0,
        "no ballot of fuzz/corpus/ballot verifies: the corpus {stale}"
    );
    assert!(
        partials > 0,
        "no partial decryption of fuzz/corpus/tally verifies: the corpus {stale}"
    );
    report(&format!(
        "fuzz corpus replay: {ballots} corpus ballots and {partials} partial decryptions verify \
         against the fixture"
    ));
}
