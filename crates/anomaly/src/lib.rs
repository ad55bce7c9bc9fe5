//! Anomaly detection for tripline: an Isolation Forest of our own ([`forest`]), model files
//! that carry their feature names, scaler and baseline score distribution ([`model`]), labelled
//! CSV tables ([`data`]) and ranking metrics ([`metrics`]) for `tripline eval anomaly`.
#![deny(unsafe_code)]

pub mod data;
pub mod features;
pub mod forest;
mod kernel;
pub mod metrics;
pub mod model;

pub use forest::{Forest, Matrix, Params};
pub use model::Model;
