//! The mix phase through a real `urne serve` (issue #8): three trustees (threshold 2) hold the
//! ceremony with `urne trustee`, voters rank and grade, the administrator tallies, two trustees
//! decrypt the tally, two shuffle (`urne trustee shuffle`), two decrypt the last list (`urne
//! trustee mix-decrypt`), the result is published and equals the plaintext count of the votes,
//! and `urne verify` accepts the record. On the way, the server refuses a shuffle with a wrong
//! proof, one with a foreign signature, a second shuffle by the same trustee, a shuffle with an
//! unknown token and a bad decryption factor, each without writing anything.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use serde_json::{Value, json};
use urne_core::ballot::QuestionVote;
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::manifest::Timestamp;
use urne_core::proofs::shuffle::{prove_shuffle, shuffle};
use urne_core::trustee::TrusteeKey;
use urne_verify::record::{Entry, mix_decryption_lines, shuffle_lines};

#[path = "support/election.rs"]
mod election;
#[path = "support/server.rs"]
mod server;

use election::{
    Trustee, assert_mixed_result, create, now, publish, seal, verify_record, vote_and_tally,
};
use server::{Server, text};

const ID: &str = "mix-online";

fn draft() -> Value {
    draft_with(&["Ada", "Grace", "Alan"], 2)
}

fn draft_with(trustees: &[&str], threshold: u32) -> Value {
    json!({
        "title": "Mixed election",
        "questions": [
            { "text": "Adopt the budget?", "answers": ["Yes", "No"], "min": 1, "max": 1,
              "blank": true, "counting": "plurality" },
            { "text": "Rank the logos", "answers": ["Owl", "Fox", "Heron", "Lynx"], "min": 1,
              "max": 4, "blank": false, "counting": "schulze" },
            { "text": "Elect two delegates", "answers": ["Ana", "Bo", "Chen", "Dia"], "min": 1,
              "max": 3, "blank": false, "counting": "stv", "seats": 2 },
            { "text": "Grade the projects", "answers": ["Library", "Garden", "Bridge"],
              "min": 3, "max": 3, "blank": false, "counting": "majority_judgment",
              "grades": ["Excellent", "Good", "Fair", "Poor"] },
        ],
        "opens_at": Timestamp::from_unix(now() - 60).unwrap(),
        "closes_at": Timestamp::from_unix(now() + 86400).unwrap(),
        "trustees": trustees,
        "threshold": threshold,
        "voter_auth": "none",
        "auto_open": false,
    })
}

/// The votes: every voter answers the four questions.
fn votes() -> Vec<Vec<QuestionVote>> {
    use QuestionVote::{Blank, Graded, Ranked, Selected};
    vec![
        vec![
            Selected(vec![0]),
            Ranked(vec![1, 2, 3, 4]),
            Ranked(vec![1, 2, 0, 0]),
            Graded(vec![0, 1, 3]),
        ],
        vec![
            Selected(vec![0]),
            Ranked(vec![2, 1, 0, 0]),
            Ranked(vec![2, 1, 3, 0]),
            Graded(vec![1, 1, 2]),
        ],
        vec![
            Selected(vec![1]),
            Ranked(vec![1, 3, 2, 0]),
            Ranked(vec![0, 1, 0, 2]),
            Graded(vec![0, 2, 3]),
        ],
        vec![
            Blank,
            Ranked(vec![3, 1, 2, 4]),
            Ranked(vec![1, 0, 2, 0]),
            Graded(vec![2, 0, 1]),
        ],
        vec![
            Selected(vec![0]),
            Ranked(vec![1, 0, 0, 0]),
            Ranked(vec![0, 0, 1, 0]),
            Graded(vec![1, 3, 3]),
        ],
    ]
}

