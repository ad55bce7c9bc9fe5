//! Anomaly detection for tripline: an Isolation Forest of our own ([`forest`]), model files
//! that carry their feature names, scaler and baseline score distribution ([`model`]), labelled
//! CSV tables ([`data`]) and ranking metrics ([`metrics`]) for `tripline eval anomaly`.
#![deny(unsafe_code)]

pub mod data;
pub mod detector;
pub mod features;
pub mod forest;
mod kernel;
pub mod metrics;
pub mod model;

pub use forest::{Forest, Matrix, Params};
pub use model::Model;

/// What an `anomaly` alert knows besides its calibrated score, in fields a SIEM can read (its
/// explanation says the same in words): the alert's detail under the key [`DETAIL_KEY`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AnomalyDetail {
    /// The forest's own score of the window, `2^(−E[h]/c(ψ))`.
    pub raw_score: f64,
    /// Percentile of the training windows scoring below it (0–100).
    pub percentile: f64,
    /// devilnet's risk band of the calibrated score: normal, low, medium, high, critical.
    pub band: String,
    /// The features that made the window stand out, most first.
    pub features: Vec<FeatureDetail>,
}

/// One feature of an [`AnomalyDetail`], in people's units (counts and seconds, not logarithms).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureDetail {
    pub name: String,
    pub value: f64,
    pub baseline_median: f64,
}

/// The key an anomaly alert's detail is shown and stored under.
pub const DETAIL_KEY: &str = "anomaly";

impl AnomalyDetail {
    /// As an alert's detail.
    pub fn to_detail(&self) -> tripline_event::Detail {
        tripline_event::Detail {
            key: DETAIL_KEY.into(),
            value: serde_json::to_value(self).unwrap_or_default(),
        }
    }

    /// An alert's detail read back, when it is an anomaly's.
    pub fn of(d: &tripline_event::Detail) -> Option<AnomalyDetail> {
        (d.key == DETAIL_KEY)
            .then(|| serde_json::from_value(d.value.clone()).ok())
            .flatten()
    }
}
