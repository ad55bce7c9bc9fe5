//! Prompt scanners: what the LLM gateway (and `tripline scan prompt`) runs on every text a
//! model will read or has written.
//!
//! - [`normalise`]: NFKC, invisible characters stripped and counted, confusables folded,
//!   spaced-out letters joined, leetspeak, embedded encodings decoded under caps;
//! - [`secrets`]: the project's secret rules and gitleaks-format user rules, a keyword prefilter
//!   then only the rules it hits;
//! - [`pii`]: e-mail, phone, payment card (Luhn), IBAN (checksum), national ids, IP addresses,
//!   each with its validator.

pub mod classifier;
pub mod eval;
pub mod hard_negatives;
pub mod injection;
pub mod normalise;
pub mod pii;
pub mod rules;
pub mod scan;
pub mod secrets;

/// A span of a text that a scanner matched: byte offsets into the text it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The rule or kind that matched (`aws-access-key-id`, `email`, `payment-card`, …).
    pub id: std::sync::Arc<str>,
    pub start: usize,
    pub end: usize,
}

/// `text` with every span replaced by `[REDACTED:<id>]` (overlapping spans merged, the first
/// one's id kept).
pub fn redact(text: &str, spans: &[Span]) -> String {
    let mut spans: Vec<&Span> = spans
        .iter()
        .filter(|s| s.start < s.end && s.end <= text.len())
        .filter(|s| text.is_char_boundary(s.start) && text.is_char_boundary(s.end))
        .collect();
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        if s.start < at {
            // overlaps the one before: already covered up to `at`
            if s.end > at {
                at = s.end;
            }
            continue;
        }
        out.push_str(&text[at..s.start]);
        out.push_str("[REDACTED:");
        out.push_str(&s.id);
        out.push(']');
        at = s.end;
    }
    out.push_str(&text[at..]);
    out
}
