//! `tripline run`: the daemon. Watches files (inotify, with polling as the fallback), the
//! journal and Cowrie logs; a missing source is reported and watched for, never fatal. SIGTERM
//! or SIGINT stops it after the last batch and its positions are committed.

use crate::config::Config;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tripline_event::{SensorKind, SourcePos, Timestamp};
use tripline_runtime::{Engine, FileSource, Mode, Sinks};
use tripline_sensors::tail::Poll;
use tripline_sensors::{journald, LineParser, TimeContext};
use tripline_store::{AlertQuery, SourcePosition, Store};

/// A watched file and whether its absence or error was already reported.
struct Watched {
    src: FileSource,
    /// Its counters as last reported to the metrics.
    counted: tripline_runtime::metrics::SourceCounts,
    missing_reported: bool,
    /// Resumed from a stored position (so there is something to warm up from).
    resumed: bool,
}

fn expand(patterns: &[String]) -> Vec<PathBuf> {
    let mut out = vec![];
    for p in patterns {
        let matched: Vec<PathBuf> = glob::glob(p)
            .map(|g| g.flatten().collect())
            .unwrap_or_default();
        if matched.is_empty() {
            out.push(PathBuf::from(p)); // watched for
        } else {
            out.extend(matched);
        }
    }
    out
}

