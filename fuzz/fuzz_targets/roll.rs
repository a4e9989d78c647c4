#![no_main]

// The check lives beside urne-roll's tests, which replay the corpus with it on stable.
#[path = "../../crates/urne-roll/tests/support/fuzz_roll.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::roll(data));
