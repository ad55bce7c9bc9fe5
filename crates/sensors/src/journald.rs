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

use serde::Deserialize;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use tripline_event::Timestamp;

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
