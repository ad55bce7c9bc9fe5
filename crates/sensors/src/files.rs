//! Files as a source: syslog text files (`[sources.files]`) and Cowrie JSON logs
//! (`[sources.cowrie]`), and the file following that the JSON-lines source shares.
//!
//! Each file is followed by a [`Tailer`] (rotation, truncation, a file that appears later);
//! one read is one [`Batch`], handed over with the checkpoint after the last byte read, so a
//! stored checkpoint never lags the alerts derived before it (a lag would count those lines
//! twice after a crash) nor runs ahead of them (a line lost). Live, inotify on the files'
//! directories wakes the source at once; without it, it polls every `poll_interval_seconds`.
//! On resuming from a stored checkpoint, up to `resume_warmup_mib` before it is replayed as
//! warm-up, so an attack that straddles a restart is caught as if there had been none.

use crate::source::{
    parse_table, Batch, Health, Mode, OpenCx, SensorState, Source, SourceCx, SourceError,
    SourceSpec, SourceType,
};
use crate::tail::{LineSplitter, Poll, TailError, TailState, Tailer, READ_BYTES};
use crate::{LineParser, TimeContext};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tripline_event::{Checkpoint, Event, Line, SensorKind, SourcePos, Timestamp};

/// `[sources.files]`: syslog text files (auth.log, secure, syslog, messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    pub enabled: bool,
    /// Paths or globs. Missing files are reported and watched for; globs are expanded again
    /// while following, and a file that matches later is read from its start.
    pub paths: Vec<String>,
    /// Read files never seen before from their start instead of their end.
    pub from_start: bool,
    /// On resuming a file, re-read up to this many MiB before the stored position to rebuild
    /// detection windows (nothing is alerted twice). 0: off. At most 4096.
    pub resume_warmup_mib: u64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            enabled: true,
            paths: vec!["/var/log/auth.log".into(), "/var/log/secure".into()],
            from_start: false,
            resume_warmup_mib: 16,
        }
    }
}

/// `[sources.cowrie]`: Cowrie honeypot JSON logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CowrieConfig {
    pub enabled: bool,
    pub paths: Vec<String>,
}

impl Default for CowrieConfig {
    fn default() -> Self {
        CowrieConfig {
            enabled: true,
            paths: vec![
                "/home/cowrie/cowrie/var/log/cowrie/cowrie.json".into(),
                "/var/log/cowrie/cowrie.json".into(),
            ],
        }
    }
}

/// The `files` source type.
pub const FILES: SourceType = SourceType {
    name: "files",
    summary: "syslog text files (auth.log, secure): sshd, sudo, su, accounts, logind",
    parse: |key, table| {
        let c: FilesConfig = parse_table(key, table)?;
        if c.resume_warmup_mib > 4096 {
            return Err(vec![format!(
                "{key}.resume_warmup_mib = {}: must be 0..=4096",
                c.resume_warmup_mib
            )]);
        }
        Ok(Box::new(c))
    },
};

/// The `cowrie` source type.
pub const COWRIE: SourceType = SourceType {
    name: "cowrie",
    summary: "Cowrie honeypot JSON logs",
    parse: |key, table| Ok(Box::new(parse_table::<CowrieConfig>(key, table)?)),
};

impl SourceSpec for FilesConfig {
    fn type_name(&self) -> &'static str {
        "files"
    }
    fn enabled(&self) -> bool {
        self.enabled
    }
    fn to_toml(&self) -> toml::Value {
        crate::source::table_of(self)
    }
    fn open(&self, name: &str, cx: &OpenCx<'_>) -> Result<Option<Box<dyn Source>>, SourceError> {
        let warmup = self.resume_warmup_mib << 20;
        let set = FileSet::open(
            name,
            "files",
            &self.paths,
            Decoder::Syslog,
            warmup,
            self.from_start,
            cx,
        );
        FileSet::boxed(set)
    }
}

