//! Fuzz entry points for the election record: the line parser and the verifier over whole records.
//!
//! Each function takes arbitrary bytes, returns quietly on whatever the record format rejects,
//! and asserts properties that hold for every input, so that a panic always means a bug:
//!
//! - [`record_line`]: a line that parses has a canonical form (`record::canonical_line`) that
//!   parses back to an equal line and re-encodes to identical bytes.
//! - [`record`]: the verifier answers on any record, batch and one-by-one verification agree, and
//!   `verify_since` agrees with what "extends" means (docs/record.md §5). The input is also
//!   spliced into a small honest record ([`fixture`]), which must then be rejected unless the
//!   splice left the record's lines as they were (the tree head line: its value).
//!
//! Two harnesses share these functions: the cargo-fuzz targets `record_line` and `record` in
//! `fuzz/fuzz_targets/` (nightly only), and `tests/fuzz_corpus.rs`, which replays every saved
//! input of `fuzz/corpus/` and `fuzz/regressions/` under plain `cargo test` on stable.
//!
//! Only compiled with the `testkit` feature: the honest record comes from [`crate::simulate`]
//! with seeded randomness, which no real election may use.

use std::io::Cursor;
use std::sync::OnceLock;

use urne_core::testkit::{ElectionBuilder, Setup};

use crate::merkle::{MerkleBuilder, leaf_hash};
use crate::record::{Entry, Line, canonical_line, parse_line};
use crate::simulate::{SimConfig, rng_for, simulate, simulate_revoking};
use crate::since::{SinceReport, verify_since};
use crate::verifier::{Options, Report, verify};

/// The seed of the honest record's election, voters, trustees and ballots.
pub const FIXTURE_SEED: u64 = 0x7572_6e65_7265_636f;

/// Number of voters in the honest record.
pub const FIXTURE_VOTERS: usize = 4;

/// A small honest record, built once: the input the `record` target splices into.
#[derive(Debug)]
pub struct Fixture {
    /// The record, as written by the simulation: every line ends with a line feed.
    pub record: Vec<u8>,
    /// Its lines without their line feeds, the tree head last.
    pub lines: Vec<Vec<u8>>,
    /// The tree head line, parsed.
    pub head: Line,
    /// Ballot lines in the record (some voters vote twice).
    pub ballots_cast: u64,
}

/// The honest record: one question with two answers (select one), two trustees,
/// [`FIXTURE_VOTERS`] voters of whom one votes twice, tallied and decrypted: 18 lines. Built on
/// first use; it must verify as valid and complete.
///
/// The election is small on purpose: the `record` target verifies it, spliced, in both modes for
/// every input, and a second question (with a blank vote) about halved the fuzzer's speed. The
/// ballot and tally encodings are fuzzed on their own by urne-core's targets.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (setup, cfg) = fixture_election();
        let mut record = Vec::new();
        let outcome =
            simulate(&setup, &cfg, &mut record, &|_, _| {}).expect("writing to memory cannot fail");
        let lines: Vec<Vec<u8>> = split_lines(&record).map(<[u8]>::to_vec).collect();
        let head = lines
            .last()
            .and_then(|l| parse_line(lines.len() as u64, l).ok())
            .filter(|l| matches!(l.entry, Entry::TreeHead(_)))
            .expect("a simulated record ends with its tree head");
        let report = check_record(&record);
        assert!(
            report.valid && report.complete,
            "the honest fuzzing record does not verify: {:#?}",
            report.failures
        );
        Fixture {
            record,
            lines,
            head,
            ballots_cast: outcome.ballots_cast,
        }
    })
}

/// The election and simulation settings of the honest record.
fn fixture_election() -> (Setup, SimConfig) {
    let setup = ElectionBuilder::single_question("fuzz-record", 2, 1, 1)
        .trustees(2)
        .build(&mut rng_for(Some(FIXTURE_SEED), u64::MAX));
    let cfg = SimConfig {
        voters: FIXTURE_VOTERS,
        revote_percent: 50,
        seed: Some(FIXTURE_SEED),
        chunk: 3,
    };
    (setup, cfg)
}

