//! The binary, run as a user would: scanning files, parsing lines, config errors, and resuming
//! after a scan without duplicating alerts.

use std::process::Command;

fn tripline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tripline"))
}

/// Run a command that must succeed (its stderr shown when it does not).
fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `once --json --year 2024` of `log` into the database `db`: the alerts, and stderr.
fn once_json(db: &std::path::Path, log: &std::path::Path) -> (Vec<serde_json::Value>, String) {
    let out = succeed(
        tripline()
            .args(["once", "--json", "--year", "2024", "--db"])
            .arg(db)
            .arg(log),
    );
    (
        json_lines(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One JSON value per line.
fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Five attempts from one address (the invalid user's announcement and its first failure are
/// one attempt).
const ATTACK: &str = "Mar  4 10:00:01 web1 sshd[100]: Failed password for root from 203.0.113.5 port 40001 ssh2
Mar  4 10:00:20 web1 sshd[100]: Failed password for root from 203.0.113.5 port 40001 ssh2
Mar  4 10:00:40 web1 sshd[101]: Invalid user admin from 203.0.113.5 port 40002
Mar  4 10:01:00 web1 sshd[101]: Failed password for invalid user admin from 203.0.113.5 port 40002 ssh2
Mar  4 10:01:10 web1 sshd[101]: Failed password for invalid user admin from 203.0.113.5 port 40002 ssh2
Mar  4 10:01:20 web1 sshd[102]: Failed password for root from 203.0.113.5 port 40003 ssh2
Mar  4 10:01:40 web1 CRON[5]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
";

#[test]
fn once_json_reports_the_alert_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, ATTACK).unwrap();
    let (alerts, _) = once_json(&dir.path().join("t.db"), &log);
    let bf = alerts
        .iter()
        .find(|a| a["rule"] == "ssh.bruteforce")
        .expect("bruteforce alert");
    assert_eq!(bf["src_ip"], "203.0.113.5");
    assert_eq!(bf["severity"], "high");
    assert_eq!(bf["count"], 5);
    assert_eq!(bf["techniques"][0], "T1110.001");
    // the first failure the window counted, not the fifth that tripped the rule
    assert_eq!(bf["first_seen"], "2024-03-04T10:00:01Z");
    assert_eq!(bf["last_seen"], "2024-03-04T10:01:20Z");
    for key in ["score", "user", "last_seen", "explanation"] {
        assert!(!bf[key].is_null(), "{key}");
    }
}

#[test]
fn a_second_scan_resumes_and_does_not_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let db = dir.path().join("t.db");
    std::fs::write(&log, ATTACK).unwrap();
    let run = || {
        let out = succeed(
            tripline()
                .args(["once", "--json", "--year", "2024", "--db"])
                .arg(&db)
                .arg(&log),
        );
        json_lines(&out.stdout)
    };
    let bruteforce = |alerts: &[serde_json::Value]| {
        alerts
            .iter()
            .filter(|a| a["rule"] == "ssh.bruteforce")
            .map(|a| (a["id"].clone(), a["count"].clone()))
            .collect::<Vec<_>>()
    };
    let first = bruteforce(&run());
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1, 5);
    let append = |lines: &str| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(lines.as_bytes()).unwrap();
    };
    append("Mar  4 10:02:00 web1 sshd[103]: Failed password for root from 203.0.113.5 port 40004 ssh2\n");
    // the same alert, grown, not a second one
    let second = bruteforce(&run());
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].0, first[0].0);
    assert_eq!(second[0].1, 6);
    // an attack that straddles two scans: 3 failures in one, 2 in the next make 5 (the warm-up
    // rebuilds the window from the lines the first scan read)
    append(
        "Mar  4 11:00:01 web1 sshd[200]: Failed password for root from 198.51.100.7 port 1 ssh2
Mar  4 11:00:02 web1 sshd[200]: Failed password for root from 198.51.100.7 port 1 ssh2
Mar  4 11:00:03 web1 sshd[200]: Failed password for root from 198.51.100.7 port 1 ssh2
",
    );
    assert!(
        bruteforce(&run()).is_empty(),
        "3 failures are under the threshold"
    );
    append(
        "Mar  4 11:00:04 web1 sshd[201]: Failed password for root from 198.51.100.7 port 2 ssh2
Mar  4 11:00:05 web1 sshd[201]: Failed password for root from 198.51.100.7 port 2 ssh2
",
    );
    let straddling = run();
    let bf: Vec<_> = straddling
        .iter()
        .filter(|a| a["rule"] == "ssh.bruteforce")
        .collect();
    assert_eq!(bf.len(), 1, "{straddling:#?}");
    assert_eq!(bf[0]["src_ip"], "198.51.100.7");
    assert_eq!(bf[0]["count"], 5);
}

