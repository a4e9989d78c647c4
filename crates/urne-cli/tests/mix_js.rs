//! The browser's mix phase (web/src/urne/mix.js, spec §8.7, §8.8) judged by urne-core: shuffles
//! made in JavaScript verify with `vartime_verify_shuffle` and their signatures with
//! `vartime_verify_shuffle_signature`, and one row replaced, dropped or duplicated is rejected;
//! the JS trustees' decryption factors of the last list verify (V-21) and combine to the votes;
//! and, through a real `urne serve`, a JS trustee's shuffle and factors are accepted by the same
//! routes the CLI uses, and `urne verify` finds the record VALID.
//!
//! A small node driver (below) plays the JS trustee: it reads a request on stdin (the manifest,
//! the pages of GET …/mix, the trustee's secret) and writes the bodies mix.js makes.
//!
//! The test needs `node` and web/node_modules (`npm ci` in web/). Without them it is skipped with
//! a message, unless URNE_REQUIRE_NODE=1, where it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests unwrap what must succeed.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use urne_core::ballot::QuestionVote;
use urne_core::elgamal::Ciphertext;
use urne_core::group::{b64_encode, random_scalar};
use urne_core::manifest::{Counting, Manifest, Question, Timestamp};
use urne_core::mix::{
    list_digest, vartime_open_with_factors, vartime_verify_mix_factors,
    vartime_verify_shuffle_signature, width,
};
use urne_core::proofs::ProofError;
use urne_core::proofs::decryption::DecryptionFactor;
use urne_core::proofs::shuffle::{ShuffleProof, vartime_verify_shuffle};
use urne_core::testkit::{ElectionBuilder, rng_from_seed};
use urne_verify::record::{MixDecryptionEntry, ShuffleChunk, ShuffleEntry};

#[path = "support/election.rs"]
mod election;
#[path = "support/node.rs"]
mod node;
#[path = "support/server.rs"]
mod server;

use election::{
    Trustee, assert_mixed_result, create, now, publish, seal, verify_record, vote_and_tally,
};
use node::run_driver;
use server::{Server, text};

/// The JS trustee, one step per run: reads a JSON request on stdin, writes a JSON answer.
const DRIVER: &str = r#"
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const web = process.argv[2];
const T = await import(pathToFileURL(join(web, 'src/urne/trustee-index.js')).href);

const req = JSON.parse(readFileSync(0, 'utf8'));
const secret = req.secret_file
  ? await T.openSecret(readFileSync(req.secret_file, 'utf8'), T.SECRET_PURPOSE[req.purpose], req.passphrase)
  : T.fromBase64Url(req.secret);
const list = T.mixList(req.pages);
const args = { electionId: req.election, index: req.index, manifest: req.manifest, chunkRows: req.chunk_rows };
let out;
switch (req.step) {
  case 'shuffle': {
    const t0 = performance.now();
    out = T.makeShuffle(list, { ...args, identitySecret: secret });
    out.seconds = (performance.now() - t0) / 1000;
    break;
  }
  case 'decrypt':
    out = T.mixDecryption(list, { ...args, share: secret, verificationKey: req.verification_key });
    break;
  default:
    throw new Error(`unknown step ${req.step}`);
}
secret.fill(0);
process.stdout.write(JSON.stringify(out));
"#;

/// Runs the driver on `req`; its JSON answer, or its stderr.
fn js(web: &Path, dir: &Path, req: &Value) -> Result<Value, String> {
    let driver = dir.join("mix-driver.mjs");
    if !driver.exists() {
        std::fs::write(&driver, DRIVER).unwrap();
    }
    run_driver(&driver, web, req)
}

/// web/, when node and the JS dependencies are there (else the test is skipped, see above).
fn web() -> Option<PathBuf> {
    node::web("@noble/curves/package.json")
}

