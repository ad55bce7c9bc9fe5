//! The tripline binary's library: configuration, the daemon's wiring, the verbs' helpers, the
//! synthetic log generator and output formats. The pipeline itself is `tripline-runtime`;
//! `main.rs` is the command line over these; tests and benchmarks use them directly.

pub mod bench;
pub mod bench_gateway;
pub mod bench_honeypot;
pub mod client;
pub mod config;
pub mod eval;
pub mod gateway;
pub mod gen;
pub mod honeypot;
pub mod output;
pub mod run;
pub mod top;
pub mod train;
