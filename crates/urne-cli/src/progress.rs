//! Progress bars for long work, hidden when asked or when standard error is not a terminal.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use urne_core::testkit::Setup;
use urne_verify::simulate::{SimConfig, SimOutcome, simulate};

/// A bar of `len` items (or bytes, with `bytes`).
pub fn bar(hidden: bool, len: u64, what: &str, bytes: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let template = if bytes {
        "  {msg:<11} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})"
    } else {
        "  {msg:<11} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})"
    };
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// Runs a simulated election, writing its record to `out`, with a bar over its voters (a
/// revote does not move the bar past them).
pub fn simulate_with_bar<W: Write>(
    setup: &Setup,
    cfg: &SimConfig,
    out: W,
    quiet: bool,
) -> std::io::Result<SimOutcome> {
    let voters = cfg.voters as u64;
    let pb = bar(quiet, voters, "voting", false);
    let outcome = simulate(setup, cfg, out, &|_, done| {
        pb.set_position(done.min(voters))
    });
    pb.finish_and_clear();
    outcome
}

/// One line of a report of phases: the name, the seconds it took, what it did.
pub fn phase_line(name: &str, time: Duration, what: &str) -> String {
    format!("  {name:<11} {:>9.3} s  {what}", time.as_secs_f64())
}
