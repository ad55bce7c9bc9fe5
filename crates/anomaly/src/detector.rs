//! The anomaly model as a detector: behaviour windows cut from every event (per address and
//! per user, [`crate::features`]) and scored by the Isolation Forest as they close; a window at
//! or above the threshold raises an `anomaly` alert with its score, its place in the baseline
//! and the features that stood out (the alert's detail, [`crate::AnomalyDetail`]).
//!
//! It sees every event ([`Sharding::Whole`]): its windows key themselves, and a sudo or su
//! (no address) also counts for the address its user logged in from. Windows close at
//! checkpoints once event time has moved a window past them, and all of them at the end of the
//! input; a warm-up replay rebuilds windows and raises nothing.

use crate::features::{ClosedWindow, Extractor};
use crate::Model;
use std::sync::Arc;
use tripline_detect::{Detector, DetectorSpec, Output, Placement, Roles, Sharding};
use tripline_event::catalog::RuleInfo;
use tripline_event::{Alert, Event, Text};

/// The rule the anomaly detector raises.
pub const RULE: RuleInfo = RuleInfo {
    id: "anomaly",
    techniques: &[],
    summary: "a behaviour window (an address's or a user's) unlike the trained baseline",
    base_score: 0.7,
};

/// The techniques an anomaly alert may carry, indexed by bits: brute force (1, T1110), valid
/// accounts (2, T1078), abuse of elevation control (4, T1548), a Unix shell (8, T1059.004).
/// Each union lists its techniques once, in id order. The rule names none of its own: an alert
/// carries what its most unusual features point at ([`crate::features::technique_bits`]).
pub const TECHNIQUES: [&[&str]; 16] = [
    &[],
    &["T1110"],
    &["T1078"],
    &["T1078", "T1110"],
    &["T1548"],
    &["T1110", "T1548"],
    &["T1078", "T1548"],
    &["T1078", "T1110", "T1548"],
    &["T1059.004"],
    &["T1059.004", "T1110"],
    &["T1059.004", "T1078"],
    &["T1059.004", "T1078", "T1110"],
    &["T1059.004", "T1548"],
    &["T1059.004", "T1110", "T1548"],
    &["T1059.004", "T1078", "T1548"],
    &["T1059.004", "T1078", "T1110", "T1548"],
];

/// The anomaly detector.
pub struct AnomalyDetector {
    model: Arc<Model>,
    windows: Extractor,
    threshold: f64,
    warming: bool,
}

/// The anomaly detector's registration: `model` scores windows of `window_minutes` of event
/// time, at most `max_entities` of them open, and a calibrated score at or above `threshold`
/// alerts.
pub fn spec(
    model: Arc<Model>,
    window_minutes: u32,
    max_entities: usize,
    threshold: f64,
) -> DetectorSpec {
    DetectorSpec {
        name: "anomaly",
        rules: vec![&RULE],
        sharding: Sharding::Whole,
        make: Box::new(move |_: Placement| {
            Box::new(AnomalyDetector {
                model: model.clone(),
                windows: Extractor::new(window_minutes, max_entities),
                threshold,
                warming: false,
            })
        }),
    }
}

impl Detector for AnomalyDetector {
    fn name(&self) -> &'static str {
        "anomaly"
    }

    fn process(&mut self, ev: &Event, _roles: Roles) {
        self.windows.push(ev);
    }

    fn end_batch(&mut self) {
        self.windows.end_batch();
    }

    fn flush(&mut self, last: bool) -> Vec<Output> {
        if last {
            self.windows.finish();
        } else {
            self.windows.close_idle();
        }
        let closed = self.windows.take_closed();
        // windows of a warm-up replay were judged by the run that read them first
        if self.warming {
            return vec![];
        }
        self.alerts(closed)
    }

    fn set_warming(&mut self, on: bool) {
        self.warming = on;
    }

    fn tracked(&self) -> usize {
        self.windows.open_windows()
    }
}

