//! Test support for the tests that hold a whole election through `urne serve`
//! (support/server.rs, which the including test file declares as `mod server`): trustees running
//! `urne trustee … --server`, the administrator's steps (draft and setup, the credentials and the
//! seal, the votes and the tally, the publication), the mixed result checked against the votes in
//! the clear, and the exported record checked by `urne verify`.

// Each test file that includes this module uses only some of its items.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use urne_core::ballot::{Ballot, QuestionVote};
use urne_core::credential::{Credential, PublicCredential};
use urne_core::election::Election;
use urne_core::manifest::Manifest;
use urne_core::mix::count_mixed;
use urne_core::tally::MixedResult;
use urne_verify::simulate::mix_values;

use super::server::{Server, text, urne};

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// One trustee: its election, directory, passphrase and invitation.
pub struct Trustee {
    pub election: String,
    pub index: u32,
    pub dir: PathBuf,
    pub invitation: String,
}

impl Trustee {
    /// The trustees of `setup` (the answer of POST …/setup), one per invitation, each with the
    /// directory `dir(index)`, created.
    pub fn invited(setup: &Value, election: &str, dir: impl Fn(u32) -> PathBuf) -> Vec<Trustee> {
        setup["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, inv)| {
                let index = i as u32 + 1;
                let dir = dir(index);
                std::fs::create_dir_all(&dir).unwrap();
                Trustee {
                    election: election.to_owned(),
                    index,
                    dir,
                    invitation: inv.as_str().unwrap().to_owned(),
                }
            })
            .collect()
    }

    pub fn passphrase(&self) -> String {
        format!("passphrase of trustee {}", self.index)
    }

    pub fn secret(&self) -> PathBuf {
        self.dir.join(format!("trustee-{}.secret", self.index))
    }

    /// Runs `urne trustee CMD --election ID --index I ARGS`, with `passphrase` and this
    /// trustee's invitation in the environment.
    pub fn run_with_passphrase(&self, cmd: &str, args: &[&str], passphrase: &str) -> Output {
        urne()
            .args(["trustee", cmd, "--election", &self.election, "--index"])
            .arg(self.index.to_string())
            .args(args)
            .env("URNE_PASSPHRASE", passphrase)
            .env("URNE_INVITATION", &self.invitation)
            .output()
            .unwrap()
    }

    /// [`Trustee::run_with_passphrase`] with this trustee's passphrase.
    pub fn run_with(&self, cmd: &str, args: &[&str]) -> Output {
        self.run_with_passphrase(cmd, args, &self.passphrase())
    }

    /// [`Trustee::run_with`], which must succeed without printing the passphrase or the
    /// invitation; its output.
    pub fn run(&self, cmd: &str, args: &[&str]) -> String {
        let o = self.run_with(cmd, args);
        let out = text(&o);
        assert!(o.status.success(), "trustee {} {cmd}: {out}", self.index);
        assert!(
            !out.contains(&self.invitation) && !out.contains(&self.passphrase()),
            "a secret was printed: {out}"
        );
        out
    }

    /// `urne trustee CMD --server BASE --secret FILE ARGS`, whatever its outcome.
    pub fn try_online(&self, cmd: &str, server: &Server, args: &[&str]) -> Output {
        let secret = self.secret();
        let online = [
            "--server",
            &server.base,
            "--secret",
            secret.to_str().unwrap(),
        ];
        self.run_with(cmd, &[&online[..], args].concat())
    }

    /// A step online with this trustee's secret file, which must succeed: the ceremony's steps
    /// with a small KDF, the decryptions and the shuffle `--quiet`, and the mix phase's uploads
    /// in chunks of two rows (several requests per shuffle and per trustee).
    pub fn online(&self, cmd: &str, server: &Server) -> String {
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
            args.extend(["--chunk-rows", "2"]);
        }
        self.run(cmd, &args)
    }

    /// `urne trustee new-identity` online, as `name`.
    pub fn new_identity(&self, name: &str, server: &Server) -> Output {
        self.run_with(
            "new-identity",
            &[
                "--name",
                name,
                "--out",
                self.dir.to_str().unwrap(),
                "--server",
                &server.base,
                "--kdf-memory-kib",
                "1024",
            ],
        )
    }
}

/// The administrator drafts election `id` and freezes it: the answer of its setup, with the
/// trustees' invitations.
pub fn create(server: &Server, admin: &str, id: &str, draft: &Value) -> Value {
    server.admin(
        "POST",
        "/elections",
        admin,
        &json!({ "id": id, "draft": draft }),
    );
    server.admin("POST", &format!("/elections/{id}/setup"), admin, &json!({}))
}

/// The credential authority's list of `voters` credentials, then the seal: the credentials and
/// the seal's answer.
pub fn seal(server: &Server, admin: &str, id: &str, voters: usize) -> (Vec<Credential>, Value) {
    let credentials: Vec<Credential> = (0..voters)
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
        admin,
        &json!({ "credentials": list }),
    );
    let sealed = server.admin("POST", &format!("/elections/{id}/seal"), admin, &json!({}));
    (credentials, sealed)
}

/// Opening, one ballot per credential (`votes[i]` answers every question), closing and the
/// tally; the sealed manifest.
pub fn vote_and_tally(
    server: &Server,
    admin: &str,
    id: &str,
    credentials: &[Credential],
    votes: &[Vec<QuestionVote>],
) -> Manifest {
    server.admin("POST", &format!("/elections/{id}/open"), admin, &json!({}));
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
    server.admin("POST", &format!("/elections/{id}/close"), admin, &json!({}));
    server.admin("POST", &format!("/elections/{id}/tally"), admin, &json!({}));
    manifest
}

/// The administrator publishes the result of election `id`.
pub fn publish(server: &Server, admin: &str, id: &str) {
    server.admin(
        "POST",
        &format!("/elections/{id}/publish"),
        admin,
        &json!({}),
    );
}

/// The published result of each ranked or graded question (every question but the first) is the
/// count of `votes` in the clear.
pub fn assert_mixed_result(
    server: &Server,
    id: &str,
    manifest: &Manifest,
    votes: &[Vec<QuestionVote>],
) {
    let result = &server.election(id)["result"];
    let rows: Vec<Vec<u64>> = votes
        .iter()
        .map(|v| mix_values(&manifest.questions, v))
        .collect();
    let expected = count_mixed(manifest, &rows).unwrap();
    for (qi, e) in expected.iter().enumerate().skip(1) {
        let got: Option<MixedResult> =
            serde_json::from_value(result["questions"][qi]["mixed"].clone()).unwrap();
        assert_eq!(got, *e, "question {qi}");
    }
}

/// Exports the record of election `id` to `dir/record.jsonl`, and `urne verify` finds it VALID.
pub fn verify_record(server: &Server, id: &str, dir: &Path) {
    let record = dir.join("record.jsonl");
    server.export(id, &record);
    let o = urne()
        .args(["verify", "--quiet"])
        .arg(&record)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("VALID"), "{}", text(&o));
}
