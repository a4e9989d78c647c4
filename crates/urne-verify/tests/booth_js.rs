//! The browser booth's ballots verify with the Rust verifier (issue #7, point 2).
//!
//! For several election shapes (1 of 5; 2 to 3 of 6 with a blank vote; several questions; a
//! weighted election whose key comes from the threshold ceremony), Rust makes the election and
//! the voters' credentials and votes, and `node` makes every ballot with the booth's code
//! (web/tools/make-ballots.js, fresh randomness from the system's generator). Rust then checks
//! that each ballot parses, carries the voter's public credential and the tracker the booth
//! showed, and passes the server's batch checks (V-5 to V-10); writes the election record with
//! those ballots, the tally, the trustees' factors and the result; runs the universal verifier
//! over it (every check V-1 to V-18); and compares the decrypted result with the count of the
//! plaintext votes. A ballot with two choices exchanged must be refused, so the checks can fail.
//!
//! A mixed election (issue #8: a plurality question beside a Schulze, an STV and a majority-judgment
//! one) is checked apart, since the verifier does not judge a mixed record until the mix phase
//! runs: each ballot the booth makes parses, carries the voter's credential and the tracker the
//! booth showed, passes V-5 to V-10, and decrypts (with the trustee's key) to the voter's ranks
//! and grades, the grades from the worst (0) to the best (g − 1); two exchanged ranks are refused.
//!
//! The test needs `node` and web/node_modules (`npm ci` in web/). Without them it is skipped with
//! a message, unless URNE_REQUIRE_NODE=1 (set by scripts/test.sh when node is installed, and
//! needed under CI), where it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests unwrap what must succeed.

#[path = "../../urne-cli/tests/support/node.rs"]
mod node;

use std::io::Cursor;
use std::path::Path;

use serde_json::{Value, json};
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::Credential;
use urne_core::elgamal::Ciphertext;
use urne_core::group::{Point, scalar_decode};
use urne_core::manifest::{Counting, Question, Timestamp, WeightPolicy};
use urne_core::tally::{TallyAccumulator, decrypt_result};
use urne_core::testkit::{ElectionBuilder, Setup};
use urne_verify::batch::vartime_check_ballots;
use urne_verify::record::{BallotEntry, CredentialEntry, Entry, Instant, RecordWriter, TallyEntry};
use urne_verify::simulate::{count, empty_result, random_vote, rng_for};
use urne_verify::{Options, verify};

const SEED: u64 = 7;

/// A vote in the booth's JSON form.
fn vote_json(vote: &[QuestionVote]) -> Value {
    vote.iter()
        .map(|v| match v {
            QuestionVote::Blank => json!({"blank": true}),
            QuestionVote::Selected(s) => json!({"selected": s}),
            QuestionVote::Ranked(r) => json!({"ranks": r}),
            QuestionVote::Graded(g) => json!({"grades": g}),
        })
        .collect()
}

/// Runs the booth's ballot maker on `input`, returning its JSON output.
fn make_ballots(web: &Path, input: &Value) -> Value {
    node::run_driver(&web.join("tools/make-ballots.js"), web, input)
        .unwrap_or_else(|e| panic!("make-ballots.js failed: {e}"))
}

