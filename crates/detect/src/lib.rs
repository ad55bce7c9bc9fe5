//! Detection: the detector contract ([`contract`]), sharding on entity keys ([`shard`]), and
//! the log rules, one file each (`rules/`), run by one detector ([`Rules`], `engine.rs`).
//!
//! The runtime runs `parallel_processing` shards, each on its own thread, and sends every event
//! to the shard that owns each of its keys ([`owners`]): the source address's shard runs the
//! rules keyed on addresses, the user's shard those keyed on users, the network's shard the
//! per-/24 aggregation. No state is shared, so there is no lock on the hot path.
#![forbid(unsafe_code)]

pub mod config;
pub mod contract;
mod engine;
mod rules;
pub mod shard;
mod state;

pub use contract::{
    Detector, DetectorSpec, Finding, Judge, MakeDetector, Placement, Sharding, Verdict,
};
pub use shard::{owners, roles_of, Roles};

pub use config::{DetectConfig, RulesConfig};
pub use engine::Rules;
pub use rules::{
    rule_info, technique_name, technique_url, Explain, Rule, RuleDef, RuleInfo, RULES,
};

/// The catalog of every rule this crate raises.
pub fn catalog() -> tripline_event::catalog::Catalog {
    tripline_event::catalog::Catalog::new(RULES.iter())
}

/// The log rules as a detector: one [`Rules`] per shard, each running the rules of the keys
/// its shard owns; `allow` is the resolved allowlist, `restore` the alerts still open from an
/// earlier run and `state` the state records the rules stored then ([`Output::State`]).
pub fn rules_spec(
    cfg: Arc<DetectConfig>,
    allow: Vec<Cidr>,
    restore: Vec<Alert>,
    state: Vec<StateRecord>,
) -> DetectorSpec {
    DetectorSpec {
        name: "rules",
        rules: Rule::ALL.iter().map(|r| r.info()).collect(),
        sharding: Sharding::ByKeys(Rules::KEYS),
        make: Box::new(move |p: Placement| {
            let mut det = Rules::new(cfg.clone(), allow.clone(), p.shard, p.shards);
            det.report_closed(p.report_closed);
            for r in &state {
                det.restore_state(r);
            }
            for a in &restore {
                det.restore_alert(a.clone());
            }
            Box::new(det)
        }),
    }
}

impl Detector for Rules {
    fn name(&self) -> &'static str {
        "rules"
    }
    fn process(&mut self, ev: &Event, roles: Roles) {
        self.process_as(ev, roles);
    }
    fn end_batch(&mut self) {
        Rules::end_batch(self);
    }
    fn flush(&mut self, _last: bool) -> Vec<Output> {
        Rules::flush(self)
    }
    fn set_warming(&mut self, on: bool) {
        Rules::set_warming(self, on);
    }
    fn tracked(&self) -> usize {
        Rules::tracked(self)
    }
    fn stats(&self) -> DetectStats {
        self.stats
    }
}

use std::sync::Arc;
use tripline_event::net::Cidr;
use tripline_event::{Alert, Event, StateRecord, Text};

/// What a shard hands to the store.
// nearly every output is an alert: boxing it would add an allocation per alert emitted
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A new or grown alert (the full current state; the store upserts by id).
    Alert(Alert),
    /// An alert this shard will not grow again (its cooldown passed, or the cap evicted it):
    /// its last emitted state is final. Only reported when asked ([`Rules::report_closed`]).
    Closed(Text),
    /// Detector state to keep across restarts (a user's first login from a network).
    State(StateRecord),
}

/// Counters of one shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectStats {
    pub events: u64,
    pub allowlisted: u64,
    pub evictions: u64,
    /// Entities dropped because their windows emptied (event time), and alerts closed by
    /// their cooldown and dropped from memory (they stay in the store).
    pub expired: u64,
    pub alerts_opened: u64,
    pub alerts_updated: u64,
}

impl std::ops::AddAssign for DetectStats {
    /// Counters of several shards or detectors, summed.
    fn add_assign(&mut self, o: DetectStats) {
        self.events += o.events;
        self.allowlisted += o.allowlisted;
        self.evictions += o.evictions;
        self.expired += o.expired;
        self.alerts_opened += o.alerts_opened;
        self.alerts_updated += o.alerts_updated;
    }
}

/// `600` → `10m`, `21600` → `6h`.
pub fn fmt_secs(s: u64) -> String {
    Secs(s).to_string()
}

/// A duration in the largest whole unit (`6h`, `10m`, `45s`), for formatting in place.
pub(crate) struct Secs(pub u64);

impl std::fmt::Display for Secs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        if s.is_multiple_of(3600) && s >= 3600 {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) && s >= 60 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}
