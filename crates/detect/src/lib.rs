//! Detection: per-entity sliding windows over event time, and alerts that grow.
//!
//! A [`Detector`] is one shard. The pipeline runs `parallel_processing` of them, each on its own
//! thread, and sends every event to the shard that owns each of its keys ([`owners`]): the source
//! IP's shard runs the per-IP rules, the user's shard the per-user rules, the network's shard the
//! per-/24 aggregation. No state is shared, so there is no lock on the hot path.
//!
//! Windows use the event's own timestamp, never the wall clock: replaying a log gives the same
//! alerts as watching it live. Every map is bounded ([`DetectConfig::max_tracked_entities`]); the
//! least recently seen entries are evicted in bulk and counted, so a million attacking addresses
//! cost a fixed amount of memory. Windows keep only the last `threshold` timestamps, which is all
//! a "≥ N within W" test needs.
//!
//! One alert exists per (rule, entity) while the attack lasts: later events grow it (count, last
//! seen, evidence). It closes after `cooldown_seconds` of quiet. Alerts are emitted once per
//! batch ([`Rules::flush`]), only those that changed.
#![forbid(unsafe_code)]

pub mod config;
pub mod contract;
mod rules;
pub mod shard;

pub use contract::{Detector, DetectorSpec, MakeDetector, Placement, Sharding};
use shard::{ip_key, net_key, user_key};
pub use shard::{owners, roles_of, Roles};

pub use config::{DetectConfig, RulesConfig};
pub use rules::{
    rule_info, technique_name, technique_url, Rule, RuleInfo, ANOMALY_TECHNIQUES, RULES,
};

/// The catalog of every rule this crate raises (and the anomaly stage's `anomaly`).
pub fn catalog() -> tripline_event::catalog::Catalog {
    tripline_event::catalog::Catalog::new(RULES.iter())
}

/// The log rules as a detector: one [`Rules`] per shard, each running the rules of the keys
/// its shard owns; `allow` is the resolved allowlist, `restore` the alerts still open from an
/// earlier run and `known` the stored (user, network, first seen) pairs.
pub fn rules_spec(
    cfg: Arc<DetectConfig>,
    allow: Vec<Cidr>,
    restore: Vec<Alert>,
    known: Vec<(String, String, Timestamp)>,
) -> DetectorSpec {
    DetectorSpec {
        name: "rules",
        rules: Rule::ALL.iter().map(|r| r.info()).collect(),
        sharding: Sharding::ByKeys(Rules::KEYS),
        make: Box::new(move |p: Placement| {
            let mut det = Rules::new(cfg.clone(), allow.clone(), p.shard, p.shards);
            det.report_closed(p.report_closed);
            for (user, subnet, ts) in &known {
                if let Some(ip) = subnet.split('/').next().and_then(|a| a.parse().ok()) {
                    det.learn_source(user, ip, *ts);
                }
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

use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use tripline_event::net::{subnet_key, subnet_of, Cidr};
use tripline_event::{AccountKind, AuthKind, HoneypotKind, PrivilegeKind};
use tripline_event::{Alert, Entity, Event, Kind, Line, Text, Timestamp};

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
    /// A user logged in from a network never seen for them.
    FirstSeen {
        user: String,
        subnet: String,
        ts: Timestamp,
    },
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

/// Something with a last-seen time, so the least recent can be evicted.
trait Aged {
    fn last(&self) -> i64;
    /// Never evicted while true (an alert not yet flushed).
    fn pinned(&self) -> bool {
        false
    }
}

/// A map with a size cap: beyond it the least recently seen eighth is evicted at once
/// (amortized O(1) per insert).
struct Bounded<V> {
    map: FxHashMap<u128, V>,
    cap: usize,
}

impl<V: Aged + Default> Bounded<V> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: FxHashMap::default(),
            cap: cap.max(8),
        }
    }

    fn entry(&mut self, key: u128, evictions: &mut u64) -> &mut V {
        self.entry_with(key, evictions, |_| {})
    }

    /// [`Bounded::entry`], handing each evicted value to `dropped` first.
    fn entry_with(
        &mut self,
        key: u128,
        evictions: &mut u64,
        mut dropped: impl FnMut(&V),
    ) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            let mut ages: Vec<i64> = self.map.values().map(Aged::last).collect();
            let k = ages.len() / 8;
            let (_, cut, _) = ages.select_nth_unstable(k);
            let cut = *cut;
            let before = self.map.len();
            self.map.retain(|_, v| {
                let keep = v.last() > cut || v.pinned();
                if !keep {
                    dropped(v);
                }
                keep
            });
            *evictions += (before - self.map.len()) as u64;
        }
        self.map.entry(key).or_default()
    }

    /// Drop entries idle for more than `ttl` µs before `now` (unless `keep` says otherwise);
    /// returns how many went.
    fn expire(&mut self, now: i64, ttl: i64, keep: impl Fn(&V) -> bool) -> u64 {
        self.expire_with(now, ttl, keep, |_| {})
    }

    /// [`Bounded::expire`], handing each dropped value to `dropped` first.
    fn expire_with(
        &mut self,
        now: i64,
        ttl: i64,
        keep: impl Fn(&V) -> bool,
        mut dropped: impl FnMut(&V),
    ) -> u64 {
        let before = self.map.len();
        self.map.retain(|_, v| {
            let k = now.saturating_sub(v.last()) <= ttl || keep(v);
            if !k {
                dropped(v);
            }
            k
        });
        (before - self.map.len()) as u64
    }
}

impl Bounded<Ended> {
    /// Remember when the alert `a`, leaving the alert map, ended.
    fn record(&mut self, a: &OpenAlert) {
        if !a.alert.rule.is_empty() {
            let mut evictions = 0;
            let e = self.entry(a.key, &mut evictions);
            e.0 = e.0.max(a.alert.last_seen.0);
        }
    }
}

