//! `tripline bench`: the numbers in docs/BENCHMARKS.md, measured the same way every time.
//!
//! * `scan`: `tripline once` on a generated 1M-line auth.log, every rule on and alerts stored,
//!   side by side with sshguard's parser (`sshg-parser`, Debian package `sshguard`) on the same
//!   file, alternating runs so both see the same machine; reports lines per CPU-second and the
//!   ratio.
//! * `live`: `tripline run` on a watched file: time to ready, idle memory, and the latency from
//!   appending attack lines to their alert being committed (printed by the `stdout_json` sink
//!   right after the transaction).
//! * `flood`: a brute-force flood from many distinct addresses: peak memory must stay at the
//!   level set by `max_tracked_entities`, however long the flood.
//! * `api`: the HTTP API at a fixed rate while the daemon ingests.
//! * `gateway`: the LLM gateway (see `bench_gateway`).
//!
//! Each measured program runs as a child process; CPU time is the child's own (user + system).

use crate::client::{HttpConn, Target};
use crate::gen;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One measured run of a child process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu: f64,
    pub wall: f64,
    pub rss_kb: u64,
}

/// A fresh temporary directory (removed by the caller).
pub fn temp_dir(tag: &str) -> Result<PathBuf> {
    let d = std::env::temp_dir().join(format!(
        "tripline-{tag}-{}-{}",
        std::process::id(),
        tripline_event::Timestamp::now().0
    ));
    std::fs::create_dir_all(&d).with_context(|| format!("create {}", d.display()))?;
    Ok(d)
}

/// Newlines in a file.
fn count_lines(path: &Path) -> Result<u64> {
    let b = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    Ok(memchr::memchr_iter(b'\n', &b).count() as u64)
}

/// Run `tripline once --stats` on `log` with config `cfg`; stdout goes to `out`.
fn run_once(cfg: Option<&Path>, log: &Path, db: &Path, out: &Path) -> Result<Usage> {
    let _ = std::fs::remove_file(db);
    let mut cmd = Command::new(std::env::current_exe()?);
    if let Some(c) = cfg {
        cmd.arg("-c").arg(c);
    }
    let o = cmd
        .args(["once", "--json", "--stats", "--from-start", "--db"])
        .arg(db)
        .arg(log)
        .stdout(std::fs::File::create(out)?)
        .stderr(Stdio::piped())
        .output()?;
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        bail!("tripline once failed: {err}");
    }
    let stats: serde_json::Value = err
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .context("tripline once printed no stats")?;
    Ok(Usage {
        cpu: stats["cpu_seconds"].as_f64().unwrap_or(0.0),
        wall: stats["wall_seconds"].as_f64().unwrap_or(0.0),
        rss_kb: stats["peak_rss_kb"].as_u64().unwrap_or(0),
    })
}

