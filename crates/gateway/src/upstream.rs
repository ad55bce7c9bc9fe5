//! Forwarding to the upstream, and scanning what it answers: whole answers before they are
//! returned, streams (SSE) chunk by chunk as they pass, never buffered.

use crate::request::Route;
use crate::{error, Decision, Gateway};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tripline_prompt::scan::Part;

fn auth(gw: &Gateway, client: &HeaderMap, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match &gw.upstream_key {
        Some(k) => rb.bearer_auth(k),
        None => match client.get(header::AUTHORIZATION) {
            Some(v) => rb.header(header::AUTHORIZATION, v.clone()),
            None => rb,
        },
    }
}

/// 504 `UPSTREAM_TIMEOUT`, counted.
fn timed_out(gw: &Gateway, what: &str) -> Response {
    gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
    error(
        StatusCode::GATEWAY_TIMEOUT,
        "timeout",
        "UPSTREAM_TIMEOUT",
        what,
    )
}

fn upstream_failed(gw: &Gateway, e: &reqwest::Error) -> Response {
    if e.is_timeout() {
        timed_out(gw, "the upstream did not answer in time")
    } else {
        gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
        error(
            StatusCode::BAD_GATEWAY,
            "api_connection_error",
            "UPSTREAM_UNAVAILABLE",
            "the upstream could not be reached",
        )
    }
}

