//! The fuzz entry point (`tripline_gateway::fuzz::request_and_scan`) over the seed corpus
//! (`fuzz/corpus/prompt_request/seed-*`) and over deterministic mutations of it (bytes flipped,
//! dropped, inserted, spliced), so every test run checks what `cargo fuzz run prompt_request`
//! checks at length: no panic on any body or prompt.

use tripline_gateway::fuzz::request_and_scan;
use tripline_sensors::fuzz::mutate;

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/prompt_request"
    );
    let out = tripline_sensors::fuzz::seed_corpus(std::path::Path::new(dir));
    assert!(out.len() >= 10, "seed corpus missing");
    out
}

#[test]
fn seed_corpus_scans() {
    for s in seeds() {
        request_and_scan(&s);
    }
}

#[test]
fn mutated_seeds_never_panic() {
    let mut rng = fastrand::Rng::with_seed(0x6a7e);
    let seeds = seeds();
    let pool: Vec<&[u8]> = seeds.iter().map(|s| s.as_slice()).collect();
    for _ in 0..3_000 {
        let mut b = seeds[rng.usize(..seeds.len())].clone();
        mutate(&mut rng, &pool, b"{}[]\",:\\u0\xff\xc3\xe2\x80\x8b", &mut b);
        request_and_scan(&b);
    }
}
