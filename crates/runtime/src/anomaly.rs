//! The anomaly stage: behaviour windows cut from every batch and scored by the Isolation Forest
//! as they close. It answers the store writer as a shard does, so its alerts are committed with
//! the batch that closed their window.

use crate::engine::{ShardMsg, WriterMsg};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use tripline_detect::Output;
use tripline_event::{Alert, Event, Text};

/// Behaviour windows and the model that scores them as they close; answers the writer like a
/// shard, so its alerts are committed with the batch that closed their window.
pub(crate) struct AnomalyStage {
    pub(crate) model: Arc<tripline_anomaly::Model>,
    pub(crate) windows: tripline_anomaly::features::Extractor,
    pub(crate) threshold: f64,
}

impl AnomalyStage {
    pub(crate) fn run(
        mut self,
        rx: Receiver<ShardMsg>,
        wtx: SyncSender<WriterMsg>,
        done: std::sync::mpsc::Sender<Arc<Vec<Event>>>,
    ) {
        while let Ok(ShardMsg::Batch {
            seq,
            events,
            flush,
            warm,
            last,
            ..
        }) = rx.recv()
        {
            for ev in events.iter() {
                self.windows.push(ev);
            }
            self.windows.end_batch();
            let _ = done.send(events);
            let mut outputs = vec![];
            if flush {
                if last {
                    self.windows.finish();
                } else {
                    self.windows.close_idle();
                }
                let closed = self.windows.take_closed();
                // windows of a warm-up replay were judged by the run that read them first
                if !warm {
                    outputs = self.alerts(closed);
                }
            }
            if wtx.send(WriterMsg::Shard { seq, outputs }).is_err() {
                break;
            }
        }
    }

    /// An `anomaly` alert for each window that scores at or above the threshold.
    fn alerts(&self, closed: Vec<tripline_anomaly::features::ClosedWindow>) -> Vec<Output> {
        use tripline_anomaly::features::{readable, Key};
        if closed.is_empty() {
            return vec![];
        }
        let m = &self.model;
        let x = tripline_anomaly::features::matrix(&closed);
        let mut scores = vec![];
        m.forest.score_into(&x, &mut scores);
        let Some(rule) = tripline_detect::rule_info("anomaly") else {
            return vec![];
        };
        let mut out = vec![];
        for (w, raw) in closed.into_iter().zip(scores) {
            let calibrated = m.calibrated(raw);
            if calibrated < self.threshold {
                continue;
            }
            let band = tripline_anomaly::model::risk_band(calibrated);
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
            let features: Vec<tripline_anomaly::FeatureDetail> = unusual
                .iter()
                .map(|c| tripline_anomaly::FeatureDetail {
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
                sensor: w.sensor,
                // what the most unusual features point at (the rule itself names none)
                techniques: tripline_event::Techniques::Borrowed(
                    tripline_detect::ANOMALY_TECHNIQUES[tripline_anomaly::features::technique_bits(
                        unusual.iter().map(|c| c.index),
                    )],
                ),
                count: w.events as u64,
                first_seen: w.first_seen,
                last_seen: w.last_seen,
                explanation,
                evidence: w.evidence,
                detail: Some(Box::new(
                    tripline_anomaly::AnomalyDetail {
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
