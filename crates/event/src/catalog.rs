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

/// The ATT&CK techniques tripline's rules carry, by id. A rule that carries a technique adds
/// it here (a test in every detector crate checks that each technique a rule names is known).
pub const TECHNIQUES: &[Technique] = &[
    // MITRE ATLAS (attacks on AI systems), for the LLM gateway's rules; then ATT&CK
    t("AML.T0034", "Cost Harvesting"),
    t("AML.T0051", "LLM Prompt Injection"),
    t("AML.T0054", "LLM Jailbreak"),
    t("AML.T0056", "Extract LLM System Prompt"),
    t("AML.T0057", "LLM Data Leakage"),
    t("T1046", "Network Service Discovery"),
    t("T1059.004", "Command and Scripting Interpreter: Unix Shell"),
    t("T1078", "Valid Accounts"),
    t("T1087", "Account Discovery"),
    t("T1090", "Proxy"),
    t("T1098", "Account Manipulation"),
    t("T1105", "Ingress Tool Transfer"),
    t("T1110", "Brute Force"),
    t("T1110.001", "Brute Force: Password Guessing"),
    t("T1110.003", "Brute Force: Password Spraying"),
    t("T1136.001", "Create Account: Local Account"),
    t("T1548", "Abuse Elevation Control Mechanism"),
    t(
        "T1548.003",
        "Abuse Elevation Control Mechanism: Sudo and Sudo Caching",
    ),
    t("T1595", "Active Scanning"),
];

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
