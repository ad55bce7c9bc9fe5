//! tripline's HTTP API: alerts with filters and cursor pagination, an alert's detail with its
//! ATT&CK techniques and evidence, acknowledge / resolve with who and when, health and
//! readiness. It runs inside `tripline run` on a loopback address by default.
//!
//! [`app`] builds the router from an [`ApiState`], so tests drive it without a socket.
//!
//! Everything but `/healthz` needs the token (`Authorization: Bearer …`), compared in constant
//! time; the token is created at first start, readable only by its owner ([`token`]). Bad input
//! is a 400 with a JSON error naming the parameter; a missing or wrong token a 401 that says
//! nothing more; an unknown route a 404; a body over 16 KiB a 413. Store errors are logged and
//! answered with a 500 that carries no internal text.
#![forbid(unsafe_code)]

pub mod dashboard;
pub mod doc;
pub mod timeline;
pub mod tls;
pub mod token;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tripline_event::catalog::{technique_name, technique_url, Catalog};
use tripline_event::{Severity, Timestamp};
use tripline_store::{AlertQuery, AlertReader, Cursor, Store, StoreError, STATES};

/// Largest request body accepted (acknowledge / resolve carry a few bytes of JSON).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Most alerts one page returns.
pub const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 50;

/// What the handlers share: the token, read connections to the store, one connection for
/// workflow changes, whether the daemon is ready, the live alert stream and the metrics.
pub struct ApiState {
    token: String,
    readers: Vec<Mutex<Box<dyn AlertReader>>>,
    next_reader: AtomicUsize,
    writer: Mutex<Box<dyn AlertReader>>,
    ready: AtomicBool,
    /// Each stored alert as a JSON object, for `GET /api/v1/stream`.
    live: tokio::sync::broadcast::Sender<Arc<str>>,
    /// Renders `/metrics` (Prometheus text) when the daemon provides it.
    metrics: Option<Box<dyn Fn() -> String + Send + Sync>>,
    /// Why the pipeline's store refuses writes, while it does (`/readyz`).
    store_error: Option<Box<dyn Fn() -> Option<String> + Send + Sync>>,
    /// The sources' live state for `/api/v1/sensors`, when the daemon provides it.
    sensors: Option<Box<dyn Fn() -> serde_json::Value + Send + Sync>>,
    /// Dashboard logins.
    sessions: dashboard::Sessions,
    /// Mark session cookies `Secure` (the server speaks TLS).
    secure_cookies: bool,
    /// The rules the daemon raises: what `?rule=` accepts.
    catalog: Catalog,
}

/// Alerts a slow stream client may fall behind by before it is told how many it missed.
const LIVE_BACKLOG: usize = 1024;

impl ApiState {
    /// Open `readers` read connections and one write connection to the store at `db`.
    pub fn open(
        db: &std::path::Path,
        token: String,
        readers: usize,
    ) -> Result<ApiState, StoreError> {
        let readers = (0..readers.max(1))
            .map(|_| Store::open(db).map(|s| Mutex::new(Box::new(s) as Box<dyn AlertReader>)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ApiState {
            token,
            readers,
            next_reader: AtomicUsize::new(0),
            writer: Mutex::new(Box::new(Store::open(db)?)),
            ready: AtomicBool::new(false),
            live: tokio::sync::broadcast::channel(LIVE_BACKLOG).0,
            metrics: None,
            store_error: None,
            sensors: None,
            sessions: dashboard::Sessions::default(),
            secure_cookies: false,
            catalog: Catalog::default(),
        })
    }

    /// The rules the daemon raises ([`Catalog`]): `?rule=` accepts their ids and names any
    /// other as not a rule id.
    pub fn with_catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }

    /// Mark the dashboard's session cookie `Secure` (set when the server speaks TLS).
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// Serve `/api/v1/sensors` with what `state` returns (a JSON array of sources).
    pub fn with_sensors(
        mut self,
        state: impl Fn() -> serde_json::Value + Send + Sync + 'static,
    ) -> Self {
        self.sensors = Some(Box::new(state));
        self
    }

    /// Answer `/readyz` 503 with what `error` returns while it returns something (why the
    /// pipeline's store refuses its writes).
    pub fn with_store_health(
        mut self,
        error: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.store_error = Some(Box::new(error));
        self
    }

