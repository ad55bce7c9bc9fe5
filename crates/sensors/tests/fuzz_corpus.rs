//! The fuzz entry point over the seed corpus and over many deterministic mutations of it
//! (bytes flipped, dropped, duplicated, spliced), so CI exercises the same invariants as
//! `cargo fuzz run parse_line` does at length.

use tripline_sensors::fuzz::{all_parsers, mutate};

/// The cargo-fuzz seed corpus (`fuzz/corpus/parse_line/seed-*`), one line per file.
fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/parse_line");
    let out = tripline_sensors::fuzz::seed_corpus(std::path::Path::new(dir));
    assert!(out.len() >= 10, "seed corpus missing");
    out
}

#[test]
fn seed_corpus_parses() {
    for s in seeds() {
        all_parsers(&s);
    }
}

#[test]
fn mutated_seeds_never_panic() {
    let mut rng = fastrand::Rng::with_seed(0x7219);
    let seeds = seeds();
    let lines: Vec<&[u8]> = seeds.iter().map(|s| s.trim_ascii_end()).collect();
    for _ in 0..20_000 {
        let mut b = lines[rng.usize(..lines.len())].to_vec();
        mutate(&mut rng, &lines, b" :[]()=\"'{}\0.\xff\xc3", &mut b);
        all_parsers(&b);
    }
}