/// `GET /v1/models`: passed through, after the same admission as every route.
pub async fn models(
    State(gw): State<Arc<Gateway>>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    let headers = match crate::admit(&gw, addr.ip(), req).await {
        Ok((h, _, _)) => h,
        Err(r) => return r,
    };
    let rb = gw
        .client
        .get(format!("{}/v1/models", gw.upstream))
        .timeout(Duration::from_secs_f64(gw.cfg.timeout_seconds));
    let resp = match auth(&gw, &headers, rb).send().await {
        Ok(r) => r,
        Err(e) => return upstream_failed(&gw, &e),
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    match read_capped(resp, gw.cfg.max_response_bytes).await {
        Ok(b) => (status, [(header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(r) => r(&gw),
    }
}

type Fail = fn(&Gateway) -> Response;

async fn read_capped(resp: reqwest::Response, cap: usize) -> Result<bytes::Bytes, Fail> {
    let mut out = bytes::BytesMut::new();
    let mut s = resp.bytes_stream();
    while let Some(c) = s.next().await {
        let c = c.map_err(|_| {
            (|gw: &Gateway| {
                gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
                error(
                    StatusCode::BAD_GATEWAY,
                    "api_connection_error",
                    "UPSTREAM_UNAVAILABLE",
                    "the upstream's answer broke off",
                )
            }) as Fail
        })?;
        if out.len() + c.len() > cap {
            return Err(|gw: &Gateway| {
                gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
                error(
                    StatusCode::BAD_GATEWAY,
                    "api_error",
                    "UPSTREAM_TOO_LARGE",
                    "the upstream's answer is over gateway.max_response_bytes",
                )
            });
        }
        out.extend_from_slice(&c);
    }
    Ok(out.freeze())
}

/// Send the (scanned, maybe redacted) request on and answer with what comes back.
pub async fn forward(
    gw: Arc<Gateway>,
    route: Route,
    headers: HeaderMap,
    body: Value,
    ip: IpAddr,
    key: Option<String>,
) -> Response {
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let rb = gw
        .client
        .post(format!("{}{}", gw.upstream, route.path()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&body).unwrap_or_default());
    let rb = auth(&gw, &headers, rb);
    let timeout = Duration::from_secs_f64(gw.cfg.timeout_seconds);
    // the answer must begin within the timeout; a stream may then last longer
    let resp = match tokio::time::timeout(timeout, rb.send()).await {
        Err(_) => return timed_out(&gw, "the upstream did not answer in time"),
        Ok(Err(e)) => return upstream_failed(&gw, &e),
        Ok(Ok(r)) => r,
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if stream && status.is_success() && ctype.starts_with("text/event-stream") {
        return relay_stream(gw, route, headers, resp, ip, key);
    }
    let bytes =
        match tokio::time::timeout(timeout, read_capped(resp, gw.cfg.max_response_bytes)).await {
            Err(_) => return timed_out(&gw, "the upstream's answer did not finish in time"),
            Ok(Err(f)) => return f(&gw),
            Ok(Ok(b)) => b,
        };
    if !status.is_success() {
        // the upstream's own error, as the OpenAI API passes it
        let ct = if ctype.is_empty() {
            "application/json".to_owned()
        } else {
            ctype
        };
        return (status, [(header::CONTENT_TYPE, ct)], bytes).into_response();
    }
    let mut v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => {
            gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
            return error(
                StatusCode::BAD_GATEWAY,
                "api_error",
                "UPSTREAM_INVALID",
                "the upstream answered something that is not JSON",
            );
        }
    };
    if route != Route::Embeddings {
        if let Some(resp) = check_answer(&gw, route, &headers, &mut v, ip, key) {
            return resp;
        }
    }
    (status, axum::Json(v)).into_response()
}

/// The texts of an answer: chat choices' content and tool call arguments, completions'
/// text, responses' output text. (path-less: an answer is rewritten by [`rewrite_answer`].)
fn answer_texts(v: &Value) -> Vec<String> {
    let mut out = vec![];
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        for c in choices {
            for ptr in [
                "/message/content",
                "/message/refusal",
                "/message/reasoning_content",
                "/message/reasoning",
                "/message/function_call/arguments",
            ] {
                if let Some(s) = c.pointer(ptr).and_then(Value::as_str) {
                    out.push(s.to_owned());
                }
            }
            if let Some(s) = c.get("text").and_then(Value::as_str) {
                out.push(s.to_owned());
            }
            if let Some(calls) = c.pointer("/message/tool_calls").and_then(Value::as_array) {
                for t in calls {
                    if let Some(s) = t.pointer("/function/arguments").and_then(Value::as_str) {
                        out.push(s.to_owned());
                    }
                }
            }
        }
    }
    if let Some(items) = v.get("output").and_then(Value::as_array) {
        for it in items {
            if let Some(s) = it.get("arguments").and_then(Value::as_str) {
                out.push(s.to_owned());
            }
            for k in ["content", "summary"] {
                if let Some(parts) = it.get(k).and_then(Value::as_array) {
                    for p in parts {
                        if let Some(s) = p.get("text").and_then(Value::as_str) {
                            out.push(s.to_owned());
                        }
                    }
                }
            }
        }
    }
    out
}

/// Replace every answer text through `f`.
fn rewrite_answer(v: &mut Value, f: &dyn Fn(&str) -> String) {
    fn walk(v: &mut Value, f: &dyn Fn(&str) -> String, key: Option<&str>) {
        match v {
            Value::String(s)
                if matches!(
                    key,
                    Some(
                        "content"
                            | "text"
                            | "arguments"
                            | "refusal"
                            | "reasoning_content"
                            | "reasoning"
                    )
                ) =>
            {
                *s = f(s);
            }
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    walk(x, f, Some(k));
                }
            }
            Value::Array(a) => {
                for x in a {
                    walk(x, f, key);
                }
            }
            _ => {}
        }
    }
    for k in ["choices", "output"] {
        if let Some(x) = v.get_mut(k) {
            walk(x, f, None);
        }
    }
}

/// Scan a whole answer: the canary (the system prompt leaked) blocks it; secrets and PII
/// follow their actions. None: return it (maybe rewritten).
fn check_answer(
    gw: &Gateway,
    route: Route,
    headers: &HeaderMap,
    v: &mut Value,
    ip: IpAddr,
    key: Option<String>,
) -> Option<Response> {
    let texts = answer_texts(v);
    if texts.is_empty() {
        return None;
    }
    let leaked = gw.cfg.canary && texts.iter().any(|t| contains_canary(t, gw.canary()));
    let parts: Vec<Part<'_>> = texts
        .iter()
        .map(|t| Part {
            role: "response",
            text: t,
        })
        .collect();
    let Some(r) = safe_scan(gw, &parts) else {
        return Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "FIREWALL_ERROR",
            "the firewall failed to scan the answer",
        ));
    };
    let leak_flags = ["secrets", "pii"];
    let mut d = Decision::Allow;
    let mut redact = vec![];
    for f in r.flags.iter().filter(|f| leak_flags.contains(f)) {
        match gw.cfg.on_flag(route.name(), f) {
            crate::config::OnFlag::Block => d = Decision::Block,
            crate::config::OnFlag::Redact => {
                redact.push(*f);
                if d != Decision::Block {
                    d = Decision::Redact;
                }
            }
            crate::config::OnFlag::Log => {
                if d == Decision::Allow {
                    d = Decision::Log
                }
            }
        }
    }
    if leaked {
        d = Decision::Block;
    }
    if d == Decision::Allow {
        return None;
    }
    gw.stats.responses_flagged.fetch_add(1, Ordering::Relaxed);
    let mut rec = crate::record(
        gw,
        route.name(),
        "response",
        headers,
        ip,
        key,
        &parts,
        &r,
        d,
        None,
    );
    if leaked {
        rec.flags.push("prompt_leak");
        rec.score = 1.0;
    }
    gw.record(rec);
    match d {
        Decision::Block => Some(error(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            "SECURITY_VIOLATION",
            if leaked {
                "the answer was withheld: it repeats the system prompt".to_owned()
            } else {
                format!("the answer was withheld: {}", r.flags.join(", "))
            },
        )),
        Decision::Redact => {
            let scanner = gw.scanner.clone();
            let which = redact.clone();
            rewrite_answer(v, &move |s: &str| {
                let rr = scanner.scan(&[Part {
                    role: "response",
                    text: s,
                }]);
                let spans: Vec<_> = which.iter().flat_map(|w| rr.spans_of(0, w)).collect();
                tripline_prompt::redact(s, &spans)
            });
            None
        }
        _ => None,
    }
}

