//! The mix phase through a real `urne serve` (issue #8): three trustees (threshold 2) hold the
//! ceremony with `urne trustee`, voters rank and grade, the administrator tallies, two trustees
//! decrypt the tally, two shuffle (`urne trustee shuffle`), two decrypt the last list (`urne
//! trustee mix-decrypt`), the result is published and equals the plaintext count of the votes,
//! and `urne verify` accepts the record. On the way, the server refuses a shuffle with a wrong
//! proof, one with a foreign signature, a second shuffle by the same trustee, a shuffle with an
//! unknown token and a bad decryption factor, each without writing anything.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::path::PathBuf;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::{Credential, PublicCredential};
use urne_core::election::Election;
use urne_core::elgamal::Ciphertext;
use urne_core::manifest::{Manifest, Timestamp};
use urne_core::mix::count_mixed;
use urne_core::proofs::shuffle::{prove_shuffle, shuffle};
use urne_core::tally::MixedResult;
use urne_core::trustee::TrusteeKey;
use urne_verify::record::{Entry, mix_decryption_lines, shuffle_lines};
use urne_verify::simulate::mix_values;

#[path = "support/server.rs"]
mod server;

use server::{Server, text, urne};

const ID: &str = "mix-online";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Trustee {
    election: String,
    index: u32,
    dir: PathBuf,
    invitation: String,
}

impl Trustee {
    fn passphrase(&self) -> String {
        format!("passphrase of trustee {}", self.index)
    }

    fn secret(&self) -> PathBuf {
        self.dir.join(format!("trustee-{}.secret", self.index))
    }

    fn run_with(&self, cmd: &str, args: &[&str]) -> Output {
        urne()
            .args(["trustee", cmd, "--election", &self.election, "--index"])
            .arg(self.index.to_string())
            .args(args)
            .env("URNE_PASSPHRASE", self.passphrase())
            .env("URNE_INVITATION", &self.invitation)
            .output()
            .unwrap()
    }

    fn run(&self, cmd: &str, args: &[&str]) -> String {
        let o = self.run_with(cmd, args);
        let out = text(&o);
        assert!(o.status.success(), "trustee {} {cmd}: {out}", self.index);
        assert!(
            !out.contains(&self.invitation) && !out.contains(&self.passphrase()),
            "a secret was printed: {out}"
        );
        out
    }

