//! The rules the LLM gateway's verdicts raise (MITRE ATLAS techniques).

use tripline_event::catalog::RuleInfo;

pub static INJECTION: RuleInfo = RuleInfo {
    id: "llm.injection",
    techniques: &["AML.T0051"],
    summary: "a prompt injection in text an LLM was to read (a request, a document, a tool result)",
    base_score: 0.8,
};

pub static JAILBREAK: RuleInfo = RuleInfo {
    id: "llm.jailbreak",
    techniques: &["AML.T0054"],
    summary: "a jailbreak: a prompt that talks the model out of its rules",
    base_score: 0.75,
};

pub static SECRET_LEAK: RuleInfo = RuleInfo {
    id: "llm.secret_leak",
    techniques: &["AML.T0057"],
    summary: "a secret (key, token, private key) or the system prompt in a request or an answer",
    base_score: 0.8,
};

pub static PII: RuleInfo = RuleInfo {
    id: "llm.pii",
    techniques: &["AML.T0057"],
    summary: "personal data (cards, IBANs, national ids, contacts) sent to or by an LLM",
    base_score: 0.5,
};

pub static ABUSE: RuleInfo = RuleInfo {
    id: "llm.abuse",
    techniques: &["AML.T0034"],
    summary: "a storm of rate-limited or duplicate requests from one address or API key",
    base_score: 0.6,
};

pub static UNSCANNED: RuleInfo = RuleInfo {
    id: "llm.unscanned",
    techniques: &["AML.T0051"],
    summary:
        "a request forwarded to the model without a scan: the firewall failed and fail_open is set",
    base_score: 0.7,
};

/// Every rule, for the catalog.
pub fn all() -> Vec<&'static RuleInfo> {
    vec![
        &INJECTION,
        &JAILBREAK,
        &SECRET_LEAK,
        &PII,
        &ABUSE,
        &UNSCANNED,
    ]
}

/// The rule a flagged scanner raises (`obfuscation` alone raises none: it lifts the others).
pub fn of_flag(flag: &str) -> Option<&'static RuleInfo> {
    Some(match flag {
        "injection" => &INJECTION,
        "jailbreak" => &JAILBREAK,
        "secrets" | "prompt_leak" => &SECRET_LEAK,
        "pii" => &PII,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_technique_is_in_the_catalog() {
        for r in super::all() {
            for t in r.techniques {
                assert!(tripline_event::catalog::technique(t).is_some(), "{t}");
            }
        }
    }
}