    /// Serve `/metrics` with what `render` returns (Prometheus text format).
    pub fn with_metrics(mut self, render: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.metrics = Some(Box::new(render));
        self
    }

    /// Hand a stored alert to the clients of the live stream (never blocks; without clients it
    /// is dropped).
    pub fn publish(&self, alert: &tripline_event::AlertView<'_>) {
        if self.live.receiver_count() > 0 {
            if let Ok(json) = serde_json::to_string(alert) {
                let _ = self.live.send(json.into());
            }
        }
    }

    /// Mark the daemon ready (sources started) or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    /// Run `f` on a read connection: a free one if there is, else the next in turn.
    fn read<T>(&self, f: impl FnOnce(&dyn AlertReader) -> T) -> T {
        for r in &self.readers {
            if let Ok(s) = r.try_lock() {
                return f(&**s);
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let s = self.readers[i].lock().unwrap_or_else(|e| e.into_inner());
        f(&**s)
    }
}

/// The router: `/healthz` open, everything else behind the token.
pub fn app(state: Arc<ApiState>) -> Router {
    let protected = Router::new()
        .route("/readyz", get(readyz))
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}", get(alert_detail))
        .route("/api/v1/alerts/{id}/acknowledge", post(acknowledge))
        .route("/api/v1/alerts/{id}/resolve", post(resolve))
        .route("/api/v1/stream", get(stream))
        .route("/api/v1/entities", get(entities))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/sensors", get(sensors))
        .route("/api/v1/timeline", get(entity_timeline))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi_json))
        .merge(dashboard::protected_routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/healthz", get(healthz_doc))
        .merge(dashboard::public_routes())
        .merge(protected)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response(dashboard::security_headers))
        .with_state(state)
}

/// Only `/metrics`, without the token: for a separate bind a Prometheus server scrapes
/// (off unless configured).
pub fn metrics_app(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .with_state(state)
}

/// What slow or greedy clients get.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at once; more are closed at accept.
    pub max_connections: usize,
    /// Time to send a request's headers once they start.
    pub header_timeout: Duration,
    /// Time to answer a request (not to stream a response body: the live stream lasts).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Serve `app` on `listener` until `shutdown` resolves, within `limits`: a client that sends
/// its headers too slowly is disconnected, connections beyond the limit are closed at once,
/// and a request that takes too long is answered 503.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, limits, None, shutdown).await
}

/// [`serve`], over TLS when `tls` is given (see [`tls::server_config`]); a client that does not
/// finish its handshake within the header timeout is disconnected.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    let timeout = limits.request_timeout;
    let app = app.layer(middleware::from_fn(
        move |req: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(req)).await {
                Ok(r) => r,
                Err(_) => {
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timed out").into_response()
                }
            }
        },
    ));
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                // out of descriptors and the like: back off, keep serving
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream); // full: close at once rather than queue
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(app.clone());
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => serve_connection(TokioIo::new(stream), svc, limits).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await;
                    if let Ok(Ok(stream)) = handshake {
                        serve_connection(TokioIo::new(stream), svc, limits).await;
                    }
                }
            }
        });
    }
}

/// One HTTP/1.1 connection, plain or TLS.
async fn serve_connection<I, S>(io: I, svc: S, limits: Limits)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming> + Send,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let _ = http.serve_connection(io, svc).await;
}

/// A JSON error: `{"error": "…", "parameter": "…"}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    parameter: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            parameter: None,
        }
    }

    fn bad(parameter: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            parameter: Some(parameter.to_string()),
        }
    }

    fn internal(e: StoreError) -> ApiError {
        // the detail goes to the log, never to the client
        tracing::error!(error = %e, "api: internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(p) = self.parameter {
            body["parameter"] = p.into();
        }
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Equal in time independent of where they differ (the length is not secret).
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer token, or a dashboard session cookie; with the cookie, a request that changes
/// something must also carry the CSRF header.
async fn require_token(
    State(st): State<Arc<ApiState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized");
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(t) = bearer {
        return match same_secret(t.as_bytes(), st.token.as_bytes()) {
            true => Ok(next.run(req).await),
            false => Err(unauthorized()),
        };
    }
    match dashboard::session_of(req.headers()) {
        Some(id) if st.sessions.valid(id) => {
            let reads = matches!(*req.method(), Method::GET | Method::HEAD);
            let marked = req
                .headers()
                .get(dashboard::CSRF_HEADER)
                .is_some_and(|v| v == "1");
            if !reads && !marked {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "a change with the session cookie needs the X-Tripline-CSRF: 1 header",
                ));
            }
            Ok(next.run(req).await)
        }
        _ => Err(unauthorized()),
    }
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", security(()), responses((status = 200, description = "alive", body = String)))]
async fn healthz_doc() -> &'static str {
    "ok\n"
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "this document")))]
async fn openapi_json() -> Response {
    use utoipa::OpenApi;
    json(
        doc::ApiDoc::openapi()
            .to_json()
            .unwrap_or_default()
            .into_bytes(),
    )
}

