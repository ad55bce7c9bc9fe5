//! The honeypot rules: nobody legitimate is on a honeypot, so what an address does there is
//! an alert by itself, one rule per kind of act (the alert carries the techniques of what
//! happened):
//!
//! - `honeypot.login`: failed logins (T1110, low; a burst of them is the brute force, spray or
//!   enumeration rule's story, which takes them over: one attacker, one story) and successful
//!   ones (T1078, the configured severity);
//! - `honeypot.download`: a file fetched or uploaded, or a fetch asked for and never made
//!   (T1105, high; critical after a successful login from the address), with its URL and hash;
//! - `honeypot.proxy`: the honeypot asked to open a connection elsewhere (`direct-tcpip`: used
//!   as a proxy, T1090), with where to.
//!
//! What a session's commands add up to is the honeypot detector's `honeypot.session`
//! (tripwires, `tripline-honeypot`), and exploit requests to an HTTP decoy its
//! `honeypot.exploit`.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::{simple, RuleConfig, SimpleRule};
use crate::engine::IpState;
use crate::Roles;
use tripline_event::{Event, HoneypotKind, Kind, Severity};

/// `honeypot.login`.
pub struct Login;

impl RuleDef for Login {
    const INFO: RuleInfo = RuleInfo {
        id: "honeypot.login",
        techniques: &["T1110", "T1078"],
        summary: "someone tried to log in to, or logged in to, a honeypot",
        base_score: 0.8,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::Medium);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        let what = if x.alert.techniques.iter().any(|t| *t == "T1078") {
            "logged in to a honeypot"
        } else {
            "tried to log in to a honeypot"
        };
        format!(
            "{} {what} ({} attempt(s); latest: {}); users: {}",
            x.who, x.alert.count, x.detail, x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some() && matches!(ev.kind, Kind::Honeypot(HoneypotKind::Login { .. }))
    }
}

/// `honeypot.download`.
pub struct Download;

impl RuleDef for Download {
    const INFO: RuleInfo = RuleInfo {
        id: "honeypot.download",
        techniques: &["T1105"],
        summary: "a file was fetched, uploaded or asked for on a honeypot",
        base_score: 0.9,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::High);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        format!(
            "{} transferred {} file(s) on a honeypot (latest: {}); users: {}",
            x.who, x.alert.count, x.detail, x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some()
            && matches!(ev.kind, Kind::Honeypot(HoneypotKind::Download { .. }))
    }
}

/// `honeypot.proxy`.
pub struct Proxy;

impl RuleDef for Proxy {
    const INFO: RuleInfo = RuleInfo {
        id: "honeypot.proxy",
        techniques: &["T1090"],
        summary: "a honeypot was asked to open a connection elsewhere (used as a proxy)",
        base_score: 0.8,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::Medium);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        format!(
            "{} asked a honeypot {} time(s) to connect elsewhere (latest: {})",
            x.who, x.alert.count, x.detail
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some() && matches!(ev.kind, Kind::Honeypot(HoneypotKind::Proxy { .. }))
    }
}

/// What the address did on honeypots: its latest successful login (µs).
#[derive(Default)]
pub struct Session {
    logged_in: Option<i64>,
}

#[inline]
pub fn on_ip(on: &mut On<'_, IpState>) {
    let ev = on.ev;
    let Kind::Honeypot(k) = &ev.kind else { return };
    let rules = &on.cfg.rules;
    let fire = |rule| Fire::new(rule, ev.count as u64, on.now);
    let fire = match k {
        HoneypotKind::Login { success, .. } if rules.honeypot_login.enabled() => {
            let user = ev.user.as_deref().unwrap_or("(none)");
            if *success {
                on.st.honeypot.logged_in = Some(on.now);
                fire(Rule::HoneypotLogin)
                    .techniques(&["T1078"])
                    .unfoldable()
                    .detail(format!("logged in as {user}"))
            } else {
                fire(Rule::HoneypotLogin)
                    .techniques(&["T1110"])
                    .severity(Severity::Low)
                    .detail(format!("failed as {user}"))
            }
        }
        HoneypotKind::Download { url, sha256 } if rules.honeypot_download.enabled() => {
            let cooldown = on.cfg.cooldown_seconds as i64 * SECOND;
            let after_login = on
                .st
                .honeypot
                .logged_in
                .is_some_and(|t| on.now - t <= cooldown);
            let what = if sha256.is_empty() {
                format!("tried to fetch {url} (not fetched)")
            } else {
                format!("{url} (sha256 {sha256})")
            };
            let f = fire(Rule::HoneypotDownload).detail(what);
            if after_login {
                f.severity(Severity::Critical)
            } else {
                f
            }
        }
        HoneypotKind::Proxy { dst } if rules.honeypot_proxy.enabled() => {
            fire(Rule::HoneypotProxy).detail(format!("to {dst}"))
        }
        _ => return,
    };
    if ev.src_ip.is_some() {
        on.fire.push(fire);
    }
}
