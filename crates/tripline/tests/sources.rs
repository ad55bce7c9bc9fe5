//! The source contract end to end: a `type = "jsonl"` source (an application's own security
//! log, mapped to events in the configuration) feeds the same rules as the syslog files, live
//! in `tripline run` and in a scan, shows among the sensors and in the metrics, resumes at its
//! checkpoint, and its alerts reach the responders their decide filters let through.

mod common;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// `n` failed logins of `ip` as the application writes them: its own field names and values.
fn app_failures(ip: &str, n: usize) -> String {
    let now = tripline_event::Timestamp::now();
    (0..n)
        .map(|i| {
            format!(
                "{{\"ts\":\"{now}\",\"action\":\"login_failed\",\"client\":{{\"ip\":\"{ip}\"}},\"account\":\"admin{}\"}}\n",
                i % 2
            )
        })
        .collect()
}

/// The TOML of a JSON-lines source called `myapp` on `log`.
fn myapp(log: &Path) -> String {
    format!(
        "[sources.myapp]\ntype = \"jsonl\"\npaths = [{:?}]\n\
         [sources.myapp.fields]\ntime = \"ts\"\nkind = \"action\"\nsrc_ip = \"client.ip\"\nuser = \"account\"\n\
         [sources.myapp.kinds]\nlogin_failed = \"auth.failure\"\nlogin_ok = \"auth.success\"\n",
        log.display().to_string()
    )
}

#[test]
fn a_jsonl_source_feeds_the_rules_live_resumes_at_its_checkpoint_and_reaches_the_responders() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.jsonl");
    std::fs::write(&app, "").unwrap();
    let stream = dir.path().join("stream.jsonl");
    let incidents = dir.path().join("incidents");
    let extra = format!(
        "[output]\nstdout_json = true\nstream_jsonl = {:?}\nincidents_dir = {:?}\n\
         [output.decide.stream_jsonl]\nmin_severity = \"critical\"\n\
         [output.decide.incidents]\nrules = [\"ssh.*\"]\nsensors = [\"jsonl\"]\n\
         [api]\nbind = \"127.0.0.1:0\"\n{}",
        stream.display().to_string(),
        incidents.display().to_string(),
        myapp(&app)
    );
    let (cfg, _log) = watch_config(dir.path(), &extra);
    let d = start(&cfg);
    append(&app, &app_failures("203.0.113.61", 5));
    let a = d.wait_alert("ssh.bruteforce", "203.0.113.61");
    assert_eq!(a["count"], 5, "{a}");
    assert_eq!(a["sensor"], "jsonl");
    assert!(a["evidence"][0]
        .as_str()
        .unwrap()
        .contains("\"action\":\"login_failed\""));

    // the source is one of the sensors, with its counters, and in the metrics
    let token = std::fs::read_to_string(dir.path().join("api.token")).unwrap();
    let token = token.trim();
    let end = Instant::now() + Duration::from_secs(5);
    let app_path = app.display().to_string();
    loop {
        let (status, body) = http(&d.api, "GET", "/api/v1/sensors", Some(token));
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mine = v["sensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == app_path.as_str())
            .cloned();
        if let Some(s) = mine.filter(|s| s["events"] == 5) {
            assert_eq!(s["sensor"], "jsonl", "{s}");
            assert_eq!(s["lines"], 5, "{s}");
            break;
        }
        assert!(Instant::now() < end, "{body}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, metrics) = http(&d.api, "GET", "/metrics", Some(token));
    let want = format!("tripline_sensor_events_total{{sensor=\"jsonl\",source=\"{app_path}\"}} 5");
    assert!(metrics.contains(&want), "no {want} in\n{metrics}");
    assert!(
        metrics.contains(
            r#"tripline_respond_alerts_total{responder="stream_jsonl",outcome="filtered"}"#
        ),
        "{metrics}"
    );

    // the decide filters: a high alert is not critical (stream.jsonl), but is ssh.* from jsonl
    let end = Instant::now() + Duration::from_secs(5);
    while std::fs::read_dir(&incidents).map_or(0, |d| d.count()) == 0 {
        assert!(Instant::now() < end, "no incident report");
        std::thread::sleep(Duration::from_millis(50));
    }
    d.sigterm();
    assert_eq!(std::fs::read_to_string(&stream).unwrap_or_default(), "");

    // a restart resumes after the stored checkpoint: the alert grows by what is new only
    let key = format!("myapp:{}", std::fs::canonicalize(&app).unwrap().display());
    let db = tripline_store::Store::open(&dir.path().join("d.db")).unwrap();
    let cp = db.checkpoint(&key).unwrap().expect("checkpoint stored");
    let len = std::fs::metadata(&app).unwrap().len();
    assert_eq!(
        tripline_sensors::files::parse_checkpoint(&cp.value).map(|c| c.offset),
        Some(len)
    );
    append(&app, &app_failures("203.0.113.61", 1));
    let d = start(&cfg);
    let a = d.wait_alert("ssh.bruteforce", "203.0.113.61");
    assert_eq!(a["count"], 6, "{a}");
    d.sigterm();
}

#[test]
fn once_scans_files_as_a_configured_source_reads_them_and_names_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.jsonl");
    let mut text = app_failures("198.51.100.71", 6);
    text.push_str("not json at all\n{\"action\":\"page_view\"}\n");
    std::fs::write(&app, text).unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, myapp(&app)).unwrap();
    let db = dir.path().join("s.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tripline"))
        .arg("-c")
        .arg(&cfg)
        .args(["once", "--json", "--source", "myapp", "--db"])
        .arg(&db)
        .arg(&app)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let brute: Vec<_> = alerts
        .iter()
        .filter(|a| a["rule"] == "ssh.bruteforce")
        .collect();
    assert_eq!(brute.len(), 1, "{alerts:?}");
    assert_eq!(brute[0]["count"], 6);
    assert_eq!(brute[0]["sensor"], "jsonl");
    // two accounts, three tries each: a brute force and nothing else
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(err.contains("1 lines were not valid JSON"), "{err}");

    // a source that is not configured, and a table that is wrong, are named
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tripline"))
        .arg("-c")
        .arg(&cfg)
        .args(["once", "--source", "nope", "--db"])
        .arg(&db)
        .arg(&app)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--source nope") && err.contains("myapp"),
        "{err}"
    );
    std::fs::write(
        &cfg,
        "[sources.myapp]\ntype = \"jsonl\"\npaths = [\"/x\"]\n[sources.myapp.kinds]\nx = \"auth.nope\"\n\
         [sources.other]\npaths = []\n[sources.third]\ntype = \"nope\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tripline"))
        .arg("config")
        .arg("check")
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for want in [
        "sources.myapp.kinds.x = \"auth.nope\": not an event kind",
        "sources.other: needs `type",
        "sources.third.type = \"nope\": not a source type (one of files, cowrie, journald, jsonl)",
    ] {
        assert!(err.contains(want), "no {want:?} in {err}");
    }
}
