//! A trained model as a file: the forest with its feature names, a robust scaler (median and
//! interquartile range per feature, for explanations: the forest itself is indifferent to
//! scale), training metadata, and the baseline — the distribution of the training rows' own
//! scores — which turns a raw score into a percentile and a calibrated score.
//!
//! Raw Isolation Forest scores crowd together (a median near 0.40, a maximum near 0.75–0.80 on
//! ordinary data), so a fixed raw threshold means nothing. The calibrated score maps the
//! baseline onto fixed marks instead: the baseline's `percentile`-th score (99th by default)
//! becomes 0.7, its highest score 0.8, and a perfect isolation 1.0, linearly in between (below
//! the mark: 0.7 × the fraction of the baseline scored lower). `anomaly_threshold = 0.7`
//! therefore flags what scores above 99 % of the baseline, and 0.8 / 0.9 mean beyond anything
//! seen in training.

use crate::forest::{FitError, Forest, Matrix, Params};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The model file format's version; a file of another version is refused.
pub const MODEL_VERSION: u32 = 1;

/// Quantile points kept of the baseline's scores.
const QUANTILES: usize = 1001;

/// Rows of the training set whose attribution is averaged for the baseline.
const ATTRIBUTION_ROWS: usize = 2000;

/// Median and interquartile range per feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub median: Vec<f32>,
    pub iqr: Vec<f32>,
}

impl Scaler {
    fn fit(x: &Matrix) -> Scaler {
        let (mut median, mut iqr) = (vec![], vec![]);
        let mut col = Vec::with_capacity(x.rows());
        for f in 0..x.cols {
            col.clear();
            col.extend((0..x.rows()).map(|r| x.data[r * x.cols + f]));
            col.sort_by(f32::total_cmp);
            let q = |p: f64| col[((col.len() - 1) as f64 * p).round() as usize];
            median.push(q(0.5));
            iqr.push(q(0.75) - q(0.25));
        }
        Scaler { median, iqr }
    }

    /// How far `v` is from the baseline median of feature `f`, in interquartile ranges (in
    /// units of the feature when its range is 0).
    pub fn deviation(&self, f: usize, v: f32) -> f64 {
        let d = (v - self.median[f]) as f64;
        match self.iqr[f] {
            r if r > 0.0 => d / r as f64,
            _ => d,
        }
    }
}

/// How and on what the model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Training {
    pub rows: usize,
    /// Where the rows came from (files, the store).
    pub source: String,
    /// Wall-clock time of training, RFC 3339.
    pub at: String,
    pub params: Params,
    pub fit_ms: f64,
}

/// The training rows' scores, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Scores at 0 %, 0.1 %, …, 100 % of the training rows.
    pub quantiles: Vec<f64>,
    /// The percentile (of the baseline) that maps to a calibrated 0.7.
    pub percentile: f64,
    /// The score that maps to 0.7: the lowest one that at most (100 − percentile) % of the
    /// baseline reaches (ties at the percentile move it up, never down).
    pub mark: f64,
    /// Each feature's mean attribution over training rows.
    pub attribution: Vec<f64>,
}

/// A trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub version: u32,
    pub features: Vec<String>,
    pub scaler: Scaler,
    pub training: Training,
    pub baseline: Baseline,
    pub forest: Forest,
}

/// One feature's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// The feature's column in the model's rows.
    pub index: usize,
    pub feature: String,
    pub value: f32,
    pub baseline_median: f32,
    /// (value − median) / IQR.
    pub deviation: f64,
    /// This row's attribution to the feature over the baseline's average (1 = as usual).
    pub weight: f64,
}

/// Why a model file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: not a tripline model ({1})")]
    Format(String, String),
    #[error("{file}: model format version {found}, this tripline reads version {MODEL_VERSION}; train it again")]
    Version { file: String, found: u32 },
    #[error("{file}: trained on features {found:?}, expected {expected:?}; train it again")]
    Features {
        file: String,
        found: Vec<String>,
        expected: Vec<String>,
    },
}

/// The version field alone, read before the rest so an old file gets the right message.
#[derive(Deserialize)]
struct Versioned {
    version: u32,
}

