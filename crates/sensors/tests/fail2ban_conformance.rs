//! Conformance with fail2ban's `sshd` filter in aggressive mode, on fail2ban's own annotated
//! test logs (`../shared/data/fail2ban-logs/`, read in place, never copied).
//!
//! Every line annotated `# failJSON:` must agree with fail2ban: flagged or not (`hostile`), the
//! same source address, the same time (fail2ban's tests run in Europe/Zurich with "now" at
//! 2005-08-14), and the same user and attempt count where the annotation gives them. Blocks whose
//! `filterOptions` do not include aggressive mode are checked for their matches only (aggressive
//! mode matches a superset). Deviations are listed below with the reason; the test fails if the
//! actual differences are not exactly that list, so a fix or a regression both show up.

use std::path::PathBuf;
use tripline_event::{SensorKind, Timestamp};
use tripline_sensors::{LineParser, TimeContext};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fail2ban-logs")
}

/// (file, line, why tripline differs from fail2ban on it)
const DEVIATIONS: &[(&str, &str, &str)] = &[];

#[derive(Debug)]
struct Annotation {
    matches: bool,
    host: Option<String>,
    time: Option<String>,
    user: Option<String>,
    attempts: Option<u64>,
}

fn zurich_civil(ts: Timestamp) -> String {
    let t = jiff::Timestamp::from_microsecond(ts.0).unwrap();
    let z = t.to_zoned(jiff::tz::TimeZone::get("Europe/Zurich").unwrap());
    z.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

fn check_file(name: &str, journal: bool) -> (usize, Vec<String>) {
    let path = data_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let text = String::from_utf8_lossy(&bytes);
    let tc = TimeContext::new("Europe/Zurich")
        .unwrap()
        .with_reference(Some(Timestamp::from_secs(1_124_013_600)));
    let mut parser = LineParser::new(tc, SensorKind::Files, "localhost");
    let mut aggressive_block = true;
    let mut pending: Option<(Annotation, bool)> = None;
    let mut checked = 0;
    let mut diffs = vec![];
    for line in text.lines() {
        if let Some(opts) = line.strip_prefix("# filterOptions:") {
            aggressive_block = opts.contains("aggressive");
            continue;
        }
        if let Some(json) = line.strip_prefix("# failJSON:") {
            let v: serde_json::Value = serde_json::from_str(json.trim()).expect("annotation JSON");
            let constraint = v.get("constraint").and_then(|c| c.as_str()).unwrap_or("");
            // constraints name the filter (`name == 'sshd'`: us) or the mode; we are aggressive
            let applies = !constraint.contains("!= 'aggressive'");
            let a = Annotation {
                matches: v["match"].as_bool().unwrap_or(false),
                host: v.get("host").and_then(|h| h.as_str()).map(String::from),
                time: if journal {
                    None
                } else {
                    v.get("time").and_then(|h| h.as_str()).map(String::from)
                },
                user: v.get("user").and_then(|h| h.as_str()).map(String::from),
                attempts: v.get("attempts").and_then(|h| h.as_u64()),
            };
            pending = Some((a, applies));
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parsed = parser.parse(line).map(|(_, p)| p);
        let Some((a, applies)) = pending.take() else {
            continue;
        };
        // In blocks without aggressive mode only fail2ban's matches bind us (aggressive ⊇ normal).
        if !applies || (!aggressive_block && !a.matches) {
            continue;
        }
        checked += 1;
        let hostile = parsed.as_ref().is_some_and(|p| p.hostile);
        let mut why = vec![];
        if hostile != a.matches {
            why.push(format!(
                "match: fail2ban {} tripline {}",
                a.matches, hostile
            ));
        }
        if let (true, Some(p)) = (a.matches && hostile, parsed.as_ref()) {
            let got = p
                .src_ip
                .map(|i| i.to_string())
                .or_else(|| p.src_name.as_deref().map(String::from));
            if let Some(h) = &a.host {
                if got.as_deref() != Some(h.as_str()) {
                    why.push(format!("host: fail2ban {h} tripline {got:?}"));
                }
            }
            if let Some(t) = &a.time {
                let got = p.ts.map(zurich_civil);
                if got.as_deref() != Some(t.as_str()) {
                    why.push(format!("time: fail2ban {t} tripline {got:?}"));
                }
            }
            if let Some(u) = &a.user {
                if p.user.as_deref() != Some(u.as_str()) {
                    why.push(format!("user: fail2ban {u:?} tripline {:?}", p.user));
                }
            }
            if let Some(n) = a.attempts {
                if p.count as u64 != n {
                    why.push(format!("attempts: fail2ban {n} tripline {}", p.count));
                }
            }
        }
        if !why.is_empty() {
            diffs.push(format!("{name}: {line}\n    {}", why.join("; ")));
        }
    }
    (checked, diffs)
}

fn run(name: &str, journal: bool, min_checked: usize) {
    let (checked, diffs) = check_file(name, journal);
    assert!(
        checked >= min_checked,
        "{name}: only {checked} annotated lines checked"
    );
    let expected: Vec<&str> = DEVIATIONS
        .iter()
        .filter(|d| d.0 == name)
        .map(|d| d.1)
        .collect();
    let unexpected: Vec<&String> = diffs
        .iter()
        .filter(|d| !expected.iter().any(|e| d.contains(e)))
        .collect();
    let fixed: Vec<&&str> = expected
        .iter()
        .filter(|e| !diffs.iter().any(|d| d.contains(**e)))
        .collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{name}: {checked} lines checked\nunexpected differences from fail2ban:\n{}\nlisted deviations that no longer occur: {fixed:?}",
        unexpected.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn sshd_log_agrees_with_fail2ban_aggressive_mode() {
    run("sshd", false, 140);
}

#[test]
fn dropbear_log_agrees_with_fail2ban() {
    run("dropbear", false, 5);
}

#[test]
fn sshd_journal_agrees_with_fail2ban_aggressive_mode() {
    run("sshd-journal", true, 115);
}
