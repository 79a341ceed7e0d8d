//! The body lives in `rtmp_probe::fuzz_harness::client`, shared with `tests/fuzz_regressions.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rtmp_probe::fuzz_harness::client(data));
