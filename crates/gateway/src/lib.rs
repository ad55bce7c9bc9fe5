//! The LLM gateway: an OpenAI-compatible proxy and scan API in front of any compatible server
//! (OpenAI, vLLM, Ollama, llama.cpp). Every text the model will read is scanned inline before
//! the request goes on; answers are scanned too (secrets, PII, the system prompt's canary),
//! streams chunk by chunk. GhostAI's checks and codes, OpenAI-style error bodies.
//!
//! The gateway is a source of the pipeline: each verdict goes to a [`Sink`] (the daemon pushes
//! it on as an event about the client address and API key, and keeps a `firewall_logs` row),
//! never with the raw prompt unless `store_prompts` says so.

pub mod config;
pub mod detector;
pub mod fuzz;
pub mod guard;
pub mod policy;
pub mod request;
pub mod stub;
mod upstream;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use config::{GatewayConfig, OnFlag, PolicyAction};
use guard::{Cache, Duplicates, RateLimit};
use policy::{Expr, Value as PV};
use request::Route;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tripline_event::net::Cidr;
use tripline_prompt::scan::{Part, ScanResult, Scanner};

/// What the gateway decided about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Forwarded, findings recorded (shadow mode, or below the bar).
    Log,
    /// Forwarded with secrets or PII replaced.
    Redact,
    Block,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Log => "log",
            Decision::Redact => "redact",
            Decision::Block => "block",
        }
    }
}

/// One verdict, as the daemon stores and forwards it. Never the raw prompt unless
/// `store_prompts`.
#[derive(Debug, Clone)]
pub struct Record {
    /// Microseconds since the epoch.
    pub ts: i64,
    pub route: &'static str,
    /// `request` or `response`.
    pub direction: &'static str,
    pub session: Option<String>,
    pub user_agent: Option<String>,
    pub ip: IpAddr,
    /// A fingerprint of the client's API key (never the key).
    pub api_key_id: Option<String>,
    /// SHA-256 of the text scanned.
    pub input_hash: String,
    pub score: f32,
    pub flags: Vec<&'static str>,
    pub breakdown: Value,
    pub action: Decision,
    pub policy: Option<String>,
    pub latency_ms: f64,
    pub prompt: Option<String>,
}

/// Where verdicts go (the daemon: the pipeline and `firewall_logs`). Must not block.
pub trait Sink: Send + Sync {
    fn record(&self, r: Record);
    /// A request refused before any scan (rate limit, duplicate, deny list): `code` is the
    /// answer's code.
    fn refused(&self, _ip: IpAddr, _api_key_id: Option<&str>, _code: &'static str) {}
    /// A request forwarded without a scan: the scanner failed and `fail_open` is set.
    fn unscanned(&self, _ip: IpAddr, _api_key_id: Option<&str>) {}
}

fn now_micros() -> i64 {
    tripline_event::Timestamp::now().0
}

/// Counters for `/firewall/stats` and `/metrics`.
#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub scanned: AtomicU64,
    pub allowed: AtomicU64,
    pub logged: AtomicU64,
    pub redacted: AtomicU64,
    pub blocked: AtomicU64,
    pub too_large: AtomicU64,
    pub ip_blocked: AtomicU64,
    pub rate_limited: AtomicU64,
    pub duplicates: AtomicU64,
    pub bad_requests: AtomicU64,
    pub firewall_errors: AtomicU64,
    pub failed_open: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub responses_flagged: AtomicU64,
    pub streams_cut: AtomicU64,
    pub body_timeouts: AtomicU64,
    pub overloaded: AtomicU64,
    scan_latency: Mutex<Lat>,
}

/// The latest scan latencies (µs), for percentiles.
#[derive(Default)]
struct Lat {
    ring: Vec<u32>,
    at: usize,
}

