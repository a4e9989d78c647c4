//! The mix state the verifier hands over (`Verifier::finish_with_state`, `verify_with_state`):
//! on the frozen mixed record cut after each of its shuffles, the list to shuffle next is that
//! shuffle's output as its `shuffle_chunk` lines give it (before any shuffle, the counted
//! ballots' rows), and the trustees, positions and decryptions are the record's. The expected
//! values are rebuilt here from the parsed lines, apart from the verifier.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::io::Cursor;

use urne_core::elgamal::Ciphertext;
use urne_core::manifest::{Manifest, RevotePolicy};
use urne_verify::record::{Entry, Line};
use urne_verify::{Options, Verification, verify, verify_with_state};

#[path = "support/records.rs"]
mod records;

use records::{closed, frozen, frozen_bytes, last_ballot_rows};

const FROZEN: &str = "v1-sim-8-voters-mixed-2-of-3.jsonl";

fn verified(record: &[u8]) -> Verification {
    let v = verify_with_state(Cursor::new(record), &Options::default(), &|_| {}).unwrap();
    assert!(v.report.valid, "{:#?}", v.report.failures);
    v
}

fn manifest(lines: &[(Vec<u8>, Line)]) -> &Manifest {
    lines
        .iter()
        .find_map(|(_, l)| match &l.entry {
            Entry::Manifest(m) => Some(&**m),
            _ => None,
        })
        .unwrap()
}

/// The mix input: the row of the last ballot of each credential, in record order (the frozen
/// record's revote rule is `last_counts` and every ballot in it is valid).
fn mix_input(lines: &[(Vec<u8>, Line)]) -> Vec<Vec<Ciphertext>> {
    let m = manifest(lines);
    assert_eq!(m.revote, RevotePolicy::LastCounts);
    last_ballot_rows(m, lines.iter().map(|(_, l)| l))
}

/// Each shuffle of the record: the index of its `shuffle` line, its trustee and its output
/// gathered from its chunks.
fn shuffles(lines: &[(Vec<u8>, Line)]) -> Vec<(usize, u32, Vec<Vec<Ciphertext>>)> {
    let mut out = Vec::new();
    let mut building = Vec::new();
    for (i, (_, l)) in lines.iter().enumerate() {
        match &l.entry {
            Entry::ShuffleChunk(c) => building.extend(c.outputs.iter().cloned()),
            Entry::Shuffle(s) => out.push((i, s.trustee, std::mem::take(&mut building))),
            _ => {}
        }
    }
    out
}

fn first(lines: &[(Vec<u8>, Line)], kind: &str) -> usize {
    lines
        .iter()
        .position(|(_, l)| l.entry.kind() == kind)
        .unwrap()
}

#[test]
fn mix_state_after_k_shuffles_is_the_kth_shuffle_output() {
    let lines = frozen(FROZEN);
    let input = mix_input(&lines);
    let shuffles = shuffles(&lines);
    assert_eq!(shuffles.len(), 2, "the frozen record has two shuffles");
    let partials: Vec<u32> = lines
        .iter()
        .filter_map(|(_, l)| match &l.entry {
            Entry::PartialDecryption(p) => Some(p.trustee),
            _ => None,
        })
        .collect();
    // Cut before the first chunk (k = 0), then after each `shuffle` line (k = 1, 2).
    let mut cuts = vec![(first(&lines, "shuffle_chunk"), input.clone())];
    cuts.extend(shuffles.iter().map(|(i, _, out)| (i + 1, out.clone())));
    for (k, (cut, want)) in cuts.iter().enumerate() {
        let v = verified(&closed(&lines[..*cut]));
        let mix = v.mix.unwrap();
        assert_eq!(mix.list, *want, "the list after {k} shuffles");
        assert_eq!(mix.shuffles, k as u32);
        let trustees: Vec<u32> = shuffles[..k].iter().map(|s| s.1).collect();
        assert_eq!(mix.shufflers, trustees);
        assert!(mix.factor_trustees.is_empty() && mix.decrypted == 0);
        assert_eq!(v.tally_decryptors, partials);
        assert_eq!(v.report.mix.unwrap().ballots, want.len() as u64);
        let e = v.election.unwrap();
        assert_eq!(Some(e.fingerprint().to_string()), v.report.fingerprint);
    }
    // Each shuffle changed the list: the comparisons above tell the lists apart.
    assert_ne!(cuts[0].1, cuts[1].1);
    assert_ne!(cuts[1].1, cuts[2].1);
    assert_eq!(input.len(), cuts[2].1.len());
}

#[test]
fn mix_state_ignores_a_shuffle_without_its_end_line() {
    let lines = frozen(FROZEN);
    let shuffles = shuffles(&lines);
    // The first chunk of the second shuffle is on the board, not its end: the list is still
    // the first shuffle's output, and the next shuffle is still number 1.
    let v = verified(&closed(&lines[..shuffles[0].0 + 2]));
    let mix = v.mix.unwrap();
    assert_eq!(mix.list, shuffles[0].2);
    assert_eq!((mix.shuffles, mix.shufflers), (1, vec![shuffles[0].1]));
}

#[test]
fn mix_state_of_the_whole_record_is_the_decrypted_list() {
    let lines = frozen(FROZEN);
    let shuffles = shuffles(&lines);
    let whole = frozen_bytes(FROZEN);
    let v = verified(&whole);
    assert!(v.report.complete);
    let mix = v.mix.unwrap();
    assert_eq!(mix.list, shuffles[1].2);
    assert_eq!(mix.shuffles, 2);
    let mut decryptors: Vec<u32> = Vec::new();
    for (_, l) in &lines {
        if let Entry::MixDecryption(d) = &l.entry {
            if !decryptors.contains(&d.trustee) {
                decryptors.push(d.trustee);
            }
        }
    }
    assert_eq!(mix.factor_trustees, decryptors);
    assert_eq!(mix.decrypted, v.report.ballots_counted);
    // The report is the one `verify` gives.
    let r = verify(Cursor::new(&whole), &Options::default(), &|_| {}).unwrap();
    assert_eq!(
        (r.valid, r.root, r.result, r.mix),
        (true, v.report.root, v.report.result, v.report.mix)
    );
}

#[test]
fn no_mix_state_before_the_tally_or_without_a_mixed_question() {
    let lines = frozen(FROZEN);
    let v = verified(&closed(&lines[..first(&lines, "tally")]));
    assert!(v.mix.is_none() && v.tally_decryptors.is_empty());
    let v = verified(&frozen_bytes("v1-demo-10-voters-2-of-3.jsonl"));
    assert!(v.report.complete && v.mix.is_none());
    assert_eq!(v.tally_decryptors.len(), 2);
}
