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
//!   as a proxy, T1090), with where to;
//! - `honeypot.returned`: an address seen on a honeypot (any contact) came back to the real
//!   services: it logged in over SSH (critical) or sent requests to the LLM gateway (T1078: an
//!   attacker holding valid credentials). Which addresses were seen, and when first and last,
//!   is kept per shard for `remember_days` (bounded like every entity map) and in the store,
//!   so a restart remembers them.
//!
//! What a session's commands add up to is the honeypot detector's `honeypot.session`
//! (tripwires, `tripline-honeypot`), and exploit requests to an HTTP decoy its
//! `honeypot.exploit`.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::{simple, RuleConfig, SimpleRule};
use crate::engine::IpState;
use crate::state::Aged;
use crate::Roles;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use tripline_event::net::IpText;
use tripline_event::{
    AuthKind, Event, HoneypotKind, Keep, Kind, Severity, StateRecord, Text, Timestamp,
};

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
        let what = if x.alert.techniques.contains(&"T1078") {
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
        ev.src_ip.is_some() && matches!(ev.kind, Kind::Honeypot(HoneypotKind::Download { .. }))
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

/// `honeypot.returned`.
pub struct Returned;

impl RuleDef for Returned {
    const INFO: RuleInfo = RuleInfo {
        id: "honeypot.returned",
        techniques: &["T1078"],
        summary:
            "an address seen on a honeypot came back: it logged in over SSH or used the LLM gateway",
        base_score: 0.9,
    };
    const KEYS: u8 = Roles::IP;
    type Config = ReturnedRule;
    const DEFAULT: ReturnedRule = ReturnedRule {
        enabled: true,
        severity: Severity::High,
        remember_days: 30,
    };

    fn explain(x: &Explain<'_>, c: &ReturnedRule) -> String {
        format!(
            "{}, seen on a honeypot (within the {} days remembered), came back {} time(s): {}; users: {}",
            x.who, c.remember_days, x.alert.count, x.detail, x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some()
            && matches!(
                ev.kind,
                Kind::Auth(AuthKind::Success { .. }) | Kind::Verdict(_)
            )
    }
}

/// `[detect.rules.honeypot_returned]`: how long an address seen on a honeypot is remembered
/// after its last contact there (`remember_days`, 1..=3650).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnedRule {
    pub enabled: bool,
    pub severity: Severity,
    pub remember_days: u32,
}

impl RuleConfig for ReturnedRule {
    crate::rule_config_fields!();

    fn validate(&self, key: &str, errs: &mut Vec<String>) {
        if !(1..=3650).contains(&self.remember_days) {
            errs.push(format!(
                "{key}.remember_days = {}: must be 1..=3650",
                self.remember_days
            ));
        }
    }
}

/// An address seen on a honeypot: its first and latest contact there (µs), and the latest
/// time a record of it went to the store.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen {
    pub first: i64,
    pub last: i64,
    recorded: i64,
}

impl Aged for Seen {
    fn last(&self) -> i64 {
        self.last
    }
}

/// How often (µs of event time) a seen address's record is refreshed in the store while it
/// keeps coming to honeypots: a flood of contacts is one write a day per address.
const RECORD_EVERY: i64 = 86_400 * SECOND;

impl Seen {
    /// A contact on a honeypot at `now`; the record to store when one is due.
    pub fn contact(&mut self, ip: IpAddr, now: i64) -> Option<StateRecord> {
        if self.first == 0 || now < self.first {
            self.first = now;
        }
        self.last = self.last.max(now);
        if self.recorded != 0 && now - self.recorded < RECORD_EVERY {
            return None;
        }
        self.recorded = now;
        Some(StateRecord {
            owner: Text::const_new(Returned::INFO.id),
            key: IpText::new(ip).to_string(),
            value: self.first.to_string(),
            ts: Timestamp(self.last),
            keep: Keep::Latest,
        })
    }

    /// A [`Seen::contact`] record read back: the address and what was seen of it; None for
    /// another owner's record or one that does not read back.
    pub fn read(r: &StateRecord) -> Option<(IpAddr, Seen)> {
        if r.owner != Returned::INFO.id {
            return None;
        }
        let ip = r.key.parse().ok()?;
        let first: i64 = r.value.parse().ok()?;
        Some((
            ip,
            Seen {
                first: first.min(r.ts.0),
                last: r.ts.0,
                recorded: r.ts.0,
            },
        ))
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

/// `honeypot.returned` on an event from an address `seen` on a honeypot (remembered and
/// recent: the caller looked it up).
#[inline]
pub fn on_returned(on: &mut On<'_, IpState>, seen: Seen) {
    let ev = on.ev;
    let c = &on.cfg.rules.honeypot_returned;
    if !c.enabled() || !Returned::counts(ev) {
        return;
    }
    // seen before it came back (not a contact read later from a slower source), and recently
    if on.now < seen.first || on.now - seen.last > c.remember_days as i64 * 86_400 * SECOND {
        return;
    }
    let when = |t: i64| Timestamp(t).to_string();
    let since = format!(
        "on a honeypot from {} to {}",
        when(seen.first),
        when(seen.last)
    );
    let fire = Fire::new(Rule::HoneypotReturned, ev.count as u64, on.now).unfoldable();
    let fire = match &ev.kind {
        Kind::Auth(AuthKind::Success { .. }) => fire.severity(Severity::Critical).detail(format!(
            "logged in over SSH as {} ({since})",
            ev.user.as_deref().unwrap_or("(unknown)")
        )),
        Kind::Verdict(v) => fire.detail(format!(
            "sent a request to the LLM gateway, {} by {} ({since})",
            match v.action {
                tripline_event::Action::Allow => "allowed",
                tripline_event::Action::Flag => "flagged",
                tripline_event::Action::Block => "blocked",
            },
            if v.judge.is_empty() {
                "the gateway"
            } else {
                &v.judge
            }
        )),
        _ => return,
    };
    on.fire.push(fire);
}
