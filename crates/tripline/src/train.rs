//! `tripline train --from FILE…` or `--from-store --since 14d`: read logs as the scan does (or
//! the events the daemon stored), cut their events into behaviour windows
//! ([`tripline_anomaly::features`]), and grow the Isolation Forest on them. The model file
//! carries the feature names, the scaler and the baseline the daemon calibrates with.

use crate::config::Config;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tripline_anomaly::features::{ClosedWindow, Extractor, FEATURES};
use tripline_anomaly::{Model, Params};
use tripline_event::{SensorKind, SourcePos, Timestamp};
use tripline_sensors::{LineParser, TimeContext};

/// What the history gave.
pub struct Windows {
    pub windows: Vec<ClosedWindow>,
    /// Lines read (files) or stored events read (store).
    pub lines: u64,
    pub events: u64,
}

/// Where the history comes from.
pub enum History {
    /// Syslog-style logs.
    Files(Vec<PathBuf>),
    /// The events a daemon stored (`store.keep_events`) at or after `since`.
    Store { db: PathBuf, since: Timestamp },
}

impl History {
    /// The history in words, for messages and the model's metadata.
    pub fn describe(&self) -> String {
        match self {
            History::Files(files) => files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            History::Store { db, since } => {
                format!("the events stored in {} since {}", db.display(), since)
            }
        }
    }
}

/// Every behaviour window of `history`, oldest first. With `progress`, a line on stderr every
/// million lines.
pub fn windows(
    cfg: &Config,
    time: &TimeContext,
    history: &History,
    progress: bool,
) -> Result<Windows> {
    match history {
        History::Files(files) => windows_from_files(cfg, time, files, progress),
        History::Store { db, since } => windows_from_store(cfg, time, db, *since),
    }
}

/// A fresh extractor as configured.
fn extractor(cfg: &Config) -> Extractor {
    Extractor::new(
        cfg.anomaly.feature_window_minutes,
        cfg.detect.max_tracked_entities,
    )
}

/// Every behaviour window in the events stored in `db` since `since`. Each stored event is
/// parsed again from its raw line (the kind's details, such as the auth method, are not in
/// the columns); its time, address and user are the stored ones, which the parser may not
/// rebuild alone (an sshd line's address can come from an earlier line of the connection).
/// A row whose line no longer parses is counted and skipped.
pub fn windows_from_store(
    cfg: &Config,
    time: &TimeContext,
    db: &Path,
    since: Timestamp,
) -> Result<Windows> {
    anyhow::ensure!(
        db.exists(),
        "train: no store at {} (start `tripline run` first, or give --db)",
        db.display()
    );
    let store = tripline_store::Store::open(db)?;
    let mut x = extractor(cfg);
    let host = cfg.hostname();
    let mut syslog = LineParser::new(time.clone(), SensorKind::Files, &host);
    let mut cowrie = LineParser::new(time.clone(), SensorKind::Cowrie, &host);
    let (mut read, mut events) = (0u64, 0u64);
    store.for_each_event_since(since, |row| {
        read += 1;
        let ev = if row.sensor == SensorKind::Cowrie.as_str() {
            let host: std::sync::Arc<str> = row.host.into();
            cowrie
                .cowrie_event(row.raw, row.ts, SourcePos::default(), &host)
                .ok()
                .flatten()
        } else {
            syslog.event(row.raw, row.ts, SourcePos::default())
        };
        let Some(mut ev) = ev else { return };
        ev.ts = row.ts;
        if let Some(ip) = row.src_ip.and_then(|s| s.parse().ok()) {
            ev.src_ip = Some(ip);
        }
        if let Some(u) = row.user {
            ev.user = Some(u.into());
        }
        events += 1;
        x.push(&ev);
        if read % 100_000 == 0 {
            x.close_idle();
        }
    })?;
    x.finish();
    Ok(Windows {
        windows: x.take_closed(),
        lines: read,
        events,
    })
}

/// Every behaviour window in `files` (syslog-style logs), oldest first. With `progress`, a line
/// on stderr every million lines.
pub fn windows_from_files(
    cfg: &Config,
    time: &TimeContext,
    files: &[PathBuf],
    progress: bool,
) -> Result<Windows> {
    let mut x = extractor(cfg);
    let (mut lines, mut events) = (0u64, 0u64);
    let now = Timestamp::now();
    for path in files {
        let mut parser = LineParser::new(time.clone(), SensorKind::Files, &cfg.hostname());
        tripline_sensors::for_each_line(path, |text| {
            lines += 1;
            if let Some(ev) = parser.event(text, now, SourcePos::default()) {
                events += 1;
                x.push(&ev);
            }
            if lines % 100_000 == 0 {
                x.close_idle();
                if progress && lines % 1_000_000 == 0 {
                    eprintln!(
                        "tripline: train: {lines} lines, {events} events, {} windows open",
                        x.open_windows()
                    );
                }
            }
        })?;
    }
    x.finish();
    Ok(Windows {
        windows: x.take_closed(),
        lines,
        events,
    })
}

pub use tripline_anomaly::features::matrix;

/// What training did.
pub struct Report {
    pub out: PathBuf,
    /// Lines read, or stored events read: see `read`.
    pub lines: u64,
    /// What `lines` counts.
    pub read: &'static str,
    pub events: u64,
    pub windows: usize,
    pub fit_ms: f64,
    /// Features with one value across the whole baseline (they cannot help).
    pub constant: Vec<&'static str>,
}

/// Train on `history` and write the model to `out`.
pub fn train(cfg: &Config, time: &TimeContext, history: &History, out: &Path) -> Result<Report> {
    if let History::Files(files) = history {
        anyhow::ensure!(
            !files.is_empty(),
            "train: give --from FILE (one or more logs) or --from-store"
        );
    }
    let w = windows(cfg, time, history, true)?;
    let n = w.windows.len();
    let source = history.describe();
    let read = match history {
        History::Files(_) => "lines",
        History::Store { .. } => "stored events",
    };
    anyhow::ensure!(
        n >= cfg.anomaly.training_samples,
        "train: {source} gave {n} behaviour windows ({} {read}, {} events); \
         anomaly.training_samples = {} (give more history, or a lower training_samples)",
        w.lines,
        w.events,
        cfg.anomaly.training_samples
    );
    let x = matrix(&w.windows);
    let a = &cfg.anomaly;
    let model = Model::train(
        FEATURES.iter().map(|s| s.to_string()).collect(),
        &x,
        Params {
            n_estimators: a.n_estimators,
            max_samples: a.max_samples,
            seed: a.seed,
        },
        a.baseline_percentile,
        &source,
    )
    .map_err(|e| anyhow::anyhow!("train: {e}"))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    model.save(out)?;
    let constant = (0..FEATURES.len())
        .filter(|f| {
            let first = x.data[*f];
            (0..x.rows()).all(|r| x.data[r * x.cols + f] == first)
        })
        .map(|f| FEATURES[f])
        .collect();
    Ok(Report {
        out: out.to_path_buf(),
        lines: w.lines,
        read,
        events: w.events,
        windows: n,
        fit_ms: model.training.fit_ms,
        constant,
    })
}
