//! `tripline alerts`: query the store.

use crate::cmd::{parse_duration, Config};
use anyhow::{Context, Result};
use std::path::PathBuf;
use tripline::output;
use tripline_event::{Severity, Timestamp};
use tripline_store::{AlertQuery, Store};

pub fn verb(
    cfg: &Config,
    since: Option<String>,
    severity: Option<String>,
    rule: Option<String>,
    limit: usize,
    json: bool,
    db: Option<PathBuf>,
) -> Result<()> {
    let path = db.unwrap_or_else(|| cfg.db_path());
    // a query reads what is there: a database that does not exist is a mistake to name, not
    // an empty one to make
    if !path.exists() {
        anyhow::bail!(
            "no database at {}: nothing stored there yet (give the path `tripline run` or `once` wrote, or `--db`)",
            path.display()
        );
    }
    let store = Store::open(&path)?;
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
