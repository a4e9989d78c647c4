//! The mix phase in the record (spec §8.8, checks V-19 to V-23): an honest simulated election
//! with ranked and graded questions verifies, with its result equal to the count of the
//! plaintext votes; each way of cheating in the mix phase is rejected with its check id, in batch
//! and one-by-one verification alike.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::io::{Cursor, Seek, SeekFrom};
use std::sync::OnceLock;

use urne_core::ballot::choice_allowed;
use urne_core::credential::Credential;
use urne_core::elgamal::Ciphertext;
use urne_core::group::{Point, random_scalar};
use urne_core::hash::{ItemHasher, tags};
use urne_core::manifest::{Counting, Question};
use urne_core::proofs::disjunctive::{DisjunctiveProof, Witness};
use urne_core::proofs::schnorr::SchnorrProof;
use urne_core::tally::{MixedCount, MixedResult};
use urne_core::testkit::{ElectionBuilder, Setup};
use urne_verify::record::{Entry, Line};
use urne_verify::simulate::{MixPlan, SimConfig, mix_lines, rng_for, simulate_with};
use urne_verify::{Options, Report, Verifier, verify, verify_since};

#[path = "support/records.rs"]
mod records;

use records::{last_ballot_rows, lines_of, write_lines};

const SEED: u64 = 88;
const VOTERS: usize = 30;

struct Honest {
    setup: Setup,
    lines: Vec<Line>,
}

fn question(text: &str, answers: &[&str], counting: Counting) -> Question {
    let n = answers.len() as u32;
    let mut q = Question::plurality(text, answers, 1, n, false);
    q.counting = counting;
    match counting {
        Counting::Stv => q.seats = Some(2),
        Counting::MajorityJudgment => {
            q.min = n;
            q.grades = Some(vec!["Good".into(), "Fair".into(), "Poor".into()]);
        }
        _ => {}
    }
    q
}

/// Threshold 2 of 3; a plurality question with a blank vote, then a Schulze, an STV (2 seats)
/// and a majority judgment question.
fn setup(id: &str) -> Setup {
    ElectionBuilder::with_questions(
        id,
        vec![
            Question::plurality("Yes?", &["Yes", "No"], 1, 1, true),
            question("Rank", &["A", "B", "C", "D"], Counting::Schulze),
            question("Seats", &["E", "F", "G", "H"], Counting::Stv),
            question("Grade", &["I", "J", "K"], Counting::MajorityJudgment),
        ],
    )
    .trustees(3)
    .threshold(2)
    .build(&mut rng_for(Some(SEED), u64::MAX))
}

/// Chunk lines of 4 rows, so that every list is cut into several lines.
fn plan() -> MixPlan {
    MixPlan {
        chunk_rows: Some(4),
        ..MixPlan::default()
    }
}

fn honest() -> &'static Honest {
    static H: OnceLock<Honest> = OnceLock::new();
    H.get_or_init(|| {
        let setup = setup("mixed");
        let cfg = SimConfig {
            voters: VOTERS,
            revote_percent: 25,
            seed: Some(SEED),
            chunk: 8,
        };
        let mut bytes = Vec::new();
        let outcome = simulate_with(&setup, &cfg, 0, &plan(), &mut bytes, &|_, _| {}).unwrap();
        assert_eq!(outcome.result, outcome.expected);
        assert!(
            outcome.ballots_cast > VOTERS as u64,
            "some voters vote again"
        );
        Honest {
            setup,
            lines: lines_of(&bytes),
        }
    })
}

/// Writes lines as a record, renumbered from 0, with a recomputed tree head: a server that
/// rewrites the record consistently.
fn write(lines: &[Line]) -> Vec<u8> {
    write_lines(lines, true, None)
}

/// Verifies in batch and one by one; both must agree on the failed checks.
fn both(record: &[u8]) -> Report {
    let run = |batch| {
        verify(
            Cursor::new(record),
            &Options {
                batch,
                ..Options::default()
            },
            &|_| {},
        )
        .unwrap()
    };
    let (b, s) = (run(true), run(false));
    assert_eq!(b.failed_checks(), s.failed_checks(), "{:#?}", b.failures);
    b
}

