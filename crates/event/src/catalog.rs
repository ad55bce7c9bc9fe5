//! The catalog: what a rule is (id, ATT&CK techniques, summary, base score) and the MITRE ATT&CK
//! techniques tripline's rules carry, by id and name.
//!
//! Every stage reads rules through this one model: detectors declare a [`RuleInfo`] beside their
//! logic, the runtime gathers them into a [`Catalog`], and the store and the API read alerts and
//! name their techniques without knowing any detector. An alert carries its rule id and its
//! techniques itself, so a stored alert of a rule that no longer exists still reads back whole.

/// One ATT&CK (Enterprise) technique: its id and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Technique {
    pub id: &'static str,
    pub name: &'static str,
}

/// The ATT&CK release [`TECHNIQUES`] and [`TECHNIQUE_ALIASES`] follow: Enterprise v19 (the
/// April 2026 release that retired the Defense Evasion tactic and split it into Stealth, TA0005,
/// and Defense Impairment, TA0112), as its 19.2 STIX bundle lists it.
///
/// How far that is verified: MITRE's own pages and STIX bundle for v19 were not in the reference
/// copies at hand, so the v19 ids and names here were checked against several independent
/// public copies that agree with each other (a technique listing generated from the 19.2
/// Enterprise bundle, the v19 migration notes and revocation tables of detection projects, and
/// the tactic split as Elastic's and D3FEND's trackers describe it). Techniques v19 did not
/// touch keep the ids and names they had in v18. Check against <https://attack.mitre.org/> before
/// relying on a new id.
pub const ATTACK_VERSION: &str = "19.2";

/// The ATT&CK techniques tripline's rules carry, by id (sorted, unique). A rule that carries a
/// technique adds it here (a test in every detector crate checks that each technique a rule names
/// is known) under its current id: an id ATT&CK retired belongs in [`TECHNIQUE_ALIASES`].
pub const TECHNIQUES: &[Technique] = &[
    // MITRE ATLAS (attacks on AI systems), for the LLM gateway's rules; then ATT&CK
    t("AML.T0034", "Cost Harvesting"),
    t("AML.T0051", "LLM Prompt Injection"),
    t("AML.T0054", "LLM Jailbreak"),
    t("AML.T0056", "Extract LLM System Prompt"),
    t("AML.T0057", "LLM Data Leakage"),
    t(
        "T1003.008",
        "OS Credential Dumping: /etc/passwd and /etc/shadow",
    ),
    t("T1007", "System Service Discovery"),
    t("T1016", "System Network Configuration Discovery"),
    t(
        "T1016.001",
        "System Network Configuration Discovery: Internet Connection Discovery",
    ),
    t("T1018", "Remote System Discovery"),
    t("T1021.004", "Remote Services: SSH"),
    t("T1033", "System Owner/User Discovery"),
    t(
        "T1037.004",
        "Boot or Logon Initialization Scripts: RC Scripts",
    ),
    t("T1046", "Network Service Discovery"),
    t("T1049", "System Network Connections Discovery"),
    t("T1053.003", "Scheduled Task/Job: Cron"),
    t("T1057", "Process Discovery"),
    t("T1059.004", "Command and Scripting Interpreter: Unix Shell"),
    t("T1070.003", "Indicator Removal: Clear Command History"),
    t("T1070.004", "Indicator Removal: File Deletion"),
    t("T1070.006", "Indicator Removal: Timestomp"),
    t("T1078", "Valid Accounts"),
    t("T1082", "System Information Discovery"),
    t("T1087", "Account Discovery"),
    t("T1087.001", "Account Discovery: Local Account"),
    t("T1090", "Proxy"),
    t("T1095", "Non-Application Layer Protocol"),
    t("T1098", "Account Manipulation"),
    t("T1098.004", "Account Manipulation: SSH Authorized Keys"),
    t("T1105", "Ingress Tool Transfer"),
    t("T1110", "Brute Force"),
    t("T1110.001", "Brute Force: Password Guessing"),
    t("T1110.003", "Brute Force: Password Spraying"),
    t("T1136.001", "Create Account: Local Account"),
    t("T1140", "Deobfuscate/Decode Files or Information"),
    t("T1190", "Exploit Public-Facing Application"),
    t(
        "T1222.002",
        "File and Directory Permissions Modification: Linux and Mac Permissions",
    ),
    t("T1485", "Data Destruction"),
    t("T1489", "Service Stop"),
    t("T1496.001", "Resource Hijacking: Compute Hijacking"),
    t("T1497.001", "Virtualization/Sandbox Evasion: System Checks"),
    t(
        "T1499.001",
        "Endpoint Denial of Service: OS Exhaustion Flood",
    ),
    t("T1518", "Software Discovery"),
    t("T1529", "System Shutdown/Reboot"),
    t("T1531", "Account Access Removal"),
    t(
        "T1543.002",
        "Create or Modify System Process: Systemd Service",
    ),
    t(
        "T1546.004",
        "Event Triggered Execution: Unix Shell Configuration Modification",
    ),
    t(
        "T1547.006",
        "Boot or Logon Autostart Execution: Kernel Modules and Extensions",
    ),
    t("T1548", "Abuse Elevation Control Mechanism"),
    t(
        "T1548.003",
        "Abuse Elevation Control Mechanism: Sudo and Sudo Caching",
    ),
    t("T1552.001", "Unsecured Credentials: Credentials In Files"),
    t("T1552.003", "Unsecured Credentials: Shell History"),
    t("T1552.004", "Unsecured Credentials: Private Keys"),
    t(
        "T1552.005",
        "Unsecured Credentials: Cloud Instance Metadata API",
    ),
    t("T1561.001", "Disk Wipe: Disk Content Wipe"),
    t("T1561.002", "Disk Wipe: Disk Structure Wipe"),
    t("T1564.001", "Hide Artifacts: Hidden Files and Directories"),
    t("T1570", "Lateral Tool Transfer"),
    t(
        "T1574.006",
        "Hijack Execution Flow: Dynamic Linker Hijacking",
    ),
    t("T1595", "Active Scanning"),
    // new in v19, under Defense Impairment (TA0112): they replace Impair Defenses (T1562) and
    // two sub-techniques of Indicator Removal (see TECHNIQUE_ALIASES)
    t("T1685", "Disable or Modify Tools"),
    t(
        "T1685.004",
        "Disable or Modify Tools: Disable or Modify Linux Audit System Log",
    ),
    t(
        "T1685.006",
        "Disable or Modify Tools: Clear Linux or Mac System Logs",
    ),
    t("T1686", "Disable or Modify System Firewall"),
    t("T1690", "Prevent Command History Logging"),
];

