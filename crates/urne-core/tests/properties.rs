//! Property tests: encodings round-trip, encryption is homomorphic, honest proofs verify, and
//! changing any single element of a ballot (proof, statement or signature) makes it fail.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use curve25519_dalek::ristretto::RistrettoPoint;
use proptest::prelude::*;
use serde_json::Value;
use urne_core::Scalar;
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::Credential;
use urne_core::elgamal::{Ciphertext, ElectionKey};
use urne_core::group::{Point, b64_decode, b64_encode, scalar_decode};
use urne_core::testkit::{ElectionBuilder, Setup, rng_from_seed};

fn scalar_from_seed(seed: u64) -> Scalar {
    urne_core::group::random_scalar(&mut rng_from_seed(seed))
}

/// An election with three questions covering the proof variants: exactly one, a range, and a
/// range with a blank vote.
fn setup() -> &'static Setup {
    static S: std::sync::OnceLock<Setup> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        ElectionBuilder::single_question("props", 3, 1, 1)
            .question(4, 0, 2, false)
            .question(3, 1, 2, true)
            .trustees(2)
            .build(&mut rng_from_seed(7))
    })
}

/// A random vote valid for [`setup`].
fn vote_strategy() -> impl Strategy<Value = Vec<QuestionVote>> {
    let q1 = (0usize..3).prop_map(|a| QuestionVote::Selected(vec![a]));
    let q2 = proptest::sample::subsequence(vec![0usize, 1, 2, 3], 0..=2)
        .prop_map(QuestionVote::Selected);
    let q3 = prop_oneof![
        Just(QuestionVote::Blank),
        proptest::sample::subsequence(vec![0usize, 1, 2], 1..=2).prop_map(QuestionVote::Selected)
    ];
    (q1, q2, q3).prop_map(|(a, b, c)| vec![a, b, c])
}

/// Every base64 leaf of a ballot's JSON with its JSON path and whether it holds a point.
fn leaves(v: &Value, path: String, out: &mut Vec<(String, bool)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                leaves(v, format!("{path}/{k}"), out)
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                leaves(v, format!("{path}/{i}"), out)
            }
        }
        Value::String(_) if path != "/format" => {
            let key = path
                .rsplit('/')
                .find(|s| s.parse::<usize>().is_err())
                .unwrap_or_default();
            let is_point = matches!(key, "alpha" | "beta" | "a" | "b" | "r" | "credential");
            out.push((path, is_point));
        }
        _ => {}
    }
}

