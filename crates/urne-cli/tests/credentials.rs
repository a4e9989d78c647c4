//! `urne credentials` end to end, through the real binary: generate from a roll, replace a lost
//! credential, mail the credentials into a Maildir.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use urne_core::credential::{Credential, PublicCredential, list_fingerprint};
use urne_core::group::Point;

const ELECTION: &str = "agm-2026";

fn urne(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// A roll of five voters, one of them with a name that needs quoting, with several weights.
fn roll(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("voters.csv");
    fs::write(
        &path,
        "id,email,name,weight,lang\n\
         m-001,ada@example.org,\"Lovelace, Ada\",3,en\n\
         m-002,alan@example.org,Alan Turing,1,\n\
         m-003,grace@example.org,,2,fr\n\
         m-004,edsger@example.org,Edsger,1,fr\n\
         m-005,barbara@example.org,Barbara,7,en\n",
    )
    .unwrap();
    path
}

/// One line of the private file.
struct Line {
    voter: String,
    email: String,
    name: String,
    lang: String,
    weight: u64,
    credential: Credential,
}

fn private_lines(path: &Path) -> Vec<Line> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["voter_id", "email", "name", "lang", "weight", "credential"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            Line {
                voter: rec[0].to_owned(),
                email: rec[1].to_owned(),
                name: rec[2].to_owned(),
                lang: rec[3].to_owned(),
                weight: rec[4].parse().unwrap(),
                credential: Credential::parse(&rec[5]).unwrap(),
            }
        })
        .collect()
}

fn public_list(path: &Path) -> Vec<PublicCredential> {
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["credentials"],
        "exactly the body of the server's credential upload"
    );
    serde_json::from_value(v["credentials"].clone()).unwrap()
}

