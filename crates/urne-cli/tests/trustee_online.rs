//! `urne trustee` against a real server: the `urne` binary serves on loopback, an administrator
//! drives the election over HTTP, and the trustees run their steps with `urne trustee …
//! --server`, one of them decrypting offline from an exported record and uploading the file.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use urne_core::ballot::QuestionVote;
use urne_core::credential::Credential;
use urne_core::manifest::Timestamp;

#[path = "support/election.rs"]
mod election;
#[path = "support/server.rs"]
mod server;

use election::{Trustee, create, now, publish, seal, verify_record};
use server::{Server, text, urne};

const ID: &str = "trustees-e2e";
const INDEPENDENT: &str = "independent-e2e";

fn election_key(finalize_output: &str) -> String {
    finalize_output
        .lines()
        .find_map(|l| l.trim().strip_prefix("election key "))
        .unwrap()
        .to_owned()
}

/// The administrator drafts an election with these trustees and threshold, and freezes it:
/// one trustee per invitation, each with its own directory.
fn create_election(
    server: &Server,
    admin: &str,
    dir: &Path,
    id: &str,
    names: &[&str],
    threshold: u32,
) -> Vec<Trustee> {
    let draft = json!({
        "title": "Trustee tool test",
        "questions": [{
            "text": "Which one?",
            "answers": ["Red", "Green", "Blue"],
            "min": 1, "max": 1, "blank": true, "counting": "plurality",
        }],
        "opens_at": Timestamp::from_unix(now() - 60).unwrap(),
        "closes_at": Timestamp::from_unix(now() + 86400).unwrap(),
        "trustees": names,
        "threshold": threshold,
        "voter_auth": "none",
        "auto_open": false,
    });
    let setup = create(server, admin, id, &draft);
    let trustees = Trustee::invited(&setup, id, |i| dir.join(format!("{id}-trustee-{i}")));
    assert_eq!(trustees.len(), names.len());
    trustees
}

/// Opening, one ballot per credential (a single question), closing and the tally.
fn vote_and_tally(
    server: &Server,
    admin: &str,
    id: &str,
    credentials: &[Credential],
    votes: &[QuestionVote],
) {
    let ballots: Vec<Vec<QuestionVote>> = votes.iter().map(|v| vec![v.clone()]).collect();
    election::vote_and_tally(server, admin, id, credentials, &ballots);
}

/// `urne trustee upload-decryption` of `file` by `t`.
fn upload(t: &Trustee, server: &Server, file: &Path) -> Output {
    urne()
        .args(["trustee", "upload-decryption", "--election", &t.election])
        .args(["--server", &server.base])
        .arg(file)
        .env("URNE_INVITATION", &t.invitation)
        .output()
        .unwrap()
}

/// A copy of `record` whose tally line has its first two ciphertexts' `alpha` swapped: no
/// longer the sum of the ballots.
fn tamper_tally(record: &Path, to: &Path) {
    let text = std::fs::read_to_string(record).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.contains(r#""type":"tally""#) {
            let v: Value = serde_json::from_str(line).unwrap();
            let choices = &v["tally"]["questions"][0]["choices"];
            let (a, b) = (
                choices[0]["alpha"].as_str().unwrap(),
                choices[1]["alpha"].as_str().unwrap(),
            );
            assert_ne!(a, b);
            out += &line
                .replacen(a, "@", 1)
                .replacen(b, a, 1)
                .replacen("@", b, 1);
        } else {
            out += line;
        }
        out += "\n";
    }
    assert_ne!(out, text);
    std::fs::write(to, out).unwrap();
}

