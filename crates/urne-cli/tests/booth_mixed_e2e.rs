//! The booth's ranked and graded questions end to end in headless Chromium (issue #8): runs
//! web/e2e/booth-mixed.e2e.js against this build's `urne serve`, whose booth is given a mixed
//! election through Playwright's routing of the API (the server still refuses mixed drafts). The
//! voter ranks by select, by keyboard and by dragging, grades, reviews and casts; axe-core checks
//! each step and the page at 360 px; the cast ballot is checked there with the JavaScript
//! verifier and decrypted to the voter's ranks and grades.
//!
//! Here, the same ballot is checked with urne-core: the node test writes the manifest, the
//! ballot and the tracker the booth showed to a file it names on a line `# mixed ballot for
//! urne-verify: PATH`; the ballot must parse, carry the voter's credential, pass V-5 to V-10 and
//! have that tracker, and a copy with two ranks exchanged must fail.
//!
//! Needs `node`, web/node_modules (playwright-core, axe-core) and chromium; skipped otherwise,
//! unless URNE_REQUIRE_BROWSER=1. With URNE_SCREENSHOTS=DIR, it writes docs/screenshots'
//! booth-ranking.png and booth-grades.png there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests unwrap what must succeed.

#[path = "support/browser.rs"]
mod browser;

use serde_json::Value;
use urne_core::ballot::Ballot;
use urne_core::election::Election;
use urne_core::manifest::{Counting, Manifest};
use urne_core::testkit::rng_from_seed;

/// What precedes the path on the node test's line (TAP escapes it as a diagnostic: `# \# …`).
const MARK: &str = "mixed ballot for urne-verify: ";

#[test]
fn a_voter_ranks_and_grades_in_headless_chromium_and_urne_core_accepts_the_ballot() {
    let Some(tap) = browser::run_e2e(
        "e2e/booth-mixed.e2e.js",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        2,
        |l| l.contains("axe-core") || l.contains(MARK),
    ) else {
        return;
    };
    let path = tap
        .lines()
        .find_map(|l| l.split_once(MARK).map(|(_, path)| path.trim()))
        .expect("the node test names the ballot's file");
    let text = std::fs::read_to_string(path).expect("the ballot's file");
    std::fs::remove_file(path).expect("the ballot's file is removed");
    let out: Value = serde_json::from_str(&text).expect("JSON");

    let manifest = Manifest::from_json(out["manifest"].as_str().unwrap()).expect("the manifest");
    let counting: Vec<Counting> = manifest.questions.iter().map(|q| q.counting).collect();
    assert_eq!(
        counting,
        [
            Counting::Plurality,
            Counting::Schulze,
            Counting::Stv,
            Counting::MajorityJudgment
        ]
    );
    let election = Election::new(manifest).expect("a valid election");
    let ballot = Ballot::from_json(out["ballot"].as_str().unwrap()).expect("the ballot parses");
    assert_eq!(
        ballot.credential.to_string(),
        out["credential"].as_str().unwrap(),
        "the voter's credential"
    );
    let tracker = ballot
        .vartime_verify(&mut rng_from_seed(1), &election)
        .expect("urne-core accepts the ballot the booth cast (V-5 to V-10)");
    assert_eq!(tracker.to_string(), out["tracker"].as_str().unwrap());
    assert!(
        ballot.answers[1..]
            .iter()
            .all(|a| a.count_proof.is_none() && a.blank.is_none())
    );

    // The check can fail: two ranks exchanged break their range proofs, which bind the position.
    let mut swapped = ballot.clone();
    swapped.answers[1].choices.swap(0, 1);
    assert!(
        swapped
            .vartime_verify(&mut rng_from_seed(2), &election)
            .is_err()
    );
}
