//! The rule table: stable ids, ATT&CK techniques, severities, scores and explanations.

use crate::config::RulesConfig;
use crate::Secs as fmt_secs;
use std::net::IpAddr;
use tripline_event::{Alert, Severity, Text};

pub use tripline_event::catalog::{technique_name, technique_url, RuleInfo};

/// A rule of this crate. Every match on it is exhaustive: a rule without its info, severity or
/// explanation does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Rule {
    SshBruteforce,
    SshBruteforceSlow,
    SshSpray,
    SshEnumeration,
    SshDistributed,
    SshScan,
    SshCompromise,
    SshNewSourceLogin,
    PrivSudoFailures,
    PrivNotInSudoers,
    PrivSuFailures,
    PrivAfterLogin,
    AccountChange,
    HoneypotTouch,
}

impl Rule {
    /// Every rule, in catalog order.
    pub const ALL: [Rule; 14] = [
        Rule::SshBruteforce,
        Rule::SshBruteforceSlow,
        Rule::SshSpray,
        Rule::SshEnumeration,
        Rule::SshDistributed,
        Rule::SshScan,
        Rule::SshCompromise,
        Rule::SshNewSourceLogin,
        Rule::PrivSudoFailures,
        Rule::PrivNotInSudoers,
        Rule::PrivSuFailures,
        Rule::PrivAfterLogin,
        Rule::AccountChange,
        Rule::HoneypotTouch,
    ];

    /// What the rule is (id, techniques, summary, base score).
    pub fn info(self) -> &'static RuleInfo {
        match self {
            Rule::SshBruteforce => &SSH_BRUTEFORCE,
            Rule::SshBruteforceSlow => &SSH_BRUTEFORCE_SLOW,
            Rule::SshSpray => &SSH_SPRAY,
            Rule::SshEnumeration => &SSH_ENUMERATION,
            Rule::SshDistributed => &SSH_DISTRIBUTED,
            Rule::SshScan => &SSH_SCAN,
            Rule::SshCompromise => &SSH_COMPROMISE,
            Rule::SshNewSourceLogin => &SSH_NEW_SOURCE_LOGIN,
            Rule::PrivSudoFailures => &PRIV_SUDO_FAILURES,
            Rule::PrivNotInSudoers => &PRIV_NOT_IN_SUDOERS,
            Rule::PrivSuFailures => &PRIV_SU_FAILURES,
            Rule::PrivAfterLogin => &PRIV_AFTER_LOGIN,
            Rule::AccountChange => &ACCOUNT_CHANGE,
            Rule::HoneypotTouch => &HONEYPOT_TOUCH,
        }
    }
}

pub const SSH_BRUTEFORCE: RuleInfo = RuleInfo {
    id: "ssh.bruteforce",
    techniques: &["T1110.001"],
    summary: "many failed SSH logins from one address in a short window",
    base_score: 0.7,
};

pub const SSH_BRUTEFORCE_SLOW: RuleInfo = RuleInfo {
    id: "ssh.bruteforce.slow",
    techniques: &["T1110.001"],
    summary: "failed SSH logins from one address spread over hours, under the fast rule's radar",
    base_score: 0.6,
};

pub const SSH_SPRAY: RuleInfo = RuleInfo {
    id: "ssh.spray",
    techniques: &["T1110.003"],
    summary: "one address trying many accounts with few passwords each",
    base_score: 0.75,
};

pub const SSH_ENUMERATION: RuleInfo = RuleInfo {
    id: "ssh.enumeration",
    techniques: &["T1087", "T1110"],
    summary: "one address probing for account names that do not exist",
    base_score: 0.6,
};

pub const SSH_DISTRIBUTED: RuleInfo = RuleInfo {
    id: "ssh.distributed",
    techniques: &["T1110"],
    summary: "many addresses failing against one account, or from one network",
    base_score: 0.75,
};

pub const SSH_SCAN: RuleInfo = RuleInfo {
    id: "ssh.scan",
    techniques: &["T1595", "T1046"],
    summary: "pre-authentication noise from one address: a scanner",
    base_score: 0.4,
};

