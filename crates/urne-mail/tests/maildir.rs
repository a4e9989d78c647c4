//! The development outbox: a Maildir folder that any mail client can open.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

mod common;

use std::time::Duration;

use common::{credential_letters, credential_shaped, parse, read_maildir, sender};
use urne_mail::{DeliverOptions, Outbox, RetryPolicy, deliver};

#[test]
fn letters_land_in_new_and_parse() {
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("outbox");
    let (letters, credentials) = credential_letters(25);
    let options = DeliverOptions {
        retry: RetryPolicy {
            max_attempts: 2,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        },
        per_second: f64::INFINITY,
        connections: 3,
    };
    let report = deliver(
        letters,
        &sender(),
        &Outbox::Maildir(outbox_dir.clone()),
        &options,
        &|_| {},
    );
    assert_eq!(report.sent.len(), 25, "{report:?}");
    assert!(report.failed.is_empty() && report.bounced.is_empty());
    assert_eq!(
        std::fs::read_dir(outbox_dir.join("tmp")).unwrap().count(),
        0
    );
    assert!(outbox_dir.join("cur").is_dir());
    let names: Vec<String> = std::fs::read_dir(outbox_dir.join("new"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 25);
    for n in &names {
        assert!(
            !n.contains(':') && !n.contains('/') && !n.starts_with('.'),
            "{n}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let entry = outbox_dir.join("new").join(&names[0]);
        let mode = std::fs::metadata(entry).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "messages hold credentials: owner only");
    }
    let mut seen = [false; 25];
    for raw in read_maildir(&outbox_dir) {
        let m = parse(&raw);
        let i: usize = m.headers["to"]
            .strip_prefix('v')
            .and_then(|r| r.strip_suffix("@example.org"))
            .and_then(|r| r.parse().ok())
            .unwrap();
        assert!(!seen[i]);
        seen[i] = true;
        let found = credential_shaped(&m.text);
        assert!(!found.is_empty());
        assert!(found.iter().all(|c| c == credentials[i].as_str()));
    }
}

#[test]
fn unwritable_maildir_is_reported_failed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let (letters, _) = credential_letters(3);
    let report = deliver(
        letters,
        &sender(),
        &Outbox::Maildir(file.join("outbox")),
        &DeliverOptions::default(),
        &|_| {},
    );
    assert!(report.sent.is_empty());
    assert_eq!(report.failed.len(), 3);
    assert!(report.failed[0].1.contains("maildir"), "{report:?}");
}
