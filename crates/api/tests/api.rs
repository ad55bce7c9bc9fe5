//! The API through `oneshot`: authentication, the alert list with filters and cursors, an alert's
//! detail, the workflow, and how bad input is answered.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::sync::Arc;
use tower::ServiceExt;
use tripline_api::{app, ApiState};
use tripline_event::AuthKind;
use tripline_event::{Alert, Entity, Severity, Timestamp};
use tripline_store::Store;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn alert(n: u32, rule: &'static str, severity: Severity, last: i64) -> Alert {
    let ip = format!("203.0.113.{n}");
    let entity = Entity::Ip(ip.parse().unwrap());
    Alert {
        id: Alert::make_id(rule, &entity, Timestamp::from_secs(last)),
        rule: rule.into(),
        severity,
        score: 0.7,
        entity,
        src_ip: Some(ip.parse().unwrap()),
        user: Some("<script>alert(1)</script>".into()),
        host: "web1".into(),
        sensor: "files".into(),
        // the rule's own (an anomaly alert's are set by the test that makes one)
        techniques: tripline_event::Techniques::Borrowed(
            tripline_detect::rule_info(rule).map_or(&[], |r| r.techniques),
        ),
        count: 5,
        first_seen: Timestamp::from_secs(last - 60),
        last_seen: Timestamp::from_secs(last),
        explanation: "why".into(),
        evidence: vec!["line one".into(), "line \"two\"".into()],
        detail: None,
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    state: Arc<ApiState>,
    alerts: Vec<Alert>,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut store = Store::open(&db).unwrap();
    let mut alerts = vec![];
    for n in 0..12 {
        let (rule, sev) = if n % 3 == 0 {
            ("ssh.scan", Severity::Low)
        } else {
            ("ssh.bruteforce", Severity::High)
        };
        alerts.push(alert(n, rule, sev, 1_700_000_000 + n as i64 * 10));
    }
    store.commit(&alerts, &[], &[]).unwrap();
    let state = Arc::new(
        ApiState::open(&db, TOKEN.into(), 2)
            .unwrap()
            .with_catalog(tripline_detect::catalog()),
    );
    Rig {
        _dir: dir,
        state,
        alerts,
    }
}

async fn call(
    rig: &Rig,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, serde_json::Value, axum::http::HeaderMap) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app(rig.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, json, headers)
}

async fn get(rig: &Rig, uri: &str) -> (StatusCode, serde_json::Value) {
    let (s, j, _) = call(rig, "GET", uri, Some(TOKEN), None).await;
    (s, j)
}