pub const SSH_COMPROMISE: RuleInfo = RuleInfo {
    id: "ssh.compromise",
    techniques: &["T1110", "T1078"],
    summary: "a successful login from an address that was failing just before",
    base_score: 0.95,
};

pub const SSH_NEW_SOURCE_LOGIN: RuleInfo = RuleInfo {
    id: "ssh.new_source_login",
    techniques: &["T1078"],
    summary: "a login from a network never seen for this user",
    base_score: 0.5,
};

pub const PRIV_SUDO_FAILURES: RuleInfo = RuleInfo {
    id: "priv.sudo_failures",
    techniques: &["T1548.003"],
    summary: "repeated wrong sudo passwords",
    base_score: 0.6,
};

pub const PRIV_NOT_IN_SUDOERS: RuleInfo = RuleInfo {
    id: "priv.not_in_sudoers",
    techniques: &["T1548.003"],
    summary: "a user without sudo rights tried sudo",
    base_score: 0.7,
};

pub const PRIV_SU_FAILURES: RuleInfo = RuleInfo {
    id: "priv.su_failures",
    techniques: &["T1548"],
    summary: "repeated failed su",
    base_score: 0.6,
};

pub const PRIV_AFTER_LOGIN: RuleInfo = RuleInfo {
    id: "priv.after_login",
    techniques: &["T1548"],
    summary: "root right after a login from a new source",
    base_score: 0.85,
};

pub const ACCOUNT_CHANGE: RuleInfo = RuleInfo {
    id: "account.change",
    techniques: &["T1136.001", "T1098"],
    summary: "an account created, given admin rights, or its password changed by someone else",
    base_score: 0.6,
};

pub const HONEYPOT_TOUCH: RuleInfo = RuleInfo {
    id: "honeypot.touch",
    techniques: &["T1595", "T1110", "T1059.004"],
    summary: "someone logged in to or ran commands on a honeypot",
    base_score: 0.8,
};

/// Raised by the anomaly detector (the Isolation Forest, `tripline-anomaly`), not by
/// [`Rule`].
pub const ANOMALY: RuleInfo = RuleInfo {
    id: "anomaly",
    techniques: &[],
    summary: "a behaviour window (an address's or a user's) unlike the trained baseline",
    base_score: 0.7,
};