/// The pages of GET /api/v1/elections/{id}/mix for `list`, `page` rows each, as the server
/// would write them (crates/urne-server/src/mix.rs `MixView`).
fn pages(m: &Manifest, list: &[Vec<Ciphertext>], state: Value, page: usize) -> Value {
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let to = (from + page).min(list.len());
        let mut v = json!({
            "ballots": list.len(),
            "width": width(m),
            "shuffles_needed": m.threshold,
            "decryptions_needed": m.threshold,
            "tally_decryptions": m.threshold,
            "shufflers": [],
            "next_shuffle": 0,
            "decryptors": [],
            "decrypted": false,
            "result": false,
            "list_digest": b64_encode(&list_digest(list)),
            "max_upload_bytes": 16 << 20,
            "from": from,
            "rows": list[from..to],
        });
        for (k, x) in state.as_object().unwrap() {
            v[k] = x.clone();
        }
        out.push(v);
        from = to;
        if from >= list.len() {
            break;
        }
    }
    Value::Array(out)
}

/// A shuffle as the JS trustee sent it: the outputs, the reassembled proof and the end line.
struct JsShuffle {
    outputs: Vec<Vec<Ciphertext>>,
    proof: ShuffleProof,
    end: ShuffleEntry,
}

/// Decodes the JS bodies strictly, as the server does (`deny_unknown_fields`), and reassembles
/// the proof as the server's `shuffle_end` does.
fn reassemble(answer: &Value) -> JsShuffle {
    let chunks: Vec<ShuffleChunk> = serde_json::from_value(answer["chunks"].clone()).unwrap();
    let end: ShuffleEntry = serde_json::from_value(answer["end"].clone()).unwrap();
    let mut outputs = Vec::new();
    let mut proof = ShuffleProof {
        permutation_commitments: vec![],
        chain_commitments: vec![],
        t1: end.t1,
        t2: end.t2,
        t3: end.t3,
        t4: end.t4.clone(),
        t_hat: vec![],
        s1: end.s1,
        s2: end.s2,
        s3: end.s3,
        s4: end.s4.clone(),
        s_hat: vec![],
        s_prime: vec![],
    };
    let mut offset = 0;
    for c in chunks {
        assert_eq!(c.offset, offset);
        assert_eq!(c.trustee, end.trustee);
        assert_eq!(c.shuffle, end.shuffle);
        offset += c.outputs.len() as u64;
        outputs.extend(c.outputs);
        proof
            .permutation_commitments
            .extend(c.permutation_commitments);
        proof.chain_commitments.extend(c.chain_commitments);
        proof.t_hat.extend(c.t_hat);
        proof.s_hat.extend(c.s_hat);
        proof.s_prime.extend(c.s_prime);
    }
    assert_eq!(end.ballots, offset);
    JsShuffle {
        outputs,
        proof,
        end,
    }
}

fn mixed(text: &str, answers: &[&str], counting: Counting) -> Question {
    let mut q = Question::plurality(text, answers, 1, answers.len() as u32, false);
    q.counting = counting;
    if counting == Counting::MajorityJudgment {
        q.min = answers.len() as u32;
        q.max = answers.len() as u32;
        q.grades = Some(vec!["Good".into(), "Fair".into(), "Poor".into()]);
    }
    q
}

fn sorted(mut rows: Vec<Vec<u64>>) -> Vec<Vec<u64>> {
    rows.sort();
    rows
}

