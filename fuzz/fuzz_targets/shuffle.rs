#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| urne_core::fuzzing::shuffle(data));
