//! Test support for urne-verify's tests that take records apart and write them again: a record's
//! lines (raw and parsed, its tree head left out), the frozen records of test-vectors/records,
//! a record written from lines with its tree head, and the mix input of a record's ballots.

// Each test file that includes this module uses only some of its items.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;

use urne_core::ballot::Ballot;
use urne_core::elgamal::Ciphertext;
use urne_core::manifest::Manifest;
use urne_core::mix::mix_row;
use urne_verify::merkle::{MerkleBuilder, leaf_hash};
use urne_verify::record::{Entry, Line, TreeHead, canonical_line, encode_line, parse_line};

/// A record's lines, raw and parsed, its tree heads left out.
pub fn raw_lines_of(bytes: &[u8]) -> Vec<(Vec<u8>, Line)> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| (l.to_vec(), parse_line(i as u64 + 1, l).unwrap()))
        .filter(|(_, l)| !matches!(l.entry, Entry::TreeHead(_)))
        .collect()
}

/// A record's parsed lines, its tree heads left out.
pub fn lines_of(bytes: &[u8]) -> Vec<Line> {
    raw_lines_of(bytes).into_iter().map(|(_, l)| l).collect()
}

/// The frozen record `name` of test-vectors/records, whole.
pub fn frozen_bytes(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/records")
        .join(name);
    std::fs::read(path).unwrap()
}

/// The lines of the frozen record `name` of test-vectors/records, raw and parsed, its tree head
/// left out.
pub fn frozen(name: &str) -> Vec<(Vec<u8>, Line)> {
    raw_lines_of(&frozen_bytes(name))
}

/// The record made of `lines` unchanged (their raw bytes), closed by their tree head: a
/// snapshot of the board.
pub fn closed(lines: &[(Vec<u8>, Line)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut tree = MerkleBuilder::new();
    for (raw, _) in lines {
        out.extend_from_slice(raw);
        out.push(b'\n');
        tree.push(leaf_hash(raw));
    }
    let head = Line {
        seq: tree.size(),
        entry: Entry::TreeHead(TreeHead {
            size: tree.size(),
            root: tree.root(),
        }),
    };
    out.extend_from_slice(&canonical_line(&head));
    out.push(b'\n');
    out
}

/// Writes `lines` as a record, each encoded again: numbered from 0 when `renumber` (else with
/// its own `seq`), and ended with `head`, or when `None` with the tree head of the lines written
/// (a server that rewrites the record consistently).
pub fn write_lines(lines: &[Line], renumber: bool, head: Option<TreeHead>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut tree = MerkleBuilder::new();
    for (i, l) in lines.iter().enumerate() {
        let seq = if renumber { i as u64 } else { l.seq };
        let (bytes, leaf) = encode_line(seq, &l.entry);
        out.extend_from_slice(&bytes);
        out.push(b'\n');
        tree.push(leaf);
    }
    let head = head.unwrap_or_else(|| TreeHead {
        size: tree.size(),
        root: tree.root(),
    });
    out.extend_from_slice(&encode_line(lines.len() as u64, &Entry::TreeHead(head)).0);
    out.push(b'\n');
    out
}

/// The mix input of a record's lines: the row of the last ballot of each credential, in record
/// order (under the revote rule `last_counts`, every ballot valid).
pub fn last_ballot_rows<'a>(
    manifest: &Manifest,
    lines: impl IntoIterator<Item = &'a Line>,
) -> Vec<Vec<Ciphertext>> {
    let ballots: Vec<&Ballot> = lines
        .into_iter()
        .filter_map(|l| match &l.entry {
            Entry::Ballot(b) => Some(&b.ballot),
            _ => None,
        })
        .collect();
    (0..ballots.len())
        .filter(|&i| {
            ballots[i + 1..]
                .iter()
                .all(|b| b.credential != ballots[i].credential)
        })
        .map(|i| mix_row(manifest, ballots[i]).unwrap())
        .collect()
}