/// An entity's earlier alerts, as its rules see them at event time `now`.
struct Prior<'a> {
    alerts: &'a FxHashMap<u128, OpenAlert>,
    ended: &'a FxHashMap<u128, Ended>,
    key: u128,
    now: i64,
    cooldown: i64,
}

impl<'a> Prior<'a> {
    /// The view of entity `key`'s earlier alerts its rules use at `now` (built from the
    /// detector's fields, so the entity's state may be borrowed beside it).
    fn new(
        alerts: &'a Bounded<OpenAlert>,
        ended: &'a Bounded<Ended>,
        cfg: &DetectConfig,
        key: u128,
        now: i64,
    ) -> Self {
        Prior {
            alerts: &alerts.map,
            ended: &ended.map,
            key,
            now,
            cooldown: cfg.cooldown_seconds as i64 * SECOND,
        }
    }

    /// When the entity's latest alert of `rule` ended (its last event): still in the alert map,
    /// or remembered in `ended` after leaving it.
    #[inline]
    fn last(&self, rule: Rule) -> Option<i64> {
        let akey = alert_key(rule, self.key);
        self.alerts
            .get(&akey)
            .filter(|a| !a.alert.rule.is_empty())
            .map(|a| a.alert.last_seen.0)
            .or_else(|| self.ended.get(&akey).map(|e| e.0))
    }

    /// The alert of `rule` is open (quiet for at most the cooldown): it keeps growing while
    /// the attack lasts, even when the window was lost (restart) or the rate dipped below the
    /// threshold.
    #[inline]
    fn open(&self, rule: Rule) -> bool {
        let akey = alert_key(rule, self.key);
        self.alerts.get(&akey).is_some_and(|a| {
            !a.alert.rule.is_empty() && self.now - a.alert.last_seen.0 <= self.cooldown
        })
    }

    /// Where the window of `rule` starts: `window` seconds before `now`; but once the previous
    /// alert of that rule has closed, after it, so that no event is counted by two alerts.
    /// While the alert is open its window is not cut: it grows as long as the rule holds.
    #[inline]
    fn start(&self, rule: Rule, window: u64) -> i64 {
        let horizon = self.now.saturating_sub(window as i64 * SECOND);
        match self.last(rule) {
            Some(p) if self.now - p > self.cooldown => horizon.max(p.saturating_add(1)),
            _ => horizon,
        }
    }
}

/// When each kind of state expires: idle longer than its longest window (event time), it can
/// no longer make any rule fire.
#[derive(Debug, Clone, Copy)]
struct Ttl {
    ip: i64,
    user: i64,
    net: i64,
    alert: i64,
}

impl Ttl {
    fn new(cfg: &DetectConfig) -> Ttl {
        let r = &cfg.rules;
        let max = |w: &[u64]| w.iter().copied().max().unwrap_or(0) as i64 * SECOND;
        Ttl {
            ip: max(&[
                r.ssh_bruteforce.window_seconds,
                r.ssh_bruteforce_slow.window_seconds,
                r.ssh_spray.window_seconds,
                r.ssh_enumeration.window_seconds,
                r.ssh_scan.window_seconds,
                r.ssh_compromise.window_seconds,
            ]),
            user: max(&[
                r.priv_sudo_failures.window_seconds,
                r.priv_su_failures.window_seconds,
                r.priv_after_login.window_seconds,
                r.ssh_distributed.window_seconds,
            ]),
            net: max(&[r.ssh_distributed.window_seconds]),
            alert: cfg.cooldown_seconds as i64 * SECOND,
        }
    }
}

/// Timestamps of the latest events, at most `cap`.
#[derive(Default)]
struct Ring(VecDeque<i64>);

/// Append `v` `times` times to a window of at most `cap` entries, dropping the oldest.
fn push_capped<T: Copy>(q: &mut VecDeque<T>, v: T, times: u32, cap: usize) {
    if q.capacity() < cap {
        // one allocation of the final size instead of growing 4, 8, 16
        q.reserve_exact(cap - q.len());
    }
    for _ in 0..times.min(cap as u32) {
        if q.len() >= cap {
            q.pop_front();
        }
        q.push_back(v);
    }
}

impl Ring {
    fn push(&mut self, ts: i64, times: u32, cap: usize) {
        push_capped(&mut self.0, ts, times, cap);
    }

    /// At least `n` events at or after `start`.
    fn has(&self, n: u32, start: i64) -> bool {
        let n = n as usize;
        n > 0 && self.0.len() >= n && self.0[self.0.len() - n] >= start
    }

    /// Where a window holding at least `n` events starts: at `horizon`, or later at `start()`
    /// (the end of the entity's previous alert, a lookup made only once the events from
    /// `horizon` reach `n`). None when the window holds fewer.
    #[inline]
    fn holds(&self, n: u32, horizon: i64, start: impl FnOnce() -> i64) -> Option<i64> {
        if !self.has(n, horizon) {
            return None;
        }
        let from = start();
        self.has(n, from).then_some(from)
    }

    /// A counting rule `c` over this ring at `now`: it fires when its window (from
    /// [`Ring::holds`]) holds the threshold, or while its alert is `open()`; (how many, first)
    /// in that window.
    #[inline]
    fn counting(
        &self,
        c: &config::CountRule,
        now: i64,
        start: impl FnOnce() -> i64,
        open: impl FnOnce() -> bool,
    ) -> Option<(u64, i64)> {
        let horizon = now - c.window_seconds as i64 * SECOND;
        let held = if c.enabled {
            self.holds(c.threshold, horizon, start)
        } else {
            None
        };
        (held.is_some() || open()).then(|| self.since(held.unwrap_or(horizon), now))
    }

