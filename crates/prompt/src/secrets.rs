//! Secrets: the project's own secret rules and gitleaks-format user rules, run over a prompt.
//!
//! One regex per rule, never one big `RegexSet`: a set of hundreds of rules costs milliseconds
//! per prompt. Instead every rule names a few keywords (a literal that any of its matches
//! contains, such as `ghp_` or `aws`), one [`AhoCorasick`] automaton over all keywords finds which
//! rules *can* match, and only those rules' regexes run. A prompt with no keyword runs no keyword
//! rule; rules without keywords always run, so the builtin set has none.
//!
//! A match is then filtered on its secret (the rule's capture group): minimum Shannon entropy,
//! allow regexes, stopwords, and for some builtin rules a validator in code (a JWT's header must
//! decode to JSON with `alg`, a PEM block must carry a key body, a generic `password=` value must
//! not be a placeholder or an expression). False positives cost more than misses here: a firewall
//! that redacts ordinary prose is switched off.
//!
//! The builtin rules are written from the public facts of each format (prefix, length, alphabet);
//! builtin patterns use `\b` for an ASCII word boundary, so that the regex engine's lazy DFA
//! never gives up on non-ASCII text.
//!
//! Cost: on 100 KB of prose dense with `password` and `token` a scan takes about 0.3 ms in
//! release, two thirds of it the keyword automaton (a table lookup per byte, which no prefilter
//! can skip in prose) and most of the rest the generic rule, whose names are spelled out in
//! their usual casings so that the regex engine can jump to them. A typical prompt of a few KB
//! costs tens of microseconds.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;

use crate::Span;

/// One secret rule: a regex, the capture group holding the secret, and the filters a match must
/// pass to be reported.
#[derive(Debug, Clone)]
pub struct SecretRule {
    /// Stable id, reported in every [`Span`] (`github-pat`, `aws-access-key-id`, …).
    pub id: Arc<str>,
    /// What the rule finds, for listings.
    pub description: String,
    /// The pattern; searched over the whole text.
    pub regex: LazyRegex,
    /// The capture group holding the secret: 0 for the whole match, or
    /// [`SecretRule::FIRST_GROUP`] for the first group that took part in the match.
    pub secret_group: usize,
    /// Literals (ASCII case-insensitive) of which a text must contain one for the rule to run;
    /// empty: the rule runs on every text.
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy (bits per char) of the secret.
    pub entropy: Option<f32>,
    /// A secret matching one of these is not reported.
    pub allow: Vec<Regex>,
    /// A secret containing one of these (case-insensitive) is not reported.
    pub stopwords: Vec<String>,
    /// Allowlists that are not plain "secret matches a regex or holds a stopword" (gitleaks'
    /// `regexTarget = "match"|"line"`, `condition = "AND"`).
    pub allowlists: Vec<Allowlist>,
    /// A check in code the secret must pass (builtin rules only; user rules have none).
    pub validate: Option<fn(&str) -> bool>,
}

/// A gitleaks allowlist that does not reduce to [`SecretRule::allow`] and
/// [`SecretRule::stopwords`].
#[derive(Debug, Clone)]
pub struct Allowlist {
    /// Regexes tried on [`Allowlist::target`].
    pub regexes: Vec<Regex>,
    /// What the regexes are tried on.
    pub target: AllowTarget,
    /// Case-insensitive words looked for in the secret.
    pub stopwords: Vec<String>,
    /// `condition = "AND"`: a regex must match *and* a stopword be present (each only when the
    /// list is non-empty); otherwise either suffices.
    pub require_all: bool,
}

/// The text an allowlist regex is tried on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowTarget {
    /// The secret (the capture group).
    Secret,
    /// The whole regex match.
    Match,
    /// The line holding the match.
    Line,
}

/// A set of secret rules with their keyword prefilter.
#[derive(Debug, Clone)]
pub struct Secrets {
    rules: Vec<SecretRule>,
    prefilter: Prefilter,
}

/// Which rules a text can trigger: an automaton over every keyword, the rules of each keyword,
/// and the rules that run regardless.
#[derive(Debug, Clone)]
struct Prefilter {
    /// `None` when no rule has a keyword, or the automaton could not be built (then `always`
    /// holds every rule).
    keywords: Option<AhoCorasick>,
    /// For each automaton pattern, the indices of the rules that named it.
    rules_of: Vec<Vec<usize>>,
    /// Rules that run on every text.
    always: Vec<usize>,
}

/// A rule's regex: compiled already (a user's rule, checked when the configuration is read),
/// or a built-in pattern compiled the first time the keyword prefilter sends a text to it. Most
/// rules never run in a given deployment, so most are never compiled: the scanner starts small.
/// Clones share the compiled regex.
#[derive(Debug, Clone)]
pub struct LazyRegex {
    pattern: Arc<str>,
    re: Arc<std::sync::OnceLock<Regex>>,
}

impl LazyRegex {
    fn compiled(re: Regex) -> LazyRegex {
        LazyRegex {
            pattern: Arc::from(re.as_str()),
            re: Arc::new(std::sync::OnceLock::from(re)),
        }
    }

    /// A built-in pattern (`builtin_rules_all_compile` proves each compiles).
    fn builtin(pattern: &str) -> LazyRegex {
        LazyRegex {
            pattern: Arc::from(pattern),
            re: Arc::new(std::sync::OnceLock::new()),
        }
    }

    pub fn get(&self) -> &Regex {
        self.re.get_or_init(|| {
            compile_builtin(&self.pattern).unwrap_or_else(|_| {
                // unreachable for the built-in rules (a test compiles every one); never panic
                // on a request: a regex that matches nothing
                Regex::new(r"[^\s\S]").expect("the empty class compiles")
            })
        })
    }

    pub fn is_compiled(&self) -> bool {
        self.re.get().is_some()
    }
}

impl SecretRule {
    /// [`SecretRule::secret_group`] value meaning "the first capture group that took part in the
    /// match, else the whole match" (gitleaks' behaviour when `secretGroup` is not set).
    pub const FIRST_GROUP: usize = usize::MAX;

    /// A rule reporting the whole match of `regex`, with no keyword and no filter.
    pub fn new(id: &str, regex: Regex) -> SecretRule {
        SecretRule::with_regex(id, LazyRegex::compiled(regex))
    }

    fn with_regex(id: &str, regex: LazyRegex) -> SecretRule {
        SecretRule {
            id: Arc::from(id),
            description: String::new(),
            regex,
            secret_group: 0,
            keywords: Vec::new(),
            entropy: None,
            allow: Vec::new(),
            stopwords: Vec::new(),
            allowlists: Vec::new(),
            validate: None,
        }
    }

    /// Appends to `out` the `(start, end)` of every reported secret in `text`.
    fn find(&self, text: &str, out: &mut Vec<(usize, usize)>) {
        let whole_match = self.secret_group == 0
            || (self.secret_group == Self::FIRST_GROUP && self.regex.get().captures_len() == 1);
        if whole_match {
            for m in self.regex.get().find_iter(text) {
                if self.reports(text, (m.start(), m.end()), (m.start(), m.end())) {
                    out.push((m.start(), m.end()));
                }
            }
            return;
        }
        for caps in self.regex.get().captures_iter(text) {
            let Some(whole) = caps.get(0) else { continue };
            let secret = if self.secret_group == Self::FIRST_GROUP {
                (1..caps.len())
                    .find_map(|i| caps.get(i).filter(|m| !m.is_empty()))
                    .unwrap_or(whole)
            } else {
                match caps.get(self.secret_group) {
                    Some(m) => m,
                    None => continue,
                }
            };
            if self.reports(
                text,
                (whole.start(), whole.end()),
                (secret.start(), secret.end()),
            ) {
                out.push((secret.start(), secret.end()));
            }
        }
    }

    /// Whether a match (`whole`) with secret `secret` passes every filter of the rule.
    fn reports(&self, text: &str, whole: (usize, usize), secret: (usize, usize)) -> bool {
        let s = &text[secret.0..secret.1];
        if s.is_empty() {
            return false;
        }
        if let Some(min) = self.entropy {
            if shannon_entropy(s) < min {
                return false;
            }
        }
        if self.allow.iter().any(|r| r.is_match(s)) {
            return false;
        }
        if !self.stopwords.is_empty() && contains_stopword(s, &self.stopwords) {
            return false;
        }
        for list in &self.allowlists {
            if list.allows(text, whole, s) {
                return false;
            }
        }
        match self.validate {
            Some(check) => check(s),
            None => true,
        }
    }
}

impl Allowlist {
    /// Whether this allowlist drops the match `whole` whose secret is `secret`.
    fn allows(&self, text: &str, whole: (usize, usize), secret: &str) -> bool {
        let target = match self.target {
            AllowTarget::Secret => secret,
            AllowTarget::Match => &text[whole.0..whole.1],
            AllowTarget::Line => {
                let start = text[..whole.0].rfind('\n').map_or(0, |i| i + 1);
                let end = text[whole.1..]
                    .find('\n')
                    .map_or(text.len(), |i| whole.1 + i);
                &text[start..end]
            }
        };
        let by_regex = || self.regexes.iter().any(|r| r.is_match(target));
        let by_word = || contains_stopword(secret, &self.stopwords);
        if self.require_all {
            let regex_ok = self.regexes.is_empty() || by_regex();
            let word_ok = self.stopwords.is_empty() || by_word();
            (!self.regexes.is_empty() || !self.stopwords.is_empty()) && regex_ok && word_ok
        } else {
            (!self.regexes.is_empty() && by_regex()) || (!self.stopwords.is_empty() && by_word())
        }
    }
}

