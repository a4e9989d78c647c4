//! The administration pages end to end in headless Chromium (issue #7): runs
//! web/e2e/admin.e2e.js (node's test runner, playwright-core driving Debian's chromium) against
//! this build's `urne`. The organizer logs in through /admin, creates an election through the
//! draft form (the server's validation error shown next to its field), uploads a roll with a
//! bad line (its line number shown, nothing imported) and then a good one, freezes the setup and
//! reads the trustee's invitation link; the trustee registers with `urne trustee new-identity
//! --server`; the organizer uploads the authority's credential list (the page's fingerprint is
//! the authority's), seals and opens behind confirmation dialogs, watches the turnout move as
//! voters cast, closes, tallies, follows the trustee's `urne trustee decrypt --server` and
//! publishes; the public page shows the counts. axe-core finds no WCAG 2.1 A/AA violation on
//! every page and state, and nothing scrolls sideways at 640 px (200 % zoom).
//!
//! A second test runs web/e2e/admin-mixed.e2e.js: the draft form with a Schulze, an STV and a
//! majority-judgment question (seats, grades, min and max as stored by the API; the server's
//! seats error next to its field; axe-core in English and French).
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core and axe-core) and
//! /usr/bin/chromium (or URNE_CHROMIUM). Without them it is skipped with a message, unless
//! URNE_REQUIRE_BROWSER=1 (set by scripts/test.sh when it installed them), where it fails.
//! With URNE_SCREENSHOTS=DIR, the pages' screenshots are written there (docs/screenshots).

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn the_organizer_runs_an_election_through_the_administration_pages() {
    browser::run_e2e(
        "e2e/admin.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        1,
        |l| {
            l.contains("axe-core:")
                || l.contains("reflow:")
                || (l.starts_with("# ") && l.ends_with(" s"))
        },
    );
}

#[test]
fn the_organizer_drafts_ranked_and_graded_questions_through_the_form() {
    browser::run_e2e(
        "e2e/admin-mixed.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        1,
        |l| l.contains("axe-core:") || l.contains("reflow:"),
    );
}