/// Readiness: the sensors are started and the store takes writes.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "ready", body = String),
    (status = 503, description = "not ready", body = doc::ApiErrorDoc),
    (status = 401, description = "no or wrong token", body = doc::ApiErrorDoc),
))]
async fn readyz(State(st): State<Arc<ApiState>>) -> Result<&'static str, ApiError> {
    if !st.ready.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sensors not started",
        ));
    }
    if let Some(e) = st.store_error.as_ref().and_then(|f| f()) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store not writable: {e}; nothing is stored, reading waits, retrying"),
        ));
    }
    let writable = tokio::task::spawn_blocking(move || {
        let s = st.writer.lock().unwrap_or_else(|e| e.into_inner());
        s.writable()
    })
    .await
    .unwrap_or(false);
    if writable {
        Ok("ready\n")
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store not writable",
        ))
    }
}

/// A time parameter: RFC 3339, Unix seconds, or a duration before now (`15m`, `2h`, `7d`).
fn parse_time(name: &str, v: &str) -> Result<Timestamp, ApiError> {
    if let Ok(secs) = v.parse::<i64>() {
        return Ok(Timestamp::from_secs(secs));
    }
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(Timestamp(t.as_microsecond()));
    }
    match duration_secs(v) {
        Some(secs) => Ok(Timestamp::now().add_secs(-secs)),
        None => Err(ApiError::bad(
            name,
            format!("{name}: expected RFC 3339, Unix seconds or a duration like 15m, 2h, 7d"),
        )),
    }
}

/// `45s`, `15m`, `2h`, `7d` in seconds (up to 100 years).
fn duration_secs(v: &str) -> Option<i64> {
    let (num, unit) = v.split_at(v.len().checked_sub(1)?);
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let n = num.parse::<i64>().ok()?;
    (0..=100 * 365 * 86_400 / mult)
        .contains(&n)
        .then_some(n * mult)
}

/// The query string's parameters, in order.
fn query_pairs(
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|_| ApiError::bad("query", "malformed query string"))
}

/// The alert list's filters, from the query string; an unknown or malformed parameter is named.
fn alert_query(pairs: &[(String, String)], catalog: &Catalog) -> Result<AlertQuery, ApiError> {
    let mut q = AlertQuery {
        limit: DEFAULT_PAGE,
        ..Default::default()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "since" => q.since = Some(parse_time(k, v)?),
            "until" => q.until = Some(parse_time(k, v)?),
            "severity" => {
                q.min_severity = Some(Severity::parse(v).ok_or_else(|| {
                    ApiError::bad(k, "severity: one of info, low, medium, high, critical")
                })?)
            }
            "rule" => {
                let r = catalog
                    .rule(v)
                    .ok_or_else(|| ApiError::bad(k, "rule: not a rule id"))?;
                q.rule = Some(r.id.to_string());
            }
            "entity" if !v.is_empty() && v.len() <= 256 => {
                let (t, value) = typed_entity(v)?;
                q.entity_type = t.map(|t| t.name().to_string());
                q.entity = Some(value);
            }
            "entity" => return Err(ApiError::bad(k, "entity: 1 to 256 bytes")),
            "state" if STATES.contains(&v.as_str()) => q.state = Some(v.clone()),
            "state" => {
                return Err(ApiError::bad(
                    k,
                    "state: one of open, acknowledged, resolved",
                ))
            }
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => q.limit = n,
                _ => return Err(ApiError::bad(k, format!("limit: 1 to {MAX_PAGE}"))),
            },
            "cursor" => {
                q.after = Some(
                    v.parse::<Cursor>()
                        .map_err(|_| ApiError::bad(k, "cursor: as returned in next_cursor"))?,
                )
            }
            other => return Err(ApiError::bad(other, format!("unknown parameter {other:?}"))),
        }
    }
    Ok(q)
}