impl Model {
    /// Train on `x` (one row per window), whose columns are `features`.
    pub fn train(
        features: Vec<String>,
        x: &Matrix,
        params: Params,
        percentile: f64,
        source: &str,
    ) -> Result<Model, FitError> {
        assert_eq!(features.len(), x.cols, "a name per column");
        let t0 = std::time::Instant::now();
        let forest = Forest::fit(x, params)?;
        let fit_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let mut scores = forest.score_par(x);
        scores.sort_by(f64::total_cmp);
        let percentile = percentile.clamp(50.0, 99.99);
        let n = scores.len();
        let allowed = ((n as f64) * (1.0 - percentile / 100.0)).floor() as usize;
        let mut i = n - allowed.min(n - 1);
        while i < n && i > 0 && scores[i - 1] == scores[i] {
            i += 1;
        }
        let mark = scores.get(i).copied().unwrap_or(scores[n - 1] + 1e-9);
        let quantiles = (0..QUANTILES)
            .map(|i| {
                let p = i as f64 / (QUANTILES - 1) as f64;
                scores[((scores.len() - 1) as f64 * p).round() as usize]
            })
            .collect();
        let mut attribution = vec![0.0; x.cols];
        let mut one = vec![0.0; x.cols];
        let step = (x.rows() / ATTRIBUTION_ROWS).max(1);
        let mut n = 0;
        for r in (0..x.rows()).step_by(step) {
            forest.attribution(x.row(r), &mut one);
            attribution.iter_mut().zip(&one).for_each(|(a, o)| *a += o);
            n += 1;
        }
        attribution.iter_mut().for_each(|a| *a /= n as f64);
        Ok(Model {
            version: MODEL_VERSION,
            features,
            scaler: Scaler::fit(x),
            training: Training {
                rows: x.rows(),
                source: source.to_string(),
                at: jiff::Timestamp::now().to_string(),
                params,
                fit_ms,
            },
            baseline: Baseline {
                quantiles,
                percentile,
                mark,
                attribution,
            },
            forest,
        })
    }

    /// Write the model to `path` (through a temporary file, so a reader never sees half).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let file = path.display().to_string();
        let tmp = path.with_extension("tmp");
        let json = serde_json::to_vec(self)
            .map_err(|e| ModelError::Format(file.clone(), e.to_string()))?;
        std::fs::write(&tmp, json)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| ModelError::Io(file, e))
    }

    /// Read a model, refusing another format version or, when `expected` is given, other
    /// feature names.
    pub fn load(path: &Path, expected: Option<&[&str]>) -> Result<Model, ModelError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ModelError::Io(file.clone(), e))?;
        let v: Versioned = serde_json::from_slice(&bytes)
            .map_err(|e| ModelError::Format(file.clone(), e.to_string()))?;
        if v.version != MODEL_VERSION {
            return Err(ModelError::Version {
                file,
                found: v.version,
            });
        }
        let mut m: Model = serde_json::from_slice(&bytes)
            .map_err(|e| ModelError::Format(file.clone(), e.to_string()))?;
        let consistent = m.features.len() == m.forest.features()
            && m.scaler.median.len() == m.features.len()
            && m.scaler.iqr.len() == m.features.len()
            && m.baseline.attribution.len() == m.features.len()
            && m.baseline.quantiles.len() >= 2
            && m.forest.is_consistent();
        if !consistent {
            return Err(ModelError::Format(
                file,
                "its parts do not agree in size".into(),
            ));
        }
        m.forest.prepare();
        if let Some(want) = expected {
            if m.features
                .iter()
                .map(String::as_str)
                .ne(want.iter().copied())
            {
                return Err(ModelError::Features {
                    file,
                    found: m.features,
                    expected: want.iter().map(|s| s.to_string()).collect(),
                });
            }
        }
        Ok(m)
    }

    /// The fraction of the baseline scored at or below `score`, 0–1 (interpolated).
    pub fn baseline_fraction(&self, score: f64) -> f64 {
        let q = &self.baseline.quantiles;
        let last = q.len() - 1;
        if score <= q[0] {
            return 0.0;
        }
        if score >= q[last] {
            return 1.0;
        }
        let i = q.partition_point(|v| *v <= score).clamp(1, last);
        let (lo, hi) = (q[i - 1], q[i]);
        let within = if hi > lo {
            (score - lo) / (hi - lo)
        } else {
            1.0
        };
        ((i - 1) as f64 + within) / last as f64
    }

    /// The calibrated score, 0–1 (see the module documentation).
    pub fn calibrated(&self, score: f64) -> f64 {
        let q = &self.baseline.quantiles;
        let top = q[q.len() - 1];
        let p = self.baseline.percentile / 100.0;
        let mark = self.baseline.mark;
        if score > top && score >= mark {
            0.8 + 0.2 * ((score - top) / (1.0 - top).max(1e-9)).min(1.0)
        } else if score >= mark {
            0.7 + 0.1 * (score - mark) / (top - mark).max(1e-12)
        } else {
            // below the mark: under 0.7 however the quantiles fall
            (0.7 * self.baseline_fraction(score) / p).min(0.699_999)
        }
    }

    /// The features that made `row` stand out, most first: those it was isolated on more than
    /// baseline rows are, with how far each value is from the baseline.
    pub fn explain(&self, row: &[f32], top: usize) -> Vec<Contribution> {
        let mut a = vec![0.0; self.features.len()];
        self.forest.attribution(row, &mut a);
        let mut out: Vec<Contribution> = a
            .iter()
            .enumerate()
            .map(|(f, share)| Contribution {
                index: f,
                feature: self.features[f].clone(),
                value: row[f],
                baseline_median: self.scaler.median[f],
                deviation: self.scaler.deviation(f, row[f]),
                weight: share / self.baseline.attribution[f].max(1e-9),
            })
            .collect();
        // what isolated it more than usual, and is unusual in value
        let rank = |c: &Contribution| c.weight * (1.0 + c.deviation.abs().min(100.0));
        out.sort_by(|x, y| rank(y).total_cmp(&rank(x)));
        out.truncate(top);
        out
    }
}

