//! Sharding on entity keys: which shard owns each key of an event, and in which roles a shard
//! sees it.
//!
//! A detector sharded by keys names the key types it keeps state on ([`Roles`], a set of
//! [`KeyType`]s). For every event the router asks [`owners`] which shard owns each key of those
//! types the event has; a shard gets the event once, with the set of types it owns there (its
//! roles), and runs only the part of its detectors keyed on those. A key's owner depends on its
//! type and value alone, so every event about one address reaches the same shard, and so does
//! every event about one user, whichever source they came from.

use rustc_hash::FxHasher;
use std::hash::Hasher;
use std::net::IpAddr;
use tripline_event::net::subnet_key;
use tripline_event::{Event, KeyRef, KeyType};

/// A set of key types: the roles a shard sees an event in, or the keys a detector is sharded
/// on. Bit `t as u8` is [`KeyType`] `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles(pub u8);

impl Roles {
    pub const IP: u8 = KeyType::Ip.bit();
    pub const USER: u8 = KeyType::User.bit();
    pub const NET: u8 = KeyType::Subnet.bit();
    /// Every key type.
    pub const ALL: Roles = Roles(u8::MAX);

    /// The set of these types.
    pub const fn of_types(types: &[KeyType]) -> Roles {
        let mut bits = 0;
        let mut i = 0;
        while i < types.len() {
            bits |= types[i].bit();
            i += 1;
        }
        Roles(bits)
    }

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The types in both sets.
    pub fn and(self, o: Roles) -> Roles {
        Roles(self.0 & o.0)
    }

    /// The types of the set, in order.
    #[inline]
    pub fn types(self) -> impl Iterator<Item = KeyType> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let i = bits.trailing_zeros() as usize;
            bits &= bits.wrapping_sub(1);
            KeyType::ALL.get(i).copied()
        })
    }
}

/// For each key of a type in `keys` that the event has, the shard of `shards` that owns it:
/// `f(shard, the type's bit)`. One shard owns every key when there is one.
#[inline]
pub fn owners(ev: &Event, shards: usize, keys: Roles, mut f: impl FnMut(usize, u8)) {
    // the address, its network and the user first, straight from their fields: every event
    // is routed, and most of them on these alone
    if let Some(ip) = ev.src_ip {
        if keys.has(Roles::IP) {
            // an address's shard is its network's ([`ip_owner_key`])
            f(pick(shards, || ip_owner_key(ip)), Roles::IP);
        }
        if keys.has(Roles::NET) {
            f(pick(shards, || net_key(ip)), Roles::NET);
        }
    }
    if let Some(u) = ev.user.as_deref().filter(|_| keys.has(Roles::USER)) {
        f(pick(shards, || user_key(u)), Roles::USER);
    }
    for t in Roles(keys.0 & !(Roles::IP | Roles::NET | Roles::USER)).types() {
        if let Some(k) = ev.key(t) {
            f(pick(shards, || key_of(t, k)), t.bit());
        }
    }
}

/// The owner of a key among `shards`, hashing it only when there are several.
#[inline(always)]
fn pick(shards: usize, key: impl FnOnce() -> u128) -> usize {
    if shards <= 1 {
        0
    } else {
        owner(key(), shards)
    }
}

/// The roles `shard` of `shards` sees `ev` in, for detectors keyed on `keys`.
pub fn roles_of(ev: &Event, shards: usize, shard: usize, keys: Roles) -> Roles {
    let mut r = Roles(0);
    owners(ev, shards, keys, |s, bit| {
        if s == shard {
            r.0 |= bit
        }
    });
    r
}

/// The shard that owns a key (by [`key_of`]).
#[inline]
pub fn owner(key: u128, shards: usize) -> usize {
    (hash_u128(key) % shards.max(1) as u64) as usize
}

/// A key of type `t` as 128 bits: an address as itself, a network as its prefix, a text as a
/// hash of it and its type (a user's without its type: the value detectors have always keyed
/// users' state on). Keys of different types never meet.
pub fn key_of(t: KeyType, k: KeyRef<'_>) -> u128 {
    match (t, k) {
        (KeyType::Subnet, KeyRef::Ip(ip)) => net_key(ip),
        (_, KeyRef::Ip(ip)) => ip_key(ip),
        (KeyType::User, KeyRef::Text(s)) => user_key(s),
        (t, KeyRef::Text(s)) => text_key(t, s),
    }
}

pub(crate) fn hash_u128(k: u128) -> u64 {
    let mut h = FxHasher::default();
    h.write_u128(k);
    // mix: FxHash's low bits are weak for modulo
    let x = h.finish();
    x ^ (x >> 29)
}

