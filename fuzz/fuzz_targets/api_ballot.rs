#![no_main]

// The check is shared with the server's corpus replay test (crates/urne-server/tests/fuzz_corpus.rs).
#[path = "../../crates/urne-server/tests/support/fuzz_api_ballot.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::api_ballot(data));