/// The honest record's election and voters, with the first voter's credential revoked and
/// replaced before opening (spec §5.5): a whole record that reaches the revocation rules. It
/// verifies as valid and complete (checked here).
pub fn revoking_record() -> Vec<u8> {
    let (setup, cfg) = fixture_election();
    let mut record = Vec::new();
    simulate_revoking(&setup, &cfg, 1, &mut record, &|_, _| {})
        .expect("writing to memory cannot fail");
    let report = check_record(&record);
    assert!(
        report.valid && report.complete && report.revoked == 1,
        "the fuzzing record with a revocation does not verify: {:#?}",
        report.failures
    );
    record
}

/// The lines of a record as the verifier reads them: split after each line feed, which is not
/// part of the line; bytes after the last line feed make a last line of their own.
fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    body.split(|&b| b == b'\n').filter(move |_| !empty)
}

/// One record line: when it parses, its canonical form parses back to an equal line, and
/// re-encoding that gives identical bytes. A line that does not parse names line 1, where it was
/// said to be.
pub fn record_line(data: &[u8]) {
    let line = match parse_line(1, data) {
        Ok(line) => line,
        Err(e) => {
            assert_eq!(e.line, 1, "record line: the error names another line: {e}");
            return;
        }
    };
    let canonical = canonical_line(&line);
    let again = match parse_line(1, &canonical) {
        Ok(l) => l,
        Err(e) => panic!(
            "record line: the canonical form does not parse back: {e}\n{}",
            String::from_utf8_lossy(&canonical)
        ),
    };
    assert_eq!(again, line, "record line: the line changed in a round trip");
    assert_eq!(
        canonical_line(&again),
        canonical,
        "record line: the canonical form is not stable"
    );
    // A record is split at line feeds, and the verifier routes lines by their first members.
    assert!(
        !canonical.contains(&b'\n'),
        "record line: the canonical form spans two lines"
    );
    let start = format!("{{\"seq\":{},\"type\":\"{}\"", line.seq, line.entry.kind());
    assert!(
        canonical.starts_with(start.as_bytes()),
        "record line: the canonical form does not start with `seq` and `type`"
    );
}

/// A whole record: see [`check_record`]. Then the same checks on the honest record with the
/// input spliced in ([`splice_record`]), which must verify exactly when the splice left the
/// record's lines as they were, and extends the honest record exactly when it starts with the
/// honest record's lines.
pub fn record(data: &[u8]) {
    check_record(data);
    let Some(spliced) = splice_record(data) else {
        return;
    };
    let fx = fixture();
    let report = check_record(&spliced);
    assert_eq!(
        report.valid,
        splice_keeps_record(data),
        "record: the honest record spliced with this input is {}: {:#?}",
        if report.valid { "accepted" } else { "rejected" },
        report.failures
    );
    for (old, new) in [(&fx.record[..], &spliced[..]), (&spliced, &fx.record)] {
        check_since(old, new);
    }
}

/// The honest record ([`fixture`]) with one line replaced: the first two bytes of `data` (little
/// endian) pick the line, modulo one more than the number of lines (the last choice appends a
/// line after the tree head), and the rest of `data` is put in its place. `None` when `data` is
/// shorter than two bytes.
pub fn splice_record(data: &[u8]) -> Option<Vec<u8>> {
    let (at, rest) = splice_point(data)?;
    let fx = fixture();
    let mut out = Vec::with_capacity(fx.record.len() + rest.len() + 1);
    for (i, line) in fx.lines.iter().enumerate() {
        out.extend_from_slice(if i == at { rest } else { line });
        out.push(b'\n');
    }
    if at == fx.lines.len() {
        out.extend_from_slice(rest);
        out.push(b'\n');
    }
    Some(out)
}

/// The line index and the replacement encoded in a `record` input.
fn splice_point(data: &[u8]) -> Option<(usize, &[u8])> {
    let [lo, hi, rest @ ..] = data else {
        return None;
    };
    let choices = fixture().lines.len() + 1;
    Some((usize::from(u16::from_le_bytes([*lo, *hi])) % choices, rest))
}

