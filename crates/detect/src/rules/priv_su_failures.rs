//! `priv.su_failures`: repeated failed su (≥ 3 within 10 min; T1548).

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo};
use crate::config::{count, CountRule};
use crate::engine::UserState;
use crate::state::Ring;
use crate::{Roles, Secs};
use tripline_event::{Event, Kind, PrivilegeKind, Severity};

/// `priv.su_failures`.
pub struct SuFailures;

impl RuleDef for SuFailures {
    const INFO: RuleInfo = RuleInfo {
        id: "priv.su_failures",
        techniques: &["T1548"],
        summary: "repeated failed su",
        base_score: 0.6,
    };
    const KEYS: u8 = Roles::USER;
    type Config = CountRule;
    const DEFAULT: CountRule = count(3, 600, Severity::Medium);

    fn explain(x: &Explain<'_>, c: &CountRule) -> String {
        format!(
            "{} failed su {} times (threshold {} within {})",
            x.who,
            x.alert.count,
            c.threshold,
            Secs(c.window_seconds)
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.user.is_some() && matches!(ev.kind, Kind::Privilege(PrivilegeKind::SuFailure { .. }))
    }
}

/// A user's latest su failures.
#[derive(Default)]
pub struct Failures(Ring);

#[inline]
pub fn on_user(on: &mut On<'_, UserState>) {
    let ev = on.ev;
    if !SuFailures::counts(ev) {
        return;
    }
    let (c, now, prior) = (&on.cfg.rules.priv_su_failures, on.now, on.prior);
    let fails = &mut on.st.su.0;
    fails.push(now, ev.count, c.threshold as usize);
    let from = || prior.start(Rule::PrivSuFailures, c.window_seconds);
    if let Some((n, first)) = fails.counting(c, now, from, || false) {
        on.fire.push(Fire::new(Rule::PrivSuFailures, n, first));
    }
}