impl SourceSpec for CowrieConfig {
    fn type_name(&self) -> &'static str {
        "cowrie"
    }
    fn enabled(&self) -> bool {
        self.enabled
    }
    fn to_toml(&self) -> toml::Value {
        crate::source::table_of(self)
    }
    fn open(&self, name: &str, cx: &OpenCx<'_>) -> Result<Option<Box<dyn Source>>, SourceError> {
        // warm-up as for syslog files (16 MiB): a resumed file rebuilds what windows it fed
        let set = FileSet::open(
            name,
            "cowrie",
            &self.paths,
            Decoder::Cowrie,
            16 << 20,
            false,
            cx,
        );
        FileSet::boxed(set)
    }
}

/// How a file's lines become events.
#[derive(Clone)]
pub enum Decoder {
    /// Syslog lines ([`LineParser`]).
    Syslog,
    /// Cowrie JSON events.
    Cowrie,
    /// JSON lines mapped by a `[sources.NAME]` table ([`crate::jsonl`]).
    Jsonl(Box<crate::jsonl::Mapping>),
}

/// The checkpoint key of `path` in a source of type `sensor` called `name`: `file:/abs/path`
/// and `cowrie:/abs/path` for the built-in tables, `NAME:/abs/path` for others.
pub fn checkpoint_key(sensor: &str, name: &str, path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let prefix = match (sensor, name) {
        ("files", "files") => "file",
        ("cowrie", "cowrie") => "cowrie",
        (_, n) => n,
    };
    format!("{prefix}:{}", abs.display())
}

/// A file's checkpoint value: `dev ino offset head_hash`.
pub fn checkpoint_value(st: &TailState) -> String {
    format!("{} {} {} {}", st.dev, st.ino, st.offset, st.head_hash)
}

/// A checkpoint value read back; None when it is not one a file wrote.
pub fn parse_checkpoint(value: &str) -> Option<TailState> {
    let mut it = value.split(' ').map(|v| v.parse::<u64>());
    let mut next = || it.next()?.ok();
    let st = TailState {
        dev: next()?,
        ino: next()?,
        offset: next()?,
        head_hash: next()?,
    };
    next().is_none().then_some(st)
}

/// One followed file and how its lines become events.
pub struct Followed {
    /// Key of its checkpoint ([`checkpoint_key`]).
    pub id: String,
    pub tail: Tailer,
    parser: LineParser,
    decoder: Decoder,
    host: Arc<str>,
    /// Lines that should have been events and were not (invalid Cowrie or JSON lines).
    pub bad_lines: u64,
    /// Resumed from a stored checkpoint (so there is something to warm up from).
    resumed: bool,
    /// Its absence or error was reported (once until it reads again).
    reported: bool,
    /// When it was last caught up, and its lines at the last health report.
    caught_up: Instant,
    reported_lines: (u64, Instant),
    /// Events of the largest read so far (capacity of the next read's vector).
    events_hint: usize,
}

/// The most events a read's vector is made ready for at once.
const MAX_EVENTS_HINT: usize = 16 * 1024;

impl Followed {
    /// Follow `path` from its stored checkpoint (or, never seen, from its start or end).
    pub fn open(
        id: String,
        path: &Path,
        decoder: Decoder,
        tc: TimeContext,
        host: &str,
        saved: Option<TailState>,
        from_start: bool,
    ) -> Result<Followed, TailError> {
        let resumed = saved.is_some();
        let sensor = match decoder {
            Decoder::Cowrie => SensorKind::Cowrie,
            _ => SensorKind::Files,
        };
        Ok(Followed {
            id,
            tail: Tailer::open(path, saved, from_start)?,
            parser: LineParser::new(tc, sensor, host),
            decoder,
            host: host.into(),
            bad_lines: 0,
            resumed,
            reported: false,
            caught_up: Instant::now(),
            reported_lines: (0, Instant::now()),
            events_hint: 64,
        })
    }

    /// Counters of the line parser (lines, events, unparsed, truncated).
    pub fn parser_stats(&self) -> crate::ParseStats {
        self.parser.stats
    }