/// Posts `body` to `path` with `token`; the status and JSON answer.
fn post(server: &Server, path: &str, token: &str, body: &impl serde::Serialize) -> (u16, Value) {
    let (status, body) = server.send("POST", path, token, &serde_json::to_value(body).unwrap());
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The current list of the mix phase, read from the server in pages of 2 rows.
fn current_list(server: &Server) -> (Value, Vec<Vec<Ciphertext>>) {
    let mut rows = Vec::new();
    let mut view;
    loop {
        let (status, body) = server.get(
            &format!("/api/v1/elections/{ID}/mix?from={}&limit=2", rows.len()),
            None,
        );
        assert_eq!(status, 200, "{body}");
        view = serde_json::from_str::<Value>(&body).unwrap();
        let page: Vec<Vec<Ciphertext>> = serde_json::from_value(view["rows"].clone()).unwrap();
        if page.is_empty() {
            break;
        }
        rows.extend(page);
    }
    assert_eq!(view["ballots"].as_u64().unwrap(), rows.len() as u64);
    (view, rows)
}

/// Uploads a shuffle made here (not by a trustee's tool): its chunks, then its end. Returns
/// the end's status and answer.
fn upload_shuffle(
    server: &Server,
    token: &str,
    position: u32,
    trustee: u32,
    lines: &[Entry],
) -> (u16, Value) {
    let base = format!("/api/v1/elections/{ID}/mix/shuffles/{position}");
    let mut last = (0, Value::Null);
    for l in lines {
        last = match l {
            Entry::ShuffleChunk(c) => {
                let r = post(server, &format!("{base}/chunks"), token, c);
                assert_eq!(r.0, 201, "chunk of trustee {trustee}: {}", r.1);
                r
            }
            Entry::Shuffle(s) => post(server, &base, token, s),
            _ => unreachable!(),
        };
    }
    last
}

#[test]
fn three_trustees_shuffle_and_decrypt_a_mixed_election_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = Server::start(dir.path());
    let setup = create(&server, &admin, ID, &draft());
    let names = ["Ada", "Grace", "Alan"];
    let trustees = Trustee::invited(&setup, ID, |i| dir.path().join(format!("trustee-{i}")));

    // The ceremony, online.
    for t in &trustees {
        let o = t.new_identity(names[t.index as usize - 1], &server);
        assert!(o.status.success(), "{}", text(&o));
    }
    for step in ["deal", "complain", "answer", "finalize"] {
        for t in &trustees {
            t.online(step, &server);
        }
    }

    // The credentials, the seal, the votes, the tally.
    let votes = votes();
    let (credentials, _) = seal(&server, &admin, ID, votes.len());
    let manifest = vote_and_tally(&server, &admin, ID, &credentials, &votes);
    let election = Election::new(manifest.clone()).unwrap();

    // Shuffling before the tally's factors are in: refused by the tool.
    let o = trustees[0].try_online("shuffle", &server, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("factors of the tally"), "{}", text(&o));

    // Two trustees decrypt the tally: no result yet, the mix phase follows.
    for t in &trustees[..2] {
        t.online("decrypt", &server);
    }
    let o = trustees[2].try_online("decrypt", &server, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("the mix phase follows"), "{}", text(&o));
    let (_, b) = server.get(&format!("/api/v1/elections/{ID}/mix?limit=0"), None);
    let view: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(view["tally_decryptions"], 2);
    assert_eq!(view["result"], false);
    assert_eq!(view["shuffles_needed"], 2);
    let (status, body) = server.send(
        "POST",
        &format!("/api/v1/admin/elections/{ID}/publish"),
        &admin,
        &json!({}),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("no_result"), "{body}");

    // Rejections of shuffles made here, on the current list: nothing is written.
    let (_, inputs) = current_list(&server);
    assert_eq!(inputs.len(), votes.len());
    let fp = election.fingerprint().0;
    let mut rng = rand::rng();
    let (outputs, witness) = shuffle(&mut rng, election.key(), &inputs).unwrap();
    let proof = prove_shuffle(&mut rng, &fp, election.key(), &inputs, &outputs, &witness).unwrap();
    let stranger = TrusteeKey::generate(&mut rng);
    let foreign = stranger.sign_shuffle(&mut rng, &election, 3, 0, &inputs, &outputs);
    let size = server.board_size(ID);
    let t3 = &trustees[2].invitation;
    // A wrong proof.
    let mut bad = proof.clone();
    std::mem::swap(&mut bad.s1, &mut bad.s2);
    let lines = shuffle_lines(0, 3, &outputs, &bad, foreign, Some(2));
    let (status, body) = upload_shuffle(&server, t3, 0, 3, &lines);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "bad_shuffle", "{body}");
    assert_eq!(body["error"]["field"], "proof", "{body}");
    assert_eq!(server.board_size(ID), size);
    // A valid proof with a signature that is not trustee 3's.
    let lines = shuffle_lines(0, 3, &outputs, &proof, foreign, Some(3));
    let (status, body) = upload_shuffle(&server, t3, 0, 3, &lines);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "signature", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("V-20"),
        "{body}"
    );
    assert_eq!(server.board_size(ID), size);
    // An unknown token.
    let Entry::ShuffleChunk(first) = &lines[0] else {
        unreachable!()
    };
    let path = format!("/api/v1/elections/{ID}/mix/shuffles/0/chunks");
    let (status, _) = post(&server, &path, "not-an-invitation", first);
    assert_eq!(status, 401);
    // As another trustee.
    let (status, body) = post(&server, &path, &trustees[0].invitation, first);
    assert_eq!(status, 403, "{body}");
    assert_eq!(server.board_size(ID), size);

    // Trustees 1 and 2 shuffle with their tool.
    let s = trustees[0].online("shuffle", &server);
    assert!(s.contains("every check so far passed"), "{s}");
    assert!(s.contains("shuffled     by trustees [1], 2 needed"), "{s}");
    // Decrypting after a single shuffle: refused by the tool.
    let o = trustees[1].try_online("mix-decrypt", &server, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("have shuffled on the record"),
        "{}",
        text(&o)
    );
    // A second shuffle by trustee 1, sent by hand: the server refuses it.
    let size = server.board_size(ID);
    let (_, list) = current_list(&server);
    assert_ne!(list, inputs);
    let (out2, w2) = shuffle(&mut rng, election.key(), &list).unwrap();
    let p2 = prove_shuffle(&mut rng, &fp, election.key(), &list, &out2, &w2).unwrap();
    let lines = shuffle_lines(1, 1, &out2, &p2, foreign, None);
    let Entry::ShuffleChunk(c) = &lines[0] else {
        unreachable!()
    };
    let (status, body) = post(
        &server,
        &format!("/api/v1/elections/{ID}/mix/shuffles/1/chunks"),
        &trustees[0].invitation,
        c,
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_shuffled", "{body}");
    // The tool refuses too, before shuffling.
    let o = trustees[0].try_online("shuffle", &server, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("has shuffled already"), "{}", text(&o));
    assert_eq!(server.board_size(ID), size);
    let s = trustees[1].online("shuffle", &server);
    assert!(
        s.contains("shuffled     by trustees [1, 2], 2 needed"),
        "{s}"
    );
    let (status, body) = server.get(&format!("/api/v1/admin/elections/{ID}"), Some(&admin));
    assert_eq!(status, 200, "{body}");
    let admin_view: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        admin_view["mix"]["shufflers"],
        json!([1, 2]),
        "{admin_view}"
    );
    let mix = &server.election(ID)["mix"];
    assert_eq!(mix["shufflers"], json!([1, 2]), "{mix}");
    assert_eq!(mix["ballots"], json!(votes.len()), "{mix}");
    assert_eq!(mix["decrypted"], false, "{mix}");
    assert!(s.contains("mix-decrypt"), "{s}");

    // A bad factor: proved with a key that is not trustee 3's.
    let size = server.board_size(ID);
    let (_, last) = current_list(&server);
    let wrong = stranger.decrypt_mix(&mut rng, &election, &last);
    let Entry::MixDecryption(d) = &mix_decryption_lines(3, &wrong, Some(2))[0] else {
        unreachable!()
    };
    let (status, body) = post(
        &server,
        &format!("/api/v1/elections/{ID}/mix/decryptions"),
        t3,
        d,
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "bad_factor", "{body}");
    assert_eq!(body["error"]["field"], "factors[0][0]", "{body}");
    assert_eq!(server.board_size(ID), size);

    // Trustees 2 and 3 decrypt the last list: the result is on the board.
    let s = trustees[1].online("mix-decrypt", &server);
    assert!(s.contains("decrypted    by trustees [2], 2 needed"), "{s}");
    let s = trustees[2].online("mix-decrypt", &server);
    assert!(s.contains("result       on the board"), "{s}");
    publish(&server, &admin, ID);

    // The result is the count of the votes in the clear.
    let result = &server.election(ID)["result"];
    assert_eq!(result["questions"][0]["counts"], json!([3, 1]));
    assert_eq!(result["questions"][0]["blank"], json!(1));
    assert_mixed_result(&server, ID, &manifest, &votes);
    verify_record(&server, ID, dir.path());
}