    /// How many events are at or after `since`, and the time of the first of them (`now` when
    /// there are none).
    fn since(&self, since: i64, now: i64) -> (u64, i64) {
        let n = self.0.iter().rev().take_while(|t| **t >= since).count();
        let first = match n {
            0 => now,
            n => self.0[self.0.len() - n],
        };
        (n as u64, first)
    }
}

#[derive(Default)]
struct IpState {
    last: i64,
    fails: Ring,
    noise: Ring,
    fast_fired: bool,
    /// (user hash, tries, first ts, last ts) for spraying
    users: Vec<(u64, u32, i64, i64)>,
    /// (user hash, first ts, last ts) for enumeration
    invalid: Vec<(u64, i64, i64)>,
}

impl Aged for IpState {
    fn last(&self) -> i64 {
        self.last
    }
}

#[derive(Default)]
struct UserState {
    last: i64,
    first_login: Option<i64>,
    known: Vec<u128>,
    new_source_login: Option<(i64, IpAddr)>,
    sudo_fails: Ring,
    su_fails: Ring,
    /// failures against this user, for distributed attacks
    dist: Dist,
}

impl Aged for UserState {
    fn last(&self) -> i64 {
        self.last
    }
}

#[derive(Default)]
struct NetState {
    last: i64,
    dist: Dist,
}

impl Aged for NetState {
    fn last(&self) -> i64 {
        self.last
    }
}

/// When an alert that has left the alert map ended (its last event, µs), remembered as long as
/// a window could still hold events it counted.
#[derive(Default)]
struct Ended(i64);

impl Aged for Ended {
    fn last(&self) -> i64 {
        self.0
    }
}

/// An alert being grown.
struct OpenAlert {
    /// Its key in the alert map ([`alert_key`]).
    key: u128,
    /// Without explanation and evidence: [`OpenAlert::emit`] makes those afresh.
    alert: Alert,
    first: Vec<Line>,
    latest: VecDeque<Line>,
    /// Some evidence lines are still parts of read buffers ([`Detector::end_batch`] copies them).
    shared: bool,
    users: Vec<Text>,
    sources: Vec<IpAddr>,
    detail: String,
    dirty: bool,
}

impl Aged for OpenAlert {
    fn last(&self) -> i64 {
        self.alert.last_seen.0
    }
    fn pinned(&self) -> bool {
        self.dirty
    }
}

impl OpenAlert {
    /// The alert as it stands: evidence, explanation and score filled in; marks it flushed.
    fn emit(&mut self, rule: Rule, cfg: &RulesConfig) -> Alert {
        self.dirty = false;
        let mut a = self.alert.clone();
        a.evidence = self
            .first
            .iter()
            .chain(self.latest.iter())
            .map(Line::own)
            .collect();
        a.explanation = rule.explain(&a, &self.users, &self.sources, &self.detail, cfg);
        a.score = rule.info().score(a.count);
        a
    }
}

thread_local! {
    /// The host of a placeholder alert: shared, so a placeholder allocates nothing.
    static NO_HOST: Arc<str> = Arc::from("");
}

impl Default for OpenAlert {
    fn default() -> Self {
        // Only used as a placeholder by `Bounded::entry`, which we never call for alerts
        // without filling them in.
        OpenAlert {
            key: 0,
            alert: Alert {
                id: Text::default(),
                rule: Text::const_new(""),
                severity: tripline_event::Severity::Info,
                score: 0.0,
                entity: Entity::User(String::new()),
                src_ip: None,
                user: None,
                host: NO_HOST.with(Arc::clone),
                sensor: Text::const_new("files"),
                techniques: tripline_event::Techniques::Borrowed(&[]),
                count: 0,
                first_seen: Timestamp(0),
                last_seen: Timestamp(0),
                explanation: String::new(),
                evidence: vec![],
                detail: None,
            },
            first: vec![],
            latest: VecDeque::new(),
            shared: false,
            users: vec![],
            sources: vec![],
            detail: String::new(),
            dirty: false,
        }
    }
}

const SECOND: i64 = 1_000_000;

/// The log rules of one detection shard (ssh, privilege, account and honeypot rules).
pub struct Rules {
    cfg: Arc<DetectConfig>,
    shard: usize,
    shards: usize,
    allow: Vec<Cidr>,
    ips: Bounded<IpState>,
    users: Bounded<UserState>,
    nets: Bounded<NetState>,
    alerts: Bounded<OpenAlert>,
    /// Alerts that left `alerts`, by key: where a new alert's window for the same rule and
    /// entity starts, so that no event is counted by two alerts.
    ended: Bounded<Ended>,
    dirty: Vec<(Rule, u128)>,
    /// Alerts (by key) whose evidence holds parts of this batch's read buffers.
    to_compact: Vec<u128>,
    out: Vec<Output>,
    /// The rules the current event fires; kept between events to reuse its allocation.
    fire: Vec<Fire>,
    /// Whether closed alerts are reported ([`Output::Closed`]).
    report_closed: bool,
    /// Rebuilding windows from lines already accounted for: rules run, nothing fires.
    warming: bool,
    ttl: Ttl,
    /// The latest event time seen, and when state was last swept for expiry (event time, and
    /// events processed then).
    clock: i64,
    swept: [(i64, u64); 4],
    pub stats: DetectStats,
}

fn ring_cap(cfg: &DetectConfig) -> usize {
    let r = &cfg.rules;
    [
        r.ssh_bruteforce.threshold,
        r.ssh_bruteforce_slow.threshold,
        r.ssh_compromise.threshold,
    ]
    .into_iter()
    .max()
    .unwrap_or(1) as usize
}

impl Rules {
    /// The keys the rules keep state on: an address, a user, a network.
    pub const KEYS: Roles = Roles(Roles::IP | Roles::USER | Roles::NET);

