//! `tripline once`: scan files once through the real pipeline (the files source, or any
//! configured source with `--source`, in scan mode) and print each alert once, final.

use crate::cmd::Config;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use tripline::{output, run};
use tripline_event::Timestamp;
use tripline_runtime as pipeline;
use tripline_store::{AlertQuery, Store};

/// The verb: print the alerts (a table, or JSON lines), and with `stats` the run's numbers on
/// stderr as JSON.
#[allow(clippy::too_many_arguments)]
pub fn verb(
    cfg: &Config,
    json: bool,
    db: Option<PathBuf>,
    year: Option<i32>,
    from_start: bool,
    stats: bool,
    source: &str,
    files: &[PathBuf],
) -> Result<()> {
    let started = std::time::Instant::now();
    let db = db.unwrap_or_else(|| cfg.db_path());
    let printer = output::Printer::stdout(json);
    let scan = once(
        cfg,
        &db,
        year,
        from_start,
        source,
        files,
        Some(printer.sink()),
    )?;
    printer.finish()?;
    // what was read and how much of it was understood, so that "no alerts" is never a silent
    // "read nothing you meant"
    if scan.lines > 0 {
        let understood = scan.lines - scan.unparsed.min(scan.lines);
        let hint = match (understood, source) {
            (0, "files") => {
                ": is this a Cowrie log? try --cowrie (or --source NAME for a JSON-lines source)"
            }
            (0, _) => ": is this the source the files are for?",
            _ => "",
        };
        eprintln!(
            "{understood} of {} lines understood as events{hint}",
            scan.lines
        );
    }
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

/// Whether the files are Cowrie's JSON log: the first line that is not blank of the first file
/// that has one is a JSON object with an `eventid` of `cowrie.…`.
pub fn looks_like_cowrie(files: &[PathBuf]) -> bool {
    use std::io::{BufRead, Read};
    for f in files {
        let Ok(file) = std::fs::File::open(f) else {
            continue;
        };
        let mut first = String::new();
        let mut r = std::io::BufReader::new(file.take(64 * 1024));
        while first.trim().is_empty() {
            first.clear();
            match r.read_line(&mut first) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let line = first.trim();
        if line.is_empty() {
            continue;
        }
        // (the line may be longer than what was read of it: look, do not parse)
        return line.starts_with('{') && line.contains("\"eventid\"") && line.contains("\"cowrie.");
    }
    false
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
    let detectors = cfg.detectors(
        restore,
        reader.state(cfg.detect.max_tracked_entities)?,
        cfg.reads_honeypots(Some(source)),
    )?;
    let mut pipeline = pipeline::Pipeline::start(
        &cfg.settings(),
        Box::new(store),
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
        tracing::info!("nothing new to read");
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