fn json(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Alerts, most recently seen first, one page at a time.
#[utoipa::path(get, path = "/api/v1/alerts",
    params(
        ("since" = Option<String>, Query, description = "last seen at or after: RFC 3339, Unix seconds, or a duration before now (15m, 2h, 7d)"),
        ("until" = Option<String>, Query, description = "last seen before (same forms)"),
        ("severity" = Option<String>, Query, description = "minimum severity: info, low, medium, high, critical"),
        ("rule" = Option<String>, Query, description = "a rule id, e.g. ssh.bruteforce"),
        ("entity" = Option<String>, Query, description = "an address, user name or network, alone or as TYPE:VALUE (ip:203.0.113.5, user:root, subnet:203.0.113.0/24)"),
        ("state" = Option<String>, Query, description = "open, acknowledged or resolved"),
        ("limit" = Option<u32>, Query, description = "1 to 1000, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "a page", body = doc::AlertPage),
        (status = 400, description = "a bad parameter, named", body = doc::ApiErrorDoc),
        (status = 401, description = "no or wrong token", body = doc::ApiErrorDoc),
    ))]
async fn list_alerts(
    State(st): State<Arc<ApiState>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query)?;
    let q = alert_query(&pairs, &st.catalog)?;
    let body = read(st, move |s| {
        let mut out = Vec::with_capacity(q.limit * 1024);
        out.extend_from_slice(b"{\"alerts\":[");
        let (mut n, mut last) = (0usize, None);
        s.each_alert(&q, &mut |a, c| {
            if n > 0 {
                out.push(b',');
            }
            n += 1;
            last = Some(c);
            serde_json::to_writer(&mut out, a).is_ok()
        })?;
        out.extend_from_slice(b"],\"next_cursor\":");
        match last.filter(|_| n == q.limit) {
            Some(c) => {
                out.push(b'"');
                out.extend_from_slice(c.to_string().as_bytes());
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        Ok(out)
    })
    .await?;
    Ok(json(body))
}

/// An alert id as the store makes them: 16 lowercase hex digits.
fn check_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ApiError::bad("id", "id: 16 hex digits"))
    }
}

/// The detail of one alert: the alert, and its techniques with name and ATT&CK page.
fn detail(a: &tripline_store::StoredAlert) -> Response {
    let techniques: Vec<_> = a
        .alert
        .techniques
        .iter()
        .map(|t| {
            serde_json::json!({
                "id": t,
                "name": technique_name(t),
                "url": technique_url(t),
            })
        })
        .collect();
    let body = serde_json::json!({ "alert": a.view(), "techniques": techniques });
    json(serde_json::to_vec(&body).unwrap_or_default())
}

/// One alert, its ATT&CK techniques named and linked, and its evidence.
#[utoipa::path(get, path = "/api/v1/alerts/{id}",
    params(("id" = String, Path, description = "16 hex digits")),
    responses(
        (status = 200, description = "the alert", body = doc::AlertDetail),
        (status = 400, description = "not an id", body = doc::ApiErrorDoc),
        (status = 404, description = "no such alert", body = doc::ApiErrorDoc),
    ))]
async fn alert_detail(
    State(st): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let found = read(st, move |s| s.alert(&id)).await?;
    match found {
        Some(a) => Ok(detail(&a)),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "no such alert")),
    }
}

/// Body of acknowledge / resolve: who does it (optional; `api` when absent).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Actor {
    by: Option<String>,
}

