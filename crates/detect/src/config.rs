//! Detection settings: every threshold of every rule, with the defaults the rules are
//! documented with. Rule tables are named after the rule id with `_` for `.`
//! (`ssh.bruteforce` → `[detect.rules.ssh_bruteforce]`).

use serde::{Deserialize, Serialize};
use tripline_event::Severity;

/// A rule that fires when `threshold` things happen within `window_seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRule {
    /// Turn the rule on or off.
    pub enabled: bool,
    /// How many (failures, users, …) it takes.
    pub threshold: u32,
    /// Within how many seconds of event time.
    pub window_seconds: u64,
    /// Severity of the alert.
    pub severity: Severity,
}

/// `ssh.spray`: many users, few tries each.
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

/// `ssh.distributed`: many sources against one user (or from one network).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributedRule {
    pub enabled: bool,
    /// Failures in the window.
    pub failures: u32,
    /// From at least this many distinct addresses.
    pub sources: u32,
    pub window_seconds: u64,
    /// Also aggregate by /24 (IPv4) and /64 (IPv6) network.
    pub per_subnet: bool,
    pub severity: Severity,
}

/// A rule with no threshold: it fires on the first qualifying event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleRule {
    pub enabled: bool,
    pub severity: Severity,
}

/// Every rule's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// ≥ 5 failed logins from one IP within 10 min (T1110.001).
    pub ssh_bruteforce: CountRule,
    /// ≥ 10 failures from one IP within 6 h that never trip the fast rule (T1110.001).
    pub ssh_bruteforce_slow: CountRule,
    /// ≥ 5 distinct users, ≤ 2 tries each, from one IP within 30 min (T1110.003).
    pub ssh_spray: SprayRule,
    /// ≥ 5 distinct invalid users from one IP within 30 min (T1087, T1110).
    pub ssh_enumeration: CountRule,
    /// ≥ 20 failures against one user from ≥ 5 IPs within 10 min, and per network (T1110).
    pub ssh_distributed: DistributedRule,
    /// Pre-auth noise (no identification, kex/banner failures) from one IP (T1595, T1046).
    pub ssh_scan: CountRule,
    /// A login from an IP that failed ≥ `threshold` times within `window_seconds` before (T1110 → T1078).
    pub ssh_compromise: CountRule,
    /// A login for a user from a /24 or /64 never seen for that user, after the learning period (T1078).
    pub ssh_new_source_login: SimpleRule,
    /// ≥ 3 failed sudo passwords within 10 min (T1548.003).
    pub priv_sudo_failures: CountRule,
    /// A user not in sudoers tried sudo (T1548.003).
    pub priv_not_in_sudoers: SimpleRule,
    /// ≥ 3 failed su within 10 min (T1548).
    pub priv_su_failures: CountRule,
    /// sudo/su to root within `window_seconds` of a login from a new source (T1548).
    pub priv_after_login: CountRule,
    /// useradd, usermod -aG sudo|wheel|adm|root, passwd for another user (T1136.001 / T1098).
    pub account_change: SimpleRule,
    /// Any login attempt or command on a honeypot (T1595 / T1110 / T1059.004).
    pub honeypot_touch: SimpleRule,
}

const fn count(threshold: u32, window_seconds: u64, severity: Severity) -> CountRule {
    CountRule {
        enabled: true,
        threshold,
        window_seconds,
        severity,
    }
}

const fn simple(severity: Severity) -> SimpleRule {
    SimpleRule {
        enabled: true,
        severity,
    }
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            ssh_bruteforce: count(5, 600, Severity::High),
            ssh_bruteforce_slow: count(10, 6 * 3600, Severity::Medium),
            ssh_spray: SprayRule {
                enabled: true,
                users: 5,
                max_tries_per_user: 2,
                window_seconds: 1800,
                severity: Severity::High,
            },
            ssh_enumeration: count(5, 1800, Severity::Medium),
            ssh_distributed: DistributedRule {
                enabled: true,
                failures: 20,
                sources: 5,
                window_seconds: 600,
                per_subnet: true,
                severity: Severity::High,
            },
            ssh_scan: count(3, 600, Severity::Low),
            ssh_compromise: count(3, 3600, Severity::Critical),
            ssh_new_source_login: simple(Severity::Medium),
            priv_sudo_failures: count(3, 600, Severity::Medium),
            priv_not_in_sudoers: simple(Severity::High),
            priv_su_failures: count(3, 600, Severity::Medium),
            priv_after_login: count(1, 60, Severity::High),
            account_change: simple(Severity::Medium),
            honeypot_touch: simple(Severity::Medium),
        }
    }
}