impl Secrets {
    /// The project's own rules (regexes and automaton built once per process, then cloned:
    /// the clone shares them).
    pub fn builtin() -> Secrets {
        static BUILTIN: OnceLock<Secrets> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Secrets::new(builtin_rules()))
            .clone()
    }

    /// A scanner over `rules`, in that order (on an exact tie, the earlier rule's id is
    /// reported).
    pub fn new(rules: Vec<SecretRule>) -> Secrets {
        let prefilter = Prefilter::build(&rules);
        Secrets { rules, prefilter }
    }

    /// These rules plus `extra`; an extra rule with the id of an existing one replaces it.
    pub fn with_extra(self, extra: Vec<SecretRule>) -> Secrets {
        let mut rules = self.rules;
        for rule in extra {
            match rules.iter_mut().find(|r| r.id == rule.id) {
                Some(old) => *old = rule,
                None => rules.push(rule),
            }
        }
        Secrets::new(rules)
    }

    /// The spans of the secrets in `text` (each the rule's secret group), sorted by start,
    /// without duplicates: a span inside another reported span is dropped.
    pub fn scan(&self, text: &str) -> Vec<Span> {
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        let mut one = Vec::new();
        for ri in self.prefilter.candidates(text, self.rules.len()) {
            one.clear();
            self.rules[ri].find(text, &mut one);
            found.extend(one.iter().map(|&(s, e)| (s, e, ri)));
        }
        // longest first at each start, then rule order: a contained or equal span is dropped
        found.sort_by_key(|&(s, e, ri)| (s, std::cmp::Reverse(e), ri));
        let mut spans = Vec::with_capacity(found.len());
        let mut covered_to = 0;
        for (start, end, ri) in found {
            if !spans.is_empty() && end <= covered_to {
                continue;
            }
            covered_to = covered_to.max(end);
            spans.push(Span {
                id: self.rules[ri].id.clone(),
                start,
                end,
            });
        }
        spans
    }

    /// The ids of the rules whose regexes [`Secrets::scan`] would run on `text`: those with a
    /// keyword in it, and those without keywords.
    pub fn candidates(&self, text: &str) -> Vec<&str> {
        self.prefilter
            .candidates(text, self.rules.len())
            .into_iter()
            .map(|i| &*self.rules[i].id)
            .collect()
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[SecretRule] {
        &self.rules
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Prefilter {
    fn build(rules: &[SecretRule]) -> Prefilter {
        let mut by_word: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut always = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            // an empty keyword would hit at every offset: it counts as no keyword
            let words: Vec<String> = rule
                .keywords
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| k.to_ascii_lowercase())
                .collect();
            if words.is_empty() {
                always.push(i);
            }
            for w in words {
                let of = by_word.entry(w).or_default();
                if of.last() != Some(&i) {
                    of.push(i);
                }
            }
        }
        if by_word.is_empty() {
            return Prefilter {
                keywords: None,
                rules_of: Vec::new(),
                always,
            };
        }
        let built = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(by_word.keys());
        match built {
            Ok(ac) => Prefilter {
                keywords: Some(ac),
                rules_of: by_word.into_values().collect(),
                always,
            },
            // too many or too long keywords for an automaton: run every rule
            Err(_) => Prefilter {
                keywords: None,
                rules_of: Vec::new(),
                always: (0..rules.len()).collect(),
            },
        }
    }

    /// The indices of the rules to run on `text`, ascending.
    fn candidates(&self, text: &str, n_rules: usize) -> Vec<usize> {
        let Some(ac) = &self.keywords else {
            return self.always.clone();
        };
        let mut run = vec![false; n_rules];
        for &i in &self.always {
            run[i] = true;
        }
        let mut seen = vec![false; self.rules_of.len()];
        let mut left = self.rules_of.len();
        for m in ac.find_overlapping_iter(text) {
            let p = m.pattern().as_usize();
            if seen[p] {
                continue;
            }
            seen[p] = true;
            for &i in &self.rules_of[p] {
                run[i] = true;
            }
            left -= 1;
            if left == 0 {
                break;
            }
        }
        run.iter()
            .enumerate()
            .filter_map(|(i, &r)| r.then_some(i))
            .collect()
    }
}

/// Shannon entropy of `s` in bits per char (0 for the empty string).
pub fn shannon_entropy(s: &str) -> f32 {
    // counts per distinct char; a table for ASCII (nearly every secret), a map otherwise
    let counts: Vec<usize> = if s.is_ascii() {
        let mut table = [0usize; 128];
        for b in s.bytes() {
            table[usize::from(b)] += 1;
        }
        table.into_iter().filter(|&c| c > 0).collect()
    } else {
        let mut map: BTreeMap<char, usize> = BTreeMap::new();
        for c in s.chars() {
            *map.entry(c).or_default() += 1;
        }
        map.into_values().collect()
    };
    let total: usize = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let h: f64 = counts
        .iter()
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.log2()
        })
        .sum();
    h as f32
}

/// Whether `secret` contains one of `words`, case-insensitively (empty words never match).
fn contains_stopword<W: AsRef<str>>(secret: &str, words: &[W]) -> bool {
    let lower = secret.to_lowercase();
    words.iter().any(|w| {
        let w = w.as_ref();
        !w.is_empty() && lower.contains(&w.to_lowercase())
    })
}

// ---------------------------------------------------------------------------------------------
// gitleaks TOML
// ---------------------------------------------------------------------------------------------

/// Rules in gitleaks' TOML format: `[[rules]]` tables or an inline `rules = [{…}]` array, with
/// `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`, `tags`, `path`,
/// `skipReport`, and `[rules.allowlist]` / `[[rules.allowlists]]` (`regexes`, `stopwords`,
/// `regexTarget`, `condition`, and the path- and commit-only `paths`, `commits`, accepted and
/// ignored: a prompt has neither). Top-level `[allowlist]` / `[[allowlists]]` apply to every
/// rule of the file (or to their `targetRules`); `title`, `description`, `minVersion` and
/// `[extend]` are accepted and ignored (a prompt scanner does not extend gitleaks' defaults).
///
/// Keys are matched case-insensitively, as gitleaks does. A rule with `skipReport = true` or
/// with only a `path` is left out. Every problem is reported at once, one per line, each naming
/// the rule: an unknown key, a value of the wrong type, a bad regex, a composite rule
/// (`required`), which this scanner does not support.
pub fn from_gitleaks_toml(text: &str) -> Result<Vec<SecretRule>, String> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("invalid toml: {}", e.message()))?;
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut globals: Vec<(Vec<String>, ParsedAllowlist)> = Vec::new();

    for (key, value) in &doc {
        match key.to_ascii_lowercase().as_str() {
            "title" | "description" | "minversion" | "extend" => {}
            "rules" => {
                let Some(items) = value.as_array() else {
                    errors.push("`rules` must be an array of tables".to_string());
                    continue;
                };
                for (n, item) in items.iter().enumerate() {
                    let Some(table) = item.as_table() else {
                        errors.push(format!("rules[{n}]: must be a table"));
                        continue;
                    };
                    if let Some(rule) = parse_rule(n, table, &mut errors) {
                        rules.push(rule);
                    }
                }
            }
            "allowlist" | "allowlists" => {
                let tables: Vec<&toml::Table> = match value {
                    toml::Value::Table(t) => vec![t],
                    toml::Value::Array(a) => a.iter().filter_map(|v| v.as_table()).collect(),
                    _ => {
                        errors.push(format!("`{key}` must be a table or an array of tables"));
                        continue;
                    }
                };
                for t in tables {
                    let mut targets = Vec::new();
                    if let Some(list) = parse_allowlist("global allowlist", t, true, &mut errors) {
                        if let Some(v) = lookup(t, "targetrules") {
                            targets = strings(v, "global allowlist", "targetRules", &mut errors);
                        }
                        globals.push((targets, list));
                    }
                }
            }
            _ => errors.push(format!("unknown top-level key `{key}`")),
        }
    }

    for (targets, list) in &globals {
        for t in targets {
            if !rules.iter().any(|r: &SecretRule| &*r.id == t.as_str()) {
                errors.push(format!(
                    "global allowlist: targetRules names unknown rule `{t}`"
                ));
            }
        }
        for rule in rules.iter_mut() {
            if targets.is_empty() || targets.iter().any(|t| t.as_str() == &*rule.id) {
                list.apply(rule);
            }
        }
    }

    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors.join("\n"))
    }
}

/// An allowlist as parsed, with whether it can ever apply to a prompt.
#[derive(Debug, Clone)]
struct ParsedAllowlist {
    list: Allowlist,
    /// `condition = "AND"` with `paths` or `commits`: can never hold for a prompt.
    never: bool,
}

impl ParsedAllowlist {
    fn apply(&self, rule: &mut SecretRule) {
        let l = &self.list;
        if self.never || (l.regexes.is_empty() && l.stopwords.is_empty()) {
            return;
        }
        if !l.require_all && l.target == AllowTarget::Secret {
            rule.allow.extend(l.regexes.iter().cloned());
            rule.stopwords.extend(l.stopwords.iter().cloned());
        } else {
            rule.allowlists.push(l.clone());
        }
    }
}

fn lookup<'t>(table: &'t toml::Table, lower_key: &str) -> Option<&'t toml::Value> {
    table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(lower_key))
        .map(|(_, v)| v)
}

fn strings(v: &toml::Value, who: &str, key: &str, errors: &mut Vec<String>) -> Vec<String> {
    match v.as_array() {
        Some(items) if items.iter().all(|i| i.is_str()) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => {
            errors.push(format!("{who}: `{key}` must be an array of strings"));
            Vec::new()
        }
    }
}

fn user_regex(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(8 << 20)
        .dfa_size_limit(4 << 20)
        .build()
}