impl Stats {
    fn add_latency(&self, ms: f64) {
        let us = (ms * 1000.0).min(u32::MAX as f64) as u32;
        let mut l = self.scan_latency.lock().unwrap_or_else(|e| e.into_inner());
        if l.ring.len() < 4096 {
            l.ring.push(us);
        } else {
            let at = l.at;
            l.ring[at] = us;
            l.at = (at + 1) % 4096;
        }
    }

    fn json(&self, cache: (usize, u64, u64)) -> Value {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut lat = self
            .scan_latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ring
            .clone();
        lat.sort_unstable();
        let pct = |p: f64| {
            if lat.is_empty() {
                0.0
            } else {
                lat[((lat.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
            }
        };
        json!({
            "requests": g(&self.requests),
            "scanned": g(&self.scanned),
            "allowed": g(&self.allowed),
            "logged": g(&self.logged),
            "redacted": g(&self.redacted),
            "blocked": g(&self.blocked),
            "refused": {
                "REQUEST_TOO_LARGE": g(&self.too_large),
                "IP_BLOCKED": g(&self.ip_blocked),
                "RATE_LIMIT_EXCEEDED": g(&self.rate_limited),
                "DUPLICATE_REQUEST": g(&self.duplicates),
                "invalid_request": g(&self.bad_requests),
                "FIREWALL_ERROR": g(&self.firewall_errors),
                "REQUEST_TIMEOUT": g(&self.body_timeouts),
                "OVERLOADED": g(&self.overloaded),
            },
            "failed_open": g(&self.failed_open),
            "upstream_errors": g(&self.upstream_errors),
            "responses_flagged": g(&self.responses_flagged),
            "streams_cut": g(&self.streams_cut),
            "cache": {"entries": cache.0, "hits": cache.1, "misses": cache.2},
            "scan_latency_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0), "samples": lat.len()},
        })
    }
}

struct Guards {
    per_ip: RateLimit,
    per_key: RateLimit,
    dups: Duplicates,
    cache: Cache<Arc<ScanResult>>,
}

/// The gateway: its settings, scanner, upstream client and bookkeeping.
pub struct Gateway {
    pub cfg: GatewayConfig,
    scanner: Arc<Scanner>,
    client: reqwest::Client,
    upstream: String,
    upstream_key: Option<String>,
    deny: Vec<Cidr>,
    policies: Vec<(config::PolicyRule, Expr)>,
    guards: Mutex<Guards>,
    pub stats: Stats,
    canary: String,
    sink: Option<Arc<dyn Sink>>,
    /// Requests being handled now (at most `cfg.max_concurrent`).
    inflight: std::sync::atomic::AtomicUsize,
}

/// An OpenAI-style error answer: `{"error": {"message", "type", "code"}}`.
pub fn error(status: StatusCode, typ: &str, code: &str, message: impl Into<String>) -> Response {
    let body = json!({"error": {"message": message.into(), "type": typ, "code": code}});
    (status, axum::Json(body)).into_response()
}

impl Gateway {
    /// Build from a validated config. `sink` receives every verdict.
    pub fn new(
        cfg: GatewayConfig,
        scanner: Arc<Scanner>,
        sink: Option<Arc<dyn Sink>>,
    ) -> Result<Gateway, String> {
        let mut errs = vec![];
        cfg.validate(&mut errs);
        if !errs.is_empty() {
            return Err(errs.join("; "));
        }
        let upstream_key = cfg.upstream_key()?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            // never follow a redirect from the upstream elsewhere
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("gateway: the upstream client: {e}"))?;
        let deny = cfg
            .deny
            .iter()
            .filter_map(|d| Cidr::parse(d).ok())
            .collect();
        let policies = cfg
            .policy
            .iter()
            .filter_map(|p| Expr::parse(&p.when).ok().map(|e| (p.clone(), e)))
            .collect();
        let window = Duration::from_secs_f64(cfg.duplicate_window_seconds);
        let guards = Mutex::new(Guards {
            per_ip: RateLimit::new(cfg.rate_per_minute_ip, 100_000),
            per_key: RateLimit::new(cfg.rate_per_minute_key, 100_000),
            dups: Duplicates::new(window, 100_000),
            cache: Cache::new(if cfg.cache_enabled {
                cfg.cache_entries
            } else {
                0
            }),
        });
        let canary = format!("tl-canary-{:016x}", random_u64()?);
        Ok(Gateway {
            upstream: cfg.upstream.trim_end_matches('/').to_owned(),
            cfg,
            scanner,
            client,
            upstream_key,
            deny,
            policies,
            guards,
            stats: Stats::default(),
            canary,
            sink,
            inflight: Default::default(),
        })
    }

    /// The canary inserted into system prompts.
    pub fn canary(&self) -> &str {
        &self.canary
    }

    fn guards(&self) -> std::sync::MutexGuard<'_, Guards> {
        self.guards.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Scan parts, through the cache.
    fn scan(&self, parts: &[Part<'_>]) -> Arc<ScanResult> {
        // the cache's key: hashed only when there is a cache
        let key: Option<[u8; 32]> = self.cfg.cache_enabled.then(|| {
            let mut h = Sha256::new();
            for p in parts {
                h.update(p.role.as_bytes());
                h.update([0]);
                h.update(p.text.as_bytes());
                h.update([0xff]);
            }
            h.finalize().into()
        });
        if let Some(key) = &key {
            if let Some(r) = self.guards().cache.get(key) {
                return r;
            }
        }
        let r = Arc::new(self.scanner.scan(parts));
        self.stats.scanned.fetch_add(1, Ordering::Relaxed);
        self.stats.add_latency(r.latency_ms);
        if let Some(key) = key {
            self.guards().cache.put(key, r.clone());
        }
        r
    }

    /// What to do about a scan of `route`: the configured action of each flagged scanner,
    /// then the policy rules (the first that matches decides).
    fn decide(
        &self,
        route: &str,
        r: &ScanResult,
        fields: &Fields<'_>,
    ) -> (Decision, Vec<&'static str>, Option<String>) {
        let mut d = Decision::Allow;
        let mut redact = vec![];
        for name in &r.flags {
            match self.cfg.on_flag(route, name) {
                OnFlag::Block => d = Decision::Block,
                OnFlag::Redact => {
                    if matches!(*name, "secrets" | "pii") {
                        redact.push(*name);
                        if d != Decision::Block {
                            d = Decision::Redact;
                        }
                    } else if d == Decision::Allow {
                        d = Decision::Log;
                    }
                }
                OnFlag::Log => {
                    if d == Decision::Allow {
                        d = Decision::Log;
                    }
                }
            }
        }
        for (rule, expr) in &self.policies {
            if expr.eval(&|f| fields.get(f, r)) {
                let d2 = match rule.action {
                    PolicyAction::Allow => Decision::Allow,
                    PolicyAction::Block => Decision::Block,
                    PolicyAction::Log => Decision::Log,
                    PolicyAction::Redact => {
                        redact = vec!["secrets", "pii"];
                        Decision::Redact
                    }
                };
                return (d2, redact, Some(rule.id.clone()));
            }
        }
        (d, redact, None)
    }

    fn record(&self, rec: Record) {
        if let Some(s) = &self.sink {
            s.record(rec);
        }
    }

    fn refused(&self, ip: IpAddr, key: Option<&str>, code: &'static str) {
        if let Some(s) = &self.sink {
            s.refused(ip, key, code);
        }
    }
}

/// The fields a policy reads.
struct Fields<'a> {
    route: &'a str,
    ip: IpAddr,
    api_key: Option<&'a str>,
    bytes: usize,
    messages: usize,
    roles: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    fn new(
        route: &'a str,
        ip: IpAddr,
        api_key: Option<&'a str>,
        bytes: usize,
        parts: &[Part<'a>],
    ) -> Fields<'a> {
        Fields {
            route,
            ip,
            api_key,
            bytes,
            messages: parts.len(),
            roles: parts.iter().map(|p| p.role).collect(),
        }
    }

    fn get(&self, f: &str, r: &ScanResult) -> PV {
        match f {
            "score" => PV::Num(r.score as f64),
            "flagged" => PV::Bool(r.flagged),
            "flags" => PV::List(r.flags.iter().map(|s| PV::Str((*s).into())).collect()),
            "route" => PV::Str(self.route.into()),
            "ip" => PV::Str(self.ip.to_string()),
            "api_key" => self.api_key.map_or(PV::Null, |k| PV::Str(k.into())),
            "bytes" => PV::Num(self.bytes as f64),
            "messages" => PV::Num(self.messages as f64),
            "roles" | "role" => PV::List(self.roles.iter().map(|s| PV::Str((*s).into())).collect()),
            name => match r.breakdown.get(name) {
                Some(b) => PV::Num(b.score as f64),
                None => PV::Null,
            },
        }
    }
}

/// From the operating system's generator: a canary a prompt cannot guess.
fn random_u64() -> Result<u64, String> {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b)
        .map_err(|e| format!("gateway: no randomness for the canary: {e}"))?;
    Ok(u64::from_le_bytes(b))
}

/// The rate-limit key of an address: IPv6 clients by their /64 (one host gets a whole /64,
/// so per-address limits would not bind).
fn client_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => hash64(&[&v4.octets()]),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => hash64(&[&v4.octets()]),
            None => hash64(&[&v6.octets()[..8]]),
        },
    }
}

