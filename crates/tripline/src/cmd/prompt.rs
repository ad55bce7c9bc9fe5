//! `tripline train prompt`, `tripline scan prompt`, `tripline eval prompt`: the prompt
//! scanners without the gateway.

use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::PathBuf;
use tripline_prompt::classifier::{self, TrainParams};
use tripline_prompt::eval::{self, Row};
use tripline_prompt::scan::{ScanSettings, Scanner};

pub fn train(
    files: Vec<PathBuf>,
    out: PathBuf,
    epochs: usize,
    seed: u64,
    max_fpr: f32,
    skip: Vec<String>,
) -> Result<()> {
    if !(0.0..0.5).contains(&max_fpr) {
        bail!("--max-fpr {max_fpr}: must be in [0, 0.5)");
    }
    let skip: Vec<(String, String)> = skip
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| anyhow!("--skip {s:?}: expected KEY=VALUE"))
        })
        .collect::<Result<_>>()?;
    let mut rows: Vec<(String, bool)> = vec![];
    for f in &files {
        rows.extend(
            eval::read_rows_skipping(f, &skip)
                .map_err(|e| anyhow!(e))?
                .into_iter()
                .map(|r| (r.text, r.label)),
        );
    }
    let own = tripline_prompt::hard_negatives::texts();
    let n_own = own.len();
    rows.extend(own.into_iter().map(|t| (t, false)));
    let pos = rows.iter().filter(|r| r.1).count();
    let t0 = std::time::Instant::now();
    let p = TrainParams {
        epochs,
        seed,
        max_fpr,
        ..TrainParams::default()
    };
    let m = classifier::train_with_threshold(&rows, &p, 5);
    std::fs::write(&out, m.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "trained on {} texts ({pos} injections, {} benign of which {n_own} the project's own hard negatives) in {:.1} s; threshold {:.3}; wrote {}",
        rows.len(),
        rows.len() - pos,
        t0.elapsed().as_secs_f64(),
        m.threshold,
        out.display()
    );
    Ok(())
}

pub fn scan(json: bool, file: Option<PathBuf>, text: Option<String>) -> Result<()> {
    let scanner = Scanner::new(ScanSettings::default());
    let texts: Vec<String> = match (file, text) {
        (Some(f), _) => {
            let body =
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            let mut v = vec![];
            for (n, line) in body.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let j: serde_json::Value = serde_json::from_str(line)
                    .with_context(|| format!("{}:{}", f.display(), n + 1))?;
                let t = j
                    .get("text")
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| anyhow!("{}:{}: no \"text\" string", f.display(), n + 1))?;
                v.push(t.to_owned());
            }
            v
        }
        (None, Some(t)) => vec![t],
        (None, None) => bail!("give a TEXT or --file FILE.jsonl"),
    };
    let mut out = std::io::stdout().lock();
    for t in &texts {
        let r = scanner.scan_text(t);
        if json {
            serde_json::to_writer(&mut out, &r)?;
            writeln!(out)?;
        } else {
            let verdict = if r.flagged { "FLAGGED" } else { "clean" };
            writeln!(
                out,
                "{verdict}  score {:.2}  {:.2} ms",
                r.score, r.latency_ms
            )?;
            for b in r.breakdown.values().filter(|b| !b.reasons.is_empty()) {
                for reason in &b.reasons {
                    let mark = if b.flagged { "!" } else { " " };
                    writeln!(out, "  {mark} {:<11} {:.2}  {reason}", b.name, b.score)?;
                }
            }
        }
    }
    Ok(())
}

pub fn eval(files: Vec<PathBuf>, json: bool, model: Option<PathBuf>) -> Result<()> {
    let mut rows: Vec<Row> = vec![];
    for f in &files {
        rows.extend(eval::read_rows(f).map_err(|e| anyhow!(e))?);
    }
    if rows.is_empty() {
        bail!("no rows in {files:?}");
    }
    let scanner = match model {
        None => Scanner::new(ScanSettings::default()),
        Some(m) => {
            let b = std::fs::read(&m).with_context(|| format!("--model {}", m.display()))?;
            let model = classifier::Model::from_bytes(&b)
                .map_err(|e| anyhow!("--model {}: {e}", m.display()))?;
            Scanner::with(
                ScanSettings::default(),
                std::sync::Arc::new(model),
                tripline_prompt::secrets::Secrets::builtin(),
            )
        }
    };
    let r = eval::evaluate(&scanner, &rows);
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let line = |name: &str, q: &eval::Quality| {
        println!(
            "{name:<40} {:>6} {:>5}  P {:.3}  R {:.3}  F1 {:.3}  FPR {:.3}  AUC {}",
            q.rows,
            q.positives,
            q.precision,
            q.recall,
            q.f1,
            q.fpr,
            q.roc_auc.map_or("-".into(), |a| format!("{a:.3}"))
        )
    };
    println!("{:<40} {:>6} {:>5}", "source", "rows", "pos");
    for (s, q) in &r.by_source {
        line(s, q);
    }
    line("all", &r.overall);
    println!(
        "latency per text: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        r.latency_ms.p50, r.latency_ms.p99, r.latency_ms.max
    );
    Ok(())
}

pub fn stub_upstream(bind: &str) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("--bind {bind:?}"))?;
        println!("listening on {}", l.local_addr()?);
        std::io::stdout().flush()?;
        axum::serve(l, tripline_gateway::stub::router()).await?;
        Ok(())
    })
}
