//! `[gateway]`: the LLM gateway's settings, each checked by name.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to do when a scanner flags: stop the request, replace what it found before
/// forwarding (secrets and PII), or only record it (shadow mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFlag {
    Block,
    Redact,
    Log,
}

impl OnFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFlag::Block => "block",
            OnFlag::Redact => "redact",
            OnFlag::Log => "log",
        }
    }
}

/// `[gateway]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    pub enabled: bool,
    /// Address and port to listen on.
    pub bind: String,
    /// The OpenAI-compatible server requests go on to (`http://127.0.0.1:11434` for Ollama,
    /// `https://api.openai.com`): its `/v1/...` routes.
    pub upstream: String,
    /// The upstream's API key: from this environment variable, or the first line of this
    /// file. Neither set: the client's own `Authorization` goes on. Never logged.
    pub upstream_key_env: String,
    pub upstream_key_file: String,
    /// Seconds to wait for the upstream's answer to begin (a stream may last longer).
    pub timeout_seconds: f64,
    /// Largest request body, bytes: larger is 413 `REQUEST_TOO_LARGE`.
    pub max_body_bytes: usize,
    /// Largest upstream answer read whole (non-streaming), bytes.
    pub max_response_bytes: usize,
    /// Most messages (or input items) in one request.
    pub max_messages: usize,
    /// Seconds a client has to send its whole request body (408 `REQUEST_TIMEOUT` after).
    pub body_timeout_seconds: f64,
    /// Requests handled at once; beyond, 503 `OVERLOADED` (bounds memory under a flood).
    pub max_concurrent: usize,
    /// On an internal failure, forward unscanned (counted and alerted) instead of 500
    /// `FIREWALL_ERROR`.
    pub fail_open: bool,
    /// Addresses and networks answered 403 `IP_BLOCKED`.
    pub deny: Vec<String>,
    /// Requests per minute per client address, and per API key (0: no limit).
    pub rate_per_minute_ip: u32,
    pub rate_per_minute_key: u32,
    /// The same request (same client, same body) again within this many seconds is 400
    /// `DUPLICATE_REQUEST` (0: off).
    pub duplicate_window_seconds: f64,
    /// Keep verdicts by the hash of the text scanned.
    pub cache_enabled: bool,
    pub cache_entries: usize,
    /// Insert a canary token into system prompts; a response that repeats it leaked the
    /// system prompt.
    pub canary: bool,
    /// Store the raw prompt with its finding (off: only its hash).
    pub store_prompts: bool,
    /// A scanner's score at or above which it flags (0–1).
    pub flag_at: f32,
    /// Per scanner (`injection`, `jailbreak`, `secrets`, `pii`, `obfuscation`): `block`,
    /// `redact` or `log`.
    pub actions: BTreeMap<String, OnFlag>,
    /// Per route (`chat`, `completions`, `responses`, `embeddings`): the same, overriding
    /// `actions` for that route, e.g. `[gateway.routes.embeddings] pii = "log"`.
    pub routes: BTreeMap<String, BTreeMap<String, OnFlag>>,
    /// Policy rules over the scan result, in order; the first that matches decides.
    pub policy: Vec<PolicyRule>,
    /// Extra secret rules in gitleaks' TOML format (a file).
    pub secret_rules: String,
    /// Another classifier model file (`tripline train prompt`). Empty: the built-in one.
    pub model: String,
}

/// `[[gateway.policy]]`: GhostAI's `/evaluate` rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    pub id: String,
    /// A boolean expression over the scan: `score`, `flagged`, `flags`, `route`, `role`,
    /// `injection`, `jailbreak`, `secrets`, `pii`, `obfuscation` (each scanner's score),
    /// `bytes`, `messages`, `ip`, `api_key`; e.g. `"injection > 0.8 and route == 'chat'"`.
    #[serde(rename = "if")]
    pub when: String,
    pub action: PolicyAction,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyAction {
    Allow,
    Block,
    Redact,
    Log,
}

pub const SCANNER_NAMES: [&str; 5] = ["injection", "jailbreak", "secrets", "pii", "obfuscation"];
pub const ROUTES: [&str; 4] = ["chat", "completions", "responses", "embeddings"];

