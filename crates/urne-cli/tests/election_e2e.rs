//! A whole election end to end in headless Chromium (issue #7): runs web/e2e/election.e2e.js
//! (node's test runner, playwright-core driving Debian's chromium) against this build's `urne`.
//! The test starts `urne serve`; the organizer drafts an election through the admin API with a
//! roll of 20 voters, one trustee registers with `urne trustee new-identity --server`, the
//! credential authority generates and mails the credentials, the election is sealed and opened;
//! 20 voters vote through the booth, each in a fresh browser context (one audits a first
//! encryption, another votes twice); the organizer tallies, the trustee decrypts through the
//! server, the result is published, the results page shows the counts of each voter's last
//! choices and `urne verify` accepts the exported record.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core) and /usr/bin/chromium
//! (or URNE_CHROMIUM). Without them it is skipped with a message, unless URNE_REQUIRE_BROWSER=1
//! (set by scripts/test.sh when it installed them, and needed under CI), where it fails.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn twenty_voters_vote_through_the_booth_and_the_published_record_verifies() {
    browser::run_e2e(
        "e2e/election.e2e.js",
        &["playwright-core/package.json"],
        1,
        |l| l.ends_with(" s"),
    );
}
