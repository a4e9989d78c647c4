//! Fuzz entry points: one check function for each parser of untrusted input.
//!
//! Every function here takes arbitrary bytes. It returns quietly on input that does not parse,
//! and on input that does it checks the *canonical round trip*: the object's canonical form
//! parses back to an equal object whose canonical form is byte-identical, and whatever the
//! protocol derives from the object (tracker, fingerprint) is unchanged. The functions also feed
//! what parsed to the verification code that consumes it (against one fixed small election,
//! [`fixture`]), which must answer `Ok` or `Err` and never panic. A panic therefore always means
//! a bug: either a parser or verifier panicked on untrusted input, or a property was violated.
//!
//! Two harnesses share these functions:
//! - the cargo-fuzz targets in `fuzz/fuzz_targets/`, each a three-line wrapper (nightly only);
//! - `tests/fuzz_corpus.rs`, which replays every saved input of `fuzz/corpus/` and
//!   `fuzz/regressions/` under plain `cargo test` on stable.
//!
//! Only compiled with the `testkit` feature: the fixed election uses [`crate::testkit`]'s seeded
//! randomness, which no real election may use.

use std::fmt::{Debug, Display};
use std::sync::OnceLock;

use curve25519_dalek::scalar::Scalar;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ballot::{Ballot, QuestionVote};
use crate::credential::Credential;
use crate::election::Election;
use crate::elgamal::Ciphertext;
use crate::error::DecodeError;
use crate::group::{Point, b64_decode, b64_encode, scalar_decode};
use crate::manifest::{Fingerprint, Manifest};
use crate::proofs::shuffle::{
    ShuffleProof, prove_shuffle, shuffle as shuffle_list, vartime_verify_shuffle,
};
use crate::tally::{
    ElectionResult, EncryptedTally, PartialDecryption, TallyAccumulator, decrypt_result,
    vartime_verify_partial, vartime_verify_result,
};
use crate::testkit::{ElectionBuilder, Setup, rng_from_seed};

/// The seed of the fixed election and of everything in [`fixture`].
pub const FIXTURE_SEED: u64 = 0x7572_6e65_6675_7a7a;

/// The votes of the fixture's ballots: per ballot, one vote per question.
fn fixture_votes() -> Vec<Vec<QuestionVote>> {
    use QuestionVote::{Blank, Selected};
    vec![
        vec![Selected(vec![0, 2]), Blank],
        vec![Selected(vec![1]), Selected(vec![0])],
        vec![Selected(vec![2]), Selected(vec![1])],
    ]
}

/// A small election taken through every step of the protocol, built once from [`FIXTURE_SEED`].
///
/// The fuzz functions verify what they parse against it, and `examples/fuzz_seeds.rs` writes its
/// objects as seed inputs, so that seeded ballots and decryption factors reach the verification
/// equations instead of stopping at the fingerprint check.
#[derive(Debug)]
pub struct Fixture {
    /// Two trustees; question 1 has 3 answers (select 1 or 2), question 2 has 2 answers
    /// (select 1) and allows a blank vote.
    pub setup: Setup,
    /// The credential strings of the voters, in ballot order.
    pub credentials: Vec<Credential>,
    /// One valid ballot per voter.
    pub ballots: Vec<Ballot>,
    /// The encrypted tally of the ballots (equal weights).
    pub tally: EncryptedTally,
    /// Each trustee's decryption factors on the tally, with proofs.
    pub partials: Vec<PartialDecryption>,
    /// The decrypted result.
    pub result: ElectionResult,
}

impl Fixture {
    /// The election.
    pub fn election(&self) -> &Election {
        &self.setup.election
    }

    /// The bound on every count: the total weight of the ballots.
    pub fn total_weight(&self) -> u64 {
        self.ballots.len() as u64
    }
}

/// The fixed election, built on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = rng_from_seed(FIXTURE_SEED);
        let setup = ElectionBuilder::single_question("fuzz-fixture", 3, 1, 2)
            .question(2, 1, 1, true)
            .trustees(2)
            .build(&mut rng);
        let election = &setup.election;
        let votes = fixture_votes();
        let credentials: Vec<Credential> = votes
            .iter()
            .map(|_| Credential::generate(&mut rng))
            .collect();
        let ballots: Vec<Ballot> = credentials
            .iter()
            .zip(&votes)
            .map(|(c, vote)| {
                let key = c.derive_key(&election.manifest().id);
                Ballot::create(&mut rng, election, &key, vote)
                    .expect("the fixture's votes are valid")
            })
            .collect();
        let mut acc = TallyAccumulator::new(election);
        for b in &ballots {
            acc.add(b, 1);
        }
        let tally = acc.finish();
        let partials: Vec<PartialDecryption> = setup
            .trustees
            .iter()
            .enumerate()
            .map(|(i, k)| k.decrypt_tally(&mut rng, election, i as u32 + 1, &tally))
            .collect();
        let result = decrypt_result(election, &tally, &partials, acc.total_weight())
            .expect("the fixture's tally decrypts");
        Fixture {
            setup,
            credentials,
            ballots,
            tally,
            partials,
            result,
        }
    })
}

