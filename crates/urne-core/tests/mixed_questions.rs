//! Ranked and graded questions (issue #8; spec §4.1, §4.2, §6.3, §7.1): the manifest's rules for
//! them, their fingerprints, and their ballots — one ciphertext per answer holding its rank or
//! grade, each with a range proof and no count proof — made, verified, refused when the vote
//! breaks the rules, decrypted back to the vote, and left out of the homomorphic tally.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use urne_core::ballot::{Ballot, QuestionVote, VoteError, check_ranking};
use urne_core::credential::{Credential, CredentialKey};
use urne_core::elgamal::Ciphertext;
use urne_core::error::Check;
use urne_core::manifest::{Counting, Manifest, Question, WeightPolicy};
use urne_core::tally::TallyAccumulator;
use urne_core::testkit::{ElectionBuilder, Setup, rng_from_seed};

fn ranked(counting: Counting, answers: usize, min: u32, max: u32, seats: Option<u32>) -> Question {
    Question {
        text: "Rank the candidates".into(),
        answers: (1..=answers).map(|a| format!("Candidate {a}")).collect(),
        min,
        max,
        blank: false,
        counting,
        seats,
        grades: None,
    }
}

fn graded(answers: usize, grades: &[&str]) -> Question {
    Question {
        text: "Grade the projects".into(),
        answers: (1..=answers).map(|a| format!("Project {a}")).collect(),
        min: answers as u32,
        max: answers as u32,
        blank: false,
        counting: Counting::MajorityJudgment,
        seats: None,
        grades: Some(grades.iter().map(|g| (*g).to_owned()).collect()),
    }
}

const GRADES: [&str; 5] = ["Excellent", "Good", "Fair", "Poor", "Reject"];

/// An election with a plurality question, a Schulze ranking of 5, an STV ranking (2 seats, up
/// to 4 ranked) and a majority judgment of 3 projects on 5 grades.
fn setup(seed: u64) -> Setup {
    let questions = vec![
        Question::plurality("Adopt the budget?", &["Yes", "No"], 1, 1, true),
        ranked(Counting::Schulze, 5, 1, 5, None),
        ranked(Counting::Stv, 6, 0, 4, Some(2)),
        graded(3, &GRADES),
    ];
    ElectionBuilder::with_questions("mixed-2026", questions).build(&mut rng_from_seed(seed))
}

/// The manifest of `setup` with `edit` applied to its question `qi`.
fn edited(qi: usize, edit: impl FnOnce(&mut Question)) -> Manifest {
    let mut m = setup(1).election.manifest().clone();
    edit(&mut m.questions[qi]);
    m
}

fn refused(m: &Manifest, path: &str, words: &str) {
    let e = m.validate().unwrap_err();
    assert_eq!(e.path, path, "{}", e.message);
    assert!(e.message.contains(words), "{path}: {}", e.message);
}

#[test]
fn manifest_rules_of_ranked_and_graded_questions() {
    setup(1).election.manifest().validate().unwrap();
    refused(
        &edited(2, |q| q.seats = None),
        "questions[2].seats",
        "required",
    );
    refused(
        &edited(2, |q| q.seats = Some(0)),
        "questions[2].seats",
        "between 1",
    );
    refused(
        &edited(2, |q| q.seats = Some(6)),
        "questions[2].seats",
        "one less",
    );
    refused(
        &edited(1, |q| q.seats = Some(1)),
        "questions[1].seats",
        "only for",
    );
    refused(
        &edited(0, |q| q.seats = Some(1)),
        "questions[0].seats",
        "only for",
    );
    refused(
        &edited(3, |q| q.grades = None),
        "questions[3].grades",
        "required",
    );
    refused(
        &edited(3, |q| q.grades = Some(vec!["Good".into()])),
        "questions[3].grades",
        "2 to 16",
    );
    refused(
        &edited(3, |q| {
            q.grades = Some((0..17).map(|g| format!("G{g}")).collect())
        }),
        "questions[3].grades",
        "2 to 16",
    );
    refused(
        &edited(3, |q| {
            q.grades = Some(vec!["Good".into(), "Bad".into(), "Good".into()])
        }),
        "questions[3].grades[2]",
        "repeats",
    );
    refused(
        &edited(3, |q| q.grades = Some(vec!["Good".into(), " ".into()])),
        "questions[3].grades[1]",
        "empty",
    );
    refused(
        &edited(1, |q| q.grades = Some(vec!["A".into(), "B".into()])),
        "questions[1].grades",
        "only for",
    );
    refused(
        &edited(1, |q| q.blank = true),
        "questions[1].blank",
        "must be false",
    );
    refused(
        &edited(3, |q| q.min = 2),
        "questions[3].min",
        "every answer is graded",
    );
    refused(
        &edited(3, |q| {
            q.min = 2;
            q.max = 2;
        }),
        "questions[3].min",
        "every answer is graded",
    );
    refused(
        &edited(1, |q| {
            q.answers = (0..65).map(|a| format!("C{a}")).collect()
        }),
        "questions[1].answers",
        "at most 64",
    );
    let mut weighted = setup(1).election.manifest().clone();
    weighted.weights = WeightPolicy::Weighted;
    refused(&weighted, "weights", "shuffled");
}

