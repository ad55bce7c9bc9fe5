//! `priv.after_login`: sudo or su to root within a minute of a login from a network new for the
//! user (T1548). It reads the login history `ssh.new_source_login` keeps.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::{count, CountRule};
use crate::engine::UserState;
use crate::Roles;
use tripline_event::{Event, Kind, PrivilegeKind, Severity};

/// `priv.after_login`.
pub struct AfterLogin;

impl RuleDef for AfterLogin {
    const INFO: RuleInfo = RuleInfo {
        id: "priv.after_login",
        techniques: &["T1548"],
        summary: "root right after a login from a new source",
        base_score: 0.85,
    };
    const KEYS: u8 = Roles::USER;
    type Config = CountRule;
    const DEFAULT: CountRule = count(1, 60, Severity::High);

    fn explain(x: &Explain<'_>, _: &CountRule) -> String {
        format!("{} became {}", x.who, x.detail)
    }

    /// sudo or su to root (it fires when a login from a new network came just before).
    fn counts(ev: &Event) -> bool {
        let Kind::Privilege(p) = &ev.kind else {
            return false;
        };
        ev.user.is_some()
            && matches!(
                p,
                PrivilegeKind::SudoCommand { .. } | PrivilegeKind::SuSuccess { .. }
            )
            && p.target() == Some("root")
    }
}

#[inline]
pub fn on_user(on: &mut On<'_, UserState>) {
    let root = AfterLogin::counts(on.ev);
    let c = &on.cfg.rules.priv_after_login;
    let Some((t, ip)) = on.st.login.new_source_login.filter(|_| root && c.enabled) else {
        return;
    };
    let gap = on.now - t;
    if (0..=c.window_seconds as i64 * SECOND).contains(&gap) {
        on.fire
            .push(Fire::new(Rule::PrivAfterLogin, 1, t).detail(format!(
                "root {} s after a login from new source {ip}",
                gap / SECOND
            )));
    }
}
