//! Behaviour windows: per entity (a source address, a user), tumbling windows of
//! `feature_window_minutes` of event time, each summed up as one row of [`FEATURES`] when it
//! closes — when the entity's next event falls in a later window, when event time has moved a
//! whole window past it, when the entity is evicted at the cap, or at the end of the input.
//!
//! Privilege use carries no address: a sudo or su by a user who logged in from an address within
//! the window counts for that address's window too, so "logged in from here, then became root"
//! is one window's story. Each user keeps a profile across windows — the hours they log in and
//! the networks they come from — for the hour-of-day and new-source features.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use tripline_event::{AuthKind, HoneypotKind, PrivilegeKind};
use tripline_event::{AuthMethod, Event, Kind, Line, SensorKind, Text, Timestamp};

/// The features of a window, in row order.
pub const FEATURES: [&str; 14] = [
    "events",
    "failures",
    "successes",
    "failure_ratio",
    "distinct_users",
    "auth_methods",
    "interarrival_mean",
    "interarrival_std",
    "hour_deviation",
    "new_source",
    "priv_uses",
    "priv_failures",
    "login_to_priv",
    "commands_after_login",
];

/// What each feature means (same order), for `--help`, the docs and explanations.
pub const MEANINGS: [&str; 14] = [
    "events in the window, ln(1 + n)",
    "failed logins (repeats counted), ln(1 + n)",
    "successful logins, ln(1 + n)",
    "failures / (failures + successes); 0 with neither",
    "distinct user names tried or used, ln(1 + n)",
    "distinct authentication methods (password, publickey, keyboard-interactive, …)",
    "mean seconds between events, ln(1 + s); the window length for a single event",
    "standard deviation of the seconds between events, ln(1 + s)",
    "how rare the login hour is for the user, 0 (their usual hour) to 1 (never before)",
    "how new the network of a successful login is for the user: 1 / (1 + earlier logins from \
     its /24 (/64)), so 1 for a network never seen, ½ the second time; the highest in the window",
    "sudo and su uses, ln(1 + n)",
    "sudo and su failures, ln(1 + n): a wrong password counts 1, a refusal by policy (not in \
     sudoers, command not allowed) 3, as a sudo that used up its tries",
    "1 − (seconds from login to first privilege use / window); 0 without both",
    "commands run after a login (sudo commands, honeypot input), ln(1 + n)",
];

/// What a sudo refused by policy (not in sudoers, command not allowed) counts for in
/// `priv_failures`: as much as a sudo that used up its three password attempts. A typo is
/// common in a normal history; a refusal by policy is not.
const POLICY_REFUSAL: u32 = 3;

/// Features that are ln(1 + count): shown back as counts in explanations.
pub const COUNTED: [bool; 14] = [
    true, true, true, false, true, false, true, true, false, false, true, true, false, true,
];

/// The value of feature `f` as people read it (counts and seconds back from their logarithm).
pub fn readable(f: usize, v: f32) -> f64 {
    if COUNTED[f] {
        (v as f64).exp_m1()
    } else {
        v as f64
    }
}

/// ATT&CK techniques an unusual feature points at, as bits (the bits of
/// [`crate::detector::TECHNIQUES`]): brute force (T1110), valid accounts (T1078), abuse of
/// elevation control (T1548), a Unix shell (T1059.004).
const T1110: u8 = 1;
const T1078: u8 = 2;
const T1548: u8 = 4;
const T1059: u8 = 8;

/// Per feature (same order as [`FEATURES`]), the techniques its oddness points at: failures
/// and their rhythm at brute force, a login at an odd hour or from a new network at valid
/// accounts used by someone else, privilege use at elevation. `events` alone says nothing.
const POINTS_AT: [u8; 14] = [
    0, T1110, T1078, T1110, T1110, T1110, T1110, T1110, T1078, T1078, T1548, T1548, T1548, T1059,
];

/// The techniques an anomaly alert's most unusual features (by column) point at, as bits of
/// [`crate::detector::TECHNIQUES`] (below 16). Columns past [`FEATURES`] point at nothing.
pub fn technique_bits(columns: impl IntoIterator<Item = usize>) -> usize {
    columns
        .into_iter()
        .fold(0u8, |b, c| b | POINTS_AT.get(c).copied().unwrap_or(0)) as usize
}

