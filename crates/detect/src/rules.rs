//! The rule table: stable ids, ATT&CK techniques, severities, scores and explanations.

use crate::config::RulesConfig;
use crate::Secs as fmt_secs;
use std::net::IpAddr;
use tripline_event::{Alert, Severity, Text};

pub use tripline_event::catalog::{technique_name, technique_url, RuleInfo};

pub(crate) const SSH_BRUTEFORCE: u8 = 0;
pub(crate) const SSH_BRUTEFORCE_SLOW: u8 = 1;
pub(crate) const SSH_SPRAY: u8 = 2;
pub(crate) const SSH_ENUMERATION: u8 = 3;
pub(crate) const SSH_DISTRIBUTED: u8 = 4;
pub(crate) const SSH_SCAN: u8 = 5;
pub(crate) const SSH_COMPROMISE: u8 = 6;
pub(crate) const SSH_NEW_SOURCE_LOGIN: u8 = 7;
pub(crate) const PRIV_SUDO_FAILURES: u8 = 8;
pub(crate) const PRIV_NOT_IN_SUDOERS: u8 = 9;
pub(crate) const PRIV_SU_FAILURES: u8 = 10;
pub(crate) const PRIV_AFTER_LOGIN: u8 = 11;
pub(crate) const ACCOUNT_CHANGE: u8 = 12;
pub(crate) const HONEYPOT_TOUCH: u8 = 13;
/// Raised by the anomaly stage (the Isolation Forest), never by a detector.
pub const ANOMALY: u8 = 14;

/// Every rule, indexed by the constants above.
pub const RULES: [RuleInfo; 15] = [
    RuleInfo {
        id: "ssh.bruteforce",
        techniques: &["T1110.001"],
        summary: "many failed SSH logins from one address in a short window",
        base_score: 0.7,
    },
    RuleInfo {
        id: "ssh.bruteforce.slow",
        techniques: &["T1110.001"],
        summary:
            "failed SSH logins from one address spread over hours, under the fast rule's radar",
        base_score: 0.6,
    },
    RuleInfo {
        id: "ssh.spray",
        techniques: &["T1110.003"],
        summary: "one address trying many accounts with few passwords each",
        base_score: 0.75,
    },
    RuleInfo {
        id: "ssh.enumeration",
        techniques: &["T1087", "T1110"],
        summary: "one address probing for account names that do not exist",
        base_score: 0.6,
    },
    RuleInfo {
        id: "ssh.distributed",
        techniques: &["T1110"],
        summary: "many addresses failing against one account, or from one network",
        base_score: 0.75,
    },
    RuleInfo {
        id: "ssh.scan",
        techniques: &["T1595", "T1046"],
        summary: "pre-authentication noise from one address: a scanner",
        base_score: 0.4,
    },
    RuleInfo {
        id: "ssh.compromise",
        techniques: &["T1110", "T1078"],
        summary: "a successful login from an address that was failing just before",
        base_score: 0.95,
    },
    RuleInfo {
        id: "ssh.new_source_login",
        techniques: &["T1078"],
        summary: "a login from a network never seen for this user",
        base_score: 0.5,
    },
    RuleInfo {
        id: "priv.sudo_failures",
        techniques: &["T1548.003"],
        summary: "repeated wrong sudo passwords",
        base_score: 0.6,
    },
    RuleInfo {
        id: "priv.not_in_sudoers",
        techniques: &["T1548.003"],
        summary: "a user without sudo rights tried sudo",
        base_score: 0.7,
    },
    RuleInfo {
        id: "priv.su_failures",
        techniques: &["T1548"],
        summary: "repeated failed su",
        base_score: 0.6,
    },
    RuleInfo {
        id: "priv.after_login",
        techniques: &["T1548"],
        summary: "root right after a login from a new source",
        base_score: 0.85,
    },
    RuleInfo {
        id: "account.change",
        techniques: &["T1136.001", "T1098"],
        summary: "an account created, given admin rights, or its password changed by someone else",
        base_score: 0.6,
    },
    RuleInfo {
        id: "honeypot.touch",
        techniques: &["T1595", "T1110", "T1059.004"],
        summary: "someone logged in to or ran commands on a honeypot",
        base_score: 0.8,
    },
    RuleInfo {
        id: "anomaly",
        techniques: &[],
        summary: "a behaviour window (an address's or a user's) unlike the trained baseline",
        base_score: 0.7,
    },
];

