//! Writes web/test/fixtures/mixed-results.json: real counts by `urne_core::count` of the
//! literature's profiles, in the shape the published result gives a mixed question
//! (`view.result.questions[i]`), for the results page's unit and browser tests.
//!
//! ```text
//! cargo run -p urne-core --example count_fixtures [OUT]
//! ```
//!
//! Each question of the file holds the manifest's question (`question`) and its result
//! (`result`: `{"counts": [], "mixed": {"method", "ballots", "invalid", ...}}`, every field of
//! the count's result struct flattened into `mixed`). `ballots` is every ballot of the question
//! and `invalid` the number of them the count's own checks refuse, set aside before counting;
//! the count structs' own `ballots` field, which would collide, is `ballots − invalid` and is
//! not repeated (as urne_core::tally's `MixedResult` writes it). The profiles:
//!
//! - Schulze: M. Schulze, Social Choice and Welfare 36 (2011), §3.1, example 1 (45 voters,
//!   candidates A–E; winner E, ranking E > A > C > B > D);
//! - STV: docs/counting.md §3's worked example (2 seats, 20 ballots, a surplus transferred at
//!   5/12, two exclusions, the last seat filled without the quota), with two ballots that STV
//!   refuses (equal ranks; a gap in the ranks);
//! - majority judgment: the hand-worked five voters on six grades of the count's tests (three
//!   candidates with the same majority grade, told apart by their majority values).

use std::error::Error;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};

use urne_core::count::{mj::majority_judgment, schulze::schulze, stv::stv};
use urne_core::manifest::{Counting, Question};

/// Expands "count × order" groups (orders as candidate letters, best first) into ranking ballots.
fn profile(candidates: usize, groups: &[(usize, &str)]) -> Vec<Vec<u32>> {
    let mut ballots = Vec::new();
    for &(count, order) in groups {
        let mut ranks = vec![0u32; candidates];
        for (place, letter) in order.bytes().enumerate() {
            ranks[usize::from(letter - b'A')] = place as u32 + 1;
        }
        ballots.extend(std::iter::repeat_n(ranks, count));
    }
    ballots
}

/// A mixed question of the manifest.
fn question(text: &str, answers: &[&str], counting: Counting) -> Question {
    let mut q = Question::plurality(text, answers, 1, answers.len() as u32, false);
    q.counting = counting;
    q
}

/// The result of a mixed question as the published result gives it (urne_core::tally's
/// `MixedResult`): `ballots` is every decrypted ballot of the question, `invalid` those set aside,
/// and the count's own fields follow, its own `ballots` (always `ballots − invalid`) not repeated.
fn mixed(method: &str, invalid: usize, count: &impl Serialize) -> Result<Value, Box<dyn Error>> {
    let Value::Object(mut fields) = serde_json::to_value(count)? else {
        return Err("a count result is a JSON object".into());
    };
    let counted = fields
        .get("ballots")
        .and_then(Value::as_u64)
        .ok_or("a count result has a `ballots` field")?;
    fields.insert("ballots".into(), json!(counted + invalid as u64));
    fields.insert("method".into(), json!(method));
    fields.insert("invalid".into(), json!(invalid));
    Ok(json!({ "counts": [], "mixed": fields }))
}

/// Splits `ballots` into those `accepts` takes alone and the number it refuses.
fn set_aside(ballots: Vec<Vec<u32>>, accepts: impl Fn(&[u32]) -> bool) -> (Vec<Vec<u32>>, usize) {
    let before = ballots.len();
    let kept: Vec<Vec<u32>> = ballots.into_iter().filter(|b| accepts(b)).collect();
    let invalid = before - kept.len();
    (kept, invalid)
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args_os().nth(1).map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../web/test/fixtures/mixed-results.json")
        },
        PathBuf::from,
    );

    // Schulze 2011, §3.1.
    let candidates = ["Ada", "Barbara", "Claude", "Dennis", "Edsger"];
    let ballots = profile(
        5,
        &[
            (5, "ACBED"),
            (5, "ADECB"),
            (8, "BEDAC"),
            (3, "CABED"),
            (7, "CAEBD"),
            (2, "CBADE"),
            (7, "DCEBA"),
            (8, "EBADC"),
        ],
    );
    let (ballots, invalid) = set_aside(ballots, |b| schulze(5, &[b]).is_ok());
    let count = schulze(5, &ballots)?;
    let schulze_q = question(
        "Who should chair the programme committee?",
        &candidates,
        Counting::Schulze,
    );
    let schulze_r = mixed("schulze", invalid, &count)?;

    // docs/counting.md §3, with two ballots STV refuses.
    let candidates = ["Alice", "Bob", "Chloé", "Djamel"];
    let mut ballots = profile(4, &[(8, "ABC"), (4, "AC"), (3, "BD"), (4, "C"), (1, "D")]);
    ballots.push(vec![1, 1, 2, 0]); // A and B both ranked first
    ballots.push(vec![1, 0, 3, 0]); // no second choice before the third
    let (ballots, invalid) = set_aside(ballots, |b| stv(4, 1, &[b]).is_ok());
    let count = stv(4, 2, &ballots)?;
    let mut stv_q = question("Elect two members of the board", &candidates, Counting::Stv);
    stv_q.seats = Some(2);
    let stv_r = mixed("stv", invalid, &count)?;

    // Majority judgment, five voters, six grades (0 the worst).
    let candidates = [
        "Proposal 1: a new library",
        "Proposal 2: a bike path",
        "Proposal 3: a park",
    ];
    let grades = [
        "Excellent",
        "Very good",
        "Good",
        "Acceptable",
        "Poor",
        "Reject",
    ];
    let ballots = vec![
        vec![5, 3, 2],
        vec![4, 3, 2],
        vec![2, 2, 2],
        vec![1, 2, 2],
        vec![0, 1, 0],
    ];
    let (ballots, invalid) = set_aside(ballots, |b| majority_judgment(3, 6, &[b]).is_ok());
    let count = majority_judgment(3, grades.len() as u32, &ballots)?;
    let mut mj_q = question(
        "How good is each proposal for the town?",
        &candidates,
        Counting::MajorityJudgment,
    );
    mj_q.min = candidates.len() as u32;
    mj_q.grades = Some(grades.iter().map(|g| (*g).to_owned()).collect());
    let mj_r = mixed("majority_judgment", invalid, &count)?;

    let file = json!({
        "about": "Written by `cargo run -p urne-core --example count_fixtures` \
                  (crates/urne-core/examples/count_fixtures.rs): urne_core::count's results \
                  of literature profiles, as view.result.questions[i] of a mixed question.",
        "questions": [
            { "question": schulze_q, "result": schulze_r },
            { "question": stv_q, "result": stv_r },
            { "question": mj_q, "result": mj_r },
        ],
    });
    let mut text = serde_json::to_string_pretty(&file)?;
    text.push('\n');
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, text)?;
    println!("wrote {}", out.display());
    Ok(())
}
