//! The public pages end to end in headless Chromium (issue #7): runs web/e2e/pages.e2e.js (node's
//! test runner, playwright-core driving Debian's chromium) against this build's `urne`. The test
//! runs `urne demo` to a published result and serves its data with `urne serve`: the results
//! page shows the API's numbers and its record passes `urne verify`, the board page checks its
//! signed tree head and a ballot's inclusion proof, and axe-core finds no WCAG 2.1 A/AA
//! violation on the results, board and booth pages.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core and axe-core) and
//! /usr/bin/chromium (or URNE_CHROMIUM). Without them it is skipped with a message, unless
//! URNE_REQUIRE_BROWSER=1 (set by scripts/test.sh when it installed them), where it fails.
//! With URNE_SCREENSHOTS=DIR, the results page's screenshots are written there
//! (docs/screenshots).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests unwrap what must succeed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is missing to run the browser tests, if anything.
fn missing(web: &Path, chromium: &Path) -> Option<&'static str> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Some("`node` is not installed"),
    }
    for (file, what) in [
        (
            "node_modules/playwright-core/package.json",
            "web/node_modules/playwright-core is missing (run `npm ci` in web/)",
        ),
        (
            "node_modules/axe-core/axe.min.js",
            "web/node_modules/axe-core is missing (run `npm ci` in web/)",
        ),
    ] {
        if !web.join(file).is_file() {
            return Some(what);
        }
    }
    if !chromium.is_file() {
        return Some("chromium is not installed (apt-get install chromium)");
    }
    None
}

#[test]
fn the_public_pages_show_the_result_and_the_board_and_pass_axe() {
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
        .args(["--test", "--test-reporter=tap", "e2e/pages.e2e.js"])
        .current_dir(&web)
        .env("URNE_BIN", env!("CARGO_BIN_EXE_urne"))
        .env("URNE_CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // What axe-core checked, for the test's output (cargo test --nocapture).
    for line in stdout.lines().filter(|l| l.contains("axe-core:")) {
        eprintln!("{line}");
    }
    assert!(
        out.status.success(),
        "web/e2e/pages.e2e.js failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("# pass 3") && stdout.contains("# fail 0"),
        "web/e2e/pages.e2e.js did not run its three tests:\n{stdout}"
    );
}