/// The techniques an anomaly alert may carry, indexed by bits: brute force (1, T1110), valid
/// accounts (2, T1078), abuse of elevation control (4, T1548), a Unix shell (8, T1059.004).
/// Each union lists its techniques once, in id order. The anomaly rule names none of its own:
/// an alert carries what its most unusual features point at.
pub const ANOMALY_TECHNIQUES: [&[&str]; 16] = [
    &[],
    &["T1110"],
    &["T1078"],
    &["T1078", "T1110"],
    &["T1548"],
    &["T1110", "T1548"],
    &["T1078", "T1548"],
    &["T1078", "T1110", "T1548"],
    &["T1059.004"],
    &["T1059.004", "T1110"],
    &["T1059.004", "T1078"],
    &["T1059.004", "T1078", "T1110"],
    &["T1059.004", "T1548"],
    &["T1059.004", "T1110", "T1548"],
    &["T1059.004", "T1078", "T1548"],
    &["T1059.004", "T1078", "T1110", "T1548"],
];

/// The rule with this id.
pub fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

pub(crate) fn severity(rule: u8, r: &RulesConfig) -> Severity {
    match rule {
        SSH_BRUTEFORCE => r.ssh_bruteforce.severity,
        SSH_BRUTEFORCE_SLOW => r.ssh_bruteforce_slow.severity,
        SSH_SPRAY => r.ssh_spray.severity,
        SSH_ENUMERATION => r.ssh_enumeration.severity,
        SSH_DISTRIBUTED => r.ssh_distributed.severity,
        SSH_SCAN => r.ssh_scan.severity,
        SSH_COMPROMISE => r.ssh_compromise.severity,
        SSH_NEW_SOURCE_LOGIN => r.ssh_new_source_login.severity,
        PRIV_SUDO_FAILURES => r.priv_sudo_failures.severity,
        PRIV_NOT_IN_SUDOERS => r.priv_not_in_sudoers.severity,
        PRIV_SU_FAILURES => r.priv_su_failures.severity,
        PRIV_AFTER_LOGIN => r.priv_after_login.severity,
        ACCOUNT_CHANGE => r.account_change.severity,
        ANOMALY => Severity::Medium,
        _ => r.honeypot_touch.severity,
    }
}

/// Base score rising with the count toward 1: the longer an attack, the surer we are.
pub(crate) fn score(rule: u8, count: u64) -> f32 {
    RULES[rule as usize].score(count)
}

/// Items joined by `, `, formatted in place.
struct List<'a, T>(&'a [T]);

impl<T: ListItem> std::fmt::Display for List<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            item.write(f)?;
        }
        Ok(())
    }
}

