//! A whole election through the core API: ballots, revotes, weights, tally, decryption factors,
//! result; and the failures each tampering must cause, by check id.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::collections::HashMap;

use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::Credential;
use urne_core::error::Check;
use urne_core::manifest::{Manifest, WeightPolicy};
use urne_core::tally::{
    ElectionResult, QuestionResult, TallyAccumulator, TallyError, decrypt_result,
    vartime_verify_partial, vartime_verify_result,
};
use urne_core::testkit::{ElectionBuilder, rng_from_seed};

#[test]
fn weighted_election_with_revotes_decrypts_to_the_plaintext_count() {
    let mut rng = rng_from_seed(11);
    let setup = ElectionBuilder::single_question("e2e", 3, 1, 1)
        .question(3, 1, 2, true)
        .trustees(3)
        .weights(WeightPolicy::Weighted)
        .build(&mut rng);
    let e = &setup.election;
    e.manifest().vartime_verify_trustee_keys().unwrap();
    let voters: Vec<_> = (0..12u64)
        .map(|w| (Credential::generate(&mut rng).derive_key("e2e"), w % 4 + 1))
        .collect();

    let mut expected = ElectionResult {
        questions: vec![
            QuestionResult {
                counts: vec![0; 3],
                blank: None,
                mixed: None,
            },
            QuestionResult {
                counts: vec![0; 3],
                blank: Some(0),
                mixed: None,
            },
        ],
    };
    let mut last: HashMap<usize, Ballot> = HashMap::new();
    for round in 0..2 {
        for (i, (key, weight)) in voters.iter().enumerate() {
            if round == 1 && i % 3 != 0 {
                continue; // a third of the voters change their mind
            }
            let a = (i + round) % 3;
            let second = if i % 4 == 0 {
                QuestionVote::Blank
            } else {
                QuestionVote::Selected(vec![a, (a + 1) % 3])
            };
            let vote = [QuestionVote::Selected(vec![a]), second];
            let ballot = Ballot::create(&mut rng, e, key, &vote).unwrap();
            ballot.vartime_verify(&mut rng, e).unwrap();
            last.insert(i, ballot);
            if round == 1 || i % 3 != 0 {
                expected.questions[0].counts[a] += weight;
                match &vote[1] {
                    QuestionVote::Blank => *expected.questions[1].blank.as_mut().unwrap() += weight,
                    QuestionVote::Selected(s) => s
                        .iter()
                        .for_each(|&x| expected.questions[1].counts[x] += weight),
                    QuestionVote::Ranked(_) | QuestionVote::Graded(_) => {
                        unreachable!("a plurality question")
                    }
                }
            }
        }
    }
    let mut acc = TallyAccumulator::new(e);
    for (i, b) in &last {
        acc.add(b, voters[*i].1);
    }
    let tally = acc.finish();
    let partials: Vec<_> = setup
        .trustees
        .iter()
        .enumerate()
        .map(|(i, k)| k.decrypt_tally(&mut rng, e, i as u32 + 1, &tally))
        .collect();
    for pd in &partials {
        vartime_verify_partial(&mut rng, e, &tally, pd).unwrap();
    }
    let result = decrypt_result(e, &tally, &partials, acc.total_weight()).unwrap();
    assert_eq!(result, expected);
    vartime_verify_result(e, &tally, &partials, &result).unwrap();

    // A changed count is caught (V-17) without any discrete logarithm.
    let mut wrong = result.clone();
    wrong.questions[1].counts[2] += 1;
    assert_eq!(
        vartime_verify_result(e, &tally, &partials, &wrong)
            .unwrap_err()
            .check,
        Check::V17
    );

    // A wrong factor is caught and named (V-15).
    let mut bad = partials[1].clone();
    bad.factors[4].factor = partials[0].factors[4].factor;
    let err = vartime_verify_partial(&mut rng, e, &tally, &bad).unwrap_err();
    assert_eq!(
        (err.check, err.item.as_str()),
        (Check::V15, "trustee 2 factor 4")
    );

    // Missing or repeated trustees are caught (V-16).
    let err = vartime_verify_result(e, &tally, &partials[..2], &result).unwrap_err();
    assert_eq!(err.check, Check::V16);
    let twice = [
        partials[0].clone(),
        partials[0].clone(),
        partials[2].clone(),
    ];
    assert!(
        matches!(decrypt_result(e, &tally, &twice, acc.total_weight()), Err(TallyError::Verify(v)) if v.check == Check::V16)
    );
}