#[tokio::test]
async fn health_is_open_everything_else_needs_the_token() {
    let r = rig();
    let (s, body, _) = call(&r, "GET", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, "ok\n");
    for token in [None, Some("wrong"), Some(&TOKEN[..31]), Some("")] {
        for uri in [
            "/api/v1/alerts",
            "/readyz",
            "/api/v1/alerts/0123456789abcdef",
        ] {
            let (s, body, h) = call(&r, "GET", uri, token, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri} {token:?}");
            assert_eq!(body, serde_json::json!({"error": "unauthorized"}));
            assert_eq!(h["www-authenticate"], "Bearer");
        }
    }
    let (s, _) = get(&r, "/api/v1/alerts").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn ready_only_once_the_daemon_says_so() {
    let r = rig();
    assert_eq!(get(&r, "/readyz").await.0, StatusCode::SERVICE_UNAVAILABLE);
    r.state.set_ready(true);
    assert_eq!(get(&r, "/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn pages_follow_the_cursor_newest_first() {
    let r = rig();
    let mut seen = vec![];
    let mut uri = "/api/v1/alerts?limit=5".to_string();
    loop {
        let (s, body) = get(&r, &uri).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        for a in body["alerts"].as_array().unwrap() {
            seen.push(a["last_seen"].as_str().unwrap().to_string());
        }
        match body["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/alerts?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), r.alerts.len());
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first");
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let r = rig();
    let count = |body: &serde_json::Value| body["alerts"].as_array().unwrap().len();
    let (_, b) = get(&r, "/api/v1/alerts?severity=high").await;
    assert_eq!(count(&b), 8);
    let (_, b) = get(&r, "/api/v1/alerts?rule=ssh.scan").await;
    assert_eq!(count(&b), 4);
    assert!(b["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["rule"] == "ssh.scan"));
    let (_, b) = get(&r, "/api/v1/alerts?entity=203.0.113.7").await;
    assert_eq!(count(&b), 1);
    assert_eq!(b["alerts"][0]["src_ip"], "203.0.113.7");
    // the form the CLI prints (`TYPE:VALUE`) names the same alert; another type names none
    let (_, b) = get(&r, "/api/v1/alerts?entity=ip:203.0.113.7").await;
    assert_eq!(count(&b), 1, "{b}");
    let (_, b) = get(&r, "/api/v1/alerts?entity=user:203.0.113.7").await;
    assert_eq!(count(&b), 0, "{b}");
    for bad in ["ip:nope", "ip:"] {
        let (s, e) = get(&r, &format!("/api/v1/alerts?entity={bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(e["parameter"], "entity", "{bad}");
    }
    let (_, b) = get(
        &r,
        "/api/v1/alerts?since=1700000050&until=2023-11-14T22:15:00Z",
    )
    .await;
    // last seen 1700000050 ..< 1700000100: n = 5..=9
    assert_eq!(count(&b), 5, "{b}");
    let (_, b) = get(&r, "/api/v1/alerts?state=resolved").await;
    assert_eq!(count(&b), 0);
    // attacker-written text comes back as JSON text, escaped, never interpreted
    let (_, b) = get(&r, "/api/v1/alerts?limit=1").await;
    assert_eq!(b["alerts"][0]["user"], "<script>alert(1)</script>");
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let r = rig();
    for (uri, param) in [
        ("/api/v1/alerts?limit=0", "limit"),
        ("/api/v1/alerts?limit=100000", "limit"),
        ("/api/v1/alerts?limit=x", "limit"),
        ("/api/v1/alerts?severity=urgent", "severity"),
        ("/api/v1/alerts?rule=nope", "rule"),
        ("/api/v1/alerts?state=closed", "state"),
        ("/api/v1/alerts?since=yesterday", "since"),
        ("/api/v1/alerts?until=5x", "until"),
        ("/api/v1/alerts?cursor=abc", "cursor"),
        ("/api/v1/alerts?color=red", "color"),
        ("/api/v1/alerts/not-an-id", "id"),
    ] {
        let (s, body) = get(&r, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["parameter"], param, "{uri}: {body}");
        assert!(body["error"].as_str().unwrap().len() > 3);
    }
    let (s, body) = get(&r, "/api/v1/nothing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "no such route");
    let (s, _) = get(&r, "/api/v1/alerts/0123456789abcdef").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn detail_names_techniques_and_workflow_records_who_and_when() {
    let r = rig();
    let a = &r.alerts[4];
    let (s, b) = get(&r, &format!("/api/v1/alerts/{}", a.id)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["alert"]["id"], a.id.as_str());
    assert_eq!(b["alert"]["evidence"][1], "line \"two\"");
    assert_eq!(b["techniques"][0]["id"], "T1110.001");
    assert_eq!(b["techniques"][0]["name"], "Brute Force: Password Guessing");
    assert_eq!(
        b["techniques"][0]["url"],
        "https://attack.mitre.org/techniques/T1110/001/"
    );
    assert_eq!(b["alert"]["state"], "open");
    assert!(b["alert"].get("state_by").is_none());

    let uri = format!("/api/v1/alerts/{}/acknowledge", a.id);
    let (s, b, _) = call(&r, "POST", &uri, Some(TOKEN), Some(r#"{"by":"alice"}"#)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["alert"]["state"], "acknowledged");
    assert_eq!(b["alert"]["state_by"], "alice");
    assert!(b["alert"]["state_at"].as_str().unwrap().starts_with("20"));
    let (_, b) = get(&r, "/api/v1/alerts?state=acknowledged").await;
    assert_eq!(b["alerts"].as_array().unwrap().len(), 1);

    let uri = format!("/api/v1/alerts/{}/resolve", a.id);
    let (s, b, _) = call(&r, "POST", &uri, Some(TOKEN), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["alert"]["state"], "resolved");
    assert_eq!(b["alert"]["state_by"], "api");

    // bad bodies
    let (s, b, _) = call(&r, "POST", &uri, Some(TOKEN), Some("{nope")).await;
    assert_eq!(
        (s, b["parameter"].clone()),
        (StatusCode::BAD_REQUEST, "body".into())
    );
    let (s, b, _) = call(&r, "POST", &uri, Some(TOKEN), Some(r#"{"by":"a\u0007b"}"#)).await;
    assert_eq!(
        (s, b["parameter"].clone()),
        (StatusCode::BAD_REQUEST, "by".into())
    );
    let (s, _, _) = call(
        &r,
        "POST",
        &uri,
        Some(TOKEN),
        Some(r#"{"by":"x","admin":true}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let big = format!(r#"{{"by":"{}"}}"#, "x".repeat(20_000));
    let (s, _, _) = call(&r, "POST", &uri, Some(TOKEN), Some(&big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, _, _) = call(
        &r,
        "POST",
        "/api/v1/alerts/0123456789abcdef/resolve",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // not without the token
    let (s, _, _) = call(&r, "POST", &uri, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_stream_carries_each_stored_alert() {
    use futures_util::StreamExt;
    let r = rig();
    let req = Request::builder()
        .uri("/api/v1/stream")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let res = app(r.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body().into_data_stream();
    let a = alert(99, "ssh.bruteforce", Severity::High, 1_700_001_000);
    r.state.publish(&a.view("open"));
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
        .await
        .expect("no event within 5 s")
        .unwrap()
        .unwrap();
    let text = String::from_utf8(frame.to_vec()).unwrap();
    assert!(text.starts_with("event: alert\ndata: {"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(text.trim_start_matches("event: alert\ndata: ").trim()).unwrap();
    assert_eq!(json["id"], a.id.as_str());
    // without the token there is no stream
    let (s, _, _) = call(&r, "GET", "/api/v1/stream", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// Over a real socket: a client that dribbles its headers is cut off, connections beyond the
/// limit are closed at accept, and the server keeps answering everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_surplus_clients_cannot_pin_the_server() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    let r = rig();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = tripline_api::Limits {
        max_connections: 3,
        header_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_secs(5),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tripline_api::serve(
        listener,
        app(r.state.clone()),
        limits,
        async {
            let _ = stopped.await;
        },
    ));
    async fn health(addr: std::net::SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out)).await;
        out
    }
    assert!(health(addr).await.starts_with("HTTP/1.1 200"));

    // a slow client: half a request line, then nothing
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTT").await.unwrap();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(3), slow.read(&mut buf))
        .await
        .expect("slow client was not cut off")
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");

    // fill every slot with idle half-requests: the next connection is closed at once
    let mut hogs = vec![];
    for _ in 0..3 {
        let mut h = TcpStream::connect(addr).await.unwrap();
        h.write_all(b"GET").await.unwrap();
        hogs.push(h);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let n = tokio::time::timeout(Duration::from_secs(2), extra.read(&mut buf))
        .await
        .expect("a surplus connection was kept waiting")
        .unwrap_or(0);
    assert_eq!(n, 0, "served beyond the limit");
    // the hogs time out, and the server answers again
    tokio::time::sleep(Duration::from_millis(600)).await;
    drop(hogs);
    assert!(health(addr).await.starts_with("HTTP/1.1 200"));
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn metrics_need_the_token_except_on_their_own_bind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    Store::open(&db).unwrap();
    let state = Arc::new(
        ApiState::open(&db, TOKEN.into(), 1)
            .unwrap()
            .with_metrics(|| "tripline_up 1\n# EOF\n".to_string()),
    );
    let get = |router: axum::Router, uri: &str, token: bool| {
        let mut req = Request::builder().uri(uri);
        if token {
            req = req.header("authorization", format!("Bearer {TOKEN}"));
        }
        router.oneshot(req.body(Body::empty()).unwrap())
    };
    let res = get(app(state.clone()), "/metrics", false).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = get(app(state.clone()), "/metrics", true).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let open = tripline_api::metrics_app(state.clone());
    let res = get(open.clone(), "/metrics", false).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(&body[..], b"tripline_up 1\n# EOF\n");
    // nothing else is reachable there, with or without a token
    for uri in ["/api/v1/alerts", "/readyz", "/api/v1/stream"] {
        let res = get(open.clone(), uri, true).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn entities_stats_and_sensors_summarise_the_store() {
    let r = rig();
    // the rig's alerts were last seen in Nov 2023: ask for that window
    let (s, b) = get(
        &r,
        "/api/v1/entities?since=1699990000&until=1700010000&limit=3",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let list = b["entities"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["type"], "ip");
    assert_eq!(list[0]["severity"], "high");
    assert!(list[0]["alerts"].as_u64().unwrap() >= 1);
    let (_, b) = get(&r, "/api/v1/entities").await;
    assert_eq!(
        b["entities"].as_array().unwrap().len(),
        0,
        "nothing in the last 24 h"
    );

    let (s, b) = get(
        &r,
        "/api/v1/stats?since=1699990000&until=1700010000&bucket=1m",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["bucket_seconds"], 60);
    let buckets = b["buckets"].as_array().unwrap();
    let total: u64 = buckets.iter().map(|x| x["total"].as_u64().unwrap()).sum();
    assert_eq!(total, r.alerts.len() as u64);
    let high: u64 = buckets
        .iter()
        .map(|x| x["by_severity"]["high"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(high, 8);
    let guessing: u64 = buckets
        .iter()
        .map(|x| x["by_technique"]["T1110.001"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(guessing, 8, "ssh.bruteforce carries T1110.001");
    assert!(buckets
        .windows(2)
        .all(|w| w[0]["start"].as_str() < w[1]["start"].as_str()));

    for (uri, param) in [
        ("/api/v1/stats?bucket=1s", "bucket"),
        ("/api/v1/stats?bucket=lots", "bucket"),
        ("/api/v1/stats?limit=3", "limit"),
        ("/api/v1/entities?bucket=1h", "bucket"),
        (
            "/api/v1/entities?since=1700000000&until=1600000000",
            "since",
        ),
    ] {
        let (s, b) = get(&r, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {b}");
        assert_eq!(b["parameter"], param, "{uri}: {b}");
    }

    // outside a daemon the sensors are the stored positions
    let (s, b) = get(&r, "/api/v1/sensors").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["sensors"], serde_json::json!([]));
}

#[tokio::test]
async fn the_openapi_document_covers_every_route_and_matches_the_json() {
    let r = rig();
    let (s, b) = get(&r, "/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/alerts",
        "/api/v1/alerts/{id}",
        "/api/v1/alerts/{id}/acknowledge",
        "/api/v1/alerts/{id}/resolve",
        "/api/v1/stream",
        "/api/v1/entities",
        "/api/v1/stats",
        "/api/v1/sensors",
        "/api/v1/timeline",
        "/metrics",
        "/api/openapi.json",
    ] {
        assert!(b["paths"].get(path).is_some(), "{path} undocumented");
    }
    assert_eq!(
        b["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    // the documented alert is the alert the API returns (with its workflow fields set, and
    // an anomaly alert's detail)
    let mut a = alert(50, "anomaly", Severity::High, 1_700_000_500);
    a.detail = Some(Box::new(tripline_event::Detail {
        key: "anomaly".into(),
        value: serde_json::json!({
            "raw_score": 0.71,
            "percentile": 99.93,
            "band": "high",
            "features": [{"name": "failures", "value": 14.0, "baseline_median": 0.0}],
        }),
    }));
    // what its unusual features point at, not the rule's (empty) list
    a.techniques = tripline_event::Techniques::Borrowed(&["T1078", "T1110"]);
    Store::open(&r._dir.path().join("t.db"))
        .unwrap()
        .commit(std::slice::from_ref(&a), &[], &[])
        .unwrap();
    let uri = format!("/api/v1/alerts/{}/acknowledge", a.id);
    let (_, detail, _) = call(&r, "POST", &uri, Some(TOKEN), Some(r#"{"by":"x"}"#)).await;
    let schemas = &b["components"]["schemas"];
    assert_eq!(
        keys(&schemas["Alert"]["properties"]),
        keys(&detail["alert"])
    );
    let stored = &detail["alert"]["anomaly"];
    assert_eq!(stored["percentile"], 99.93, "{detail}");
    assert_eq!(stored["features"][0]["name"], "failures");
    let ids: Vec<&str> = detail["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["T1078", "T1110"], "{detail}");
    assert_eq!(
        detail["alert"]["techniques"],
        serde_json::json!(["T1078", "T1110"])
    );
    let (_, st) = get(
        &r,
        "/api/v1/stats?since=1700000400&until=1700000600&bucket=1m",
    )
    .await;
    let valid: u64 = st["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["by_technique"]["T1078"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        valid, 1,
        "the anomaly alert counts under its own techniques: {st}"
    );
    assert_eq!(keys(&schemas["AnomalyDetail"]["properties"]), keys(stored));
    assert_eq!(
        keys(&schemas["FeatureDetail"]["properties"]),
        keys(&stored["features"][0])
    );
    // and a rule's alert, which names its techniques
    let uri = format!("/api/v1/alerts/{}/acknowledge", r.alerts[1].id);
    let (_, detail, _) = call(&r, "POST", &uri, Some(TOKEN), Some(r#"{"by":"x"}"#)).await;
    assert_eq!(keys(&schemas["AlertDetail"]["properties"]), keys(&detail));
    assert_eq!(
        keys(&schemas["Technique"]["properties"]),
        keys(&detail["techniques"][0])
    );
    assert_eq!(
        keys(&schemas["Entity"]["properties"]),
        keys(&detail["alert"]["entity"])
    );
    let (_, page) = get(&r, "/api/v1/alerts?limit=1").await;
    assert_eq!(keys(&schemas["AlertPage"]["properties"]), keys(&page));
    let (_, ents) = get(&r, "/api/v1/entities?since=1699990000").await;
    assert_eq!(
        keys(&schemas["EntitySummary"]["properties"]),
        keys(&ents["entities"][0])
    );
    let (_, stats) = get(&r, "/api/v1/stats?since=1699990000&bucket=1h").await;
    assert_eq!(keys(&schemas["Stats"]["properties"]), keys(&stats));
    assert_eq!(
        keys(&schemas["Bucket"]["properties"]),
        keys(&stats["buckets"][0])
    );
    let t = &stats["techniques"];
    let first = t.as_object().unwrap().values().next().unwrap();
    assert_eq!(keys(&schemas["TechniqueName"]["properties"]), keys(first));
    let uri = format!("/api/v1/timeline?entity={}", r.alerts[1].src_ip.unwrap());
    let (_, tl) = get(&r, &uri).await;
    assert_eq!(keys(&schemas["Timeline"]["properties"]), keys(&tl));
    let documented = keys(&schemas["TimelineItem"]["properties"]);
    for item in tl["items"].as_array().unwrap() {
        for k in keys(item) {
            assert!(
                documented.contains(&k),
                "timeline item key {k} undocumented"
            );
        }
    }
    let (_, err) = get(&r, "/api/v1/alerts?limit=0").await;
    assert_eq!(keys(&schemas["Error"]["properties"]), keys(&err));
    // and it is behind the token like the rest
    let (s, _, _) = call(&r, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// A request with headers of our choosing; the body as text.
async fn raw(
    rig: &Rig,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, String, axum::http::HeaderMap) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app(rig.state.clone())
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into(), headers)
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// Sign in with the form; the session cookie as `name=value`.
async fn sign_in(r: &Rig) -> String {
    let (s, _, h) = raw(r, "POST", "/login", &[FORM], &format!("token={TOKEN}")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/");
    let cookie = h["set-cookie"].to_str().unwrap().to_string();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains(TOKEN), "the cookie is not the token");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP: a Secure cookie would never come back"
    );
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn the_login_form_trades_the_token_for_a_session_cookie() {
    let r = rig();
    // strangers are sent to the form, which needs no script
    let (s, _, h) = raw(&r, "GET", "/", &[], "").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/login");
    let (s, page, h) = raw(&r, "GET", "/login", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.contains("name=\"token\"") && !page.contains("<script"));
    // a wrong token: the form again, a 401, no cookie
    let (s, page, h) = raw(&r, "POST", "/login", &[FORM], "token=nope").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(page.contains("not the token"));
    assert!(h.get("set-cookie").is_none());
    // a body that is not the form: 400 naming the field
    let (s, body, _) = raw(&r, "POST", "/login", &[FORM], "user=x").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("\"parameter\":\"token\""), "{body}");
    let big = format!("token={}", "a".repeat(20_000));
    let (s, _, _) = raw(&r, "POST", "/login", &[FORM], &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    // the right one: a cookie that opens the page, its script and the API
    let cookie = sign_in(&r).await;
    let c = [("cookie", cookie.as_str())];
    let (s, page, _) = raw(&r, "GET", "/", &c, "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("/assets/app.js"));
    assert_eq!(
        raw(&r, "GET", "/login", &c, "").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        raw(&r, "GET", "/assets/app.js", &c, "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        raw(&r, "GET", "/api/v1/alerts", &c, "").await.0,
        StatusCode::OK
    );
    // the script needs the session; the stylesheet and icon the form uses do not
    assert_eq!(
        raw(&r, "GET", "/assets/app.js", &[], "").await.0,
        StatusCode::UNAUTHORIZED
    );
    for open in ["/assets/app.css", "/assets/icon.svg"] {
        assert_eq!(
            raw(&r, "GET", open, &[], "").await.0,
            StatusCode::OK,
            "{open}"
        );
    }
    // a made-up session is nobody
    let fake = [("cookie", "tripline_session=00ff")];
    assert_eq!(
        raw(&r, "GET", "/api/v1/alerts", &fake, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        raw(&r, "GET", "/", &fake, "").await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_change_with_the_cookie_needs_the_csrf_header_and_sign_out_ends_it() {
    let r = rig();
    let cookie = sign_in(&r).await;
    let uri = format!("/api/v1/alerts/{}/acknowledge", r.alerts[2].id);
    let json = ("content-type", "application/json");
    let (s, body, _) = raw(&r, "POST", &uri, &[("cookie", &cookie), json], "{}").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (_, b) = get(&r, &format!("/api/v1/alerts/{}", r.alerts[2].id)).await;
    assert_eq!(b["alert"]["state"], "open", "refused means unchanged");
    let marked = [("cookie", cookie.as_str()), ("x-tripline-csrf", "1"), json];
    let (s, body, _) = raw(&r, "POST", &uri, &marked, r#"{"by":"dashboard"}"#).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("\"state_by\":\"dashboard\""));
    // the bearer token needs no such header (it is not sent by browsers on their own)
    let uri = format!("/api/v1/alerts/{}/resolve", r.alerts[2].id);
    assert_eq!(
        call(&r, "POST", &uri, Some(TOKEN), None).await.0,
        StatusCode::OK
    );

    let (s, _, h) = raw(&r, "POST", "/logout", &marked[..2], "").await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(h["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(
        raw(&r, "GET", "/api/v1/alerts", &[("cookie", &cookie)], "")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_response_carries_a_strict_content_security_policy() {
    let r = rig();
    let cookie = sign_in(&r).await;
    for (uri, cookie) in [
        ("/healthz", None),
        ("/login", None),
        ("/", Some(cookie.as_str())),
        ("/assets/app.js", Some(cookie.as_str())),
        ("/api/v1/alerts", Some(cookie.as_str())),
        ("/api/v1/alerts", None),
        ("/no/such/route", None),
    ] {
        let h: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        let (_, _, headers) = raw(&r, "GET", uri, &h, "").await;
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{uri}: {csp}");
        assert!(csp.contains("script-src 'self';"), "{uri}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(headers["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(headers["x-frame-options"], "DENY", "{uri}");
    }
}

#[tokio::test]
async fn the_dashboard_first_load_is_under_300_kb() {
    let r = rig();
    let cookie = sign_in(&r).await;
    let mut total = 0;
    for (path, _) in tripline_api::dashboard::ASSETS {
        let (s, body, h) = raw(&r, "GET", path, &[("cookie", &cookie)], "").await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let kind = h["content-type"].to_str().unwrap();
        let want = match path.rsplit('.').next().unwrap() {
            "js" => "text/javascript",
            "css" => "text/css",
            "svg" => "image/svg+xml",
            _ => "text/html",
        };
        assert!(kind.starts_with(want), "{path}: {kind}");
        total += body.len();
    }
    // plus the first API answers, over a store of a dozen alerts
    for uri in [
        "/api/v1/alerts?limit=50",
        "/api/v1/stats?since=24h&bucket=1h",
        "/api/v1/entities?since=24h&limit=10",
        "/api/v1/sensors",
    ] {
        total += raw(&r, "GET", uri, &[("cookie", &cookie)], "")
            .await
            .1
            .len();
    }
    assert!(total <= 300 * 1024, "first load {total} bytes");
}

fn event(ts: i64, ip: &str, user: &str, raw: &str) -> tripline_event::Event {
    use tripline_event::{AuthMethod, Event, Kind, SensorKind};
    let kind = Kind::Auth(AuthKind::Failure {
        method: AuthMethod::Password,
        invalid_user: false,
    });
    let ts = Timestamp::from_secs(ts);
    Event {
        src_ip: ip.parse().ok(),
        user: Some(user.into()),
        session: Some("4242".into()),
        hostile: true,
        ..Event::new(ts, SensorKind::Files, "web1".into(), kind, raw.into())
    }
}

#[tokio::test]
async fn timelines_merge_stored_alerts_and_events_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut store = Store::open(&db).unwrap();
    let a = alert(7, "ssh.bruteforce", Severity::High, 1_700_000_100);
    let batch = Arc::new(vec![
        event(1_700_000_000, "203.0.113.7", "root", "first"),
        event(1_700_000_010, "198.51.100.1", "root", "someone else"),
        event(
            1_700_000_200,
            "203.0.113.7",
            "admin",
            "after the alert opened",
        ),
    ]);
    store
        .commit_with_events(std::slice::from_ref(&a), &[], &[], &[(batch, 3)])
        .unwrap();
    // of a batch, only the first n events that name an entity are stored
    let mut nameless = event(1_700_000_300, "", "", "no entity");
    (nameless.user, nameless.session) = (None, None);
    let capped = Arc::new(vec![
        nameless,
        event(1_700_000_301, "192.0.2.9", "x", "kept"),
        event(1_700_000_302, "192.0.2.9", "x", "over the budget"),
    ]);
    assert_eq!(
        store
            .commit_with_events(&[], &[], &[], &[(capped, 1)])
            .unwrap()
            .events,
        1
    );
    // events of one second (one time), stored in the order they came
    let same = Arc::new(
        ["one", "two", "three"]
            .map(|raw| {
                let mut e = event(1_700_000_400, "192.0.2.44", "", raw);
                (e.user, e.session) = (None, None);
                e
            })
            .to_vec(),
    );
    store
        .commit_with_events(&[], &[], &[], &[(same, 3)])
        .unwrap();
    let state = Arc::new(ApiState::open(&db, TOKEN.into(), 1).unwrap());
    let r = Rig {
        _dir: dir,
        state,
        alerts: vec![a],
    };
    // regression: within one time they came newest first
    let (_, t) = get(&r, "/api/v1/timeline?entity=192.0.2.44").await;
    let raws: Vec<_> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["raw"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(raws, ["one", "two", "three"], "{t}");
    let (s, t) = get(&r, "/api/v1/timeline?entity=203.0.113.7").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let kinds: Vec<_> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["type"].as_str().unwrap(), i["raw"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        kinds,
        [
            ("event", "first"),
            ("alert", ""),
            ("event", "after the alert opened")
        ]
    );
    assert_eq!(t["items"][1]["alert"]["id"], r.alerts[0].id.as_str());
    assert_eq!(t["items"][0]["kind"], "auth.failure");
    assert_eq!(t["items"][0]["ts"], "2023-11-14T22:13:20Z");
    // a network reaches its addresses' events; a user name, or a session, its events
    let (_, t) = get(&r, "/api/v1/timeline?entity=203.0.113.0/24").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 2, "{t}");
    let (_, t) = get(&r, "/api/v1/timeline?entity=admin").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(t["items"][0]["raw"], "after the alert opened");
    let (_, t) = get(&r, "/api/v1/timeline?entity=4242").await;
    assert_eq!(
        t["items"].as_array().unwrap().len(),
        4,
        "session 4242's events: {t}"
    );
    let (_, t) = get(&r, "/api/v1/timeline?entity=192.0.2.9").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 1, "{t}");
    // as the CLI prints it too, and an IPv6 address is a value, not a type
    let (_, typed) = get(&r, "/api/v1/timeline?entity=ip:203.0.113.7").await;
    assert_eq!(typed["items"].as_array().unwrap().len(), 3, "{typed}");
    let (s, _) = get(&r, "/api/v1/timeline?entity=2001:db8::7").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t["items"][0]["raw"], "kept");
    // the latest `limit` of each
    let (_, t) = get(&r, "/api/v1/timeline?entity=203.0.113.7&limit=1").await;
    let raws: Vec<_> = t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].clone())
        .collect();
    assert_eq!(raws, ["alert", "event"], "{t}");
    assert_eq!(t["items"][1]["raw"], "after the alert opened");
    // bad input is named
    for (uri, param) in [
        ("/api/v1/timeline", "entity"),
        ("/api/v1/timeline?entity=", "entity"),
        ("/api/v1/timeline?entity=x&limit=0", "limit"),
        ("/api/v1/timeline?entity=x&color=red", "color"),
    ] {
        let (s, e) = get(&r, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(e["parameter"], param, "{uri}");
    }
}

#[tokio::test]
async fn over_tls_the_session_cookie_is_secure() {
    let r = rig();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    Store::open(&db).unwrap();
    let state = ApiState::open(&db, TOKEN.into(), 1)
        .unwrap()
        .with_secure_cookies(true);
    let r = Rig {
        state: Arc::new(state),
        ..r
    };
    let (s, _, h) = raw(&r, "POST", "/login", &[FORM], &format!("token={TOKEN}")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["set-cookie"].to_str().unwrap().ends_with("; Secure"));
}
