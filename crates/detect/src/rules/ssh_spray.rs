//! `ssh.spray`: one address trying many accounts with few passwords each (≥ 5 users, ≤ 2 tries
//! each, within 30 min; T1110.003).

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::RuleConfig;
use crate::engine::IpState;
use crate::shard::user_key;
use crate::{Roles, Secs};
use serde::{Deserialize, Serialize};
use tripline_event::{Event, Severity};

/// `ssh.spray`.
pub struct Spray;

/// `[detect.rules.ssh_spray]`: many users, few tries each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SprayRule {
    pub enabled: bool,
    /// Distinct users tried from one address.
    pub users: u32,
    /// At most this many tries per user (more is brute force, not spraying).
    pub max_tries_per_user: u32,
    pub window_seconds: u64,
    pub severity: Severity,
}

impl RuleConfig for SprayRule {
    crate::rule_config_fields!(window);
    fn validate(&self, key: &str, errs: &mut Vec<String>) {
        if !(1..=1000).contains(&self.users) {
            errs.push(format!("{key}.users = {}: must be 1..=1000", self.users));
        }
    }
}

impl RuleDef for Spray {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.spray",
        techniques: &["T1110.003"],
        summary: "one address trying many accounts with few passwords each",
        base_score: 0.75,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SprayRule;
    const DEFAULT: SprayRule = SprayRule {
        enabled: true,
        users: 5,
        max_tries_per_user: 2,
        window_seconds: 1800,
        severity: Severity::High,
    };

    fn explain(x: &Explain<'_>, c: &SprayRule) -> String {
        format!(
            "{} tried ≥ {} different accounts with ≤ {} attempts each within {} ({} attempts so far): {}",
            x.who,
            c.users,
            c.max_tries_per_user,
            Secs(c.window_seconds),
            x.alert.count,
            x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        super::attempt(ev) && ev.user.is_some()
    }

    /// Many accounts with few tries each is the story; their sum is a brute force.
    const OUTRANKS: &'static [Rule] = &[Rule::SshBruteforce];
}

/// The users an address tried: (user hash, tries, first try, latest try), at most 64.
#[derive(Default)]
pub struct Tried(Vec<(u64, u32, i64, i64)>);

/// On an attempt from the address for a named user.
#[inline]
pub fn on_attempt(on: &mut On<'_, IpState>) {
    let Some(user) = on.ev.user.as_deref() else {
        return;
    };
    let (sp, now, prior, count) = (&on.cfg.rules.ssh_spray, on.now, on.prior, on.ev.count);
    let users = &mut on.st.spray.0;
    let uh = user_key(user) as u64;
    let horizon = now - sp.window_seconds as i64 * SECOND;
    users.retain(|u| u.3 >= horizon);
    match users.iter().position(|u| u.0 == uh) {
        Some(i) => {
            let u = &mut users[i];
            u.1 = u.1.saturating_add(count);
            u.3 = now;
        }
        None if users.len() < 64 => crate::state::push_lean(users, (uh, count, now, now)),
        None => {}
    }
    // users tried within the window (retained above), and since the previous spray alert
    // (looked up only when there are enough)
    let few = |from: i64| {
        users
            .iter()
            .filter(|u| u.3 >= from && u.1 <= sp.max_tries_per_user)
            .count()
    };
    let enough = sp.enabled && few(horizon) >= sp.users as usize;
    let from = if enough {
        prior.start(Rule::SshSpray, sp.window_seconds)
    } else {
        horizon
    };
    let counted = || users.iter().filter(|u| u.3 >= from);
    if enough && few(from) >= sp.users as usize {
        let n: u32 = counted().map(|u| u.1).sum();
        // a user first tried before the window's start counts from its latest try
        let first = counted()
            .map(|u| if u.2 >= from { u.2 } else { u.3 })
            .min()
            .unwrap_or(now);
        on.fire.push(Fire::new(Rule::SshSpray, n as u64, first));
    }
}