fn rejects(lines: &[Line], check: &str) -> Report {
    let r = both(&write(lines));
    assert!(!r.valid, "a changed record was accepted");
    assert!(
        r.has_failure(check),
        "expected {check}, got {:?}: {:#?}",
        r.failed_checks(),
        r.failures
    );
    r
}

fn position(lines: &[Line], kind: &str) -> usize {
    lines.iter().position(|l| l.entry.kind() == kind).unwrap()
}

fn positions(lines: &[Line], kind: &str) -> Vec<usize> {
    (0..lines.len())
        .filter(|&i| lines[i].entry.kind() == kind)
        .collect()
}

#[test]
fn honest_mixed_election_verifies() {
    let h = honest();
    let record = write(&h.lines);
    let r = both(&record);
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    for id in ["V-19", "V-20", "V-21", "V-22", "V-23"] {
        let c = r.checks.iter().find(|c| c.id == id).unwrap();
        assert_eq!(c.status, urne_verify::Status::Passed, "{id}");
    }
    // The lists are cut into several lines, and the mixed questions have their results.
    assert!(positions(&h.lines, "shuffle_chunk").len() > 2 * 2);
    assert_eq!(positions(&h.lines, "shuffle").len(), 2);
    let result = r.result.unwrap();
    assert!(result.questions[0].mixed.is_none());
    assert!(!result.questions[0].counts.is_empty());
    let methods: Vec<&str> = result.questions[1..]
        .iter()
        .map(|q| match &q.mixed.as_ref().unwrap().count {
            MixedCount::Schulze(_) => "schulze",
            MixedCount::Stv(_) => "stv",
            MixedCount::MajorityJudgment(_) => "majority_judgment",
        })
        .collect();
    assert_eq!(methods, ["schulze", "stv", "majority_judgment"]);
    for q in &result.questions[1..] {
        let m = q.mixed.as_ref().unwrap();
        assert_eq!(m.ballots, r.ballots_counted);
        assert_eq!(m.invalid, 0);
        assert!(q.counts.is_empty() && q.blank.is_none());
    }
    // The JSON shape the results pages read.
    let json = serde_json::to_value(&result).unwrap();
    let stv = &json["questions"][2]["mixed"];
    assert_eq!(stv["method"], "stv");
    assert_eq!(stv["ballots"], r.ballots_counted);
    assert_eq!(stv["invalid"], 0);
    assert_eq!(stv["seats"], 2);
    assert!(json["questions"][2].get("blank").is_none());
    let mix = r.mix.unwrap();
    assert_eq!(
        (mix.ballots, mix.decrypted),
        (r.ballots_counted, r.ballots_counted)
    );
    assert_eq!((mix.shufflers, mix.decryptors), (vec![2, 3], vec![2, 3]));
}

#[test]
fn mixed_record_fed_in_pieces_and_its_snapshots_extend() {
    let record = write(&honest().lines);
    let ends: Vec<usize> = (0..record.len())
        .filter(|&i| record[i] == b'\n')
        .map(|i| i + 1)
        .collect();
    let whole = both(&record);
    // Cut after every fourth line: in the middle of shuffles, of a trustee's factors and of the
    // decrypted ballots.
    let options = Options::default();
    let mut v = Verifier::new(&options);
    for &end in ends.iter().step_by(4).chain([record.len()].iter()) {
        let mut input = Cursor::new(&record[..end]);
        input.seek(SeekFrom::Start(v.offset())).unwrap();
        v.feed(&mut input, &|_| {}).unwrap();
    }
    let r = v.finish();
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    assert_eq!(r.result, whole.result);
    assert_eq!(r.mix, whole.mix);
    // A snapshot cut in the middle of the mix phase is valid but incomplete, and the whole
    // record extends it.
    let lines = &honest().lines;
    let cut = positions(lines, "mix_decryption")[1];
    let snapshot = write(&lines[..cut]);
    let s = both(&snapshot);
    assert!(s.valid && !s.complete, "{:#?}", s.failures);
    let since = verify_since(Cursor::new(&snapshot), Cursor::new(&record)).unwrap();
    assert!(since.extends, "{:#?}", since.failures);
}