fn one_ballot() -> (urne_core::testkit::Setup, Ballot) {
    let mut rng = rng_from_seed(12);
    let setup = ElectionBuilder::single_question("tamper", 4, 1, 2)
        .question(2, 1, 1, true)
        .build(&mut rng);
    let key = Credential::generate(&mut rng).derive_key("tamper");
    let vote = [QuestionVote::Selected(vec![1, 3]), QuestionVote::Blank];
    let ballot = Ballot::create(&mut rng, &setup.election, &key, &vote).unwrap();
    (setup, ballot)
}

fn check_of(setup: &urne_core::testkit::Setup, b: &Ballot) -> (Check, String) {
    let e = b
        .vartime_verify(&mut rng_from_seed(0), &setup.election)
        .unwrap_err();
    (e.check, e.item)
}

#[test]
fn rejects_ballot_for_another_election() {
    let (setup, mut b) = one_ballot();
    b.election.0[5] ^= 1;
    assert_eq!(check_of(&setup, &b).0, Check::V6);
}

#[test]
fn rejects_ballot_with_wrong_shape() {
    let (setup, ballot) = one_ballot();
    let mut b = ballot.clone();
    b.answers[0].choices.pop();
    assert_eq!(
        check_of(&setup, &b),
        (Check::V5, "answers[0].choices".into())
    );
    let mut b = ballot.clone();
    b.answers[1].blank = None;
    assert_eq!(check_of(&setup, &b), (Check::V5, "answers[1].blank".into()));
    let mut b = ballot.clone();
    b.answers.pop();
    assert_eq!(check_of(&setup, &b), (Check::V5, "answers".into()));
    let mut b = ballot;
    b.answers[0].count_proof.as_mut().unwrap().branches.pop();
    assert_eq!(
        check_of(&setup, &b),
        (Check::V10, "answers[0].count_proof".into())
    );
}

#[test]
fn rejects_ballot_signed_by_another_credential() {
    let (setup, mut b) = one_ballot();
    let other = Credential::generate(&mut rng_from_seed(99)).derive_key("tamper");
    b.credential = *other.public();
    // The proofs bind the credential, so they fail before the signature is even tried.
    assert_eq!(check_of(&setup, &b).0, Check::V9);
}

#[test]
fn rejects_ballot_with_swapped_choices() {
    let (setup, mut b) = one_ballot();
    b.answers[0].choices.swap(0, 1);
    b.answers[0].choice_proofs.swap(0, 1);
    let (check, item) = check_of(&setup, &b);
    assert_eq!(check, Check::V9);
    assert!(item.starts_with("answers[0].choice_proofs"), "{item}");
}

#[test]
fn rejects_ballot_with_replayed_signature() {
    let (setup, ballot) = one_ballot();
    let (_, other) = one_ballot();
    let mut b = ballot;
    b.signature = other.signature;
    b.signature.s += urne_core::Scalar::ONE;
    assert_eq!(check_of(&setup, &b).0, Check::V8);
}

#[test]
fn manifest_rejects_wrong_election_key_and_bad_key_proof() {
    let mut rng = rng_from_seed(13);
    let setup = ElectionBuilder::single_question("keys", 2, 1, 1)
        .trustees(2)
        .build(&mut rng);
    let good = setup.election.manifest().clone();
    let mut m = good.clone();
    m.public_key = m.trustees[0].public_key;
    assert_eq!(
        m.vartime_verify_trustee_keys().unwrap_err().check,
        Check::V3
    );
    let mut m: Manifest = good.clone();
    m.trustees[1].key_proof = m.trustees[0].key_proof;
    let err = m.vartime_verify_trustee_keys().unwrap_err();
    assert_eq!(
        (err.check, err.item.as_str()),
        (Check::V3, "trustees[1].key_proof")
    );
    // A changed answer changes the fingerprint, so ballots of one never verify under the other.
    let mut m = good.clone();
    m.questions[0].answers[1].push('!');
    assert_ne!(m.fingerprint(), good.fingerprint());
}

#[test]
fn manifest_errors_name_the_field() {
    let mut rng = rng_from_seed(14);
    let setup = ElectionBuilder::single_question("fields", 2, 1, 1).build(&mut rng);
    let json = setup.election.manifest().to_json();
    let cases = [
        (json.replace("\"max\":1", "\"max\":3"), "questions[0].max"),
        (json.replace("\"min\":1", "\"min\":-1"), "questions[0].min"),
        (
            json.replace("\"id\":\"fields\"", "\"id\":\"has space\""),
            "id",
        ),
        (
            json.replace("2026-01-01T08:00:00Z", "2026-01-01T08:00:00+01:00"),
            "opens_at",
        ),
        (
            json.replace("\"weights\":\"equal\"", "\"weights\":\"heavy\""),
            "weights",
        ),
        (
            json.replace("\"threshold\":1", "\"threshold\":2"),
            "threshold",
        ),
        (
            json.replace("\"blank\":false", "\"blank\":false,\"extra\":1"),
            "questions[0]",
        ),
    ];
    for (text, path) in cases {
        assert_ne!(text, json, "the replacement for {path} did not apply");
        let err = Manifest::from_json(&text).unwrap_err();
        assert!(
            err.path.starts_with(path),
            "expected an error at {path}, got {err}"
        );
    }
    assert_eq!(Manifest::from_json(&json).unwrap().to_json(), json);
    assert!(Manifest::from_json(&format!("{json} x")).is_err());
}