/// Who a window is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Ip(IpAddr),
    /// The event's own string: a name up to 24 bytes is held inline, so keying a user's
    /// event allocates nothing.
    User(Text),
}

/// Evidence lines a window keeps: the first and the latest.
const EVIDENCE: usize = 5;
/// Distinct user names a window remembers (beyond it they are not counted again).
const MAX_USERS: usize = 64;
/// Networks a user profile remembers.
const MAX_SOURCES: usize = 256;
/// Logins of a user before their hours mean anything.
const MIN_HISTORY: u32 = 5;

#[derive(Debug)]
struct Window {
    start: i64,
    first: i64,
    last: i64,
    events: u32,
    failures: u32,
    successes: u32,
    users: Vec<Box<str>>,
    methods: u8,
    gaps: Welford,
    hour_deviation: f32,
    new_source: f32,
    priv_uses: u32,
    priv_failures: u32,
    login_at: Option<i64>,
    first_priv: Option<i64>,
    commands: u32,
    host: Arc<str>,
    sensor: SensorKind,
    first_lines: Vec<Line>,
    latest: std::collections::VecDeque<Line>,
    /// Some evidence lines are still parts of read buffers ([`Extractor::end_batch`]).
    shared: bool,
}

/// Running mean and variance (Welford).
#[derive(Debug, Default, Clone, Copy)]
struct Welford {
    n: u32,
    mean: f64,
    m2: f64,
}

impl Welford {
    fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / self.n as f64).sqrt()
        }
    }
}

/// A window that closed, with its row.
#[derive(Debug, Clone)]
pub struct ClosedWindow {
    pub key: Key,
    /// Where the window starts and ends (event time).
    pub start: Timestamp,
    pub end: Timestamp,
    /// Its first and last event.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub events: u32,
    pub row: [f32; 14],
    pub host: Arc<str>,
    pub sensor: SensorKind,
    /// Users seen in it (at most a few).
    pub users: Vec<Box<str>>,
    pub evidence: Vec<Arc<str>>,
}

#[derive(Debug, Default)]
struct Profile {
    hours: [u32; 24],
    logins: u32,
    /// Networks the user logged in from, with how many logins each.
    sources: Vec<(u128, u32)>,
}

/// Turns events into closed windows.
pub struct Extractor {
    window: i64,
    max_entities: usize,
    open: HashMap<Key, Window>,
    profiles: HashMap<Box<str>, Profile>,
    /// Each user's latest login: from where, when.
    last_login: HashMap<Box<str>, (IpAddr, i64)>,
    /// The latest event time seen.
    watermark: i64,
    closed: Vec<ClosedWindow>,
    /// Windows whose evidence holds parts of this batch's read buffers.
    to_compact: Vec<Key>,
    /// Windows closed because the entity cap was reached.
    pub evicted: u64,
}

/// A network key for an address: its /24 (IPv4) or /64 (IPv6).
fn network(ip: IpAddr) -> u128 {
    tripline_event::net::subnet_key(ip)
}

fn method_bit(m: AuthMethod) -> u8 {
    1 << (m as u8).min(7)
}

impl Extractor {
    /// Windows of `window_minutes` (at least 1), at most `max_entities` open at once.
    pub fn new(window_minutes: u32, max_entities: usize) -> Extractor {
        Extractor {
            window: window_minutes.max(1) as i64 * 60_000_000,
            max_entities: max_entities.max(16),
            open: HashMap::new(),
            profiles: HashMap::new(),
            last_login: HashMap::new(),
            watermark: i64::MIN,
            closed: vec![],
            to_compact: vec![],
            evicted: 0,
        }
    }

