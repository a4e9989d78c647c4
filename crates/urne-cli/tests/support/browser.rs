//! Test support for the browser tests of web/e2e/: each Rust launcher runs one of its node test
//! files (node's test runner, playwright-core driving Debian's chromium) against this build's
//! `urne`.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/) and /usr/bin/chromium (or URNE_CHROMIUM).
//! Without them the test is skipped with a message, unless URNE_REQUIRE_BROWSER=1 (set by
//! scripts/test.sh when it installed them, and needed under CI), where it fails.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is missing to run the browser tests, if anything; `packages` are files that must be in
/// web/node_modules (`playwright-core/package.json`, `axe-core/axe.min.js`).
fn missing(web: &Path, chromium: &Path, packages: &[&str]) -> Option<String> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Some("`node` is not installed".into()),
    }
    for file in packages {
        if !web.join("node_modules").join(file).is_file() {
            return Some(format!(
                "web/node_modules/{file} is missing (run `npm ci` in web/)"
            ));
        }
    }
    if !chromium.is_file() {
        return Some("chromium is not installed (apt-get install chromium)".into());
    }
    None
}

/// Runs `node --test target` in web/ (a file or a folder of it), checks that it passed
/// `passes` tests and failed none, prints its lines that `show` keeps (timings, what was
/// checked), and returns its TAP output. `None` when the test is skipped.
pub fn run_e2e(
    target: &str,
    packages: &[&str],
    passes: usize,
    show: impl Fn(&str) -> bool,
) -> Option<String> {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let chromium =
        PathBuf::from(std::env::var("URNE_CHROMIUM").unwrap_or("/usr/bin/chromium".into()));
    if let Some(what) = missing(&web, &chromium, packages) {
        let required = std::env::var("URNE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(!required, "URNE_REQUIRE_BROWSER=1 but {what}");
        eprintln!("skipped: {what}; set URNE_REQUIRE_BROWSER=1 to make this an error");
        return None;
    }
    let out = Command::new("node")
        .args(["--test", "--test-reporter=tap", target])
        .current_dir(&web)
        .env("URNE_BIN", env!("CARGO_BIN_EXE_urne"))
        .env("URNE_CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // For the test's output (cargo test --nocapture).
    for line in stdout.lines().filter(|l| show(l)) {
        eprintln!("{line}");
    }
    assert!(
        out.status.success(),
        "web/{target} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("# pass {passes}")) && stdout.contains("# fail 0"),
        "web/{target} did not run its {passes} test(s):\n{stdout}"
    );
    Some(stdout)
}
