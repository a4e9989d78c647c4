//! The mix phase on the trustees' page end to end (issue #8): runs web/e2e/trustee-mix.e2e.js
//! (node's test runner, playwright-core driving Debian's chromium) against this build's `urne`.
//! The test starts `urne serve`; an election with a plurality, a Schulze and a majority-judgment
//! question and three trustees (any two decrypt) holds its key ceremony with `urne trustee`; six
//! ballots are cast; after the tally, trustee 1 decrypts the tally, shuffles and decrypts the
//! shuffled list through /elections/{id}/trustee (with the CLI's sealed files), trustee 2 does
//! each step with the CLI, and trustee 3's page has its late shuffle refused by the server and
//! shows the refusal. The record's decrypted ballots must be the votes, the counts theirs, and
//! `urne verify` must accept the record; axe-core finds no WCAG 2.1 A/AA violation on the mix's
//! steps.
//!
//! Needs `node`, web/node_modules (`npm ci` in web/, with playwright-core and axe-core) and
//! /usr/bin/chromium (or URNE_CHROMIUM). Without them it is skipped with a message, unless
//! URNE_REQUIRE_BROWSER=1 (set by scripts/test.sh when it installed them, and needed under CI),
//! where it fails.

#![allow(clippy::unwrap_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

#[test]
fn trustees_shuffle_and_decrypt_the_mix_through_the_page_and_the_cli() {
    browser::run_e2e(
        "e2e/trustee-mix.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        1,
        |l| l.ends_with(" s") || l.starts_with("# axe-core"),
    );
}