#[test]
fn fingerprints_bind_the_counting_its_seats_and_its_grades() {
    let m = setup(1).election.manifest().clone();
    let fp = m.fingerprint();
    for other in [
        edited(1, |q| {
            q.counting = Counting::Stv;
            q.seats = Some(2);
        }),
        edited(2, |q| q.seats = Some(3)),
        edited(3, |q| q.grades.as_mut().unwrap()[4] = "Refuse".into()),
        edited(3, |q| q.grades.as_mut().unwrap().swap(0, 1)),
    ] {
        other.validate().unwrap();
        assert_ne!(other.fingerprint(), fp);
    }
    // The JSON form: seats and grades after counting, and only where they belong.
    let json = m.to_json();
    assert!(json.contains(r#""counting":"stv","seats":2}"#), "{json}");
    assert!(
        json.contains(r#""counting":"majority_judgment","grades":["Excellent""#),
        "{json}"
    );
    assert!(json.contains(r#""counting":"schulze"}"#), "{json}");
    assert_eq!(Manifest::from_json(&json).unwrap(), m);
    let null_seats = json.replacen(
        r#""counting":"schulze""#,
        r#""counting":"schulze","seats":null"#,
        1,
    );
    assert!(
        Manifest::from_json(&null_seats).is_err(),
        "an explicit null is refused"
    );
}

/// Decrypts a small value with the single trustee's key.
fn decrypt(s: &Setup, c: &Ciphertext) -> u64 {
    let bytes = s.trustees[0].to_secret_bytes();
    let x = Scalar::from_canonical_bytes(*bytes).unwrap();
    let m = c.beta.element() - c.alpha.element() * x;
    (0..=64u64)
        .find(|&v| RistrettoPoint::mul_base(&Scalar::from(v)) == m)
        .expect("a small value")
}

fn credential(seed: u64) -> CredentialKey {
    Credential::generate(&mut rng_from_seed(seed)).derive_key("mixed-2026")
}

#[test]
fn ranked_and_graded_ballots_verify_and_decrypt_to_the_vote() {
    let s = setup(2);
    let e = &s.election;
    let key = credential(3);
    let mut rng = rng_from_seed(4);
    let vote = [
        QuestionVote::Selected(vec![0]),
        QuestionVote::Ranked(vec![3, 1, 5, 2, 4]),
        QuestionVote::Ranked(vec![0, 2, 0, 1, 0, 0]),
        QuestionVote::Graded(vec![0, 4, 2]),
    ];
    let b = Ballot::create(&mut rng, e, &key, &vote).unwrap();
    let tracker = b.vartime_verify(&mut rng, e).unwrap();
    assert_eq!(tracker, b.tracker());
    // Mixed questions have no count proof, not even in JSON; plurality ones keep theirs.
    assert!(b.answers[0].count_proof.is_some());
    assert!(
        b.answers[1..]
            .iter()
            .all(|a| a.count_proof.is_none() && a.blank.is_none())
    );
    let json = b.to_json();
    assert_eq!(json.matches("count_proof").count(), 1, "{json}");
    assert_eq!(Ballot::from_json(&json).unwrap(), b);
    // The ciphertexts hold the ranks, and the grades from the worst (0) to the best (4).
    let values = |qi: usize| -> Vec<u64> {
        b.answers[qi]
            .choices
            .iter()
            .map(|c| decrypt(&s, c))
            .collect()
    };
    assert_eq!(values(1), [3, 1, 5, 2, 4]);
    assert_eq!(values(2), [0, 2, 0, 1, 0, 0]);
    assert_eq!(values(3), [4, 0, 2]);
    // The homomorphic tally sums the plurality question only.
    let mut acc = TallyAccumulator::new(e);
    acc.add(&b, 1);
    let tally = acc.finish();
    assert_eq!(tally.questions[0].choices.len(), 2);
    assert!(
        tally.questions[1..]
            .iter()
            .all(|q| q.choices.is_empty() && q.blank.is_none())
    );
}

#[test]
fn ballots_of_mixed_questions_are_checked_like_the_others() {
    let s = setup(5);
    let e = &s.election;
    let key = credential(6);
    let mut rng = rng_from_seed(7);
    let vote = [
        QuestionVote::Blank,
        QuestionVote::Ranked(vec![1, 2, 3, 4, 5]),
        QuestionVote::Ranked(vec![0, 0, 0, 0, 0, 0]),
        QuestionVote::Graded(vec![4, 4, 4]),
    ];
    let b = Ballot::create(&mut rng, e, &key, &vote).unwrap();
    b.vartime_verify(&mut rng, e).unwrap();

    // A count proof where none belongs, or none where one does: V-5.
    let mut extra = b.clone();
    extra.answers[1].count_proof = b.answers[0].count_proof.clone();
    extra.sign(&mut rng, &key);
    let err = extra.vartime_verify(&mut rng, e).unwrap_err();
    assert_eq!(
        (err.check, err.item.as_str()),
        (Check::V5, "answers[1].count_proof"),
        "{err}"
    );
    let mut missing = b.clone();
    missing.answers[0].count_proof = None;
    missing.sign(&mut rng, &key);
    let err = missing.vartime_verify(&mut rng, e).unwrap_err();
    assert_eq!(
        (err.check, err.item.as_str()),
        (Check::V5, "answers[0].count_proof"),
        "{err}"
    );

    // A rank's ciphertext swapped for one of another ballot's value: its range proof fails (V-9).
    let other = Ballot::create(&mut rng, e, &key, &vote).unwrap();
    let mut swapped = b.clone();
    swapped.answers[1].choices[2] = other.answers[1].choices[2];
    swapped.sign(&mut rng, &key);
    let err = swapped.vartime_verify(&mut rng, e).unwrap_err();
    assert_eq!(
        (err.check, err.item.as_str()),
        (Check::V9, "answers[1].choice_proofs[2]"),
        "{err}"
    );

    // A proof moved to another answer fails: its statement names the answer and ciphertext.
    let mut moved = b.clone();
    moved.answers[3].choice_proofs.swap(0, 1);
    moved.sign(&mut rng, &key);
    assert_eq!(
        moved.vartime_verify(&mut rng, e).unwrap_err().check,
        Check::V9
    );
}

fn refused_vote(vote: [QuestionVote; 4]) -> VoteError {
    let s = setup(8);
    Ballot::create(&mut rng_from_seed(9), &s.election, &credential(10), &vote).unwrap_err()
}

fn valid_rest(q1: QuestionVote) -> [QuestionVote; 4] {
    [
        QuestionVote::Selected(vec![1]),
        q1,
        QuestionVote::Ranked(vec![1, 0, 0, 0, 0, 0]),
        QuestionVote::Graded(vec![1, 1, 1]),
    ]
}

#[test]
fn votes_that_break_a_mixed_question_are_refused_before_encrypting() {
    let detail = |e: VoteError| match e {
        VoteError::Values { question, detail } => (question, detail),
        other => panic!("{other}"),
    };
    for (ranks, words) in [
        (vec![1, 2, 3, 4], "4 ranks for 5 answers"),
        (vec![1, 1, 2, 3, 4], "rank 1 is given twice"),
        (vec![1, 2, 4, 0, 0], "only 3 answers are ranked"),
        (vec![0, 0, 0, 0, 0], "0 answers ranked"),
        (vec![1, 2, 3, 4, 6], "rank 6"),
        (vec![2, 3, 4, 5, 6], "rank 6"),
    ] {
        let (q, d) = detail(refused_vote(valid_rest(QuestionVote::Ranked(
            ranks.clone(),
        ))));
        assert_eq!(q, 1);
        assert!(d.contains(words), "{ranks:?}: {d}");
    }
    // STV: at most 4 of 6 ranked.
    let mut v = valid_rest(QuestionVote::Ranked(vec![1, 2, 3, 4, 5]));
    v[2] = QuestionVote::Ranked(vec![1, 2, 3, 4, 5, 0]);
    let (q, d) = detail(refused_vote(v));
    assert_eq!(q, 2);
    assert!(d.contains("5 answers ranked, between 0 and 4"), "{d}");
    // A grade that does not exist, and the wrong kinds of vote.
    let mut v = valid_rest(QuestionVote::Ranked(vec![1, 2, 3, 4, 5]));
    v[3] = QuestionVote::Graded(vec![0, 5, 1]);
    let (q, d) = detail(refused_vote(v));
    assert_eq!(q, 3);
    assert!(d.contains("answer 1: grade 5 does not exist"), "{d}");
    assert!(matches!(
        refused_vote(valid_rest(QuestionVote::Selected(vec![0]))),
        VoteError::Kind {
            question: 1,
            counting: "schulze",
            ..
        }
    ));
    assert!(matches!(
        refused_vote(valid_rest(QuestionVote::Blank)),
        VoteError::Kind { question: 1, .. }
    ));
    let mut v = valid_rest(QuestionVote::Ranked(vec![1, 2, 3, 4, 5]));
    v[0] = QuestionVote::Ranked(vec![1, 2]);
    assert!(matches!(
        refused_vote(v),
        VoteError::Kind {
            question: 0,
            counting: "plurality",
            ..
        }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The booth-side check (constant time on valid votes) and `check_ranking` (used on decrypted
    /// ballots) agree on every vector of ranks.
    #[test]
    fn the_two_ranking_checks_agree(ranks in proptest::collection::vec(0u32..8, 6), min in 0u32..3, max in 3u32..7) {
        let q = ranked(Counting::Stv, 6, min, max, Some(2));
        let questions = vec![q.clone()];
        let s = ElectionBuilder::with_questions("agree", questions).build(&mut rng_from_seed(11));
        let made = Ballot::create(&mut rng_from_seed(12), &s.election, &credential(13), &[QuestionVote::Ranked(ranks.clone())]);
        prop_assert_eq!(made.is_ok(), check_ranking(&q, &ranks).is_ok(), "{:?}", ranks);
    }
}
