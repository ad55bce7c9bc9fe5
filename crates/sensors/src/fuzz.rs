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
