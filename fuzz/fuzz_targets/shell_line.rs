//! The honeypot's fake shell on arbitrary bytes: parsing, expansion and every command, run
//! line by line in one session (and the bytes uploaded as a file): no panic, no unbounded
//! growth. `RUSTC_BOOTSTRAP=1 cargo fuzz run shell_line` (from the repository root).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tripline_honeypot::shell::fuzz(data);
});