/// The key whose owner owns an address: its network's. Every address of a network (/24, /64)
/// is then on one shard with the network's own state, so what one address of it did (a user's
/// login) is known when another one of it acts.
pub(crate) fn ip_owner_key(ip: IpAddr) -> u128 {
    net_key(ip)
}

pub(crate) fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128 | (1u128 << 127),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// A network's key: its subnet, marked so it never equals an address's key.
pub(crate) fn net_key(ip: IpAddr) -> u128 {
    subnet_key(ip) | (1u128 << 126)
}

pub(crate) fn user_key(u: &str) -> u128 {
    let mut h = FxHasher::default();
    h.write(u.as_bytes());
    let a = h.finish();
    h.write_u8(0xa5);
    (a as u128) << 64 | h.finish() as u128
}

fn text_key(t: KeyType, s: &str) -> u128 {
    let mut h = FxHasher::default();
    h.write_u8(t as u8);
    h.write(s.as_bytes());
    let a = h.finish();
    h.write_u8(0x5a);
    (a as u128) << 64 | h.finish() as u128
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tripline_event::{AuthKind, Key, Kind, Line, SensorKind, Timestamp};

    fn ev(ip: &str, user: &str, device: Option<&str>) -> Event {
        let kind = Kind::Auth(AuthKind::InvalidUser);
        Event {
            src_ip: Some(ip.parse().unwrap()),
            user: Some(user.into()),
            keys: device
                .map(|d| {
                    vec![Key {
                        kind: KeyType::Device,
                        value: d.into(),
                    }]
                })
                .unwrap_or_default(),
            hostile: true,
            ..Event::new(
                Timestamp(0),
                SensorKind::Files,
                Arc::from("h"),
                kind,
                Line::from("x"),
            )
        }
    }

    #[test]
    fn a_shard_has_the_roles_whose_keys_it_owns() {
        let rules = Roles(Roles::IP | Roles::USER | Roles::NET);
        let e = ev("203.0.113.5", "root", None);
        // one shard owns everything the event has, of the types asked for
        assert_eq!(roles_of(&e, 1, 0, rules), rules);
        assert_eq!(roles_of(&e, 1, 0, Roles(Roles::USER)), Roles(Roles::USER));
        // several: every role of the event lands on exactly one shard
        for shards in [2, 3, 7] {
            let got: Vec<Roles> = (0..shards)
                .map(|s| roles_of(&e, shards, s, rules))
                .collect();
            let all = got.iter().fold(0, |acc, r| {
                assert_eq!(acc & r.0, 0, "a role on two shards");
                acc | r.0
            });
            assert_eq!(all, rules.0);
        }
        // a key type the event lacks (a device) gives no role; one it has does
        let dev = Roles::of_types(&[KeyType::Device]);
        assert!(roles_of(&e, 1, 0, dev).is_empty());
        let e = ev("203.0.113.5", "root", Some("kbd-1"));
        assert_eq!(roles_of(&e, 1, 0, dev), dev);
    }

    #[test]
    fn one_key_has_one_owner_whichever_event_carries_it() {
        for shards in [2, 5, 8] {
            let a = ev("198.51.100.7", "alice", Some("kbd-1"));
            let b = ev("198.51.100.7", "bob", Some("kbd-2"));
            let of = |e: &Event, t: KeyType| {
                let mut o = None;
                owners(e, shards, Roles::of_types(&[t]), |s, _| o = Some(s));
                o.unwrap()
            };
            assert_eq!(of(&a, KeyType::Ip), of(&b, KeyType::Ip));
            assert_eq!(of(&a, KeyType::Subnet), of(&b, KeyType::Subnet));
        }
        // keys of different types with the same text are different keys
        let k = |t| key_of(t, KeyRef::Text("x"));
        assert_ne!(k(KeyType::User), k(KeyType::Device));
        assert_ne!(k(KeyType::Session), k(KeyType::Device));
        // an address is owned with its network: every address of a /24 on one shard
        let owner_of = |ip: &str| {
            let mut o = None;
            owners(&ev(ip, "u", None), 4, Roles(Roles::IP), |s, _| o = Some(s));
            o.unwrap()
        };
        assert!((1..255).all(|i| owner_of(&format!("198.51.100.{i}")) == owner_of("198.51.100.0")));
        // a spread: 1000 networks over 4 shards, none empty or hoarding
        let mut per = [0; 4];
        for i in 0..1000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from((0x0a00_0000 + i * 7) << 8));
            per[owner(ip_owner_key(ip), 4)] += 1;
        }
        assert!(per.iter().all(|n| (150..350).contains(n)), "{per:?}");
    }
}
