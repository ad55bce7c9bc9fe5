//! Following the systemd journal through `journalctl -o json --follow`.
//!
//! Debian 12 has no auth.log by default; sshd, sudo and friends log only to the journal. We run
//! `journalctl` rather than linking libsystemd: no C dependency, and the journal's own tool
//! handles rotation, vacuuming and access rights. The position is the journal cursor, stored
//! with the derived alerts exactly like a file offset. A resume replays the entries of a span
//! before the cursor's own time (`--since`) to rebuild detection windows, as a file's warm-up
//! re-reads bytes before its offset: [`Resume`] tells those entries (up to the cursor) from
//! the new ones after it. Without a span it resumes with `--after-cursor`.
//!
//! The journal read is the system's, or the journal files in one directory (`--directory`):
//! a journal copied from another host, a container's, or one a test writes with
//! `systemd-journal-remote`.

use crate::source::{
    parse_table, Batch, Mode, OpenCx, SensorState, Source, SourceCx, SourceError, SourceSpec,
    SourceType,
};
use serde::Deserialize;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tripline_event::{Checkpoint, Event, Line, SensorKind, SourcePos, Timestamp};

/// One journal entry, reduced to what the syslog parser needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub cursor: String,
    pub ts: Option<Timestamp>,
    pub host: Option<String>,
    pub identifier: Option<String>,
    pub pid: Option<String>,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Field {
    Text(String),
    /// journald encodes non-UTF-8 fields as an array of bytes
    Bytes(Vec<u8>),
    Other(serde::de::IgnoredAny),
}

impl Field {
    fn text(self) -> Option<String> {
        match self {
            Field::Text(s) => Some(s),
            Field::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            Field::Other(_) => None,
        }
    }
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "__CURSOR")]
    cursor: Option<String>,
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    realtime: Option<String>,
    #[serde(rename = "_HOSTNAME")]
    hostname: Option<Field>,
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    identifier: Option<Field>,
    #[serde(rename = "SYSLOG_PID")]
    syslog_pid: Option<Field>,
    #[serde(rename = "_PID")]
    pid: Option<Field>,
    #[serde(rename = "MESSAGE")]
    message: Option<Field>,
}

/// Why a journal line was rejected.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("bad journal JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("journal entry without __CURSOR")]
    NoCursor,
    #[error("cannot run journalctl: {0}")]
    Spawn(io::Error),
}

/// Parse one line of `journalctl -o json`.
pub fn parse_entry(line: &str) -> Result<JournalEntry, JournalError> {
    let raw: RawEntry = serde_json::from_str(line)?;
    let cursor = raw.cursor.ok_or(JournalError::NoCursor)?;
    let ts = raw
        .realtime
        .and_then(|r| r.parse::<i64>().ok())
        .map(Timestamp);
    Ok(JournalEntry {
        cursor,
        ts,
        host: raw.hostname.and_then(Field::text),
        identifier: raw.identifier.and_then(Field::text),
        pid: raw
            .syslog_pid
            .and_then(Field::text)
            .or_else(|| raw.pid.and_then(Field::text)),
        message: raw.message.and_then(Field::text).unwrap_or_default(),
    })
}

/// The realtime a cursor names (its `t=` field, microseconds in hex), if it has one.
pub fn cursor_time(cursor: &str) -> Option<Timestamp> {
    cursor
        .split(';')
        .find_map(|f| f.strip_prefix("t="))
        .and_then(|t| u64::from_str_radix(t, 16).ok())
        .and_then(|t| i64::try_from(t).ok())
        .map(Timestamp)
}

/// Which journal to read and from where.
#[derive(Debug, Clone, Default)]
pub struct Follow<'a> {
    /// Journal files in this directory instead of the system journal.
    pub directory: Option<&'a Path>,
    /// The stored position: follow after it.
    pub cursor: Option<&'a str>,
    /// With a cursor, replay this many seconds before the cursor's time first (0: none).
    pub warmup_seconds: u64,
    /// Without a cursor: the whole journal instead of only what comes from now.
    pub from_start: bool,
    /// journalctl match expressions, OR-ed (`SYSLOG_FACILITY=10`).
    pub matches: &'a [String],
}

