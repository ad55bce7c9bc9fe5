//! The tripline binary's library: configuration, the threaded pipeline, the daemon, the
//! synthetic log generator and output formats. `main.rs` is the command line over these; tests
//! and benchmarks use them directly.

pub mod bench;
pub mod client;
pub mod config;
pub mod eval;
pub mod gen;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod run;
pub mod top;
pub mod train;
