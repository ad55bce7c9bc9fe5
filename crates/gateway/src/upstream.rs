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

fn upstream_failed(gw: &Gateway, e: &reqwest::Error) -> Response {
    gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
    if e.is_timeout() {
        error(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "UPSTREAM_TIMEOUT",
            "the upstream did not answer in time",
        )
    } else {
        error(
            StatusCode::BAD_GATEWAY,
            "api_connection_error",
            "UPSTREAM_UNAVAILABLE",
            "the upstream could not be reached",
        )
    }
}

/// `GET /v1/models`: passed through.
pub async fn models(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
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
        Err(_) => {
            gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
            return error(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                "UPSTREAM_TIMEOUT",
                "the upstream did not answer in time",
            );
        }
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
            Err(_) => {
                gw.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
                return error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "timeout",
                    "UPSTREAM_TIMEOUT",
                    "the upstream's answer did not finish in time",
                );
            }
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
            if let Some(s) = c.pointer("/message/content").and_then(Value::as_str) {
                out.push(s.to_owned());
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
            if let Some(parts) = it.get("content").and_then(Value::as_array) {
                for p in parts {
                    if let Some(s) = p.get("text").and_then(Value::as_str) {
                        out.push(s.to_owned());
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
            Value::String(s) if matches!(key, Some("content" | "text" | "arguments")) => {
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
    let leaked = gw.cfg.canary && texts.iter().any(|t| t.contains(gw.canary()));
    let parts: Vec<Part<'_>> = texts
        .iter()
        .map(|t| Part {
            role: "response",
            text: t,
        })
        .collect();
    let r = gw.scanner.scan(&parts);
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

/// How much of a stream's text is kept to scan across chunk borders.
const TAIL: usize = 4096;

/// Pass a stream through chunk by chunk; scan the text it carries as it goes (the canary,
/// secrets); on a finding that blocks, end it with an error event.
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
        line: Vec::new(),
        tail: String::new(),
        done: false,
    };
    let s = futures_util::stream::unfold((upstream, state), |(mut up, mut st)| async move {
        if st.done {
            return None;
        }
        match up.next().await {
            None => None,
            Some(Err(_)) => {
                st.done = true;
                Some((Ok(bytes::Bytes::from_static(b"data: {\"error\":{\"message\":\"the upstream's stream broke off\",\"type\":\"api_connection_error\",\"code\":\"UPSTREAM_UNAVAILABLE\"}}\n\n")), (up, st)))
            }
            Some(Ok(chunk)) => {
                let out = st.pass(chunk);
                Some((Ok::<_, std::io::Error>(out), (up, st)))
            }
        }
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
    /// An SSE line not yet complete.
    line: Vec<u8>,
    /// The latest text the stream carried.
    tail: String,
    done: bool,
}

impl Relay {
    /// The chunk passes as it came, unless the text so far leaks: then the stream ends here.
    fn pass(&mut self, chunk: bytes::Bytes) -> bytes::Bytes {
        let mut grew = false;
        for &b in chunk.iter() {
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                if let Some(t) = delta_text(&line) {
                    self.tail.push_str(&t);
                    grew = true;
                }
            } else if self.line.len() < 1 << 20 {
                self.line.push(b);
            }
        }
        if grew {
            if self.tail.len() > 2 * TAIL {
                let mut cut = self.tail.len() - TAIL;
                while !self.tail.is_char_boundary(cut) {
                    cut += 1;
                }
                self.tail.drain(..cut);
            }
            if let Some(why) = self.leak() {
                self.done = true;
                self.gw.stats.streams_cut.fetch_add(1, Ordering::Relaxed);
                let ev = json!({"error": {"message": format!("the answer was cut by the firewall: {why}"), "type": "invalid_request_error", "code": "SECURITY_VIOLATION"}});
                return bytes::Bytes::from(format!("data: {ev}\n\ndata: [DONE]\n\n"));
            }
        }
        chunk
    }

    fn leak(&self) -> Option<String> {
        let gw = &self.gw;
        if gw.cfg.canary && self.tail.contains(gw.canary()) {
            return Some("it repeats the system prompt".into());
        }
        let parts = [Part {
            role: "response",
            text: &self.tail,
        }];
        let r = gw.scanner.scan(&parts);
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

/// The text an SSE `data:` line adds: chat's `choices[].delta.content`, completions'
/// `choices[].text`, responses' `delta`.
fn delta_text(line: &[u8]) -> Option<String> {
    let l = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let d = l.strip_prefix("data:")?.trim_start();
    if d == "[DONE]" {
        return None;
    }
    let v: Value = serde_json::from_str(d).ok()?;
    let mut out = String::new();
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        for c in choices {
            if let Some(s) = c.pointer("/delta/content").and_then(Value::as_str) {
                out.push_str(s);
            }
            if let Some(s) = c.get("text").and_then(Value::as_str) {
                out.push_str(s);
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
        out.push_str(s);
    }
    (!out.is_empty()).then_some(out)
}
