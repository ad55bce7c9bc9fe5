//! Golden tests: each rule's cases beside it (`src/rules/RULE/NAME.log`) and the cases of the
//! detector as a whole (`tests/golden/`, the allowlist, thresholds, the JSON-lines mapping).
//! Each `NAME.log` (syslog lines) or `NAME.jsonl` (events as JSON,
//! one per line: `time`, `event` (the kind's name), `src_ip`, `user`, `session`, `count`, read
//! by the JSON-lines source's mapping, so the sources that are not log lines are covered too) is
//! fed through the real parser and detectors; the alerts must be exactly those in
//! `golden/NAME.expected` (`rule entity count severity` per line, sorted), or none when that
//! file is empty. Every case runs with 1 and with 3 shards and must give the same answer:
//! sharding may not change what is detected.
//!
//! A `#! key=value` line at the top of a case overrides detection settings for that case.

use std::path::Path;
use std::sync::Arc;
use tripline_detect::{DetectConfig, Output, Rules};
use tripline_event::net::Cidr;
use tripline_event::{SensorKind, SourcePos, Timestamp};
use tripline_sensors::{LineParser, TimeContext};

fn run_case(log: &str, json: bool, shards: usize) -> Vec<String> {
    let mut cfg = DetectConfig::default();
    for line in log.lines().filter_map(|l| l.strip_prefix("#! ")) {
        let (k, v) = line.split_once('=').expect("#! key=value");
        match k.trim() {
            "learning_period_seconds" => cfg.learning_period_seconds = v.trim().parse().unwrap(),
            "cooldown_seconds" => cfg.cooldown_seconds = v.trim().parse().unwrap(),
            // `rules.RULE.FIELD = VALUE` (VALUE in JSON)
            other if other.starts_with("rules.") => {
                let path: Vec<&str> = other.split('.').skip(1).collect();
                let mut rules = serde_json::to_value(&cfg.rules).unwrap();
                rules[path[0]][path[1]] = serde_json::from_str(v.trim()).unwrap();
                cfg.rules = serde_json::from_value(rules).unwrap();
            }
            other => panic!("unknown override {other}"),
        }
    }
    let cfg = Arc::new(cfg);
    let allow = vec![
        Cidr::parse("127.0.0.0/8").unwrap(),
        Cidr::parse("::1").unwrap(),
    ];
    let mut dets: Vec<Rules> = (0..shards)
        .map(|i| Rules::new(cfg.clone(), allow.clone(), i, shards))
        .collect();
    let mut parser = LineParser::new(
        TimeContext::utc().with_year(Some(2024)),
        SensorKind::Files,
        "testhost",
    );
    let mapping = tripline_sensors::jsonl::Mapping::new(&tripline_sensors::jsonl::JsonlConfig {
        fields: tripline_sensors::jsonl::Fields {
            count: "count".into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let host: Arc<str> = "testhost".into();
    let mut alerts = std::collections::BTreeMap::new();
    for (n, line) in log
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .enumerate()
    {
        let ev = if json {
            let pos = SourcePos::default();
            let ev = mapping.event_in(&mut parser, None, line, Timestamp(0), pos, &host);
            ev.unwrap_or_else(|()| panic!("not a JSON event: {line}"))
        } else {
            parser.event(line, Timestamp(0), SourcePos::default())
        };
        if let Some(ev) = ev {
            for (i, d) in dets.iter_mut().enumerate() {
                let roles = tripline_detect::roles_of(&ev, shards, i, Rules::KEYS);
                if !roles.is_empty() {
                    d.process_as(&ev, roles);
                }
            }
        }
        // flush every few lines, as batches do
        if n % 3 == 2 {
            for d in dets.iter_mut() {
                collect(d.flush(), &mut alerts);
            }
        }
    }
    for d in dets.iter_mut() {
        collect(d.flush(), &mut alerts);
    }
    alerts
        .into_values()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn collect(out: Vec<Output>, alerts: &mut std::collections::BTreeMap<String, String>) {
    for o in out {
        if let Output::Alert(a) = o {
            assert!(!a.explanation.is_empty(), "{}: empty explanation", a.rule);
            assert!(!a.techniques.is_empty(), "{}: no ATT&CK technique", a.rule);
            assert!(
                (0.0..=1.0).contains(&a.score),
                "{}: score {}",
                a.rule,
                a.score
            );
            assert!(
                !a.evidence.is_empty() && a.evidence.len() <= 10,
                "{}: evidence",
                a.rule
            );
            assert!(a.first_seen <= a.last_seen);
            let line = format!(
                "{} {}:{} {} {}",
                a.rule,
                a.entity.type_name(),
                a.entity.value(),
                a.count,
                a.severity.as_str()
            );
            alerts.insert(a.id.to_string(), line);
        }
    }
}

#[test]
fn golden_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = 0;
    let mut failures = vec![];
    let files = |dir: &Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect()
    };
    let mut entries = files(&root.join("tests/golden"));
    for rule in files(&root.join("src/rules")).iter().filter(|p| p.is_dir()) {
        entries.extend(files(rule));
    }
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "jsonl"))
    {
        cases += 1;
        let log = std::fs::read_to_string(path).unwrap();
        let expected_path = path.with_extension("expected");
        let expected: Vec<String> = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("missing {}", expected_path.display()))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect();
        for shards in [1, 3] {
            let json = path.extension().is_some_and(|e| e == "jsonl");
            let got = run_case(&log, json, shards);
            if got != expected {
                failures.push(format!(
                    "{} ({shards} shards)\n  expected:\n    {}\n  got:\n    {}",
                    path.strip_prefix(root).unwrap().display(),
                    expected.join("\n    "),
                    got.join("\n    ")
                ));
            }
        }
    }
    assert!(cases >= 16, "only {cases} golden cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