/// The mix input of a record's lines: the row of the last ballot of each credential, in record
/// order (the revote policy of the simulated elections is `last_counts`).
fn mix_input(lines: &[Line], setup: &Setup) -> Vec<Vec<Ciphertext>> {
    last_ballot_rows(setup.election.manifest(), lines)
}

/// The lines with their mix phase replaced by one run by `plan`, and the result's mixed
/// members by that run's count.
fn remixed(lines: &[Line], setup: &Setup, plan: &MixPlan) -> Vec<Line> {
    let out = mix_lines(setup, Some(SEED), plan, mix_input(lines, setup)).unwrap();
    let start = position(lines, "shuffle_chunk");
    let end = position(lines, "result");
    let mut new: Vec<Line> = lines[..start].to_vec();
    new.extend(out.lines.into_iter().map(|entry| Line { seq: 0, entry }));
    let mut result = lines[end].clone();
    if let Entry::Result(r) = &mut result.entry {
        for (q, m) in r.questions.iter_mut().zip(out.results) {
            q.mixed = m;
        }
    }
    new.push(result);
    new
}

fn only(r: &Report, check: &str) {
    assert_eq!(r.failed_checks(), [check], "{:#?}", r.failures);
}

fn chunk_mut(lines: &mut [Line], i: usize) -> &mut urne_verify::record::ShuffleChunk {
    match &mut lines[i].entry {
        Entry::ShuffleChunk(c) => c,
        _ => panic!("not a shuffle chunk"),
    }
}

fn shuffle_mut(lines: &mut [Line], i: usize) -> &mut urne_verify::record::ShuffleEntry {
    match &mut lines[i].entry {
        Entry::Shuffle(s) => s,
        _ => panic!("not a shuffle line"),
    }
}

fn result_mut(lines: &mut [Line]) -> &mut urne_core::tally::ElectionResult {
    let i = position(lines, "result");
    match &mut lines[i].entry {
        Entry::Result(r) => r,
        _ => unreachable!(),
    }
}

#[test]
fn rejects_shuffle_output_with_a_ballot_replaced() {
    let mut lines = honest().lines.clone();
    let i = position(&lines, "shuffle_chunk");
    let c = chunk_mut(&mut lines, i);
    c.outputs[1][0] = c.outputs[2][0];
    rejects(&lines, "V-19");
}

#[test]
fn rejects_shuffle_output_with_a_ballot_duplicated() {
    let mut lines = honest().lines.clone();
    let i = position(&lines, "shuffle_chunk");
    let c = chunk_mut(&mut lines, i);
    c.outputs[1] = c.outputs[0].clone();
    rejects(&lines, "V-19");
}

#[test]
fn rejects_shuffle_output_with_a_ballot_dropped() {
    // The row and its proof's entries taken out, the later chunks and the count moved up.
    let mut lines = honest().lines.clone();
    let first = positions(&lines, "shuffle")[0];
    let i = position(&lines, "shuffle_chunk");
    let c = chunk_mut(&mut lines, i);
    c.outputs.remove(0);
    c.permutation_commitments.remove(0);
    c.chain_commitments.remove(0);
    c.t_hat.remove(0);
    c.s_hat.remove(0);
    c.s_prime.remove(0);
    for j in i + 1..first {
        chunk_mut(&mut lines, j).offset -= 1;
    }
    shuffle_mut(&mut lines, first).ballots -= 1;
    rejects(&lines, "V-19");
}