trait ListItem {
    fn write(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result;
}

impl ListItem for Text {
    fn write(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl ListItem for IpAddr {
    fn write(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&tripline_event::net::IpText::new(*self))
    }
}

fn list<T: ListItem>(items: &[T]) -> List<'_, T> {
    List(items)
}

/// Why it fired, in words, with the numbers that made it fire.
pub(crate) fn explain(
    rule: u8,
    a: &Alert,
    users: &[Text],
    sources: &[IpAddr],
    detail: &str,
    r: &RulesConfig,
) -> String {
    let who = a.entity.view().value;
    let users = list(users);
    let mut s = match rule {
        SSH_BRUTEFORCE => format!(
            "{} failed SSH logins from {who} (threshold {} within {}); users tried: {users}",
            a.count, r.ssh_bruteforce.threshold, fmt_secs(r.ssh_bruteforce.window_seconds)
        ),
        SSH_BRUTEFORCE_SLOW => format!(
            "{} failed SSH logins from {who}, slowly (≥ {} within {}, never fast enough for ssh.bruteforce); users tried: {users}",
            a.count, r.ssh_bruteforce_slow.threshold, fmt_secs(r.ssh_bruteforce_slow.window_seconds)
        ),
        SSH_SPRAY => format!(
            "{who} tried ≥ {} different accounts with ≤ {} attempts each within {} ({} attempts so far): {users}",
            r.ssh_spray.users, r.ssh_spray.max_tries_per_user, fmt_secs(r.ssh_spray.window_seconds), a.count
        ),
        SSH_ENUMERATION => format!(
            "{who} tried ≥ {} account names that do not exist within {}: {users}",
            r.ssh_enumeration.threshold, fmt_secs(r.ssh_enumeration.window_seconds)
        ),
        SSH_DISTRIBUTED => format!(
            "{} failed SSH logins against {who} from ≥ {} addresses within {} (threshold {} failures); sources include {}",
            a.count, r.ssh_distributed.sources, fmt_secs(r.ssh_distributed.window_seconds), r.ssh_distributed.failures, list(sources)
        ),
        SSH_SCAN => format!(
            "{} pre-authentication failures from {who} (no identification, bad banner, kex or cipher failures; threshold {} within {})",
            a.count, r.ssh_scan.threshold, fmt_secs(r.ssh_scan.window_seconds)
        ),
        SSH_COMPROMISE => format!("successful SSH login for {} from {who} right after failures: {detail}", a.user.as_deref().unwrap_or("?")),
        SSH_NEW_SOURCE_LOGIN => format!("{who} logged in from {}: {detail}", list(sources)),
        PRIV_SUDO_FAILURES => format!(
            "{who} failed sudo authentication {} times (threshold {} within {})",
            a.count, r.priv_sudo_failures.threshold, fmt_secs(r.priv_sudo_failures.window_seconds)
        ),
        PRIV_NOT_IN_SUDOERS => format!("{who} is not in sudoers but tried sudo {} time(s)", a.count),
        PRIV_SU_FAILURES => format!(
            "{who} failed su {} times (threshold {} within {})",
            a.count, r.priv_su_failures.threshold, fmt_secs(r.priv_su_failures.window_seconds)
        ),
        PRIV_AFTER_LOGIN => format!("{who} became {detail}"),
        ACCOUNT_CHANGE => format!("account {who}: {detail}"),
        _ => format!("{who} touched a honeypot {} time(s) (logins, commands, downloads); users: {users}", a.count),
    };
    s.truncate(tripline_event::truncate_str(&s, 2048).len());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anomaly_union_lists_each_of_its_techniques_once_in_order() {
        let bits = [(8, "T1059.004"), (2, "T1078"), (1, "T1110"), (4, "T1548")];
        for (b, set) in ANOMALY_TECHNIQUES.iter().enumerate() {
            let want: Vec<&str> = bits
                .iter()
                .filter(|(bit, _)| b & bit != 0)
                .map(|(_, t)| *t)
                .collect();
            assert_eq!(*set, want.as_slice(), "bits {b}");
        }
    }

    #[test]
    fn every_technique_a_rule_carries_has_a_name_and_a_page() {
        for t in ANOMALY_TECHNIQUES.iter().flat_map(|s| s.iter()) {
            assert!(technique_name(t).is_some(), "anomaly: {t} has no name");
        }
        for r in RULES.iter() {
            for t in r.techniques {
                assert!(technique_name(t).is_some(), "{}: {t} has no name", r.id);
            }
        }
        assert_eq!(
            technique_url("T1110.001"),
            "https://attack.mitre.org/techniques/T1110/001/"
        );
        assert_eq!(technique_name("T9999"), None);
    }
}
