//! `urne verify --since OLD NEW`: a newer record extends an older one.
//!
//! An observer who kept an earlier snapshot of the record checks that the newer one starts with
//! exactly the same lines, byte for byte, and that the older tree head is the Merkle root of that
//! common prefix: nothing was removed, reordered or rewritten, only appended.

use std::io::BufRead;

use serde::Serialize;
use urne_core::error::Check;

use crate::merkle::{MerkleBuilder, leaf_hash};
use crate::record::{Entry, MAX_LINE_BYTES, parse_line, read_line};
use crate::verifier::{Failure, RecordError};

/// The outcome of comparing two snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct SinceReport {
    /// Whether the newer record extends the older one.
    pub extends: bool,
    /// Lines of the older record before its tree head.
    pub old_size: u64,
    /// Lines of the newer record before its tree head.
    pub new_size: u64,
    /// What breaks the extension, if anything (all V-18).
    pub failures: Vec<Failure>,
}

/// A record's lines, each at most `max` bytes long; a longer line is `None`.
fn lines<R: BufRead>(mut r: R, max: u64) -> impl Iterator<Item = std::io::Result<Option<Vec<u8>>>> {
    std::iter::from_fn(move || {
        let mut buf = Vec::new();
        match read_line(&mut r, &mut buf, max) {
            Ok((0, _)) => None,
            Ok((_, complete)) => Some(Ok(complete.then_some(buf))),
            Err(e) => Some(Err(e)),
        }
    })
}

/// Checks that `new` extends `old`. Both are read once, line by line.
pub fn verify_since<A: BufRead, B: BufRead>(old: A, new: B) -> Result<SinceReport, RecordError> {
    verify_since_capped(old, new, MAX_LINE_BYTES)
}

/// [`verify_since`] with lines of at most `max` bytes.
fn verify_since_capped<A: BufRead, B: BufRead>(
    old: A,
    new: B,
    max: u64,
) -> Result<SinceReport, RecordError> {
    let mut failures = Vec::new();
    let fail = |failures: &mut Vec<Failure>, line: u64, item: &str, detail: String| {
        failures.push(Failure::new(Check::V18, Some(line), item, detail));
    };
    let mut tree = MerkleBuilder::new();
    let mut new_lines = lines(new, max);
    let mut old_head = None;
    let mut number = 0u64;
    for old_line in lines(old, max) {
        number += 1;
        let Some(old_line) = old_line? else {
            let detail = format!("the older record's line is longer than {max} bytes");
            fail(&mut failures, number, ".", detail);
            break;
        };
        if let Ok(l) = parse_line(number, &old_line) {
            if let Entry::TreeHead(h) = l.entry {
                old_head = Some((number, h));
                break;
            }
        }
        match new_lines.next().transpose()? {
            Some(Some(n)) if n == old_line => tree.push(leaf_hash(&n)),
            Some(_) => {
                fail(
                    &mut failures,
                    number,
                    ".",
                    "the newer record rewrote this line".into(),
                );
                break;
            }
            None => {
                fail(
                    &mut failures,
                    number,
                    ".",
                    "the newer record is shorter than the older one".into(),
                );
                break;
            }
        }
    }
    let old_size = tree.size();
    match old_head {
        None if failures.is_empty() => fail(
            &mut failures,
            number,
            "tree_head",
            "the older record has no tree head".into(),
        ),
        Some((n, h)) if failures.is_empty() && (h.size != old_size || h.root != tree.root()) => {
            let detail = "the older tree head is not the root of the common lines".into();
            fail(&mut failures, n, "tree_head", detail);
        }
        _ => {}
    }
    // Count the newer record's remaining lines up to its tree head.
    let mut new_size = old_size;
    for l in new_lines {
        let is_head = l?
            .is_some_and(|l| matches!(parse_line(0, &l).map(|l| l.entry), Ok(Entry::TreeHead(_))));
        if is_head {
            break;
        }
        new_size += 1;
    }
    Ok(SinceReport {
        extends: failures.is_empty(),
        old_size,
        new_size,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_lines_are_refused_not_held() {
        let long = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(5000));
        let r = verify_since_capped(long.as_bytes(), long.as_bytes(), 1024).unwrap();
        assert!(!r.extends);
        assert!(
            r.failures[0].detail.contains("longer than 1024 bytes"),
            "{:?}",
            r.failures
        );
        // The same line within the limit is compared, found equal, and the missing head named.
        let r = verify_since_capped(long.as_bytes(), long.as_bytes(), 1 << 20).unwrap();
        assert_eq!(r.failures[0].item, "tree_head");
    }
}