#[test]
fn rejects_shuffle_signed_by_another_trustee_or_unsigned() {
    let h = honest();
    let shuffles = positions(&h.lines, "shuffle");
    // The first shuffle claimed by the other shuffler, its chunks too: the signature is not
    // that trustee's.
    let mut lines = h.lines.clone();
    let other = shuffle_mut(&mut lines, shuffles[1]).trustee;
    for i in positions(&h.lines, "shuffle_chunk") {
        if i < shuffles[0] {
            chunk_mut(&mut lines, i).trustee = other;
        }
    }
    shuffle_mut(&mut lines, shuffles[0]).trustee = other;
    rejects(&lines, "V-20");
    // The second shuffler's signature on the first shuffle.
    let mut lines = h.lines.clone();
    let theirs = shuffle_mut(&mut lines, shuffles[1]).signature;
    shuffle_mut(&mut lines, shuffles[0]).signature = theirs;
    rejects(&lines, "V-20");
    // No signature: an empty one, and none at all.
    let mut lines = h.lines.clone();
    shuffle_mut(&mut lines, shuffles[0]).signature = SchnorrProof {
        r: Point::identity(),
        s: urne_core::Scalar::ZERO,
    };
    rejects(&lines, "V-20");
    let text = String::from_utf8(write(&h.lines)).unwrap();
    let unsigned: Vec<String> = text
        .lines()
        .map(|l| match l.contains("\"type\":\"shuffle\"") {
            true => {
                let at = l.find(",\"signature\"").unwrap();
                format!("{}}}", &l[..at])
            }
            false => l.to_owned(),
        })
        .collect();
    let r = both(unsigned.join("\n").as_bytes());
    assert!(r.has_failure("V-20"), "{:#?}", r.failures);
}

#[test]
fn rejects_the_same_trustee_shuffling_twice() {
    let h = honest();
    let plan = MixPlan {
        shufflers: Some(vec![3, 3]),
        chunk_rows: Some(4),
        ..MixPlan::default()
    };
    let lines = remixed(&h.lines, &h.setup, &plan);
    only(&rejects(&lines, "V-20"), "V-20");
    // The same run by two trustees passes: the test fails for the repeat alone.
    let plan = MixPlan {
        shufflers: Some(vec![1, 3]),
        ..plan
    };
    let r = both(&write(&remixed(&h.lines, &h.setup, &plan)));
    assert!(r.valid, "{:#?}", r.failures);
}

#[test]
fn rejects_fewer_shuffles_than_the_threshold() {
    let h = honest();
    let plan = MixPlan {
        shufflers: Some(vec![2]),
        ..MixPlan::default()
    };
    let lines = remixed(&h.lines, &h.setup, &plan);
    only(&rejects(&lines, "V-20"), "V-20");
}

#[test]
fn rejects_a_wrong_decryption_factor() {
    let mut lines = honest().lines.clone();
    let i = position(&lines, "mix_decryption");
    let Entry::MixDecryption(d) = &mut lines[i].entry else {
        unreachable!()
    };
    d.factors[2][1].factor = d.factors[2][0].factor;
    let r = rejects(&lines, "V-21");
    assert!(
        r.failures.iter().any(|f| f.item == "factors[2][1]"),
        "{:#?}",
        r.failures
    );
}

#[test]
fn rejects_a_decrypted_ballot_changed() {
    let mut lines = honest().lines.clone();
    let i = position(&lines, "mixed_ballots");
    let Entry::MixedBallots(b) = &mut lines[i].entry else {
        unreachable!()
    };
    // Two ranks of the Schulze question swapped: still a valid ranking.
    b.ballots[0].swap(0, 1);
    let r = rejects(&lines, "V-22");
    assert!(
        r.failures.iter().any(|f| f.item == "ballots[0][0]"),
        "{:#?}",
        r.failures
    );
}

