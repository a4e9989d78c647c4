//! Progress bars for long work, hidden when asked or when standard error is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