/// Ids ATT&CK retired, each with the id that replaced it (old → current), sorted by the old id.
///
/// These are the v19 revocations behind the Defense Evasion split (same sources as
/// [`ATTACK_VERSION`]): Impair Defenses (T1562) and its sub-techniques became techniques of their
/// own under Defense Impairment (T1685–T1690), the two log-clearing sub-techniques of Indicator
/// Removal moved under Disable or Modify Tools, and Impersonation and Email Spoofing moved under
/// Social Engineering (T1684). A target need not be in [`TECHNIQUES`] (tripline may carry no rule
/// of it); a target is never itself an old id, so one look-up is enough.
pub const TECHNIQUE_ALIASES: &[(&str, &str)] = &[
    ("T1070.001", "T1685.005"), // Clear Windows Event Logs
    ("T1070.002", "T1685.006"), // Clear Linux or Mac System Logs
    ("T1562", "T1685"),         // Impair Defenses
    ("T1562.001", "T1685"),     // Disable or Modify Tools
    ("T1562.002", "T1685.001"), // Disable Windows Event Logging
    ("T1562.003", "T1690"),     // Impair Command History Logging
    ("T1562.004", "T1686"),     // Disable or Modify System Firewall
    ("T1562.006", "T1685"),     // Indicator Blocking
    ("T1562.007", "T1686.001"), // Disable or Modify Cloud Firewall
    ("T1562.008", "T1685.002"), // Disable or Modify Cloud Logs
    ("T1562.009", "T1688"),     // Safe Mode Boot
    ("T1562.010", "T1689"),     // Downgrade Attack
    ("T1562.011", "T1685.003"), // Spoof Security Alerting
    ("T1562.012", "T1685.004"), // Disable or Modify Linux Audit System
    ("T1562.013", "T1686.002"), // Disable or Modify Network Device Firewall
    ("T1656", "T1684.001"),     // Impersonation
    ("T1672", "T1684.002"),     // Email Spoofing
];

/// The current id of a technique: its replacement when ATT&CK retired `id`
/// ([`TECHNIQUE_ALIASES`]), else `id` itself.
pub fn canonical_technique(id: &str) -> &str {
    match TECHNIQUE_ALIASES.binary_search_by(|(old, _)| (*old).cmp(id)) {
        Ok(i) => TECHNIQUE_ALIASES[i].1,
        Err(_) => id,
    }
}

const fn t(id: &'static str, name: &'static str) -> Technique {
    Technique { id, name }
}

/// The technique with this id, when the catalog knows it.
pub fn technique(id: &str) -> Option<&'static Technique> {
    TECHNIQUES.iter().find(|t| t.id == id)
}

/// The ATT&CK name of a technique id.
pub fn technique_name(id: &str) -> Option<&'static str> {
    technique(id).map(|t| t.name)
}

