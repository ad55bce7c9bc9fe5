//! `ssh.refused` (off by default): a login the server refused by its own policy (`AllowUsers`,
//! `DenyUsers`, `AllowGroups`, `DenyGroups`, root login refused), even once (T1110). A host
//! whose policy admits only a few accounts may want to hear about every try at another one;
//! a run of them is the brute force, spray or enumeration rule's story, which takes them over.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo};
use crate::config::{RuleConfig, SimpleRule};
use crate::engine::IpState;
use crate::Roles;
use tripline_event::{AuthKind, Event, Kind, Severity};

/// `ssh.refused`.
pub struct Refused;

impl RuleDef for Refused {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.refused",
        techniques: &["T1110"],
        summary: "a login the server's policy refused (AllowUsers, DenyUsers…), even one",
        base_score: 0.4,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = SimpleRule {
        enabled: false,
        severity: Severity::Low,
    };

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        format!(
            "{} tried {} login(s) the server's policy refuses; users: {}",
            x.who, x.alert.count, x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some() && matches!(ev.kind, Kind::Auth(AuthKind::Refused))
    }
}

#[inline]
pub fn on_ip(on: &mut On<'_, IpState>) {
    let ev = on.ev;
    if on.cfg.rules.ssh_refused.enabled() && Refused::counts(ev) {
        on.fire
            .push(Fire::new(Rule::SshRefused, ev.count as u64, on.now));
    }
}