#[test]
fn parse_gives_one_object_per_line_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let mut bytes = ATTACK.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe garbage \x00 line\n");
    std::fs::write(&log, bytes).unwrap();
    let out = succeed(
        tripline()
            .args(["parse", "--json", "--year", "2024"])
            .arg(&log),
    );
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0]["line"], 1);
    assert_eq!(rows[0]["kind"], "auth.failure");
    assert_eq!(rows[0]["hostile"], true);
    assert_eq!(rows[0]["src_ip"], "203.0.113.5");
    assert_eq!(rows[0]["ts"], "2024-03-04T10:00:01Z");
    assert_eq!(rows[2]["kind"], "auth.invalid_user");
    assert_eq!(rows[6]["kind"], serde_json::Value::Null);
    assert_eq!(rows[7]["hostile"], false);
}

/// Regression: `once` stopped for good at a line of 256 KiB or more and reported success. A line
/// of any length is cut to 64 KiB, counted, and reading goes on.
#[test]
fn once_reads_on_past_a_line_of_any_length() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let mut text = format!("Mar  4 10:00:00 web1 sshd[1]: {}\n", "B".repeat(400_000));
    for i in 0..6 {
        text += &format!(
            "Mar  4 10:00:0{} web1 sshd[{}]: Failed password for root from 203.0.113.5 port 4000 ssh2\n",
            i + 1,
            10 + i
        );
    }
    std::fs::write(&log, text).unwrap();
    let (alerts, _) = once_json(&dir.path().join("t.db"), &log);
    let bf = alerts
        .iter()
        .find(|a| a["rule"] == "ssh.bruteforce")
        .unwrap_or_else(|| panic!("no brute force after the long line: {alerts:?}"));
    assert_eq!(bf["count"], 6);
}

/// Regression: `alerts --db` on a path that does not exist made an empty database there.
#[test]
fn alerts_on_a_database_that_does_not_exist_says_so_and_makes_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nope.db");
    let out = tripline()
        .args(["alerts", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no database at") && err.contains("nope.db"),
        "{err}"
    );
    assert!(!db.exists());
}

/// Regression: `tripline top` without a terminal panicked in the terminal library.
#[test]
fn top_without_a_terminal_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("api.token"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("data_dir = {:?}\n", dir.path())).unwrap();
    let out = tripline()
        .arg("-c")
        .arg(&cfg)
        .arg("top")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Regression: a Cowrie log scanned without `--cowrie` gave a bare "no alerts". `once` now
/// recognises Cowrie's JSON, `parse` reads it too, and both say how much they understood.
#[test]
fn once_and_parse_recognise_cowrie_json_and_say_what_they_understood() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("cowrie.json");
    let mut text = String::new();
    for i in 0..6 {
        text += &format!(
            "{{\"eventid\":\"cowrie.login.failed\",\"username\":\"root\",\"password\":\"x\",\"src_ip\":\"203.0.113.9\",\"session\":\"s{i}\",\"timestamp\":\"2024-01-01T00:00:0{i}Z\"}}\n"
        );
    }
    std::fs::write(&log, &text).unwrap();
    let out = succeed(
        tripline()
            .args(["once", "--json", "--db"])
            .arg(dir.path().join("t.db"))
            .arg(&log),
    );
    let rules: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(rules.contains(&"honeypot.login".to_string()), "{rules:?}");
    assert!(rules.contains(&"ssh.bruteforce".to_string()), "{rules:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("6 of 6 lines understood"), "{err}");
    let out = succeed(tripline().args(["parse", "--json"]).arg(&log));
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["kind"], "honeypot.login_failed");
    assert_eq!(rows[0]["src_ip"], "203.0.113.9");
    // what no sensor reads is said, with a hint, instead of a bare "no alerts"
    let junk = dir.path().join("app.log");
    std::fs::write(&junk, "hello\nworld\n").unwrap();
    let out = succeed(
        tripline()
            .args(["once", "--db"])
            .arg(dir.path().join("u.db"))
            .arg(&junk),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0 of 2 lines understood as events: is this a Cowrie log?"),
        "{err}"
    );
}