    /// Read what is new (at most `max_bytes`) as one batch with the checkpoint reached.
    pub fn poll(
        &mut self,
        out: &mut dyn crate::source::Emit,
        max_bytes: usize,
        eof_flush: bool,
    ) -> Result<Poll, TailError> {
        let observed = Timestamp::now();
        // sized as the largest read so far: growing a vector of events copies them each time
        let mut events = Vec::with_capacity(self.events_hint);
        let Followed {
            tail,
            parser,
            decoder,
            host,
            bad_lines,
            ..
        } = self;
        let poll = tail.poll(max_bytes, eof_flush, &mut |bytes, shared, off| {
            let pos = SourcePos {
                source: 0,
                offset: off,
            };
            let line = (bytes, shared);
            if let Some(ev) = line_event(parser, decoder, host, bad_lines, line, observed, pos) {
                events.push(ev);
            }
        })?;
        self.events_hint = self.events_hint.max(events.len()).min(MAX_EVENTS_HINT);
        if poll == Poll::Data {
            out.emit(Batch {
                events,
                checkpoint: Some(Checkpoint {
                    source: self.id.clone(),
                    value: checkpoint_value(self.tail.state()),
                }),
                warm: false,
                backlog: self.tail.backlog(),
            });
        }
        Ok(poll)
    }

    /// After resuming from a stored checkpoint, replay up to `budget` bytes before it as
    /// warm-up: detection windows, sshd connection state and login history are rebuilt,
    /// nothing is alerted or counted twice. Returns the lines replayed; reading errors only
    /// shorten the warm-up.
    pub fn warm_up(
        &mut self,
        out: &mut dyn crate::source::Emit,
        budget: u64,
        batch_size: usize,
    ) -> u64 {
        use std::io::{Read, Seek, SeekFrom};
        let end = self.tail.state().offset;
        if budget == 0 || end == 0 || !self.tail.is_open() || !self.resumed {
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
        // lines cut as the tailer cuts them; the first is partial when the budget starts mid-line
        let mut splitter = LineSplitter::default();
        let mut buf = vec![0u8; READ_BYTES];
        let (mut offset, mut n) = (start, 0u64);
        let mut skip_first = start > 0;
        let mut ignored_bad_lines = 0;
        let mut events = Vec::new();
        let Followed {
            parser,
            decoder,
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
                let line = (bytes, shared);
                let pos = SourcePos::default();
                let bad = &mut ignored_bad_lines;
                if let Some(ev) = line_event(parser, decoder, host, bad, line, observed, pos) {
                    events.push(ev);
                    if events.len() >= batch_size.max(1) {
                        out.emit(Batch {
                            events: std::mem::take(&mut events),
                            warm: true,
                            ..Batch::default()
                        });
                    }
                }
            });
        }
        if !events.is_empty() {
            out.emit(Batch {
                events,
                warm: true,
                ..Batch::default()
            });
        }
        // warm-up lines were counted when they were first read
        self.parser.stats = counted;
        n
    }

    /// What `/api/v1/sensors` shows of it now.
    pub fn state(&mut self, sensor: &'static str, now: Instant) -> SensorState {
        let p = self.parser.stats;
        let offset = self.tail.state().offset;
        let size = std::fs::metadata(self.tail.path())
            .map(|m| m.len())
            .unwrap_or(0);
        let lag = size.saturating_sub(offset);
        if lag == 0 {
            self.caught_up = now;
        }
        let (before, t) = self.reported_lines;
        let dt = now.duration_since(t).as_secs_f64().max(1e-3);
        self.reported_lines = (p.lines, now);
        SensorState {
            sensor,
            path: self.tail.path().display().to_string(),
            state: if self.tail.is_open() {
                "reading".into()
            } else {
                "missing".into()
            },
            offset,
            cursor: None,
            size,
            lag_bytes: lag,
            lag_seconds: now.duration_since(self.caught_up).as_secs_f64(),
            lines: p.lines,
            events: p.events,
            unparsed_lines: p.unparsed,
            truncated_lines: p.truncated + self.tail.truncated(),
            parse_errors: self.bad_lines,
            dropped: 0,
            lines_per_second: p.lines.saturating_sub(before) as f64 / dt,
            bytes: p.bytes,
        }
    }
}

