//! The runtime: what runs between the sources and the store, for `tripline run` and `once` alike.
//!
//! ```text
//!  sources ──► Engine (router) ──► detect-0 … detect-N ──► writer ──► store (one transaction
//!              batch + routing      per-entity windows       │        per group of batches)
//!                                   anomaly stage ───────────┘──► respond stage (a thread and
//!                                                                  a queue per responder)
//! ```
//!
//! * Sources (`tripline-sensors`' source contract) run on threads of their own and push
//!   batches into the [`Engine`] ([`Pipeline`] starts them and the engine, for `run` and `once`
//!   alike), which routes each event once to the shards that own its keys and hands each batch
//!   with its checkpoint to the writer.
//! * Detection threads (`engine.rs`) run the detectors (`tripline_detect::Detector`): those
//!   sharded by key on `shards` threads, each of the others (the anomaly model) on one of its
//!   own; every thread answers the writer for every batch.
//! * The writer (`writer.rs`) commits batches in order, one transaction per group ending at a
//!   checkpoint, then hands the stored alerts to the respond stage (`tripline-respond`), the API's
//!   live stream and a scan's printer.
//! * [`metrics`] counts every stage; [`process`] reads this process's CPU and memory.
//!
//! Queues are bounded: a slow store slows the sources (backpressure), never drops; a slow
//! responder has alerts dropped for it and counted, never slows the store.
#![forbid(unsafe_code)]

mod engine;
pub mod metrics;
pub mod process;
mod topology;
mod writer;

pub use engine::{allowlist, AlertSink, Engine, Mode, RunStats, Settings, Sinks, StoreHealth};
pub use topology::{Pipeline, Shared};
