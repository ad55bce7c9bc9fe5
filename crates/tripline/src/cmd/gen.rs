//! `tripline gen auth-log`: a synthetic auth.log with its ground truth.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use tripline::gen;

#[allow(clippy::too_many_arguments)]
pub fn verb(
    lines: u64,
    seed: u64,
    out: Option<PathBuf>,
    truth: Option<PathBuf>,
    start: Option<i64>,
    attacks: u8,
    noise: u8,
) -> Result<()> {
    let start = start.unwrap_or_else(|| gen::default_start(lines));
    let truth_list = match &out {
        Some(p) => {
            let f = std::fs::File::create(p).with_context(|| format!("create {}", p.display()))?;
            let mut w = std::io::BufWriter::new(f);
            let t = gen::auth_log_with(&mut w, lines, seed, start, attacks, noise)?;
            w.flush()?;
            t
        }
        None => gen::auth_log_with(
            &mut std::io::BufWriter::new(std::io::stdout().lock()),
            lines,
            seed,
            start,
            attacks,
            noise,
        )?,
    };
    if let Some(t) = truth {
        std::fs::write(&t, truth_list.join("\n") + "\n")
            .with_context(|| format!("write {}", t.display()))?;
    }
    Ok(())
}