/// How much of a stream's text is kept to scan across chunk borders, per choice.
const TAIL: usize = 4096;
/// The longest SSE line read; a longer one ends the stream (it could not be scanned).
const MAX_LINE: usize = 1 << 20;
/// How long the upstream may go quiet in a stream before it is ended.
const STREAM_IDLE: Duration = Duration::from_secs(120);

/// Pass a stream through line by line as it comes, scanning the text each line carries before
/// it goes on (the canary, secrets, PII; one tail per choice, so choices interleaved cannot
/// hide a split secret); on a finding that blocks, end it with an error event.
fn relay_stream(
    gw: Arc<Gateway>,
    route: Route,
    headers: HeaderMap,
    resp: reqwest::Response,
    ip: IpAddr,
    key: Option<String>,
) -> Response {
    let upstream = resp.bytes_stream();
    let state = Relay {
        gw,
        route,
        headers,
        ip,
        key,
        held: Vec::new(),
        tails: Vec::new(),
        done: false,
    };
    let s = futures_util::stream::unfold((upstream, state), |(mut up, mut st)| async move {
        if st.done {
            return None;
        }
        let next = tokio::time::timeout(STREAM_IDLE, up.next()).await;
        let out = match next {
            Ok(Some(Ok(chunk))) => st.pass(&chunk, false),
            // the end: what is left is scanned, then sent
            Ok(None) => {
                st.done = true;
                let out = st.pass(&[], true);
                if out.is_empty() {
                    return None;
                }
                out
            }
            Ok(Some(Err(_))) | Err(_) => {
                st.done = true;
                bytes::Bytes::from_static(b"data: {\"error\":{\"message\":\"the upstream's stream broke off\",\"type\":\"api_connection_error\",\"code\":\"UPSTREAM_UNAVAILABLE\"}}\n\n")
            }
        };
        Some((Ok::<_, std::io::Error>(out), (up, st)))
    });
    let mut r = Response::new(crate::stream_body(s));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

struct Relay {
    gw: Arc<Gateway>,
    route: Route,
    headers: HeaderMap,
    ip: IpAddr,
    key: Option<String>,
    /// Bytes received and not yet sent: the line not yet complete.
    held: Vec<u8>,
    /// The latest text of each choice (by index; at most 16, more share the last).
    tails: Vec<String>,
    done: bool,
}

impl Relay {
    /// Take a chunk; send on every complete line, each scanned first (at the end, what is left
    /// too). A line that leaks ends the stream with an error event instead.
    fn pass(&mut self, chunk: &[u8], end: bool) -> bytes::Bytes {
        self.held.extend_from_slice(chunk);
        let mut sent = 0;
        let mut start = 0;
        let mut i = 0;
        while i < self.held.len() {
            let b = self.held[i];
            if b == b'\n' || b == b'\r' {
                let line = self.held[start..i].to_vec();
                if let Some(why) = self.scan_line(&line) {
                    return self.cut(&why, sent);
                }
                start = i + 1;
                sent = start;
            }
            i += 1;
        }
        if end && start < self.held.len() {
            let line = self.held[start..].to_vec();
            if let Some(why) = self.scan_line(&line) {
                return self.cut(&why, sent);
            }
            sent = self.held.len();
        }
        if self.held.len() - sent > MAX_LINE {
            self.gw.stats.streams_cut.fetch_add(1, Ordering::Relaxed);
            return self.cut("a line of the stream is too long to scan", sent);
        }
        let out = bytes::Bytes::copy_from_slice(&self.held[..sent]);
        self.held.drain(..sent);
        out
    }

    /// What was scanned goes; then the error event, and the stream ends.
    fn cut(&mut self, why: &str, sent: usize) -> bytes::Bytes {
        self.done = true;
        self.gw.stats.streams_cut.fetch_add(1, Ordering::Relaxed);
        let ev = json!({"error": {"message": format!("the answer was cut by the firewall: {why}"), "type": "invalid_request_error", "code": "SECURITY_VIOLATION"}});
        let mut out = self.held[..sent].to_vec();
        out.extend_from_slice(format!("\n\ndata: {ev}\n\ndata: [DONE]\n\n").as_bytes());
        self.held.clear();
        bytes::Bytes::from(out)
    }

    /// The text a line adds, into its choice's tail, scanned there.
    fn scan_line(&mut self, line: &[u8]) -> Option<String> {
        let (choice, text) = delta_text(line)?;
        let k = choice.min(15);
        if self.tails.len() <= k {
            self.tails.resize(k + 1, String::new());
        }
        let tail = &mut self.tails[k];
        tail.push_str(&text);
        let why = self.leak(k);
        let tail = &mut self.tails[k];
        if tail.len() > 2 * TAIL {
            let mut cut = tail.len() - TAIL;
            while !tail.is_char_boundary(cut) {
                cut += 1;
            }
            tail.drain(..cut);
        }
        why
    }

    fn leak(&self, k: usize) -> Option<String> {
        let gw = &self.gw;
        let tail = &self.tails[k];
        if gw.cfg.canary && contains_canary(tail, gw.canary()) {
            return Some("it repeats the system prompt".into());
        }
        let parts = [Part {
            role: "response",
            text: tail,
        }];
        let Some(r) = safe_scan(gw, &parts) else {
            return Some("the firewall failed to scan it".into());
        };
        let blocking: Vec<&str> = r
            .flags
            .iter()
            .copied()
            .filter(|f| matches!(*f, "secrets" | "pii"))
            .filter(|f| gw.cfg.on_flag(self.route.name(), f) != crate::config::OnFlag::Log)
            .collect();
        if blocking.is_empty() {
            return None;
        }
        gw.stats.responses_flagged.fetch_add(1, Ordering::Relaxed);
        gw.record(crate::record(
            gw,
            self.route.name(),
            "response",
            &self.headers,
            self.ip,
            self.key.clone(),
            &parts,
            &r,
            Decision::Block,
            None,
        ));
        Some(blocking.join(", "))
    }
}

/// The canary in a text, whatever its case (an answer asked to shout it still has it).
fn contains_canary(text: &str, canary: &str) -> bool {
    text.to_ascii_lowercase()
        .contains(&canary.to_ascii_lowercase())
}

/// A scan of an answer; None when the scanner failed (the answer is then withheld).
fn safe_scan(gw: &Gateway, parts: &[Part<'_>]) -> Option<tripline_prompt::scan::ScanResult> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gw.scanner.scan(parts)))
        .map_err(|_| {
            gw.stats.firewall_errors.fetch_add(1, Ordering::Relaxed);
        })
        .ok()
}

/// The text an SSE `data:` line adds, and its choice: chat's `choices[].delta` (content,
/// refusal, reasoning, tool call arguments), completions' `choices[].text`, responses' `delta`.
fn delta_text(line: &[u8]) -> Option<(usize, String)> {
    let l = std::str::from_utf8(line).ok()?;
    let d = l.strip_prefix("data:")?.trim_start();
    if d == "[DONE]" {
        return None;
    }
    let v: Value = serde_json::from_str(d).ok()?;
    let mut out = String::new();
    let mut choice = 0;
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        for c in choices {
            choice = c.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            for ptr in [
                "/delta/content",
                "/delta/refusal",
                "/delta/reasoning_content",
                "/delta/reasoning",
                "/text",
                "/delta/function_call/arguments",
            ] {
                if let Some(s) = c.pointer(ptr).and_then(Value::as_str) {
                    out.push_str(s);
                }
            }
            if let Some(calls) = c.pointer("/delta/tool_calls").and_then(Value::as_array) {
                for t in calls {
                    if let Some(s) = t.pointer("/function/arguments").and_then(Value::as_str) {
                        out.push_str(s);
                    }
                }
            }
        }
    }
    if let Some(s) = v.get("delta").and_then(Value::as_str) {
        choice = v.get("output_index").and_then(Value::as_u64).unwrap_or(0) as usize;
        out.push_str(s);
    }
    (!out.is_empty()).then_some((choice, out))
}