pub fn run(cfg: Config, db: Option<PathBuf>, from_start: bool, files: Vec<PathBuf>) -> Result<()> {
    let t0 = Instant::now();
    let db = db.unwrap_or_else(|| cfg.db_path());
    let store = Store::open(&db)?;
    let reader = Store::open(&db)?;
    // Alerts that may still be open continue instead of being duplicated after a restart.
    let restore_since = Timestamp::now().add_secs(-(cfg.detect.cooldown_seconds as i64) - 86_400);
    let restore: Vec<_> = reader
        .alerts(&AlertQuery {
            since: Some(restore_since),
            limit: cfg.detect.max_tracked_entities,
            ..Default::default()
        })?
        .into_iter()
        .map(|s| s.alert)
        .collect();
    let known = reader.first_seen(cfg.detect.max_tracked_entities)?;
    let host = cfg.hostname();
    let mut sources = vec![];
    let (file_paths, cowrie_paths) = if files.is_empty() {
        let f = if cfg.sources.files.enabled {
            expand(&cfg.sources.files.paths)
        } else {
            vec![]
        };
        let c = if cfg.sources.cowrie.enabled {
            expand(&cfg.sources.cowrie.paths)
        } else {
            vec![]
        };
        (f, c)
    } else {
        (files.clone(), vec![])
    };
    let from_start = from_start || cfg.sources.files.from_start;
    for (path, is_cowrie) in file_paths
        .iter()
        .map(|p| (p, false))
        .chain(cowrie_paths.iter().map(|p| (p, true)))
    {
        let saved = reader.position(&FileSource::name_for(path, is_cowrie))?;
        let tc = TimeContext::new(&cfg.timezone).map_err(anyhow::Error::msg)?;
        match FileSource::open(path, is_cowrie, tc, &host, saved.as_ref(), from_start) {
            Ok(src) => sources.push(Watched {
                src,
                counted: Default::default(),
                missing_reported: false,
                resumed: saved.is_some(),
            }),
            Err(e) => eprintln!("tripline: source {}: {e}", path.display()),
        }
    }
    let mut sinks = Sinks {
        respond: responders(&cfg)?,
        ..Sinks::default()
    };
    // the API binds before anything starts, so a taken port is a clear error, not a half start
    let metrics = Arc::new(tripline_runtime::metrics::Metrics::new());
    let sensors: Arc<std::sync::Mutex<Vec<SensorState>>> = Default::default();
    let api = if cfg.api.enabled {
        Some(Api::start(&cfg, &db, metrics.clone(), sensors.clone())?)
    } else {
        None
    };
    metrics.watch_responders(sinks.respond.counts());
    sinks.metrics = Some(metrics.clone());
    if let Some(a) = &api {
        let state = a.state.clone();
        sinks.on_commit = Some(Box::new(move |alert| state.publish(&alert.view("open"))));
    }
    sinks.anomaly = cfg.anomaly_model()?;
    let mut engine = Engine::start(&cfg.settings(), store, sinks, restore, known, Mode::Live);
    let warm_start = Instant::now();
    let mut warmed = 0;
    for s in sources.iter_mut().filter(|s| s.resumed) {
        warmed += s.src.warm_up(
            &mut engine,
            cfg.sources.files.resume_warmup_mib << 20,
            cfg.batch_size,
        );
    }
    if warmed > 0 {
        eprintln!(
            "tripline: windows rebuilt from {warmed} lines before the stored positions in {:.1} ms",
            warm_start.elapsed().as_secs_f64() * 1000.0
        );
    }

    // wake-ups: inotify on the sources' directories, signals, journald lines
    let (wake_tx, wake_rx) = channel::<()>();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let wake = wake_tx.clone();
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGINT,
        ])
        .context("install signal handlers")?;
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                stop.store(true, Ordering::SeqCst);
                let _ = wake.send(());
            }
        });
    }
    let inotify_ok = watch_dirs(
        sources
            .iter()
            .map(|s| s.src.tail.path().to_path_buf())
            .collect(),
        wake_tx.clone(),
    );
    // the journal, when wanted and missing, is looked for again every JOURNAL_RETRY
    let journal_wanted = files.is_empty() && cfg.sources.journald.enabled;
    let mut journal = if journal_wanted {
        start_journal(&cfg, &reader, wake_tx.clone(), JournalStart::First)
    } else {
        None
    };
    // whether a journalctl ran in this process (its windows are in memory)
    let mut journal_ran = journal.is_some();
    let mut journal_retry = Instant::now() + JOURNAL_RETRY;
    let mut journal_parser = LineParser::new(
        TimeContext::new(&cfg.timezone).map_err(anyhow::Error::msg)?,
        SensorKind::Journald,
        &host,
    );
    let watching: Vec<String> = sources
        .iter()
        .map(|s| s.src.tail.path().display().to_string())
        .collect();
    if let Some(a) = &api {
        a.state.set_ready(true);
    }
    eprintln!(
        "tripline: ready in {:.1} ms; db {}; api {}; watching {}{}{}",
        t0.elapsed().as_secs_f64() * 1000.0,
        db.display(),
        api.as_ref()
            .map(|a| format!("{}://{}", a.scheme, a.addr))
            .unwrap_or_else(|| "off".into()),
        if watching.is_empty() {
            "no files".into()
        } else {
            watching.join(", ")
        },
        if journal.is_some() {
            " and the journal"
        } else {
            ""
        },
        if inotify_ok || sources.is_empty() {
            ""
        } else {
            " (inotify unavailable: polling)"
        }
    );
    let poll = Duration::from_secs_f64(cfg.poll_interval_seconds);
    let max_bytes = cfg.max_batch_size * 128;
    let mut tracker = SensorTracker::new(sources.len() + 1);
    let mut jstats = JournalStats::default();
    // journal entries replayed from before the stored cursor, until told
    let mut replayed = 0u64;
    let report_replay = |n: &mut u64| {
        if *n > 0 {
            eprintln!(
                "tripline: windows rebuilt from {n} journal entries before the stored cursor"
            );
            *n = 0;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        let mut busy = false;
        for s in sources.iter_mut() {
            let res = s.src.poll(&mut engine, max_bytes, false);
            let now = s.src.counts();
            if now != s.counted {
                metrics.source(
                    if s.src.is_cowrie() { "cowrie" } else { "files" },
                    &s.src.tail.path().display().to_string(),
                    s.counted,
                    now,
                );
                s.counted = now;
            }
            match res {
                Ok(Poll::Data) => {
                    busy = true;
                    s.missing_reported = false;
                }
                Ok(Poll::Missing) if !s.missing_reported => {
                    eprintln!(
                        "tripline: source {} is missing; watching for it",
                        s.src.tail.path().display()
                    );
                    s.missing_reported = true;
                }
                Ok(_) => {}
                Err(e) => {
                    if !s.missing_reported {
                        eprintln!("tripline: source {}: {e}", s.src.tail.path().display());
                        s.missing_reported = true;
                    }
                }
            }
        }
        if journal.is_none() && journal_wanted && Instant::now() >= journal_retry {
            let how = if journal_ran {
                JournalStart::Restart(jstats.cursor.clone())
            } else {
                JournalStart::Appeared
            };
            journal = start_journal(&cfg, &reader, wake_tx.clone(), how);
            journal_ran |= journal.is_some();
            journal_retry = Instant::now() + JOURNAL_RETRY;
        }
        let mut journal_lines = false;
        let mut journal_exited = false;
        if let Some((rx, _, _)) = &journal {
            loop {
                let (entry, old) = match rx.try_recv() {
                    Ok(e) => e,
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        journal_exited = true;
                        break;
                    }
                };
                busy = true;
                journal_lines = true;
                // a replayed entry rebuilds windows and alerts nothing; the position stays
                engine.set_warm(old);
                if old {
                    replayed += 1;
                } else {
                    jstats.entries += 1;
                    report_replay(&mut replayed);
                }
                if let Some(ts) = entry.ts {
                    jstats.lag_seconds =
                        Timestamp::now().0.saturating_sub(ts.0).max(0) as f64 / 1e6;
                }
                let h = tripline_sensors::Header {
                    ts: entry.ts,
                    host: entry.host.as_deref(),
                    program: entry.identifier.as_deref(),
                    pid: entry.pid.as_deref(),
                    msg: &entry.message,
                };
                if let Some(p) = journal_parser.parse_message(&h) {
                    jstats.events += !old as u64;
                    let raw: tripline_event::Line = format!(
                        "{} {}[{}]: {}",
                        entry.host.as_deref().unwrap_or("-"),
                        entry.identifier.as_deref().unwrap_or("-"),
                        entry.pid.as_deref().unwrap_or("-"),
                        entry.message
                    )
                    .into();
                    let host: Arc<str> = entry.host.as_deref().unwrap_or(&host).into();
                    engine.push(tripline_sensors::build_event(
                        p,
                        Timestamp::now(),
                        SensorKind::Journald,
                        host,
                        raw,
                        SourcePos::default(),
                    ));
                } else {
                    jstats.unparsed += !old as u64;
                }
                if !old {
                    jstats.cursor = Some(entry.cursor.clone());
                    engine.position(SourcePosition {
                        name: "journald".into(),
                        cursor: Some(entry.cursor),
                        ..Default::default()
                    });
                }
            }
        }
        if journal_lines {
            engine.set_warm(false);
            engine.send();
        }
        if journal_exited {
            eprintln!("tripline: source journald: journalctl exited; starting it again");
            journal = None;
            journal_retry = Instant::now() + JOURNAL_RETRY;
        }
        let journal_state = journal.as_ref().map(|(_, _, skipped)| (&jstats, skipped));
        tracker.update(&sources, journal_state, &sensors);
        if !busy {
            // caught up everywhere: commit what a backlog left between checkpoints
            engine.settle();
            let _ = wake_rx.recv_timeout(poll);
            while wake_rx.try_recv().is_ok() {}
        }
    }
    if let Some(a) = api {
        a.stop();
    }
    report_replay(&mut replayed);
    let stats = engine.finish()?;
    let bad_cowrie: u64 = sources.iter().map(|s| s.src.bad_lines).sum();
    if bad_cowrie > 0 {
        eprintln!("tripline: skipped {bad_cowrie} invalid Cowrie lines");
    }
    eprintln!(
        "tripline: stopped; {} events, {} alert updates stored, positions committed",
        stats.events, stats.alerts_written
    );
    Ok(())
}