#[test]
fn explain_lists_the_rules_each_line_moves_as_the_rules_say() {
    let rules_of = |line: &str| -> Vec<String> {
        let out = succeed(tripline().args(["explain", line]));
        let text = String::from_utf8(out.stdout).unwrap();
        let at = text.find("rules:").expect("a rules line");
        text[at + 6..]
            .lines()
            .map(|l| l.trim().split(' ').next().unwrap_or("").to_string())
            .filter(|id| !id.is_empty() && id != "none")
            .collect()
    };
    let invalid =
        rules_of("Mar  4 10:00:00 web1 sshd[42]: Invalid user admin from 203.0.113.5 port 4242");
    for id in [
        "ssh.bruteforce",
        "ssh.spray",
        "ssh.enumeration",
        "ssh.distributed",
    ] {
        assert!(invalid.contains(&id.to_string()), "{id}: {invalid:?}");
    }
    assert!(
        !invalid.iter().any(|r| r.starts_with("priv.")),
        "{invalid:?}"
    );
    // a valid user's failure is no enumeration
    let failed = rules_of(
        "Mar  4 10:00:00 web1 sshd[42]: Failed password for root from 203.0.113.5 port 4242 ssh2",
    );
    assert!(
        !failed.contains(&"ssh.enumeration".to_string()),
        "{failed:?}"
    );
    assert_eq!(
        rules_of(
            "Mar  4 10:00:00 web1 sshd[42]: Connection closed by 203.0.113.5 port 4242 [preauth]"
        ),
        vec!["ssh.scan"]
    );
    assert_eq!(
        rules_of("Mar  4 10:00:00 web1 su[9]: FAILED SU (to root) carol on pts/3"),
        vec!["priv.su_failures"]
    );
    // a session line moves nothing
    assert!(
        rules_of("Mar  4 10:00:00 web1 systemd-logind[1]: New session 4 of user alice.").is_empty()
    );
}

#[test]
fn bad_config_names_every_key_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tripline.toml");
    std::fs::write(
        &cfg,
        "batch_sise = 10\n[detect.rules.ssh_bruteforce]\nthreshold = 0\n",
    )
    .unwrap();
    let out = tripline()
        .args(["config", "check"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("batch_sise = 10: unknown key"), "{err}");
    let out = tripline().args(["config", "default"]).output().unwrap();
    let default = dir.path().join("default.toml");
    std::fs::write(&default, &out.stdout).unwrap();
    let out = tripline()
        .args(["config", "check"])
        .arg(&default)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn corrupt_database_is_an_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    std::fs::write(&db, vec![b'x'; 4096]).unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, ATTACK).unwrap();
    let out = tripline()
        .args(["once", "--db"])
        .arg(&db)
        .arg(&log)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrupt"));
    assert_eq!(std::fs::read(&db).unwrap(), vec![b'x'; 4096]);
}

