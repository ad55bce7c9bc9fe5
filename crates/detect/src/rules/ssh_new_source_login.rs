//! `ssh.new_source_login`: a login for a user from a network (/24, /64) never seen for them,
//! once their learning period has passed (T1078). It keeps each user's login history (first
//! login, networks seen, the latest login from a new one), which `priv.after_login` reads, and
//! hands every new (user, network) pair to the store so that a restart remembers it.

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::{simple, SimpleRule};
use crate::engine::UserState;
use crate::{Output, Roles};
use std::net::IpAddr;
use tripline_event::net::{subnet_key, subnet_of};
use tripline_event::{AuthKind, Event, Keep, Kind, Severity, StateRecord, Text, Timestamp};

/// `ssh.new_source_login`.
pub struct NewSourceLogin;

impl RuleDef for NewSourceLogin {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.new_source_login",
        techniques: &["T1078"],
        summary: "a login from a network never seen for this user",
        base_score: 0.5,
    };
    const KEYS: u8 = Roles::USER;
    type Config = SimpleRule;
    const DEFAULT: SimpleRule = simple(Severity::Medium);

    fn explain(x: &Explain<'_>, _: &SimpleRule) -> String {
        format!("{} logged in from {}: {}", x.who, x.sources, x.detail)
    }

    fn counts(ev: &Event) -> bool {
        ev.src_ip.is_some()
            && ev.user.is_some()
            && matches!(ev.kind, Kind::Auth(AuthKind::Success { .. }))
    }
}

/// Most networks remembered per user (the oldest is forgotten first).
const MAX_KNOWN: usize = 256;

/// A user's login history.
#[derive(Default)]
pub struct History {
    /// Their first login (µs).
    first_login: Option<i64>,
    /// The networks they logged in from (subnet keys, and the first login from each, µs), the
    /// most recently used last.
    known: Vec<(u128, i64)>,
    /// Their latest login from a network new for them, after the learning period.
    pub new_source_login: Option<(i64, IpAddr)>,
}

impl History {
    /// Remember a network (an address in it) they logged in from at `first_seen` (µs): the
    /// store's first-seen table, read back at start.
    pub fn learn(&mut self, ip_or_subnet: IpAddr, first_seen: i64) {
        let net = subnet_key(ip_or_subnet);
        if !self.known.iter().any(|k| k.0 == net) && self.known.len() < MAX_KNOWN {
            self.known.push((net, first_seen));
        }
        self.first_login = Some(self.first_login.map_or(first_seen, |f| f.min(first_seen)));
    }

    /// Worth keeping when the user's windows are idle: it outlives them.
    pub fn keeps(&self) -> bool {
        !self.known.is_empty() || self.first_login.is_some()
    }
}

/// The record that keeps "`user` first logged in from `ip`'s network at `ts`" across restarts:
/// keyed by the network and the user (a network has no space in it), the first one kept.
pub fn record(user: &str, ip: IpAddr, ts: Timestamp) -> StateRecord {
    StateRecord {
        owner: Text::const_new(NewSourceLogin::INFO.id),
        key: format!("{} {user}", subnet_of(ip)),
        value: String::new(),
        ts,
        keep: Keep::First,
    }
}

/// A [`record`] read back: the user, an address of the network, when; None for another owner's
/// record or one that does not read back.
pub fn read(r: &StateRecord) -> Option<(&str, IpAddr, Timestamp)> {
    if r.owner != NewSourceLogin::INFO.id {
        return None;
    }
    let (subnet, user) = r.key.split_once(' ')?;
    let ip = subnet.split('/').next()?.parse().ok()?;
    Some((user, ip, r.ts))
}

#[inline]
pub fn on_user(on: &mut On<'_, UserState>) {
    let ev = on.ev;
    if !NewSourceLogin::counts(ev) {
        return;
    }
    let (Some(ip), Some(user)) = (ev.src_ip, ev.user.as_deref()) else {
        return;
    };
    let now = on.now;
    let learning = on.cfg.learning_period_seconds as i64 * SECOND;
    let h = &mut on.st.login;
    let first = *h.first_login.get_or_insert(now);
    let net = subnet_key(ip);
    if let Some(i) = h.known.iter().position(|k| k.0 == net) {
        // the very login that taught it (replayed after a restart, its record already
        // stored): it is still the user's latest login from a new network, which
        // `priv.after_login` reads
        if h.known[i].1 == now && now - first > learning {
            h.new_source_login = Some((now, ip));
        }
        // most recently used last: the network forgotten when full is the one unused longest,
        // never one the user logs in from all the time
        if i + 1 < h.known.len() {
            h.known[i..].rotate_left(1);
        }
        return;
    }
    if h.known.len() >= MAX_KNOWN {
        h.known.remove(0);
    }
    h.known.push((net, now));
    if !on.warming {
        on.out.push(Output::State(record(user, ip, ev.ts)));
    }
    if now - first > learning {
        h.new_source_login = Some((now, ip));
        if on.cfg.rules.ssh_new_source_login.enabled {
            on.fire.push(
                Fire::new(Rule::SshNewSourceLogin, 1, now)
                    .detail(format!("first login from {} for this user", subnet_of(ip))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_what_it_keeps_and_others_do_not() {
        let ip: IpAddr = "2001:db8:1:2::9".parse().unwrap();
        let r = record("dev ops", ip, Timestamp(7));
        assert_eq!(r.key, "2001:db8:1:2::/64 dev ops");
        let (user, back, ts) = read(&r).unwrap();
        assert_eq!((user, ts), ("dev ops", Timestamp(7)));
        assert_eq!(subnet_of(back), subnet_of(ip));
        let other = StateRecord {
            owner: "anomaly".into(),
            ..r.clone()
        };
        assert_eq!(read(&other), None);
        let bad = StateRecord {
            key: "nonsense".into(),
            ..r
        };
        assert_eq!(read(&bad), None);
    }
}
