//! File outputs compatible with devilnet, so its users can switch without rewriting their
//! tooling: `stream.jsonl` (one alert record per line, appended) and one
//! `INC-YYYYMMDD-NNNNNN.json` incident report per new alert.

use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tripline_event::Alert;

/// devilnet's risk band of a 0–1 score: 0.4 / 0.6 / 0.8 / 0.9.
pub fn risk_band(score: f32) -> &'static str {
    match score {
        s if s >= 0.9 => "critical",
        s if s >= 0.8 => "high",
        s if s >= 0.6 => "medium",
        s if s >= 0.4 => "low",
        _ => "info",
    }
}

#[derive(Serialize)]
struct StreamRecord<'a> {
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

fn record(a: &Alert) -> StreamRecord<'_> {
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
pub struct StreamSink {
    out: BufWriter<File>,
}

impl StreamSink {
    pub fn open(path: &Path) -> io::Result<StreamSink> {
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)?;
        }
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(StreamSink {
            out: BufWriter::new(f),
        })
    }

    pub fn write(&mut self, alerts: &[Alert]) -> io::Result<()> {
        for a in alerts {
            serde_json::to_writer(&mut self.out, &record(a))?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

/// Writes one incident report per alert id (rewritten as the alert grows).
pub struct IncidentSink {
    dir: PathBuf,
    seq: u64,
    names: std::collections::HashMap<String, PathBuf>,
}

impl IncidentSink {
    pub fn open(dir: &Path) -> io::Result<IncidentSink> {
        std::fs::create_dir_all(dir)?;
        let seq = std::fs::read_dir(dir)?
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.strip_prefix("INC-")?.get(9..15)?.parse::<u64>().ok()
            })
            .max()
            .unwrap_or(0);
        Ok(IncidentSink {
            dir: dir.to_path_buf(),
            seq,
            names: Default::default(),
        })
    }

    pub fn write(&mut self, alerts: &[Alert]) -> io::Result<()> {
        for a in alerts {
            let path = match self.names.get(a.id.as_str()) {
                Some(p) => p.clone(),
                None => {
                    self.seq += 1;
                    let c = a.first_seen.to_civil_utc();
                    let name = format!(
                        "INC-{:04}{:02}{:02}-{:06}.json",
                        c.year,
                        c.month,
                        c.day,
                        self.seq % 1_000_000
                    );
                    let p = self.dir.join(name);
                    self.names.insert(a.id.to_string(), p.clone());
                    p
                }
            };
            let report = serde_json::json!({
                "incident_id": path.file_stem().map(|s| s.to_string_lossy().to_string()),
                "created": a.first_seen.to_string(),
                "updated": a.last_seen.to_string(),
                "risk_score": a.score,
                "risk_level": risk_band(a.score),
                "alert": record(a),
                "entity": a.entity,
                "recommended_actions": recommended(&a.rule),
            });
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&report)?)?;
            std::fs::rename(&tmp, &path)?;
        }
        Ok(())
    }
}

fn recommended(rule: &str) -> &'static [&'static str] {
    match rule {
        "ssh.compromise" | "priv.after_login" => &[
            "treat the account as compromised: lock it and end its sessions",
            "review commands run since the login",
            "block the source address",
        ],
        "account.change" => &["confirm the change with the administrator who made it"],
        r if r.starts_with("ssh.") => &[
            "block the source address",
            "disable password authentication for SSH",
        ],
        _ => &["review the evidence lines"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripline_event::{Entity, Severity, Timestamp};

    #[test]
    fn bands_match_devilnet() {
        assert_eq!(risk_band(0.95), "critical");
        assert_eq!(risk_band(0.85), "high");
        assert_eq!(risk_band(0.65), "medium");
        assert_eq!(risk_band(0.45), "low");
        assert_eq!(risk_band(0.1), "info");
    }

    #[test]
    fn incident_files_are_named_and_numbered() {
        let dir = tempfile::tempdir().unwrap();
        let a = Alert {
            id: "x".into(),
            rule: "ssh.bruteforce".into(),
            severity: Severity::High,
            score: 0.8,
            entity: Entity::Ip("192.0.2.1".parse().unwrap()),
            src_ip: None,
            user: None,
            host: "h".into(),
            sensor: tripline_event::SensorKind::Files,
            techniques: tripline_event::Techniques::Borrowed(&["T1110.001"]),
            count: 5,
            first_seen: Timestamp::from_secs(1_700_000_000),
            last_seen: Timestamp::from_secs(1_700_000_100),
            explanation: "e".into(),
            evidence: vec![],
            detail: None,
        };
        let mut s = IncidentSink::open(dir.path()).unwrap();
        s.write(std::slice::from_ref(&a)).unwrap();
        s.write(std::slice::from_ref(&a)).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, vec!["INC-20231114-000001.json"]);
        let mut s2 = IncidentSink::open(dir.path()).unwrap();
        s2.write(&[Alert {
            id: "y".into(),
            ..a
        }])
        .unwrap();
        assert!(dir.path().join("INC-20231114-000002.json").exists());
        let mut st = StreamSink::open(&dir.path().join("stream.jsonl")).unwrap();
        st.write(&[]).unwrap();
    }
}
