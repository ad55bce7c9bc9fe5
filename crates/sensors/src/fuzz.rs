//! One entry point for fuzzing every parser with the same bytes: the syslog line parser (with
//! its sshd connection memory), the journald JSON reader and the Cowrie JSON reader. The
//! `cargo fuzz` target in `fuzz/` and the mutation test in `tests/fuzz_corpus.rs` both call it.
//!
//! What must hold for any input: no panic, and an event never carries more than the raw bytes
//! it came from (plus the bounded fields the parsers copy).

use crate::tail::LineSplitter;
use crate::{cowrie, decode_lossy, journald, LineParser, TimeContext};
use std::sync::Arc;
use tripline_event::{SensorKind, SourcePos, Timestamp, MAX_RAW_BYTES};

/// Feed `data` (one or more lines) to every parser. Panics only when an invariant breaks.
pub fn all_parsers(data: &[u8]) {
    let mut p = LineParser::new(
        TimeContext::utc().with_year(Some(2024)),
        SensorKind::Files,
        "fuzz",
    );
    let host: Arc<str> = "fuzz".into();
    let mut tc = TimeContext::utc();
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        let text = decode_lossy(&line[..line.len().min(MAX_RAW_BYTES)]);
        let pos = SourcePos {
            source: 0,
            offset: i as u64,
        };
        if let Some(ev) = p.event(&text, Timestamp(0), pos) {
            assert!(ev.raw.len() <= MAX_RAW_BYTES);
            assert!(ev.count >= 1, "an event stands for at least one occurrence");
        }
        let _ = journald::parse_entry(&text);
        let _ = cowrie::parse(&text, &mut tc, Timestamp(0), pos, &host);
    }
    split_alike(data);
}

/// Split `data` as two reads (cut where its first byte says): sharing the reads' text must hand
/// out the same lines at the same offsets as splitting the bytes alone, and a line handed out
/// with a buffer lies inside it.
fn split_alike(data: &[u8]) {
    let cut = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let (mut plain, mut shared) = (LineSplitter::default(), LineSplitter::default());
    let (mut at_plain, mut at_shared) = (0u64, 0u64);
    let (mut want, mut got) = (vec![], vec![]);
    for read in [&data[..cut], &data[cut..]] {
        plain.feed(read, None, &mut at_plain, &mut |l, _, off| {
            want.push((l.to_vec(), off))
        });
        shared.feed_shared(read, &mut at_shared, &mut |l, buf, off| {
            if let Some(buf) = buf {
                let (base, at) = (buf.as_ptr() as usize, l.as_ptr() as usize);
                assert!(at >= base && at + l.len() <= base + buf.len());
            }
            got.push((l.to_vec(), off))
        });
    }
    assert_eq!(want, got);
}

/// The seed files (`seed-*`) of a cargo-fuzz corpus directory, sorted.
pub fn seed_corpus(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
                })
                .filter_map(|p| std::fs::read(p).ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Mutates `b` as a fuzzer would, deterministically from `rng`: one to five of a byte replaced,
/// dropped, or one of `specials` inserted, a splice with the tail of another of `pool`, or a
/// piece of it repeated up to 50 times.
pub fn mutate(rng: &mut fastrand::Rng, pool: &[&[u8]], specials: &[u8], b: &mut Vec<u8>) {
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
            2 => b.insert(i, specials[rng.usize(..specials.len())]),
            3 => {
                let other = pool[rng.usize(..pool.len())];
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
}
