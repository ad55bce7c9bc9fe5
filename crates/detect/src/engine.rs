//! The rules detector: per-entity state (an address's, a user's, a network's), the alerts
//! being grown, and the dispatch of each event to the rules keyed on its entities.
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

use crate::rules::{self, Explain, Fire, List, Names, On, Rule, RulesConfig, SECOND};
use crate::shard::{self, ip_key, net_key, user_key};
use crate::state::{Aged, Bounded, Ring};
use crate::{roles_of, DetectConfig, DetectStats, Output, Roles};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use tripline_event::net::{subnet_of, Cidr};
use tripline_event::{Alert, AuthKind, Entity, Event, Kind, Line, StateRecord, Text, Timestamp};

/// An address's state: its attempts window, and each of its rules' own.
#[derive(Default)]
pub struct IpState {
    last: i64,
    /// The rules that fired on it (bit per rule), while it is remembered.
    fired: u32,
    /// Its latest attempts (read by brute force, slow brute force and compromise).
    pub fails: Ring,
    /// The users its latest attempts tried, each with its latest try (µs) and a hash of the
    /// name, at most [`RECENT_USERS`]: named by an alert its attempts open.
    /// One held inline: most addresses try one user (a flood's 100,000 tracked addresses then
    /// allocate nothing for it).
    recent_users: smallvec::SmallVec<[(i64, u64, Text); 1]>,
    pub bruteforce: rules::ssh_bruteforce::State,
    pub spray: rules::ssh_spray::Tried,
    pub enumeration: rules::ssh_enumeration::Invalid,
    pub scan: rules::ssh_scan::Noise,
    pub honeypot: rules::honeypot::Session,
    /// A user logged in successfully from it (while it is remembered).
    logged_in: bool,
}

impl Aged for IpState {
    fn last(&self) -> i64 {
        self.last
    }
}

/// A user's state: their login history and each of their rules' own.
#[derive(Default)]
pub struct UserState {
    last: i64,
    fired: u32,
    pub login: rules::ssh_new_source_login::History,
    pub sudo: rules::priv_sudo::Failures,
    pub su: rules::priv_su_failures::Failures,
    /// Failures against them, for distributed attacks.
    pub dist: rules::ssh_distributed::Dist,
}

impl Aged for UserState {
    fn last(&self) -> i64 {
        self.last
    }
}

/// A network's state.
#[derive(Default)]
pub struct NetState {
    last: i64,
    fired: u32,
    pub dist: rules::ssh_distributed::Dist,
}

impl Aged for NetState {
    fn last(&self) -> i64 {
        self.last
    }
}

/// When each kind of state expires: idle longer than the longest window of the rules keyed on
/// it (event time), it can no longer make any rule fire.
#[derive(Debug, Clone, Copy)]
struct Ttl {
    ip: i64,
    user: i64,
    net: i64,
    alert: i64,
}

