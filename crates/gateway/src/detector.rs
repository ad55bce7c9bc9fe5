//! The detector of the gateway's verdicts: `llm.injection`, `llm.jailbreak`,
//! `llm.secret_leak`, `llm.pii` from flagged or blocked verdicts, `llm.abuse` from a storm of
//! refused requests (rate limit, duplicates), each on the client address. An alert grows while
//! its address keeps at it (within the cooldown), like the log rules' alerts.

use std::collections::VecDeque;
use std::sync::Arc;
use tripline_detect::contract::{DetectorSpec, Placement, Sharding};
use tripline_detect::{DetectStats, Detector, Output, Roles};
use tripline_event::catalog::RuleInfo;
use tripline_event::{Action, Alert, Entity, Event, Kind, Severity, Text, Timestamp};
use tripline_prompt::rules;

/// A verdict's rule id for refused requests (the gateway's own, not a scanner's).
pub const REFUSED: &str = "llm.refused";

/// Settings of the verdict detector.
#[derive(Debug, Clone)]
pub struct LlmDetectConfig {
    /// Seconds an alert stays open without a new verdict.
    pub cooldown_seconds: i64,
    /// Refused requests from one address within `abuse_window_seconds` that raise
    /// `llm.abuse`.
    pub abuse_threshold: usize,
    pub abuse_window_seconds: i64,
    pub max_tracked: usize,
}

impl Default for LlmDetectConfig {
    fn default() -> Self {
        LlmDetectConfig {
            cooldown_seconds: 600,
            abuse_threshold: 20,
            abuse_window_seconds: 60,
            max_tracked: 10_000,
        }
    }
}

struct Open {
    alert: Alert,
    dirty: bool,
}

/// One instance (sharded by address).
pub struct LlmDetector {
    cfg: LlmDetectConfig,
    open: Vec<Open>,
    refused: rustc_hash::FxHashMap<std::net::IpAddr, VecDeque<i64>>,
    warming: bool,
    stats: DetectStats,
}

/// The registration: its rules, sharded on the address.
pub fn spec(cfg: LlmDetectConfig) -> DetectorSpec {
    DetectorSpec {
        name: "llm",
        rules: rules::all(),
        sharding: Sharding::ByKeys(Roles(Roles::IP)),
        make: Box::new(move |_p: Placement| {
            Box::new(LlmDetector {
                cfg: cfg.clone(),
                open: vec![],
                refused: Default::default(),
                warming: false,
                stats: DetectStats::default(),
            })
        }),
    }
}

fn severity(rule: &RuleInfo, blocked: bool) -> Severity {
    match (rule.id, blocked) {
        ("llm.secret_leak" | "llm.unscanned", _) => Severity::High,
        (_, true) => Severity::High,
        ("llm.pii", false) => Severity::Low,
        _ => Severity::Medium,
    }
}

impl LlmDetector {
    fn hit(&mut self, rule: &'static RuleInfo, ev: &Event, ip: std::net::IpAddr, blocked: bool) {
        let now = ev.ts;
        let cooldown = self.cfg.cooldown_seconds * 1_000_000;
        let entity = Entity::Ip(ip);
        let evidence: Arc<str> = Arc::from(&*ev.raw);
        if let Some(o) = self.open.iter_mut().find(|o| {
            o.alert.rule == rule.id
                && o.alert.entity == entity
                && now.0 - o.alert.last_seen.0 <= cooldown
        }) {
            let a = &mut o.alert;
            a.count += 1;
            a.last_seen = a.last_seen.max(now);
            a.score = rule.score(a.count);
            let sev = severity(rule, blocked);
            if sev > a.severity {
                a.severity = sev;
            }
            if a.evidence.len() < 10 {
                a.evidence.push(evidence);
            } else {
                let last = a.evidence.len() - 1;
                a.evidence[last] = evidence;
            }
            a.explanation = explain(rule, &ip, a.count);
            o.dirty = true;
            self.stats.alerts_updated += 1;
            return;
        }
        if self.open.len() >= self.cfg.max_tracked {
            // the oldest half goes (they stay in the store as they were)
            self.open
                .sort_by_key(|o| std::cmp::Reverse(o.alert.last_seen));
            self.open.truncate(self.cfg.max_tracked / 2);
            self.stats.evictions += 1;
        }
        let alert = Alert {
            id: Alert::make_id(rule.id, &entity, now),
            rule: Text::const_new(rule.id),
            severity: severity(rule, blocked),
            score: rule.score(1),
            entity,
            src_ip: Some(ip),
            user: None,
            host: ev.host.clone(),
            sensor: Text::const_new("gateway"),
            techniques: tripline_event::Techniques::Borrowed(rule.techniques),
            count: 1,
            first_seen: now,
            last_seen: now,
            explanation: explain(rule, &ip, 1),
            evidence: vec![evidence],
            detail: None,
        };
        self.open.push(Open { alert, dirty: true });
        self.stats.alerts_opened += 1;
    }
}

fn explain(rule: &RuleInfo, ip: &std::net::IpAddr, n: u64) -> String {
    let what = match rule.id {
        "llm.injection" => "prompt injections",
        "llm.jailbreak" => "jailbreak attempts",
        "llm.secret_leak" => "secrets or system-prompt leaks",
        "llm.pii" => "requests or answers with personal data",
        "llm.unscanned" => "requests forwarded unscanned (the firewall failed; fail_open)",
        _ => "refused requests (rate limit, duplicates)",
    };
    format!("{n} {what} through the LLM gateway from {ip}")
}

