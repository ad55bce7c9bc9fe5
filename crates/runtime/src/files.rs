//! Files as a source: a followed file and how its lines become events, the one place where
//! `once` and `run` turn file bytes into pushed events and recorded positions.

use crate::engine::Engine;
use std::path::Path;
use std::sync::Arc;
use tripline_event::{Event, Line, SensorKind, SourcePos, Timestamp};
use tripline_sensors::tail::{Poll, TailError, TailState, Tailer};
use tripline_sensors::{LineParser, TimeContext};
use tripline_store::SourcePosition;

/// One line of a file source as an event: Cowrie JSON or syslog (invalid Cowrie JSON counted
/// in `bad_lines`).
fn line_event(
    parser: &mut LineParser,
    cowrie: bool,
    host: &Arc<str>,
    bad_lines: &mut u64,
    (bytes, shared): (&[u8], Option<&Arc<str>>),
    observed: Timestamp,
    pos: SourcePos,
) -> Option<Event> {
    // a line inside the read's shared buffer is text already (the read was checked as a whole)
    let (shared, line) = match shared.and_then(|b| Some((b, Line::str_in(b, bytes)?))) {
        Some((buf, line)) => (Some(buf), std::borrow::Cow::Borrowed(line)),
        None => (None, tripline_sensors::decode_lossy(bytes)),
    };
    if !cowrie {
        return parser.event_in(shared, &line, observed, pos);
    }
    parser
        .cowrie_event_in(shared, &line, observed, pos, host)
        .unwrap_or_else(|_| {
            *bad_lines += 1;
            None
        })
}

/// A followed file and how its lines become events: the one place where `once` and `run` turn
/// file bytes into pushed events and recorded positions.
pub struct FileSource {
    /// Key of the stored position: `file:/abs/path` or `cowrie:/abs/path`.
    pub name: String,
    pub tail: Tailer,
    parser: LineParser,
    cowrie: bool,
    host: Arc<str>,
    /// Cowrie lines that were not valid JSON events (counted and skipped).
    pub bad_lines: u64,
}

impl FileSource {
    /// The stored-position key of `path`.
    pub fn name_for(path: &Path, cowrie: bool) -> String {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        format!(
            "{}:{}",
            if cowrie { "cowrie" } else { "file" },
            abs.display()
        )
    }

    /// Follow `path` from `saved` (or, never seen, from its start or end per `from_start`).
    pub fn open(
        path: &Path,
        cowrie: bool,
        tc: TimeContext,
        host: &str,
        saved: Option<&SourcePosition>,
        from_start: bool,
    ) -> Result<FileSource, TailError> {
        let state = saved.map(|s| TailState {
            dev: s.dev,
            ino: s.ino,
            offset: s.offset,
            head_hash: s.head_hash,
        });
        Ok(FileSource {
            name: FileSource::name_for(path, cowrie),
            tail: Tailer::open(path, state, from_start)?,
            parser: LineParser::new(tc, SensorKind::Files, host),
            cowrie,
            host: host.into(),
            bad_lines: 0,
        })
    }

