//! Test support for the tests that play a JS trustee with a small node driver: web/ when `node`
//! and its dependencies are there, and one run of a driver (a JSON request on stdin, a JSON
//! answer on stdout).
//!
//! Without `node` or web/node_modules the test is skipped with a message, unless
//! URNE_REQUIRE_NODE=1, where it fails instead.
//!
//! crates/urne-verify/tests/booth_js.rs includes this file by path too: it may use only the
//! standard library and serde_json, which both crates have.

// Each test file that includes this module uses only some of its items.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The web/ directory, when `node` runs and `web/node_modules/{package}` (a file the test needs,
/// such as `@noble/curves/package.json`) is installed.
pub fn web(package: &str) -> Option<PathBuf> {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let required = std::env::var("URNE_REQUIRE_NODE").is_ok_and(|v| v == "1");
    let node = Command::new("node").arg("--version").output();
    let missing = match node {
        Ok(out) if out.status.success() => {
            if web.join("node_modules").join(package).is_file() {
                return Some(web.canonicalize().unwrap());
            }
            "web/node_modules is missing (run `npm ci` in web/)"
        }
        _ => "`node` is not installed",
    };
    assert!(!required, "URNE_REQUIRE_NODE=1 but {missing}");
    eprintln!("skipped: {missing}; set URNE_REQUIRE_NODE=1 to make this an error");
    None
}

/// Runs `node DRIVER WEB` with `req` on stdin; its JSON answer, or its stderr when it fails.
pub fn run_driver(driver: &Path, web: &Path, req: &Value) -> Result<Value, String> {
    let mut child = Command::new("node")
        .arg(driver)
        .arg(web)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("the driver writes JSON"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
