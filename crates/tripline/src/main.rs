//! `tripline`: the binary. Parses the command line, loads the configuration and wires sensors,
//! detectors and the store together (see `pipeline`). Errors become one clear message and a
//! non-zero exit; nothing here panics on input.
#![forbid(unsafe_code)]

use tripline::{bench, config, gen, output, run};
use tripline_runtime as pipeline;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use config::Config;
use std::io::Write;
use std::path::{Path, PathBuf};
use tripline_event::{SensorKind, Severity, Timestamp};
use tripline_sensors::{LineParser, TimeContext};
use tripline_store::{AlertQuery, Store};

/// Watch a Linux host's authentication logs and honeypots, catch attackers, explain why.
///
/// Start with `tripline demo` to see alerts from a built-in attack within seconds, or
/// `tripline once /var/log/auth.log` to scan a log you have.
#[derive(Parser)]
#[command(name = "tripline", version, about, long_about)]
struct Cli {
    /// Configuration file (TOML, or JSON). Default: built-in settings.
    #[arg(long, short, global = true, env = "TRIPLINE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The daemon: watch every configured source (files, journald, Cowrie), detect live, store alerts.
    Run {
        /// Database file (default: <data_dir>/tripline.db).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Read files never seen before from their start, not their end.
        #[arg(long)]
        from_start: bool,
        /// Watch these files instead of the configured sources.
        files: Vec<PathBuf>,
    },
    /// Scan files once (event time drives the windows), store the alerts and print them.
    Once {
        /// One JSON object per alert instead of a table.
        #[arg(long)]
        json: bool,
        /// SQLite database to store alerts and read positions in. Default: `store.path` of the
        /// configuration (`tripline.db` in the data directory).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Year of syslog timestamps that have none (for replaying old logs).
        #[arg(long)]
        year: Option<i32>,
        /// Ignore positions stored by an earlier scan and read every file from its start.
        #[arg(long)]
        from_start: bool,
        /// Print CPU time, wall time and peak memory to stderr as JSON.
        #[arg(long, hide = true)]
        stats: bool,
        /// Treat the files as Cowrie JSON logs (the same as `--source cowrie`).
        #[arg(long, conflicts_with = "source")]
        cowrie: bool,
        /// Read the files as this configured source reads its own (`[sources.NAME]`, e.g. a
        /// `type = "jsonl"` source with its field mapping). Default: `files` (syslog).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Log files to scan: auth.log, secure, syslog, messages (Cowrie JSON with --cowrie).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show how each line of a file is read: one JSON object per line, in order.
    Parse {
        /// JSON output (the default and only format; kept for symmetry with other verbs).
        #[arg(long)]
        json: bool,
        /// Year of syslog timestamps that have none (default: this year, or the year before for
        /// a date more than a day ahead).
        #[arg(long)]
        year: Option<i32>,
        /// The log file to read.
        file: PathBuf,
    },
    /// Explain one log line in words: what it is and which rules it moves.
    Explain {
        /// Year of syslog timestamps that have none (default: this year, or the year before for
        /// a date more than a day ahead).
        #[arg(long)]
        year: Option<i32>,
        /// One log line, quoted, e.g. 'Jan  5 10:00:01 host sshd[1]: Failed password for root
        /// from 203.0.113.5 port 22 ssh2'.
        line: String,
    },
    /// Query stored alerts.
    Alerts {
        /// Only alerts last seen within this long (e.g. 30m, 1h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// Minimum severity: info, low, medium, high, critical.
        #[arg(long)]
        severity: Option<String>,
        /// Only this rule id.
        #[arg(long)]
        rule: Option<String>,
        /// At most this many alerts, most recently seen first.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// One JSON object per alert instead of a table.
        #[arg(long)]
        json: bool,
        /// SQLite database to store alerts and read positions in. Default: `store.path` of the
        /// configuration (`tripline.db` in the data directory).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Print the API token (created, mode 0600, in the data directory when missing).
    Token,
    /// A live full-screen view of a running daemon (its API): alerts, top entities, sensors.
    /// q quits, arrows move, Enter opens an alert.
    Top {
        /// The daemon's API address (default: `api.bind` of the configuration)
        #[arg(long)]
        addr: Option<String>,
    },
    /// Validate a configuration file, or print the documented default.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Generate synthetic data for tests and benchmarks.
    Gen {
        #[command(subcommand)]
        cmd: GenCmd,
    },
    /// Feed a built-in attack scenario through the real pipeline and show the alerts.
    Demo,
    /// Grow the anomaly model (Isolation Forest) on behaviour windows of normal logs.
    ///
    /// Features per address and per user, per `anomaly.feature_window_minutes` of event time:
    /// events, failures, successes, failure_ratio, distinct_users, auth_methods,
    /// interarrival_mean, interarrival_std, hour_deviation, new_source, priv_uses,
    /// priv_failures, login_to_priv, commands_after_login.
    Train {
        /// Logs to learn from (syslog-style: auth.log, secure); the history should be normal.
        #[arg(long = "from", num_args = 1.., required_unless_present = "from_store")]
        from: Vec<PathBuf>,
        /// Learn from the events `tripline run` stored instead (store.keep_events).
        #[arg(long, conflicts_with = "from")]
        from_store: bool,
        /// With --from-store: how far back, e.g. 14d, 36h.
        #[arg(long, default_value = "14d", requires = "from_store")]
        since: String,
        /// With --from-store: the database (default: the configured one).
        #[arg(long, requires = "from_store")]
        db: Option<PathBuf>,
        /// Model file to write (default: anomaly.model, else <data_dir>/anomaly.model).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Year of BSD syslog timestamps (they have none).
        #[arg(long)]
        year: Option<i32>,
    },
    /// Evaluate a detector on labelled data.
    Eval {
        #[command(subcommand)]
        cmd: EvalCmd,
    },
    /// Measure: `scan` (default) against sshguard, `live` latency and memory, `flood` memory.
    Bench {
        #[command(subcommand)]
        cmd: Option<BenchCmd>,
    },
}

#[derive(Subcommand)]
enum EvalCmd {
    /// The Isolation Forest on a CSV with feature columns and a `label` column (1 = anomaly):
    /// fit on all rows per seed, ROC AUC and average precision (mean ± std), fit and score time.
    Anomaly {
        file: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Seeds 0..N.
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        #[arg(long, default_value_t = 100)]
        n_estimators: usize,
        #[arg(long, default_value_t = 256)]
        max_samples: usize,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// `once` on a generated auth.log beside sshguard's parser on the same file (the default)
    Scan {
        #[arg(long, default_value_t = 1_000_000)]
        lines: u64,
        /// Runs of each program; the best is reported
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Keep the generated log here instead of a temporary file
        #[arg(long)]
        keep: Option<PathBuf>,
        /// sshguard's parser (Debian package `sshguard`); skipped when missing
        #[arg(long, default_value = "/usr/libexec/sshguard/sshg-parser")]
        sshguard: PathBuf,
    },
    /// `run` on a watched file: ready time, idle memory, append → stored alert latency
    Live {
        #[arg(long, default_value_t = 500)]
        samples: usize,
    },
    /// A flood of failures from many addresses: memory stays at the entity cap
    Flood {
        #[arg(long, default_value_t = 10_000_000)]
        lines: u64,
        #[arg(long, default_value_t = 1_000_000)]
        ips: u32,
        /// max_tracked_entities for the run
        #[arg(long, default_value_t = 100_000)]
        cap: usize,
    },
    /// `GET /api/v1/alerts?limit=50` at a fixed rate against a daemon holding many alerts
    /// while it ingests
    Api {
        #[arg(long, default_value_t = 1_000_000)]
        alerts: u64,
        /// Requests per second, planned (open loop)
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 8)]
        connections: usize,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Check a file (default: the --config file); every bad key is named with its value.
    Check { file: Option<PathBuf> },
    /// Print the full default configuration with its documentation.
    Default,
}

#[derive(Subcommand)]
enum GenCmd {
    /// A realistic auth.log: normal traffic with every attack the rules know.
    AuthLog {
        #[arg(long, default_value_t = 10_000)]
        lines: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (default: stdout).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Write the injected attacks (`rule entity` per line) here.
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Percent of scenarios that are attacks (0: a normal-only baseline for `train`).
        #[arg(long, default_value_t = gen::DEFAULT_ATTACK_PERCENT, value_parser = clap::value_parser!(u8).range(0..=100))]
        attacks: u8,
        /// Percent of normal scenarios that are benign oddities (a mistyped password, a sudo
        /// typo, a login from home), as real baselines have.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        noise: u8,
        /// Unix time of the first line (default: so that the log ends about an hour ago).
        #[arg(long)]
        start: Option<i64>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = real_main(cli) {
        eprintln!("tripline: error: {e:#}");
        std::process::exit(1);
    }
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn real_main(cli: Cli) -> Result<()> {
    let cfg = load_config(cli.config.as_deref())?;
    match cli.cmd {
        Cmd::Run {
            db,
            from_start,
            files,
        } => run::run(cfg, db, from_start, files),
        Cmd::Once {
            json,
            db,
            year,
            from_start,
            stats,
            cowrie,
            source,
            files,
        } => {
            let source = match (cowrie, source) {
                (true, _) => "cowrie".to_string(),
                (false, s) => s.unwrap_or_else(|| "files".into()),
            };
            let started = std::time::Instant::now();
            let db = db.unwrap_or_else(|| cfg.db_path());
            let printer = output::Printer::stdout(json);
            let scan = once(
                &cfg,
                &db,
                year,
                from_start,
                &source,
                &files,
                Some(printer.sink()),
            )?;
            printer.finish()?;
            if stats {
                let (cpu, rss) = tripline_runtime::process::self_usage();
                eprintln!(
                    "{}",
                    serde_json::json!({
                        "cpu_seconds": cpu,
                        "wall_seconds": started.elapsed().as_secs_f64(),
                        "peak_rss_kb": rss,
                        "lines": scan.lines,
                        "unparsed": scan.unparsed,
                        "events": scan.stats.events,
                        "batches": scan.stats.batches,
                        "alert_writes": scan.stats.alerts_written,
                        "commits": scan.stats.commits,
                        "commit_seconds": scan.stats.commit_seconds,
                        "alerts_opened": scan.stats.detect.alerts_opened,
                        "tracked_entities": scan.stats.tracked_entities,
                        "evictions": scan.stats.detect.evictions,
                        "expired": scan.stats.detect.expired,
                    })
                );
            }
            Ok(())
        }
        Cmd::Parse {
            json: _,
            year,
            file,
        } => parse_cmd(&cfg, year, &file),
        Cmd::Explain { year, line } => explain(&cfg, year, &line),
        Cmd::Alerts {
            since,
            severity,
            rule,
            limit,
            json,
            db,
        } => {
            let store = Store::open(&db.unwrap_or_else(|| cfg.db_path()))?;
            let since = match since {
                Some(s) => Some(
                    Timestamp::now()
                        .add_secs(-parse_duration(&s).with_context(|| format!("--since {s:?}"))?),
                ),
                None => None,
            };
            let min_severity = match severity {
                Some(s) => Some(Severity::parse(&s).with_context(|| {
                    format!("--severity {s:?}: use info, low, medium, high or critical")
                })?),
                None => None,
            };
            let q = AlertQuery {
                since,
                min_severity,
                rule,
                limit,
                ..Default::default()
            };
            let printer = output::Printer::stdout(json);
            store.for_each_alert(&q, |a, _| printer.print(a))?;
            Ok(printer.finish()?)
        }
        Cmd::Top { addr } => {
            let dir = cfg.data_dir();
            let token = std::fs::read_to_string(tripline_api::token::path(&dir))
                .with_context(|| {
                    format!(
                        "reading the API token in {} (is `tripline run` running with this configuration?)",
                        dir.display()
                    )
                })?;
            tripline::top::top(
                tripline::client::Target::of(&cfg, addr)?,
                token.trim().to_string(),
            )
        }
        Cmd::Token => {
            let dir = cfg.data_dir();
            let t = tripline_api::token::load_or_create(&dir)
                .with_context(|| format!("api token in {}", dir.display()))?;
            println!("{t}");
            Ok(())
        }
        Cmd::Config {
            cmd: ConfigCmd::Default,
        } => {
            print!("{}", config::DEFAULT_TOML);
            Ok(())
        }
        Cmd::Config {
            cmd: ConfigCmd::Check { file },
        } => {
            let Some(file) = file.or(cli.config) else {
                bail!("config check: name a file (or pass --config)")
            };
            Config::load(&file)?;
            println!("{}: ok", file.display());
            Ok(())
        }
        Cmd::Gen {
            cmd:
                GenCmd::AuthLog {
                    lines,
                    seed,
                    out,
                    truth,
                    start,
                    attacks,
                    noise,
                },
        } => {
            let start = start.unwrap_or_else(|| gen::default_start(lines));
            let truth_list = match &out {
                Some(p) => {
                    let f = std::fs::File::create(p)
                        .with_context(|| format!("create {}", p.display()))?;
                    let mut w = std::io::BufWriter::new(f);
                    let t = gen::auth_log_with(&mut w, lines, seed, start, attacks, noise)?;
                    w.flush()?;
                    t
                }
                None => gen::auth_log_with(
                    &mut std::io::BufWriter::new(std::io::stdout().lock()),
                    lines,
                    seed,
                    start,
                    attacks,
                    noise,
                )?,
            };
            if let Some(t) = truth {
                std::fs::write(&t, truth_list.join("\n") + "\n")
                    .with_context(|| format!("write {}", t.display()))?;
            }
            Ok(())
        }
        Cmd::Demo => demo(&cfg),
        Cmd::Train {
            from,
            from_store,
            since,
            db,
            out,
            year,
        } => {
            use tripline::train::History;
            let out = out.unwrap_or_else(|| cfg.model_path());
            let history = if from_store {
                History::Store {
                    db: db.unwrap_or_else(|| cfg.db_path()),
                    since: Timestamp::now().add_secs(
                        -parse_duration(&since).with_context(|| format!("--since {since:?}"))?,
                    ),
                }
            } else {
                History::Files(from)
            };
            let r = tripline::train::train(&cfg, &time_context(&cfg, year)?, &history, &out)?;
            println!(
                "trained on {} behaviour windows ({} {}, {} events); fit {:.1} ms; wrote {}",
                r.windows,
                r.lines,
                r.read,
                r.events,
                r.fit_ms,
                r.out.display()
            );
            if !r.constant.is_empty() {
                println!(
                    "note: constant in this history (no help until it varies): {}",
                    r.constant.join(", ")
                );
            }
            Ok(())
        }
        Cmd::Eval {
            cmd:
                EvalCmd::Anomaly {
                    file,
                    json,
                    seeds,
                    n_estimators,
                    max_samples,
                },
        } => {
            let r = tripline::eval::anomaly(&file, seeds, n_estimators, max_samples)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                tripline::eval::print(&r);
            }
            Ok(())
        }
        Cmd::Bench { cmd } => match cmd.unwrap_or(BenchCmd::Scan {
            lines: 1_000_000,
            runs: 3,
            keep: None,
            sshguard: "/usr/libexec/sshguard/sshg-parser".into(),
        }) {
            BenchCmd::Scan {
                lines,
                runs,
                keep,
                sshguard,
            } => bench::scan(lines, runs, keep, &sshguard),
            BenchCmd::Live { samples } => bench::live(samples),
            BenchCmd::Flood { lines, ips, cap } => bench::flood(lines, ips, cap),
            BenchCmd::Api {
                alerts,
                rate,
                seconds,
                connections,
            } => bench::api(alerts, rate, seconds, connections),
        },
    }
}

/// `30m`, `1h`, `7d`, `90s`, `90` → seconds.
fn parse_duration(s: &str) -> Result<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .context("expected a number with an optional unit s, m, h, d")?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        u => bail!("unknown unit {u:?}: use s, m, h, d or w"),
    };
    Ok(n.saturating_mul(mult))
}

fn time_context(cfg: &Config, year: Option<i32>) -> Result<TimeContext> {
    let tc = TimeContext::new(&cfg.timezone).map_err(anyhow::Error::msg)?;
    Ok(tc.with_year(year))
}

/// Stream the alerts matching `q` to `out`: JSON lines, or a table (header only when there are
/// some). Stops quietly when the reader goes away (a closed pipe).
/// What a scan left: the store it wrote and when it started, so its alerts can be read back.
pub struct Scan {
    pub store: Store,
    pub started: Timestamp,
    pub stats: pipeline::RunStats,
    pub lines: u64,
    pub unparsed: u64,
}

impl Scan {
    /// The alerts this scan opened or grew.
    pub fn query(&self) -> AlertQuery {
        AlertQuery {
            updated_since: Some(self.started),
            ..Default::default()
        }
    }
}

/// Scan files once through the real pipeline: the files (or Cowrie) source in scan mode,
/// resuming from stored checkpoints unless `from_start`.
pub fn once(
    cfg: &Config,
    db: &Path,
    year: Option<i32>,
    from_start: bool,
    source: &str,
    files: &[PathBuf],
    finals: Option<pipeline::AlertSink>,
) -> Result<Scan> {
    let started = Timestamp::now();
    let store = Store::open(db)?;
    let reader = Store::open(db)?;
    // alerts of earlier scans continue (grow) instead of being opened again
    let restore = if from_start {
        vec![]
    } else {
        reader
            .alerts(&AlertQuery {
                limit: cfg.detect.max_tracked_entities,
                ..Default::default()
            })?
            .into_iter()
            .map(|s| s.alert)
            .collect()
    };
    // the source named reads the files given
    if cfg.sources.get(source).is_none() {
        let names: Vec<&str> = cfg
            .sources
            .entries
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        bail!(
            "--source {source}: no [sources.{source}] in the configuration (there are: {})",
            names.join(", ")
        );
    }
    let sources = run::open_sources(
        cfg,
        &reader,
        tripline_sensors::source::Mode::Scan,
        Some((source, files.to_vec())),
        true,
        from_start,
        year,
    )?;
    let detectors = cfg.detectors(restore, reader.first_seen(cfg.detect.max_tracked_entities)?)?;
    let mut pipeline = pipeline::Pipeline::start(
        &cfg.settings(),
        store,
        pipeline::Sinks {
            finals,
            ..Default::default()
        },
        detectors,
        tripline_sensors::source::Mode::Scan,
    );
    if sources.is_empty() {
        bail!("--source {source}: it reads no files (a scan reads files)");
    }
    for s in sources {
        pipeline.add(s)?;
    }
    let health = pipeline.health();
    let size: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    if let Some(b) = progress_bar(size) {
        while !pipeline.sources_done() {
            b.set_position(health.snapshot().iter().map(|s| s.offset).sum());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        b.finish_and_clear();
    }
    let (stats, failed) = pipeline.finish()?;
    if let Some(e) = failed.first() {
        bail!("{e}");
    }
    let read = health.snapshot();
    let lines = read.iter().map(|s| s.lines).sum();
    let unparsed = read.iter().map(|s| s.unparsed_lines).sum();
    if stats.batches == 0 {
        eprintln!("tripline: nothing new to read");
    }
    // the store holds every alert, grown ones included: the caller reads them back from there
    Ok(Scan {
        store: reader,
        started,
        stats,
        lines,
        unparsed,
    })
}

fn progress_bar(size: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if size < 32 << 20 || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(size);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .ok()?,
    );
    Some(b)
}

fn parse_cmd(cfg: &Config, year: Option<i32>, file: &Path) -> Result<()> {
    let mut parser = LineParser::new(time_context(cfg, year)?, SensorKind::Files, &cfg.hostname());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut n = 0u64;
    let mut written = Ok(());
    tripline_sensors::for_each_line(file, |text| {
        n += 1;
        if written.is_ok() {
            let v = parse_json(&mut parser, n, text);
            written = serde_json::to_writer(&mut out, &v)
                .map_err(anyhow::Error::from)
                .and_then(|_| Ok(out.write_all(b"\n")?));
        }
    })?;
    written?;
    out.flush()?;
    Ok(())
}

fn parse_json(parser: &mut LineParser, n: u64, text: &str) -> serde_json::Value {
    match parser.parse(text) {
        Some((h, p)) => serde_json::json!({
            "line": n,
            "ts": p.ts.or(h.ts),
            "kind": p.kind.name(),
            "src_ip": p.src_ip.map(|i| i.to_string()).or(p.src_name.as_deref().map(String::from)),
            "user": p.user,
            "host": h.host,
            "program": h.program,
            "count": p.count,
            "hostile": p.hostile,
        }),
        None => {
            let h = tripline_sensors::syslog::parse_header(text, parser.time_context());
            serde_json::json!({"line": n, "ts": h.ts, "kind": null, "src_ip": null, "user": null, "host": h.host, "program": h.program, "count": 0, "hostile": false})
        }
    }
}

fn explain(cfg: &Config, year: Option<i32>, line: &str) -> Result<()> {
    let mut parser = LineParser::new(time_context(cfg, year)?, SensorKind::Files, &cfg.hostname());
    let line = output::printable(line);
    let Some((h, p)) = parser.parse(&line) else {
        println!("not understood: no sensor reads this line as an event (tripline ignores it)");
        return Ok(());
    };
    println!("program:  {}", h.program.unwrap_or("(none; read as sshd)"));
    println!(
        "time:     {}",
        p.ts.map(|t| t.to_string())
            .unwrap_or_else(|| "(none in the line; the time it is read is used)".into())
    );
    println!("kind:     {}", p.kind.name());
    if let Some(ip) = p.src_ip {
        println!("source:   {ip}");
    } else if let Some(n) = &p.src_name {
        println!("source:   {n} (a host name: reported, not counted; sshd's UseDNS is on)");
    }
    if let Some(u) = &p.user {
        println!("user:     {u}");
    }
    if p.count != 1 {
        println!("count:    {}", p.count);
    }
    println!(
        "hostile:  {}",
        if p.hostile {
            "yes: evidence against its source"
        } else {
            "no"
        }
    );
    let r = &cfg.detect.rules;
    let mut moves: Vec<String> = vec![];
    let k = &p.kind;
    if p.hostile && p.src_ip.is_some() && k.is_login_failure() {
        moves.push(format!(
            "ssh.bruteforce (≥ {} per IP in {})",
            r.ssh_bruteforce.threshold,
            tripline_detect::fmt_secs(r.ssh_bruteforce.window_seconds)
        ));
        moves.push("ssh.bruteforce.slow".into());
        moves.push("ssh.compromise (failure history of the IP)".into());
        moves.push("ssh.distributed (per user and per network)".into());
        if p.user.is_some() {
            moves.push("ssh.spray".into());
        }
        if matches!(
            k,
            tripline_event::Kind::InvalidUser
                | tripline_event::Kind::AuthFailure {
                    invalid_user: true,
                    ..
                }
        ) {
            moves.push("ssh.enumeration".into());
        }
    }
    use tripline_event::Kind as K;
    match k {
        K::PreauthNoise | K::PreauthClose if p.hostile => moves.push("ssh.scan".into()),
        K::AuthSuccess { .. } => {
            moves.extend(["ssh.compromise".into(), "ssh.new_source_login".into()])
        }
        K::SudoFailure | K::SudoNotAllowed => moves.push("priv.sudo_failures".into()),
        K::SudoNotInSudoers => moves.push("priv.not_in_sudoers".into()),
        K::SuFailure { .. } => moves.push("priv.su_failures".into()),
        K::SudoCommand { .. } | K::SuSuccess { .. } => {
            moves.push("priv.after_login (if root soon after a login from a new source)".into())
        }
        K::AccountCreated | K::GroupMembership { .. } | K::PasswordChange { .. } => {
            moves.push("account.change".into())
        }
        _ => {}
    }
    if moves.is_empty() {
        println!("rules:    none");
    } else {
        println!("rules:    {}", moves.join("\n          "));
    }
    Ok(())
}

fn demo(cfg: &Config) -> Result<()> {
    let dir = bench::temp_dir("demo")?;
    let log = dir.join("demo-auth.log");
    let start = gen::default_start(3000);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log)?);
    gen::auth_log(&mut f, 3000, 42, start)?;
    f.flush()?;
    drop(f);
    println!(
        "tripline demo: a generated auth.log with normal traffic and attacks: {}",
        log.display()
    );
    let t = std::time::Instant::now();
    let scan = once(cfg, &dir.join("demo.db"), None, true, "files", &[log], None)?;
    let alerts: Vec<_> = scan
        .store
        .alerts(&scan.query())?
        .into_iter()
        .map(|s| s.alert)
        .collect();
    println!(
        "{} alerts in {:.0} ms:\n",
        alerts.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let mut shown = alerts.clone();
    shown.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.count.cmp(&a.count)));
    shown.truncate(25);
    print!("{}", output::alert_table(&shown));
    if let Some(a) = shown.first() {
        println!(
            "\nmost severe, in full:\n{}",
            serde_json::to_string_pretty(&a.view("open"))?
        );
    }
    println!("\nNext: `tripline once /var/log/auth.log`, or `tripline run` to watch this host.");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
