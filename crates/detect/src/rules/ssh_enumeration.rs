//! `ssh.enumeration`: one address probing for account names that do not exist (≥ 5 distinct
//! invalid users within 30 min; T1087, T1110).

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::{count, CountRule};
use crate::engine::IpState;
use crate::shard::user_key;
use crate::{Roles, Secs};
use tripline_event::{AuthKind, Event, Kind, Severity};

/// `ssh.enumeration`.
pub struct Enumeration;

impl RuleDef for Enumeration {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.enumeration",
        techniques: &["T1087", "T1110"],
        summary: "one address probing for account names that do not exist",
        base_score: 0.6,
    };
    const KEYS: u8 = Roles::IP;
    type Config = CountRule;
    const DEFAULT: CountRule = count(5, 1800, Severity::Medium);

    fn explain(x: &Explain<'_>, c: &CountRule) -> String {
        format!(
            "{} tried ≥ {} account names that do not exist within {} ({} attempts in all); users tried: {}",
            x.who,
            c.threshold,
            Secs(c.window_seconds),
            x.alert.count,
            x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        super::attempt(ev) && ev.user.is_some() && invalid_user(ev)
    }

    /// Probing for names is the story; that the probes also spray and add up to a brute
    /// force follows from it.
    const OUTRANKS: &'static [Rule] = &[Rule::SshSpray];
}

/// A login attempt for a user that does not exist.
fn invalid_user(ev: &Event) -> bool {
    matches!(
        ev.kind,
        Kind::Auth(
            AuthKind::InvalidUser
                | AuthKind::Failure {
                    invalid_user: true,
                    ..
                }
        )
    )
}

/// The invalid users an address tried: (user hash, first try, latest try), at most 64.
#[derive(Default)]
pub struct Invalid(Vec<(u64, i64, i64)>);

/// On an attempt from the address for a user that does not exist.
#[inline]
pub fn on_attempt(on: &mut On<'_, IpState>) {
    let Some(user) = on.ev.user.as_deref().filter(|_| invalid_user(on.ev)) else {
        return;
    };
    let (en, now, prior) = (&on.cfg.rules.ssh_enumeration, on.now, on.prior);
    let tried = &mut on.st.enumeration.0;
    let uh = user_key(user) as u64;
    let horizon = now - en.window_seconds as i64 * SECOND;
    tried.retain(|u| u.2 >= horizon);
    match tried.iter().position(|u| u.0 == uh) {
        Some(i) => tried[i].2 = now,
        None if tried.len() < 64 => crate::state::push_lean(tried, (uh, now, now)),
        None => {}
    }
    let enough = en.enabled && tried.len() >= en.threshold as usize;
    let from = if enough {
        prior.start(Rule::SshEnumeration, en.window_seconds)
    } else {
        horizon
    };
    let counted = || tried.iter().filter(|u| u.2 >= from);
    let n = counted().count();
    if enough && n >= en.threshold as usize {
        let first = counted()
            .map(|u| if u.1 >= from { u.1 } else { u.2 })
            .min()
            .unwrap_or(now);
        on.fire
            .push(Fire::new(Rule::SshEnumeration, n as u64, first));
    }
}
