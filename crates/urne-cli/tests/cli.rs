//! The `urne` binary end to end: the demo, and `urne verify` on files, directories, URLs and
//! snapshots, with its exit codes (0 valid, 1 invalid, 2 unreadable).

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn urne(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(args)
        .output()
        .unwrap()
}

fn frozen() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/records/v1-demo-12-voters.jsonl")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn demo_runs_an_election_and_its_record_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("election");
    let o = urne(&[
        "demo",
        "--voters",
        "40",
        "--seed",
        "3",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let s = text(&o);
    for phase in [
        "server", "draft", "trustees", "open", "casting", "close", "tally", "decrypt", "publish",
        "verify", "total",
    ] {
        assert!(
            s.contains(&format!("  {phase} ")),
            "no {phase} phase in:\n{s}"
        );
    }
    assert!(
        s.contains("the result equals the count of the 40 voters'"),
        "{s}"
    );
    let o = urne(&["verify", "--quiet", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("VALID"));
}

#[test]
fn verify_reports_valid_record_as_json() {
    let o = urne(&["verify", "--json", frozen().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["report"]["complete"], true);
    // Every check of spec §10 is reported, V-1 to V-23.
    let checks = doc["report"]["checks"].as_array().unwrap();
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=23).map(|i| format!("V-{i}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn verify_exits_1_on_a_tampered_record_naming_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    let record = std::fs::read_to_string(frozen()).unwrap();
    // Change one count of the published result.
    let tampered = record.replacen("{\"counts\":[3,2,5,1,1]", "{\"counts\":[3,2,6,1,1]", 1);
    assert_ne!(tampered, record);
    std::fs::write(&bad, tampered).unwrap();
    let o = urne(&["verify", "--quiet", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let s = text(&o);
    assert!(s.contains("V-17") && s.contains("INVALID"), "{s}");
}

#[test]
fn verify_exits_2_when_the_record_cannot_be_read() {
    let o = urne(&["verify", "/nonexistent/record.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("opening /nonexistent/record.jsonl"));
}

#[test]
fn verify_since_accepts_an_extension_and_rejects_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let record = std::fs::read_to_string(frozen()).unwrap();
    let lines: Vec<&str> = record.lines().collect();
    // A snapshot: the first 20 lines and their tree head, made by the verifier's own writer.
    let mut tree = urne_verify::merkle::MerkleBuilder::new();
    let mut snapshot = String::new();
    for l in &lines[..20] {
        tree.push(urne_verify::merkle::leaf_hash(l.as_bytes()));
        snapshot += l;
        snapshot += "\n";
    }
    let head = urne_verify::record::TreeHead {
        size: 20,
        root: tree.root(),
    };
    let (line, _) =
        urne_verify::record::encode_line(20, &urne_verify::record::Entry::TreeHead(head));
    snapshot += std::str::from_utf8(&line).unwrap();
    snapshot += "\n";
    let old = dir.path().join("old.jsonl");
    std::fs::write(&old, &snapshot).unwrap();
    let o = urne(&[
        "verify",
        "--quiet",
        "--since",
        old.to_str().unwrap(),
        frozen().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("its first 20 lines are unchanged"));
    // The same snapshot against a record whose credential line 5 was rewritten.
    let rewritten = record.replacen(lines[4], lines[5], 1);
    let new = dir.path().join("new.jsonl");
    std::fs::write(&new, rewritten).unwrap();
    let o = urne(&[
        "verify",
        "--quiet",
        "--since",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("does NOT extend"), "{}", text(&o));
}

#[test]
fn verify_downloads_a_record_from_a_url() {
    let body = std::fs::read(frozen()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        // Serves exactly one request, then stops.
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        let _ = reader.read(&mut [0u8; 1]);
    });
    let url = format!("http://{addr}/record.jsonl");
    let o = urne(&["verify", "--quiet", &url]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("VALID"));
    server.join().unwrap();
}

fn urne_with_passphrase(args: &[&str], passphrase: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(args)
        .env("URNE_PASSPHRASE", passphrase)
        .output()
        .unwrap()
}

#[test]
fn trustee_key_is_created_encrypted_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let create = [
        "trustee",
        "new-identity",
        "--election",
        "agm-2027",
        "--index",
        "2",
        "--name",
        "Grace",
        "--out",
        out,
    ];
    let mut args = create.to_vec();
    args.extend(["--kdf-memory-kib", "1024"]);
    let o = urne_with_passphrase(&args, "correct horse battery staple");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Next: send the public file"));
    let secret = dir.path().join("trustee-2.secret");
    let public = dir.path().join("trustee-2.public.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (s, p) = (secret.to_str().unwrap(), public.to_str().unwrap());
    let check = [
        "trustee",
        "check-identity",
        "--election",
        "agm-2027",
        "--index",
        "2",
        "--secret",
        s,
        "--public",
        p,
    ];
    let o = urne_with_passphrase(&check, "correct horse battery staple");
    assert!(o.status.success(), "{}", text(&o));
    // A wrong passphrase gives a clear error and exit code 2.
    let o = urne_with_passphrase(&check, "correct horse battery stapler");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));
    // The proof is bound to the election and index.
    let mut other = check.to_vec();
    other[3] = "agm-2028";
    let o = urne_with_passphrase(&other, "correct horse battery staple");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("proof does not verify"), "{}", text(&o));
    // Creating again never overwrites the key.
    let o = urne_with_passphrase(&args, "another passphrase here");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("exists already"));
}

/// Runs a whole 2-of-3 ceremony through files, each trustee with its own passphrase; `tamper`
/// may alter the ceremony directory after the dealings. Returns each trustee's `finalize` output.
fn file_ceremony(tamper: impl Fn(&Path)) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (keys, shared) = (dir.path().join("keys"), dir.path().join("ceremony"));
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::create_dir_all(&shared).unwrap();
    let pass = |i: u32| format!("passphrase of trustee {i}");
    for i in 1..=3u32 {
        let idx = i.to_string();
        let args = [
            "trustee",
            "new-identity",
            "--election",
            "e-2027",
            "--index",
            &idx,
            "--name",
            &format!("T{i}"),
        ];
        let mut args = args.to_vec();
        args.extend(["--out", keys.to_str().unwrap(), "--kdf-memory-kib", "1024"]);
        assert!(urne_with_passphrase(&args, &pass(i)).status.success());
    }
    let publics: Vec<String> = (1..=3)
        .map(|i| {
            keys.join(format!("trustee-{i}.public.json"))
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let step = |cmd: &str, i: u32| {
        let idx = i.to_string();
        let secret = keys.join(format!("trustee-{i}.secret"));
        let mut args = vec![
            "trustee",
            cmd,
            "--election",
            "e-2027",
            "--index",
            &idx,
            "--threshold",
            "2",
        ];
        args.extend([
            "--secret",
            secret.to_str().unwrap(),
            "--dir",
            shared.to_str().unwrap(),
        ]);
        args.extend(["--kdf-memory-kib", "1024", "--trustees"]);
        args.extend(publics.iter().map(String::as_str));
        let o = urne_with_passphrase(&args, &pass(i));
        assert!(o.status.success(), "{cmd} {i}: {}", text(&o));
        text(&o)
    };
    for i in 1..=3 {
        step("deal", i);
    }
    tamper(&shared);
    for cmd in ["complain", "answer"] {
        for i in 1..=3 {
            step(cmd, i);
        }
    }
    let out: Vec<String> = (1..=3).map(|i| step("finalize", i)).collect();
    for i in 1..=3 {
        assert!(keys.join(format!("trustee-{i}.share.secret")).exists());
    }
    out
}

fn election_key(finalize_output: &str) -> String {
    finalize_output
        .lines()
        .find_map(|l| l.trim().strip_prefix("election key "))
        .unwrap()
        .to_owned()
}

#[test]
fn trustees_run_a_2_of_3_ceremony_through_files() {
    let out = file_ceremony(|_| {});
    let key = election_key(&out[0]);
    assert!(
        out.iter()
            .all(|o| election_key(o) == key && o.contains("qualified    [1, 2, 3]")),
        "{out:#?}"
    );
    // A dealing altered in transit no longer bears its dealer's signature: it is set aside and
    // its dealer, left without a dealing, is disqualified; the others still agree on a key.
    let out = file_ceremony(|dir| {
        let path = dir.join("dealing-2.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut d: serde_json::Value = serde_json::from_str(&text).unwrap();
        let shares = d["shares"].as_array_mut().unwrap();
        shares.swap(0, 2);
        std::fs::write(&path, d.to_string()).unwrap();
    });
    let key = election_key(&out[0]);
    for o in &out {
        assert_eq!(election_key(o), key);
        assert!(
            o.contains("qualified    [1, 3]") && o.contains("disqualified trustee 2: NoDealing"),
            "{o}"
        );
    }
}