fn parse_rule(n: usize, t: &toml::Table, errors: &mut Vec<String>) -> Option<SecretRule> {
    let id = match lookup(t, "id") {
        Some(toml::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => {
            errors.push(format!("rules[{n}]: `id` must be a non-empty string"));
            return None;
        }
        None => {
            errors.push(format!("rules[{n}]: has no `id`"));
            return None;
        }
    };
    let who = format!("rule `{id}`");
    let before = errors.len();
    let mut description = String::new();
    let mut regex_src: Option<String> = None;
    let mut has_path = false;
    let mut group: Option<usize> = None;
    let mut entropy = None;
    let mut keywords = Vec::new();
    let mut skip = false;
    let mut lists: Vec<ParsedAllowlist> = Vec::new();
    let mut old_and_new = (false, false);

    for (key, value) in t {
        match key.to_ascii_lowercase().as_str() {
            "id" => {}
            "description" => match value.as_str() {
                Some(s) => description = s.to_string(),
                None => errors.push(format!("{who}: `{key}` must be a string")),
            },
            "regex" => match value.as_str() {
                Some(s) => regex_src = Some(s.to_string()),
                None => errors.push(format!("{who}: `{key}` must be a string")),
            },
            "path" => match value.as_str() {
                Some(_) => has_path = true,
                None => errors.push(format!("{who}: `{key}` must be a string")),
            },
            "secretgroup" => match value.as_integer() {
                Some(g) if (0..=1000).contains(&g) => group = usize::try_from(g).ok(),
                _ => errors.push(format!("{who}: `{key}` must be an integer from 0 to 1000")),
            },
            "entropy" => {
                let v = value.as_float().or(value.as_integer().map(|i| i as f64));
                match v {
                    Some(e) if (0.0..=32.0).contains(&e) => {
                        entropy = (e > 0.0).then_some(e as f32);
                    }
                    _ => errors.push(format!("{who}: `{key}` must be a number from 0 to 32")),
                }
            }
            "keywords" => keywords = strings(value, &who, key, errors),
            "tags" => {
                strings(value, &who, key, errors);
            }
            "skipreport" => match value.as_bool() {
                Some(b) => skip = b,
                None => errors.push(format!("{who}: `{key}` must be a boolean")),
            },
            "required" => errors.push(format!(
                "{who}: `{key}` (a composite rule) is not supported by the prompt scanner"
            )),
            "allowlist" => {
                old_and_new.0 = true;
                match value.as_table() {
                    Some(a) => lists.extend(parse_allowlist(&who, a, false, errors)),
                    None => errors.push(format!("{who}: `{key}` must be a table")),
                }
            }
            "allowlists" => {
                old_and_new.1 = true;
                match value.as_array() {
                    Some(items) => {
                        for item in items {
                            match item.as_table() {
                                Some(a) => lists.extend(parse_allowlist(&who, a, false, errors)),
                                None => errors
                                    .push(format!("{who}: `{key}` must be an array of tables")),
                            }
                        }
                    }
                    None => errors.push(format!("{who}: `{key}` must be an array of tables")),
                }
            }
            _ => errors.push(format!("{who}: unknown key `{key}`")),
        }
    }
    if old_and_new == (true, true) {
        errors.push(format!(
            "{who}: `allowlist` and `allowlists` cannot both be set"
        ));
    }
    let regex = match regex_src {
        Some(src) => match user_regex(&src) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(format!("{who}: bad regex: {e}"));
                None
            }
        },
        None if has_path => None,
        None => {
            errors.push(format!("{who}: has neither `regex` nor `path`"));
            None
        }
    };
    if let (Some(r), Some(g)) = (&regex, group) {
        if g >= r.captures_len() {
            errors.push(format!(
                "{who}: secretGroup {g} but the regex has {} group(s)",
                r.captures_len() - 1
            ));
        }
    }
    if errors.len() > before || skip {
        return None;
    }
    // a path-only rule cannot match a prompt
    let regex = regex?;
    let mut rule = SecretRule::new(&id, regex);
    rule.description = description;
    rule.secret_group = group.unwrap_or(SecretRule::FIRST_GROUP);
    rule.keywords = keywords;
    rule.entropy = entropy;
    for l in &lists {
        l.apply(&mut rule);
    }
    Some(rule)
}

fn parse_allowlist(
    who: &str,
    t: &toml::Table,
    global: bool,
    errors: &mut Vec<String>,
) -> Option<ParsedAllowlist> {
    let who = if global {
        who.to_string()
    } else {
        format!("{who}: allowlist")
    };
    let before = errors.len();
    let mut list = Allowlist {
        regexes: Vec::new(),
        target: AllowTarget::Secret,
        stopwords: Vec::new(),
        require_all: false,
    };
    let mut paths_or_commits = false;
    for (key, value) in t {
        match key.to_ascii_lowercase().as_str() {
            "description" => {}
            "targetrules" if global => {}
            "condition" => match value.as_str().map(|s| s.to_ascii_uppercase()) {
                Some(c) if c == "AND" || c == "&&" => list.require_all = true,
                Some(c) if c.is_empty() || c == "OR" || c == "||" => list.require_all = false,
                _ => errors.push(format!("{who}: `{key}` must be \"AND\" or \"OR\"")),
            },
            "regextarget" => match value.as_str() {
                Some("secret") | Some("") => list.target = AllowTarget::Secret,
                Some("match") => list.target = AllowTarget::Match,
                Some("line") => list.target = AllowTarget::Line,
                _ => errors.push(format!(
                    "{who}: `{key}` must be \"secret\", \"match\" or \"line\""
                )),
            },
            "regexes" => {
                for src in strings(value, &who, key, errors) {
                    match user_regex(&src) {
                        Ok(r) => list.regexes.push(r),
                        Err(e) => errors.push(format!("{who}: bad regex: {e}")),
                    }
                }
            }
            "stopwords" => {
                list.stopwords = strings(value, &who, key, errors)
                    .into_iter()
                    .filter(|w| !w.is_empty())
                    .collect();
            }
            "paths" | "commits" => {
                paths_or_commits |= !strings(value, &who, key, errors).is_empty();
            }
            _ => errors.push(format!("{who}: unknown key `{key}`")),
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(ParsedAllowlist {
        never: list.require_all && paths_or_commits,
        list,
    })
}

// ---------------------------------------------------------------------------------------------
// builtin rules
// ---------------------------------------------------------------------------------------------

/// One builtin rule as written; [`builtin_rules`] compiles it.
struct Def {
    id: &'static str,
    description: &'static str,
    pattern: String,
    group: usize,
    keywords: &'static [&'static str],
    entropy: Option<f32>,
    validate: Option<fn(&str) -> bool>,
    /// Drop secrets holding a documentation placeholder ([`PLACEHOLDERS`]).
    placeholders: bool,
}

/// Words that mark a documentation placeholder rather than a live secret.
const PLACEHOLDERS: &[&str] = &[
    "example",
    "xxxxxx",
    "******",
    "placeholder",
    "changeme",
    "redacted",
    "your_",
    "your-",
    "dummy",
];

/// Compiles a builtin pattern, `\b` meaning an ASCII word boundary.
fn compile_builtin(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)"))
}

/// A "keyword near a value" pattern: `keyword`, up to 40 name characters (`_secret_access_key`),
/// an assignment (`=`, `:`, `:=`, `=>`) or whitespace, optional quote, then `value` (group 1),
/// not followed by a character of `alphabet`.
fn near(keyword: &str, value: &str, alphabet: &str) -> String {
    format!(
        r#"(?i:{keyword})[A-Za-z0-9_.\- ]{{0,40}}?(?:["']?\s*(?::=|=>|[:=])\s*|\s+)["'`]?({value})(?:[^{alphabet}]|$)"#
    )
}

/// A token `body` that starts at a word boundary and is not followed by `[A-Za-z0-9_-]`.
fn token(body: &str) -> String {
    format!(r"\b({body})(?:[^A-Za-z0-9_\-]|$)")
}

/// The names the generic rule looks for; a space separates the parts of a compound name.
/// `token` and `secret` also catch `access_token`, `clientSecret`, … (the match starts at them).
const GENERIC_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "credential",
    "api key",
    "access key",
    "private key",
];

