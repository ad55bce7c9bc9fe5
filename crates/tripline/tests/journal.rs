//! `tripline run` on a real systemd journal: journal files written by `systemd-journal-remote`
//! (Debian package `systemd-journal-remote`, installed by `./scripts/check`) and read by the
//! real `journalctl` through `sources.journald.directory`. It alerts on new entries, stores the
//! cursor, resumes after it, and on resuming replays the entries before the cursor so an attack
//! that straddles a restart is caught — without alerting twice.

mod common;

use common::{http, start};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tripline_store::Store;

const REMOTE: &str = "/lib/systemd/systemd-journal-remote";

/// Append `n` sshd failures from `ip` to the journal in `dir`, stamped now.
fn journal_failures(dir: &Path, ip: &str, n: usize, pid: u32) {
    let now = tripline_event::Timestamp::now().0;
    let mut export = String::new();
    for i in 0..n {
        let t = now + i as i64;
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={t}\n__MONOTONIC_TIMESTAMP={}\n\
             _BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web1\n\
             SYSLOG_IDENTIFIER=sshd\nSYSLOG_FACILITY=4\n_PID={pid}\n\
             MESSAGE=Failed password for root from {ip} port {} ssh2\n\n",
            1_000_000 + t % 1_000_000_000,
            40000 + i
        ));
    }
    let mut child = Command::new(REMOTE)
        .arg(format!("--output={}", dir.join("remote.journal").display()))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("systemd-journal-remote (./scripts/check installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(export.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

fn config(dir: &Path, warmup_minutes: u64) -> std::path::PathBuf {
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "poll_interval_seconds = 0.2\ndata_dir = {:?}\n[sources.files]\nenabled = false\n\
             [sources.cowrie]\nenabled = false\n[sources.journald]\ndirectory = {:?}\n\
             matches = []\nresume_warmup_minutes = {warmup_minutes}\n[store]\npath = {:?}\n\
             [output]\nstdout_json = true\n[api]\nbind = \"127.0.0.1:0\"\n",
            dir.display().to_string(),
            dir.join("journal").display().to_string(),
            dir.join("d.db").display().to_string()
        ),
    )
    .unwrap();
    cfg
}