/// A copy of `record` cut after its manifest (line 2), then a line that is not JSON: any
/// verification of it fails, while its header and manifest are intact.
fn corrupt_after_manifest(record: &Path, to: &Path) {
    let text = std::fs::read_to_string(record).unwrap();
    let mut out: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    assert!(out.contains(r#""type":"manifest""#), "{out}");
    out += "this line is not JSON\n";
    std::fs::write(to, out).unwrap();
}

/// `urne trustee CMD` with `t`'s passphrase and invitation, but the given election id, index
/// and secret file: a trustee who typed one of them wrong.
fn run_as(
    t: &Trustee,
    cmd: &str,
    election: &str,
    index: u32,
    secret: &Path,
    args: &[&str],
) -> Output {
    urne()
        .args(["trustee", cmd, "--election", election, "--index"])
        .arg(index.to_string())
        .arg("--secret")
        .arg(secret)
        .args(args)
        .env("URNE_PASSPHRASE", t.passphrase())
        .env("URNE_INVITATION", &t.invitation)
        .output()
        .unwrap()
}

#[test]
fn three_trustees_hold_the_ceremony_and_decrypt_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = Server::start(dir.path());

    // The administrator: a 2-of-3 election, frozen, which gives the invitations.
    let names = ["Ada", "Grace", "Alan"];
    let trustees = create_election(&server, &admin, dir.path(), ID, &names, 2);

    // Dealing before everyone has registered: refused, nothing written.
    let t1 = &trustees[0];
    let o = t1.new_identity(names[0], &server);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Registered it with"), "{}", text(&o));
    assert!(text(&o).contains("Waiting for trustees [2, 3] to register"));
    let secret1 = t1.secret();
    let o = t1.try_online("deal", &server, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("trustees [2, 3] have not registered"),
        "{}",
        text(&o)
    );
    assert!(!t1.dir.join("trustee-1.polynomial.secret").exists());

    // A wrong name is refused by the server; the unused key's files are removed.
    let t2 = &trustees[1];
    let o = t2.new_identity("Grace Hopper", &server);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("wrong_name"), "{}", text(&o));
    assert!(!t2.secret().exists());
    for t in &trustees[1..] {
        let o = t.new_identity(names[t.index as usize - 1], &server);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("Next:"), "{}", text(&o));
    }

    // The ceremony, each round through the server.
    for t in &trustees {
        let s = t.online("deal", &server);
        assert!(s.contains("Checked the 3 trustees' key proofs"), "{s}");
    }
    // Dealing twice: refused by the tool before anything is made.
    let t3 = &trustees[2];
    let o = t3.try_online("deal", &server, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("the server has trustee 3's dealing already"),
        "{}",
        text(&o)
    );
    for t in &trustees {
        let s = t.online("complain", &server);
        assert!(
            s.contains("Every share this trustee received decrypts"),
            "{s}"
        );
    }
    for t in &trustees {
        let s = t.online("answer", &server);
        assert!(s.contains("No complaint against trustee"), "{s}");
    }
    let outs: Vec<String> = trustees
        .iter()
        .map(|t| t.online("finalize", &server))
        .collect();
    let key = election_key(&outs[0]);
    for s in &outs {
        assert_eq!(election_key(s), key);
        assert!(s.contains("qualified    [1, 2, 3]"), "{s}");
        assert!(s.contains("The setup is not sealed yet"), "{s}");
    }

    // The seal; run again, finalize checks the manifest against the ceremony.
    let (credentials, sealed) = seal(&server, &admin, ID, 5);
    assert_eq!(sealed["qualified"], json!([1, 2, 3]));
    let s = t1.online("finalize", &server);
    assert!(s.contains("Checked the sealed manifest"), "{s}");
    assert!(s.contains("the same share"), "{s}");
    let manifest = &server.election(ID)["manifest"];
    assert_eq!(manifest["public_key"], json!(key));

    // The voters, then the tally.
    let votes = [
        QuestionVote::Selected(vec![0]),
        QuestionVote::Selected(vec![2]),
        QuestionVote::Selected(vec![2]),
        QuestionVote::Blank,
        QuestionVote::Selected(vec![1]),
    ];
    vote_and_tally(&server, &admin, ID, &credentials, &votes);
    let tallied = server.board_size(ID);

    // A wrong passphrase: a clear error, and nothing sent.
    let secret2 = t2.secret();
    let online = [
        "--server",
        &server.base,
        "--secret",
        secret2.to_str().unwrap(),
    ];
    let o = t2.run_with_passphrase("decrypt", &online, "not the passphrase");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));
    assert_eq!(server.board_size(ID), tallied);

    // Trustee 1 on an air-gapped machine: a copy of the record, the factors to a file, and the
    // file uploaded from a connected machine.
    let snapshot = dir.path().join("snapshot.jsonl");
    server.export(ID, &snapshot);
    let factors = t1.dir.join("factors.json");
    let offline = |record: &Path| {
        vec![
            "--record".to_owned(),
            record.to_str().unwrap().to_owned(),
            "--secret".to_owned(),
            secret1.to_str().unwrap().to_owned(),
            "--out".to_owned(),
            factors.to_str().unwrap().to_owned(),
            "--quiet".to_owned(),
        ]
    };
    // A record whose tally is not the sum of the ballots is not decrypted.
    let tampered = dir.path().join("tampered.jsonl");
    tamper_tally(&snapshot, &tampered);
    let args = offline(&tampered);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = t1.run_with("decrypt", &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("does not verify") && text(&o).contains("V-14"),
        "{}",
        text(&o)
    );
    assert!(!factors.exists());
    let args = offline(&snapshot);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = t1.run("decrypt", &args);
    assert!(s.contains("every check so far passed (tallied)"), "{s}");
    assert!(s.contains("the sum of the 5 counted ballots"), "{s}");
    assert!(s.contains("checked them (V-15)"), "{s}");
    assert!(s.contains("Next: carry"), "{s}");
    assert_eq!(server.board_size(ID), tallied);
    let o = upload(t1, &server, &factors);
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    assert!(s.contains("decrypted    1 trustee(s), 2 needed"), "{s}");
    assert!(s.contains("not yet: 1 more"), "{s}");
    // Sent twice: the server refuses, and says why.
    let o = upload(t1, &server, &factors);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("already_sent"), "{}", text(&o));

    // Trustee 2 online: the second factors give the result.
    let s = t2.run("decrypt", &[&online[..], &["--quiet"]].concat());
    assert!(s.contains("decrypted    2 trustee(s), 2 needed"), "{s}");
    assert!(s.contains("result       on the board"), "{s}");
    // Trustee 3 is not needed any more.
    let o = t3.try_online("decrypt", &server, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("on the record already"), "{}", text(&o));

    // The result, published, and the whole record verified.
    publish(&server, &admin, ID);
    assert_eq!(
        server.election(ID)["result"],
        json!({ "questions": [{ "counts": [1, 1, 2], "blank": 1 }] })
    );
    verify_record(&server, ID, dir.path());
}