fn generate(dir: &Path) -> (Output, std::path::PathBuf) {
    let roll = roll(dir);
    let out = dir.join("out");
    let o = urne(&[
        "credentials",
        "generate",
        "--election",
        ELECTION,
        "--roll",
        roll.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    (o, out)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn generate_writes_a_sorted_public_list_and_an_owner_only_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = generate(dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let public_path = out.join("public-credentials.json");
    let private_path = out.join("private-credentials.csv");

    let list = public_list(&public_path);
    assert_eq!(list.len(), 5);
    assert!(
        list.windows(2)
            .all(|w| w[0].credential.as_bytes() < w[1].credential.as_bytes()),
        "sorted by X's encoding"
    );
    let fingerprint = list_fingerprint(&list).to_string();
    assert!(
        stdout.contains(&format!("fingerprint {fingerprint}")),
        "{stdout}"
    );
    assert!(stdout.contains("5 credentials"), "{stdout}");
    assert!(stdout.contains("total weight 14"), "{stdout}");

    let lines = private_lines(&private_path);
    let voters: Vec<&str> = lines.iter().map(|l| l.voter.as_str()).collect();
    assert_eq!(voters, ["m-001", "m-002", "m-003", "m-004", "m-005"]);
    assert_eq!(lines[0].name, "Lovelace, Ada");
    assert_eq!(lines[0].email, "ada@example.org");
    assert_eq!(
        (lines[1].name.as_str(), lines[1].lang.as_str()),
        ("Alan Turing", "")
    );
    assert_eq!((lines[2].name.as_str(), lines[2].lang.as_str()), ("", "fr"));
    let weights: Vec<u64> = lines.iter().map(|l| l.weight).collect();
    assert_eq!(weights, [3, 1, 2, 1, 7]);
    // Each credential gives exactly one entry of the public list, with its voter's weight.
    let by_x: HashMap<[u8; 32], u64> = list
        .iter()
        .map(|c| (*c.credential.as_bytes(), c.weight))
        .collect();
    assert_eq!(by_x.len(), 5);
    for l in &lines {
        let x = *l.credential.derive_key(ELECTION).public();
        assert_eq!(by_x.get(x.as_bytes()), Some(&l.weight), "voter {}", l.voter);
        assert!(
            !stdout.contains(l.credential.display().as_str()),
            "a credential was printed"
        );
    }
    #[cfg(unix)]
    assert_eq!(mode(&private_path), 0o600);

    // A second run never overwrites: it fails and leaves both files as they were.
    let before = (
        fs::read(&private_path).unwrap(),
        fs::read(&public_path).unwrap(),
    );
    let (o, _) = generate(dir.path());
    assert!(!o.status.success());
    assert!(text(&o).contains("never overwritten"), "{}", text(&o));
    let after = (
        fs::read(&private_path).unwrap(),
        fs::read(&public_path).unwrap(),
    );
    assert_eq!(before, after);
}

#[test]
fn generate_reads_a_json_roll() {
    let dir = tempfile::tempdir().unwrap();
    let roll = dir.path().join("voters.json");
    fs::write(
        &roll,
        r#"[{"id":"a","email":"a@example.org"},{"id":"b","email":"b@example.org","weight":4}]"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = urne(&[
        "credentials",
        "generate",
        "--election",
        ELECTION,
        "--roll",
        roll.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let mut weights: Vec<u64> = public_list(&out.join("public-credentials.json"))
        .iter()
        .map(|c| c.weight)
        .collect();
    weights.sort();
    assert_eq!(weights, [1, 4]);
}

#[test]
fn rejects_roll_with_errors_listing_each_and_writing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let roll = dir.path().join("voters.csv");
    fs::write(
        &roll,
        "id,email,weight\n\
         m-001,ada@example.org,1\n\
         m-002,not-an-address,1\n\
         m-003,grace@example.org,many\n\
         m-001,edsger@example.org,1\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = urne(&[
        "credentials",
        "generate",
        "--election",
        ELECTION,
        "--roll",
        roll.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    for line in ["line 3, email", "line 4, weight", "line 5, id"] {
        assert!(stderr.contains(line), "no `{line}` in:\n{stderr}");
    }
    assert!(stderr.contains("3 errors"), "{stderr}");
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn replace_gives_a_voter_a_new_credential_and_the_servers_request() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = generate(dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let private_path = out.join("private-credentials.csv");
    let before = private_lines(&private_path);
    let old_x = *before[2].credential.derive_key(ELECTION).public();

    let o = urne(&[
        "credentials",
        "replace",
        "--private",
        private_path.to_str().unwrap(),
        "--voter",
        "m-003",
        "--election",
        ELECTION,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let after = private_lines(&private_path);
    #[cfg(unix)]
    assert_eq!(mode(&private_path), 0o600);
    assert_eq!(after.len(), before.len());
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        assert_eq!((&b.voter, b.weight), (&a.voter, a.weight));
        assert_eq!(b.credential == a.credential, i != 2, "line of {}", a.voter);
    }
    let xs: Vec<Point> = after
        .iter()
        .map(|l| *l.credential.derive_key(ELECTION).public())
        .collect();
    assert!(
        !xs.contains(&old_x),
        "the old credential is still in the private file"
    );

    let request: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("replacement-m-003.json")).unwrap())
            .unwrap();
    assert_eq!(request["revoke"], serde_json::to_value(old_x).unwrap());
    let new: PublicCredential = serde_json::from_value(request["credential"].clone()).unwrap();
    assert_eq!(new.credential, xs[2]);
    assert_eq!(new.weight, 2);
    assert_eq!(request.as_object().unwrap().len(), 2);

    // A second replacement of the same voter revokes the first replacement's credential.
    let o = urne(&[
        "credentials",
        "replace",
        "--private",
        private_path.to_str().unwrap(),
        "--voter",
        "m-003",
        "--election",
        ELECTION,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let again: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("replacement-m-003-2.json")).unwrap())
            .unwrap();
    assert_eq!(again["revoke"], serde_json::to_value(xs[2]).unwrap());

    // The authority's eligible list (its own, each replaced entry exchanged) has the fingerprint
    // that `replace` and `fingerprint` print.
    let eligible: Vec<PublicCredential> = private_lines(&private_path)
        .iter()
        .map(|l| PublicCredential {
            credential: *l.credential.derive_key(ELECTION).public(),
            weight: l.weight,
        })
        .collect();
    let expected = list_fingerprint(&eligible).to_string();
    assert!(
        text(&o).contains(&format!("fingerprint {expected}")),
        "{}",
        text(&o)
    );
    let public_path = out.join("public-credentials.json");
    let o = urne(&["credentials", "fingerprint", public_path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("fingerprint {expected}")),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("with the 2 replacements beside it"),
        "{}",
        text(&o)
    );

    // The wrong election id is caught: no credential of the file gives its X there.
    let o = urne(&[
        "credentials",
        "replace",
        "--private",
        private_path.to_str().unwrap(),
        "--voter",
        "m-001",
        "--election",
        "another-election",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("is --election right?"), "{}", text(&o));
    assert!(!out.join("replacement-m-001.json").exists());
}

/// The plain-text part of a message.
fn plain_text(raw: &[u8]) -> String {
    let m = mailparse::parse_mail(raw).unwrap();
    let part = m
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .unwrap();
    part.get_body().unwrap()
}

#[test]
fn mail_puts_one_message_per_voter_with_its_own_credential_into_a_maildir() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = generate(dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let private_path = out.join("private-credentials.csv");
    let lines = private_lines(&private_path);
    let maildir = dir.path().join("outbox");
    let mail = |extra: &[&str]| {
        let mut args = vec![
            "credentials",
            "mail",
            "--private",
            private_path.to_str().unwrap(),
            "--election",
            ELECTION,
            "--title",
            "Annual general meeting",
            "--opens-at",
            "2026-12-01T08:00:00Z",
            "--closes-at",
            "2026-12-02T18:00:00Z",
            "--public-url",
            "https://vote.example.org",
            "--outbox-maildir",
            maildir.to_str().unwrap(),
            "--from",
            "urne <noreply@example.org>",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        urne(&args)
    };
    let o = mail(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("sent        5"), "{}", text(&o));

    let messages: Vec<Vec<u8>> = fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(messages.len(), 5);
    for l in &lines {
        let mine: Vec<&Vec<u8>> = messages
            .iter()
            .filter(|m| {
                let to = mailparse::parse_mail(m)
                    .unwrap()
                    .headers
                    .iter()
                    .find(|h| h.get_key() == "To")
                    .unwrap()
                    .get_value();
                to.contains(&l.email)
            })
            .collect();
        assert_eq!(mine.len(), 1, "one message to {}", l.email);
        let body = plain_text(mine[0]);
        assert!(
            body.contains(&format!("#credential={}", l.credential.display().as_str())),
            "{} does not get its credential",
            l.voter
        );
        for other in lines.iter().filter(|o| o.voter != l.voter) {
            assert!(!body.contains(other.credential.display().as_str()));
        }
    }
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("delivery-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["sent"].as_array().unwrap().len(), 5);
    assert_eq!(report["failed"], serde_json::json!([]));

    // Resending to one voter sends one message.
    let o = mail(&["--voter", "m-004"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read_dir(maildir.join("new")).unwrap().count(), 6);
    let o = mail(&["--voter", "nobody"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no voter `nobody`"), "{}", text(&o));
}

/// `urne credentials mail` of the private file `private` into the Maildir `maildir`, for the
/// election given by flags (no server), with `extra` arguments (its `--from` among them).
fn mail_into(private: &Path, maildir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "credentials",
        "mail",
        "--private",
        private.to_str().unwrap(),
        "--election",
        ELECTION,
        "--title",
        "AGM",
        "--opens-at",
        "2026-12-01T08:00:00Z",
        "--closes-at",
        "2026-12-02T18:00:00Z",
        "--public-url",
        "https://vote.example.org",
        "--outbox-maildir",
        maildir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    urne(&args)
}

#[test]
fn mail_reports_failures_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = generate(dir.path());
    assert!(o.status.success(), "{}", text(&o));
    // A Maildir that cannot be made: a file stands where it should be.
    let blocked = dir.path().join("blocked");
    fs::write(&blocked, "not a directory").unwrap();
    let o = mail_into(
        &out.join("private-credentials.csv"),
        &blocked,
        &["--from", "noreply@example.org", "--quiet"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let s = text(&o);
    assert!(s.contains("To send again"), "{s}");
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("delivery-report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["failed"].as_array().unwrap().len() + report["bounced"].as_array().unwrap().len(),
        5
    );
}

#[test]
fn mail_refuses_a_bad_sender_before_writing_any_letter() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = generate(dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let maildir = dir.path().join("outbox");
    let private = out.join("private-credentials.csv");
    for (flag, value) in [
        ("--from", "urne <noreply@example.org"),
        ("--reply-to", "help desk"),
    ] {
        let mut extra = vec![flag, value];
        if flag != "--from" {
            extra.extend(["--from", "noreply@example.org"]);
        }
        let o = mail_into(&private, &maildir, &extra);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", text(&o));
        let s = text(&o);
        let field = flag.trim_start_matches("--").replace('-', "_");
        assert!(s.contains(&format!("{field}: `{value}`")), "{flag}: {s}");
        assert!(!maildir.exists(), "{flag}: no letter written");
        assert!(
            !out.join("delivery-report.json").exists(),
            "{flag}: no report"
        );
    }
}

#[test]
fn fingerprint_of_a_record_is_that_of_its_credential_lines() {
    let record = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/records/v1-demo-12-voters.jsonl");
    let mut list = Vec::new();
    for line in fs::read_to_string(&record).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["type"] == "credential" {
            list.push(PublicCredential {
                credential: serde_json::from_value(v["credential"].clone()).unwrap(),
                weight: v["weight"].as_u64().unwrap(),
            });
        }
    }
    assert!(list.len() >= 12);
    let o = urne(&["credentials", "fingerprint", record.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("fingerprint {}", list_fingerprint(&list))),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains(&format!("{} credentials", list.len())),
        "{}",
        text(&o)
    );
}