impl Ttl {
    fn new(cfg: &DetectConfig) -> Ttl {
        let longest = |keys: u8| {
            Rule::ALL
                .iter()
                .filter(|r| r.keys().has(keys))
                .map(|r| r.config(&cfg.rules).window_seconds())
                .max()
                .unwrap_or(0) as i64
                * SECOND
        };
        Ttl {
            ip: longest(Roles::IP),
            user: longest(Roles::USER),
            net: longest(Roles::NET),
            alert: cfg.cooldown_seconds as i64 * SECOND,
        }
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
pub struct Prior<'a> {
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
    pub fn last(&self, rule: Rule) -> Option<i64> {
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
    pub fn open(&self, rule: Rule) -> bool {
        let akey = alert_key(rule, self.key);
        self.alerts.get(&akey).is_some_and(|a| {
            !a.alert.rule.is_empty() && self.now - a.alert.last_seen.0 <= self.cooldown
        })
    }

    /// Where the window of `rule` starts: `window` seconds before `now`; but once the previous
    /// alert of that rule has closed, after it, so that no event is counted by two alerts.
    /// While the alert is open its window is not cut: it grows as long as the rule holds.
    #[inline]
    pub fn start(&self, rule: Rule, window: u64) -> i64 {
        let horizon = self.now.saturating_sub(window as i64 * SECOND);
        match self.last(rule) {
            Some(p) if self.now - p > self.cooldown => horizon.max(p.saturating_add(1)),
            _ => horizon,
        }
    }
}

/// A user's successful login from a network ([`login_key`]): when, µs.
#[derive(Default)]
struct Login(i64);

impl Aged for Login {
    fn last(&self) -> i64 {
        self.0
    }
}

/// The key of (user, the network of `ip`) among logins.
fn login_key(user: &str, ip: IpAddr) -> u128 {
    user_key(user) ^ tripline_event::net::subnet_key(ip).rotate_left(61)
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
    /// Hashes of the distinct users beyond `users` (at most [`MAX_MORE_USERS`]).
    more_users: Vec<u32>,
    sources: Vec<IpAddr>,
    /// The techniques its hits showed, when they say ([`Fire::techniques`]); else the rule's.
    techniques: Vec<&'static str>,
    /// Alerts of rules this one outranks that were open when it opened (rule id, alert id):
    /// the same story, told first by a less specific rule ([`rules::RuleDef::OUTRANKS`]).
    folds: Vec<(Text, Text)>,
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
        if !self.techniques.is_empty() {
            a.techniques = tripline_event::Techniques::Owned(self.techniques.clone());
        }
        let x = Explain {
            alert: &a,
            who: a.entity.view().value,
            users: Names {
                names: &self.users,
                more: self.more_users.len(),
                capped: self.more_users.len() >= MAX_MORE_USERS,
            },
            sources: List(&self.sources),
            detail: &self.detail,
        };
        a.explanation = rule.explain(&x, cfg);
        a.score = rule.info().score(a.count);
        if !self.folds.is_empty() {
            a.explanation.push_str("; it folds in ");
            for (i, (r, id)) in self.folds.iter().enumerate() {
                if i > 0 {
                    a.explanation.push_str(", ");
                }
                a.explanation.push_str(&format!("{r} {id}"));
            }
            a.explanation.push_str(" (the same attempts)");
            let v = self
                .folds
                .iter()
                .map(|(r, id)| serde_json::json!({"rule": r.as_str(), "id": id.as_str()}))
                .collect();
            a.detail = Some(Box::new(tripline_event::Detail {
                key: Text::const_new(FOLDS),
                value: serde_json::Value::Array(v),
            }));
        }
        a
    }

    /// Take back the `folds` of a stored alert's detail.
    fn read_folds(&mut self) {
        let Some(d) = self.alert.detail.as_deref().filter(|d| d.key == FOLDS) else {
            return;
        };
        for f in d.value.as_array().into_iter().flatten() {
            if let (Some(r), Some(id)) = (f["rule"].as_str(), f["id"].as_str()) {
                if self.folds.len() < MAX_FOLDS {
                    self.folds.push((r.into(), id.into()));
                }
            }
        }
    }
}

/// Most users an address remembers from its latest attempts.
const RECENT_USERS: usize = 8;

impl IpState {
    /// Remember that its attempt at `now` tried `user`.
    fn tried(&mut self, user: &str, now: i64) {
        let h = name_hash(user);
        let r = &mut self.recent_users;
        if let Some(u) = r.iter_mut().find(|u| u.1 == h && u.2 == user) {
            u.0 = u.0.max(now);
        } else if r.len() < RECENT_USERS {
            r.push((now, h, user.into()));
        } else if let Some(oldest) = r.iter_mut().min_by_key(|u| u.0) {
            *oldest = (now, h, user.into());
        }
    }

    /// How many users its attempts since `from` (µs) tried (at most [`RECENT_USERS`]).
    pub fn users_since(&self, from: i64) -> usize {
        self.recent_users.iter().filter(|u| u.0 >= from).count()
    }

    /// A user logged in successfully from it.
    pub fn logged_in(&self) -> bool {
        self.logged_in
    }

    /// Its attempts since `from` (µs) tried a user other than `user`.
    pub fn tried_others(&self, user: &str, from: i64) -> bool {
        self.recent_users.iter().any(|u| u.0 >= from && u.2 != user)
    }

