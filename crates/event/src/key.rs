//! Entity keys: the small, closed set of things an event can be about and an alert can be
//! raised on (an address, a user, a network, a session, a host, an API key, a file, a device).
//!
//! An event's address, user, session and host have fields of their own (they are on nearly
//! every event); any other key it carries is in [`crate::Event::keys`]. [`crate::Event::key`]
//! reads any of them by type, and the runtime shards detectors on them: a detector names the
//! key types it keys its state on and each shard sees the events whose keys of those types it
//! owns.

use crate::{net, Event, Text};
use serde::Serialize;
use std::net::IpAddr;

/// The type of an entity key. The discriminants are bit positions (a set of types fits a
/// `u8`); the names are stable (JSON output, the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum KeyType {
    /// A remote address.
    Ip = 0,
    /// An account name.
    User = 1,
    /// A /24 (IPv4) or /64 (IPv6) network, written in CIDR form; an event's is its address's.
    Subnet = 2,
    /// A session (a daemon's process id, a honeypot session id).
    Session = 3,
    /// The host that logged the event.
    Host = 4,
    /// An API key, by its fingerprint (never the key itself).
    ApiKey = 5,
    /// A file (a path).
    File = 6,
    /// A device (a keyboard, a workstation).
    Device = 7,
}

impl KeyType {
    pub const ALL: [KeyType; 8] = [
        KeyType::Ip,
        KeyType::User,
        KeyType::Subnet,
        KeyType::Session,
        KeyType::Host,
        KeyType::ApiKey,
        KeyType::File,
        KeyType::Device,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ip => "ip",
            KeyType::User => "user",
            KeyType::Subnet => "subnet",
            KeyType::Session => "session",
            KeyType::Host => "host",
            KeyType::ApiKey => "api_key",
            KeyType::File => "file",
            KeyType::Device => "device",
        }
    }

    pub fn parse(name: &str) -> Option<KeyType> {
        KeyType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The types an event has a field of its own for (its address and network, user, session
    /// and host); the others are in [`Event::keys`].
    pub fn is_field(self) -> bool {
        matches!(
            self,
            KeyType::Ip | KeyType::User | KeyType::Subnet | KeyType::Session | KeyType::Host
        )
    }

    /// This type's bit in a set of types.
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A key an event carries beyond its address, user, session and host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub kind: KeyType,
    pub value: Text,
}

/// An event's key of one type, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef<'a> {
    /// An address (for [`KeyType::Subnet`]: the address whose network it is).
    Ip(IpAddr),
    Text(&'a str),
}

impl Event {
    /// The event's key of type `t`, if it has one.
    #[inline]
    pub fn key(&self, t: KeyType) -> Option<KeyRef<'_>> {
        match t {
            KeyType::Ip | KeyType::Subnet => self.src_ip.map(KeyRef::Ip),
            KeyType::User => self.user.as_deref().map(KeyRef::Text),
            KeyType::Session => self.session.as_deref().map(KeyRef::Text),
            KeyType::Host => Some(KeyRef::Text(&self.host)).filter(|_| !self.host.is_empty()),
            _ => self
                .keys
                .iter()
                .find(|k| k.kind == t)
                .map(|k| KeyRef::Text(&k.value)),
        }
    }
}

/// What an alert is about: a key of one type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Entity {
    Ip(IpAddr),
    User(String),
    /// A /24 (IPv4) or /64 (IPv6) network, written in CIDR form.
    Subnet(String),
    Session(String),
    Host(String),
    /// An API key's fingerprint.
    ApiKey(String),
    File(String),
    Device(String),
}

impl Entity {
    pub fn key_type(&self) -> KeyType {
        match self {
            Entity::Ip(_) => KeyType::Ip,
            Entity::User(_) => KeyType::User,
            Entity::Subnet(_) => KeyType::Subnet,
            Entity::Session(_) => KeyType::Session,
            Entity::Host(_) => KeyType::Host,
            Entity::ApiKey(_) => KeyType::ApiKey,
            Entity::File(_) => KeyType::File,
            Entity::Device(_) => KeyType::Device,
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.key_type().name()
    }

    /// The value as text, for every type but an address.
    pub fn text(&self) -> Option<&str> {
        match self {
            Entity::Ip(_) => None,
            Entity::User(s)
            | Entity::Subnet(s)
            | Entity::Session(s)
            | Entity::Host(s)
            | Entity::ApiKey(s)
            | Entity::File(s)
            | Entity::Device(s) => Some(s),
        }
    }

    pub fn value(&self) -> String {
        match self {
            Entity::Ip(ip) => net::IpText::new(*ip).to_string(),
            e => e.text().unwrap_or_default().to_string(),
        }
    }

    /// The entity of type `t` with this value; None for an address that does not parse.
    pub fn new(t: KeyType, value: &str) -> Option<Entity> {
        let s = || value.to_string();
        Some(match t {
            KeyType::Ip => Entity::Ip(value.parse().ok()?),
            KeyType::User => Entity::User(s()),
            KeyType::Subnet => Entity::Subnet(s()),
            KeyType::Session => Entity::Session(s()),
            KeyType::Host => Entity::Host(s()),
            KeyType::ApiKey => Entity::ApiKey(s()),
            KeyType::File => Entity::File(s()),
            KeyType::Device => Entity::Device(s()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_type_reads_back_by_name_and_makes_its_entity() {
        for t in KeyType::ALL {
            assert_eq!(KeyType::parse(t.name()), Some(t));
            let value = if t == KeyType::Ip { "192.0.2.1" } else { "x" };
            let e = Entity::new(t, value).unwrap();
            assert_eq!(e.key_type(), t);
            assert_eq!(e.value(), value);
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["type"], t.name());
            assert_eq!(json["value"], value);
        }
        assert_eq!(KeyType::parse("nope"), None);
        assert_eq!(Entity::new(KeyType::Ip, "not an address"), None);
        let bits: u32 = KeyType::ALL.iter().map(|t| t.bit() as u32).sum();
        assert_eq!(bits, 0xff, "each type its own bit");
    }
}
