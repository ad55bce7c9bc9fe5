//! The fuzz entry point over the seed corpus and over many deterministic mutations of it
//! (bytes flipped, dropped, duplicated, spliced), so CI exercises the same invariants as
//! `cargo fuzz run parse_line` does at length.

use tripline_sensors::fuzz::all_parsers;

/// The cargo-fuzz seed corpus (`fuzz/corpus/parse_line/seed-*`), one line per file.
fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/parse_line");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fuzz/corpus/parse_line")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    out.sort();
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
        for _ in 0..rng.usize(1..6) {
            if b.is_empty() {
                b.push(rng.u8(..));
                continue;
            }
            let i = rng.usize(..b.len());
            match rng.u8(0..5) {
                0 => b[i] = rng.u8(..),
                1 => {
                    b.remove(i);
                }
                2 => b.insert(i, *rng.choice(b" :[]()=\"'{}\\0.\xff\xc3".iter()).unwrap()),
                3 => {
                    let other = lines[rng.usize(..lines.len())];
                    let j = rng.usize(..=other.len());
                    b.truncate(i);
                    b.extend_from_slice(&other[j..]);
                }
                _ => {
                    let n = rng.usize(1..64);
                    let piece = b[i..(i + n).min(b.len())].to_vec();
                    b.splice(i..i, piece.into_iter().cycle().take(n * rng.usize(1..50)));
                }
            }
        }
        all_parsers(&b);
    }
}