#[test]
fn generated_log_yields_the_injected_attacks() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gen.log");
    let truth = dir.path().join("truth.txt");
    let st = tripline()
        .args([
            "gen",
            "auth-log",
            "--lines",
            "20000",
            "--seed",
            "3",
            "--start",
            "1700000000",
            "--out",
        ])
        .arg(&log)
        .arg("--truth")
        .arg(&truth)
        .status()
        .unwrap();
    assert!(st.success());
    let out = succeed(
        tripline()
            .args(["once", "--json", "--year", "2023", "--db"])
            .arg(dir.path().join("t.db"))
            .arg(&log),
    );
    let found: std::collections::HashSet<String> = json_lines(&out.stdout)
        .iter()
        .map(|v| {
            format!(
                "{} {}:{}",
                v["rule"].as_str().unwrap(),
                v["entity"]["type"].as_str().unwrap(),
                v["entity"]["value"].as_str().unwrap()
            )
        })
        .collect();
    let truth = std::fs::read_to_string(&truth).unwrap();
    let missed: Vec<&str> = truth.lines().filter(|t| !found.contains(*t)).collect();
    assert!(truth.lines().count() > 50);
    assert!(missed.is_empty(), "missed injected attacks: {missed:?}");
}

/// One attacker, one story: on a million generated lines every address the generator attacked
/// raises the alert of its attack and no other (an enumeration is not also a spray and a brute
/// force), and there are about as many alerts as attacks. (A user is another matter: the many
/// sprays at alice, bob… together are a distributed attack on each of them.)
#[test]
fn a_million_generated_lines_give_one_alert_per_attack() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gen.log");
    let truth = dir.path().join("truth.txt");
    succeed(
        tripline()
            .args(["gen", "auth-log", "--lines", "1000000", "--seed", "1"])
            .args(["--start", "1700000000", "--out"])
            .arg(&log)
            .arg("--truth")
            .arg(&truth),
    );
    let out = succeed(
        tripline()
            .args(["once", "--json", "--year", "2023", "--db"])
            .arg(dir.path().join("t.db"))
            .arg(&log),
    );
    let alerts = json_lines(&out.stdout);
    let truth = std::fs::read_to_string(&truth).unwrap();
    let attacks: Vec<(&str, &str)> = truth.lines().map(|l| l.split_once(' ').unwrap()).collect();
    let mut story: std::collections::HashMap<&str, std::collections::HashSet<&str>> =
        Default::default();
    for (rule, entity) in &attacks {
        story.entry(entity).or_default().insert(rule);
    }
    let mut off_story = vec![];
    for a in &alerts {
        let entity = format!(
            "{}:{}",
            a["entity"]["type"].as_str().unwrap(),
            a["entity"]["value"].as_str().unwrap()
        );
        let rule = a["rule"].as_str().unwrap();
        if let Some(rules) = story
            .get(entity.as_str())
            .filter(|_| entity.starts_with("ip:"))
        {
            if !rules.contains(rule) {
                off_story.push(format!("{rule} {entity}"));
            }
        }
    }
    assert!(attacks.len() > 20_000, "{} attacks", attacks.len());
    assert!(
        off_story.is_empty(),
        "{} alerts beside the story of an attacked entity, e.g. {:?}",
        off_story.len(),
        &off_story[..off_story.len().min(5)]
    );
    let ratio = alerts.len() as f64 / attacks.len() as f64;
    eprintln!(
        "{} alerts for {} attacks ({ratio:.3})",
        alerts.len(),
        attacks.len()
    );
    assert!((1.0..=1.05).contains(&ratio), "{ratio}");
}

