//! `tripline`: the binary. Parses the command line, loads the configuration and hands each verb
//! its arguments (`cmd/`, a file per verb; the daemon is `tripline::run`). Errors become one
//! clear message and a non-zero exit; nothing here panics on input.
#![forbid(unsafe_code)]

mod cmd;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use cmd::Config;
use std::path::PathBuf;
use tripline::{bench, bench_gateway, bench_honeypot, config, gen, run};

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
    ///
    /// `tripline train prompt FILE.jsonl…` trains the prompt-injection classifier instead.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Train {
        #[command(subcommand)]
        what: Option<TrainCmd>,
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
    /// An OpenAI-compatible upstream that answers at once, for tests and benchmarks of the
    /// gateway (the request's `model` picks its behaviour: echo, slow-N, fail, garbage,
    /// endless, stall, leak, secret). Prints `listening on ADDR`, serves until killed.
    #[command(hide = true)]
    StubUpstream {
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: String,
    },
    /// Scan input with a detector, without the daemon: `scan prompt`.
    Scan {
        #[command(subcommand)]
        cmd: ScanCmd,
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
enum TrainCmd {
    /// The prompt-injection classifier on `{text, label}` JSON lines (label 1 = injection),
    /// with the project's own hard negatives mixed in.
    Prompt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Model file to write.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 12)]
        epochs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The threshold lets at most this share of the benign training texts through as
        /// injections.
        #[arg(long, default_value_t = 0.05)]
        max_fpr: f32,
        /// Leave out rows whose field KEY is VALUE (`--skip form=attack`); repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        skip: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ScanCmd {
    /// Scan prompts (injection, jailbreak, secrets, PII, obfuscation): one verdict per text.
    Prompt {
        /// One JSON verdict per line instead of text.
        #[arg(long)]
        json: bool,
        /// `{text}` JSON lines to scan, one verdict each.
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
        /// The text to scan.
        #[arg(required_unless_present = "file")]
        text: Option<String>,
    },
}

#[derive(Subcommand)]
enum EvalCmd {
    /// The prompt scanners on `{text, label[, source]}` JSON lines (label 1 = injection):
    /// precision, recall, F1, false-positive rate, ROC AUC, per source, latency percentiles.
    Prompt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// A model file instead of the built-in one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
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
    /// The LLM gateway: idle memory, `POST /v1/scan` at a fixed rate on prompts of at most
    /// 4 KB and on a 100 KB document, and what it adds to chat completions over an upstream
    /// that answers at once; with `--python`, a GhostAI-style Flask + scikit-learn firewall
    /// measured the same way
    Gateway(bench_gateway::Options),
    /// The SSH honeypot: handshakes + failed logins per second, the fake shell's command
    /// latency, a failed login to its alert, and memory with thousands of sessions held
    Honeypot(bench_honeypot::Options),
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
    // structured logs on stderr: `RUST_LOG` picks the levels (info by default)
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    if let Err(e) = real_main(cli) {
        eprintln!("tripline: error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main(cli: Cli) -> Result<()> {
    let cfg = cmd::load_config(cli.config.as_deref())?;
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
                (false, Some(s)) => s,
                // no source named: Cowrie's JSON log is recognised by its first line
                (false, None) if cmd::once::looks_like_cowrie(&files) => {
                    tracing::info!("the files are Cowrie JSON: reading them as the cowrie source");
                    "cowrie".into()
                }
                (false, None) => "files".into(),
            };
            cmd::once::verb(&cfg, json, db, year, from_start, stats, &source, &files)
        }
        Cmd::Parse {
            json: _,
            year,
            file,
        } => cmd::parse::verb(&cfg, year, &file),
        Cmd::Explain { year, line } => cmd::explain::verb(&cfg, year, &line),
        Cmd::Alerts {
            since,
            severity,
            rule,
            limit,
            json,
            db,
        } => cmd::alerts::verb(&cfg, since, severity, rule, limit, json, db),
        Cmd::Top { addr } => cmd::api::top(&cfg, addr),
        Cmd::Token => cmd::api::token(&cfg),
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
        } => cmd::gen::verb(lines, seed, out, truth, start, attacks, noise),
        Cmd::Demo => cmd::demo::verb(&cfg),
        Cmd::Train {
            what:
                Some(TrainCmd::Prompt {
                    files,
                    out,
                    epochs,
                    seed,
                    max_fpr,
                    skip,
                }),
            ..
        } => cmd::prompt::train(files, out, epochs, seed, max_fpr, skip),
        Cmd::StubUpstream { bind } => cmd::prompt::stub_upstream(&bind),
        Cmd::Scan {
            cmd: ScanCmd::Prompt { json, file, text },
        } => cmd::prompt::scan(json, file, text),
        Cmd::Eval {
            cmd: EvalCmd::Prompt { files, json, model },
        } => cmd::prompt::eval(files, json, model),
        Cmd::Train {
            what: None,
            from,
            from_store,
            since,
            db,
            out,
            year,
        } => cmd::train::verb(&cfg, from, from_store, since, db, out, year),
        Cmd::Eval {
            cmd:
                EvalCmd::Anomaly {
                    file,
                    json,
                    seeds,
                    n_estimators,
                    max_samples,
                },
        } => cmd::eval::anomaly(file, json, seeds, n_estimators, max_samples),
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
            BenchCmd::Gateway(o) => bench_gateway::gateway(&o),
            BenchCmd::Honeypot(o) => bench_honeypot::honeypot(&o),
        },
    }
}
