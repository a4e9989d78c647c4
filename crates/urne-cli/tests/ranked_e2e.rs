//! A ranked election end to end (issue #8): runs web/e2e/ranked.e2e.js (node's test runner,
//! playwright-core driving Debian's chromium) against this build's `urne`. The test starts
//! `urne serve`; the organizer creates, through the administration API, an election with a
//! plurality, a Schulze, an STV and a majority-judgment question, a roll of 8 voters and three
//! trustees (any two decrypt), who hold the key ceremony online with `urne trustee`; the
//! credentials are generated, sealed and mailed with `urne credentials`; the 8 voters vote through
//! the booth (ranking by select, by keyboard and by mouse drag, one in French, axe-core on one
//! voter's every step); after the tally two trustees decrypt, two shuffle and two decrypt the
//! mixed list with `urne trustee`. The record's decrypted ballots must be the votes cast, the
//! API's result must equal the test's own reference counts, the results page must show them
//! without an axe-core violation, and `urne verify` must accept the record.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core) and /usr/bin/chromium
//! (or URNE_CHROMIUM). Without them it is skipped with a message, unless URNE_REQUIRE_BROWSER=1
//! (set by scripts/test.sh when it installed them, and needed under CI), where it fails.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn ranked_election_through_the_booth_and_the_mix_is_counted_and_verifies() {
    browser::run_e2e(
        "e2e/ranked.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        1,
        |l| l.ends_with(" s"),
    );
}
