//! `tripline train --from FILE…`: read logs as the scan does, cut their events into behaviour
//! windows ([`tripline_anomaly::features`]), and grow the Isolation Forest on them. The model
//! file carries the feature names, the scaler and the baseline the daemon calibrates with.

use crate::config::Config;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tripline_anomaly::features::{ClosedWindow, Extractor, FEATURES};
use tripline_anomaly::{Matrix, Model, Params};
use tripline_event::{SensorKind, SourcePos, Timestamp};
use tripline_sensors::{LineParser, TimeContext};

/// What the files gave.
pub struct Windows {
    pub windows: Vec<ClosedWindow>,
    pub lines: u64,
    pub events: u64,
}

/// Every behaviour window in `files` (syslog-style logs), oldest first. With `progress`, a line
/// on stderr every million lines.
pub fn windows_from_files(
    cfg: &Config,
    time: &TimeContext,
    files: &[PathBuf],
    progress: bool,
) -> Result<Windows> {
    let mut x = Extractor::new(
        cfg.anomaly.feature_window_minutes,
        cfg.detect.max_tracked_entities,
    );
    let (mut lines, mut events) = (0u64, 0u64);
    let now = Timestamp::now();
    for path in files {
        let mut parser = LineParser::new(time.clone(), SensorKind::Files, &cfg.hostname());
        crate::pipeline::for_each_line(path, |text| {
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

/// The rows of `windows` as a matrix.
pub fn matrix(windows: &[ClosedWindow]) -> Matrix {
    let data = windows.iter().flat_map(|w| w.row).collect();
    Matrix::new(data, FEATURES.len())
}

/// What training did.
pub struct Report {
    pub out: PathBuf,
    pub lines: u64,
    pub events: u64,
    pub windows: usize,
    pub fit_ms: f64,
    /// Features with one value across the whole baseline (they cannot help).
    pub constant: Vec<&'static str>,
}

/// Train on `files` and write the model to `out`.
pub fn train(cfg: &Config, time: &TimeContext, files: &[PathBuf], out: &Path) -> Result<Report> {
    anyhow::ensure!(
        !files.is_empty(),
        "train: give --from FILE (one or more logs)"
    );
    let w = windows_from_files(cfg, time, files, true)?;
    let n = w.windows.len();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    anyhow::ensure!(
        n >= cfg.anomaly.training_samples,
        "train: {} gave {n} behaviour windows ({} lines, {} events); anomaly.training_samples = {} \
         (give more history, or a lower training_samples)",
        names.join(", "),
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
        &names.join(", "),
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
        events: w.events,
        windows: n,
        fit_ms: model.training.fit_ms,
        constant,
    })
}
