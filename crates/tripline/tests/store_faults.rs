//! The daemon on a store that stops taking writes (a full disk: a small tmpfs in a mount
//! namespace of the daemon's own, filled from outside through `/proc/PID/root`): it says so at
//! once on `/readyz` and in the metrics, loses nothing, and stores what waited once the disk
//! has room again.

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// Poll `/readyz` until `want(status, body)`, at most `secs` seconds; the last answer.
fn readyz_until(
    api: &str,
    token: &str,
    secs: u64,
    want: impl Fn(u16, &str) -> bool,
) -> (u16, String) {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, body) = http(api, "GET", "/readyz", Some(token));
        if want(status, &body) || Instant::now() > end {
            return (status, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_full_disk_shows_on_readyz_at_once_and_what_waited_is_stored_when_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("m");
    std::fs::create_dir(&mnt).unwrap();
    let (cfg, log) = watch_config(
        dir.path(),
        "[output]\nstdout_json = true\n[api]\nbind = \"127.0.0.1:0\"\n",
    );
    // the store on the small disk
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        &format!("path = {:?}", dir.path().join("d.db").display().to_string()),
        &format!("path = {:?}", mnt.join("d.db").display().to_string()),
    );
    std::fs::write(&cfg, text).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c"]).arg(format!(
        "mount -t tmpfs -o size=8m tmpfs '{}' && exec '{}' -c '{}' run",
        mnt.display(),
        env!("CARGO_BIN_EXE_tripline"),
        cfg.display()
    ));
    let d = start_command(cmd);
    let token = std::fs::read_to_string(dir.path().join("api.token")).unwrap();
    let token = token.trim();
    // the daemon's view of its disk
    let disk = std::path::Path::new(&format!("/proc/{}/root", d.child.id()))
        .join(mnt.strip_prefix("/").unwrap());
    assert!(
        disk.join("d.db").exists(),
        "the store is not on the small disk"
    );
    append(&log, &failures("203.0.113.80", 5));
    d.wait_alert("ssh.bruteforce", "203.0.113.80");
    assert_eq!(http(&d.api, "GET", "/readyz", Some(token)).0, 200);

    // fill the disk
    let fill = disk.join("fill");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&fill).unwrap();
        let block = vec![7u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.flush();
    }
    // a new attack: nothing can be stored, and /readyz says why at once
    append(&log, &failures("203.0.113.81", 6));
    let (status, body) = readyz_until(&d.api, token, 10, |s, _| s == 503);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store not writable"), "{body}");
    let (_, metrics) = http(&d.api, "GET", "/metrics", Some(token));
    let failed: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tripline_store_commit_failures_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    assert!(failed >= 1.0, "{metrics}");

    // room again: the writer's retry stores what waited, and /readyz is 200 again
    std::fs::remove_file(&fill).unwrap();
    let (status, body) = readyz_until(&d.api, token, 15, |s, _| s == 200);
    assert_eq!(status, 200, "{body}");
    let a = d.wait_alert("ssh.bruteforce", "203.0.113.81");
    assert_eq!(a["count"], 6, "{a}");
    let (status, body) = http(
        &d.api,
        "GET",
        "/api/v1/alerts?entity=ip:203.0.113.81",
        Some(token),
    );
    assert_eq!(status, 200);
    assert!(body.contains("\"count\":6"), "{body}");
    d.sigterm();
}