#[test]
fn rejects_each_mixed_result_changed() {
    let h = honest();
    let changes: [fn(&mut MixedResult); 5] = [
        |m| m.ballots += 1,
        |m| match &mut m.count {
            MixedCount::Schulze(s) => s.pairwise[0][1] += 1,
            _ => unreachable!(),
        },
        |m| match &mut m.count {
            MixedCount::Stv(s) => s.quota += 1,
            _ => unreachable!(),
        },
        |m| match &mut m.count {
            MixedCount::Stv(s) => s.elected.reverse(),
            _ => unreachable!(),
        },
        |m| match &mut m.count {
            MixedCount::MajorityJudgment(s) => s.profiles[0].counts[0] += 1,
            _ => unreachable!(),
        },
    ];
    for (k, change) in changes.iter().enumerate() {
        let q = [1, 1, 2, 2, 3][k];
        let mut lines = h.lines.clone();
        change(result_mut(&mut lines).questions[q].mixed.as_mut().unwrap());
        only(&rejects(&lines, "V-23"), "V-23");
    }
    // A mixed result on the plurality question, or none on a mixed one.
    let mut lines = h.lines.clone();
    let r = result_mut(&mut lines);
    r.questions[0].mixed = r.questions[1].mixed.clone();
    only(&rejects(&lines, "V-23"), "V-23");
    let mut lines = h.lines.clone();
    result_mut(&mut lines).questions[3].mixed = None;
    only(&rejects(&lines, "V-23"), "V-23");
}

/// The ballot of the record's last ballot line with its Schulze ranking replaced by `ranks`,
/// each rank still proved in range (0 to max), and signed again: what a voter who bypasses the
/// booth can cast.
fn with_ranking(lines: &mut [Line], setup: &Setup, ranks: &[u64]) {
    let e = &setup.election;
    let i = positions(lines, "ballot").pop().unwrap();
    let Entry::Ballot(entry) = &mut lines[i].entry else {
        unreachable!()
    };
    let key = (0..VOTERS)
        .map(|v| Credential::generate(&mut rng_for(Some(SEED), v as u64)).derive_key("mixed"))
        .find(|k| *k.public() == entry.ballot.credential)
        .unwrap();
    let mut rng = rng_for(Some(SEED), 99);
    let q = &e.manifest().questions[1];
    let allowed = choice_allowed(q);
    let answer = &mut entry.ballot.answers[1];
    for (a, &m) in ranks.iter().enumerate() {
        let r = random_scalar(&mut rng);
        let ct = Ciphertext::encrypt(e.key(), m, &r);
        let mut prefix = ItemHasher::new(tags::CHOICE_PROOF);
        prefix
            .bytes(&e.fingerprint().0)
            .point(e.key().point())
            .point(key.public())
            .u64(1)
            .u64(a as u64)
            .point(&ct.alpha)
            .point(&ct.beta);
        let w = Witness {
            branch: m as usize,
            randomness: std::slice::from_ref(&r),
        };
        answer.choice_proofs[a] =
            DisjunctiveProof::prove(&mut rng, e.key(), prefix, &allowed, &w, 1);
        answer.choices[a] = ct;
    }
    entry.ballot.sign(&mut rng, &key);
    entry.tracker = entry.ballot.tracker();
}

