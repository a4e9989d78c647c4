//! A whole election end to end in headless Chromium (issue #7): runs web/e2e/election.e2e.js
//! (node's test runner, playwright-core driving Debian's chromium) against this build's `urne`.
//! The test starts `urne serve`; the organizer creates the election through the administration
//! pages with a roll of 20 voters and three trustees (any two decrypt), who hold the key ceremony
//! through the trustee page; the credential authority generates and mails the credentials, the
//! organizer seals and opens through the pages; 20 voters vote through the booth, each in a fresh
//! browser context (one audits a first encryption, another votes twice); the organizer closes
//! and tallies through the pages, two trustees decrypt through theirs, the result is published,
//! the results page shows the counts of each voter's last choices and `urne verify` accepts the
//! exported record. axe-core checks the booth's steps, the audit, results and board pages.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core) and /usr/bin/chromium
//! (or URNE_CHROMIUM). Without them it is skipped with a message, unless URNE_REQUIRE_BROWSER=1
//! (set by scripts/test.sh when it installed them, and needed under CI), where it fails.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn organizer_trustees_and_twenty_voters_through_the_pages_and_the_record_verifies() {
    browser::run_e2e(
        "e2e/election.e2e.js",
        &["playwright-core/package.json"],
        1,
        |l| l.ends_with(" s"),
    );
}
