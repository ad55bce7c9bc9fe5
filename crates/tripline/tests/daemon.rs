//! `tripline run` as a daemon: it alerts on lines appended to a watched file, follows a rename
//! rotation without losing the rotated file's last lines, and on SIGTERM stops with its position
//! committed, so a restart neither re-reads nor skips anything.

mod common;

use common::{append, failures, http, start, watch_config};
use std::io::Write;
use std::time::{Duration, Instant};
use tripline_store::Store;

#[test]
fn run_alerts_follows_rotation_and_stops_with_position_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let (cfg, log) = watch_config(
        dir.path(),
        "[output]\nstdout_json = true\n[api]\nbind = \"127.0.0.1:0\"\n",
    );

    let d = start(&cfg);
    append(&log, &failures("198.51.100.1", 5));
    let a = d.wait_alert("ssh.bruteforce", "198.51.100.1");
    assert_eq!(a["count"], 5);

    // the API of the running daemon, on a real socket: open health, token for the rest
    assert!(!d.api.is_empty(), "no api address in the ready line");
    assert_eq!(http(&d.api, "GET", "/healthz", None).0, 200);
    assert_eq!(http(&d.api, "GET", "/api/v1/alerts", None).0, 401);
    let token = std::fs::read_to_string(dir.path().join("api.token")).unwrap();
    let token = token.trim();
    assert_eq!(http(&d.api, "GET", "/readyz", Some(token)).0, 200);
    let (status, body) = http(
        &d.api,
        "GET",
        "/api/v1/alerts?rule=ssh.bruteforce",
        Some(token),
    );
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["alerts"][0]["src_ip"], "198.51.100.1");
    assert_eq!(list["alerts"][0]["id"], a["id"]);
    let ack = format!("/api/v1/alerts/{}/acknowledge", a["id"].as_str().unwrap());
    let (status, body) = http(&d.api, "POST", &ack, Some(token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"state\":\"acknowledged\""), "{body}");
    // the live stream: an alert stored after subscribing arrives as an SSE event
    {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(&d.api).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut got = String::new();
        let mut buf = [0u8; 4096];
        // the response head first, so the subscription exists before the attack is written
        while !got.contains("\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "stream closed: {got}");
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        append(&log, &failures("198.51.100.9", 5));
        let end = Instant::now() + Duration::from_secs(5);
        while !got.contains("198.51.100.9") {
            assert!(Instant::now() < end, "no alert on the stream: {got}");
            let n = s.read(&mut buf).unwrap();
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(got.contains("event: alert"), "{got}");
    }
    d.wait_alert("ssh.bruteforce", "198.51.100.9");

    // the sensors' state: the watched file, read to its end
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = http(&d.api, "GET", "/api/v1/sensors", Some(token));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let s = &v["sensors"][0];
        if s["lines"] == 10 && s["lag_bytes"] == 0 {
            assert_eq!(s["path"], log.display().to_string());
            assert_eq!(s["state"], "reading");
            assert_eq!(s["events"], 10);
            assert_eq!(s["offset"], s["size"]);
            break;
        }
        assert!(
            Instant::now() < end,
            "sensors never showed the file read: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // every stage in the metrics
    assert_eq!(http(&d.api, "GET", "/metrics", None).0, 401);
    let (status, text) = http(&d.api, "GET", "/metrics", Some(token));
    assert_eq!(status, 200);
    let source = log.display().to_string();
    for want in [
        format!("tripline_sensor_lines_total{{sensor=\"files\",source=\"{source}\"}} 10\n"),
        format!("tripline_sensor_events_total{{sensor=\"files\",source=\"{source}\"}} 10\n"),
        "tripline_store_alert_writes_total{rule=\"ssh.bruteforce\",severity=\"high\"} 2\n".into(),
        "tripline_pipeline_latency_seconds_count ".into(),
        "tripline_detect_tracked_entities{shard=\"0\"}".into(),
        "tripline_process_resident_memory_bytes ".into(),
    ] {
        assert!(text.contains(&want), "no {want:?} in\n{text}");
    }

    // rename rotation: the last lines of the old file arrive after the rename
    let rotated = dir.path().join("auth.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    append(&rotated, &failures("198.51.100.2", 5));
    append(&log, &failures("198.51.100.3", 5));
    d.wait_alert("ssh.bruteforce", "198.51.100.2");
    d.wait_alert("ssh.bruteforce", "198.51.100.3");
    d.sigterm();

    let name = format!("file:{}", std::fs::canonicalize(&log).unwrap().display());
    let pos = Store::open(&db)
        .unwrap()
        .checkpoint(&name)
        .unwrap()
        .unwrap();
    let pos = tripline_sensors::files::parse_checkpoint(&pos.value).unwrap();
    let len = std::fs::metadata(&log).unwrap().len();
    assert_eq!(pos.offset, len, "position not committed at SIGTERM");

    // a restart reads only what was appended while it was down
    append(&log, &failures("198.51.100.4", 5));
    let d = start(&cfg);
    let a = d.wait_alert("ssh.bruteforce", "198.51.100.4");
    assert_eq!(a["count"], 5);
    // nothing from before the stop comes back
    std::thread::sleep(Duration::from_millis(500));
    while let Ok(a) = d.alerts.try_recv() {
        assert_ne!(a["src_ip"], "198.51.100.3", "re-read after restart: {a}");
    }
    // the timeline keeps every event across the restart, each once (the warm-up replay of
    // what was read before the stop stores nothing again)
    for ip in ["198.51.100.1", "198.51.100.3", "198.51.100.4"] {
        let (status, body) = http(
            &d.api,
            "GET",
            &format!("/api/v1/timeline?entity={ip}"),
            Some(token),
        );
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let items = v["items"].as_array().unwrap();
        let events = items.iter().filter(|i| i["type"] == "event").count();
        let alerts = items.iter().filter(|i| i["type"] == "alert").count();
        assert_eq!((events, alerts), (5, 1), "{ip}: {v}");
    }
    d.sigterm();
}

#[test]
fn run_serves_https_with_a_certificate_and_names_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=tripline test"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (./scripts/check installs it)");
    assert!(made.status.success());
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").unwrap();
    let config = |cert: &std::path::Path| {
        format!(
            "data_dir = {:?}\n[sources.files]\npaths = [{:?}]\n[sources.journald]\nenabled = false\n\
             [sources.cowrie]\nenabled = false\n[api]\nbind = \"127.0.0.1:0\"\n\
             tls_cert = {:?}\ntls_key = {:?}\n",
            dir.path().display().to_string(),
            log.display().to_string(),
            cert.display().to_string(),
            key.display().to_string()
        )
    };
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, config(&cert)).unwrap();
    let d = start(&cfg);
    let token = std::fs::read_to_string(dir.path().join("api.token")).unwrap();
    let target = tripline::client::Target {
        addr: d.api.clone(),
        tls: Some((
            tripline_api::tls::client_config(&cert).unwrap(),
            "127.0.0.1".into(),
        )),
    };
    let mut conn = tripline::client::HttpConn::open(&target).unwrap();
    let v = conn
        .get_json(&d.api, token.trim(), "/api/v1/alerts")
        .unwrap();
    assert!(v["alerts"].is_array(), "{v}");
    // plain HTTP gets no answer from the TLS port
    assert!(
        tripline::client::HttpConn::open(&tripline::client::Target::plain(&d.api))
            .and_then(|mut c| c.request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
            .is_err()
    );
    d.sigterm();

    // a certificate that is not one: no start, the keys and the file named
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "junk\n").unwrap();
    std::fs::write(&cfg, config(&junk)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tripline"))
        .arg("-c")
        .arg(&cfg)
        .arg("run")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("api.tls_cert") && err.contains("junk.pem"),
        "{err}"
    );
}

