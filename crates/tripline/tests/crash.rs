//! `kill -9` in the middle of a scan, then the same scan again: every byte is read exactly once
//! (the stored position is at the end), no alert is counted twice or duplicated, and attacks
//! that straddle the kill are caught as if there had been none (warm-up on resume). And the
//! daemon killed at ten random points while its log is being appended gives, alert by alert,
//! what a clean scan of the whole log gives.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tripline_store::{AlertQuery, Store};

fn tripline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tripline"))
}

fn scan(db: &Path, log: &Path) {
    let out = tripline()
        .args(["once", "--json", "--db"])
        .arg(db)
        .arg(log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (rule, entity) → [(first_seen, last_seen, count)]
type Alerts = HashMap<(String, String), Vec<(i64, i64, u64)>>;

fn alerts(db: &Path) -> Alerts {
    let store = Store::open(db).unwrap();
    let mut out: Alerts = HashMap::new();
    for s in store.alerts(&AlertQuery::default()).unwrap() {
        let a = s.alert;
        out.entry((a.rule.to_string(), a.entity.value()))
            .or_default()
            .push((a.first_seen.0, a.last_seen.0, a.count));
    }
    out
}

#[test]
fn kill_9_mid_scan_then_resume_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let g = tripline()
        .args(["gen", "auth-log", "--lines", "300000", "--seed", "9", "-o"])
        .arg(&log)
        .status()
        .unwrap();
    assert!(g.success());
    let len = std::fs::metadata(&log).unwrap().len();
    let name = format!("file:{}", std::fs::canonicalize(&log).unwrap().display());

    let reference = dir.path().join("ref.db");
    scan(&reference, &log);
    let want = alerts(&reference);

    // kill at growing delays until one lands mid-ingest: some batches committed, not all
    let db = dir.path().join("crash.db");
    let mut crashed_at = None;
    for delay_ms in [60u64, 120, 200, 300, 450, 700, 1000] {
        for f in ["crash.db", "crash.db-wal", "crash.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        let mut child = tripline()
            .args(["once", "--json", "--db"])
            .arg(&db)
            .arg(&log)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let pos = Store::open(&db)
            .unwrap()
            .checkpoint(&name)
            .unwrap()
            .and_then(|c| tripline_sensors::files::parse_checkpoint(&c.value))
            .map(|p| p.offset);
        if let Some(p) = pos.filter(|p| *p > 0 && *p < len) {
            crashed_at = Some(p);
            break;
        }
    }
    let crashed_at = crashed_at.expect("no kill landed mid-ingest");
    eprintln!("killed at byte {crashed_at} of {len}");

    // the restart resumes at the stored position and reads to the end
    scan(&db, &log);
    let end = Store::open(&db)
        .unwrap()
        .checkpoint(&name)
        .unwrap()
        .unwrap();
    let end = tripline_sensors::files::parse_checkpoint(&end.value).unwrap();
    assert_eq!(end.offset, len, "the resumed scan did not reach the end");

    let got = alerts(&db);
    let cooldown = 1800 * 1_000_000i64;
    let (mut want_total, mut got_total) = (0u64, 0u64);
    for (key, list) in &got {
        // no duplicate: alerts of one (rule, entity) never overlap (a new one's window starts
        // after the previous alert), and one opens only after a cooldown of quiet, so the
        // next alert's last event is more than a cooldown after the previous one's
        let mut list = list.clone();
        list.sort();
        for w in list.windows(2) {
            assert!(
                w[1].0 > w[0].1 && w[1].1 - w[0].1 > cooldown,
                "{key:?}: alert {:?} duplicates {:?}",
                w[1],
                w[0]
            );
        }
        // nothing lost, nothing counted twice: with the warm-up on resume (the lines before the
        // stored position rebuild the windows) every alert counts what it counts without the
        // crash. Exception: ssh.new_source_login, whose per-user memory of networks is capped
        // (256) and reloaded from the store newest first, so which old network was forgotten
        // may differ after a restart.
        let g: u64 = list.iter().map(|a| a.2).sum();
        let w: u64 = want
            .get(key)
            .map(|l| l.iter().map(|a| a.2).sum())
            .unwrap_or(0);
        if key.0 != "ssh.new_source_login" {
            assert_eq!(g, w, "{key:?}: events after the crash vs without it");
        }
        got_total += g;
    }
    for list in want.values() {
        want_total += list.iter().map(|a| a.2).sum::<u64>();
    }
    eprintln!("alerted events: {got_total} after the crash, {want_total} without");
    assert!(
        got_total * 1000 >= want_total * 999,
        "only {got_total} of {want_total} alerted events after the crash"
    );
    for key in want.keys() {
        assert!(got.contains_key(key), "{key:?} not alerted after the crash");
    }
}

/// (rule, entity, first seen, last seen, count) of every alert but `ssh.new_source_login`s
/// (whose capped per-user memory is reloaded newest first: see above), sorted.
fn alert_list(db: &Path) -> Vec<(String, String, i64, i64, u64)> {
    let mut v: Vec<_> = alerts(db)
        .into_iter()
        .filter(|(k, _)| k.0 != "ssh.new_source_login")
        .flat_map(|(k, l)| {
            l.into_iter()
                .map(move |a| (k.0.clone(), k.1.clone(), a.0, a.1, a.2))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_daemon_killed_at_ten_random_points_during_an_append_stores_what_a_clean_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.log");
    let g = tripline()
        .args(["gen", "auth-log", "--lines", "40000", "--seed", "11", "-o"])
        .arg(&whole)
        .status()
        .unwrap();
    assert!(g.success());
    let reference = dir.path().join("ref.db");
    scan(&reference, &whole);
    let want = alert_list(&reference);
    assert!(want.len() > 500, "{} alerts", want.len());

    let (cfg, log) = common::watch_config(dir.path(), "[api]\nbind = \"127.0.0.1:0\"\n");
    // three shards: state is restored and rebuilt per shard
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("parallel_processing = 3\n{text}")).unwrap();
    let db = dir.path().join("d.db");
    let text = std::fs::read_to_string(&whole).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill points from seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut kills = 0;
    let mut appender = None;
    while kills < 10 {
        let mut d = common::start(&cfg);
        // the append starts once the first daemon follows the (empty) log: a log that has no
        // stored position is followed from its end, as `tail -f` does
        appender.get_or_insert_with(|| {
            let log = log.clone();
            // 200 lines every 5 ms, on a thread of its own
            let chunks: Vec<String> = lines.chunks(200).map(|c| c.join("\n") + "\n").collect();
            std::thread::spawn(move || {
                for c in chunks {
                    common::append(&log, &c);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        });
        std::thread::sleep(Duration::from_millis(rng.u64(20..150)));
        d.child.kill().unwrap(); // SIGKILL
        d.child.wait().unwrap();
        kills += 1;
    }
    appender.unwrap().join().unwrap();
    // a last run reads to the end, then stops cleanly
    let len = std::fs::metadata(&log).unwrap().len();
    let name = format!("file:{}", std::fs::canonicalize(&log).unwrap().display());
    let d = common::start(&cfg);
    let end = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let at = Store::open(&db)
            .unwrap()
            .checkpoint(&name)
            .unwrap()
            .and_then(|c| tripline_sensors::files::parse_checkpoint(&c.value))
            .map(|p| p.offset);
        if at == Some(len) {
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "never read to the end: {at:?} of {len}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    d.sigterm();
    let got = alert_list(&db);
    let missing: Vec<_> = want.iter().filter(|a| !got.contains(a)).collect();
    let extra: Vec<_> = got.iter().filter(|a| !want.contains(a)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} alerts differ from a clean run (seed {seed}): missing {:?}, extra {:?}",
        missing.len() + extra.len(),
        &missing[..missing.len().min(20)],
        &extra[..extra.len().min(20)]
    );
}