/// One election shape: the booth votes for `voters` voters, and everything is checked.
fn check_shape(web: &Path, name: &str, builder: ElectionBuilder, voters: usize) {
    let setup: Setup = builder.build(&mut rng_for(Some(SEED), u64::MAX));
    let election = &setup.election;
    let manifest = election.manifest();
    let weighted = manifest.weights == WeightPolicy::Weighted;
    let mut rng = rng_for(Some(SEED), 1);
    let credentials: Vec<Credential> = (0..voters)
        .map(|_| Credential::generate(&mut rng))
        .collect();
    let keys: Vec<_> = credentials
        .iter()
        .map(|c| c.derive_key(&manifest.id))
        .collect();
    let weights: Vec<u64> = (0..voters)
        .map(|v| if weighted { 1 + (v as u64 * 7) % 5 } else { 1 })
        .collect();
    let votes: Vec<Vec<QuestionVote>> = (0..voters)
        .map(|_| random_vote(&mut rng, &manifest.questions))
        .collect();

    let input = json!({
        "manifest": manifest.to_json(),
        "voters": credentials.iter().zip(&votes).map(|(c, v)| json!({
            "credential": c.display().as_str(),
            "vote": vote_json(v),
        })).collect::<Vec<_>>(),
    });
    let output = make_ballots(web, &input);
    assert_eq!(
        output["fingerprint"].as_str(),
        Some(election.fingerprint().to_string().as_str()),
        "{name}: the booth computes the election's fingerprint"
    );
    let made = output["ballots"].as_array().expect("a list of ballots");
    assert_eq!(made.len(), voters, "{name}: one ballot per voter");

    let ballots: Vec<Ballot> = made
        .iter()
        .enumerate()
        .map(|(v, m)| {
            let ballot = Ballot::from_json(m["ballot"].as_str().unwrap())
                .unwrap_or_else(|e| panic!("{name}: ballot {v} does not parse: {e}"));
            assert_eq!(
                &ballot.credential,
                keys[v].public(),
                "{name}: ballot {v}'s credential"
            );
            assert_eq!(
                m["tracker"].as_str(),
                Some(ballot.tracker().to_string().as_str()),
                "{name}: ballot {v}'s tracker as the booth shows it"
            );
            ballot
        })
        .collect();
    let refs: Vec<&Ballot> = ballots.iter().collect();
    for (v, e) in vartime_check_ballots(election, &refs).iter().enumerate() {
        assert!(e.is_none(), "{name}: ballot {v} refused: {e:?}");
    }

    // The checks can fail: a ballot with two choices exchanged is refused.
    let mut swapped = ballots[0].clone();
    swapped.answers[0].choices.swap(0, 1);
    assert!(
        vartime_check_ballots(election, &[&swapped])[0].is_some(),
        "{name}: a ballot with two choices exchanged is accepted"
    );

    // The record of the election, checked by the universal verifier.
    let mut w = RecordWriter::new(Vec::new()).unwrap();
    w.append(&Entry::Manifest(Box::new(manifest.clone())))
        .unwrap();
    if let Some(t) = &setup.ceremony {
        for d in &t.dealings {
            w.append(&Entry::Dealing(Box::new(d.clone()))).unwrap();
        }
        for c in &t.complaints {
            w.append(&Entry::Complaint(Box::new(c.clone()))).unwrap();
        }
        for a in &t.answers {
            w.append(&Entry::Answer(Box::new(a.clone()))).unwrap();
        }
    }
    for (k, &weight) in keys.iter().zip(&weights) {
        w.append(&Entry::Credential(CredentialEntry {
            credential: *k.public(),
            weight,
        }))
        .unwrap();
    }
    w.append(&Entry::Open(Instant {
        at: manifest.opens_at,
    }))
    .unwrap();
    let mut tally = TallyAccumulator::new(election);
    let mut expected = empty_result(&manifest.questions);
    for (v, ballot) in ballots.into_iter().enumerate() {
        tally.add(&ballot, weights[v]);
        for _ in 0..weights[v] {
            count(&mut expected, &votes[v]);
        }
        let cast_at = Timestamp::from_unix(manifest.opens_at.unix() + 60 * (v as i64 + 1)).unwrap();
        w.append(&Entry::Ballot(Box::new(BallotEntry {
            cast_at,
            tracker: ballot.tracker(),
            ballot,
        })))
        .unwrap();
    }
    w.append(&Entry::Close(Instant {
        at: manifest.closes_at,
    }))
    .unwrap();
    let encrypted = tally.finish();
    w.append(&Entry::Tally(Box::new(TallyEntry {
        ballots: tally.ballots(),
        total_weight: tally.total_weight(),
        tally: encrypted.clone(),
    })))
    .unwrap();
    let mut trng = rng_for(Some(SEED), 2);
    let partials: Vec<_> = if setup.shares.is_empty() {
        setup
            .trustees
            .iter()
            .enumerate()
            .map(|(i, k)| k.decrypt_tally(&mut trng, election, i as u32 + 1, &encrypted))
            .collect()
    } else {
        let t = manifest.threshold as usize;
        setup.shares[..t]
            .iter()
            .map(|s| s.decrypt_tally(&mut trng, election, &encrypted).unwrap())
            .collect()
    };
    for pd in &partials {
        w.append(&Entry::PartialDecryption(Box::new(pd.clone())))
            .unwrap();
    }
    let result = decrypt_result(election, &encrypted, &partials, tally.total_weight()).unwrap();
    w.append(&Entry::Result(Box::new(result.clone()))).unwrap();
    let (record, _) = w.finish().unwrap();

    let report = verify(Cursor::new(record), &Options::default(), &|_| {}).unwrap();
    assert!(
        report.valid && report.complete,
        "{name}: the verifier refuses the record: {:?}",
        report.failures
    );
    assert_eq!(report.ballots_cast, voters as u64, "{name}");
    assert_eq!(
        result, expected,
        "{name}: the result is the count of the votes"
    );
    assert_eq!(report.result.as_ref(), Some(&expected), "{name}");
}

#[test]
fn ballots_made_by_the_booth_verify_with_urne_verify() {
    let Some(web) = node::web("@noble/curves/package.json") else {
        return;
    };
    check_shape(
        &web,
        "1 of 5",
        ElectionBuilder::single_question("booth-1-of-5", 5, 1, 1).trustees(2),
        12,
    );
    check_shape(
        &web,
        "2 to 3 of 6, or blank",
        ElectionBuilder::with_questions("booth-k-of-n", vec![])
            .question(6, 2, 3, true)
            .trustees(1),
        12,
    );
    check_shape(
        &web,
        "several questions",
        ElectionBuilder::with_questions("booth-several", vec![])
            .question(3, 1, 1, false)
            .question(4, 0, 2, false)
            .question(2, 1, 1, true)
            .question(8, 1, 8, false)
            .trustees(3),
        10,
    );
    check_shape(
        &web,
        "weighted, 2 of 3 trustees",
        ElectionBuilder::single_question("booth-weighted", 4, 1, 2)
            .question(3, 1, 1, true)
            .weights(WeightPolicy::Weighted)
            .trustees(3)
            .threshold(2),
        10,
    );
}