/// Detection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Seconds (event time) without activity after which an alert closes; the next event for
    /// the same rule and entity opens a new alert.
    pub cooldown_seconds: u64,
    /// Most entities (IPs, users, networks) tracked per kind; the least recently seen are
    /// evicted beyond it (counted in `tripline_detect_evictions_total`).
    pub max_tracked_entities: usize,
    /// Seconds after a user's first login during which new sources are learned, not alerted.
    pub learning_period_seconds: u64,
    /// Addresses and CIDR blocks that never alert (in addition to `ignore_self`).
    pub allowlist: Vec<String>,
    /// Never alert on loopback or on this host's own addresses (fail2ban's `ignoreself`).
    pub ignore_self: bool,
    /// Per-rule settings.
    pub rules: RulesConfig,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            cooldown_seconds: 1800,
            max_tracked_entities: 100_000,
            learning_period_seconds: 86_400,
            allowlist: vec![],
            ignore_self: true,
            rules: RulesConfig::default(),
        }
    }
}

impl DetectConfig {
    /// Check values serde cannot: every problem, each naming its key and value.
    pub fn validate(&self, prefix: &str) -> Vec<String> {
        let mut errs = vec![];
        for (i, c) in self.allowlist.iter().enumerate() {
            if let Err(e) = tripline_event::net::Cidr::parse(c) {
                errs.push(format!("{prefix}allowlist[{i}] = {c:?}: {e}"));
            }
        }
        if self.max_tracked_entities < 16 {
            errs.push(format!(
                "{prefix}max_tracked_entities = {}: must be at least 16",
                self.max_tracked_entities
            ));
        }
        let r = &self.rules;
        let counts = [
            ("ssh_bruteforce", &r.ssh_bruteforce),
            ("ssh_bruteforce_slow", &r.ssh_bruteforce_slow),
            ("ssh_enumeration", &r.ssh_enumeration),
            ("ssh_scan", &r.ssh_scan),
            ("ssh_compromise", &r.ssh_compromise),
            ("priv_sudo_failures", &r.priv_sudo_failures),
            ("priv_su_failures", &r.priv_su_failures),
            ("priv_after_login", &r.priv_after_login),
        ];
        for (name, rule) in counts {
            if !(1..=1000).contains(&rule.threshold) {
                errs.push(format!(
                    "{prefix}rules.{name}.threshold = {}: must be 1..=1000",
                    rule.threshold
                ));
            }
            if rule.window_seconds == 0 {
                errs.push(format!(
                    "{prefix}rules.{name}.window_seconds = 0: must be positive"
                ));
            }
        }
        if !(1..=1000).contains(&r.ssh_spray.users) {
            errs.push(format!(
                "{prefix}rules.ssh_spray.users = {}: must be 1..=1000",
                r.ssh_spray.users
            ));
        }
        if !(1..=1000).contains(&r.ssh_distributed.failures) {
            errs.push(format!(
                "{prefix}rules.ssh_distributed.failures = {}: must be 1..=1000",
                r.ssh_distributed.failures
            ));
        }
        if r.ssh_distributed.sources == 0 || r.ssh_distributed.sources > r.ssh_distributed.failures
        {
            errs.push(format!(
                "{prefix}rules.ssh_distributed.sources = {}: must be 1..=failures ({})",
                r.ssh_distributed.sources, r.ssh_distributed.failures
            ));
        }
        errs
    }
}
