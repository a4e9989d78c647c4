//! The booth end to end in headless Chromium (issue #7): runs web/e2e/ (node's test runner,
//! playwright-core driving Debian's chromium) against this build's `urne`, which the tests start
//! as `urne demo --keep-open`: one voter logs in and votes through the booth with the keyboard,
//! the receipt is checked in the page, the ballot is found on the board and `urne verify`
//! accepts the board; the pages' headers are checked and a 1-of-5 ballot is timed in Chromium.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core) and /usr/bin/chromium
//! (or URNE_CHROMIUM). Without them it is skipped with a message, unless URNE_REQUIRE_BROWSER=1
//! (set by scripts/test.sh when it installed them, and needed under CI), where it fails.
//! With URNE_SCREENSHOTS=DIR, the booth's screenshots are written there (docs/screenshots).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests unwrap what must succeed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is missing to run the browser tests, if anything.
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
fn a_voter_votes_through_the_booth_in_headless_chromium() {
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
        .args(["--test", "--test-reporter=tap", "e2e/"])
        .current_dir(&web)
        .env("URNE_BIN", env!("CARGO_BIN_EXE_urne"))
        .env("URNE_CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The timings the tests print, for the test's output (cargo test --nocapture).
    for line in stdout.lines().filter(|l| l.contains("ms")) {
        eprintln!("{line}");
    }
    assert!(out.status.success(), "web/e2e failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("# pass 3") && stdout.contains("# fail 0"),
        "web/e2e did not run its three tests:\n{stdout}"
    );
}