    /// Shard `shard` of `shards`. `allow` is the resolved allowlist (config entries plus this
    /// host's own addresses when `ignore_self`).
    pub fn new(cfg: Arc<DetectConfig>, allow: Vec<Cidr>, shard: usize, shards: usize) -> Rules {
        let per_shard = (cfg.max_tracked_entities / shards.max(1)).max(16);
        Rules {
            shard,
            shards: shards.max(1),
            allow,
            ips: Bounded::new(per_shard),
            users: Bounded::new(per_shard),
            nets: Bounded::new(per_shard),
            alerts: Bounded::new(per_shard),
            ended: Bounded::new(per_shard),
            dirty: vec![],
            to_compact: vec![],
            out: vec![],
            fire: vec![],
            report_closed: false,
            warming: false,
            ttl: Ttl::new(&cfg),
            clock: i64::MIN,
            swept: [(i64::MIN, 0); 4],
            stats: DetectStats::default(),
            cfg,
        }
    }

    /// Report alerts as they close ([`Output::Closed`]), so a scan can print each alert once,
    /// final, without reading the store back.
    pub fn report_closed(&mut self, on: bool) {
        self.report_closed = on;
    }

    /// While on, events rebuild detection state (windows, connection and login history) but
    /// open, grow and record nothing: they are lines read before a restart, whose alerts are
    /// already stored. Windows that straddle the restart then fire as if there had been none.
    pub fn set_warming(&mut self, on: bool) {
        self.warming = on;
    }

    /// Entities currently tracked (IPs + users + networks).
    pub fn tracked(&self) -> usize {
        self.ips.map.len() + self.users.map.len() + self.nets.map.len()
    }

    /// Teach a (user, network) pair known from earlier runs (the store's first-seen table).
    pub fn learn_source(&mut self, user: &str, ip_or_subnet: IpAddr, first_seen: Timestamp) {
        let key = user_key(user);
        if shard::owner(key, self.shards) != self.shard {
            return;
        }
        let st = self.users.entry(key, &mut self.stats.evictions);
        let net = subnet_key(ip_or_subnet);
        if !st.known.contains(&net) && st.known.len() < 256 {
            st.known.push(net);
        }
        st.first_login = Some(st.first_login.map_or(first_seen.0, |f| f.min(first_seen.0)));
        st.last = st.last.max(first_seen.0);
    }

    /// Continue an alert stored by an earlier run, so a restart grows it instead of opening a
    /// duplicate. Ignored when this shard does not own its entity.
    pub fn restore_alert(&mut self, alert: Alert) {
        // only this detector's rules (an anomaly alert is one per window, never grown)
        let Some(rule) = Rule::ALL.into_iter().find(|r| alert.rule == r.info().id) else {
            return;
        };
        let key = match &alert.entity {
            Entity::Ip(ip) => ip_key(*ip),
            Entity::User(u) => user_key(u),
            Entity::Subnet(s) => match s.split('/').next().and_then(|a| a.parse::<IpAddr>().ok()) {
                Some(ip) => net_key(ip),
                None => return,
            },
            // the rules raise alerts on addresses, users and networks only
            _ => return,
        };
        if shard::owner(key, self.shards) != self.shard {
            return;
        }
        let akey = alert_key(rule, key);
        let ended = &mut self.ended;
        let slot = self
            .alerts
            .entry_with(akey, &mut self.stats.evictions, |a| ended.record(a));
        slot.key = akey;
        if !slot.alert.rule.is_empty() && slot.alert.last_seen >= alert.last_seen {
            return; // an entity's latest alert is the one that may still be open
        }
        let mut alert = alert;
        let mut lines = std::mem::take(&mut alert.evidence)
            .into_iter()
            .map(Line::from);
        slot.first = lines.by_ref().take(5).collect();
        slot.latest = lines.collect();
        // remade by the next emit, from the evidence above and what the alert grows by
        alert.explanation = String::new();
        slot.alert = alert;
        slot.dirty = false;
    }

    /// Run every rule this shard owns on one event.
    pub fn process(&mut self, ev: &Event) {
        self.process_as(ev, roles_of(ev, self.shards, self.shard, Rules::KEYS));
    }

    /// Run the rule families in `roles` on one event: the router computed them once with
    /// [`owners`] (each shard need not hash every event again).
    pub fn process_as(&mut self, ev: &Event, roles: Roles) {
        self.stats.events += 1;
        if ev.ts.0 > self.clock {
            self.clock = ev.ts.0;
            self.sweep();
        }
        if let Some(ip) = ev.src_ip {
            if self.allow.iter().any(|c| c.contains(ip)) {
                self.stats.allowlisted += 1;
                return;
            }
        }
        if roles.has(Roles::IP) {
            self.ip_rules(ev);
        }
        if roles.has(Roles::USER) {
            self.user_rules(ev);
        }
        if roles.has(Roles::NET) {
            self.net_rules(ev);
        }
    }

