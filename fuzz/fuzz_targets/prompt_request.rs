//! The gateway's request parsing and every prompt scanner on arbitrary bytes:
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run prompt_request` (from the repository root).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tripline_gateway::fuzz::request_and_scan(data);
});