/// A small honest shuffle under the fixture's election key, for [`shuffle`]: the fixture's
/// three ballots' first-question ciphertexts (width 3), shuffled once, with the proof.
#[derive(Debug)]
pub struct ShuffleFixture {
    /// The input list: per ballot, its vector of ciphertexts.
    pub inputs: Vec<Vec<Ciphertext>>,
    /// The shuffled list.
    pub outputs: Vec<Vec<Ciphertext>>,
    /// The honest proof of the shuffle.
    pub proof: ShuffleProof,
}

/// The fixed shuffle, built on first use.
pub fn shuffle_fixture() -> &'static ShuffleFixture {
    static SHUFFLE: OnceLock<ShuffleFixture> = OnceLock::new();
    SHUFFLE.get_or_init(|| {
        let fx = fixture();
        let election = fx.election();
        let mut rng = rng_from_seed(FIXTURE_SEED ^ 1);
        let inputs: Vec<Vec<Ciphertext>> = fx
            .ballots
            .iter()
            .map(|b| b.answers[0].choices.clone())
            .collect();
        let (outputs, witness) =
            shuffle_list(&mut rng, election.key(), &inputs).expect("the fixture's list shuffles");
        let proof = prove_shuffle(
            &mut rng,
            &election.fingerprint().0,
            election.key(),
            &inputs,
            &outputs,
            &witness,
        )
        .expect("the fixture's shuffle proves");
        ShuffleFixture {
            inputs,
            outputs,
            proof,
        }
    })
}

/// Checks the canonical round trip of `value` and returns the re-parsed copy.
fn round_trip<T: PartialEq + Debug, E: Display>(
    what: &str,
    value: &T,
    to_json: impl Fn(&T) -> String,
    from_json: impl Fn(&str) -> Result<T, E>,
) -> T {
    let json = to_json(value);
    let again = match from_json(&json) {
        Ok(v) => v,
        Err(e) => panic!("{what}: the canonical JSON does not parse back: {e}\n{json}"),
    };
    assert_eq!(&again, value, "{what}: the value changed in a round trip");
    let json2 = to_json(&again);
    assert_eq!(json2, json, "{what}: the canonical JSON is not stable");
    again
}

/// [`round_trip`] for types whose canonical form is plain `serde_json`.
fn serde_round_trip<T: PartialEq + Debug + Serialize + DeserializeOwned>(what: &str, value: &T) {
    round_trip(
        what,
        value,
        |v| serde_json::to_string(v).expect("protocol objects always serialize"),
        |s: &str| serde_json::from_str::<T>(s),
    );
}

/// Parses `data` as JSON of type `T` with `serde_json`, the way records and API bodies are read.
fn parse_serde<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_json::from_slice(data).ok()
}

/// A ballot: canonical round trip with an unchanged tracker; verification against the fixed
/// election answers without panicking, and a ballot it accepts has the tracker it reports.
pub fn ballot(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ballot) = Ballot::from_json(text) else {
        return;
    };
    let again = round_trip("ballot", &ballot, Ballot::to_json, Ballot::from_json);
    assert_eq!(
        again.tracker(),
        ballot.tracker(),
        "ballot: the tracker changed in a round trip"
    );
    let fx = fixture();
    let mut rng = rng_from_seed(0);
    if let Ok(tracker) = ballot.vartime_verify(&mut rng, fx.election()) {
        assert_eq!(
            tracker,
            ballot.tracker(),
            "ballot: verification reports another tracker"
        );
    }
}

/// A manifest: canonical round trip with an unchanged fingerprint; a manifest that parses builds
/// an election with that fingerprint, and checking its trustee key proofs (V-3) does not panic.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifest) = Manifest::from_json(text) else {
        return;
    };
    let again = round_trip(
        "manifest",
        &manifest,
        Manifest::to_json,
        Manifest::from_json,
    );
    let fingerprint = manifest.fingerprint();
    assert_eq!(
        again.fingerprint(),
        fingerprint,
        "manifest: the fingerprint changed in a round trip"
    );
    match Election::new(manifest.clone()) {
        Ok(election) => assert_eq!(
            *election.fingerprint(),
            fingerprint,
            "manifest: the election has another fingerprint"
        ),
        Err(e) => panic!("manifest: parses but does not make an election: {e}"),
    }
    let _ = manifest.vartime_verify_trustee_keys();
}