    /// Forget what can no longer fire, so memory follows the attacks in progress rather than
    /// every address ever seen. Each kind of state is swept when event time has moved a quarter
    /// of its lifetime (at least a minute) since its last sweep. Users, networks and alerts
    /// also wait until a quarter as many events as they hold have come since, so a sweep's
    /// cost is amortized O(1) per event even over entries a sweep keeps (users' known
    /// networks); what lingers a little longer cannot fire, its windows being in event time.
    /// Addresses are swept on time alone: a brute force's "fast rule fired" mark must not
    /// outlive its window.
    fn sweep(&mut self) {
        let now = self.clock;
        let events = self.stats.events;
        let t = self.ttl;
        let due = |swept: &mut (i64, u64), ttl: i64, held: usize| {
            let go = now.saturating_sub(swept.0) >= (ttl / 4).max(60 * SECOND)
                && events - swept.1 >= held as u64 / 4;
            if go {
                *swept = (now, events);
            }
            go
        };
        let mut n = 0;
        if due(&mut self.swept[0], t.ip, 0) {
            n += self.ips.expire(now, t.ip, |_| false);
        }
        if due(&mut self.swept[1], t.user, self.users.map.len()) {
            // a user's known networks and first login outlive the windows
            n += self.users.expire(now, t.user, |u| {
                !u.known.is_empty() || u.first_login.is_some()
            });
        }
        if due(&mut self.swept[2], t.net, self.nets.map.len()) {
            n += self.nets.expire(now, t.net, |_| false);
        }
        if due(&mut self.swept[3], t.alert, self.alerts.map.len()) {
            // a closed alert is in the store already; only an unflushed one must stay
            let (report, out, ended) = (self.report_closed, &mut self.out, &mut self.ended);
            n += self.alerts.expire_with(now, t.alert, Aged::pinned, |a| {
                if report {
                    out.push(Output::Closed(a.alert.id.clone()));
                }
                ended.record(a);
            });
            // an ended alert matters while a window could still reach back to it
            self.ended
                .expire(now, t.ip.max(t.user).max(t.net), |_| false);
        }
        self.stats.expired += n;
    }

    /// The end of a batch: evidence lines taken from its events get buffers of their own, so
    /// that an alert never keeps a whole read buffer (64 KiB) alive for one line.
    /// Call it after each batch, before its events are freed.
    pub fn end_batch(&mut self) {
        for key in self.to_compact.drain(..) {
            if let Some(open) = self.alerts.map.get_mut(&key) {
                open.first.iter_mut().for_each(Line::compact);
                open.latest.iter_mut().for_each(Line::compact);
                open.shared = false;
            }
        }
    }

    /// Alerts and first-seen records changed since the last flush.
    pub fn flush(&mut self) -> Vec<Output> {
        for (rule, key) in std::mem::take(&mut self.dirty) {
            if let Some(open) = self.alerts.map.get_mut(&alert_key(rule, key)) {
                if open.dirty {
                    let a = open.emit(rule, &self.cfg.rules);
                    self.out.push(Output::Alert(a));
                }
            }
        }
        std::mem::take(&mut self.out)
    }

    fn ip_rules(&mut self, ev: &Event) {
        let Some(ip) = ev.src_ip else { return };
        let now = ev.ts.0;
        let r = &self.cfg.rules;
        let cap = ring_cap(&self.cfg);
        let key = ip_key(ip);
        let prior = Prior::new(&self.alerts, &self.ended, &self.cfg, key, now);
        let st = self.ips.entry(key, &mut self.stats.evictions);
        st.last = st.last.max(now);
        let mut fire = std::mem::take(&mut self.fire);
        let login_failure = ev.hostile
            && (ev.kind.is_login_failure()
                || matches!(ev.kind, Kind::Auth(AuthKind::Success { .. }))
                || (matches!(
                    ev.kind,
                    Kind::Auth(AuthKind::PreauthClose) | Kind::Auth(AuthKind::ConnectionClose)
                ) && ev.user.is_some()));
        if login_failure {
            st.fails.push(now, ev.count, cap);
            let bf = &r.ssh_bruteforce;
            let from = || prior.start(Rule::SshBruteforce, bf.window_seconds);
            if let Some((n, first)) = st
                .fails
                .counting(bf, now, from, || prior.open(Rule::SshBruteforce))
            {
                st.fast_fired = true;
                fire.push((Rule::SshBruteforce, String::new(), n, first));
            }
            let slow = &r.ssh_bruteforce_slow;
            let from = || prior.start(Rule::SshBruteforceSlow, slow.window_seconds);
            if !st.fast_fired {
                if let Some((n, first)) = st.fails.counting(slow, now, from, || false) {
                    fire.push((Rule::SshBruteforceSlow, String::new(), n, first));
                }
            }
            if let Some(user) = ev.user.as_deref() {
                let uh = user_key(user) as u64;
                let sp = &r.ssh_spray;
                let horizon = now - sp.window_seconds as i64 * SECOND;
                st.users.retain(|u| u.3 >= horizon);
                match st.users.iter().position(|u| u.0 == uh) {
                    Some(i) => {
                        let u = &mut st.users[i];
                        u.1 = u.1.saturating_add(ev.count);
                        u.3 = now;
                    }
                    None if st.users.len() < 64 => st.users.push((uh, ev.count, now, now)),
                    None => {}
                }
                // users tried within the window (retained above), and since the previous spray
                // alert (looked up only when there are enough)
                let few = |from: i64| {
                    st.users
                        .iter()
                        .filter(|u| u.3 >= from && u.1 <= sp.max_tries_per_user)
                        .count()
                };
                let enough = sp.enabled && few(horizon) >= sp.users as usize;
                let from = if enough {
                    prior.start(Rule::SshSpray, sp.window_seconds)
                } else {
                    horizon
                };
                let counted = || st.users.iter().filter(|u| u.3 >= from);
                if enough && few(from) >= sp.users as usize {
                    let n: u32 = counted().map(|u| u.1).sum();
                    // a user first tried before the window's start counts from its latest try
                    let first = counted()
                        .map(|u| if u.2 >= from { u.2 } else { u.3 })
                        .min()
                        .unwrap_or(now);
                    fire.push((Rule::SshSpray, String::new(), n as u64, first));
                }
                let invalid = matches!(
                    ev.kind,
                    Kind::Auth(AuthKind::InvalidUser)
                        | Kind::Auth(AuthKind::Failure {
                            invalid_user: true,
                            ..
                        })
                );
                let en = &r.ssh_enumeration;
                if invalid {
                    let horizon = now - en.window_seconds as i64 * SECOND;
                    st.invalid.retain(|u| u.2 >= horizon);
                    match st.invalid.iter().position(|u| u.0 == uh) {
                        Some(i) => st.invalid[i].2 = now,
                        None if st.invalid.len() < 64 => st.invalid.push((uh, now, now)),
                        None => {}
                    }
                    let enough = en.enabled && st.invalid.len() >= en.threshold as usize;
                    let from = if enough {
                        prior.start(Rule::SshEnumeration, en.window_seconds)
                    } else {
                        horizon
                    };
                    let counted = || st.invalid.iter().filter(|u| u.2 >= from);
                    let n = counted().count();
                    if enough && n >= en.threshold as usize {
                        let first = counted()
                            .map(|u| if u.1 >= from { u.1 } else { u.2 })
                            .min()
                            .unwrap_or(now);
                        fire.push((Rule::SshEnumeration, String::new(), n as u64, first));
                    }
                }
            }
        }
        if ev.hostile
            && matches!(
                ev.kind,
                Kind::Auth(AuthKind::PreauthNoise)
                    | Kind::Auth(AuthKind::PreauthClose)
                    | Kind::Auth(AuthKind::ConnectionClose)
            )
            && ev.user.is_none()
        {
            st.noise.push(now, ev.count, r.ssh_scan.threshold as usize);
            let sc = &r.ssh_scan;
            let from = || prior.start(Rule::SshScan, sc.window_seconds);
            if let Some((n, first)) = st
                .noise
                .counting(sc, now, from, || prior.open(Rule::SshScan))
            {
                fire.push((Rule::SshScan, String::new(), n, first));
            }
        }
        if let Kind::Auth(AuthKind::Success { .. }) = ev.kind {
            let c = &r.ssh_compromise;
            // every failure in the hour counts (each success is judged on its own), but the
            // alert starts after the address's previous compromise alert
            let (before, _) = st.fails.since(now - c.window_seconds as i64 * SECOND, now);
            // a hostile success was itself pushed as a failure above; don't count it twice
            let before = if ev.hostile {
                before.saturating_sub(ev.count as u64)
            } else {
                before
            };
            if c.enabled && before >= c.threshold as u64 {
                let (_, first) = st
                    .fails
                    .since(prior.start(Rule::SshCompromise, c.window_seconds), now);
                fire.push((
                    Rule::SshCompromise,
                    format!(
                        "{before} failed attempts from this address in the {} before",
                        fmt_secs(c.window_seconds)
                    ),
                    ev.count as u64,
                    first,
                ));
            }
        }
        if ev.kind.is_honeypot()
            && r.honeypot_touch.enabled
            && matches!(
                ev.kind,
                Kind::Honeypot(HoneypotKind::Login { .. })
                    | Kind::Honeypot(HoneypotKind::Command { .. })
                    | Kind::Honeypot(HoneypotKind::Download { .. })
            )
        {
            fire.push((Rule::HoneypotTouch, String::new(), ev.count as u64, now));
        }
        for (rule, detail, n, first) in fire.drain(..) {
            self.hit(rule, key, || Entity::Ip(ip), ev, detail, n, first);
        }
        self.fire = fire;
    }

