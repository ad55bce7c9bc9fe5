//! The forest against scikit-learn on the ODDS sets in `../shared/data/odds/` (read in place):
//! `IsolationForest(n_estimators=100, max_samples=256)` fitted on all rows, ROC AUC over 5
//! seeds, measured with scikit-learn 1.9: annthyroid 0.827 ± 0.014, thyroid 0.978 ± 0.002,
//! cardio 0.932 ± 0.012. The same algorithm must land within max(0.01, 2σ) of each mean.

use std::path::PathBuf;
use tripline_anomaly::data::read_csv;
use tripline_anomaly::metrics::{average_precision, mean_std, roc_auc};
use tripline_anomaly::{Forest, Params};

fn odds(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/odds")
        .join(format!("{name}.csv"))
}

fn auc_over_seeds(name: &str) -> (f64, f64, f64) {
    let t = read_csv(&odds(name)).unwrap_or_else(|e| panic!("{e}"));
    let (mut aucs, mut aps) = (vec![], vec![]);
    for seed in 0..5 {
        let f = Forest::fit(
            &t.x,
            Params {
                seed,
                ..Params::default()
            },
        )
        .unwrap();
        let s = f.score_par(&t.x);
        aucs.push(roc_auc(&s, &t.labels).unwrap());
        aps.push(average_precision(&s, &t.labels).unwrap());
    }
    let (auc, sd) = mean_std(&aucs);
    eprintln!("{name}: AUC {auc:.3} ± {sd:.3}, AP {:.3}", mean_std(&aps).0);
    (auc, sd, mean_std(&aps).0)
}

#[test]
fn roc_auc_matches_scikit_learn_on_the_odds_sets() {
    for (name, sk_mean, sk_std) in [
        ("annthyroid", 0.827, 0.014),
        ("thyroid", 0.978, 0.002),
        ("cardio", 0.932, 0.012),
    ] {
        let (auc, _, _) = auc_over_seeds(name);
        let tol = f64::max(0.01, 2.0 * sk_std);
        assert!(
            (auc - sk_mean).abs() <= tol,
            "{name}: AUC {auc:.4}, scikit-learn {sk_mean} (tolerance {tol})"
        );
    }
}
