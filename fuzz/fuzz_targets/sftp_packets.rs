//! The SSH decoy's SFTP server on arbitrary bytes, fed in chunks of the sizes the first byte
//! picks, against a fresh session: no panic, no unbounded growth. `RUSTC_BOOTSTRAP=1 cargo
//! fuzz run sftp_packets`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tripline_honeypot::sftp::fuzz(data);
});
