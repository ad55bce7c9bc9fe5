//! Shared by the integration tests that run `tripline run` as a daemon.
#![allow(dead_code)]

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

pub struct Daemon {
    pub child: Child,
    pub alerts: Receiver<serde_json::Value>,
    /// Where its API listens (from the ready line).
    pub api: String,
}

pub fn start(cfg: &Path) -> Daemon {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
    cmd.arg("-c").arg(cfg).arg("run");
    start_command(cmd)
}

/// A daemon started by `cmd` (which runs `tripline run` in the end, wrapped).
pub fn start_command(cmd: Command) -> Daemon {
    start_command_with(cmd, "api=http://")
}

/// [`start_command`], taking `Daemon::api` from the ready line's `what` (`gateway=http://`).
pub fn start_command_with(mut cmd: Command, what: &'static str) -> Daemon {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (ready_tx, ready_rx) = channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(err).lines().map_while(|l| l.ok()) {
            eprintln!("daemon: {l}");
            if l.contains(" ready ready_ms=") {
                let api = l
                    .split(what)
                    .nth(1)
                    .or_else(|| l.split("api=https://").nth(1))
                    .and_then(|r| r.split(' ').next())
                    .unwrap_or("")
                    .to_string();
                let _ = ready_tx.send(api);
            }
        }
    });
    let (tx, alerts) = channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(|l| l.ok()) {
            if let Ok(v) = serde_json::from_str(&l) {
                let _ = tx.send(v);
            }
        }
    });
    let api = ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("daemon never became ready");
    Daemon { child, alerts, api }
}

/// A daemon a failed test leaves behind is killed.
impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Daemon {
    /// The first alert for `ip` and `rule` printed within 5 s.
    pub fn wait_alert(&self, rule: &str, ip: &str) -> serde_json::Value {
        let end = Instant::now() + Duration::from_secs(5);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.alerts.recv_timeout(left) {
                Ok(a) if a["rule"] == rule && a["src_ip"] == ip => return a,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no {rule} alert for {ip}");
    }

    pub fn sigterm(mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(st.success(), "exit status {st}");
                return;
            }
            assert!(Instant::now() < end, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

pub fn failures(ip: &str, n: usize) -> String {
    let now = tripline_event::Timestamp::now();
    (0..n)
        .map(|i| {
            format!(
                "{now} h sshd[{}]: Failed password for root from {ip} port {} ssh2\n",
                3000 + i,
                40000 + i
            )
        })
        .collect()
}

pub fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// One HTTP/1.1 request on a real socket: (status, body).
pub fn http(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// A configuration in `dir` for `tripline run` watching `dir/auth.log` (created empty), storing
/// in `dir/d.db`, its API on a free loopback port; `extra` is appended (more TOML). Returns the
/// configuration's path and the log's.
pub fn watch_config(dir: &Path, extra: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let log = dir.join("auth.log");
    std::fs::write(&log, "").unwrap();
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "poll_interval_seconds = 0.2\ndata_dir = {:?}\n[sources.files]\npaths = [{:?}]\n\
             [sources.journald]\nenabled = false\n[sources.cowrie]\nenabled = false\n\
             [store]\npath = {:?}\n{extra}",
            dir.display().to_string(),
            log.display().to_string(),
            dir.join("d.db").display().to_string()
        ),
    )
    .unwrap();
    (cfg, log)
}
