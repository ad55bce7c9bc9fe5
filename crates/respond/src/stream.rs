//! `stream_jsonl` (`output.stream_jsonl`): devilnet's `stream.jsonl`, one alert record per line,
//! appended, so devilnet's users keep their tooling.

use crate::{risk_band, RespondError, Responder};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use tripline_event::Alert;

#[derive(Serialize)]
pub(crate) struct StreamRecord<'a> {
    timestamp: String,
    alert_id: &'a str,
    rule: &'a str,
    severity: &'a str,
    risk_score: f32,
    risk_level: &'static str,
    source_ip: Option<String>,
    username: Option<&'a str>,
    hostname: &'a str,
    mitre_techniques: &'a [&'a str],
    event_count: u64,
    first_seen: String,
    last_seen: String,
    explanation: &'a str,
    evidence: &'a [std::sync::Arc<str>],
}

/// devilnet's alert record.
pub(crate) fn record(a: &Alert) -> StreamRecord<'_> {
    StreamRecord {
        timestamp: a.last_seen.to_string(),
        alert_id: &a.id,
        rule: &a.rule,
        severity: a.severity.as_str(),
        risk_score: a.score,
        risk_level: risk_band(a.score),
        source_ip: a.src_ip.map(|i| i.to_string()),
        username: a.user.as_deref(),
        hostname: &a.host,
        mitre_techniques: &a.techniques,
        event_count: a.count,
        first_seen: a.first_seen.to_string(),
        last_seen: a.last_seen.to_string(),
        explanation: &a.explanation,
        evidence: &a.evidence,
    }
}

/// Appends alert records to `stream.jsonl`.
pub struct StreamJsonl {
    out: BufWriter<File>,
}

impl StreamJsonl {
    /// Open (create, append to) the file at `path`, making its directory.
    pub fn open(path: &Path) -> io::Result<StreamJsonl> {
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)?;
        }
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(StreamJsonl {
            out: BufWriter::new(f),
        })
    }
}

impl Responder for StreamJsonl {
    fn name(&self) -> &'static str {
        "stream_jsonl"
    }

    fn respond(&mut self, alerts: &[Alert]) -> Result<(), RespondError> {
        for a in alerts {
            serde_json::to_writer(&mut self.out, &record(a)).map_err(io::Error::from)?;
            self.out.write_all(b"\n")?;
        }
        Ok(self.out.flush()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripline_event::Severity;

    #[test]
    fn each_alert_is_one_devilnet_record_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/stream.jsonl");
        let a = crate::test_alert("x", "ssh.bruteforce", Severity::High);
        for _ in 0..2 {
            let mut s = StreamJsonl::open(&path).unwrap();
            s.respond(std::slice::from_ref(&a)).unwrap();
            s.respond(&[]).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["alert_id"], "x");
        assert_eq!(lines[1]["risk_level"], "high");
        assert_eq!(
            lines[1]["mitre_techniques"],
            serde_json::json!(["T1110.001"])
        );
    }
}
