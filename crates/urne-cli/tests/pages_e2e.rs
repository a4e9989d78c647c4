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

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn the_public_pages_show_the_result_and_the_board_and_pass_axe() {
    browser::run_e2e(
        "e2e/pages.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        3,
        |l| l.contains("axe-core:"),
    );
}
