//! Labelled prompt data (`{text, label, source}` JSON lines, label 1 = injection) and what the
//! scanners score on it: precision, recall, F1, false-positive rate, ROC AUC, per source too,
//! and latency percentiles.

use crate::scan::Scanner;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// One labelled text.
#[derive(Debug, Clone)]
pub struct Row {
    pub text: String,
    pub label: bool,
    pub source: String,
}

/// Read `{text, label[, source]}` rows; a line that is not one is an error naming the file and
/// line (labelled data is the user's own, and a silent skip would change the numbers).
pub fn read_rows(path: &Path) -> Result<Vec<Row>, String> {
    read_rows_skipping(path, &[])
}

/// [`read_rows`], leaving out rows whose string field `k` is `v` for any `(k, v)` in `skip`
/// (BIPIA's bare attack strings, `form=attack`, are harmless questions out of context).
pub fn read_rows_skipping(path: &Path, skip: &[(String, String)]) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rows = vec![];
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
        if skip
            .iter()
            .any(|(k, want)| v.get(k).and_then(|x| x.as_str()) == Some(want.as_str()))
        {
            continue;
        }
        let t = v
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or_else(|| format!("{}: no \"text\" string", at()))?;
        let label = match v.get("label") {
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(1) => true,
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(0) => false,
            Some(serde_json::Value::Bool(b)) => *b,
            other => return Err(format!("{}: label {other:?}: must be 0 or 1", at())),
        };
        let source = v
            .get("source")
            .and_then(|s| s.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| stem.clone());
        rows.push(Row {
            text: t.to_owned(),
            label,
            source,
        });
    }
    Ok(rows)
}

/// Quality on a set of rows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Quality {
    pub rows: usize,
    pub positives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub fpr: f64,
    /// None when one class is missing.
    pub roc_auc: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub overall: Quality,
    pub by_source: BTreeMap<String, Quality>,
    pub latency_ms: Latency,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Scan every row: flagged by the injection or jailbreak scanner counts as "injection".
pub fn evaluate(scanner: &Scanner, rows: &[Row]) -> Report {
    let mut scored = Vec::with_capacity(rows.len());
    let mut lat = Vec::with_capacity(rows.len());
    for r in rows {
        let t0 = Instant::now();
        let res = scanner.scan_text(&r.text);
        lat.push(t0.elapsed().as_secs_f64() * 1e3);
        let s = ["injection", "jailbreak"]
            .iter()
            .filter_map(|k| res.breakdown.get(k))
            .map(|b| b.score)
            .fold(0f32, f32::max);
        scored.push((s, s >= scanner.settings.flag_at, r.label, r.source.as_str()));
    }
    let overall = quality(scored.iter().map(|x| (x.0, x.1, x.2)));
    let mut sources: Vec<&str> = scored.iter().map(|x| x.3).collect();
    sources.sort_unstable();
    sources.dedup();
    let by_source = sources
        .into_iter()
        .map(|s| {
            let q = quality(scored.iter().filter(|x| x.3 == s).map(|x| (x.0, x.1, x.2)));
            (s.to_owned(), q)
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() - 1) as f64 * p).round() as usize]
        }
    };
    Report {
        overall,
        by_source,
        latency_ms: Latency {
            p50: pct(0.5),
            p99: pct(0.99),
            max: pct(1.0),
        },
    }
}

/// (score, flagged, label) → quality.
pub fn quality(it: impl Iterator<Item = (f32, bool, bool)>) -> Quality {
    let v: Vec<(f32, bool, bool)> = it.collect();
    let (mut tp, mut fp, mut fneg, mut tn) = (0f64, 0f64, 0f64, 0f64);
    for &(_, f, l) in &v {
        match (f, l) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fneg += 1.0,
            (false, false) => tn += 1.0,
        }
    }
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let precision = div(tp, tp + fp);
    let recall = div(tp, tp + fneg);
    Quality {
        rows: v.len(),
        positives: (tp + fneg) as usize,
        precision,
        recall,
        f1: div(2.0 * precision * recall, precision + recall),
        fpr: div(fp, fp + tn),
        roc_auc: roc_auc(&v),
    }
}

/// The probability that a random positive scores above a random negative (ties count half).
fn roc_auc(v: &[(f32, bool, bool)]) -> Option<f64> {
    let mut s: Vec<(f32, bool)> = v.iter().map(|x| (x.0, x.2)).collect();
    let pos = s.iter().filter(|x| x.1).count() as f64;
    let neg = s.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    // rank sum of positives, with average ranks for ties
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < s.len() {
        let mut j = i;
        while j < s.len() && s[j].0 == s[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += avg * s[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_and_auc_on_a_known_table() {
        let rows = [
            (0.9, true, true),
            (0.8, true, false),
            (0.7, false, true),
            (0.1, false, false),
        ];
        let q = quality(rows.into_iter());
        assert_eq!((q.precision, q.recall, q.fpr), (0.5, 0.5, 0.5));
        // positives 0.9 and 0.7, negatives 0.8 and 0.1: 3 of 4 pairs ordered
        assert_eq!(q.roc_auc, Some(0.75));
        assert_eq!(quality([(0.5, true, true)].into_iter()).roc_auc, None);
    }

    #[test]
    fn bad_rows_name_their_file_and_line() {
        let dir = std::env::temp_dir().join(format!("tlp-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.jsonl");
        std::fs::write(
            &f,
            "{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\",\"label\":7}\n",
        )
        .unwrap();
        let e = read_rows(&f).unwrap_err();
        assert!(e.contains("x.jsonl:2") && e.contains("label"), "{e}");
        std::fs::write(&f, "{\"text\":\"a\",\"label\":0}\n").unwrap();
        let rows = read_rows(&f).unwrap();
        assert_eq!((rows[0].label, rows[0].source.as_str()), (false, "x"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