    /// A step online with this trustee's secret file.
    fn online(&self, cmd: &str, server: &Server) -> String {
        let secret = self.secret();
        let mut args = vec![
            "--server",
            &server.base,
            "--secret",
            secret.to_str().unwrap(),
        ];
        if !matches!(cmd, "decrypt" | "shuffle" | "mix-decrypt") {
            args.extend(["--kdf-memory-kib", "1024"]);
        } else {
            args.push("--quiet");
        }
        if matches!(cmd, "shuffle" | "mix-decrypt") {
            // Uploads in chunks of two rows: several requests per shuffle and per trustee.
            args.extend(["--chunk-rows", "2"]);
        }
        self.run(cmd, &args)
    }
}

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
    server.admin(
        "POST",
        "/elections",
        &admin,
        &json!({ "id": ID, "draft": draft() }),
    );
    let setup = server.admin(
        "POST",
        &format!("/elections/{ID}/setup"),
        &admin,
        &json!({}),
    );
    let names = ["Ada", "Grace", "Alan"];
    let trustees: Vec<Trustee> = setup["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, inv)| {
            let dir = dir.path().join(format!("trustee-{}", i + 1));
            std::fs::create_dir_all(&dir).unwrap();
            Trustee {
                election: ID.to_owned(),
                index: i as u32 + 1,
                dir,
                invitation: inv.as_str().unwrap().to_owned(),
            }
        })
        .collect();

    // The ceremony, online.
    for t in &trustees {
        let o = t.run_with(
            "new-identity",
            &[
                "--name",
                names[t.index as usize - 1],
                "--out",
                t.dir.to_str().unwrap(),
                "--server",
                &server.base,
                "--kdf-memory-kib",
                "1024",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    for step in ["deal", "complain", "answer", "finalize"] {
        for t in &trustees {
            t.online(step, &server);
        }
    }

    // The credentials, the seal, the votes, the tally.
    let votes = votes();
    let credentials: Vec<Credential> = (0..votes.len())
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    let list: Vec<PublicCredential> = credentials
        .iter()
        .map(|c| PublicCredential {
            credential: *c.derive_key(ID).public(),
            weight: 1,
        })
        .collect();
    server.admin(
        "PUT",
        &format!("/elections/{ID}/credentials"),
        &admin,
        &json!({ "credentials": list }),
    );
    server.admin("POST", &format!("/elections/{ID}/seal"), &admin, &json!({}));
    server.admin("POST", &format!("/elections/{ID}/open"), &admin, &json!({}));
    let manifest: Manifest =
        serde_json::from_value(server.election(ID)["manifest"].clone()).unwrap();
    let election = Election::new(manifest.clone()).unwrap();
    for (c, v) in credentials.iter().zip(&votes) {
        let b = Ballot::create(&mut rand::rng(), &election, &c.derive_key(ID), v).unwrap();
        let r = server
            .agent
            .post(format!("{}/api/v1/elections/{ID}/ballots", server.base))
            .header("content-type", "application/json")
            .send(b.to_json())
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    server.admin(
        "POST",
        &format!("/elections/{ID}/close"),
        &admin,
        &json!({}),
    );
    server.admin(
        "POST",
        &format!("/elections/{ID}/tally"),
        &admin,
        &json!({}),
    );

    // Shuffling before the tally's factors are in: refused by the tool.
    let o = trustees[0].run_with(
        "shuffle",
        &[
            "--server",
            &server.base,
            "--secret",
            trustees[0].secret().to_str().unwrap(),
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("factors of the tally"), "{}", text(&o));

    // Two trustees decrypt the tally: no result yet, the mix phase follows.
    for t in &trustees[..2] {
        t.online("decrypt", &server);
    }
    let o = trustees[2].run_with(
        "decrypt",
        &[
            "--server",
            &server.base,
            "--secret",
            trustees[2].secret().to_str().unwrap(),
            "--quiet",
        ],
    );
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
    let o = trustees[1].run_with(
        "mix-decrypt",
        &[
            "--server",
            &server.base,
            "--secret",
            trustees[1].secret().to_str().unwrap(),
            "--quiet",
        ],
    );
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
    let o = trustees[0].run_with(
        "shuffle",
        &[
            "--server",
            &server.base,
            "--secret",
            trustees[0].secret().to_str().unwrap(),
            "--quiet",
        ],
    );
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
    server.admin(
        "POST",
        &format!("/elections/{ID}/publish"),
        &admin,
        &json!({}),
    );

    // The result is the count of the votes in the clear.
    let result = &server.election(ID)["result"];
    assert_eq!(result["questions"][0]["counts"], json!([3, 1]));
    assert_eq!(result["questions"][0]["blank"], json!(1));
    let rows: Vec<Vec<u64>> = votes
        .iter()
        .map(|v| mix_values(&manifest.questions, v))
        .collect();
    let expected = count_mixed(&manifest, &rows).unwrap();
    for (qi, e) in expected.iter().enumerate().skip(1) {
        let got: MixedResult =
            serde_json::from_value(result["questions"][qi]["mixed"].clone()).unwrap();
        assert_eq!(Some(got), *e, "question {qi}");
    }
    let record = dir.path().join("record.jsonl");
    server.export(ID, &record);
    let o = urne()
        .args(["verify", "--quiet"])
        .arg(&record)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("VALID"), "{}", text(&o));
}

/// One trustee with an independent key (no ceremony), `votes.len()` voters: the mix phase runs
/// when a ballot is counted (one shuffle, one decryption), and with no ballot the result comes
/// with the tally's factors. Either way the result is the count of the votes and the record
/// verifies.
fn independent_election(id: &str, votes: &[Vec<QuestionVote>]) {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = Server::start(dir.path());
    server.admin(
        "POST",
        "/elections",
        &admin,
        &json!({ "id": id, "draft": draft_with(&["Ada"], 1) }),
    );
    let setup = server.admin(
        "POST",
        &format!("/elections/{id}/setup"),
        &admin,
        &json!({}),
    );
    let t = Trustee {
        election: id.to_owned(),
        index: 1,
        dir: dir.path().join("trustee-1"),
        invitation: setup["invitations"][0].as_str().unwrap().to_owned(),
    };
    std::fs::create_dir_all(&t.dir).unwrap();
    let o = t.run_with(
        "new-identity",
        &[
            "--name",
            "Ada",
            "--out",
            t.dir.to_str().unwrap(),
            "--server",
            &server.base,
            "--kdf-memory-kib",
            "1024",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let credentials: Vec<Credential> = (0..votes.len().max(1))
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    let list: Vec<PublicCredential> = credentials
        .iter()
        .map(|c| PublicCredential {
            credential: *c.derive_key(id).public(),
            weight: 1,
        })
        .collect();
    server.admin(
        "PUT",
        &format!("/elections/{id}/credentials"),
        &admin,
        &json!({ "credentials": list }),
    );
    server.admin("POST", &format!("/elections/{id}/seal"), &admin, &json!({}));
    server.admin("POST", &format!("/elections/{id}/open"), &admin, &json!({}));
    let manifest: Manifest =
        serde_json::from_value(server.election(id)["manifest"].clone()).unwrap();
    let election = Election::new(manifest.clone()).unwrap();
    for (c, v) in credentials.iter().zip(votes) {
        let b = Ballot::create(&mut rand::rng(), &election, &c.derive_key(id), v).unwrap();
        let r = server
            .agent
            .post(format!("{}/api/v1/elections/{id}/ballots", server.base))
            .header("content-type", "application/json")
            .send(b.to_json())
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    server.admin(
        "POST",
        &format!("/elections/{id}/close"),
        &admin,
        &json!({}),
    );
    server.admin(
        "POST",
        &format!("/elections/{id}/tally"),
        &admin,
        &json!({}),
    );
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
    server.admin(
        "POST",
        &format!("/elections/{id}/publish"),
        &admin,
        &json!({}),
    );
    let result = &server.election(id)["result"];
    let rows: Vec<Vec<u64>> = votes
        .iter()
        .map(|v| mix_values(&manifest.questions, v))
        .collect();
    let expected = count_mixed(&manifest, &rows).unwrap();
    for (qi, e) in expected.iter().enumerate().skip(1) {
        let got: Option<MixedResult> =
            serde_json::from_value(result["questions"][qi]["mixed"].clone()).unwrap();
        assert_eq!(got, *e, "question {qi}");
    }
    let record = dir.path().join("record.jsonl");
    server.export(id, &record);
    let o = urne()
        .args(["verify", "--quiet"])
        .arg(&record)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("VALID"), "{}", text(&o));
}

#[test]
fn one_trustee_with_an_independent_key_shuffles_and_decrypts_alone() {
    independent_election("mix-independent", &votes()[..3]);
}

#[test]
fn a_mixed_election_without_ballots_has_its_result_with_the_tally() {
    independent_election("mix-empty", &[]);
}