impl AnomalyDetector {
    /// An `anomaly` alert for each window that scores at or above the threshold.
    fn alerts(&self, closed: Vec<ClosedWindow>) -> Vec<Output> {
        use crate::features::{readable, Key};
        if closed.is_empty() {
            return vec![];
        }
        let m = &self.model;
        let x = crate::features::matrix(&closed);
        let mut scores = vec![];
        m.forest.score_into(&x, &mut scores);
        let rule = &RULE;
        let mut out = vec![];
        for (w, raw) in closed.into_iter().zip(scores) {
            let calibrated = m.calibrated(raw);
            if calibrated < self.threshold {
                continue;
            }
            let band = crate::model::risk_band(calibrated);
            // devilnet's bands are severities, but for "normal" (a threshold set below 0.4)
            let severity =
                tripline_event::Severity::parse(band).unwrap_or(tripline_event::Severity::Low);
            let (entity, src_ip, user) = match &w.key {
                Key::Ip(ip) => (
                    tripline_event::Entity::Ip(*ip),
                    Some(*ip),
                    w.users.first().map(|u| Text::from(&**u)),
                ),
                Key::User(u) => (
                    tripline_event::Entity::User(u.to_string()),
                    None,
                    Some(Text::from(&**u)),
                ),
            };
            let unusual = m.explain(&w.row, 3);
            let features: Vec<crate::FeatureDetail> = unusual
                .iter()
                .map(|c| crate::FeatureDetail {
                    // the model was loaded with exactly FEATURES, so its columns are theirs
                    name: c.feature.clone(),
                    value: readable(c.index, c.value),
                    baseline_median: readable(c.index, c.baseline_median),
                })
                .collect();
            let why: Vec<String> = features
                .iter()
                .map(|f| {
                    format!(
                        "{} {:.1} (baseline median {:.1})",
                        f.name, f.value, f.baseline_median
                    )
                })
                .collect();
            let percentile = m.baseline_fraction(raw) * 100.0;
            let explanation = format!(
                "{} behaved unlike the baseline in the {}-minute window from {}: anomaly score {:.2} \
                 (raw {:.3}, above {:.1} % of the training windows), risk {band}; most unusual: {}",
                entity.value(),
                (w.end.0 - w.start.0) / 60_000_000,
                w.start,
                calibrated,
                raw,
                percentile,
                why.join(", ")
            );
            out.push(Output::Alert(Alert {
                id: Alert::make_id(rule.id, &entity, w.start),
                rule: Text::const_new(rule.id),
                severity,
                score: calibrated as f32,
                entity,
                src_ip,
                user,
                host: w.host.clone(),
                sensor: Text::const_new(w.sensor.as_str()),
                // what the most unusual features point at (the rule itself names none)
                techniques: tripline_event::Techniques::Borrowed(
                    TECHNIQUES[crate::features::technique_bits(unusual.iter().map(|c| c.index))],
                ),
                count: w.events as u64,
                first_seen: w.first_seen,
                last_seen: w.last_seen,
                explanation,
                evidence: w.evidence,
                detail: Some(Box::new(
                    crate::AnomalyDetail {
                        raw_score: raw,
                        percentile,
                        band: band.to_string(),
                        features,
                    }
                    .to_detail(),
                )),
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_technique_union_lists_each_of_its_techniques_once_in_order_and_each_is_known() {
        let bits = [(8, "T1059.004"), (2, "T1078"), (1, "T1110"), (4, "T1548")];
        for (b, set) in TECHNIQUES.iter().enumerate() {
            let want: Vec<&str> = bits
                .iter()
                .filter(|(bit, _)| b & bit != 0)
                .map(|(_, t)| *t)
                .collect();
            assert_eq!(*set, want.as_slice(), "bits {b}");
            for t in *set {
                assert!(tripline_event::catalog::technique_name(t).is_some(), "{t}");
            }
        }
    }

    /// The detector contract: under a flood of distinct addresses and users, the open windows
    /// (one per address and one per user) stay within `max_entities` in all.
    #[test]
    fn its_windows_stay_within_the_cap_under_a_flood_of_distinct_entities() {
        let rows: Vec<f32> = (0..40 * crate::features::FEATURES.len())
            .map(|i| (i % 7) as f32)
            .collect();
        let x = crate::Matrix::new(rows, crate::features::FEATURES.len());
        let params = crate::Params {
            n_estimators: 10,
            max_samples: 32,
            seed: 1,
        };
        let names = crate::features::FEATURES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let model = Arc::new(Model::train(names, &x, params, 99.5, "test").unwrap());
        let cap = 500;
        let s = spec(model, 10, cap, 0.7);
        let make = || {
            (s.make)(Placement {
                shard: 0,
                shards: 1,
                report_closed: false,
            })
        };
        let (most, _) =
            tripline_detect::contract::check_state_stays_within_cap(&make, 20_000, cap).unwrap();
        // the flood reached the cap: it was tested, not merely never approached
        assert_eq!(most, cap);
    }
}