/// One request being handled; dropping it frees its place.
struct Inflight<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gateway {
    /// A place for one more request, or 503 when `max_concurrent` are being handled.
    fn enter(&self) -> Result<Inflight<'_>, Box<Response>> {
        let n = self.inflight.fetch_add(1, Ordering::AcqRel);
        let guard = Inflight(&self.inflight);
        if n >= self.cfg.max_concurrent {
            self.stats.overloaded.fetch_add(1, Ordering::Relaxed);
            let mut r = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "OVERLOADED",
                "the firewall is handling too many requests; retry shortly",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1));
            return Err(Box::new(r));
        }
        Ok(guard)
    }
}

/// A fingerprint of a bearer key: the first 12 hex digits of its SHA-256.
pub fn key_id(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let k = v.strip_prefix("Bearer ").unwrap_or(v).trim();
    if k.is_empty() {
        return None;
    }
    let d = Sha256::digest(k.as_bytes());
    Some(d.iter().take(6).map(|b| format!("{b:02x}")).collect())
}

fn hash64(parts: &[&[u8]]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The parts a scanner reads, borrowed from the texts found in a body.
fn parts_of(texts: &[request::Text]) -> Vec<Part<'_>> {
    texts
        .iter()
        .map(|t| Part {
            role: &t.role,
            text: &t.text,
        })
        .collect()
}

