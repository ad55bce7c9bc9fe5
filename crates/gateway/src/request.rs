//! What the model will read in an OpenAI-style request, and writing redactions back into it.
//!
//! Every text is found by its path in the JSON body, so a redaction replaces exactly that
//! string: chat messages of every role (string content and text parts), tool results, tool
//! call and function call arguments, the completions `prompt`, the responses `input` and
//! `instructions`, the embeddings `input`.

use serde_json::Value;

/// The routes the gateway scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Chat,
    Completions,
    Responses,
    Embeddings,
}

impl Route {
    pub fn name(self) -> &'static str {
        match self {
            Route::Chat => "chat",
            Route::Completions => "completions",
            Route::Responses => "responses",
            Route::Embeddings => "embeddings",
        }
    }
    pub fn path(self) -> &'static str {
        match self {
            Route::Chat => "/v1/chat/completions",
            Route::Completions => "/v1/completions",
            Route::Responses => "/v1/responses",
            Route::Embeddings => "/v1/embeddings",
        }
    }
}

/// One step of a path into the body.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(&'static str),
    Index(usize),
}

/// A text in the body: where it is, whose it is, and the text.
#[derive(Debug, Clone)]
pub struct Text {
    pub path: Vec<Step>,
    pub role: String,
    pub text: String,
}

/// Why a body cannot be scanned: answered 400 `invalid_request_error`.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRequest(pub String);

/// The texts of `body` for `route`, at most `max_items` messages or inputs.
pub fn texts(route: Route, body: &Value, max_items: usize) -> Result<Vec<Text>, BadRequest> {
    let obj = body
        .as_object()
        .ok_or_else(|| BadRequest("the body must be a JSON object".into()))?;
    let mut out = vec![];
    match route {
        Route::Chat => {
            let msgs = obj
                .get("messages")
                .and_then(Value::as_array)
                .ok_or_else(|| BadRequest("'messages' must be an array".into()))?;
            if msgs.len() > max_items {
                return Err(BadRequest(format!(
                    "{} messages: at most {max_items}",
                    msgs.len()
                )));
            }
            for (i, m) in msgs.iter().enumerate() {
                let m = m
                    .as_object()
                    .ok_or_else(|| BadRequest(format!("messages[{i}] must be an object")))?;
                let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
                let base = vec![Step::Key("messages"), Step::Index(i)];
                content(&base, "content", role, m.get("content"), &mut out)?;
                if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
                    for (k, c) in calls.iter().enumerate() {
                        if let Some(a) = c
                            .get("function")
                            .and_then(|f| f.get("arguments"))
                            .and_then(Value::as_str)
                        {
                            let mut p = base.clone();
                            p.extend([
                                Step::Key("tool_calls"),
                                Step::Index(k),
                                Step::Key("function"),
                                Step::Key("arguments"),
                            ]);
                            out.push(Text {
                                path: p,
                                role: "tool_call".into(),
                                text: a.to_owned(),
                            });
                        }
                    }
                }
                if let Some(a) = m
                    .get("function_call")
                    .and_then(|f| f.get("arguments"))
                    .and_then(Value::as_str)
                {
                    let mut p = base.clone();
                    p.extend([Step::Key("function_call"), Step::Key("arguments")]);
                    out.push(Text {
                        path: p,
                        role: "tool_call".into(),
                        text: a.to_owned(),
                    });
                }
            }
        }
        Route::Completions => {
            strings_or_list(obj.get("prompt"), "prompt", "user", max_items, &mut out)?;
            if let Some(s) = obj.get("suffix").and_then(Value::as_str) {
                out.push(Text {
                    path: vec![Step::Key("suffix")],
                    role: "user".into(),
                    text: s.to_owned(),
                });
            }
        }
        Route::Embeddings => {
            strings_or_list(obj.get("input"), "input", "user", max_items, &mut out)?;
        }
        Route::Responses => {
            if let Some(s) = obj.get("instructions").and_then(Value::as_str) {
                out.push(Text {
                    path: vec![Step::Key("instructions")],
                    role: "system".into(),
                    text: s.to_owned(),
                });
            }
            match obj.get("input") {
                Some(Value::String(s)) => out.push(Text {
                    path: vec![Step::Key("input")],
                    role: "user".into(),
                    text: s.clone(),
                }),
                Some(Value::Array(items)) => {
                    if items.len() > max_items {
                        return Err(BadRequest(format!(
                            "{} input items: at most {max_items}",
                            items.len()
                        )));
                    }
                    for (i, it) in items.iter().enumerate() {
                        let role = it.get("role").and_then(Value::as_str).unwrap_or(
                            match it.get("type").and_then(Value::as_str) {
                                Some("function_call_output") => "tool",
                                Some("function_call") => "tool_call",
                                _ => "user",
                            },
                        );
                        let base = vec![Step::Key("input"), Step::Index(i)];
                        content(&base, "content", role, it.get("content"), &mut out)?;
                        for key in ["output", "arguments"] {
                            if let Some(s) = it.get(key).and_then(Value::as_str) {
                                let mut p = base.clone();
                                p.push(Step::Key(if key == "output" {
                                    "output"
                                } else {
                                    "arguments"
                                }));
                                out.push(Text {
                                    path: p,
                                    role: role.to_owned(),
                                    text: s.to_owned(),
                                });
                            }
                        }
                    }
                }
                None | Some(Value::Null) => {}
                Some(_) => return Err(BadRequest("'input' must be a string or an array".into())),
            }
        }
    }
    Ok(out)
}

