//! `honeypot.touch`: anything an attacker does on a honeypot: nobody legitimate is there. Its
//! techniques and severity follow what happened, hit by hit (the alert carries the union of its
//! hits' techniques and its worst hit's severity):
//!
//! - failed logins: T1110, low (and a burst of them is the brute force, spray or enumeration
//!   rule's story, which takes them over: one attacker, one story);
//! - a successful login: T1078, the configured severity (medium);
//! - a command: T1059.004, the configured severity;
//! - the honeypot asked to connect elsewhere (`direct-tcpip`, used as a proxy): T1090, the
//!   configured severity;
//! - a download or upload (fetched or not): T1105, high; critical after a successful login
//!   from the address.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::{simple, RuleConfig, SimpleRule};
use crate::engine::IpState;
use crate::Roles;
use tripline_event::{Event, HoneypotKind, Kind, Severity};

/// `honeypot.touch`.
pub struct HoneypotTouch;

impl RuleDef for HoneypotTouch {
    const INFO: RuleInfo = RuleInfo {
        id: "honeypot.touch",
        techniques: &["T1110", "T1078", "T1059.004", "T1090", "T1105", "T1595"],
        summary: "someone tried to log in to, logged in to, or acted on a honeypot",
        base_score: 0.8,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::Medium);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        let did: Vec<&str> = x
            .alert
            .techniques
            .iter()
            .filter_map(|t| DID.iter().find(|d| d.0 == *t).map(|d| d.1))
            .collect();
        format!(
            "{} touched a honeypot {} time(s): {} (latest: {}); users: {}",
            x.who,
            x.alert.count,
            did.join(", "),
            x.detail,
            x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some()
            && matches!(
                ev.kind,
                Kind::Honeypot(
                    HoneypotKind::Login { .. }
                        | HoneypotKind::Command { .. }
                        | HoneypotKind::Download { .. }
                        | HoneypotKind::Proxy { .. }
                )
            )
    }
}

/// What each technique of its hits means here, in words.
const DID: [(&str, &str); 5] = [
    ("T1110", "failed logins"),
    ("T1078", "logged in"),
    ("T1059.004", "ran commands"),
    ("T1090", "used it as a proxy"),
    ("T1105", "transferred files"),
];

/// What the address did on honeypots: its latest successful login (µs).
#[derive(Default)]
pub struct Session {
    logged_in: Option<i64>,
}

#[inline]
pub fn on_ip(on: &mut On<'_, IpState>) {
    let ev = on.ev;
    let c = &on.cfg.rules.honeypot_touch;
    if !c.enabled() || !HoneypotTouch::counts(ev) {
        return;
    }
    let Kind::Honeypot(k) = &ev.kind else { return };
    let fire = Fire::new(Rule::HoneypotTouch, ev.count as u64, on.now);
    let cooldown = on.cfg.cooldown_seconds as i64 * SECOND;
    let fire = match k {
        HoneypotKind::Login { success: false, .. } => fire
            .techniques(&["T1110"])
            .severity(Severity::Low)
            .detail("failed logins".into()),
        HoneypotKind::Login { success: true, .. } => {
            on.st.honeypot.logged_in = Some(on.now);
            fire.techniques(&["T1078"])
                .unfoldable()
                .detail("logged in".into())
        }
        HoneypotKind::Command { .. } => fire
            .techniques(&["T1059.004"])
            .unfoldable()
            .detail("ran commands".into()),
        HoneypotKind::Proxy { dst } => fire
            .techniques(&["T1090"])
            .unfoldable()
            .detail(format!("used it as a proxy to {dst}")),
        HoneypotKind::Download { url, sha256 } => {
            let after_login = on
                .st
                .honeypot
                .logged_in
                .is_some_and(|t| on.now - t <= cooldown);
            let what = if sha256.is_empty() {
                "tried to fetch"
            } else {
                "fetched"
            };
            fire.techniques(&["T1105"])
                .unfoldable()
                .severity(if after_login {
                    Severity::Critical
                } else {
                    Severity::High
                })
                .detail(format!("{what} {url}"))
        }
        _ => return,
    };
    on.fire.push(fire);
}