    fn user_rules(&mut self, ev: &Event) {
        let Some(user) = ev.user.as_deref() else {
            return;
        };
        let now = ev.ts.0;
        let r = &self.cfg.rules;
        let learning = self.cfg.learning_period_seconds as i64 * SECOND;
        let key = user_key(user);
        let prior = Prior::new(&self.alerts, &self.ended, &self.cfg, key, now);
        let st = self.users.entry(key, &mut self.stats.evictions);
        st.last = st.last.max(now);
        let mut fire = std::mem::take(&mut self.fire);
        match &ev.kind {
            Kind::Auth(AuthKind::Success { .. }) if !ev.hostile || ev.src_ip.is_some() => {
                if let Some(ip) = ev.src_ip {
                    let first = *st.first_login.get_or_insert(now);
                    let net = subnet_key(ip);
                    if !st.known.contains(&net) {
                        if st.known.len() >= 256 {
                            st.known.remove(0);
                        }
                        st.known.push(net);
                        if !self.warming {
                            self.out.push(Output::FirstSeen {
                                user: user.to_string(),
                                subnet: subnet_of(ip),
                                ts: ev.ts,
                            });
                        }
                        if now - first > learning {
                            st.new_source_login = Some((now, ip));
                            if r.ssh_new_source_login.enabled {
                                fire.push((
                                    Rule::SshNewSourceLogin,
                                    format!("first login from {} for this user", subnet_of(ip)),
                                    1,
                                    now,
                                ));
                            }
                        }
                    }
                }
            }
            Kind::Privilege(PrivilegeKind::SudoFailure)
            | Kind::Privilege(PrivilegeKind::SudoNotAllowed) => {
                let c = &r.priv_sudo_failures;
                st.sudo_fails.push(now, ev.count, c.threshold as usize);
                let from = || prior.start(Rule::PrivSudoFailures, c.window_seconds);
                if let Some((n, first)) = st.sudo_fails.counting(c, now, from, || false) {
                    fire.push((Rule::PrivSudoFailures, String::new(), n, first));
                }
            }
            Kind::Privilege(PrivilegeKind::SudoNotInSudoers) if r.priv_not_in_sudoers.enabled => {
                fire.push((Rule::PrivNotInSudoers, String::new(), ev.count as u64, now));
            }
            Kind::Privilege(PrivilegeKind::SuFailure { .. }) => {
                let c = &r.priv_su_failures;
                st.su_fails.push(now, ev.count, c.threshold as usize);
                let from = || prior.start(Rule::PrivSuFailures, c.window_seconds);
                if let Some((n, first)) = st.su_fails.counting(c, now, from, || false) {
                    fire.push((Rule::PrivSuFailures, String::new(), n, first));
                }
            }
            Kind::Privilege(PrivilegeKind::SudoCommand { target, .. })
            | Kind::Privilege(PrivilegeKind::SuSuccess { target })
                if &**target == "root" =>
            {
                let c = &r.priv_after_login;
                if let Some((t, ip)) = st.new_source_login {
                    let gap = now - t;
                    if c.enabled && (0..=c.window_seconds as i64 * SECOND).contains(&gap) {
                        fire.push((
                            Rule::PrivAfterLogin,
                            format!("root {} s after a login from new source {ip}", gap / SECOND),
                            1,
                            t,
                        ));
                    }
                }
            }
            Kind::Account(AccountKind::Created) if r.account_change.enabled => {
                fire.push((Rule::AccountChange, "account created".into(), 1, now));
            }
            Kind::Account(AccountKind::GroupMembership { group })
                if r.account_change.enabled
                    && matches!(&**group, "sudo" | "wheel" | "adm" | "root" | "admin") =>
            {
                fire.push((
                    Rule::AccountChange,
                    format!("added to privileged group {group}"),
                    1,
                    now,
                ));
            }
            Kind::Account(AccountKind::PasswordChange { by: Some(by) })
                if r.account_change.enabled && **by != *user =>
            {
                fire.push((
                    Rule::AccountChange,
                    format!("password changed by {by}"),
                    1,
                    now,
                ));
            }
            _ => {}
        }
        // distributed: failures against this user from many sources
        if ev.hostile && ev.kind.is_login_failure() {
            if let Some(ip) = ev.src_ip {
                let d = &r.ssh_distributed;
                if d.enabled
                    && st.dist.push(
                        now,
                        ip_key(ip),
                        ev.count,
                        d.failures,
                        d.sources,
                        now - d.window_seconds as i64 * SECOND,
                        || prior.start(Rule::SshDistributed, d.window_seconds),
                    )
                {
                    let first = st.dist.win.front().map_or(now, |d| d.0);
                    fire.push((
                        Rule::SshDistributed,
                        String::new(),
                        st.dist.win.len() as u64,
                        first,
                    ));
                }
            }
        }
        if !fire.is_empty() {
            for (rule, detail, n, first) in fire.drain(..) {
                self.hit(
                    rule,
                    key,
                    || Entity::User(user.into()),
                    ev,
                    detail,
                    n,
                    first,
                );
            }
        }
        self.fire = fire;
    }