/// An attack that lasts across many batches and transactions is printed once, in its final
/// state, the same as the store holds it.
#[test]
fn once_prints_each_alert_once_in_its_final_state() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let db = dir.path().join("t.db");
    let cfg = dir.path().join("small.toml");
    // tiny batches: the attack spans many batches and commits; three shards, whatever the CPUs
    std::fs::write(&cfg, "batch_size = 4\nparallel_processing = 3\n").unwrap();
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!(
            "Mar  4 10:{:02}:{:02} web1 sshd[{}]: Failed password for root from 203.0.113.5 port 40001 ssh2\n",
            i / 60,
            i % 60,
            100 + i
        ));
        // a second, short attack that closes long before the scan ends
        if i < 5 {
            text.push_str(&format!(
                "Mar  4 08:00:0{i} web1 sshd[9{i}]: Failed password for root from 198.51.100.9 port 1 ssh2\n"
            ));
        }
    }
    std::fs::write(&log, text).unwrap();
    let run = |args: &[&str]| {
        let out = succeed(
            tripline()
                .arg("-c")
                .arg(&cfg)
                .args(args)
                .arg("--db")
                .arg(&db)
                .args(["--json"]),
        );
        json_lines(&out.stdout)
    };
    let printed = run(&["once", "--year", "2024", log.to_str().unwrap()]);
    let bf: Vec<_> = printed
        .iter()
        .filter(|a| a["rule"] == "ssh.bruteforce")
        .collect();
    assert_eq!(bf.len(), 2, "one line per alert: {printed:#?}");
    let long = bf.iter().find(|a| a["src_ip"] == "203.0.113.5").unwrap();
    assert_eq!(long["count"], 300, "final count");
    assert_eq!(long["last_seen"], "2024-03-04T10:04:59Z");
    let mut stored = run(&["alerts"]);
    let mut printed = printed;
    let key = |a: &serde_json::Value| a["id"].as_str().unwrap().to_string();
    stored.sort_by_key(key);
    printed.sort_by_key(key);
    assert_eq!(printed, stored, "what once printed is what the store holds");
}

/// A Cowrie log is counted like any other: every line read, events, lines that are not events,
/// and invalid JSON skipped and said so.
#[test]
fn cowrie_scan_counts_lines_and_alerts_on_any_login() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("cowrie.json");
    std::fs::write(
        &log,
        concat!(
            r#"{"eventid":"cowrie.login.failed","username":"root","password":"1","message":"x","sensor":"hp1","timestamp":"2019-05-18T00:00:01.123456Z","src_ip":"203.0.113.7","session":"a1"}"#,
            "\n",
            r#"{"eventid":"cowrie.client.version","version":"SSH-2.0-Go","sensor":"hp1","timestamp":"2019-05-18T00:00:02Z","src_ip":"203.0.113.7","session":"a1"}"#,
            "\n",
            "{not json\n",
        ),
    )
    .unwrap();
    let out = succeed(
        tripline()
            .args(["once", "--cowrie", "--json", "--stats", "--db"])
            .arg(dir.path().join("c.db"))
            .arg(&log),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 lines were not valid Cowrie JSON"),
        "{stderr}"
    );
    let stats: serde_json::Value = stderr
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("stats line");
    assert_eq!(stats["lines"], 3, "{stats}");
    assert_eq!(stats["unparsed"], 2, "{stats}");
    let alerts = json_lines(&out.stdout);
    assert!(
        alerts.iter().any(|a| a["rule"] == "honeypot.login"
            && a["src_ip"] == "203.0.113.7"
            && a["sensor"] == "cowrie"),
        "{alerts:?}"
    );
}

#[test]
fn eval_anomaly_ranks_planted_outliers_and_names_bad_tables() {
    let dir = tempfile::tempdir().unwrap();
    // 400 rows around the origin, 8 far from it, labelled
    let mut rng = fastrand::Rng::with_seed(4);
    let mut csv = String::from("x,y,z,label\n");
    for i in 0..408 {
        let (scale, label) = if i % 51 == 50 { (40.0, 1) } else { (1.0, 0) };
        let mut v = || (rng.f64() * 2.0 - 1.0) * scale + if label == 1 { 30.0 } else { 0.0 };
        csv.push_str(&format!("{},{},{},{label}\n", v(), v(), v()));
    }
    let good = dir.path().join("planted.csv");
    std::fs::write(&good, csv).unwrap();
    let out = succeed(
        tripline()
            .args(["eval", "anomaly", "--json", "--seeds", "3"])
            .arg(&good),
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r["rows"].as_u64(), r["features"].as_u64()),
        (Some(408), Some(3))
    );
    assert_eq!(r["anomalies"], 8);
    assert_eq!(r["roc_auc"]["runs"].as_array().unwrap().len(), 3);
    assert!(r["roc_auc"]["mean"].as_f64().unwrap() > 0.95, "{r}");
    assert!(
        r["average_precision"]["mean"].as_f64().unwrap() > 0.8,
        "{r}"
    );
    let text = succeed(tripline().args(["eval", "anomaly"]).arg(&good));
    assert!(String::from_utf8_lossy(&text.stdout).contains("ROC AUC"));

    for (body, want) in [
        ("x,y\n1,2\n", "no `label` column"),
        ("x,label\n1,0\n2\n", "line 3: 1 cells"),
        (
            "x,label\n1,0\nabc,1\n",
            "line 3, column `x`: \"abc\" is not a number",
        ),
        (
            "x,label\n1,0\nNaN,1\n",
            "line 3, column `x`: NaN is not a finite number",
        ),
        ("x,label\n1,0\n2,0\n", "needs both classes"),
    ] {
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, body).unwrap();
        let out = tripline()
            .args(["eval", "anomaly"])
            .arg(&bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{body:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bad.csv") && err.contains(want),
            "{body:?}: {err}"
        );
    }
}

