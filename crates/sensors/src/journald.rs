//! Following the systemd journal through `journalctl -o json --follow`.
//!
//! Debian 12 has no auth.log by default; sshd, sudo and friends log only to the journal. We run
//! `journalctl` rather than linking libsystemd: no C dependency, and the journal's own tool
//! handles rotation, vacuuming and access rights. The position is the journal cursor, stored
//! with the derived alerts exactly like a file offset, and resumed with `--after-cursor`.

use serde::Deserialize;
use std::io::{self, BufRead, BufReader};
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

/// A running `journalctl --follow`.
pub struct JournalFollower {
    child: Child,
    reader: BufReader<ChildStdout>,
}

impl JournalFollower {
    /// Follow the journal after `cursor`, or from now when there is none (`from_start` reads the
    /// whole journal). `matches` are journalctl match expressions (`SYSLOG_FACILITY=10`).
    pub fn spawn(
        cursor: Option<&str>,
        from_start: bool,
        matches: &[String],
    ) -> Result<Self, JournalError> {
        let mut cmd = Command::new("journalctl");
        cmd.args(["-o", "json", "--follow", "--no-pager", "--quiet"]);
        match cursor {
            Some(c) => {
                cmd.arg(format!("--after-cursor={c}"));
            }
            None if from_start => {}
            None => {
                cmd.args(["-n", "0"]);
            }
        }
        for (i, m) in matches.iter().enumerate() {
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
        })
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

/// Whether this machine has a journal we can read (`journalctl` runs and lists something).
pub fn available() -> bool {
    Command::new("journalctl")
        .args(["-n", "1", "-q", "--no-pager", "-o", "cat"])
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
    fn rejects_bad_entries() {
        assert!(matches!(parse_entry("{}"), Err(JournalError::NoCursor)));
        assert!(matches!(parse_entry("nope"), Err(JournalError::Json(_))));
        let e = parse_entry(r#"{"__CURSOR":"c","MESSAGE":{"x":1}}"#).unwrap();
        assert_eq!(e.message, "");
    }
}
