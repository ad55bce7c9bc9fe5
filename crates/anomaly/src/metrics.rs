//! Ranking quality of anomaly scores against labels (1 = anomaly): ROC AUC and average
//! precision, computed as scikit-learn's `roc_auc_score` and `average_precision_score` do
//! (tied scores share their rank; precision is taken at each distinct score).

/// Indices of `scores` from highest to lowest.
fn descending(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    idx
}

/// Area under the ROC curve: the probability that a random anomaly scores above a random
/// normal row, ties counting half. `None` when one class is missing.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len());
    let pos = labels.iter().filter(|l| **l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    // Mann–Whitney U with average ranks for ties (ranks ascending, from 1)
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += rank * idx[i..=j].iter().filter(|k| labels[**k]).count() as f64;
        i = j + 1;
    }
    let u = rank_sum - (pos * (pos + 1)) as f64 / 2.0;
    Some(u / (pos as f64 * neg as f64))
}

/// Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over the distinct score thresholds, highest first.
/// `None` when there is no anomaly.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len());
    let pos = labels.iter().filter(|l| **l).count();
    if pos == 0 {
        return None;
    }
    let idx = descending(scores);
    let (mut tp, mut fp, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        // take every row tied at this score together
        let s = scores[idx[i]];
        while i < idx.len() && scores[idx[i]] == s {
            if labels[idx[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let recall = tp as f64 / pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - last_recall) * precision;
        last_recall = recall;
    }
    Some(ap)
}

/// Mean and (population) standard deviation.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_and_ap_match_hand_computed_values() {
        // scikit-learn: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75
        let y = [false, false, true, true];
        let s = [0.1, 0.4, 0.35, 0.8];
        assert!((roc_auc(&s, &y).unwrap() - 0.75).abs() < 1e-12);
        // average_precision_score(same) = 0.8333…
        assert!((average_precision(&s, &y).unwrap() - 5.0 / 6.0).abs() < 1e-12);
        // perfect and inverted rankings
        assert_eq!(roc_auc(&[0.0, 1.0], &[false, true]), Some(1.0));
        assert_eq!(roc_auc(&[1.0, 0.0], &[false, true]), Some(0.0));
        // all tied: chance, and precision is the base rate
        assert_eq!(roc_auc(&[0.5; 4], &y), Some(0.5));
        assert_eq!(average_precision(&[0.5; 4], &y), Some(0.5));
        assert_eq!(roc_auc(&[0.5; 2], &[true, true]), None);
        assert_eq!(average_precision(&[0.5; 2], &[false, false]), None);
    }

    #[test]
    fn mean_and_spread() {
        assert_eq!(mean_std(&[1.0, 3.0]), (2.0, 1.0));
    }
}