impl Detector for LlmDetector {
    fn name(&self) -> &'static str {
        "llm"
    }

    fn process(&mut self, ev: &Event, _roles: Roles) {
        let Kind::Verdict(v) = &ev.kind else { return };
        let Some(ip) = ev.src_ip else { return };
        self.stats.events += 1;
        if self.warming {
            return;
        }
        if v.rules.iter().any(|r| &**r == REFUSED) {
            let now = ev.ts.0;
            let window = self.cfg.abuse_window_seconds * 1_000_000;
            if self.refused.len() >= self.cfg.max_tracked && !self.refused.contains_key(&ip) {
                self.refused
                    .retain(|_, q| q.back().is_some_and(|t| now - t <= window));
                if self.refused.len() >= self.cfg.max_tracked {
                    self.refused.clear();
                }
            }
            let q = self.refused.entry(ip).or_default();
            q.push_back(now);
            while q.front().is_some_and(|t| now - t > window) || q.len() > self.cfg.abuse_threshold
            {
                q.pop_front();
            }
            if q.len() >= self.cfg.abuse_threshold {
                self.hit(&rules::ABUSE, ev, ip, false);
            }
            return;
        }
        if v.action == Action::Allow && !v.rules.iter().any(|r| &**r == rules::UNSCANNED.id) {
            return;
        }
        let blocked = v.action == Action::Block;
        for r in v.rules.iter() {
            let rule = match &**r {
                "llm.injection" => &rules::INJECTION,
                "llm.jailbreak" => &rules::JAILBREAK,
                "llm.secret_leak" => &rules::SECRET_LEAK,
                "llm.pii" => &rules::PII,
                "llm.unscanned" => &rules::UNSCANNED,
                _ => continue,
            };
            self.hit(rule, ev, ip, blocked);
        }
    }

    fn flush(&mut self, _last: bool) -> Vec<Output> {
        let mut out = vec![];
        for o in &mut self.open {
            if o.dirty {
                o.dirty = false;
                out.push(Output::Alert(o.alert.clone()));
            }
        }
        // alerts past their cooldown by the newest event time are done
        if let Some(newest) = self.open.iter().map(|o| o.alert.last_seen.0).max() {
            let cooldown = self.cfg.cooldown_seconds * 1_000_000;
            let before = self.open.len();
            self.open
                .retain(|o| newest - o.alert.last_seen.0 <= cooldown);
            self.stats.expired += (before - self.open.len()) as u64;
        }
        out
    }

    fn set_warming(&mut self, on: bool) {
        self.warming = on;
    }

    fn tracked(&self) -> usize {
        self.open.len() + self.refused.len()
    }

    fn stats(&self) -> DetectStats {
        self.stats
    }
}

/// A verdict event as the daemon pushes it: about `ip` (and the API key's fingerprint), its
/// rules, no prompt text (only `summary`).
#[allow(clippy::too_many_arguments)]
pub fn verdict_event(
    host: Arc<str>,
    ts: Timestamp,
    ip: std::net::IpAddr,
    api_key: Option<&str>,
    action: Action,
    score: f32,
    rules: Vec<Text>,
    summary: &str,
) -> Event {
    use tripline_event::{Key, KeyType, Line, SensorKind, VerdictKind};
    let kind = Kind::Verdict(VerdictKind {
        judge: Text::const_new("gateway"),
        action,
        score,
        rules: rules.into_boxed_slice(),
    });
    let mut ev = Event::new(
        ts,
        SensorKind::new("gateway"),
        host,
        kind,
        Line::from(summary),
    );
    ev.observed = Timestamp::now();
    ev.src_ip = Some(ip);
    ev.hostile = action != Action::Allow;
    if let Some(k) = api_key {
        ev.keys.push(Key {
            kind: KeyType::ApiKey,
            value: k.into(),
        });
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(d: &mut Box<dyn Detector>) -> Vec<Alert> {
        d.flush(false)
            .into_iter()
            .filter_map(|o| match o {
                Output::Alert(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_unscanned_request_is_an_alert_and_a_clean_one_is_not() {
        let mut d = (spec(LlmDetectConfig::default()).make)(Placement {
            shard: 0,
            shards: 1,
            report_closed: false,
        });
        let ip: std::net::IpAddr = "192.0.2.9".parse().unwrap();
        let ev = |rules: Vec<Text>| {
            verdict_event(
                "h".into(),
                Timestamp::from_secs(1_700_000_000),
                ip,
                None,
                Action::Allow,
                0.0,
                rules,
                "x",
            )
        };
        d.process(&ev(vec![]), Roles(Roles::IP));
        assert!(alerts(&mut d).is_empty());
        d.process(
            &ev(vec![Text::const_new(rules::UNSCANNED.id)]),
            Roles(Roles::IP),
        );
        let a = alerts(&mut d);
        assert_eq!(a.len(), 1);
        assert_eq!(&*a[0].rule, "llm.unscanned");
        assert_eq!(a[0].severity, Severity::High);
    }
}