async fn set_state(
    st: Arc<ApiState>,
    id: String,
    state: &'static str,
    req: Request,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let actor = match optional_body(req).await {
        None => Actor::default(),
        Some(Ok(Json(a))) => a,
        Some(Err(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body too large",
            ))
        }
        Some(Err(_)) => return Err(ApiError::bad("body", "body: {\"by\": \"name\"} or empty")),
    };
    let by = actor.by.unwrap_or_else(|| "api".into());
    if by.is_empty() || by.len() > 64 || by.chars().any(char::is_control) {
        return Err(ApiError::bad("by", "by: 1 to 64 printable characters"));
    }
    let st2 = st.clone();
    let found = tokio::task::spawn_blocking(move || {
        let mut w = st.writer.lock().unwrap_or_else(|e| e.into_inner());
        if !w.set_state(&id, state, &by, Timestamp::now())? {
            return Ok(None);
        }
        w.alert(&id)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?
    .map_err(ApiError::internal)?;
    match found {
        Some(a) => {
            // open dashboards see the change too
            st2.publish(&a.view());
            Ok(detail(&a))
        }
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "no such alert")),
    }
}

/// An optional JSON body: absent (no content) is fine.
async fn optional_body(req: Request) -> Option<Result<Json<Actor>, JsonRejection>> {
    use axum::extract::FromRequest;
    let empty = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v == "0")
        || (req.headers().get(header::CONTENT_TYPE).is_none()
            && req.headers().get(header::CONTENT_LENGTH).is_none()
            && req.headers().get(header::TRANSFER_ENCODING).is_none());
    if empty {
        return None;
    }
    Some(Json::<Actor>::from_request(req, &()).await)
}

/// Acknowledge an alert: who (body, optional) and when are recorded.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge",
    params(("id" = String, Path, description = "16 hex digits")),
    request_body(content = Option<doc::Actor>, description = "who; `api` when absent"),
    responses(
        (status = 200, description = "the alert, acknowledged", body = doc::AlertDetail),
        (status = 400, description = "a bad id or body", body = doc::ApiErrorDoc),
        (status = 404, description = "no such alert", body = doc::ApiErrorDoc),
        (status = 413, description = "body over 16 KiB", body = doc::ApiErrorDoc),
    ))]
async fn acknowledge(
    State(st): State<Arc<ApiState>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    set_state(st, id, "acknowledged", req).await
}

/// Resolve an alert: who (body, optional) and when are recorded.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve",
    params(("id" = String, Path, description = "16 hex digits")),
    request_body(content = Option<doc::Actor>, description = "who; `api` when absent"),
    responses(
        (status = 200, description = "the alert, resolved", body = doc::AlertDetail),
        (status = 400, description = "a bad id or body", body = doc::ApiErrorDoc),
        (status = 404, description = "no such alert", body = doc::ApiErrorDoc),
        (status = 413, description = "body over 16 KiB", body = doc::ApiErrorDoc),
    ))]
async fn resolve(
    State(st): State<Arc<ApiState>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    set_state(st, id, "resolved", req).await
}

/// Server-Sent Events, one `alert` event (the alert's JSON) per alert stored from now on; a
/// client too slow to keep up gets a `lagged` event with how many it missed. A comment every
/// 15 s keeps proxies from closing an idle stream.
#[utoipa::path(get, path = "/api/v1/stream", responses(
    (status = 200, description = "text/event-stream of `alert` events carrying an Alert"),
))]
async fn stream(State(st): State<Arc<ApiState>>) -> impl IntoResponse {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let rx = st.live.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let ev = match rx.recv().await {
            Ok(json) => Event::default().event("alert").data(&*json),
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok::<_, std::convert::Infallible>(ev), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
}

/// Prometheus text format (also without the token on `api.metrics_bind` when configured).
#[utoipa::path(get, path = "/metrics", responses(
    (status = 200, description = "text/plain; version=0.0.4", body = String),
))]
async fn metrics(State(st): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    match &st.metrics {
        Some(render) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            render(),
        )
            .into_response()),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "no metrics here")),
    }
}

/// `since` / `until` / `limit` / `bucket` for the summary routes; defaults: the last 24 hours.
struct Window {
    since: Timestamp,
    until: Timestamp,
    limit: usize,
    bucket_secs: i64,
}