#[test]
fn trustees_with_independent_keys_register_and_decrypt_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = Server::start(dir.path());
    let names = ["Ada", "Grace"];
    let trustees = create_election(&server, &admin, dir.path(), INDEPENDENT, &names, 2);
    for t in &trustees {
        let o = t.new_identity(names[t.index as usize - 1], &server);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("independent keys"), "{}", text(&o));
    }
    // No ceremony with independent keys: the tool says what to do instead.
    let t1 = &trustees[0];
    let o = t1.try_online("deal", &server, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("there is no key-generation ceremony"),
        "{}",
        text(&o)
    );
    let (credentials, _) = seal(&server, &admin, INDEPENDENT, 3);
    let votes = [
        QuestionVote::Selected(vec![1]),
        QuestionVote::Selected(vec![1]),
        QuestionVote::Selected(vec![0]),
    ];
    vote_and_tally(&server, &admin, INDEPENDENT, &credentials, &votes);

    // Fail fast: a wrong election id, index or secret file is told from the record's header and
    // manifest, before the verification reads the rest, here not JSON (which the verification
    // refuses: the last run).
    let (t1, t2) = (&trustees[0], &trustees[1]);
    let snapshot = dir.path().join("independent.jsonl");
    server.export(INDEPENDENT, &snapshot);
    let corrupt = dir.path().join("corrupt.jsonl");
    corrupt_after_manifest(&snapshot, &corrupt);
    let offline = ["--record", corrupt.to_str().unwrap(), "--out"];
    let factors = dir.path().join("factors.json");
    let offline = [&offline[..], &[factors.to_str().unwrap()]].concat();
    let wrong_election = format!("the record of election {INDEPENDENT}, not other-election");
    let cases: [(&str, u32, &Path, &str); 4] = [
        ("other-election", 1, &t1.secret(), &wrong_election),
        (
            INDEPENDENT,
            3,
            &t1.secret(),
            "has 2 trustees: there is no trustee 3",
        ),
        (
            INDEPENDENT,
            2,
            &t1.secret(),
            "is not trustee 2's key in the manifest",
        ),
        (INDEPENDENT, 1, &t1.secret(), "does not verify"),
    ];
    for (election, index, secret, error) in cases {
        let o = run_as(t1, "decrypt", election, index, secret, &offline);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(error), "{error}: {}", text(&o));
        if error != "does not verify" {
            assert!(!text(&o).contains("verif"), "{error}: {}", text(&o));
        }
        assert!(!factors.exists());
    }
    // Trustee 2's secret file, given as trustee 1's, online: refused before anything is sent.
    let online = ["--server", &server.base, "--quiet"];
    let o = run_as(t2, "decrypt", INDEPENDENT, 1, &t2.secret(), &online);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not trustee 1's key in the manifest"),
        "{}",
        text(&o)
    );
    // The mix phase's commands share these checks, and the one of the mix phase itself.
    for cmd in ["shuffle", "mix-decrypt"] {
        let o = run_as(t1, cmd, INDEPENDENT, 3, &t1.secret(), &online);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("there is no trustee 3"), "{}", text(&o));
        let o = run_as(t1, cmd, INDEPENDENT, 1, &t1.secret(), &online);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("has no ranked or graded question"),
            "{}",
            text(&o)
        );
    }

    let mut last = String::new();
    for t in &trustees {
        last = t.online("decrypt", &server);
        assert!(last.contains("with its key, with proofs"), "{last}");
    }
    assert!(last.contains("result       on the board"), "{last}");
    publish(&server, &admin, INDEPENDENT);
    assert_eq!(
        server.election(INDEPENDENT)["result"],
        json!({ "questions": [{ "counts": [1, 2, 0], "blank": 0 }] })
    );
}