/// Wait until the daemon's journal source has read `n` new entries.
fn wait_read(d: &common::Daemon, dir: &Path, n: u64) {
    let token = std::fs::read_to_string(dir.join("api.token")).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = http(&d.api, "GET", "/api/v1/sensors", Some(token.trim()));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let s = &v["sensors"][0];
        if s["sensor"] == "journald" && s["lines"] == n {
            assert!(
                s["cursor"].as_str().is_some_and(|c| c.contains("t=")),
                "{s}"
            );
            return;
        }
        assert!(Instant::now() < end, "{n} entries never read: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `ssh.bruteforce` alerts for `ip` printed within half a second.
fn bruteforce_alerts_soon(d: &common::Daemon, ip: &str) -> usize {
    let end = Instant::now() + Duration::from_millis(500);
    let mut n = 0;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match d.alerts.recv_timeout(left) {
            Ok(a) if a["rule"] == "ssh.bruteforce" && a["src_ip"] == ip => n += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    n
}

/// A temporary directory with an empty `journal` directory in it (the daemon's data stays
/// beside it).
fn journal_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    std::fs::create_dir(&journal).unwrap();
    (dir, journal)
}

#[test]
fn run_follows_a_real_journal_resumes_at_its_cursor_and_replays_before_it() {
    let (dir, journal) = journal_dir();
    // a journal must exist to be followed; what it holds before the first start is old news
    journal_failures(&journal, "192.0.2.50", 6, 90);

    // run 1: new entries alert; three failures from B stay below the threshold
    let d = start(&config(dir.path(), 360));
    std::thread::sleep(Duration::from_millis(300)); // journalctl is following
    journal_failures(&journal, "203.0.113.7", 5, 100);
    let a = d.wait_alert("ssh.bruteforce", "203.0.113.7");
    assert_eq!(a["count"], 5);
    assert_eq!(a["sensor"], "journald");
    journal_failures(&journal, "198.51.100.4", 3, 101);
    wait_read(&d, dir.path(), 8);
    d.sigterm();
    let store = Store::open(&dir.path().join("d.db")).unwrap();
    let cursor = store.checkpoint("journald").unwrap().map(|p| p.value);
    assert!(cursor.is_some(), "no cursor stored");
    // nothing from before the first start was read
    assert!(store
        .alerts(&Default::default())
        .unwrap()
        .iter()
        .all(|a| a.alert.src_ip != "192.0.2.50".parse().ok()));
    drop(store);

    // run 2, no replay: it resumes right after the cursor; B's two new failures are alone
    journal_failures(&journal, "198.51.100.4", 2, 102);
    let d = start(&config(dir.path(), 0));
    wait_read(&d, dir.path(), 2);
    assert_eq!(
        bruteforce_alerts_soon(&d, "198.51.100.4"),
        0,
        "two failures after the cursor alone must not alert"
    );
    d.sigterm();

    // run 3, with the replay: B's five earlier failures rebuild its window, two new ones trip
    // the rule; A's replayed failures alert nothing again
    journal_failures(&journal, "198.51.100.4", 2, 103);
    let d = start(&config(dir.path(), 360));
    let b = d.wait_alert("ssh.bruteforce", "198.51.100.4");
    assert_eq!(b["count"], 7, "{b}");
    wait_read(&d, dir.path(), 2);
    assert_eq!(
        bruteforce_alerts_soon(&d, "203.0.113.7"),
        0,
        "a replayed attack alerted again"
    );
    d.sigterm();
    let s = Store::open(&dir.path().join("d.db")).unwrap();
    let stored: Vec<_> = s
        .alerts(&Default::default())
        .unwrap()
        .into_iter()
        .filter(|a| a.alert.rule == "ssh.bruteforce")
        .map(|a| (a.alert.src_ip.unwrap().to_string(), a.alert.count))
        .collect();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored.contains(&("203.0.113.7".into(), 5)), "{stored:?}");
    assert!(stored.contains(&("198.51.100.4".into(), 7)), "{stored:?}");
}

/// `run --from-start` reads the entries already in the journal (without a stored cursor), as
/// it reads a file from its start; a restart then goes on after the stored cursor.
#[test]
fn run_from_start_reads_the_entries_already_there() {
    let (dir, journal) = journal_dir();
    journal_failures(&journal, "192.0.2.60", 6, 300);
    let cfg = config(dir.path(), 0);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
    cmd.arg("-c").arg(&cfg).args(["run", "--from-start"]);
    let d = common::start_command(cmd);
    d.wait_alert("ssh.bruteforce", "192.0.2.60");
    wait_read(&d, dir.path(), 6);
    d.sigterm();
    // all six entries counted (the alert printed first may be an earlier state of it)
    let stored = Store::open(&dir.path().join("d.db"))
        .unwrap()
        .alerts(&Default::default())
        .unwrap();
    let a = stored
        .iter()
        .find(|a| a.alert.rule == "ssh.bruteforce")
        .unwrap();
    assert_eq!(a.alert.count, 6);
    // again with --from-start: the stored cursor wins, nothing is read twice
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
    cmd.arg("-c").arg(&cfg).args(["run", "--from-start"]);
    let d = common::start_command(cmd);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(bruteforce_alerts_soon(&d, "192.0.2.60"), 0);
    d.sigterm();
}

#[test]
fn run_watches_for_a_journal_that_is_not_there_yet() {
    let dir = tempfile::tempdir().unwrap();
    // the configured directory does not exist when the daemon starts: it says so and starts
    let d = start(&config(dir.path(), 360));
    let journal = dir.path().join("journal");
    std::fs::create_dir(&journal).unwrap();
    // everything in a journal that appears later is new, as in a file that appears
    journal_failures(&journal, "203.0.113.44", 5, 200);
    let end = Instant::now() + Duration::from_secs(10);
    let a = loop {
        match d.alerts.recv_timeout(Duration::from_millis(200)) {
            Ok(a) if a["rule"] == "ssh.bruteforce" && a["src_ip"] == "203.0.113.44" => break a,
            _ => assert!(
                Instant::now() < end,
                "the journal that appeared was never read"
            ),
        }
    };
    assert_eq!(a["count"], 5);
    assert_eq!(a["sensor"], "journald");
    d.sigterm();
}

#[test]
fn run_starts_journalctl_again_after_it_exits_and_goes_on_after_the_last_cursor() {
    let (dir, journal) = journal_dir();
    journal_failures(&journal, "192.0.2.60", 1, 300);
    let d = start(&config(dir.path(), 360));
    std::thread::sleep(Duration::from_millis(300));
    journal_failures(&journal, "203.0.113.61", 3, 301);
    wait_read(&d, dir.path(), 3);
    // journalctl dies under the daemon (its command line names the test's directory)
    let killed = Command::new("pkill")
        .args([
            "-f",
            &format!("journalctl --directory {}", journal.display()),
        ])
        .status()
        .unwrap();
    assert!(killed.success(), "no journalctl to kill");
    std::thread::sleep(Duration::from_millis(200));
    // two more failures while it is down or coming back: read once, after the last cursor,
    // and the window in memory (three failures) is not replayed again
    journal_failures(&journal, "203.0.113.61", 2, 302);
    let a = d.wait_alert("ssh.bruteforce", "203.0.113.61");
    assert_eq!(a["count"], 5, "{a}");
    wait_read(&d, dir.path(), 5);
    d.sigterm();
}