/// The gateway's routes.
pub fn router(gw: Arc<Gateway>) -> Router {
    let mut r = Router::new();
    for route in [
        Route::Chat,
        Route::Completions,
        Route::Responses,
        Route::Embeddings,
    ] {
        r = r.route(route.path(), post(move |s, c, q| proxy(route, s, c, q)));
    }
    r.route("/health", get(health))
        .route("/firewall/stats", get(stats))
        .route("/v1/scan", post(scan_only))
        .route("/v1/models", get(upstream::models))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "unknown_url",
                "no such route on the gateway",
            )
        })
        .with_state(gw)
}

/// Serve on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gw: Arc<Gateway>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(gw).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
}

async fn health(State(gw): State<Arc<Gateway>>) -> Response {
    axum::Json(json!({
        "status": "ok",
        "upstream": gw.upstream,
        "scanners": tripline_prompt::scan::SCANNERS,
        "model_threshold": gw.scanner.model().threshold,
    }))
    .into_response()
}

async fn stats(State(gw): State<Arc<Gateway>>) -> Response {
    let c = {
        let g = gw.guards();
        (g.cache.len(), g.cache.hits, g.cache.misses)
    };
    axum::Json(gw.stats.json(c)).into_response()
}

/// The checks before any scan: deny list, rate limits, body size, JSON. The body and the
/// client's key fingerprint, or the answer.
pub(crate) async fn admit(
    gw: &Gateway,
    ip: IpAddr,
    req: Request,
) -> Result<(HeaderMap, bytes::Bytes, Option<String>), Response> {
    gw.stats.requests.fetch_add(1, Ordering::Relaxed);
    if gw.deny.iter().any(|c| c.contains(ip)) {
        gw.stats.ip_blocked.fetch_add(1, Ordering::Relaxed);
        return Err(error(
            StatusCode::FORBIDDEN,
            "permission_error",
            "IP_BLOCKED",
            format!("requests from {ip} are not accepted"),
        ));
    }
    let (parts, body) = req.into_parts();
    let key = key_id(&parts.headers);
    let now_ms = now_micros() as u64 / 1000;
    let limited = {
        let mut g = gw.guards();
        let ip_key = client_key(ip);
        match g.per_ip.hit(ip_key, now_ms) {
            Err(w) => Some((w, "address")),
            Ok(()) => match &key {
                Some(k) => g
                    .per_key
                    .hit(hash64(&[k.as_bytes()]), now_ms)
                    .err()
                    .map(|w| (w, "API key")),
                None => None,
            },
        }
    };
    if let Some((wait, what)) = limited {
        gw.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        gw.refused(ip, key.as_deref(), "RATE_LIMIT_EXCEEDED");
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "RATE_LIMIT_EXCEEDED",
            format!("too many requests from this {what}; retry in {wait} s"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Err(r);
    }
    let cap = gw.cfg.max_body_bytes;
    let too_large = |gw: &Gateway| {
        gw.stats.too_large.fetch_add(1, Ordering::Relaxed);
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "REQUEST_TOO_LARGE",
            format!("the request body is over {cap} bytes"),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(too_large(gw));
    }
    // a client that sends its body slowly (or never) holds a place: bounded in time
    let limit = Duration::from_secs_f64(gw.cfg.body_timeout_seconds);
    let bytes = match tokio::time::timeout(limit, axum::body::to_bytes(body, cap)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return Err(too_large(gw)),
        Err(_) => {
            gw.stats.body_timeouts.fetch_add(1, Ordering::Relaxed);
            return Err(error(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                "REQUEST_TIMEOUT",
                format!(
                    "the request body did not arrive within {} s",
                    gw.cfg.body_timeout_seconds
                ),
            ));
        }
    };
    Ok((parts.headers, bytes, key))
}

fn bad_request(gw: &Gateway, msg: impl Into<String>) -> Response {
    gw.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "invalid_request",
        msg,
    )
}

