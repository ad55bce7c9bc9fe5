//! The detector contract: what the runtime's shards run.
//!
//! A [`Detector`] takes events one at a time ([`Detector::process`]), may keep per-entity state
//! (bounded: [`Detector::tracked`] never passes the cap it was given, whatever the flood), and
//! at each checkpoint hands over what changed ([`Detector::flush`]): alerts in their current
//! state, alerts that closed, state to store. A [`DetectorSpec`] registers one: its name, the
//! rules it raises (the catalog gathers them), how its instances see events ([`Sharding`]) and
//! how to make an instance.
//!
//! A detector a request path must hear from before it answers (the LLM gateway blocks or
//! forwards a request on it) is a [`Judge`]: called inline, on the request's own thread or
//! task, it returns a [`Verdict`] at once; the request path answers on it and pushes the
//! verdict on into the pipeline as an event ([`Verdict::event`], through a push source), where
//! it is stored and counted like everything else about its entity.
//!
//! A detector sharded [`Sharding::ByKeys`] has one instance per shard, and each sees only the
//! events whose keys the shard owns, with the roles it owns them in ([`Roles`]): no state is
//! shared, no lock sits on the hot path. One that needs every event ([`Sharding::Whole`], the
//! anomaly model's behaviour windows) has one instance on a thread of its own; it answers the
//! store writer for every batch as a shard does, so its alerts are committed with the batch
//! that raised them.

use crate::{DetectStats, Output, Roles};
use tripline_event::catalog::RuleInfo;
use tripline_event::{Action, AuthKind, Event, Kind, VerdictKind};

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

/// A detector called inline by a request path: it judges one event (the request as an event)
/// and says what to do with the request. `&self`: many requests are judged at once, so what it
/// keeps is its own to share (most judges keep nothing).
pub trait Judge: Send + Sync {
    /// Stable name (the verdict's `judge`).
    fn name(&self) -> &'static str;
    /// The rules its findings name (the catalog gathers them).
    fn rules(&self) -> Vec<&'static RuleInfo>;
    /// Judge one request.
    fn judge(&self, ev: &Event) -> Verdict;
}

/// What a [`Judge`] decided, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub action: Action,
    /// 0–1: how sure it is (the strongest finding's score).
    pub score: f32,
    /// What it found, the strongest first.
    pub findings: Vec<Finding>,
}

/// One thing a judge found: the rule, how strongly, and why in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static RuleInfo,
    pub score: f32,
    pub reason: String,
}

impl Verdict {
    /// Nothing found: let it through.
    pub fn allow() -> Verdict {
        Verdict {
            action: Action::Allow,
            score: 0.0,
            findings: vec![],
        }
    }

    /// The verdict of these findings: blocked when the strongest scores at least `block_at`,
    /// flagged at least `flag_at`, else allowed.
    pub fn of(mut findings: Vec<Finding>, flag_at: f32, block_at: f32) -> Verdict {
        findings.sort_by(|a, b| b.score.total_cmp(&a.score));
        let score = findings.first().map_or(0.0, |f| f.score);
        let action = if findings.is_empty() || score < flag_at {
            Action::Allow
        } else if score >= block_at {
            Action::Block
        } else {
            Action::Flag
        };
        Verdict {
            action,
            score,
            findings,
        }
    }

    /// The event that carries this verdict of `judge` on through the pipeline: the request
    /// `ev` (its time, keys and raw text) with the verdict as its kind; evidence against its
    /// source when it was flagged or blocked.
    pub fn event(&self, judge: &str, mut ev: Event) -> Event {
        ev.kind = Kind::Verdict(VerdictKind {
            judge: judge.into(),
            action: self.action,
            score: self.score,
            rules: self.findings.iter().map(|f| f.rule.id.into()).collect(),
        });
        ev.hostile = self.action != Action::Allow;
        ev
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
    use tripline_event::{AuthMethod, Kind, Line, SensorKind, Timestamp};
    let mut d = make();
    let host: Arc<str> = "h".into();
    let raw = Line::from("flood");
    let mut most = 0;
    for i in 0..events {
        let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x6440_0000u32 + i));
        let kind = Kind::Auth(AuthKind::Failure {
            method: AuthMethod::Password,
            invalid_user: false,
        });
        let ts = Timestamp::from_secs(1_700_000_000 + i as i64 / 100);
        let ev = Event {
            observed: Timestamp::from_secs(1_700_000_000),
            src_ip: Some(ip),
            user: Some(format!("user{i}").into()),
            hostile: true,
            ..Event::new(ts, SensorKind::Files, host.clone(), kind, raw.clone())
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
