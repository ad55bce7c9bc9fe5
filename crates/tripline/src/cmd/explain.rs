//! `tripline explain`: one log line in words, and the rules it moves.

use crate::cmd::{time_context, Config};
use anyhow::Result;
use tripline::output;
use tripline_event::SensorKind;
use tripline_sensors::LineParser;

pub fn verb(cfg: &Config, year: Option<i32>, line: &str) -> Result<()> {
    let mut parser = LineParser::new(time_context(cfg, year)?, SensorKind::Files, &cfg.hostname());
    let line = output::printable(line);
    let Some((h, p)) = parser.parse(&line) else {
        println!("not understood: no sensor reads this line as an event (tripline ignores it)");
        return Ok(());
    };
    println!("program:  {}", h.program.unwrap_or("(none; read as sshd)"));
    println!(
        "time:     {}",
        p.ts.map(|t| t.to_string())
            .unwrap_or_else(|| "(none in the line; the time it is read is used)".into())
    );
    println!("kind:     {}", p.kind.name());
    if let Some(ip) = p.src_ip {
        println!("source:   {ip}");
    } else if let Some(n) = &p.src_name {
        println!("source:   {n} (a host name: reported, not counted; sshd's UseDNS is on)");
    }
    if let Some(u) = &p.user {
        println!("user:     {u}");
    }
    if p.count != 1 {
        println!("count:    {}", p.count);
    }
    println!(
        "hostile:  {}",
        if p.hostile {
            "yes: evidence against its source"
        } else {
            "no"
        }
    );
    // the rules this event moves: each rule says which events it looks at
    let ev = parser.event(&line, tripline_event::Timestamp::now(), Default::default());
    let rules = &cfg.detect.rules;
    let moves: Vec<String> = tripline_detect::Rule::ALL
        .iter()
        .filter(|r| ev.as_ref().is_some_and(|ev| r.counts(ev)))
        .map(|r| {
            let off = if r.config(rules).enabled() {
                ""
            } else {
                "; turned off"
            };
            format!("{} ({}{off})", r.info().id, r.info().summary)
        })
        .collect();
    if moves.is_empty() {
        println!("rules:    none");
    } else {
        println!("rules:    {}", moves.join("\n          "));
    }
    Ok(())
}
