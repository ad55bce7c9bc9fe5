//! The fuzz entry point (`tripline_gateway::fuzz::request_and_scan`) over the seed corpus
//! (`fuzz/corpus/prompt_request/seed-*`) and over deterministic mutations of it (bytes flipped,
//! dropped, inserted, spliced), so every test run checks what `cargo fuzz run prompt_request`
//! checks at length: no panic on any body or prompt.

use tripline_gateway::fuzz::request_and_scan;

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/prompt_request"
    );
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fuzz/corpus/prompt_request")
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
fn seed_corpus_scans() {
    for s in seeds() {
        request_and_scan(&s);
    }
}

#[test]
fn mutated_seeds_never_panic() {
    let mut rng = fastrand::Rng::with_seed(0x6a7e);
    let seeds = seeds();
    for _ in 0..3_000 {
        let mut b = seeds[rng.usize(..seeds.len())].clone();
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
                2 => b.insert(
                    i,
                    *rng.choice(b"{}[]\",:\\u0\xff\xc3\xe2\x80\x8b".iter())
                        .unwrap(),
                ),
                3 => {
                    let other = &seeds[rng.usize(..seeds.len())];
                    let j = rng.usize(..=other.len());
                    b.truncate(i);
                    b.extend_from_slice(&other[j..]);
                }
                _ => {
                    let n = rng.usize(1..64);
                    let piece = b[i..(i + n).min(b.len())].to_vec();
                    let at = rng.usize(..=b.len());
                    b.splice(at..at, piece);
                }
            }
        }
        request_and_scan(&b);
    }
}