/// A credential string: its display form parses back to the same credential and displays the
/// same; reading is case-insensitive.
pub fn credential(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(credential) = Credential::parse(text) else {
        return;
    };
    let shown = credential.display();
    let again = match Credential::parse(&shown) {
        Ok(c) => c,
        Err(e) => panic!("credential: the display form does not parse back: {e}"),
    };
    assert!(
        again == credential,
        "credential: changed in a round trip through its display form"
    );
    assert!(
        *again.display() == *shown,
        "credential: the display form is not stable"
    );
    assert!(
        Credential::parse(&text.to_ascii_lowercase()).as_ref() == Ok(&credential),
        "credential: reading depends on case"
    );
}

/// Tally objects read from a record: encrypted tally, partial decryption and result, each
/// round-tripped when it parses, then checked against the fixed election. Decryption and V-16/V-17
/// must answer without panicking even on factors that V-15 has not accepted.
///
/// - A tally: the fixture's factors are verified against it (V-15) and combined with it; when
///   they all verify, the result decrypted from them must pass V-16 and V-17.
/// - A partial decryption: verified against the fixture's tally (V-15), then put in place of its
///   trustee's factors and combined; when V-15 accepts it, decryption gives the fixture's result.
/// - A result: V-17 against the fixture's tally and factors accepts it exactly when it is the
///   fixture's true result.
pub fn tally(data: &[u8]) {
    let fx = fixture();
    let election = fx.election();
    let bound = fx.total_weight();
    let mut rng = rng_from_seed(0);
    if let Some(tally) = parse_serde::<EncryptedTally>(data) {
        serde_round_trip("encrypted tally", &tally);
        let factors_verify = fx
            .partials
            .iter()
            .all(|pd| vartime_verify_partial(&mut rng, election, &tally, pd).is_ok());
        let decrypted = decrypt_result(election, &tally, &fx.partials, bound);
        let _ = vartime_verify_result(election, &tally, &fx.partials, &fx.result);
        if let (true, Ok(result)) = (factors_verify, decrypted) {
            assert!(
                vartime_verify_result(election, &tally, &fx.partials, &result).is_ok(),
                "tally: V-17 rejects the result that decryption computed"
            );
        }
    }
    if let Some(pd) = parse_serde::<PartialDecryption>(data) {
        serde_round_trip("partial decryption", &pd);
        let accepted = vartime_verify_partial(&mut rng, election, &fx.tally, &pd).is_ok();
        let mut partials = fx.partials.clone();
        let slot = (pd.trustee as usize)
            .saturating_sub(1)
            .min(partials.len() - 1);
        partials[slot] = pd;
        let _ = vartime_verify_result(election, &fx.tally, &partials, &fx.result);
        let decrypted = decrypt_result(election, &fx.tally, &partials, bound);
        if accepted {
            assert_eq!(
                decrypted.ok().as_ref(),
                Some(&fx.result),
                "tally: factors that V-15 accepts decrypt to another result"
            );
        }
    }
    if let Some(result) = parse_serde::<ElectionResult>(data) {
        serde_round_trip("election result", &result);
        let verdict = vartime_verify_result(election, &fx.tally, &fx.partials, &result);
        assert_eq!(
            verdict.is_ok(),
            result == fx.result,
            "tally: V-17 answers {verdict:?} for {result:?}"
        );
    }
}

/// A scalar read through the serde adapter of proofs.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct JsonScalar(#[serde(with = "crate::group::scalar_b64")] Scalar);

