//! `honeypot.touch`: any login attempt, command or download on a honeypot (T1595, T1110,
//! T1059.004): nobody legitimate is there.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo};
use crate::config::{simple, RuleConfig, SimpleRule};
use crate::engine::IpState;
use crate::Roles;
use tripline_event::{Event, HoneypotKind, Kind, Severity};

/// `honeypot.touch`.
pub struct HoneypotTouch;

impl RuleDef for HoneypotTouch {
    const INFO: RuleInfo = RuleInfo {
        id: "honeypot.touch",
        techniques: &["T1595", "T1110", "T1059.004"],
        summary: "someone logged in to or ran commands on a honeypot",
        base_score: 0.8,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::Medium);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        format!(
            "{} touched a honeypot {} time(s) (logins, commands, downloads); users: {}",
            x.who, x.alert.count, x.users
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
                )
            )
    }
}

#[inline]
pub fn on_ip(on: &mut On<'_, IpState>) {
    let ev = on.ev;
    if on.cfg.rules.honeypot_touch.enabled() && HoneypotTouch::counts(ev) {
        on.fire
            .push(Fire::new(Rule::HoneypotTouch, ev.count as u64, on.now));
    }
}
