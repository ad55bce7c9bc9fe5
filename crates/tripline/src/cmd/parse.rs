//! `tripline parse`: how each line of a file is read, one JSON object per line.

use crate::cmd::{time_context, Config};
use anyhow::Result;
use std::io::Write;
use std::path::Path;
use tripline_event::SensorKind;
use tripline_sensors::LineParser;

pub fn verb(cfg: &Config, year: Option<i32>, file: &Path) -> Result<()> {
    let mut parser = LineParser::new(time_context(cfg, year)?, SensorKind::Files, &cfg.hostname());
    // Cowrie's JSON log is read as the cowrie source reads it
    let cowrie = crate::cmd::once::looks_like_cowrie(&[file.to_path_buf()]);
    let host: std::sync::Arc<str> = cfg.hostname().into();
    let (mut understood, mut lines) = (0u64, 0u64);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut n = 0u64;
    let mut written = Ok(());
    tripline_sensors::for_each_line(file, |text| {
        n += 1;
        lines += 1;
        if written.is_ok() {
            let v = if cowrie {
                cowrie_json(&mut parser, &host, n, text)
            } else {
                parse_json(&mut parser, n, text)
            };
            understood += !v["kind"].is_null() as u64;
            written = serde_json::to_writer(&mut out, &v)
                .map_err(anyhow::Error::from)
                .and_then(|_| Ok(out.write_all(b"\n")?));
        }
    })?;
    written?;
    out.flush()?;
    drop(out);
    eprintln!(
        "{understood} of {lines} lines understood as events{}",
        if understood == 0 && lines > 0 {
            ": is this a log tripline reads (syslog auth lines, the journal's, Cowrie JSON)?"
        } else {
            ""
        }
    );
    Ok(())
}

/// A Cowrie JSON line as the cowrie source reads it.
fn cowrie_json(
    parser: &mut LineParser,
    host: &std::sync::Arc<str>,
    n: u64,
    text: &str,
) -> serde_json::Value {
    let pos = tripline_event::SourcePos::default();
    match parser.cowrie_event(text, tripline_event::Timestamp::now(), pos, host) {
        Ok(Some(ev)) => serde_json::json!({
            "line": n,
            "ts": ev.ts,
            "kind": ev.kind.name(),
            "src_ip": ev.src_ip.map(|i| i.to_string()),
            "user": ev.user,
            "host": &*ev.host,
            "program": "cowrie",
            "count": ev.count,
            "hostile": ev.hostile,
        }),
        Ok(None) | Err(_) => {
            serde_json::json!({"line": n, "ts": null, "kind": null, "src_ip": null, "user": null, "host": null, "program": "cowrie", "count": 0, "hostile": false})
        }
    }
}

fn parse_json(parser: &mut LineParser, n: u64, text: &str) -> serde_json::Value {
    match parser.parse(text) {
        Some((h, p)) => serde_json::json!({
            "line": n,
            "ts": p.ts.or(h.ts),
            "kind": p.kind.name(),
            "src_ip": p.src_ip.map(|i| i.to_string()).or(p.src_name.as_deref().map(String::from)),
            "user": p.user,
            "host": h.host,
            "program": h.program,
            "count": p.count,
            "hostile": p.hostile,
        }),
        None => {
            let h = tripline_sensors::syslog::parse_header(text, parser.time_context());
            serde_json::json!({"line": n, "ts": h.ts, "kind": null, "src_ip": null, "user": null, "host": h.host, "program": h.program, "count": 0, "hostile": false})
        }
    }
}