fn window(pairs: &[(String, String)], allowed: &[&str]) -> Result<Window, ApiError> {
    let mut w = Window {
        since: Timestamp::now().add_secs(-86_400),
        until: Timestamp(i64::MAX),
        limit: 20,
        bucket_secs: 3600,
    };
    for (k, v) in pairs {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad(k, format!("unknown parameter {k:?}")));
        }
        match k.as_str() {
            "since" => w.since = parse_time(k, v)?,
            "until" => w.until = parse_time(k, v)?,
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => w.limit = n,
                _ => return Err(ApiError::bad(k, format!("limit: 1 to {MAX_PAGE}"))),
            },
            _ => match duration_secs(v) {
                Some(s) if (60..=30 * 86_400).contains(&s) => w.bucket_secs = s,
                _ => {
                    return Err(ApiError::bad(
                        k,
                        "bucket: a duration from 1m to 30d, like 5m or 1h",
                    ))
                }
            },
        }
    }
    if w.since >= w.until {
        return Err(ApiError::bad("since", "since: must be before until"));
    }
    Ok(w)
}

/// Run a store read off the async threads.
async fn read<T: Send + 'static>(
    st: Arc<ApiState>,
    f: impl FnOnce(&dyn AlertReader) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || st.read(f))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?
        .map_err(ApiError::internal)
}

/// The entities with the highest alert scores among alerts last seen in the window.
#[utoipa::path(get, path = "/api/v1/entities",
    params(
        ("since" = Option<String>, Query, description = "default: 24 hours ago"),
        ("until" = Option<String>, Query, description = "default: no end"),
        ("limit" = Option<u32>, Query, description = "1 to 1000, default 20"),
    ),
    responses(
        (status = 200, description = "most severe first", body = doc::Entities),
        (status = 400, description = "a bad parameter, named", body = doc::ApiErrorDoc),
    ))]
async fn entities(
    State(st): State<Arc<ApiState>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query)?;
    let w = window(&pairs, &["since", "until", "limit"])?;
    let top = read(st, move |s| s.top_entities(w.since, w.until, w.limit)).await?;
    Ok(Json(serde_json::json!({ "entities": top })).into_response())
}

/// Alert counts per time bucket, by severity, rule, ATT&CK technique and sensor.
#[utoipa::path(get, path = "/api/v1/stats",
    params(
        ("since" = Option<String>, Query, description = "default: 24 hours ago"),
        ("until" = Option<String>, Query, description = "default: no end"),
        ("bucket" = Option<String>, Query, description = "1m to 30d, default 1h"),
    ),
    responses(
        (status = 200, description = "buckets in time order", body = doc::Stats),
        (status = 400, description = "a bad parameter, named", body = doc::ApiErrorDoc),
    ))]
async fn stats(
    State(st): State<Arc<ApiState>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query)?;
    let w = window(&pairs, &["since", "until", "bucket"])?;
    let bucket = w.bucket_secs * 1_000_000;
    let counts = read(st, move |s| s.alert_counts(w.since, w.until, bucket)).await?;
    let mut buckets: Vec<serde_json::Value> = vec![];
    for c in counts {
        let start = serde_json::to_value(c.bucket).unwrap_or_default();
        if buckets.last().map(|b| &b["start"]) != Some(&start) {
            buckets.push(serde_json::json!({
                "start": start, "total": 0,
                "by_severity": {}, "by_rule": {}, "by_technique": {}, "by_sensor": {},
            }));
        }
        let Some(b) = buckets.last_mut() else {
            continue;
        };
        let add = |v: &mut serde_json::Value, n: u64| {
            *v = (v.as_u64().unwrap_or(0) + n).into();
        };
        add(&mut b["total"], c.alerts);
        add(&mut b["by_severity"][c.severity.as_str()], c.alerts);
        add(&mut b["by_rule"][c.rule.as_str()], c.alerts);
        add(&mut b["by_sensor"][c.sensor.as_str()], c.alerts);
        for t in &c.techniques {
            add(&mut b["by_technique"][*t], c.alerts);
        }
    }
    // each technique counted, named and linked once
    let mut techniques = serde_json::Map::new();
    for b in &buckets {
        for t in b["by_technique"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
        {
            techniques.entry(t.clone()).or_insert_with(|| {
                serde_json::json!({
                    "name": technique_name(t),
                    "url": technique_url(t),
                })
            });
        }
    }
    Ok(Json(serde_json::json!({
        "bucket_seconds": w.bucket_secs,
        "buckets": buckets,
        "techniques": techniques,
    }))
    .into_response())
}