/// An alternation of `words` in the casings code uses (`api_key`, `API-KEY`, `apiKey`,
/// `ApiKey`, …) rather than `(?i:…)`: with literal alternatives the regex engine can skip to
/// them, which halves the generic rule's time on prose.
fn cased(words: &[&str]) -> String {
    fn capital(s: &str) -> String {
        let mut c = s.to_string();
        if let Some(first) = c.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        c
    }
    let mut forms: Vec<String> = Vec::new();
    for w in words {
        let parts: Vec<&str> = w.split(' ').collect();
        for joiner in ["_", "-", ""] {
            let lower = parts.join(joiner);
            let camel: Vec<String> = parts
                .iter()
                .enumerate()
                .map(|(i, p)| if i == 0 { p.to_string() } else { capital(p) })
                .collect();
            let pascal: Vec<String> = parts.iter().map(|p| capital(p)).collect();
            forms.push(lower.to_ascii_uppercase());
            forms.push(camel.join(joiner));
            forms.push(pascal.join(joiner));
            forms.push(lower);
            if parts.len() == 1 {
                break;
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    forms.retain(|f| seen.insert(f.clone()));
    format!("(?:{})", forms.join("|"))
}

fn def(
    id: &'static str,
    description: &'static str,
    pattern: impl Into<String>,
    keywords: &'static [&'static str],
) -> Def {
    Def {
        id,
        description,
        pattern: pattern.into(),
        group: 1,
        keywords,
        entropy: None,
        validate: None,
        placeholders: true,
    }
}

impl Def {
    fn entropy(mut self, bits: f32) -> Def {
        self.entropy = Some(bits);
        self
    }

    fn check(mut self, validate: fn(&str) -> bool) -> Def {
        self.validate = Some(validate);
        self
    }

    fn group(mut self, group: usize) -> Def {
        self.group = group;
        self
    }
}

/// The builtin rules, most specific first: on an exact tie the earlier rule's id is reported,
/// so `generic-secret` comes last.
fn defs() -> Vec<Def> {
    const UUID: &str =
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    let mut generic = def(
        "generic-secret",
        "high-entropy value assigned to a password, secret, api_key or token",
        format!(
            r#"{}[A-Za-z0-9_.\-]{{0,24}}["'\]]?\s*(?::=|=>|[:=])\s*["'`]?([^\s"'`,;()\[\]{{}}<>\\=][^\s"'`,;()\[\]{{}}<>\\]{{11,}}?)(?:[\s"'`,;)\]}}<>\\]|\.(?:\s|$)|$)"#,
            cased(GENERIC_WORDS)
        ),
        &[
            "password", "passwd", "passphrase", "pwd", "secret", "api_key", "api-key", "apikey",
            "access_key", "access-key", "accesskey", "token", "private_key", "private-key",
            "privatekey", "credential",
        ],
    )
    .entropy(3.5)
    .check(generic_value_ok);
    generic.placeholders = false;

    vec![
        // cloud providers
        def(
            "aws-access-key-id",
            "AWS access key id",
            token("(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"),
            &["akia", "asia", "abia", "acca"],
        )
        .entropy(3.0),
        def(
            "aws-secret-access-key",
            "AWS secret access key, near an aws keyword",
            near("aws", "[A-Za-z0-9/+]{40}", "A-Za-z0-9/+="),
            &["aws"],
        )
        .entropy(3.5)
        .check(mixed_alnum),
        def("gcp-api-key", "Google Cloud API key", token(r"AIza[A-Za-z0-9_\-]{35}"), &["aiza"])
            .entropy(3.0),
        def(
            "gcp-service-account-key",
            "private_key of a Google Cloud service-account JSON key",
            r#""private_key"\s*:\s*"(-----BEGIN[ A-Z]{0,16}PRIVATE KEY-----[A-Za-z0-9+/=\\]{64,}-----END[ A-Z]{0,16}PRIVATE KEY-----(?:\\n)?)""#,
            &["private_key"],
        )
        .check(pem_body_ok),
        def(
            "azure-storage-account-key",
            "Azure storage account key, in a connection string or near an azure keyword",
            r#"(?:(?i:AccountKey)\s*=\s*|(?i:azure|storage)[A-Za-z0-9_.\- ]{0,40}?(?i:key)[A-Za-z0-9_.\-]{0,20}["']?\s*(?::=|=>|[:=])\s*["'`]?)([A-Za-z0-9+/]{86}==)"#,
            &["accountkey", "azure", "storage"],
        )
        .entropy(4.0),
        def(
            "digitalocean-token",
            "DigitalOcean personal access, OAuth or refresh token",
            token("do[opr]_v1_[a-f0-9]{64}"),
            &["dop_v1_", "doo_v1_", "dor_v1_"],
        ),
        def(
            "heroku-api-key",
            "Heroku API key (HRKU-… or a UUID near a heroku keyword)",
            format!(
                "{}|{}",
                near("heroku", UUID, "A-Za-z0-9"),
                token(r"HRKU-[A-Za-z0-9_\-]{30,100}")
            ),
            &["heroku", "hrku-"],
        )
        .group(SecretRule::FIRST_GROUP),
        def(
            "google-oauth-client-secret",
            "Google OAuth client secret",
            token(r"GOCSPX-[A-Za-z0-9_\-]{28}"),
            &["gocspx-"],
        )
        .entropy(3.0),
        def(
            "databricks-token",
            "Databricks personal access token",
            token("dapi[a-f0-9]{32}(?:-[0-9])?"),
            &["dapi"],
        )
        .entropy(3.0),
        // source forges and package registries
        def(
            "github-pat",
            "GitHub personal access token (classic)",
            token("ghp_[A-Za-z0-9]{36,251}"),
            &["ghp_"],
        )
        .entropy(3.0),
        def(
            "github-oauth-token",
            "GitHub OAuth access token",
            token("gho_[A-Za-z0-9]{36,251}"),
            &["gho_"],
        )
        .entropy(3.0),
        def(
            "github-user-token",
            "GitHub user-to-server token",
            token("ghu_[A-Za-z0-9]{36,251}"),
            &["ghu_"],
        )
        .entropy(3.0),
        def(
            "github-app-token",
            "GitHub server-to-server (app installation) token",
            token("ghs_[A-Za-z0-9]{36,251}"),
            &["ghs_"],
        )
        .entropy(3.0),
        def(
            "github-refresh-token",
            "GitHub refresh token",
            token("ghr_[A-Za-z0-9]{36,251}"),
            &["ghr_"],
        )
        .entropy(3.0),
        def(
            "github-fine-grained-pat",
            "GitHub fine-grained personal access token",
            token("github_pat_[A-Za-z0-9]{20,30}_[A-Za-z0-9]{50,70}"),
            &["github_pat_"],
        )
        .entropy(3.0),
        def(
            "gitlab-pat",
            "GitLab personal access token",
            token(r"glpat-[A-Za-z0-9_\-]{20,100}(?:\.[A-Za-z0-9_\-]{1,40}){0,3}"),
            &["glpat-"],
        )
        .entropy(3.0),
        def(
            "gitlab-runner-token",
            "GitLab runner authentication token",
            token(r"glrt-[A-Za-z0-9_\-]{20,100}(?:\.[A-Za-z0-9_\-]{1,40}){0,3}"),
            &["glrt-"],
        )
        .entropy(3.0),
        def("npm-token", "npm access token", token("npm_[A-Za-z0-9]{36}"), &["npm_"]).entropy(3.0),
        def(
            "pypi-token",
            "PyPI upload token",
            token(r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,1000}"),
            &["pypi-ag"],
        ),
        // chat and messaging
        def(
            "slack-bot-token",
            "Slack bot token",
            token("xoxb-[0-9]{8,15}-[0-9]{8,15}-[A-Za-z0-9]{20,40}"),
            &["xoxb-"],
        ),
        def(
            "slack-user-token",
            "Slack user token",
            token("xoxp-[0-9]{8,15}-[0-9]{8,15}-[0-9]{8,15}-[A-Za-z0-9]{28,40}"),
            &["xoxp-"],
        ),
        def(
            "slack-workspace-token",
            "Slack workspace or refresh token",
            token("xox[ar]-(?:[0-9A-Za-z]{1,64}-){2,5}[0-9A-Za-z]{16,72}"),
            &["xoxa-", "xoxr-"],
        )
        .entropy(3.0),
        def(
            "slack-app-token",
            "Slack app-level token",
            token("xapp-[0-9]-[A-Z0-9]{8,14}-[0-9]{10,15}-[a-f0-9]{32,80}"),
            &["xapp-"],
        ),
        def(
            "slack-webhook-url",
            "Slack incoming webhook URL",
            r"(https://hooks\.slack\.com/(?:services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}|(?:workflows|triggers)/T[A-Z0-9]{6,12}/[A-Z0-9]{6,14}/[0-9]{6,20}/[A-Za-z0-9]{20,40}))",
            &["hooks.slack.com"],
        ),
        def(
            "discord-bot-token",
            "Discord bot token",
            token(r"[MNO][A-Za-z0-9_\-]{22,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}"),
            &["discord", "bot"],
        )
        .check(discord_token_ok),
        def(
            "discord-webhook-url",
            "Discord webhook URL",
            r"(https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/(?:v[0-9]{1,2}/)?webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,72})",
            &["discord"],
        ),
        def(
            "telegram-bot-token",
            "Telegram bot token",
            r"(?:\b|bot)([0-9]{8,10}:[A-Za-z0-9_\-]{35})(?:[^A-Za-z0-9_\-]|$)",
            &["telegram", "bot", ":aa"],
        )
        .entropy(3.5),
        // payments and commerce
        def(
            "stripe-secret-key",
            "Stripe live secret or restricted key",
            token("(?:sk|rk)_live_[A-Za-z0-9]{20,247}"),
            &["sk_live_", "rk_live_"],
        )
        .entropy(3.0),
        def(
            "stripe-publishable-key",
            "Stripe live publishable key",
            token("pk_live_[A-Za-z0-9]{20,247}"),
            &["pk_live_"],
        )
        .entropy(3.0),
        def(
            "square-access-token",
            "Square access token",
            token(r"EAAA[A-Za-z0-9_\-]{60}|sq0atp-[A-Za-z0-9_\-]{22}"),
            &["eaaa", "sq0atp-"],
        )
        .entropy(3.0),
        def(
            "square-oauth-secret",
            "Square OAuth application secret",
            token(r"sq0csp-[A-Za-z0-9_\-]{43}"),
            &["sq0csp-"],
        )
        .entropy(3.0),
        def(
            "shopify-token",
            "Shopify access token or shared secret",
            token("shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
            &["shpat_", "shpca_", "shppa_", "shpss_"],
        ),
        // communication APIs
        def("twilio-api-key", "Twilio API key SID", token("SK[0-9a-f]{32}"), &["sk"]).entropy(3.0),
        def("twilio-account-sid", "Twilio account SID", token("AC[0-9a-f]{32}"), &["ac"])
            .entropy(3.0),
        def(
            "twilio-auth-token",
            "Twilio auth token, near a twilio keyword",
            near("twilio", "[0-9a-f]{32}", "A-Za-z0-9"),
            &["twilio"],
        )
        .entropy(3.0),
        def(
            "sendgrid-api-key",
            "SendGrid API key",
            token(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
            &["sg."],
        ),
        def("mailgun-api-key", "Mailgun API key (key-…)", token("key-[0-9a-f]{32}"), &["key-"])
            .entropy(3.0),
        def(
            "mailgun-private-key",
            "Mailgun private API key, near a mailgun keyword",
            near("mailgun", "[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}", "A-Za-z0-9"),
            &["mailgun"],
        )
        .entropy(3.0),
        // AI providers
        def(
            "anthropic-api-key",
            "Anthropic API key",
            token(r"sk-ant-[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_\-]{80,200}"),
            &["sk-ant-"],
        )
        .entropy(3.5),
        def(
            "openai-api-key",
            "OpenAI API key",
            token(r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{40,250}|sk-[A-Za-z0-9]{48}"),
            &["sk-"],
        )
        .entropy(3.5),
        def(
            "huggingface-token",
            "Hugging Face access token",
            token("hf_[A-Za-z0-9]{34,40}"),
            &["hf_"],
        )
        .entropy(3.0),
        // observability and developer tools
        def(
            "datadog-api-key",
            "Datadog API or application key, near a datadog keyword",
            near(
                r"datadog|dd[_\-]?api[_\-]?key|dd[_\-]?app(?:lication)?[_\-]?key",
                "[a-f0-9]{40}|[a-f0-9]{32}",
                "A-Za-z0-9",
            ),
            &["datadog", "dd_api", "dd-api", "ddapi", "dd_app", "dd-app", "ddapp"],
        )
        .entropy(3.0),
        def(
            "new-relic-user-key",
            "New Relic user API key",
            token("NRAK-[A-Z0-9]{27}"),
            &["nrak-"],
        )
        .entropy(3.0),
        def(
            "grafana-service-account-token",
            "Grafana service account token",
            token("glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
            &["glsa_"],
        ),
        def(
            "postman-api-key",
            "Postman API key",
            token("PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
            &["pmak-"],
        ),
        def(
            "linear-api-key",
            "Linear API key",
            token("lin_api_[A-Za-z0-9]{40}"),
            &["lin_api_"],
        )
        .entropy(3.0),
        def(
            "vault-token",
            "HashiCorp Vault service or batch token",
            token(r"hv[sb]\.[A-Za-z0-9_\-]{24,}"),
            &["hvs.", "hvb."],
        )
        .entropy(3.5),
        // formats
        def(
            "jwt",
            "JSON Web Token",
            r"\b(eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*)",
            &["eyj"],
        )
        .check(jwt_ok),
        def(
            "private-key",
            "PEM private key block (RSA, EC, DSA, OPENSSH, PGP, PKCS#8)",
            r"-----BEGIN[ A-Z0-9]{0,32}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,.\\]|-[A-Za-z0-9])*(?:-----END[ A-Z0-9]{0,32}PRIVATE KEY(?: BLOCK)?-----)?",
            &["private key"],
        )
        .group(0)
        .check(pem_body_ok),
        def(
            "age-secret-key",
            "age encryption secret key",
            token("AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
            &["age-secret-key-1"],
        ),
        def(
            "database-connection-string",
            "password inside a database or broker connection URL",
            r#"\b(?i:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql)://[^\s:/@"'<>`]{0,128}:([^\s@/"'<>`]{1,256})@[A-Za-z0-9.\-_\[]"#,
            &["postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql"],
        )
        .check(db_password_ok),
        def(
            "http-bearer-token",
            "bearer token in an Authorization header",
            r#"(?i:authorization)["']?\s*[:=]\s*["']?(?i:bearer)\s+([A-Za-z0-9\-._~+/]{20,}=*)"#,
            &["authorization"],
        )
        .entropy(3.5),
        def(
            "http-basic-auth",
            "credentials in an Authorization: Basic header",
            r#"(?i:authorization)["']?\s*[:=]\s*["']?(?i:basic)\s+([A-Za-z0-9+/]{8,}={0,2})"#,
            &["authorization"],
        )
        .check(basic_auth_ok),
        generic,
    ]
}

fn builtin_rules() -> Vec<SecretRule> {
    let mut rules = Vec::new();
    for def in defs() {
        // compiled when first needed; `builtin_rules_all_compile` checks every one compiles
        let mut rule = SecretRule::with_regex(def.id, LazyRegex::builtin(&def.pattern));
        rule.description = def.description.to_string();
        rule.secret_group = def.group;
        rule.keywords = def.keywords.iter().map(|k| k.to_string()).collect();
        rule.entropy = def.entropy;
        rule.validate = def.validate;
        if def.placeholders {
            rule.stopwords = PLACEHOLDERS.iter().map(|w| w.to_string()).collect();
        }
        rules.push(rule);
    }
    rules
}

// ---------------------------------------------------------------------------------------------
// validators
// ---------------------------------------------------------------------------------------------

/// Base64 that accepts both alphabets' padding habits and non-canonical trailing bits.
fn b64_decode(s: &str, url: bool) -> Option<Vec<u8>> {
    use base64::alphabet;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);
    const STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
    if url {
        URL.decode(s).ok()
    } else {
        STD.decode(s).ok()
    }
}

/// Has an ASCII digit, an upper- and a lower-case letter (a random base64 key of 40 chars
/// lacks one with odds of about one in a thousand; a long identifier almost always does).
fn mixed_alnum(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
}

/// A JWT whose header decodes to a JSON object with an `alg` string.
fn jwt_ok(s: &str) -> bool {
    let Some(header) = s.split('.').next() else {
        return false;
    };
    let Some(bytes) = b64_decode(header, true) else {
        return false;
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => map.get("alg").is_some_and(|a| a.is_string()),
        _ => false,
    }
}

/// A PEM block (or its JSON-escaped form) with at least 64 base64 characters of body, so that
/// `-----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----` in documentation is not reported.
fn pem_body_ok(s: &str) -> bool {
    let Some(begin) = s.find("-----BEGIN") else {
        return false;
    };
    let after_begin = begin + "-----BEGIN".len();
    let Some(close) = s[after_begin..].find("-----") else {
        return false;
    };
    let body_start = after_begin + close + "-----".len();
    let body_end = s[body_start..]
        .find("-----END")
        .map_or(s.len(), |i| body_start + i);
    let body = s[body_start..body_end]
        .replace("\\n", "\n")
        .replace("\\r", "\r");
    let count = body
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .count();
    count >= 64 && !contains_stopword(&body, &["xxxxxx", "example"])
}

/// A Discord bot token: its first segment is the base64 of the bot's numeric id.
fn discord_token_ok(s: &str) -> bool {
    let Some(first) = s.split('.').next() else {
        return false;
    };
    match b64_decode(first, true) {
        Some(id) => (17..=20).contains(&id.len()) && id.iter().all(u8::is_ascii_digit),
        None => false,
    }
}

/// Passwords that mark an example connection string.
const DB_PLACEHOLDERS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "changeme",
    "mypassword",
    "yourpassword",
    "user",
    "username",
    "root",
    "admin",
    "example",
    "test",
    "xxx",
    "***",
    "...",
    "pw",
];

/// A connection-string password that is not a placeholder or a variable.
fn db_password_ok(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if s.starts_with(['$', '{', '%', '<', '*']) || lower.contains("${") || lower.contains("{{") {
        return false;
    }
    if DB_PLACEHOLDERS.contains(&lower.as_str()) {
        return false;
    }
    if s.chars().all(|c| c == 'x' || c == 'X' || c == '*') {
        return false;
    }
    !contains_stopword(s, PLACEHOLDERS)
}

/// `Authorization: Basic` credentials that decode to `user:password` with a real password.
fn basic_auth_ok(s: &str) -> bool {
    let Some(bytes) = b64_decode(s, false) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    match text.split_once(':') {
        Some((_, pass)) => {
            !pass.is_empty() && !pass.chars().any(char::is_control) && db_password_ok(pass)
        }
        None => false,
    }
}

/// Words whose presence marks a generic value as a placeholder.
const GENERIC_PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "xxxx",
    "****",
    "....",
    "redacted",
    "dummy",
    "sample",
    "replace",
    "insert_",
    "notreal",
    "not_real",
    "fake",
    "todo",
];

/// File extensions that mark a value as a path to a secret, not the secret.
const FILE_ENDINGS: &[&str] = &[
    ".txt", ".json", ".pem", ".key", ".env", ".yaml", ".yml", ".crt", ".p12", ".pfx", ".jks",
    ".toml", ".ini", ".cfg", ".conf",
];

/// A generic `password=` / `token:` value that looks like a live secret: not a placeholder,
/// variable, path, URL, expression or identifier, with letters and digits.
fn generic_value_ok(v: &str) -> bool {
    let n = v.chars().count();
    if !(12..=256).contains(&n) {
        return false;
    }
    if v.starts_with(['$', '%', '<', '{', '#', '&', '@', '*', '/', '~', '.', '!']) {
        return false;
    }
    if v.contains("://") || v.contains("${") || v.contains("{{") {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if GENERIC_PLACEHOLDERS.iter().any(|w| lower.contains(w)) {
        return false;
    }
    if FILE_ENDINGS.iter().any(|e| lower.ends_with(e)) {
        return false;
    }
    if !v.bytes().any(|b| b.is_ascii_digit()) || !v.bytes().any(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    // an environment variable name: DATABASE_PASSWORD_2
    if v.contains('_')
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    !is_dotted_path(v)
}

/// `os.environ.get`, `settings.DB_PASSWORD2`, `self.config.token_v2`: an expression, not a
/// value.
fn is_dotted_path(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            let mut bytes = p.bytes();
            matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A tiny deterministic generator, so that no token-shaped literal sits in the source.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick(&mut self, alphabet: &str, n: usize) -> String {
            let a: Vec<char> = alphabet.chars().collect();
            (0..n)
                .map(|_| a[(self.next() % a.len() as u64) as usize])
                .collect()
        }
    }

    const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const HEX: &str = "0123456789abcdef";
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

    fn b64url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn b64std(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn ids(spans: &[Span]) -> Vec<&str> {
        spans.iter().map(|s| &*s.id).collect()
    }

    /// `(rule id, text holding a secret, the secret, near-miss text that must give nothing)`.
    fn cases() -> Vec<(&'static str, String, String, String)> {
        let r = &mut Rng(0x9e37_79b9_7f4a_7c15);
        let mut v = Vec::new();
        let mut case = |id: &'static str, secret: String, pos: String, neg: String| {
            v.push((id, pos.replace("{S}", &secret), secret, neg));
        };

        let key = format!("AKIA{}", r.pick(UPPER_ALNUM, 16));
        let short = format!("AKIA{}", r.pick(UPPER_ALNUM, 12));
        case(
            "aws-access-key-id",
            key,
            "aws_access_key_id = {S}".into(),
            format!("id {short} and AKIAIOSFODNN7EXAMPLE"),
        );

        let sk = format!("{}9aZ", r.pick(B64, 37));
        let unrelated = r.pick(ALNUM, 40);
        case(
            "aws-secret-access-key",
            sk,
            "AWS_SECRET_ACCESS_KEY={S}\n".into(),
            format!("the value {unrelated} is not labelled"),
        );

        let gcp = format!("AIza{}", r.pick(B64URL, 35));
        let gcp_short = format!("AIza{}", r.pick(ALNUM, 20));
        case(
            "gcp-api-key",
            gcp,
            "key={S}&q=1".into(),
            format!("key={gcp_short}"),
        );

        let body: String = (0..20)
            .map(|_| r.pick(B64, 64))
            .collect::<Vec<_>>()
            .join("\\n");
        let sa = format!("-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n");
        case(
            "gcp-service-account-key",
            sa,
            r#"{"type": "service_account", "private_key": "{S}", "client_email": "a@b.iam"}"#
                .into(),
            r#"{"private_key": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"}"#
                .into(),
        );

        let az = format!("{}==", r.pick(B64, 86));
        let az_short = format!("{}==", r.pick(B64, 40));
        case(
            "azure-storage-account-key",
            az,
            "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey={S};EndpointSuffix=core.windows.net".into(),
            format!("AccountKey={az_short};"),
        );

        for (id, prefix) in [
            ("github-pat", "ghp_"),
            ("github-oauth-token", "gho_"),
            ("github-user-token", "ghu_"),
            ("github-app-token", "ghs_"),
            ("github-refresh-token", "ghr_"),
        ] {
            let t = format!("{prefix}{}", r.pick(ALNUM, 36));
            let miss = format!("{prefix}{}", r.pick(ALNUM, 30));
            case(
                id,
                t,
                "export GH_TOKEN={S}".into(),
                format!("see {miss} here"),
            );
        }
        let fg = format!("github_pat_{}_{}", r.pick(ALNUM, 22), r.pick(ALNUM, 59));
        let fg_miss = format!("github_pat_{}", r.pick(ALNUM, 30));
        case(
            "github-fine-grained-pat",
            fg,
            "token: {S}".into(),
            format!("value {fg_miss}"),
        );

        let gl = format!("glpat-{}", r.pick(B64URL, 20));
        let gl_miss = format!("glpat-{}", r.pick(ALNUM, 10));
        case(
            "gitlab-pat",
            gl,
            "PRIVATE-TOKEN: {S}.".into(),
            format!("header {gl_miss}"),
        );
        let glr = format!("glrt-{}", r.pick(ALNUM, 24));
        case(
            "gitlab-runner-token",
            glr,
            "runner {S}".into(),
            "glrt-short".into(),
        );

        let xb = format!(
            "xoxb-{}-{}-{}",
            r.pick("0123456789", 12),
            r.pick("0123456789", 13),
            r.pick(ALNUM, 24)
        );
        case(
            "slack-bot-token",
            xb,
            "SLACK_BOT_TOKEN={S}".into(),
            "xoxb-123-abc".into(),
        );
        let xp = format!(
            "xoxp-{}-{}-{}-{}",
            r.pick("0123456789", 11),
            r.pick("0123456789", 12),
            r.pick("0123456789", 12),
            r.pick(HEX, 32)
        );
        case(
            "slack-user-token",
            xp,
            "token {S}".into(),
            "xoxp-1-2-3-4".into(),
        );
        let xa = format!(
            "xoxa-2-{}-{}-{}",
            r.pick("0123456789", 12),
            r.pick("0123456789", 12),
            r.pick(HEX, 48)
        );
        case(
            "slack-workspace-token",
            xa,
            "t={S}".into(),
            "xoxa-2-abc".into(),
        );
        let xapp = format!(
            "xapp-1-A{}-{}-{}",
            r.pick(UPPER_ALNUM, 10),
            r.pick("0123456789", 13),
            r.pick(HEX, 64)
        );
        case(
            "slack-app-token",
            xapp,
            "app token {S}".into(),
            "xapp-1-short".into(),
        );
        let hook = format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            r.pick(UPPER_ALNUM, 8),
            r.pick(UPPER_ALNUM, 10),
            r.pick(ALNUM, 24)
        );
        case(
            "slack-webhook-url",
            hook,
            "post to {S} now".into(),
            "see https://hooks.slack.com/services/ for docs".into(),
        );

        let st = format!("sk_live_{}", r.pick(ALNUM, 24));
        case(
            "stripe-secret-key",
            st,
            "stripe.api_key = \"{S}\"".into(),
            "sk_test_only_docs".into(),
        );
        let pk = format!("pk_live_{}", r.pick(ALNUM, 24));
        case(
            "stripe-publishable-key",
            pk,
            "Stripe('{S}')".into(),
            "pk_live_short".into(),
        );

        let tw = format!("SK{}", r.pick(HEX, 32));
        let tw_miss = format!("SK{}", r.pick(HEX, 30));
        case(
            "twilio-api-key",
            tw,
            "api key sid {S}".into(),
            format!("sid {tw_miss} ask a desk"),
        );
        let ac = format!("AC{}", r.pick(HEX, 32));
        case(
            "twilio-account-sid",
            ac,
            "account {S}".into(),
            format!("account AC{}", r.pick(HEX, 20)),
        );
        let tat = r.pick(HEX, 32);
        case(
            "twilio-auth-token",
            tat.clone(),
            "TWILIO_AUTH_TOKEN={S}".into(),
            format!("md5 {tat}"),
        );

        let sg = format!("SG.{}.{}", r.pick(B64URL, 22), r.pick(B64URL, 43));
        case(
            "sendgrid-api-key",
            sg,
            "SENDGRID_API_KEY='{S}'".into(),
            "SG.short.value".into(),
        );
        let mg = format!("key-{}", r.pick(HEX, 32));
        case(
            "mailgun-api-key",
            mg,
            "api: {S}".into(),
            "a key-value store, key-0123".into(),
        );
        let mgp = format!("{}-{}-{}", r.pick(HEX, 32), r.pick(HEX, 8), r.pick(HEX, 8));
        let mgp_bare = format!("{}-{}-{}", r.pick(HEX, 32), r.pick(HEX, 8), r.pick(HEX, 8));
        case(
            "mailgun-private-key",
            mgp,
            "MAILGUN_API_KEY={S}".into(),
            format!("checksum {mgp_bare}"),
        );

        let oa = format!("sk-proj-{}", r.pick(B64URL, 120));
        case(
            "openai-api-key",
            oa,
            "OPENAI_API_KEY={S}".into(),
            "sk-proj-abc and sk-12345".into(),
        );
        let oa2 = format!("sk-{}", r.pick(ALNUM, 48));
        case(
            "openai-api-key",
            oa2,
            "key: {S}".into(),
            format!("sk-{}", r.pick(ALNUM, 30)),
        );
        let an = format!("sk-ant-api03-{}AA", r.pick(B64URL, 93));
        case(
            "anthropic-api-key",
            an,
            "ANTHROPIC_API_KEY=\"{S}\"".into(),
            "sk-ant-api03-short".into(),
        );
        let hf = format!(
            "hf_{}",
            r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)
        );
        case(
            "huggingface-token",
            hf,
            "HF_TOKEN={S}".into(),
            "from hf_hub_download import x".into(),
        );
        let npm = format!("npm_{}", r.pick(ALNUM, 36));
        case(
            "npm-token",
            npm,
            "//registry.npmjs.org/:_authToken={S}".into(),
            "npm_config_cache=/tmp".into(),
        );
        let py = format!("pypi-AgEIcHlwaS5vcmc{}", r.pick(B64URL, 150));
        case(
            "pypi-token",
            py,
            "password = {S}".into(),
            "pypi-AgEIcHlwaS5vcmc".into(),
        );

        let id = b64url(
            format!(
                "{}",
                100_000_000_000_000_000u64 + r.next() % 800_000_000_000_000_000
            )
            .as_bytes(),
        );
        let dt = format!("{id}.{}.{}", r.pick(B64URL, 6), r.pick(B64URL, 38));
        let dt_miss = format!(
            "{}.{}.{}",
            b64url(b"3not-a-snowflake-id"),
            r.pick(B64URL, 6),
            r.pick(B64URL, 38)
        );
        case(
            "discord-bot-token",
            dt,
            "client.run('{S}')  # discord bot".into(),
            format!("discord bot {dt_miss}"),
        );
        let dh = format!(
            "https://discord.com/api/webhooks/{}/{}",
            r.pick("0123456789", 18),
            r.pick(B64URL, 68)
        );
        case(
            "discord-webhook-url",
            dh,
            "webhook: {S}".into(),
            "https://discord.com/api/webhooks/123/abc".into(),
        );
        let tg = format!("{}:AA{}", r.pick("0123456789", 10), r.pick(B64URL, 33));
        case(
            "telegram-bot-token",
            tg,
            "https://api.telegram.org/bot{S}/getMe".into(),
            "bot 12345678:short".into(),
        );
        let sh = format!("shpat_{}", r.pick(HEX, 32));
        case(
            "shopify-token",
            sh,
            "X-Shopify-Access-Token: {S}".into(),
            "shpat_123".into(),
        );
        let sq = format!("EAAA{}", r.pick(B64URL, 60));
        case(
            "square-access-token",
            sq,
            "square token {S}".into(),
            "EAAAshort".into(),
        );
        let sqs = format!("sq0csp-{}", r.pick(B64URL, 43));
        case(
            "square-oauth-secret",
            sqs,
            "secret {S}".into(),
            "sq0csp-short".into(),
        );
        let dop = format!("dop_v1_{}", r.pick(HEX, 64));
        case(
            "digitalocean-token",
            dop,
            "DIGITALOCEAN_TOKEN={S}".into(),
            format!("dop_v1_{}", r.pick(HEX, 40)),
        );
        let her = format!(
            "{}-{}-{}-{}-{}",
            r.pick(HEX, 8),
            r.pick(HEX, 4),
            r.pick(HEX, 4),
            r.pick(HEX, 4),
            r.pick(HEX, 12)
        );
        case(
            "heroku-api-key",
            her.clone(),
            "HEROKU_API_KEY={S}".into(),
            format!("request id {her}"),
        );
        let hrku = format!("HRKU-{}", r.pick(B64URL, 60));
        case(
            "heroku-api-key",
            hrku,
            "token {S}".into(),
            "HRKU-short".into(),
        );
        let dd = r.pick(HEX, 32);
        case(
            "datadog-api-key",
            dd.clone(),
            "DD_API_KEY={S}".into(),
            format!("hash {dd}"),
        );

        let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = b64url(br#"{"sub":"1234567890","name":"someone","iat":1516239022}"#);
        let jwt = format!("{header}.{payload}.{}", r.pick(B64URL, 43));
        let not_jwt = format!(
            "{}.{payload}.{}",
            b64url(br#"{"typ":"JWT"}"#),
            r.pick(B64URL, 43)
        );
        case(
            "jwt",
            jwt,
            "Authorization: Bearer {S}".into(),
            format!("token {not_jwt}"),
        );

        let lines: Vec<String> = (0..12).map(|_| r.pick(B64, 64)).collect();
        for kind in ["RSA ", "EC ", "OPENSSH ", "DSA ", ""] {
            let pem = format!(
                "-----BEGIN {kind}PRIVATE KEY-----\n{}\n-----END {kind}PRIVATE KEY-----",
                lines.join("\n")
            );
            case(
                "private-key",
                pem,
                "here:\n{S}\nthanks".into(),
                format!("-----BEGIN {kind}PRIVATE KEY-----\n...\n-----END {kind}PRIVATE KEY-----"),
            );
        }
        let pgp = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----",
            lines.join("\n")
        );
        case(
            "private-key",
            pgp,
            "{S}".into(),
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n-----END PGP PUBLIC KEY BLOCK-----".into(),
        );

        for scheme in [
            "postgres",
            "postgresql",
            "mysql",
            "mongodb",
            "mongodb+srv",
            "redis",
            "amqp",
        ] {
            let pw = format!("{}7!", r.pick(ALNUM, 14));
            case(
                "database-connection-string",
                pw,
                format!("DATABASE_URL={scheme}://app_user:{{S}}@db.internal:5432/app"),
                format!("DATABASE_URL={scheme}://app_user:password@localhost/app and {scheme}://user:${{DB_PASS}}@db/x"),
            );
        }

        let bearer = r.pick(B64URL, 40);
        case(
            "http-bearer-token",
            bearer,
            "curl -H 'Authorization: Bearer {S}'".into(),
            "Authorization: Bearer <token>".into(),
        );
        let basic = b64std(format!("admin:{}", r.pick(ALNUM, 16)).as_bytes());
        case(
            "http-basic-auth",
            basic,
            "Authorization: Basic {S}".into(),
            format!("Authorization: Basic {}", b64std(b"admin:password")),
        );

        let gocspx = format!("GOCSPX-{}", r.pick(B64URL, 28));
        case(
            "google-oauth-client-secret",
            gocspx,
            "\"client_secret\":\"{S}\"".into(),
            "GOCSPX-short".into(),
        );
        let age = format!("AGE-SECRET-KEY-1{}", r.pick(BECH32, 58));
        case(
            "age-secret-key",
            age,
            "# key\n{S}\n".into(),
            "AGE-SECRET-KEY-1SHORT".into(),
        );
        let pmak = format!("PMAK-{}-{}", r.pick(HEX, 24), r.pick(HEX, 34));
        case(
            "postman-api-key",
            pmak,
            "x-api-key: {S}".into(),
            "PMAK-123".into(),
        );
        let dapi = format!("dapi{}", r.pick(HEX, 32));
        case(
            "databricks-token",
            dapi,
            "DATABRICKS_TOKEN={S}".into(),
            "the dapi endpoint".into(),
        );
        let hvs = format!("hvs.{}", r.pick(B64URL, 90));
        case(
            "vault-token",
            hvs,
            "VAULT_TOKEN={S}".into(),
            "hvs.short".into(),
        );
        let lin = format!("lin_api_{}", r.pick(ALNUM, 40));
        case(
            "linear-api-key",
            lin,
            "LINEAR_API_KEY={S}".into(),
            "lin_api_short".into(),
        );
        let glsa = format!("glsa_{}_{}", r.pick(ALNUM, 32), r.pick(HEX, 8));
        case(
            "grafana-service-account-token",
            glsa,
            "Bearer {S}".into(),
            "glsa_short_1234".into(),
        );
        let nrak = format!("NRAK-{}", r.pick(UPPER_ALNUM, 27));
        case(
            "new-relic-user-key",
            nrak,
            "API-Key: {S}".into(),
            "NRAK-SHORT".into(),
        );

        let gen = format!("{}4{}", r.pick(ALNUM, 16), r.pick("!#%&+-_.?", 2));
        case(
            "generic-secret",
            gen,
            "db_password = \"{S}\"\n".into(),
            "password = getenv(\"DB_PASSWORD\")".into(),
        );
        let gen2 = r.pick(ALNUM, 32);
        case(
            "generic-secret",
            gen2,
            "api_key: {S}".into(),
            "api_key: ${API_KEY}".into(),
        );
        let gen3 = format!("{}5", r.pick(ALNUM, 20));
        case(
            "generic-secret",
            gen3.clone(),
            "const apiKey = '{S}';".into(),
            "const apiKey = process.env.API_KEY;".into(),
        );
        case(
            "generic-secret",
            gen3,
            "clientSecret: {S}.".into(),
            "ClientSecret: TODO-fill-in-2024.".into(),
        );
        v
    }

    #[test]
    fn builtin_rules_all_compile() {
        assert_eq!(Secrets::builtin().len(), defs().len());
        for d in defs() {
            assert!(
                compile_builtin(&d.pattern).is_ok(),
                "{} does not compile",
                d.id
            );
        }
    }

    #[test]
    fn a_builtin_rule_is_compiled_only_when_its_keyword_is_seen() {
        let s = Secrets::new(builtin_rules());
        let gh = s.rules.iter().position(|r| &*r.id == "github-pat").unwrap();
        assert!(s.rules.iter().all(|r| !r.regex.is_compiled()));
        assert!(s.scan("nothing secret here").is_empty());
        assert!(!s.rules[gh].regex.is_compiled());
        let found = s.scan("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok");
        assert!(s.rules[gh].regex.is_compiled());
        assert!(found.iter().any(|f| &*f.id == "github-pat"), "{found:?}");
    }

    #[test]
    fn every_builtin_rule_has_a_positive_and_a_near_miss() {
        let s = Secrets::builtin();
        let cases = cases();
        for rule in s.rules() {
            assert!(
                cases.iter().any(|c| c.0 == &*rule.id),
                "no test case for {}",
                rule.id
            );
            assert!(!rule.keywords.is_empty(), "{} has no keyword", rule.id);
        }
        for (id, pos, secret, neg) in &cases {
            let spans = s.scan(pos);
            let hit = spans
                .iter()
                .find(|sp| &*sp.id == *id)
                .unwrap_or_else(|| panic!("{id}: no finding in {pos:?}: {spans:?}"));
            assert_eq!(&pos[hit.start..hit.end], secret, "{id}: wrong span");
            assert_eq!(spans.len(), 1, "{id}: extra findings {spans:?} in {pos:?}");
            let spans = s.scan(neg);
            assert!(spans.is_empty(), "{id}: near miss {neg:?} gave {spans:?}");
        }
    }

    #[test]
    fn ordinary_text_gives_no_finding() {
        let s = Secrets::builtin();
        let texts = [
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
             incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud \
             exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
            "Please reset your password: it must be at least 12 characters long. The token \
             expires after one hour; keep your secret questions safe.",
            "password = getenv(\"DB_PASSWORD\")\ntoken = os.environ.get(\"API_TOKEN\")\n\
             secret = settings.SECRET_KEY_V2\napi_key = config.get_api_key_for(user)\n\
             password: str = Field(..., min_length=12)\nPASSWORD=${DB_PASSWORD}\n\
             token := os.Getenv(\"GITHUB_TOKEN\")\nsecret_file = /run/secrets/db_password2\n\
             \"max_tokens\": 4096, \"token_count\": 123456789012",
            "request 123e4567-e89b-12d3-a456-426614174000 and 550e8400-e29b-41d4-a716-446655440000",
            "commit 3f9c2a7d8e1b4c5f6a7b8c9d0e1f2a3b4c5d6e7f fixes da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "password_reset_url = https://example.com/reset?id=12345",
            "In Slovakia, laws about robots and bots: ask the desk about the account.",
        ];
        for t in texts {
            let spans = s.scan(t);
            assert!(spans.is_empty(), "{t:?} gave {spans:?}");
        }
    }

    #[test]
    fn prefilter_runs_no_keyword_rule_without_a_keyword() {
        let s = Secrets::builtin();
        assert!(s.candidates("hello world, nothing to see here").is_empty());
        assert!(s.candidates("").is_empty());
        let c = s.candidates("my GHP_ thing");
        assert_eq!(c, vec!["github-pat"]);
        let c = s.candidates("a password and eyJ");
        assert!(c.contains(&"generic-secret") && c.contains(&"jwt"), "{c:?}");
        assert!(!c.contains(&"github-pat"));
        // a rule without keywords always runs
        let extra = SecretRule::new("always", Regex::new("zzz").unwrap());
        let s = s.with_extra(vec![extra]);
        assert_eq!(s.candidates("hello"), vec!["always"]);
    }

    #[test]
    fn scan_output_is_sorted_and_deduplicated() {
        let r = &mut Rng(7);
        let gh = format!("ghp_{}", r.pick(ALNUM, 36));
        let aws = format!("AKIA{}", r.pick(UPPER_ALNUM, 16));
        let text = format!("token={gh}\nkey {aws} and again {gh}");
        let spans = Secrets::builtin().scan(&text);
        assert_eq!(
            ids(&spans),
            vec!["github-pat", "aws-access-key-id", "github-pat"]
        );
        assert!(spans.windows(2).all(|w| w[0].start < w[1].start));
        let red = crate::redact(&text, &spans);
        assert!(!red.contains(&gh) && !red.contains(&aws), "{red}");
    }

    #[test]
    fn with_extra_adds_and_replaces() {
        let base = Secrets::builtin();
        let n = base.len();
        let mut replaced = SecretRule::new("github-pat", Regex::new("never-matches-zq").unwrap());
        replaced.keywords = vec!["ghp_".into()];
        let mut added = SecretRule::new("acme-token", Regex::new(r"acme_[0-9]{8}").unwrap());
        added.keywords = vec!["acme_".into()];
        let s = base.with_extra(vec![replaced, added]);
        assert_eq!(s.len(), n + 1);
        let r = &mut Rng(3);
        let text = format!("ghp_{} and acme_12345678", r.pick(ALNUM, 36));
        assert_eq!(ids(&s.scan(&text)), vec!["acme-token"]);
    }

    const SAMPLE: &str = r#"
title = "custom rules"
minVersion = "v8.25.0"

[extend]
useDefault = true

[allowlist]
description = "global"
paths = ['''vendor/''']
stopwords = ["notasecret"]

[[rules]]
id = "acme-key"
description = "ACME key"
regex = '''(?i)acme[_-]?key\s*=\s*['"]?([a-z0-9]{24})'''
secretGroup = 1
entropy = 3.0
keywords = ["acme"]
tags = ["acme"]
path = '''\.env$'''

[rules.allowlist]
regexes = ['''^0+$''']
stopwords = ["test"]
paths = ['''fixtures/''']

[[rules]]
id = "widget-token"
regex = '''wdg_([A-Z0-9]{16})'''
keywords = ["wdg_"]

[[rules.allowlists]]
regexTarget = "line"
regexes = ['''# ok''']

[[rules.allowlists]]
condition = "AND"
paths = ['''x''']
regexes = ['''.''']

[[rules]]
id = "path-only"
path = '''id_rsa$'''
"#;

    const INLINE: &str = r#"
rules = [
  { id = "inline-one", regex = '''inl_[0-9]{6}''', keywords = ["inl_"] },
  { id = "inline-two", regex = '''(two)_([0-9]{3})''', secretGroup = 2, keywords = [""] },
]
"#;

    #[test]
    fn gitleaks_loader_reads_both_forms() {
        let rules = from_gitleaks_toml(SAMPLE).unwrap();
        assert_eq!(
            rules.iter().map(|r| &*r.id).collect::<Vec<_>>(),
            vec!["acme-key", "widget-token"]
        );
        let acme = &rules[0];
        assert_eq!(acme.secret_group, 1);
        assert_eq!(acme.entropy, Some(3.0));
        assert_eq!(acme.keywords, vec!["acme"]);
        assert_eq!(acme.allow.len(), 1);
        assert!(acme.stopwords.contains(&"test".to_string()));
        assert!(acme.stopwords.contains(&"notasecret".to_string()));
        // the AND allowlist with paths can never apply and is dropped
        assert_eq!(rules[1].allowlists.len(), 1);
        assert_eq!(rules[1].secret_group, SecretRule::FIRST_GROUP);

        let s = Secrets::new(rules);
        let r = &mut Rng(11);
        let k = r.pick("abcdefghijklmnopqrstuvwxyz0123456789", 24);
        let text = format!("ACME_KEY = '{k}'\nwdg_ABCDEFGH12345678\nwdg_ZZZZZZZZ00000000 # ok");
        let spans = s.scan(&text);
        assert_eq!(ids(&spans), vec!["acme-key", "widget-token"]);
        assert_eq!(&text[spans[0].start..spans[0].end], k);
        assert_eq!(&text[spans[1].start..spans[1].end], "ABCDEFGH12345678");
        assert!(s.scan("acme_key = 'testtesttesttesttesttest'").is_empty());
        assert!(s.scan("acme_key = '000000000000000000000000'").is_empty());

        let rules = from_gitleaks_toml(INLINE).unwrap();
        assert_eq!(rules.len(), 2);
        let s = Secrets::new(rules);
        // an empty keyword counts as none: the rule always runs
        assert_eq!(s.candidates("nothing"), vec!["inline-two"]);
        let spans = s.scan("inl_123456 two_789");
        assert_eq!(ids(&spans), vec!["inline-one", "inline-two"]);
        assert_eq!(spans[1].end - spans[1].start, 3);
    }

    #[test]
    fn gitleaks_loader_errors_name_the_rule_and_key() {
        let e = from_gitleaks_toml(
            "[[rules]]\nid = \"r1\"\nregex = 'a'\nfrobnicate = 1\n\n[[rules]]\nid = \"r2\"\nregex = 'b'\n[rules.allowlist]\nwhatever = []\n",
        )
        .unwrap_err();
        assert!(e.contains("rule `r1`: unknown key `frobnicate`"), "{e}");
        assert!(
            e.contains("rule `r2`: allowlist: unknown key `whatever`"),
            "{e}"
        );

        let e =
            from_gitleaks_toml("[[rules]]\nid = \"bad\"\nregex = '''(unclosed'''\n").unwrap_err();
        assert!(e.starts_with("rule `bad`: bad regex:"), "{e}");

        let e = from_gitleaks_toml("[[rules]]\nid = \"g\"\nregex = 'a(b)'\nsecretGroup = 3\n")
            .unwrap_err();
        assert!(e.contains("rule `g`: secretGroup 3"), "{e}");

        let e = from_gitleaks_toml("[[rules]]\nid = \"k\"\nregex = 'a'\nkeywords = \"a\"\n")
            .unwrap_err();
        assert!(
            e.contains("rule `k`: `keywords` must be an array of strings"),
            "{e}"
        );

        let e = from_gitleaks_toml(
            "[[rules]]\nid = \"c\"\nregex = 'a'\n[[rules.required]]\nid = \"x\"\n",
        )
        .unwrap_err();
        assert!(e.contains("rule `c`: `required`"), "{e}");

        let e = from_gitleaks_toml("[[rules]]\nregex = 'a'\n").unwrap_err();
        assert!(e.contains("rules[0]: has no `id`"), "{e}");

        let e = from_gitleaks_toml("rules = 3\nbogus = 1\n").unwrap_err();
        assert!(
            e.contains("`rules` must be an array") && e.contains("`bogus`"),
            "{e}"
        );

        assert!(from_gitleaks_toml("not [valid toml")
            .unwrap_err()
            .starts_with("invalid toml"));
    }

    #[test]
    fn hostile_input_never_panics() {
        let s = Secrets::builtin();
        let mut r = Rng(42);
        // random bytes as lossy UTF-8, with keyword fragments sprinkled in
        let mut bytes = Vec::new();
        for i in 0..200_000u32 {
            bytes.push((r.next() & 0xff) as u8);
            if i % 997 == 0 {
                bytes.extend_from_slice(b"password=ghp_eyJAKIA-----BEGIN PRIVATE KEY-----");
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        s.scan(&text);
        // long runs of token alphabets and repeated headers without an END
        let run = "A".repeat(300_000);
        s.scan(&format!("ghp_{run}"));
        s.scan(&format!("eyJ{run}.{run}.{run}"));
        s.scan(&"-----BEGIN RSA PRIVATE KEY-----\n".repeat(20_000));
        s.scan(&"password=".repeat(50_000));
        s.scan(&"postgres://u:".repeat(30_000));
        s.scan(&"0".repeat(1_000_000));
        // user rules: empty keywords, a regex matching the empty string, a huge secret group
        let mut empty = SecretRule::new("empty", Regex::new("x*").unwrap());
        empty.keywords = vec![String::new(), String::new()];
        empty.secret_group = 99;
        let mut e2 = SecretRule::new("e2", Regex::new("(x)*").unwrap());
        e2.secret_group = SecretRule::FIRST_GROUP;
        e2.stopwords = vec![String::new()];
        let s2 = Secrets::new(vec![empty, e2]);
        assert!(s2.scan("yyyy").is_empty());
        assert_eq!(s2.scan("axxb").len(), 1);
        // invalid or enormous patterns in user rules are errors, not panics
        assert!(from_gitleaks_toml("[[rules]]\nid='a'\nregex='''(?P<>x)'''\n").is_err());
        assert!(from_gitleaks_toml("[[rules]]\nid='a'\nregex='''\\w{1000}{1000}'''\n").is_err());
        assert!(
            from_gitleaks_toml("[[rules]]\nid='a'\nregex='a'\nentropy=-1\nsecretGroup=-2\n")
                .is_err()
        );
        assert!(Secrets::new(Vec::new()).scan("anything").is_empty());
    }

    #[test]
    fn entropy_is_bits_per_char() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abab") - 1.0).abs() < 1e-6);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-6);
        assert!((shannon_entropy("ééaa") - 1.0).abs() < 1e-6);
        let r = &mut Rng(5);
        assert!(shannon_entropy(&r.pick(ALNUM, 64)) > 4.5);
    }

    #[test]
    fn scan_of_100kb_prose_is_fast() {
        let words = [
            "the",
            "quick",
            "brown",
            "fox",
            "jumps",
            "over",
            "lazy",
            "dog",
            "model",
            "prompt",
            "token",
            "password",
            "policy",
            "keys",
            "access",
            "should",
            "rotate",
            "every",
            "week",
            "please",
            "summarise",
            "this",
            "document",
            "about",
            "security",
            "and",
            "Slovakia",
        ];
        let mut r = Rng(99);
        let mut text = String::new();
        while text.len() < 100_000 {
            text.push_str(words[(r.next() % words.len() as u64) as usize]);
            text.push(if r.next().is_multiple_of(12) {
                '.'
            } else {
                ' '
            });
        }
        let s = Secrets::builtin();
        assert!(s.scan(&text).is_empty());
        let t = Instant::now();
        let runs = 20;
        for _ in 0..runs {
            std::hint::black_box(s.scan(std::hint::black_box(&text)));
        }
        let per = t.elapsed() / runs;
        println!(
            "secrets: {} bytes of prose in {per:?} ({} candidate rules)",
            text.len(),
            s.candidates(&text).len()
        );
    }
}
