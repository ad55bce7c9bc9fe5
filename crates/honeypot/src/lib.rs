//! tripline's honeypots: decoys that attackers connect to, and what reads their actions.
//!
//! - [`shell`]: the fake shell an SSH (or telnet) attacker lands in: a per-deployment
//!   identity, a fake filesystem shared by all sessions with each session's changes on top,
//!   a command-line parser and the commands. Nothing an attacker types is ever executed and
//!   nothing is ever fetched: a download is recorded, never made.
//! - [`tripwire`]: command pattern families with severities and ATT&CK techniques, timed
//!   sequences, frequency rules and a session's risk score.
//! - [`ssh`]: the SSH decoy (russh): every attempt recorded with the client's version and
//!   HASSH ([`hassh`]), the fake shell behind the configured credentials.
//! - [`sftp`]: the SSH decoy's SFTP subsystem over the fake filesystem: uploads recorded as
//!   scp's are.
//! - [`http`]: the HTTP decoy: login pages, scanner paths, every request classified.
//! - [`tcp`]: TCP banner decoys: telnet, Redis, MySQL, FTP, or a banner of your own.
//! - [`detector`]: the `honeypot` detector (`honeypot.session`, `honeypot.exploit`).
//! - [`config`]: `[honeypot]` and its checks.
//! - [`event`]: what a decoy saw, as it hands it on ([`event::Sink`]); [`cowrie`] writes it
//!   as Cowrie JSON.

pub mod config;
pub mod cowrie;
pub mod detector;
pub mod event;
pub mod hassh;
pub mod http;
pub mod sftp;
pub mod shell;
pub mod ssh;
pub mod tcp;
pub mod tripwire;

/// The SSH library the decoy is built on (its client drives `tripline bench honeypot`).
pub use russh;