    fn net_rules(&mut self, ev: &Event) {
        let d = &self.cfg.rules.ssh_distributed;
        if !(d.enabled && d.per_subnet && ev.hostile && ev.kind.is_login_failure()) {
            return;
        }
        let Some(ip) = ev.src_ip else { return };
        let now = ev.ts.0;
        let key = net_key(ip);
        let (failures, sources, window) = (d.failures, d.sources, d.window_seconds);
        let prior = Prior::new(&self.alerts, &self.ended, &self.cfg, key, now);
        let from = || prior.start(Rule::SshDistributed, window);
        let horizon = now - window as i64 * SECOND;
        let st = self.nets.entry(key, &mut self.stats.evictions);
        st.last = st.last.max(now);
        if st
            .dist
            .push(now, ip_key(ip), ev.count, failures, sources, horizon, from)
        {
            let n = st.dist.win.len() as u64;
            let first = st.dist.win.front().map_or(now, |d| d.0);
            self.hit(
                Rule::SshDistributed,
                key,
                || Entity::Subnet(subnet_of(ip)),
                ev,
                String::new(),
                n,
                first,
            );
        }
    }

    /// Open or grow the alert for (rule, entity). `opening_count` is how many events made it
    /// fire (the window's content) and `first` when the first of them happened; both are used
    /// when the alert is new, as is `entity` (made only then: most hits grow an open alert).
    #[allow(clippy::too_many_arguments)]
    fn hit(
        &mut self,
        rule: Rule,
        key: u128,
        entity: impl FnOnce() -> Entity,
        ev: &Event,
        detail: String,
        opening_count: u64,
        first: i64,
    ) {
        if self.warming {
            return;
        }
        let info = rule.info();
        let severity = rule.severity(&self.cfg.rules);
        let cooldown = self.cfg.cooldown_seconds as i64 * SECOND;
        let akey = alert_key(rule, key);
        let mut evictions = 0;
        let (report, out, ended) = (self.report_closed, &mut self.out, &mut self.ended);
        let slot = self.alerts.entry_with(akey, &mut evictions, |a| {
            if report {
                out.push(Output::Closed(a.alert.id.clone()));
            }
            ended.record(a);
        });
        self.stats.evictions += evictions;
        let fresh = slot.alert.rule.is_empty() || ev.ts.0 - slot.alert.last_seen.0 > cooldown;
        if fresh && slot.dirty {
            // the previous alert closed within this batch: emit its last state before reuse
            let a = slot.emit(rule, &self.cfg.rules);
            self.out.push(Output::Alert(a));
        }
        if fresh && report && !slot.alert.rule.is_empty() {
            self.out.push(Output::Closed(slot.alert.id.clone()));
        }
        if fresh {
            let entity = entity();
            *slot = OpenAlert {
                key: akey,
                alert: Alert {
                    id: Alert::make_id(info.id, &entity, ev.ts),
                    rule: Text::const_new(info.id),
                    severity,
                    score: 0.0,
                    src_ip: ev.src_ip,
                    user: ev.user.clone(),
                    host: ev.host.clone(),
                    sensor: Text::const_new(ev.sensor.as_str()),
                    techniques: tripline_event::Techniques::Borrowed(info.techniques),
                    count: opening_count.saturating_sub(ev.count as u64),
                    first_seen: Timestamp(first.min(ev.ts.0)),
                    last_seen: ev.ts,
                    explanation: String::new(),
                    evidence: vec![],
                    detail: None,
                    entity,
                },
                detail,
                // sized once: evidence fills up to its cap in most alerts
                first: Vec::with_capacity(tripline_event::MAX_EVIDENCE / 2),
                ..OpenAlert::default()
            };
            self.stats.alerts_opened += 1;
        } else {
            self.stats.alerts_updated += 1;
            if !detail.is_empty() {
                slot.detail = detail;
            }
        }
        let a = &mut slot.alert;
        a.count += ev.count as u64;
        a.last_seen = a.last_seen.max(ev.ts);
        if ev.raw.is_shared() && !slot.shared {
            slot.shared = true;
            self.to_compact.push(akey);
        }
        if slot.first.len() < tripline_event::MAX_EVIDENCE / 2 {
            slot.first.push(ev.raw.clone());
        } else {
            if slot.latest.len() >= tripline_event::MAX_EVIDENCE / 2 {
                slot.latest.pop_front();
            }
            slot.latest.push_back(ev.raw.clone());
        }
        if let Some(u) = ev.user.as_deref() {
            if slot.users.len() < 8 && !slot.users.iter().any(|x| &**x == u) {
                slot.users.push(u.into());
            }
        }
        // an address's own alert has one source, the address: only the others list theirs
        if let (Some(ip), false) = (ev.src_ip, matches!(slot.alert.entity, Entity::Ip(_))) {
            if slot.sources.len() < 8 && !slot.sources.contains(&ip) {
                slot.sources.push(ip);
            }
        }
        if !slot.dirty {
            slot.dirty = true;
            self.dirty.push((rule, key));
        }
    }
}