    /// The users its attempts since `from` (µs) tried, oldest first.
    fn tried_since(&self, from: i64) -> Vec<Text> {
        let mut v: Vec<&(i64, u64, Text)> =
            self.recent_users.iter().filter(|u| u.0 >= from).collect();
        v.sort_by_key(|u| u.0);
        v.into_iter().map(|u| u.2.clone()).collect()
    }
}

/// A quick hash of a name (to compare before the names themselves).
#[inline]
fn name_hash(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// The rules that fired on an entity's state (bit per rule): only their alerts may be open, so
/// only they are looked up when a rule they outrank fires.
trait Fired {
    fn fired(&mut self) -> &mut u32;
}

macro_rules! fired {
    ($($t:ty),*) => {$(
        impl Fired for $t {
            fn fired(&mut self) -> &mut u32 {
                &mut self.fired
            }
        }
    )*};
}
fired!(IpState, UserState, NetState);

/// Most users an alert counts beyond the ones it names.
const MAX_MORE_USERS: usize = 64;
/// Most alerts one alert names as folded in.
const MAX_FOLDS: usize = 8;
/// The detail key of the alerts an alert folds in.
const FOLDS: &str = "folds";

/// Which rules outrank which ([`rules::RuleDef::OUTRANKS`], made transitive): bit `w` of
/// `above[r]` says `w` outranks `r`, bit `l` of `below[r]` that `r` outranks `l`.
struct Ranks {
    above: Vec<u32>,
    below: Vec<u32>,
}

impl Ranks {
    fn new() -> Ranks {
        let n = Rule::ALL.len();
        let mut below: Vec<u32> = Rule::ALL
            .iter()
            .map(|w| w.outranks().iter().fold(0, |m, l| m | 1 << *l as u32))
            .collect();
        // what a rule outranks, it outranks with all they outrank
        for _ in 0..n {
            for r in 0..n {
                let mut m = below[r];
                for l in 0..n {
                    if below[r] & 1 << l != 0 {
                        m |= below[l];
                    }
                }
                below[r] = m;
            }
        }
        let above = (0..n)
            .map(|l| {
                (0..n).fold(0, |m, w| {
                    if below[w] & 1 << l != 0 {
                        m | 1 << w
                    } else {
                        m
                    }
                })
            })
            .collect();
        Ranks { above, below }
    }

    /// How specific a rule is: how many rules it outranks.
    fn rank(&self, r: Rule) -> u32 {
        self.below[r as usize].count_ones()
    }
}

/// One attacker, one story ([`rules::RuleDef::OUTRANKS`]): a rule that fires beside a rule
/// that outranks it gives way to it; one that fires while such a rule's alert is open grows
/// that alert instead. Either way the story is at least as severe as the hit it took over.
#[inline]
fn fold(fire: &mut Vec<Fire>, prior: &Prior<'_>, ranks: &Ranks, cfg: &RulesConfig, fired: u32) {
    let mut i = 0;
    while i < fire.len() {
        let above = ranks.above[fire[i].rule as usize];
        if above == 0 || !fire[i].foldable {
            i += 1;
            continue;
        }
        let sev = |f: &Fire| f.severity.unwrap_or_else(|| f.rule.severity(cfg));
        // the most specific one firing now, else the most specific one open
        let firing = fire
            .iter()
            .enumerate()
            .filter(|(_, f)| above & (1 << f.rule as u32) != 0)
            .max_by_key(|(_, f)| ranks.rank(f.rule))
            .map(|(j, _)| j);
        if let Some(j) = firing {
            let s = sev(&fire[i]).max(sev(&fire[j]));
            fire[j].severity = Some(s);
            fire.remove(i);
            continue;
        }
        let may = above & fired;
        let open = if may == 0 {
            None
        } else {
            Rule::ALL
                .iter()
                .copied()
                .filter(|w| may & (1 << *w as u32) != 0 && prior.open(*w))
                .max_by_key(|w| ranks.rank(*w))
        };
        if let Some(w) = open {
            let f = &mut fire[i];
            f.severity = Some(sev(f).max(w.severity(cfg)));
            f.rule = w;
            f.detail.clear();
        }
        i += 1;
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
            more_users: vec![],
            sources: vec![],
            techniques: vec![],
            folds: vec![],
            detail: String::new(),
            dirty: false,
        }
    }
}

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
    /// Successful logins by (user, network) ([`login_key`]), for the addresses this shard owns
    /// and every one the store remembers: whether failures before a login look like a typo.
    /// Never expire; the least recent go when full.
    logins: Bounded<Login>,
    /// Addresses seen on a honeypot ([`rules::honeypot::Seen`]), for `honeypot.returned`.
    seen: Bounded<rules::honeypot::Seen>,
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
    /// How many attempts an address's window keeps ([`ring_cap`]), worked out once.
    ring_cap: usize,
    /// Which rules outrank which.
    ranks: Ranks,
    /// The latest event time seen, and when state was last swept for expiry (event time, and
    /// events processed then).
    clock: i64,
    swept: [(i64, u64); 4],
    pub stats: DetectStats,
}