/// Each watched source's state: what an operator checks first.
#[utoipa::path(get, path = "/api/v1/sensors", responses(
    (status = 200, description = "the sources", body = doc::Sensors),
))]
async fn sensors(State(st): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    if let Some(f) = &st.sensors {
        return Ok(Json(serde_json::json!({ "sensors": f() })).into_response());
    }
    // without the daemon: what the store knows, each source's checkpoint
    let checkpoints = read(st, |s| s.checkpoints()).await?;
    let list: Vec<_> = checkpoints
        .iter()
        .map(|p| serde_json::json!({ "name": p.source, "checkpoint": p.value }))
        .collect();
    Ok(Json(serde_json::json!({ "sensors": list })).into_response())
}

/// Most items one timeline returns.
const MAX_TIMELINE: usize = 1000;

/// An entity as a query names it: its value alone, or `TYPE:VALUE` as the CLI prints it
/// (`ip:203.0.113.5`, `user:root`, `subnet:203.0.113.0/24`). An IPv6 address is a value (its
/// first group is no type); an address of type `ip` that does not parse is a 400.
fn typed_entity(v: &str) -> Result<(Option<tripline_event::KeyType>, String), ApiError> {
    use tripline_event::KeyType;
    let Some((t, value)) = v
        .split_once(':')
        .and_then(|(t, rest)| Some((KeyType::parse(t)?, rest)))
    else {
        return Ok((None, v.to_string()));
    };
    if value.is_empty() {
        return Err(ApiError::bad("entity", "entity: a value after the type"));
    }
    let entity = tripline_event::Entity::new(t, value)
        .ok_or_else(|| ApiError::bad("entity", "entity: ip:… is not an address"))?;
    Ok((Some(t), entity.value()))
}

/// Every event and alert about an address, a network (CIDR), a user or a session, across all
/// sensors, oldest first: the latest `limit` stored alerts and the latest `limit` stored events
/// (events are stored by `tripline run`, not by scans).
#[utoipa::path(get, path = "/api/v1/timeline",
    params(
        ("entity" = String, Query, description = "an address, a network in CIDR form, a user name or a session id, alone or as TYPE:VALUE"),
        ("limit" = Option<u32>, Query, description = "the latest this many of each (events, alerts), 1 to 1000, default 200"),
    ),
    responses(
        (status = 200, description = "oldest first", body = doc::TimelineDoc),
        (status = 400, description = "a bad parameter, named", body = doc::ApiErrorDoc),
    ))]
async fn entity_timeline(
    State(st): State<Arc<ApiState>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query)?;
    let (mut entity, mut limit) = (None, 200usize);
    for (k, v) in &pairs {
        match k.as_str() {
            "entity" if !v.is_empty() && v.len() <= 256 => entity = Some(v.clone()),
            "entity" => return Err(ApiError::bad(k, "entity: 1 to 256 bytes")),
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_TIMELINE).contains(&n) => limit = n,
                _ => return Err(ApiError::bad(k, format!("limit: 1 to {MAX_TIMELINE}"))),
            },
            other => return Err(ApiError::bad(other, format!("unknown parameter {other:?}"))),
        }
    }
    let entity = entity.ok_or_else(|| ApiError::bad("entity", "entity: required"))?;
    // `TYPE:VALUE` as the CLI prints it, or the value alone
    let (_, value) = typed_entity(&entity)?;
    let who = timeline::Who::parse(&value);
    let q = AlertQuery {
        about: Some(who.alerts.clone()),
        limit,
        ..Default::default()
    };
    let items = read(st, move |s| {
        let mut items: Vec<(Timestamp, serde_json::Value)> = vec![];
        s.each_alert(&q, &mut |a, _| {
            let v = serde_json::json!({ "type": "alert", "ts": a.first_seen, "alert": a });
            items.push((a.first_seen, v));
            true
        })?;
        // the latest events, newest first: turned around, they are in the order they came, also
        // within one timestamp
        let mut events = vec![];
        s.each_event(&who.events, limit, &mut |e| {
            events.push((e.ts, timeline::event_json(e)))
        })?;
        items.extend(events.into_iter().rev());
        // stable: an alert sorts before the event that opened it at the same time, and events
        // of one time keep their order
        items.sort_by_key(|(t, _)| *t);
        Ok(items.into_iter().map(|(_, v)| v).collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(serde_json::json!({ "entity": entity, "items": items })).into_response())
}