#[test]
fn decrypt_with_a_wrong_passphrase_reads_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = urne()
        .args(["trustee", "new-identity", "--election", ID, "--index", "1"])
        .args(["--name", "Ada", "--kdf-memory-kib", "1024", "--out"])
        .arg(dir.path())
        .env("URNE_PASSPHRASE", "the right passphrase")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let secret = dir.path().join("trustee-1.secret");
    let out = dir.path().join("factors.json");
    // Offline: nothing written (the record need not even exist).
    let o = urne()
        .args(["trustee", "decrypt", "--election", ID, "--index", "1"])
        .arg("--secret")
        .arg(&secret)
        .args(["--record", "/nonexistent/record.jsonl", "--out"])
        .arg(&out)
        .env("URNE_PASSPHRASE", "a wrong passphrase")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));
    assert!(!out.exists());
    // Online: the server is never contacted (nothing listens on port 9 of loopback here; a
    // connection attempt would fail differently).
    let o = urne()
        .args(["trustee", "decrypt", "--election", ID, "--index", "1"])
        .arg("--secret")
        .arg(&secret)
        .args(["--server", "http://127.0.0.1:9"])
        .env("URNE_PASSPHRASE", "a wrong passphrase")
        .env("URNE_INVITATION", "an invitation")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));
    // Without an invitation, online steps stop before asking for anything.
    let o = urne()
        .args(["trustee", "decrypt", "--election", ID, "--index", "1"])
        .arg("--secret")
        .arg(&secret)
        .args(["--server", "http://127.0.0.1:9"])
        .env("URNE_PASSPHRASE", "the right passphrase")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("URNE_INVITATION"), "{}", text(&o));
}

/// Not a test: makes the record that docs and reports time `urne trustee decrypt` on. With
/// `URNE_TIMING_DIR` (an empty directory) and `URNE_TIMING_VOTERS` (default 2000), an election
/// with two independent trustee keys gets one ballot per voter and its tally; the record, cut
/// after the tally, goes to `DIR/record.jsonl` and trustee 1's secret file to
/// `DIR/independent-e2e-trustee-1/trustee-1.secret` (passphrase `passphrase of trustee 1`). Run
/// with `cargo test -p urne-cli --test trustee_online -- --ignored record_for_timing`.
#[test]
#[ignore = "makes a record for timing by hand"]
fn record_for_timing() {
    let dir = PathBuf::from(std::env::var("URNE_TIMING_DIR").unwrap());
    let voters: usize = std::env::var("URNE_TIMING_VOTERS").map_or(2000, |v| v.parse().unwrap());
    let (server, admin) = Server::start(&dir);
    let names = ["Ada", "Grace"];
    let trustees = create_election(&server, &admin, &dir, INDEPENDENT, &names, 2);
    for t in &trustees {
        let o = t.new_identity(names[t.index as usize - 1], &server);
        assert!(o.status.success(), "{}", text(&o));
    }
    let (credentials, _) = seal(&server, &admin, INDEPENDENT, voters);
    let votes: Vec<QuestionVote> = (0..voters)
        .map(|i| QuestionVote::Selected(vec![i % 3]))
        .collect();
    vote_and_tally(&server, &admin, INDEPENDENT, &credentials, &votes);
    server.export(INDEPENDENT, &dir.join("record.jsonl"));
}
