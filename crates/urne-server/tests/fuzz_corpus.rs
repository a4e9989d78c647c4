//! Replays the saved inputs of the server's fuzz target `api_ballot` (the body of
//! `POST /api/v1/elections/{id}/ballots`, through `urne_server::public::parse_ballot_body`)
//! through the same check function the fuzzer runs, so the corpus and regression inputs under
//! `fuzz/` are tested by plain `cargo test` on stable, without cargo-fuzz or a nightly
//! toolchain. urne-core's `tests/fuzz_corpus.rs` checks that every target of
//! `fuzz/fuzz_targets/` is replayed by urne-core, urne-verify or this file.
//!
//! The seeds are written by the ignored test `write_api_ballot_seeds`:
//! `cargo test -p urne-server --test fuzz_corpus -- --ignored write_api_ballot_seeds`.

#![allow(clippy::unwrap_used)]

use std::fs;

use serde_json::{Value, json};
use urne_core::group::b64_encode;
use urne_server::public::parse_ballot_body;

#[path = "../../urne-core/tests/support/fuzz_replay.rs"]
mod fuzz_replay;

#[path = "support/fuzz_api_ballot.rs"]
mod check;

use fuzz_replay::{Check, files, fuzz_dir, report};

/// The fuzz targets replayed here, each with its check function. urne-core's replay test
/// looks for each `("name", check::name)` in this file.
const TARGETS: [(&str, Check); 1] = [("api_ballot", check::api_ballot)];

const SEEDS: &str =
    "cargo test -p urne-server --test fuzz_corpus -- --ignored write_api_ballot_seeds";

#[test]
fn replays_api_ballot_corpus() {
    let (target, check) = TARGETS[0];
    assert!(fuzz_replay::replay(target, check, SEEDS) > 0);
}

/// Every target replayed here is a fuzz target.
#[test]
fn every_target_here_is_a_fuzz_target() {
    for (t, _) in TARGETS {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{t}.rs"));
        assert!(path.is_file(), "no fuzz target {}", path.display());
    }
}

/// The corpus still holds a body the handler reads as a ballot, and bodies refused for each
/// reason: without them the fuzzer and this replay would miss a path of the handler.
#[test]
fn corpus_reaches_every_outcome() {
    let mut outcomes = std::collections::BTreeMap::new();
    for path in files(&fuzz_dir().join("corpus").join("api_ballot")).unwrap() {
        let data = fs::read(&path).unwrap();
        let outcome = match parse_ballot_body(&data) {
            Ok(_) => "ballot",
            Err(e) => e.code,
        };
        *outcomes.entry(outcome).or_insert(0) += 1;
    }
    for outcome in ["ballot", "bad_json", "bad_ballot"] {
        assert!(
            outcomes.contains_key(outcome),
            "no input of fuzz/corpus/api_ballot gives `{outcome}` ({outcomes:?}): run `{SEEDS}`"
        );
    }
    report(&format!(
        "fuzz corpus replay: api_ballot outcomes {outcomes:?}"
    ));
}

/// Writes the seeds of `fuzz/corpus/api_ballot/` (`seed-*`, deterministic): the fuzzing
/// fixture's valid ballots as sent, and bodies a client could send by mistake or on purpose.
#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn write_api_ballot_seeds() {
    let dir = fuzz_dir().join("corpus").join("api_ballot");
    fs::create_dir_all(&dir).unwrap();
    let fx = urne_core::fuzzing::fixture();
    let ballot = fx.ballots[0].to_json();
    let value: Value = serde_json::from_str(&ballot).unwrap();
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seed = |name: &str, data: Vec<u8>| seeds.push((name.to_owned(), data));
    for (i, b) in fx.ballots.iter().enumerate() {
        seed(&format!("valid-{i}"), b.to_json().into_bytes());
    }
    seed(
        "valid-pretty",
        serde_json::to_string_pretty(&value).unwrap().into_bytes(),
    );
    seed("valid-padded", format!(" \r\n\t{ballot}\n  ").into_bytes());
    seed("bom", format!("\u{feff}{ballot}").into_bytes());
    seed("empty", vec![]);
    seed("whitespace", b" \n".to_vec());
    seed("null", b"null".to_vec());
    seed("array", b"[]".to_vec());
    seed("number", b"42".to_vec());
    seed("object-empty", b"{}".to_vec());
    seed("two-documents", format!("{ballot}{ballot}").into_bytes());
    seed("trailing-comma", format!("{},", ballot).into_bytes());
    for cut in [1, 10, ballot.len() / 3, ballot.len() / 2, ballot.len() - 1] {
        seed(&format!("cut-{cut}"), ballot.as_bytes()[..cut].to_vec());
    }
    let mut invalid_utf8 = ballot.clone().into_bytes();
    invalid_utf8.insert(2, 0x80);
    seed("utf8-continuation", invalid_utf8);
    let mut overlong = ballot.clone().into_bytes();
    overlong.splice(2..2, [0xc0, 0xaf]);
    seed("utf8-overlong", overlong);
    seed(
        "utf16",
        ballot
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>(),
    );
    seed(
        "lone-surrogate",
        br#"{"format":"urne/ballot/\ud800v1"}"#.to_vec(),
    );
    seed("deep-nesting", "[".repeat(4096).into_bytes());
    seed(
        "deep-nesting-closed",
        format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
    );
    let mut edit = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut v = value.clone();
        f(&mut v);
        seeds.push((name.to_owned(), v.to_string().into_bytes()));
    };
    edit("format-unknown", &|v| v["format"] = json!("urne/ballot/v2"));
    edit("extra-field", &|v| v["extra"] = json!(true));
    edit("missing-signature", &|v| {
        v.as_object_mut().unwrap().remove("signature");
    });
    edit("election-short", &|v| v["election"] = json!("AAAA"));
    edit("election-padded", &|v| {
        v["election"] = json!(format!("{}=", v["election"].as_str().unwrap()))
    });
    edit("point-invalid", &|v| {
        v["answers"][0]["choices"][0]["alpha"] = json!(b64_encode(&[0xff; 32]))
    });
    edit("point-identity", &|v| {
        v["credential"] = json!(b64_encode(&[0; 32]))
    });
    edit("scalar-unreduced", &|v| {
        v["signature"]["s"] = json!(b64_encode(&[0xff; 32]))
    });
    edit("scalar-wrong-type", &|v| v["signature"]["s"] = json!(7));
    edit("answers-empty", &|v| v["answers"] = json!([]));
    edit("answers-null", &|v| v["answers"] = json!(null));
    edit("choices-huge-number", &|v| {
        v["answers"][0]["choices"] = json!([1e300, -1, 18446744073709551616u128 as f64])
    });
    edit("blank-null", &|v| v["answers"][0]["blank"] = json!(null));
    let duplicate = ballot.replacen(
        "\"format\":\"urne/ballot/v1\"",
        "\"format\":\"urne/ballot/v1\",\"format\":\"urne/ballot/v1\"",
        1,
    );
    assert_ne!(duplicate, ballot);
    seeds.push(("duplicate-field".into(), duplicate.into_bytes()));
    seeds.push((
        "escaped-key".into(),
        ballot
            .replacen("\"format\"", "\"\\u0066ormat\"", 1)
            .into_bytes(),
    ));
    for (name, data) in &seeds {
        fs::write(dir.join(format!("seed-{name}")), data).unwrap();
        check::api_ballot(data);
    }
    report(&format!("wrote {} seeds to {}", seeds.len(), dir.display()));
}