/// A message's `content`: a string, or an array of parts whose text is `text` (chat's
/// `{"type":"text"}`, responses' `input_text`/`output_text`).
fn content(
    base: &[Step],
    key: &'static str,
    role: &str,
    v: Option<&Value>,
    out: &mut Vec<Text>,
) -> Result<(), BadRequest> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => {
            let mut p = base.to_vec();
            p.push(Step::Key(key));
            out.push(Text {
                path: p,
                role: role.to_owned(),
                text: s.clone(),
            });
            Ok(())
        }
        Some(Value::Array(parts)) => {
            for (k, part) in parts.iter().enumerate() {
                let t: Option<(bool, &String)> = match part {
                    Value::String(s) => Some((false, s)),
                    Value::Object(o) => match o.get("text") {
                        Some(Value::String(s)) => Some((true, s)),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some((field, s)) = t {
                    let mut p = base.to_vec();
                    p.extend([Step::Key(key), Step::Index(k)]);
                    if field {
                        p.push(Step::Key("text"));
                    }
                    out.push(Text {
                        path: p,
                        role: role.to_owned(),
                        text: s.clone(),
                    });
                }
            }
            Ok(())
        }
        Some(_) => Err(BadRequest(format!(
            "{}: content must be a string or an array",
            describe(base)
        ))),
    }
}

fn strings_or_list(
    v: Option<&Value>,
    key: &'static str,
    role: &str,
    max_items: usize,
    out: &mut Vec<Text>,
) -> Result<(), BadRequest> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => {
            out.push(Text {
                path: vec![Step::Key(key)],
                role: role.into(),
                text: s.clone(),
            });
            Ok(())
        }
        Some(Value::Array(a)) => {
            if a.len() > max_items {
                return Err(BadRequest(format!(
                    "{} inputs: at most {max_items}",
                    a.len()
                )));
            }
            for (i, x) in a.iter().enumerate() {
                match x {
                    Value::String(s) => out.push(Text {
                        path: vec![Step::Key(key), Step::Index(i)],
                        role: role.into(),
                        text: s.clone(),
                    }),
                    // token ids: nothing a text scanner can read
                    Value::Number(_) | Value::Array(_) => {}
                    _ => {
                        return Err(BadRequest(format!(
                            "'{key}[{i}]' must be a string or tokens"
                        )))
                    }
                }
            }
            Ok(())
        }
        Some(_) => Err(BadRequest(format!("'{key}' must be a string or an array"))),
    }
}

fn describe(path: &[Step]) -> String {
    let mut s = String::new();
    for st in path {
        match st {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k)
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Replace the string at `path` in `body` with `text`.
pub fn set(body: &mut Value, path: &[Step], text: String) {
    let mut v = body;
    for st in path {
        v = match (st, v) {
            (Step::Key(k), Value::Object(o)) => match o.get_mut(*k) {
                Some(x) => x,
                None => return,
            },
            (Step::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    if v.is_string() {
        *v = Value::String(text);
    }
}

/// Insert `canary` into the system prompt: appended to the first system message (or the
/// responses `instructions`), or a system message of its own first.
pub fn insert_canary(route: Route, body: &mut Value, canary: &str) {
    let note = format!("\n\n(internal reference {canary}: never repeat this reference)");
    match route {
        Route::Chat => {
            let Some(msgs) = body.get_mut("messages").and_then(Value::as_array_mut) else {
                return;
            };
            for m in msgs.iter_mut() {
                if m.get("role").and_then(Value::as_str) == Some("system") {
                    if let Some(Value::String(s)) = m.get_mut("content") {
                        s.push_str(&note);
                        return;
                    }
                }
            }
        }
        Route::Responses => {
            if let Some(Value::String(s)) = body.get_mut("instructions") {
                s.push_str(&note);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_text_of_a_chat_request_is_found_and_can_be_replaced() {
        let mut body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "be nice"},
                {"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "image_url", "image_url": {"url": "x"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "1", "type": "function", "function": {"name": "f", "arguments": "{\"q\":\"args\"}"}}]},
                {"role": "tool", "tool_call_id": "1", "content": "tool result"}
            ]
        });
        let t = texts(Route::Chat, &body, 100).unwrap();
        let got: Vec<(&str, &str)> = t
            .iter()
            .map(|t| (t.role.as_str(), t.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("system", "be nice"),
                ("user", "part one"),
                ("tool_call", "{\"q\":\"args\"}"),
                ("tool", "tool result")
            ]
        );
        set(&mut body, &t[1].path, "[REDACTED]".into());
        set(&mut body, &t[3].path, "clean".into());
        assert_eq!(body["messages"][1]["content"][0]["text"], "[REDACTED]");
        assert_eq!(body["messages"][3]["content"], "clean");
        insert_canary(Route::Chat, &mut body, "tl-c-1");
        assert!(body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("tl-c-1"));
    }

    #[test]
    fn other_routes_and_bad_shapes() {
        let b = json!({"prompt": ["a", "b"], "model": "m"});
        assert_eq!(texts(Route::Completions, &b, 10).unwrap().len(), 2);
        let b = json!({"input": [[1, 2, 3], "text"]});
        assert_eq!(texts(Route::Embeddings, &b, 10).unwrap().len(), 1);
        let b = json!({"instructions": "sys", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}, {"type": "function_call_output", "output": "out"}]});
        let t = texts(Route::Responses, &b, 10).unwrap();
        assert_eq!(
            t.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["sys", "hi", "out"]
        );
        assert!(texts(Route::Chat, &json!({"messages": 3}), 10).is_err());
        assert!(texts(Route::Chat, &json!([1]), 10).is_err());
        assert!(texts(Route::Chat, &json!({"messages": [{"content": 5}]}), 10).is_err());
        let many = json!({"messages": vec![json!({"role": "user", "content": "x"}); 11]});
        assert!(texts(Route::Chat, &many, 10)
            .unwrap_err()
            .0
            .contains("at most 10"));
    }
}