/// The ATT&CK page of a technique id (`T1110.001` → `…/techniques/T1110/001/`).
pub fn technique_url(id: &str) -> String {
    if let Some(atlas) = id.strip_prefix("AML.") {
        return format!("https://atlas.mitre.org/techniques/AML.{atlas}");
    }
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

/// The techniques named by ids joined with commas (how the store keeps them), in their order;
/// ids the catalog does not know are left out (a row written by something else).
pub fn techniques_of(joined: &str) -> Vec<&'static str> {
    joined
        .split(',')
        .filter_map(|id| technique(id).map(|t| t.id))
        .collect()
}

/// What a rule is: for alerts, the docs, `explain`, the store and the API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleInfo {
    /// Stable id (`ssh.bruteforce`).
    pub id: &'static str,
    /// MITRE ATT&CK technique ids (each one in [`TECHNIQUES`]).
    pub techniques: &'static [&'static str],
    /// What it means, one line.
    pub summary: &'static str,
    /// Score of an alert that just crossed its threshold; grows with the count toward 1.
    pub base_score: f32,
}

impl RuleInfo {
    /// Score of an alert of this rule that counted `count` events: the base score rising with
    /// the count toward 1 (the longer an attack, the surer we are), to three decimals.
    pub fn score(&self, count: u64) -> f32 {
        let base = self.base_score;
        let grow = 1.0 - 1.0 / (1.0 + count as f32 / 50.0);
        ((base + (1.0 - base) * grow) * 1000.0).round() / 1000.0
    }
}

/// Every rule a running tripline can raise, gathered from its detectors.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    rules: Vec<&'static RuleInfo>,
}

impl Catalog {
    /// A catalog of these rules. Ids must be unique: the first of a repeated id wins.
    pub fn new(rules: impl IntoIterator<Item = &'static RuleInfo>) -> Catalog {
        let mut out: Vec<&'static RuleInfo> = vec![];
        for r in rules {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
        Catalog { rules: out }
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&'static RuleInfo> {
        self.rules.iter().copied().find(|r| r.id == id)
    }

    /// Every rule, in the order they were given.
    pub fn rules(&self) -> &[&'static RuleInfo] {
        &self.rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_are_sorted_unique_and_linked() {
        assert!(TECHNIQUES.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(
            technique_url("T1110.001"),
            "https://attack.mitre.org/techniques/T1110/001/"
        );
        assert_eq!(technique_name("T1078"), Some("Valid Accounts"));
        assert_eq!(
            technique_url("AML.T0051"),
            "https://atlas.mitre.org/techniques/AML.T0051"
        );
        assert_eq!(technique_name("T9999"), None);
        assert_eq!(techniques_of("T1078,T9999,T1548"), ["T1078", "T1548"]);
        assert!(techniques_of("").is_empty());
    }

    #[test]
    fn aliases_are_sorted_resolve_in_one_step_and_never_alias_a_current_technique() {
        assert!(TECHNIQUE_ALIASES.windows(2).all(|w| w[0].0 < w[1].0));
        for (old, new) in TECHNIQUE_ALIASES {
            assert_ne!(old, new);
            // a target is current: resolving it again changes nothing
            assert_eq!(canonical_technique(new), *new, "{old} -> {new}");
            // the table never carries a retired id
            assert!(technique(old).is_none(), "{old} is retired");
        }
        assert_eq!(canonical_technique("T1562.001"), "T1685");
        assert_eq!(canonical_technique("T1070.002"), "T1685.006");
        assert_eq!(canonical_technique("T1562.003"), "T1690");
        assert_eq!(canonical_technique("T1105"), "T1105");
        assert_eq!(canonical_technique("nonsense"), "nonsense");
        // every technique the table carries is current
        for t in TECHNIQUES {
            assert_eq!(canonical_technique(t.id), t.id);
            assert!(!t.name.is_empty());
        }
        assert!(ATTACK_VERSION.starts_with("19"));
    }

    #[test]
    fn a_catalog_finds_rules_by_id_and_keeps_the_first_of_a_repeated_id() {
        static A: RuleInfo = RuleInfo {
            id: "a.rule",
            techniques: &["T1110"],
            summary: "a",
            base_score: 0.5,
        };
        static B: RuleInfo = RuleInfo {
            id: "a.rule",
            techniques: &[],
            summary: "b",
            base_score: 0.1,
        };
        let c = Catalog::new([&A, &B]);
        assert_eq!(c.rules().len(), 1);
        assert_eq!(c.rule("a.rule").map(|r| r.summary), Some("a"));
        assert!(c.rule("b.rule").is_none());
        // the score starts at the base and grows toward 1
        assert_eq!(A.score(0), 0.5);
        assert!(A.score(50) > 0.74 && A.score(50) < 0.76);
        assert!(A.score(u64::MAX) <= 1.0);
    }
}
