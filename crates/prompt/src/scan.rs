//! The scan: every scanner over a text (or the parts of a request), GhostAI's result shape
//! (`score, flagged, flags, breakdown{name: {name, flagged, score, reasons}}, latency_ms`), and
//! the spans to redact.

use crate::classifier::Model;
use crate::injection::Families;
use crate::normalise::{normalise, Limits};
use crate::pii::Pii;
use crate::secrets::Secrets;
use crate::Span;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// The scanners, by their breakdown names.
pub const SCANNERS: [&str; 5] = ["injection", "jailbreak", "secrets", "pii", "obfuscation"];

/// One part of a request the model will read (or has written): a message's text, a tool
/// result, tool call arguments.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// `user`, `system`, `assistant`, `tool`, `tool_call`, `response`, …
    pub role: &'a str,
    pub text: &'a str,
}

/// What one scanner found.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Breakdown {
    pub name: &'static str,
    pub flagged: bool,
    pub score: f32,
    pub reasons: Vec<String>,
}

/// The result of a scan, in GhostAI's shape.
#[derive(Debug, Clone, Serialize)]
pub struct ScanResult {
    pub score: f32,
    pub flagged: bool,
    pub flags: Vec<&'static str>,
    pub breakdown: BTreeMap<&'static str, Breakdown>,
    pub latency_ms: f64,
    /// Spans of secrets and PII per part (index into the parts scanned), for redaction; never
    /// serialised (they point at the values).
    #[serde(skip)]
    pub spans: Vec<(usize, Span, &'static str)>,
}

impl ScanResult {
    /// The spans of `scanner` (`secrets` or `pii`) in part `part`.
    pub fn spans_of(&self, part: usize, scanner: &str) -> Vec<Span> {
        self.spans
            .iter()
            .filter(|(p, _, s)| *p == part && *s == scanner)
            .map(|(_, sp, _)| sp.clone())
            .collect()
    }
}

/// How the scanners are set.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// A scanner's score at or above which it flags (0–1).
    pub flag_at: f32,
    pub secrets: bool,
    pub pii: bool,
    pub limits: Limits,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            flag_at: 0.5,
            secrets: true,
            pii: true,
            limits: Limits::default(),
        }
    }
}

/// Every scanner, built once and shared by all requests.
pub struct Scanner {
    families: Families,
    model: Arc<Model>,
    secrets: Secrets,
    pii: Pii,
    pub settings: ScanSettings,
}

impl Scanner {
    /// The built-in model and rules.
    pub fn new(settings: ScanSettings) -> Scanner {
        Scanner::with(settings, Model::shared(), Secrets::builtin())
    }

