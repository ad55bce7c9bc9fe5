//! Every line parser on arbitrary bytes: `RUSTC_BOOTSTRAP=1 cargo fuzz run parse_line` (from the
//! repository root; cargo-fuzz needs nightly features, which RUSTC_BOOTSTRAP unlocks on stable).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tripline_sensors::fuzz::all_parsers(data);
});
