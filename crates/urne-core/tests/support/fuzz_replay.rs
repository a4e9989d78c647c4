//! Shared by the fuzz-corpus replay tests of urne-core and urne-verify (each includes this file
//! by path): run every saved input of one fuzz target through its check function.

use std::fs;
use std::io::Write as _;
use std::panic;
use std::path::{Path, PathBuf};

/// A check function of a `fuzzing` module: panics only on a bug.
pub type Check = fn(&[u8]);

/// The project's `fuzz/` directory (both crates sit two levels below the root).
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; `None` when the directory does not exist.
pub fn files(dir: &Path) -> Option<Vec<PathBuf>> {
    let entries = fs::read_dir(dir).ok()?;
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Some(files)
}

/// Prints past libtest's capture of `println!`, so the counts show under plain `cargo test`.
pub fn report(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs every file of `fuzz/corpus/<target>/` (which must exist and not be empty, so that the
/// test cannot pass by testing nothing) and of `fuzz/regressions/<target>/` (optional) through
/// `check`; fails naming every file that panics. `seeds` says how to write the corpus. Returns
/// how many inputs it ran.
pub fn replay(target: &str, check: Check, seeds: &str) -> usize {
    let fuzz = fuzz_dir();
    let corpus_dir = fuzz.join("corpus").join(target);
    let corpus = files(&corpus_dir)
        .unwrap_or_else(|| panic!("missing corpus directory {}", corpus_dir.display()));
    assert!(
        !corpus.is_empty(),
        "empty corpus directory {}: run `{seeds}` to write the seeds",
        corpus_dir.display()
    );
    let regressions = files(&fuzz.join("regressions").join(target)).unwrap_or_default();
    let mut failed = Vec::new();
    for path in corpus.iter().chain(&regressions) {
        let data = fs::read(path).expect("a readable corpus file");
        if panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    let total = corpus.len() + regressions.len();
    assert!(
        failed.is_empty(),
        "{target}: {} of {total} inputs fail the check (the panic messages are above; run one \
         with `cargo +nightly fuzz run {target} FILE` in fuzz/):\n{}",
        failed.len(),
        failed.join("\n")
    );
    report(&format!(
        "fuzz corpus replay: {target}: {total} inputs ({} corpus, {} regressions)",
        corpus.len(),
        regressions.len()
    ));
    total
}