#[test]
fn rejects_short_partial_decryption_without_panicking() {
    let mut rng = rng_from_seed(15);
    let setup = ElectionBuilder::single_question("short", 3, 1, 1)
        .trustees(2)
        .build(&mut rng);
    let e = &setup.election;
    let key = Credential::generate(&mut rng).derive_key("short");
    let mut acc = TallyAccumulator::new(e);
    acc.add(
        &Ballot::create(&mut rng, e, &key, &[QuestionVote::Selected(vec![0])]).unwrap(),
        1,
    );
    let tally = acc.finish();
    let mut partials: Vec<_> = setup
        .trustees
        .iter()
        .enumerate()
        .map(|(i, k)| k.decrypt_tally(&mut rng, e, i as u32 + 1, &tally))
        .collect();
    let result = decrypt_result(e, &tally, &partials, 1).unwrap();
    partials[1].factors.pop();
    let err = vartime_verify_result(e, &tally, &partials, &result).unwrap_err();
    assert_eq!((err.check, err.item.as_str()), (Check::V15, "trustee 2"));
    assert!(
        matches!(decrypt_result(e, &tally, &partials, 1), Err(TallyError::Verify(v)) if v.check == Check::V15)
    );
}

#[test]
fn rejects_null_for_optional_fields_and_uneven_branches() {
    let (_, ballot) = one_ballot();
    let json = ballot.to_json();
    // Question 0 allows no blank vote: its `blank` is absent, and `null` is not another spelling.
    let with_null = json.replacen("\"count_proof\"", "\"blank\":null,\"count_proof\"", 1);
    assert_ne!(with_null, json);
    let err = Ballot::from_json(&with_null).unwrap_err();
    assert_eq!(err.path, "answers[0].blank");
    // A branch whose a, b and z differ in length is refused when decoding.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["answers"][0]["choice_proofs"][0][1]["z"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
    let err = Ballot::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.path, "answers[0].choice_proofs[0][1]");
}

#[test]
fn rejects_year_zero_and_offsets_in_timestamps() {
    use urne_core::manifest::Timestamp;
    assert!(Timestamp::parse("0000-01-01T00:00:00Z").is_err());
    assert!(Timestamp::parse("2026-01-01T00:00:00.5Z").is_err());
    assert!(Timestamp::parse("2026-01-01t00:00:00z").is_err());
    assert_eq!(
        Timestamp::parse("0001-01-01T00:00:00Z")
            .unwrap()
            .to_string(),
        "0001-01-01T00:00:00Z"
    );
}

#[test]
fn credential_list_rules_are_v4() {
    use urne_core::credential::{MAX_TOTAL_WEIGHT, PublicCredential, check_credential_list};
    use urne_core::group::Point;
    let mut rng = rng_from_seed(16);
    let c = |rng: &mut _| *Credential::generate(rng).derive_key("list").public();
    let (x, y) = (c(&mut rng), c(&mut rng));
    let pc = |credential, weight| PublicCredential { credential, weight };
    assert_eq!(
        check_credential_list(&[pc(x, 1), pc(y, 1)], WeightPolicy::Equal),
        Ok(2)
    );
    assert_eq!(
        check_credential_list(&[pc(x, 3), pc(y, 4)], WeightPolicy::Weighted),
        Ok(7)
    );
    let bad: [(&[PublicCredential], WeightPolicy, &str); 5] = [
        (&[pc(x, 1), pc(x, 1)], WeightPolicy::Equal, "credentials[1]"),
        (&[pc(x, 2)], WeightPolicy::Equal, "credentials[0]"),
        (
            &[pc(x, 1), pc(y, 0)],
            WeightPolicy::Weighted,
            "credentials[1]",
        ),
        (
            &[pc(Point::identity(), 1)],
            WeightPolicy::Equal,
            "credentials[0]",
        ),
        (
            &[pc(x, MAX_TOTAL_WEIGHT), pc(y, 1)],
            WeightPolicy::Weighted,
            "credentials[1]",
        ),
    ];
    for (list, policy, item) in bad {
        let err = check_credential_list(list, policy).unwrap_err();
        assert_eq!((err.check, err.item.as_str()), (Check::V4, item));
    }
}

