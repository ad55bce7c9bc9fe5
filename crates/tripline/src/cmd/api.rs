//! `tripline token` and `tripline top`: the running daemon's API token, and a live view of it.

use crate::cmd::Config;
use anyhow::{Context, Result};

/// `tripline top`: a live full-screen view of the daemon's API.
pub fn top(cfg: &Config, addr: Option<String>) -> Result<()> {
    let dir = cfg.data_dir();
    let token = std::fs::read_to_string(tripline_api::token::path(&dir)).with_context(|| {
        format!(
            "reading the API token in {} (is `tripline run` running with this configuration?)",
            dir.display()
        )
    })?;
    tripline::top::top(
        tripline::client::Target::of(cfg, addr)?,
        token.trim().to_string(),
    )
}

/// `tripline token`: print the API token (made when missing).
pub fn token(cfg: &Config) -> Result<()> {
    let dir = cfg.data_dir();
    let t = tripline_api::token::load_or_create(&dir)
        .with_context(|| format!("api token in {}", dir.display()))?;
    println!("{t}");
    Ok(())
}