#[test]
fn js_shuffles_and_factors_verify_with_urne_core_and_tampering_is_rejected() {
    let Some(web) = web() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rng_from_seed(2027);
    // Three trustees sharing the key (any two decrypt); a plurality, a ranked and a graded
    // question: rows of 3 + 2 = 5 ciphertexts.
    let setup = ElectionBuilder::with_questions(
        "mix-js",
        vec![
            Question::plurality("Adopt?", &["Yes", "No"], 1, 1, false),
            mixed("Rank", &["A", "B", "C"], Counting::Schulze),
            mixed("Grade", &["X", "Y"], Counting::MajorityJudgment),
        ],
    )
    .trustees(3)
    .threshold(2)
    .build(&mut rng);
    let election = &setup.election;
    let m = election.manifest();
    assert_eq!(width(m), 5);
    let fp = &election.fingerprint().0;
    let key = election.key();
    let values: Vec<Vec<u64>> = vec![
        vec![1, 2, 3, 0, 2],
        vec![2, 1, 0, 1, 1],
        vec![3, 0, 0, 2, 0],
        vec![1, 3, 2, 0, 0],
        vec![0, 0, 1, 1, 2],
        vec![2, 3, 1, 2, 2],
        vec![1, 0, 0, 0, 1],
    ];
    let input: Vec<Vec<Ciphertext>> = values
        .iter()
        .map(|r| {
            r.iter()
                .map(|&v| Ciphertext::encrypt(key, v, &random_scalar(&mut rng)))
                .collect()
        })
        .collect();
    let request = |step: &str, index: u32, secret: &[u8], list: &[Vec<Ciphertext>], state| {
        let mut r = json!({
            "step": step,
            "election": m.id,
            "index": index,
            "manifest": m,
            "secret": b64_encode(secret),
            "pages": pages(m, list, state, 3),
            "chunk_rows": 3,
        });
        if step == "decrypt" {
            r["verification_key"] = json!(election.verification_key(index).unwrap());
        }
        r
    };

    // Trustee 2 shuffles first, in JS.
    let id2 = setup.trustees[1].to_secret_bytes();
    let a = js(
        &web,
        dir.path(),
        &request("shuffle", 2, &*id2, &input, json!({})),
    )
    .unwrap();
    assert_eq!(a["chunks"].as_array().unwrap().len(), 3);
    let s = reassemble(&a);
    assert_eq!((s.end.shuffle, s.end.trustee), (0, 2));
    let mut r = rng_from_seed(1);
    vartime_verify_shuffle(&mut r, fp, key, &input, &s.outputs, &s.proof).unwrap();
    vartime_verify_shuffle_signature(election, 2, 0, &input, &s.outputs, &s.end.signature).unwrap();
    // Not trustee 1's signature, nor for another position.
    assert!(
        vartime_verify_shuffle_signature(election, 1, 0, &input, &s.outputs, &s.end.signature)
            .is_err()
    );
    assert!(
        vartime_verify_shuffle_signature(election, 2, 1, &input, &s.outputs, &s.end.signature)
            .is_err()
    );

    // Tampered outputs are rejected: one row replaced by a fresh encryption of other votes,
    // one dropped (with its proof entries), one duplicated.
    let verify = |o: &[Vec<Ciphertext>], p: &ShuffleProof| {
        vartime_verify_shuffle(&mut rng_from_seed(3), fp, key, &input, o, p)
    };
    let mut replaced = s.outputs.clone();
    replaced[4] = (0..5)
        .map(|_| Ciphertext::encrypt(key, 3, &random_scalar(&mut rng)))
        .collect();
    assert_eq!(verify(&replaced, &s.proof), Err(ProofError::Equation));
    let mut dropped = s.outputs.clone();
    dropped.remove(2);
    assert!(matches!(
        verify(&dropped, &s.proof),
        Err(ProofError::Shape { .. })
    ));
    let mut p = s.proof.clone();
    for v in [
        &mut p.permutation_commitments,
        &mut p.chain_commitments,
        &mut p.t_hat,
    ] {
        v.remove(2);
    }
    p.s_hat.remove(2);
    p.s_prime.remove(2);
    assert!(verify(&dropped, &p).is_err());
    let mut duplicated = s.outputs.clone();
    duplicated[6] = duplicated[0].clone();
    assert_eq!(verify(&duplicated, &s.proof), Err(ProofError::Equation));
    let mut swapped = s.outputs.clone();
    swapped.swap(0, 1);
    assert_eq!(verify(&swapped, &s.proof), Err(ProofError::Equation));

    // The JS trustee refuses to shuffle twice, and with another trustee's secret.
    let again = request(
        "shuffle",
        2,
        &*id2,
        &s.outputs,
        json!({"shufflers": [2], "next_shuffle": 1}),
    );
    let e = js(&web, dir.path(), &again).unwrap_err();
    assert!(e.contains("has shuffled already"), "{e}");
    let wrong = request(
        "shuffle",
        3,
        &*id2,
        &s.outputs,
        json!({"shufflers": [2], "next_shuffle": 1}),
    );
    let e = js(&web, dir.path(), &wrong).unwrap_err();
    assert!(e.contains("not trustee 3's key"), "{e}");

    // Trustee 3 shuffles the JS output.
    let id3 = setup.trustees[2].to_secret_bytes();
    let st = json!({"shufflers": [2], "next_shuffle": 1});
    let a = js(
        &web,
        dir.path(),
        &request("shuffle", 3, &*id3, &s.outputs, st),
    )
    .unwrap();
    let s2 = reassemble(&a);
    assert_eq!((s2.end.shuffle, s2.end.trustee), (1, 3));
    vartime_verify_shuffle(&mut r, fp, key, &s.outputs, &s2.outputs, &s2.proof).unwrap();
    vartime_verify_shuffle_signature(election, 3, 1, &s.outputs, &s2.outputs, &s2.end.signature)
        .unwrap();
    let last = s2.outputs;

    // Trustees 1 and 3 decrypt the last list with their shares, in JS.
    let st = json!({"shufflers": [2, 3], "next_shuffle": 2});
    let mut factors: Vec<Vec<Vec<DecryptionFactor>>> = Vec::new();
    for index in [1u32, 3] {
        let share = setup.shares[index as usize - 1].to_secret_bytes();
        let a = js(
            &web,
            dir.path(),
            &request("decrypt", index, &share, &last, st.clone()),
        )
        .unwrap();
        let bodies: Vec<MixDecryptionEntry> = serde_json::from_value(a["bodies"].clone()).unwrap();
        assert_eq!(bodies.len(), 3);
        let mut all = Vec::new();
        for b in bodies {
            assert_eq!(b.trustee, index);
            assert_eq!(b.offset, all.len() as u64);
            let rows = &last[b.offset as usize..b.offset as usize + b.factors.len()];
            vartime_verify_mix_factors(&mut r, election, index, b.offset, rows, &b.factors)
                .unwrap();
            all.extend(b.factors);
        }
        // Checked against the wrong trustee's key, or the wrong rows, they fail.
        assert!(vartime_verify_mix_factors(&mut r, election, 2, 0, &last, &all).is_err());
        assert!(vartime_verify_mix_factors(&mut r, election, index, 0, &input, &all).is_err());
        factors.push(all);
    }
    let opened: Vec<Vec<u64>> = vartime_open_with_factors(election, &[1, 3], &last, &factors)
        .unwrap()
        .into_iter()
        .map(|row| row.into_iter().collect::<Option<Vec<u64>>>().unwrap())
        .collect();
    assert_eq!(sorted(opened), sorted(values));
}