/// A rule that fires on an event: (rule, words for the explanation, how many events its window
/// counts, event time of the first of them in µs).
type Fire = (Rule, String, u64, i64);

fn alert_key(rule: Rule, key: u128) -> u128 {
    key.rotate_left(8) ^ rule as u128
}

/// The latest failures against one user or network, for distributed detection.
#[derive(Default)]
struct Dist {
    /// (ts, ip key), oldest first, at most `failures` of them
    win: VecDeque<(i64, u128)>,
    /// At least the number of distinct sources in `win`: the last exact count, plus one for
    /// every failure since from another address than the one before it. While it is below the
    /// rule's `sources` the window cannot fire, so a single address hammering one account
    /// (the usual case) never pays for a count.
    most: u32,
}

impl Dist {
    /// Record a failure; true when the window (the failures at or after `horizon`, and after
    /// `start()`, the end of the entity's previous alert, looked up only when needed) holds
    /// ≥ `failures` failures from ≥ `sources` distinct addresses.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        now: i64,
        ip: u128,
        count: u32,
        failures: u32,
        sources: u32,
        horizon: i64,
        start: impl FnOnce() -> i64,
    ) -> bool {
        let dist = &mut self.win;
        let cap = failures as usize;
        if dist.back().map(|d| d.1) != Some(ip) {
            self.most = self.most.saturating_add(1);
        }
        push_capped(dist, (now, ip), count, cap);
        if dist.len() < cap || dist[0].0 < horizon || self.most < sources {
            return false;
        }
        // distinct sources, on the stack for the usual small thresholds
        let mut stack = [0u128; 16];
        let mut heap = vec![];
        let seen: &mut [u128] = if sources as usize <= stack.len() {
            &mut stack
        } else {
            heap.resize(sources as usize, 0);
            &mut heap
        };
        let mut n = 0;
        for (_, ip) in dist.iter() {
            if !seen[..n].contains(ip) {
                seen[n] = *ip;
                n += 1;
                if n >= sources as usize {
                    // enough sources (how many more is not counted: no bound below `most`);
                    // the window may still reach back into a closed alert
                    return dist[0].0 >= start();
                }
            }
        }
        self.most = n as u32;
        false
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `Dist::push` skips counting while its bound says the window cannot fire: it must answer
    /// as a count of the whole window every time would, over runs of one address, a few taking
    /// turns, and many, with `count` > 1 and a horizon that moves.
    #[test]
    fn a_window_skips_the_count_only_when_it_cannot_fire() {
        let mut seed = 11u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let (mut fired, mut skipped) = (0, 0);
        for case in 0..300 {
            let failures = 3 + (next() % 20) as u32;
            let sources = 1 + (next() % 6) as u32 + if case % 10 == 0 { 20 } else { 0 };
            let pool = 1 + next() % [1, 3, 8, 40][case % 4];
            let mut d = Dist::default();
            let mut all: Vec<(i64, u128)> = vec![];
            let mut ip = 0u128;
            for t in 0..200i64 {
                // runs: keep the address most of the time, switch now and then
                if next() % 4 == 0 {
                    ip = (next() % pool) as u128;
                }
                let count = if next() % 8 == 0 {
                    1 + (next() % 4) as u32
                } else {
                    1
                };
                let horizon = t - 30;
                let got = d.push(t, ip, count, failures, sources, horizon, || i64::MIN);
                for _ in 0..count.min(failures) {
                    all.push((t, ip));
                }
                let win = &all[all.len().saturating_sub(failures as usize)..];
                let mut distinct: Vec<u128> = win.iter().map(|w| w.1).collect();
                distinct.sort_unstable();
                distinct.dedup();
                let want = win.len() == failures as usize
                    && win[0].0 >= horizon
                    && distinct.len() >= sources as usize;
                assert_eq!(
                    got, want,
                    "case {case} t {t}: {failures} failures, {sources} sources"
                );
                assert!(d.most as usize >= distinct.len(), "the bound is a bound");
                fired += want as u32;
                skipped += (win.len() == failures as usize && d.most < sources) as u32;
            }
        }
        assert!(
            fired > 500 && skipped > 500,
            "fired {fired}, skipped {skipped}"
        );
    }
}