/// The responders the configuration asks for, each with its decide filter, started.
fn responders(cfg: &Config) -> Result<tripline_respond::Stage> {
    use tripline_respond::{incidents::Incidents, stdout::StdoutJson, stream::StreamJsonl};
    let (o, d) = (&cfg.output, &cfg.output.decide);
    let mut list: Vec<(
        Box<dyn tripline_respond::Responder>,
        tripline_respond::Filter,
    )> = vec![];
    if o.stdout_json {
        list.push((Box::new(StdoutJson::default()), d.stdout_json.clone()));
    }
    if !o.stream_jsonl.is_empty() {
        let s = StreamJsonl::open(std::path::Path::new(&o.stream_jsonl))
            .with_context(|| format!("output.stream_jsonl = {:?}", o.stream_jsonl))?;
        list.push((Box::new(s), d.stream_jsonl.clone()));
    }
    if !o.incidents_dir.is_empty() {
        let s = Incidents::open(std::path::Path::new(&o.incidents_dir))
            .with_context(|| format!("output.incidents_dir = {:?}", o.incidents_dir))?;
        list.push((Box::new(s), d.incidents.clone()));
    }
    Ok(tripline_respond::Stage::start(list, o.queue))
}

/// What `/api/v1/sensors` shows of one watched file: what an operator checks first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SensorState {
    pub sensor: &'static str,
    pub path: String,
    /// `reading`, `missing`, or the error that stops it.
    pub state: String,
    /// Bytes read and committed so far, the file's size, and the difference (files).
    pub offset: u64,
    /// Where the journal source is (journald; null for files).
    pub cursor: Option<String>,
    pub size: u64,
    pub lag_bytes: u64,
    /// Seconds since the reader was last caught up with the file (0 when it is).
    pub lag_seconds: f64,
    pub lines: u64,
    pub events: u64,
    pub unparsed_lines: u64,
    pub truncated_lines: u64,
    pub parse_errors: u64,
    /// Lines per second over the last interval (about a second).
    pub lines_per_second: f64,
}