impl Default for GatewayConfig {
    fn default() -> Self {
        let actions = [
            ("injection", OnFlag::Block),
            ("jailbreak", OnFlag::Block),
            ("secrets", OnFlag::Redact),
            ("pii", OnFlag::Log),
            ("obfuscation", OnFlag::Log),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        GatewayConfig {
            enabled: false,
            bind: "127.0.0.1:5004".into(),
            upstream: "http://127.0.0.1:11434".into(),
            upstream_key_env: "TRIPLINE_UPSTREAM_KEY".into(),
            upstream_key_file: String::new(),
            timeout_seconds: 60.0,
            max_body_bytes: 1 << 20,
            max_response_bytes: 8 << 20,
            max_messages: 1000,
            body_timeout_seconds: 30.0,
            max_concurrent: 256,
            fail_open: false,
            deny: vec![],
            rate_per_minute_ip: 120,
            rate_per_minute_key: 600,
            duplicate_window_seconds: 2.0,
            cache_enabled: true,
            cache_entries: 10_000,
            canary: true,
            store_prompts: false,
            flag_at: 0.5,
            actions,
            routes: BTreeMap::new(),
            policy: vec![],
            secret_rules: String::new(),
            model: String::new(),
        }
    }
}

impl GatewayConfig {
    /// Every problem, each naming its key and value.
    pub fn validate(&self, errs: &mut Vec<String>) {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            errs.push(format!(
                "gateway.bind = {:?}: not an address:port",
                self.bind
            ));
        }
        match reqwest::Url::parse(&self.upstream) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => errs.push(format!(
                "gateway.upstream = {:?}: not an http(s) URL",
                self.upstream
            )),
        }
        if !(self.timeout_seconds > 0.0 && self.timeout_seconds <= 3600.0) {
            errs.push(format!(
                "gateway.timeout_seconds = {}: must be in (0, 3600]",
                self.timeout_seconds
            ));
        }
        for (k, v, lo) in [
            ("max_body_bytes", self.max_body_bytes, 1024),
            ("max_response_bytes", self.max_response_bytes, 1024),
            ("max_messages", self.max_messages, 1),
            ("max_concurrent", self.max_concurrent, 1),
            ("cache_entries", self.cache_entries, 0),
        ] {
            if v < lo {
                errs.push(format!("gateway.{k} = {v}: must be at least {lo}"));
            }
        }
        if !(self.body_timeout_seconds > 0.0 && self.body_timeout_seconds <= 3600.0) {
            errs.push(format!(
                "gateway.body_timeout_seconds = {}: must be in (0, 3600]",
                self.body_timeout_seconds
            ));
        }
        if self.max_body_bytes > 256 << 20 {
            errs.push(format!(
                "gateway.max_body_bytes = {}: at most 256 MiB",
                self.max_body_bytes
            ));
        }
        if !(0.0..=3600.0).contains(&self.duplicate_window_seconds) {
            errs.push(format!(
                "gateway.duplicate_window_seconds = {}: must be in [0, 3600]",
                self.duplicate_window_seconds
            ));
        }
        if !(0.0..=1.0).contains(&self.flag_at) || self.flag_at == 0.0 {
            errs.push(format!(
                "gateway.flag_at = {}: must be in (0, 1]",
                self.flag_at
            ));
        }
        for d in &self.deny {
            if let Err(e) = tripline_event::net::Cidr::parse(d) {
                errs.push(format!("gateway.deny: {d:?}: {e}"));
            }
        }
        for k in self.actions.keys() {
            if !SCANNER_NAMES.contains(&k.as_str()) {
                errs.push(format!(
                    "gateway.actions.{k}: no such scanner (one of {})",
                    SCANNER_NAMES.join(", ")
                ));
            }
        }
        for (r, acts) in &self.routes {
            if !ROUTES.contains(&r.as_str()) {
                errs.push(format!(
                    "gateway.routes.{r}: no such route (one of {})",
                    ROUTES.join(", ")
                ));
            }
            for k in acts.keys() {
                if !SCANNER_NAMES.contains(&k.as_str()) {
                    errs.push(format!("gateway.routes.{r}.{k}: no such scanner"));
                }
            }
        }
        let mut ids = std::collections::HashSet::new();
        for (i, p) in self.policy.iter().enumerate() {
            if p.id.is_empty() || !ids.insert(p.id.clone()) {
                errs.push(format!(
                    "gateway.policy[{i}].id = {:?}: must be set and unique",
                    p.id
                ));
            }
            if let Err(e) = crate::policy::Expr::parse(&p.when) {
                errs.push(format!(
                    "gateway.policy[{i}] ({}).if = {:?}: {e}",
                    p.id, p.when
                ));
            }
        }
        if !self.model.is_empty() && std::fs::metadata(&self.model).is_err() {
            errs.push(format!("gateway.model = {:?}: no such file", self.model));
        }
        if !self.secret_rules.is_empty() && std::fs::metadata(&self.secret_rules).is_err() {
            errs.push(format!(
                "gateway.secret_rules = {:?}: no such file",
                self.secret_rules
            ));
        }
    }

    /// What a flag of `scanner` does on `route`.
    pub fn on_flag(&self, route: &str, scanner: &str) -> OnFlag {
        self.routes
            .get(route)
            .and_then(|r| r.get(scanner))
            .or_else(|| self.actions.get(scanner))
            .copied()
            .unwrap_or(OnFlag::Log)
    }

    /// The upstream's key, from the environment or the file; None: pass the client's on.
    pub fn upstream_key(&self) -> Result<Option<String>, String> {
        if !self.upstream_key_file.is_empty() {
            let t = std::fs::read_to_string(&self.upstream_key_file).map_err(|e| {
                format!(
                    "gateway.upstream_key_file = {:?}: {e}",
                    self.upstream_key_file
                )
            })?;
            let k = t.lines().next().unwrap_or("").trim().to_owned();
            if k.is_empty() {
                return Err(format!(
                    "gateway.upstream_key_file = {:?}: empty",
                    self.upstream_key_file
                ));
            }
            return Ok(Some(k));
        }
        if !self.upstream_key_env.is_empty() {
            if let Ok(k) = std::env::var(&self.upstream_key_env) {
                if !k.trim().is_empty() {
                    return Ok(Some(k.trim().to_owned()));
                }
            }
        }
        Ok(None)
    }
}
