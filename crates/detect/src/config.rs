//! Detection settings, and the shapes rules' settings share. Each rule's own settings and
//! their defaults are in its file (`rules/`); rule tables are named after the rule id with `_`
//! for `.` (`ssh.bruteforce` → `[detect.rules.ssh_bruteforce]`).

pub use crate::rules::ssh_distributed::DistributedRule;
pub use crate::rules::ssh_spray::SprayRule;
use crate::rules::Rule;
pub use crate::rules::RulesConfig;
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

/// A rule with no threshold: it fires on the first qualifying event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleRule {
    pub enabled: bool,
    pub severity: Severity,
}

/// What every rule's settings say, whatever their shape.
pub trait RuleConfig: std::fmt::Debug {
    fn enabled(&self) -> bool;
    fn severity(&self) -> Severity;
    /// How far back (seconds of event time) its window reaches; 0: it has none.
    fn window_seconds(&self) -> u64 {
        0
    }
    /// Check what serde cannot: each problem names `key` (`rules.NAME`), the field and value.
    fn validate(&self, _key: &str, _errs: &mut Vec<String>) {}
}

/// The [`RuleConfig`] getters of settings that have `enabled` and `severity` fields (and, with
/// `window`, `window_seconds`), inside their `impl RuleConfig`.
#[macro_export]
#[doc(hidden)]
macro_rules! rule_config_fields {
    () => {
        fn enabled(&self) -> bool {
            self.enabled
        }
        fn severity(&self) -> tripline_event::Severity {
            self.severity
        }
    };
    (window) => {
        $crate::rule_config_fields!();
        fn window_seconds(&self) -> u64 {
            self.window_seconds
        }
    };
}

impl RuleConfig for CountRule {
    crate::rule_config_fields!(window);
    fn validate(&self, key: &str, errs: &mut Vec<String>) {
        validate_count(key, self.threshold, self.window_seconds, errs);
    }
}

/// The checks of a threshold (1..=1000) and a window (positive), naming `key`'s fields.
pub fn validate_count(key: &str, threshold: u32, window_seconds: u64, errs: &mut Vec<String>) {
    if !(1..=1000).contains(&threshold) {
        errs.push(format!("{key}.threshold = {threshold}: must be 1..=1000"));
    }
    if window_seconds == 0 {
        errs.push(format!("{key}.window_seconds = 0: must be positive"));
    }
}

impl RuleConfig for SimpleRule {
    crate::rule_config_fields!();
}

/// A counting rule's settings.
pub const fn count(threshold: u32, window_seconds: u64, severity: Severity) -> CountRule {
    CountRule {
        enabled: true,
        threshold,
        window_seconds,
        severity,
    }
}

/// A rule's settings with no threshold.
pub const fn simple(severity: Severity) -> SimpleRule {
    SimpleRule {
        enabled: true,
        severity,
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
        for r in Rule::ALL {
            let key = format!("{prefix}rules.{}", r.key());
            r.config(&self.rules).validate(&key, &mut errs);
        }
        errs
    }
}
