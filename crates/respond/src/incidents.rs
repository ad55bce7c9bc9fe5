//! `incidents` (`output.incidents_dir`): devilnet's `INC-YYYYMMDD-NNNNNN.json` incident reports,
//! one per alert, rewritten (atomically) as the alert grows.

use crate::stream::record;
use crate::{risk_band, RespondError, Responder};
use std::io;
use std::path::{Path, PathBuf};
use tripline_event::Alert;

/// Most alerts whose report file name is remembered (so a grown alert rewrites its report);
/// beyond it the map is cleared, and an alert that grows after that gets a report of its own.
const MAX_NAMES: usize = 100_000;

/// Writes one incident report per alert id (rewritten as the alert grows).
pub struct Incidents {
    dir: PathBuf,
    seq: u64,
    names: std::collections::HashMap<String, PathBuf>,
}

impl Incidents {
    pub fn open(dir: &Path) -> io::Result<Incidents> {
        std::fs::create_dir_all(dir)?;
        let seq = std::fs::read_dir(dir)?
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.strip_prefix("INC-")?.get(9..15)?.parse::<u64>().ok()
            })
            .max()
            .unwrap_or(0);
        Ok(Incidents {
            dir: dir.to_path_buf(),
            seq,
            names: Default::default(),
        })
    }

    fn write(&mut self, alerts: &[Alert]) -> io::Result<()> {
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
                    if self.names.len() >= MAX_NAMES {
                        self.names.clear();
                    }
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

impl Responder for Incidents {
    fn name(&self) -> &'static str {
        "incidents"
    }

    fn respond(&mut self, alerts: &[Alert]) -> Result<(), RespondError> {
        Ok(self.write(alerts)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripline_event::Severity;

    #[test]
    fn one_report_per_alert_numbered_on_from_what_the_directory_holds() {
        let dir = tempfile::tempdir().unwrap();
        let a = crate::test_alert("x", "ssh.bruteforce", Severity::High);
        let mut s = Incidents::open(dir.path()).unwrap();
        s.respond(std::slice::from_ref(&a)).unwrap();
        s.respond(std::slice::from_ref(&a)).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, vec!["INC-20231114-000001.json"]);
        let mut s2 = Incidents::open(dir.path()).unwrap();
        s2.respond(&[Alert {
            id: "y".into(),
            ..a
        }])
        .unwrap();
        let second = dir.path().join("INC-20231114-000002.json");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(second).unwrap()).unwrap();
        assert_eq!(report["alert"]["alert_id"], "y");
        assert_eq!(report["recommended_actions"][0], "block the source address");
    }
}