/// Whether the splice of `data` leaves a record the verifier must accept.
///
/// A line before the tree head is a leaf of the Merkle tree: any change to its bytes changes the
/// root (short of a hash collision), so only the original bytes keep the record valid. The tree
/// head line is not a leaf and is checked by its value: any line that parses to the same tree
/// head (another spacing or member order, say) is as good as the original, while more than one
/// line in its place puts a line after a tree head. Nothing can follow the tree head of a
/// complete record, so an appended line always fails.
fn splice_keeps_record(data: &[u8]) -> bool {
    let Some((at, rest)) = splice_point(data) else {
        return false;
    };
    let fx = fixture();
    let head = fx.lines.len() - 1;
    if at < head {
        rest == fx.lines[at]
    } else if at == head {
        !rest.contains(&b'\n') && parse_line(1, rest).ok().as_ref() == Some(&fx.head)
    } else {
        false
    }
}

fn verify_with(data: &[u8], batch: bool) -> Report {
    let options = Options {
        batch,
        chunk: 3,
        batch_size: 2,
        ..Options::default()
    };
    match verify(Cursor::new(data), &options, &|_| {}) {
        Ok(report) => report,
        Err(e) => panic!("record: reading from memory failed: {e}"),
    }
}

/// Verifies `data` in batch and one-by-one and checks that they agree; checks that the record
/// extends itself exactly as [`expect_extends`] says, which it must when it verifies. Returns the
/// batch report.
pub fn check_record(data: &[u8]) -> Report {
    let batch = verify_with(data, true);
    let alone = verify_with(data, false);
    assert_eq!(
        batch.failed_checks(),
        alone.failed_checks(),
        "record: batch and one-by-one verification fail different checks: {:#?}\n{:#?}",
        batch.failures,
        alone.failures
    );
    assert_eq!(
        (batch.valid, batch.complete),
        (alone.valid, alone.complete),
        "record: batch and one-by-one verification disagree"
    );
    assert!(
        !batch.complete || batch.valid,
        "record: complete but not valid"
    );
    let since = check_since(data, data);
    if batch.valid {
        // A valid record ends with the tree head of every line before it.
        assert!(
            since.extends && since.old_size + 1 == batch.lines,
            "record: a valid record of {} lines does not extend itself: {since:?}",
            batch.lines
        );
    }
    batch
}

/// Runs `verify_since(old, new)` and checks its verdict against [`expect_extends`].
fn check_since(old: &[u8], new: &[u8]) -> SinceReport {
    let report = match verify_since(Cursor::new(old), Cursor::new(new)) {
        Ok(r) => r,
        Err(e) => panic!("record: reading from memory failed: {e}"),
    };
    assert_eq!(
        report.extends,
        expect_extends(old, new),
        "record: verify_since answers {report:?}"
    );
    assert_eq!(
        report.extends,
        report.failures.is_empty(),
        "record: verify_since's verdict and failures disagree"
    );
    report
}

/// What "`new` extends `old`" means (docs/record.md §5), written out plainly: `old` has a tree
/// head (its first line that parses as one), `new` starts with the lines before it byte for byte,
/// and the head is the Merkle root of those lines.
pub fn expect_extends(old: &[u8], new: &[u8]) -> bool {
    let mut new_lines = split_lines(new);
    let mut tree = MerkleBuilder::new();
    for line in split_lines(old) {
        // Only a line whose `type` reads `tree_head` parses as one, literally or with an escape
        // in the string; skipping the others saves decoding every ballot's points again.
        let may_be_head = contains(line, b"tree_head") || line.contains(&b'\\');
        if let Some(Ok(Line {
            entry: Entry::TreeHead(head),
            ..
        })) = may_be_head.then(|| parse_line(1, line))
        {
            return head.size == tree.size() && head.root == tree.root();
        }
        if new_lines.next() != Some(line) {
            return false;
        }
        tree.push(leaf_hash(line));
    }
    false
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