/// Run rules on one entity of an event: its state in `$map` (made or found by `$key`), a view
/// of it for the rules (`$on`, in `$body`), then open or grow the alerts they fired on the
/// entity (`$entity` makes it, only for a new alert). A macro, not a method: the rules borrow
/// the entity's state, the alerts and the settings, disjoint fields of the detector, at once.
macro_rules! on_entity {
    ($self:ident, $map:ident, $ev:expr, $key:expr, $entity:expr, |$on:ident| $body:block) => {{
        let (ev, key, now) = ($ev, $key, $ev.ts.0);
        let prior = Prior::new(&$self.alerts, &$self.ended, &$self.cfg, key, now);
        let st = $self.$map.entry(key, &mut $self.stats.evictions);
        st.last = st.last.max(now);
        let mut fire = std::mem::take(&mut $self.fire);
        #[allow(unused_mut)]
        let mut $on = On {
            ev,
            now,
            st: &mut *st,
            prior: &prior,
            cfg: &$self.cfg,
            fire: &mut fire,
            out: &mut $self.out,
            warming: $self.warming,
            known_login: false,
        };
        $body
        if !fire.is_empty() {
            let fired = Fired::fired(st);
            fold(&mut fire, &prior, &$self.ranks, &$self.cfg.rules, *fired);
            *fired |= fire.iter().fold(0, |m, f| m | 1 << f.rule as u32);
        }
        for f in fire.drain(..) {
            $self.hit(f, key, $entity, ev);
        }
        $self.fire = fire;
    }};
}

