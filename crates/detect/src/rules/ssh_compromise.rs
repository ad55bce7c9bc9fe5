//! `ssh.compromise`: a successful login from an address that failed ≥ 3 times within the hour
//! before (T1110 → T1078). It reads the address's attempts window (`IpState::fails`).

use super::{Explain, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::{count, CountRule};
use crate::engine::IpState;
use crate::{Roles, Secs};
use tripline_event::{AuthKind, Event, Kind, Severity};

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
    type Config = CountRule;
    const DEFAULT: CountRule = count(3, 3600, Severity::Critical);

    fn explain(x: &Explain<'_>, _: &CountRule) -> String {
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
    if c.enabled && before >= c.threshold as u64 {
        let (_, first) = fails.since(prior.start(Rule::SshCompromise, c.window_seconds), now);
        on.fire.push((
            Rule::SshCompromise,
            format!(
                "{before} failed attempts from this address in the {} before",
                Secs(c.window_seconds)
            ),
            ev.count as u64,
            first,
        ));
    }
}
