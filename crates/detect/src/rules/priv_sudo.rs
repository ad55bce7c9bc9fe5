//! `priv.sudo_failures` (≥ 3 wrong sudo passwords within 10 min) and `priv.not_in_sudoers` (a
//! user without sudo rights tried it): T1548.003.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo};
use crate::config::{count, simple, CountRule, SimpleRule};
use crate::engine::UserState;
use crate::state::Ring;
use crate::{Roles, Secs};
use tripline_event::{Event, Kind, PrivilegeKind, Severity};

/// `priv.sudo_failures`.
pub struct SudoFailures;

impl RuleDef for SudoFailures {
    const INFO: RuleInfo = RuleInfo {
        id: "priv.sudo_failures",
        techniques: &["T1548.003"],
        summary: "repeated wrong sudo passwords",
        base_score: 0.6,
    };
    const KEYS: u8 = Roles::USER;
    type Config = CountRule;
    const DEFAULT: CountRule = count(3, 600, Severity::Medium);

    fn explain(x: &Explain<'_>, c: &CountRule) -> String {
        format!(
            "{} failed sudo authentication {} times (threshold {} within {})",
            x.who,
            x.alert.count,
            c.threshold,
            Secs(c.window_seconds)
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.user.is_some()
            && matches!(
                ev.kind,
                Kind::Privilege(PrivilegeKind::SudoFailure | PrivilegeKind::SudoNotAllowed)
            )
    }
}

/// `priv.not_in_sudoers`.
pub struct NotInSudoers;

impl RuleDef for NotInSudoers {
    const INFO: RuleInfo = RuleInfo {
        id: "priv.not_in_sudoers",
        techniques: &["T1548.003"],
        summary: "a user without sudo rights tried sudo",
        base_score: 0.7,
    };
    const KEYS: u8 = Roles::USER;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::High);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        format!(
            "{} is not in sudoers but tried sudo {} time(s)",
            x.who, x.alert.count
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.user.is_some() && matches!(ev.kind, Kind::Privilege(PrivilegeKind::SudoNotInSudoers))
    }
}

/// A user's latest sudo failures.
#[derive(Default)]
pub struct Failures(Ring);

#[inline]
pub fn on_user(on: &mut On<'_, UserState>) {
    let (ev, now, prior, r) = (on.ev, on.now, on.prior, &on.cfg.rules);
    match ev.kind {
        Kind::Privilege(PrivilegeKind::SudoFailure | PrivilegeKind::SudoNotAllowed) => {
            let c = &r.priv_sudo_failures;
            let fails = &mut on.st.sudo.0;
            fails.push(now, ev.count, c.threshold as usize);
            let from = || prior.start(Rule::PrivSudoFailures, c.window_seconds);
            if let Some((n, first)) = fails.counting(c, now, from, || false) {
                on.fire.push(Fire::new(Rule::PrivSudoFailures, n, first));
            }
        }
        Kind::Privilege(PrivilegeKind::SudoNotInSudoers) if r.priv_not_in_sudoers.enabled => {
            on.fire
                .push(Fire::new(Rule::PrivNotInSudoers, ev.count as u64, now));
        }
        _ => {}
    }
}