/// One line of a file as an event, by the file's decoder (lines that should have been events
/// and are not are counted in `bad_lines`).
fn line_event(
    parser: &mut LineParser,
    decoder: &mut Decoder,
    host: &Arc<str>,
    bad_lines: &mut u64,
    (bytes, shared): (&[u8], Option<&Arc<str>>),
    observed: Timestamp,
    pos: SourcePos,
) -> Option<Event> {
    // a line inside the read's shared buffer is text already (the read was checked as a whole)
    let (shared, line) = match shared.and_then(|b| Some((b, Line::str_in(b, bytes)?))) {
        Some((buf, line)) => (Some(buf), std::borrow::Cow::Borrowed(line)),
        None => (None, crate::decode_lossy(bytes)),
    };
    let decoded = match decoder {
        Decoder::Syslog => return parser.event_in(shared, &line, observed, pos),
        Decoder::Cowrie => parser
            .cowrie_event_in(shared, &line, observed, pos, host)
            .map_err(|_| ()),
        Decoder::Jsonl(m) => m.event_in(parser, shared, &line, observed, pos, host),
    };
    decoded.unwrap_or_else(|()| {
        *bad_lines += 1;
        None
    })
}

/// The patterns among `paths` that are globs; None when none is.
fn paths_globs(paths: &[String]) -> Option<Vec<String>> {
    let globs: Vec<String> = paths.iter().filter(|p| is_glob(p)).cloned().collect();
    (!globs.is_empty()).then_some(globs)
}

/// Paths and globs as files: every match of a glob, or the pattern itself when nothing matches
/// yet (it is watched for).
pub fn expand(patterns: &[String]) -> Vec<PathBuf> {
    let mut out = vec![];
    for p in patterns {
        let matched: Vec<PathBuf> = glob::glob(p)
            .map(|g| g.flatten().collect())
            .unwrap_or_default();
        if matched.is_empty() {
            out.push(PathBuf::from(p)); // watched for
        } else {
            out.extend(matched);
        }
    }
    out
}

/// A source of followed files: `files`, `cowrie`, or a JSON-lines source.
pub struct FileSet {
    name: String,
    sensor: &'static str,
    files: Vec<Followed>,
    warmup_bytes: u64,
    batch_size: usize,
    max_batch_size: usize,
    poll: Duration,
    /// Its globs, expanded again while it follows (a file that matches later is read too).
    globs: Option<Globs>,
}

/// What following a file that a glob matches later takes.
struct Globs {
    patterns: Vec<String>,
    decoder: Decoder,
    time: crate::TimeContext,
    host: String,
    /// When they were last expanded.
    expanded: Instant,
}

/// How often a set's globs are expanded again while it follows.
const GLOB_RESCAN: Duration = Duration::from_secs(5);

/// Whether a path is a glob pattern.
fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

impl FileSet {
    /// Open the files of `paths` (or the files the command line names instead), each from its
    /// stored checkpoint. In a scan, a file that is not there is an error; live, it is
    /// reported and watched for. `Ok(None)` when there is no file at all.
    pub fn open(
        name: &str,
        sensor: &'static str,
        paths: &[String],
        decoder: Decoder,
        warmup_bytes: u64,
        from_start: bool,
        cx: &OpenCx<'_>,
    ) -> Result<Option<FileSet>, SourceError> {
        let err = |message: String| SourceError {
            source_name: name.to_string(),
            message,
        };
        let paths_cfg = paths;
        let paths = match &cx.files {
            Some(f) => f.clone(),
            None => expand(paths),
        };
        if paths.is_empty() {
            return Ok(None);
        }
        let mut files = vec![];
        for path in &paths {
            let id = checkpoint_key(sensor, name, path);
            let saved = if cx.ignore_checkpoints {
                None
            } else {
                (cx.checkpoint)(&id).and_then(|c| parse_checkpoint(&c.value))
            };
            let d = decoder.clone();
            let from_start = from_start || cx.from_start || cx.mode == Mode::Scan;
            match Followed::open(id, path, d, cx.time.clone(), &cx.host, saved, from_start) {
                Ok(f) if cx.mode == Mode::Scan && !f.tail.is_open() => {
                    return Err(err(format!("{}: no such file", path.display())));
                }
                Ok(f) => files.push(f),
                Err(e) if cx.mode == Mode::Scan => return Err(err(e.to_string())),
                Err(e) => {
                    tracing::warn!(source = name, path = %path.display(), error = %e, "cannot read")
                }
            }
        }
        let globs = (cx.files.is_none() && cx.mode == Mode::Follow)
            .then(|| paths_globs(paths_cfg))
            .flatten()
            .map(|patterns| Globs {
                patterns,
                decoder: decoder.clone(),
                time: cx.time.clone(),
                host: cx.host.clone(),
                expanded: Instant::now(),
            });
        Ok(Some(FileSet {
            name: name.to_string(),
            sensor,
            files,
            warmup_bytes,
            batch_size: cx.batch_size,
            max_batch_size: cx.max_batch_size,
            poll: cx.poll_interval,
            globs,
        }))
    }