/// How many attempts an address's window keeps: what the rules reading it need.
fn ring_cap(cfg: &DetectConfig) -> usize {
    let r = &cfg.rules;
    [
        r.ssh_bruteforce.threshold,
        r.ssh_bruteforce_slow.threshold,
        r.ssh_compromise
            .threshold
            .max(r.ssh_compromise.typo_max_failures + 1),
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
            logins: Bounded::new(per_shard),
            seen: Bounded::new(per_shard),
            dirty: vec![],
            to_compact: vec![],
            out: vec![],
            fire: vec![],
            report_closed: false,
            warming: false,
            ttl: Ttl::new(&cfg),
            ring_cap: ring_cap(&cfg),
            ranks: Ranks::new(),
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

    /// Take back a state record stored by an earlier run ([`Output::State`]): the rule that
    /// made it reads it. Records of other owners, or that do not read back, are ignored.
    pub fn restore_state(&mut self, r: &StateRecord) {
        if let Some((user, ip, ts)) = rules::ssh_new_source_login::read(r) {
            self.learn_source(user, ip, ts);
            self.learn_login(user, ip, ts.0);
        }
        if let Some((ip, seen)) = rules::honeypot::Seen::read(r) {
            if shard::owner(shard::ip_owner_key(ip), self.shards) == self.shard {
                let mut evictions = 0;
                let s = self.seen.entry(ip_key(ip), &mut evictions);
                if s.first == 0 || seen.first < s.first {
                    s.first = seen.first;
                }
                s.last = s.last.max(seen.last);
                self.stats.evictions += evictions;
            }
        }
    }

    /// Teach a (user, network) pair known from earlier runs.
    pub fn learn_source(&mut self, user: &str, ip_or_subnet: IpAddr, first_seen: Timestamp) {
        let key = user_key(user);
        if shard::owner(key, self.shards) != self.shard {
            return;
        }
        let st = self.users.entry(key, &mut self.stats.evictions);
        st.login.learn(ip_or_subnet, first_seen.0);
        st.last = st.last.max(first_seen.0);
    }

    /// Remember that `user` logged in successfully from `ip`'s network at `ts` (µs).
    fn learn_login(&mut self, user: &str, ip: IpAddr, ts: i64) {
        let mut evictions = 0;
        let l = self.logins.entry(login_key(user, ip), &mut evictions);
        l.0 = l.0.max(ts);
        self.stats.evictions += evictions;
    }

    /// Continue an alert stored by an earlier run, so a restart grows it instead of opening a
    /// duplicate. Ignored when this shard does not own its entity.
    pub fn restore_alert(&mut self, alert: Alert) {
        // only this detector's rules (an anomaly alert is one per window, never grown)
        let Some(rule) = Rule::ALL
            .iter()
            .copied()
            .find(|r| alert.rule == r.info().id)
        else {
            return;
        };
        // the alert's key, and the key its owner is found by (an address's is its network's)
        let (key, owner_key) = match &alert.entity {
            Entity::Ip(ip) => (ip_key(*ip), shard::ip_owner_key(*ip)),
            Entity::User(u) => (user_key(u), user_key(u)),
            Entity::Subnet(s) => match s.split('/').next().and_then(|a| a.parse::<IpAddr>().ok()) {
                Some(ip) => (net_key(ip), net_key(ip)),
                None => return,
            },
            // the rules raise alerts on addresses, users and networks only
            _ => return,
        };
        if shard::owner(owner_key, self.shards) != self.shard {
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
        slot.folds.clear();
        slot.read_folds();
        slot.techniques.clear();
        if rule.info().techniques != &*slot.alert.techniques {
            // a stored alert that carried only what its hits showed goes on doing so
            slot.techniques = slot.alert.techniques.to_vec();
        }
        slot.dirty = false;
        // the rule fired on the entity: a rule it outranks looks for its open alert
        // (and the entity is as recent as its alert, so it is not swept at once)
        let (bit, last) = (1 << rule as u32, slot.alert.last_seen.0);
        let mut evictions = 0;
        let (fired, seen) = match slot.alert.entity {
            Entity::Ip(_) => {
                let st = self.ips.entry(key, &mut evictions);
                (&mut st.fired, &mut st.last)
            }
            Entity::User(_) => {
                let st = self.users.entry(key, &mut evictions);
                (&mut st.fired, &mut st.last)
            }
            _ => {
                let st = self.nets.entry(key, &mut evictions);
                (&mut st.fired, &mut st.last)
            }
        };
        *fired |= bit;
        *seen = (*seen).max(last);
        self.stats.evictions += evictions;
    }

    /// Run every rule this shard owns on one event.
    pub fn process(&mut self, ev: &Event) {
        self.process_as(ev, roles_of(ev, self.shards, self.shard, Rules::KEYS));
    }

    /// Run the rule families in `roles` on one event: the router computed them once with
    /// [`owners`](crate::owners) (each shard need not hash every event again).
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
            n += self.users.expire(now, t.user, |u| u.login.keeps());
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

    /// The rules keyed on the event's address, in order.
    fn ip_rules(&mut self, ev: &Event) {
        let Some(ip) = ev.src_ip else { return };
        let cap = self.ring_cap;
        let success = matches!(ev.kind, Kind::Auth(AuthKind::Success { .. }));
        let known_login = success
            && ev
                .user
                .as_deref()
                .is_some_and(|u| self.logins.map.contains_key(&login_key(u, ip)));
        // an address seen on a honeypot is remembered; its returns are looked up
        let mut seen = None;
        if matches!(ev.kind, Kind::Honeypot(_)) {
            let s = self.seen.entry(ip_key(ip), &mut self.stats.evictions);
            if let Some(r) = s.contact(ip, ev.ts.0) {
                if !self.warming {
                    self.out.push(Output::State(r));
                }
            }
        } else if <rules::honeypot::Returned as rules::RuleDef>::counts(ev) {
            seen = self.seen.map.get(&ip_key(ip)).copied();
        }
        // a login that is a compromise does not make its network known for the user
        let compromise;
        on_entity!(self, ips, ev, ip_key(ip), || Entity::Ip(ip), |on| {
            on.known_login = known_login;
            if let Some(s) = seen {
                rules::honeypot::on_returned(&mut on, s);
            }
            on.st.logged_in |= success;
            if rules::attempt(ev) {
                on.st.fails.push(on.now, ev.count, cap);
                if let Some(u) = ev.user.as_deref() {
                    on.st.tried(u, on.now);
                }
                rules::ssh_bruteforce::on_attempt(&mut on);
                rules::ssh_spray::on_attempt(&mut on);
                rules::ssh_enumeration::on_attempt(&mut on);
            }
            rules::ssh_scan::on_ip(&mut on);
            rules::ssh_refused::on_ip(&mut on);
            rules::ssh_compromise::on_ip(&mut on);
            rules::honeypot::on_ip(&mut on);
            compromise = on
                .fire
                .iter()
                .any(|f| f.rule == Rule::SshCompromise && f.severity.is_none());
        });
        if let (true, false, Some(u)) = (success, compromise, ev.user.as_deref()) {
            self.learn_login(u, ip, ev.ts.0);
        }
    }

    /// The rules keyed on the event's user, in order.
    fn user_rules(&mut self, ev: &Event) {
        let Some(user) = ev.user.as_deref() else {
            return;
        };
        on_entity!(
            self,
            users,
            ev,
            user_key(user),
            || Entity::User(user.into()),
            |on| {
                rules::ssh_new_source_login::on_user(&mut on);
                rules::priv_sudo::on_user(&mut on);
                rules::priv_su_failures::on_user(&mut on);
                rules::priv_after_login::on_user(&mut on);
                rules::account_change::on_user(&mut on);
                rules::ssh_distributed::on_user(&mut on);
            }
        );
    }

    /// The rules keyed on the event's network. A network's state is made only for the events
    /// its rules count: most events leave none.
    fn net_rules(&mut self, ev: &Event) {
        let Some(ip) = ev.src_ip else { return };
        if !rules::ssh_distributed::counts_network(ev, &self.cfg.rules.ssh_distributed) {
            return;
        }
        on_entity!(
            self,
            nets,
            ev,
            net_key(ip),
            || Entity::Subnet(subnet_of(ip)),
            |on| {
                rules::ssh_distributed::on_net(&mut on);
            }
        );
    }

    /// Open or grow the alert for (rule, entity). The fire's count is how many events made it
    /// fire (the window's content) and `first` when the first of them happened; both are used
    /// when the alert is new, as is `entity` (made only then: most hits grow an open alert).
    fn hit(&mut self, f: Fire, key: u128, entity: impl FnOnce() -> Entity, ev: &Event) {
        if self.warming {
            return;
        }
        let Fire {
            rule,
            detail,
            n: opening_count,
            first,
            severity,
            techniques,
            foldable: _,
        } = f;
        let info = rule.info();
        let severity = severity.unwrap_or_else(|| rule.severity(&self.cfg.rules));
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
            // an address's alert opened by an attempt names the users of the attempts before
            // it (looked up only now: most hits grow an open alert)
            let users = match (&entity, rules::attempt(ev)) {
                (Entity::Ip(_), true) => self
                    .ips
                    .map
                    .get(&key)
                    .map_or_else(Vec::new, |st| st.tried_since(first)),
                _ => Vec::new(),
            };
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
                users,
                ..OpenAlert::default()
            };
            self.stats.alerts_opened += 1;
        } else {
            self.stats.alerts_updated += 1;
            if !detail.is_empty() {
                slot.detail = detail;
            }
            // an alert is as severe as its worst hit
            slot.alert.severity = slot.alert.severity.max(severity);
        }
        for t in techniques {
            if !slot.techniques.contains(t) {
                slot.techniques.push(t);
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
            if !slot.users.iter().any(|x| &**x == u) {
                if slot.users.len() < 8 {
                    slot.users.push(u.into());
                } else if slot.more_users.len() < MAX_MORE_USERS {
                    // beyond the names kept, counted (a hash collision undercounts by one)
                    let h = name_hash(u) as u32;
                    if !slot.more_users.contains(&h) {
                        slot.more_users.push(h);
                    }
                }
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
        if fresh && self.ranks.below[rule as usize] != 0 {
            self.fold_in(rule, key, ev.ts.0);
        }
    }

    /// Name in the alert of (`rule`, `key`), just opened at `now`, the alerts of the rules it
    /// outranks open until now: the same story, told first by a less specific rule.
    fn fold_in(&mut self, rule: Rule, key: u128, now: i64) {
        let cooldown = self.cfg.cooldown_seconds as i64 * SECOND;
        let below = self.ranks.below[rule as usize];
        let open: Vec<(Text, Text)> = Rule::ALL
            .iter()
            .filter(|l| below & 1 << **l as u32 != 0)
            .filter_map(|&l| {
                let o = self.alerts.map.get(&alert_key(l, key))?;
                (!o.alert.rule.is_empty() && now - o.alert.last_seen.0 <= cooldown)
                    .then(|| (Text::const_new(l.info().id), o.alert.id.clone()))
            })
            .take(MAX_FOLDS)
            .collect();
        if let Some(slot) = self.alerts.map.get_mut(&alert_key(rule, key)) {
            slot.folds = open;
        }
    }
}

fn alert_key(rule: Rule, key: u128) -> u128 {
    key.rotate_left(8) ^ rule as u128
}
