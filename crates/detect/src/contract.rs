//! The detector contract: what the runtime's shards run.
//!
//! A [`Detector`] takes events one at a time ([`Detector::process`]), may keep per-entity state
//! (bounded: [`Detector::tracked`] never passes the cap it was given, whatever the flood), and
//! at each checkpoint hands over what changed ([`Detector::flush`]): alerts in their current
//! state, alerts that closed, state to store. A [`DetectorSpec`] registers one: its name, the
//! rules it raises (the catalog gathers them), how its instances see events ([`Sharding`]) and
//! how to make an instance.
//!
//! A detector sharded [`Sharding::ByKeys`] has one instance per shard, and each sees only the
//! events whose keys the shard owns, with the roles it owns them in ([`Roles`]): no state is
//! shared, no lock sits on the hot path. One that needs every event ([`Sharding::Whole`], the
//! anomaly model's behaviour windows) has one instance on a thread of its own; it answers the
//! store writer for every batch as a shard does, so its alerts are committed with the batch
//! that raised them.

use crate::{DetectStats, Output, Roles};
use tripline_event::catalog::RuleInfo;
use tripline_event::AuthKind;
use tripline_event::Event;

/// One detector instance.
pub trait Detector: Send {
    /// Stable name (threads, logs): `rules`, `anomaly`.
    fn name(&self) -> &'static str;
    /// Look at one event, in the roles this instance owns it in (every role for
    /// [`Sharding::Whole`]).
    fn process(&mut self, ev: &Event, roles: Roles);
    /// The end of a batch, before its events (and the read buffers they point into) are
    /// freed: copy out what must outlive it.
    fn end_batch(&mut self) {}
    /// A checkpoint: what changed since the last one. `last` is the end of the input (a scan's
    /// end, a stop): whatever waits for more input is decided now.
    fn flush(&mut self, last: bool) -> Vec<Output>;
    /// While on, events are lines read before a restart, replayed to rebuild state: nothing is
    /// raised or stored from them (their alerts are stored already).
    fn set_warming(&mut self, on: bool);
    /// Entities it holds state for.
    fn tracked(&self) -> usize {
        0
    }
    /// Its counters so far.
    fn stats(&self) -> DetectStats {
        DetectStats::default()
    }
}

/// How a detector's instances see events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharding {
    /// One instance per shard, each seeing the events whose keys of these types its shard
    /// owns, in the roles (the types) it owns them in.
    ByKeys(Roles),
    /// One instance seeing every event.
    Whole,
}

/// What an instance is made for.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    /// Its shard, of `shards` (0 of 1 for [`Sharding::Whole`]).
    pub shard: usize,
    pub shards: usize,
    /// Report alerts as they close ([`Output::Closed`]): a scan prints each alert once, final.
    pub report_closed: bool,
}

/// Makes a detector's instances.
pub type MakeDetector = Box<dyn Fn(Placement) -> Box<dyn Detector> + Send + Sync>;

/// A registered detector: its name, its rules, how it is sharded and how to make it.
pub struct DetectorSpec {
    pub name: &'static str,
    pub rules: Vec<&'static RuleInfo>,
    pub sharding: Sharding,
    pub make: MakeDetector,
}

impl std::fmt::Debug for DetectorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectorSpec")
            .field("name", &self.name)
            .field(
                "rules",
                &self.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
            )
            .field("sharding", &self.sharding)
            .finish()
    }
}

/// The contract's checks that every detector must pass, for its tests: under a flood of
/// distinct addresses, users and networks (failed logins, each from a new address against a
/// new user, `events` of them), the state of an instance made by `make` stays within `cap`
/// entities, and it still answers every checkpoint. Returns the most it held and its counters.
pub fn check_state_stays_within_cap(
    make: &dyn Fn() -> Box<dyn Detector>,
    events: u32,
    cap: usize,
) -> Result<(usize, DetectStats), String> {
    use std::sync::Arc;
    use tripline_event::{AuthMethod, Kind, Line, SensorKind, SourcePos, Timestamp};
    let mut d = make();
    let host: Arc<str> = "h".into();
    let raw = Line::from("flood");
    let mut most = 0;
    for i in 0..events {
        let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x6440_0000u32 + i));
        let ev = Event {
            ts: Timestamp::from_secs(1_700_000_000 + i as i64 / 100),
            observed: Timestamp::from_secs(1_700_000_000),
            sensor: SensorKind::Files,
            host: host.clone(),
            src_ip: Some(ip),
            src_name: None,
            user: Some(format!("user{i}").into()),
            session: None,
            keys: vec![],
            kind: Kind::Auth(AuthKind::Failure {
                method: AuthMethod::Password,
                invalid_user: false,
            }),
            count: 1,
            hostile: true,
            raw: raw.clone(),
            pos: SourcePos::default(),
        };
        d.process(&ev, Roles::ALL);
        if i % 1024 == 1023 {
            d.end_batch();
            d.flush(false);
        }
        most = most.max(d.tracked());
        if d.tracked() > cap {
            return Err(format!(
                "{}: {} entities tracked after {i} events, over the cap of {cap}",
                d.name(),
                d.tracked()
            ));
        }
    }
    d.end_batch();
    d.flush(true);
    Ok((most, d.stats()))
}
