//! The verbs, a file each; `main.rs` parses the command line and hands each verb its arguments.
//! `tripline run` (the daemon) is `tripline::run`, shared with the tests.

pub mod alerts;
pub mod api;
pub mod demo;
pub mod eval;
pub mod explain;
pub mod gen;
pub mod once;
pub mod parse;
pub mod prompt;
pub mod train;

pub use anyhow::Context;
use anyhow::{bail, Result};
use std::path::Path;
pub use tripline::config::Config;
use tripline_sensors::TimeContext;

pub fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

/// `30m`, `1h`, `7d`, `90s`, `90` → seconds.
pub fn parse_duration(s: &str) -> Result<i64> {
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

pub fn time_context(cfg: &Config, year: Option<i32>) -> Result<TimeContext> {
    let tc = TimeContext::new(&cfg.timezone).map_err(anyhow::Error::msg)?;
    Ok(tc.with_year(year))
}