    /// Account for one event.
    pub fn push(&mut self, ev: &Event) {
        let ts = ev.ts.0;
        self.watermark = self.watermark.max(ts);
        let user = ev.user.as_deref();
        let privileged = matches!(
            ev.kind,
            Kind::Privilege(PrivilegeKind::SudoCommand { .. })
                | Kind::Privilege(PrivilegeKind::SudoFailure)
                | Kind::Privilege(PrivilegeKind::SudoNotInSudoers)
                | Kind::Privilege(PrivilegeKind::SudoNotAllowed)
                | Kind::Privilege(PrivilegeKind::SuSuccess { .. })
                | Kind::Privilege(PrivilegeKind::SuFailure { .. })
        );
        // what a login tells the user's profile, measured before it learns from it
        let mut login = None;
        if let (
            Kind::Auth(AuthKind::Success { .. })
            | Kind::Honeypot(HoneypotKind::Login { success: true, .. }),
            Some(u),
        ) = (&ev.kind, user)
        {
            login = Some(self.learn_login(u, ev.src_ip, ts));
        }
        if let Some(ip) = ev.src_ip {
            self.update(Key::Ip(ip), ev, login);
        }
        if let Some(u) = &ev.user {
            self.update(Key::User(u.clone()), ev, login);
            // privilege use counts for the address the user logged in from, too
            if privileged && ev.src_ip.is_none() {
                if let Some(&(ip, at)) = self.last_login.get(u.as_str()) {
                    if ts - at <= self.window {
                        self.update(Key::Ip(ip), ev, None);
                    }
                }
            }
        }
        if self.open.len() > self.max_entities {
            self.evict();
        }
    }