/// GET …/mix page by page, as a browser page would: the raw JSON pages.
fn server_pages(server: &Server, id: &str) -> Value {
    let mut out = Vec::new();
    let mut have = 0;
    loop {
        let (status, body) = server.get(
            &format!("/api/v1/elections/{id}/mix?from={have}&limit=2"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let n = v["rows"].as_array().unwrap().len();
        let total = v["ballots"].as_u64().unwrap() as usize;
        out.push(v);
        have += n;
        if n == 0 || have >= total {
            break;
        }
    }
    Value::Array(out)
}

#[test]
fn a_js_trustee_shuffles_and_decrypts_through_the_server_and_the_record_verifies() {
    let Some(web) = web() else { return };
    let id = "mix-js-online";
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = Server::start(dir.path());
    let draft = json!({
        "title": "Mixed election",
        "questions": [
            { "text": "Adopt the budget?", "answers": ["Yes", "No"], "min": 1, "max": 1,
              "blank": true, "counting": "plurality" },
            { "text": "Rank the logos", "answers": ["Owl", "Fox", "Heron"], "min": 1,
              "max": 3, "blank": false, "counting": "schulze" },
            { "text": "Grade the projects", "answers": ["Library", "Garden"],
              "min": 2, "max": 2, "blank": false, "counting": "majority_judgment",
              "grades": ["Excellent", "Good", "Fair", "Poor"] },
        ],
        "opens_at": Timestamp::from_unix(now() - 60).unwrap(),
        "closes_at": Timestamp::from_unix(now() + 86400).unwrap(),
        "trustees": ["Ada"],
        "threshold": 1,
        "voter_auth": "none",
        "auto_open": false,
    });
    let setup = create(&server, &admin, id, &draft);
    let t = &Trustee::invited(&setup, id, |i| dir.path().join(format!("trustee-{i}")))[0];
    let o = t.new_identity("Ada", &server);
    assert!(o.status.success(), "trustee new-identity: {}", text(&o));
    use QuestionVote::{Blank, Graded, Ranked, Selected};
    let votes = vec![
        vec![Selected(vec![0]), Ranked(vec![1, 2, 3]), Graded(vec![0, 1])],
        vec![Selected(vec![1]), Ranked(vec![2, 1, 0]), Graded(vec![3, 2])],
        vec![Blank, Ranked(vec![1, 0, 0]), Graded(vec![1, 1])],
        vec![Selected(vec![0]), Ranked(vec![3, 1, 2]), Graded(vec![2, 0])],
    ];
    let (credentials, _) = seal(&server, &admin, id, votes.len());
    let manifest = vote_and_tally(&server, &admin, id, &credentials, &votes);
    let manifest_json = server.election(id)["manifest"].clone();
    let s = t.online("decrypt", &server);
    assert!(s.contains("mix phase"), "{s}");

    let request = |step: &str| {
        json!({
            "step": step,
            "election": id,
            "index": 1,
            "manifest": manifest_json,
            "secret_file": t.secret(),
            "purpose": "identity",
            "passphrase": t.passphrase(),
            "pages": server_pages(&server, id),
            "chunk_rows": 2,
        })
    };
    let post = |path: &str, body: &Value| {
        let (status, answer) = server.send("POST", path, &t.invitation, body);
        (status, serde_json::from_str::<Value>(&answer).unwrap())
    };

    // The JS shuffle, sent through the CLI's routes: chunks, then the end.
    let a = js(&web, dir.path(), &request("shuffle")).unwrap();
    let base = format!("/api/v1/elections/{id}/mix/shuffles/0");
    for c in a["chunks"].as_array().unwrap() {
        let (status, answer) = post(&format!("{base}/chunks"), c);
        assert_eq!(status, 201, "{answer}");
    }
    let (status, answer) = post(&base, &a["end"]);
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["shufflers"], json!([1]), "{answer}");

    // The JS factors of the last list: the result comes with the last body.
    let a = js(&web, dir.path(), &request("decrypt")).unwrap();
    let bodies = a["bodies"].as_array().unwrap();
    assert_eq!(bodies.len(), 2);
    let mut last = Value::Null;
    for b in bodies {
        let (status, answer) = post(&format!("/api/v1/elections/{id}/mix/decryptions"), b);
        assert_eq!(status, 201, "{answer}");
        last = answer;
    }
    assert_eq!(last["result"], true, "{last}");
    publish(&server, &admin, id);
    assert_mixed_result(&server, id, &manifest, &votes);
    verify_record(&server, id, dir.path());
}
