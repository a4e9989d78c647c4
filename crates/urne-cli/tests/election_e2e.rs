//! A whole election end to end in headless Chromium (issue #7): runs web/e2e/election.e2e.js
//! (node's test runner, playwright-core driving Debian's chromium) against this build's `urne`.
//! The test starts `urne serve`; the organizer drafts an election through the admin API with a
//! roll of 20 voters, one trustee registers with `urne trustee new-identity --server`, the
//! credential authority generates and mails the credentials, the election is sealed and opened;
//! 20 voters vote through the booth, each in a fresh browser context (one audits a first
//! encryption, another votes twice); the organizer tallies, the trustee decrypts through the
//! server, the result is published, the results page shows the counts of each voter's last
//! choices and `urne verify` accepts the exported record.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core) and /usr/bin/chromium
//! (or URNE_CHROMIUM). Without them it is skipped with a message, unless URNE_REQUIRE_BROWSER=1
//! (set by scripts/test.sh when it installed them, and needed under CI), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests unwrap what must succeed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is missing to run the browser test, if anything.
fn missing(web: &Path, chromium: &Path) -> Option<&'static str> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Some("`node` is not installed"),
    }
    if !web
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Some("web/node_modules/playwright-core is missing (run `npm ci` in web/)");
    }
    if !chromium.is_file() {
        return Some("chromium is not installed (apt-get install chromium)");
    }
    None
}

#[test]
fn twenty_voters_vote_through_the_booth_and_the_published_record_verifies() {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let chromium =
        PathBuf::from(std::env::var("URNE_CHROMIUM").unwrap_or("/usr/bin/chromium".into()));
    if let Some(what) = missing(&web, &chromium) {
        let required = std::env::var("URNE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(!required, "URNE_REQUIRE_BROWSER=1 but {what}");
        eprintln!("skipped: {what}; set URNE_REQUIRE_BROWSER=1 to make this an error");
        return;
    }
    let out = Command::new("node")
        .args(["--test", "--test-reporter=tap", "e2e/election.e2e.js"])
        .current_dir(&web)
        .env("URNE_BIN", env!("CARGO_BIN_EXE_urne"))
        .env("URNE_CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The phases' times, for the test's output (cargo test --nocapture).
    for line in stdout.lines().filter(|l| l.ends_with(" s")) {
        eprintln!("{line}");
    }
    assert!(
        out.status.success(),
        "web/e2e/election.e2e.js failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("# pass 1") && stdout.contains("# fail 0"),
        "web/e2e/election.e2e.js did not run its test:\n{stdout}"
    );
}