    /// Expand the globs again (at most every [`GLOB_RESCAN`]): a file that matches now and is not
    /// followed yet is followed from its start (it was made after the set started), and the
    /// pattern that stood for its matches while there were none is dropped.
    fn rescan_globs(&mut self) -> bool {
        let Some(g) = self.globs.as_mut() else {
            return false;
        };
        if g.expanded.elapsed() < GLOB_RESCAN.min(self.poll.max(Duration::from_millis(100))) {
            return false;
        }
        g.expanded = Instant::now();
        let mut added = false;
        for path in expand(&g.patterns) {
            if self.files.iter().any(|f| f.tail.path() == path) || is_glob(&path.to_string_lossy())
            {
                continue;
            }
            let id = checkpoint_key(self.sensor, &self.name, &path);
            match Followed::open(
                id,
                &path,
                g.decoder.clone(),
                g.time.clone(),
                &g.host,
                None,
                true,
            ) {
                Ok(f) => {
                    tracing::info!(source = %self.name, path = %path.display(), "a new file matches: following it");
                    self.files.push(f);
                    added = true;
                }
                Err(e) => {
                    tracing::warn!(source = %self.name, path = %path.display(), error = %e, "cannot read")
                }
            }
        }
        if added {
            // a pattern kept as a path while nothing matched it is no file
            self.files
                .retain(|f| !is_glob(&f.tail.path().to_string_lossy()) || f.tail.is_open());
        }
        added
    }

    /// An opened set as a source ([`SourceSpec::open`]'s answer).
    #[allow(clippy::type_complexity)]
    pub fn boxed(
        set: Result<Option<FileSet>, SourceError>,
    ) -> Result<Option<Box<dyn Source>>, SourceError> {
        Ok(set?.map(|s| Box::new(s) as Box<dyn Source>))
    }

    /// The files it follows.
    pub fn files(&self) -> &[Followed] {
        &self.files
    }

    fn report(&mut self, health: &Health) {
        let now = Instant::now();
        let sensor = self.sensor;
        health.set(
            self.files
                .iter_mut()
                .map(|f| f.state(sensor, now))
                .collect(),
        );
    }
}