/// What `run` stores is history `train --from-store` learns from: the same behaviour windows as
/// training on the log file itself. A store that is not there is named.
#[test]
fn train_from_store_learns_the_windows_of_the_watched_log() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, log) = watch_config(
        dir.path(),
        "max_events_per_second = 1000000\n[api]\nbind = \"127.0.0.1:0\"\n",
    );
    let normal = dir.path().join("normal.log");
    let gen = std::process::Command::new(env!("CARGO_BIN_EXE_tripline"))
        .args([
            "gen",
            "auth-log",
            "--lines",
            "20000",
            "--attacks",
            "0",
            "--noise",
            "5",
        ])
        .arg("--out")
        .arg(&normal)
        .status()
        .unwrap();
    assert!(gen.success());
    let d = start(&cfg);
    append(&log, &std::fs::read_to_string(&normal).unwrap());
    let token = std::fs::read_to_string(dir.path().join("api.token")).unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = http(&d.api, "GET", "/api/v1/sensors", Some(token.trim()));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["sensors"][0]["lines"] == 20000 && v["sensors"][0]["lag_bytes"] == 0 {
            break;
        }
        assert!(Instant::now() < end, "the log was never read: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    d.sigterm();

    let train = |args: &[&str], out: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_tripline"))
            .arg("-c")
            .arg(&cfg)
            .arg("train")
            .args(args)
            .args(["--out", out])
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        (o.status.success(), text)
    };
    let windows = |text: &str| -> u64 {
        let n = text.split("trained on ").nth(1).expect(text);
        n.split(' ').next().unwrap().parse().unwrap()
    };
    let store_out = dir.path().join("store.model");
    let (ok, from_store) = train(
        &["--from-store", "--since", "30d"],
        store_out.to_str().unwrap(),
    );
    assert!(ok, "{from_store}");
    let stored = Store::open(&dir.path().join("d.db"))
        .unwrap()
        .for_each_event_since(tripline_event::Timestamp(0), |_| {})
        .unwrap();
    assert!(
        from_store.contains(&format!("({stored} stored events, {stored} events)")),
        "every stored event is read and understood: {from_store}"
    );
    let (ok, from_file) = train(
        &["--from", normal.to_str().unwrap()],
        dir.path().join("file.model").to_str().unwrap(),
    );
    assert!(ok, "{from_file}");
    assert!(windows(&from_store) > 500, "{from_store}");
    assert_eq!(
        windows(&from_store),
        windows(&from_file),
        "{from_store}\n{from_file}"
    );
    let model = tripline_anomaly::Model::load(&store_out, None).unwrap();
    assert!(
        model.training.source.contains("d.db"),
        "{:?}",
        model.training.source
    );

    // nothing stored that recently / no store at all: refused, by name
    let (ok, text) = train(&["--from-store", "--since", "1s"], "x.model");
    assert!(
        !ok && text.contains("behaviour windows") && text.contains("training_samples"),
        "{text}"
    );
    let (ok, text) = train(&["--from-store", "--db", "/nonexistent/t.db"], "x.model");
    assert!(!ok && text.contains("/nonexistent/t.db"), "{text}");
}