#[test]
fn rejects_invalid_votes_before_encrypting() {
    use urne_core::ballot::VoteError;
    let mut rng = rng_from_seed(17);
    let setup = ElectionBuilder::single_question("votes", 4, 1, 2)
        .question(3, 1, 1, true)
        .build(&mut rng);
    let e = &setup.election;
    let key = Credential::generate(&mut rng).derive_key("votes");
    let sel = |v: Vec<usize>| QuestionVote::Selected(v);
    let cases = [
        (
            vec![sel(vec![4]), QuestionVote::Blank],
            VoteError::Answer {
                question: 0,
                answer: 4,
            },
        ),
        (
            vec![sel(vec![1, 1]), QuestionVote::Blank],
            VoteError::Answer {
                question: 0,
                answer: 1,
            },
        ),
        (
            vec![sel(vec![0, 1, 2]), QuestionVote::Blank],
            VoteError::Count {
                question: 0,
                found: 3,
                min: 1,
                max: 2,
            },
        ),
        (
            vec![sel(vec![]), QuestionVote::Blank],
            VoteError::Count {
                question: 0,
                found: 0,
                min: 1,
                max: 2,
            },
        ),
        (
            vec![QuestionVote::Blank, QuestionVote::Blank],
            VoteError::Blank { question: 0 },
        ),
        (
            vec![sel(vec![0])],
            VoteError::Questions {
                expected: 2,
                found: 1,
            },
        ),
    ];
    for (vote, expected) in cases {
        assert_eq!(
            Ballot::create(&mut rng, e, &key, &vote).unwrap_err(),
            expected
        );
    }
    let ok = Ballot::create(&mut rng, e, &key, &[sel(vec![3, 0]), sel(vec![2])]).unwrap();
    ok.vartime_verify(&mut rng, e).unwrap();
}

#[test]
fn threshold_elections_decrypt_with_any_t_trustees_and_not_fewer() {
    use urne_core::manifest::KeySharing;
    for (t, n) in [(2u32, 3usize), (3, 5)] {
        let mut rng = rng_from_seed(30 + n as u64);
        let setup = ElectionBuilder::single_question("threshold", 3, 1, 1)
            .trustees(n)
            .threshold(t)
            .build(&mut rng);
        let e = &setup.election;
        assert_eq!(e.manifest().key_sharing, KeySharing::Threshold);
        e.manifest().vartime_verify_trustee_keys().unwrap();
        // The manifest's JSON carries the mode, and the mode is bound by the fingerprint.
        let json = e.manifest().to_json();
        assert!(json.contains("\"key_sharing\":\"threshold\""));
        assert_eq!(
            Manifest::from_json(&json).unwrap().fingerprint(),
            *e.fingerprint()
        );
        let mut other = e.manifest().clone();
        other.key_sharing = KeySharing::Independent;
        assert_ne!(other.fingerprint(), *e.fingerprint());

        let mut acc = TallyAccumulator::new(e);
        let mut expected = vec![0u64; 3];
        for v in 0..7usize {
            let key = Credential::generate(&mut rng).derive_key("threshold");
            let b =
                Ballot::create(&mut rng, e, &key, &[QuestionVote::Selected(vec![v % 3])]).unwrap();
            b.vartime_verify(&mut rng, e).unwrap();
            acc.add(&b, 1);
            expected[v % 3] += 1;
        }
        let tally = acc.finish();
        let partials: Vec<_> = setup
            .shares
            .iter()
            .map(|s| s.decrypt_tally(&mut rng, e, &tally).unwrap())
            .collect();
        for pd in &partials {
            vartime_verify_partial(&mut rng, e, &tally, pd).unwrap();
        }
        // Every subset of t or more trustees gives the same, right result.
        for mask in 0u32..(1 << n) {
            let set: Vec<_> = partials
                .iter()
                .enumerate()
                .filter(|(j, _)| mask & (1 << j) != 0)
                .map(|(_, p)| p.clone())
                .collect();
            let outcome = decrypt_result(e, &tally, &set, acc.total_weight());
            if set.len() >= t as usize {
                let result = outcome.unwrap();
                assert_eq!(result.questions[0].counts, expected, "subset {mask:b}");
                vartime_verify_result(e, &tally, &set, &result).unwrap();
            } else {
                assert!(
                    matches!(outcome, Err(TallyError::Verify(v)) if v.check == Check::V16),
                    "subset {mask:b}"
                );
            }
        }
        // A factor that is not the trustee's is caught against its verification key (V-15).
        let mut bad = partials[0].clone();
        bad.factors[1].factor = partials[1].factors[1].factor;
        assert_eq!(
            vartime_verify_partial(&mut rng, e, &tally, &bad)
                .unwrap_err()
                .check,
            Check::V15
        );
    }
}