impl Source for FileSet {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, cx: &mut SourceCx<'_>) -> Result<(), SourceError> {
        let scan = cx.mode == Mode::Scan;
        let (wake_tx, wake) = std::sync::mpsc::channel::<()>();
        let inotify = !scan
            && watch_dirs(
                self.files
                    .iter()
                    .map(|f| f.tail.path().to_path_buf())
                    .collect(),
                wake_tx.clone(),
            );
        cx.stop.wake_on_stop(wake_tx);
        if !scan && !inotify && !self.files.is_empty() {
            tracing::info!(
                source = %self.name,
                "no directory of its files can be watched with inotify (yet): polling"
            );
        }
        let warm_start = Instant::now();
        let warmed: u64 = self
            .files
            .iter_mut()
            .map(|f| f.warm_up(cx.out, self.warmup_bytes, self.batch_size))
            .sum();
        if warmed > 0 {
            tracing::info!(
                source = %self.name,
                lines = warmed,
                ms = format_args!("{:.1}", warm_start.elapsed().as_secs_f64() * 1000.0),
                "windows rebuilt from the lines before the stored positions"
            );
        }
        let (max_bytes, eof_flush) = if scan {
            (self.batch_size.max(64) * 128, true)
        } else {
            (self.max_batch_size * 128, false)
        };
        let mut reported = Instant::now() - Duration::from_secs(2);
        self.report(&cx.health);
        loop {
            let mut busy = false;
            for f in self.files.iter_mut() {
                match f.poll(cx.out, max_bytes, eof_flush) {
                    Ok(Poll::Data) => {
                        busy = true;
                        f.reported = false;
                    }
                    // a read that ended inside a long line delivers nothing yet: more to read
                    Ok(Poll::Idle) if f.tail.backlog() => busy = true,
                    Ok(Poll::Missing) if !f.reported && !scan => {
                        tracing::warn!(
                            source = %self.name,
                            path = %f.tail.path().display(),
                            "missing; watching for it"
                        );
                        f.reported = true;
                    }
                    Ok(_) => {}
                    Err(e) if scan => {
                        return Err(SourceError {
                            source_name: self.name.clone(),
                            message: e.to_string(),
                        })
                    }
                    Err(e) => {
                        if !f.reported {
                            tracing::warn!(
                                source = %self.name,
                                path = %f.tail.path().display(),
                                error = %e,
                                "cannot read"
                            );
                            f.reported = true;
                        }
                    }
                }
            }
            if reported.elapsed() >= Duration::from_secs(1) {
                self.report(&cx.health);
                reported = Instant::now();
            }
            if busy && !cx.stop.is_stopped() {
                continue;
            }
            if scan || cx.stop.is_stopped() {
                break;
            }
            // caught up: commit what a backlog left between checkpoints, then wait
            cx.out.emit(Batch::default());
            let _ = wake.recv_timeout(self.poll.min(GLOB_RESCAN));
            while wake.try_recv().is_ok() {}
            if self.rescan_globs() {
                self.report(&cx.health);
            }
        }
        self.report(&cx.health);
        let bad: u64 = self.files.iter().map(|f| f.bad_lines).sum();
        if bad > 0 {
            let what = match self.sensor {
                "cowrie" => "Cowrie JSON",
                _ => "JSON events of its mapping",
            };
            tracing::warn!(
                source = %self.name,
                lines = bad,
                "{bad} lines were not valid {what} and were skipped"
            );
        }
        Ok(())
    }
}

/// Watch the parent directories of `paths` with inotify; true when it works.
pub fn watch_dirs(paths: Vec<PathBuf>, wake: Sender<()>) -> bool {
    use inotify::{Inotify, WatchMask};
    let Ok(mut ino) = Inotify::init() else {
        return false;
    };
    let mut dirs: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| {
            p.parent().map(|d| {
                if d.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    d.to_path_buf()
                }
            })
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let mask = WatchMask::MODIFY
        | WatchMask::CREATE
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM
        | WatchMask::DELETE
        | WatchMask::CLOSE_WRITE;
    let mut any = false;
    for d in dirs {
        any |= ino.watches().add(&d, mask).is_ok();
    }
    if !any {
        return false;
    }
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while ino.read_events_blocking(&mut buf).is_ok() {
            if wake.send(()).is_err() {
                break;
            }
        }
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_checkpoint_reads_back_and_nothing_else_passes_for_one() {
        let st = TailState {
            dev: 2049,
            ino: 77,
            offset: 123_456,
            head_hash: u64::MAX,
        };
        assert_eq!(parse_checkpoint(&checkpoint_value(&st)), Some(st));
        for bad in ["", "1 2 3", "1 2 3 4 5", "a b c d", "s=abc;i=9"] {
            assert_eq!(parse_checkpoint(bad), None, "{bad:?}");
        }
        let p = Path::new("/nonexistent/auth.log");
        assert_eq!(
            checkpoint_key("files", "files", p),
            "file:/nonexistent/auth.log"
        );
        assert_eq!(
            checkpoint_key("cowrie", "cowrie", p),
            "cowrie:/nonexistent/auth.log"
        );
        assert_eq!(
            checkpoint_key("jsonl", "myapp", p),
            "myapp:/nonexistent/auth.log"
        );
    }
}