#[test]
fn rejects_an_invalid_ranking_counted_as_valid() {
    let h = honest();
    let mut lines = h.lines.clone();
    // Rank 1 twice: in range for every proof, not a ranking.
    with_ranking(&mut lines, &h.setup, &[1, 1, 0, 0]);
    let lines = remixed(&lines, &h.setup, &plan());
    // Honest: the ranking is set aside.
    let r = both(&write(&lines));
    assert!(r.valid, "{:#?}", r.failures);
    let result = r.result.unwrap();
    let m = result.questions[1].mixed.as_ref().unwrap();
    assert_eq!(
        (m.ballots, m.invalid, m.count.ballots()),
        (r.ballots_counted, 1, r.ballots_counted - 1)
    );
    assert_eq!(result.questions[2].mixed.as_ref().unwrap().invalid, 0);
    // Counted as valid: the Schulze count over every decrypted ballot, the invalid one included.
    let values: Vec<Vec<u32>> = lines
        .iter()
        .filter_map(|l| match &l.entry {
            Entry::MixedBallots(b) => Some(
                b.ballots
                    .iter()
                    .map(|row| row[..4].iter().map(|&v| v as u32).collect()),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    let all = urne_core::count::schulze::schulze(4, &values).unwrap();
    let mut cheat = lines.clone();
    result_mut(&mut cheat).questions[1].mixed = Some(MixedResult {
        ballots: values.len() as u64,
        invalid: 0,
        count: MixedCount::Schulze(all),
    });
    only(&rejects(&cheat, "V-23"), "V-23");
}

/// Writes the frozen record of a small mixed election (test-vectors/records/
/// v1-sim-8-voters-mixed-2-of-3.jsonl) to the path in `URNE_FROZEN_OUT`, and prints its values
/// for expected.json. Run once, by hand, when the record was made; never to replace it.
#[test]
#[ignore = "writes a frozen record: run by hand only"]
fn write_frozen_mixed_record() {
    let Ok(path) = std::env::var("URNE_FROZEN_OUT") else {
        return;
    };
    let setup = self::setup("mixed-frozen");
    let cfg = SimConfig {
        voters: 8,
        revote_percent: 25,
        seed: Some(20261129),
        chunk: 4,
    };
    let plan = MixPlan {
        chunk_rows: Some(3),
        ..MixPlan::default()
    };
    let mut bytes = Vec::new();
    let outcome = simulate_with(&setup, &cfg, 0, &plan, &mut bytes, &|_, _| {}).unwrap();
    assert_eq!(outcome.result, outcome.expected);
    let r = both(&bytes);
    assert!(r.valid && r.complete, "{:#?}", r.failures);
    std::fs::write(&path, &bytes).unwrap();
    let values = serde_json::json!({
        "fingerprint": r.fingerprint,
        "root": r.root,
        "ballots_cast": r.ballots_cast,
        "ballots_counted": r.ballots_counted,
        "result": r.result,
    });
    println!("{}", serde_json::to_string_pretty(&values).unwrap());
}

#[test]
fn rejects_malformed_mix_lines() {
    let h = honest();
    // A gap between two chunks of a shuffle.
    let mut lines = h.lines.clone();
    let i = positions(&lines, "shuffle_chunk")[1];
    chunk_mut(&mut lines, i).offset += 1;
    rejects(&lines, "V-19");
    // A shuffle without its `shuffle` line.
    let mut lines = h.lines.clone();
    lines.remove(positions(&lines, "shuffle")[1]);
    rejects(&lines, "V-19");
    // The last decrypted ballots missing: V-22 alone, the recount is not attempted.
    let mut lines = h.lines.clone();
    lines.remove(*positions(&lines, "mixed_ballots").last().unwrap());
    only(&rejects(&lines, "V-22"), "V-22");
    // A trustee's last factors missing.
    let mut lines = h.lines.clone();
    lines.remove(*positions(&lines, "mix_decryption").last().unwrap());
    rejects(&lines, "V-21");
    // The mix lines after the result are out of order.
    let mut lines = h.lines.clone();
    let result = lines.remove(position(&lines, "result"));
    let first = position(&lines, "shuffle_chunk");
    lines.insert(first, result);
    rejects(&lines, "V-18");
}

#[test]
fn rejects_mix_lines_in_a_plurality_election() {
    let setup = ElectionBuilder::single_question("plain", 3, 1, 1)
        .trustees(2)
        .build(&mut rng_for(Some(SEED), u64::MAX));
    let cfg = SimConfig {
        voters: 4,
        revote_percent: 0,
        seed: Some(SEED),
        chunk: 4,
    };
    let mut bytes = Vec::new();
    simulate_with(&setup, &cfg, 0, &plan(), &mut bytes, &|_, _| {}).unwrap();
    let mut lines = lines_of(&bytes);
    assert!(both(&write(&lines)).valid);
    let h = honest();
    let at = position(&lines, "result");
    lines.insert(at, h.lines[position(&h.lines, "mixed_ballots")].clone());
    only(&rejects(&lines, "V-18"), "V-18");
}
