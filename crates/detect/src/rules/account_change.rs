//! `account.change`: an account created, added to a privileged group (sudo, wheel, adm, root,
//! admin), or its password changed by someone else (T1136.001, T1098).

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo};
use crate::config::{simple, SimpleRule};
use crate::engine::UserState;
use crate::Roles;
use tripline_event::{AccountKind, Event, Kind, Severity};

/// `account.change`.
pub struct AccountChange;

impl RuleDef for AccountChange {
    const INFO: RuleInfo = RuleInfo {
        id: "account.change",
        techniques: &["T1136.001", "T1098"],
        summary: "an account created, given admin rights, or its password changed by someone else",
        base_score: 0.6,
    };
    const KEYS: u8 = Roles::USER;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::Medium);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        format!("account {}: {}", x.who, x.detail)
    }

    fn counts(ev: &Event) -> bool {
        change(ev).is_some()
    }
}

/// What changed, in words, when the event is a change this rule reports.
fn change(ev: &Event) -> Option<String> {
    let (Kind::Account(k), Some(user)) = (&ev.kind, ev.user.as_deref()) else {
        return None;
    };
    Some(match k {
        AccountKind::Created => "account created".to_string(),
        AccountKind::GroupMembership { group } if PRIVILEGED.contains(&group.as_str()) => {
            format!("added to privileged group {group}")
        }
        AccountKind::PasswordChange { by: Some(by) } if by.as_str() != user => {
            format!("password changed by {by}")
        }
        _ => return None,
    })
}

/// Groups that make their members administrators.
const PRIVILEGED: [&str; 5] = ["sudo", "wheel", "adm", "root", "admin"];

#[inline]
pub fn on_user(on: &mut On<'_, UserState>) {
    if !matches!(on.ev.kind, Kind::Account(_)) || !on.cfg.rules.account_change.enabled {
        return;
    }
    if let Some(detail) = change(on.ev) {
        on.fire
            .push(Fire::new(Rule::AccountChange, 1, on.now).detail(detail));
    }
}
