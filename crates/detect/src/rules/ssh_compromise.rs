//! `ssh.compromise`: a successful login from an address that failed ≥ 3 times within the hour
//! before (T1110 → T1078). It reads the address's attempts window (`IpState::fails`).
//!
//! A user who mistypes their password a few times, from a network they have logged in from
//! before, is not a compromise: when every failure was for that user and there were at most
//! `typo_max_failures` of them, the alert is `known_source_severity` (low), or none with
//! `known_source_alert = false`. Failures for other users, or many, keep it critical.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::RuleConfig;
use crate::engine::IpState;
use crate::{Roles, Secs};
use serde::{Deserialize, Serialize};
use tripline_event::{AuthKind, Event, Kind, Severity};

/// `[detect.rules.ssh_compromise]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompromiseRule {
    pub enabled: bool,
    /// Failed attempts from the address within the window before the login.
    pub threshold: u32,
    pub window_seconds: u64,
    pub severity: Severity,
    /// The severity when it looks like a typo: the user logged in from this network before,
    /// every failure was theirs, and there were at most `typo_max_failures`.
    pub known_source_severity: Severity,
    /// `false`: no alert at all when it looks like a typo.
    pub known_source_alert: bool,
    /// More failures than this are never a typo.
    pub typo_max_failures: u32,
}

impl RuleConfig for CompromiseRule {
    crate::rule_config_fields!(window);
    fn validate(&self, key: &str, errs: &mut Vec<String>) {
        crate::config::validate_count(key, self.threshold, self.window_seconds, errs);
    }
}

/// `ssh.compromise`.
pub struct Compromise;

impl RuleDef for Compromise {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.compromise",
        techniques: &["T1110", "T1078"],
        summary: "a successful login from an address that was failing just before",
        base_score: 0.95,
    };
    const KEYS: u8 = Roles::IP;
    type Config = CompromiseRule;
    const DEFAULT: CompromiseRule = CompromiseRule {
        enabled: true,
        threshold: 3,
        window_seconds: 3600,
        severity: Severity::Critical,
        known_source_severity: Severity::Low,
        known_source_alert: true,
        typo_max_failures: 5,
    };

    fn explain(x: &Explain<'_>, _: &CompromiseRule) -> String {
        format!(
            "successful SSH login for {} from {} right after failures: {}",
            x.alert.user.as_deref().unwrap_or("?"),
            x.who,
            x.detail
        )
    }

    /// A login, and the failures before one (its history).
    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some()
            && (super::attempt(ev) || matches!(ev.kind, Kind::Auth(AuthKind::Success { .. })))
    }
}

#[inline]
pub fn on_ip(on: &mut On<'_, IpState>) {
    let ev = on.ev;
    if !matches!(ev.kind, Kind::Auth(AuthKind::Success { .. })) {
        return;
    }
    let (c, now, prior) = (&on.cfg.rules.ssh_compromise, on.now, on.prior);
    let fails = &on.st.fails;
    // every failure in the hour counts (each success is judged on its own), but the alert
    // starts after the address's previous compromise alert
    let (before, _) = fails.since(now - c.window_seconds as i64 * SECOND, now);
    // a hostile success was itself pushed as a failure; don't count it twice
    let before = if ev.hostile {
        before.saturating_sub(ev.count as u64)
    } else {
        before
    };
    if !(c.enabled && before >= c.threshold as u64) {
        return;
    }
    let (_, first) = fails.since(prior.start(Rule::SshCompromise, c.window_seconds), now);
    let mut detail = format!(
        "{before} failed attempts from this address in the {} before",
        Secs(c.window_seconds)
    );
    let mut fire = Fire::new(Rule::SshCompromise, ev.count as u64, first);
    let since = now - c.window_seconds as i64 * SECOND;
    let user = ev.user.as_deref().unwrap_or("");
    if on.known_login && before <= c.typo_max_failures as u64 && !on.st.tried_others(user, since) {
        if !c.known_source_alert {
            return;
        }
        detail.push_str(&format!(
            ", all for {user}, who has logged in from this network before: likely a mistyped password"
        ));
        fire = fire.severity(c.known_source_severity);
    }
    on.fire.push(fire.detail(detail));
}