/// Refresh the sensors' state (at most once a second).
struct SensorTracker {
    last: Instant,
    prev: Vec<(u64, Instant)>,
    caught_up: Vec<Instant>,
}

impl SensorTracker {
    fn new(n: usize) -> SensorTracker {
        let now = Instant::now();
        SensorTracker {
            last: now - Duration::from_secs(2),
            prev: vec![(0, now); n],
            caught_up: vec![now; n],
        }
    }

    fn update(
        &mut self,
        sources: &[Watched],
        journal: Option<(&JournalStats, &Arc<std::sync::atomic::AtomicU64>)>,
        out: &std::sync::Mutex<Vec<SensorState>>,
    ) {
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_secs(1) {
            return;
        }
        self.last = now;
        let mut list: Vec<SensorState> = sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let c = s.src.counts();
                let offset = s.src.tail.state().offset;
                let size = std::fs::metadata(s.src.tail.path())
                    .map(|m| m.len())
                    .unwrap_or(0);
                let lag = size.saturating_sub(offset);
                if lag == 0 {
                    self.caught_up[i] = now;
                }
                let (lines_before, t_before) = self.prev[i];
                let dt = now.duration_since(t_before).as_secs_f64().max(1e-3);
                self.prev[i] = (c.lines, now);
                SensorState {
                    sensor: if s.src.is_cowrie() { "cowrie" } else { "files" },
                    path: s.src.tail.path().display().to_string(),
                    state: if s.src.tail.is_open() {
                        "reading".into()
                    } else {
                        "missing".into()
                    },
                    offset,
                    cursor: None,
                    size,
                    lag_bytes: lag,
                    lag_seconds: now.duration_since(self.caught_up[i]).as_secs_f64(),
                    lines: c.lines,
                    events: c.events,
                    unparsed_lines: c.unparsed,
                    truncated_lines: c.truncated,
                    parse_errors: c.parse_errors,
                    lines_per_second: c.lines.saturating_sub(lines_before) as f64 / dt,
                }
            })
            .collect();
        if let Some((j, skipped)) = journal {
            // the last slot of `prev` is the journal's
            let i = self.prev.len() - 1;
            let (before, t_before) = self.prev[i];
            let dt = now.duration_since(t_before).as_secs_f64().max(1e-3);
            self.prev[i] = (j.entries, now);
            list.push(SensorState {
                sensor: "journald",
                path: "journal".into(),
                state: "reading".into(),
                offset: 0,
                cursor: j.cursor.clone(),
                size: 0,
                lag_bytes: 0,
                lag_seconds: j.lag_seconds,
                lines: j.entries,
                events: j.events,
                unparsed_lines: j.unparsed,
                truncated_lines: 0,
                parse_errors: skipped.load(std::sync::atomic::Ordering::Relaxed),
                lines_per_second: j.entries.saturating_sub(before) as f64 / dt,
            });
        }
        *out.lock().unwrap_or_else(|e| e.into_inner()) = list;
    }
}