/// Every rule of this crate, and the anomaly detector's, in catalog order.
pub const RULES: [RuleInfo; 15] = [
    SSH_BRUTEFORCE,
    SSH_BRUTEFORCE_SLOW,
    SSH_SPRAY,
    SSH_ENUMERATION,
    SSH_DISTRIBUTED,
    SSH_SCAN,
    SSH_COMPROMISE,
    SSH_NEW_SOURCE_LOGIN,
    PRIV_SUDO_FAILURES,
    PRIV_NOT_IN_SUDOERS,
    PRIV_SU_FAILURES,
    PRIV_AFTER_LOGIN,
    ACCOUNT_CHANGE,
    HONEYPOT_TOUCH,
    ANOMALY,
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

impl Rule {
    /// The severity its alerts carry, from its configuration.
    pub fn severity(self, r: &RulesConfig) -> Severity {
        match self {
            Rule::SshBruteforce => r.ssh_bruteforce.severity,
            Rule::SshBruteforceSlow => r.ssh_bruteforce_slow.severity,
            Rule::SshSpray => r.ssh_spray.severity,
            Rule::SshEnumeration => r.ssh_enumeration.severity,
            Rule::SshDistributed => r.ssh_distributed.severity,
            Rule::SshScan => r.ssh_scan.severity,
            Rule::SshCompromise => r.ssh_compromise.severity,
            Rule::SshNewSourceLogin => r.ssh_new_source_login.severity,
            Rule::PrivSudoFailures => r.priv_sudo_failures.severity,
            Rule::PrivNotInSudoers => r.priv_not_in_sudoers.severity,
            Rule::PrivSuFailures => r.priv_su_failures.severity,
            Rule::PrivAfterLogin => r.priv_after_login.severity,
            Rule::AccountChange => r.account_change.severity,
            Rule::HoneypotTouch => r.honeypot_touch.severity,
        }
    }
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

impl Rule {
    /// Why it fired, in words, with the numbers that made it fire.
    pub(crate) fn explain(
        self,
        a: &Alert,
        users: &[Text],
        sources: &[IpAddr],
        detail: &str,
        r: &RulesConfig,
    ) -> String {
        let who = a.entity.view().value;
        let users = list(users);
        let mut s = match self {
        Rule::SshBruteforce => format!(
            "{} failed SSH logins from {who} (threshold {} within {}); users tried: {users}",
            a.count, r.ssh_bruteforce.threshold, fmt_secs(r.ssh_bruteforce.window_seconds)
        ),
        Rule::SshBruteforceSlow => format!(
            "{} failed SSH logins from {who}, slowly (≥ {} within {}, never fast enough for ssh.bruteforce); users tried: {users}",
            a.count, r.ssh_bruteforce_slow.threshold, fmt_secs(r.ssh_bruteforce_slow.window_seconds)
        ),
        Rule::SshSpray => format!(
            "{who} tried ≥ {} different accounts with ≤ {} attempts each within {} ({} attempts so far): {users}",
            r.ssh_spray.users, r.ssh_spray.max_tries_per_user, fmt_secs(r.ssh_spray.window_seconds), a.count
        ),
        Rule::SshEnumeration => format!(
            "{who} tried ≥ {} account names that do not exist within {}: {users}",
            r.ssh_enumeration.threshold, fmt_secs(r.ssh_enumeration.window_seconds)
        ),
        Rule::SshDistributed => format!(
            "{} failed SSH logins against {who} from ≥ {} addresses within {} (threshold {} failures); sources include {}",
            a.count, r.ssh_distributed.sources, fmt_secs(r.ssh_distributed.window_seconds), r.ssh_distributed.failures, list(sources)
        ),
        Rule::SshScan => format!(
            "{} pre-authentication failures from {who} (no identification, bad banner, kex or cipher failures; threshold {} within {})",
            a.count, r.ssh_scan.threshold, fmt_secs(r.ssh_scan.window_seconds)
        ),
        Rule::SshCompromise => format!("successful SSH login for {} from {who} right after failures: {detail}", a.user.as_deref().unwrap_or("?")),
        Rule::SshNewSourceLogin => format!("{who} logged in from {}: {detail}", list(sources)),
        Rule::PrivSudoFailures => format!(
            "{who} failed sudo authentication {} times (threshold {} within {})",
            a.count, r.priv_sudo_failures.threshold, fmt_secs(r.priv_sudo_failures.window_seconds)
        ),
        Rule::PrivNotInSudoers => format!("{who} is not in sudoers but tried sudo {} time(s)", a.count),
        Rule::PrivSuFailures => format!(
            "{who} failed su {} times (threshold {} within {})",
            a.count, r.priv_su_failures.threshold, fmt_secs(r.priv_su_failures.window_seconds)
        ),
        Rule::PrivAfterLogin => format!("{who} became {detail}"),
        Rule::AccountChange => format!("account {who}: {detail}"),
        Rule::HoneypotTouch => format!("{who} touched a honeypot {} time(s) (logins, commands, downloads); users: {users}", a.count),
    };
        s.truncate(tripline_event::truncate_str(&s, 2048).len());
        s
    }
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
    fn every_rule_is_in_the_catalog_once_with_techniques_a_severity_and_words() {
        let cfg = RulesConfig::default();
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "a repeated rule id");
        for r in Rule::ALL {
            let info = r.info();
            assert!(RULES.contains(info), "{} is not in RULES", info.id);
            assert!(!info.techniques.is_empty(), "{}: no technique", info.id);
            let a = tripline_event::Alert {
                id: "x".into(),
                rule: info.id.into(),
                severity: r.severity(&cfg),
                score: info.score(1),
                entity: tripline_event::Entity::User("u".into()),
                src_ip: None,
                user: None,
                host: "h".into(),
                sensor: "files".into(),
                techniques: tripline_event::Techniques::Borrowed(info.techniques),
                count: 1,
                first_seen: tripline_event::Timestamp(0),
                last_seen: tripline_event::Timestamp(0),
                explanation: String::new(),
                evidence: vec![],
                detail: None,
            };
            assert!(
                !r.explain(&a, &[], &[], "d", &cfg).is_empty(),
                "{}",
                info.id
            );
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