#[test]
fn train_writes_a_model_and_refuses_too_little_history() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("normal.log");
    succeed(
        tripline()
            .args([
                "gen",
                "auth-log",
                "--lines",
                "30000",
                "--attacks",
                "0",
                "--noise",
                "5",
            ])
            .args(["--start", "1700000000", "--out"])
            .arg(&log),
    );
    let model = dir.path().join("m.model");
    let out = succeed(
        tripline()
            .args(["train", "--year", "2023", "--from"])
            .arg(&log)
            .arg("--out")
            .arg(&model),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("trained on") && text.contains("m.model"),
        "{text}"
    );
    let m =
        tripline_anomaly::Model::load(&model, Some(&tripline_anomaly::features::FEATURES)).unwrap();
    assert!(m.training.rows >= 200);
    assert!(m.training.source.contains("normal.log"));

    // ten lines are not a history
    let short = dir.path().join("short.log");
    let head: String = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .take(10)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&short, head).unwrap();
    let out = tripline()
        .args(["train", "--year", "2023", "--from"])
        .arg(&short)
        .arg("--out")
        .arg(dir.path().join("x.model"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("short.log") && err.contains("anomaly.training_samples = 200"),
        "{err}"
    );
    assert!(!dir.path().join("x.model").exists());
}

/// `train` on normal history, then `once` on an attack log: the model in the data directory is
/// loaded and windows that score at or above `anomaly_threshold` become `anomaly` alerts that
/// say why. A configured model that is not there stops the scan, naming it.
#[test]
fn train_then_once_raises_explained_anomaly_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = {:?}\n", data.display().to_string()),
    )
    .unwrap();
    let (normal, attack, truth) = (
        dir.path().join("normal.log"),
        dir.path().join("attack.log"),
        dir.path().join("truth.txt"),
    );
    let gen = |out: &std::path::Path, seed: &str, start: &str, attacks: &str| {
        succeed(
            tripline()
                .args([
                    "gen", "auth-log", "--lines", "60000", "--seed", seed, "--noise", "5",
                ])
                .args(["--attacks", attacks, "--start", start, "--truth"])
                .arg(&truth)
                .arg("--out")
                .arg(out),
        );
    };
    gen(&normal, "1", "1700000000", "0");
    gen(&attack, "2", "1700200000", "12");
    succeed(
        tripline()
            .arg("-c")
            .arg(&cfg)
            .args(["train", "--year", "2023", "--from"])
            .arg(&normal),
    );
    assert!(data.join("anomaly.model").exists());
    let out = succeed(
        tripline()
            .arg("-c")
            .arg(&cfg)
            .args(["once", "--json", "--year", "2023", "--db"])
            .arg(dir.path().join("t.db"))
            .arg(&normal)
            .arg(&attack),
    );
    let alerts = json_lines(&out.stdout);
    let anomalies: Vec<&serde_json::Value> =
        alerts.iter().filter(|a| a["rule"] == "anomaly").collect();
    assert!(!anomalies.is_empty());
    for a in &anomalies {
        assert!(a["score"].as_f64().unwrap() >= 0.7, "{a}");
        let why = a["explanation"].as_str().unwrap();
        assert!(
            why.contains("of the training windows") && why.contains("risk"),
            "{why}"
        );
        assert!(["medium", "high", "critical"].contains(&a["severity"].as_str().unwrap()));
        // the same in fields: place in the baseline, band, the features against their medians
        let d = &a["anomaly"];
        assert!(d["percentile"].as_f64().unwrap() >= 99.0, "{a}");
        assert!(d["raw_score"].as_f64().unwrap() > 0.0);
        assert_eq!(d["band"], a["severity"]);
        let f = d["features"].as_array().unwrap();
        assert!(!f.is_empty() && f.len() <= 3, "{a}");
        assert!(f
            .iter()
            .all(|f| f["name"].is_string() && f["baseline_median"].is_number()));
        // techniques: those its unusual features point at (failures: brute force; a new
        // network or an odd hour: valid accounts; privilege use: elevation)
        let named: Vec<&str> = f.iter().map(|f| f["name"].as_str().unwrap()).collect();
        let techniques: Vec<&str> = a["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let points = |fs: &[&str]| named.iter().any(|n| fs.contains(n));
        assert_eq!(
            techniques.contains(&"T1110"),
            points(&[
                "failures",
                "failure_ratio",
                "distinct_users",
                "auth_methods"
            ]) || points(&["interarrival_mean", "interarrival_std"]),
            "{a}"
        );
        assert_eq!(
            techniques.contains(&"T1078"),
            points(&["successes", "hour_deviation", "new_source"]),
            "{a}"
        );
        assert_eq!(
            techniques.contains(&"T1548"),
            points(&["priv_uses", "priv_failures", "login_to_priv"]),
            "{a}"
        );
    }
    assert!(anomalies
        .iter()
        .any(|a| a["techniques"] != serde_json::json!([])));
    // a compromised address is among them
    let truth = std::fs::read_to_string(&truth).unwrap();
    let compromised: Vec<&str> = truth
        .lines()
        .filter_map(|t| t.strip_prefix("ssh.compromise ip:"))
        .collect();
    assert!(!compromised.is_empty());
    assert!(
        compromised
            .iter()
            .any(|ip| anomalies.iter().any(|a| a["entity"]["value"] == *ip)),
        "no compromised address among {} anomaly alerts",
        anomalies.len()
    );
    // a model the configuration names must be there
    std::fs::write(
        &cfg,
        format!(
            "data_dir = {:?}\n[anomaly]\nmodel = {:?}\n",
            data.display().to_string(),
            dir.path().join("nope.model").display().to_string()
        ),
    )
    .unwrap();
    let out = tripline()
        .arg("-c")
        .arg(&cfg)
        .args(["once", "--db"])
        .arg(dir.path().join("t2.db"))
        .arg(&attack)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("anomaly.model") && err.contains("nope.model"),
        "{err}"
    );
}

/// `tripline demo` shows every system that exists, through the real parts: the log rules on a
/// generated auth.log, the honeypots attacked on loopback by a scripted bot (its login, its
/// dropper's download, its session's tripwires, its web exploit, each an alert; the session's
/// on the session), and the LLM firewall's verdicts.
#[test]
fn demo_shows_the_log_rules_the_honeypots_and_the_llm_firewall() {
    let out = succeed(tripline().arg("demo"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ssh.bruteforce"), "{text}");
    let hp = text
        .split("The honeypots")
        .nth(1)
        .unwrap_or_else(|| panic!("no honeypot section: {text}"));
    let hp = hp.split("The LLM firewall").next().unwrap();
    for rule in [
        "honeypot.login",
        "honeypot.download",
        "honeypot.session",
        "honeypot.exploit",
    ] {
        assert!(hp.contains(rule), "{rule}: {hp}");
    }
    assert!(
        hp.contains("session:"),
        "the session's alert is on it: {hp}"
    );
    assert!(hp.contains("CVE-2021-41773"), "{hp}");
    assert!(text.contains("The LLM firewall"), "{text}");
}
