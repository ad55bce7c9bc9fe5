//! `tripline eval anomaly`: the Isolation Forest on a labelled table.

use anyhow::Result;
use std::path::PathBuf;

pub fn anomaly(
    file: PathBuf,
    json: bool,
    seeds: u64,
    n_estimators: usize,
    max_samples: usize,
) -> Result<()> {
    let r = tripline::eval::anomaly(&file, seeds, n_estimators, max_samples)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        tripline::eval::print(&r);
    }
    Ok(())
}