/// Replaces the leaf by another valid encoding of the same kind of value.
fn mutate(v: &mut Value, path: &str, is_point: bool) {
    let leaf = v.pointer_mut(path).expect("path exists");
    let bytes = b64_decode(leaf.as_str().expect("string")).expect("base64");
    let new = if path == "/election" {
        let mut b = bytes.clone();
        b[0] ^= 1;
        b
    } else if is_point {
        let p = Point::decode(&bytes).expect("point");
        Point::from_element(p.element() + RistrettoPoint::mul_base(&Scalar::ONE))
            .as_bytes()
            .to_vec()
    } else {
        let s = scalar_decode(&bytes).expect("scalar");
        (s + Scalar::ONE).to_bytes().to_vec()
    };
    *leaf = Value::String(b64_encode(&new));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn point_and_scalar_encodings_round_trip(seed in any::<u64>()) {
        let s = scalar_from_seed(seed);
        prop_assert_eq!(scalar_decode(s.as_bytes()).unwrap(), s);
        let p = Point::from_element(RistrettoPoint::mul_base(&s));
        let q = Point::decode(p.as_bytes()).unwrap();
        prop_assert_eq!(q, p);
        prop_assert_eq!(q.element(), p.element());
        prop_assert_eq!(b64_decode(&b64_encode(p.as_bytes())).unwrap(), p.as_bytes().to_vec());
    }

    #[test]
    fn encryption_is_homomorphic(m1 in 0u64..1000, m2 in 0u64..1000, w in 1u64..50, seed in any::<u64>()) {
        let s = scalar_from_seed(seed);
        let key = ElectionKey::new(Point::from_element(RistrettoPoint::mul_base(&s))).unwrap();
        let (r1, r2) = (scalar_from_seed(seed ^ 1), scalar_from_seed(seed ^ 2));
        let c1 = Ciphertext::encrypt(&key, m1, &r1);
        let c2 = Ciphertext::encrypt(&key, m2, &r2);
        let dec = |c: &Ciphertext| c.beta.element() - c.alpha.element() * s;
        prop_assert_eq!(dec(&c1), RistrettoPoint::mul_base(&Scalar::from(m1)));
        prop_assert_eq!(dec(&Ciphertext::sum([&c1, &c2])), RistrettoPoint::mul_base(&Scalar::from(m1 + m2)));
        let weighted = Ciphertext::sum(std::iter::repeat_n(&c1, w as usize).chain([&c2]));
        prop_assert_eq!(dec(&weighted), RistrettoPoint::mul_base(&Scalar::from(w * m1 + m2)));
    }

    #[test]
    fn honest_ballots_verify_and_round_trip(vote in vote_strategy(), seed in any::<u64>()) {
        let e = &setup().election;
        let mut rng = rng_from_seed(seed);
        let key = Credential::generate(&mut rng).derive_key(&e.manifest().id);
        let ballot = Ballot::create(&mut rng, e, &key, &vote).unwrap();
        let tracker = ballot.vartime_verify(&mut rng, e).unwrap();
        let json = ballot.to_json();
        let back = Ballot::from_json(&json).unwrap();
        prop_assert_eq!(&back, &ballot);
        prop_assert_eq!(back.to_json(), json);
        prop_assert_eq!(back.tracker(), tracker);
    }

    #[test]
    fn any_single_change_to_a_ballot_fails(vote in vote_strategy(), seed in any::<u64>(), pick in any::<prop::sample::Index>()) {
        let e = &setup().election;
        let mut rng = rng_from_seed(seed);
        let key = Credential::generate(&mut rng).derive_key(&e.manifest().id);
        let ballot = Ballot::create(&mut rng, e, &key, &vote).unwrap();
        let mut v = serde_json::to_value(&ballot).unwrap();
        let mut all = Vec::new();
        leaves(&v, String::new(), &mut all);
        let (path, is_point) = pick.get(&all).clone();
        mutate(&mut v, &path, is_point);
        let tampered = Ballot::from_json(&v.to_string()).unwrap();
        prop_assert!(tampered.vartime_verify(&mut rng, e).is_err(), "change at {} accepted", path);
        prop_assert_ne!(tampered.tracker(), ballot.tracker());
    }
}

#[test]
fn every_leaf_of_a_ballot_is_covered_by_the_mutation_test() {
    // Guards the mutation property against silently skipping fields: every string leaf is
    // either the format tag or a mutated value, and there are as many as the shape implies.
    let e = &setup().election;
    let mut rng = rng_from_seed(3);
    let key = Credential::generate(&mut rng).derive_key(&e.manifest().id);
    let vote = [
        QuestionVote::Selected(vec![0]),
        QuestionVote::Selected(vec![]),
        QuestionVote::Blank,
    ];
    let ballot = Ballot::create(&mut rng, e, &key, &vote).unwrap();
    let mut all = Vec::new();
    leaves(
        &serde_json::to_value(&ballot).unwrap(),
        String::new(),
        &mut all,
    );
    // election + credential + signature (r, s) = 4; per choice: 2 ciphertext points and
    // 2 branches × (c + a + b + z) = 8; count proofs: q1 1 branch × 4, q2 3 × 4, q3 3 branches
    // × (c + 2a + 2b + 2z) = 21, plus q3's blank ciphertext 2.
    let choices = 3 + 4 + 3;
    assert_eq!(all.len(), 4 + choices * 10 + 4 + 12 + 21 + 2);
}
