//! An OpenAI-compatible upstream that answers at once, for tests and benchmarks
//! (`tripline gateway upstream`). The request's `model` picks how it behaves:
//!
//! - anything else: echo (the last user text back, `stream` as SSE word by word);
//! - `slow-N`: wait N seconds first; `fail`: 500 with an OpenAI error; `garbage`: 200 that is
//!   not JSON; `endless`: a stream that never ends; `leak`: answer with the system prompt
//!   (its canary too); `secret`: answer with an AWS-shaped key; `stall`: a stream that sends
//!   one chunk and then nothing.
//!
//! It never fetches or runs anything.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::time::Duration;

/// The stub's routes.
pub fn router() -> Router {
    Router::new()
        .route(
            "/v1/models",
            get(|| async {
                axum::Json(json!({"object": "list", "data": [
                    {"id": "echo", "object": "model", "created": 0, "owned_by": "tripline-stub"}
                ]}))
            }),
        )
        .route("/v1/chat/completions", post(|r| answer("chat", r)))
        .route("/v1/completions", post(|r| answer("completions", r)))
        .route("/v1/responses", post(|r| answer("responses", r)))
        .route("/v1/embeddings", post(embeddings))
}

async fn body(r: Request) -> Value {
    let b = axum::body::to_bytes(r.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    serde_json::from_slice(&b).unwrap_or(Value::Null)
}

fn last_text(route: &str, v: &Value, role: &str) -> String {
    let from_content = |c: &Value| match c {
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    match route {
        "chat" => v
            .get("messages")
            .and_then(Value::as_array)
            .and_then(|m| {
                m.iter()
                    .rev()
                    .find(|m| m.get("role").and_then(Value::as_str) == Some(role))
            })
            .map(|m| from_content(m.get("content").unwrap_or(&Value::Null)))
            .unwrap_or_default(),
        "completions" => match v.get("prompt") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        },
        _ => {
            if role == "system" {
                return v
                    .get("instructions")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
            }
            match v.get("input") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|i| i.get("content"))
                    .map(from_content)
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            }
        }
    }
}

async fn answer(route: &'static str, r: Request) -> Response {
    let v = body(r).await;
    let model = v
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("echo")
        .to_owned();
    let stream = v.get("stream").and_then(Value::as_bool) == Some(true);
    if let Some(n) = model
        .strip_prefix("slow-")
        .and_then(|n| n.parse::<f64>().ok())
    {
        tokio::time::sleep(Duration::from_secs_f64(n.clamp(0.0, 600.0))).await;
    }
    let text = match model.as_str() {
        "fail" => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": {"message": "the stub failed on purpose", "type": "server_error", "code": null}})),
            )
                .into_response()
        }
        "garbage" => return (StatusCode::OK, "<html>not json").into_response(),
        "leak" => format!("Sure! My instructions are: {}", last_text(route, &v, "system")),
        "secret" => "Here is the key: AKIAQ3EGRWOHT7TZ5N2B and that is all.".to_owned(),
        _ => format!("echo: {}", last_text(route, &v, "user")),
    };
    if stream || matches!(model.as_str(), "endless" | "stall") {
        return sse(route, text, model == "endless", model == "stall");
    }
    let out = match route {
        "chat" => json!({
            "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        }),
        "completions" => json!({
            "id": "cmpl-stub", "object": "text_completion", "created": 0, "model": model,
            "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": null}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        }),
        _ => json!({
            "id": "resp-stub", "object": "response", "created_at": 0, "model": model, "status": "completed",
            "output": [{"type": "message", "id": "msg-stub", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}],
            "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
        }),
    };
    axum::Json(out).into_response()
}

fn sse(route: &'static str, text: String, endless: bool, stall: bool) -> Response {
    let words: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
    let chunk = move |w: &str| -> String {
        let v = match route {
            "chat" => {
                json!({"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": "echo",
                              "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": null}]})
            }
            "completions" => {
                json!({"id": "cmpl-stub", "object": "text_completion", "created": 0, "model": "echo",
                                    "choices": [{"index": 0, "text": w, "finish_reason": null}]})
            }
            _ => json!({"type": "response.output_text.delta", "delta": w}),
        };
        format!("data: {v}\n\n")
    };
    let s = futures_util::stream::unfold(0usize, move |i| {
        let words = words.clone();
        async move {
            if endless {
                tokio::time::sleep(Duration::from_millis(5)).await;
                return Some((Ok::<_, std::io::Error>(chunk("more ")), i + 1));
            }
            if stall && i == 1 {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            if i < words.len() {
                Some((Ok(chunk(&words[i])), i + 1))
            } else if i == words.len() {
                Some((Ok("data: [DONE]\n\n".to_owned()), i + 1))
            } else {
                None
            }
        }
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(s),
    )
        .into_response()
}

async fn embeddings(r: Request) -> Response {
    let v = body(r).await;
    let n = match v.get("input") {
        Some(Value::Array(a)) => a.len(),
        _ => 1,
    };
    let data: Vec<Value> = (0..n)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}))
        .collect();
    axum::Json(json!({"object": "list", "data": data, "model": "echo",
                      "usage": {"prompt_tokens": 1, "total_tokens": 1}}))
    .into_response()
}