/// Checks one 32-byte string (or a shorter last chunk) as a point and as a scalar encoding.
fn check_encoding(bytes: &[u8]) {
    match Point::decode(bytes) {
        Ok(p) => {
            assert_eq!(
                p.as_bytes()[..],
                *bytes,
                "point: decoding changed the bytes"
            );
            let re = Point::from_element(*p.element());
            assert_eq!(
                re.as_bytes()[..],
                *bytes,
                "point: the element re-encodes to other bytes"
            );
            assert_eq!(
                Point::decode_nonidentity(bytes).is_ok(),
                !p.is_identity(),
                "point: decode_nonidentity disagrees with is_identity"
            );
        }
        Err(e) => {
            let expected = if bytes.len() == 32 {
                DecodeError::InvalidPoint
            } else {
                DecodeError::Length {
                    expected: 32,
                    found: bytes.len(),
                }
            };
            assert_eq!(e, expected, "point: wrong decoding error");
            assert!(Point::decode_nonidentity(bytes).is_err());
        }
    }
    match scalar_decode(bytes) {
        Ok(s) => assert_eq!(
            s.as_bytes()[..],
            *bytes,
            "scalar: decoding changed the bytes"
        ),
        Err(DecodeError::NonCanonicalScalar) => {
            // Rejected as non-canonical: reducing it mod ℓ must really change it.
            let arr: [u8; 32] = bytes
                .try_into()
                .expect("only 32 bytes are checked for canonicity");
            assert_ne!(
                Scalar::from_bytes_mod_order(arr).as_bytes()[..],
                *bytes,
                "scalar: a reduced scalar was rejected"
            );
        }
        Err(e) => assert_eq!(
            e,
            DecodeError::Length {
                expected: 32,
                found: bytes.len()
            },
            "scalar: wrong decoding error"
        ),
    }
}

/// Checks base64url text, and the JSON forms of points, scalars and digests built on it: what
/// decodes re-encodes to the same text, and the serde path agrees with the direct one.
fn check_text(text: &str) {
    let decoded = b64_decode(text);
    if let Ok(bytes) = &decoded {
        assert_eq!(
            b64_encode(bytes),
            text,
            "base64url: decoded text re-encodes differently"
        );
    }
    let direct = decoded.as_ref().ok();
    let json = serde_json::Value::String(text.to_owned());

    let point = serde_json::from_value::<Point>(json.clone()).ok();
    let expect_point = direct.and_then(|b| Point::decode(b).ok());
    assert_eq!(
        point, expect_point,
        "point: JSON and direct decoding disagree"
    );
    if let Some(p) = point {
        assert_eq!(p.to_string(), text, "point: displays differently");
        serde_round_trip("point", &p);
    }

    let scalar = serde_json::from_value::<JsonScalar>(json.clone()).ok();
    let expect_scalar = direct.and_then(|b| scalar_decode(b).ok());
    assert_eq!(
        scalar.as_ref().map(|s| s.0),
        expect_scalar,
        "scalar: JSON and direct decoding disagree"
    );
    if let Some(s) = scalar {
        serde_round_trip("scalar", &s);
    }

    let digest = serde_json::from_value::<Fingerprint>(json).ok();
    assert_eq!(
        digest.is_some(),
        direct.is_some_and(|b| b.len() == 32),
        "digest: JSON and direct decoding disagree"
    );
    if let Some(d) = digest {
        assert_eq!(d.to_string(), text, "digest: displays differently");
        serde_round_trip("digest", &d);
    }
}

/// Group encodings: every 32-byte chunk of `data` as a point and as a scalar (the last, shorter
/// chunk tests the length check), `data` as base64url text, and `data` encoded then decoded.
pub fn point_scalar(data: &[u8]) {
    for chunk in data.chunks(32) {
        check_encoding(chunk);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_text(text);
    }
    let encoded = b64_encode(data);
    assert_eq!(
        b64_decode(&encoded).as_deref(),
        Ok(data),
        "base64url: encoded bytes do not decode back"
    );
}

/// A proof of shuffle (spec §8.7), as JSON: a proof that parses round-trips, and verifying it
/// against the fixed shuffle ([`shuffle_fixture`]) answers without panicking whatever the
/// lengths of its vectors; only the honest proof may verify, since any other would be a forgery.
pub fn shuffle(data: &[u8]) {
    let Some(proof) = parse_serde::<ShuffleProof>(data) else {
        return;
    };
    serde_round_trip("shuffle proof", &proof);
    let fx = fixture();
    let sf = shuffle_fixture();
    let election = fx.election();
    let fingerprint = &election.fingerprint().0;
    let mut rng = rng_from_seed(0);
    let accepted = vartime_verify_shuffle(
        &mut rng,
        fingerprint,
        election.key(),
        &sf.inputs,
        &sf.outputs,
        &proof,
    )
    .is_ok();
    assert!(
        !accepted || proof == sf.proof,
        "shuffle: a proof other than the honest one verifies"
    );
    // The same proof against the list read the other way (outputs as inputs) must not panic.
    let _ = vartime_verify_shuffle(
        &mut rng,
        fingerprint,
        election.key(),
        &sf.outputs,
        &sf.inputs,
        &proof,
    );
}
