//! The HTTP decoy's request classifier and credential reader on arbitrary requests: the first
//! line is `METHOD TARGET`, header lines follow up to an empty line, the rest is the body. No
//! panic, whatever the bytes. `RUSTC_BOOTSTRAP=1 cargo fuzz run http_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tripline_honeypot::http::fuzz(data);
});