/// One trustee with an independent key (no ceremony), `votes.len()` voters: the mix phase runs
/// when a ballot is counted (one shuffle, one decryption), and with no ballot the result comes
/// with the tally's factors. Either way the result is the count of the votes and the record
/// verifies.
fn independent_election(id: &str, votes: &[Vec<QuestionVote>]) {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = Server::start(dir.path());
    let setup = create(&server, &admin, id, &draft_with(&["Ada"], 1));
    let t = &Trustee::invited(&setup, id, |i| dir.path().join(format!("trustee-{i}")))[0];
    let o = t.new_identity("Ada", &server);
    assert!(o.status.success(), "{}", text(&o));
    let (credentials, _) = seal(&server, &admin, id, votes.len().max(1));
    let manifest = vote_and_tally(&server, &admin, id, &credentials, votes);
    let s = t.online("decrypt", &server);
    if votes.is_empty() {
        assert!(s.contains("result       on the board"), "{s}");
    } else {
        assert!(s.contains("mix phase"), "{s}");
        let s = t.online("shuffle", &server);
        assert!(s.contains("shuffled     by trustees [1], 1 needed"), "{s}");
        let s = t.online("mix-decrypt", &server);
        assert!(s.contains("result       on the board"), "{s}");
    }
    publish(&server, &admin, id);
    assert_mixed_result(&server, id, &manifest, votes);
    verify_record(&server, id, dir.path());
}

#[test]
fn one_trustee_with_an_independent_key_shuffles_and_decrypts_alone() {
    independent_election("mix-independent", &votes()[..3]);
}

#[test]
fn a_mixed_election_without_ballots_has_its_result_with_the_tally() {
    independent_election("mix-empty", &[]);
}