/// Run sshguard's parser on `log` (stdin) through `sh`, which reports its waited-for
/// children's CPU time (fields cutime and cstime of /proc/$$/stat).
fn run_sshguard(parser: &Path, log: &Path, out: &Path) -> Result<Usage> {
    let t = Instant::now();
    let o = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" < "$1" > "$2" && cat /proc/$$/stat"#)
        .arg(parser)
        .arg(log)
        .arg(out)
        .output()?;
    let wall = t.elapsed().as_secs_f64();
    if !o.status.success() {
        bail!(
            "{} failed: {}",
            parser.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    Ok(Usage {
        cpu: stat_seconds(&String::from_utf8_lossy(&o.stdout), &[13, 14]),
        wall,
        rss_kb: 0,
    })
}

fn best(runs: &[Usage]) -> Usage {
    let mut b = runs[0];
    for r in runs {
        b.cpu = b.cpu.min(r.cpu);
        b.wall = b.wall.min(r.wall);
        b.rss_kb = b.rss_kb.max(r.rss_kb);
    }
    b
}

/// `tripline bench scan`.
pub fn scan(lines: u64, runs: usize, keep: Option<PathBuf>, sshguard: &Path) -> Result<()> {
    let dir = temp_dir("bench")?;
    let log = keep.unwrap_or_else(|| dir.join("bench-auth.log"));
    eprintln!("generating {lines} lines into {} …", log.display());
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log)?);
    gen::auth_log(&mut f, lines, 1, gen::default_start(lines))?;
    f.flush()?;
    drop(f);
    let n = count_lines(&log)?;
    let have_sshguard = sshguard.exists();
    let (mut ours, mut theirs) = (vec![], vec![]);
    let out = dir.join("alerts.jsonl");
    for i in 0..runs.max(1) {
        eprintln!("run {} of {runs} …", i + 1);
        ours.push(run_once(None, &log, &dir.join("bench.db"), &out)?);
        if have_sshguard {
            theirs.push(run_sshguard(sshguard, &log, &dir.join("sshguard.out"))?);
        }
    }
    let alerts = count_lines(&out)?;
    let o = best(&ours);
    println!("lines: {n}");
    println!("runs: {} (best of each shown)", ours.len());
    println!("tripline once: alerts stored: {alerts}");
    println!("tripline once: cpu time: {:.3} s", o.cpu);
    println!("tripline once: wall time: {:.3} s", o.wall);
    println!(
        "tripline once: lines per cpu-second: {:.0}",
        n as f64 / o.cpu.max(0.001)
    );
    println!(
        "tripline once: peak rss: {:.1} MB",
        o.rss_kb as f64 / 1024.0
    );
    if have_sshguard {
        let s = best(&theirs);
        let attacks = count_lines(&dir.join("sshguard.out"))?;
        println!("sshg-parser: attack lines: {attacks}");
        println!("sshg-parser: cpu time: {:.3} s", s.cpu);
        println!(
            "sshg-parser: lines per cpu-second: {:.0}",
            n as f64 / s.cpu.max(0.001)
        );
        println!(
            "ratio (tripline / sshg-parser, lines per cpu-second): {:.2}",
            s.cpu / o.cpu.max(0.001)
        );
    } else {
        println!(
            "sshg-parser: not found at {} (apt install sshguard)",
            sshguard.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `tripline bench flood`: peak memory on a flood of `lines` failures from `ips` addresses with
/// `cap` tracked entities.
pub fn flood(lines: u64, ips: u32, cap: usize) -> Result<()> {
    let dir = temp_dir("flood")?;
    let log = dir.join("flood.log");
    eprintln!("generating {lines} lines from {ips} addresses …");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log)?);
    gen::flood(
        &mut f,
        lines,
        ips,
        tripline_event::Timestamp::now().secs() - (lines / 1000) as i64 - 3600,
    )?;
    f.flush()?;
    drop(f);
    let cfg = dir.join("flood.toml");
    std::fs::write(
        &cfg,
        format!("[detect]\nmax_tracked_entities = {cap}\n[output]\n"),
    )?;
    let out = dir.join("alerts.jsonl");
    let u = run_once(Some(&cfg), &log, &dir.join("flood.db"), &out)?;
    let alerts = count_lines(&out)?;
    println!("lines: {lines}");
    println!("distinct addresses: {ips}");
    println!("max_tracked_entities: {cap}");
    println!("alerts stored: {alerts}");
    println!("cpu time: {:.3} s", u.cpu);
    println!(
        "lines per cpu-second: {:.0}",
        lines as f64 / u.cpu.max(0.001)
    );
    println!("peak rss: {:.1} MB", u.rss_kb as f64 / 1024.0);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Percentile (0–100) of sorted samples.
pub(crate) fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `p50 … ms, p90 … ms, p99 … ms, max … ms` of latency samples in ms (sorted here).
pub(crate) fn latencies(samples: &mut [f64]) -> String {
    samples.sort_by(f64::total_cmp);
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(samples, 50.0),
        pct(samples, 90.0),
        pct(samples, 99.0),
        pct(samples, 100.0)
    )
}

pub use tripline_runtime::process::{self_usage, stat_seconds, status_kb};

/// A process's CPU time so far (user + system), seconds.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat_seconds(&stat, &[11, 12])
}

/// Lines of a child's pipe, each with the instant it arrived.
pub(crate) fn stamped_lines(
    pipe: impl std::io::Read + Send + 'static,
) -> std::sync::mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines().map_while(|l| l.ok()) {
            let _ = tx.send((Instant::now(), line));
        }
    });
    rx
}

/// A `tripline run` started for a benchmark: its time-stamped stderr and stdout lines, and what
/// its ready line said.
pub(crate) struct Daemon {
    child: std::process::Child,
    pub(crate) pid: u32,
    spawned: Instant,
    ready_at: Instant,
    ready_line: String,
    stdout: std::sync::mpsc::Receiver<(Instant, String)>,
}