    pub fn with(settings: ScanSettings, model: Arc<Model>, secrets: Secrets) -> Scanner {
        Scanner {
            families: Families::new(),
            model,
            secrets,
            pii: Pii::all(),
            settings,
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Scan one text (a user's prompt).
    pub fn scan_text(&self, text: &str) -> ScanResult {
        self.scan(&[Part { role: "user", text }])
    }

    /// Scan every part of a request.
    pub fn scan(&self, parts: &[Part<'_>]) -> ScanResult {
        let t0 = Instant::now();
        let mut acc = Acc::default();
        for (i, p) in parts.iter().enumerate() {
            self.scan_part(i, p, parts.len() > 1, &mut acc);
        }
        let flag_at = self.settings.flag_at;
        let mut breakdown = BTreeMap::new();
        let mut flags = vec![];
        let mut score = 0f32;
        for (k, name) in SCANNERS.iter().enumerate() {
            let (s, reasons) = (acc.score[k], std::mem::take(&mut acc.reasons[k]));
            let flagged = s >= flag_at;
            if flagged {
                flags.push(*name);
            }
            score = score.max(s);
            breakdown.insert(
                *name,
                Breakdown {
                    name,
                    flagged,
                    score: round3(s),
                    reasons,
                },
            );
        }
        ScanResult {
            score: round3(score),
            flagged: !flags.is_empty(),
            flags,
            breakdown,
            latency_ms: t0.elapsed().as_secs_f64() * 1e3,
            spans: acc.spans,
        }
    }

    /// The family hits of each lowered text (0: the text, then what was decoded from it).
    fn family_hits(&self, lowered: &[String]) -> Vec<(usize, crate::injection::Hit)> {
        lowered
            .iter()
            .enumerate()
            .flat_map(|(k, l)| self.families.scan(l).into_iter().map(move |h| (k, h)))
            .collect()
    }

    fn scan_part(&self, i: usize, p: &Part<'_>, many: bool, acc: &mut Acc) {
        let text = p.text;
        if text.is_empty() {
            return;
        }
        let at = |what: String| match many {
            true => format!("{} (message {i}, {})", what, p.role),
            false => what,
        };
        let n = normalise(text, &self.settings.limits);
        let mut lowered: Vec<String> = Vec::with_capacity(1 + n.decoded.len());
        lowered.push(n.text.to_lowercase());
        lowered.extend(n.decoded.iter().map(|d| d.to_lowercase()));
        // the classifier, on the text and what was decoded; the phrase families read them
        // meanwhile (on a long text, the two share the cores: most of a long text's scan)
        let (p_text, (family_hits, p_decoded)) =
            self.model.score_beside(&lowered[0], PARALLEL_FROM, || {
                let decoded = lowered[1..].iter().map(|l| self.model.score(l));
                (self.family_hits(&lowered), decoded.fold(0f32, f32::max))
            });
        let p_model = p_text.max(p_decoded);
        // phrase families, on the text and on what was decoded from inside it
        let mut family_best = [0f32; 2];
        for (k, h) in family_hits {
            let slot = if h.family.is_jailbreak() { 1 } else { 0 };
            let decoded = if k > 0 { " (in decoded text)" } else { "" };
            acc.add(slot, h.score, at(format!("{}{decoded}", h.reason)));
            family_best[slot] = family_best[slot].max(h.score);
        }
        let thr = self.model.threshold_for(&lowered[0]);
        let s_model = if p_model >= thr {
            0.5 + 0.5 * (p_model - thr) / (1.0 - thr).max(1e-3)
        } else {
            0.5 * p_model / thr.max(1e-3)
        };
        if s_model >= 0.5 {
            // a jailbreak family already named it: the model's score goes there
            let slot = if family_best[1] > family_best[0] {
                1
            } else {
                0
            };
            acc.add(
                slot,
                s_model,
                at(format!("classifier: {:.2} (threshold {:.2})", p_model, thr)),
            );
        } else {
            acc.score[0] = acc.score[0].max(s_model);
        }
        // obfuscation: a signal of its own, and it makes a weak injection signal stronger
        let ob = n.signals.obfuscation();
        if ob > 0.0 {
            let mut what = vec![];
            let s = &n.signals;
            for (v, name) in [
                (s.invisible, "invisible characters"),
                (s.tag_text, "text hidden in tag characters"),
                (s.confusables, "look-alike characters"),
                (s.spaced, "spaced-out letters"),
                (s.leet, "leetspeak"),
                (s.base64, "base64"),
                (s.hex, "hex"),
                (s.rot13, "rot13"),
                (s.url, "percent-encoding"),
            ] {
                if v > 0 {
                    what.push(format!("{name} ({v})"));
                }
            }
            acc.add(4, ob, at(format!("obfuscation: {}", what.join(", "))));
            let lifted = (s_model.max(family_best[0]) + 0.25 * ob).min(1.0);
            if s_model.max(family_best[0]) >= 0.35 && lifted > acc.score[0] {
                acc.score[0] = lifted;
            }
        }
        if n.signals.truncated {
            // what was past the limits was never read: fail closed
            acc.add(
                0,
                1.0,
                at("over the normalisation limits: not all of it could be scanned".into()),
            );
        }
        // secrets and PII on the text as sent (the spans redact it)
        if self.settings.secrets {
            let found = self.secrets.scan(text);
            if !found.is_empty() {
                let mut ids: Vec<&str> = found.iter().map(|s| &*s.id).collect();
                ids.sort_unstable();
                ids.dedup();
                acc.add(2, 0.9, at(format!("secrets: {}", ids.join(", "))));
                acc.spans
                    .extend(found.into_iter().map(|s| (i, s, "secrets")));
            }
        }
        if self.settings.pii {
            let found = self.pii.scan(text);
            if !found.is_empty() {
                let mut ids: Vec<&str> = found.iter().map(|s| &*s.id).collect();
                ids.sort_unstable();
                let mut counted: Vec<String> = vec![];
                let mut k = 0;
                while k < ids.len() {
                    let n = ids[k..].iter().take_while(|x| **x == ids[k]).count();
                    counted.push(format!("{} ({n})", ids[k]));
                    k += n;
                }
                acc.add(3, 0.6, at(format!("pii: {}", counted.join(", "))));
                acc.spans.extend(found.into_iter().map(|s| (i, s, "pii")));
            }
        }
    }
}

/// From this many bytes of text, a helper thread scores the classifier's windows while the
/// phrase families read the text, and then the two threads share what is left (a 100 KB
/// prompt: about 6 ms of classifier and 2.5 ms of families).
const PARALLEL_FROM: usize = 32 * 1024;

#[derive(Default)]
struct Acc {
    score: [f32; 5],
    reasons: [Vec<String>; 5],
    spans: Vec<(usize, Span, &'static str)>,
}

impl Acc {
    fn add(&mut self, k: usize, score: f32, reason: String) {
        self.score[k] = self.score[k].max(score);
        if self.reasons[k].len() < 16 {
            self.reasons[k].push(reason);
        }
    }
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}