/// The HTTP API on its own small runtime (two worker threads), beside the pipeline.
struct Api {
    state: Arc<tripline_api::ApiState>,
    /// `http` or `https`.
    scheme: &'static str,
    addr: std::net::SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Api {
    fn start(
        cfg: &Config,
        db: &std::path::Path,
        metrics: Arc<tripline_runtime::metrics::Metrics>,
        sensors: Arc<std::sync::Mutex<Vec<SensorState>>>,
    ) -> Result<Api> {
        let dir = cfg.data_dir();
        let token = tripline_api::token::load_or_create(&dir)
            .with_context(|| format!("api token in {}", dir.display()))?;
        let tls = if cfg.api.tls_cert.is_empty() {
            None
        } else {
            let (cert, key) = (&cfg.api.tls_cert, &cfg.api.tls_key);
            Some(
                tripline_api::tls::server_config(cert.as_ref(), key.as_ref()).map_err(|e| {
                    anyhow::anyhow!("api.tls_cert = {cert:?}, api.tls_key = {key:?}: {e}")
                })?,
            )
        };
        let state = tripline_api::ApiState::open(db, token, 2)?
            .with_catalog(tripline_detect::catalog())
            .with_secure_cookies(tls.is_some())
            .with_metrics(move || metrics.render())
            .with_sensors(move || {
                let list = sensors.lock().unwrap_or_else(|e| e.into_inner());
                serde_json::to_value(&*list).unwrap_or_default()
            });
        let state = Arc::new(state);
        let listen = |key: &str, at: &str| -> Result<std::net::TcpListener> {
            let l = std::net::TcpListener::bind(at).with_context(|| {
                format!(
                    "api.{key} = {at:?}: cannot listen there (in use? set another port or [api] enabled = false)"
                )
            })?;
            l.set_nonblocking(true)?;
            Ok(l)
        };
        let listener = listen("bind", &cfg.api.bind)?;
        let addr = listener.local_addr()?;
        let metrics_listener = match cfg.api.metrics_bind.as_str() {
            "" => None,
            at => Some(listen("metrics_bind", at)?),
        };
        let (shutdown, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = tripline_api::app(state.clone());
        let metrics_app = tripline_api::metrics_app(state.clone());
        let thread = std::thread::Builder::new()
            .name("api".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("api-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("tripline: api: cannot start its runtime: {e}");
                        return;
                    }
                };
                let served = rt.block_on(async move {
                    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
                    let metrics = match metrics_listener {
                        Some(l) => Some(tokio::spawn(tripline_api::serve(
                            tokio::net::TcpListener::from_std(l)?,
                            metrics_app,
                            tripline_api::Limits::default(),
                            async {
                                let _ = metrics_stopped.await;
                            },
                        ))),
                        None => None,
                    };
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let served = tripline_api::serve_with(
                        listener,
                        app,
                        tripline_api::Limits::default(),
                        tls,
                        async {
                            let _ = stop_rx.await;
                        },
                    )
                    .await;
                    let _ = stop_metrics.send(());
                    if let Some(m) = metrics {
                        let _ = m.await;
                    }
                    served
                });
                if let Err(e) = served {
                    eprintln!("tripline: api: {e}");
                }
            })
            .context("spawn the api thread")?;
        Ok(Api {
            state,
            scheme: if cfg.api.tls_cert.is_empty() {
                "http"
            } else {
                "https"
            },
            addr,
            shutdown,
            thread,
        })
    }

    /// Finish the requests in flight and stop.
    fn stop(self) {
        self.state.set_ready(false);
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
    }
}

/// Watch the parent directories of `paths` with inotify; true when it works.
fn watch_dirs(paths: Vec<PathBuf>, wake: Sender<()>) -> bool {
    use inotify::{Inotify, WatchMask};
    let Ok(mut ino) = Inotify::init() else {
        return false;
    };
    let mut dirs: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| {
            p.parent().map(|d| {
                if d.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    d.to_path_buf()
                }
            })
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let mask = WatchMask::MODIFY
        | WatchMask::CREATE
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM
        | WatchMask::DELETE
        | WatchMask::CLOSE_WRITE;
    let mut any = false;
    for d in dirs {
        any |= ino.watches().add(&d, mask).is_ok();
    }
    if !any {
        return false;
    }
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while ino.read_events_blocking(&mut buf).is_ok() {
            if wake.send(()).is_err() {
                break;
            }
        }
    });
    true
}

type Journal = (
    // each entry, and whether it is a replayed one from before the stored cursor (warm-up)
    Receiver<(journald::JournalEntry, bool)>,
    std::thread::JoinHandle<()>,
    // entries that were not journal JSON, skipped
    Arc<std::sync::atomic::AtomicU64>,
);

/// What the journal source has done, for `/api/v1/sensors`.
#[derive(Debug, Default)]
struct JournalStats {
    entries: u64,
    events: u64,
    unparsed: u64,
    /// How far behind the entry's own time the last entry was read.
    lag_seconds: f64,
    cursor: Option<String>,
}

/// How often a journal that was not there is looked for again.
const JOURNAL_RETRY: Duration = Duration::from_secs(2);

