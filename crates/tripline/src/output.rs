//! How alerts and parsed lines are shown: JSON objects and a readable table.

use serde::Serialize;
use std::net::IpAddr;
use tripline_event::{Alert, Entity, Severity, Timestamp};

/// The JSON shape of an alert (`once --json`, `alerts --json`, `stdout_json`), borrowed from the
/// alert so that printing many allocates nothing per field.
#[derive(Debug, Serialize)]
pub struct AlertJson<'a> {
    pub id: &'a str,
    pub rule: &'a str,
    pub severity: Severity,
    pub score: f32,
    pub entity: &'a Entity,
    pub src_ip: Option<IpAddr>,
    pub user: Option<&'a str>,
    pub host: &'a str,
    pub techniques: &'a [&'static str],
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub explanation: &'a str,
    pub evidence: &'a [String],
    pub state: &'a str,
}

pub fn alert_json<'a>(a: &'a Alert, state: Option<&'a str>) -> AlertJson<'a> {
    AlertJson {
        id: &a.id,
        rule: a.rule,
        severity: a.severity,
        score: a.score,
        entity: &a.entity,
        src_ip: a.src_ip,
        user: a.user.as_deref(),
        host: &a.host,
        techniques: a.techniques,
        count: a.count,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        explanation: &a.explanation,
        evidence: &a.evidence,
        state: state.unwrap_or("open"),
    }
}

/// Strip control characters from attacker-written text before it reaches a terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The header of the alert table.
pub fn alert_table_header() -> String {
    format!(
        "{:<9} {:<22} {:<28} {:>6} {:<20} {}\n",
        "SEVERITY", "RULE", "ENTITY", "COUNT", "LAST SEEN", "WHY"
    )
}

/// One row of the alert table (attacker-written text made printable).
pub fn alert_row(a: &Alert) -> String {
    let entity = printable(&format!("{}:{}", a.entity.type_name(), a.entity.value()));
    let why = printable(tripline_event::truncate_str(&a.explanation, 100));
    format!(
        "{:<9} {:<22} {:<28} {:>6} {:<20} {}\n",
        a.severity.as_str(),
        a.rule,
        tripline_event::truncate_str(&entity, 28),
        a.count,
        a.last_seen
            .to_string()
            .trim_end_matches('Z')
            .replace('T', " "),
        why
    )
}

/// A fixed-width table of alerts.
pub fn alert_table(alerts: &[Alert]) -> String {
    if alerts.is_empty() {
        return "no alerts\n".into();
    }
    let mut s = alert_table_header();
    for a in alerts {
        s.push_str(&alert_row(a));
    }
    s
}
