//! The trustees' page end to end in headless Chromium (issue #7): runs web/e2e/trustee.e2e.js
//! (node's test runner, playwright-core driving Debian's chromium) against this build's `urne`.
//! The test starts `urne serve`; the organizer drafts an election with three trustees, any two
//! of whom decrypt, and invites them; each trustee holds the whole key-generation ceremony
//! through /elections/{id}/trustee in its own browser context, saving its sealed files through
//! downloads and giving them back through the file input; the election is sealed, opened, four
//! ballots are cast, and after the tally two trustees decrypt through the page; the result
//! must be the count of the ballots and `urne verify` must accept the record. axe-core finds no
//! WCAG 2.1 A/AA violation on each step.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core and axe-core) and
//! /usr/bin/chromium (or URNE_CHROMIUM). Without them it is skipped with a message, unless
//! URNE_REQUIRE_BROWSER=1 (set by scripts/test.sh when it installed them, and needed under CI),
//! where it fails.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn three_trustees_hold_the_ceremony_and_decrypt_through_the_page() {
    browser::run_e2e(
        "e2e/trustee.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        1,
        |l| l.ends_with(" s") || l.starts_with("# axe-core"),
    );
}