impl Daemon {
    /// Start `tripline -c cfg run` and wait (10 s at most) for its ready line.
    pub(crate) fn start(cfg: &Path) -> Result<Daemon> {
        let spawned = Instant::now();
        let mut child = Command::new(std::env::current_exe()?)
            .arg("-c")
            .arg(cfg)
            .arg("run")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let pid = child.id();
        let stderr = stamped_lines(child.stderr.take().context("stderr")?);
        let stdout = stamped_lines(child.stdout.take().context("stdout")?);
        let (ready_at, ready_line) = loop {
            match stderr.recv_timeout(Duration::from_secs(10)) {
                Ok((t, l)) if l.contains(" ready ready_ms=") => break (t, l),
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    bail!("tripline run did not report ready");
                }
            }
        };
        Ok(Daemon {
            child,
            pid,
            spawned,
            ready_at,
            ready_line,
            stdout,
        })
    }

    /// The value after `key` in the ready line, up to `;` or a space.
    pub(crate) fn ready_field(&self, key: &str) -> Option<&str> {
        self.ready_line
            .split(key)
            .nth(1)
            .and_then(|r| r.split([';', ' ']).next())
    }

    /// SIGTERM, as an operator would; the time it took to exit, or `None` (then killed).
    pub(crate) fn stop(mut self) -> Result<Option<Duration>> {
        let t = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        while t.elapsed() < Duration::from_secs(10) {
            if self.child.try_wait()?.is_some() {
                return Ok(Some(t.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        Ok(None)
    }
}

/// A daemon configuration for benchmarks: one watched file, the store, the API on a free port.
pub(crate) fn daemon_config(dir: &Path, log: &Path, db: &Path, extra: &str) -> Result<PathBuf> {
    let cfg = dir.join("bench.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = {data:?}\n[sources.files]\npaths = [{log:?}]\n\
             [sources.journald]\nenabled = false\n[sources.cowrie]\nenabled = false\n\
             [store]\npath = {db:?}\n[api]\nbind = \"127.0.0.1:0\"\n{extra}",
            data = dir.display().to_string(),
            log = log.display().to_string(),
            db = db.display().to_string()
        ),
    )?;
    Ok(cfg)
}

/// `tripline bench live`: ready time, idle RSS and append → committed alert latency over
/// `samples` attacks.
pub fn live(samples: usize) -> Result<()> {
    let dir = temp_dir("live")?;
    let log = dir.join("auth.log");
    std::fs::write(&log, "")?;
    let cfg = daemon_config(
        &dir,
        &log,
        &dir.join("live.db"),
        "[output]\nstdout_json = true\n",
    )?;
    let d = Daemon::start(&cfg)?;
    let result = (|| -> Result<()> {
        let internal: f64 = d
            .ready_field("ready_ms=")
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        std::thread::sleep(Duration::from_secs(1));
        let idle = status_kb(&d.pid.to_string(), "VmRSS");
        // the live stream, as an open dashboard holds it: each line time-stamped on arrival
        let addr = d
            .ready_field("api=http://")
            .context("no api address in the ready line")?
            .to_string();
        let token = std::fs::read_to_string(tripline_api::token::path(&dir))?;
        let mut sse = std::net::TcpStream::connect(&addr)?;
        write!(
            sse,
            "GET /api/v1/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
            token.trim()
        )?;
        let sse_rx = stamped_lines(sse.try_clone()?);
        std::thread::sleep(Duration::from_millis(100));
        let mut f = std::fs::OpenOptions::new().append(true).open(&log)?;
        let mut lat = vec![];
        let mut to_stream = vec![];
        let mut stored_to_stream = vec![];
        for i in 0..samples {
            let ip = format!("198.18.{}.{}", i / 250, i % 250 + 1);
            let now = tripline_event::Timestamp::now();
            let mut batch = String::new();
            for k in 0..5 {
                batch.push_str(&format!(
                    "{now} bench-host sshd[{}]: Failed password for bench{i} from {ip} port {} ssh2\n",
                    4000 + i * 5 + k,
                    40000 + k
                ));
            }
            let want = format!("\"src_ip\":\"{ip}\"");
            f.write_all(batch.as_bytes())?;
            let t0 = Instant::now();
            loop {
                let (t, l) = d
                    .stdout
                    .recv_timeout(Duration::from_secs(5))
                    .with_context(|| format!("no alert for {ip} within 5 s"))?;
                if l.contains(&want) && l.contains("\"rule\":\"ssh.bruteforce\"") {
                    lat.push(t.duration_since(t0).as_secs_f64() * 1000.0);
                    // the same alert on the stream
                    loop {
                        let (ts, sl) = sse_rx
                            .recv_timeout(Duration::from_secs(5))
                            .with_context(|| format!("no stream event for {ip} within 5 s"))?;
                        if sl.starts_with("data: ") && sl.contains(&want) {
                            to_stream.push(ts.duration_since(t0).as_secs_f64() * 1000.0);
                            stored_to_stream
                                .push(ts.saturating_duration_since(t).as_secs_f64() * 1000.0);
                            break;
                        }
                    }
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let busy = status_kb(&d.pid.to_string(), "VmRSS");
        println!(
            "ready: {internal:.1} ms (reported), {:.1} ms from spawn",
            d.ready_at.duration_since(d.spawned).as_secs_f64() * 1000.0
        );
        println!("idle rss: {:.1} MB", idle as f64 / 1024.0);
        println!("rss after the attacks: {:.1} MB", busy as f64 / 1024.0);
        println!("samples: {}", lat.len());
        println!("append -> committed alert latency: {}", latencies(&mut lat));
        println!(
            "append -> alert on the SSE stream: {}",
            latencies(&mut to_stream)
        );
        println!(
            "committed -> alert on the SSE stream: {}",
            latencies(&mut stored_to_stream)
        );
        Ok(())
    })();
    match d.stop()? {
        Some(t) => println!("stop after SIGTERM: {:.1} ms", t.as_secs_f64() * 1000.0),
        None => println!("stop after SIGTERM: did not stop within 10 s"),
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `tripline bench api`: `GET /api/v1/alerts?limit=50` at a fixed `rate` for `seconds` against
/// a daemon whose store holds `alerts` alerts, while it ingests attack lines. Open-loop: every
/// request has its planned start, and its latency counts from there, so a stalled server is
/// not hidden by the client waiting for it (what wrk2 does).
pub fn api(alerts: u64, rate: u64, seconds: u64, connections: usize) -> Result<()> {
    let dir = temp_dir("api")?;
    let log = dir.join("auth.log");
    std::fs::write(&log, "")?;
    let db = dir.join("api.db");
    eprintln!("storing {alerts} alerts …");
    fill_store(&db, alerts)?;
    let cfg = daemon_config(&dir, &log, &db, "")?;
    let d = Daemon::start(&cfg)?;
    let result = (|| -> Result<()> {
        let addr = d
            .ready_field("api=http://")
            .context("no api address in the ready line")?
            .to_string();
        let token = std::fs::read_to_string(tripline_api::token::path(&dir))?
            .trim()
            .to_string();
        // ingest meanwhile: a brute force from a new address every 10 ms
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let feeder = {
            let (stop, log) = (stop.clone(), log.clone());
            std::thread::spawn(move || -> Result<u64> {
                let mut f = std::fs::OpenOptions::new().append(true).open(&log)?;
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let now = tripline_event::Timestamp::now();
                    let ip = format!("198.19.{}.{}", (n / 250) % 250, n % 250 + 1);
                    let mut batch = String::new();
                    for k in 0..5 {
                        batch.push_str(&format!(
                            "{now} bench-host sshd[{}]: Failed password for root from {ip} port {} ssh2\n",
                            5000 + k,
                            40000 + k
                        ));
                    }
                    f.write_all(batch.as_bytes())?;
                    n += 5;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(n)
            })
        };
        eprintln!("{rate} requests/s for {seconds} s over {connections} connections …");
        let req = format!(
            "GET /api/v1/alerts?limit=50 HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        );
        let load = open_loop(
            &addr,
            Arc::new(vec![req]),
            rate,
            seconds as f64,
            connections,
        )?;
        let (mut lat, errors) = (load.lat, load.errors);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let fed = feeder
            .join()
            .map_err(|_| anyhow::anyhow!("feeder panicked"))??;
        println!("alerts stored: {alerts}");
        println!("requests: {} ok, {errors} failed", lat.len());
        println!("achieved rate: {:.0} requests/s", load.rate);
        println!("lines ingested meanwhile: {fed}");
        println!(
            "GET /api/v1/alerts?limit=50 latency: {}",
            latencies(&mut lat)
        );
        println!(
            "daemon rss: {:.1} MB",
            status_kb(&d.pid.to_string(), "VmRSS") as f64 / 1024.0
        );
        Ok(())
    })();
    let _ = d.stop();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `n` synthetic alerts in the store at `db`, in transactions of 10,000, spread over the last
/// 30 days across every rule and severity.
fn fill_store(db: &Path, n: u64) -> Result<()> {
    use tripline_event::{Alert, Entity, Severity, Timestamp};
    let mut store = tripline_store::Store::open(db)?;
    let now = Timestamp::now().secs();
    let rules = tripline_detect::RULES;
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        let rule = &rules[(i % rules.len() as u64) as usize];
        let ip: std::net::IpAddr =
            std::net::Ipv4Addr::from(0x0a00_0000u32 + (i % 5_000_000) as u32).into();
        let entity = Entity::Ip(ip);
        let last = Timestamp::from_secs(now - 30 * 86_400 + (i * 30 * 86_400 / n.max(1)) as i64);
        batch.push(Alert {
            id: Alert::make_id(rule.id, &entity, last),
            rule: rule.id.into(),
            severity: Severity::ALL[(i % 5) as usize],
            score: 0.7,
            entity,
            src_ip: Some(ip),
            user: Some("root".into()),
            host: "bench-host".into(),
            sensor: "files".into(),
            techniques: tripline_event::Techniques::Borrowed(rule.techniques),
            count: 5 + i % 50,
            first_seen: last.add_secs(-60),
            last_seen: last,
            explanation: format!("{} failed SSH logins from {ip}", 5 + i % 50),
            evidence: vec![
                format!("Nov 20 06:26:09 bench-host sshd[1]: Failed password for root from {ip} port 22 ssh2").into();
                6
            ],
            detail: None,
        });
        if batch.len() == 10_000 || i + 1 == n {
            store.commit(&batch, &[], &[])?;
            batch.clear();
        }
    }
    Ok(())
}

/// What a fixed-rate load measured.
pub struct Load {
    pub lat: Vec<f64>,
    pub errors: u64,
    pub rate: f64,
}

/// `requests` (whole HTTP/1.1 requests) sent round-robin at `rate` per second for `seconds`
/// over `connections` keep-alive connections to `addr`, open loop. A request that fails or is
/// not answered 200 is an error (and its connection is opened again).
pub fn open_loop(
    addr: &str,
    requests: Arc<Vec<String>>,
    rate: u64,
    seconds: f64,
    connections: usize,
) -> Result<Load> {
    open_loop_with(addr, requests, (rate, seconds, connections), false)
}

/// [`open_loop`], with `fresh`: a new connection for every request (a server that closes
/// after each answer, as Flask's development server does).
pub(crate) fn open_loop_with(
    addr: &str,
    requests: Arc<Vec<String>>,
    (rate, seconds, connections): (u64, f64, usize),
    fresh: bool,
) -> Result<Load> {
    let connections = connections.max(1);
    let per_conn = (rate as f64 / connections as f64).max(1.0);
    let start = Instant::now() + Duration::from_millis(100);
    let workers: Vec<_> = (0..connections)
        .map(|c| {
            let (addr, requests) = (addr.to_owned(), requests.clone());
            std::thread::spawn(move || -> Result<(Vec<f64>, u64)> {
                let target = Target::plain(&addr);
                let mut conn = HttpConn::open(&target)?;
                let mut lat = vec![];
                let mut errors = 0;
                let total = (per_conn * seconds) as u64;
                // connections staggered across one interval
                let offset = Duration::from_secs_f64(c as f64 / rate.max(1) as f64);
                for i in 0..total {
                    let due = start + offset + Duration::from_secs_f64(i as f64 / per_conn);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let req = &requests[(c + i as usize * connections) % requests.len()];
                    if fresh {
                        conn = HttpConn::open(&target)?;
                    }
                    match conn.request(req) {
                        Ok((200, _)) => lat.push(due.elapsed().as_secs_f64() * 1000.0),
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            conn = HttpConn::open(&target)?;
                        }
                    }
                }
                Ok((lat, errors))
            })
        })
        .collect();
    let mut lat = vec![];
    let mut errors = 0;
    for w in workers {
        let (l, e) = w
            .join()
            .map_err(|_| anyhow::anyhow!("load thread panicked"))??;
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rate = lat.len() as f64 / elapsed;
    Ok(Load { lat, errors, rate })
}