    /// The login's hour deviation and how new its network is; the profile then learns both.
    fn learn_login(&mut self, user: &str, ip: Option<IpAddr>, ts: i64) -> (f32, f32) {
        if let Some(ip) = ip {
            self.last_login.insert(user.into(), (ip, ts));
            if self.last_login.len() > self.max_entities {
                let cutoff = self.watermark - self.window;
                self.last_login.retain(|_, (_, at)| *at >= cutoff);
            }
        }
        if !self.profiles.contains_key(user) && self.profiles.len() >= self.max_entities {
            return (0.0, 0.0); // no room to learn a new user: neutral
        }
        let p = self.profiles.entry(user.into()).or_default();
        let hour = (ts.div_euclid(3_600_000_000)).rem_euclid(24) as usize;
        let deviation = if p.logins >= MIN_HISTORY {
            let top = *p.hours.iter().max().unwrap_or(&1) as f32;
            1.0 - p.hours[hour] as f32 / top.max(1.0)
        } else {
            0.0
        };
        p.hours[hour] += 1;
        p.logins += 1;
        let novelty = match ip {
            Some(ip) => {
                let net = network(ip);
                let seen = match p.sources.iter_mut().find(|(n, _)| *n == net) {
                    Some((_, seen)) => {
                        *seen = seen.saturating_add(1);
                        *seen - 1
                    }
                    None => {
                        if p.sources.len() >= MAX_SOURCES {
                            p.sources.remove(0);
                        }
                        p.sources.push((net, 1));
                        0
                    }
                };
                // the first login ever has nothing to compare with
                if p.logins > 1 {
                    1.0 / (1.0 + seen as f32)
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        (deviation, novelty)
    }

    fn update(&mut self, key: Key, ev: &Event, login: Option<(f32, f32)>) {
        let ts = ev.ts.0;
        let start = ts - ts.rem_euclid(self.window);
        let fresh = |ev: &Event| Window {
            start,
            first: ts,
            last: ts,
            events: 0,
            failures: 0,
            successes: 0,
            users: vec![],
            methods: 0,
            gaps: Welford::default(),
            hour_deviation: 0.0,
            new_source: 0.0,
            priv_uses: 0,
            priv_failures: 0,
            login_at: None,
            first_priv: None,
            commands: 0,
            host: ev.host.clone(),
            sensor: ev.sensor,
            first_lines: vec![],
            latest: Default::default(),
            shared: false,
        };
        let window = self.window;
        // the line kept below is a part of a read buffer: copy it when the batch ends
        let shared = ev.raw.is_shared();
        let w = match self.open.entry(key) {
            Entry::Occupied(mut o) => {
                if start >= o.get().start + window {
                    let old = std::mem::replace(o.get_mut(), fresh(ev));
                    self.closed.push(close(o.key().clone(), old, window));
                }
                if shared && !o.get().shared {
                    self.to_compact.push(o.key().clone());
                }
                o.into_mut()
            }
            Entry::Vacant(v) => {
                if shared {
                    self.to_compact.push(v.key().clone());
                }
                v.insert(fresh(ev))
            }
        };
        w.shared |= shared;
        if w.events > 0 && ts >= w.last {
            w.gaps.add((ts - w.last) as f64 / 1e6);
        }
        w.events += 1;
        w.first = w.first.min(ts);
        w.last = w.last.max(ts);
        let n = ev.count.max(1);
        if let Some(u) = ev.user.as_deref() {
            if w.users.len() < MAX_USERS && !w.users.iter().any(|x| &**x == u) {
                w.users.push(u.into());
            }
        }
        match &ev.kind {
            Kind::Auth(AuthKind::Failure { method, .. }) => {
                w.failures += n;
                w.methods |= method_bit(*method);
            }
            Kind::Auth(AuthKind::Refused) | Kind::Auth(AuthKind::MaxAttempts) => w.failures += n,
            Kind::Honeypot(HoneypotKind::Login { success: false, .. }) => w.failures += n,
            Kind::Auth(AuthKind::Success { method }) => {
                w.successes += 1;
                w.methods |= method_bit(*method);
                w.login_at.get_or_insert(ts);
            }
            Kind::Honeypot(HoneypotKind::Login { success: true, .. }) => {
                w.successes += 1;
                w.login_at.get_or_insert(ts);
            }
            Kind::Privilege(PrivilegeKind::SudoCommand { .. })
            | Kind::Privilege(PrivilegeKind::SuSuccess { .. }) => {
                w.priv_uses += 1;
                if w.login_at.is_some() {
                    w.first_priv.get_or_insert(ts);
                }
                if matches!(ev.kind, Kind::Privilege(PrivilegeKind::SudoCommand { .. }))
                    && w.login_at.is_some()
                {
                    w.commands += 1;
                }
            }
            Kind::Privilege(PrivilegeKind::SudoFailure) => w.priv_failures += n,
            // a refusal by policy weighs as a whole failed sudo: three wrong passwords
            Kind::Privilege(PrivilegeKind::SudoNotInSudoers)
            | Kind::Privilege(PrivilegeKind::SudoNotAllowed) => {
                w.priv_failures += POLICY_REFUSAL * n
            }
            Kind::Privilege(PrivilegeKind::SuFailure { .. }) => w.priv_failures += 1,
            Kind::Honeypot(HoneypotKind::Command { .. }) => w.commands += 1,
            _ => {}
        }
        if let Some((deviation, novelty)) = login {
            w.hour_deviation = w.hour_deviation.max(deviation);
            w.new_source = w.new_source.max(novelty);
        }
        // a copy of its own: a window outlives the read buffer the line is a part of
        if w.first_lines.len() < EVIDENCE {
            w.first_lines.push(ev.raw.clone());
        } else {
            if w.latest.len() == EVIDENCE {
                w.latest.pop_front();
            }
            w.latest.push_back(ev.raw.clone());
        }
    }

    /// Close the tenth of the windows least recently moved.
    fn evict(&mut self) {
        let mut by_age: Vec<(i64, Key)> =
            self.open.iter().map(|(k, w)| (w.last, k.clone())).collect();
        by_age.sort_unstable();
        for (_, k) in by_age.into_iter().take(self.max_entities / 10 + 1) {
            if let Some(w) = self.open.remove(&k) {
                self.evicted += 1;
                self.closed.push(close(k, w, self.window));
            }
        }
    }

    /// Close the windows event time has moved a whole window past.
    pub fn close_idle(&mut self) {
        let horizon = self.watermark.saturating_sub(self.window);
        let idle: Vec<Key> = self
            .open
            .iter()
            .filter(|(_, w)| w.start + self.window <= horizon)
            .map(|(k, _)| k.clone())
            .collect();
        for k in idle {
            if let Some(w) = self.open.remove(&k) {
                self.closed.push(close(k, w, self.window));
            }
        }
    }

    /// Close every window (end of input).
    pub fn finish(&mut self) {
        let all: Vec<Key> = self.open.keys().cloned().collect();
        for k in all {
            if let Some(w) = self.open.remove(&k) {
                self.closed.push(close(k, w, self.window));
            }
        }
    }

    /// The end of a batch: evidence lines taken from its events get buffers of their own, so a
    /// window never keeps a whole read buffer alive for one line. Call it after each batch,
    /// before its events are freed.
    pub fn end_batch(&mut self) {
        for key in self.to_compact.drain(..) {
            if let Some(w) = self.open.get_mut(&key) {
                w.first_lines.iter_mut().for_each(Line::compact);
                w.latest.iter_mut().for_each(Line::compact);
                w.shared = false;
            }
        }
    }

    /// The windows closed so far, oldest first (then by entity: the order never depends on
    /// hashing, so the same input trains the same model), handed over.
    pub fn take_closed(&mut self) -> Vec<ClosedWindow> {
        let mut out = std::mem::take(&mut self.closed);
        out.sort_by(|a, b| (a.start, a.first_seen, &a.key).cmp(&(b.start, b.first_seen, &b.key)));
        out
    }

    /// Windows open now.
    pub fn open_windows(&self) -> usize {
        self.open.len()
    }
}

fn ln1p(n: f64) -> f32 {
    n.ln_1p() as f32
}

fn close(key: Key, w: Window, window: i64) -> ClosedWindow {
    let secs = window as f64 / 1e6;
    let ratio = match w.failures + w.successes {
        0 => 0.0,
        t => w.failures as f32 / t as f32,
    };
    let (mean, std) = if w.gaps.n == 0 {
        (secs, 0.0)
    } else {
        (w.gaps.mean, w.gaps.std())
    };
    let login_to_priv = match (w.login_at, w.first_priv) {
        (Some(l), Some(p)) if p >= l => 1.0 - ((p - l) as f64 / window as f64).min(1.0) as f32,
        _ => 0.0,
    };
    let row = [
        ln1p(w.events as f64),
        ln1p(w.failures as f64),
        ln1p(w.successes as f64),
        ratio,
        ln1p(w.users.len() as f64),
        w.methods.count_ones() as f32,
        ln1p(mean),
        ln1p(std),
        w.hour_deviation,
        w.new_source,
        ln1p(w.priv_uses as f64),
        ln1p(w.priv_failures as f64),
        login_to_priv,
        ln1p(w.commands as f64),
    ];
    let evidence = w
        .first_lines
        .iter()
        .chain(&w.latest)
        .map(Line::own)
        .collect();
    ClosedWindow {
        key,
        start: Timestamp(w.start),
        end: Timestamp(w.start + window),
        first_seen: Timestamp(w.first),
        last_seen: Timestamp(w.last),
        events: w.events,
        row,
        host: w.host,
        sensor: w.sensor,
        users: w.users.into_iter().take(8).collect(),
        evidence,
    }
}

/// The rows of `windows` as a matrix (the forest's input).
pub fn matrix(windows: &[ClosedWindow]) -> crate::Matrix {
    let data = windows.iter().flat_map(|w| w.row).collect();
    crate::Matrix::new(data, FEATURES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn ev(t_min: f64, ip: Option<&str>, user: Option<&str>, kind: Kind) -> Event {
        let ts = Timestamp((t_min * MIN as f64) as i64 + 1_700_000_000_000_000 / MIN * MIN);
        let raw = format!("line at {t_min}").into();
        Event {
            src_ip: ip.map(|i| i.parse().unwrap()),
            user: user.map(Into::into),
            ..Event::new(ts, SensorKind::Files, "h".into(), kind, raw)
        }
    }

    fn fail() -> Kind {
        Kind::Auth(AuthKind::Failure {
            method: AuthMethod::Password,
            invalid_user: false,
        })
    }

    fn ok() -> Kind {
        Kind::Auth(AuthKind::Success {
            method: AuthMethod::Publickey,
        })
    }

    fn col(name: &str) -> usize {
        FEATURES.iter().position(|f| *f == name).unwrap()
    }

    fn of<'a>(w: &'a [ClosedWindow], key: &Key) -> &'a ClosedWindow {
        w.iter().find(|c| &c.key == key).expect("window")
    }

    #[test]
    fn evidence_gets_its_own_copy_at_the_end_of_a_batch_so_no_read_buffer_is_kept() {
        let buf: Arc<str> = "a 1\nb 2\nc 3\n".into();
        let mut x = Extractor::new(10, 100);
        let events: Vec<Event> = buf
            .lines()
            .enumerate()
            .map(|(i, l)| Event {
                raw: Line::part_of(&buf, l).unwrap(),
                ..ev(i as f64, Some("203.0.113.9"), Some("root"), fail())
            })
            .collect();
        for e in &events {
            x.push(e);
        }
        drop(events);
        // both windows (address and user) point into the read buffer until the batch ends
        assert!(Arc::strong_count(&buf) > 1);
        x.end_batch();
        assert_eq!(Arc::strong_count(&buf), 1);
        x.finish();
        let closed = x.take_closed();
        let w = of(&closed, &Key::Ip("203.0.113.9".parse().unwrap()));
        let lines: Vec<&str> = w.evidence.iter().map(|l| &**l).collect();
        assert_eq!(lines, ["a 1", "b 2", "c 3"]);
    }

    #[test]
    fn a_brute_force_window_counts_failures_users_and_pace() {
        let mut x = Extractor::new(10, 1000);
        for i in 0..6 {
            let u = ["root", "admin", "oracle"][i % 3];
            x.push(&ev(i as f64 * 0.1, Some("203.0.113.5"), Some(u), fail()));
        }
        assert!(x.take_closed().is_empty(), "still open");
        // the next window's event closes it
        x.push(&ev(12.0, Some("203.0.113.5"), Some("root"), fail()));
        let c = x.take_closed();
        let w = of(&c, &Key::Ip("203.0.113.5".parse().unwrap()));
        assert_eq!(w.events, 6);
        assert!((readable(col("failures"), w.row[col("failures")]) - 6.0).abs() < 1e-4);
        assert!((readable(col("distinct_users"), w.row[col("distinct_users")]) - 3.0).abs() < 1e-4);
        assert_eq!(w.row[col("failure_ratio")], 1.0);
        assert_eq!(w.row[col("auth_methods")], 1.0);
        // 6 s apart
        assert!(
            (readable(col("interarrival_mean"), w.row[col("interarrival_mean")]) - 6.0).abs()
                < 1e-3
        );
        assert_eq!(w.row[col("interarrival_std")], 0.0);
        assert_eq!(w.evidence.len(), 6);
        assert_eq!(w.end.0 - w.start.0, 10 * MIN);
    }

    #[test]
    fn privilege_after_login_counts_for_the_address_too() {
        let mut x = Extractor::new(10, 1000);
        x.push(&ev(0.0, Some("203.0.113.9"), Some("alice"), ok()));
        let sudo = Kind::Privilege(PrivilegeKind::SudoCommand {
            target: "root".into(),
            command: "/bin/bash".into(),
        });
        x.push(&ev(0.5, None, Some("alice"), sudo));
        x.push(&ev(
            0.6,
            None,
            Some("alice"),
            Kind::Privilege(PrivilegeKind::SudoFailure),
        ));
        x.finish();
        let c = x.take_closed();
        for key in [
            Key::Ip("203.0.113.9".parse().unwrap()),
            Key::User("alice".into()),
        ] {
            let w = of(&c, &key);
            assert!(
                (readable(col("priv_uses"), w.row[col("priv_uses")]) - 1.0).abs() < 1e-4,
                "{key:?}"
            );
            assert!(
                (readable(col("priv_failures"), w.row[col("priv_failures")]) - 1.0).abs() < 1e-4
            );
            // 30 s of a 600 s window after the login
            assert!((w.row[col("login_to_priv")] - 0.95).abs() < 1e-4, "{key:?}");
            assert!(
                (readable(
                    col("commands_after_login"),
                    w.row[col("commands_after_login")]
                ) - 1.0)
                    .abs()
                    < 1e-4
            );
        }
    }

    #[test]
    fn a_login_at_a_new_hour_from_a_new_network_stands_out() {
        let mut x = Extractor::new(10, 1000);
        // six days of logins at the same hour from the office network
        for day in 0..6 {
            let t = day as f64 * 1440.0 + 9.0 * 60.0;
            x.push(&ev(t, Some("198.51.100.20"), Some("bob"), ok()));
        }
        x.push(&ev(
            6.0 * 1440.0 + 9.0 * 60.0 + 1.0,
            Some("198.51.100.21"),
            Some("bob"),
            ok(),
        ));
        x.push(&ev(
            7.0 * 1440.0 + 3.0 * 60.0,
            Some("203.0.113.50"),
            Some("bob"),
            ok(),
        ));
        x.finish();
        let c = x.take_closed();
        let usual = c
            .iter()
            .find(|w| w.key == Key::Ip("198.51.100.21".parse().unwrap()))
            .unwrap();
        // seen from its /24 six times before: 1 / (1 + 6)
        assert_eq!(usual.row[col("new_source")], 1.0 / 7.0, "same /24");
        assert_eq!(usual.row[col("hour_deviation")], 0.0, "the usual hour");
        let odd = of(&c, &Key::Ip("203.0.113.50".parse().unwrap()));
        assert_eq!(odd.row[col("new_source")], 1.0);
        assert_eq!(odd.row[col("hour_deviation")], 1.0);
        // the first login ever is not "new": there is nothing to compare with
        let first = c.iter().find(|w| w.key == Key::User("bob".into())).unwrap();
        assert_eq!(first.row[col("new_source")], 0.0);
    }

    #[test]
    fn a_refusal_by_policy_weighs_as_a_sudo_that_used_up_its_tries() {
        let mut x = Extractor::new(10, 16);
        x.push(&ev(
            0.0,
            None,
            Some("mallory"),
            Kind::Privilege(PrivilegeKind::SudoNotInSudoers),
        ));
        x.push(&ev(
            0.0,
            None,
            Some("bob"),
            Kind::Privilege(PrivilegeKind::SudoFailure),
        ));
        x.finish();
        let c = x.take_closed();
        let failures = |u: &str| {
            let w = of(&c, &Key::User(u.into()));
            readable(col("priv_failures"), w.row[col("priv_failures")])
        };
        assert!((failures("mallory") - 3.0).abs() < 1e-4);
        assert!((failures("bob") - 1.0).abs() < 1e-4);
    }

    #[test]
    fn idle_windows_close_and_the_cap_evicts() {
        let mut x = Extractor::new(10, 16);
        x.push(&ev(0.0, Some("192.0.2.1"), None, fail()));
        x.push(&ev(15.0, Some("192.0.2.2"), None, fail()));
        x.close_idle();
        assert!(x.take_closed().is_empty(), "one window of grace");
        x.push(&ev(25.0, Some("192.0.2.3"), None, fail()));
        x.close_idle();
        let c = x.take_closed();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].key, Key::Ip("192.0.2.1".parse().unwrap()));
        for i in 0..40 {
            x.push(&ev(26.0, Some(&format!("198.18.0.{i}")), None, fail()));
        }
        assert!(x.open_windows() <= 17, "{}", x.open_windows());
        assert!(x.evicted > 0);
        x.finish();
        assert_eq!(x.open_windows(), 0);
        assert!(x.take_closed().len() >= 40);
    }

    #[test]
    fn the_feature_tables_agree() {
        assert_eq!(FEATURES.len(), MEANINGS.len());
        let mut names = FEATURES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FEATURES.len());
    }

    #[test]
    fn unusual_features_name_the_techniques_they_point_at() {
        let col = |name: &str| FEATURES.iter().position(|f| *f == name).unwrap();
        assert_eq!(technique_bits([col("events")]), 0);
        assert_eq!(technique_bits([col("failures"), col("distinct_users")]), 1);
        assert_eq!(
            technique_bits([col("new_source"), col("login_to_priv"), col("failures")]),
            1 | 2 | 4
        );
        assert_eq!(
            technique_bits([col("commands_after_login"), col("hour_deviation")]),
            8 | 2
        );
        assert_eq!(technique_bits([99]), 0);
    }
}