/// A ranked (`seats` for STV) or graded (`grades`) question with `n` answers.
fn mixed(
    counting: Counting,
    n: usize,
    min: u32,
    max: u32,
    seats: Option<u32>,
    grades: &[&str],
) -> Question {
    Question {
        text: format!("{} question", counting.as_str()),
        answers: (1..=n).map(|a| format!("Answer {a}")).collect(),
        min,
        max,
        blank: false,
        counting,
        seats,
        grades: (!grades.is_empty()).then(|| grades.iter().map(|g| (*g).to_owned()).collect()),
    }
}

/// The values a question's ciphertexts hold for a vote (spec §6.3), from the spec.
fn values(q: &Question, v: &QuestionVote) -> Vec<u64> {
    let n = q.answers.len();
    match v {
        QuestionVote::Blank => vec![0; n],
        QuestionVote::Selected(s) => (0..n).map(|a| u64::from(s.contains(&a))).collect(),
        QuestionVote::Ranked(r) => r.iter().map(|&x| u64::from(x)).collect(),
        QuestionVote::Graded(g) => {
            let top = q.grades.as_ref().map_or(0, Vec::len) as u64 - 1;
            g.iter().map(|&x| top - u64::from(x)).collect()
        }
    }
}

#[test]
fn mixed_ballots_made_by_the_booth_verify_and_decrypt_to_the_vote() {
    let Some(web) = node::web("@noble/curves/package.json") else {
        return;
    };
    let questions = vec![
        Question::plurality("Adopt the budget?", &["Yes", "No"], 1, 1, true),
        mixed(Counting::Schulze, 5, 1, 5, None, &[]),
        mixed(Counting::Stv, 6, 0, 3, Some(2), &[]),
        mixed(
            Counting::MajorityJudgment,
            3,
            3,
            3,
            None,
            &["A", "B", "C", "D", "E"],
        ),
    ];
    let setup = ElectionBuilder::with_questions("booth-mixed", questions)
        .trustees(1)
        .build(&mut rng_for(Some(SEED), u64::MAX));
    let election = &setup.election;
    let manifest = election.manifest();
    let mut rng = rng_for(Some(SEED), 3);
    let voters = 10;
    let credentials: Vec<Credential> = (0..voters)
        .map(|_| Credential::generate(&mut rng))
        .collect();
    let votes: Vec<Vec<QuestionVote>> = (0..voters)
        .map(|_| random_vote(&mut rng, &manifest.questions))
        .collect();
    let input = json!({
        "manifest": manifest.to_json(),
        "voters": credentials.iter().zip(&votes).map(|(c, v)| json!({
            "credential": c.display().as_str(),
            "vote": vote_json(v),
        })).collect::<Vec<_>>(),
    });
    let output = make_ballots(&web, &input);
    assert_eq!(
        output["fingerprint"].as_str(),
        Some(election.fingerprint().to_string().as_str())
    );
    let made = output["ballots"].as_array().expect("a list of ballots");
    assert_eq!(made.len(), voters);
    let secret = scalar_decode(&setup.trustees[0].to_secret_bytes()[..]).unwrap();
    let zero = scalar_decode(&[0u8; 32]).unwrap();
    let decrypt = |c: &Ciphertext| -> u64 {
        let m = Point::from_element(c.beta.element() - c.alpha.element() * secret);
        (0..=8u64)
            .find(|&v| Ciphertext::encrypt(election.key(), v, &zero).beta == m)
            .expect("a small value")
    };
    let mut ballots = Vec::new();
    for (v, m) in made.iter().enumerate() {
        let ballot = Ballot::from_json(m["ballot"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("mixed ballot {v} does not parse: {e}"));
        assert_eq!(
            &ballot.credential,
            credentials[v].derive_key(&manifest.id).public()
        );
        assert_eq!(
            m["tracker"].as_str(),
            Some(ballot.tracker().to_string().as_str())
        );
        for (qi, (q, a)) in manifest.questions.iter().zip(&ballot.answers).enumerate() {
            let found: Vec<u64> = a.choices.iter().map(decrypt).collect();
            assert_eq!(found, values(q, &votes[v][qi]), "ballot {v}, question {qi}");
            assert_eq!(a.count_proof.is_some(), q.counting == Counting::Plurality);
        }
        ballots.push(ballot);
    }
    let refs: Vec<&Ballot> = ballots.iter().collect();
    for (v, e) in vartime_check_ballots(election, &refs).iter().enumerate() {
        assert!(e.is_none(), "mixed ballot {v} refused: {e:?}");
    }
    // The checks can fail: two ranks exchanged (each range proof binds its answer's position).
    let mut swapped = ballots[0].clone();
    swapped.answers[1].choices.swap(0, 1);
    assert!(vartime_check_ballots(election, &[&swapped])[0].is_some());
}