/// `POST /v1/scan`: `{"text": …}` or `{"messages": [...]}` → the scan, its action and
/// verdict, no upstream.
async fn scan_only(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let _inflight = match gw.enter() {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let (headers, bytes, key) = match admit(&gw, addr.ip(), req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return bad_request(&gw, format!("the body is not JSON: {e}")),
    };
    let texts = match (body.get("text"), body.get("messages")) {
        (Some(Value::String(t)), _) => vec![request::Text {
            path: vec![],
            role: "user".into(),
            text: t.clone(),
        }],
        (_, Some(_)) => match request::texts(Route::Chat, &body, gw.cfg.max_messages) {
            Ok(t) => t,
            Err(e) => return bad_request(&gw, e.0),
        },
        _ => return bad_request(&gw, "give \"text\" (a string) or \"messages\" (an array)"),
    };
    let (texts, scanned) = scan_texts(&gw, texts).await;
    let r = match scanned {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let parts = parts_of(&texts);
    let fields = Fields::new("scan", addr.ip(), key.as_deref(), bytes.len(), &parts);
    let (d, _, policy) = gw.decide("chat", &r, &fields);
    count_decision(&gw, d);
    gw.record(record(
        &gw,
        "scan",
        "request",
        &headers,
        addr.ip(),
        key,
        &parts,
        &r,
        d,
        policy.clone(),
    ));
    let mut v = serde_json::to_value(&*r).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.insert("action".into(), json!(d.as_str()));
        if let Some(p) = policy {
            o.insert("policy".into(), json!(p));
        }
    }
    axum::Json(v).into_response()
}

fn count_decision(gw: &Gateway, d: Decision) {
    let c = match d {
        Decision::Allow => &gw.stats.allowed,
        Decision::Log => &gw.stats.logged,
        Decision::Redact => &gw.stats.redacted,
        Decision::Block => &gw.stats.blocked,
    };
    c.fetch_add(1, Ordering::Relaxed);
}

/// Texts up to this many bytes in all are scanned on the connection's own task; longer ones on
/// the blocking pool, so that a 100 KB document does not hold up the requests behind it.
const INLINE_SCAN_BYTES: usize = 16 << 10;

/// Scan `texts`, catching a scanner's panic: 500 `FIREWALL_ERROR` (the caller forwards
/// unscanned instead when `fail_open`, counted and alerted). The texts come back with it.
async fn scan_texts(
    gw: &Arc<Gateway>,
    texts: Vec<request::Text>,
) -> (Vec<request::Text>, Result<Arc<ScanResult>, Box<Response>>) {
    let run = |gw: &Gateway, texts: &[request::Text]| {
        let parts = parts_of(texts);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gw.scan(&parts))).ok()
    };
    let bytes: usize = texts.iter().map(|t| t.text.len()).sum();
    let (texts, r) = if bytes <= INLINE_SCAN_BYTES {
        let r = run(gw, &texts);
        (texts, r)
    } else {
        let g = gw.clone();
        tokio::task::spawn_blocking(move || {
            let r = run(&g, &texts);
            (texts, r)
        })
        .await
        .unwrap_or_default()
    };
    match r {
        Some(r) => (texts, Ok(r)),
        None => {
            gw.stats.firewall_errors.fetch_add(1, Ordering::Relaxed);
            (
                texts,
                Err(Box::new(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "FIREWALL_ERROR",
                    "the firewall failed to scan the request",
                ))),
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    gw: &Gateway,
    route: &'static str,
    direction: &'static str,
    headers: &HeaderMap,
    ip: IpAddr,
    key: Option<String>,
    parts: &[Part<'_>],
    r: &ScanResult,
    d: Decision,
    policy: Option<String>,
) -> Record {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.text.as_bytes());
        h.update([0]);
    }
    let input_hash: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let hv = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect::<String>())
    };
    Record {
        ts: now_micros(),
        route,
        direction,
        session: hv("x-session-id"),
        user_agent: hv("user-agent"),
        ip,
        api_key_id: key,
        input_hash,
        score: r.score,
        flags: r.flags.clone(),
        breakdown: {
            let mut b = serde_json::to_value(&r.breakdown).unwrap_or(Value::Null);
            if !gw.cfg.store_prompts {
                without_quotes(&mut b);
            }
            b
        },
        action: d,
        policy,
        latency_ms: r.latency_ms,
        prompt: gw.cfg.store_prompts.then(|| {
            parts
                .iter()
                .map(|p| format!("[{}] {}", p.role, p.text))
                .collect::<Vec<_>>()
                .join("\n")
        }),
    }
}

