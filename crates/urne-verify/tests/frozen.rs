//! Frozen records: records written by earlier versions of urne must keep verifying, with the
//! same fingerprint, tree head and result. A change that breaks one breaks compatibility.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde_json::Value;
use urne_verify::{Options, verify};

#[test]
fn frozen_records_still_verify() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/records");
    let expected: Value =
        serde_json::from_reader(File::open(dir.join("expected.json")).unwrap()).unwrap();
    let records = expected["records"].as_object().unwrap();
    let on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    assert!(
        !on_disk.is_empty(),
        "no frozen record under {}",
        dir.display()
    );
    for name in &on_disk {
        assert!(
            records.contains_key(name),
            "{name} has no entry in expected.json"
        );
    }
    for (name, want) in records {
        for batch in [true, false] {
            let file = BufReader::new(File::open(dir.join(name)).unwrap());
            let r = verify(
                file,
                &Options {
                    batch,
                    ..Options::default()
                },
                &|_| {},
            )
            .unwrap();
            assert!(r.valid && r.complete, "{name}: {:#?}", r.failures);
            assert_eq!(
                r.fingerprint.as_deref(),
                want["fingerprint"].as_str(),
                "{name}"
            );
            assert_eq!(r.root.as_deref(), want["root"].as_str(), "{name}");
            assert_eq!(
                r.ballots_cast,
                want["ballots_cast"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                r.ballots_counted,
                want["ballots_counted"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                serde_json::to_value(&r.result).unwrap(),
                want["result"],
                "{name}"
            );
            // Revoked credentials (spec §5.5): none in the records made before revocations were.
            assert_eq!(r.revoked, want["revoked"].as_u64().unwrap_or(0), "{name}");
            if let Some(eligible) = want["credentials"].as_u64() {
                assert_eq!(r.credentials, eligible, "{name}");
            }
        }
    }
}