impl Follow<'_> {
    /// The replay a resume starts with, when there is one: the cursor has a time and a span
    /// is asked for.
    pub fn resume(&self) -> Option<Resume> {
        let cursor = self.cursor?;
        let until = cursor_time(cursor).filter(|_| self.warmup_seconds > 0)?;
        Some(Resume {
            cursor: cursor.to_string(),
            until,
            reached: false,
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("journalctl");
        if let Some(d) = self.directory {
            cmd.arg("--directory").arg(d);
        }
        cmd.args(["--no-pager", "--quiet"]);
        cmd
    }
}

/// Tells, in a resumed journal's replay, the entries up to the stored cursor (already read by
/// the last run: they only rebuild detection windows) from the new ones after it. The cursor's
/// entry itself is the last old one; when it is gone (vacuumed), an entry later than the
/// cursor's time is the first new one. An entry without a time counts as new: nothing is lost.
#[derive(Debug, Clone)]
pub struct Resume {
    cursor: String,
    until: Timestamp,
    reached: bool,
}

impl Resume {
    /// Whether `e`, the next entry of the replay, was read before (warm-up only).
    pub fn is_old(&mut self, e: &JournalEntry) -> bool {
        if self.reached {
            return false;
        }
        if e.cursor == self.cursor {
            self.reached = true;
            return true;
        }
        match e.ts {
            Some(ts) if ts <= self.until => true,
            _ => {
                self.reached = true;
                false
            }
        }
    }
}

/// A running `journalctl --follow`.
pub struct JournalFollower {
    child: Child,
    reader: BufReader<ChildStdout>,
    /// The replay it started with, if any ([`Follow::resume`]).
    resume: Option<Resume>,
}

impl JournalFollower {
    /// Follow the journal as `f` says: after its cursor (replaying the warm-up span before it
    /// first, see [`Follow::resume`]), or from now when there is none.
    pub fn spawn(f: &Follow<'_>) -> Result<Self, JournalError> {
        let mut cmd = f.command();
        cmd.args(["-o", "json", "--follow"]);
        let resume = f.resume();
        match (f.cursor, &resume) {
            (Some(_), Some(r)) => {
                let since = (r.until.0 / 1_000_000).saturating_sub(f.warmup_seconds as i64);
                cmd.arg(format!("--since=@{}", since.max(0)));
            }
            (Some(c), None) => {
                cmd.arg(format!("--after-cursor={c}"));
            }
            (None, _) if f.from_start => {}
            (None, _) => {
                cmd.args(["-n", "0"]);
            }
        }
        for (i, m) in f.matches.iter().enumerate() {
            if i > 0 {
                cmd.arg("+");
            }
            cmd.arg(m);
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().map_err(JournalError::Spawn)?;
        // Invariant: stdout was configured as piped just above.
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(JournalFollower {
            child,
            reader: BufReader::with_capacity(256 * 1024, stdout),
            resume,
        })
    }

    /// Whether `e`, the next entry read, is one of the replay's entries from before the stored
    /// cursor (warm-up only; see [`Resume::is_old`]). Always false without a replay.
    pub fn is_old(&mut self, e: &JournalEntry) -> bool {
        self.resume.as_mut().is_some_and(|r| r.is_old(e))
    }

    /// Block for the next line; `None` at end (journalctl exited).
    pub fn next_line(&mut self, buf: &mut String) -> io::Result<bool> {
        buf.clear();
        Ok(self.reader.read_line(buf)? > 0)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for JournalFollower {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether the journal `f` names can be read here (`journalctl` runs and lists something).
pub fn available(f: &Follow<'_>) -> bool {
    f.command()
        .args(["-n", "1", "-o", "cat"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entry_with_byte_array_message() {
        let line = r#"{"__CURSOR":"s=abc;i=1","__REALTIME_TIMESTAMP":"1700000000123456","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","_PID":"42","MESSAGE":[70,97,105,108,101,100,255]}"#;
        let e = parse_entry(line).unwrap();
        assert_eq!(e.cursor, "s=abc;i=1");
        assert_eq!(e.ts, Some(Timestamp(1_700_000_000_123_456)));
        assert_eq!(e.identifier.as_deref(), Some("sshd"));
        assert_eq!(e.pid.as_deref(), Some("42"));
        assert_eq!(e.message, "Failed\u{fffd}");
    }

    #[test]
    fn a_cursor_names_its_time() {
        let c = "s=d423b3d0;i=3;b=0123;m=25391d200;t=660e8d04dc5e1;x=23a5d4ad";
        assert_eq!(cursor_time(c), Some(Timestamp(0x660e8d04dc5e1)));
        assert_eq!(cursor_time("s=abc;i=1"), None);
        assert_eq!(cursor_time("t=zz"), None);
        assert_eq!(cursor_time("t=ffffffffffffffff"), None);
    }

    fn entry(cursor: &str, ts: Option<i64>) -> JournalEntry {
        JournalEntry {
            cursor: cursor.into(),
            ts: ts.map(Timestamp),
            host: None,
            identifier: None,
            pid: None,
            message: String::new(),
        }
    }

    #[test]
    fn a_replay_is_old_up_to_the_cursor_and_new_after_it() {
        let f = Follow {
            cursor: Some("i=2;t=64"), // time 100 µs
            warmup_seconds: 60,
            ..Default::default()
        };
        let mut r = f.resume().unwrap();
        assert!(r.is_old(&entry("i=1;t=32", Some(50))));
        // the cursor's own entry was read; an entry of the same time after it is new
        assert!(r.is_old(&entry("i=2;t=64", Some(100))));
        assert!(!r.is_old(&entry("i=3;t=64", Some(100))));
        assert!(!r.is_old(&entry("i=4;t=10", Some(16))), "new stays new");
        // the cursor's entry vacuumed: the first entry past its time is new
        let mut r = f.resume().unwrap();
        assert!(r.is_old(&entry("i=9;t=50", Some(80))));
        assert!(!r.is_old(&entry("i=10;t=c8", Some(200))));
        // an entry without a time is new (nothing is lost)
        let mut r = f.resume().unwrap();
        assert!(!r.is_old(&entry("x", None)));
        // no replay without a span, or with a cursor that has no time
        assert!(Follow {
            warmup_seconds: 0,
            ..f.clone()
        }
        .resume()
        .is_none());
        assert!(Follow {
            cursor: Some("s=1"),
            ..f
        }
        .resume()
        .is_none());
    }

    #[test]
    fn rejects_bad_entries() {
        assert!(matches!(parse_entry("{}"), Err(JournalError::NoCursor)));
        assert!(matches!(parse_entry("nope"), Err(JournalError::Json(_))));
        let e = parse_entry(r#"{"__CURSOR":"c","MESSAGE":{"x":1}}"#).unwrap();
        assert_eq!(e.message, "");
    }
}

// --- the journald source ----------------------------------------------------------------------

/// `[sources.journald]`: the systemd journal (via `journalctl`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournaldConfig {
    pub enabled: bool,
    /// journalctl matches, OR-ed (`SYSLOG_FACILITY=10` is authpriv).
    pub matches: Vec<String>,
    /// Read the journal files in this directory (`journalctl --directory`) instead of the
    /// system journal. Empty: the system journal.
    pub directory: String,
    /// On resuming at a stored cursor, replay the entries of this many minutes before it to
    /// rebuild detection windows (nothing is alerted twice). 0: off. At most 10080.
    pub resume_warmup_minutes: u64,
}

impl Default for JournaldConfig {
    fn default() -> Self {
        JournaldConfig {
            enabled: true,
            matches: vec!["SYSLOG_FACILITY=4".into(), "SYSLOG_FACILITY=10".into()],
            directory: String::new(),
            resume_warmup_minutes: 360,
        }
    }
}

/// The `journald` source type.
pub const JOURNALD: SourceType = SourceType {
    name: "journald",
    summary: "the systemd journal (journalctl), auth and authpriv facilities",
    parse: |key, table| {
        let c: JournaldConfig = parse_table(key, table)?;
        if c.resume_warmup_minutes > 10_080 {
            return Err(vec![format!(
                "{key}.resume_warmup_minutes = {}: must be 0..=10080 (a week)",
                c.resume_warmup_minutes
            )]);
        }
        Ok(Box::new(c))
    },
};

/// The journal's checkpoint key.
pub const CHECKPOINT: &str = "journald";

impl SourceSpec for JournaldConfig {
    fn type_name(&self) -> &'static str {
        "journald"
    }
    fn enabled(&self) -> bool {
        self.enabled
    }
    fn to_toml(&self) -> toml::Value {
        crate::source::table_of(self)
    }
    fn open(&self, name: &str, cx: &OpenCx<'_>) -> Result<Option<Box<dyn Source>>, SourceError> {
        // a scan reads files; the journal is followed live only
        if cx.mode == Mode::Scan || cx.files.is_some() {
            return Ok(None);
        }
        let stored = if cx.ignore_checkpoints {
            None
        } else {
            (cx.checkpoint)(CHECKPOINT).map(|c| c.value)
        };
        let mut source = JournaldSource {
            name: name.to_string(),
            cfg: self.clone(),
            stored,
            parser: crate::LineParser::new(cx.time.clone(), SensorKind::Journald, &cx.host),
            host: cx.host.as_str().into(),
            batch_size: cx.batch_size.max(1),
            queue: cx.max_batch_size.max(16),
            stats: JournalStats::default(),
            running: None,
            from_start: cx.from_start,
        };
        // started now, before the daemon says it is ready: what is written after that is read
        source.running = source.start(JournalStart::First);
        Ok(Some(Box::new(source)))
    }
}

/// What the journal source has done, for `/api/v1/sensors`.
#[derive(Debug, Default)]
struct JournalStats {
    entries: u64,
    events: u64,
    unparsed: u64,
    /// How far behind the entry's own time the last entry was read.
    lag_seconds: f64,
    cursor: Option<String>,
}

/// How often a journal that was not there is looked for again.
const JOURNAL_RETRY: Duration = Duration::from_secs(2);

/// How the journal is started.
enum JournalStart {
    /// At the start: after the stored cursor, replaying the warm-up span before it.
    First,
    /// A journal missing at the start has appeared: the same, but with no stored cursor all of
    /// it is read, as a file that appears is (all of it is new).
    Appeared,
    /// journalctl exited mid-run: on after the last cursor read (the windows are in memory, so
    /// nothing is replayed).
    Restart(Option<String>),
}

/// A running follower: each entry with whether it is a replayed one from before the stored
/// cursor, and the count of lines that were not journal JSON.
struct Running {
    entries: Receiver<(JournalEntry, bool)>,
    skipped: Arc<AtomicU64>,
    _reader: std::thread::JoinHandle<()>,
}

/// The journal as a source.
pub struct JournaldSource {
    name: String,
    cfg: JournaldConfig,
    /// The cursor stored by an earlier run.
    stored: Option<String>,
    parser: crate::LineParser,
    host: Arc<str>,
    batch_size: usize,
    queue: usize,
    stats: JournalStats,
    /// The follower started when the source was opened.
    running: Option<Running>,
    /// `run --from-start`: without a stored cursor, the whole journal rather than what comes
    /// from now (as a file without a stored position is then read from its start).
    from_start: bool,
}

impl JournaldSource {
    /// Start following the journal, or say why it cannot be (at the first start only: a retry
    /// is quiet).
    fn start(&self, how: JournalStart) -> Option<Running> {
        let j = &self.cfg;
        let directory = (!j.directory.is_empty()).then(|| Path::new(&j.directory));
        let (cursor, warmup_minutes) = match &how {
            JournalStart::Restart(read) => (read.clone().or_else(|| self.stored.clone()), 0),
            _ => (self.stored.clone(), j.resume_warmup_minutes),
        };
        let again = !matches!(how, JournalStart::First);
        let follow = Follow {
            directory,
            cursor: cursor.as_deref(),
            warmup_seconds: warmup_minutes * 60,
            from_start: match how {
                JournalStart::Appeared => true,
                JournalStart::First => self.from_start,
                JournalStart::Restart(_) => false,
            },
            matches: &j.matches,
        };
        if !available(&follow) {
            if again {
                return None;
            }
            match directory {
                Some(d) => tracing::warn!(
                    source = %self.name,
                    directory = %d.display(),
                    "the journal is not available here (no journal files in the directory, or no permission to read them); watching for it"
                ),
                None => {
                    tracing::warn!(source = %self.name, "the journal is not available here (no journal or no permission: add the user to `systemd-journal` or `adm`); watching for it")
                }
            }
            return None;
        }
        if matches!(how, JournalStart::Appeared) {
            tracing::info!(source = %self.name, "the journal appeared; following it");
        }
        let mut follower = match JournalFollower::spawn(&follow) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(source = %self.name, error = %e, "cannot follow the journal");
                return None;
            }
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(self.queue);
        let skipped = Arc::new(AtomicU64::new(0));
        let skipped_here = skipped.clone();
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            let mut bad = 0u64;
            while let Ok(true) = follower.next_line(&mut line) {
                match parse_entry(line.trim_end()) {
                    Ok(e) => {
                        let old = follower.is_old(&e);
                        if tx.send((e, old)).is_err() {
                            break;
                        }
                    }
                    Err(_) => {
                        bad += 1;
                        skipped_here.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
            if bad > 0 {
                tracing::warn!(entries = bad, "skipped unreadable journal entries");
            }
        });
        Some(Running {
            entries: rx,
            skipped,
            _reader: reader,
        })
    }

    /// One entry as an event (when it is one).
    fn event(&mut self, entry: &JournalEntry) -> Option<Event> {
        let h = crate::Header {
            ts: entry.ts,
            host: entry.host.as_deref(),
            program: entry.identifier.as_deref(),
            pid: entry.pid.as_deref(),
            msg: &entry.message,
        };
        let p = self.parser.parse_message(&h)?;
        let raw: Line = format!(
            "{} {}[{}]: {}",
            entry.host.as_deref().unwrap_or("-"),
            entry.identifier.as_deref().unwrap_or("-"),
            entry.pid.as_deref().unwrap_or("-"),
            entry.message
        )
        .into();
        let host: Arc<str> = match entry.host.as_deref() {
            Some(h) => h.into(),
            None => self.host.clone(),
        };
        Some(crate::build_event(
            p,
            Timestamp::now(),
            SensorKind::Journald,
            host,
            raw,
            SourcePos::default(),
        ))
    }

    fn state(&self, running: Option<&Running>, prev: &mut (u64, Instant)) -> SensorState {
        let now = Instant::now();
        let j = &self.stats;
        let dt = now.duration_since(prev.1).as_secs_f64().max(1e-3);
        let per_second = j.entries.saturating_sub(prev.0) as f64 / dt;
        *prev = (j.entries, now);
        SensorState {
            sensor: "journald",
            path: "journal".into(),
            state: if running.is_some() {
                "reading".into()
            } else {
                "missing".into()
            },
            cursor: j.cursor.clone(),
            lag_seconds: j.lag_seconds,
            lines: j.entries,
            events: j.events,
            unparsed_lines: j.unparsed,
            parse_errors: running
                .map_or(0, |r| r.skipped.load(std::sync::atomic::Ordering::Relaxed)),
            lines_per_second: per_second,
            ..SensorState::default()
        }
    }
}

impl Source for JournaldSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, cx: &mut SourceCx<'_>) -> Result<(), SourceError> {
        let mut running = self.running.take();
        // whether a journalctl ran in this process (its windows are in memory)
        let mut ran = running.is_some();
        let mut retry = Instant::now() + JOURNAL_RETRY;
        let mut replayed = 0u64;
        let report_replay = |n: &mut u64| {
            if *n > 0 {
                tracing::info!(
                    entries = *n,
                    "windows rebuilt from the journal entries before the stored cursor"
                );
                *n = 0;
            }
        };
        let mut prev = (0u64, Instant::now());
        let mut reported = Instant::now() - Duration::from_secs(2);
        let mut events: Vec<Event> = vec![];
        let mut warm = false;
        while !cx.stop.is_stopped() {
            if running.is_none() && Instant::now() >= retry {
                let how = if ran {
                    JournalStart::Restart(self.stats.cursor.clone())
                } else {
                    JournalStart::Appeared
                };
                running = self.start(how);
                ran |= running.is_some();
                retry = Instant::now() + JOURNAL_RETRY;
            }
            if reported.elapsed() >= Duration::from_secs(1) {
                cx.health.set(vec![self.state(running.as_ref(), &mut prev)]);
                reported = Instant::now();
            }
            let Some(r) = &running else {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            };
            // wait for the first entry (a tenth of a second at most, to see a stop), then take
            // what else is there, up to a batch
            let mut first = Some(r.entries.recv_timeout(Duration::from_millis(100)));
            let mut exited = false;
            let mut checkpoint = None;
            loop {
                let next = match first.take() {
                    Some(Ok(e)) => Some(e),
                    Some(Err(RecvTimeoutError::Timeout)) => None,
                    Some(Err(RecvTimeoutError::Disconnected)) => {
                        exited = true;
                        None
                    }
                    None => match r.entries.try_recv() {
                        Ok(e) => Some(e),
                        Err(std::sync::mpsc::TryRecvError::Empty) => None,
                        Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                            exited = true;
                            None
                        }
                    },
                };
                let Some((entry, old)) = next else { break };
                // a replayed entry rebuilds windows and alerts nothing; the position stays. A
                // batch is one or the other: a change sends what is queued first
                if old != warm && (!events.is_empty() || checkpoint.is_some()) {
                    cx.out.emit(Batch {
                        events: std::mem::take(&mut events),
                        checkpoint: checkpoint.take(),
                        warm,
                        backlog: true,
                    });
                }
                warm = old;
                if old {
                    replayed += 1;
                } else {
                    self.stats.entries += 1;
                    report_replay(&mut replayed);
                }
                if let Some(ts) = entry.ts {
                    self.stats.lag_seconds =
                        Timestamp::now().0.saturating_sub(ts.0).max(0) as f64 / 1e6;
                }
                match self.event(&entry) {
                    Some(ev) => {
                        self.stats.events += !old as u64;
                        events.push(ev);
                    }
                    None => self.stats.unparsed += !old as u64,
                }
                if !old {
                    self.stats.cursor = Some(entry.cursor.clone());
                    checkpoint = Some(Checkpoint {
                        source: CHECKPOINT.into(),
                        value: entry.cursor,
                    });
                }
                if events.len() >= self.batch_size {
                    // a full batch leaves before the next entry is added, so a cursor never
                    // runs ahead of its events
                    cx.out.emit(Batch {
                        events: std::mem::take(&mut events),
                        checkpoint: checkpoint.take(),
                        warm,
                        backlog: true,
                    });
                }
            }
            if !events.is_empty() || checkpoint.is_some() {
                cx.out.emit(Batch {
                    events: std::mem::take(&mut events),
                    checkpoint: checkpoint.take(),
                    warm,
                    backlog: false,
                });
            }
            if exited {
                tracing::warn!(source = %self.name, "journalctl exited; starting it again");
                running = None;
                retry = Instant::now() + JOURNAL_RETRY;
            }
        }
        report_replay(&mut replayed);
        cx.health.set(vec![self.state(running.as_ref(), &mut prev)]);
        Ok(())
    }
}
