//! `tripline eval anomaly FILE.csv`: how well the Isolation Forest ranks the anomalies of a
//! labelled table (a `label` column, 1 = anomaly). It fits on every row with several seeds and
//! reports ROC AUC and average precision (mean ± standard deviation), fit and scoring times.

use anyhow::Result;
use std::path::Path;
use std::time::Instant;
use tripline_anomaly::data::read_csv;
use tripline_anomaly::metrics::{average_precision, mean_std, roc_auc};
use tripline_anomaly::{Forest, Params};

/// What one evaluation measured.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub file: String,
    pub rows: usize,
    pub features: usize,
    pub anomalies: usize,
    pub n_estimators: usize,
    pub max_samples: usize,
    pub seeds: Vec<u64>,
    pub roc_auc: Summary,
    pub average_precision: Summary,
    pub fit_ms: Summary,
    /// Rows scored per second, all rows on all cores (best over the seeds).
    pub score_rows_per_second: f64,
}

#[derive(Debug, serde::Serialize)]
pub struct Summary {
    pub mean: f64,
    pub std: f64,
    pub runs: Vec<f64>,
}

impl Summary {
    fn of(runs: Vec<f64>) -> Summary {
        let (mean, std) = mean_std(&runs);
        Summary { mean, std, runs }
    }
}

/// Evaluate the forest on `file` with seeds 0..`seeds`.
pub fn anomaly(file: &Path, seeds: u64, n_estimators: usize, max_samples: usize) -> Result<Report> {
    let t = read_csv(file)?;
    let anomalies = t.labels.iter().filter(|l| **l).count();
    anyhow::ensure!(
        anomalies > 0 && anomalies < t.labels.len(),
        "{}: the label column needs both classes (found {anomalies} anomalies in {} rows)",
        file.display(),
        t.labels.len()
    );
    let (mut aucs, mut aps, mut fits, mut best_rate) = (vec![], vec![], vec![], 0.0f64);
    for seed in 0..seeds.max(1) {
        let params = Params {
            n_estimators,
            max_samples,
            seed,
        };
        let t0 = Instant::now();
        let forest =
            Forest::fit(&t.x, params).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        fits.push(t0.elapsed().as_secs_f64() * 1000.0);
        let t1 = Instant::now();
        let scores = forest.score_par(&t.x);
        best_rate = best_rate.max(t.x.rows() as f64 / t1.elapsed().as_secs_f64());
        // both classes are present, checked above
        aucs.push(roc_auc(&scores, &t.labels).unwrap_or(0.5));
        aps.push(average_precision(&scores, &t.labels).unwrap_or(0.0));
    }
    Ok(Report {
        file: file.display().to_string(),
        rows: t.x.rows(),
        features: t.x.cols,
        anomalies,
        n_estimators,
        max_samples,
        seeds: (0..seeds.max(1)).collect(),
        roc_auc: Summary::of(aucs),
        average_precision: Summary::of(aps),
        fit_ms: Summary::of(fits),
        score_rows_per_second: best_rate,
    })
}

/// The report for people.
pub fn print(r: &Report) {
    println!(
        "{}: {} rows, {} features, {} anomalies ({:.1} %)",
        r.file,
        r.rows,
        r.features,
        r.anomalies,
        100.0 * r.anomalies as f64 / r.rows as f64
    );
    println!(
        "Isolation Forest, {} trees x {} samples, seeds 0..{}",
        r.n_estimators,
        r.max_samples,
        r.seeds.len()
    );
    println!(
        "ROC AUC            {:.3} ± {:.3}",
        r.roc_auc.mean, r.roc_auc.std
    );
    println!(
        "average precision  {:.3} ± {:.3}",
        r.average_precision.mean, r.average_precision.std
    );
    println!("fit                {:.2} ms (mean)", r.fit_ms.mean);
    println!(
        "score              {:.0} rows/s (all cores, best)",
        r.score_rows_per_second
    );
}
