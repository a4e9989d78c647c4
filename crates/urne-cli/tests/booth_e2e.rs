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

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn a_voter_votes_through_the_booth_in_headless_chromium() {
    browser::run_e2e("e2e/", &["playwright-core/package.json"], 3, |l| {
        l.contains("ms")
    });
}