/// devilnet's risk bands over the calibrated score.
pub fn risk_band(calibrated: f64) -> &'static str {
    match calibrated {
        s if s >= 0.9 => "critical",
        s if s >= 0.8 => "high",
        s if s >= 0.6 => "medium",
        s if s >= 0.4 => "low",
        _ => "normal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Matrix {
        let mut rng = fastrand::Rng::with_seed(11);
        Matrix::new((0..n * 3).map(|_| rng.f32()).collect(), 3)
    }

    fn names() -> Vec<String> {
        ["a", "b", "c"].map(String::from).to_vec()
    }

    #[test]
    fn a_model_round_trips_and_refuses_other_versions_and_features() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        let m = Model::train(names(), &data(500), Params::default(), 99.0, "test").unwrap();
        m.save(&p).unwrap();
        let back = Model::load(&p, Some(&["a", "b", "c"])).unwrap();
        assert_eq!(back, m);
        assert_eq!(
            back.forest.score(&[0.5, 0.5, 0.5]),
            m.forest.score(&[0.5, 0.5, 0.5])
        );

        let e = Model::load(&p, Some(&["a", "b", "d"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.json") && e.contains("\"d\"") && e.contains("train it again"),
            "{e}"
        );

        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        v["version"] = 99.into();
        std::fs::write(&p, v.to_string()).unwrap();
        let e = Model::load(&p, None).unwrap_err().to_string();
        assert!(e.contains("version 99"), "{e}");

        v["version"] = MODEL_VERSION.into();
        v["features"] = serde_json::json!(["a"]);
        std::fs::write(&p, v.to_string()).unwrap();
        let e = Model::load(&p, None).unwrap_err().to_string();
        assert!(e.contains("do not agree"), "{e}");

        std::fs::write(&p, "{\"version\": 1, \"forest\": 3}").unwrap();
        assert!(Model::load(&p, None)
            .unwrap_err()
            .to_string()
            .contains("not a tripline model"));
        std::fs::write(&p, "garbage").unwrap();
        assert!(Model::load(&p, None)
            .unwrap_err()
            .to_string()
            .contains("m.json"));
    }

    #[test]
    fn calibration_puts_the_chosen_percentile_at_the_threshold() {
        let x = data(5000);
        let m = Model::train(names(), &x, Params::default(), 99.0, "test").unwrap();
        let scores = m.forest.score_par(&x);
        let flagged = scores.iter().filter(|s| m.calibrated(**s) >= 0.7).count();
        // 1 % of the baseline, give or take ties at the mark
        assert!((35..=65).contains(&flagged), "{flagged}");
        // monotone, bounded, and beyond the baseline is above 0.8
        let mut last = -1.0;
        for i in 0..=1000 {
            let c = m.calibrated(i as f64 / 1000.0);
            assert!((0.0..=1.0).contains(&c) && c >= last - 1e-12, "{i}: {c}");
            last = c;
        }
        // far outside: as isolated as the baseline's most extreme rows, so flagged
        let far = m.forest.score(&[50.0, 50.0, 50.0]);
        assert!(m.calibrated(far) >= 0.7, "{far}");
        assert!(m.baseline_fraction(far) >= 0.99);
        assert_eq!(m.baseline_fraction(0.0), 0.0);
        assert_eq!(m.calibrated(1.0), 1.0);
        assert_eq!(
            [0.95, 0.85, 0.7, 0.5, 0.1].map(risk_band),
            ["critical", "high", "medium", "low", "normal"]
        );
    }

    #[test]
    fn explanations_name_the_odd_feature() {
        let m = Model::train(names(), &data(2000), Params::default(), 99.0, "test").unwrap();
        let why = m.explain(&[0.5, 30.0, 0.5], 2);
        assert_eq!(why[0].feature, "b");
        assert!(why[0].deviation > 10.0, "{why:?}");
        assert_eq!(why[0].value, 30.0);
    }
}