/// How the journal is started.
enum JournalStart {
    /// At the daemon's start: after the stored cursor, replaying the warm-up span before it.
    First,
    /// A journal missing at the start has appeared: the same, but with no stored cursor all of
    /// it is read, as a file that appears is (all of it is new).
    Appeared,
    /// journalctl exited mid-run: on after the last cursor read (the windows are in memory, so
    /// nothing is replayed).
    Restart(Option<String>),
}

/// Start following the journal, or say why it cannot be (at the first start only: a retry is
/// quiet).
fn start_journal(
    cfg: &Config,
    store: &Store,
    wake: Sender<()>,
    how: JournalStart,
) -> Option<Journal> {
    let j = &cfg.sources.journald;
    let directory = (!j.directory.is_empty()).then(|| std::path::Path::new(&j.directory));
    let stored = || {
        store
            .position("journald")
            .ok()
            .flatten()
            .and_then(|p| p.cursor)
    };
    let (cursor, warmup_minutes) = match &how {
        JournalStart::Restart(read) => (read.clone().or_else(stored), 0),
        _ => (stored(), j.resume_warmup_minutes),
    };
    let again = !matches!(how, JournalStart::First);
    let follow = journald::Follow {
        directory,
        cursor: cursor.as_deref(),
        warmup_seconds: warmup_minutes * 60,
        from_start: matches!(how, JournalStart::Appeared),
        matches: &j.matches,
    };
    if !journald::available(&follow) {
        if again {
            return None;
        }
        match directory {
            Some(d) => eprintln!(
                "tripline: source journald is not available here (no journal files in {}, or no permission to read them); watching for it",
                d.display()
            ),
            None => eprintln!("tripline: source journald is not available here (no journal or no permission: add the user to `systemd-journal` or `adm`); watching for it"),
        }
        return None;
    }
    if matches!(how, JournalStart::Appeared) {
        eprintln!("tripline: source journald appeared; following it");
    }
    let mut follower = match journald::JournalFollower::spawn(&follow) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tripline: source journald: {e}");
            return None;
        }
    };
    let (tx, rx) = sync_channel(cfg.max_queue_size.max(16));
    let skipped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let skipped_here = skipped.clone();
    let h = std::thread::spawn(move || {
        let mut line = String::new();
        let mut bad = 0u64;
        while let Ok(true) = follower.next_line(&mut line) {
            match journald::parse_entry(line.trim_end()) {
                Ok(e) => {
                    let old = follower.is_old(&e);
                    if tx.send((e, old)).is_err() {
                        break;
                    }
                    let _ = wake.send(());
                }
                Err(_) => {
                    bad += 1;
                    skipped_here.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        if bad > 0 {
            eprintln!("tripline: skipped {bad} unreadable journal entries");
        }
        // journalctl exited: wake the loop to notice and start it again
        let _ = wake.send(());
    });
    Some((rx, h, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_is_reported_among_the_sensors() {
        let mut t = SensorTracker::new(1);
        let stats = JournalStats {
            entries: 40,
            events: 3,
            unparsed: 37,
            lag_seconds: 0.25,
            cursor: Some("s=abc;i=9".into()),
        };
        let skipped = Arc::new(std::sync::atomic::AtomicU64::new(2));
        let out = std::sync::Mutex::new(vec![]);
        t.update(&[], Some((&stats, &skipped)), &out);
        let list = out.lock().unwrap();
        assert_eq!(list.len(), 1);
        let j = &list[0];
        assert_eq!((j.sensor, j.state.as_str()), ("journald", "reading"));
        assert_eq!(j.cursor.as_deref(), Some("s=abc;i=9"));
        assert_eq!((j.lines, j.events, j.unparsed_lines), (40, 3, 37));
        assert_eq!((j.parse_errors, j.lag_seconds), (2, 0.25));
        assert!(j.lines_per_second > 0.0);
    }

    #[test]
    fn sensor_state_is_what_the_openapi_document_says() {
        use utoipa::OpenApi;
        let s = SensorState {
            sensor: "files",
            path: "/var/log/auth.log".into(),
            state: "reading".into(),
            offset: 1,
            cursor: None,
            size: 2,
            lag_bytes: 1,
            lag_seconds: 0.5,
            lines: 3,
            events: 1,
            unparsed_lines: 2,
            truncated_lines: 0,
            parse_errors: 0,
            lines_per_second: 1.5,
        };
        let doc = serde_json::to_value(tripline_api::doc::ApiDoc::openapi()).unwrap();
        let mut want: Vec<String> = doc["components"]["schemas"]["Sensor"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut got: Vec<String> = serde_json::to_value(&s)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }
}
