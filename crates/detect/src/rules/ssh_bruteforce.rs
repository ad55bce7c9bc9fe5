//! `ssh.bruteforce` and `ssh.bruteforce.slow`: failed logins from one address, fast (≥ 5 within
//! 10 min, T1110.001) or slow: spread over hours (≥ 10 within 6 h, or ≥ 5 users within 6 h from
//! an address nobody logged in from) without ever tripping the fast rule, or paced like clockwork
//! (the fast rule's attempts evenly spaced, ≥ 20 s apart: a bot throttling itself under the
//! rate limits, CrowdSec's `ssh-slow-bf` rather than `ssh-bf`). Both count the address's
//! attempts window (`IpState::fails`, filled by the engine).

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo};
use crate::config::{count, CountRule, RuleConfig};
use crate::engine::IpState;
use crate::{Roles, Secs};
use serde::{Deserialize, Serialize};
use tripline_event::{Event, Severity};

/// `ssh.bruteforce`.
pub struct Bruteforce;

impl RuleDef for Bruteforce {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.bruteforce",
        techniques: &["T1110.001"],
        summary: "many failed SSH logins from one address in a short window",
        base_score: 0.7,
    };
    const KEYS: u8 = Roles::IP;
    type Config = CountRule;
    const DEFAULT: CountRule = count(5, 600, Severity::High);

    fn explain(x: &Explain<'_>, c: &CountRule) -> String {
        format!(
            "{} failed SSH login attempts from {} (threshold {} within {}); users tried: {}",
            x.alert.count,
            x.who,
            c.threshold,
            Secs(c.window_seconds),
            x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        super::attempt(ev)
    }

    const OUTRANKS: &'static [Rule] = &[
        Rule::SshBruteforceSlow,
        Rule::HoneypotLogin,
        Rule::SshRefused,
    ];
}

/// `ssh.bruteforce.slow`.
pub struct Slow;

impl RuleDef for Slow {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.bruteforce.slow",
        techniques: &["T1110.001"],
        summary:
            "failed SSH logins from one address spread over hours, under the fast rule's radar",
        base_score: 0.6,
    };
    const KEYS: u8 = Roles::IP;
    type Config = SlowRule;
    const DEFAULT: SlowRule = SlowRule {
        enabled: true,
        threshold: 10,
        users: 5,
        paced_seconds: 20,
        window_seconds: 6 * 3600,
        severity: Severity::Medium,
    };

    fn explain(x: &Explain<'_>, c: &SlowRule) -> String {
        format!(
            "{} failed SSH login attempts from {}, slowly (≥ {} attempts or ≥ {} users within {}, or evenly spaced ≥ {} apart; never a burst for ssh.bruteforce); users tried: {}",
            x.alert.count,
            x.who,
            c.threshold,
            c.users,
            Secs(c.window_seconds),
            Secs(c.paced_seconds),
            x.users
        )
    }

    fn counts(ev: &Event) -> bool {
        super::attempt(ev)
    }

    const OUTRANKS: &'static [Rule] = &[Rule::HoneypotLogin, Rule::SshRefused];
}

/// `[detect.rules.ssh_bruteforce_slow]`: `threshold` attempts, or attempts on `users`
/// different users from an address nobody logged in from (a slow spray; 0: off), within
/// `window_seconds`; or the fast rule's attempts evenly spaced at least `paced_seconds` apart
/// (0: off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowRule {
    pub enabled: bool,
    pub threshold: u32,
    pub users: u32,
    pub paced_seconds: u64,
    pub window_seconds: u64,
    pub severity: Severity,
}

impl SlowRule {
    /// Its attempts count, as a counting rule's.
    fn attempts(&self) -> CountRule {
        CountRule {
            enabled: self.enabled,
            threshold: self.threshold,
            window_seconds: self.window_seconds,
            severity: self.severity,
        }
    }
}

impl RuleConfig for SlowRule {
    crate::rule_config_fields!(window);
    fn validate(&self, key: &str, errs: &mut Vec<String>) {
        crate::config::validate_count(key, self.threshold, self.window_seconds, errs);
        if self.users > 8 {
            errs.push(format!(
                "{key}.users = {}: must be 0..=8 (an address remembers its latest 8 users)",
                self.users
            ));
        }
        if self.paced_seconds > self.window_seconds {
            errs.push(format!(
                "{key}.paced_seconds = {}: must be at most window_seconds ({})",
                self.paced_seconds, self.window_seconds
            ));
        }
    }
}

/// What the fast rule remembers of an address: it fired (within the address's life in
/// memory), so the slow rule stays quiet.
#[derive(Default)]
pub struct State {
    fast_fired: bool,
}

/// Both rules, on an attempt from the address (already in its window).
#[inline]
pub fn on_attempt(on: &mut On<'_, IpState>) {
    let (r, now, prior) = (&on.cfg.rules, on.now, on.prior);
    let st = &mut *on.st;
    let bf = &r.ssh_bruteforce;
    let slow = &r.ssh_bruteforce_slow;
    let from = || prior.start(Rule::SshBruteforce, bf.window_seconds);
    let slow_from = || prior.start(Rule::SshBruteforceSlow, slow.window_seconds);
    if let Some((n, first)) = st
        .fails
        .counting(bf, now, from, || prior.open(Rule::SshBruteforce))
    {
        if slow.enabled
            && paced(&st.fails, bf.threshold, slow.paced_seconds)
            && !prior.open(Rule::SshBruteforce)
        {
            // the fast rule's count, but evenly spaced like a timer: a slow brute force
            let (n, first) = st.fails.since(slow_from(), now);
            on.fire.push(Fire::new(Rule::SshBruteforceSlow, n, first));
            return;
        }
        st.bruteforce.fast_fired = true;
        on.fire.push(Fire::new(Rule::SshBruteforce, n, first));
    }
    if !st.bruteforce.fast_fired {
        if let Some((n, first)) = st
            .fails
            .counting(&slow.attempts(), now, slow_from, || false)
        {
            on.fire.push(Fire::new(Rule::SshBruteforceSlow, n, first));
        } else if slow.enabled
            && slow.users > 0
            && !st.logged_in()
            && st.users_since(now - slow.window_seconds as i64 * super::SECOND)
                >= slow.users as usize
        {
            // several users over hours from an address nobody logged in from: a slow spray
            // (counted after the previous alert, as its attempts are)
            let from = slow_from();
            if st.users_since(from) >= slow.users as usize {
                let (n, first) = st.fails.since(from, now);
                on.fire.push(Fire::new(Rule::SshBruteforceSlow, n, first));
            }
        }
    }
}

/// The latest `n` attempts are evenly spaced, at least `min_gap` seconds apart on average: each
/// gap within a quarter of the mean (at least 2 s, for logs' whole seconds). 0: never.
fn paced(fails: &crate::state::Ring, n: u32, min_gap: u64) -> bool {
    let q = &fails.0;
    let n = n as usize;
    if min_gap == 0 || n < 3 || q.len() < n {
        return false;
    }
    let last = q.range(q.len() - n..);
    let (first, end) = (q[q.len() - n], q[q.len() - 1]);
    let mean = (end - first) / (n as i64 - 1);
    if mean < min_gap as i64 * super::SECOND {
        return false;
    }
    let slack = (mean / 4).max(2 * super::SECOND);
    last.clone()
        .zip(last.skip(1))
        .all(|(a, b)| (b - a - mean).abs() <= slack)
}
