//! The results page of mixed questions (issue #8) end to end in headless Chromium: runs
//! web/e2e/results-mixed.e2e.js (node's test runner, playwright-core driving Debian's chromium)
//! against this build's `urne serve`. The page's API call is answered with a published election
//! holding the real counts of web/test/fixtures/mixed-results.json (written by `cargo run -p
//! urne-core --example count_fixtures`); the test checks every number the page shows for
//! Schulze, STV and majority judgment against it, in English and French, runs axe-core (WCAG 2.1
//! A/AA) in both languages, and checks that nothing scrolls sideways at 360 px.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core and axe-core) and
//! /usr/bin/chromium (or URNE_CHROMIUM). Without them it is skipped with a message, unless
//! URNE_REQUIRE_BROWSER=1, where it fails. With URNE_SCREENSHOTS=DIR, it writes
//! results-schulze.png, results-stv.png and results-mj.png there (docs/screenshots).

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn the_results_page_draws_the_mixed_counts_and_passes_axe() {
    browser::run_e2e(
        "e2e/results-mixed.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        3,
        |l| l.contains("axe-core:"),
    );
}