    /// After resuming from a stored position, replay up to `budget` bytes before it as warm-up
    /// ([`Engine::set_warm`]): detection windows, sshd connection state and login history are
    /// rebuilt, nothing is alerted or counted twice. Without it an attack that straddles a
    /// restart starts from empty windows and may stay under its threshold. Returns the lines
    /// replayed; reading errors only shorten the warm-up.
    pub fn warm_up(&mut self, engine: &mut Engine, budget: u64, batch_size: usize) -> u64 {
        use std::io::{Read, Seek, SeekFrom};
        let end = self.tail.state().offset;
        if budget == 0 || end == 0 || !self.tail.is_open() {
            return 0;
        }
        let start = end.saturating_sub(budget);
        let Ok(mut f) = std::fs::File::open(self.tail.path()) else {
            return 0;
        };
        // the same file the tailer resumed in (a rotation meanwhile leaves nothing to warm)
        use std::os::unix::fs::MetadataExt;
        match f.metadata() {
            Ok(m) if m.ino() == self.tail.state().ino && m.len() >= end => {}
            _ => return 0,
        }
        if f.seek(SeekFrom::Start(start)).is_err() {
            return 0;
        }
        let mut r = f.take(end - start);
        let counted = self.parser.stats;
        let observed = Timestamp::now();
        engine.set_warm(true);
        // lines cut as the tailer cuts them; the first is partial when the budget starts mid-line
        let mut splitter = tripline_sensors::tail::LineSplitter::default();
        let mut buf = vec![0u8; tripline_sensors::tail::READ_BYTES];
        let (mut offset, mut n, mut queued) = (start, 0u64, 0usize);
        let mut skip_first = start > 0;
        let mut ignored_bad_lines = 0;
        let FileSource {
            parser,
            cowrie,
            host,
            ..
        } = self;
        loop {
            let read = match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => k,
            };
            splitter.feed_shared(&buf[..read], &mut offset, &mut |bytes, shared, _| {
                if std::mem::take(&mut skip_first) {
                    return;
                }
                n += 1;
                let ev = line_event(
                    parser,
                    *cowrie,
                    host,
                    &mut ignored_bad_lines,
                    (bytes, shared),
                    observed,
                    SourcePos::default(),
                );
                if let Some(ev) = ev {
                    engine.hold(ev);
                    queued += 1;
                    if queued >= batch_size.max(1) {
                        engine.send();
                        queued = 0;
                    }
                }
            });
        }
        engine.set_warm(false);
        // warm-up lines were counted when they were first read
        self.parser.stats = counted;
        n
    }

    /// Its counters for the metrics.
    pub fn counts(&self) -> crate::metrics::SourceCounts {
        let p = self.parser.stats;
        crate::metrics::SourceCounts {
            lines: p.lines,
            bytes: p.bytes,
            events: p.events,
            unparsed: p.unparsed,
            truncated: p.truncated + self.tail.truncated(),
            parse_errors: self.bad_lines,
        }
    }

    pub fn is_cowrie(&self) -> bool {
        self.cowrie
    }

    /// Counters of the line parser (lines, events, unparsed, truncated).
    pub fn parser_stats(&self) -> tripline_sensors::ParseStats {
        self.parser.stats
    }

    /// Read what is new (at most `max_bytes`) into `engine` as one batch with the position
    /// reached. Keep `max_bytes` near `batch_size` lines: it bounds the batch.
    pub fn poll(
        &mut self,
        engine: &mut Engine,
        max_bytes: usize,
        eof_flush: bool,
    ) -> Result<Poll, TailError> {
        let observed = Timestamp::now();
        let FileSource {
            tail,
            parser,
            cowrie,
            host,
            bad_lines,
            ..
        } = self;
        let poll = tail.poll(max_bytes, eof_flush, &mut |bytes, shared, off| {
            let pos = SourcePos {
                source: 0,
                offset: off,
            };
            let ev = line_event(
                parser,
                *cowrie,
                host,
                bad_lines,
                (bytes, shared),
                observed,
                pos,
            );
            if let Some(ev) = ev {
                engine.hold(ev);
            }
        })?;
        // One read is one batch: its events leave together with the position after the last
        // byte read, so a stored position never lags the alerts derived before it (a lag would
        // count those lines twice after a crash) nor runs ahead of them (a line lost).
        if poll == Poll::Data {
            let st = self.tail.state();
            engine.position(SourcePosition {
                name: self.name.clone(),
                dev: st.dev,
                ino: st.ino,
                offset: st.offset,
                head_hash: st.head_hash,
                cursor: None,
            });
            if self.tail.backlog() {
                engine.send_backlogged();
            } else {
                engine.send();
            }
        }
        Ok(poll)
    }
}
