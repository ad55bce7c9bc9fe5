//! `tripline train`: grow the anomaly model on the behaviour windows of normal history.

use crate::cmd::{parse_duration, time_context, Config};
use anyhow::{Context, Result};
use std::path::PathBuf;
use tripline_event::Timestamp;

#[allow(clippy::too_many_arguments)]
pub fn verb(
    cfg: &Config,
    from: Vec<PathBuf>,
    from_store: bool,
    since: String,
    db: Option<PathBuf>,
    out: Option<PathBuf>,
    year: Option<i32>,
) -> Result<()> {
    use tripline::train::History;
    let out = out.unwrap_or_else(|| cfg.model_path());
    let history = if from_store {
        History::Store {
            db: db.unwrap_or_else(|| cfg.db_path()),
            since: Timestamp::now()
                .add_secs(-parse_duration(&since).with_context(|| format!("--since {since:?}"))?),
        }
    } else {
        History::Files(from)
    };
    let r = tripline::train::train(cfg, &time_context(cfg, year)?, &history, &out)?;
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