/// Reasons quote what matched (`…: “ignore all previous instructions”`): the stored copy keeps
/// the words of the reason, not the prompt's.
fn without_quotes(b: &mut Value) {
    let Value::Object(o) = b else { return };
    for v in o.values_mut() {
        if let Some(Value::Array(rs)) = v.get_mut("reasons") {
            for r in rs.iter_mut() {
                if let Value::String(s) = r {
                    if let Some(i) = s.find(": \u{201c}") {
                        let tail = s[i..]
                            .find('\u{201d}')
                            .map(|j| i + j + '\u{201d}'.len_utf8());
                        let rest = tail.map(|t| s[t..].to_owned()).unwrap_or_default();
                        s.truncate(i);
                        s.push_str(&rest);
                    }
                }
            }
        }
    }
}

/// A proxied route: admit, scan, decide, redact, insert the canary, forward.
async fn proxy(
    route: Route,
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let ip = addr.ip();
    let _inflight = match gw.enter() {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let (headers, bytes, key) = match admit(&gw, ip, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut body: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return bad_request(&gw, format!("the body is not JSON: {e}")),
    };
    {
        let dup = hash64(&[
            ip.to_string().as_bytes(),
            key.as_deref().unwrap_or("").as_bytes(),
            route.path().as_bytes(),
            &bytes,
        ]);
        if gw.guards().dups.repeat(dup, Instant::now()) {
            gw.stats.duplicates.fetch_add(1, Ordering::Relaxed);
            gw.refused(ip, key.as_deref(), "DUPLICATE_REQUEST");
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "DUPLICATE_REQUEST",
                format!(
                    "the same request came within {} s",
                    gw.cfg.duplicate_window_seconds
                ),
            );
        }
    }
    let texts = match request::texts(route, &body, gw.cfg.max_messages) {
        Ok(t) => t,
        Err(e) => return bad_request(&gw, e.0),
    };
    let (texts, scanned) = scan_texts(&gw, texts).await;
    let scanned = match scanned {
        Ok(r) => Some(r),
        Err(resp) => {
            if !gw.cfg.fail_open {
                return *resp;
            }
            gw.stats.failed_open.fetch_add(1, Ordering::Relaxed);
            if let Some(s) = &gw.sink {
                s.unscanned(ip, key.as_deref());
            }
            None
        }
    };
    let parts = parts_of(&texts);
    if let Some(r) = &scanned {
        let fields = Fields::new(route.name(), ip, key.as_deref(), bytes.len(), &parts);
        let (d, redact, policy) = gw.decide(route.name(), r, &fields);
        count_decision(&gw, d);
        gw.record(record(
            &gw,
            route.name(),
            "request",
            &headers,
            ip,
            key.clone(),
            &parts,
            r,
            d,
            policy.clone(),
        ));
        if d == Decision::Block {
            let why = match &policy {
                Some(p) => format!("policy {p}"),
                None => r.flags.join(", "),
            };
            return error(
                StatusCode::FORBIDDEN,
                "invalid_request_error",
                "SECURITY_VIOLATION",
                format!("the request was blocked by the firewall: {why}"),
            );
        }
        if d == Decision::Redact {
            for (i, t) in texts.iter().enumerate() {
                let spans: Vec<tripline_prompt::Span> =
                    redact.iter().flat_map(|s| r.spans_of(i, s)).collect();
                if !spans.is_empty() {
                    request::set(&mut body, &t.path, tripline_prompt::redact(&t.text, &spans));
                }
            }
        }
    }
    if gw.cfg.canary {
        request::insert_canary(route, &mut body, &gw.canary);
    }
    upstream::forward(gw.clone(), route, headers, body, ip, key).await
}

/// The body of a streamed answer (for the upstream module).
pub(crate) fn stream_body<S>(s: S) -> Body
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
{
    Body::from_stream(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_by_their_64_and_mapped_v4_as_v4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(v4), client_key(mapped));
        assert_ne!(client_key(v4), client_key("192.0.2.8".parse().unwrap()));
    }

    #[test]
    fn the_canary_is_random_each_start() {
        assert_ne!(random_u64().unwrap(), random_u64().unwrap());
    }
}
