//! The tally the verifier hands over (`Verification::tally`): on each frozen record, and on
//! snapshots cut before and after its `tally` line, it is that line exactly (ballots, total
//! weight, ciphertexts) once the line is read, nothing before, and nothing when the line fails
//! V-14. The expected values are parsed here from the record's lines, apart from the verifier.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::io::Cursor;

use urne_verify::record::{Entry, Line, TallyEntry, canonical_line};
use urne_verify::{Options, Verification, verify_with_state};

#[path = "support/records.rs"]
mod records;

use records::{closed, frozen};

/// Every frozen record, of each key sharing, with and without a mix phase or a revocation.
const FROZEN: [&str; 4] = [
    "v1-demo-10-voters-2-of-3.jsonl",
    "v1-demo-12-voters.jsonl",
    "v1-sim-4-voters-1-credential-replaced.jsonl",
    "v1-sim-8-voters-mixed-2-of-3.jsonl",
];

fn verified(record: &[u8]) -> Verification {
    verify_with_state(Cursor::new(record), &Options::default(), &|_| {}).unwrap()
}

/// The position of the record's `tally` line and that line's entry.
fn tally_line(lines: &[(Vec<u8>, Line)]) -> (usize, TallyEntry) {
    lines
        .iter()
        .enumerate()
        .find_map(|(i, (_, l))| match &l.entry {
            Entry::Tally(t) => Some((i, (**t).clone())),
            _ => None,
        })
        .unwrap()
}

#[test]
fn handed_over_tally_is_the_tally_line() {
    for name in FROZEN {
        let lines = frozen(name);
        let (at, expected) = tally_line(&lines);
        // The whole record, and the snapshot that ends with the tally line.
        for n in [lines.len(), at + 1] {
            let v = verified(&closed(&lines[..n]));
            assert!(v.report.valid, "{name}[..{n}]: {:#?}", v.report.failures);
            let tally = v.tally.unwrap_or_else(|| panic!("{name}[..{n}]: no tally"));
            assert_eq!(tally, expected, "{name}[..{n}]");
            assert_eq!(tally.ballots, v.report.ballots_counted, "{name}[..{n}]");
            assert_eq!(tally.total_weight, v.report.total_weight, "{name}[..{n}]");
        }
    }
}

#[test]
fn no_tally_before_the_tally_line() {
    for name in FROZEN {
        let lines = frozen(name);
        let (at, _) = tally_line(&lines);
        let v = verified(&closed(&lines[..at]));
        assert!(v.report.valid, "{name}: {:#?}", v.report.failures);
        assert!(v.tally.is_none(), "{name}: a tally before the tally line");
    }
}

#[test]
fn rejects_tally_line_whose_counts_fail_v14() {
    let lines = frozen("v1-demo-12-voters.jsonl");
    let (at, t) = tally_line(&lines);
    for field in ["ballots", "total_weight"] {
        let mut wrong = t.clone();
        match field {
            "ballots" => wrong.ballots += 1,
            _ => wrong.total_weight += 1,
        }
        let line = Line {
            seq: lines[at].1.seq,
            entry: Entry::Tally(Box::new(wrong)),
        };
        let mut changed = lines[..=at].to_vec();
        changed[at] = (canonical_line(&line), line);
        let v = verified(&closed(&changed));
        assert!(v.report.has_failure("V-14"), "{field}: {:#?}", v.report);
        assert!(v.tally.is_none(), "{field}: a tally that failed V-14");
    }
}
